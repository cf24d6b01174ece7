// The effective facts of a twinline log that the benchmark's question needs
// (bench/README.md, "The question SQLite and DuckDB answer"), as normalised
// rows with integer ids: what the SQLite reference (sql_reference.h) and the
// DuckDB reference (duckdb_reference.h) load, so both peers get exactly the
// same rows.
//
// The facts are those in effect at the end of the log (docs/PROJECTIONS.md
// §1): a fact counts unless a retraction or amendment targets it; an
// effective amendment stands for its replacement at its own valid time and
// seq. Two scans of the log: the targets of corrections, then the facts, each
// handed to the sink as it is read (entities, edges and trade keys the first
// time a fact names them, before the fact's own row).
#ifndef TWINLINE_BENCH_EFFECTIVE_FACTS_H_
#define TWINLINE_BENCH_EFFECTIVE_FACTS_H_

#include <cstdint>
#include <string_view>

#include "core/event_log.h"
#include "core/status.h"

namespace twinline::bench {

// Ids start at 1 in order of first appearance. Days are days since
// 1970-01-01 (INT64_MIN / INT64_MAX for open ends, as in the log).
class FactSink {
 public:
  virtual ~FactSink() = default;
  virtual Status Entity(int64_t id, std::string_view slug) = 0;
  // kind 0: a partnership of kind `subkind` between a < b (slugs sorted, as
  // the log stores them); kind 1: a route of mode `subkind` from a to b.
  virtual Status Edge(int64_t id, int kind, int64_t a, int64_t b, int64_t subkind) = 0;
  // An establishment / opening (establish) or an end / closing of an edge,
  // on its earliest day e.
  virtual Status EdgeEvent(int64_t edge, int64_t e, int64_t seq, bool establish) = 0;
  virtual Status TradeKey(int64_t id, int64_t reporter, int64_t partner, std::string_view period,
                          std::string_view flow) = 0;
  virtual Status TradeReport(int64_t seq, int64_t key, int64_t e, int64_t l, double amount,
                             std::string_view currency) = 0;
};

struct FactStats {
  uint64_t events_read = 0;    // events in the log (it is scanned twice)
  uint64_t edge_events = 0;
  uint64_t edges = 0;
  uint64_t trade_reports = 0;
  uint64_t trade_keys = 0;
  uint64_t entities = 0;
};

// Hands every effective fact of `txn` (everything it holds) to `sink`. Stops
// at the first error from the log or the sink.
Status ReadEffectiveFacts(const ReadTxn& txn, FactSink* sink, FactStats* stats);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_EFFECTIVE_FACTS_H_
