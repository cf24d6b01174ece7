// Diff causes (docs/PROJECTIONS.md §6): the effective events behind each
// changed row, found without holding any row's whole history.
//
// On each side (D, K) an event has a *mark* for a row: absent, unless it is
// effective at K, has e <= D and belongs to the row there; else its
// occurrence at D. Its causes are the events whose marks differ. Belonging
// is decided by Classify (state.h), the function State::Insert builds the
// state with, so a diff can never attribute an event to a row the replay
// did not count it in.
//
// Why the candidates below hold every cause, with Dmin <= Dmax the two
// days and Kmin <= Kmax the two known seqs. An event whose mark differs
//  1. is effective on one side only: then K differ and its seq is in
//     (Kmin, Kmax], or a retraction or amendment recorded in (Kmin, Kmax]
//     targets it (being superseded only ever starts, at the correction's
//     seq). Candidates (c).
//  2. or is effective on both sides with e in (Dmin, Dmax]: candidates (b).
//  3. or is effective on both sides with e <= Dmin and an occurrence that
//     differs. Occurrence depends on D only through e <= D and l <= D, so l
//     is in (Dmin, Dmax]: the event is unsettled at Dmin (e <= Dmin < l),
//     and the Dmin side lists it (a): an edge row lists all its events, a
//     count or trade row its open events. Where that row may be missing at
//     Dmin: an edge row is listed only when the edge is active or possibly
//     active, but an edge diff row, and any edge an edge-count row takes, is
//     listed on some side, and the Dmax side lists every event with
//     e <= Dmin too. A trade key has a row at Dmin whenever one of its
//     reports is unsettled there (occurrence maybe, or yes under --dates
//     earliest), except under --dates latest (occurrence no): then its
//     reporter's events are scanned, by the by-entity index (d). A count
//     row exists whenever any event of the entity has e <= D.
//  4. or has the same presence and occurrence on both sides but belongs to
//     the row on one side only: only "partnerships in CC" rows do that (the
//     partner's country is the one in effect at each side's K), and only for
//     edges listed on some side, whose events are in (a).
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "core/identity.h"
#include "projections/state.h"

namespace twinline::projection_internal {

namespace {

using Which = schema::Payload::Which;

// An event's mark for a row on one side: absent, or its occurrence.
using Mark = std::optional<Tri>;

std::string_view View(capnp::Text::Reader text) { return {text.cStr(), text.size()}; }

using EdgeId = std::tuple<EdgeRow::Kind, std::string_view, std::string_view, std::string_view>;
using TradeId = std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>;
using CounterId = std::tuple<std::string_view, Counter>;

// Hashes the ids above, for the lookups made per candidate event (a diff at
// 10^6 events looks up ~10^5 of them; ordered maps of string tuples spent
// most of their time comparing strings).
struct IdHash {
  template <typename... Parts>
  size_t operator()(const std::tuple<Parts...>& id) const {
    size_t h = 0;
    std::apply([&](const auto&... part) { ((h = (h ^ Part(part)) * 0x9e3779b97f4a7c15ULL), ...); },
               id);
    return h;
  }
  static size_t Part(std::string_view s) { return std::hash<std::string_view>()(s); }
  template <typename Enum>
    requires std::is_enum_v<Enum>
  static size_t Part(Enum e) {
    return static_cast<size_t>(e);
  }
};

// Attributes candidate events to the rows they are causes of. Borrows the
// transaction, the snapshots and the rows for its lifetime.
class Attribution {
 public:
  Attribution(const ReadTxn& txn, const Snapshot& from, const Snapshot& to,
              const std::vector<CauseRow>& rows, std::vector<std::vector<uint64_t>>* causes)
      : txn_(txn), sides_{&from, &to}, rows_(rows), causes_(causes) {
    for (const Snapshot* side : sides_) {
      for (const EdgeRow& e : side->edges) listed_edges_.insert({e.kind, e.a, e.b, e.subkind});
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const CauseRow& r = rows[i];
      switch (r.kind) {
        case CauseRow::Kind::kEdge:
          edge_rows_[{r.edge_kind, r.a, r.b, r.subkind ? std::string_view(*r.subkind) : ""}]
              .push_back(i);
          break;
        case CauseRow::Kind::kEdgeCount:
          edge_count_rows_[r.a].push_back(i);
          break;
        case CauseRow::Kind::kCounter:
          counter_rows_[{r.a, r.counter}].push_back(i);
          break;
        case CauseRow::Kind::kTrade:
          trade_rows_[{r.a, r.b, r.period, r.flow}].push_back(i);
          break;
      }
    }
  }

