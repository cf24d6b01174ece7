// Evaluating a projection state at a valid day (docs/PROJECTIONS.md §2-§4):
// edge statuses, counts, reports and trade, as Snapshot rows, and the hash
// that lets two replays be compared byte for byte.
#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>
#include <unordered_map>

#include "core/edtf.h"
#include "core/sha256.h"
#include "projections/state.h"

namespace twinline::projection_internal {

// §3, with the prefix as the edge's state before its remaining events. The
// doc's rules are the case of an inactive prefix (no events collapsed):
//  * possibly active iff some establish s with e_s <= D can be the last
//    event (every end can fall before min(l_s, D), or after D), or every
//    end can fall after D and the prefix may be active;
//  * possibly inactive iff some end can be the last event likewise, or
//    every establish can fall after D and the prefix may be inactive.
// TODO(perf): quadratic in the edge's remaining events; edges have few.
Tri EdgeStatusRange(const EdgeState& edge, int64_t day) {
  auto can_be_last = [&](const EdgeEvent& last) {
    const int64_t t = std::min(last.at.l, day);
    for (const EdgeEvent& other : edge.events) {
      if (other.establish == last.establish) continue;  // either way the status is last's
      const bool before = other.at.e < t || (other.at.e == t && other.at.seq < last.at.seq);
      if (!before && other.at.l <= day) return false;
    }
    return true;
  };
  bool possibly_active = false, possibly_inactive = false;
  bool every_end_can_follow = true, every_establish_can_follow = true;
  for (const EdgeEvent& x : edge.events) {
    if (x.at.l <= day) (x.establish ? every_establish_can_follow : every_end_can_follow) = false;
    if (x.at.e <= day && can_be_last(x)) (x.establish ? possibly_active : possibly_inactive) = true;
  }
  if (every_end_can_follow && edge.prefix.range != Tri::kNo) possibly_active = true;
  if (every_establish_can_follow && edge.prefix.range != Tri::kYes) possibly_inactive = true;
  if (!possibly_inactive) return Tri::kYes;
  return possibly_active ? Tri::kMaybe : Tri::kNo;
}

bool EdgeActivePlaced(const EdgeState& edge, int64_t day, DateRule rule) {
  const EdgeEvent* last = nullptr;
  int64_t last_day = 0;
  for (const EdgeEvent& x : edge.events) {
    const int64_t on = rule == DateRule::kEarliest ? x.at.e : x.at.l;
    if (on == kUnboundedEnd || on > day) continue;  // an open end never happens
    if (last == nullptr || std::tuple(on, x.at.seq) > std::tuple(last_day, last->at.seq)) {
      last = &x;
      last_day = on;
    }
  }
  if (last != nullptr) return last->establish;
  return rule == DateRule::kEarliest ? edge.prefix.earliest : edge.prefix.latest;
}

namespace {

void Add(Range* r, Tri t) {
  if (t == Tri::kYes) ++r->certain;
  if (t != Tri::kNo) ++r->possible;
}

void AddRange(Range* into, const Range& r) {
  into->certain += r.certain;
  into->possible += r.possible;
}

constexpr Range EntityCounts::*kCounterField[kNumCounters] = {
    &EntityCounts::forums,         &EntityCounts::agreements,    &EntityCounts::offices,
    &EntityCounts::offices_hosted, &EntityCounts::organisations, &EntityCounts::awards,
    &EntityCounts::initiatives,
};

// The events of a row as of `day`: the open items with e <= day that are
// still unsettled (e <= day < l) with their occurrence, and the seqs of those
// that have settled since the last compaction (l <= day).
struct RowEvents {
  std::vector<EventMark> open;
  std::vector<uint64_t> settled;

