#include "projections/window_events.h"

#include <algorithm>
#include <memory>
#include <tuple>

#include "core/edtf.h"
#include "projections/index.h"
#include "projections/index_state.h"
#include "projections/state.h"

namespace twinline {
namespace {

using projection_internal::Fact;
using projection_internal::Feeds;
using projection_internal::IndexState;
using projection_internal::IndexView;

// The fact's place in the window (the contract), kNo when it has none.
Tri InWindow(int64_t e, int64_t l, int64_t after, int64_t last, DateRule rule) {
  switch (rule) {
    case DateRule::kRange:
      if (after < e && l <= last) return Tri::kYes;
      return e <= last && l > after ? Tri::kMaybe : Tri::kNo;
    case DateRule::kEarliest:
      return after < e && e <= last ? Tri::kYes : Tri::kNo;
    case DateRule::kLatest:
      return after < l && l <= last ? Tri::kYes : Tri::kNo;
  }
  return Tri::kNo;
}

// Collects the facts in the window, each once, in (e, l, seq) order.
class Collector {
 public:
  Collector(int64_t after, int64_t last, DateRule rule) : after_(after), last_(last), rule_(rule) {}
  void Add(uint64_t seq, int64_t e, int64_t l) {
    const Tri in = InWindow(e, l, after_, last_, rule_);
    if (in != Tri::kNo) events_.push_back({seq, e, l, in});
  }
  void Finish(std::vector<WindowEvent>* out) {
    std::sort(events_.begin(), events_.end(), [](const WindowEvent& x, const WindowEvent& y) {
      return std::tie(x.e, x.l, x.seq) < std::tie(y.e, y.l, y.seq);
    });
    events_.erase(std::unique(events_.begin(), events_.end()), events_.end());
    *out = std::move(events_);
  }

 private:
  int64_t after_, last_;
  DateRule rule_;
  std::vector<WindowEvent> events_;
};

bool KeepsEdge(std::optional<EdgeRow::Kind> only, EdgeRow::Kind kind) {
  return !only || *only == kind;
}

Status FromIndex(const ReadTxn& txn, const IndexView& view, const Query& query, uint64_t known_seq,
                 std::optional<EdgeRow::Kind> only_edges, Collector* out) {
  IndexState s(txn, view, known_seq);
  TWINLINE_RETURN_IF_ERROR(s.Load());
  std::optional<uint32_t> entity;
  if (!query.entity.empty()) {
    entity = s.FindEntity(query.entity);
    if (!entity) return Status::Ok();  // an entity the log does not know has no facts
  }
  const RowSets rows = query.rows;
  if ((rows & (kEdgeRows | kCountRows)) != 0) {
    std::vector<uint32_t> edges;
    if (entity) {
      s.IncidentEdges(*entity, &edges);
    } else {
      edges.resize(s.edges());
      for (uint32_t i = 0; i < edges.size(); ++i) edges[i] = i;
    }
    std::vector<projection_internal::EdgeEvent> events;
    for (uint32_t edge : edges) {
      if (!KeepsEdge(only_edges, s.Edge(edge).kind)) continue;
      s.EdgeEvents(edge, &events);
      for (const auto& x : events) out->Add(x.at.seq, x.at.e, x.at.l);
    }
  }
  if (only_edges) return Status::Ok();
  std::vector<uint32_t> entities;
  if (entity) {
    entities.push_back(*entity);
  } else {
    entities.resize(s.entities());
    for (uint32_t i = 0; i < entities.size(); ++i) entities[i] = i;
  }
  if ((rows & kCountRows) != 0) {
    std::vector<uint32_t> keys;
    std::vector<projection_internal::index::ReportFact> reports;
    for (uint32_t x : entities) {
      s.CounterFacts(x, [&](const projection_internal::index::Fact& f) {
        out->Add(f.seq & projection_internal::index::kSeqMask, f.e, f.l);
      });
      s.ReportKeys(x, &keys);
      for (uint32_t key : keys) {
        s.ReportFacts(key, &reports);
        for (const auto& f : reports)
          out->Add(f.seq & projection_internal::index::kSeqMask, f.e, f.l);
      }
    }
  }
  if ((rows & kTradeRows) != 0) {
    const std::vector<uint32_t> keys = entity ? s.TradeKeysOf(*entity) : s.TradeOrder();
    std::vector<projection_internal::index::TradeFact> reports;
    for (uint32_t key : keys) {
      s.TradeFacts(key, &reports);
      for (const auto& f : reports)
        out->Add(f.seq & projection_internal::index::kSeqMask, f.e, f.l);
    }
  }
  return Status::Ok();
}

// Whether a fact's key concerns `entity` as Query::entity restricts rows.
bool Concerns(const Feeds& f, std::string_view entity) {
  switch (f.kind) {
    case Feeds::Kind::kNothing:
      return false;
    case Feeds::Kind::kEdge:
      return f.a == entity || f.b == entity;
    case Feeds::Kind::kCounters:
      return std::any_of(f.counters.begin(), f.counters.end(),
                         [&](const auto& c) { return c.first == entity; });
    case Feeds::Kind::kReport:
      return f.entity == entity;
    case Feeds::Kind::kTrade:
      return f.entity == entity || f.partner == entity;
  }
  return false;
}

Status FromLog(const ReadTxn& txn, const Query& query, uint64_t known_seq, int64_t last_day,
               std::optional<EdgeRow::Kind> only_edges, Collector* out) {
  const RowSets rows = query.rows & kAllRows;
  return projection_internal::ScanEffectiveFactsBySeq(
      txn, known_seq, last_day,
      [&](const Fact& fact) {
        const Feeds f = projection_internal::Classify(fact.payload);
        if (f.kind == Feeds::Kind::kNothing) return true;
        if ((projection_internal::RowsFed(fact.payload.which()) & rows) == 0) return true;
        if (only_edges && (f.kind != Feeds::Kind::kEdge || f.edge_kind != *only_edges)) return true;
        if (!query.entity.empty() && !Concerns(f, query.entity)) return true;
        out->Add(fact.seq, fact.e, fact.l);
        return true;
      },
      rows);
}

}  // namespace

Status EventsInWindow(const ReadTxn& txn, const Query& query, int64_t after_day, int64_t last_day,
                      std::optional<EdgeRow::Kind> only_edges, std::vector<WindowEvent>* out) {
  out->clear();
  if (after_day > last_day) {
    return Status::InvalidArgument("the window ends (" + FormatDay(last_day) +
                                   ") before it starts (after " + FormatDay(after_day) + ")");
  }
  const uint64_t known_seq = std::min(query.known_seq, txn.LastSeq());
  Collector collector(after_day, last_day, query.rule);
  bool answered = false;
  if (query.use_index) {
    std::unique_ptr<IndexView> view;
    if (IndexView::Open(txn, &view).ok()) {
      TWINLINE_RETURN_IF_ERROR(FromIndex(txn, *view, query, known_seq, only_edges, &collector));
      answered = true;
    }
    // A damaged or foreign index is derived data: answer from the log.
  }
  if (!answered) {
    TWINLINE_RETURN_IF_ERROR(FromLog(txn, query, known_seq, last_day, only_edges, &collector));
  }
  collector.Finish(out);
  return Status::Ok();
}

}  // namespace twinline