  // Adds `ev` (any event of the log) to the causes of every row whose mark
  // of it differs between the sides.
  Status Consider(schema::Event::Reader ev) {
    auto payload = ev.getPayload();
    const Which which = payload.which();
    if (which == Which::RETRACTION || which == Which::CORROBORATION) return Status::Ok();
    const uint64_t seq = ev.getSeq();
    if (seq > std::max(K(0), K(1))) return Status::Ok();
    std::array<bool, 2> effective{};
    TWINLINE_RETURN_IF_ERROR(Effective(View(ev.getId()), seq, &effective));
    const int64_t e = ev.getValidTime().getEarliest(), l = ev.getValidTime().getLatest();
    std::array<Mark, 2> mark;
    for (int s = 0; s < 2; ++s) {
      const int64_t day = sides_[s]->query.as_of_day;
      if (effective[s] && e <= day) mark[s] = Occurrence(e, l, day, sides_[s]->query.rule);
    }
    if (!mark[0] && !mark[1]) return Status::Ok();
    if (which == Which::AMENDMENT) payload = payload.getAmendment().getReplacement();
    const Feeds f = Classify(payload);
    const bool differs = mark[0] != mark[1];
    switch (f.kind) {
      case Feeds::Kind::kEdge:
        return ConsiderEdge(f, seq, mark);
      case Feeds::Kind::kCounters:
        if (!differs) break;
        for (const auto& [entity, counter] : f.counters) {
          auto it = counter_rows_.find({entity, counter});
          if (it != counter_rows_.end()) Cause(it->second, seq);
        }
        break;
      case Feeds::Kind::kTrade: {
        if (!differs) break;
        auto it = trade_rows_.find({f.entity, f.partner, f.period, names_.Flow(f.flow)});
        if (it != trade_rows_.end()) Cause(it->second, seq);
        break;
      }
      case Feeds::Kind::kReport:  // reported rows name the reports they show (diff.cc)
      case Feeds::Kind::kNothing:
        break;
    }
    return Status::Ok();
  }

 private:
  uint64_t K(int side) const { return sides_[side]->known_seq; }

  // Whether the event `id` at `seq` is effective at each side's K: recorded
  // by then and not superseded by a retraction or amendment recorded by then.
  Status Effective(std::string_view id, uint64_t seq, std::array<bool, 2>* out) {
    (*out)[0] = seq <= K(0);
    (*out)[1] = seq <= K(1);
    if (!(*out)[0] && !(*out)[1]) return Status::Ok();
    std::optional<uint64_t> corrected;  // the first correction's seq
    TWINLINE_RETURN_IF_ERROR(txn_.ScanReferences(id, [&](schema::Event::Reader ref) {
      const Which which = ref.getPayload().which();
      if (which != Which::RETRACTION && which != Which::AMENDMENT) return true;
      corrected = ref.getSeq();
      return false;  // ascending seq: the first one decides
    }));
    for (int s = 0; s < 2; ++s) {
      if (corrected && *corrected <= K(s)) (*out)[s] = false;
    }
    return Status::Ok();
  }

