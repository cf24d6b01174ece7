// The event filters that `twinline log` and the server's `GET /v1/events`
// share: kind, valid-date range and seq range, given as text (command-line
// flags or URL parameters) and checked the same way in both places.
//
// Contract:
//  * BuildEventFilter turns the text form into an EventFilter or returns
//    kInvalidArgument naming the offending parameter: "<prefix>kind",
//    "<prefix>from", ... where the prefix is "--" for the CLI and "" for URL
//    parameters. Unknown kinds, bad EDTF dates and inverted ranges (seq or
//    date) are errors, never an empty answer.
//  * EventFilter::Matches is a pure test on one event; which index does the
//    scanning (entity, date, seq order) is the caller's choice.
//  * A valid-date filter keeps an event when its possible days overlap
//    [from's earliest day, to's latest day].
#ifndef TWINLINE_TOOLS_API_EVENT_QUERY_H_
#define TWINLINE_TOOLS_API_EVENT_QUERY_H_

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/edtf.h"
#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace twinline::api {

inline constexpr uint64_t kMaxSeq = std::numeric_limits<uint64_t>::max();

// The filters as the user wrote them; empty = not given.
struct EventQueryText {
  std::vector<std::string> kinds;  // snake_case kind names
  std::string from, to;            // EDTF valid dates
  std::string seq_range;           // "A..B", "A..", "..B", "N"
};

struct EventFilter {
  uint64_t seq_from = 1, seq_to = kMaxSeq;
  int64_t day_from = kUnboundedStart, day_to = kUnboundedEnd;
  bool by_date = false;
  std::set<schema::Payload::Which> kinds;

  bool Matches(schema::Event::Reader ev) const;
};

Status BuildEventFilter(const EventQueryText& text, std::string_view field_prefix,
                        EventFilter* filter);

// "10..20", "10..", "..20", "7" (just seq 7); `field` names the parameter.
Status ParseSeqRange(const std::string& text, std::string_view field, uint64_t* from,
                     uint64_t* to);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_EVENT_QUERY_H_