  void Add(const Dated& at, int64_t day, DateRule rule) {
    if (at.e > day) return;
    if (at.l <= day) {
      settled.push_back(at.seq);
    } else {
      open.push_back({at.seq, Occurrence(at.e, at.l, day, rule)});
    }
  }
  // Sorted by seq, each event once (an office whose owner is its host is one
  // event of the entity, though it feeds two counters).
  void Normalise() {
    std::sort(open.begin(), open.end());
    open.erase(std::unique(open.begin(), open.end()), open.end());
    std::sort(settled.begin(), settled.end());
    settled.erase(std::unique(settled.begin(), settled.end()), settled.end());
  }
};

// "Greatest report wins" (§4): the certain and the possible report.
template <typename Figure>
std::pair<const Figure*, const Figure*> Greatest(const ReportState<Figure>& r, int64_t day,
                                                 DateRule rule) {
  const Figure* certain = r.best_settled ? &*r.best_settled : nullptr;
  const Figure* possible = certain;
  for (const Figure& f : r.open) {
    if (f.at.e > day) continue;
    const Tri occ = Occurrence(f.at.e, f.at.l, day, rule);
    if (occ == Tri::kNo) continue;
    if (occ == Tri::kYes && (certain == nullptr || f.at.Order() > certain->at.Order())) {
      certain = &f;
    }
    if (possible == nullptr || f.at.Order() > possible->at.Order()) possible = &f;
  }
  return {certain, possible};
}

}  // namespace

Status Evaluate(const State& state, int64_t day, DateRule rule, const CountryFn& country,
                Snapshot* out) {
  out->edges.clear();
  out->counts.clear();
  out->trade.clear();
  out->trade_totals.clear();
  // Entity rows by entity index (map nodes do not move).
  std::vector<EntityCounts*> rows(state.EntityCount(), nullptr);
  auto counts_of = [&](uint32_t entity) -> EntityCounts& {
    if (rows[entity] == nullptr) rows[entity] = &out->counts[state.Slug(entity)];
    return *rows[entity];
  };

  // Edges, and the partnership and route counts they give their ends, in
  // row order: (kind, a, b, subkind) by slug and name, not by index.
  std::vector<uint32_t> rank(state.EntityCount());
  {
    std::vector<uint32_t> by_slug(state.EntityCount());
    for (uint32_t i = 0; i < by_slug.size(); ++i) by_slug[i] = i;
    std::sort(by_slug.begin(), by_slug.end(),
              [&](uint32_t x, uint32_t y) { return state.Slug(x) < state.Slug(y); });
    for (uint32_t r = 0; r < by_slug.size(); ++r) rank[by_slug[r]] = r;
  }
  std::map<std::pair<EdgeRow::Kind, uint16_t>, std::string> subkinds;
  auto subkind_name = [&](const EdgeKey& key) -> const std::string& {
    auto [it, inserted] = subkinds.try_emplace({key.kind, key.subkind});
    if (inserted) {
      it->second = key.kind == EdgeRow::Kind::kPartnership ? PartnershipKindName(key.subkind)
                                                           : RouteModeName(key.subkind);
    }
    return it->second;
  };
  struct Ordered {
    EdgeRow::Kind kind;
    uint32_t a, b;  // ranks
    const std::string* subkind;
    const EdgeKey* key;
    const EdgeState* edge;
  };
  std::vector<Ordered> ordered;
  ordered.reserve(state.edges.size());
  for (const auto& [key, edge] : state.edges) {
    ordered.push_back({key.kind, rank[key.a], rank[key.b], &subkind_name(key), &key, &edge});
  }
  std::sort(ordered.begin(), ordered.end(), [](const Ordered& x, const Ordered& y) {
    return std::tie(x.kind, x.a, x.b, *x.subkind) < std::tie(y.kind, y.a, y.b, *y.subkind);
  });
  std::unordered_map<uint32_t, std::string> countries;  // memo of `country`
  for (const Ordered& o : ordered) {
    const EdgeKey& key = *o.key;
    const EdgeState& edge = *o.edge;
    const Tri status = rule == DateRule::kRange            ? EdgeStatusRange(edge, day)
                       : EdgeActivePlaced(edge, day, rule) ? Tri::kYes
                                                           : Tri::kNo;
    if (status == Tri::kNo) continue;
    EdgeRow row;
    row.kind = key.kind;
    row.a = state.Slug(key.a);
    row.b = state.Slug(key.b);
    row.subkind = subkind_name(key);
    row.status = status;
    // Every event of the edge with e <= day: the prefix (occurred in every
    // world on or after the compaction) and the remaining ones.
    row.events.reserve(edge.prefix.seqs.size() + edge.events.size());
    for (uint64_t seq : edge.prefix.seqs) row.events.push_back({seq, Tri::kYes});
    for (const EdgeEvent& x : edge.events) {
      if (x.at.e <= day) row.events.push_back({x.at.seq, Occurrence(x.at.e, x.at.l, day, rule)});
    }
    std::sort(row.events.begin(), row.events.end());
    for (auto [self, partner] : {std::pair(key.a, key.b), std::pair(key.b, key.a)}) {
      EntityCounts& c = counts_of(self);
      if (key.kind == EdgeRow::Kind::kRoute) {
        Add(&c.routes, status);
        Add(&c.routes_by_mode[row.subkind], status);
        continue;
      }
      Add(&c.partnerships, status);
      Add(&c.partnerships_by_kind[row.subkind], status);
      auto it = countries.find(partner);
      if (it == countries.end()) {
        std::string iso;
        TWINLINE_RETURN_IF_ERROR(country(state.Slug(partner), &iso));
        it = countries.emplace(partner, std::move(iso)).first;
      }
      Add(&c.partnerships_by_country[it->second], status);
    }
    out->edges.push_back(std::move(row));
  }

  // Counters and reported counts: an entity's row lists the open events of
  // both and counts the settled ones (settled at a compaction: the state's
  // per-entity number; settled since: l <= day).
  std::vector<RowEvents> entity_events(state.EntityCount());
  for (const auto& [key, c] : state.counters) {
    RowEvents& events = entity_events[key.first];
    Range range;
    range.certain = range.possible = c.settled;  // settled: occurred under every rule
    bool any = c.settled > 0;
    for (const Dated& x : c.open) {
      if (x.e > day) continue;
      any = true;
      Add(&range, Occurrence(x.e, x.l, day, rule));
      events.Add(x, day, rule);
    }
    if (!any) continue;
    EntityCounts& ec = counts_of(key.first);
    AddRange(&(ec.*kCounterField[static_cast<int>(key.second)]), range);
  }
  for (const auto& [key, r] : state.reports) {
    RowEvents& events = entity_events[key.entity];
    bool any = r.settled > 0;
    for (const CountFigure& f : r.open) {
      any = any || f.at.e <= day;
      events.Add(f.at, day, rule);
    }
    if (!any) continue;
    EntityCounts& ec = counts_of(key.entity);
    auto [certain, possible] = Greatest(r, day, rule);
    auto entry = [&](const CountFigure& f, Tri status) {
      ReportedCount rc;
      rc.metric = key.metric;
      rc.scope = key.scope == kNoEntity ? "" : state.Slug(key.scope);
      rc.value = f.value;
      rc.qualifier = QualifierName(f.qualifier);
      rc.date = f.date;
      rc.status = status;
      rc.seq = f.at.seq;
      ec.reported.push_back(std::move(rc));
    };
    if (certain != nullptr) entry(*certain, Tri::kYes);
    if (possible != nullptr && possible != certain) entry(*possible, Tri::kMaybe);
  }
  for (uint32_t entity = 0; entity < state.EntityCount(); ++entity) {
    if (rows[entity] == nullptr) continue;
    EntityCounts& ec = *rows[entity];
    RowEvents& events = entity_events[entity];
    events.Normalise();
    ec.open_events = std::move(events.open);
    ec.settled_events = state.EntitySettled(entity) + events.settled.size();
    std::stable_sort(ec.reported.begin(), ec.reported.end(),
                     [](const ReportedCount& x, const ReportedCount& y) {
                       return std::tie(x.metric, x.scope, y.status) <
                              std::tie(y.metric, y.scope, x.status);  // certain first
                     });
  }

  // Trade: rows in key order, then the totals over them in that order.
  struct TradeOut {
    std::tuple<std::string, std::string, std::string, std::string> key;
    const TradeFigure* certain = nullptr;
    const TradeFigure* possible = nullptr;
    uint64_t settled = 0;  // settled at a compaction
    RowEvents events;
  };
  std::vector<TradeOut> trade;
  for (const auto& [key, r] : state.trade) {
    auto [certain, possible] = Greatest(r, day, rule);
    if (possible == nullptr) continue;
    RowEvents events;
    for (const TradeFigure& f : r.open) events.Add(f.at, day, rule);
    events.Normalise();
    trade.push_back(
        {{state.Slug(key.reporter), state.Slug(key.partner), key.period, TradeFlowName(key.flow)},
         certain,
         possible,
         r.settled,
         std::move(events)});
  }
  std::sort(trade.begin(), trade.end(),
            [](const TradeOut& x, const TradeOut& y) { return x.key < y.key; });
  std::map<std::pair<std::string, std::string>, TradeTotal> totals;
  for (const TradeOut& t : trade) {
    auto row = [&](const TradeFigure& f, Tri status) {
      TradeRow r;
      std::tie(r.reporter, r.partner, r.period, r.flow) = t.key;
      r.currency = f.currency;
      r.amount = f.amount;
      r.status = status;
      r.seq = f.at.seq;
      r.open_events = t.events.open;
      r.settled_events = t.settled + t.events.settled.size();
      out->trade.push_back(std::move(r));
    };
    if (t.certain != nullptr) {
      row(*t.certain, Tri::kYes);
      totals[{std::get<0>(t.key), t.certain->currency}].certain += t.certain->amount;
    }
    if (t.possible != t.certain) row(*t.possible, Tri::kMaybe);
    totals[{std::get<0>(t.key), t.possible->currency}].possible += t.possible->amount;
  }
  for (auto& [key, total] : totals) {
    total.reporter = key.first;
    total.currency = key.second;
    out->trade_totals.push_back(total);
  }

  out->state_hash = SnapshotHash(*out);
  return Status::Ok();
}

namespace {

// The canonical byte form the hash covers: every row field in order,
// integers big-endian, strings length-prefixed, doubles by their bits.
// Hashed in chunks as it is written.
class Canonical {
 public:
  void U64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * (7 - i))) & 0xff);
    bytes_.append(b, sizeof b);
  }
  void Text(std::string_view s) {
    U64(s.size());
    bytes_ += s;
    if (bytes_.size() >= kChunk) Flush();
  }
  void Double(double v) {
    if (v == 0) v = 0;  // -0 and 0 are one amount
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    U64(bits);
  }
  void Byte(uint8_t b) { bytes_ += static_cast<char>(b); }
  void Tri3(Tri t) { Byte(static_cast<uint8_t>(t)); }
  void Count(const Range& r) {
    U64(r.certain);
    U64(r.possible);
  }
  void Marks(const std::vector<EventMark>& marks) {
    U64(marks.size());
    for (const EventMark& m : marks) {
      U64(m.seq);
      Tri3(m.occurred);
    }
    if (bytes_.size() >= kChunk) Flush();
  }
  void Counts(const std::map<std::string, Range>& m) {
    U64(m.size());
    for (const auto& [k, r] : m) {
      Text(k);
      Count(r);
    }
  }
  std::string HexDigest() {
    Flush();
    return ToHex(sha_.Finish());
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 16;
  void Flush() {
    sha_.Update(bytes_);
    bytes_.clear();
  }
  Sha256 sha_;
  std::string bytes_;
};

}  // namespace

