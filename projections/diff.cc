// Diff: what differs between two Snapshots, row by row, rendered for people
// ("yes", "maybe", "1–3", "142,160,000,000 CNY"). Which events are behind
// each change is found by causes.cc.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "projections/projection.h"
#include "projections/state.h"

namespace twinline {

using projection_internal::CauseRow;
using projection_internal::Counter;
using projection_internal::FindCauses;

namespace {

std::string_view Word(Tri t) {
  switch (t) {
    case Tri::kYes:
      return "yes";
    case Tri::kMaybe:
      return "maybe";
    case Tri::kNo:
      break;
  }
  return "no";
}

std::string RangeText(const Range& r) {
  if (r.certain == r.possible) return std::to_string(r.certain);
  return std::to_string(r.certain) + "–" + std::to_string(r.possible);
}

std::string QualifierPrefix(std::string_view q) {
  if (q == "approximately") return "about ";
  if (q == "nearly") return "nearly ";
  if (q == "more_than") return "more than ";
  if (q == "at_least") return "at least ";
  return "";
}

// "241", "maybe 250", "241, maybe 250", "none".
template <typename Row>
std::string CertainPossibleText(const Row* certain, const Row* possible,
                                const std::function<std::string(const Row&)>& text) {
  if (certain == nullptr && possible == nullptr) return "none";
  if (possible == nullptr) return text(*certain);
  if (certain == nullptr) return "maybe " + text(*possible);
  return text(*certain) + ", maybe " + text(*possible);
}

// Seqs present on one side only, or with a different occurrence.
std::vector<uint64_t> Causes(const std::vector<EventMark>& a, const std::vector<EventMark>& b) {
  std::map<uint64_t, std::pair<std::optional<Tri>, std::optional<Tri>>> by_seq;
  for (const EventMark& m : a) by_seq[m.seq].first = m.occurred;
  for (const EventMark& m : b) by_seq[m.seq].second = m.occurred;
  std::vector<uint64_t> out;
  for (const auto& [seq, sides] : by_seq) {
    if (sides.first != sides.second) out.push_back(seq);
  }
  return out;
}

DiffRow::Change ChangeOf(bool before_present, bool after_present) {
  if (!before_present) return DiffRow::Change::kAdded;
  if (!after_present) return DiffRow::Change::kRemoved;
  return DiffRow::Change::kChanged;
}

using EdgeId = std::tuple<EdgeRow::Kind, std::string, std::string, std::string>;

EdgeId KeyOf(const EdgeRow& e) { return {e.kind, e.a, e.b, e.subkind}; }

template <typename K, typename V>
std::set<K> Keys(const std::map<K, V>& a, const std::map<K, V>& b) {
  std::set<K> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  return keys;
}

// The counters in the order rows are listed, with their labels.
struct CounterRow {
  const char* label;
  Range EntityCounts::*field;
  Counter counter;
};
constexpr CounterRow kCounterRows[] = {
    {"forums", &EntityCounts::forums, Counter::kForums},
    {"agreements", &EntityCounts::agreements, Counter::kAgreements},
    {"offices", &EntityCounts::offices, Counter::kOffices},
    {"offices hosted", &EntityCounts::offices_hosted, Counter::kOfficesHosted},
    {"organisations", &EntityCounts::organisations, Counter::kOrganisations},
    {"awards", &EntityCounts::awards, Counter::kAwards},
    {"initiatives", &EntityCounts::initiatives, Counter::kInitiatives},
};

}  // namespace

namespace projection_internal {

DiffRow& DiffDraft::Add(std::optional<CauseRow> target) {
  targets.push_back(std::move(target));
  return rows.emplace_back();
}

Status CheckDiffable(const ReadTxn& txn, const Snapshot& from, const Snapshot& to) {
  if (from.query.rule != to.query.rule) {
    return Status::InvalidArgument("a diff compares two snapshots under one date rule");
  }
  const RowSets rows = from.query.rows & kAllRows;
  if (rows != (to.query.rows & kAllRows)) {
    return Status::InvalidArgument("a diff compares two snapshots of the same row sets");
  }
  if ((rows & kCountRows) != 0 && (rows & kEdgeRows) == 0) {
    // FindCauses finds the causes of partnership and route counts through
    // the edges the snapshots list (docs/PROJECTIONS.md §6, candidates (a)).
    return Status::InvalidArgument("a diff of counts needs the edge rows too");
  }
  if (std::max(from.known_seq, to.known_seq) > txn.LastSeq()) {
    return Status::InvalidArgument("a snapshot is known at seq " +
                                   std::to_string(std::max(from.known_seq, to.known_seq)) +
                                   " but the log ends at " + std::to_string(txn.LastSeq()));
  }
  if (from.query.entity != to.query.entity) {
    return Status::InvalidArgument("a diff compares two snapshots of the same entity");
  }
  return Status::Ok();
}

void CompareSnapshots(const Snapshot& from, const Snapshot& to, DiffDraft* draft) {
  DiffDraft& found = *draft;
  auto& edge_rows = found.edge_rows;

  // Edges.
  std::map<EdgeId, const EdgeRow*> before, after;
  for (const EdgeRow& e : from.edges) before[KeyOf(e)] = &e;
  for (const EdgeRow& e : to.edges) after[KeyOf(e)] = &e;
  for (const EdgeId& key : Keys(before, after)) {
    const EdgeRow* b = before.count(key) ? before[key] : nullptr;
    const EdgeRow* a = after.count(key) ? after[key] : nullptr;
    const Tri was = b ? b->status : Tri::kNo, is = a ? a->status : Tri::kNo;
    if (was == is) continue;
    const auto& [kind, ea, eb, subkind] = key;
    CauseRow target;
    target.kind = CauseRow::Kind::kEdge;
    target.edge_kind = kind;
    target.a = ea;
    target.b = eb;
    target.subkind = subkind;
    edge_rows.emplace_back(found.rows.size(), b, a);
    DiffRow& row = found.Add(std::move(target));
    row.change = ChangeOf(b != nullptr, a != nullptr);
    row.what = kind == EdgeRow::Kind::kPartnership ? "partnership" : "route";
    row.edge_kind = kind;
    row.key =
        ea + (kind == EdgeRow::Kind::kPartnership ? " — " : " → ") + eb + " (" + subkind + ")";
    row.before = Word(was);
    row.after = Word(is);
  }

  // Per-entity counts.
  const EntityCounts kEmpty;
  std::vector<DiffRow> reported;
  for (const std::string& entity : Keys(from.counts, to.counts)) {
    const EntityCounts& b = from.counts.count(entity) ? from.counts.at(entity) : kEmpty;
    const EntityCounts& a = to.counts.count(entity) ? to.counts.at(entity) : kEmpty;
    auto count = [&](const std::string& label, const Range& was, const Range& is, CauseRow target) {
      if (was == is) return;
      target.a = entity;
      const std::optional<EdgeRow::Kind> edge_kind = target.kind == CauseRow::Kind::kEdgeCount
                                                         ? std::optional(target.edge_kind)
                                                         : std::nullopt;
      DiffRow& row = found.Add(std::move(target));
      row.edge_kind = edge_kind;
      row.change = ChangeOf(was.possible > 0, is.possible > 0);
      row.what = "count";
      row.key = entity + " " + label;
      row.before = RangeText(was);
      row.after = RangeText(is);
    };
    // The CauseRow of an edge count: edges of `kind`, maybe only of a subkind
    // or with partners in a country.
    auto edges = [](EdgeRow::Kind kind, std::optional<std::string> subkind,
                    std::optional<std::string> country) {
      CauseRow target;
      target.kind = CauseRow::Kind::kEdgeCount;
      target.edge_kind = kind;
      target.subkind = std::move(subkind);
      target.country = std::move(country);
      return target;
    };
    auto by = [&](const std::string& prefix, const std::map<std::string, Range>& was,
                  const std::map<std::string, Range>& is,
                  const std::function<CauseRow(const std::string&)>& target) {
      for (const std::string& k : Keys(was, is)) {
        count(prefix + (k.empty() ? "(none)" : k), was.count(k) ? was.at(k) : Range(),
              is.count(k) ? is.at(k) : Range(), target(k));
      }
    };
    const auto partnerships = EdgeRow::Kind::kPartnership, routes = EdgeRow::Kind::kRoute;
    count("partnerships", b.partnerships, a.partnerships,
          edges(partnerships, std::nullopt, std::nullopt));
    by("partnerships ", b.partnerships_by_kind, a.partnerships_by_kind,
       [&](const std::string& k) { return edges(partnerships, k, std::nullopt); });
    by("partnerships in ", b.partnerships_by_country, a.partnerships_by_country,
       [&](const std::string& k) { return edges(partnerships, std::nullopt, k); });
    count("routes", b.routes, a.routes, edges(routes, std::nullopt, std::nullopt));
    by("routes ", b.routes_by_mode, a.routes_by_mode,
       [&](const std::string& k) { return edges(routes, k, std::nullopt); });
    for (const CounterRow& c : kCounterRows) {
      CauseRow target;
      target.kind = CauseRow::Kind::kCounter;
      target.counter = c.counter;
      count(c.label, b.*c.field, a.*c.field, std::move(target));
    }

    // Reported counts, per (metric, scope): the causes are the reports the
    // two sides show that differ.
    using Pair = std::pair<const ReportedCount*, const ReportedCount*>;  // certain, possible
    std::map<std::pair<std::string, std::string>, Pair> was, is;
    for (const ReportedCount& r : b.reported) {
      (r.status == Tri::kYes ? was[{r.metric, r.scope}].first : was[{r.metric, r.scope}].second) =
          &r;
    }
    for (const ReportedCount& r : a.reported) {
      (r.status == Tri::kYes ? is[{r.metric, r.scope}].first : is[{r.metric, r.scope}].second) = &r;
    }
    auto text = [](const ReportedCount& r) {
      return QualifierPrefix(r.qualifier) + AmountText(r.value);
    };
    for (const auto& key : Keys(was, is)) {
      const Pair w = was.count(key) ? was[key] : Pair(), i = is.count(key) ? is[key] : Pair();
      auto same = [](const ReportedCount* x, const ReportedCount* y) {
        return x == y || (x && y && *x == *y);
      };
      if (same(w.first, i.first) && same(w.second, i.second)) continue;
      DiffRow row;
      row.change = ChangeOf(w.first || w.second, i.first || i.second);
      row.what = "reported";
      row.key = entity + " " + key.first + (key.second.empty() ? "" : " in " + key.second);
      row.before = CertainPossibleText<ReportedCount>(w.first, w.second, text);
      row.after = CertainPossibleText<ReportedCount>(i.first, i.second, text);
      std::vector<EventMark> wm, im;
      for (const ReportedCount* r : {w.first, w.second}) {
        if (r) wm.push_back({r->seq, r->status});
      }
      for (const ReportedCount* r : {i.first, i.second}) {
        if (r) im.push_back({r->seq, r->status});
      }
      std::sort(wm.begin(), wm.end());
      std::sort(im.begin(), im.end());
      row.cause_seqs = Causes(wm, im);
      reported.push_back(std::move(row));
    }
  }
  for (DiffRow& row : reported) found.Add(std::nullopt) = std::move(row);
  CompareTrade(from, to, &found);
}

void CompareTrade(const Snapshot& from, const Snapshot& to, DiffDraft* draft) {
  DiffDraft& found = *draft;

  // Trade, per (reporter, partner, period, flow).
  using TradeKey = std::tuple<std::string, std::string, std::string, std::string>;
  using Pair = std::pair<const TradeRow*, const TradeRow*>;
  std::map<TradeKey, Pair> was, is;
  for (const TradeRow& t : from.trade) {
    auto& p = was[{t.reporter, t.partner, t.period, t.flow}];
    (t.status == Tri::kYes ? p.first : p.second) = &t;
  }
  for (const TradeRow& t : to.trade) {
    auto& p = is[{t.reporter, t.partner, t.period, t.flow}];
    (t.status == Tri::kYes ? p.first : p.second) = &t;
  }
  auto text = [](const TradeRow& t) { return AmountText(t.amount) + " " + t.currency; };
  for (const TradeKey& key : Keys(was, is)) {
    const Pair w = was.count(key) ? was[key] : Pair(), i = is.count(key) ? is[key] : Pair();
    auto same = [](const TradeRow* x, const TradeRow* y) {
      return x == y ||
             (x && y && x->amount == y->amount && x->currency == y->currency && x->seq == y->seq);
    };
    if (same(w.first, i.first) && same(w.second, i.second)) continue;
    const auto& [reporter, partner, period, flow] = key;
    CauseRow target;
    target.kind = CauseRow::Kind::kTrade;
    target.a = reporter;
    target.b = partner;
    target.period = period;
    target.flow = flow;
    DiffRow& row = found.Add(std::move(target));
    row.change = ChangeOf(w.first || w.second, i.first || i.second);
    row.what = "trade";
    row.key = reporter + " → " + partner + " " + period + " " + flow;
    row.before = CertainPossibleText<TradeRow>(w.first, w.second, text);
    row.after = CertainPossibleText<TradeRow>(i.first, i.second, text);
  }

}

void FinishDiff(DiffDraft draft, std::vector<std::vector<uint64_t>> causes,
                std::vector<DiffRow>* out) {
  size_t t = 0;
  for (size_t i = 0; i < draft.rows.size(); ++i) {
    if (draft.targets[i]) draft.rows[i].cause_seqs = std::move(causes[t++]);
  }
  // An edge whose status changes although none of its events changed
  // presence or occurrence changes because a day passed inside the range of
  // an uncertain event (only the range rule has such worlds): name its
  // events that are only possibly in effect on either side.
  for (const auto& [index, b, a] : draft.edge_rows) {
    DiffRow& row = draft.rows[index];
    if (!row.cause_seqs.empty()) continue;
    std::set<uint64_t> uncertain;
    for (const EdgeRow* side : {b, a}) {
      if (side == nullptr) continue;
      for (const EventMark& m : side->events) {
        if (m.occurred == Tri::kMaybe) uncertain.insert(m.seq);
      }
    }
    row.cause_seqs.assign(uncertain.begin(), uncertain.end());
  }
  *out = std::move(draft.rows);
}

}  // namespace projection_internal

Status Diff(const ReadTxn& txn, const Snapshot& from, const Snapshot& to,
            std::vector<DiffRow>* out) {
  out->clear();
  TWINLINE_RETURN_IF_ERROR(projection_internal::CheckDiffable(txn, from, to));
  projection_internal::DiffDraft draft;
  projection_internal::CompareSnapshots(from, to, &draft);
  // The causes of every row but the reported ones, in one pass over the
  // candidate events (causes.cc).
  std::vector<CauseRow> targets;
  for (const auto& target : draft.targets) {
    if (target) targets.push_back(*target);
  }
  std::vector<std::vector<uint64_t>> causes;
  TWINLINE_RETURN_IF_ERROR(FindCauses(txn, from, to, targets, &causes));
  projection_internal::FinishDiff(std::move(draft), std::move(causes), out);
  return Status::Ok();
}

std::string AmountText(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  const size_t dot = s.find('.');
  std::string frac = s.substr(dot);
  while (!frac.empty() && (frac.back() == '0' || frac.back() == '.')) frac.pop_back();
  std::string whole = s.substr(0, dot), grouped;
  const size_t start = !whole.empty() && whole[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > start && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  return grouped + frac;
}

}  // namespace twinline
