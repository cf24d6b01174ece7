#include "projections/edge_history.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/edtf.h"
#include "projections/state.h"

namespace twinline {

using projection_internal::EdgeEvent;
using projection_internal::Feeds;
using projection_internal::PrefixStatus;

Tri EdgeHistory::StatusOn(int64_t day) const {
  auto it = std::upper_bound(spans.begin(), spans.end(), day,
                             [](int64_t d, const StatusSpan& s) { return d < s.first; });
  if (it == spans.begin()) return Tri::kNo;
  --it;
  return day <= it->last ? it->status : Tri::kNo;
}

namespace {

struct Key {
  EdgeRow::Kind kind;
  std::string a, b;
  uint16_t subkind;
  auto Tie() const { return std::tie(kind, a, b, subkind); }
  bool operator<(const Key& o) const { return Tie() < o.Tie(); }
};

Tri StatusOn(const std::vector<EdgeEvent>& events, int64_t day, DateRule rule) {
  const PrefixStatus none;  // nothing collapsed: the edge starts inactive
  if (rule == DateRule::kRange) return projection_internal::EdgeStatusRange(none, events, day);
  return projection_internal::EdgeActivePlaced(none, events, day, rule) ? Tri::kYes : Tri::kNo;
}

// The status of an edge changes only where one of its events' bounds is
// crossed: every test of §3 compares the day with an e or an l (D >= e,
// D >= l, min(l, D) against another e). So it is constant from each of
// these days (and the day after) up to the next.
std::vector<StatusSpan> Spans(const std::vector<EdgeEvent>& events, int64_t from, int64_t to,
                              DateRule rule) {
  std::vector<int64_t> starts = {from};
  auto add = [&](int64_t d) {
    if (d == kUnboundedStart || d == kUnboundedEnd) return;
    for (int64_t x : {d, d + 1}) {
      if (x > from && x <= to) starts.push_back(x);
    }
  };
  for (const EdgeEvent& x : events) {
    add(x.at.e);
    add(x.at.l);
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  std::vector<StatusSpan> spans;
  for (size_t i = 0; i < starts.size(); ++i) {
    const Tri status = StatusOn(events, starts[i], rule);
    const int64_t last = i + 1 < starts.size() ? starts[i + 1] - 1 : to;
    if (status == Tri::kNo) continue;
    if (!spans.empty() && spans.back().status == status && spans.back().last + 1 == starts[i]) {
      spans.back().last = last;
    } else {
      spans.push_back({starts[i], last, status});
    }
  }
  return spans;
}

}  // namespace

Status EdgeHistories(const ReadTxn& txn, const Query& query, int64_t from_day, int64_t to_day,
                     std::vector<EdgeHistory>* out) {
  out->clear();
  if (from_day > to_day) {
    return Status::InvalidArgument("the window ends (" + FormatDay(to_day) + ") before it starts (" +
                                   FormatDay(from_day) + ")");
  }
  const uint64_t known_seq = std::min(query.known_seq, txn.LastSeq());
  std::map<Key, std::vector<EdgeEvent>> edges;
  TWINLINE_RETURN_IF_ERROR(projection_internal::ScanEffectiveFactsBySeq(
      txn, known_seq, to_day,
      [&](const projection_internal::Fact& fact) {
        const Feeds feeds = projection_internal::Classify(fact.payload);
        if (feeds.kind != Feeds::Kind::kEdge) return true;
        EdgeEvent event;
        event.at = {fact.seq, fact.e, fact.l};
        event.establish = feeds.establish;
        edges[Key{feeds.edge_kind, std::string(feeds.a), std::string(feeds.b), feeds.subkind}]
            .push_back(event);
        return true;
      },
      kEdgeRows));
  projection_internal::EnumNames names;
  for (auto& [key, events] : edges) {
    std::vector<StatusSpan> spans = Spans(events, from_day, to_day, query.rule);
    if (spans.empty()) continue;
    EdgeHistory h;
    h.kind = key.kind;
    h.a = key.a;
    h.b = key.b;
    h.subkind = names.Subkind(key.kind, key.subkind);
    for (const EdgeEvent& x : events) h.seqs.push_back(x.at.seq);
    std::sort(h.seqs.begin(), h.seqs.end());
    h.spans = std::move(spans);
    out->push_back(std::move(h));
  }
  // Snapshot order sorts by subkind name, the map by ordinal.
  std::stable_sort(out->begin(), out->end(), [](const EdgeHistory& x, const EdgeHistory& y) {
    return std::tie(x.kind, x.a, x.b, x.subkind) < std::tie(y.kind, y.a, y.b, y.subkind);
  });
  return Status::Ok();
}

}  // namespace twinline
