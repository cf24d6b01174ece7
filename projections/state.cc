// What an effective fact feeds (Classify), inserting facts into the
// projection state, and compacting it (docs/PROJECTIONS.md §5; the model and
// the layout are at the top of state.h).
#include "projections/state.h"

#include <algorithm>
#include <type_traits>

#include "core/edtf.h"

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

Feeds Classify(schema::Payload::Reader p) {
  Feeds f;
  auto edge = [&](EdgeRow::Kind kind, capnp::Text::Reader a, capnp::Text::Reader b,
                  uint16_t subkind, bool establish) {
    f.kind = Feeds::Kind::kEdge;
    f.edge_kind = kind;
    f.a = View(a);
    f.b = View(b);
    f.subkind = subkind;
    f.establish = establish;
  };
  auto count = [&](capnp::Text::Reader entity, Counter counter) {
    f.kind = Feeds::Kind::kCounters;
    f.counters.emplace_back(View(entity), counter);
  };
  switch (p.which()) {
    case Which::PARTNERSHIP_ESTABLISHED:
    case Which::PARTNERSHIP_ENDED: {
      const bool establish = p.which() == Which::PARTNERSHIP_ESTABLISHED;
      auto x = establish ? p.getPartnershipEstablished() : p.getPartnershipEnded();
      edge(EdgeRow::Kind::kPartnership, x.getA(), x.getB(), static_cast<uint16_t>(x.getKind()),
           establish);
      break;
    }
    case Which::ROUTE_OPENED:
    case Which::ROUTE_CLOSED: {
      const bool establish = p.which() == Which::ROUTE_OPENED;
      auto x = establish ? p.getRouteOpened() : p.getRouteClosed();
      edge(EdgeRow::Kind::kRoute, x.getFrom(), x.getTo(), static_cast<uint16_t>(x.getMode()),
           establish);
      break;
    }
    case Which::FORUM_HELD:
      count(p.getForumHeld().getHost(), Counter::kForums);
      break;
    case Which::AGREEMENT_SIGNED: {
      // Parties are stored sorted and distinct (identity.h); a repeated one
      // is still counted once.
      f.kind = Feeds::Kind::kCounters;
      for (auto party : p.getAgreementSigned().getParties()) {
        f.counters.emplace_back(View(party), Counter::kAgreements);
      }
      std::sort(f.counters.begin(), f.counters.end());
      f.counters.erase(std::unique(f.counters.begin(), f.counters.end()), f.counters.end());
      break;
    }
    case Which::OFFICE_OPENED:
      count(p.getOfficeOpened().getOwner(), Counter::kOffices);
      count(p.getOfficeOpened().getHost(), Counter::kOfficesHosted);
      break;
    case Which::ORGANISATION_FOUNDED:
      count(p.getOrganisationFounded().getFounder(), Counter::kOrganisations);
      break;
    case Which::AWARD_GRANTED:
      count(p.getAwardGranted().getRecipient(), Counter::kAwards);
      break;
    case Which::INITIATIVE_LAUNCHED:
      count(p.getInitiativeLaunched().getOwner(), Counter::kInitiatives);
      break;
    case Which::COUNT_REPORTED: {
      auto x = p.getCountReported();
      f.kind = Feeds::Kind::kReport;
      f.entity = View(x.getEntity());
      f.metric = View(x.getMetric());
      f.scope = View(x.getScope());
      f.value = x.getValue();
      f.qualifier = static_cast<uint16_t>(x.getQualifier());
      break;
    }
    case Which::TRADE_VOLUME_REPORTED: {
      auto x = p.getTradeVolumeReported();
      f.kind = Feeds::Kind::kTrade;
      f.entity = View(x.getReporter());
      f.partner = View(x.getPartner());
      f.period = View(x.getPeriod());
      f.flow = static_cast<uint16_t>(x.getFlow());
      f.value = x.getAmount();
      f.currency = View(x.getCurrency());
      break;
    }
    default:
      break;  // registrations (and nothing else) carry no projected state
  }
  return f;
}

// Must agree with Classify: which Feeds::Kind each payload kind gives.
RowSets RowsFed(Which which) {
  switch (which) {
    case Which::PARTNERSHIP_ESTABLISHED:
    case Which::PARTNERSHIP_ENDED:
    case Which::ROUTE_OPENED:
    case Which::ROUTE_CLOSED:
      return kEdgeRows | kCountRows;  // edge rows, and partnership and route counts
    case Which::FORUM_HELD:
    case Which::AGREEMENT_SIGNED:
    case Which::OFFICE_OPENED:
    case Which::ORGANISATION_FOUNDED:
    case Which::AWARD_GRANTED:
    case Which::INITIATIVE_LAUNCHED:
    case Which::COUNT_REPORTED:
      return kCountRows;
    case Which::TRADE_VOLUME_REPORTED:
      return kTradeRows;
    default:
      return 0;
  }
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
