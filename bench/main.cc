// twinline-bench: the benchmark driver behind bench/run (bench/README.md).
//
//   twinline-bench micro --db DIR --work DIR [...]   in-process figures (Google Benchmark)
//   twinline-bench measure [--json FILE] [--poll-ms N] -- CMD ARGS...
//                                                    a whole process: time and peak memory
//   twinline-bench report --dir DIR [--out FILE]     the table and the results JSON
//   twinline-bench replay --db DIR [--as-of EDTF] [--no-index]
//                                                    every row set at once (figure 5)
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/full_replay.h"
#include "bench/micro.h"
#include "bench/process_stats.h"
#include "bench/report.h"

namespace twinline::bench {
namespace {

constexpr const char* kUsage =
    "usage: twinline-bench micro --db DIR --work DIR [--samples N] [--full-samples N] "
    "[--diff-samples N]\n"
    "                            [--seed S] [--batch N] [--repetitions N] [--benchmark_* flags]\n"
    "       twinline-bench measure [--json FILE] [--poll-ms N] -- CMD ARGS...\n"
    "       twinline-bench report --dir DIR [--out FILE]\n"
    "       twinline-bench replay --db DIR [--as-of EDTF] [--no-index]\n";

// Runs CMD, then writes its ProcessStats as JSON to --json (or stderr).
// Exits with CMD's status.
int MeasureMain(int argc, char** argv) {
  std::string json_path;
  int poll_ms = 5;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json_path = argv[++i];
    } else if (std::strcmp(argv[i], "--poll-ms") == 0 && i + 1 < argc) {
      poll_ms = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fputs(kUsage, stderr);
      return 1;
    }
  }
  std::vector<std::string> command(argv + std::min(i + 1, argc), argv + argc);
  if (command.empty()) {
    std::fputs(kUsage, stderr);
    return 1;
  }
  ProcessStats stats;
  Status s = RunMeasured(command, poll_ms, &stats);
  if (!s.ok()) {
    std::fprintf(stderr, "twinline-bench measure: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string json = ToJson(stats);
  if (json_path.empty()) {
    std::fprintf(stderr, "%s\n", json.c_str());
  } else {
    std::ofstream out(json_path, std::ios::binary | std::ios::trunc);
    out << json << '\n';
    if (!out) {
      std::fprintf(stderr, "twinline-bench measure: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return stats.exit_code;
}

}  // namespace
}  // namespace twinline::bench

int main(int argc, char** argv) {
  using namespace twinline::bench;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 1;
  }
  const std::string verb = argv[1];
  // Each verb sees its own arguments, with the verb as argv[0].
  if (verb == "micro") return MicroMain(argc - 1, argv + 1);
  if (verb == "measure") return MeasureMain(argc - 1, argv + 1);
  if (verb == "report") return ReportMain(argc - 1, argv + 1);
  if (verb == "replay") return FullReplayMain(argc - 1, argv + 1);
  std::fputs(kUsage, stderr);
  return verb == "-h" || verb == "--help" ? 0 : 1;
}