std::string SnapshotHash(const Snapshot& s) {
  Canonical c;
  c.Text("twinline-snapshot-v2");
  c.U64(s.edges.size());
  for (const EdgeRow& e : s.edges) {
    c.Byte(static_cast<uint8_t>(e.kind));
    c.Text(e.a);
    c.Text(e.b);
    c.Text(e.subkind);
    c.Tri3(e.status);
    c.Marks(e.events);
  }
  c.U64(s.counts.size());
  for (const auto& [slug, ec] : s.counts) {
    c.Text(slug);
    c.Count(ec.partnerships);
    c.Counts(ec.partnerships_by_kind);
    c.Counts(ec.partnerships_by_country);
    c.Count(ec.routes);
    c.Counts(ec.routes_by_mode);
    for (const Range* r : {&ec.forums, &ec.agreements, &ec.offices, &ec.offices_hosted,
                           &ec.organisations, &ec.awards, &ec.initiatives}) {
      c.Count(*r);
    }
    c.U64(ec.reported.size());
    for (const ReportedCount& r : ec.reported) {
      c.Text(r.metric);
      c.Text(r.scope);
      c.Double(r.value);
      c.Text(r.qualifier);
      c.Text(r.date);
      c.Tri3(r.status);
      c.U64(r.seq);
    }
    c.Marks(ec.open_events);
    c.U64(ec.settled_events);
  }
  c.U64(s.trade.size());
  for (const TradeRow& t : s.trade) {
    for (const std::string* f : {&t.reporter, &t.partner, &t.period, &t.flow, &t.currency}) {
      c.Text(*f);
    }
    c.Double(t.amount);
    c.Tri3(t.status);
    c.U64(t.seq);
    c.Marks(t.open_events);
    c.U64(t.settled_events);
  }
  c.U64(s.trade_totals.size());
  for (const TradeTotal& t : s.trade_totals) {
    c.Text(t.reporter);
    c.Text(t.currency);
    c.Double(t.certain);
    c.Double(t.possible);
  }
  return c.HexDigest();
}

}  // namespace twinline::projection_internal
