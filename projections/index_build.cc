// Building the temporal index (docs/INDEX.md §7): every event classified
// into compact facts as it is added, then keys sorted into row order, each
// edge's status evaluated at its candidate days, and each entity's
// breakpoints sorted and summed into prefix counts.
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "core/edtf.h"
#include "core/identity.h"
#include "projections/index.h"

namespace twinline::projection_internal {

using Which = schema::Payload::Which;
namespace ix = index;

namespace {

std::string_view View(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// Strings with dense ids in order of first appearance.
class Strings {
 public:
  uint32_t Intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(s);
    ids_.emplace(strings_.back(), id);
    return id;
  }
  std::optional<uint32_t> Find(std::string_view s) const {
    auto it = ids_.find(s);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const { return strings_.size(); }
  const std::string& operator[](uint32_t id) const { return strings_[id]; }
  // rank[id] = position in byte order.
  std::vector<uint32_t> Ranks() const {
    std::vector<uint32_t> order(strings_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](uint32_t x, uint32_t y) { return strings_[x] < strings_[y]; });
    std::vector<uint32_t> rank(order.size());
    for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
    return rank;
  }

 private:
  std::deque<std::string> strings_;  // stable addresses for the views in ids_
  std::unordered_map<std::string_view, uint32_t, StringHash, std::equal_to<>> ids_;
};

template <typename T>
std::string Pack(const std::vector<T>& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

struct U64Hash {
  size_t operator()(uint64_t x) const { return MixHash(x); }
};

}  // namespace

// --- Classification -----------------------------------------------------------

void ClassifyEvent(schema::Event::Reader ev, std::vector<FactRow>* facts,
                   std::vector<RegistrationRow>* registrations,
                   std::vector<CorrectionRow>* corrections) {
  auto payload = ev.getPayload();
  const uint64_t seq = ev.getSeq();
  auto fact = [&](schema::Payload::Reader p) {
    const Feeds f = Classify(p);
    FactRow row;
    row.seq = seq;
    row.e = ev.getValidTime().getEarliest();
    row.l = ev.getValidTime().getLatest();
    switch (f.kind) {
      case Feeds::Kind::kNothing:
        return;
      case Feeds::Kind::kEdge:
        row.type = FactRow::Type::kEdge;
        row.edge_kind = f.edge_kind;
        row.a = std::string(f.a);
        row.b = std::string(f.b);
        row.subkind = f.subkind;
        row.establish = f.establish;
        break;
      case Feeds::Kind::kCounters:
        row.type = FactRow::Type::kCounters;
        for (const auto& entry : f.counters) {
          // Not a structured binding: clang 14 cannot capture one in a lambda.
          const auto& entity = entry.first;
          const auto counter = entry.second;
          const uint8_t bit = static_cast<uint8_t>(1u << static_cast<int>(counter));
          auto it = std::find_if(row.counters.begin(), row.counters.end(),
                                 [&](const auto& c) { return c.first == entity; });
          if (it == row.counters.end()) {
            row.counters.emplace_back(std::string(entity), bit);
          } else {
            it->second |= bit;
          }
        }
        break;
      case Feeds::Kind::kReport:
        row.type = FactRow::Type::kReport;
        row.a = std::string(f.entity);
        row.b = std::string(f.scope);
        row.s1 = std::string(f.metric);
        row.s2 = std::string(View(ev.getValidTime().getEdtf()));
        row.value = f.value;
        row.subkind = f.qualifier;
        break;
      case Feeds::Kind::kTrade:
        row.type = FactRow::Type::kTrade;
        row.a = std::string(f.entity);
        row.b = std::string(f.partner);
        row.s1 = std::string(f.period);
        row.s2 = std::string(f.currency);
        row.value = f.value;
        row.subkind = f.flow;
        break;
    }
    facts->push_back(std::move(row));
  };
  switch (payload.which()) {
    case Which::ENTITY_REGISTERED: {
      auto reg = payload.getEntityRegistered();
      registrations->push_back({std::string(View(reg.getEntity())), "", seq,
                                std::string(View(reg.getCountry()))});
      return;
    }
    case Which::RETRACTION:
      corrections->push_back({std::string(View(payload.getRetraction().getTarget())), seq, false});
      return;
    case Which::AMENDMENT: {
      auto amendment = payload.getAmendment();
      corrections->push_back({std::string(View(amendment.getTarget())), seq, true});
      auto replacement = amendment.getReplacement();
      if (replacement.which() == Which::ENTITY_REGISTERED) {
        auto reg = replacement.getEntityRegistered();
        registrations->push_back({std::string(View(reg.getEntity())),
                                  std::string(View(amendment.getTarget())), seq,
                                  std::string(View(reg.getCountry()))});
        return;
      }
      fact(replacement);
      return;
    }
    case Which::CORROBORATION:
      return;
    default:
      fact(payload);
      return;
  }
}

// --- The builder ----------------------------------------------------------------

struct IndexBuilder::Impl {
  struct EdgeKeyHash {
    size_t operator()(const EdgeKey& k) const { return MixHash(k.Hash()); }
  };
  struct ReportKeyHash {
    size_t operator()(const projection_internal::ReportKey& k) const { return MixHash(k.Hash()); }
  };
  struct TradeKeyHash {
    size_t operator()(const projection_internal::TradeKey& k) const { return MixHash(k.Hash()); }
  };
  struct RawFact {  // a fact of one key: the key's id, then index::Fact
    uint32_t key;
    ix::Fact fact;
  };
  struct RawReport {
    uint32_t key;
    ix::ReportFact fact;
  };
  struct RawTrade {
    uint32_t key;
    ix::TradeFact fact;
  };
  struct RawRegistration {
    uint32_t slug;         // the slug it registers
    uint64_t seq;
    uint32_t country;      // name id, or kNone
    std::string target;    // the id an amendment amends
  };

