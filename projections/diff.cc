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

// Walks the union of two maps' keys in order: fn(key, value in a or null,
// value in b or null). No key is copied.
template <typename K, typename V, typename Fn>
void MergeKeys(const std::map<K, V>& a, const std::map<K, V>& b, Fn fn) {
  auto i = a.begin(), j = b.begin();
  while (i != a.end() || j != b.end()) {
    if (j == b.end() || (i != a.end() && i->first < j->first)) {
      fn(i->first, &i->second, static_cast<const V*>(nullptr));
      ++i;
    } else if (i == a.end() || j->first < i->first) {
      fn(j->first, static_cast<const V*>(nullptr), &j->second);
      ++j;
    } else {
      fn(i->first, &i->second, &j->second);
      ++i;
      ++j;
    }
  }
}

// Rows sorted by `less` (stably: of rows with one key, the last is the
// one a map assignment would have kept), walked in key order over both
// sides as groups of equal keys: fn(group of a, group of b), either
// possibly empty. Rows are referenced, never copied.
template <typename Row, typename Less, typename Fn>
void MergeRows(const std::vector<Row>& a, const std::vector<Row>& b, Less less, Fn fn) {
  auto sorted = [&](const std::vector<Row>& rows) {
    std::vector<const Row*> out;
    out.reserve(rows.size());
    for (const Row& r : rows) out.push_back(&r);
    auto by_key = [&](const Row* x, const Row* y) { return less(*x, *y); };
    // The index lists rows in key order already: one pass finds that.
    if (!std::is_sorted(out.begin(), out.end(), by_key)) {
      std::stable_sort(out.begin(), out.end(), by_key);
    }
    return out;
  };
  const std::vector<const Row*> x = sorted(a), y = sorted(b);
  using Group = std::pair<const Row* const*, const Row* const*>;  // [first, last)
  size_t i = 0, j = 0;
  auto group = [&](const std::vector<const Row*>& v, size_t* at) {
    const size_t start = (*at)++;
    while (*at < v.size() && !less(*v[start], *v[*at])) ++*at;
    return Group(v.data() + start, v.data() + *at);
  };
  while (i < x.size() || j < y.size()) {
    if (j == y.size() || (i < x.size() && less(*x[i], *y[j]))) {
      fn(group(x, &i), Group());
    } else if (i == x.size() || less(*y[j], *x[i])) {
      fn(Group(), group(y, &j));
    } else {
      const Group gx = group(x, &i);
      fn(gx, group(y, &j));
    }
  }
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

  // Room for the rows the two sides could make (a diff of the index's
  // changed rows lists about that many; an entity, a row per measure that
  // changed): the vectors do not grow by moving every row.
  const size_t guess = from.edges.size() + to.edges.size() + from.trade.size() + to.trade.size() +
                       6 * (from.counts.size() + to.counts.size());
  found.rows.reserve(found.rows.size() + guess);
  found.targets.reserve(found.targets.size() + guess);
  edge_rows.reserve(edge_rows.size() + from.edges.size() + to.edges.size());

  // Edges, by (kind, a, b, subkind).
  auto edge_less = [](const EdgeRow& x, const EdgeRow& y) {
    return std::tie(x.kind, x.a, x.b, x.subkind) < std::tie(y.kind, y.a, y.b, y.subkind);
  };
  using EdgeGroup = std::pair<const EdgeRow* const*, const EdgeRow* const*>;
  MergeRows(from.edges, to.edges, edge_less, [&](EdgeGroup bg, EdgeGroup ag) {
    const EdgeRow* b = bg.first != bg.second ? *(bg.second - 1) : nullptr;
    const EdgeRow* a = ag.first != ag.second ? *(ag.second - 1) : nullptr;
    const Tri was = b ? b->status : Tri::kNo, is = a ? a->status : Tri::kNo;
    if (was == is) return;
    const EdgeRow& any = b ? *b : *a;
    const EdgeRow::Kind kind = any.kind;
    const std::string &ea = any.a, &eb = any.b, &subkind = any.subkind;
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
  });

  // Per-entity counts.
  const EntityCounts kEmpty;
  std::vector<DiffRow> reported;
  MergeKeys(from.counts, to.counts, [&](const std::string& entity, const EntityCounts* bp,
                                       const EntityCounts* ap) {
    const EntityCounts& b = bp ? *bp : kEmpty;
    const EntityCounts& a = ap ? *ap : kEmpty;
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
      MergeKeys(was, is, [&](const std::string& k, const Range* w, const Range* i) {
        const Range none;
        const Range &x = w ? *w : none, &y = i ? *i : none;
        if (x == y) return;  // the target is made only for a row
        count(prefix + (k.empty() ? "(none)" : k), x, y, target(k));
      });
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
    using Key = std::pair<std::string, std::string>;
    MergeKeys(was, is, [&](const Key& key, const Pair* wp, const Pair* ip) {
      const Pair w = wp ? *wp : Pair(), i = ip ? *ip : Pair();
      auto same = [](const ReportedCount* x, const ReportedCount* y) {
        return x == y || (x && y && *x == *y);
      };
      if (same(w.first, i.first) && same(w.second, i.second)) return;
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
    });
  });
  for (DiffRow& row : reported) found.Add(std::nullopt) = std::move(row);
  CompareTrade(from, to, &found);
}

void CompareTrade(const Snapshot& from, const Snapshot& to, DiffDraft* draft) {
  DiffDraft& found = *draft;

  // Trade, per (reporter, partner, period, flow).
  using Pair = std::pair<const TradeRow*, const TradeRow*>;  // certain, possible
  using Group = std::pair<const TradeRow* const*, const TradeRow* const*>;
  auto trade_less = [](const TradeRow& x, const TradeRow& y) {
    return std::tie(x.reporter, x.partner, x.period, x.flow) <
           std::tie(y.reporter, y.partner, y.period, y.flow);
  };
  // A key's certain and possible rows (of several, the last).
  auto pair_of = [](Group g) {
    Pair p;
    for (auto it = g.first; it != g.second; ++it) {
      ((*it)->status == Tri::kYes ? p.first : p.second) = *it;
    }
    return p;
  };
  auto text = [](const TradeRow& t) { return AmountText(t.amount) + " " + t.currency; };
  MergeRows(from.trade, to.trade, trade_less, [&](Group wg, Group ig) {
    const Pair w = pair_of(wg), i = pair_of(ig);
    auto same = [](const TradeRow* x, const TradeRow* y) {
      return x == y ||
             (x && y && x->amount == y->amount && x->currency == y->currency && x->seq == y->seq);
    };
    if (same(w.first, i.first) && same(w.second, i.second)) return;
    const TradeRow& any = wg.first != wg.second ? **wg.first : **ig.first;
    const std::string &reporter = any.reporter, &partner = any.partner, &period = any.period,
                      &flow = any.flow;
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
  });
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
