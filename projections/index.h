// Internal to projections/: the temporal index (docs/INDEX.md) — building
// it from the log, reading it in place, and the facts a query reads on top
// of it (the tail). Not part of the API (that is projection.h).
#ifndef TWINLINE_PROJECTIONS_INDEX_H_
#define TWINLINE_PROJECTIONS_INDEX_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_log.h"
#include "core/sha256.h"
#include "core/status.h"
#include "projections/index_format.h"
#include "projections/projection.h"
#include "projections/state.h"

namespace twinline::projection_internal {

// --- Classified facts --------------------------------------------------------

// What the index keeps of one effective-or-not fact (docs/INDEX.md §1), by
// strings: the form the builder collects and the tail is read in.
struct FactRow {
  enum class Type : uint8_t { kEdge, kCounters, kReport, kTrade };
  Type type = Type::kEdge;
  uint64_t seq = 0;
  int64_t e = 0, l = 0;
  // kEdge: kind, a, b, subkind, establish. kCounters: (entity, counter mask)
  // pairs. kReport: entity, metric, scope, value, qualifier, date.
  // kTrade: reporter (entity), partner, period, flow, value (amount), currency.
  EdgeRow::Kind edge_kind = EdgeRow::Kind::kPartnership;
  bool establish = false;
  uint16_t subkind = 0;  // PartnershipKind/RouteMode ordinal, trade flow, or qualifier
  std::string a, b;      // edge ends; report entity and scope; trade reporter and partner
  std::string s1, s2;    // report metric and date; trade period and currency
  double value = 0;
  std::vector<std::pair<std::string, uint8_t>> counters;  // (entity, counter mask)
};

// A registration version (index::Registration, by strings).
struct RegistrationRow {
  std::string slug;      // the slug the event registers
  std::string target;    // for an amendment: the id it amends; empty otherwise
  uint64_t seq = 0;
  std::string country;   // ISO, or empty
};

// A correction: a retraction or amendment of the event `target` at `seq`.
struct CorrectionRow {
  std::string target;
  uint64_t seq = 0;
  bool amendment = false;
};

// Classifies one event of the log: the facts it states (an amendment its
// replacement's), the registration it makes or amends, the correction it
// is. Appends to the vectors; `id` gets the event's id.
void ClassifyEvent(schema::Event::Reader ev, std::vector<FactRow>* facts,
                   std::vector<RegistrationRow>* registrations,
                   std::vector<CorrectionRow>* corrections);

// --- Building ----------------------------------------------------------------

// The sections of an index, by name, ready to store.
using IndexSections = std::map<std::string, std::string>;

// Collects the events of the log 1..B (any order) and builds the index of
// docs/INDEX.md from them.
class IndexBuilder {
 public:
  IndexBuilder();
  ~IndexBuilder();
  void Add(schema::Event::Reader ev);
  // Builds the sections for base seq `base_seq` (every event 1..base_seq
  // must have been added), resolving correction targets through `txn`
  // (which must hold seqs 1..base_seq).
  Status Finish(const ReadTxn& txn, uint64_t base_seq, IndexSections* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds the index of the log 1..last (`txn`'s events) by one pass over it.
Status BuildIndexFromLog(const ReadTxn& txn, uint64_t last, IndexSections* out);

// Replaces the stored index with `sections`.
Status StoreIndex(DerivedWriteTxn& txn, const IndexSections& sections);

// --- Reading -------------------------------------------------------------------

// A stored index, read where it lies in the log's map (small sections are
// copied once into aligned memory). Valid while the transaction it was
// opened in lives. An absent index is an empty one at B = 0.
class IndexView {
 public:
  // kCorruption / kVersion when the stored index cannot be read; a stored
  // index whose base is not a prefix of `txn`'s log (chain hash) is
  // kCorruption too.
  static Status Open(const ReadTxn& txn, std::unique_ptr<IndexView>* out);

  uint64_t base_seq() const { return header_.base_seq; }
  bool present() const { return present_; }
  const index::Header& header() const { return header_; }

  size_t entities() const { return slug_off_.empty() ? 0 : slug_off_.size() - 1; }
  std::string_view Slug(uint32_t id) const { return Str(slug_off_, slug_chr_, id); }
  std::string_view Name(uint32_t id) const { return Str(name_off_, name_chr_, id); }
  size_t names() const { return name_off_.empty() ? 0 : name_off_.size() - 1; }
  std::optional<uint32_t> FindSlug(std::string_view slug) const;
  std::optional<uint32_t> FindName(std::string_view name) const;
  std::string_view EventId(uint64_t seq) const;  // empty beyond B

  template <typename T>
  static std::span<const T> Range(std::span<const T> all, std::span<const uint32_t> off, uint32_t i) {
    return all.subspan(off[i], off[i + 1] - off[i]);
  }
  std::span<const index::Fact> EdgeFacts(uint32_t edge) const {
    const uint32_t end = edge + 1 < edges_.size() ? edges_[edge + 1].fact_begin
                                                   : static_cast<uint32_t>(edge_facts_.size());
    return edge_facts_.subspan(edges_[edge].fact_begin, end - edges_[edge].fact_begin);
  }
  std::span<const index::ReportFact> ReportFacts(uint32_t key) const {
    const uint32_t end = key + 1 < rk_.size() ? rk_[key + 1].fact_begin
                                               : static_cast<uint32_t>(rk_facts_.size());
    return rk_facts_.subspan(rk_[key].fact_begin, end - rk_[key].fact_begin);
  }
  std::span<const index::TradeFact> TradeFacts(uint32_t key) const {
    const uint32_t end = key + 1 < tk_.size() ? tk_[key + 1].fact_begin
                                               : static_cast<uint32_t>(tk_facts_.size());
    return tk_facts_.subspan(tk_[key].fact_begin, end - tk_[key].fact_begin);
  }
  // The first retraction or amendment of the fact at `seq` (flagged
  // index::kCorrected), or index::kNever.
  uint64_t CorrectedAt(uint64_t seq) const;

  std::span<const uint32_t> ent_country_;
  std::span<const uint32_t> ent_reg_off_;
  std::span<const index::Registration> ent_reg_;
  std::span<const index::Edge> edges_;
  std::span<const index::Fact> edge_facts_;
  std::span<const uint32_t> ent_edge_off_, ent_edge_;
  std::span<const uint32_t> ent_cf_off_;
  std::span<const index::Fact> ent_cf_;
  std::span<const uint32_t> ent_open_off_;
  std::span<const index::Fact> ent_open_;
  std::span<const index::ReportKey> rk_;
  std::span<const index::ReportFact> rk_facts_;
  std::span<const uint32_t> ent_rk_off_;
  std::span<const index::TradeKey> tk_;
  std::span<const index::TradeFact> tk_facts_;
  std::span<const index::Correction> corr_;
  std::span<const uint32_t> pc_off_;
  std::span<const int64_t> pc_day_;
  std::span<const uint16_t> pc_code_;
  std::span<const uint32_t> pc_snap_off_;
  std::span<const index::Snapshot> pc_snap_;

 private:
  IndexView() = default;
  static std::string_view Str(std::span<const uint32_t> off, std::string_view chr, uint32_t id) {
    return chr.substr(off[id], off[id + 1] - off[id]);
  }
  template <typename T>
  Status Section(const ReadTxn& txn, const char* name, std::span<const T>* out);
  Status Bytes(const ReadTxn& txn, const char* name, std::string_view* out);

  bool present_ = false;
  index::Header header_{};
  std::span<const uint32_t> slug_off_, name_off_;
  std::string_view slug_chr_, name_chr_;
  std::span<const uint64_t> id_off_;
  std::string_view id_chr_;
  std::vector<std::unique_ptr<uint64_t[]>> copies_;  // aligned copies of unaligned sections
};

// --- Querying ------------------------------------------------------------------

// Replay (projection.h) answered from the index and the tail.
Status ReplayFromIndex(const ReadTxn& txn, const IndexView& view, const Query& query,
                       SnapshotSink* sink, ReplayStats* stats);

// Diff answered from the index: the two snapshots restricted to the rows
// that differ, and the causes of each row (projection.h, DiffRow).
Status DiffFromIndex(const ReadTxn& txn, const IndexView& view, const Query& from,
                     const Query& to, Snapshot* before, Snapshot* after,
                     std::vector<DiffRow>* rows);

// Verifies the stored index: rebuilt from the log 1..B, byte for byte.
Status VerifyStoredIndex(const ReadTxn& txn, uint64_t* base_seq);

}  // namespace twinline::projection_internal

#endif  // TWINLINE_PROJECTIONS_INDEX_H_
