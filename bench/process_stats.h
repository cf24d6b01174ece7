// Running a whole process and measuring it: wall and CPU time, and its
// resident memory split the way /proc reports it. For the figures that
// belong to a whole `twinline` process (import, index rebuild, the peak memory
// of a replay), `twinline-bench measure -- CMD...`.
//
// Peak RSS comes from two places:
//  * peak_rss_kb: the kernel's high-water mark of the whole resident set
//    (wait4's ru_maxrss), exact, but never below the measuring process's
//    own at the spawn (Linux carries it across exec; `twinline-bench
//    measure` is a few MB);
//  * peak_anon_kb / peak_file_kb: the greatest RssAnon (heap, stacks) and
//    RssFile (file-backed pages: the binary and, for twinline, LMDB's
//    memory map of data.mdb) seen by sampling /proc/PID/status every
//    `poll_ms`. Sampled, so a peak shorter than the period can be missed;
//    both are lower bounds. The target of figure 5 applies to the anonymous
//    part: LMDB's map shows in RssFile as pages of the page cache that the
//    kernel may drop at any time.
#ifndef TWINLINE_BENCH_PROCESS_STATS_H_
#define TWINLINE_BENCH_PROCESS_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace twinline::bench {

struct ProcessStats {
  int exit_code = -1;  // 128 + signal when killed
  double wall_s = 0, user_s = 0, sys_s = 0;
  uint64_t peak_rss_kb = 0;
  uint64_t peak_anon_kb = 0, peak_file_kb = 0;
  uint64_t samples = 0;  // /proc samples taken
};

// Runs argv (argv[0] looked up in PATH) with this process's stdin, stdout and
// stderr, and waits for it. Fails only when it cannot start or be waited for;
// a non-zero exit is reported in exit_code.
Status RunMeasured(const std::vector<std::string>& argv, int poll_ms, ProcessStats* out);

// Runs argv with its stdout read into `out` (stdin and stderr this
// process's), and waits for it: wall time from the start to the exit, CPU
// time and peak_rss_kb from the kernel (no /proc sampling, so nothing runs
// beside it but the read of its output). The kernel's high-water mark of a
// spawned process starts at this process's own (it is carried across exec):
// a large caller makes it meaningless. A non-zero exit is reported in
// exit_code.
Status RunCaptured(const std::vector<std::string>& argv, std::string* out, ProcessStats* stats);

// {"exit_code":..,"wall_s":..,...}
std::string ToJson(const ProcessStats& stats);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_PROCESS_STATS_H_
