// A naive reference implementation of docs/PROJECTIONS.md, for tests only.
//
// Written from the specification alone (not from projections/*.cc), so that
// the property test compares two independent readings of the same text. It
// favours obviousness over speed: it keeps every event in memory, recomputes
// everything for each question, and decides an edge's status from the
// definition by worlds (§3: every placement of its events on days) instead
// of the closed formula: by enumerating the worlds when there are few, else
// by searching which event can be the last one on or before D. The formula
// is implemented too, only to cross-check both (and the specification).
//
// Interpretations where the text leaves a choice (kept in one place, so a
// disagreement with the engine can be traced to one of them):
//  * An entity has a `counts` entry when an edge touching it has status yes or
//    maybe, or a counter or report event of it has e <= D (it is then in the
//    entity's `open_events` if l > D, else counted in `settled_events`,
//    whatever its occurrence).
//  * Map entries (`partnerships_by_kind`, ...) exist only with possible > 0.
//  * Counted entities: forum host; every agreement party; office owner
//    (offices) and office host (offices_hosted); organisation founder; award
//    recipient; initiative owner; count_reported entity. These are also the
//    entities whose `open_events` list the fact (or whose `settled_events`
//    count it, once per entity).
//  * `reported` is ordered by (metric, scope), the certain entry before the
//    possible one; trade rows likewise by key, certain before possible.
//  * Under kEarliest/kLatest, rows' `events` and `open_events` still hold
//    every effective event with e <= D (and, for open ones, l > D), with the
//    two-valued occurrence of the rule (under kLatest an event with
//    e <= D < l is listed as kNo).
//  * An entity's country comes from its effective registration, whatever D.
//  * Diff causes (DiffCauses below): on each side an event has, for each
//    row, a mark: absent unless it is effective at K, has e <= D and belongs
//    to the row there; else its occurrence. The causes are the events whose
//    marks differ. An edge count row takes the edges listed (yes or maybe)
//    on at least one side; "partnerships in CC" takes a partnership on a
//    side when the partner's country at that side's K is CC. Reported rows
//    compare the (seq, status) of the reports the two sides show.
#ifndef TWINLINE_TESTS_PROJECTIONS_REFERENCE_H_
#define TWINLINE_TESTS_PROJECTIONS_REFERENCE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/edtf.h"
#include "projections/projection.h"

