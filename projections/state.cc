// What an effective fact feeds (Classify), inserting facts into the
// projection state, and compacting it (docs/PROJECTIONS.md §5; the model and
// the layout are at the top of state.h).
#include "projections/state.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>
#include <type_traits>

#include "core/edtf.h"
#include "core/kinds.h"

namespace twinline::projection_internal {

using Which = schema::Payload::Which;

uint64_t MixHash(uint64_t x) {  // SplitMix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint32_t Interner::Intern(std::string_view s) {
  if (2 * (strings_.size() + 1) > slots_.size()) Grow();
  const uint64_t hash = HashOf(s);
  const uint64_t tag = hash >> 32 << 32;
  const size_t mask = slots_.size() - 1;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const uint64_t word = slots_[slot];
    if (word == 0) {
      const auto id = static_cast<uint32_t>(strings_.size());
      strings_.emplace_back(s);
      slots_[slot] = tag | (uint64_t{id} + 1);
      return id;
    }
    if ((word & ~uint64_t{0xffffffff}) == tag) {
      const auto id = static_cast<uint32_t>((word & 0xffffffff) - 1);
      if (strings_[id] == s) return id;
    }
  }
}

void Interner::Grow() {
  slots_.assign(std::max<size_t>(64, 2 * slots_.size()), 0);
  const size_t mask = slots_.size() - 1;
  for (uint32_t id = 0; id < strings_.size(); ++id) {
    const uint64_t hash = HashOf(strings_[id]);
    size_t slot = hash & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = (hash >> 32 << 32) | (uint64_t{id} + 1);
  }
}

std::vector<uint32_t> Interner::Ranks() const {
  std::vector<uint32_t> by_text(strings_.size());
  for (uint32_t i = 0; i < by_text.size(); ++i) by_text[i] = i;
  std::sort(by_text.begin(), by_text.end(),
            [&](uint32_t x, uint32_t y) { return strings_[x] < strings_[y]; });
  std::vector<uint32_t> rank(by_text.size());
  for (uint32_t r = 0; r < by_text.size(); ++r) rank[by_text[r]] = r;
  return rank;
}

namespace {

std::string_view View(capnp::Text::Reader text) { return {text.cStr(), text.size()}; }

}  // namespace

namespace {

// The Counter a kind table's counter name stands for (FieldSpec::counter);
// tests hold every counted field to one (ReplayTest).
constexpr std::pair<std::string_view, Counter> kCounterNames[] = {
    {"forums", Counter::kForums},
    {"agreements", Counter::kAgreements},
    {"offices", Counter::kOffices},
    {"offices_hosted", Counter::kOfficesHosted},
    {"organisations", Counter::kOrganisations},
    {"awards", Counter::kAwards},
    {"initiatives", Counter::kInitiatives},
};
static_assert(std::size(kCounterNames) == kNumCounters);

}  // namespace

std::optional<Counter> CounterNamed(std::string_view name) {
  for (const auto& [counter_name, counter] : kCounterNames) {
    if (counter_name == name) return counter;
  }
  return std::nullopt;
}

// Reads the kind table (core/kinds.h): the kind's Feed says what the fact
// feeds, its fields' roles where each part of the key and the value is.
Feeds Classify(schema::Payload::Reader p) {
  Feeds f;
  const KindSpec* kind = FindKind(p.which());
  if (kind == nullptr) return f;  // a member of a newer schema: nothing this build projects
  switch (kind->feed) {
    case Feed::kNothing:
      return f;  // registrations and references carry no projected state
    case Feed::kPartnershipEdge:
    case Feed::kRouteEdge:
      f.kind = Feeds::Kind::kEdge;
      f.edge_kind =
          kind->feed == Feed::kRouteEdge ? EdgeRow::Kind::kRoute : EdgeRow::Kind::kPartnership;
      f.establish = kind->establishes;
      break;
    case Feed::kCounters:
      f.kind = Feeds::Kind::kCounters;
      break;
    case Feed::kReport:
      f.kind = Feeds::Kind::kReport;
      break;
    case Feed::kTrade:
      f.kind = Feeds::Kind::kTrade;
      break;
  }
  const capnp::AnyStruct::Reader s = kind->get(p);
  for (const FieldSpec& field : kind->fields) {
    switch (field.role) {
      case Role::kNone:
        break;
      case Role::kEdgeFrom:
        f.a = View(field.access.text(s));
        break;
      case Role::kEdgeTo:
        f.b = View(field.access.text(s));
        break;
      case Role::kSubkind:
        f.subkind = field.access.enum_value(s);
        break;
      case Role::kCounted: {
        const std::optional<Counter> counter = CounterNamed(field.counter);
        if (!counter) break;  // a table row without its Counter: ReplayTest fails on it
        if (field.type != FieldType::kEntityList) {
          f.counters.emplace_back(View(field.access.text(s)), *counter);
          break;
        }
        // A list (agreement parties) is stored sorted and distinct
        // (identity.h); a repeated entity is still counted once.
        const size_t first = f.counters.size();
        for (auto entity : field.access.list(s)) f.counters.emplace_back(View(entity), *counter);
        std::sort(f.counters.begin() + first, f.counters.end());
        f.counters.erase(std::unique(f.counters.begin() + first, f.counters.end()),
                         f.counters.end());
        break;
      }
      case Role::kReporter:
        f.entity = View(field.access.text(s));
        break;
      case Role::kCounterpart:
        (kind->feed == Feed::kTrade ? f.partner : f.scope) = View(field.access.text(s));
        break;
      case Role::kMetric:
        f.metric = View(field.access.text(s));
        break;
      case Role::kFigure:
        f.value = field.access.number(s);
        break;
      case Role::kQualifier:
        f.qualifier = field.access.enum_value(s);
        break;
      case Role::kPeriod:
        f.period = View(field.access.text(s));
        break;
      case Role::kCurrency:
        f.currency = View(field.access.text(s));
        break;
      case Role::kFlow:
        f.flow = field.access.enum_value(s);
        break;
    }
  }
  return f;
}

