// Inserting effective facts into the projection state, and compacting it
// (docs/PROJECTIONS.md §5; the model is at the top of state.h).
#include "projections/state.h"

#include <algorithm>

#include "core/edtf.h"
#include "core/identity.h"

namespace twinline::projection_internal {

using Which = schema::Payload::Which;

uint32_t State::Intern(std::string_view slug) {
  auto [it, inserted] = index_.try_emplace(std::string(slug), static_cast<uint32_t>(slugs_.size()));
  if (inserted) slugs_.emplace_back(slug);
  return it->second;
}

bool State::Insert(const Fact& fact) {
  const Dated at{fact.seq, fact.e, fact.l};
  auto edge = [&](EdgeRow::Kind kind, capnp::Text::Reader a, capnp::Text::Reader b,
                  uint16_t subkind, bool establish) {
    EdgeKey key{kind, Intern(Str(a)), Intern(Str(b)), subkind};
    edges[key].events.push_back({at, establish});
  };
  auto count = [&](capnp::Text::Reader entity, Counter counter) {
    counters[{Intern(Str(entity)), counter}].open.push_back(at);
  };
  auto p = fact.payload;
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
      std::vector<std::string> parties;
      for (auto party : p.getAgreementSigned().getParties()) parties.push_back(Str(party));
      std::sort(parties.begin(), parties.end());
      parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
      for (const auto& party : parties) {
        counters[{Intern(party), Counter::kAgreements}].open.push_back(at);
      }
      open_items_ += parties.empty() ? 0 : parties.size() - 1;
      break;
    }
    case Which::OFFICE_OPENED:
      count(p.getOfficeOpened().getOwner(), Counter::kOffices);
      count(p.getOfficeOpened().getHost(), Counter::kOfficesHosted);
      ++open_items_;
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
      ReportKey key{Intern(Str(x.getEntity())), Str(x.getMetric()),
                    x.getScope().size() > 0 ? Intern(Str(x.getScope())) : kNoEntity};
      reports[key].open.push_back(
          {at, std::string(fact.edtf), x.getValue(), static_cast<uint16_t>(x.getQualifier())});
      break;
    }
    case Which::TRADE_VOLUME_REPORTED: {
      auto x = p.getTradeVolumeReported();
      TradeKey key{Intern(Str(x.getReporter())), Intern(Str(x.getPartner())), Str(x.getPeriod()),
                   static_cast<uint16_t>(x.getFlow())};
      trade[key].open.push_back({at, std::string(fact.edtf), x.getAmount(), Str(x.getCurrency())});
      break;
    }
    default:
      return false;  // registrations (and nothing else) carry no projected state
  }
  ++open_items_;
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

template <typename Figure>
void CompactReports(int64_t day, ReportState<Figure>* r) {
  std::vector<Figure> open;
  std::vector<uint64_t> more;
  for (Figure& f : r->open) {
    if (f.at.l > day) {
      open.push_back(std::move(f));
      continue;
    }
    more.push_back(f.at.seq);
    if (!r->best_settled || f.at.Order() > r->best_settled->at.Order()) {
      r->best_settled = std::move(f);
    }
  }
  InsertSorted(&r->settled, more);
  r->open = std::move(open);
}

}  // namespace

void State::Compact(int64_t day) {
  open_items_ = 0;
  for (auto& [key, edge] : edges) {
    CompactEdge(day, &edge);
    open_items_ += edge.events.size();
  }
  for (auto& [key, c] : counters) {
    std::vector<Dated> open;
    std::vector<uint64_t> more;
    for (const Dated& x : c.open) {
      if (x.l <= day) {
        more.push_back(x.seq);
      } else {
        open.push_back(x);
      }
    }
    InsertSorted(&c.settled, more);
    c.open = std::move(open);
    open_items_ += c.open.size();
  }
  for (auto& [key, r] : reports) {
    CompactReports(day, &r);
    open_items_ += r.open.size();
  }
  for (auto& [key, r] : trade) {
    CompactReports(day, &r);
    open_items_ += r.open.size();
  }
}

Inserter::Inserter(State* state, std::optional<int64_t> compacted_at)
    : state_(state),
      compacted_at_(compacted_at),
      threshold_(kMinOpenItems + 2 * state->OpenItems()) {}

bool Inserter::Insert(const Fact& fact) {
  if (state_->OpenItems() >= threshold_ && fact.e != kUnboundedStart &&
      (!compacted_at_ || fact.e - 1 > *compacted_at_)) {
    CompactAt(fact.e - 1);
  }
  return state_->Insert(fact);
}

void Inserter::CompactAt(int64_t day) {
  state_->Compact(day);
  compacted_at_ = day;
  threshold_ = kMinOpenItems + 2 * state_->OpenItems();
}

}  // namespace twinline::projection_internal