namespace twinline::reference {

enum class Kind : uint8_t {
  kEntity,
  kPartnershipEstablished,
  kPartnershipEnded,
  kRouteOpened,
  kRouteClosed,
  kForum,
  kAgreement,
  kOffice,
  kOrganisation,
  kAward,
  kTrade,
  kCount,
  kInitiative,
  kRetraction,
  kAmendment,
  kCorroboration,
};

inline bool IsCorrection(Kind k) {
  return k == Kind::kRetraction || k == Kind::kAmendment || k == Kind::kCorroboration;
}

// A payload that is not a correction, with the fields projections read.
// Enumerations are held as their snake_case JSON names (docs/EVENTS.md).
struct Fact {
  Kind kind = Kind::kEntity;
  std::string label;  // free text that keeps generated facts distinct; not projected
  // kEntity
  std::string entity, country;
  // Partnerships (a < b, subkind = partnership kind) and routes (a = from,
  // b = to, subkind = mode).
  std::string a, b, subkind;
  // Whoever the fact counts for: forum host, organisation founder, award
  // recipient, initiative owner, office owner, count_reported entity, trade
  // reporter.
  std::string who;
  std::string office_host;           // kOffice
  std::string grantor;               // kAward (not counted)
  std::string organisation;          // kOrganisation (not counted)
  std::vector<std::string> parties;  // kAgreement, sorted and distinct
  // kTrade
  std::string partner, period, flow, currency;
  double amount = 0;
  // kCount
  std::string metric, scope, qualifier;
  double value = 0;
};

// One logged event. For an amendment, `fact` is its replacement.
struct Event {
  uint64_t seq = 0;
  std::string id;
  Kind kind = Kind::kEntity;
  std::string date;  // normalised EDTF
  int64_t earliest = 0, latest = 0;
  std::string target;  // corrections
  Fact fact;           // facts and amendments
};

// An effective fact at K (§1): a fact, or an amendment standing for its
// replacement at the amendment's own valid time and seq.
struct Effective {
  uint64_t seq = 0;
  std::string date;
  int64_t e = 0, l = 0;
  const Fact* fact = nullptr;
};

// §1, literally: a fact or amendment with seq <= K counts unless a retraction
// or amendment with seq <= K targets it.
inline std::vector<Effective> EffectiveFacts(const std::vector<Event>& log, uint64_t known_seq) {
  std::set<std::string> targeted;
  for (const Event& ev : log) {
    if (ev.seq <= known_seq && (ev.kind == Kind::kRetraction || ev.kind == Kind::kAmendment)) {
      targeted.insert(ev.target);
    }
  }
  std::vector<Effective> out;
  for (const Event& ev : log) {
    if (ev.seq > known_seq || ev.kind == Kind::kRetraction || ev.kind == Kind::kCorroboration)
      continue;
    if (targeted.count(ev.id)) continue;
    out.push_back({ev.seq, ev.date, ev.earliest, ev.latest, &ev.fact});
  }
  std::sort(out.begin(), out.end(),
            [](const Effective& x, const Effective& y) { return x.seq < y.seq; });
  return out;
}

// §2 (and the single-day placements of --dates earliest|latest).
inline Tri Occurrence(int64_t e, int64_t l, int64_t day, DateRule rule) {
  switch (rule) {
    case DateRule::kEarliest:
      return e <= day ? Tri::kYes : Tri::kNo;
    case DateRule::kLatest:
      return l <= day ? Tri::kYes : Tri::kNo;
    case DateRule::kRange:
      break;
  }
  if (l <= day) return Tri::kYes;
  if (e <= day) return Tri::kMaybe;
  return Tri::kNo;
}

// --- §3: edges ---------------------------------------------------------------

struct EdgeEvent {
  uint64_t seq = 0;
  int64_t e = 0, l = 0;
  bool establish = false;  // establish/open, else end/close
};

inline Tri FromPossibilities(bool possibly_active, bool possibly_inactive) {
  if (!possibly_inactive) return Tri::kYes;
  return possibly_active ? Tri::kMaybe : Tri::kNo;
}

// The plain last-event rule for one fixed day per event (`day[i]`, or
// nullopt when the event is not on or before `as_of`): active iff the last
// event on or before `as_of` (ties: higher seq is later) is an establish.
inline bool ActiveInWorld(const std::vector<EdgeEvent>& events,
                          const std::vector<std::optional<int64_t>>& day, int64_t as_of) {
  const EdgeEvent* last = nullptr;
  std::optional<int64_t> last_day;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!day[i] || *day[i] > as_of) continue;
    if (!last || std::make_pair(*day[i], events[i].seq) > std::make_pair(*last_day, last->seq)) {
      last = &events[i];
      last_day = day[i];
    }
  }
  return last != nullptr && last->establish;
}

// --dates earliest|latest: every event on its one day.
inline Tri EdgeStatusPlaced(const std::vector<EdgeEvent>& events, int64_t as_of, DateRule rule) {
  std::vector<std::optional<int64_t>> day;
  for (const EdgeEvent& x : events) {
    const int64_t d = rule == DateRule::kEarliest ? x.e : x.l;
    // An open end (l = +inf) never happens under kLatest.
    day.push_back(d == kUnboundedEnd ? std::nullopt : std::optional<int64_t>(d));
  }
  return ActiveInWorld(events, day, as_of) ? Tri::kYes : Tri::kNo;
}

// Representative days for the events that can be on or before D, enough to
// realise every world's outcome. Days are compressed without changing any
// outcome: only days <= D matter (an event placed after D is simply absent,
// so "after D" is one choice), and between consecutive boundaries (an
// event's first day, or the day after its last day <= D) all days belong to
// the same events' ranges, so only the relative order of the events placed
// there matters; n days per such segment realise every order (ties
// included) of n events. The unbounded past is one more such segment.
inline std::vector<int64_t> RepresentativeDays(const std::vector<EdgeEvent>& events,
                                               int64_t as_of) {
  const int64_t n = static_cast<int64_t>(events.size());
  std::set<int64_t> cuts;
  for (const EdgeEvent& x : events) {
    if (x.e != kUnboundedStart) cuts.insert(x.e);
    cuts.insert(std::min(x.l, as_of) + 1);
  }
  std::vector<int64_t> days;  // ascending
  for (int64_t d = *cuts.begin() - n; d < *cuts.begin(); ++d)
    days.push_back(d);  // the unbounded past
  for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
    const int64_t first = *it, end = *std::next(it);
    for (int64_t d = first; d < end && d < first + n; ++d) days.push_back(d);
  }
  return days;
}

