// DuckDbReference: the question of sql_reference.h asked of DuckDB, the peer
// a user with the same events would most likely pick, so that the benchmark
// times it beside twinline and SQLite and checks that all three agree
// (bench/README.md).
//
// DuckDB runs in a node process with its npm package `@duckdb/node-api`
// (pinned by bench/duckdb/package-lock.json; `npm ci` there installs it):
// bench/duckdb/reference.mjs, which this class starts and drives over a
// pipe, one request at a time. Its input is the effective facts of the log
// (effective_facts.h, the rows SQLite loads), exported once as CSV files
// (ExportFacts); it loads them into a new database file with a given number
// of threads and answers on prepared statements.
//
// Timing: each answer carries the time DuckDB took *inside* the node process
// (EngineTiming): from binding the parameters to the whole result
// materialized in DuckDB's own chunks, in engine. That excludes starting
// node and DuckDB, preparing the statements (SQLite's are prepared once
// too), converting the result into JS values (timed apart: js_s), and
// passing the rows over the pipe and parsing them here. CPU time is the
// node process's, every DuckDB thread included.
//
// Not thread-safe; one DuckDbReference per thread. The destructor asks the
// process to quit and waits for it.
#ifndef TWINLINE_BENCH_DUCKDB_REFERENCE_H_
#define TWINLINE_BENCH_DUCKDB_REFERENCE_H_

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/effective_facts.h"
#include "bench/sql_reference.h"
#include "core/event_log.h"
#include "core/status.h"

namespace twinline::bench {

struct EngineTiming {
  double wall_s = 0;
  double cpu_s = 0;
  double js_s = 0;  // after it: the result converted into JS values
};

struct DuckDbLoad {
  EngineTiming timing;      // CREATE TABLE ... AS SELECT FROM read_csv, CHECKPOINT
  uint64_t file_bytes = 0;  // the database file after loading
  std::string version;      // DuckDB's ("v1.5.6")
};

// Where DuckDB comes from: `node` (looked up in PATH) runs `script`.
struct DuckDbProgram {
  std::string node = "node";
  std::string script;  // bench/duckdb/reference.mjs
};

class DuckDbReference {
 public:
  // Writes the effective facts of `txn` (everything it holds) to `dir`
  // (created; must not exist) as entity.csv, edge.csv, edge_event.csv,
  // trade_key.csv and trade_report.csv: a header line, then one row per
  // fact; text quoted, amounts with 17 significant digits (exact).
  // `bytes` gets the five files' size.
  static Status ExportFacts(const ReadTxn& txn, const std::string& dir, FactStats* stats,
                            uint64_t* bytes);

  // Starts the DuckDB process and loads `facts_dir` (from ExportFacts) into
  // a new database `db_path` (must not exist) run with `threads` threads.
  // Fails with a message saying how to install DuckDB when node or the
  // package cannot be started.
  static Status Start(const DuckDbProgram& program, const std::string& facts_dir,
                      const std::string& db_path, int threads, DuckDbLoad* load,
                      std::unique_ptr<DuckDbReference>* out);
  ~DuckDbReference();
  DuckDbReference(const DuckDbReference&) = delete;
  DuckDbReference& operator=(const DuckDbReference&) = delete;

  // As SqlReference's: each fills its part of `out` (the other is left as
  // it was), or the whole DiffAnswer.
  Status AsOfCounts(int64_t day, AsOfAnswer* out, EngineTiming* timing);
  Status AsOfTrade(int64_t day, AsOfAnswer* out, EngineTiming* timing);
  Status Diff(int64_t day_from, int64_t day_to, DiffAnswer* out, EngineTiming* timing);

  // The node process's peak resident memory so far (its heap, DuckDB's
  // buffers and the database pages it read), KiB.
  Status PeakRss(uint64_t* kb);

 private:
  DuckDbReference(pid_t pid, int to_child, FILE* from_child)
      : pid_(pid), to_child_(to_child), from_child_(from_child) {}
  // Sends one JSON request line; reads the answer's head into `head_json`
  // and its rows, split into fields, into `rows`.
  Status Ask(const std::string& request, std::string* head_json,
             std::vector<std::vector<std::string>>* rows);

  pid_t pid_;
  int to_child_;     // owned: a socket, the child's stdin
  FILE* from_child_; // owned: the child's stdout
};

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_DUCKDB_REFERENCE_H_
