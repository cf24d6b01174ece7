// Replay: the projection as of a valid day D, as known at seq K
// (docs/PROJECTIONS.md). A State keeping what the selected row sets need is
// loaded from the best usable checkpoint (or starts empty), the effective
// facts with C < e <= D that feed those row sets are inserted into it, and
// it is evaluated at D, row by row, into a sink. The State settles at D as
// facts come in (State::SettleAt): only facts still uncertain at D and edge
// events are held individually.
//
// Where the facts come from. After a checkpoint, from the by-date index
// (the window (C, D] only, one fetch by seq per event). From zero, when D
// lies early in the log, the same; otherwise from one sequential pass over
// the log in seq order, which reads every event up to K but several times
// faster than fetching them one by one (a 10^6-event log: ~5x), and which
// settling at D makes possible (settling does not depend on the order of
// insertion, while compacting as it goes would need the order of e). Which
// one: the by-date scan starts, and gives way to the pass in seq order once
// it has visited kByDateShare of the events up to K, so a replay to an early
// day pays no full pass and a late one at most that share twice.
#include <algorithm>

#include "projections/projection.h"
#include "projections/state.h"

namespace twinline {

using projection_internal::Fact;
using projection_internal::Inserter;
using projection_internal::State;

namespace {

// The share of the events up to K a replay from zero fetches by date before
// it switches to one pass in seq order (see the top of this file): a fetch
// by date costs about five sequential reads.
constexpr uint64_t kByDateShare = 16;  // 1/16

}  // namespace

Status ReplayInto(const ReadTxn& txn, const Query& query, SnapshotSink* sink, ReplayStats* stats) {
  ReplayStats local;
  ReplayStats& st = stats != nullptr ? *stats : local;
  st = ReplayStats();
  const uint64_t known_seq = std::min(query.known_seq, txn.LastSeq());
  const int64_t day = query.as_of_day;
  const RowSets rows = query.rows & kAllRows;

  State state(rows);
  std::optional<int64_t> checkpoint_day;
  if (query.use_checkpoints && rows != 0) {
    TWINLINE_RETURN_IF_ERROR(projection_internal::LoadCheckpoint(
        txn, day, known_seq, &state, &checkpoint_day, &st.checkpoints_skipped));
  }
  st.checkpoint_day = checkpoint_day;
  state.SettleAt(day);

  if (rows != 0) {
    // By date: after a checkpoint always; from zero until it has visited
    // its share of the log.
    const uint64_t by_date_limit =
        checkpoint_day ? UINT64_MAX : known_seq / kByDateShare;
    uint64_t visited = 0;
    bool switched = false;
    {
      Inserter inserter(&state, checkpoint_day);
      auto insert = [&](const Fact& fact) {
        if (++visited > by_date_limit) {  // facts, a lower bound of the events visited
          switched = true;
          return false;
        }
        if (inserter.Insert(fact)) ++st.events_applied;
        return true;
      };
      TWINLINE_RETURN_IF_ERROR(projection_internal::ScanEffectiveFacts(
          txn, known_seq, checkpoint_day, day, insert, rows));
    }
    if (switched) {
      // The by-date pages are not needed again: the pass starts lean.
      txn.ReleaseMappedPages();
      state = State(rows);
      state.SettleAt(day);
      st.events_applied = 0;
      TWINLINE_RETURN_IF_ERROR(projection_internal::ScanEffectiveFactsBySeq(
          txn, known_seq, day,
          [&](const Fact& fact) {
            if (state.Insert(fact)) ++st.events_applied;
            return true;
          },
          rows));
    }
  }

  TWINLINE_RETURN_IF_ERROR(sink->Begin(known_seq));
  return projection_internal::Evaluate(
      state, day, query.rule, rows,
      [&](std::string_view slug, std::string* country) {
        return projection_internal::EffectiveCountry(txn, slug, known_seq, country);
      },
      sink);
}

Status Replay(const ReadTxn& txn, const Query& query, Snapshot* out, ReplayStats* stats) {
  *out = Snapshot();
  out->query = query;
  projection_internal::SnapshotCollector collector(out);
  return ReplayInto(txn, query, &collector, stats);
}

}  // namespace twinline
