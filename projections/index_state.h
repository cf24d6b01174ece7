// Internal to projections/: the temporal index as a query at seq K sees it
// (docs/INDEX.md §4): the stored index (1..B) and the tail (B, K] read on
// top of it, in one key space, with every value of a row computed from it.
// Replay and diff from the index are built on this.
#ifndef TWINLINE_PROJECTIONS_INDEX_STATE_H_
#define TWINLINE_PROJECTIONS_INDEX_STATE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "projections/index.h"

namespace twinline::projection_internal {

// Keys are numbered base first ([0, base count) are the stored index's, in
// its row order), then the tail's new keys in order of appearance.
class IndexState {
 public:
  struct EdgeDef {
    uint32_t a = 0, b = 0;
    EdgeRow::Kind kind = EdgeRow::Kind::kPartnership;
    uint16_t subkind = 0;
  };
  struct ReportKeyDef {
    uint32_t entity = 0, metric = 0, scope = index::kNone;
  };
  struct TradeKeyDef {
    uint32_t reporter = 0, partner = 0, period = 0;
    uint16_t flow = 0;
  };

  // Borrows `txn` and `view` for its life. `known_seq` <= txn.LastSeq().
  IndexState(const ReadTxn& txn, const IndexView& view, uint64_t known_seq);
  // Reads the tail (B, K]: nothing to read when K <= B.
  Status Load();

  uint64_t known_seq() const { return k_; }
  const IndexView& view() const { return view_; }
  // Prefix counts answer an entity that the tail leaves alone, at K >= B.
  bool PrefixUsable(uint32_t entity) const {
    return k_ >= view_.base_seq() && entity < view_.entities() && !dirty_entities_.count(entity);
  }
  bool TailTouches(uint32_t entity) const { return dirty_entities_.count(entity) > 0; }
  size_t tail_events() const { return tail_events_; }

  // Entities and strings.
  uint32_t entities() const { return static_cast<uint32_t>(view_.entities() + new_slugs_.size()); }
  std::string_view Slug(uint32_t id) const {
    return id < view_.entities() ? view_.Slug(id) : new_slugs_[id - view_.entities()];
  }
  std::optional<uint32_t> FindEntity(std::string_view slug) const;
  // Every entity, in slug order.
  std::vector<uint32_t> EntityOrder() const;
  std::string_view Name(uint32_t id) const {
    return id < view_.names() ? view_.Name(id) : new_names_[id - view_.names()];
  }
  // The entity's country in effect at K ("" when none).
  std::string_view Country(uint32_t entity) const;

  // Whether the fact `seq_flags` (an index::Fact's seq field) is effective at K.
  bool Effective(uint64_t seq_flags) const {
    const uint64_t seq = seq_flags & index::kSeqMask;
    if (seq > k_) return false;
    if ((seq_flags & index::kCorrected) && view_.CorrectedAt(seq) <= k_) return false;
    return tail_corrections_.empty() || !tail_corrections_.count(seq);
  }

  // Edges.
  uint32_t edges() const { return static_cast<uint32_t>(view_.edges_.size() + new_edges_.size()); }
  EdgeDef Edge(uint32_t id) const;
  // Every edge in row order (kind, a, b by slug, subkind by name).
  std::vector<uint32_t> EdgeOrder() const;
  // The edges `entity` is an end of, in row order.
  void IncidentEdges(uint32_t entity, std::vector<uint32_t>* out) const;
  // The edges an answer lists, in row order: every one (EdgeOrder), or
  // those of `only` (IncidentEdges).
  std::vector<uint32_t> EdgesListed(std::optional<uint32_t> only) const;
  // Edge `id`'s row, with its status and events.
  EdgeRow RowOf(uint32_t id, Tri status, std::vector<EventMark> events) const;
  // The edge's effective facts at K, by seq.
  void EdgeEvents(uint32_t edge, std::vector<EdgeEvent>* out) const;

  // The facts of a key as stored and as the tail adds them, effective at K
  // or not (a diff asks each side whether each is).
  template <typename Fn>
  void ForEachEdgeFact(uint32_t edge, Fn fn) const {
    if (edge < view_.edges_.size()) {
      for (const index::Fact& f : view_.EdgeFacts(edge)) fn(f);
    }
    if (auto it = tail_edge_.find(edge); it != tail_edge_.end()) {
      for (const index::Fact& f : it->second) fn(f);
    }
  }
  template <typename Fn>
  void ForEachCounterFact(uint32_t entity, Fn fn) const {
    if (entity < view_.entities()) {
      for (const index::Fact& f : IndexView::Range(view_.ent_cf_, view_.ent_cf_off_, entity)) fn(f);
    }
    if (auto it = tail_cf_.find(entity); it != tail_cf_.end()) {
      for (const index::Fact& f : it->second) fn(f);
    }
  }
  template <typename Fn>
  void ForEachTradeFact(uint32_t key, Fn fn) const {
    if (key < view_.tk_.size()) {
      for (const index::TradeFact& f : view_.TradeFacts(key)) fn(f);
    }
    if (auto it = tail_tk_.find(key); it != tail_tk_.end()) {
      for (const index::TradeFact& f : it->second) fn(f);
    }
  }
  std::optional<uint32_t> FindEdge(const EdgeDef& def) const;
  std::optional<uint32_t> FindTradeKey(const TradeKeyDef& def) const;
  std::optional<uint32_t> FindName(std::string_view name) const;

