// The temporal index as a query at K sees it (index_state.h), and the rows
// computed from it: counts from prefix counts or from an entity's facts,
// edges and trade keys from their facts.
#include "projections/index_state.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <tuple>

#include "core/edtf.h"

namespace twinline::projection_internal {

namespace ix = index;

namespace {

uint64_t KeyHash(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  uint64_t h = MixHash(a);
  h = MixHash(h ^ b);
  h = MixHash(h ^ c);
  return MixHash(h ^ d);
}

}  // namespace

IndexState::IndexState(const ReadTxn& txn, const IndexView& view, uint64_t known_seq)
    : txn_(txn), view_(view), k_(known_seq) {}

std::optional<uint32_t> IndexState::FindEntity(std::string_view slug) const {
  if (auto id = view_.FindSlug(slug)) return id;
  if (auto it = new_slug_ids_.find(std::string(slug)); it != new_slug_ids_.end()) return it->second;
  return std::nullopt;
}

std::optional<uint32_t> IndexState::FindName(std::string_view name) const {
  if (auto id = view_.FindName(name)) return id;
  if (auto it = new_name_ids_.find(std::string(name)); it != new_name_ids_.end()) return it->second;
  return std::nullopt;
}

uint32_t IndexState::InternEntity(std::string_view slug) {
  if (auto id = FindEntity(slug)) return *id;
  const auto id = static_cast<uint32_t>(view_.entities() + new_slugs_.size());
  new_slugs_.emplace_back(slug);
  new_slug_ids_.emplace(std::string(slug), id);
  return id;
}

uint32_t IndexState::InternName(std::string_view name) {
  if (auto id = FindName(name)) return *id;
  const auto id = static_cast<uint32_t>(view_.names() + new_names_.size());
  new_names_.emplace_back(name);
  new_name_ids_.emplace(std::string(name), id);
  return id;
}

std::vector<uint32_t> IndexState::EntityOrder() const {
  std::vector<uint32_t> order(entities());
  std::iota(order.begin(), order.end(), 0);
  if (!new_slugs_.empty()) {
    const auto base_end = order.begin() + static_cast<std::ptrdiff_t>(view_.entities());
    auto less = [&](uint32_t x, uint32_t y) { return Slug(x) < Slug(y); };
    std::sort(base_end, order.end(), less);
    std::inplace_merge(order.begin(), base_end, order.end(), less);
  }
  return order;
}

std::string_view IndexState::Country(uint32_t entity) const {
  if (auto it = country_override_.find(entity); it != country_override_.end()) return it->second;
  if (entity >= view_.entities()) return {};
  if (k_ >= view_.base_seq()) {
    const uint32_t c = view_.ent_country_[entity];
    return c == ix::kNone ? std::string_view() : view_.Name(c);
  }
  // Before B: follow the registration's amendments to the one in effect at K.
  for (const ix::Registration& r : IndexView::Range(view_.ent_reg_, view_.ent_reg_off_, entity)) {
    if (r.seq > k_) return {};
    if (r.amended_by <= k_) continue;
    if (r.retracted_by <= k_ || r.country == ix::kNone) return {};
    return view_.Name(r.country);
  }
  return {};
}

// --- Edges --------------------------------------------------------------------

IndexState::EdgeDef IndexState::Edge(uint32_t id) const {
  if (id < view_.edges_.size()) {
    const ix::Edge& g = view_.edges_[id];
    return {g.a, g.b, static_cast<EdgeRow::Kind>(g.kind), g.subkind};
  }
  return new_edges_[id - view_.edges_.size()];
}

bool IndexState::EdgeLess(uint32_t x, uint32_t y) const {
  const EdgeDef p = Edge(x), q = Edge(y);
  if (p.kind != q.kind) return p.kind < q.kind;
  if (p.a != q.a) return Slug(p.a) < Slug(q.a);
  if (p.b != q.b) return Slug(p.b) < Slug(q.b);
  return names_.Subkind(p.kind, p.subkind) < names_.Subkind(q.kind, q.subkind);
}

std::vector<uint32_t> IndexState::EdgeOrder() const {
  std::vector<uint32_t> order(edges());
  std::iota(order.begin(), order.end(), 0);
  if (!new_edges_.empty()) {
    const auto base_end = order.begin() + static_cast<std::ptrdiff_t>(view_.edges_.size());
    auto less = [&](uint32_t x, uint32_t y) { return EdgeLess(x, y); };
    std::sort(base_end, order.end(), less);
    std::inplace_merge(order.begin(), base_end, order.end(), less);
  }
  return order;
}

std::vector<uint32_t> IndexState::EdgesListed(std::optional<uint32_t> only) const {
  if (!only) return EdgeOrder();
  std::vector<uint32_t> order;
  IncidentEdges(*only, &order);
  return order;
}

EdgeRow IndexState::RowOf(uint32_t id, Tri status, std::vector<EventMark> events) const {
  const EdgeDef def = Edge(id);
  EdgeRow row;
  row.kind = def.kind;
  row.a = std::string(Slug(def.a));
  row.b = std::string(Slug(def.b));
  row.subkind = names_.Subkind(def.kind, def.subkind);
  row.status = status;
  row.events = std::move(events);
  return row;
}

void IndexState::IncidentEdges(uint32_t entity, std::vector<uint32_t>* out) const {
  out->clear();
  if (entity < view_.entities()) {
    for (uint32_t g : IndexView::Range(view_.ent_edge_, view_.ent_edge_off_, entity)) {
      out->push_back(g);
    }
  }
  if (auto it = new_incident_.find(entity); it != new_incident_.end()) {
    out->insert(out->end(), it->second.begin(), it->second.end());
  }
  std::sort(out->begin(), out->end(), [&](uint32_t x, uint32_t y) {
    if (x < view_.edges_.size() && y < view_.edges_.size()) return x < y;
    return EdgeLess(x, y);
  });
  out->erase(std::unique(out->begin(), out->end()), out->end());  // a self-edge is listed twice
}

void IndexState::EdgeEvents(uint32_t edge, std::vector<EdgeEvent>* out) const {
  out->clear();
  auto add = [&](const ix::Fact& f) {
    if (Effective(f.seq)) {
      out->push_back({{f.seq & ix::kSeqMask, f.e, f.l}, edge, (f.seq & ix::kEstablish) != 0});
    }
  };
  if (edge < view_.edges_.size()) {
    for (const ix::Fact& f : view_.EdgeFacts(edge)) add(f);
  }
  if (!tail_edge_.empty()) {
    if (auto it = tail_edge_.find(edge); it != tail_edge_.end()) {
      for (const ix::Fact& f : it->second) add(f);
    }
  }
}

uint32_t IndexState::FindOrAddEdge(const EdgeDef& def) {
  if (auto id = FindEdge(def)) return *id;
  const uint64_t h = KeyHash(static_cast<uint64_t>(def.kind), def.a, def.b, def.subkind);
  const auto id = static_cast<uint32_t>(view_.edges_.size() + new_edges_.size());
  new_edges_.push_back(def);
  new_edge_ids_.emplace(h, id);
  new_incident_[def.a].push_back(id);
  if (def.b != def.a) new_incident_[def.b].push_back(id);
  return id;
}

std::optional<uint32_t> IndexState::FindEdge(const EdgeDef& def) const {
  if (def.a < view_.entities() && def.b < view_.entities()) {
    // Base edges are sorted by (kind, a, b) and, within, by subkind name.
    const auto key = std::tuple(static_cast<uint8_t>(def.kind), def.a, def.b);
    auto lo = std::lower_bound(view_.edges_.begin(), view_.edges_.end(), key,
                               [](const ix::Edge& g, const auto& k) {
                                 return std::tuple(g.kind, g.a, g.b) < k;
                               });
    for (auto it = lo; it != view_.edges_.end() && std::tuple(it->kind, it->a, it->b) == key; ++it) {
      if (it->subkind == def.subkind) return static_cast<uint32_t>(it - view_.edges_.begin());
    }
  }
  const uint64_t h = KeyHash(static_cast<uint64_t>(def.kind), def.a, def.b, def.subkind);
  for (auto [it, end] = new_edge_ids_.equal_range(h); it != end; ++it) {
    const EdgeDef& e = new_edges_[it->second - view_.edges_.size()];
    if (e.a == def.a && e.b == def.b && e.kind == def.kind && e.subkind == def.subkind) {
      return it->second;
    }
  }
  return std::nullopt;
}

// --- Report keys ----------------------------------------------------------------

IndexState::ReportKeyDef IndexState::ReportKey(uint32_t id) const {
  if (id < view_.rk_.size()) {
    const ix::ReportKey& k = view_.rk_[id];
    return {k.entity, k.metric, k.scope};
  }
  return new_rks_[id - view_.rk_.size()];
}

bool IndexState::ReportLess(uint32_t x, uint32_t y) const {
  const ReportKeyDef p = ReportKey(x), q = ReportKey(y);
  if (p.metric != q.metric) return Name(p.metric) < Name(q.metric);
  const std::string_view ps = p.scope == ix::kNone ? std::string_view() : Slug(p.scope);
  const std::string_view qs = q.scope == ix::kNone ? std::string_view() : Slug(q.scope);
  return ps < qs;
}

void IndexState::ReportKeys(uint32_t entity, std::vector<uint32_t>* out) const {
  out->clear();
  if (entity < view_.entities()) {
    for (uint32_t i = view_.ent_rk_off_[entity]; i < view_.ent_rk_off_[entity + 1]; ++i) {
      out->push_back(i);
    }
  }
  if (!new_rks_.empty()) {
    for (uint32_t i = 0; i < new_rks_.size(); ++i) {
      if (new_rks_[i].entity == entity) out->push_back(static_cast<uint32_t>(view_.rk_.size() + i));
    }
    std::sort(out->begin(), out->end(), [&](uint32_t x, uint32_t y) { return ReportLess(x, y); });
  }
}

uint32_t IndexState::FindOrAddReportKey(const ReportKeyDef& def) {
  if (def.entity < view_.entities()) {
    for (uint32_t i = view_.ent_rk_off_[def.entity]; i < view_.ent_rk_off_[def.entity + 1]; ++i) {
      const ix::ReportKey& k = view_.rk_[i];
      if (k.metric == def.metric && k.scope == def.scope) return i;
    }
  }
  const uint64_t h = KeyHash(def.entity, def.metric, def.scope, 0);
  for (auto [it, end] = new_rk_ids_.equal_range(h); it != end; ++it) {
    const ReportKeyDef& k = new_rks_[it->second - view_.rk_.size()];
    if (k.entity == def.entity && k.metric == def.metric && k.scope == def.scope) return it->second;
  }
  const auto id = static_cast<uint32_t>(view_.rk_.size() + new_rks_.size());
  new_rks_.push_back(def);
  new_rk_ids_.emplace(h, id);
  return id;
}

void IndexState::ReportFacts(uint32_t key, std::vector<ix::ReportFact>* out) const {
  out->clear();
  if (key < view_.rk_.size()) {
    for (const ix::ReportFact& f : view_.ReportFacts(key)) {
      if (Effective(f.seq)) out->push_back(f);
    }
  }
  if (!tail_rk_.empty()) {
    if (auto it = tail_rk_.find(key); it != tail_rk_.end()) {
      for (const ix::ReportFact& f : it->second) {
        if (Effective(f.seq)) out->push_back(f);
      }
    }
  }
}

// --- Trade keys -------------------------------------------------------------------

IndexState::TradeKeyDef IndexState::TradeKey(uint32_t id) const {
  if (id < view_.tk_.size()) {
    const ix::TradeKey& k = view_.tk_[id];
    return {k.reporter, k.partner, k.period, k.flow};
  }
  return new_tks_[id - view_.tk_.size()];
}

bool IndexState::TradeLess(uint32_t x, uint32_t y) const {
  const TradeKeyDef p = TradeKey(x), q = TradeKey(y);
  if (p.reporter != q.reporter) return Slug(p.reporter) < Slug(q.reporter);
  if (p.partner != q.partner) return Slug(p.partner) < Slug(q.partner);
  if (p.period != q.period) return Name(p.period) < Name(q.period);
  return names_.Flow(p.flow) < names_.Flow(q.flow);
}

std::vector<uint32_t> IndexState::TradeOrder() const {
  std::vector<uint32_t> order(view_.tk_.size() + new_tks_.size());
  std::iota(order.begin(), order.end(), 0);
  if (!new_tks_.empty()) {
    const auto base_end = order.begin() + static_cast<std::ptrdiff_t>(view_.tk_.size());
    auto less = [&](uint32_t x, uint32_t y) { return TradeLess(x, y); };
    std::sort(base_end, order.end(), less);
    std::inplace_merge(order.begin(), base_end, order.end(), less);
  }
  return order;
}

std::vector<uint32_t> IndexState::TradeKeysOf(uint32_t entity) const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < view_.tk_.size(); ++i) {
    if (view_.tk_[i].reporter == entity || view_.tk_[i].partner == entity) out.push_back(i);
  }
  for (uint32_t i = 0; i < new_tks_.size(); ++i) {
    if (new_tks_[i].reporter == entity || new_tks_[i].partner == entity) {
      out.push_back(static_cast<uint32_t>(view_.tk_.size() + i));
    }
  }
  if (!new_tks_.empty()) {
    std::sort(out.begin(), out.end(), [&](uint32_t x, uint32_t y) { return TradeLess(x, y); });
  }
  return out;
}

