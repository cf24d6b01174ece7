// Replay: the projection as of a valid day D, as known at seq K
// (docs/PROJECTIONS.md). A State keeping what the selected row sets need is
// loaded from the best usable checkpoint (or starts empty), the effective
// facts with C < e <= D that feed those row sets are streamed into it from
// the by-date index, and it is evaluated at D, row by row, into a sink.
#include <algorithm>

#include "projections/projection.h"
#include "projections/state.h"

namespace twinline {

using projection_internal::Fact;
using projection_internal::Inserter;
using projection_internal::State;

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

  if (rows != 0) {
    Inserter inserter(&state, checkpoint_day);
    auto insert = [&](const Fact& fact) {
      if (inserter.Insert(fact)) ++st.events_applied;
      return true;
    };
    TWINLINE_RETURN_IF_ERROR(projection_internal::ScanEffectiveFacts(
        txn, known_seq, checkpoint_day, day, insert, rows));
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
