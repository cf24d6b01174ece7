// Property test of the projection engine (docs/PROJECTIONS.md): on a random
// log built in several batches of backdated appends, retractions and
// amendments (of facts and of amendments), with the temporal index rebuilt
// after some batches so that later ones are read as its tail (and K before
// the index answered from its facts), every answer Replay gives for a
// random (D, K, rule) must
//   1. be the same Snapshot (rows and state_hash) from the index and from
//      replaying the log, and
//   2. equal a naive reference written separately from the specification
//      (tests/projections/reference.h), which decides edges from §3's
//      definition by worlds (every placement of their events on days);
// and every partial row selection (Query::rows) must give exactly the
// selected rows of the full snapshot, streamed in order by ReplayInto.
// Everything is deterministic: fixed seeds, std::mt19937_64, a FakeClock.
// A disagreement is reported with (D, K, rule), the differing rows and the
// log events involved, so it can be replayed by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/edtf.h"
#include "core/event_log.h"
#include "projections/projection.h"
#include "projections/state.h"
#include "projections/window_events.h"
#include "tests/projections/reference.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

using reference::Fact;
using reference::Kind;
using Which = schema::Payload::Which;

// --- Enumerations <-> their JSON names ---------------------------------------

template <typename E>
struct Named {
  E value;
  const char* name;
};

constexpr Named<schema::PartnershipKind> kPartnershipKinds[] = {
    {schema::PartnershipKind::SISTER_CITY, "sister_city"},
    {schema::PartnershipKind::FRIENDSHIP_CITY, "friendship_city"},
    {schema::PartnershipKind::FRIENDLY_COOPERATION, "friendly_cooperation"},
    {schema::PartnershipKind::FRIENDSHIP_VILLAGE, "friendship_village"},
    {schema::PartnershipKind::PORT_COOPERATION, "port_cooperation"},
    {schema::PartnershipKind::OTHER, "other"},
};
constexpr Named<schema::RouteMode> kRouteModes[] = {
    {schema::RouteMode::RAIL, "rail"},
    {schema::RouteMode::AIR_CARGO, "air_cargo"},
    {schema::RouteMode::AIR_PASSENGER, "air_passenger"},
    {schema::RouteMode::SEA, "sea"},
    {schema::RouteMode::ROAD, "road"},
};
constexpr Named<schema::TradeFlow> kFlows[] = {
    {schema::TradeFlow::TOTAL, "total"},
    {schema::TradeFlow::IMPORTS, "imports"},
    {schema::TradeFlow::EXPORTS, "exports"},
};
constexpr Named<schema::Qualifier> kQualifiers[] = {
    {schema::Qualifier::EXACT, "exact"},       {schema::Qualifier::APPROXIMATELY, "approximately"},
    {schema::Qualifier::NEARLY, "nearly"},     {schema::Qualifier::MORE_THAN, "more_than"},
    {schema::Qualifier::AT_LEAST, "at_least"},
};

template <typename E, size_t N>
const char* NameOf(const Named<E> (&table)[N], E value) {
  for (const auto& n : table) {
    if (n.value == value) return n.name;
  }
  return "?";
}
template <typename E, size_t N>
E ValueOf(const Named<E> (&table)[N], const std::string& name) {
  for (const auto& n : table) {
    if (name == n.name) return n.value;
  }
  ADD_FAILURE() << "no enumerant named " << name;
  return table[0].value;
}

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// --- Facts <-> Cap'n Proto payloads ------------------------------------------

void SetFact(schema::Payload::Builder p, const Fact& f) {
  switch (f.kind) {
    case Kind::kEntity: {
      auto e = p.initEntityRegistered();
      e.setEntity(f.entity);
      e.setType(f.entity.starts_with("org-")    ? schema::EntityType::ORGANISATION
                : f.entity.starts_with("bloc-") ? schema::EntityType::BLOC
                                                : schema::EntityType::CITY);
      e.setCountry(f.country);
      auto names = e.initNames(1);
      names[0].setText("Entity " + f.entity);
      names[0].setLang("en");
      break;
    }
    case Kind::kPartnershipEstablished:
    case Kind::kPartnershipEnded: {
      auto x = f.kind == Kind::kPartnershipEstablished ? p.initPartnershipEstablished()
                                                       : p.initPartnershipEnded();
      x.setA(f.a);
      x.setB(f.b);
      x.setKind(ValueOf(kPartnershipKinds, f.subkind));
      x.setDetail(f.label);
      break;
    }
    case Kind::kRouteOpened:
    case Kind::kRouteClosed: {
      auto x = f.kind == Kind::kRouteOpened ? p.initRouteOpened() : p.initRouteClosed();
      x.setFrom(f.a);
      x.setTo(f.b);
      x.setMode(ValueOf(kRouteModes, f.subkind));
      x.setName(f.label);
      break;
    }
    case Kind::kForum: {
      auto x = p.initForumHeld();
      x.setHost(f.who);
      x.setName(f.label);
      break;
    }
    case Kind::kAgreement: {
      auto x = p.initAgreementSigned();
      auto parties = x.initParties(f.parties.size());
      for (size_t i = 0; i < f.parties.size(); ++i) parties.set(i, f.parties[i]);
      x.setTitle(f.label);
      x.setKind(schema::AgreementKind::MEMORANDUM);
      break;
    }
    case Kind::kOffice: {
      auto x = p.initOfficeOpened();
      x.setOwner(f.who);
      x.setHost(f.office_host);
      x.setName(f.label);
      break;
    }
    case Kind::kOrganisation: {
      auto x = p.initOrganisationFounded();
      x.setOrganisation(f.organisation);
      x.setFounder(f.who);
      x.setPurpose(f.label);
      break;
    }
    case Kind::kAward: {
      auto x = p.initAwardGranted();
      x.setRecipient(f.who);
      x.setGrantor(f.grantor);
      x.setName(f.label);
      break;
    }
    case Kind::kInitiative: {
      auto x = p.initInitiativeLaunched();
      x.setOwner(f.who);
      x.setName(f.label);
      break;
    }
    case Kind::kTrade: {
      auto x = p.initTradeVolumeReported();
      x.setReporter(f.who);
      x.setPartner(f.partner);
      x.setPeriod(f.period);
      x.setAmount(f.amount);
      x.setCurrency(f.currency);
      x.setFlow(ValueOf(kFlows, f.flow));
      break;
    }
    case Kind::kCount: {
      auto x = p.initCountReported();
      x.setEntity(f.who);
      x.setMetric(f.metric);
      x.setValue(f.value);
      x.setQualifier(ValueOf(kQualifiers, f.qualifier));
      x.setScope(f.scope);
      x.setWording(f.label);
      break;
    }
    default:
      ADD_FAILURE() << "not a fact kind";
  }
}

// The stored form of a payload (as normalised by the log), for the reference.
Kind FactFrom(schema::Payload::Reader p, Fact* f) {
  switch (p.which()) {
    case Which::ENTITY_REGISTERED:
      f->kind = Kind::kEntity;
      f->entity = Str(p.getEntityRegistered().getEntity());
      f->country = Str(p.getEntityRegistered().getCountry());
      break;
    case Which::PARTNERSHIP_ESTABLISHED:
    case Which::PARTNERSHIP_ENDED: {
      const bool est = p.which() == Which::PARTNERSHIP_ESTABLISHED;
      auto x = est ? p.getPartnershipEstablished() : p.getPartnershipEnded();
      f->kind = est ? Kind::kPartnershipEstablished : Kind::kPartnershipEnded;
      f->a = Str(x.getA());
      f->b = Str(x.getB());
      f->subkind = NameOf(kPartnershipKinds, x.getKind());
      f->label = Str(x.getDetail());
      break;
    }
    case Which::ROUTE_OPENED:
    case Which::ROUTE_CLOSED: {
      const bool open = p.which() == Which::ROUTE_OPENED;
      auto x = open ? p.getRouteOpened() : p.getRouteClosed();
      f->kind = open ? Kind::kRouteOpened : Kind::kRouteClosed;
      f->a = Str(x.getFrom());
      f->b = Str(x.getTo());
      f->subkind = NameOf(kRouteModes, x.getMode());
      f->label = Str(x.getName());
      break;
    }
    case Which::FORUM_HELD:
      f->kind = Kind::kForum;
      f->who = Str(p.getForumHeld().getHost());
      f->label = Str(p.getForumHeld().getName());
      break;
    case Which::AGREEMENT_SIGNED:
      f->kind = Kind::kAgreement;
      for (auto party : p.getAgreementSigned().getParties()) f->parties.push_back(Str(party));
      f->label = Str(p.getAgreementSigned().getTitle());
      break;
    case Which::OFFICE_OPENED:
      f->kind = Kind::kOffice;
      f->who = Str(p.getOfficeOpened().getOwner());
      f->office_host = Str(p.getOfficeOpened().getHost());
      f->label = Str(p.getOfficeOpened().getName());
      break;
    case Which::ORGANISATION_FOUNDED:
      f->kind = Kind::kOrganisation;
      f->who = Str(p.getOrganisationFounded().getFounder());
      f->organisation = Str(p.getOrganisationFounded().getOrganisation());
      f->label = Str(p.getOrganisationFounded().getPurpose());
      break;
    case Which::AWARD_GRANTED:
      f->kind = Kind::kAward;
      f->who = Str(p.getAwardGranted().getRecipient());
      f->grantor = Str(p.getAwardGranted().getGrantor());
      f->label = Str(p.getAwardGranted().getName());
      break;
    case Which::INITIATIVE_LAUNCHED:
      f->kind = Kind::kInitiative;
      f->who = Str(p.getInitiativeLaunched().getOwner());
      f->label = Str(p.getInitiativeLaunched().getName());
      break;
    case Which::TRADE_VOLUME_REPORTED: {
      auto x = p.getTradeVolumeReported();
      f->kind = Kind::kTrade;
      f->who = Str(x.getReporter());
      f->partner = Str(x.getPartner());
      f->period = Str(x.getPeriod());
      f->amount = x.getAmount();
      f->currency = Str(x.getCurrency());
      f->flow = NameOf(kFlows, x.getFlow());
      break;
    }
    case Which::COUNT_REPORTED: {
      auto x = p.getCountReported();
      f->kind = Kind::kCount;
      f->who = Str(x.getEntity());
      f->metric = Str(x.getMetric());
      f->value = x.getValue();
      f->qualifier = NameOf(kQualifiers, x.getQualifier());
      f->scope = Str(x.getScope());
      f->label = Str(x.getWording());
      break;
    }
    case Which::RETRACTION:
      return Kind::kRetraction;
    case Which::AMENDMENT:
      FactFrom(p.getAmendment().getReplacement(), f);
      return Kind::kAmendment;
    case Which::CORROBORATION:
      return Kind::kCorroboration;
  }
  return f->kind;
}