uint32_t IndexState::FindOrAddTradeKey(const TradeKeyDef& def) {
  if (auto id = FindTradeKey(def)) return *id;
  const uint64_t h = KeyHash(def.reporter, def.partner, def.period, def.flow);
  const auto id = static_cast<uint32_t>(view_.tk_.size() + new_tks_.size());
  new_tks_.push_back(def);
  new_tk_ids_.emplace(h, id);
  return id;
}

std::optional<uint32_t> IndexState::FindTradeKey(const TradeKeyDef& def) const {
  if (def.reporter < view_.entities() && def.partner < view_.entities() && def.period < view_.names()) {
    const auto key = std::tuple(def.reporter, def.partner, def.period);
    auto lo = std::lower_bound(view_.tk_.begin(), view_.tk_.end(), key,
                               [](const ix::TradeKey& k, const auto& want) {
                                 return std::tuple(k.reporter, k.partner, k.period) < want;
                               });
    for (auto it = lo; it != view_.tk_.end() &&
                       std::tuple(it->reporter, it->partner, it->period) == key;
         ++it) {
      if (it->flow == def.flow) return static_cast<uint32_t>(it - view_.tk_.begin());
    }
  }
  const uint64_t h = KeyHash(def.reporter, def.partner, def.period, def.flow);
  for (auto [it, end] = new_tk_ids_.equal_range(h); it != end; ++it) {
    const TradeKeyDef& k = new_tks_[it->second - view_.tk_.size()];
    if (k.reporter == def.reporter && k.partner == def.partner && k.period == def.period &&
        k.flow == def.flow) {
      return it->second;
    }
  }
  return std::nullopt;
}