  // Counter facts of `entity` effective at K (index::Fact, counter mask in
  // the flags), by seq.
  template <typename Fn>
  void CounterFacts(uint32_t entity, Fn fn) const {
    if (entity < view_.entities()) {
      for (const index::Fact& f : IndexView::Range(view_.ent_cf_, view_.ent_cf_off_, entity)) {
        if (Effective(f.seq)) fn(f);
      }
    }
    if (auto it = tail_cf_.find(entity); it != tail_cf_.end()) {
      for (const index::Fact& f : it->second) {
        if (Effective(f.seq)) fn(f);
      }
    }
  }

  // Report keys of `entity` in row order (metric, then scope, none first).
  void ReportKeys(uint32_t entity, std::vector<uint32_t>* out) const;
  ReportKeyDef ReportKey(uint32_t id) const;
  // The key's effective reports at K, by seq.
  void ReportFacts(uint32_t key, std::vector<index::ReportFact>* out) const;

  // Trade keys in row order; TradeKeysOf: those with `entity` as reporter
  // or partner, in row order.
  std::vector<uint32_t> TradeOrder() const;
  std::vector<uint32_t> TradeKeysOf(uint32_t entity) const;
  TradeKeyDef TradeKey(uint32_t id) const;
  void TradeFacts(uint32_t key, std::vector<index::TradeFact>* out) const;

 private:
  uint32_t InternEntity(std::string_view slug);
  uint32_t InternName(std::string_view name);
  uint32_t FindOrAddEdge(const EdgeDef& def);
  uint32_t FindOrAddReportKey(const ReportKeyDef& def);
  uint32_t FindOrAddTradeKey(const TradeKeyDef& def);
  // The key a classified fact feeds, marked dirty, with the fact added to
  // its tail list when `add`.
  void Feed(const FactRow& row, bool add);
  bool EdgeLess(uint32_t x, uint32_t y) const;
  bool TradeLess(uint32_t x, uint32_t y) const;
  bool ReportLess(uint32_t x, uint32_t y) const;

  const ReadTxn& txn_;
  const IndexView& view_;
  const uint64_t k_;
  size_t tail_events_ = 0;
  mutable EnumNames names_;  // a cache

  std::vector<std::string> new_slugs_, new_names_;
  std::unordered_map<std::string, uint32_t> new_slug_ids_, new_name_ids_;
  std::vector<EdgeDef> new_edges_;
  std::vector<ReportKeyDef> new_rks_;
  std::vector<TradeKeyDef> new_tks_;
  std::unordered_multimap<uint64_t, uint32_t> new_edge_ids_, new_rk_ids_, new_tk_ids_;  // key hash -> id
  std::unordered_map<uint32_t, std::vector<index::Fact>> tail_edge_, tail_cf_;
  std::unordered_map<uint32_t, std::vector<index::ReportFact>> tail_rk_;
  std::unordered_map<uint32_t, std::vector<index::TradeFact>> tail_tk_;
  std::unordered_map<uint64_t, uint64_t> tail_corrections_;  // target seq -> first correction
  std::unordered_set<uint32_t> dirty_entities_;
  std::unordered_map<uint32_t, std::string> country_override_;  // entity -> ISO at K
  std::unordered_map<uint32_t, std::vector<uint32_t>> new_incident_;  // entity -> new edges
};

// A count row of `entity` at `day` under `rule`, from prefix counts where
// the entity allows it, else from its facts. `detail` adds the breakdowns
// by kind, country and mode, the reported figures and the open events.
// *exists says whether the entity has a row at all.
Status EvaluateCounts(const IndexState& s, uint32_t entity, int64_t day, DateRule rule, bool detail,
                      EntityCounts* out, bool* exists);

// An edge's status at `day` and (when `marks` is set) its events with
// e <= day and their occurrence, by seq.
Tri EvaluateEdge(const IndexState& s, uint32_t edge, int64_t day, DateRule rule,
                 std::vector<EventMark>* marks);

// A trade key's rows at `day`: the certain one (status kYes) and, when a
// later report is only possible, that one too (kMaybe); none when no
// report has e <= day.
void EvaluateTrade(const IndexState& s, uint32_t key, int64_t day, DateRule rule,
                   std::vector<TradeRow>* rows);

}  // namespace twinline::projection_internal

#endif  // TWINLINE_PROJECTIONS_INDEX_STATE_H_