// The days event `x` may take among `days`; nullopt = after D.
inline std::vector<std::optional<int64_t>> Choices(const EdgeEvent& x,
                                                   const std::vector<int64_t>& days,
                                                   int64_t as_of) {
  std::vector<std::optional<int64_t>> out;
  for (int64_t d : days) {
    if (x.e <= d && d <= std::min(x.l, as_of)) out.push_back(d);
  }
  if (x.l > as_of) out.push_back(std::nullopt);
  return out;
}

// --dates range, by brute force over worlds: every event on every day of its
// range (over the representative days), status = yes if active in all
// worlds, no if in none, else maybe. Returns nullopt when the worlds exceed
// `max_worlds`.
inline std::optional<Tri> EdgeStatusByWorlds(const std::vector<EdgeEvent>& all, int64_t as_of,
                                             uint64_t max_worlds,
                                             uint64_t* worlds_visited = nullptr) {
  std::vector<EdgeEvent> events;
  for (const EdgeEvent& x : all) {
    if (x.e <= as_of) events.push_back(x);  // the others are after D in every world
  }
  if (events.empty()) return Tri::kNo;
  const std::vector<int64_t> days = RepresentativeDays(events, as_of);
  std::vector<std::vector<std::optional<int64_t>>> choices;
  uint64_t worlds = 1;
  for (const EdgeEvent& x : events) {
    choices.push_back(Choices(x, days, as_of));
    worlds *= choices.back().size();
    if (worlds > max_worlds) return std::nullopt;
  }

  bool possibly_active = false, possibly_inactive = false;
  uint64_t visited = 0;
  std::vector<std::optional<int64_t>> world(events.size());
  std::function<void(size_t)> place = [&](size_t i) {
    if (possibly_active && possibly_inactive) return;  // the answer is maybe already
    if (i == events.size()) {
      ++visited;
      (ActiveInWorld(events, world, as_of) ? possibly_active : possibly_inactive) = true;
      return;
    }
    for (const auto& d : choices[i]) {
      world[i] = d;
      place(i + 1);
    }
  };
  place(0);
  if (worlds_visited) *worlds_visited += visited;
  return FromPossibilities(possibly_active, possibly_inactive);
}

// --dates range, by searching the decisive part of a world: which event is
// the last on or before D, and on which day. Event i on day d is the last in
// some world iff every other event, each choosing independently, can sit
// before (d, seq_i) or after D; and nothing is on or before D in some world
// iff every event can fall after D. Exact for any number of events, so it
// serves edges with too many worlds to enumerate.
inline Tri EdgeStatusByLastEvent(const std::vector<EdgeEvent>& all, int64_t as_of) {
  std::vector<EdgeEvent> events;
  for (const EdgeEvent& x : all) {
    if (x.e <= as_of) events.push_back(x);
  }
  if (events.empty()) return Tri::kNo;
  const std::vector<int64_t> days = RepresentativeDays(events, as_of);
  std::vector<std::vector<std::optional<int64_t>>> choices;
  for (const EdgeEvent& x : events) choices.push_back(Choices(x, days, as_of));

  bool possibly_active = false, possibly_inactive = true;
  for (const auto& c : choices) {
    if (std::find(c.begin(), c.end(), std::nullopt) == c.end()) possibly_inactive = false;
  }
  for (size_t i = 0; i < events.size(); ++i) {
    for (const auto& d : choices[i]) {
      if (!d) continue;
      bool others_fit = true;
      for (size_t j = 0; j < events.size() && others_fit; ++j) {
        if (j == i) continue;
        bool fits = false;
        for (const auto& c : choices[j]) {
          if (!c || std::pair(*c, events[j].seq) < std::pair(*d, events[i].seq)) fits = true;
        }
        others_fit = fits;
      }
      if (others_fit) (events[i].establish ? possibly_active : possibly_inactive) = true;
    }
  }
  return FromPossibilities(possibly_active, possibly_inactive);
}

