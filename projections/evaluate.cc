// Evaluating a projection state at a valid day (docs/PROJECTIONS.md §2-§4):
// edge statuses, counts, reports and trade, as Snapshot rows handed to a
// sink in row order, and the hash that lets two replays be compared byte
// for byte, computed as the rows go by.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
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
Tri EdgeStatusRange(const PrefixStatus& prefix, std::span<const EdgeEvent> events, int64_t day) {
  auto can_be_last = [&](const EdgeEvent& last) {
    const int64_t t = std::min(last.at.l, day);
    for (const EdgeEvent& other : events) {
      if (other.establish == last.establish) continue;  // either way the status is last's
      const bool before = other.at.e < t || (other.at.e == t && other.at.seq < last.at.seq);
      if (!before && other.at.l <= day) return false;
    }
    return true;
  };
  bool possibly_active = false, possibly_inactive = false;
  bool every_end_can_follow = true, every_establish_can_follow = true;
  for (const EdgeEvent& x : events) {
    if (x.at.l <= day) (x.establish ? every_establish_can_follow : every_end_can_follow) = false;
    if (x.at.e <= day && can_be_last(x)) (x.establish ? possibly_active : possibly_inactive) = true;
  }
  if (every_end_can_follow && prefix.range != Tri::kNo) possibly_active = true;
  if (every_establish_can_follow && prefix.range != Tri::kYes) possibly_inactive = true;
  if (!possibly_inactive) return Tri::kYes;
  return possibly_active ? Tri::kMaybe : Tri::kNo;
}

