// Internal to core/: the stored form of an event (docs/FORMAT.md, "The event
// record"): encoding a record and opening a stored one for reading.
#ifndef TWINLINE_CORE_RECORD_H_
#define TWINLINE_CORE_RECORD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace twinline::log_internal {

// The stored form of an event: its canonical Cap'n Proto encoding
// (capnp::canonicalize: one segment, no padding or orphaned space, a layout
// fixed by the content alone) framed as a standard single-segment message,
// so that the same event always has the same bytes (restore reproduces the
// hash chain) and stock tools read it.
std::string EncodeRecord(schema::Event::Reader ev);

// Runs `fn` over the decoded record `bytes` (stored at `seq`), turning a
// malformed message (Cap'n Proto reports those by exception) into
// kCorruption naming the seq. The reader is valid only during the call.
Status WithStoredEvent(std::string_view bytes, uint64_t seq,
                       const std::function<void(schema::Event::Reader)>& fn);

}  // namespace twinline::log_internal

#endif  // TWINLINE_CORE_RECORD_H_