void IndexState::TradeFacts(uint32_t key, std::vector<ix::TradeFact>* out) const {
  out->clear();
  if (key < view_.tk_.size()) {
    for (const ix::TradeFact& f : view_.TradeFacts(key)) {
      if (Effective(f.seq)) out->push_back(f);
    }
  }
  if (!tail_tk_.empty()) {
    if (auto it = tail_tk_.find(key); it != tail_tk_.end()) {
      for (const ix::TradeFact& f : it->second) {
        if (Effective(f.seq)) out->push_back(f);
      }
    }
  }
}

// --- The tail -------------------------------------------------------------------

void IndexState::Feed(const FactRow& row, bool add) {
  switch (row.type) {
    case FactRow::Type::kEdge: {
      const uint32_t a = InternEntity(row.a), b = InternEntity(row.b);
      const uint32_t edge = FindOrAddEdge({a, b, row.edge_kind, row.subkind});
      if (add) {
        tail_edge_[edge].push_back({row.seq | (row.establish ? ix::kEstablish : 0), row.e, row.l});
      }
      dirty_entities_.insert(a);
      dirty_entities_.insert(b);
      return;
    }
    case FactRow::Type::kCounters:
      for (const auto& [slug, mask] : row.counters) {
        const uint32_t entity = InternEntity(slug);
        if (add) {
          tail_cf_[entity].push_back(
              {row.seq | (static_cast<uint64_t>(mask) << ix::kCounterShift), row.e, row.l});
        }
        dirty_entities_.insert(entity);
      }
      return;
    case FactRow::Type::kReport: {
      const uint32_t entity = InternEntity(row.a);
      const uint32_t scope = row.b.empty() ? ix::kNone : InternEntity(row.b);
      const uint32_t key = FindOrAddReportKey({entity, InternName(row.s1), scope});
      if (add) {
        ix::ReportFact f{};
        f.seq = row.seq;
        f.e = row.e;
        f.l = row.l;
        f.value = row.value;
        f.date = InternName(row.s2);
        f.qualifier = row.subkind;
        tail_rk_[key].push_back(f);
      }
      dirty_entities_.insert(entity);
      return;
    }
    case FactRow::Type::kTrade: {
      const uint32_t key = FindOrAddTradeKey(
          {InternEntity(row.a), InternEntity(row.b), InternName(row.s1), row.subkind});
      if (add) {
        ix::TradeFact f{};
        f.seq = row.seq;
        f.e = row.e;
        f.l = row.l;
        f.amount = row.value;
        f.currency = InternName(row.s2);
        tail_tk_[key].push_back(f);
      }
      return;
    }
  }
}

