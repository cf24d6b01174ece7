// Internal to projections/: what replay.cc, checkpoint.cc, timeline.cc,
// causes.cc and the evaluation share. Not part of the API (that is
// projection.h).
//
// The model (docs/PROJECTIONS.md §5): a State is built by *inserting*
// effective facts; insertion is order-independent, so a State is a function
// of the set of facts inserted. Evaluate(state, D) is a separate, pure step
// and needs only the facts with earliest day e <= D. Compact(C) collapses
// what is settled at C (latest day l <= C) without changing any answer for
// D >= C, provided every fact inserted afterwards has e > C:
//
//  * counters keep the *number* of their settled facts and the (seq, e, l)
//    of the others;
//  * reports keep the greatest settled report by (e, l, seq), the number of
//    settled ones, and the unsettled ones in full;
//  * every entity keeps the number of its distinct settled counter and
//    report events (what Snapshot rows report as settled_events);
//  * an edge's settled events that end strictly before every one of its
//    remaining events collapse into a *prefix*: the edge's status after
//    them (one per date rule) and their seqs. Since every world places the
//    prefix events before all remaining ones, the prefix acts as the edge's
//    initial state, and the §3 rules with an initial state stay exact.
//
// Memory is therefore bounded by entities + edges and their events + report
// and trade keys + unsettled facts: nothing is kept per settled counter
// fact or report. Edges keep their prefix seqs because an EdgeRow lists
// every event of the edge, and an edge has few.
#ifndef TWINLINE_PROJECTIONS_STATE_H_
#define TWINLINE_PROJECTIONS_STATE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"
#include "schemas/twinline.capnp.h"

namespace twinline::projection_internal {

inline constexpr uint32_t kNoEntity = UINT32_MAX;

// --- Effective facts (effective.cc) ---------------------------------------

// An effective fact at K (§1). For an effective amendment, `payload` is its
// replacement, at the amendment's own seq and valid time. `edtf` and
// `payload` borrow from the event being scanned: valid only during the
// callback that receives the Fact.
struct Fact {
  uint64_t seq = 0;
  int64_t e = 0, l = 0;
  std::string_view edtf;
  schema::Payload::Reader payload;
};

// §2: the occurrence of a fact with range [e, l] as of `day` under `rule`.
// Under kLatest an open end never happens.
Tri Occurrence(int64_t e, int64_t l, int64_t day, DateRule rule);

// Whether a retraction or amendment with seq <= known_seq targets `id`;
// `amended_by` (optional) gets the targeting amendment's seq, if any.
Status FindSuperseding(const ReadTxn& txn, std::string_view id, uint64_t known_seq,
                       bool* superseded, std::optional<uint64_t>* amended_by = nullptr);

// Calls fn for every effective fact at `known_seq` with after_day < e <=
// to_day (no lower bound when after_day is empty), in order of (e, seq),
// streamed from the by-date index. Stops early when fn returns false.
Status ScanEffectiveFacts(const ReadTxn& txn, uint64_t known_seq, std::optional<int64_t> after_day,
                          int64_t to_day, const std::function<bool(const Fact&)>& fn);

// The ISO country of `slug` from its registration effective at known_seq
// (following amendments), whatever the valid day; empty when the entity is
// unregistered, retracted, or has no country (blocs, continents).
Status EffectiveCountry(const ReadTxn& txn, std::string_view slug, uint64_t known_seq,
                        std::string* country);

// snake_case names of schema enumerants ("sister_city", "air_cargo",
// "more_than"), from core/schema_names.h; an ordinal the schema does not
// know is written as its number.
std::string PartnershipKindName(uint16_t ordinal);
std::string RouteModeName(uint16_t ordinal);
std::string TradeFlowName(uint16_t ordinal);
std::string QualifierName(uint16_t ordinal);

// --- The state (state.cc) -------------------------------------------------

enum class Counter : uint8_t {
  kForums,
  kAgreements,
  kOffices,
  kOfficesHosted,
  kOrganisations,
  kAwards,
  kInitiatives,
};
inline constexpr int kNumCounters = 7;

struct Dated {
  uint64_t seq = 0;
  int64_t e = 0, l = 0;
  auto Order() const { return std::tuple(e, l, seq); }  // "greatest report wins" order
};

struct EdgeEvent {
  Dated at;
  bool establish = false;  // establish/open, else end/close
};

// The collapsed settled events of an edge: its status after them under each
// rule, and their seqs (ascending).
struct Prefix {
  Tri range = Tri::kNo;
  bool earliest = false, latest = false;
  std::vector<uint64_t> seqs;
};

struct EdgeState {
  Prefix prefix;
  std::vector<EdgeEvent> events;  // remaining events, every one after the prefix in every world
};

struct EdgeKey {
  EdgeRow::Kind kind = EdgeRow::Kind::kPartnership;
  uint32_t a = 0, b = 0;  // entity indexes: partnership a < b by slug; route from, to
  uint16_t subkind = 0;   // PartnershipKind or RouteMode ordinal
  auto operator<=>(const EdgeKey&) const = default;
};

struct CounterState {
  uint64_t settled = 0;  // facts settled at a compaction (each occurred, whatever D after it)
  std::vector<Dated> open;
};

struct CountFigure {
  Dated at;
  std::string date;  // EDTF
  double value = 0;
  uint16_t qualifier = 0;
};

struct TradeFigure {
  Dated at;
  std::string date;
  double amount = 0;
  std::string currency;
};

template <typename Figure>
struct ReportState {
  std::optional<Figure> best_settled;  // the greatest settled report by (e, l, seq)
  uint64_t settled = 0;                // how many reports were settled at compactions
  std::vector<Figure> open;
};

struct ReportKey {
  uint32_t entity = 0;
  std::string metric;
  uint32_t scope = kNoEntity;
  auto operator<=>(const ReportKey&) const = default;
};

struct TradeKey {
  uint32_t reporter = 0, partner = 0;
  std::string period;
  uint16_t flow = 0;
  auto operator<=>(const TradeKey&) const = default;
};

// What one effective fact feeds (docs/PROJECTIONS.md §3-§4): the edge, the
// (entity, counter) pairs, the report key or the trade key. The one place
// that maps payloads to projection keys: State::Insert builds the state
// with it and Diff attributes cause events to rows with it, so the two
// cannot disagree. Views borrow from the payload.
struct Feeds {
  enum class Kind : uint8_t { kNothing, kEdge, kCounters, kReport, kTrade };
  Kind kind = Kind::kNothing;  // kNothing: registrations carry no projected state
  // kEdge: a partnership (a < b, subkind a PartnershipKind ordinal) or a
  // route (from a to b, subkind a RouteMode ordinal).
  EdgeRow::Kind edge_kind = EdgeRow::Kind::kPartnership;
  std::string_view a, b;
  uint16_t subkind = 0;
  bool establish = false;  // establish/open, else end/close
  // kCounters: distinct (entity, counter) pairs. An office whose owner is
  // its host feeds two counters of one entity.
  std::vector<std::pair<std::string_view, Counter>> counters;
  // kReport: entity, metric, scope (empty: none), value, qualifier.
  // kTrade: entity (the reporter), partner, period, flow, value (the
  // amount), currency.
  std::string_view entity, metric, scope, partner, period, currency;
  uint16_t qualifier = 0, flow = 0;
  double value = 0;
};

Feeds Classify(schema::Payload::Reader payload);

class State {
 public:
  // Interned entity slugs; indexes are stable for the State's lifetime.
  uint32_t Intern(std::string_view slug);
  const std::string& Slug(uint32_t index) const { return slugs_[index]; }
  size_t EntityCount() const { return slugs_.size(); }