  Status ConsiderEdge(const Feeds& f, uint64_t seq, const std::array<Mark, 2>& mark) {
    const std::string& subkind = names_.Subkind(f.edge_kind, f.subkind);
    const EdgeId id{f.edge_kind, f.a, f.b, subkind};
    if (mark[0] != mark[1]) {
      auto it = edge_rows_.find(id);
      if (it != edge_rows_.end()) Cause(it->second, seq);
    }
    if (!listed_edges_.count(id)) return Status::Ok();  // counted on neither side
    for (auto [self, partner] : {std::pair(f.a, f.b), std::pair(f.b, f.a)}) {
      auto it = edge_count_rows_.find(self);
      if (it == edge_count_rows_.end()) continue;
      for (size_t r : it->second) {
        const CauseRow& row = rows_[r];
        if (row.edge_kind != f.edge_kind || (row.subkind && *row.subkind != subkind)) continue;
        std::array<Mark, 2> m = mark;
        for (int s = 0; s < 2 && row.country; ++s) {
          if (!m[s]) continue;
          const std::string* country = nullptr;
          TWINLINE_RETURN_IF_ERROR(CountryOf(s, partner, &country));
          if (*country != *row.country) m[s].reset();
        }
        if (m[0] != m[1]) (*causes_)[r].push_back(seq);
      }
    }
    return Status::Ok();
  }

  // The partner's country as Evaluate saw it on `side` (at that side's K).
  Status CountryOf(int side, std::string_view slug, const std::string** country) {
    if (K(0) == K(1)) side = 0;
    auto [it, inserted] = countries_.try_emplace({side, std::string(slug)});
    if (inserted) {
      TWINLINE_RETURN_IF_ERROR(EffectiveCountry(txn_, slug, K(side), &it->second));
    }
    *country = &it->second;
    return Status::Ok();
  }

  void Cause(const std::vector<size_t>& rows, uint64_t seq) {
    for (size_t r : rows) (*causes_)[r].push_back(seq);
  }