// --dates range by the closed formula of §3, transcribed; used only to
// cross-check the world enumeration (and so the specification itself).
inline Tri EdgeStatusByFormula(const std::vector<EdgeEvent>& events, int64_t as_of) {
  auto can_be_last = [&](const EdgeEvent& last) {
    const int64_t t = std::min(last.l, as_of);
    for (const EdgeEvent& other : events) {
      if (other.establish == last.establish) continue;
      const bool before = other.e < t || (other.e == t && other.seq < last.seq);
      if (!before && !(other.l > as_of)) return false;
    }
    return true;
  };
  bool possibly_active = false, any_establish_by_d = false, every_establish_can_fall_after = true,
       end_can_be_last = false;
  for (const EdgeEvent& x : events) {
    if (x.establish) {
      if (x.e <= as_of) {
        any_establish_by_d = true;
        if (can_be_last(x)) possibly_active = true;
      }
      if (!(x.l > as_of)) every_establish_can_fall_after = false;
    } else if (x.e <= as_of && can_be_last(x)) {
      end_can_be_last = true;
    }
  }
  const bool possibly_inactive =
      !any_establish_by_d || end_can_be_last || every_establish_can_fall_after;
  return FromPossibilities(possibly_active, possibly_inactive);
}

// --- The whole snapshot ----------------------------------------------------------

struct Stats {
  uint64_t edges_by_worlds = 0;       // range-rule edge statuses decided by enumerating worlds
  uint64_t edges_by_last_event = 0;   // ... by the last-event search (too many worlds)
  uint64_t worlds = 0;                // worlds visited
  uint64_t method_disagreements = 0;  // worlds, last-event search and formula disagreed
};

// Beyond this many worlds an edge's status comes from the last-event search.
inline constexpr uint64_t kMaxWorlds = 20'000;

inline void Add(Range* r, Tri t) {
  if (t == Tri::kYes) ++r->certain;
  if (t != Tri::kNo) ++r->possible;
}