reference::Event EventFrom(schema::Event::Reader ev) {
  reference::Event out;
  out.seq = ev.getSeq();
  out.id = Str(ev.getId());
  out.date = Str(ev.getValidTime().getEdtf());
  out.earliest = ev.getValidTime().getEarliest();
  out.latest = ev.getValidTime().getLatest();
  auto p = ev.getPayload();
  out.kind = FactFrom(p, &out.fact);
  if (p.which() == Which::RETRACTION) out.target = Str(p.getRetraction().getTarget());
  if (p.which() == Which::AMENDMENT) out.target = Str(p.getAmendment().getTarget());
  if (p.which() == Which::CORROBORATION) out.target = Str(p.getCorroboration().getTarget());
  return out;
}

const char* KindName(Kind k) {
  static const char* const kNames[] = {"entity_registered",
                                       "partnership_established",
                                       "partnership_ended",
                                       "route_opened",
                                       "route_closed",
                                       "forum_held",
                                       "agreement_signed",
                                       "office_opened",
                                       "organisation_founded",
                                       "award_granted",
                                       "trade_volume_reported",
                                       "count_reported",
                                       "initiative_launched",
                                       "retraction",
                                       "amendment",
                                       "corroboration"};
  return kNames[static_cast<int>(k)];
}

// --- Rendering, for failure messages ------------------------------------------

const char* TriName(Tri t) { return t == Tri::kYes ? "yes" : t == Tri::kMaybe ? "maybe" : "no"; }
const char* EdgeKindText(EdgeRow::Kind k) {
  return k == EdgeRow::Kind::kRoute ? "routes" : "partnerships";
}

const char* RuleName(DateRule r) {
  return r == DateRule::kRange ? "range" : r == DateRule::kEarliest ? "earliest" : "latest";
}
std::string RangeText(const Range& r) {
  return std::to_string(r.certain) + "-" + std::to_string(r.possible);
}
std::string MarksText(const std::vector<EventMark>& marks) {
  std::string s = "[";
  for (const EventMark& m : marks)
    s += (s.size() > 1 ? " " : "") + std::to_string(m.seq) + ":" + TriName(m.occurred);
  return s + "]";
}
std::string Text(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}
std::string EdgeText(const EdgeRow& e) {
  return std::string(e.kind == EdgeRow::Kind::kPartnership ? "partnership " : "route ") + e.a +
         " " + e.b + " " + e.subkind;
}
std::string EdgeRowText(const EdgeRow& e) {
  return EdgeText(e) + " status=" + TriName(e.status) + " events=" + MarksText(e.events);
}
std::string ReportedText(const ReportedCount& r) {
  return r.metric + "/" + r.scope + " " + TriName(r.status) + " value=" + Text(r.value) + " " +
         r.qualifier + " date=" + r.date + " seq=" + std::to_string(r.seq);
}
std::string TradeText(const TradeRow& t) {
  return t.reporter + ">" + t.partner + " " + t.period + " " + t.flow + " " + TriName(t.status) +
         " " + Text(t.amount) + " " + t.currency + " seq=" + std::to_string(t.seq) +
         " open=" + MarksText(t.open_events) + " settled=" + std::to_string(t.settled_events);
}
std::string EventText(const reference::Event& ev) {
  std::ostringstream out;
  out << "seq " << ev.seq << " " << ev.id << " " << KindName(ev.kind);
  if (!ev.target.empty()) out << " -> " << ev.target;
  if (ev.kind == Kind::kAmendment) out << " (replacement " << KindName(ev.fact.kind) << ")";
  if (ev.kind != Kind::kRetraction && ev.kind != Kind::kCorroboration) {
    const Fact& f = ev.fact;
    if (!f.a.empty()) out << " " << f.a << " " << f.b << " " << f.subkind;
    if (!f.who.empty()) out << " who=" << f.who;
    for (const auto& p : f.parties) out << " party=" << p;
    if (!f.office_host.empty()) out << " host=" << f.office_host;
    if (f.kind == Kind::kTrade)
      out << " " << f.partner << " " << f.period << " " << f.flow << " " << Text(f.amount);
    if (f.kind == Kind::kCount) out << " " << f.metric << "/" << f.scope << " " << Text(f.value);
  }
  out << " date " << ev.date << " [" << FormatDay(ev.earliest) << ", " << FormatDay(ev.latest)
      << "]";
  return out.str();
}

// --- Comparing snapshots -------------------------------------------------------

void DiffRanges(const std::string& what, const Range& want, const Range& got,
                std::vector<std::string>* out) {
  if (!(want == got))
    out->push_back(what + ": want " + RangeText(want) + ", got " + RangeText(got));
}
void DiffRangeMaps(const std::string& what, const std::map<std::string, Range>& want,
                   const std::map<std::string, Range>& got, std::vector<std::string>* out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : want) keys.insert(k);
  for (const auto& [k, v] : got) keys.insert(k);
  for (const std::string& k : keys) {
    auto w = want.find(k), g = got.find(k);
    const std::string ws = w == want.end() ? "absent" : RangeText(w->second);
    const std::string gs = g == got.end() ? "absent" : RangeText(g->second);
    if (ws != gs) out->push_back(what + "[" + k + "]: want " + ws + ", got " + gs);
  }
}

// Every difference between two snapshots' rows, described; empty if equal.
std::vector<std::string> Differences(const Snapshot& want, const Snapshot& got) {
  std::vector<std::string> out;
  if (want.known_seq != got.known_seq) {
    out.push_back("known_seq: want " + std::to_string(want.known_seq) + ", got " +
                  std::to_string(got.known_seq));
  }
  if (want.edges != got.edges) {
    std::map<std::string, const EdgeRow*> w, g;
    for (const EdgeRow& e : want.edges) w[EdgeText(e)] = &e;
    for (const EdgeRow& e : got.edges) g[EdgeText(e)] = &e;
    bool rows_differ = false;
    for (const auto& [key, row] : w) {
      if (!g.count(key)) {
        out.push_back("edge missing: " + EdgeRowText(*row)), rows_differ = true;
      } else if (!(*g[key] == *row)) {
        out.push_back("edge differs: want " + EdgeRowText(*row) + "; got " + EdgeRowText(*g[key]));
        rows_differ = true;
      }
    }
    for (const auto& [key, row] : g) {
      if (!w.count(key)) out.push_back("edge extra: " + EdgeRowText(*row)), rows_differ = true;
    }
    if (!rows_differ) out.push_back("edges: same rows in a different order");
  }
  std::set<std::string> entities;
  for (const auto& [k, v] : want.counts) entities.insert(k);
  for (const auto& [k, v] : got.counts) entities.insert(k);
  for (const std::string& entity : entities) {
    auto wi = want.counts.find(entity), gi = got.counts.find(entity);
    if (wi == want.counts.end() || gi == got.counts.end()) {
      const EntityCounts& present = wi == want.counts.end() ? gi->second : wi->second;
      out.push_back("counts[" + entity + "] " + (wi == want.counts.end() ? "extra" : "missing") +
                    " (partnerships " + RangeText(present.partnerships) + ", routes " +
                    RangeText(present.routes) + ", open " + MarksText(present.open_events) +
                    ", settled " + std::to_string(present.settled_events) + ")");
      continue;
    }
    const EntityCounts& w = wi->second;
    const EntityCounts& g = gi->second;
    if (w == g) continue;
    const std::string at = "counts[" + entity + "].";
    DiffRanges(at + "partnerships", w.partnerships, g.partnerships, &out);
    DiffRangeMaps(at + "partnerships_by_kind", w.partnerships_by_kind, g.partnerships_by_kind,
                  &out);
    DiffRangeMaps(at + "partnerships_by_country", w.partnerships_by_country,
                  g.partnerships_by_country, &out);
    DiffRanges(at + "routes", w.routes, g.routes, &out);
    DiffRangeMaps(at + "routes_by_mode", w.routes_by_mode, g.routes_by_mode, &out);
    DiffRanges(at + "forums", w.forums, g.forums, &out);
    DiffRanges(at + "agreements", w.agreements, g.agreements, &out);
    DiffRanges(at + "offices", w.offices, g.offices, &out);
    DiffRanges(at + "offices_hosted", w.offices_hosted, g.offices_hosted, &out);
    DiffRanges(at + "organisations", w.organisations, g.organisations, &out);
    DiffRanges(at + "awards", w.awards, g.awards, &out);
    DiffRanges(at + "initiatives", w.initiatives, g.initiatives, &out);
    if (w.reported != g.reported) {
      std::string ws, gs;
      for (const auto& r : w.reported) ws += "{" + ReportedText(r) + "} ";
      for (const auto& r : g.reported) gs += "{" + ReportedText(r) + "} ";
      out.push_back(at + "reported: want " + ws + "; got " + gs);
    }
    if (w.open_events != g.open_events) {
      out.push_back(at + "open_events: want " + MarksText(w.open_events) + ", got " +
                    MarksText(g.open_events));
    }
    if (w.settled_events != g.settled_events) {
      out.push_back(at + "settled_events: want " + std::to_string(w.settled_events) + ", got " +
                    std::to_string(g.settled_events));
    }
  }
  if (want.trade != got.trade) {
    // Only the rows of keys that differ.
    std::map<std::string, std::pair<std::string, std::string>> by_key;
    for (const auto& t : want.trade)
      by_key[t.reporter + ">" + t.partner + " " + t.period + " " + t.flow].first +=
          "{" + TradeText(t) + "}";
    for (const auto& t : got.trade)
      by_key[t.reporter + ">" + t.partner + " " + t.period + " " + t.flow].second +=
          "{" + TradeText(t) + "}";
    bool rows_differ = false;
    for (const auto& [key, rows] : by_key) {
      if (rows.first != rows.second) {
        out.push_back("trade " + key + ": want " + rows.first + "; got " + rows.second);
        rows_differ = true;
      }
    }
    if (!rows_differ) out.push_back("trade: same rows in a different order");
  }
  if (want.trade_totals != got.trade_totals) {
    std::string ws, gs;
    for (const auto& t : want.trade_totals)
      ws += " " + t.reporter + "/" + t.currency + "=" + Text(t.certain) + ".." + Text(t.possible);
    for (const auto& t : got.trade_totals)
      gs += " " + t.reporter + "/" + t.currency + "=" + Text(t.certain) + ".." + Text(t.possible);
    out.push_back("trade_totals: want" + ws + "; got" + gs);
  }
  return out;
}

// --- The generator ---------------------------------------------------------------

// One event to append: a fact (with an explicit id, so corrections can name
// it before it is written), a retraction, an amendment, or a copy of a known
// fact from a new source (which the log records as a corroboration).
struct Planned {
  enum class Type { kFact, kRetraction, kAmendment, kCopy } type = Type::kFact;
  std::string id, date, target;
  Fact fact;  // the fact, the replacement, or the copied fact
};

