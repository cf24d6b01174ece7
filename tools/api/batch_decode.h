// Decoding a batch of events the way `twinline import` does, for the
// server's `POST /v1/events` (and, once its owner moves to it, for import's
// own NDJSON path, which holds the same rules today):
//  * every event is decoded before anything is written, so a bad one fails
//    the batch with nothing written;
//  * an entity registered earlier in the batch can be named by the events
//    after it (LogEntityResolver::AddPending);
//  * NDJSON: one event per line, blank lines and lines starting with '#'
//    skipped, a trailing '\r' ignored, lines longer than kMaxEventBytes
//    refused before parsing;
//  * a JSON body is an array of event objects (or one object: a batch of one).
//
// On failure the Status names the field, and `failed_at` the 1-based line
// (NDJSON) or 0-based array index (JSON) of the offending event; positions[i]
// records the same for each decoded event, so an error the log reports by
// batch index can be traced back to the input.
#ifndef TWINLINE_TOOLS_API_BATCH_DECODE_H_
#define TWINLINE_TOOLS_API_BATCH_DECODE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "events/entity_resolver.h"
#include "events/json_codec.h"

namespace twinline::api {

// No real event comes near this; a longer line is a wrong file or an attack.
inline constexpr size_t kMaxEventBytes = size_t{1} << 20;

struct DecodedBatch {
  std::vector<PendingEvent> events;
  std::vector<int64_t> positions;  // line (NDJSON, 1-based) or index (JSON array, 0-based)
};

// Decodes one event (the parsed `j`, or else `text`) and appends it to
// `batch` at `position`; an entity it registers becomes resolvable.
Status DecodeIntoBatch(const nlohmann::json* j, std::string_view text,
                       LogEntityResolver& resolver, const DecodeOptions& options,
                       int64_t position, DecodedBatch* batch);

Status DecodeNdjsonBatch(std::string_view data, LogEntityResolver& resolver,
                         const DecodeOptions& options, DecodedBatch* batch, int64_t* failed_at);

// `json` is an array of objects or a single object.
Status DecodeJsonBatch(const nlohmann::json& json, LogEntityResolver& resolver,
                       const DecodeOptions& options, DecodedBatch* batch, int64_t* failed_at);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_BATCH_DECODE_H_