// The Snapshot (without state_hash) for (D, K, rule) over `log`, which holds
// every event of the log in seq order.
inline Snapshot Evaluate(const std::vector<Event>& log, int64_t as_of, uint64_t known_seq,
                         DateRule rule, Stats* stats = nullptr,
                         std::vector<std::string>* notes = nullptr) {
  Snapshot out;
  out.query.as_of_day = as_of;
  out.query.known_seq = known_seq;
  out.query.rule = rule;
  out.known_seq = std::min<uint64_t>(known_seq, log.empty() ? 0 : log.back().seq);

  const std::vector<Effective> facts = EffectiveFacts(log, known_seq);
  std::map<std::string, std::string> country;
  for (const Effective& f : facts) {
    if (f.fact->kind == Kind::kEntity) country[f.fact->entity] = f.fact->country;
  }
  auto occurrence = [&](const Effective& f) { return Occurrence(f.e, f.l, as_of, rule); };

  // Edges.
  using EdgeKey = std::tuple<EdgeRow::Kind, std::string, std::string, std::string>;
  std::map<EdgeKey, std::vector<const Effective*>> edges;
  for (const Effective& f : facts) {
    const Kind k = f.fact->kind;
    if (k == Kind::kPartnershipEstablished || k == Kind::kPartnershipEnded) {
      edges[{EdgeRow::Kind::kPartnership, f.fact->a, f.fact->b, f.fact->subkind}].push_back(&f);
    } else if (k == Kind::kRouteOpened || k == Kind::kRouteClosed) {
      edges[{EdgeRow::Kind::kRoute, f.fact->a, f.fact->b, f.fact->subkind}].push_back(&f);
    }
  }
  std::map<std::string, EntityCounts> counts;
  for (const auto& [key, members] : edges) {
    std::vector<EdgeEvent> history;
    for (const Effective* f : members) {
      const Kind k = f->fact->kind;
      history.push_back(
          {f->seq, f->e, f->l, k == Kind::kPartnershipEstablished || k == Kind::kRouteOpened});
    }
    Tri status;
    if (rule == DateRule::kRange) {
      // Three readings of §3 that must agree: every world (when few enough),
      // the last-event search, and the closed formula.
      const Tri by_last_event = EdgeStatusByLastEvent(history, as_of);
      const Tri by_formula = EdgeStatusByFormula(history, as_of);
      const std::optional<Tri> by_worlds =
          EdgeStatusByWorlds(history, as_of, kMaxWorlds, stats ? &stats->worlds : nullptr);
      if (stats) ++(by_worlds ? stats->edges_by_worlds : stats->edges_by_last_event);
      status = by_worlds.value_or(by_last_event);
      if (status != by_last_event || status != by_formula) {
        if (stats) ++stats->method_disagreements;
        if (notes) {
          notes->push_back(std::string("edge ") + std::get<1>(key) + " " + std::get<2>(key) + " " +
                           std::get<3>(key) + " at " + FormatDay(as_of) + ": worlds " +
                           (by_worlds ? std::to_string(int(*by_worlds)) : "-") + ", last event " +
                           std::to_string(int(by_last_event)) + ", formula " +
                           std::to_string(int(by_formula)));
        }
      }
    } else {
      status = EdgeStatusPlaced(history, as_of, rule);
    }
    if (status == Tri::kNo) continue;

    EdgeRow row;
    std::tie(row.kind, row.a, row.b, row.subkind) = key;
    row.status = status;
    for (const Effective* f : members) {
      if (f->e <= as_of) row.events.push_back({f->seq, occurrence(*f)});
    }
    std::sort(row.events.begin(), row.events.end());
    out.edges.push_back(row);

    for (const auto& [self, partner] : {std::pair(row.a, row.b), std::pair(row.b, row.a)}) {
      EntityCounts& c = counts[self];
      if (row.kind == EdgeRow::Kind::kPartnership) {
        Add(&c.partnerships, status);
        Add(&c.partnerships_by_kind[row.subkind], status);
        Add(&c.partnerships_by_country[country[partner]], status);
      } else {
        Add(&c.routes, status);
        Add(&c.routes_by_mode[row.subkind], status);
      }
    }
  }

  // Counters and reported counts; trade.
  using ReportKey = std::tuple<std::string, std::string, std::string>;  // entity, metric, scope
  std::map<ReportKey, std::vector<const Effective*>> reports;
  using TradeKey = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<TradeKey, std::vector<const Effective*>> trade;
  std::map<std::string, std::set<uint64_t>> settled_of;  // entity -> its settled events
  for (const Effective& f : facts) {
    if (f.e > as_of) continue;  // occurrence no under every rule, and not listed
    const Fact& x = *f.fact;
    const Tri occ = occurrence(f);
    // The fact among the entity's events: open (listed) or settled (counted).
    auto note = [&](const std::string& entity) {
      counts[entity];
      if (f.l <= as_of) {
        settled_of[entity].insert(f.seq);
      } else {
        counts[entity].open_events.push_back({f.seq, occ});
      }
    };
    auto count = [&](const std::string& entity, Range EntityCounts::*field) {
      EntityCounts& c = counts[entity];
      Add(&(c.*field), occ);
      note(entity);
    };
    switch (x.kind) {
      case Kind::kForum:
        count(x.who, &EntityCounts::forums);
        break;
      case Kind::kAgreement:
        for (const std::string& party : x.parties) count(party, &EntityCounts::agreements);
        break;
      case Kind::kOffice:
        count(x.who, &EntityCounts::offices);
        count(x.office_host, &EntityCounts::offices_hosted);
        break;
      case Kind::kOrganisation:
        count(x.who, &EntityCounts::organisations);
        break;
      case Kind::kAward:
        count(x.who, &EntityCounts::awards);
        break;
      case Kind::kInitiative:
        count(x.who, &EntityCounts::initiatives);
        break;
      case Kind::kCount:
        note(x.who);
        reports[{x.who, x.metric, x.scope}].push_back(&f);
        break;
      case Kind::kTrade:
        trade[{x.who, x.partner, x.period, x.flow}].push_back(&f);
        break;
      default:
        break;
    }
  }

  // "Greatest report wins": reports ordered by (e, l, seq).
  auto greatest = [&](const std::vector<const Effective*>& list, bool certain) -> const Effective* {
    const Effective* best = nullptr;
    for (const Effective* f : list) {
      const Tri occ = occurrence(*f);
      if (occ == Tri::kNo || (certain && occ != Tri::kYes)) continue;
      if (!best || std::tuple(f->e, f->l, f->seq) > std::tuple(best->e, best->l, best->seq))
        best = f;
    }
    return best;
  };

  for (const auto& kv : reports) {
    // Not a structured binding: the lambda below captures `key`, which clang < 16 cannot.
    const auto& key = kv.first;
    const auto& list = kv.second;
    const Effective* certain = greatest(list, true);
    const Effective* possible = greatest(list, false);
    auto entry = [&](const Effective* f, Tri status) {
      ReportedCount r;
      r.metric = f->fact->metric;
      r.scope = f->fact->scope;
      r.value = f->fact->value;
      r.qualifier = f->fact->qualifier;
      r.date = f->date;
      r.status = status;
      r.seq = f->seq;
      counts[std::get<0>(key)].reported.push_back(r);
    };
    if (certain) entry(certain, Tri::kYes);
    if (possible && possible != certain) entry(possible, Tri::kMaybe);
  }
  for (auto& [entity, c] : counts) {
    std::sort(c.open_events.begin(), c.open_events.end());
    c.open_events.erase(std::unique(c.open_events.begin(), c.open_events.end()),
                        c.open_events.end());
    c.settled_events = settled_of[entity].size();
  }
  for (auto it = counts.begin(); it != counts.end(); ++it) {
    for (auto* m : {&it->second.partnerships_by_kind, &it->second.partnerships_by_country,
                    &it->second.routes_by_mode}) {
      std::erase_if(*m, [](const auto& kv) { return kv.second.possible == 0; });
    }
  }
  out.counts = std::move(counts);

  std::map<std::pair<std::string, std::string>, TradeTotal> totals;
  for (const auto& kv : trade) {
    // Not a structured binding: the lambda below captures `key`, which clang < 16 cannot.
    const auto& key = kv.first;
    const auto& list = kv.second;
    const Effective* certain = greatest(list, true);
    const Effective* possible = greatest(list, false);
    std::vector<EventMark> open;
    uint64_t settled = 0;
    for (const Effective* f : list) {
      if (f->l <= as_of) {
        ++settled;
      } else {
        open.push_back({f->seq, occurrence(*f)});
      }
    }
    std::sort(open.begin(), open.end());
    auto row = [&](const Effective* f, Tri status) {
      TradeRow r;
      std::tie(r.reporter, r.partner, r.period, r.flow) = key;
      r.currency = f->fact->currency;
      r.amount = f->fact->amount;
      r.status = status;
      r.seq = f->seq;
      r.open_events = open;
      r.settled_events = settled;
      out.trade.push_back(r);
    };
    if (certain) row(certain, Tri::kYes);
    if (possible && possible != certain) row(possible, Tri::kMaybe);
    if (certain) {
      TradeTotal& t = totals[{std::get<0>(key), certain->fact->currency}];
      t.certain += certain->fact->amount;
    }
    if (possible) {
      TradeTotal& t = totals[{std::get<0>(key), possible->fact->currency}];
      t.possible += possible->fact->amount;
    }
  }
  for (auto& [key, t] : totals) {
    t.reporter = key.first;
    t.currency = key.second;
    out.trade_totals.push_back(t);
  }
  return out;
}

