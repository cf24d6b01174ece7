// `twinline-bench micro`: the in-process figures, as Google Benchmark
// benchmarks over one imported twinline log (bench/README.md lists them).
//
//   twinline-bench micro --db DIR --work DIR [--samples N] [--full-samples N]
//                        [--diff-samples N] [--seed S] [--batch N]
//                        [--repetitions N] [Google Benchmark flags...]
//
//                        [--twinline BIN] [--duckdb SCRIPT | --no-duckdb] [--node NODE]
//
// The log at --db is only read. --work (created, must be empty or absent)
// holds the plain-LMDB copies, the library-append log, the SQLite file, the
// facts exported for DuckDB and DuckDB's files; each large copy is removed
// as soon as it has been measured.
//
// Three questions, each asked of every side on the same sampled days
// (bench/README.md): the as-of counts per entity, the trade reports in force,
// and the diff of two days. The sides: twinline in process (from its
// temporal index, and by replaying the log), the whole `twinline replay
// --projection counts --format csv` process (--twinline), SQLite
// (sql_reference.h), DuckDB with 1 and 2 threads (duckdb_reference.h; its
// script is --duckdb, run by --node). Every answer of every side is reduced
// to canonical lines and checked against the first answer given for that
// question and sample. A disagreement is printed to stderr and makes the
// command exit with status 2, whatever the timings. Without --duckdb and
// without --no-duckdb it refuses to run: the DuckDB peer is never skipped
// silently.
#ifndef TWINLINE_BENCH_MICRO_H_
#define TWINLINE_BENCH_MICRO_H_

#include <cstdint>
#include <string>

namespace twinline::bench {

struct MicroOptions {
  std::string db;         // the imported log
  std::string work;       // scratch directory
  int samples = 50;       // as-of dates (twinline with its index, SQLite)
  int full_samples = 5;   // as-of dates also answered by a full replay
  int diff_samples = 20;  // date pairs for diff
  uint64_t seed = 1;      // for the dates
  uint64_t batch = 0;     // appends per write transaction, 0 = all in one (as import)
  int repetitions = 3;    // of the whole-log throughput figures, median reported
  std::string twinline;   // the twinline binary, for the whole-process as-of; "" = not timed
  bool duckdb = true;     // false: --no-duckdb
  std::string duckdb_script;  // bench/duckdb/reference.mjs
  std::string node = "node";
};

// Parses the options above out of argv (leaving Google Benchmark's), runs
// the benchmarks and returns the process exit status.
int MicroMain(int argc, char** argv);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_MICRO_H_