Status IndexState::Load() {
  const uint64_t base = view_.base_seq();
  if (k_ <= base) return Status::Ok();
  std::vector<FactRow> facts;
  std::vector<RegistrationRow> registrations;
  std::vector<CorrectionRow> corrections;
  std::set<std::string> registered;  // slugs whose registration the tail makes or corrects
  TWINLINE_RETURN_IF_ERROR(txn_.Scan(base + 1, k_, [&](schema::Event::Reader ev) {
    ++tail_events_;
    facts.clear();
    registrations.clear();
    ClassifyEvent(ev, &facts, &registrations, &corrections);
    for (const FactRow& f : facts) Feed(f, /*add=*/true);
    for (const RegistrationRow& r : registrations) registered.insert(r.slug);
    return true;
  }));
  // Corrections: the first of each target, and the keys (or registrations)
  // the corrected events fed.
  for (const CorrectionRow& c : corrections) {
    uint64_t target = 0;
    Status st = txn_.FindById(c.target, &target);
    if (!st.ok()) continue;  // the log refused such a correction; nothing to undo
    auto [it, added] = tail_corrections_.try_emplace(target, c.seq);
    if (!added) it->second = std::min(it->second, c.seq);
    if (!added) continue;
    std::vector<FactRow> corrected;
    std::vector<RegistrationRow> regs;
    std::vector<CorrectionRow> ignored;
    TWINLINE_RETURN_IF_ERROR(txn_.Get(target, [&](schema::Event::Reader ev) {
      ClassifyEvent(ev, &corrected, &regs, &ignored);
    }));
    for (const FactRow& f : corrected) Feed(f, /*add=*/false);
    for (const RegistrationRow& r : regs) registered.insert(r.slug);
  }
  // A registration made or corrected in the tail: that entity's country at
  // K, and the rows of its partners, which count it by country.
  std::vector<uint32_t> incident;
  for (const std::string& slug : registered) {
    const uint32_t entity = InternEntity(slug);
    std::string iso;
    TWINLINE_RETURN_IF_ERROR(EffectiveCountry(txn_, slug, k_, &iso));
    country_override_[entity] = iso;
    dirty_entities_.insert(entity);
    IncidentEdges(entity, &incident);
    for (uint32_t g : incident) {
      const EdgeDef def = Edge(g);
      dirty_entities_.insert(def.a);
      dirty_entities_.insert(def.b);
    }
  }
  // An entity with no registration at all in the index or the tail (none
  // in a valid log) has no country either.
  return Status::Ok();
}

