// `twinline-bench report`: the one table of bench/run, and its JSON.
//
//   twinline-bench report --dir SCRATCH [--out FILE.json]
//
// Reads what bench/run left in SCRATCH — meta.json (size, world, machine,
// command), micro.json (Google Benchmark's JSON output of `twinline-bench
// micro`), import.json / index_rebuild.json / replay_full.json /
// replay_asof.json / replay_counts.json / diff.json (`twinline-bench
// measure`), disk.json (the size of data.mdb), serve.txt (the output of
// bench/serve_load.sh) — any of them but meta.json may be missing — and
// prints one row per figure: the twinline value beside SQLite's and
// DuckDB's (1 and 2 threads) or another reference measured in the same run,
// the ratio to the reference its target names, the target and whether it is
// met. Targets stated for 10^6 or 10^7 events are judged at those sizes
// only. Writes the table and every raw input as JSON to --out. Exit status
// 0, or 1 when an input cannot be read; a missed target is not an error, a
// disagreement between the sides is reported by `micro` itself.
#ifndef TWINLINE_BENCH_REPORT_H_
#define TWINLINE_BENCH_REPORT_H_

namespace twinline::bench {

int ReportMain(int argc, char** argv);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_REPORT_H_
