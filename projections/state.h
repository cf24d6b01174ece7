// Internal to projections/: what replay.cc, timeline.cc,
// causes.cc and the evaluation share. Not part of the API (that is
// projection.h).
//
// The model (docs/PROJECTIONS.md §5): a State is built by *inserting*
// effective facts; insertion is order-independent, so a State's answers are
// a function of the set of facts inserted. Evaluate(state, D) is a separate,
// pure step and needs only the facts with earliest day e <= D. A State that
// settles at D (SettleAt) keeps of a counter fact, count report or trade
// report that is settled at D (latest day l <= D) only its count, and of
// each key only the greatest settled report by (e, l, seq):
//
//  * counters keep the *number* of their settled facts and the (seq, e, l)
//    of the others;
//  * reports keep the greatest settled report, the number of settled ones,
//    and the unsettled ones in full;
//  * every entity keeps the number of its distinct settled counter and
//    report events (what Snapshot rows report as settled_events);
//  * edges keep every event (their status needs them all; an edge has few).
//
// Memory is therefore bounded by entities + edges and their events + report
// and trade keys + unsettled facts: nothing is kept per settled counter
// fact or report. (An edge may also start from a *prefix*, the status of
// events collapsed before its remaining ones, which §3 extends exactly; a
// State built by insertion has none: PrefixStatus is the inactive start.)
//
// Layout (what a key costs). Keys live in Tables: one flat array of entries
// in insertion order plus an open-addressing index of 4-byte slots, no
// allocation per key. Strings are interned: entity slugs as entity indexes,
// metrics, periods, currencies and report dates as name ids. The facts
// still held individually (the *open items*: edge events, counter facts,
// count and trade reports not settled) live in one flat vector per kind,
// each item naming its key by index, sorted by (key, seq) after
// Normalise(); nothing per key holds a vector of its own. Per key that is
// about 24-40 bytes of entry plus 8-16 of index (an edge's entry, a trade
// key's 72), against ~250 with std::map nodes, strings and a vector per key.
//
// A State keeps only what its row sets (projection.h, Query::rows) need:
// edges for edge rows or counts, counters and reports for counts, trade
// for trade. Insert ignores the facts that feed none of them.
//
// This is the replay of the log (use_index = false, and the reference the
// temporal index is held to); the temporal index (index.h) has its own
// layout and reuses the evaluation of edges (EdgeStatusRange,
// EdgeActivePlaced) and Classify.
#ifndef TWINLINE_PROJECTIONS_STATE_H_
#define TWINLINE_PROJECTIONS_STATE_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
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

// The row sets a fact of this payload kind feeds (for an amendment, ask for
// its replacement's kind), from the kind table's Feed (core/kinds.h): edges
// feed edge rows and counts, counters and reports counts, trade reports
// trade; anything else nothing.
RowSets RowsFed(schema::Payload::Which which);

// Keeps this process's resident pages of the log's memory map within a
// budget during a long scan: a scan of the whole log would otherwise keep
// every page it touched resident (10^7 events: ~10 GB of RSS, though those
// pages are the page cache's, shared and clean, which the kernel may drop
// at any time). Every kCheckEvery records it reads the process's resident
// file-backed pages (/proc/self/statm, one small read) and, only when they
// exceed what they were at construction by more than the budget, asks the
// log to release its mapped pages (ReadTxn::ReleaseMappedPages). Releasing
// is not free: it walks /proc/self/maps, drops every page of the map (also
// the B-tree's branch pages, which a by-date scan faults straight back in)
// and costs system time; releasing every 1,024 events on a 10^6-event log
// took 7.5 s of system time against 0.4 s without. Call Visited() between
// records, when nothing from an earlier record is held.
class MappedPageBudget {
 public:
  static constexpr uint64_t kCheckEvery = 1024;

  // The default budget: effective.cc says how much and why.
  explicit MappedPageBudget(const ReadTxn& txn);
  MappedPageBudget(const ReadTxn& txn, uint64_t budget_bytes);
  void Visited() {
    if (++visited_ % kCheckEvery == 0) Check();
  }
  uint64_t releases() const { return releases_; }
  // The process's resident file-backed pages, if /proc tells.
  static std::optional<uint64_t> ResidentFilePages();

 private:
  void Check();

  const ReadTxn& txn_;  // borrowed
  uint64_t budget_pages_;
  uint64_t base_pages_ = 0;
  uint64_t visited_ = 0;
  uint64_t releases_ = 0;
};

