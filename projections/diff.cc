// Diff: what differs between two Snapshots, row by row, rendered for people
// ("yes", "maybe", "1–3", "142,160,000,000 CNY"), with the events behind
// each change.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "projections/projection.h"

namespace twinline {

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

// 142160000000 -> "142,160,000,000"; fractions to two places, trailing
// zeros dropped ("1.5").
std::string NumberText(double v) {
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

void Merge(std::vector<uint64_t>* into, const std::vector<uint64_t>& more) {
  std::set<uint64_t> all(into->begin(), into->end());
  all.insert(more.begin(), more.end());
  into->assign(all.begin(), all.end());
}

DiffRow::Change ChangeOf(bool before_present, bool after_present) {
  if (!before_present) return DiffRow::Change::kAdded;
  if (!after_present) return DiffRow::Change::kRemoved;
  return DiffRow::Change::kChanged;
}

using EdgeKey = std::tuple<EdgeRow::Kind, std::string, std::string, std::string>;

EdgeKey KeyOf(const EdgeRow& e) { return {e.kind, e.a, e.b, e.subkind}; }

template <typename K, typename V>
std::set<K> Keys(const std::map<K, V>& a, const std::map<K, V>& b) {
  std::set<K> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  return keys;
}

}  // namespace

std::vector<DiffRow> Diff(const Snapshot& from, const Snapshot& to) {
  std::vector<DiffRow> rows;
  static const std::vector<EventMark> kNone;

  // Edges.
  std::map<EdgeKey, const EdgeRow*> before, after;
  for (const EdgeRow& e : from.edges) before[KeyOf(e)] = &e;
  for (const EdgeRow& e : to.edges) after[KeyOf(e)] = &e;
  std::map<EdgeKey, std::vector<uint64_t>> edge_causes;
  for (const EdgeKey& key : Keys(before, after)) {
    const EdgeRow* b = before.count(key) ? before[key] : nullptr;
    const EdgeRow* a = after.count(key) ? after[key] : nullptr;
    edge_causes[key] = Causes(b ? b->events : kNone, a ? a->events : kNone);
    const Tri was = b ? b->status : Tri::kNo, is = a ? a->status : Tri::kNo;
    if (was == is) continue;
    const auto& [kind, ea, eb, subkind] = key;
    DiffRow row;
    row.change = ChangeOf(b != nullptr, a != nullptr);
    row.what = kind == EdgeRow::Kind::kPartnership ? "partnership" : "route";
    row.key =
        ea + (kind == EdgeRow::Kind::kPartnership ? " — " : " → ") + eb + " (" + subkind + ")";
    row.before = Word(was);
    row.after = Word(is);
    row.cause_seqs = edge_causes[key];
    rows.push_back(std::move(row));
  }

  // The causes of an edge-derived count: the differing events of the edges
  // of that entity that match.
  std::map<std::string, std::vector<const EdgeKey*>> changed_edges_of;  // entity -> edges
  for (const auto& [key, causes] : edge_causes) {
    if (causes.empty()) continue;
    changed_edges_of[std::get<1>(key)].push_back(&key);
    changed_edges_of[std::get<2>(key)].push_back(&key);
  }
  auto edge_count_causes = [&](const std::string& entity, EdgeRow::Kind kind,
                               const std::string* subkind) {
    std::vector<uint64_t> out;
    auto it = changed_edges_of.find(entity);
    if (it == changed_edges_of.end()) return out;
    for (const EdgeKey* key : it->second) {
      if (std::get<0>(*key) != kind || (subkind != nullptr && std::get<3>(*key) != *subkind)) {
        continue;
      }
      Merge(&out, edge_causes[*key]);
    }
    return out;
  };

  // Per-entity counts.
  const EntityCounts kEmpty;
  std::vector<DiffRow> reported;
  for (const std::string& entity : Keys(from.counts, to.counts)) {
    const EntityCounts& b = from.counts.count(entity) ? from.counts.at(entity) : kEmpty;
    const EntityCounts& a = to.counts.count(entity) ? to.counts.at(entity) : kEmpty;
    const std::vector<uint64_t> own_causes = Causes(b.events, a.events);
    auto count = [&](const std::string& label, const Range& was, const Range& is,
                     const std::function<std::vector<uint64_t>()>& causes) {
      if (was == is) return;
      DiffRow row;
      row.change = ChangeOf(was.possible > 0, is.possible > 0);
      row.what = "count";
      row.key = entity + " " + label;
      row.before = RangeText(was);
      row.after = RangeText(is);
      row.cause_seqs = causes();
      rows.push_back(std::move(row));
    };
    auto by = [&](const std::string& prefix, const std::map<std::string, Range>& was,
                  const std::map<std::string, Range>& is,
                  const std::function<std::vector<uint64_t>(const std::string&)>& causes) {
      for (const std::string& k : Keys(was, is)) {
        count(prefix + (k.empty() ? "(none)" : k), was.count(k) ? was.at(k) : Range(),
              is.count(k) ? is.at(k) : Range(), [&] { return causes(k); });
      }
    };
    const auto partnerships = EdgeRow::Kind::kPartnership, routes = EdgeRow::Kind::kRoute;
    count("partnerships", b.partnerships, a.partnerships,
          [&] { return edge_count_causes(entity, partnerships, nullptr); });
    by("partnerships ", b.partnerships_by_kind, a.partnerships_by_kind,
       [&](const std::string& k) { return edge_count_causes(entity, partnerships, &k); });
    // Snapshot edges do not carry the partner's country: every partnership
    // of the entity is a candidate cause.
    by("partnerships in ", b.partnerships_by_country, a.partnerships_by_country,
       [&](const std::string&) { return edge_count_causes(entity, partnerships, nullptr); });
    count("routes", b.routes, a.routes, [&] { return edge_count_causes(entity, routes, nullptr); });
    by("routes ", b.routes_by_mode, a.routes_by_mode,
       [&](const std::string& k) { return edge_count_causes(entity, routes, &k); });
    // Counter events are not labelled by counter in a Snapshot: the causes
    // are the entity's counter and report events that differ.
    const std::pair<const char*, Range EntityCounts::*> counters[] = {
        {"forums", &EntityCounts::forums},
        {"agreements", &EntityCounts::agreements},
        {"offices", &EntityCounts::offices},
        {"offices hosted", &EntityCounts::offices_hosted},
        {"organisations", &EntityCounts::organisations},
        {"awards", &EntityCounts::awards},
        {"initiatives", &EntityCounts::initiatives},
    };
    for (const auto& [label, field] : counters) {
      count(label, b.*field, a.*field, [&] { return own_causes; });
    }

    // Reported counts, per (metric, scope).
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
      return QualifierPrefix(r.qualifier) + NumberText(r.value);
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
  rows.insert(rows.end(), reported.begin(), reported.end());

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
  auto text = [](const TradeRow& t) { return NumberText(t.amount) + " " + t.currency; };
  for (const TradeKey& key : Keys(was, is)) {
    const Pair w = was.count(key) ? was[key] : Pair(), i = is.count(key) ? is[key] : Pair();
    auto same = [](const TradeRow* x, const TradeRow* y) {
      return x == y ||
             (x && y && x->amount == y->amount && x->currency == y->currency && x->seq == y->seq);
    };
    if (same(w.first, i.first) && same(w.second, i.second)) continue;
    const auto& [reporter, partner, period, flow] = key;
    DiffRow row;
    row.change = ChangeOf(w.first || w.second, i.first || i.second);
    row.what = "trade";
    row.key = reporter + " → " + partner + " " + period + " " + flow;
    row.before = CertainPossibleText<TradeRow>(w.first, w.second, text);
    row.after = CertainPossibleText<TradeRow>(i.first, i.second, text);
    const TradeRow* wr = w.first ? w.first : w.second;
    const TradeRow* ir = i.first ? i.first : i.second;
    row.cause_seqs = Causes(wr ? wr->events : kNone, ir ? ir->events : kNone);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace twinline
