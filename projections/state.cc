// What an effective fact feeds (Classify), inserting facts into the
// projection state, and compacting it (docs/PROJECTIONS.md §5; the model is
// at the top of state.h).
#include "projections/state.h"

#include <algorithm>
#include <unordered_map>

#include "core/edtf.h"

namespace twinline::projection_internal {

using Which = schema::Payload::Which;

uint32_t State::Intern(std::string_view slug) {
  auto [it, inserted] = index_.try_emplace(std::string(slug), static_cast<uint32_t>(slugs_.size()));
  if (inserted) slugs_.emplace_back(slug);
  return it->second;
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

bool State::Insert(const Fact& fact) {
  const Dated at{fact.seq, fact.e, fact.l};
  const Feeds f = Classify(fact.payload);
  switch (f.kind) {
    case Feeds::Kind::kNothing:
      return false;
    case Feeds::Kind::kEdge:
      edges[{f.edge_kind, Intern(f.a), Intern(f.b), f.subkind}].events.push_back({at, f.establish});
      ++open_items_;
      break;
    case Feeds::Kind::kCounters:
      for (const auto& [entity, counter] : f.counters) {
        counters[{Intern(entity), counter}].open.push_back(at);
      }
      open_items_ += f.counters.size();
      break;
    case Feeds::Kind::kReport: {
      ReportKey key{Intern(f.entity), std::string(f.metric),
                    f.scope.empty() ? kNoEntity : Intern(f.scope)};
      reports[key].open.push_back({at, std::string(fact.edtf), f.value, f.qualifier});
      ++open_items_;
      break;
    }
    case Feeds::Kind::kTrade: {
      TradeKey key{Intern(f.entity), Intern(f.partner), std::string(f.period), f.flow};
      trade[key].open.push_back({at, std::string(fact.edtf), f.value, std::string(f.currency)});
      ++open_items_;
      break;
    }
  }
  return true;
}

namespace {

void InsertSorted(std::vector<uint64_t>* seqs, const std::vector<uint64_t>& more) {
  seqs->insert(seqs->end(), more.begin(), more.end());
  std::sort(seqs->begin(), seqs->end());
}

// Collapses the settled events of `edge` that end strictly before every
// event kept individually. Kept: the unsettled events, and any settled event
// that could fall on or after a kept one (l >= the least e of the kept),
// which may in turn pull in more; one pass in order of decreasing l finds
// that fixpoint because the bound only ever decreases.
void CompactEdge(int64_t day, EdgeState* edge) {
  std::vector<EdgeEvent> kept, settled;
  for (const EdgeEvent& x : edge->events) (x.at.l <= day ? settled : kept).push_back(x);
  int64_t bound = INT64_MAX;  // least e among the kept
  for (const EdgeEvent& x : kept) bound = std::min(bound, x.at.e);
  std::sort(settled.begin(), settled.end(),
            [](const EdgeEvent& x, const EdgeEvent& y) { return x.at.l > y.at.l; });
  size_t first_collapsed = 0;
  while (first_collapsed < settled.size() && settled[first_collapsed].at.l >= bound) {
    bound = std::min(bound, settled[first_collapsed].at.e);
    kept.push_back(settled[first_collapsed++]);
  }
  if (first_collapsed == settled.size()) return;  // nothing to collapse

  // The new prefix: the collapsed events after the old prefix, all on or
  // before `day` in every world, so their status at `day` is final.
  EdgeState collapsed;
  collapsed.prefix = edge->prefix;
  collapsed.events.assign(settled.begin() + first_collapsed, settled.end());
  Prefix next;
  next.range = EdgeStatusRange(collapsed, day);
  next.earliest = EdgeActivePlaced(collapsed, day, DateRule::kEarliest);
  next.latest = EdgeActivePlaced(collapsed, day, DateRule::kLatest);
  next.seqs = std::move(edge->prefix.seqs);
  std::vector<uint64_t> more;
  for (const EdgeEvent& x : collapsed.events) more.push_back(x.at.seq);
  InsertSorted(&next.seqs, more);
  edge->prefix = std::move(next);
  std::sort(kept.begin(), kept.end(),
            [](const EdgeEvent& x, const EdgeEvent& y) { return x.at.seq < y.at.seq; });
  edge->events = std::move(kept);
}

// Settles the reports with l <= day: the greatest becomes best_settled and
// the others are only counted. Their seqs go to `settled_seqs`.
template <typename Figure>
void CompactReports(int64_t day, ReportState<Figure>* r, std::vector<uint64_t>* settled_seqs) {
  std::vector<Figure> open;
  for (Figure& f : r->open) {
    if (f.at.l > day) {
      open.push_back(std::move(f));
      continue;
    }
    ++r->settled;
    if (settled_seqs != nullptr) settled_seqs->push_back(f.at.seq);
    if (!r->best_settled || f.at.Order() > r->best_settled->at.Order()) {
      r->best_settled = std::move(f);
    }
  }
  r->open = std::move(open);
}

}  // namespace

void State::Compact(int64_t day) {
  open_items_ = 0;
  for (auto& [key, edge] : edges) {
    CompactEdge(day, &edge);
    open_items_ += edge.events.size();
  }
  // The counter and report events settling now, per entity, to count each
  // distinct event once (an office may feed two counters of one entity; both
  // copies have the same days, so they settle in the same compaction).
  std::unordered_map<uint32_t, std::vector<uint64_t>> settling;
  for (auto& [key, c] : counters) {
    std::vector<Dated> open;
    for (const Dated& x : c.open) {
      if (x.l <= day) {
        ++c.settled;
        settling[key.first].push_back(x.seq);
      } else {
        open.push_back(x);
      }
    }
    c.open = std::move(open);
    open_items_ += c.open.size();
  }
  for (auto& [key, r] : reports) {
    CompactReports(day, &r, &settling[key.entity]);
    open_items_ += r.open.size();
  }
  for (auto& [key, r] : trade) {
    CompactReports(day, &r, nullptr);
    open_items_ += r.open.size();
  }
  for (auto& [entity, seqs] : settling) {
    if (seqs.empty()) continue;
    std::sort(seqs.begin(), seqs.end());
    seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
    if (entity_settled.size() <= entity) entity_settled.resize(entity + 1, 0);
    entity_settled[entity] += seqs.size();
  }
}

Inserter::Inserter(State* state, std::optional<int64_t> compacted_at)
    : state_(state), compacted_at_(compacted_at), open_after_(state->OpenItems()) {}

bool Inserter::Insert(const Fact& fact) {
  // The threshold and why: state.h.
  if (state_->OpenItems() > kMinOpenItems + 2 * open_after_ + state_->Keys() &&
      fact.e != kUnboundedStart && (!compacted_at_ || fact.e - 1 > *compacted_at_)) {
    CompactAt(fact.e - 1);
  }
  return state_->Insert(fact);
}

void Inserter::CompactAt(int64_t day) {
  state_->Compact(day);
  compacted_at_ = day;
  open_after_ = state_->OpenItems();
}

}  // namespace twinline::projection_internal