// Calls fn for every effective fact at `known_seq` with e <= to_day that
// feeds one of `rows`, in order of seq, from one sequential pass over the
// log (ReadTxn::Scan): for a replay from zero, into a State that settles at
// the query's day (State::SettleAt). Facts that feed none are skipped
// before their supersession is looked up. Keeps the map's resident pages
// within a MappedPageBudget.
Status ScanEffectiveFactsBySeq(const ReadTxn& txn, uint64_t known_seq, int64_t to_day,
                               const std::function<bool(const Fact&)>& fn,
                               RowSets rows = kAllRows);

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

// The names above, each looked up once: an edge's subkind (its kind's
// PartnershipKindName or RouteModeName) and a trade flow, for code that
// names them per row or per event (evaluation, diff causes). References
// stay valid for the cache's lifetime.
class EnumNames {
 public:
  const std::string& Subkind(EdgeRow::Kind kind, uint16_t ordinal);
  const std::string& Flow(uint16_t ordinal);

 private:
  std::map<std::pair<int, uint16_t>, std::string> names_;  // (edge kind or -1 for flows, ordinal)
};

// --- Building blocks of the state (state.cc) -------------------------------

// Strings with dense ids 0..n-1 in order of first appearance. Ids, and
// references to the strings, are stable for the Interner's lifetime. Flat:
// the strings in a deque (no allocation per string beyond its own text, no
// move), found through an open-addressing index of (hash tag, id) words, so
// a lookup is one probe and, on a tag match, one comparison; interning is
// what a replay does most per event.
class Interner {
 public:
  uint32_t Intern(std::string_view s);
  const std::string& operator[](uint32_t id) const { return strings_[id]; }
  size_t size() const { return strings_.size(); }
  // rank[id] = the position of string `id` in byte order among all of them.
  std::vector<uint32_t> Ranks() const;

 private:
  static uint64_t HashOf(std::string_view s) { return std::hash<std::string_view>()(s); }
  void Grow();

  std::deque<std::string> strings_;
  // 0 = empty, else (high 32 bits of the hash) << 32 | (id + 1). A power
  // of two long, at most half full.
  std::vector<uint64_t> slots_;
};

uint64_t MixHash(uint64_t x);

// Entries with dense indexes 0..n-1 in insertion order, found by key through
// an open-addressing index (linear probing, at most half full). Entry has a
// member `key` whose type has == and `uint64_t Hash() const`. Nothing is
// ever removed.
template <typename Entry>
class Table {
 public:
  using Key = decltype(Entry::key);
  static constexpr uint32_t kAbsent = UINT32_MAX;

  // The index of the entry with `key`; appends a value-initialised entry
  // with that key when there is none (*added, if given, says which).
  uint32_t FindOrAdd(const Key& key, bool* added = nullptr) {
    if (2 * (entries_.size() + 1) > slots_.size()) Grow();
    size_t slot = Slot(key);
    if (slots_[slot] != kAbsent) {
      if (added != nullptr) *added = false;
      return slots_[slot];
    }
    const auto index = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
    entries_.back().key = key;
    slots_[slot] = index;
    if (added != nullptr) *added = true;
    return index;
  }
  size_t size() const { return entries_.size(); }
  Entry& operator[](uint32_t i) { return entries_[i]; }
  const Entry& operator[](uint32_t i) const { return entries_[i]; }
  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  // The slot holding `key`, or the empty slot where it would go.
  size_t Slot(const Key& key) const {
    const size_t mask = slots_.size() - 1;
    for (size_t slot = MixHash(key.Hash()) & mask;; slot = (slot + 1) & mask) {
      if (slots_[slot] == kAbsent || entries_[slots_[slot]].key == key) return slot;
    }
  }
  void Grow() {
    slots_.assign(std::max<size_t>(16, 2 * slots_.size()), kAbsent);
    for (uint32_t i = 0; i < entries_.size(); ++i) slots_[Slot(entries_[i].key)] = i;
  }

  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // kAbsent or an index into entries_; a power of two long
};

// Open items (State) name the key they belong to by its index, `owner`.
// ItemsOf: the items of one key, from items sorted by (owner, seq).
template <typename Item>
std::span<const Item> ItemsOf(const std::vector<Item>& items, uint32_t owner) {
  auto lo = std::partition_point(items.begin(), items.end(),
                                 [&](const Item& x) { return x.owner < owner; });
  auto hi =
      std::partition_point(lo, items.end(), [&](const Item& x) { return x.owner == owner; });
  return {lo, hi};
}