  Strings entities, names;
  std::unordered_map<EdgeKey, uint32_t, EdgeKeyHash> edge_ids;
  std::vector<EdgeKey> edge_keys;
  std::unordered_map<projection_internal::ReportKey, uint32_t, ReportKeyHash> report_ids;
  std::vector<projection_internal::ReportKey> report_keys;
  std::unordered_map<projection_internal::TradeKey, uint32_t, TradeKeyHash> trade_ids;
  std::vector<projection_internal::TradeKey> trade_keys;

  std::vector<RawFact> edge_facts;     // key: edge id
  std::vector<RawFact> counter_facts;  // key: entity id
  std::vector<RawReport> report_facts;
  std::vector<RawTrade> trade_facts;
  std::vector<RawRegistration> registrations;
  std::vector<CorrectionRow> corrections;
  std::vector<std::pair<uint64_t, std::string>> ids;  // (seq, id), any order

  uint32_t Entity(std::string_view slug) { return entities.Intern(slug); }

  void AddFact(schema::Event::Reader ev, schema::Payload::Reader p, uint64_t seq) {
    const Feeds f = Classify(p);
    const int64_t e = ev.getValidTime().getEarliest(), l = ev.getValidTime().getLatest();
    switch (f.kind) {
      case Feeds::Kind::kNothing:
        return;
      case Feeds::Kind::kEdge: {
        EdgeKey key{Entity(f.a), Entity(f.b), f.subkind, f.edge_kind};
        auto [it, added] = edge_ids.try_emplace(key, static_cast<uint32_t>(edge_keys.size()));
        if (added) edge_keys.push_back(key);
        edge_facts.push_back({it->second, {seq | (f.establish ? ix::kEstablish : 0), e, l}});
        return;
      }
      case Feeds::Kind::kCounters: {
        // One fact per entity, with the mask of the counters it feeds there.
        const size_t first = counter_facts.size();
        for (const auto& [slug, counter] : f.counters) {
          const uint32_t entity = Entity(slug);
          const uint64_t bit = uint64_t{1} << (ix::kCounterShift + static_cast<int>(counter));
          bool merged = false;
          for (size_t i = first; i < counter_facts.size(); ++i) {
            if (counter_facts[i].key == entity) {
              counter_facts[i].fact.seq |= bit;
              merged = true;
            }
          }
          if (!merged) counter_facts.push_back({entity, {seq | bit, e, l}});
        }
        return;
      }
      case Feeds::Kind::kReport: {
        projection_internal::ReportKey key{Entity(f.entity), names.Intern(f.metric),
                                           f.scope.empty() ? kNoEntity : Entity(f.scope)};
        auto [it, added] = report_ids.try_emplace(key, static_cast<uint32_t>(report_keys.size()));
        if (added) report_keys.push_back(key);
        ix::ReportFact fact{};
        fact.seq = seq;
        fact.e = e;
        fact.l = l;
        fact.value = f.value;
        fact.date = names.Intern(View(ev.getValidTime().getEdtf()));
        fact.qualifier = f.qualifier;
        report_facts.push_back({it->second, fact});
        return;
      }
      case Feeds::Kind::kTrade: {
        projection_internal::TradeKey key{Entity(f.entity), Entity(f.partner),
                                          names.Intern(f.period), f.flow};
        auto [it, added] = trade_ids.try_emplace(key, static_cast<uint32_t>(trade_keys.size()));
        if (added) trade_keys.push_back(key);
        ix::TradeFact fact{};
        fact.seq = seq;
        fact.e = e;
        fact.l = l;
        fact.amount = f.value;
        fact.currency = names.Intern(f.currency);
        trade_facts.push_back({it->second, fact});
        return;
      }
    }
  }