// A fact and its amendments; the head is the latest version.
struct Chain {
  std::vector<std::string> ids;  // the fact's id, then each amendment's
  Fact fact;                     // the head's payload
  std::string date;              // the head's date
  bool dead = false;             // the head is retracted: nothing more can be corrected
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Uniform(0, static_cast<int>(v.size()) - 1))];
  }
  std::mt19937_64& rng() { return rng_; }

  static std::string Pad(int v, int width = 2) {
    std::string s = std::to_string(v);
    return std::string(width - std::min<int>(width, s.size()), '0') + s;
  }
  std::string Day(int y) {
    const int m = Uniform(1, 12);
    return std::to_string(y) + "-" + Pad(m) + "-" +
           Pad(Uniform(1, static_cast<int>(DaysInMonth(y, m))));
  }
  std::string Month(int y) { return std::to_string(y) + "-" + Pad(Uniform(1, 12)); }

  // A valid time near `year`, in one of the EDTF forms the log accepts, all
  // within 1985-2000 (and one open end).
  std::string Date(int year) {
    const int y = std::clamp(year + Uniform(-1, 1), 1985, 2000);
    const int form = Uniform(0, 99);
    if (form < 26) return Day(y);
    if (form < 44) return Month(y);
    if (form < 58) return std::to_string(y);
    if (form < 61) return std::to_string(y / 10) + "X";  // 199X
    if (form < 64) return Month(y) + "-XX";              // 1994-05-XX
    if (form < 67) return std::to_string(y) + "?";       // 1994?
    if (form < 70) return Month(y) + "~";                // 1994-05~
    if (form < 72) return Day(y) + "%";                  // 1994-05-12%
    if (form < 77)
      return std::to_string(y) + "/" + std::to_string(std::min(2000, y + Uniform(1, 3)));
    if (form < 81) {
      const int m1 = Uniform(1, 11), m2 = Uniform(m1 + 1, 12);
      return std::to_string(y) + "-" + Pad(m1) + "/" + std::to_string(y) + "-" + Pad(m2);
    }
    if (form < 84) {
      const std::string a = Day(y), b = Day(std::min(2000, y + Uniform(0, 1)));
      return std::min(a, b) + "/" + std::max(a, b);
    }
    if (form < 89) return "../" + (Chance(0.5) ? Day(y) : std::to_string(y));
    if (form < 93)
      return std::to_string(std::min(y, 1999)) + "-" + std::to_string(Uniform(21, 24));  // season
    if (form < 95) return Month(y) + "/..";
    return Day(y);
  }

 private:
  std::mt19937_64 rng_;
};

constexpr int kCities = 28;
const char* const kCountries[] = {"CN", "DE", "FR", "IT", "PL"};

struct World {
  std::vector<std::string> cities, orgs;
  std::map<std::string, std::string> country;
};

std::string CurrencyOf(const std::string& country) {
  return country == "CN" ? "CNY" : country == "PL" ? "PLN" : "EUR";
}

// Every fact of the log, unbatched: entity registrations first, then edge
// histories, counter facts and reports.
std::vector<Planned> PlanFacts(Generator& g, World* world) {
  std::vector<Planned> regs, facts;
  int next_id = 0;
  auto add = [&](std::vector<Planned>* to, Fact f, std::string date) {
    Planned p;
    p.id = "f" + Generator::Pad(next_id++, 4);
    f.label = f.label.empty() ? "generated " + p.id : f.label + " " + p.id;
    p.fact = std::move(f);
    p.date = std::move(date);
    to->push_back(std::move(p));
  };
  for (int i = 0; i < kCities; ++i) {
    Fact f;
    f.entity = "city-" + Generator::Pad(i);
    f.country = kCountries[g.Uniform(0, 4)];
    world->cities.push_back(f.entity);
    world->country[f.entity] = f.country;
    add(&regs, f, "1980");
  }
  {
    // A bloc has no country: its partners count it under the empty key.
    Fact f;
    f.entity = "bloc-eu";
    world->cities.push_back(f.entity);
    world->country[f.entity] = "";
    add(&regs, f, "1980");
  }
  for (int i = 0; i < 3; ++i) {
    Fact f;
    f.entity = "org-" + std::to_string(i);
    f.country = kCountries[i];
    world->orgs.push_back(f.entity);
    world->country[f.entity] = f.country;
    add(&regs, f, "1980");
  }
  auto two_cities = [&] {
    std::string a = g.Pick(world->cities), b;
    do b = g.Pick(world->cities);
    while (b == a);
    return std::pair(a, b);
  };

  // Edge histories: 1-4 events, mostly alternating establish/end (and
  // sometimes the same kind twice), dates drifting forward, and sometimes the
  // very same date as the previous event, to exercise same-day ties.
  // A dense history has 4-6 events around one year, in any order, so that
  // wide settled events overlap narrow ones (what checkpoint compaction of
  // an edge must get right).
  auto history = [&](Kind establish, Kind end, const std::string& a, const std::string& b,
                     const std::string& subkind, bool dense = false) {
    const int roll = g.Uniform(0, 99);
    const int n = dense ? g.Uniform(4, 6) : roll < 30 ? 1 : roll < 65 ? 2 : roll < 87 ? 3 : 4;
    bool is_establish = g.Chance(0.9);
    int year = g.Uniform(1986, 1997);
    std::string previous;
    for (int j = 0; j < n; ++j) {
      Fact f;
      f.kind = is_establish ? establish : end;
      f.a = a;
      f.b = b;
      f.subkind = subkind;
      std::string date = !previous.empty() && g.Chance(0.15) ? previous : g.Date(year);
      add(&facts, f, date);
      previous = date;
      if (!dense) year = std::min(2000, year + g.Uniform(0, 3));
      if (dense ? g.Chance(0.5) : !g.Chance(0.1)) is_establish = !is_establish;
    }
  };
  std::set<std::tuple<std::string, std::string, std::string>> edges;  // one history per edge
  for (int i = 0; i < 42; ++i) {
    auto [a, b] = two_cities();
    const int k = g.Uniform(0, 9);
    const std::string kind = kPartnershipKinds[k < 6 ? 0 : k < 8 ? 1 : k < 9 ? 2 : 4].name;
    if (!edges.insert({std::min(a, b), std::max(a, b), kind}).second) continue;
    history(Kind::kPartnershipEstablished, Kind::kPartnershipEnded, a, b, kind);
  }
  for (int i = 0; i < 18; ++i) {
    auto [a, b] = two_cities();
    const std::string mode = kRouteModes[g.Uniform(0, 4)].name;
    if (!edges.insert({a, b, "route " + mode}).second) continue;
    history(Kind::kRouteOpened, Kind::kRouteClosed, a, b, mode);
  }
  for (int i = 0; i < 8; ++i) {
    auto [a, b] = two_cities();
    if (!edges.insert({std::min(a, b), std::max(a, b), "other"}).second) continue;
    history(Kind::kPartnershipEstablished, Kind::kPartnershipEnded, a, b, "other", /*dense=*/true);
  }

  auto counter = [&](Kind kind, int how_many) {
    for (int i = 0; i < how_many; ++i) {
      Fact f;
      f.kind = kind;
      auto [a, b] = two_cities();
      f.who = a;
      if (kind == Kind::kAgreement) {
        std::set<std::string> parties = {a, b};
        if (g.Chance(0.3)) parties.insert(g.Pick(world->cities));
        f.parties.assign(parties.begin(), parties.end());
        f.who.clear();
      }
      if (kind == Kind::kOffice) f.office_host = b;
      if (kind == Kind::kAward) f.grantor = b;
      if (kind == Kind::kOrganisation) f.organisation = g.Pick(world->orgs);
      add(&facts, f, g.Date(g.Uniform(1986, 1999)));
    }
  };
  counter(Kind::kForum, 24);
  counter(Kind::kAgreement, 14);
  counter(Kind::kOffice, 12);
  counter(Kind::kOrganisation, 6);
  counter(Kind::kAward, 10);
  counter(Kind::kInitiative, 10);

  // Reports: a few keys, each reported several times (revisions, later
  // figures), with amounts and values that are whole numbers.
  for (int key = 0; key < 8; ++key) {
    auto [reporter, partner] = two_cities();
    const std::string flow = kFlows[g.Uniform(0, 2)].name;
    const int period = g.Uniform(1987, 1997);
    const int reports = g.Uniform(1, 5);
    for (int r = 0; r < reports; ++r) {
      Fact f;
      f.kind = Kind::kTrade;
      f.who = reporter;
      f.partner = partner;
      f.period = std::to_string(period);
      f.flow = flow;
      f.currency = CurrencyOf(world->country[reporter]);
      f.amount = static_cast<double>(1000 * (next_id + 1) + g.Uniform(0, 999));
      add(&facts, f, g.Date(period + g.Uniform(0, 2)));
    }
  }
  for (int key = 0; key < 8; ++key) {
    const std::string entity = g.Pick(world->cities);
    const std::string metric = g.Chance(0.5) ? "partner_cities" : "partner_countries";
    const std::string scope = g.Chance(0.3) ? g.Pick(world->cities) : "";
    const int reports = g.Uniform(1, 5);
    int year = g.Uniform(1986, 1995);
    for (int r = 0; r < reports; ++r) {
      Fact f;
      f.kind = Kind::kCount;
      f.who = entity;
      f.metric = metric;
      f.scope = scope;
      f.value = g.Uniform(1, 300);
      f.qualifier = kQualifiers[g.Uniform(0, 4)].name;
      add(&facts, f, g.Date(year));
      year = std::min(2000, year + g.Uniform(0, 3));
    }
  }
  std::shuffle(facts.begin(), facts.end(), g.rng());
  regs.insert(regs.end(), facts.begin(), facts.end());
  return regs;
}

// A changed version of `f` for an amendment: a new date, a changed field, or both.
void Mutate(Generator& g, const World& world, Fact* f, std::string* date) {
  const int roll = g.Uniform(0, 99);
  if (roll < 60 || roll >= 85) {
    EdtfDate parsed;
    int year = 1992;
    if (ParseEdtf(*date, &parsed).ok() && parsed.earliest != kUnboundedStart) {
      int64_t y;
      unsigned m, d;
      CivilFromDays(parsed.earliest, &y, &m, &d);
      year = static_cast<int>(y);
    }
    *date = g.Date(year);
  }
  if (roll >= 60) {
    switch (f->kind) {
      case Kind::kPartnershipEstablished:
      case Kind::kPartnershipEnded:
        if (g.Chance(0.5)) {
          f->subkind = kPartnershipKinds[g.Uniform(0, 2)].name;
        } else {
          std::string b;
          do b = g.Pick(world.cities);
          while (b == f->a);
          f->b = b;
          if (f->b < f->a) std::swap(f->a, f->b);
        }
        break;
      case Kind::kRouteOpened:
      case Kind::kRouteClosed:
        f->subkind = kRouteModes[g.Uniform(0, 4)].name;
        break;
      case Kind::kForum:
      case Kind::kInitiative:
        f->who = g.Pick(world.cities);
        break;
      case Kind::kAward: {
        std::string who;
        do who = g.Pick(world.cities);
        while (who == f->grantor);
        f->who = who;
        break;
      }
      case Kind::kOffice: {
        std::string host;
        do host = g.Pick(world.cities);
        while (host == f->who);
        f->office_host = host;
        break;
      }
      case Kind::kAgreement: {
        std::set<std::string> parties(f->parties.begin(), f->parties.end());
        parties.insert(g.Pick(world.cities));
        f->parties.assign(parties.begin(), parties.end());
        break;
      }
      case Kind::kOrganisation:
        f->who = g.Pick(world.cities);
        break;
      case Kind::kTrade:
        f->amount += g.Uniform(1, 500);
        break;
      case Kind::kCount:
        f->value = g.Uniform(1, 300);
        f->qualifier = kQualifiers[g.Uniform(0, 4)].name;
        break;
      default:
        break;
    }
  }
}