// The same, for keys visited in increasing index order: O(1) amortised.
// Borrows `items`, which must not change while the cursor is used.
template <typename Item>
class GroupCursor {
 public:
  explicit GroupCursor(const std::vector<Item>& items) : items_(items) {}
  std::span<const Item> Next(uint32_t owner) {
    while (pos_ < items_.size() && items_[pos_].owner < owner) ++pos_;
    const size_t begin = pos_;
    while (pos_ < items_.size() && items_[pos_].owner == owner) ++pos_;
    return {items_.data() + begin, pos_ - begin};
  }

 private:
  const std::vector<Item>& items_;
  size_t pos_ = 0;
};

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

struct EdgeKey {
  uint32_t a = 0, b = 0;  // entity indexes: partnership a < b by slug; route from, to
  uint16_t subkind = 0;   // PartnershipKind or RouteMode ordinal
  EdgeRow::Kind kind = EdgeRow::Kind::kPartnership;
  bool operator==(const EdgeKey&) const = default;
  uint64_t Hash() const {
    return (uint64_t{a} << 32 | b) ^ MixHash(uint64_t{subkind} << 8 | static_cast<uint8_t>(kind));
  }
};

// The status of an edge's collapsed settled events, under each rule.
struct PrefixStatus {
  Tri range = Tri::kNo;
  bool earliest = false, latest = false;
};

struct Edge {
  EdgeKey key;
  PrefixStatus prefix;
  // The collapsed events' seqs, ascending: State::prefix_seqs[seqs_begin,
  // seqs_begin + seqs_count). Kept only for edge rows.
  uint32_t seqs_begin = 0, seqs_count = 0;
};

// An edge event not collapsed into its edge's prefix: in every world it
// falls after the prefix.
struct EdgeEvent {
  Dated at;
  uint32_t owner = 0;      // the edge's index in State::edges
  bool establish = false;  // establish/open, else end/close
};

struct CounterKey {
  uint32_t entity = 0;
  Counter counter = Counter::kForums;
  bool operator==(const CounterKey&) const = default;
  uint64_t Hash() const { return uint64_t{entity} << 8 | static_cast<uint8_t>(counter); }
};

struct CounterEntry {
  CounterKey key;
  uint64_t settled = 0;  // facts settled on insertion (each occurred, whatever D after it)
};

struct CounterFact {
  Dated at;
  uint32_t owner = 0;  // the counter's index in State::counters
};

struct ReportKey {
  uint32_t entity = 0;
  uint32_t metric = 0;          // name id
  uint32_t scope = kNoEntity;   // entity index, or kNoEntity
  bool operator==(const ReportKey&) const = default;
  uint64_t Hash() const { return (uint64_t{entity} << 32 | metric) ^ MixHash(scope); }
};

struct CountFigure {
  Dated at;
  double value = 0;
  uint32_t date = 0;  // name id of the EDTF valid time
  uint16_t qualifier = 0;
};

struct TradeKey {
  uint32_t reporter = 0, partner = 0;
  uint32_t period = 0;  // name id
  uint16_t flow = 0;
  bool operator==(const TradeKey&) const = default;
  uint64_t Hash() const {
    return (uint64_t{reporter} << 32 | partner) ^ MixHash(uint64_t{period} << 16 | flow);
  }
};

struct TradeFigure {
  Dated at;
  double amount = 0;
  uint32_t currency = 0;  // name id
};

template <typename Key, typename Figure>
struct ReportEntry {
  Key key;
  bool has_best = false;
  Figure best;           // when has_best: the greatest settled report by (e, l, seq)
  uint64_t settled = 0;  // how many reports were settled on insertion
};
using Report = ReportEntry<ReportKey, CountFigure>;
using Trade = ReportEntry<TradeKey, TradeFigure>;

template <typename Figure>
struct OpenFigure {
  Figure figure;
  uint32_t owner = 0;  // the key's index in State::reports or State::trade
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

// Read from the kind table (core/kinds.h): the kind's Feed and its fields'
// roles; no switch over kinds.
Feeds Classify(schema::Payload::Reader payload);

// The Counter a kind table's counter name ("offices_hosted") stands for.
std::optional<Counter> CounterNamed(std::string_view name);

class State {
 public:
  // A state keeping what `rows` need (see the top of this file).
  explicit State(RowSets rows = kAllRows);
  State(State&&) = default;
  State& operator=(State&&) = default;

