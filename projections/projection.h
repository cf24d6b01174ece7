// Projections: the state of the city network as of a valid day D, as the log
// knew it at seq K, with honest three-valued answers for partial dates.
// The semantics are specified in docs/PROJECTIONS.md; this header is the
// contract.
//
// Contract:
//  * Replay(txn, query) is a deterministic function of (the log up to
//    query.known_seq, query.as_of_day, query.rule, query.rows,
//    query.entity). From the temporal index (docs/INDEX.md) or by replaying
//    the log (use_index = false) the Snapshot is identical (same rows, same
//    state_hash); the index is derived data and never changes an answer.
//  * Every Range has certain <= possible. Under DateRule::kEarliest or
//    kLatest every status is kNo or kYes and certain == possible.
//  * Rows are sorted (edges by kind, a, b, subkind; counts by entity; trade
//    by reporter, partner, period, flow). An edge row lists every effective
//    event of the edge with e <= D; count and trade rows list only their
//    *open* events (e <= D < l, the ones still uncertain at D) and count the
//    settled ones (l <= D), so a row's size does not grow with its history.
//  * Only what is asked is computed: Query::rows selects the row sets
//    (edges, counts, trade with its totals). A partial selection gives
//    exactly the selected rows of the full Snapshot, and leaves the others
//    empty; facts that feed no selected set are neither looked up nor kept.
//  * From the index, an answer costs what it touches (docs/INDEX.md): count
//    rows from prefix counts (a binary search per entity), edge and trade
//    rows from their own facts, read in place; the log's events recorded
//    after the index (the tail) are read on top. Replaying the log instead
//    holds entities, edges and their events, report and trade keys and
//    unsettled facts, not the log. ReplayInto hands rows to a SnapshotSink
//    one at a time instead of building the Snapshot.
//  * Diff names the events behind each changed row (docs/PROJECTIONS.md §6).
//  * Reads only: Replay and Diff never write. The index is written by the
//    log's writer through the IndexMaintainer of NewIndexMaintainer, and by
//    RebuildIndex.
#ifndef TWINLINE_PROJECTIONS_PROJECTION_H_
#define TWINLINE_PROJECTIONS_PROJECTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"

