// `twinline-bench report`: the one table of bench/run, and its JSON.
//
//   twinline-bench report --dir SCRATCH [--out FILE.json]
//
// Reads what bench/run left in SCRATCH — meta.json (size, world, machine,
// command), micro.json (Google Benchmark's JSON output of `twinline-bench
// micro`), import.json / index_rebuild.json / replay_full.json /
// replay_asof.json (`twinline-bench measure`), serve.txt (the output of
// bench/serve_load.sh) — any of them but meta.json may be missing — and
// prints one row per figure: the twinline value, the reference measured in
// the same run, their ratio, the target and whether it is met. Writes the
// table and every raw input as JSON to --out. Exit status 0, or 1 when an
// input cannot be read; a missed target is not an error, a disagreement
// between twinline and SQLite is reported by `micro` itself.
#ifndef TWINLINE_BENCH_REPORT_H_
#define TWINLINE_BENCH_REPORT_H_

namespace twinline::bench {

int ReportMain(int argc, char** argv);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_REPORT_H_