bool EdgeActivePlaced(const PrefixStatus& prefix, std::span<const EdgeEvent> events, int64_t day,
                      DateRule rule) {
  const EdgeEvent* last = nullptr;
  int64_t last_day = 0;
  for (const EdgeEvent& x : events) {
    const int64_t on = rule == DateRule::kEarliest ? x.at.e : x.at.l;
    if (on == kUnboundedEnd || on > day) continue;  // an open end never happens
    if (last == nullptr || std::tuple(on, x.at.seq) > std::tuple(last_day, last->at.seq)) {
      last = &x;
      last_day = on;
    }
  }
  if (last != nullptr) return last->establish;
  return rule == DateRule::kEarliest ? prefix.earliest : prefix.latest;
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
// that have settled (l <= day) but are still held.
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

// "Greatest report wins" (§4): the certain and the possible report of a key
// with settled part `r` and open reports `open`.
template <typename Entry, typename Figure>
std::pair<const Figure*, const Figure*> Greatest(const Entry& r,
                                                 std::span<const OpenFigure<Figure>> open,
                                                 int64_t day, DateRule rule) {
  const Figure* certain = r.has_best ? &r.best : nullptr;
  const Figure* possible = certain;
  for (const OpenFigure<Figure>& o : open) {
    const Figure& f = o.figure;
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

// The state hash (Snapshot::state_hash): each row set's rows in canonical
// form, hashed as they go by, then one hash over the selection, the entity
// filter, and each set's row count and hash. A partial selection or an
// entity filter is part of it, so such a snapshot never has a full one's
// hash.
struct RowHasher::Sets {
  Canonical edges, counts, trade, totals;
};

RowHasher::RowHasher(RowSets rows, std::string_view entity)
    : rows_(rows), entity_(entity), sets_(std::make_unique<Sets>()) {}
RowHasher::~RowHasher() = default;

void RowHasher::Edge(const EdgeRow& e) {
  Canonical& c = sets_->edges;
  ++counts_[0];
  c.Byte(static_cast<uint8_t>(e.kind));
  c.Text(e.a);
  c.Text(e.b);
  c.Text(e.subkind);
  c.Tri3(e.status);
  c.Marks(e.events);
}

void RowHasher::Count(const std::string& slug, const EntityCounts& ec) {
  Canonical& c = sets_->counts;
  ++counts_[1];
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

void RowHasher::Trade(const TradeRow& t) {
  Canonical& c = sets_->trade;
  ++counts_[2];
  for (const std::string* f : {&t.reporter, &t.partner, &t.period, &t.flow, &t.currency}) {
    c.Text(*f);
  }
  c.Double(t.amount);
  c.Tri3(t.status);
  c.U64(t.seq);
  c.Marks(t.open_events);
  c.U64(t.settled_events);
}

void RowHasher::Total(const TradeTotal& t) {
  Canonical& c = sets_->totals;
  ++counts_[3];
  c.Text(t.reporter);
  c.Text(t.currency);
  c.Double(t.certain);
  c.Double(t.possible);
}

std::string RowHasher::HexDigest() {
  Canonical all;
  all.Text("twinline-snapshot-v3");
  all.Byte(rows_);
  all.Text(entity_);
  Canonical* sets[4] = {&sets_->edges, &sets_->counts, &sets_->trade, &sets_->totals};
  for (int i = 0; i < 4; ++i) {
    all.U64(counts_[i]);
    all.Text(sets[i]->HexDigest());
  }
  return all.HexDigest();
}

namespace {

// One evaluation: the state, the day, the rule, where rows go. Each part
// walks the state once and hands its rows on in order.
class Evaluation {
 public:
  Evaluation(State& state, int64_t day, DateRule rule, RowSets rows, const CountryFn& country,
             SnapshotSink* sink)
      : state_(state), day_(day), rule_(rule), rows_(rows), country_(country), sink_(sink) {}

  Status Run() {
    state_.Normalise();
    rank_ = state_.Entities().Ranks();
    if ((rows_ & kCountRows) != 0) counts_.resize(state_.EntityCount());
    if ((rows_ & (kEdgeRows | kCountRows)) != 0) TWINLINE_RETURN_IF_ERROR(Edges());
    if ((rows_ & kCountRows) != 0) TWINLINE_RETURN_IF_ERROR(Counts());
    if ((rows_ & kTradeRows) != 0) TWINLINE_RETURN_IF_ERROR(Trades());
    return sink_->End("");  // the replay's HashingSink computes the hash
  }

 private:
  EntityCounts& CountsOf(uint32_t entity) {
    if (counts_[entity] == nullptr) counts_[entity] = std::make_unique<EntityCounts>();
    return *counts_[entity];
  }

  const std::string& SubkindName(EdgeRow::Kind kind, uint16_t ordinal) {
    return names_.Subkind(kind, ordinal);
  }
  const std::string& SubkindName(const EdgeKey& key) { return names_.Subkind(key.kind, key.subkind); }
  const std::string& FlowName(uint16_t flow) { return names_.Flow(flow); }

  // Every edge's status; the partnership and route counts it gives its
  // ends (counts); then the edge rows, in row order: (kind, a, b, subkind)
  // by slug and name, not by index.
  Status Edges() {
    const size_t n = state_.edges.size();
    std::vector<Tri> status(n, Tri::kNo);
    uint64_t active = 0;
    std::unordered_map<uint32_t, uint32_t> partner_country;  // memo of `country`, as ids
    std::unordered_map<std::string, uint32_t> country_ids;
    GroupCursor<EdgeEvent> groups(state_.edge_events);
    for (uint32_t i = 0; i < n; ++i) {
      const Edge& edge = state_.edges[i];
      const std::span<const EdgeEvent> events = groups.Next(i);
      status[i] = rule_ == DateRule::kRange ? EdgeStatusRange(edge.prefix, events, day_)
                  : EdgeActivePlaced(edge.prefix, events, day_, rule_) ? Tri::kYes
                                                                       : Tri::kNo;
      if (status[i] == Tri::kNo) continue;
      ++active;
      if ((rows_ & kCountRows) == 0) continue;
      const EdgeKey& key = edge.key;
      for (auto [self, partner] : {std::pair(key.a, key.b), std::pair(key.b, key.a)}) {
        EntityCounts& c = CountsOf(self);
        if (key.kind == EdgeRow::Kind::kRoute) {
          Add(&c.routes, status[i]);
          tallies_.push_back({self, Tally::kByMode | key.subkind, status[i]});
          continue;
        }
        Add(&c.partnerships, status[i]);
        tallies_.push_back({self, Tally::kByKind | key.subkind, status[i]});
        auto it = partner_country.find(partner);
        if (it == partner_country.end()) {
          std::string iso;
          TWINLINE_RETURN_IF_ERROR(country_(state_.Slug(partner), &iso));
          auto [id, added] = country_ids.try_emplace(iso, countries_.size());
          if (added) countries_.push_back(std::move(iso));
          it = partner_country.emplace(partner, id->second).first;
        }
        tallies_.push_back({self, Tally::kByCountry | it->second, status[i]});
      }
    }
    if ((rows_ & kEdgeRows) == 0) return Status::Ok();

    std::vector<uint32_t> order;
    order.reserve(active);
    for (uint32_t i = 0; i < n; ++i) {
      if (status[i] != Tri::kNo) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
      const EdgeKey& p = state_.edges[x].key;
      const EdgeKey& q = state_.edges[y].key;
      const auto pk = std::tuple(p.kind, rank_[p.a], rank_[p.b]);
      const auto qk = std::tuple(q.kind, rank_[q.a], rank_[q.b]);
      if (pk != qk) return pk < qk;
      return SubkindName(p) < SubkindName(q);
    });
    for (uint32_t i : order) {
      const Edge& edge = state_.edges[i];
      EdgeRow row;
      row.kind = edge.key.kind;
      row.a = state_.Slug(edge.key.a);
      row.b = state_.Slug(edge.key.b);
      row.subkind = SubkindName(edge.key);
      row.status = status[i];
      // Every event of the edge with e <= day: the prefix's (occurred in
      // every world; none in a State built by insertion) and the others.
      const std::span<const uint64_t> prefix = state_.PrefixSeqs(i);
      const std::span<const EdgeEvent> events = ItemsOf(state_.edge_events, i);
      row.events.reserve(prefix.size() + events.size());
      for (uint64_t seq : prefix) row.events.push_back({seq, Tri::kYes});
      for (const EdgeEvent& x : events) {
        if (x.at.e <= day_) {
          row.events.push_back({x.at.seq, Occurrence(x.at.e, x.at.l, day_, rule_)});
        }
      }
      std::sort(row.events.begin(), row.events.end());
      TWINLINE_RETURN_IF_ERROR(sink_->Edge(std::move(row)));
    }
    return Status::Ok();
  }

  // Counters and reported counts: an entity's row lists the open events of
  // both and counts the settled ones (settled on insertion: the state's
  // per-entity number; held but settled: l <= day). Rows by slug.
  Status Counts() {
    std::vector<RowEvents> entity_events(state_.EntityCount());
    GroupCursor<CounterFact> facts(state_.counter_facts);
    for (uint32_t i = 0; i < state_.counters.size(); ++i) {
      const CounterEntry& c = state_.counters[i];
      RowEvents& events = entity_events[c.key.entity];
      Range range;
      range.certain = range.possible = c.settled;  // settled: occurred under every rule
      bool any = c.settled > 0;
      for (const CounterFact& x : facts.Next(i)) {
        if (x.at.e > day_) continue;
        any = true;
        Add(&range, Occurrence(x.at.e, x.at.l, day_, rule_));
        events.Add(x.at, day_, rule_);
      }
      if (!any) continue;
      EntityCounts& ec = CountsOf(c.key.entity);
      AddRange(&(ec.*kCounterField[static_cast<int>(c.key.counter)]), range);
    }
    GroupCursor<OpenFigure<CountFigure>> figures(state_.report_figures);
    for (uint32_t i = 0; i < state_.reports.size(); ++i) {
      const Report& r = state_.reports[i];
      const std::span<const OpenFigure<CountFigure>> open = figures.Next(i);
      RowEvents& events = entity_events[r.key.entity];
      bool any = r.settled > 0;
      for (const OpenFigure<CountFigure>& f : open) {
        any = any || f.figure.at.e <= day_;
        events.Add(f.figure.at, day_, rule_);
      }
      if (!any) continue;
      EntityCounts& ec = CountsOf(r.key.entity);
      auto [certain, possible] = Greatest(r, open, day_, rule_);
      auto entry = [&](const CountFigure& f, Tri status) {
        ReportedCount rc;
        rc.metric = state_.Name(r.key.metric);
        rc.scope = r.key.scope == kNoEntity ? "" : state_.Slug(r.key.scope);
        rc.value = f.value;
        rc.qualifier = QualifierName(f.qualifier);
        rc.date = state_.Name(f.date);
        rc.status = status;
        rc.seq = f.at.seq;
        ec.reported.push_back(std::move(rc));
      };
      if (certain != nullptr) entry(*certain, Tri::kYes);
      if (possible != nullptr && possible != certain) entry(*possible, Tri::kMaybe);
    }

    std::vector<uint32_t> order;
    for (uint32_t entity = 0; entity < counts_.size(); ++entity) {
      if (counts_[entity] != nullptr) order.push_back(entity);
    }
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return rank_[x] < rank_[y]; });
    // Each entity's tallies, by entity index: [tally_begin[e], tally_begin[e + 1]).
    std::sort(tallies_.begin(), tallies_.end(),
              [](const Tally& x, const Tally& y) { return x.entity < y.entity; });
    std::vector<size_t> tally_begin(counts_.size() + 1, 0);
    for (const Tally& t : tallies_) ++tally_begin[t.entity + 1];
    for (size_t e = 0; e < counts_.size(); ++e) tally_begin[e + 1] += tally_begin[e];
    for (uint32_t entity : order) {
      EntityCounts& ec = *counts_[entity];
      for (size_t t = tally_begin[entity]; t < tally_begin[entity + 1]; ++t) {
        const Tally& tally = tallies_[t];
        const uint32_t id = tally.bucket & Tally::kIdMask;
        switch (tally.bucket & ~Tally::kIdMask) {
          case Tally::kByKind:
            Add(&ec.partnerships_by_kind[SubkindName(EdgeRow::Kind::kPartnership, id)], tally.status);
            break;
          case Tally::kByMode:
            Add(&ec.routes_by_mode[SubkindName(EdgeRow::Kind::kRoute, id)], tally.status);
            break;
          default:
            Add(&ec.partnerships_by_country[countries_[id]], tally.status);
            break;
        }
      }
      RowEvents& events = entity_events[entity];
      events.Normalise();
      ec.open_events = std::move(events.open);
      ec.settled_events = state_.EntitySettled(entity) + events.settled.size();
      events = RowEvents();
      std::stable_sort(ec.reported.begin(), ec.reported.end(),
                       [](const ReportedCount& x, const ReportedCount& y) {
                         return std::tie(x.metric, x.scope, y.status) <
                                std::tie(y.metric, y.scope, x.status);  // certain first
                       });
      TWINLINE_RETURN_IF_ERROR(sink_->Count(state_.Slug(entity), std::move(ec)));
      counts_[entity].reset();
    }
    return Status::Ok();
  }

  // Trade: rows in key order (reporter, partner, period, flow, by slug and
  // name), then the totals over them in that order.
  Status Trades() {
    std::vector<uint32_t> order;  // keys with a row
    uint64_t rows = 0;
    GroupCursor<OpenFigure<TradeFigure>> figures(state_.trade_figures);
    for (uint32_t i = 0; i < state_.trade.size(); ++i) {
      auto [certain, possible] = Greatest(state_.trade[i], figures.Next(i), day_, rule_);
      if (possible == nullptr) continue;
      order.push_back(i);
      rows += (certain != nullptr ? 1 : 0) + (possible != certain ? 1 : 0);
    }
    const std::vector<uint32_t> name_rank = state_.Names().Ranks();
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
      const TradeKey& p = state_.trade[x].key;
      const TradeKey& q = state_.trade[y].key;
      const auto pk = std::tuple(rank_[p.reporter], rank_[p.partner], name_rank[p.period]);
      const auto qk = std::tuple(rank_[q.reporter], rank_[q.partner], name_rank[q.period]);
      if (pk != qk) return pk < qk;
      return FlowName(p.flow) < FlowName(q.flow);
    });

    // (reporter rank, currency rank) orders totals as (reporter, currency) do.
    std::map<std::pair<uint32_t, uint32_t>, TradeTotal> totals;
    for (uint32_t i : order) {
      const Trade& t = state_.trade[i];
      const std::span<const OpenFigure<TradeFigure>> open = ItemsOf(state_.trade_figures, i);
      auto [certain, possible] = Greatest(t, open, day_, rule_);
      RowEvents events;
      for (const OpenFigure<TradeFigure>& f : open) events.Add(f.figure.at, day_, rule_);
      events.Normalise();
      auto row = [&](const TradeFigure& f, Tri status) -> Status {
        TradeRow r;
        r.reporter = state_.Slug(t.key.reporter);
        r.partner = state_.Slug(t.key.partner);
        r.period = state_.Name(t.key.period);
        r.flow = FlowName(t.key.flow);
        r.currency = state_.Name(f.currency);
        r.amount = f.amount;
        r.status = status;
        r.seq = f.at.seq;
        r.open_events = events.open;
        r.settled_events = t.settled + events.settled.size();
        return sink_->Trade(std::move(r));
      };
      auto total = [&](const TradeFigure& f) -> TradeTotal& {
        return totals[{rank_[t.key.reporter], name_rank[f.currency]}];
      };
      if (certain != nullptr) {
        TWINLINE_RETURN_IF_ERROR(row(*certain, Tri::kYes));
        TradeTotal& sum = total(*certain);
        sum.reporter = state_.Slug(t.key.reporter);
        sum.currency = state_.Name(certain->currency);
        sum.certain += certain->amount;
      }
      if (possible != certain) TWINLINE_RETURN_IF_ERROR(row(*possible, Tri::kMaybe));
      TradeTotal& sum = total(*possible);
      sum.reporter = state_.Slug(t.key.reporter);
      sum.currency = state_.Name(possible->currency);
      sum.possible += possible->amount;
    }
    for (auto& [key, total] : totals) {
      TWINLINE_RETURN_IF_ERROR(sink_->Total(std::move(total)));
    }
    return Status::Ok();
  }

  State& state_;
  const int64_t day_;
  const DateRule rule_;
  const RowSets rows_;
  const CountryFn& country_;
  SnapshotSink* sink_;
  std::vector<uint32_t> rank_;  // entity index -> position by slug
  // Count rows by entity index, while counts are selected: complete only
  // once every edge, counter and report has been evaluated.
  std::vector<std::unique_ptr<EntityCounts>> counts_;
  // One end of an active edge, for its entity's partnerships by kind and by
  // partner country or routes by mode: kept as a flat list until the
  // entity's row is built, instead of three string-keyed maps per entity
  // held from the first edge to the last row (a 10^7-event log: ~1M ends,
  // 12 bytes each here against ~90 MB of map nodes).
  struct Tally {
    static constexpr uint32_t kByKind = 0, kByMode = 1u << 30, kByCountry = 2u << 30;
    static constexpr uint32_t kIdMask = (1u << 30) - 1;
    uint32_t entity = 0;
    uint32_t bucket = 0;  // kByKind | kind ordinal, kByMode | mode ordinal, kByCountry | country id
    Tri status = Tri::kNo;
  };
  std::vector<Tally> tallies_;
  std::vector<std::string> countries_;  // country id -> ISO code ("" = none)
  EnumNames names_;
};

}  // namespace