namespace twinline {

// Kleene truth value: did it hold as of the date?
enum class Tri : uint8_t { kNo = 0, kMaybe = 1, kYes = 2 };

enum class DateRule : uint8_t {
  kRange,     // three-valued: certain and possible (default)
  kEarliest,  // every fact on its earliest possible day (most generous)
  kLatest,    // every fact on its latest possible day (most conservative)
};

// The row sets of a Snapshot, as bits of Query::rows.
using RowSets = uint8_t;
inline constexpr RowSets kEdgeRows = 1 << 0;   // Snapshot::edges
inline constexpr RowSets kCountRows = 1 << 1;  // Snapshot::counts
inline constexpr RowSets kTradeRows = 1 << 2;  // Snapshot::trade and trade_totals
inline constexpr RowSets kAllRows = kEdgeRows | kCountRows | kTradeRows;
// With kCountRows: count rows without breakdowns (by kind, country, mode),
// reported figures or open events; the ranges and settled_events only (a
// `replay --projection counts --format csv` needs no more).
inline constexpr RowSets kCountsBrief = 1 << 3;

struct Query {
  int64_t as_of_day = 0;       // D, days since 1970-01-01
  uint64_t known_seq = UINT64_MAX;  // K; UINT64_MAX = everything recorded
  DateRule rule = DateRule::kRange;
  // Answer from the temporal index (docs/INDEX.md); false replays the log.
  bool use_index = true;
  // The row sets to compute; the others stay empty. Counts need the edges'
  // statuses (partnership and route counts) but not their rows; trade needs
  // neither. Bits outside kAllRows | kCountsBrief are ignored.
  RowSets rows = kAllRows;
  // When set, only the rows of this entity (slug): its edges, its count
  // row, the trade rows it reports or is the partner of, and the totals it
  // reports. An entity the log does not know has no rows.
  std::string entity;
};

// An effective event behind a row, with its occurrence as of the query day
// under the query's rule.
struct EventMark {
  uint64_t seq = 0;
  Tri occurred = Tri::kNo;
  bool operator==(const EventMark&) const = default;
  auto operator<=>(const EventMark&) const = default;
};

// A count that may be uncertain: certain <= possible.
struct Range {
  uint64_t certain = 0;
  uint64_t possible = 0;
  bool operator==(const Range&) const = default;
};

// An active (or possibly active) partnership or route.
struct EdgeRow {
  enum class Kind : uint8_t { kPartnership, kRoute };
  Kind kind = Kind::kPartnership;
  std::string a, b;        // partnership: sorted slugs; route: from, to
  std::string subkind;     // partnership kind ("sister_city") or route mode ("rail")
  Tri status = Tri::kNo;   // never kNo in a Snapshot
  std::vector<EventMark> events;  // effective events of this edge with e <= D, by seq
  bool operator==(const EdgeRow&) const = default;
};

// One entity's own published figure, beside what the log knows.
struct ReportedCount {
  std::string metric, scope;
  double value = 0;
  std::string qualifier;  // "exact", "nearly", ...
  std::string date;       // EDTF valid time of the report
  Tri status = Tri::kNo;  // kYes: the certain value; kMaybe: only possible
  uint64_t seq = 0;
  bool operator==(const ReportedCount&) const = default;
};

struct EntityCounts {
  Range partnerships;                              // edges of kind partnership touching it
  std::map<std::string, Range> partnerships_by_kind;      // "sister_city" -> range
  std::map<std::string, Range> partnerships_by_country;   // partner's ISO country -> range
  Range routes;
  std::map<std::string, Range> routes_by_mode;
  Range forums, agreements, offices, offices_hosted, organisations, awards, initiatives;
  // Per (metric, scope): the certain report (status kYes) and, when a later
  // report is only possible, that one too (status kMaybe).
  std::vector<ReportedCount> reported;
  // The entity's effective counter and report events with e <= D < l (not
  // settled as of D), by seq, with their occurrence under the rule (kMaybe
  // under kRange, kYes under kEarliest, kNo under kLatest). Each event once,
  // though an office whose owner is its host feeds two counters.
  std::vector<EventMark> open_events;
  // How many of its effective counter and report events have l <= D (each
  // occurred, under every rule).
  uint64_t settled_events = 0;
  bool operator==(const EntityCounts&) const = default;
};

struct TradeRow {
  std::string reporter, partner, period, flow;
  std::string currency;
  double amount = 0;
  Tri status = Tri::kNo;   // kYes: certain figure; kMaybe: only possible
  uint64_t seq = 0;        // the report that holds
  // The key's effective reports with e <= D < l, by seq, with their
  // occurrence; and how many have l <= D. Both rows of a key carry both.
  std::vector<EventMark> open_events;
  uint64_t settled_events = 0;
  bool operator==(const TradeRow&) const = default;
};

struct TradeTotal {
  std::string reporter, currency;
  double certain = 0, possible = 0;
  bool operator==(const TradeTotal&) const = default;
};

struct Snapshot {
  Query query;
  uint64_t known_seq = 0;                      // the K actually used (<= the log's last seq)
  std::vector<EdgeRow> edges;                  // status kYes or kMaybe
  std::map<std::string, EntityCounts> counts;  // entities with anything to count
  std::vector<TradeRow> trade;                 // per key: the certain row, and a possible one if it differs
  std::vector<TradeTotal> trade_totals;
  // Hex SHA-256 over the rows above in a canonical byte form: for the full
  // selection (kAllRows), over all four row sets; for a partial one, over
  // the selection and the selected row sets only, so it differs from every
  // full snapshot's hash. Two snapshots of one selection have the same hash
  // iff they have the same rows.
  std::string state_hash;
};

struct ReplayStats {
  bool used_index = false;     // answered from the temporal index
  uint64_t index_seq = 0;      // the index's B (0: none stored yet)
  uint64_t tail_events = 0;    // events read on top of it, in (B, K]
  // Why the index could not be used (damaged, another version), when it
  // could not: the answer then comes from replaying the log.
  std::string index_problem;
  // Replaying the log: facts inserted (those that feed no selected row set
  // are not).
  uint64_t events_applied = 0;
};

// The Snapshot for `query`, collected from ReplayInto. `stats` may be null.
Status Replay(const ReadTxn& txn, const Query& query, Snapshot* out, ReplayStats* stats = nullptr);

// Receives a replay's rows one at a time, in the order a Snapshot holds
// them:
//
//   Begin, every Edge (Snapshot::edges order), every Count (by entity slug),
//   every Trade (Snapshot::trade order), every Total, End
//
// Only the selected row sets (Query::rows) are delivered; the calls of the
// others do not happen (Begin and End always do, when the replay succeeds).
// Rows are handed over by value: move them if kept; the replay keeps
// nothing of a row after the call. A non-OK Status from any call stops the
// replay at once and ReplayInto returns it (End is not called); so does an
// error reading the log, possibly before Begin. The state hash is computed as
// the rows go by, so a sink that only writes rows out holds one row at a
// time. A sink is called from the thread that called ReplayInto, while the
// read transaction is in use: it may read the same transaction (event ids,
// names) between rows.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  // Before any row: the K actually used (Snapshot::known_seq).
  virtual Status Begin(uint64_t /*known_seq*/) { return Status::Ok(); }
  virtual Status Edge(EdgeRow /*row*/) { return Status::Ok(); }
  virtual Status Count(std::string /*entity*/, EntityCounts /*counts*/) { return Status::Ok(); }
  virtual Status Trade(TradeRow /*row*/) { return Status::Ok(); }
  virtual Status Total(TradeTotal /*total*/) { return Status::Ok(); }
  // After every row: Snapshot::state_hash of the rows delivered.
  virtual Status End(const std::string& /*state_hash*/) { return Status::Ok(); }
};

