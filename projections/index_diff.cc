// Diff from the temporal index (docs/INDEX.md §5). At one K both days are
// evaluated key by key and only the rows that differ are built; at two Ks
// both whole answers are. Either way the rows are compared as the diff of
// snapshots compares them (diff.cc), and each row's causes are read from
// its own facts: the effective events of the row whose presence or
// occurrence differs between the sides (docs/PROJECTIONS.md §6).
#include <algorithm>
#include <array>
#include <map>

#include "projections/index_state.h"

namespace twinline {

namespace ix = projection_internal::index;
using projection_internal::CauseRow;
using projection_internal::DiffDraft;
using projection_internal::EnumNames;
using projection_internal::IndexState;
using projection_internal::IndexView;
using projection_internal::Occurrence;

namespace {

// Collects rows into a Snapshot (the sides of a diff).
class Collect final : public SnapshotSink {
 public:
  explicit Collect(Snapshot* out) : out_(out) {}
  Status Begin(uint64_t known_seq) override {
    out_->known_seq = known_seq;
    return Status::Ok();
  }
  Status Edge(EdgeRow row) override {
    out_->edges.push_back(std::move(row));
    return Status::Ok();
  }
  Status Count(std::string entity, EntityCounts counts) override {
    out_->counts.emplace_hint(out_->counts.end(), std::move(entity), std::move(counts));
    return Status::Ok();
  }
  Status Trade(TradeRow row) override {
    out_->trade.push_back(std::move(row));
    return Status::Ok();
  }
  Status Total(TradeTotal total) override {
    out_->trade_totals.push_back(std::move(total));
    return Status::Ok();
  }

 private:
  Snapshot* out_;
};

using Mark = std::optional<Tri>;

// The two sides of a diff over the index.
class Sides {
 public:
  Sides(const IndexState* s0, const IndexState* s1, const Query& q0, const Query& q1)
      : state_{s0, s1}, day_{q0.as_of_day, q1.as_of_day}, rule_(q0.rule) {}

  // The state holding every fact of both sides (the later K).
  const IndexState& all() const {
    return state_[0]->known_seq() >= state_[1]->known_seq() ? *state_[0] : *state_[1];
  }
  Mark MarkOf(int side, uint64_t seq_flags, int64_t e, int64_t l) const {
    if (!state_[side]->Effective(seq_flags) || e > day_[side]) return std::nullopt;
    return Occurrence(e, l, day_[side], rule_);
  }
  // The causes of one row (CauseRow), ascending.
  void Causes(const CauseRow& row, std::vector<uint64_t>* out) const {
    out->clear();
    const IndexState& s = all();
    auto consider = [&](uint64_t seq_flags, int64_t e, int64_t l) {
      if (MarkOf(0, seq_flags, e, l) != MarkOf(1, seq_flags, e, l)) {
        out->push_back(seq_flags & ix::kSeqMask);
      }
    };
    switch (row.kind) {
      case CauseRow::Kind::kEdge: {
        auto a = s.FindEntity(row.a), b = s.FindEntity(row.b);
        if (!a || !b) break;
        auto edge = FindEdge(s, *a, *b, row.edge_kind, row.subkind ? *row.subkind : "");
        if (!edge) break;
        s.ForEachEdgeFact(*edge, [&](const ix::Fact& f) { consider(f.seq, f.e, f.l); });
        break;
      }
      case CauseRow::Kind::kEdgeCount: {
        auto self = s.FindEntity(row.a);
        if (!self) break;
        std::vector<uint32_t> incident;
        s.IncidentEdges(*self, &incident);
        for (uint32_t g : incident) {
          const IndexState::EdgeDef def = s.Edge(g);
          if (def.kind != row.edge_kind) continue;
          if (row.subkind && names_.Subkind(def.kind, def.subkind) != *row.subkind) continue;
          // Only edges listed (active or possibly active) on some side.
          bool listed = false;
          for (int side = 0; side < 2 && !listed; ++side) {
            listed = projection_internal::EvaluateEdge(*state_[side], g, day_[side], rule_,
                                                       nullptr) != Tri::kNo;
          }
          if (!listed) continue;
          const uint32_t partner = def.a == *self ? def.b : def.a;
          std::array<bool, 2> in_row{true, true};
          for (int side = 0; side < 2 && row.country; ++side) {
            in_row[side] = state_[side]->Country(partner) == *row.country;
          }
          s.ForEachEdgeFact(g, [&](const ix::Fact& f) {
            Mark m0 = in_row[0] ? MarkOf(0, f.seq, f.e, f.l) : std::nullopt;
            Mark m1 = in_row[1] ? MarkOf(1, f.seq, f.e, f.l) : std::nullopt;
            if (m0 != m1) out->push_back(f.seq & ix::kSeqMask);
          });
        }
        break;
      }
      case CauseRow::Kind::kCounter: {
        auto self = s.FindEntity(row.a);
        if (!self) break;
        const uint64_t bit = uint64_t{1} << (ix::kCounterShift + static_cast<int>(row.counter));
        s.ForEachCounterFact(*self, [&](const ix::Fact& f) {
          if (f.seq & bit) consider(f.seq, f.e, f.l);
        });
        break;
      }
      case CauseRow::Kind::kTrade: {
        auto reporter = s.FindEntity(row.a), partner = s.FindEntity(row.b);
        auto period = s.FindName(row.period);
        if (!reporter || !partner || !period) break;
        for (uint16_t flow = 0; flow < 8; ++flow) {
          if (names_.Flow(flow) != row.flow) continue;
          auto key = s.FindTradeKey({*reporter, *partner, *period, flow});
          if (!key) continue;
          s.ForEachTradeFact(*key, [&](const ix::TradeFact& f) { consider(f.seq, f.e, f.l); });
        }
        break;
      }
    }
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }

 private:
  std::optional<uint32_t> FindEdge(const IndexState& s, uint32_t a, uint32_t b, EdgeRow::Kind kind,
                                   const std::string& subkind) const {
    for (uint16_t ordinal : OrdinalsOf(kind, subkind)) {
      if (auto id = s.FindEdge({a, b, kind, ordinal})) return id;
    }
    return std::nullopt;
  }

  // The ordinals whose name is `subkind` (found once per name: a diff
  // asks for the same few names for every row).
  const std::vector<uint16_t>& OrdinalsOf(EdgeRow::Kind kind, const std::string& subkind) const {
    auto [it, added] = ordinals_.try_emplace({static_cast<int>(kind), subkind});
    if (added) {
      for (uint16_t ordinal = 0; ordinal < 64; ++ordinal) {
        if (names_.Subkind(kind, ordinal) == subkind) it->second.push_back(ordinal);
      }
    }
    return it->second;
  }

  std::array<const IndexState*, 2> state_;
  std::array<int64_t, 2> day_;
  DateRule rule_;
  mutable EnumNames names_;
  mutable std::map<std::pair<int, std::string>, std::vector<uint16_t>> ordinals_;
};

// Whether two trade answers of one key are the same as the diff compares
// them (certain and possible figure: amount, currency, report).
bool SameTrade(const std::vector<TradeRow>& x, const std::vector<TradeRow>& y) {
  auto pick = [](const std::vector<TradeRow>& rows, Tri status) -> const TradeRow* {
    for (const TradeRow& r : rows) {
      if (r.status == status) return &r;
    }
    return nullptr;
  };
  auto same = [](const TradeRow* a, const TradeRow* b) {
    return a == b || (a && b && a->amount == b->amount && a->currency == b->currency &&
                      a->seq == b->seq);
  };
  return same(pick(x, Tri::kYes), pick(y, Tri::kYes)) &&
         same(pick(x, Tri::kMaybe), pick(y, Tri::kMaybe));
}

bool SameRanges(const EntityCounts& x, const EntityCounts& y) {
  return x.partnerships == y.partnerships && x.routes == y.routes && x.forums == y.forums &&
         x.agreements == y.agreements && x.offices == y.offices &&
         x.offices_hosted == y.offices_hosted && x.organisations == y.organisations &&
         x.awards == y.awards && x.initiatives == y.initiatives;
}

// Both sides at one K, only the rows that differ: an edge whose status
// differs; an entity whose counts differ, or whose breakdowns may (an edge
// of it changed) or reported figures may (it has reports); a trade key
// whose figures differ.
Status ChangedRows(const IndexState& s, const Query& q0, const Query& q1, Snapshot* before,
                   Snapshot* after) {
  const RowSets rows = q0.rows;
  const int64_t d0 = q0.as_of_day, d1 = q1.as_of_day;
  const DateRule rule = q0.rule;
  std::optional<uint32_t> only;
  if (!q0.entity.empty()) {
    only = s.FindEntity(q0.entity);
    if (!only) return Status::Ok();
  }
  std::vector<bool> touched(s.entities(), false);  // an edge of it changed status
  if (rows & (kEdgeRows | kCountRows)) {
    std::vector<EventMark> m0, m1;
    for (uint32_t g : s.EdgesListed(only)) {
      const Tri t0 = projection_internal::EvaluateEdge(s, g, d0, rule, &m0);
      const Tri t1 = projection_internal::EvaluateEdge(s, g, d1, rule, &m1);
      if (t0 == t1) continue;
      const IndexState::EdgeDef def = s.Edge(g);
      touched[def.a] = touched[def.b] = true;
      if (!(rows & kEdgeRows)) continue;
      for (auto [side, status, marks] : {std::tuple(before, t0, &m0), std::tuple(after, t1, &m1)}) {
        if (status != Tri::kNo) side->edges.push_back(s.RowOf(g, status, *marks));
      }
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
    EntityCounts c0, c1;
    std::vector<uint32_t> keys;
    for (uint32_t entity : order) {
      bool e0 = false, e1 = false;
      TWINLINE_RETURN_IF_ERROR(projection_internal::EvaluateCounts(s, entity, d0, rule, false, &c0, &e0));
      TWINLINE_RETURN_IF_ERROR(projection_internal::EvaluateCounts(s, entity, d1, rule, false, &c1, &e1));
      if (!e0 && !e1) continue;
      s.ReportKeys(entity, &keys);
      if (SameRanges(c0, c1) && !touched[entity] && (keys.empty() || !detail)) continue;
      if (detail) {
        TWINLINE_RETURN_IF_ERROR(projection_internal::EvaluateCounts(s, entity, d0, rule, true, &c0, &e0));
        TWINLINE_RETURN_IF_ERROR(projection_internal::EvaluateCounts(s, entity, d1, rule, true, &c1, &e1));
      }
      const std::string slug(s.Slug(entity));
      if (e0) before->counts.emplace_hint(before->counts.end(), slug, std::move(c0));
      if (e1) after->counts.emplace_hint(after->counts.end(), slug, std::move(c1));
      c0 = EntityCounts();
      c1 = EntityCounts();
    }
  }
  if (rows & kTradeRows) {
    const std::vector<uint32_t> order = only ? s.TradeKeysOf(*only) : s.TradeOrder();
    std::vector<TradeRow> t0, t1;
    for (uint32_t key : order) {
      projection_internal::EvaluateTrade(s, key, d0, rule, &t0);
      projection_internal::EvaluateTrade(s, key, d1, rule, &t1);
      if (SameTrade(t0, t1)) continue;
      for (TradeRow& r : t0) before->trade.push_back(std::move(r));
      for (TradeRow& r : t1) after->trade.push_back(std::move(r));
    }
  }
  return Status::Ok();
}

}  // namespace

namespace projection_internal {

Status DiffFromIndex(const ReadTxn& txn, const IndexView& view, const Query& from,
                     const Query& to, Snapshot* before, Snapshot* after,
                     std::vector<DiffRow>* rows) {
  const uint64_t k0 = std::min(from.known_seq, txn.LastSeq());
  const uint64_t k1 = std::min(to.known_seq, txn.LastSeq());
  IndexState s0(txn, view, k0);
  TWINLINE_RETURN_IF_ERROR(s0.Load());
  std::optional<IndexState> s1_storage;
  const IndexState* s1 = &s0;
  if (k1 != k0) {
    s1_storage.emplace(txn, view, k1);
    TWINLINE_RETURN_IF_ERROR(s1_storage->Load());
    s1 = &*s1_storage;
  }
  before->known_seq = k0;
  after->known_seq = k1;
  if (k0 == k1) {
    TWINLINE_RETURN_IF_ERROR(ChangedRows(s0, from, to, before, after));
  } else {
    // Two recorded times: the whole of both answers (rows may differ where
    // nothing of either day did).
    ReplayStats ignored;
    Collect c0(before), c1(after);
    TWINLINE_RETURN_IF_ERROR(ReplayFromIndex(txn, view, from, &c0, &ignored));
    TWINLINE_RETURN_IF_ERROR(ReplayFromIndex(txn, view, to, &c1, &ignored));
  }
  TWINLINE_RETURN_IF_ERROR(CheckDiffable(txn, *before, *after));
  DiffDraft draft;
  CompareSnapshots(*before, *after, &draft);
  const Sides sides(&s0, s1, from, to);
  std::vector<std::vector<uint64_t>> causes;
  for (const auto& target : draft.targets) {
    if (!target) continue;
    sides.Causes(*target, &causes.emplace_back());
  }
  FinishDiff(std::move(draft), std::move(causes), rows);
  return Status::Ok();
}

}  // namespace projection_internal

Status DiffAt(const ReadTxn& txn, const Query& from, const Query& to, Snapshot* before,
              Snapshot* after, std::vector<DiffRow>* out) {
  *before = Snapshot();
  *after = Snapshot();
  before->query = from;
  after->query = to;
  out->clear();
  if (from.use_index && to.use_index) {
    std::unique_ptr<IndexView> view;
    if (IndexView::Open(txn, &view).ok()) {
      return projection_internal::DiffFromIndex(txn, *view, from, to, before, after, out);
    }
  }
  TWINLINE_RETURN_IF_ERROR(Replay(txn, from, before));
  TWINLINE_RETURN_IF_ERROR(Replay(txn, to, after));
  return Diff(txn, *before, *after, out);
}

}  // namespace twinline