Status Evaluate(State& state, int64_t day, DateRule rule, RowSets rows, const CountryFn& country,
                SnapshotSink* sink) {
  return Evaluation(state, day, rule, rows & state.rows(), country, sink).Run();
}

Status Evaluate(State& state, int64_t day, DateRule rule, const CountryFn& country,
                Snapshot* out) {
  out->edges.clear();
  out->counts.clear();
  out->trade.clear();
  out->trade_totals.clear();
  SnapshotCollector collector(out);
  return Evaluate(state, day, rule, state.rows(), country, &collector);
}

Status SnapshotCollector::Begin(uint64_t known_seq) {
  out_->known_seq = known_seq;
  return Status::Ok();
}
Status SnapshotCollector::Edge(EdgeRow row) {
  out_->edges.push_back(std::move(row));
  return Status::Ok();
}
Status SnapshotCollector::Count(std::string entity, EntityCounts counts) {
  out_->counts.emplace_hint(out_->counts.end(), std::move(entity), std::move(counts));
  return Status::Ok();
}
Status SnapshotCollector::Trade(TradeRow row) {
  out_->trade.push_back(std::move(row));
  return Status::Ok();
}
Status SnapshotCollector::Total(TradeTotal total) {
  out_->trade_totals.push_back(std::move(total));
  return Status::Ok();
}
Status SnapshotCollector::End(const std::string& state_hash) {
  out_->state_hash = state_hash;
  return Status::Ok();
}

std::string SnapshotHash(const Snapshot& s, RowSets rows, std::string_view entity) {
  rows &= kAllRows | kCountsBrief;
  RowHasher hash(rows, entity);
  if ((rows & kEdgeRows) != 0) {
    for (const EdgeRow& e : s.edges) hash.Edge(e);
  }
  if ((rows & kCountRows) != 0) {
    for (const auto& [slug, ec] : s.counts) hash.Count(slug, ec);
  }
  if ((rows & kTradeRows) != 0) {
    for (const TradeRow& t : s.trade) hash.Trade(t);
    for (const TradeTotal& t : s.trade_totals) hash.Total(t);
  }
  return hash.HexDigest();
}

}  // namespace twinline::projection_internal