// --- Diff causes -----------------------------------------------------------------

// (what, key) as a DiffRow names a row: ("partnership", "a — b (kind)"),
// ("route", "a → b (mode)"), ("count", "x forums"), ("reported", "x metric in
// scope"), ("trade", "r → p period flow").
using RowName = std::pair<std::string, std::string>;

// The causes of every row a diff of `from` to `to` can show, by name,
// straight from the definition (projection.h, DiffRow::cause_seqs; the
// interpretation is at the top of this file). `from` and `to` are this
// reference's snapshots of `log` (they say which edges are listed and which
// rows exist); every event of the log is examined for every row.
inline std::map<RowName, std::vector<uint64_t>> DiffCauses(const std::vector<Event>& log,
                                                           const Snapshot& from,
                                                           const Snapshot& to) {
  struct Side {
    const Snapshot* snap;
    std::map<uint64_t, Effective> effective;     // by seq
    std::map<std::string, std::string> country;  // entity -> country at K
  };
  std::vector<Side> sides(2);
  sides[0].snap = &from;
  sides[1].snap = &to;
  for (Side& side : sides) {
    for (const Effective& f : EffectiveFacts(log, side.snap->query.known_seq)) {
      side.effective[f.seq] = f;
      if (f.fact->kind == Kind::kEntity) side.country[f.fact->entity] = f.fact->country;
    }
  }
  const DateRule rule = from.query.rule;
  // An event's mark on a side for a row it belongs to there (or not).
  auto mark = [&](int s, uint64_t seq, bool member) -> std::optional<Tri> {
    if (!member) return std::nullopt;
    auto it = sides[s].effective.find(seq);
    const int64_t day = sides[s].snap->query.as_of_day;
    if (it == sides[s].effective.end() || it->second.e > day) return std::nullopt;
    return Occurrence(it->second.e, it->second.l, day, rule);
  };
  // The events whose marks differ, for a row given by who belongs to it.
  auto causes = [&](const std::function<bool(const Fact&, int side)>& member) {
    std::vector<uint64_t> out;
    for (const Event& ev : log) {
      if (ev.kind == Kind::kRetraction || ev.kind == Kind::kCorroboration) continue;
      if (mark(0, ev.seq, member(ev.fact, 0)) != mark(1, ev.seq, member(ev.fact, 1))) {
        out.push_back(ev.seq);
      }
    }
    return out;
  };

  using EdgeKey = std::tuple<EdgeRow::Kind, std::string, std::string, std::string>;
  auto edge_of = [](const Fact& f) -> std::optional<EdgeKey> {
    if (f.kind == Kind::kPartnershipEstablished || f.kind == Kind::kPartnershipEnded) {
      return EdgeKey{EdgeRow::Kind::kPartnership, f.a, f.b, f.subkind};
    }
    if (f.kind == Kind::kRouteOpened || f.kind == Kind::kRouteClosed) {
      return EdgeKey{EdgeRow::Kind::kRoute, f.a, f.b, f.subkind};
    }
    return std::nullopt;
  };
  std::set<EdgeKey> listed;
  for (const Snapshot* s : {&from, &to}) {
    for (const EdgeRow& e : s->edges) listed.insert({e.kind, e.a, e.b, e.subkind});
  }

  std::map<RowName, std::vector<uint64_t>> out;
  for (const EdgeKey& key : listed) {
    const auto& [kind, a, b, subkind] = key;
    const bool partnership = kind == EdgeRow::Kind::kPartnership;
    auto member = [&](const Fact& f, int) { return edge_of(f) == key; };
    std::vector<uint64_t> found = causes(member);
    // A status change with no changed event: the edge's events that are
    // only possibly in effect on either side.
    auto status = [&](const Snapshot& s) {
      for (const EdgeRow& e : s.edges) {
        if (EdgeKey{e.kind, e.a, e.b, e.subkind} == key) return e.status;
      }
      return Tri::kNo;
    };
    if (found.empty() && status(from) != status(to)) {
      for (const Event& ev : log) {
        if (ev.kind == Kind::kRetraction || ev.kind == Kind::kCorroboration) continue;
        if (mark(0, ev.seq, member(ev.fact, 0)) == Tri::kMaybe ||
            mark(1, ev.seq, member(ev.fact, 1)) == Tri::kMaybe) {
          found.push_back(ev.seq);
        }
      }
    }
    out[{partnership ? "partnership" : "route",
         a + (partnership ? " — " : " → ") + b + " (" + subkind + ")"}] = std::move(found);
  }

  std::set<std::string> entities;
  for (const Snapshot* s : {&from, &to}) {
    for (const auto& [entity, c] : s->counts) entities.insert(entity);
  }
  for (const std::string& x : entities) {
    auto counts_of = [&](const Snapshot& s) {
      auto it = s.counts.find(x);
      return it == s.counts.end() ? EntityCounts() : it->second;
    };
    const EntityCounts was = counts_of(from), is = counts_of(to);
    auto row = [&](const std::string& label, const std::function<bool(const Fact&, int)>& member) {
      out[{"count", x + " " + label}] = causes(member);
    };
    // The listed edges of kind `kind` touching x.
    auto touches = [&](const Fact& f, EdgeRow::Kind kind) {
      auto key = edge_of(f);
      return key && std::get<0>(*key) == kind && listed.count(*key) && (f.a == x || f.b == x);
    };
    for (EdgeRow::Kind kind : {EdgeRow::Kind::kPartnership, EdgeRow::Kind::kRoute}) {
      const bool partnership = kind == EdgeRow::Kind::kPartnership;
      row(partnership ? "partnerships" : "routes",
          [&](const Fact& f, int) { return touches(f, kind); });
      std::set<std::string> subkinds;
      for (const EntityCounts* c : {&was, &is}) {
        for (const auto& [k, r] : partnership ? c->partnerships_by_kind : c->routes_by_mode) {
          subkinds.insert(k);
        }
      }
      for (const std::string& k : subkinds) {
        row((partnership ? "partnerships " : "routes ") + k,
            [&](const Fact& f, int) { return touches(f, kind) && f.subkind == k; });
      }
    }
    std::set<std::string> countries;
    for (const EntityCounts* c : {&was, &is}) {
      for (const auto& [k, r] : c->partnerships_by_country) countries.insert(k);
    }
    for (const std::string& cc : countries) {
      row("partnerships in " + (cc.empty() ? std::string("(none)") : cc),
          [&](const Fact& f, int s) {
            if (!touches(f, EdgeRow::Kind::kPartnership)) return false;
            const std::string& partner = f.a == x ? f.b : f.a;
            auto it = sides[s].country.find(partner);
            return (it == sides[s].country.end() ? std::string() : it->second) == cc;
          });
    }
    auto who = [&](Kind kind) {
      return [&, kind](const Fact& f, int) { return f.kind == kind && f.who == x; };
    };
    row("forums", who(Kind::kForum));
    row("agreements", [&](const Fact& f, int) {
      return f.kind == Kind::kAgreement &&
             std::find(f.parties.begin(), f.parties.end(), x) != f.parties.end();
    });
    row("offices", who(Kind::kOffice));
    row("offices hosted",
        [&](const Fact& f, int) { return f.kind == Kind::kOffice && f.office_host == x; });
    row("organisations", who(Kind::kOrganisation));
    row("awards", who(Kind::kAward));
    row("initiatives", who(Kind::kInitiative));

    // Reported rows: the reports each side shows, by (seq, status).
    std::map<std::pair<std::string, std::string>, std::array<std::set<EventMark>, 2>> shown;
    for (int s = 0; s < 2; ++s) {
      for (const ReportedCount& r : (s == 0 ? was : is).reported) {
        shown[{r.metric, r.scope}][s].insert({r.seq, r.status});
      }
    }
    for (const auto& [key, marks] : shown) {
      std::set<uint64_t> differ;
      for (int s = 0; s < 2; ++s) {
        for (const EventMark& m : marks[s]) {
          if (!marks[1 - s].count(m)) differ.insert(m.seq);
        }
      }
      out[{"reported", x + " " + key.first + (key.second.empty() ? "" : " in " + key.second)}] =
          std::vector<uint64_t>(differ.begin(), differ.end());
    }
  }

  using TradeKey = std::tuple<std::string, std::string, std::string, std::string>;
  std::set<TradeKey> trade;
  for (const Snapshot* s : {&from, &to}) {
    for (const TradeRow& t : s->trade) trade.insert({t.reporter, t.partner, t.period, t.flow});
  }
  for (const TradeKey& key : trade) {
    const auto& [reporter, partner, period, flow] = key;
    out[{"trade", reporter + " → " + partner + " " + period + " " + flow}] =
        causes([&](const Fact& f, int) {
          return f.kind == Kind::kTrade && TradeKey{f.who, f.partner, f.period, f.flow} == key;
        });
  }
  return out;
}

}  // namespace twinline::reference

#endif  // TWINLINE_TESTS_PROJECTIONS_REFERENCE_H_
