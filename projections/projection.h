// Projections: the state of the city network as of a valid day D, as the log
// knew it at seq K, with honest three-valued answers for partial dates.
// The semantics are specified in docs/PROJECTIONS.md; this header is the
// contract.
//
// Contract:
//  * Replay(txn, query) is a deterministic function of (the log up to
//    query.known_seq, query.as_of_day, query.rule). With or without
//    checkpoints the Snapshot is identical (same rows, same state_hash).
//  * Every Range has certain <= possible. Under DateRule::kEarliest or
//    kLatest every status is kNo or kYes and certain == possible.
//  * Rows are sorted (edges by kind, a, b, subkind; counts by entity; trade
//    by reporter, partner, period, flow) and list the effective events
//    behind them with their occurrence, so callers can name the event ids
//    that caused a change.
//  * Memory grows with entities, edges, report keys and unsettled facts,
//    not with the log: events are streamed from the log's by-date index,
//    and settled facts are kept as bare seqs (the rows list them anyway).
//  * Reads only: Replay never writes. BuildCheckpoints computes checkpoints
//    for EventLog::ReplaceCheckpoints.
#ifndef TWINLINE_PROJECTIONS_PROJECTION_H_
#define TWINLINE_PROJECTIONS_PROJECTION_H_

#include <cstdint>
#include <map>
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

struct Query {
  int64_t as_of_day = 0;       // D, days since 1970-01-01
  uint64_t known_seq = UINT64_MAX;  // K; UINT64_MAX = everything recorded
  DateRule rule = DateRule::kRange;
  bool use_checkpoints = true;
};

// An effective event behind a row, with its occurrence as of the query day.
// Diff names as causes the events whose presence or occurrence differs.
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
  std::vector<EventMark> events;  // effective counter/report events with e <= D, by seq
  bool operator==(const EntityCounts&) const = default;
};

struct TradeRow {
  std::string reporter, partner, period, flow;
  std::string currency;
  double amount = 0;
  Tri status = Tri::kNo;   // kYes: certain figure; kMaybe: only possible
  uint64_t seq = 0;        // the report that holds
  std::vector<EventMark> events;  // every effective report of this key with e <= D, by seq
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
  std::string state_hash;                      // hex SHA-256 over the rows above
};

struct ReplayStats {
  uint64_t events_applied = 0;       // facts inserted after the checkpoint (or from zero)
  std::optional<int64_t> checkpoint_day;  // the checkpoint used, if any
  // Checkpoints at or before the day passed over: built after K, stale
  // (corrections or facts with e <= C recorded since), or failing their hash.
  uint64_t checkpoints_skipped = 0;
};

Status Replay(const ReadTxn& txn, const Query& query, Snapshot* out, ReplayStats* stats = nullptr);

// Checkpoints at the given valid days (typically every year-end that has
// events), for everything recorded; ready for EventLog::ReplaceCheckpoints.
Status BuildCheckpoints(const ReadTxn& txn, const std::vector<int64_t>& days,
                        std::vector<std::pair<std::string, std::string>>* entries);
// The default checkpoint days for a log: December 31 of every year divisible
// by 5 from the year of its first bounded valid day to that of its last.
Status DefaultCheckpointDays(const ReadTxn& txn, std::vector<int64_t>* days);

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
  // Events whose presence or occurrence differs between the two sides. For
  // a known-at diff, callers add the corrections recorded in between that
  // target them (ReadTxn::ScanReferences).
  std::vector<uint64_t> cause_seqs;
};

// Rows that differ between two snapshots (valid dates or known-at times).
std::vector<DiffRow> Diff(const Snapshot& from, const Snapshot& to);

}  // namespace twinline

#endif  // TWINLINE_PROJECTIONS_PROJECTION_H_