// The replay of Replay, streamed: the same rows in the same order and the
// same state_hash, delivered to `sink` (borrowed for the call) instead of
// collected. Memory: the projection state (see the contract at the top)
// plus one row at a time, plus per-entity count rows while counts are
// selected (they are complete only after every edge has been evaluated).
Status ReplayInto(const ReadTxn& txn, const Query& query, SnapshotSink* sink,
                  ReplayStats* stats = nullptr);

// --- The temporal index (docs/INDEX.md) ----------------------------------------

// Keeps the temporal index up to date with the log: give it to the
// EventLog (OpenOptions::maintainer) of every process that appends. After
// each batch it merges the tail into the index when the tail outgrows
// max(4096, B / 64) events (or builds the index when there is none), in the
// batch's own transaction; a streamed import builds it from the events as
// they are written.
std::shared_ptr<IndexMaintainer> NewIndexMaintainer();

struct IndexInfo {
  bool present = false;
  uint64_t base_seq = 0;        // B
  uint64_t log_seq = 0;         // the log's last seq (the tail is log_seq - B)
  uint64_t bytes = 0;           // over every section
  uint64_t entities = 0, edges = 0, edge_facts = 0, counter_facts = 0, report_keys = 0,
           report_facts = 0, trade_keys = 0, trade_facts = 0, corrections = 0, breakpoints = 0;
  std::vector<std::pair<std::string, uint64_t>> sections;  // (name, bytes)
};
Status DescribeIndex(const ReadTxn& txn, IndexInfo* info);

// Builds the index of the whole log (`txn`'s events) and stores it in
// place of the one there was.
Status RebuildIndex(DerivedWriteTxn& txn, IndexInfo* info = nullptr);
// Drops the stored index (queries then read the whole log as the tail).
Status DropIndex(DerivedWriteTxn& txn);
// Rebuilds the index at its B in memory and compares it byte for byte with
// the stored one: kCorruption naming the first section that differs. OK
// when none is stored.
Status VerifyIndex(const ReadTxn& txn, IndexInfo* info = nullptr);