  RowSets rows() const { return rows_; }
  bool KeepsEdges() const { return (rows_ & (kEdgeRows | kCountRows)) != 0; }
  bool KeepsEdgeSeqs() const { return (rows_ & kEdgeRows) != 0; }
  bool KeepsCounts() const { return (rows_ & kCountRows) != 0; }
  bool KeepsTrade() const { return (rows_ & kTradeRows) != 0; }

  // Interned entity slugs; indexes are stable for the State's lifetime.
  uint32_t Intern(std::string_view slug) { return entities_.Intern(slug); }
  const std::string& Slug(uint32_t index) const { return entities_[index]; }
  size_t EntityCount() const { return entities_.size(); }
  // Interned metrics, periods, currencies and report dates.
  uint32_t InternName(std::string_view name) { return names_.Intern(name); }
  const std::string& Name(uint32_t id) const { return names_[id]; }
  const Interner& Names() const { return names_; }
  const Interner& Entities() const { return entities_; }

  // Adds one effective fact. Returns false when it feeds nothing this state
  // keeps (registrations; trade in a counts-only state, ...).
  // Order-independent.
  bool Insert(const Fact& fact);
  // From now on Insert settles at `day` what is settled there: a counter
  // fact, count report or trade report with l <= day is only counted (and
  // kept as its key's best report) instead of being held as an open item.
  // Counting and "greatest wins" do not depend on the order of insertion,
  // so this is exact whatever the order the facts come in (even by seq),
  // for evaluation at any D >= day; edges are not affected. For a replay
  // that evaluates at `day` only.
  void SettleAt(int64_t day) { settle_day_ = day; }
  // Insert's edge case, by key (for tests that build edges directly).
  void InsertEdgeEvent(const EdgeKey& key, const Dated& at, bool establish);

  // Sorts the open items by (owner, seq), which ItemsOf, GroupCursor and
  // the evaluation need; a no-op (one pass) when they are. Changes no
  // answer. Insert appends unsorted.
  void Normalise();

  // The number of distinct settled counter and report events of `entity`.
  uint64_t EntitySettled(uint32_t entity) const {
    return entity < entity_settled.size() ? entity_settled[entity] : 0;
  }
  // Edge `i`'s prefix seqs (empty when they are not kept).
  std::span<const uint64_t> PrefixSeqs(uint32_t i) const {
    const Edge& e = edges[i];
    return {prefix_seqs.data() + e.seqs_begin, e.seqs_count};
  }

  Table<Edge> edges;
  std::vector<uint64_t> prefix_seqs;  // by edge, see Edge
  std::vector<EdgeEvent> edge_events;
  Table<CounterEntry> counters;
  std::vector<CounterFact> counter_facts;
  Table<Report> reports;
  std::vector<OpenFigure<CountFigure>> report_figures;
  Table<Trade> trade;
  std::vector<OpenFigure<TradeFigure>> trade_figures;
  // By entity index (shorter when the last entities have none): how many
  // distinct counter and report events of the entity were settled on
  // insertion. Not the sum of the counters' `settled`: one office may feed
  // two counters of its entity.
  std::vector<uint64_t> entity_settled;

 private:
  // Counts one settled counter or report event of `entity` (entity_settled).
  void CountSettled(uint32_t entity) {
    if (entity_settled.size() <= entity) entity_settled.resize(entity + 1, 0);
    ++entity_settled[entity];
  }

