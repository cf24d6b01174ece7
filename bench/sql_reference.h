// SqlReference: the question twinline's replay and diff answer, asked of
// SQLite instead, over the same events, so that the benchmark can time both
// and check that they agree (bench/README.md, "What is compared").
//
// The question, under the single-valued `--dates earliest` rule
// (DateRule::kEarliest: every fact on its earliest possible day), as of a
// valid day D, over the effective facts at the end of the log
// (docs/PROJECTIONS.md §1-§4):
//  * per entity, how many partnerships and how many routes are active at D:
//    an edge (partnership a–b of a kind, route from→to of a mode) is active
//    when its last event by (earliest day, seq) with earliest day <= D is
//    an establish / open. An entity is listed when either number is > 0.
//  * per trade key (reporter, partner, period, flow), the report in force at
//    D: the greatest by (earliest, latest, seq) among those with earliest
//    day <= D, with its amount, currency and seq.
// A diff between D1 and D2 lists the entities whose partnership or route
// count differs, and the trade keys whose report in force differs.
//
// twinline answers a superset (every counter, counts by kind and country,
// reported counts, edge rows with their events, causes): the comparison
// keeps the common part. Answers are reduced to sorted canonical lines
// (AsOfLines, DiffLines) and compared line by line.
//
// Loading: the effective facts (effective_facts.h, the rows DuckDB loads
// too) are read once from a twinline log and written to a fresh SQLite file
// with journaling off; the indexes are built after the rows, then ANALYZE. Queries run on prepared statements. Not thread-safe;
// one SqlReference per thread.
#ifndef TWINLINE_BENCH_SQL_REFERENCE_H_
#define TWINLINE_BENCH_SQL_REFERENCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/effective_facts.h"
#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace twinline::bench {

// --- Answers, as each side produces them -----------------------------------

struct EdgeCounts {
  std::string entity;
  int64_t partnerships = 0, routes = 0;
};

struct TradeInForce {
  std::string reporter, partner, period, flow;
  double amount = 0;
  std::string currency;
  int64_t seq = 0;
};

struct AsOfAnswer {
  std::vector<EdgeCounts> counts;   // in no particular order
  std::vector<TradeInForce> trade;  // in no particular order
};

struct CountChange {
  std::string entity;
  bool routes = false;  // else partnerships
  int64_t before = 0, after = 0;
};

struct TradeChange {
  std::string reporter, partner, period, flow;
  std::optional<TradeInForce> before, after;  // only amount, currency, seq set
};

struct DiffAnswer {
  std::vector<CountChange> counts;
  std::vector<TradeChange> trade;
};

// --- Canonical lines, for comparing ------------------------------------------

// Sorted lines, one per row: "counts ENTITY P R", "trade R P PERIOD FLOW
// AMOUNT CURRENCY SEQ" (amount with two decimals).
std::vector<std::string> AsOfLines(const AsOfAnswer& answer);
// The common part of a twinline Snapshot replayed under DateRule::kEarliest.
// A row that is not two-valued (certain != possible) gives a line that can
// never match, so the comparison fails loudly.
std::vector<std::string> AsOfLines(const Snapshot& snapshot);

// Sorted lines: "count ENTITY partnerships|routes BEFORE AFTER", "trade R
// P PERIOD FLOW | BEFORE | AFTER" where a figure reads as twinline's diff
// renders it ("1,234,000,000,017 USD", or "none").
std::vector<std::string> DiffLines(const DiffAnswer& answer);
// The common part of twinline's Diff rows.
std::vector<std::string> DiffLines(const std::vector<DiffRow>& rows);

// Hex SHA-256 of the lines (each followed by '\n').
std::string LinesHash(const std::vector<std::string>& lines);

// "" when equal; else how two sides' answers differ: counts and the first
// few lines found on one side only.
std::string DescribeDifference(const std::string& a_name, const std::vector<std::string>& a,
                               const std::string& b_name, const std::vector<std::string>& b);

// --- The SQLite side ----------------------------------------------------------

// The rows of each table (edge_events: edge_event, ...) and the file.
struct LoadStats : FactStats {
  uint64_t file_bytes = 0;  // size of the SQLite file after loading and indexing
};

class SqlReference {
 public:
  // Creates `path` (which must not exist) and loads the effective facts of
  // `txn` (everything it holds) into it.
  static Status Load(const ReadTxn& txn, const std::string& path, LoadStats* stats,
                     std::unique_ptr<SqlReference>* out);
  ~SqlReference();
  SqlReference(const SqlReference&) = delete;
  SqlReference& operator=(const SqlReference&) = delete;

  // Both parts of the as-of question; or each alone (the other part of
  // `out` is left as it was).
  Status AsOf(int64_t day, AsOfAnswer* out);
  Status AsOfCounts(int64_t day, AsOfAnswer* out);
  Status AsOfTrade(int64_t day, AsOfAnswer* out);
  // day_from and day_to in either order; "before" is day_from's side.
  Status Diff(int64_t day_from, int64_t day_to, DiffAnswer* out);

  // The SQL text of the prepared queries, for bench/README.md and reports.
  static const char* const kSchemaSql;
  static const char* const kIndexSql;
  static const char* const kAsOfCountsSql;
  static const char* const kAsOfTradeSql;
  static const char* const kDiffCountsSql;
  static const char* const kDiffTradeSql;

 private:
  explicit SqlReference(sqlite3* db) : db_(db) {}
  Status Prepare();

  sqlite3* db_;                          // owned
  sqlite3_stmt* asof_counts_ = nullptr;  // owned, as are the three below
  sqlite3_stmt* asof_trade_ = nullptr;
  sqlite3_stmt* diff_counts_ = nullptr;
  sqlite3_stmt* diff_trade_ = nullptr;
};

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_SQL_REFERENCE_H_