// Resolves --known-at: "@N" (a seq), an RFC 3339 timestamp, or an EDTF date
// (end of its latest day, UTC) into the last seq recorded by then.
Status ResolveKnownAt(const ReadTxn& txn, std::string_view text, uint64_t* seq);

// --- Timeline ------------------------------------------------------------

struct TimelineEntry {
  uint64_t seq = 0;
  std::string id, kind, date;  // kind in snake_case; date as written (EDTF)
  Tri occurred = Tri::kNo;     // as of the query's day
  std::string amends;          // for an amendment: the id it replaced
  std::vector<uint64_t> source_seqs;  // the event itself and its corroborations (<= K)
};

// The chronological story of one entity: its effective events at K that may
// have happened by D (occurrence not kNo under the query's rule), ordered by
// (earliest, latest, seq). An amendment appears when its replacement names
// the entity. kNotFound for an unregistered entity.
Status Timeline(const ReadTxn& txn, std::string_view entity, const Query& query,
                std::vector<TimelineEntry>* out);

// --- Diff ----------------------------------------------------------------

struct DiffRow {
  enum class Change : uint8_t { kAdded, kRemoved, kChanged };
  Change change = Change::kChanged;
  std::string what;        // "partnership", "route", "count", "reported", "trade"
  std::string key;         // "chengdu — montpellier (sister_city)", "chengdu forums", ...
  std::string before, after;  // human renderings ("yes", "maybe", "1–3", "142,160,000,000 CNY")
  // The kind of edge the row is about: an edge row's, or the one a
  // partnership or route count (by kind, mode or country too) counts; none
  // for other rows.
  std::optional<EdgeRow::Kind> edge_kind;
  // The effective events of the row whose presence (effective at K and
  // e <= D) or occurrence differs between the two sides, ascending. A row's
  // events: an edge's, its own; "X forums" (any counter), the facts counted
  // there; "X partnerships" ("X routes"), the events of X's partnerships
  // (routes) active or possibly active on at least one side, "... KIND"
  // those of that kind or mode, "X partnerships in CC" those whose partner
  // is registered in CC at the side's K; a trade row, its key's reports; a
  // reported row, the certain and possible reports the two sides show. An
  // edge whose status changes although no event of it changed (a day passed
  // inside an uncertain event's range, e.g. an establishment in 01-01..01-11
  // and an end on 01-06: no on 01-06, maybe on 01-07) names instead its
  // events that are only possibly in effect on either side. For a known-at diff,
  // callers add the corrections recorded in between that target them
  // (ReadTxn::ScanReferences).
  std::vector<uint64_t> cause_seqs;
};

// The rows that differ between two snapshots (two valid dates, or two
// known-at times, or both), each with its cause events. `txn` is the log
// both were replayed from (it holds every seq up to both known_seqs); they
// must share one date rule and one row selection, and a selection with
// counts must have the edge rows too, through which the causes of
// partnership and route counts are found (else kInvalidArgument). Costs a lookup per
// candidate event: the events the snapshots list (edge events, open
// events), those whose earliest day lies between the two dates, and those
// recorded between the two known-at times with the facts they correct.
Status Diff(const ReadTxn& txn, const Snapshot& from, const Snapshot& to,
            std::vector<DiffRow>* out);

// The diff between the answers to two queries (one date rule, one row
// selection, one entity filter): from the temporal index when both use it,
// costing two evaluations and the facts of the rows that changed; else
// Replay twice and Diff. `before` and `after` get the two snapshots'
// query and known_seq, and (from the index) only the rows that differ.
Status DiffAt(const ReadTxn& txn, const Query& from, const Query& to, Snapshot* before,
              Snapshot* after, std::vector<DiffRow>* out);

// An amount as DiffRow::before and after show it: 142160000000 ->
// "142,160,000,000"; fractions to two places, trailing zeros dropped ("1.5").
std::string AmountText(double amount);

}  // namespace twinline

#endif  // TWINLINE_PROJECTIONS_PROJECTION_H_
