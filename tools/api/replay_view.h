// Replay answers, rendered: what `twinline replay` prints and GET /v1/replay
// sends, from one request and one entry point, so both give the same bytes.
// A replay is the state of the network on a valid day as the log knew it at
// a recorded time (docs/PROJECTIONS.md), as one of five projections:
//
//   counts    per entity: partnerships, routes, forums, agreements, offices,
//             awards, ... as certain–possible ranges; for one entity also
//             the breakdowns and the entity's own reported figures beside
//             what the log knows                       (table, json, csv)
//   trade     the trade figures that hold, and totals per reporter and
//             currency                                 (table, json, csv)
//   network   the graph (projections/network.h): degrees, components, hubs
//             (table, json, graphml, geojson); also as gexf, or csv and
//             geojson one `layer` (nodes|edges) at a time, with edge ids,
//             events and sources (network_export.h)
//   timeline  one entity's story, with the sources of every event
//                                                      (table, json)
//   countries the network by country: each country's partnerships, routes
//             and entities with an edge, and the `top` strongest links
//             between countries (countries_view.h)     (table, json, csv)
//   partners  one entity's partnerships and routes, apart, each with its
//             partner, kind or mode, status, dates and the events behind
//             it with their sources (partners_view.h)  (table, json, csv)
//
// or, with from/to/step instead of as_of, a time series of key figures, one
// replay per step (csv, json, table; svg and png draw it: series_chart.h);
// or, with from/to and projection network, the network over the window
// from the first day of `from` to the last of `to`, every edge with the
// days it held (network_export.h: gexf, graphml, geojson, csv, json).
//
// An `edges` filter (partnerships|routes) keeps one kind of edge: the
// column of it in counts, the graph of it in a network (degrees,
// components, hubs; also over a window), its list in partners, its events
// in a timeline, its columns in a time series; trade has no edges and
// refuses it. The table and JSON answers for one day end with the
// network-wide totals (network_totals.h) of the kinds kept; the data
// formats (csv, graphml, geojson, gexf) hold rows only.
//
// Contract:
//  * RenderReplay checks the request, resolves it in `read_view` (one read
//    transaction: the answer is consistent even while another process
//    appends), replays and writes the answer to `out` in the requested
//    format. The first format a projection lists is its default (an empty
//    `format`). Output is deterministic: the same log and request give the
//    same bytes.
//  * Every error of the request is found before the first byte is written:
//    a bad combination, date, format, step count or known-at time is
//    kInvalidArgument, an unknown entity kNotFound, each naming the
//    parameter in the request's ParamStyle (projection_request.h). Only a
//    failing database (corruption, I/O) can stop output part-way.
//  * A time series has at most `max_steps` steps (each one replay); more is
//    refused, not truncated.
//  * `out` is written as the answer is produced (tables are laid out first,
//    then printed); nothing else is kept for the whole answer.
#ifndef TWINLINE_TOOLS_API_REPLAY_VIEW_H_
#define TWINLINE_TOOLS_API_REPLAY_VIEW_H_

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/status.h"
#include "tools/api/projection_request.h"

namespace spdlog {
class logger;
}

namespace twinline::api {

// A time series replays once per step; past this it is a mistake (or a
// denial of service), not a question.
inline constexpr size_t kMaxSeriesSteps = 2400;

// A replay as asked; empty strings are "not given".
struct ReplayRequest {
  std::string as_of;       // one valid day: the LAST day of this EDTF date
  std::string from, to;    // or a time series: first and last step
  std::string step;        // year (default) | month
  std::string projection;  // counts (default) | trade | network | timeline | countries |
                           // partners; not with a series
  std::string format;      // table | json | csv | graphml | geojson | gexf | svg | png; see above
  std::string layer;       // nodes | edges: a network as csv or geojson, countries as csv
  std::string top;         // countries: the strongest links shown (a count, or "all")
  ProjectionParams common;  // known_at, dates, entity, edges, no_index
  ParamStyle style = ParamStyle::kFlags;
  size_t max_steps = kMaxSeriesSteps;
};

// The format `request` is answered in (its own, or its projection's
// default), or the error RenderReplay would return for the combination of
// parameters it gives. Reads nothing.
Status ReplayFormat(const ReplayRequest& request, std::string* format);

// Writes the answer to `request` to `out`. `logger` (may be null) gets a
// debug line on what the replay read (the index and its tail, or the log).
// `notes` (may be null) gets a line for what the answer leaves out (a
// GeoJSON's nodes and edges without coordinates), for the caller to show
// beside it (stderr, a response header).
Status RenderReplay(ReadView& read_view, const ReplayRequest& request, std::ostream& out,
                    spdlog::logger* logger = nullptr, std::vector<std::string>* notes = nullptr);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_REPLAY_VIEW_H_