  void Add(schema::Event::Reader ev) {
    const uint64_t seq = ev.getSeq();
    ids.emplace_back(seq, std::string(View(ev.getId())));
    auto payload = ev.getPayload();
    switch (payload.which()) {
      case Which::ENTITY_REGISTERED: {
        auto reg = payload.getEntityRegistered();
        registrations.push_back({Entity(View(reg.getEntity())), seq, CountryName(reg), ""});
        return;
      }
      case Which::RETRACTION:
        corrections.push_back({std::string(View(payload.getRetraction().getTarget())), seq, false});
        return;
      case Which::AMENDMENT: {
        auto amendment = payload.getAmendment();
        corrections.push_back({std::string(View(amendment.getTarget())), seq, true});
        auto replacement = amendment.getReplacement();
        if (replacement.which() == Which::ENTITY_REGISTERED) {
          auto reg = replacement.getEntityRegistered();
          registrations.push_back({Entity(View(reg.getEntity())), seq, CountryName(reg),
                                   std::string(View(amendment.getTarget()))});
          return;
        }
        AddFact(ev, replacement, seq);
        return;
      }
      case Which::CORROBORATION:
        return;
      default:
        AddFact(ev, payload, seq);
        return;
    }
  }

  uint32_t CountryName(schema::EntityRegistered::Reader reg) {
    return reg.getCountry().size() == 0 ? ix::kNone : names.Intern(View(reg.getCountry()));
  }

