// Replay: the projection as of a valid day D, as known at seq K
// (docs/PROJECTIONS.md). A State keeping what the selected row sets need is
// loaded from the best usable checkpoint (or starts empty), the effective
// facts with C < e <= D that feed those row sets are inserted into it, and
// it is evaluated at D, row by row, into a sink. The State settles at D as
// facts come in (State::SettleAt): only facts still uncertain at D and edge
// events are held individually.
//
// Where the facts come from. The seqs of the facts in the window (C, D]
// (after a checkpoint at C) or up to D (from zero) are read from the
// by-date index, and the events fetched in ascending seq with one cursor:
// in file order, so events that share a page cost one descent of the
// B-tree (an as-of query on a 10^6-event log took half the CPU time of
// fetching them one by one in date order: 0.23 s against 0.46 s at the
// median of 10 days, bench/README.md). From zero, when
// more than kByDateShare of the events up to K start by D, one sequential
// pass over the log in seq order instead reads every event up to K, but
// several times faster per event than fetching them one by one (a
// 10^6-event log: ~5x). Either way the facts arrive in seq order, which a
// State settling at D (State::SettleAt) accepts: settling does not depend
// on the order of insertion (compacting as it goes would need the order of
// e, which only the checkpoint builder uses).
#include <algorithm>

#include "projections/projection.h"
#include "projections/state.h"

namespace twinline {

using projection_internal::Fact;
using projection_internal::State;

namespace {

// The share of the events up to K a replay from zero fetches one by one,
// at most; beyond it, one pass in seq order (see the top of this file).
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
    auto insert = [&](const Fact& fact) {
      if (state.Insert(fact)) ++st.events_applied;
      return true;
    };
    // After a checkpoint, every fact of the window; from zero, up to its
    // share of the log.
    const size_t limit = checkpoint_day ? SIZE_MAX : known_seq / kByDateShare;
    bool too_many = false;
    TWINLINE_RETURN_IF_ERROR(projection_internal::ScanEffectiveFactsInSeqOrder(
        txn, known_seq, checkpoint_day, day, limit, insert, rows, &too_many));
    if (too_many) {
      TWINLINE_RETURN_IF_ERROR(
          projection_internal::ScanEffectiveFactsBySeq(txn, known_seq, day, insert, rows));
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