  // Adds one effective fact. Returns false for kinds the projection does not
  // count (registrations). Order-independent.
  bool Insert(const Fact& fact);

  // Collapses what is settled at `day` (see the top of this file). Every
  // fact inserted afterwards must have e > day; answers for D >= day do not
  // change.
  void Compact(int64_t day);

  // Unsettled items held individually (edge events, counter facts,
  // reports): what Compact can shrink.
  size_t OpenItems() const { return open_items_; }
  // Edges, counters, report keys and trade keys: what Compact walks besides
  // the open items, and what no compaction shrinks.
  size_t Keys() const { return edges.size() + counters.size() + reports.size() + trade.size(); }

  // The number of distinct settled counter and report events of `entity`.
  uint64_t EntitySettled(uint32_t entity) const {
    return entity < entity_settled.size() ? entity_settled[entity] : 0;
  }

  std::map<EdgeKey, EdgeState> edges;
  std::map<std::pair<uint32_t, Counter>, CounterState> counters;
  std::map<ReportKey, ReportState<CountFigure>> reports;
  std::map<TradeKey, ReportState<TradeFigure>> trade;
  // By entity index (shorter when the last entities have none): how many
  // distinct counter and report events of the entity were settled at a
  // compaction. Not the sum of the counters' `settled`: one office may feed
  // two counters of its entity.
  std::vector<uint64_t> entity_settled;

 private:
  friend Status DecodeState(std::string_view bytes, State* state);