  const ReadTxn& txn_;
  const std::array<const Snapshot*, 2> sides_;
  const std::vector<CauseRow>& rows_;
  std::vector<std::vector<uint64_t>>* causes_;
  // Views into the snapshots and the rows, which outlive this object.
  std::unordered_set<EdgeId, IdHash> listed_edges_;  // active or possibly active on some side
  std::unordered_map<EdgeId, std::vector<size_t>, IdHash> edge_rows_;
  std::unordered_map<std::string_view, std::vector<size_t>> edge_count_rows_;  // by entity
  std::unordered_map<CounterId, std::vector<size_t>, IdHash> counter_rows_;
  std::unordered_map<TradeId, std::vector<size_t>, IdHash> trade_rows_;
  std::map<std::pair<int, std::string>, std::string> countries_;  // (side, slug) -> ISO
  EnumNames names_;
};

}  // namespace

Status FindCauses(const ReadTxn& txn, const Snapshot& from, const Snapshot& to,
                  const std::vector<CauseRow>& rows, std::vector<std::vector<uint64_t>>* causes) {
  causes->assign(rows.size(), {});
  if (rows.empty()) return Status::Ok();
  Attribution attribution(txn, from, to, rows, causes);
  const std::array<const Snapshot*, 2> sides{&from, &to};
  const bool same_k = from.known_seq == to.known_seq;
  const int64_t dmin = std::min(from.query.as_of_day, to.query.as_of_day);
  const int64_t dmax = std::max(from.query.as_of_day, to.query.as_of_day);
  const uint64_t kmin = std::min(from.known_seq, to.known_seq);
  const uint64_t kmax = std::max(from.known_seq, to.known_seq);
  Status inner;
  auto consider = [&](schema::Event::Reader ev) {
    inner = attribution.Consider(ev);
    return inner.ok();
  };

  // (a) The events the snapshots list, with their marks. One listed on both
  // sides with one occurrence, at one K, is a cause of nothing: its presence,
  // occurrence and rows are the same on both sides.
  std::unordered_map<uint64_t, std::array<Mark, 2>> listed;
  for (int s = 0; s < 2; ++s) {
    auto list = [&](const std::vector<EventMark>& marks) {
      for (const EventMark& m : marks) listed[m.seq][s] = m.occurred;
    };
    for (const EdgeRow& e : sides[s]->edges) list(e.events);
    for (const auto& [slug, c] : sides[s]->counts) list(c.open_events);
    for (const TradeRow& t : sides[s]->trade) list(t.open_events);
  }
  std::vector<uint64_t> seqs;
  for (const auto& [seq, marks] : listed) {
    if (same_k && marks[0] && marks[0] == marks[1]) continue;
    seqs.push_back(seq);
  }
  std::sort(seqs.begin(), seqs.end());
  for (uint64_t seq : seqs) {
    TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) { consider(ev); }));
    TWINLINE_RETURN_IF_ERROR(inner);
  }

  // (b) Events whose earliest day lies between the two days: one pass over
  // the log (this is the replay's diff, the reference the temporal index is
  // held to; DiffAt answers from the index without it).
  if (dmin < dmax) {
    TWINLINE_RETURN_IF_ERROR(txn.Scan(1, kmax, [&](schema::Event::Reader ev) {
      const int64_t e = ev.getValidTime().getEarliest();
      if (e <= dmin || e > dmax || listed.count(ev.getSeq())) return true;  // (a) had it
      return consider(ev);
    }));
    TWINLINE_RETURN_IF_ERROR(inner);
  }

  // (c) Events recorded between the two known seqs, and what their
  // corrections target.
  if (kmin < kmax) {
    std::vector<std::string> targets;
    TWINLINE_RETURN_IF_ERROR(txn.Scan(kmin + 1, kmax, [&](schema::Event::Reader ev) {
      auto p = ev.getPayload();
      if (p.isRetraction()) targets.push_back(Str(p.getRetraction().getTarget()));
      if (p.isAmendment()) targets.push_back(Str(p.getAmendment().getTarget()));
      const int64_t e = ev.getValidTime().getEarliest();
      if (listed.count(ev.getSeq()) || (dmin < e && e <= dmax)) return true;  // (a) or (b) had it
      return consider(ev);
    }));
    TWINLINE_RETURN_IF_ERROR(inner);
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    for (const std::string& id : targets) {
      uint64_t seq = 0;
      Status found = txn.FindById(id, &seq);
      if (found.code() == Status::Code::kNotFound) continue;
      TWINLINE_RETURN_IF_ERROR(found);
      if (listed.count(seq)) continue;
      TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) { consider(ev); }));
      TWINLINE_RETURN_IF_ERROR(inner);
    }
  }

  // (d) Under --dates latest, a trade key without a row at Dmin may still
  // have reports unsettled there: its reporter's events.
  if (from.query.rule == DateRule::kLatest && dmin < dmax) {
    const Snapshot& early = from.query.as_of_day == dmin ? from : to;
    std::set<TradeId> early_keys;
    for (const TradeRow& t : early.trade)
      early_keys.insert({t.reporter, t.partner, t.period, t.flow});
    std::set<std::string_view> reporters;
    for (const CauseRow& r : rows) {
      if (r.kind == CauseRow::Kind::kTrade && !early_keys.count({r.a, r.b, r.period, r.flow})) {
        reporters.insert(r.a);
      }
    }
    for (std::string_view reporter : reporters) {
      TWINLINE_RETURN_IF_ERROR(txn.ScanEntity(reporter, [&](schema::Event::Reader ev) {
        if (ev.getSeq() > kmax) return false;  // ascending seq
        return listed.count(ev.getSeq()) ? true : consider(ev);
      }));
      TWINLINE_RETURN_IF_ERROR(inner);
    }
  }

  for (std::vector<uint64_t>& c : *causes) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
  }
  return Status::Ok();
}

}  // namespace twinline::projection_internal
