// Replay from the temporal index (docs/INDEX.md): the rows of the selected
// sets, in Snapshot order, each computed from the index and the tail
// (index_state.h) and handed to the sink as it is made.
#include <map>

#include "projections/index_state.h"

namespace twinline::projection_internal {

namespace {

// Trade totals, by reporter (the order keys come in) and currency.
class Totals {
 public:
  // The rows of `slug` begin: the previous reporter's totals are complete.
  void Reporter(std::string_view slug) {
    if (slug == reporter_) return;
    Close();
    reporter_ = std::string(slug);
  }
  void Certain(const TradeRow& r) { Of(r).certain += r.amount; }
  void Possible(const TradeRow& r) { Of(r).possible += r.amount; }
  // After every trade row (Snapshot order): all of them.
  Status Deliver(SnapshotSink* sink) {
    Close();
    for (TradeTotal& t : done_) TWINLINE_RETURN_IF_ERROR(sink->Total(std::move(t)));
    return Status::Ok();
  }

 private:
  void Close() {
    for (auto& [currency, total] : by_currency_) done_.push_back(std::move(total));
    by_currency_.clear();
  }
  TradeTotal& Of(const TradeRow& r) {
    TradeTotal& t = by_currency_[r.currency];
    t.reporter = r.reporter;
    t.currency = r.currency;
    return t;
  }
  std::string reporter_;
  std::map<std::string, TradeTotal> by_currency_;
  std::vector<TradeTotal> done_;
};

}  // namespace

Status ReplayFromIndex(const ReadTxn& txn, const IndexView& view, const Query& query,
                       SnapshotSink* sink, ReplayStats* stats) {
  const uint64_t known_seq = std::min(query.known_seq, txn.LastSeq());
  IndexState s(txn, view, known_seq);
  TWINLINE_RETURN_IF_ERROR(s.Load());
  stats->tail_events = s.tail_events();
  const int64_t day = query.as_of_day;
  const DateRule rule = query.rule;
  const RowSets rows = query.rows;

  std::optional<uint32_t> only;
  if (!query.entity.empty()) {
    only = s.FindEntity(query.entity);
    if (!only) {  // nothing of it in the log: no rows
      TWINLINE_RETURN_IF_ERROR(sink->Begin(known_seq));
      return sink->End("");
    }
  }
  TWINLINE_RETURN_IF_ERROR(sink->Begin(known_seq));

  if (rows & kEdgeRows) {
    std::vector<EventMark> marks;
    for (uint32_t g : s.EdgesListed(only)) {
      const Tri status = EvaluateEdge(s, g, day, rule, &marks);
      if (status == Tri::kNo) continue;
      TWINLINE_RETURN_IF_ERROR(sink->Edge(s.RowOf(g, status, marks)));
    }
  }

  if (rows & kCountRows) {
    const bool detail = (rows & kCountsBrief) == 0;
    std::vector<uint32_t> order;
    if (only) {
      order.push_back(*only);
    } else {
      order = s.EntityOrder();
    }
    EntityCounts counts;
    for (uint32_t entity : order) {
      bool exists = false;
      TWINLINE_RETURN_IF_ERROR(EvaluateCounts(s, entity, day, rule, detail, &counts, &exists));
      if (!exists) continue;
      TWINLINE_RETURN_IF_ERROR(sink->Count(std::string(s.Slug(entity)), std::move(counts)));
    }
  }

  if (rows & kTradeRows) {
    const std::vector<uint32_t> order = only ? s.TradeKeysOf(*only) : s.TradeOrder();
    Totals totals;
    std::vector<TradeRow> trade;
    for (uint32_t key : order) {
      EvaluateTrade(s, key, day, rule, &trade);
      if (trade.empty()) continue;
      const bool counted = !only || s.TradeKey(key).reporter == *only;
      if (counted) totals.Reporter(trade.front().reporter);
      for (TradeRow& r : trade) {
        if (counted) {
          if (r.status == Tri::kYes) totals.Certain(r);
          // The possible figure is the certain one when no later report
          // is only possible (a single row).
          if (r.status == Tri::kMaybe || trade.size() == 1) totals.Possible(r);
        }
        TWINLINE_RETURN_IF_ERROR(sink->Trade(std::move(r)));
      }
    }
    TWINLINE_RETURN_IF_ERROR(totals.Deliver(sink));
  }
  return sink->End("");
}

}  // namespace twinline::projection_internal
