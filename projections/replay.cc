// Replay: the projection as of a valid day D, as known at seq K
// (docs/PROJECTIONS.md), answered from the temporal index (docs/INDEX.md,
// index_replay.cc) or, with use_index = false or when the stored index
// cannot be read, by replaying the log: every effective fact up to K with
// e <= D inserted, in one pass in seq order, into a State that settles at D
// (State::SettleAt), then evaluated. Both hand the same rows to the same
// hashing sink, so their answers and hashes can be compared byte for byte.
#include <algorithm>

#include "projections/index.h"
#include "projections/projection.h"
#include "projections/state.h"

namespace twinline {

using projection_internal::Fact;
using projection_internal::RowHasher;
using projection_internal::State;

namespace {

// Hashes the rows that pass on their way to `out` (Snapshot::state_hash).
class HashingSink final : public SnapshotSink {
 public:
  HashingSink(RowSets rows, std::string_view entity, SnapshotSink* out)
      : hash_(rows, entity), out_(out) {}
  Status Begin(uint64_t known_seq) override { return out_->Begin(known_seq); }
  Status Edge(EdgeRow row) override {
    hash_.Edge(row);
    return out_->Edge(std::move(row));
  }
  Status Count(std::string entity, EntityCounts counts) override {
    hash_.Count(entity, counts);
    return out_->Count(std::move(entity), std::move(counts));
  }
  Status Trade(TradeRow row) override {
    hash_.Trade(row);
    return out_->Trade(std::move(row));
  }
  Status Total(TradeTotal total) override {
    hash_.Total(total);
    return out_->Total(std::move(total));
  }
  Status End(const std::string&) override { return out_->End(hash_.HexDigest()); }

 private:
  RowHasher hash_;
  SnapshotSink* out_;
};

// For the replay of the log, which evaluates every row: keeps the rows of
// the query's entity only, and drops what kCountsBrief leaves out.
class SelectingSink final : public SnapshotSink {
 public:
  SelectingSink(const Query& query, SnapshotSink* out) : query_(query), out_(out) {}
  Status Begin(uint64_t known_seq) override { return out_->Begin(known_seq); }
  Status Edge(EdgeRow row) override {
    if (!Mine(row.a) && !Mine(row.b)) return Status::Ok();
    return out_->Edge(std::move(row));
  }
  Status Count(std::string entity, EntityCounts counts) override {
    if (!Mine(entity)) return Status::Ok();
    if (query_.rows & kCountsBrief) {
      counts.partnerships_by_kind.clear();
      counts.partnerships_by_country.clear();
      counts.routes_by_mode.clear();
      counts.reported.clear();
      counts.open_events.clear();
    }
    return out_->Count(std::move(entity), std::move(counts));
  }
  Status Trade(TradeRow row) override {
    if (!Mine(row.reporter) && !Mine(row.partner)) return Status::Ok();
    return out_->Trade(std::move(row));
  }
  Status Total(TradeTotal total) override {
    if (!Mine(total.reporter)) return Status::Ok();
    return out_->Total(std::move(total));
  }
  Status End(const std::string& hash) override { return out_->End(hash); }

 private:
  bool Mine(std::string_view slug) const { return query_.entity.empty() || slug == query_.entity; }
  const Query& query_;
  SnapshotSink* out_;
};

// The replay of the log: every effective fact at K with e <= D, in one
// pass in seq order, into a State settling at D.
Status ReplayFromLog(const ReadTxn& txn, const Query& query, uint64_t known_seq,
                     SnapshotSink* sink, ReplayStats* stats) {
  const int64_t day = query.as_of_day;
  const RowSets rows = query.rows & kAllRows;
  State state(rows);
  state.SettleAt(day);
  if (rows != 0) {
    TWINLINE_RETURN_IF_ERROR(projection_internal::ScanEffectiveFactsBySeq(
        txn, known_seq, day,
        [&](const Fact& fact) {
          if (state.Insert(fact)) ++stats->events_applied;
          return true;
        },
        rows));
  }
  TWINLINE_RETURN_IF_ERROR(sink->Begin(known_seq));
  SelectingSink selecting(query, sink);
  return projection_internal::Evaluate(
      state, day, query.rule, rows,
      [&](std::string_view slug, std::string* country) {
        return projection_internal::EffectiveCountry(txn, slug, known_seq, country);
      },
      &selecting);
}

}  // namespace

Status ReplayInto(const ReadTxn& txn, const Query& query, SnapshotSink* sink, ReplayStats* stats) {
  ReplayStats local;
  ReplayStats& st = stats != nullptr ? *stats : local;
  st = ReplayStats();
  const uint64_t known_seq = std::min(query.known_seq, txn.LastSeq());
  HashingSink hashing(query.rows & (kAllRows | kCountsBrief), query.entity, sink);
  if (query.use_index) {
    std::unique_ptr<projection_internal::IndexView> view;
    Status opened = projection_internal::IndexView::Open(txn, &view);
    if (opened.ok()) {
      st.used_index = true;
      st.index_seq = view->base_seq();
      return projection_internal::ReplayFromIndex(txn, *view, query, &hashing, &st);
    }
    // A damaged or foreign index is derived data: answer from the log.
    st.index_problem = opened.message();
  }
  return ReplayFromLog(txn, query, known_seq, &hashing, &st);
}

Status Replay(const ReadTxn& txn, const Query& query, Snapshot* out, ReplayStats* stats) {
  *out = Snapshot();
  out->query = query;
  projection_internal::SnapshotCollector collector(out);
  return ReplayInto(txn, query, &collector, stats);
}

}  // namespace twinline