// --- Rows -----------------------------------------------------------------------

namespace {

void Add(Range* r, Tri t) {
  if (t == Tri::kYes) ++r->certain;
  if (t != Tri::kNo) ++r->possible;
}

constexpr Range EntityCounts::*kCounterField[kNumCounters] = {
    &EntityCounts::forums,         &EntityCounts::agreements,    &EntityCounts::offices,
    &EntityCounts::offices_hosted, &EntityCounts::organisations, &EntityCounts::awards,
    &EntityCounts::initiatives,
};

// A lane pair as the rule reads it: range certain/possible, or one lane.
Range FromLanes(const uint32_t (&lanes)[ix::kLanes], DateRule rule) {
  switch (rule) {
    case DateRule::kEarliest:
      return {lanes[2], lanes[2]};
    case DateRule::kLatest:
      return {lanes[3], lanes[3]};
    case DateRule::kRange:
      break;
  }
  return {lanes[0], lanes[1]};
}

template <typename F>
bool OrderGreater(const F& x, const F* y) {
  return y == nullptr || std::tuple(x.e, x.l, x.seq & ix::kSeqMask) >
                             std::tuple(y->e, y->l, y->seq & ix::kSeqMask);
}

// "Greatest report wins" (docs/PROJECTIONS.md §4) over effective facts.
template <typename F>
std::pair<const F*, const F*> Greatest(const std::vector<F>& facts, int64_t day, DateRule rule) {
  const F* certain = nullptr;
  const F* possible = nullptr;
  for (const F& f : facts) {
    if (f.e > day) continue;
    const Tri occ = Occurrence(f.e, f.l, day, rule);
    if (occ == Tri::kNo) continue;
    if (occ == Tri::kYes && OrderGreater(f, certain)) certain = &f;
    if (OrderGreater(f, possible)) possible = &f;
  }
  return {certain, possible};
}

// The reported figures, breakdowns and events of a count row that a
// prefix does not give.
struct Detail {
  const IndexState& s;
  int64_t day;
  DateRule rule;
  EnumNames& names;

