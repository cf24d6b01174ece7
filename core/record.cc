#include "core/record.h"

#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <optional>

namespace twinline::log_internal {
namespace {


// A stored record opened for reading. Decodes in place when LMDB's value is
// 8-byte aligned (Cap'n Proto's requirement), else from one aligned copy.
class StoredEvent {
 public:
  explicit StoredEvent(std::string_view bytes) {
    const word_t* begin = reinterpret_cast<const word_t*>(bytes.data());
    size_t words = bytes.size() / sizeof(capnp::word);
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) != 0) {
      copy_ = kj::heapArray<capnp::word>(words);
      std::memcpy(copy_.begin(), bytes.data(), words * sizeof(capnp::word));
      begin = copy_.begin();
    }
    reader_.emplace(kj::ArrayPtr<const capnp::word>(begin, words));
  }
  schema::Event::Reader root() { return reader_->getRoot<schema::Event>(); }

 private:
  using word_t = capnp::word;
  kj::Array<capnp::word> copy_;
  std::optional<capnp::FlatArrayMessageReader> reader_;
};

// Runs `fn` over the decoded record, turning a malformed message (Cap'n Proto

}  // namespace

Status WithStoredEvent(std::string_view bytes, uint64_t seq,
                       const std::function<void(schema::Event::Reader)>& fn) {
  if (bytes.size() % sizeof(capnp::word) != 0 || bytes.empty()) {
    return Status::Corruption("seq " + std::to_string(seq) + ": record size " +
                              std::to_string(bytes.size()) + " is not a whole number of words");
  }
  try {
    StoredEvent stored(bytes);
    fn(stored.root());
  } catch (const kj::Exception& e) {
    return Status::Corruption("seq " + std::to_string(seq) + ": record does not decode: " +
                              std::string(e.getDescription().cStr()));
  }
  return Status::Ok();
}

// The stored form of an event: its canonical Cap'n Proto encoding
// (capnp::canonicalize: one segment, no padding or orphaned space, a layout
// fixed by the content alone) framed as a standard single-segment message,
// so that the same event always has the same bytes (restore reproduces the
// hash chain) and stock tools read it.
std::string EncodeRecord(schema::Event::Reader ev) {
  kj::Array<capnp::word> canonical = capnp::canonicalize(ev);
  std::string out(8, '\0');
  const uint32_t segment_words = static_cast<uint32_t>(canonical.size());
  // Segment table: (segment count - 1) = 0, then the segment's size in
  // words, both little-endian u32; 8 bytes keep the segment word-aligned.
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((segment_words >> (8 * i)) & 0xff);
  out.append(reinterpret_cast<const char*>(canonical.begin()), canonical.size() * sizeof(capnp::word));
  return out;
}


}  // namespace twinline::log_internal
