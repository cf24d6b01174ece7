// What happened between two valid days: the effective facts at K whose day
// falls (or may fall) in the window (after, last] — the days after `after`
// up to `last`, as `twinline diff FROM TO` compares the end of FROM with the
// end of TO. Beside the diff of the two states (projection.h, DiffAt), this
// lists the events behind the window even where the states agree: a
// partnership that began and ended inside it, a second source of a tie that
// holds on both days.
//
// Contract:
//  * A fact with day range [e, l] (docs/PROJECTIONS.md §2) is in the window
//    under --dates range with kYes when after < e and l <= last (its day
//    certainly falls in it), kMaybe when the ranges overlap otherwise
//    (e <= last and l > after); under --dates earliest when after < e <=
//    last, under latest when after < l <= last (both kYes). Other facts
//    are not listed.
//  * The facts are those a query's row sets feed on (Query::rows: edges,
//    counts, trade; an amendment stands for its replacement at its own seq),
//    of one entity when Query::entity is set (the facts its rows count: its
//    edges, its counter and report facts, the trade it reports or is the
//    partner of), of one kind of edge only when `only_edges` is set (and
//    then no counter, report or trade facts). Registrations and references
//    feed nothing and are not listed.
//  * Ordered by (e, l, seq); each fact once.
//  * From the temporal index (query.use_index, the default) the facts are
//    read from the index's fact lists where they lie, plus its tail: no
//    event is decoded, and with an entity only its own facts are read.
//    Replaying the log (use_index = false, or a damaged index) scans the
//    effective facts with e <= last. Both give the same list (tests).
#ifndef TWINLINE_PROJECTIONS_WINDOW_EVENTS_H_
#define TWINLINE_PROJECTIONS_WINDOW_EVENTS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"

namespace twinline {

struct WindowEvent {
  uint64_t seq = 0;
  int64_t e = 0, l = 0;
  Tri in_window = Tri::kNo;  // kYes or kMaybe
  bool operator==(const WindowEvent&) const = default;
};

// The facts in (after_day, last_day] as `query` sees them (known_seq, rule,
// rows, entity, use_index; as_of_day is ignored). kInvalidArgument when
// after_day > last_day.
Status EventsInWindow(const ReadTxn& txn, const Query& query, int64_t after_day, int64_t last_day,
                      std::optional<EdgeRow::Kind> only_edges, std::vector<WindowEvent>* out);

}  // namespace twinline

#endif  // TWINLINE_PROJECTIONS_WINDOW_EVENTS_H_
