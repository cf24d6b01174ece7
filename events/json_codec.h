// The JSON form of a twinline event, as specified in docs/EVENTS.md: the
// decoder that `append` and `import` read with, and the encoder that
// `export` and `log --format json|ndjson` write with.
//
// Contract:
//  * DecodeEvent fills an Event builder from one JSON object, or returns
//    kInvalidArgument naming the field ("sources[0].published: day 30 does
//    not exist in 2021-02", "amount: must be >= 0", "colour: unknown field
//    for kind partnership_established"). Entity references are resolved
//    through `resolver`; its errors come back with the field set. seq and
//    recordedAt are left 0 unless options.restore is set, in which case
//    "seq" and "recorded_at" are required and kept.
//  * Dates are parsed with core/edtf.h and stored normalised with their
//    earliest/latest days.
//  * EncodeEvent(ev) is the export form: key order fixed, every field the
//    event has, "seq" and "recorded_at" (RFC 3339 UTC with microseconds)
//    included. DecodeEvent(EncodeEvent(ev), restore) reproduces ev exactly.
//  * EventDecoder decodes one JSON text after another (NDJSON lines) into
//    builders the caller provides, reusing its parser and buffers, so a
//    good line allocates nothing once they have grown. It parses with
//    simdjson; a text it does not accept whole is decoded again on the exact
//    path (nlohmann), whose answer it returns, so accept/reject behaviour and
//    every message are those of DecodeEventText. On error `out` holds a
//    partial event: discard it (or reuse it for the next line).
//  * What each kind's fields are, and their checks, come from core/kinds.h.
//  * KindName / ParseKind map schema union members to the snake_case kind
//    names ("partnership_established").
#ifndef TWINLINE_EVENTS_JSON_CODEC_H_
#define TWINLINE_EVENTS_JSON_CODEC_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "events/entity_resolver.h"
#include "schemas/twinline.capnp.h"

namespace twinline {

struct DecodeOptions {
  bool restore = false;  // keep "seq" and "recorded_at" (import --restore)
};

Status DecodeEvent(const nlohmann::json& j, EntityResolver& resolver,
                   const DecodeOptions& options, schema::Event::Builder out);

// Parses `text` as one JSON object first; a syntax error names the column.
// The exact path alone: to decode many texts, use an EventDecoder.
Status DecodeEventText(std::string_view text, EntityResolver& resolver,
                       const DecodeOptions& options, schema::Event::Builder out);

// Decodes JSON texts one at a time, reusing its memory between them. Not
// thread-safe; `resolver` is borrowed and must outlive the decoder.
class EventDecoder {
 public:
  explicit EventDecoder(EntityResolver& resolver, const DecodeOptions& options = {});
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // Decodes `text`, one JSON object, into `out` (a freshly initialised
  // root; after a failure, fields of the failed attempt may remain).
  Status Decode(std::string_view text, schema::Event::Builder out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

nlohmann::ordered_json EncodeEvent(schema::Event::Reader ev);

std::string_view KindName(schema::Payload::Which which);
std::optional<schema::Payload::Which> ParseKind(std::string_view name);

// "2025-04-17T08:45:00.000000Z" <-> microseconds since the Unix epoch.
std::string FormatTimestamp(int64_t micros);
Status ParseTimestamp(std::string_view text, int64_t* micros);

}  // namespace twinline

#endif  // TWINLINE_EVENTS_JSON_CODEC_H_