PendingEvent ToPending(const Planned& p, int source) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto ev = message->initRoot<schema::Event>();
  ev.initValidTime().setEdtf(p.date);
  if (p.type != Planned::Type::kCopy) ev.setId(p.id);
  auto s = ev.initSources(1)[0];
  s.setTitle((p.type == Planned::Type::kCopy ? "second report " : "report ") +
             std::to_string(source));
  s.setPublisher("twinline property test");
  s.setPublished("2024");
  s.setLanguage("en");
  auto payload = ev.getPayload();
  switch (p.type) {
    case Planned::Type::kFact:
    case Planned::Type::kCopy:
      SetFact(payload, p.fact);
      break;
    case Planned::Type::kRetraction: {
      auto r = payload.initRetraction();
      r.setTarget(p.target);
      r.setReason("withdrawn " + p.id);
      break;
    }
    case Planned::Type::kAmendment: {
      auto a = payload.initAmendment();
      a.setTarget(p.target);
      a.setReason("corrected " + p.id);
      a.initValidTime().setEdtf(p.date);
      SetFact(a.initReplacement(), p.fact);
      break;
    }
  }
  return message;
}

// Splits the planned facts into batches and interleaves corrections: each
// batch after the first retracts and amends facts from any earlier batch or
// from itself (amendments of amendments included), and re-reports a few
// known facts from a new source; three batches also correct a city's
// registration.
std::vector<std::vector<Planned>> PlanBatches(Generator& g, const World& world,
                                              std::vector<Planned> facts, size_t batches) {
  const size_t entities = world.cities.size() + world.orgs.size();
  std::vector<size_t> cuts = {0, entities + (facts.size() - entities) / (batches + 2)};
  for (size_t i = 1; i < batches; ++i) {
    cuts.push_back(g.Uniform(
        static_cast<int>(cuts.back()) + 15,
        static_cast<int>(cuts.back() + 2 * (facts.size() - cuts.back()) / (batches - i + 1)) - 1));
  }
  cuts.back() = facts.size();

  std::vector<std::vector<Planned>> out;
  std::vector<Chain> chains, registrations;
  std::set<std::string> retracted;
  int next_correction = 0;
  for (size_t b = 0; b < batches; ++b) {
    std::vector<Planned> batch(facts.begin() + cuts[b], facts.begin() + cuts[b + 1]);
    for (const Planned& p : batch) {
      if (p.fact.kind == Kind::kEntity) {
        if (p.fact.entity.starts_with("city-")) registrations.push_back({{p.id}, p.fact, p.date});
        continue;
      }
      chains.push_back({{p.id}, p.fact, p.date});
    }
    // A correction goes after every version of its chain written in this
    // batch (anywhere, if they are all in earlier batches): an amendment
    // after its target, a retraction also after the amendment of its target.
    auto insert_after = [&](Planned c, const Chain& chain) {
      size_t from = 0;
      for (size_t i = 0; i < batch.size(); ++i) {
        if (std::find(chain.ids.begin(), chain.ids.end(), batch[i].id) != chain.ids.end())
          from = i + 1;
      }
      batch.insert(
          batch.begin() + g.Uniform(static_cast<int>(from), static_cast<int>(batch.size())),
          std::move(c));
    };
    if (b == 0) {
      out.push_back(std::move(batch));
      continue;
    }
    // A partner's country is the one registered in effect at K, whatever
    // D: move two cities to another country (the amendment dated in the
    // queried years) and withdraw one registration altogether.
    if (b == 2 || b == 3 || b == 4) {
      Chain& reg = registrations[g.Uniform(0, static_cast<int>(registrations.size()) - 1)];
      if (!reg.dead) {
        Planned c;
        c.target = reg.ids.back();
        if (b == 3) {
          c.type = Planned::Type::kRetraction;
          c.id = "r" + Generator::Pad(next_correction++, 4);
          c.date = "2024-03-01";
          reg.dead = true;
        } else {
          c.type = Planned::Type::kAmendment;
          c.id = "a" + Generator::Pad(next_correction++, 4);
          c.fact = reg.fact;
          do c.fact.country = kCountries[g.Uniform(0, 4)];
          while (c.fact.country == reg.fact.country);
          c.date = g.Date(1992);
          reg.ids.push_back(c.id);
          reg.fact = c.fact;
        }
        batch.insert(batch.begin() + g.Uniform(0, static_cast<int>(batch.size())), std::move(c));
      }
    }
    const int amendments = g.Uniform(6, 10), retractions = g.Uniform(3, 6),
              copies = g.Uniform(1, 3);
    for (int i = 0; i < amendments + retractions + copies; ++i) {
      // Favour chains already amended, to get amendments of amendments.
      std::vector<size_t> alive, amended;
      for (size_t c = 0; c < chains.size(); ++c) {
        if (chains[c].dead) continue;
        alive.push_back(c);
        if (chains[c].ids.size() > 1) amended.push_back(c);
      }
      if (alive.empty()) break;
      Chain& chain = chains[!amended.empty() && g.Chance(0.35) ? g.Pick(amended) : g.Pick(alive)];
      Planned c;
      if (i < amendments) {
        c.type = Planned::Type::kAmendment;
        c.id = "a" + Generator::Pad(next_correction++, 4);
        c.target = chain.ids.back();
        c.fact = chain.fact;
        c.date = chain.date;
        Mutate(g, world, &c.fact, &c.date);
        c.fact.label = "amended by " + c.id;
        insert_after(c, chain);
        chain.ids.push_back(c.id);
        chain.fact = c.fact;
        chain.date = c.date;
      } else if (i < amendments + retractions) {
        c.type = Planned::Type::kRetraction;
        c.id = "r" + Generator::Pad(next_correction++, 4);
        // Mostly the head (which ends the chain); sometimes a superseded version.
        std::vector<std::string> superseded;
        for (size_t k = 0; k + 1 < chain.ids.size(); ++k) {
          if (!retracted.count(chain.ids[k])) superseded.push_back(chain.ids[k]);
        }
        c.target = !superseded.empty() && g.Chance(0.3) ? g.Pick(superseded) : chain.ids.back();
        if (c.target == chain.ids.back()) chain.dead = true;
        retracted.insert(c.target);
        // A retraction's own date means nothing; make it sometimes fall
        // inside the queried years, sometimes after them.
        c.date = g.Chance(0.5) ? "2024-03-01" : g.Date(g.Uniform(1986, 1999));
        insert_after(c, chain);
      } else {
        // The head, re-reported from another source: a corroboration.
        c.type = Planned::Type::kCopy;
        c.id = chain.ids.back();
        c.fact = chain.fact;
        c.date = chain.date;
        if (chain.ids.size() > 1) continue;  // only an original fact can be re-reported as such
        insert_after(c, chain);
      }
    }
    out.push_back(std::move(batch));
  }
  return out;
}

// --- The harness -----------------------------------------------------------------

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;

class ProjectionPropertyTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenFreshLog("log"); }
  void TearDown() override { log_.reset(); }

  // Starts over on an empty log in a new directory.
  void OpenFreshLog(const std::string& name) {
    log_.reset();
    world_ = World();
    events_.clear();
    boundaries_.clear();
    OpenOptions options;
    options.create_if_missing = true;
    options.clock = &clock_;
    options.map_size = size_t{256} << 20;
    Status st = EventLog::Open(temp_ / name, options, &log_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Batch i is recorded at noon UTC on 2024-03-01 + i days.
  static int64_t BatchMicros(size_t i) {
    return (DaysFromCivil(2024, 3, 1) + static_cast<int64_t>(i)) * kMicrosPerDay +
           12 * int64_t{3'600'000'000};
  }

  void AppendBatch(size_t index, const std::vector<Planned>& planned) {
    clock_.Set(BatchMicros(index));
    std::vector<PendingEvent> batch;
    for (const Planned& p : planned) batch.push_back(ToPending(p, ++sources_));
    AppendResult result;
    Status st = log_->Append(batch, AppendOptions(), &result);
    ASSERT_TRUE(st.ok()) << "batch " << index << ": " << st.ToString() << " at #" << st.index();
    for (size_t i = 0; i < planned.size(); ++i) {
      const auto want = planned[i].type == Planned::Type::kCopy
                            ? AppendOutcome::Disposition::kCorroborated
                            : AppendOutcome::Disposition::kAppended;
      ASSERT_EQ(result.outcomes[i].disposition, want)
          << "batch " << index << " #" << i << " " << planned[i].id;
    }
    boundaries_.push_back(result.last_seq);
    ReloadEvents();
  }

  void ReloadEvents() {
    events_.clear();
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    ASSERT_TRUE(txn->Scan(1, UINT64_MAX,
                          [&](schema::Event::Reader ev) {
                            events_.push_back(EventFrom(ev));
                            return true;
                          })
                    .ok());
  }

  // Rebuilds the temporal index at the log's head: later batches are its tail.
  void RebuildIndex() {
    Status st = log_->UpdateDerived([](DerivedWriteTxn& txn) { return twinline::RebuildIndex(txn); });
    ASSERT_TRUE(st.ok()) << st.ToString();
    ++index_builds_;
  }

  // A day to ask about: uniform over 1984-2001, an event's boundary (or the
  // day before or after it), or a year end.
  int64_t RandomDay(Generator& g) {
    const int roll = g.Uniform(0, 99);
    if (roll < 35 || events_.empty()) {
      return g.Uniform(static_cast<int>(DaysFromCivil(1984, 1, 1)),
                       static_cast<int>(DaysFromCivil(2001, 12, 31)));
    }
    if (roll < 80) {
      for (int attempt = 0; attempt < 20; ++attempt) {
        const reference::Event& ev = g.Pick(events_);
        const int64_t day = g.Chance(0.5) ? ev.earliest : ev.latest;
        if (day == kUnboundedStart || day == kUnboundedEnd || ev.kind == Kind::kEntity) continue;
        return day + g.Uniform(-1, 1);
      }
    }
    return DaysFromCivil(g.Uniform(1984, 2001), 12, 31) + (g.Chance(0.2) ? 1 : 0);
  }

  // K: a batch boundary (resolved through ResolveKnownAt("@N")), any seq,
  // the current end, or everything.
  uint64_t RandomKnownSeq(Generator& g, const ReadTxn& txn) {
    const int roll = g.Uniform(0, 99);
    const uint64_t last = txn.LastSeq();
    if (roll < 35) {
      const uint64_t n = g.Pick(boundaries_);
      uint64_t seq = 0;
      Status st = ResolveKnownAt(txn, "@" + std::to_string(n), &seq);
      EXPECT_TRUE(st.ok()) << "@" << n << ": " << st.ToString();
      EXPECT_EQ(seq, n) << "@" << n;
      return seq;
    }
    if (roll < 75) return static_cast<uint64_t>(g.Uniform(0, static_cast<int>(last)));
    if (roll < 88) return last;
    return UINT64_MAX;
  }

  // Asks `queries` random questions of the log as it is now.
  void CheckRandomQueries(Generator& g, int queries, const std::string& phase) {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    for (int q = 0; q < queries; ++q) {
      Query query;
      query.as_of_day = RandomDay(g);
      query.known_seq = RandomKnownSeq(g, *txn);
      const int r = g.Uniform(0, 9);
      query.rule = r < 6 ? DateRule::kRange : r < 8 ? DateRule::kEarliest : DateRule::kLatest;
      CheckOne(*txn, query, phase);
      if (HasFatalFailure()) return;
    }
  }

  void CheckOne(const ReadTxn& txn, Query query, const std::string& phase) {
    const std::string where =
        phase + ": D=" + FormatDay(query.as_of_day) + " K=" +
        (query.known_seq == UINT64_MAX ? std::string("all") : std::to_string(query.known_seq)) +
        " rule=" + RuleName(query.rule) + " (log at seq " + std::to_string(txn.LastSeq()) + ")";
    ++comparisons_;
    ++by_rule_[static_cast<int>(query.rule)];
    Snapshot with, without;
    ReplayStats with_stats, without_stats;
    query.use_index = true;
    Status st = Replay(txn, query, &with, &with_stats);
    ASSERT_TRUE(st.ok()) << where << ": " << st.ToString();
    query.use_index = false;
    st = Replay(txn, query, &without, &without_stats);
    ASSERT_TRUE(st.ok()) << where << ": " << st.ToString();
    EXPECT_TRUE(with_stats.used_index) << where << ": " << with_stats.index_problem;
    EXPECT_FALSE(without_stats.used_index) << where << ": the index was used when told not to";
    const uint64_t k = std::min(query.known_seq, txn.LastSeq());
    if (with_stats.index_seq > 0 && k >= with_stats.index_seq) ++from_index_;
    if (with_stats.index_seq > 0 && k < with_stats.index_seq) ++before_index_;
    if (with_stats.tail_events > 0) ++with_tail_;

    // 1. From the index == replaying the log, hash included.
    const std::vector<std::string> replay_diff = Differences(without, with);
    if (!replay_diff.empty() || with.state_hash != without.state_hash) {
      ++failures_;
      if (failures_ <= kMaxReported) {
        std::string text;
        for (const auto& d : replay_diff) text += "\n  " + d;
        ADD_FAILURE() << where << ": the answer from the index (built at seq "
                      << with_stats.index_seq << ", tail " << with_stats.tail_events
                      << ") differs from the replay of the log (want = log, got = index)"
                      << (with.state_hash != without.state_hash ? " [state_hash differs]" : "")
                      << text;
      }
    }
    EXPECT_EQ(with.state_hash.size(), 64u) << where;

    // 2. Full replay == the reference.
    std::vector<std::string> notes;
    const Snapshot want = reference::Evaluate(events_, query.as_of_day, query.known_seq, query.rule,
                                              &ref_stats_, &notes);
    for (const auto& n : notes) ADD_FAILURE() << where << ": reference self-check: " << n;
    Tally(want);
    const std::vector<std::string> diff = Differences(want, without);
    if (!diff.empty()) {
      ++failures_;
      if (failures_ <= kMaxReported) {
        std::string text;
        for (size_t i = 0; i < diff.size() && i < 12; ++i) text += "\n  " + diff[i];
        if (diff.size() > 12) text += "\n  ... " + std::to_string(diff.size() - 12) + " more";
        ADD_FAILURE() << where
                      << ": replay differs from the reference (want = reference, got = Replay)"
                      << text << "\n  events involved:" << Involved(diff);
      }
    }
  }

  // Diffs `pairs` random pairs of queries, half of them two valid days at one
  // K, half two known-at seqs at one D (one rule each), and checks the cause
  // seqs of every row against the reference's, computed from the definition.
  void CheckRandomDiffs(Generator& g, int pairs, const std::string& phase) {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    for (int p = 0; p < pairs; ++p) {
      Query from, to;
      const int r = g.Uniform(0, 9);
      from.rule = r < 6 ? DateRule::kRange : r < 8 ? DateRule::kEarliest : DateRule::kLatest;
      to.rule = from.rule;
      if (p % 2 == 0) {
        from.known_seq = to.known_seq = RandomKnownSeq(g, *txn);
        from.as_of_day = RandomDay(g);
        to.as_of_day = RandomDay(g);
      } else {
        from.as_of_day = to.as_of_day = RandomDay(g);
        from.known_seq = RandomKnownSeq(g, *txn);
        to.known_seq = RandomKnownSeq(g, *txn);
      }
      if (g.Chance(0.5)) std::swap(from, to);  // later to earlier, too
      CheckDiff(*txn, from, to, phase);
      if (HasFatalFailure()) return;
    }
  }

  void CheckDiff(const ReadTxn& txn, const Query& from, const Query& to, const std::string& phase) {
    auto describe = [](const Query& q) {
      return "D=" + FormatDay(q.as_of_day) +
             " K=" + (q.known_seq == UINT64_MAX ? std::string("all") : std::to_string(q.known_seq));
    };
    const std::string where =
        phase + ": diff " + describe(from) + " -> " + describe(to) + " rule=" + RuleName(from.rule);
    ++diff_pairs_;
    Snapshot a, b;
    Query from_log = from, to_log = to;
    from_log.use_index = to_log.use_index = false;
    ASSERT_TRUE(Replay(txn, from_log, &a).ok()) << where;
    ASSERT_TRUE(Replay(txn, to_log, &b).ok()) << where;
    std::vector<DiffRow> rows;
    Status st = Diff(txn, a, b, &rows);
    ASSERT_TRUE(st.ok()) << where << ": " << st.ToString();
    // The diff from the index: the same rows, in the same order, with the
    // same texts and causes.
    {
      Snapshot ia, ib;
      std::vector<DiffRow> indexed;
      st = DiffAt(txn, from, to, &ia, &ib, &indexed);
      ASSERT_TRUE(st.ok()) << where << ": " << st.ToString();
      bool same = indexed.size() == rows.size();
      for (size_t i = 0; same && i < rows.size(); ++i) {
        same = indexed[i].what == rows[i].what && indexed[i].key == rows[i].key &&
               indexed[i].change == rows[i].change && indexed[i].before == rows[i].before &&
               indexed[i].after == rows[i].after && indexed[i].cause_seqs == rows[i].cause_seqs;
      }
      if (!same) {
        ++failures_;
        if (failures_ <= kMaxReported) {
          std::string text;
          for (const DiffRow& r : rows) text += "\n  log:   " + r.what + " " + r.key + " " + r.before + " -> " + r.after + " causes " + std::to_string(r.cause_seqs.size());
          for (const DiffRow& r : indexed) text += "\n  index: " + r.what + " " + r.key + " " + r.before + " -> " + r.after + " causes " + std::to_string(r.cause_seqs.size());
          ADD_FAILURE() << where << ": the diff from the index differs from the replays' diff" << text;
        }
      }
    }

    const Snapshot ref_a = reference::Evaluate(events_, from.as_of_day, from.known_seq, from.rule);
    const Snapshot ref_b = reference::Evaluate(events_, to.as_of_day, to.known_seq, to.rule);
    if (!Differences(ref_a, a).empty() || !Differences(ref_b, b).empty()) {
      ++failures_;
      ADD_FAILURE() << where << ": a replay differs from the reference (see the replay checks)";
      return;
    }
    const auto want = reference::DiffCauses(events_, ref_a, ref_b);
    auto seqs = [](const std::vector<uint64_t>& v) {
      std::string s;
      for (uint64_t x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
      return "[" + s + "]";
    };
    for (const DiffRow& row : rows) {
      ++diff_rows_;
      ++diff_rows_by_what_[row.what];
      if (!row.cause_seqs.empty()) ++diff_rows_with_causes_;
      diff_causes_ += row.cause_seqs.size();
      auto it = want.find({row.what, row.key});
      if (it == want.end()) {
        ++failures_;
        if (failures_ <= kMaxReported) {
          ADD_FAILURE() << where << ": the reference has no row " << row.what << " " << row.key;
        }
        continue;
      }
      if (it->second != row.cause_seqs) {
        ++failures_;
        if (failures_ <= kMaxReported) {
          std::string text;
          std::set<uint64_t> involved(it->second.begin(), it->second.end());
          involved.insert(row.cause_seqs.begin(), row.cause_seqs.end());
          for (const reference::Event& ev : events_) {
            if (involved.count(ev.seq)) text += "\n    " + EventText(ev);
          }
          ADD_FAILURE() << where << ": causes of " << row.what << " " << row.key << " ("
                        << row.before << " -> " << row.after << "): want " << seqs(it->second)
                        << ", got " << seqs(row.cause_seqs) << "\n  events:" << text;
        }
      }
    }
  }

  // Counts what the expected answers contain, so the test can show it
  // compared more than empty or certain-only snapshots.
  void Tally(const Snapshot& s) {
    for (const EdgeRow& e : s.edges)
      ++(e.status == Tri::kMaybe ? seen_.maybe_edges : seen_.yes_edges);
    for (const auto& [entity, c] : s.counts) {
      for (const Range* r : {&c.partnerships, &c.routes, &c.forums, &c.agreements, &c.offices,
                             &c.offices_hosted, &c.organisations, &c.awards, &c.initiatives}) {
        if (r->certain < r->possible) ++seen_.uncertain_ranges;
      }
      for (const ReportedCount& r : c.reported)
        ++(r.status == Tri::kMaybe ? seen_.maybe_reports : seen_.yes_reports);
    }
    for (const TradeRow& t : s.trade)
      ++(t.status == Tri::kMaybe ? seen_.maybe_trade : seen_.yes_trade);
  }

  // The log events that name an entity or edge mentioned in the first
  // difference, for reproducing it.
  std::string Involved(const std::vector<std::string>& diff) {
    std::set<std::string> names;
    for (const auto& c : world_.cities) {
      if (diff.front().find(c + " ") != std::string::npos ||
          diff.front().find(c + "]") != std::string::npos ||
          diff.front().find(c + ">") != std::string::npos) {
        names.insert(c);
      }
    }
    std::set<std::string> ids;
    std::string text;
    for (const reference::Event& ev : events_) {
      const Fact& f = ev.fact;
      bool hit = false;
      if (ev.kind != Kind::kEntity && ev.kind != Kind::kRetraction &&
          ev.kind != Kind::kCorroboration) {
        const bool edge = !f.a.empty();
        if (edge) {
          hit = names.count(f.a) && names.count(f.b);
          if (names.size() == 1) hit = names.count(f.a) || names.count(f.b);
        } else {
          hit = names.count(f.who) || names.count(f.office_host) || names.count(f.partner);
          for (const auto& p : f.parties) hit = hit || names.count(p);
        }
      }
      if (!hit && !ids.count(ev.target)) continue;
      ids.insert(ev.id);
      text += "\n    " + EventText(ev);
    }
    return text;
  }

  static constexpr int kMaxReported = 8;

  test::TempDir temp_{"twinline-property"};
  FakeClock clock_{0};
  std::unique_ptr<EventLog> log_;
  World world_;
  std::vector<reference::Event> events_;
  std::vector<uint64_t> boundaries_;  // the last seq of each batch
  int sources_ = 0;
  int index_builds_ = 0;
  uint64_t comparisons_ = 0, from_index_ = 0, before_index_ = 0, with_tail_ = 0, failures_ = 0;
  uint64_t diff_pairs_ = 0, diff_rows_ = 0, diff_rows_with_causes_ = 0, diff_causes_ = 0;
  std::map<std::string, uint64_t> diff_rows_by_what_;
  uint64_t by_rule_[3] = {0, 0, 0};
  reference::Stats ref_stats_;
  struct {
    uint64_t yes_edges = 0, maybe_edges = 0, uncertain_ranges = 0, yes_reports = 0,
             maybe_reports = 0, yes_trade = 0, maybe_trade = 0;
  } seen_;
};

TEST_F(ProjectionPropertyTest, IndexAnswerEqualsReplayOfTheLogAndReference) {
  constexpr uint64_t kSeeds[] = {20240301, 1985};
  constexpr size_t kBatches = 6;
  constexpr int kQueriesPerRound = 40;
  constexpr int kDiffsPerRound = 16;
  std::vector<int64_t> year_ends;
  for (int y = 1984; y <= 2001; ++y) year_ends.push_back(DaysFromCivil(y, 12, 31));
  uint64_t retractions = 0, amendments = 0, corroborations = 0, open_starts = 0, events = 0;

  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    OpenFreshLog("seed-" + std::to_string(seed));
    if (HasFatalFailure()) return;
    Generator g(seed);
    std::vector<Planned> facts = PlanFacts(g, &world_);
    const auto batches = PlanBatches(g, world_, std::move(facts), kBatches);
    for (size_t b = 0; b < batches.size(); ++b) {
      AppendBatch(b, batches[b]);
      if (HasFatalFailure()) return;
      // The index after some batches; the batches after them append
      // backdated facts and corrections of its facts, read as its tail.
      if (b == 1 || b == 3 || b == 4) RebuildIndex();
      if (HasFatalFailure()) return;
      CheckRandomQueries(g, kQueriesPerRound,
                         "seed " + std::to_string(seed) + ", after batch " + std::to_string(b));
      if (HasFatalFailure()) return;
      CheckRandomDiffs(g, kDiffsPerRound,
                       "seed " + std::to_string(seed) + ", after batch " + std::to_string(b));
      if (HasFatalFailure()) return;
    }
    // The index of the complete log: no tail.
    RebuildIndex();
    if (HasFatalFailure()) return;
    CheckRandomQueries(g, 2 * kQueriesPerRound,
                       "seed " + std::to_string(seed) + ", after the final rebuild");
    if (HasFatalFailure()) return;
    CheckRandomDiffs(g, 2 * kDiffsPerRound,
                     "seed " + std::to_string(seed) + ", after the final rebuild");
    if (HasFatalFailure()) return;

    for (const auto& ev : events_) {
      retractions += ev.kind == Kind::kRetraction;
      amendments += ev.kind == Kind::kAmendment;
      corroborations += ev.kind == Kind::kCorroboration;
      open_starts += ev.earliest == kUnboundedStart;
    }
    events += events_.size();
  }

  std::cout << "[ property ] " << std::size(kSeeds) << " logs of " << kBatches << " batches, "
            << events << " events (" << amendments << " amendments, " << retractions
            << " retractions, " << corroborations << " corroborations, " << open_starts
            << " open starts); " << index_builds_ << " index builds\n"
            << "[ property ] " << comparisons_ << " (D, K, rule) comparisons (range " << by_rule_[0]
            << ", earliest " << by_rule_[1] << ", latest " << by_rule_[2] << "), " << from_index_
            << " at or after the index (" << with_tail_ << " with a tail), " << before_index_
            << " before it; "
            << ref_stats_.edges_by_worlds << " edge statuses by world enumeration ("
            << ref_stats_.worlds << " worlds), " << ref_stats_.edges_by_last_event
            << " by last-event search; " << failures_ << " disagreements\n"
            << "[ property ] expected rows compared: edges " << seen_.yes_edges << " yes / "
            << seen_.maybe_edges << " maybe; " << seen_.uncertain_ranges
            << " counter ranges with certain < possible; reported " << seen_.yes_reports
            << " yes / " << seen_.maybe_reports << " maybe; trade " << seen_.yes_trade << " yes / "
            << seen_.maybe_trade << " maybe\n";
  std::cout << "[ property ] " << diff_pairs_ << " diffs: " << diff_rows_ << " rows ("
            << diff_rows_with_causes_ << " with causes, " << diff_causes_ << " causes;";
  for (const auto& [what, n] : diff_rows_by_what_) std::cout << " " << what << " " << n;
  std::cout << ") checked against the reference's causes\n";
  EXPECT_EQ(failures_, 0u);
  EXPECT_GT(amendments, 40u);
  EXPECT_GT(retractions, 20u);
  EXPECT_GT(corroborations, 0u);
  EXPECT_GT(from_index_, 0u) << "no query was answered at or after a stored index";
  EXPECT_GT(with_tail_, 0u) << "no query read a tail";
  EXPECT_GT(before_index_, 0u) << "no query was known before the index";
  EXPECT_EQ(ref_stats_.method_disagreements, 0u);
  EXPECT_GT(seen_.maybe_edges, 100u);
  EXPECT_GT(seen_.uncertain_ranges, 100u);
  EXPECT_GT(seen_.maybe_reports, 20u);
  EXPECT_GT(seen_.maybe_trade, 20u);
  EXPECT_GT(ref_stats_.edges_by_worlds, ref_stats_.edges_by_last_event);
  EXPECT_GT(diff_rows_with_causes_, 1000u);
  for (const char* what : {"partnership", "route", "count", "reported", "trade"}) {
    EXPECT_GT(diff_rows_by_what_[what], 20u) << what;
  }
}

TEST_F(ProjectionPropertyTest, EdgeWithOverlappingEventsIsExactOnEveryDayFromTheIndex) {
  // The shape docs/PROJECTIONS.md §5 warns about, in every seq order: an
  // establish p on [1, 5], an end k on [0, 10] and an end u on [8, 20]
  // (days from 1990-01-01), indexed, and every (D, rule) from day -1 to
  // day 22 compared with the reference: the edge's step function must have
  // a breakpoint wherever its status changes.
  const int64_t day0 = DaysFromCivil(1990, 1, 1);
  auto interval = [&](int from, int to) {
    return FormatDay(day0 + from) + "/" + FormatDay(day0 + to);
  };
  auto edge_event = [&](std::string id, Kind kind, std::string date) {
    Planned p;
    p.id = std::move(id);
    p.fact.kind = kind;
    p.fact.a = "city-00";
    p.fact.b = "city-01";
    p.fact.subkind = "sister_city";
    p.fact.label = p.id;
    p.date = std::move(date);
    return p;
  };
  std::vector<Planned> edge = {edge_event("p", Kind::kPartnershipEstablished, interval(1, 5)),
                               edge_event("k", Kind::kPartnershipEnded, interval(0, 10)),
                               edge_event("u", Kind::kPartnershipEnded, interval(8, 20))};
  std::vector<int> order = {0, 1, 2};
  std::vector<int64_t> every_day;
  for (int d = -1; d <= 22; ++d) every_day.push_back(day0 + d);
  int permutation = 0;
  do {
    OpenFreshLog("order-" + std::to_string(permutation++));
    if (HasFatalFailure()) return;
    std::vector<Planned> batch;
    for (const char* slug : {"city-00", "city-01"}) {
      Planned reg;
      reg.id = std::string("reg-") + slug;
      reg.fact.entity = slug;
      reg.fact.country = "DE";
      reg.date = "1980";
      batch.push_back(reg);
      world_.cities.push_back(slug);
    }
    for (int i : order) batch.push_back(edge[i]);
    AppendBatch(0, batch);
    if (HasFatalFailure()) return;
    RebuildIndex();
    if (HasFatalFailure()) return;
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    const std::string phase =
        std::string("seq order ") + edge[order[0]].id + edge[order[1]].id + edge[order[2]].id;
    for (int64_t day : every_day) {
      for (DateRule rule : {DateRule::kRange, DateRule::kEarliest, DateRule::kLatest}) {
        Query query;
        query.as_of_day = day;
        query.rule = rule;
        CheckOne(*txn, query, phase);
        if (HasFatalFailure()) return;
      }
    }
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(failures_, 0u);
  EXPECT_EQ(from_index_, comparisons_) << "every query should have been answered from the index";
  EXPECT_GT(seen_.maybe_edges, 0u);
}

// A sink that collects the rows like Replay does and checks the order of
// the calls: Begin, edges, counts, trade rows, totals, End.
class OrderCheckingSink : public SnapshotSink {
 public:
  Status Begin(uint64_t known_seq) override {
    Enter(0);
    snapshot.known_seq = known_seq;
    return Status::Ok();
  }
  Status Edge(EdgeRow row) override {
    Enter(1);
    snapshot.edges.push_back(std::move(row));
    return Status::Ok();
  }
  Status Count(std::string entity, EntityCounts counts) override {
    Enter(2);
    if (!snapshot.counts.empty() && snapshot.counts.rbegin()->first >= entity) in_order = false;
    snapshot.counts.emplace(std::move(entity), std::move(counts));
    return Status::Ok();
  }
  Status Trade(TradeRow row) override {
    Enter(3);
    snapshot.trade.push_back(std::move(row));
    return Status::Ok();
  }
  Status Total(TradeTotal total) override {
    Enter(4);
    snapshot.trade_totals.push_back(std::move(total));
    return Status::Ok();
  }
  Status End(const std::string& state_hash) override {
    Enter(5);
    snapshot.state_hash = state_hash;
    return Status::Ok();
  }

  Snapshot snapshot;
  bool in_order = true;

 private:
  // Stages only move forward; Begin and End happen once.
  void Enter(int stage) {
    if (stage < stage_ || (stage == stage_ && (stage == 0 || stage == 5)) ||
        (stage_ == -1 && stage != 0)) {
      in_order = false;
    }
    stage_ = stage;
  }
  int stage_ = -1;
};

// The full snapshot's rows of `rows` only, with the hash a replay selecting
// them gives.
// The rows of `full` a query selecting `rows` for `entity` (empty: all)
// gives, with their hash: the selected sets, brief count rows under
// kCountsBrief, and only the entity's rows (its edges, its count row, the
// trade rows it reports or is the partner of, the totals it reports).
Snapshot Restricted(const Snapshot& full, RowSets rows, const std::string& entity = "") {
  Snapshot s;
  s.known_seq = full.known_seq;
  auto mine = [&](const std::string& slug) { return entity.empty() || slug == entity; };
  if ((rows & kEdgeRows) != 0) {
    for (const EdgeRow& e : full.edges) {
      if (mine(e.a) || mine(e.b)) s.edges.push_back(e);
    }
  }
  if ((rows & kCountRows) != 0) {
    for (const auto& [slug, c] : full.counts) {
      if (!mine(slug)) continue;
      EntityCounts counts = c;
      if (rows & kCountsBrief) {
        counts.partnerships_by_kind.clear();
        counts.partnerships_by_country.clear();
        counts.routes_by_mode.clear();
        counts.reported.clear();
        counts.open_events.clear();
      }
      s.counts.emplace(slug, std::move(counts));
    }
  }
  if ((rows & kTradeRows) != 0) {
    for (const TradeRow& t : full.trade) {
      if (mine(t.reporter) || mine(t.partner)) s.trade.push_back(t);
    }
    for (const TradeTotal& t : full.trade_totals) {
      if (mine(t.reporter)) s.trade_totals.push_back(t);
    }
  }
  s.state_hash = projection_internal::SnapshotHash(s, rows, entity);
  return s;
}

// Query::rows and Query::entity. On a random log with the index rebuilt
// after batches 1 and 3 (later batches read as its tail), for random
// (D, K, rule): every partial selection (with brief count rows or not), and
// one entity's rows, from the index and from replaying the log, give
// exactly those rows of the full snapshot, the others empty, and the hash
// of those rows, which is never the full snapshot's. ReplayInto delivers
// the full snapshot's rows in order, with its hash. (The full selection
// itself is checked against the reference by
// IndexAnswerEqualsReplayOfTheLogAndReference.)
TEST_F(ProjectionPropertyTest, EveryRowSelectionGivesThoseRowsOfTheFullSnapshot) {
  Generator g(4242);
  std::vector<Planned> facts = PlanFacts(g, &world_);
  const auto batches = PlanBatches(g, world_, std::move(facts), 4);
  uint64_t compared = 0, edge_rows = 0, count_rows = 0, trade_rows = 0, entities = 0;
  for (size_t b = 0; b < batches.size(); ++b) {
    AppendBatch(b, batches[b]);
    if (HasFatalFailure()) return;
    if (b == 1 || b == 3) RebuildIndex();
    if (HasFatalFailure()) return;
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    for (int q = 0; q < 10; ++q) {
      Query query;
      query.as_of_day = RandomDay(g);
      query.known_seq = RandomKnownSeq(g, *txn);
      const int r = g.Uniform(0, 9);
      query.rule = r < 6 ? DateRule::kRange : r < 8 ? DateRule::kEarliest : DateRule::kLatest;
      query.use_index = false;  // the replay of the log
      const std::string where = "batch " + std::to_string(b) + ": D=" +
                                FormatDay(query.as_of_day) + " K=" +
                                std::to_string(query.known_seq) + " rule=" + RuleName(query.rule);
      Snapshot full;
      ReplayStats full_stats;
      ASSERT_TRUE(Replay(*txn, query, &full, &full_stats).ok()) << where;
      ASSERT_EQ(full.state_hash, projection_internal::SnapshotHash(full)) << where;
      edge_rows += full.edges.size();
      count_rows += full.counts.size();
      trade_rows += full.trade.size();

      OrderCheckingSink sink;
      ASSERT_TRUE(ReplayInto(*txn, query, &sink).ok()) << where;
      EXPECT_TRUE(sink.in_order) << where;
      EXPECT_TRUE(Differences(full, sink.snapshot).empty()) << where;
      EXPECT_EQ(sink.snapshot.state_hash, full.state_hash) << where;

      // One entity: one that has rows, and one picked at random.
      std::vector<std::string> entity_picks = {""};
      if (!full.counts.empty()) entity_picks.push_back(std::next(full.counts.begin(), g.Uniform(0, static_cast<int>(full.counts.size()) - 1))->first);
      entity_picks.push_back(g.Pick(world_.cities));
      for (const std::string& entity : entity_picks) {
        for (RowSets rows = 0; rows <= kAllRows; ++rows) {
          for (RowSets brief : {RowSets{0}, kCountsBrief}) {
            if (rows == kAllRows && brief == 0 && entity.empty()) continue;  // the full one
            for (bool use_index : {false, true}) {
              Query partial = query;
              partial.rows = rows | brief;
              partial.entity = entity;
              partial.use_index = use_index;
              const std::string at = where + " rows=" + std::to_string(rows | brief) +
                                     " entity=" + entity + (use_index ? " (index)" : " (log)");
              Snapshot got;
              ReplayStats stats;
              ASSERT_TRUE(Replay(*txn, partial, &got, &stats).ok()) << at;
              ++compared;
              if (!entity.empty()) ++entities;
              const Snapshot want = Restricted(full, rows | brief, entity);
              const std::vector<std::string> diff = Differences(want, got);
              std::string text;
              for (size_t i = 0; i < diff.size() && i < 8; ++i) text += "\n  " + diff[i];
              EXPECT_TRUE(diff.empty()) << at << text;
              EXPECT_EQ(got.state_hash, want.state_hash) << at;
              EXPECT_NE(got.state_hash, full.state_hash) << at;
              if (!use_index) {
                EXPECT_LE(stats.events_applied, full_stats.events_applied) << at;
              }
              if (HasFailure()) return;
            }
          }
        }
      }
    }
  }
  std::cout << "[ property ] " << compared << " partial selections compared (" << entities
            << " for one entity); full snapshots had " << edge_rows << " edge, " << count_rows
            << " count, " << trade_rows << " trade rows\n";
  EXPECT_GT(edge_rows, 100u);
  EXPECT_GT(count_rows, 100u);
  EXPECT_GT(trade_rows, 100u);
}

// What happened in a window of days (projections/window_events.h): the
// same facts from the temporal index (with a tail, and at K before it) as
// from the replay of the log, for every row selection, one entity or all,
// one kind of edge or both; and each fact's place in the window is the
// contract's, from its day range.
TEST_F(ProjectionPropertyTest, WindowEventsAreTheSameFromTheIndexAndTheLog) {
  Generator g(777);
  std::vector<Planned> facts = PlanFacts(g, &world_);
  const auto batches = PlanBatches(g, world_, std::move(facts), 4);
  uint64_t compared = 0, listed = 0, maybe = 0, before_index = 0;
  for (size_t b = 0; b < batches.size(); ++b) {
    AppendBatch(b, batches[b]);
    if (HasFatalFailure()) return;
    if (b == 1 || b == 2) RebuildIndex();
    if (HasFatalFailure()) return;
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    for (int q = 0; q < 12; ++q) {
      const int64_t d1 = RandomDay(g), d2 = RandomDay(g);
      const int64_t after = std::min(d1, d2), last = std::max(d1, d2);
      Query query;
      query.known_seq = RandomKnownSeq(g, *txn);
      const int r = g.Uniform(0, 9);
      query.rule = r < 6 ? DateRule::kRange : r < 8 ? DateRule::kEarliest : DateRule::kLatest;
      before_index += b >= 1 && std::min(query.known_seq, txn->LastSeq()) < boundaries_[1] ? 1 : 0;
      for (const std::string& entity : {std::string(), g.Pick(world_.cities)}) {
        for (RowSets rows : {kAllRows, kEdgeRows, RowSets{kEdgeRows | kCountRows}, kTradeRows}) {
          for (std::optional<EdgeRow::Kind> only :
               {std::optional<EdgeRow::Kind>(), std::optional(EdgeRow::Kind::kPartnership),
                std::optional(EdgeRow::Kind::kRoute)}) {
            const std::string where =
                "batch " + std::to_string(b) + ": (" + FormatDay(after) + ", " + FormatDay(last) +
                "] K=" + std::to_string(query.known_seq) + " rule=" + RuleName(query.rule) +
                " rows=" + std::to_string(rows) + " entity=" + entity +
                " edges=" + (only ? std::string(EdgeKindText(*only)) : "both");
            Query q = query;
            q.rows = rows;
            q.entity = entity;
            std::vector<WindowEvent> from_index, from_log;
            q.use_index = true;
            ASSERT_TRUE(EventsInWindow(*txn, q, after, last, only, &from_index).ok()) << where;
            q.use_index = false;
            ASSERT_TRUE(EventsInWindow(*txn, q, after, last, only, &from_log).ok()) << where;
            ++compared;
            EXPECT_EQ(from_index, from_log)
                << where << ": " << from_index.size() << " from the index, " << from_log.size()
                << " from the log";
            for (const WindowEvent& w : from_log) {
              ++listed;
              maybe += w.in_window == Tri::kMaybe ? 1 : 0;
              const bool certain = after < (q.rule == DateRule::kLatest ? w.l : w.e) &&
                                   (q.rule == DateRule::kEarliest ? w.e : w.l) <= last;
              if (q.rule == DateRule::kRange) {
                EXPECT_EQ(w.in_window == Tri::kYes, certain) << where << " seq " << w.seq;
                EXPECT_TRUE(w.e <= last && w.l > after) << where << " seq " << w.seq;
              } else {
                EXPECT_TRUE(certain && w.in_window == Tri::kYes) << where << " seq " << w.seq;
              }
            }
            if (HasFailure()) return;
          }
        }
      }
    }
  }
  std::cout << "[ property ] " << compared << " windows compared, " << listed << " events listed ("
            << maybe << " maybe), " << before_index << " windows known before the index\n";
  EXPECT_GT(listed, 1000u);
  EXPECT_GT(maybe, 100u);
  EXPECT_GT(before_index, 0u);
}

TEST_F(ProjectionPropertyTest, ResolveKnownAtMapsSeqsTimesAndDatesToBatchEnds) {
  Generator g(7);
  std::vector<Planned> facts = PlanFacts(g, &world_);
  const auto batches = PlanBatches(g, world_, std::move(facts), 4);
  for (size_t b = 0; b < batches.size(); ++b) {
    AppendBatch(b, batches[b]);
    if (HasFatalFailure()) return;
  }
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  auto resolve = [&](const std::string& text) {
    uint64_t seq = 0;
    Status st = ResolveKnownAt(*txn, text, &seq);
    EXPECT_TRUE(st.ok()) << text << ": " << st.ToString();
    return seq;
  };
  for (uint64_t n : boundaries_) EXPECT_EQ(resolve("@" + std::to_string(n)), n);
  for (int i = 0; i < 20; ++i) {
    const uint64_t n = g.Uniform(1, static_cast<int>(txn->LastSeq()));
    EXPECT_EQ(resolve("@" + std::to_string(n)), n);
  }
  auto rfc3339 = [](int64_t micros) {
    int64_t y;
    unsigned m, d;
    const int64_t day = micros / kMicrosPerDay, secs = (micros % kMicrosPerDay) / 1'000'000;
    CivilFromDays(day, &y, &m, &d);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    return std::string(buf);
  };
  for (size_t b = 0; b < boundaries_.size(); ++b) {
    const uint64_t before = b == 0 ? 0 : boundaries_[b - 1];
    // At the batch's recorded time: everything of the batch; a second earlier: none of it.
    EXPECT_EQ(resolve(rfc3339(BatchMicros(b))), boundaries_[b]) << rfc3339(BatchMicros(b));
    EXPECT_EQ(resolve(rfc3339(BatchMicros(b) - 1'000'000)), before)
        << rfc3339(BatchMicros(b) - 1'000'000);
    // A date means the end of that day, UTC.
    const std::string day = FormatDay(BatchMicros(b) / kMicrosPerDay);
    EXPECT_EQ(resolve(day), boundaries_[b]) << day;
  }
  EXPECT_EQ(resolve("2024-02-29"), 0u);
}

TEST(ProjectionPropertyReferenceTest, ReferenceAnswersHandWorkedExamples) {
  using reference::EdgeEvent;
  const int64_t y1990 = DaysFromCivil(1990, 1, 1), y1990_end = DaysFromCivil(1990, 12, 31);
  const int64_t y1995 = DaysFromCivil(1995, 1, 1), y1995_end = DaysFromCivil(1995, 12, 31);
  auto worlds = [](const std::vector<EdgeEvent>& events, int64_t day) {
    return *reference::EdgeStatusByWorlds(events, day, 1'000'000);
  };
  // Established some day in 1990, ended some day in 1995.
  const std::vector<EdgeEvent> spell = {{1, y1990, y1990_end, true}, {2, y1995, y1995_end, false}};
  EXPECT_EQ(worlds(spell, y1990 - 1), Tri::kNo);
  EXPECT_EQ(worlds(spell, y1990 + 100), Tri::kMaybe);
  EXPECT_EQ(worlds(spell, y1990_end), Tri::kYes);
  EXPECT_EQ(worlds(spell, y1995 + 100), Tri::kMaybe);
  EXPECT_EQ(worlds(spell, y1995_end), Tri::kNo);
  // Same day: the higher seq is the later event.
  EXPECT_EQ(worlds({{1, y1990, y1990, true}, {2, y1990, y1990, false}}, y1990), Tri::kNo);
  EXPECT_EQ(worlds({{2, y1990, y1990, true}, {1, y1990, y1990, false}}, y1990), Tri::kYes);
  // An end with an open start (../1995) may fall before or after a 1990 establishment.
  EXPECT_EQ(
      worlds({{1, y1990, y1990, true}, {2, kUnboundedStart, y1995_end, false}}, y1995_end + 1),
      Tri::kMaybe);
  EXPECT_EQ(worlds({{1, y1990, y1990, true}, {2, kUnboundedStart, y1990 - 1, false}}, y1990),
            Tri::kYes);
  // Two overlapping establishments and an end that must come after one of them.
  EXPECT_EQ(
      worlds({{1, y1990, y1995_end, true}, {2, y1990, y1990_end, true}, {3, y1995, y1995, false}},
             y1995_end),
      Tri::kMaybe);

  // §1: an amendment moves the fact from its own seq on; retracting the
  // amendment removes it.
  auto event = [](uint64_t seq, std::string id, Kind kind, int64_t e, int64_t l,
                  std::string target = "") {
    reference::Event ev;
    ev.seq = seq;
    ev.id = std::move(id);
    ev.kind = kind;
    ev.date = FormatDay(e);
    ev.earliest = e;
    ev.latest = l;
    ev.target = std::move(target);
    ev.fact.kind = kind == Kind::kAmendment ? Kind::kPartnershipEstablished : kind;
    if (kind == Kind::kEntity) {
      ev.fact.entity = ev.id == "r1" ? "x" : "y";
      ev.fact.country = ev.id == "r1" ? "CN" : "DE";
    } else {
      ev.fact.a = "x";
      ev.fact.b = "y";
      ev.fact.subkind = "sister_city";
    }
    return ev;
  };
  const std::vector<reference::Event> log = {
      event(1, "r1", Kind::kEntity, y1990 - 3650, y1990 - 3650),
      event(2, "r2", Kind::kEntity, y1990 - 3650, y1990 - 3650),
      event(3, "f", Kind::kPartnershipEstablished, y1990, y1990_end),
      event(4, "a", Kind::kAmendment, y1995, y1995, "f"),
      event(5, "r", Kind::kRetraction, y1990, y1990, "a"),
  };
  Snapshot s = reference::Evaluate(log, y1990_end, 3, DateRule::kRange);
  ASSERT_EQ(s.edges.size(), 1u);
  EXPECT_EQ(s.edges[0].status, Tri::kYes);
  EXPECT_EQ(s.edges[0].events, (std::vector<EventMark>{{3, Tri::kYes}}));
  EXPECT_EQ(s.counts["x"].partnerships_by_country["DE"], (Range{1, 1}));
  EXPECT_EQ(s.counts["y"].partnerships_by_country["CN"], (Range{1, 1}));
  EXPECT_TRUE(reference::Evaluate(log, y1990_end, 4, DateRule::kRange).edges.empty());
  s = reference::Evaluate(log, y1995, 4, DateRule::kRange);
  ASSERT_EQ(s.edges.size(), 1u);
  EXPECT_EQ(s.edges[0].events, (std::vector<EventMark>{{4, Tri::kYes}}));
  EXPECT_TRUE(reference::Evaluate(log, y1995, 5, DateRule::kRange).edges.empty());
  EXPECT_EQ(reference::Evaluate(log, y1995, UINT64_MAX, DateRule::kRange).known_seq, 5u);
  // Under --dates latest the 1990 establishment only counts from 1990-12-31.
  EXPECT_TRUE(reference::Evaluate(log, y1990_end - 1, 3, DateRule::kLatest).edges.empty());
  EXPECT_EQ(reference::Evaluate(log, y1990, 3, DateRule::kEarliest).edges.size(), 1u);

  // Diff causes. As of 1995, known at 3 then at 4: the fact (yes) gives way
  // to the amendment (yes), so both are causes of the edge row (which stays
  // yes, so no diff would show it) and of x's partnerships in DE.
  auto causes = [&](int64_t d1, uint64_t k1, int64_t d2, uint64_t k2,
                    const reference::RowName& row) {
    const auto all = reference::DiffCauses(log, reference::Evaluate(log, d1, k1, DateRule::kRange),
                                           reference::Evaluate(log, d2, k2, DateRule::kRange));
    auto it = all.find(row);
    EXPECT_NE(it, all.end()) << row.first << " " << row.second;
    return it == all.end() ? std::vector<uint64_t>{999} : it->second;
  };
  const reference::RowName edge{"partnership", "x — y (sister_city)"};
  EXPECT_EQ(causes(y1995, 3, y1995, 4, edge), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(causes(y1995, 3, y1995, 4, {"count", "x partnerships in DE"}),
            (std::vector<uint64_t>{3, 4}));
  // As of 1990-12-31: known at 4 the fact is superseded and the amendment
  // (1995) not yet there: only the fact differs.
  EXPECT_EQ(causes(y1990_end, 3, y1990_end, 4, edge), std::vector<uint64_t>{3});
  // Known at 3, from 1990-06-30 (maybe) to 1990-12-31 (yes): the fact.
  EXPECT_EQ(causes(y1990 + 180, 3, y1990_end, 3, edge), std::vector<uint64_t>{3});
  // Known at 3, from 1990-12-31 to 1995: nothing about the edge changes.
  EXPECT_EQ(causes(y1990_end, 3, y1995, 3, edge), std::vector<uint64_t>{});
}

TEST(ProjectionPropertyReferenceTest, WorldEnumerationAgreesWithLastEventSearchAndFormula) {
  // The §3 formula and the last-event search against the definition by
  // worlds, on many small random edges with overlapping ranges, ties and open
  // starts: a check of the reference (and of the specification's formula),
  // independent of the engine.
  std::mt19937_64 rng(99);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int maybe = 0, yes = 0, no = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    std::vector<reference::EdgeEvent> events;
    const int n = uniform(1, 5);
    for (int i = 0; i < n; ++i) {
      reference::EdgeEvent x;
      x.seq = static_cast<uint64_t>(i + 1) * 3 + uniform(0, 2);
      x.establish = uniform(0, 2) != 0;
      x.e = uniform(0, 12);
      x.l = x.e + (uniform(0, 2) == 0 ? 0 : uniform(0, 6));
      if (uniform(0, 9) == 0) x.e = kUnboundedStart;
      if (uniform(0, 19) == 0) x.l = kUnboundedEnd;
      events.push_back(x);
    }
    const int64_t as_of = uniform(-1, 20);
    const auto by_worlds = reference::EdgeStatusByWorlds(events, as_of, 10'000'000);
    ASSERT_TRUE(by_worlds.has_value());
    const Tri by_formula = reference::EdgeStatusByFormula(events, as_of);
    const Tri by_last_event = reference::EdgeStatusByLastEvent(events, as_of);
    std::string text;
    for (const auto& x : events) {
      text += " {seq " + std::to_string(x.seq) + (x.establish ? " establish [" : " end [") +
              (x.e == kUnboundedStart ? std::string("..") : std::to_string(x.e)) + ", " +
              (x.l == kUnboundedEnd ? std::string("..") : std::to_string(x.l)) + "]}";
    }
    ASSERT_EQ(*by_worlds, by_formula) << "formula, D=" << as_of << text;
    ASSERT_EQ(*by_worlds, by_last_event) << "last-event search, D=" << as_of << text;
    (*by_worlds == Tri::kMaybe ? maybe : *by_worlds == Tri::kYes ? yes : no)++;
  }
  EXPECT_GT(maybe, 500);
  EXPECT_GT(yes, 500);
  EXPECT_GT(no, 500);
}

}  // namespace
}  // namespace twinline