  void Reports(uint32_t entity, EntityCounts* out, bool* any, std::vector<EventMark>* open,
               uint64_t* settled, bool reported) const {
    std::vector<uint32_t> keys;
    s.ReportKeys(entity, &keys);
    std::vector<ix::ReportFact> facts;
    for (uint32_t key : keys) {
      s.ReportFacts(key, &facts);
      for (const ix::ReportFact& f : facts) {
        if (f.e > day) continue;
        *any = true;
        if (open != nullptr) {
          if (f.l <= day) {
            ++*settled;
          } else {
            open->push_back({f.seq & ix::kSeqMask, Occurrence(f.e, f.l, day, rule)});
          }
        }
      }
      if (!reported) continue;
      auto [certain, possible] = Greatest(facts, day, rule);
      const IndexState::ReportKeyDef def = s.ReportKey(key);
      auto entry = [&](const ix::ReportFact& f, Tri status) {
        ReportedCount rc;
        rc.metric = std::string(s.Name(def.metric));
        rc.scope = def.scope == ix::kNone ? "" : std::string(s.Slug(def.scope));
        rc.value = f.value;
        rc.qualifier = QualifierName(f.qualifier);
        rc.date = std::string(s.Name(f.date));
        rc.status = status;
        rc.seq = f.seq & ix::kSeqMask;
        out->reported.push_back(std::move(rc));
      };
      if (certain != nullptr) entry(*certain, Tri::kYes);
      if (possible != nullptr && possible != certain) entry(*possible, Tri::kMaybe);
    }
  }