  RowSets rows_;
  std::optional<int64_t> settle_day_;
  Interner entities_;
  Interner names_;
};

// --- Evaluation (evaluate.cc) -----------------------------------------------

// §3 with an initial state: the three-valued status at `day` of an edge
// with prefix `prefix` and remaining events `events` (any order).
Tri EdgeStatusRange(const PrefixStatus& prefix, std::span<const EdgeEvent> events, int64_t day);
// The plain last-event rule with every event on e (kEarliest) or l (kLatest).
bool EdgeActivePlaced(const PrefixStatus& prefix, std::span<const EdgeEvent> events, int64_t day,
                      DateRule rule);

using CountryFn = std::function<Status(std::string_view slug, std::string* country)>;

// Evaluates `state` at `day` under `rule` and hands `sink` the rows of the
// row sets `rows` (which the state must keep), in Snapshot order, with the
// state hash (SnapshotSink's contract, projection.h). Normalises the state
// first (no change in meaning). Pure apart from `country`, asked for the
// partners of the partnerships that are (possibly) active, and the sink.
Status Evaluate(State& state, int64_t day, DateRule rule, RowSets rows, const CountryFn& country,
                SnapshotSink* sink);
// The same, collecting every row set the state keeps into out->edges,
// counts, trade and trade_totals, and setting out->state_hash; the other
// fields (query, known_seq) are left as they are.
Status Evaluate(State& state, int64_t day, DateRule rule, const CountryFn& country,
                Snapshot* out);

// Collects a replay's rows into a Snapshot (Replay is ReplayInto with one).
// Sets known_seq (Begin), the rows, and state_hash (End); query is left to
// the caller.
class SnapshotCollector final : public SnapshotSink {
 public:
  explicit SnapshotCollector(Snapshot* out) : out_(out) {}  // `out` borrowed
  Status Begin(uint64_t known_seq) override;
  Status Edge(EdgeRow row) override;
  Status Count(std::string entity, EntityCounts counts) override;
  Status Trade(TradeRow row) override;
  Status Total(TradeTotal total) override;
  Status End(const std::string& state_hash) override;

 private:
  Snapshot* out_;
};

// The state hash of the rows handed to a sink (Snapshot::state_hash): the
// rows of each row set in canonical form, then one hash over the
// selection `rows`, the entity filter, and each set's count and hash. Fed
// the rows in Snapshot order.
class RowHasher {
 public:
  RowHasher(RowSets rows, std::string_view entity);
  ~RowHasher();
  void Edge(const EdgeRow& e);
  void Count(const std::string& slug, const EntityCounts& ec);
  void Trade(const TradeRow& t);
  void Total(const TradeTotal& t);
  std::string HexDigest();

 private:
  struct Sets;
  RowSets rows_;
  std::string entity_;
  uint64_t counts_[4] = {};
  std::unique_ptr<Sets> sets_;
};

// The state hash of a snapshot's rows of the row sets `rows` (the
// state_hash a replay selecting `rows` for `entity` gives; see
// Snapshot::state_hash). Rows of other sets are ignored.
std::string SnapshotHash(const Snapshot& snapshot, RowSets rows = kAllRows,
                         std::string_view entity = {});

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

// --- Diff rows (diff.cc) ------------------------------------------------------

// A diff's rows as found by comparing two snapshots, before their causes.
struct DiffDraft {
  std::vector<DiffRow> rows;
  std::vector<std::optional<CauseRow>> targets;  // per row; none for reported rows
  // The edge rows, with the two sides' rows, for FinishDiff's fallback.
  std::vector<std::tuple<size_t, const EdgeRow*, const EdgeRow*>> edge_rows;
  DiffRow& Add(std::optional<CauseRow> target);
};

// Whether two snapshots can be diffed (one rule, one selection, one entity,
// known within the log): kInvalidArgument saying why not.
Status CheckDiffable(const ReadTxn& txn, const Snapshot& from, const Snapshot& to);
// The rows that differ (docs/PROJECTIONS.md §6), in diff order: edges,
// counts, reported counts, trade. CompareTrade: the trade part alone. The
// draft borrows the snapshots' edge rows.
void CompareSnapshots(const Snapshot& from, const Snapshot& to, DiffDraft* draft);
void CompareTrade(const Snapshot& from, const Snapshot& to, DiffDraft* draft);
// Sets each row's causes (`causes`, one per row with a target, in row
// order) and names the uncertain events of an edge row that has none.
void FinishDiff(DiffDraft draft, std::vector<std::vector<uint64_t>> causes,
                std::vector<DiffRow>* out);

// Sets (*causes)[i] to the cause seqs of rows[i], ascending: the effective
// events of the row whose presence (effective at K and e <= D) or
// occurrence differs between `from` and `to`. The edges behind a kEdgeCount
// row are those active or possibly active on at least one side. `txn` is
// the log both snapshots were replayed from; they share one date rule.
Status FindCauses(const ReadTxn& txn, const Snapshot& from, const Snapshot& to,
                  const std::vector<CauseRow>& rows, std::vector<std::vector<uint64_t>>* causes);

}  // namespace twinline::projection_internal

#endif  // TWINLINE_PROJECTIONS_STATE_H_