RowSets RowsFed(Which which) {
  const KindSpec* kind = FindKind(which);
  if (kind == nullptr) return 0;
  switch (kind->feed) {
    case Feed::kNothing:
      return 0;
    case Feed::kPartnershipEdge:
    case Feed::kRouteEdge:
      return kEdgeRows | kCountRows;  // edge rows, and partnership and route counts
    case Feed::kCounters:
    case Feed::kReport:
      return kCountRows;
    case Feed::kTrade:
      return kTradeRows;
  }
  return 0;  // not reached: every Feed is a case above
}

State::State(RowSets rows) : rows_(rows & kAllRows) {}

namespace {

// Makes `f` the key's best settled report if it is greater (§4).
template <typename Entry, typename Figure>
void SettleReport(Entry* r, const Figure& f) {
  ++r->settled;
  if (!r->has_best || f.at.Order() > r->best.at.Order()) {
    r->best = f;
    r->has_best = true;
  }
}

}  // namespace

bool State::Insert(const Fact& fact) {
  if ((RowsFed(fact.payload.which()) & rows_) == 0) return false;
  const Dated at{fact.seq, fact.e, fact.l};
  const bool settled = settle_day_ && fact.l <= *settle_day_;
  const Feeds f = Classify(fact.payload);
  switch (f.kind) {
    case Feeds::Kind::kNothing:
      return false;
    case Feeds::Kind::kEdge:
      InsertEdgeEvent({Intern(f.a), Intern(f.b), f.subkind, f.edge_kind}, at, f.establish);
      break;
    case Feeds::Kind::kCounters:
      for (size_t i = 0; i < f.counters.size(); ++i) {
        const uint32_t entity = Intern(f.counters[i].first);
        const uint32_t owner = counters.FindOrAdd({entity, f.counters[i].second});
        if (!settled) {
          counter_facts.push_back({at, owner});
          continue;
        }
        ++counters[owner].settled;
        // One event of the entity, though it may feed two of its counters.
        bool seen = false;
        for (size_t j = 0; j < i; ++j) seen = seen || f.counters[j].first == f.counters[i].first;
        if (!seen) CountSettled(entity);
      }
      break;
    case Feeds::Kind::kReport: {
      const ReportKey key{Intern(f.entity), InternName(f.metric),
                          f.scope.empty() ? kNoEntity : Intern(f.scope)};
      const uint32_t owner = reports.FindOrAdd(key);
      const CountFigure figure{at, f.value, InternName(fact.edtf), f.qualifier};
      if (settled) {
        SettleReport(&reports[owner], figure);
        CountSettled(key.entity);
      } else {
        report_figures.push_back({figure, owner});
      }
      break;
    }
    case Feeds::Kind::kTrade: {
      const TradeKey key{Intern(f.entity), Intern(f.partner), InternName(f.period), f.flow};
      const uint32_t owner = trade.FindOrAdd(key);
      const TradeFigure figure{at, f.value, InternName(f.currency)};
      if (settled) {
        SettleReport(&trade[owner], figure);
      } else {
        trade_figures.push_back({figure, owner});
      }
      break;
    }
  }
  return true;
}

void State::InsertEdgeEvent(const EdgeKey& key, const Dated& at, bool establish) {
  edge_events.push_back({at, edges.FindOrAdd(key), establish});
}

namespace {

template <typename Item, typename SeqOf>
void SortItems(std::vector<Item>* items, SeqOf seq_of) {
  auto less = [&](const Item& x, const Item& y) {
    return std::pair(x.owner, seq_of(x)) < std::pair(y.owner, seq_of(y));
  };
  if (!std::is_sorted(items->begin(), items->end(), less)) {
    std::sort(items->begin(), items->end(), less);
  }
}

}  // namespace

void State::Normalise() {
  SortItems(&edge_events, [](const EdgeEvent& x) { return x.at.seq; });
  SortItems(&counter_facts, [](const CounterFact& x) { return x.at.seq; });
  SortItems(&report_figures, [](const OpenFigure<CountFigure>& x) { return x.figure.at.seq; });
  SortItems(&trade_figures, [](const OpenFigure<TradeFigure>& x) { return x.figure.at.seq; });
}

}  // namespace twinline::projection_internal
