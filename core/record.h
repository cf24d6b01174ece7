// Internal to core/: the forms of a record (docs/FORMAT.md, "The event
// record").
//
//  * The *canonical* form is what the hash chain covers, what `import
//    --restore` reproduces and what `log --raw` prints: the event's
//    canonical Cap'n Proto encoding (capnp::canonicalize: one segment, no
//    padding, a layout fixed by the content alone) framed as a standard
//    single-segment message, so that the same event always has the same
//    bytes and `capnp decode` reads them.
//  * The *stored* form (the value in the `events` table) is the canonical
//    form in Cap'n Proto's packed encoding (`capnp decode --packed` reads
//    it): zero bytes cost almost nothing, and a record shrinks by about a
//    third. It is a function of the canonical form, so the chain needs no
//    other input.
#ifndef TWINLINE_CORE_RECORD_H_
#define TWINLINE_CORE_RECORD_H_

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace twinline::log_internal {

// The canonical form of `ev`.
std::string CanonicalRecord(schema::Event::Reader ev);

// The stored form of a canonical record (which must be a whole number of
// words: CanonicalRecord's output is).
std::string PackRecord(std::string_view canonical);

// Unpacks a stored record into its canonical form; kCorruption naming `seq`
// when it is not a packed single-segment message.
Status UnpackRecord(std::string_view stored, uint64_t seq, std::string* canonical);

// Opens stored records for reading, one at a time, reusing its buffer:
// a scan unpacks each record into the same memory.
class RecordReader {
 public:
  // Unpacks `stored` (the record at `seq`) and opens it; the reader it
  // hands out (root()) is valid until the next Open or the destruction.
  Status Open(std::string_view stored, uint64_t seq);
  schema::Event::Reader root() { return root_; }
  // The canonical bytes of the record last opened.
  std::string_view canonical() const {
    return {reinterpret_cast<const char*>(words_.begin()), size_ * sizeof(capnp::word)};
  }

 private:
  // capnp::word cannot be copied or moved, so not a std::vector: a kj
  // array, replaced by a larger one when a record needs more room.
  kj::Array<capnp::word> words_;
  size_t size_ = 0;  // words of words_ in use
  std::optional<capnp::FlatArrayMessageReader> message_;
  schema::Event::Reader root_;
};

// Runs `fn` over the stored record `stored` (at `seq`), turning a malformed
// one (Cap'n Proto reports those by exception) into kCorruption naming the
// seq. The reader is valid only during the call.
Status WithStoredEvent(std::string_view stored, uint64_t seq,
                       const std::function<void(schema::Event::Reader)>& fn);

}  // namespace twinline::log_internal

#endif  // TWINLINE_CORE_RECORD_H_