  // Partnerships and routes (when `totals`), and their breakdowns (when
  // `breakdowns`), from the statuses of the entity's edges.
  void Edges(uint32_t entity, EntityCounts* out, bool* any, bool totals, bool breakdowns) const {
    std::vector<uint32_t> incident;
    s.IncidentEdges(entity, &incident);
    for (uint32_t g : incident) {
      const Tri status = EvaluateEdge(s, g, day, rule, nullptr);
      if (status == Tri::kNo) continue;
      *any = true;
      const IndexState::EdgeDef def = s.Edge(g);
      const std::string& subkind = names.Subkind(def.kind, def.subkind);
      // An edge from an entity to itself counts once, as a replay does not
      // list such edges (the log refuses them).
      const uint32_t partner = def.a == entity ? def.b : def.a;
      if (def.kind == EdgeRow::Kind::kRoute) {
        if (totals) Add(&out->routes, status);
        if (breakdowns) Add(&out->routes_by_mode[subkind], status);
      } else {
        if (totals) Add(&out->partnerships, status);
        if (breakdowns) {
          Add(&out->partnerships_by_kind[subkind], status);
          Add(&out->partnerships_by_country[std::string(s.Country(partner))], status);
        }
      }
    }
  }
};

}  // namespace

Tri EvaluateEdge(const IndexState& s, uint32_t edge, int64_t day, DateRule rule,
                 std::vector<EventMark>* marks) {
  thread_local std::vector<EdgeEvent> events;
  s.EdgeEvents(edge, &events);
  const PrefixStatus none;
  const Tri status = rule == DateRule::kRange ? EdgeStatusRange(none, events, day)
                     : EdgeActivePlaced(none, events, day, rule) ? Tri::kYes
                                                                 : Tri::kNo;
  if (marks != nullptr) {
    marks->clear();
    for (const EdgeEvent& x : events) {
      if (x.at.e <= day) marks->push_back({x.at.seq, Occurrence(x.at.e, x.at.l, day, rule)});
    }
    std::sort(marks->begin(), marks->end());
  }
  return status;
}

