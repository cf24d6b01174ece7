// twinline-bench replay: a replay of every row set at once, for figure 5
// (bench/README.md). `twinline replay` computes only the row sets its
// projection shows (counts, trade or the network), so no CLI command holds
// the whole projection state; this one does, through the public ReplayInto,
// handing the rows to a sink that counts them and keeps none. Its peak
// memory, measured by `twinline-bench measure`, is the projection state's.
#ifndef TWINLINE_BENCH_FULL_REPLAY_H_
#define TWINLINE_BENCH_FULL_REPLAY_H_

namespace twinline::bench {

// twinline-bench replay --db DIR [--as-of EDTF] [--no-index]
// Prints the rows of each set and the state hash; exits 1 on an error.
int FullReplayMain(int argc, char** argv);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_FULL_REPLAY_H_
