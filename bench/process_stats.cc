#include "bench/process_stats.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

extern char** environ;

namespace twinline::bench {
namespace {

// RssAnon and RssFile of a live process, in KiB; false once it is gone.
bool SampleStatus(pid_t pid, uint64_t* anon_kb, uint64_t* file_kb) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return false;
  bool any = false;
  for (std::string line; std::getline(in, line);) {
    auto value = [&](const char* name, uint64_t* out) {
      const size_t n = std::strlen(name);
      if (line.compare(0, n, name) != 0) return;
      *out = std::strtoull(line.c_str() + n, nullptr, 10);
      any = true;
    };
    value("RssAnon:", anon_kb);
    value("RssFile:", file_kb);
  }
  return any;
}

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

}  // namespace

Status RunMeasured(const std::vector<std::string>& argv_strings, int poll_ms, ProcessStats* out) {
  *out = ProcessStats();
  if (argv_strings.empty()) return Status::InvalidArgument("no command to run");
  std::vector<std::string> copy = argv_strings;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0) return Status::IOError("cannot start " + argv_strings[0] + ": " + std::strerror(rc));

  int status = 0;
  rusage usage{};
  const timespec period{poll_ms / 1000, static_cast<long>(poll_ms % 1000) * 1'000'000L};
  while (true) {
    uint64_t anon = 0, file = 0;
    if (SampleStatus(pid, &anon, &file)) {
      ++out->samples;
      out->peak_anon_kb = std::max(out->peak_anon_kb, anon);
      out->peak_file_kb = std::max(out->peak_file_kb, file);
    }
    const pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (done < 0)
      return Status::IOError("waiting for " + argv_strings[0] + ": " + std::strerror(errno));
    nanosleep(&period, nullptr);
  }
  out->wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out->user_s = Seconds(usage.ru_utime);
  out->sys_s = Seconds(usage.ru_stime);
  out->peak_rss_kb = static_cast<uint64_t>(usage.ru_maxrss);
  out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return Status::Ok();
}

Status RunCaptured(const std::vector<std::string>& argv_strings, std::string* out,
                   ProcessStats* stats) {
  *stats = ProcessStats();
  out->clear();
  if (argv_strings.empty()) return Status::InvalidArgument("no command to run");
  std::vector<std::string> copy = argv_strings;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IOError(std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Status::IOError("cannot start " + argv_strings[0] + ": " + std::strerror(rc));
  }
  char buf[1 << 16];
  while (true) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR)
      return Status::IOError("waiting for " + argv_strings[0] + ": " + std::strerror(errno));
  }
  stats->wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats->user_s = Seconds(usage.ru_utime);
  stats->sys_s = Seconds(usage.ru_stime);
  stats->peak_rss_kb = static_cast<uint64_t>(usage.ru_maxrss);
  stats->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return Status::Ok();
}

std::string ToJson(const ProcessStats& s) {
  nlohmann::ordered_json j{{"exit_code", s.exit_code},
                           {"wall_s", s.wall_s},
                           {"user_s", s.user_s},
                           {"sys_s", s.sys_s},
                           {"peak_rss_kb", s.peak_rss_kb},
                           {"peak_anon_kb", s.peak_anon_kb},
                           {"peak_file_kb", s.peak_file_kb},
                           {"samples", s.samples}};
  return j.dump();
}

}  // namespace twinline::bench