  std::vector<std::string> slugs_;
  std::unordered_map<std::string, uint32_t> index_;
  size_t open_items_ = 0;
};

// Inserts facts that arrive in order of e (as ScanEffectiveFacts yields
// them), compacting the state at e - 1 when its open items exceed
//
//     kMinOpenItems + 2 * (open items the last compaction left) + Keys()
//
// Exact, because every fact with an earlier e is in and every later one
// has e >= e. Why this threshold: a compaction walks every key and every
// open item, O(keys + open). Say the last compaction left `a` open items
// and the next one starts with `o > kMin + 2a + k` of them (k keys). Every
// open item beyond `a` came from an insert, so at least o - a > (o + k)/2
// inserts paid for a compaction costing O(o + k): amortised O(1) per insert,
// however many keys there are (500k edges and few unsettled facts would
// otherwise compact after every few thousand inserts, each walk costing
// 500k). And open items never exceed kMin + 2a + k (plus one fact's), where
// `a` is what compaction cannot collapse (unsettled facts, and edge events
// kept individually), so memory stays within the bound at the top.
class Inserter {
 public:
  // `compacted_at`: the day the state was last compacted at, if ever.
  Inserter(State* state, std::optional<int64_t> compacted_at);
  bool Insert(const Fact& fact);
  // Compacts at `day` now; later facts must have e > day.
  void CompactAt(int64_t day);

  static constexpr size_t kMinOpenItems = 4096;

 private:
  State* state_;  // borrowed
  std::optional<int64_t> compacted_at_;
  size_t open_after_;  // open items the last compaction left (or the state began with)
};

// --- Evaluation (evaluate.cc) -----------------------------------------------

// §3 with an initial state: the three-valued status of an edge at `day`.
Tri EdgeStatusRange(const EdgeState& edge, int64_t day);
// The plain last-event rule with every event on e (kEarliest) or l (kLatest).
bool EdgeActivePlaced(const EdgeState& edge, int64_t day, DateRule rule);

using CountryFn = std::function<Status(std::string_view slug, std::string* country)>;

// Fills out->edges, counts, trade, trade_totals and state_hash for `day`
// under `rule`. Pure apart from `country`, asked for the partners of the
// partnerships that are (possibly) active.
Status Evaluate(const State& state, int64_t day, DateRule rule, const CountryFn& country,
                Snapshot* out);

// Hex SHA-256 over a canonical serialisation of the snapshot's rows.
std::string SnapshotHash(const Snapshot& snapshot);

// --- Checkpoints (checkpoint.cc) ----------------------------------------------

// The stored value of a checkpoint of `state` (already compacted at `day`).
std::string EncodeCheckpoint(const State& state, int64_t day, uint64_t built_seq);

// Decodes a CheckpointState message into an empty State.
Status DecodeState(std::string_view bytes, State* state);

// Loads into `state` the best usable checkpoint for (day, known_seq): the
// greatest C <= day built at a seq <= known_seq, not invalidated by what was
// recorded since, whose hash verifies. *checkpoint_day stays empty if none;
// `skipped` counts candidates passed over.
Status LoadCheckpoint(const ReadTxn& txn, int64_t day, uint64_t known_seq, State* state,
                      std::optional<int64_t>* checkpoint_day, uint64_t* skipped);

// --- Diff causes (causes.cc) ------------------------------------------------

// A changed row of a diff, as what it counts, so that its cause events can be
// found (projection.h, DiffRow::cause_seqs). Reported-count rows have none:
// their causes come from the rows themselves.
struct CauseRow {
  enum class Kind : uint8_t {
    kEdge,       // one edge
    kEdgeCount,  // an entity's partnerships or routes, maybe by kind/mode or country
    kCounter,    // an entity's counter
    kTrade,      // one trade key
  };
  Kind kind = Kind::kEdge;
  EdgeRow::Kind edge_kind = EdgeRow::Kind::kPartnership;  // kEdge, kEdgeCount
  // kEdge: the edge's ends; kEdgeCount, kCounter: `a` is the entity; kTrade:
  // the reporter and the partner.
  std::string a, b;
  // kEdge: the edge's subkind name; kEdgeCount: only edges of this subkind
  // when set.
  std::optional<std::string> subkind;
  // kEdgeCount (partnerships): only partners whose country at the side's K
  // is this one ("" = none).
  std::optional<std::string> country;
  Counter counter = Counter::kForums;  // kCounter
  std::string period, flow;            // kTrade
};

// Sets (*causes)[i] to the cause seqs of rows[i], ascending: the effective
// events of the row whose presence (effective at K and e <= D) or
// occurrence differs between `from` and `to`. The edges behind a kEdgeCount
// row are those active or possibly active on at least one side. `txn` is
// the log both snapshots were replayed from; they share one date rule.
Status FindCauses(const ReadTxn& txn, const Snapshot& from, const Snapshot& to,
                  const std::vector<CauseRow>& rows, std::vector<std::vector<uint64_t>>* causes);

}  // namespace twinline::projection_internal

#endif  // TWINLINE_PROJECTIONS_STATE_H_
