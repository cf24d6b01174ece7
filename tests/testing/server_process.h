// `twinline serve` as a child process on 127.0.0.1 and an ephemeral port,
// for the suites that speak to the real server over sockets (serve_test.cc,
// tests/reliability/): start it, learn its port from its one line on
// stdout, signal it, and reap it.
#ifndef TWINLINE_TESTS_TESTING_SERVER_PROCESS_H_
#define TWINLINE_TESTS_TESTING_SERVER_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/testing/test_util.h"

extern char** environ;

namespace twinline::test {

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // Kills (SIGKILL) and reaps a server still running.
  ~ServerProcess() {
    if (pid_ > 0) Stop(SIGKILL);
  }

  // Starts `BIN --db DB serve --listen 127.0.0.1:0 ARGS...` and waits for its
  // "listening on http://127.0.0.1:PORT" line, at most `hang_guard` (a guard
  // against a hang, not a timing assertion: sanitizer builds on a loaded
  // machine start slowly). On failure returns false with what the process
  // said in *error, and the process is gone. May be called again after the
  // server exited (a restart); stderr goes to scratch/server-N.stderr.
  bool Start(const std::string& bin, const std::string& db, const std::vector<std::string>& args,
             const std::filesystem::path& scratch, std::string* error,
             std::chrono::milliseconds hang_guard = std::chrono::seconds(60)) {
    stderr_path_ = scratch / ("server-" + std::to_string(++starts_) + ".stderr");
    std::vector<std::string> argv_strings = {bin, "--db", db, "serve", "--listen", "127.0.0.1:0"};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return Fail("pipe2 failed", error);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (std::string& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    // Kept open while the server runs: it never writes to a closed pipe.
    out_fd_ = fds[0];
    if (rc != 0) {
      pid_ = -1;
      close(out_fd_);
      out_fd_ = -1;
      return Fail("cannot start " + argv_strings[0], error);
    }
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + hang_guard;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{out_fd_, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      char buf[256];
      const ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    const std::string prefix = "listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) {
      Stop(SIGKILL);
      return Fail("no 'listening on' line; stdout: '" + line + "'; stderr: " + Stderr(), error);
    }
    port_ = static_cast<uint16_t>(std::stoi(line.substr(prefix.size())));
    return true;
  }

  void Signal(int signal) {
    if (pid_ > 0) kill(pid_, signal);
  }
  // Waits for the exit; returns the exit code (128 + signal when killed by one).
  int WaitExit() {
    if (pid_ <= 0) return exit_code_;
    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    pid_ = -1;
    if (out_fd_ >= 0) close(out_fd_);
    out_fd_ = -1;
    exit_code_ = r < 0                 ? -1
                 : WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
    return exit_code_;
  }
  // Signal, then WaitExit.
  int Stop(int signal = SIGTERM) {
    Signal(signal);
    return WaitExit();
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  std::string Stderr() const { return ReadFile(stderr_path_); }

 private:
  static bool Fail(const std::string& why, std::string* error) {
    *error = why;
    return false;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  uint16_t port_ = 0;
  int exit_code_ = -1;
  int starts_ = 0;
  std::filesystem::path stderr_path_;
};

}  // namespace twinline::test

#endif  // TWINLINE_TESTS_TESTING_SERVER_PROCESS_H_
