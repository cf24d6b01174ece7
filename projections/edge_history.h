// Edge history: when each partnership and route held, over a window of valid
// days, as the log knew it at seq K — what the exports that carry time
// (GEXF spells, GraphML/GeoJSON/CSV start and end; tools/api/network_export.h)
// and the page's timeline draw.
//
// Contract:
//  * For every edge (docs/PROJECTIONS.md §3: a partnership (a, b, kind), a <
//    b, or a route (from, to, mode)) with an effective event at K whose
//    earliest day is at or before the window's last day, EdgeHistories
//    gives the edge's status on every day of the window [from_day, to_day]
//    as runs of equal status ("spans"), each a maximal run of days on which
//    the status is yes or maybe; days on which it is no are in no span.
//  * The status on a day D is exactly the status Replay gives the edge's row
//    at (D, K, rule) — the same evaluation (§3), not a second reading of the
//    rules: an edge in a span of status S on day D is a row of status S in
//    Replay's Snapshot at D, and an edge in no span on D is not a row.
//  * Edges come in Snapshot order (kind, a, b, subkind); an edge none of
//    whose days is in a span is left out. `seqs` lists the edge's effective
//    events at K with e <= to_day, ascending, as an EdgeRow at to_day would.
//  * Reads the log once (one pass in seq order over the events up to K);
//    memory grows with the edges and their events, not with the log.
#ifndef TWINLINE_PROJECTIONS_EDGE_HISTORY_H_
#define TWINLINE_PROJECTIONS_EDGE_HISTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"

namespace twinline {

// Days first..last (inclusive, days since 1970-01-01) with one status.
struct StatusSpan {
  int64_t first = 0, last = 0;
  Tri status = Tri::kNo;  // kYes or kMaybe
  bool operator==(const StatusSpan&) const = default;
};

struct EdgeHistory {
  EdgeRow::Kind kind = EdgeRow::Kind::kPartnership;
  std::string a, b;     // partnership: sorted slugs; route: from, to
  std::string subkind;  // "sister_city", "rail", ...
  std::vector<uint64_t> seqs;
  std::vector<StatusSpan> spans;  // in day order, adjacent spans differ in status

  // The status on `day`: kNo outside every span.
  Tri StatusOn(int64_t day) const;
};

// The histories of every edge over [from_day, to_day] at query.known_seq
// under query.rule (query.as_of_day and rows are ignored). kInvalidArgument
// if from_day > to_day.
Status EdgeHistories(const ReadTxn& txn, const Query& query, int64_t from_day, int64_t to_day,
                     std::vector<EdgeHistory>* out);

}  // namespace twinline

#endif  // TWINLINE_PROJECTIONS_EDGE_HISTORY_H_
