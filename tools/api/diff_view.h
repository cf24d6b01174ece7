// Diff answers, rendered: what `twinline diff` prints and GET /v1/diff sends,
// from one request and one entry point, so both give the same bytes. A diff
// compares two replays (docs/PROJECTIONS.md) like a diff tool: `+` rows that
// appear, `-` rows that go, `~` rows whose value changes (before → after),
// every row naming the events that caused it. The two replays are either
//
//   two valid dates at one recorded time      from, to [, known_at]
//   one valid date at two recorded times      as_of, known_at, vs_known_at
//
// For a recorded-time diff the causes also include the corrections
// (retractions, amendments) recorded between the two times that target the
// events behind a row: a row that disappears because a fact was retracted
// names the retraction.
//
// Contract:
//  * RenderDiff checks the request, resolves it in `read_view` (one read
//    transaction: both replays see the same log), replays both sides and
//    writes the difference to `out`: "table" (the default; "no differences"
//    when there are none, and a summary line) or "json" (every row, with all
//    its events and corrections). `projection` narrows the rows: network
//    (partnerships, routes), counts (counts and reported figures), trade;
//    all by default; `edges` (partnerships|routes) keeps the rows about one
//    kind of edge (its edges and the counts of them). The JSON carries a
//    summary: how many rows differ, by change. `limit` lists only the
//    first rows (the summary still counts them all) and reads the events of
//    those only; `sources` adds each event's sources, its corroborations'
//    too, as known at the later recorded time (a table prints them under
//    the row). Output is deterministic.
//  * Between two valid dates the answer also says what happened in between:
//    the events whose day falls (or may fall) after the end of FROM up to
//    the end of TO (projections/window_events.h), of the rows the
//    projection, entity and edge filter select — listed beside the state
//    diff, though a partnership that began and ended inside the window
//    changes no state. The headings name the day each date stands for ("as
//    of 2019-12-31 (the end of 2019)") and the window ("from 2020-01-01 to
//    2020-12-31"). At most `events` are listed (100 by default; 0 lists
//    none), in order of their days; the total is always given.
//  * Every error of the request is found before the first byte is written:
//    a bad combination, date, value or known-at time is kInvalidArgument, an
//    unknown entity kNotFound, each naming the parameter in the request's
//    ParamStyle (projection_request.h; the two valid dates are FROM and TO
//    on a command line, where they are positional). Only a failing database
//    (corruption, I/O) can stop output part-way.
#ifndef TWINLINE_TOOLS_API_DIFF_VIEW_H_
#define TWINLINE_TOOLS_API_DIFF_VIEW_H_

#include <iosfwd>
#include <string>

#include "core/status.h"
#include "tools/api/projection_request.h"

namespace twinline::api {

// A diff as asked; empty strings are "not given".
struct DiffRequest {
  std::string from, to;     // two valid dates (the LAST day of each)
  std::string as_of;        // or one valid date ...
  std::string vs_known_at;  // ... at common.known_at and at this recorded time
  std::string projection;   // all (default) | counts | trade | network
  std::string format;       // table (default) | json
  std::string events;  // two valid dates: list at most this many events of the window (default 100)
  std::string limit;   // list at most this many rows (a count); empty: all
  bool sources = false;  // each event with its sources (and its corroborations')
  ProjectionParams common;  // known_at, dates, entity, edges, no_index
  ParamStyle style = ParamStyle::kFlags;
};

// Writes the difference `request` asks for to `out`.
Status RenderDiff(ReadView& read_view, const DiffRequest& request, std::ostream& out);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_DIFF_VIEW_H_
