// Network exports that carry time: the partnerships and routes over a window
// of valid days [from, to], as the log knew them at seq K, each edge with
// when it held (projections/edge_history.h), its id, the ids of its events
// and their sources — for the tools people already use to look at networks
// over time:
//
//   gexf     GEXF 1.3, mode dynamic: node and edge <spells> (Gephi's
//            timeline), the edge status as a dynamic attribute
//   graphml  GraphML: one <edge> per span of one status, with start, end and
//            status attributes (networkx, yEd, Gephi's "merge to interval")
//   geojson  one layer: nodes as Points or edges as LineStrings, with start
//            and end properties (QGIS's temporal controller)
//   csv      one list: nodes or edges, with start and end (spreadsheets,
//            pandas, Gephi's spreadsheet import)
//   json     the whole window in one object (the page draws from it)
//
// Contract:
//  * Days are ISO dates (YYYY-MM-DD); a span or spell runs from `start` to
//    `end`, both days included, clipped to the window.
//  * An edge's status on a day is the status of its row in the Snapshot
//    replayed to that day (yes: certain; maybe: only possible); it is in no
//    span on the days it is not a row. A node's spells are the days on which
//    at least one of its edges (possibly) holds.
//  * Routes are directed (from → to); a partnership is one edge between its
//    two ends in slug order, marked mutual. Every export is a directed
//    graph, so networkx reads it as one.
//  * An edge's id is "KIND:A:B:SUBKIND" ("partnership:chengdu:montpellier:
//    sister_city"), the same in every format and every window.
//  * Deterministic: the same log, query and window give the same bytes.
//  * A GeoJSON layer leaves out what has no coordinates (a node whose entity
//    has no location, an edge with such an end) and says how many in
//    `omitted` (one line per kind, for the caller to show).
#ifndef TWINLINE_TOOLS_API_NETWORK_EXPORT_H_
#define TWINLINE_TOOLS_API_NETWORK_EXPORT_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/edge_history.h"
#include "projections/network.h"
#include "tools/api/event_summary.h"
#include "tools/api/projection_request.h"

namespace twinline::api {

struct WindowEdge {
  EdgeHistory history;
  std::string id;                      // "partnership:chengdu:montpellier:sister_city"
  std::vector<std::string> event_ids;  // history.seqs' ids
  std::vector<SourceRef> sources;      // of those events and their corroborations
};

struct WindowNode {
  std::string slug;
  EntityInfo info;
  std::vector<std::pair<int64_t, int64_t>> spells;  // first, last day; in order, disjoint
};

struct NetworkWindow {
  int64_t from = 0, to = 0;
  uint64_t known_seq = 0;
  DateRule rule = DateRule::kRange;
  std::vector<WindowNode> nodes;  // by slug
  std::vector<WindowEdge> edges;  // in Snapshot order
};

// "partnership:chengdu:montpellier:sister_city".
std::string EdgeId(EdgeRow::Kind kind, const std::string& a, const std::string& b,
                   const std::string& subkind);

// The network over [from, to] at query.known_seq under query.rule; with an
// `entity`, only the edges touching it (and their ends); only the edges
// `filter` keeps.
Status BuildNetworkWindow(const ReadTxn& txn, const Query& query, int64_t from, int64_t to,
                          const std::string& entity, const EdgeFilter& filter, NetworkWindow* out);

enum class Layer : uint8_t { kNodes, kEdges };

void WriteWindowGexf(const NetworkWindow& window, std::ostream& out);
void WriteWindowGraphMl(const NetworkWindow& window, std::ostream& out);
void WriteWindowGeoJson(const NetworkWindow& window, Layer layer, std::ostream& out,
                        std::vector<std::string>* omitted);
void WriteWindowCsv(const NetworkWindow& window, Layer layer, std::ostream& out);
void WriteWindowJson(const NetworkWindow& window, std::ostream& out);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_NETWORK_EXPORT_H_