  Status Finish(const ReadTxn& txn, uint64_t base_seq, IndexSections* out);
};

IndexBuilder::IndexBuilder() : impl_(std::make_unique<Impl>()) {}
IndexBuilder::~IndexBuilder() = default;
void IndexBuilder::Add(schema::Event::Reader ev) { impl_->Add(ev); }
Status IndexBuilder::Finish(const ReadTxn& txn, uint64_t base_seq, IndexSections* out) {
  return impl_->Finish(txn, base_seq, out);
}

namespace {

// The status lanes of an edge with `events` at `day` (docs/INDEX.md §2):
// certain and possible under the range rule, earliest, latest.
std::array<int, ix::kLanes> EdgeLanes(std::span<const EdgeEvent> events, int64_t day) {
  const PrefixStatus none;
  const Tri range = EdgeStatusRange(none, events, day);
  return {range == Tri::kYes ? 1 : 0, range != Tri::kNo ? 1 : 0,
          EdgeActivePlaced(none, events, day, DateRule::kEarliest) ? 1 : 0,
          EdgeActivePlaced(none, events, day, DateRule::kLatest) ? 1 : 0};
}

}  // namespace

// Every day on which an edge's status may change (docs/INDEX.md §2), and
// its lanes from there on: (day, lanes) for each day where they change,
// starting from all zero (no event yet).
void EdgeStepFunction(std::span<const EdgeEvent> events,
                      std::vector<std::pair<int64_t, std::array<int, ix::kLanes>>>* steps) {
  steps->clear();
  std::vector<int64_t> days;
  days.reserve(events.size() * 4);
  for (const EdgeEvent& x : events) {
    for (int64_t c : {x.at.e, x.at.l}) {
      days.push_back(c);
      if (c != kUnboundedEnd) days.push_back(c + 1);
    }
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  std::array<int, ix::kLanes> current{};
  for (int64_t day : days) {
    if (day == kUnboundedEnd) continue;  // no query day is beyond every day
    const auto lanes = EdgeLanes(events, day);
    if (lanes != current) {
      steps->emplace_back(day, lanes);
      current = lanes;
    }
  }
}

Status IndexBuilder::Impl::Finish(const ReadTxn& txn, uint64_t base_seq, IndexSections* out) {
  out->clear();
  // 1. Corrections: each target's first retraction or amendment.
  std::vector<ix::Correction> corr;
  std::unordered_map<uint64_t, std::pair<uint64_t, uint64_t>, U64Hash> reg_corr;  // seq -> (amended, retracted)
  for (const CorrectionRow& c : corrections) {
    uint64_t target = 0;
    Status st = txn.FindById(c.target, &target);
    if (!st.ok() || target >= c.seq) {
      return Status::Corruption("seq " + std::to_string(c.seq) + ": corrects '" + c.target +
                                "', which the log does not hold before it");
    }
    corr.push_back({target, c.seq});
    auto& [amended, retracted] = reg_corr.try_emplace(target, ix::kNever, ix::kNever).first->second;
    (c.amendment ? amended : retracted) = std::min(c.amendment ? amended : retracted, c.seq);
  }
  std::sort(corr.begin(), corr.end(), [](const auto& x, const auto& y) {
    return std::tie(x.seq, x.corrected_at) < std::tie(y.seq, y.corrected_at);
  });
  corr.erase(std::unique(corr.begin(), corr.end(),
                         [](const auto& x, const auto& y) { return x.seq == y.seq; }),
             corr.end());
  auto corrected = [&](uint64_t seq) {
    auto it = std::lower_bound(corr.begin(), corr.end(), seq,
                               [](const ix::Correction& c, uint64_t s) { return c.seq < s; });
    return it != corr.end() && it->seq == seq;
  };
  auto flag = [&](uint64_t* seq_flags) {
    if (corrected(*seq_flags & ix::kSeqMask)) *seq_flags |= ix::kCorrected;
  };
  for (RawFact& f : edge_facts) flag(&f.fact.seq);
  for (RawFact& f : counter_facts) flag(&f.fact.seq);
  for (RawReport& f : report_facts) flag(&f.fact.seq);
  for (RawTrade& f : trade_facts) flag(&f.fact.seq);

  // 2. Ids in slug order (entities) and byte order (names).
  const std::vector<uint32_t> erank = entities.Ranks();
  const std::vector<uint32_t> nrank = names.Ranks();
  const uint32_t ne = static_cast<uint32_t>(entities.size());
  auto ename = [&](uint32_t rank_of) { return rank_of; };
  (void)ename;
  {
    std::vector<uint32_t> off(ne + 1, 0), by_rank(ne);
    for (uint32_t id = 0; id < ne; ++id) by_rank[erank[id]] = id;
    std::string chr;
    for (uint32_t r = 0; r < ne; ++r) {
      chr += entities[by_rank[r]];
      off[r + 1] = static_cast<uint32_t>(chr.size());
    }
    (*out)[ix::kSlugOff] = Pack(off);
    (*out)[ix::kSlugChr] = std::move(chr);
  }
  {
    const uint32_t nn = static_cast<uint32_t>(names.size());
    std::vector<uint32_t> off(nn + 1, 0), by_rank(nn);
    for (uint32_t id = 0; id < nn; ++id) by_rank[nrank[id]] = id;
    std::string chr;
    for (uint32_t r = 0; r < nn; ++r) {
      chr += names[by_rank[r]];
      off[r + 1] = static_cast<uint32_t>(chr.size());
    }
    (*out)[ix::kNameOff] = Pack(off);
    (*out)[ix::kNameChr] = std::move(chr);
  }
  auto N = [&](uint32_t name) { return name == ix::kNone ? ix::kNone : nrank[name]; };

  // 3. Registrations: per entity, the chain from its first registration
  //    through the amendments that follow it, and its country at B.
  std::vector<ix::Registration> reg;
  std::vector<uint32_t> reg_off(ne + 1, 0);
  std::vector<uint32_t> country(ne, ix::kNone);
  {
    std::unordered_map<uint64_t, const RawRegistration*, U64Hash> by_seq;
    std::vector<const RawRegistration*> first(ne, nullptr);
    for (const RawRegistration& r : registrations) {
      by_seq[r.seq] = &r;
      if (r.target.empty() && (first[erank[r.slug]] == nullptr || r.seq < first[erank[r.slug]]->seq)) {
        first[erank[r.slug]] = &r;
      }
    }
    for (uint32_t e = 0; e < ne; ++e) {
      for (const RawRegistration* r = first[e]; r != nullptr;) {
        auto c = reg_corr.find(r->seq);
        const uint64_t amended = c == reg_corr.end() ? ix::kNever : c->second.first;
        const uint64_t retracted = c == reg_corr.end() ? ix::kNever : c->second.second;
        ix::Registration v{};
        v.seq = r->seq;
        v.amended_by = amended;
        v.retracted_by = retracted;
        v.country = erank[r->slug] == e ? N(r->country) : ix::kNone;
        reg.push_back(v);
        if (amended == ix::kNever) break;
        auto next = by_seq.find(amended);
        r = next == by_seq.end() ? nullptr : next->second;
      }
      reg_off[e + 1] = static_cast<uint32_t>(reg.size());
      // The country in effect at B: the last version, unless retracted.
      if (reg_off[e + 1] > reg_off[e]) {
        const ix::Registration& last = reg[reg_off[e + 1] - 1];
        if (last.amended_by == ix::kNever && last.retracted_by == ix::kNever) country[e] = last.country;
      }
    }
  }
  (*out)[ix::kEntRegOff] = Pack(reg_off);
  (*out)[ix::kEntReg] = Pack(reg);
  (*out)[ix::kEntCountry] = Pack(country);

  // 4. Edges in row order, each with its facts by seq.
  const uint32_t ng = static_cast<uint32_t>(edge_keys.size());
  std::vector<uint32_t> edge_order(ng);
  std::iota(edge_order.begin(), edge_order.end(), 0);
  EnumNames enum_names;
  std::sort(edge_order.begin(), edge_order.end(), [&](uint32_t x, uint32_t y) {
    const EdgeKey& p = edge_keys[x];
    const EdgeKey& q = edge_keys[y];
    const auto pk = std::tuple(p.kind, erank[p.a], erank[p.b]);
    const auto qk = std::tuple(q.kind, erank[q.a], erank[q.b]);
    if (pk != qk) return pk < qk;
    return enum_names.Subkind(p.kind, p.subkind) < enum_names.Subkind(q.kind, q.subkind);
  });
  std::vector<uint32_t> edge_rank(ng);
  for (uint32_t r = 0; r < ng; ++r) edge_rank[edge_order[r]] = r;
  std::sort(edge_facts.begin(), edge_facts.end(), [&](const RawFact& x, const RawFact& y) {
    return std::tuple(edge_rank[x.key], x.fact.seq & ix::kSeqMask) <
           std::tuple(edge_rank[y.key], y.fact.seq & ix::kSeqMask);
  });
  std::vector<ix::Edge> edges(ng);
  std::vector<ix::Fact> efacts(edge_facts.size());
  {
    size_t i = 0;
    for (uint32_t r = 0; r < ng; ++r) {
      const EdgeKey& k = edge_keys[edge_order[r]];
      edges[r] = {erank[k.a], erank[k.b], static_cast<uint8_t>(k.kind), 0, k.subkind,
                  static_cast<uint32_t>(i)};
      while (i < edge_facts.size() && edge_rank[edge_facts[i].key] == r) {
        efacts[i] = edge_facts[i].fact;
        ++i;
      }
    }
  }
  edge_facts.clear();
  edge_facts.shrink_to_fit();
  // Incident edges per entity.
  std::vector<uint32_t> inc_off(ne + 1, 0), inc;
  for (const ix::Edge& g : edges) {
    ++inc_off[g.a + 1];
    ++inc_off[g.b + 1];
  }
  for (uint32_t e = 0; e < ne; ++e) inc_off[e + 1] += inc_off[e];
  inc.resize(inc_off[ne]);
  {
    std::vector<uint32_t> fill(inc_off.begin(), inc_off.end() - 1);
    for (uint32_t r = 0; r < ng; ++r) {
      inc[fill[edges[r].a]++] = r;
      inc[fill[edges[r].b]++] = r;
    }
  }

  // 5. Counter facts per entity, by seq.
  for (RawFact& f : counter_facts) f.key = erank[f.key];
  std::sort(counter_facts.begin(), counter_facts.end(), [](const RawFact& x, const RawFact& y) {
    return std::tuple(x.key, x.fact.seq & ix::kSeqMask) < std::tuple(y.key, y.fact.seq & ix::kSeqMask);
  });
  std::vector<uint32_t> cf_off(ne + 1, 0);
  std::vector<ix::Fact> cfacts(counter_facts.size());
  for (size_t i = 0; i < counter_facts.size(); ++i) {
    ++cf_off[counter_facts[i].key + 1];
    cfacts[i] = counter_facts[i].fact;
  }
  for (uint32_t e = 0; e < ne; ++e) cf_off[e + 1] += cf_off[e];
  counter_facts.clear();
  counter_facts.shrink_to_fit();

  // 6. Report keys by (entity, metric, scope; no scope first), facts by seq.
  const uint32_t nr = static_cast<uint32_t>(report_keys.size());
  std::vector<uint32_t> rk_order(nr);
  std::iota(rk_order.begin(), rk_order.end(), 0);
  auto scope_rank = [&](uint32_t scope) {
    return scope == kNoEntity ? int64_t{-1} : int64_t{erank[scope]};
  };
  std::sort(rk_order.begin(), rk_order.end(), [&](uint32_t x, uint32_t y) {
    const auto& p = report_keys[x];
    const auto& q = report_keys[y];
    return std::tuple(erank[p.entity], nrank[p.metric], scope_rank(p.scope)) <
           std::tuple(erank[q.entity], nrank[q.metric], scope_rank(q.scope));
  });
  std::vector<uint32_t> rk_rank(nr);
  for (uint32_t r = 0; r < nr; ++r) rk_rank[rk_order[r]] = r;
  std::sort(report_facts.begin(), report_facts.end(), [&](const RawReport& x, const RawReport& y) {
    return std::tuple(rk_rank[x.key], x.fact.seq & ix::kSeqMask) <
           std::tuple(rk_rank[y.key], y.fact.seq & ix::kSeqMask);
  });
  std::vector<ix::ReportKey> rks(nr);
  std::vector<ix::ReportFact> rfacts(report_facts.size());
  std::vector<uint32_t> ent_rk_off(ne + 1, 0);
  {
    size_t i = 0;
    for (uint32_t r = 0; r < nr; ++r) {
      const auto& k = report_keys[rk_order[r]];
      rks[r] = {erank[k.entity], nrank[k.metric], k.scope == kNoEntity ? ix::kNone : erank[k.scope],
                static_cast<uint32_t>(i)};
      ++ent_rk_off[erank[k.entity] + 1];
      while (i < report_facts.size() && rk_rank[report_facts[i].key] == r) {
        rfacts[i] = report_facts[i].fact;
        rfacts[i].date = nrank[rfacts[i].date];
        ++i;
      }
    }
    for (uint32_t e = 0; e < ne; ++e) ent_rk_off[e + 1] += ent_rk_off[e];
  }
  report_facts.clear();
  report_facts.shrink_to_fit();

  // 7. Trade keys by (reporter, partner, period, flow name), facts by seq.
  const uint32_t nt = static_cast<uint32_t>(trade_keys.size());
  std::vector<uint32_t> tk_order(nt);
  std::iota(tk_order.begin(), tk_order.end(), 0);
  std::sort(tk_order.begin(), tk_order.end(), [&](uint32_t x, uint32_t y) {
    const auto& p = trade_keys[x];
    const auto& q = trade_keys[y];
    const auto pk = std::tuple(erank[p.reporter], erank[p.partner], nrank[p.period]);
    const auto qk = std::tuple(erank[q.reporter], erank[q.partner], nrank[q.period]);
    if (pk != qk) return pk < qk;
    return enum_names.Flow(p.flow) < enum_names.Flow(q.flow);
  });
  std::vector<uint32_t> tk_rank(nt);
  for (uint32_t r = 0; r < nt; ++r) tk_rank[tk_order[r]] = r;
  std::sort(trade_facts.begin(), trade_facts.end(), [&](const RawTrade& x, const RawTrade& y) {
    return std::tuple(tk_rank[x.key], x.fact.seq & ix::kSeqMask) <
           std::tuple(tk_rank[y.key], y.fact.seq & ix::kSeqMask);
  });
  std::vector<ix::TradeKey> tks(nt);
  std::vector<ix::TradeFact> tfacts(trade_facts.size());
  {
    size_t i = 0;
    for (uint32_t r = 0; r < nt; ++r) {
      const auto& k = trade_keys[tk_order[r]];
      tks[r] = {};
      tks[r].reporter = erank[k.reporter];
      tks[r].partner = erank[k.partner];
      tks[r].period = nrank[k.period];
      tks[r].flow = k.flow;
      tks[r].fact_begin = static_cast<uint32_t>(i);
      while (i < trade_facts.size() && tk_rank[trade_facts[i].key] == r) {
        tfacts[i] = trade_facts[i].fact;
        tfacts[i].currency = nrank[tfacts[i].currency];
        ++i;
      }
    }
  }
  trade_facts.clear();
  trade_facts.shrink_to_fit();

  // 8. Open facts (e < l, not corrected) and breakpoints, per entity.
  struct Point {
    uint32_t entity;
    int64_t day;
    uint16_t code;
  };
  std::vector<Point> points;
  std::vector<std::pair<uint32_t, ix::Fact>> open;
  auto live = [](uint64_t seq_flags) { return (seq_flags & ix::kCorrected) == 0; };
  for (uint32_t e = 0; e < ne; ++e) {
    for (uint32_t i = cf_off[e]; i < cf_off[e + 1]; ++i) {
      const ix::Fact& f = cfacts[i];
      if (!live(f.seq)) continue;
      if (f.e < f.l) open.emplace_back(e, f);
      bool settled_marked = false;
      for (int c = 0; c < kNumCounters; ++c) {
        if (!((f.seq >> (ix::kCounterShift + c)) & 1)) continue;
        const int m = ix::kMeasureCounter0 + c;
        if (f.e == f.l) {
          points.push_back({e, f.e, ix::Code(m, {1, 1, 1, 1}, !settled_marked)});
        } else {
          points.push_back({e, f.e, ix::Code(m, {0, 1, 1, 0}, false)});
          if (f.l != kUnboundedEnd) points.push_back({e, f.l, ix::Code(m, {1, 0, 0, 1}, !settled_marked)});
        }
        settled_marked = true;
      }
    }
  }
  for (const ix::ReportKey& k : rks) {
    const uint32_t r = static_cast<uint32_t>(&k - rks.data());
    const uint32_t end = r + 1 < nr ? rks[r + 1].fact_begin : static_cast<uint32_t>(rfacts.size());
    for (uint32_t i = k.fact_begin; i < end; ++i) {
      const ix::ReportFact& f = rfacts[i];
      if (!live(f.seq)) continue;
      if (f.e < f.l) open.emplace_back(k.entity, ix::Fact{f.seq, f.e, f.l});
      points.push_back({k.entity, f.e, ix::Code(ix::kMeasureReports, {1, 1, 1, 1}, f.e == f.l)});
      if (f.e != f.l && f.l != kUnboundedEnd) {
        points.push_back({k.entity, f.l, ix::Code(ix::kMeasureReports, {0, 0, 0, 0}, true)});
      }
    }
  }
  {
    std::vector<EdgeEvent> events;
    std::vector<std::pair<int64_t, std::array<int, ix::kLanes>>> steps;
    for (uint32_t r = 0; r < ng; ++r) {
      const uint32_t end = r + 1 < ng ? edges[r + 1].fact_begin : static_cast<uint32_t>(efacts.size());
      events.clear();
      for (uint32_t i = edges[r].fact_begin; i < end; ++i) {
        const ix::Fact& f = efacts[i];
        if (!live(f.seq)) continue;
        events.push_back({{f.seq & ix::kSeqMask, f.e, f.l}, r, (f.seq & ix::kEstablish) != 0});
      }
      if (events.empty()) continue;
      EdgeStepFunction(events, &steps);
      const int m = edges[r].kind == static_cast<uint8_t>(EdgeRow::Kind::kRoute)
                        ? ix::kMeasureRoutes
                        : ix::kMeasurePartnerships;
      std::array<int, ix::kLanes> before{};
      for (const auto& [day, lanes] : steps) {
        int d[ix::kLanes];
        for (int i = 0; i < ix::kLanes; ++i) d[i] = lanes[i] - before[i];
        const uint16_t code = ix::Code(m, d, false);
        points.push_back({edges[r].a, day, code});
        points.push_back({edges[r].b, day, code});
        before = lanes;
      }
    }
  }
  std::sort(open.begin(), open.end(), [](const auto& x, const auto& y) {
    return std::tuple(x.first, x.second.e, x.second.seq & ix::kSeqMask) <
           std::tuple(y.first, y.second.e, y.second.seq & ix::kSeqMask);
  });
  std::vector<uint32_t> open_off(ne + 1, 0);
  std::vector<ix::Fact> open_facts(open.size());
  for (size_t i = 0; i < open.size(); ++i) {
    ++open_off[open[i].first + 1];
    open_facts[i] = open[i].second;
  }
  for (uint32_t e = 0; e < ne; ++e) open_off[e + 1] += open_off[e];
  open.clear();
  open.shrink_to_fit();

  std::stable_sort(points.begin(), points.end(), [](const Point& x, const Point& y) {
    return std::tie(x.entity, x.day) < std::tie(y.entity, y.day);
  });
  std::vector<uint32_t> pc_off(ne + 1, 0), snap_off(ne + 1, 0);
  std::vector<int64_t> pc_day(points.size());
  std::vector<uint16_t> pc_code(points.size());
  std::vector<ix::Snapshot> snaps;
  {
    size_t i = 0;
    for (uint32_t e = 0; e < ne; ++e) {
      ix::Snapshot sum{};
      int64_t lanes[ix::kMeasures][ix::kLanes] = {};
      int64_t settled = 0;
      size_t n = 0;
      while (i < points.size() && points[i].entity == e) {
        if (n > 0 && n % ix::kSnapshotEvery == 0) {
          for (int m = 0; m < ix::kMeasures; ++m)
            for (int l = 0; l < ix::kLanes; ++l) sum.v[m][l] = static_cast<uint32_t>(lanes[m][l]);
          sum.settled = static_cast<uint32_t>(settled);
          snaps.push_back(sum);
        }
        pc_day[i] = points[i].day;
        pc_code[i] = points[i].code;
        const int m = ix::CodeMeasure(points[i].code);
        for (int l = 0; l < ix::kLanes; ++l) lanes[m][l] += ix::CodeLane(points[i].code, l);
        settled += ix::CodeSettled(points[i].code) ? 1 : 0;
        ++i;
        ++n;
      }
      pc_off[e + 1] = static_cast<uint32_t>(i);
      snap_off[e + 1] = static_cast<uint32_t>(snaps.size());
    }
  }
  points.clear();
  points.shrink_to_fit();

  // 9. Event ids by seq.
  std::sort(ids.begin(), ids.end());
  std::vector<uint64_t> id_off(base_seq + 1, 0);
  std::string id_chr;
  {
    size_t i = 0;
    for (uint64_t seq = 1; seq <= base_seq; ++seq) {
      if (i < ids.size() && ids[i].first == seq) {
        id_chr += ids[i].second;
        ++i;
      }
      id_off[seq] = id_chr.size();
    }
  }
  ids.clear();

  ix::Header h{};
  std::memcpy(h.magic, ix::kMagic, sizeof h.magic);
  h.format = ix::kIndexFormat;
  h.byte_order = 0x01020304;
  h.base_seq = base_seq;
  Digest chain{};
  TWINLINE_RETURN_IF_ERROR(txn.ChainHash(base_seq, &chain));
  std::memcpy(h.chain, chain.data(), sizeof h.chain);
  h.entities = ne;
  h.names = names.size();
  h.edges = ng;
  h.edge_facts = efacts.size();
  h.counter_facts = cfacts.size();
  h.report_keys = nr;
  h.report_facts = rfacts.size();
  h.trade_keys = nt;
  h.trade_facts = tfacts.size();
  h.corrections = corr.size();
  h.breakpoints = pc_day.size();
  h.snapshots = snaps.size();
  (*out)[ix::kHeader] = std::string(reinterpret_cast<const char*>(&h), sizeof h);
  (*out)[ix::kEdge] = Pack(edges);
  (*out)[ix::kEdgeFact] = Pack(efacts);
  (*out)[ix::kEntEdgeOff] = Pack(inc_off);
  (*out)[ix::kEntEdge] = Pack(inc);
  (*out)[ix::kEntCfOff] = Pack(cf_off);
  (*out)[ix::kEntCf] = Pack(cfacts);
  (*out)[ix::kEntOpenOff] = Pack(open_off);
  (*out)[ix::kEntOpen] = Pack(open_facts);
  (*out)[ix::kRk] = Pack(rks);
  (*out)[ix::kRkFact] = Pack(rfacts);
  (*out)[ix::kEntRkOff] = Pack(ent_rk_off);
  (*out)[ix::kTk] = Pack(tks);
  (*out)[ix::kTkFact] = Pack(tfacts);
  (*out)[ix::kCorr] = Pack(corr);
  (*out)[ix::kPcOff] = Pack(pc_off);
  (*out)[ix::kPcDay] = Pack(pc_day);
  (*out)[ix::kPcCode] = Pack(pc_code);
  (*out)[ix::kPcSnapOff] = Pack(snap_off);
  (*out)[ix::kPcSnap] = Pack(snaps);
  (*out)[ix::kIdOff] = Pack(id_off);
  (*out)[ix::kIdChr] = std::move(id_chr);
  return Status::Ok();
}

Status BuildIndexFromLog(const ReadTxn& txn, uint64_t last, IndexSections* out) {
  IndexBuilder builder;
  MappedPageBudget pages(txn);
  Status inner;
  TWINLINE_RETURN_IF_ERROR(txn.Scan(1, last, [&](schema::Event::Reader ev) {
    pages.Visited();
    builder.Add(ev);
    return true;
  }));
  return builder.Finish(txn, last, out);
}

Status StoreIndex(DerivedWriteTxn& txn, const IndexSections& sections) {
  TWINLINE_RETURN_IF_ERROR(txn.ClearDerived());
  for (const auto& [name, bytes] : sections) {
    char* data = nullptr;
    TWINLINE_RETURN_IF_ERROR(txn.ReserveDerived(name, bytes.size(), &data));
    if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
  }
  return Status::Ok();
}

}  // namespace twinline::projection_internal
