// `twinline-bench micro`: the in-process figures, as Google Benchmark
// benchmarks over one imported twinline log (bench/README.md lists them).
//
//   twinline-bench micro --db DIR --work DIR [--samples N] [--full-samples N]
//                        [--diff-samples N] [--seed S] [--batch N]
//                        [--repetitions N] [Google Benchmark flags...]
//
// The log at --db is only read. --work (created, must be empty or absent)
// holds the plain-LMDB copies, the library-append log and the SQLite file;
// each large copy is removed as soon as it has been measured.
//
// Every as-of and diff sample is checked: twinline's answer must equal
// SQLite's for the same dates (bench/sql_reference.h). A disagreement is
// printed to stderr and makes the command exit with status 2, whatever
// the timings.
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
};

// Parses the options above out of argv (leaving Google Benchmark's), runs
// the benchmarks and returns the process exit status.
int MicroMain(int argc, char** argv);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_MICRO_H_