Status EvaluateCounts(const IndexState& s, uint32_t entity, int64_t day, DateRule rule, bool detail,
                      EntityCounts* out, bool* exists) {
  *out = EntityCounts();
  *exists = false;
  thread_local EnumNames names;
  const Detail d{s, day, rule, names};

  if (s.PrefixUsable(entity)) {
    const IndexView& v = s.view();
    const uint32_t begin = v.pc_off_[entity], end = v.pc_off_[entity + 1];
    const int64_t* days = v.pc_day_.data();
    const uint32_t p =
        static_cast<uint32_t>(std::upper_bound(days + begin, days + end, day) - (days + begin));
    const uint32_t snaps = v.pc_snap_off_[entity + 1] - v.pc_snap_off_[entity];
    const uint32_t j = std::min(p / ix::kSnapshotEvery, snaps);
    ix::Snapshot sum{};
    if (j > 0) sum = v.pc_snap_[v.pc_snap_off_[entity] + j - 1];
    for (uint32_t i = begin + j * ix::kSnapshotEvery; i < begin + p; ++i) {
      const uint16_t code = v.pc_code_[i];
      const int m = ix::CodeMeasure(code);
      for (int l = 0; l < ix::kLanes; ++l) sum.v[m][l] += static_cast<uint32_t>(ix::CodeLane(code, l));
      sum.settled += ix::CodeSettled(code) ? 1 : 0;
    }
    out->partnerships = FromLanes(sum.v[ix::kMeasurePartnerships], rule);
    out->routes = FromLanes(sum.v[ix::kMeasureRoutes], rule);
    bool counted = false;
    for (int c = 0; c < kNumCounters; ++c) {
      out->*kCounterField[c] = FromLanes(sum.v[ix::kMeasureCounter0 + c], rule);
      counted = counted || sum.v[ix::kMeasureCounter0 + c][1] > 0;
    }
    *exists = out->partnerships.possible > 0 || out->routes.possible > 0 || counted ||
              sum.v[ix::kMeasureReports][1] > 0;
    if (!*exists) return Status::Ok();
    out->settled_events = sum.settled;
    if (!detail) return Status::Ok();
    for (const ix::Fact& f : IndexView::Range(v.ent_open_, v.ent_open_off_, entity)) {
      if (f.e > day) break;  // by e
      if (f.l > day) out->open_events.push_back({f.seq & ix::kSeqMask, Occurrence(f.e, f.l, day, rule)});
    }
    std::sort(out->open_events.begin(), out->open_events.end());
    bool any = false;
    d.Reports(entity, out, &any, nullptr, nullptr, /*reported=*/true);
    d.Edges(entity, out, &any, /*totals=*/false, /*breakdowns=*/true);
    return Status::Ok();
  }

  // From the entity's facts.
  bool any = false;
  std::vector<EventMark> open;
  uint64_t settled = 0;
  s.CounterFacts(entity, [&](const ix::Fact& f) {
    if (f.e > day) return;
    any = true;
    const Tri occ = Occurrence(f.e, f.l, day, rule);
    for (int c = 0; c < kNumCounters; ++c) {
      if ((f.seq >> (ix::kCounterShift + c)) & 1) Add(&(out->*kCounterField[c]), occ);
    }
    if (f.l <= day) {
      ++settled;
    } else {
      open.push_back({f.seq & ix::kSeqMask, occ});
    }
  });
  d.Reports(entity, out, &any, &open, &settled, detail);
  d.Edges(entity, out, &any, /*totals=*/true, detail);
  *exists = any;
  if (!any) {
    *out = EntityCounts();
    return Status::Ok();
  }
  out->settled_events = settled;
  if (detail) {
    std::sort(open.begin(), open.end());
    out->open_events = std::move(open);
  }
  return Status::Ok();
}

void EvaluateTrade(const IndexState& s, uint32_t key, int64_t day, DateRule rule,
                   std::vector<TradeRow>* rows) {
  rows->clear();
  thread_local std::vector<ix::TradeFact> facts;
  thread_local EnumNames names;
  s.TradeFacts(key, &facts);
  auto [certain, possible] = Greatest(facts, day, rule);
  if (possible == nullptr) return;
  std::vector<EventMark> open;
  uint64_t settled = 0;
  for (const ix::TradeFact& f : facts) {
    if (f.e > day) continue;
    if (f.l <= day) {
      ++settled;
    } else {
      open.push_back({f.seq & ix::kSeqMask, Occurrence(f.e, f.l, day, rule)});
    }
  }
  std::sort(open.begin(), open.end());
  const IndexState::TradeKeyDef def = s.TradeKey(key);
  auto row = [&](const ix::TradeFact& f, Tri status) {
    TradeRow r;
    r.reporter = std::string(s.Slug(def.reporter));
    r.partner = std::string(s.Slug(def.partner));
    r.period = std::string(s.Name(def.period));
    r.flow = names.Flow(def.flow);
    r.currency = std::string(s.Name(f.currency));
    r.amount = f.amount;
    r.status = status;
    r.seq = f.seq & ix::kSeqMask;
    r.open_events = open;
    r.settled_events = settled;
    rows->push_back(std::move(r));
  };
  if (certain != nullptr) row(*certain, Tri::kYes);
  if (possible != certain) row(*possible, Tri::kMaybe);
}

}  // namespace twinline::projection_internal
