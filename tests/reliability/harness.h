// What the reliability suites (crash_test.cc, concurrency_test.cc) share:
// processes that can be killed at any moment, a loopback HTTP client that
// tells a complete answer from a cut-off one, batches whose events say which
// batch they belong to, and the check that a log read by any means is a
// consistent prefix of the history (docs/RELIABILITY.md).
//
// Tagged batches. Every batch these tests write has a tag (`[a-z0-9-]`,
// unique in the test) and k events: the first registers the entity
// `e-TAG`, the second (k >= 2) makes it a partner of the base city, the rest
// are `count_reported` figures about it. Each event carries the explicit id
// `TAG.I.K` (I = 0..k-1), so anyone reading the log -- a reader running
// alongside the writers, or the check after a crash -- can tell from the
// events alone which batch each belongs to and how many that batch holds,
// and every event is a distinct fact (never a duplicate or corroboration).
//
// Knobs (environment, so tests/reliability/long_run.sh can turn them up):
//   TWINLINE_RELIABILITY_SEED    the random seed (default: random; always
//                                printed, so a failure can be replayed)
//   TWINLINE_RELIABILITY_ROUNDS  kills per crash test (default: the CI figure)
//   TWINLINE_RELIABILITY_BATCHES batches per writer in the concurrency test
//   TWINLINE_RELIABILITY_BIN     the twinline binary (default: TWINLINE_BIN)
#ifndef TWINLINE_TESTS_RELIABILITY_HARNESS_H_
#define TWINLINE_TESTS_RELIABILITY_HARNESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/server_process.h"
#include "tests/testing/test_util.h"

extern char** environ;

namespace twinline::reliability {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Knobs.

inline uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

inline uint64_t Seed() {
  static const uint64_t seed = EnvU64("TWINLINE_RELIABILITY_SEED", std::random_device{}());
  return seed;
}

inline uint64_t Rounds(uint64_t ci_default) {
  return EnvU64("TWINLINE_RELIABILITY_ROUNDS", ci_default);
}

// The `twinline` binary under test: TWINLINE_RELIABILITY_BIN, else the one
// built with the tests (a long run uses a copy, so rebuilding meanwhile does
// not pull the binary from under it).
inline std::string Bin() {
  const char* v = std::getenv("TWINLINE_RELIABILITY_BIN");
  return v != nullptr && *v != '\0' ? v : TWINLINE_BIN;
}

// ---------------------------------------------------------------------------
// Tagged batches.

constexpr char kBaseCity[] = "rel-base";
constexpr char kSource[] =
    R"("sources":[{"title":"Reliability test","publisher":"twinline tests","published":"2025","language":"en"}])";

// The registration of the base city: the first event of every test log.
inline std::string BaseNdjson() {
  return std::string(R"({"kind":"entity_registered","date":"1990","entity":")") + kBaseCity +
         R"(","type":"city","country":"DE","names":[{"text":"Reliability Base","lang":"en"}],)" +
         kSource + "}\n";
}

// Batch `tag` of `k` events as NDJSON (see the top of this file).
inline std::string BatchNdjson(const std::string& tag, size_t k) {
  std::string out;
  const std::string entity = "e-" + tag;
  for (size_t i = 0; i < k; ++i) {
    const std::string id = tag + "." + std::to_string(i) + "." + std::to_string(k);
    if (i == 0) {
      out += R"({"kind":"entity_registered","date":"2001","entity":")" + entity +
             R"(","type":"city","country":"FR","names":[{"text":"Town )" + tag +
             R"(","lang":"en"}],)";
    } else if (i == 1) {
      out += R"({"kind":"partnership_established","date":"2002-05","a":")" + entity + R"(","b":")" +
             kBaseCity + R"(","partnership":"sister_city",)";
    } else {
      out += R"({"kind":"count_reported","date":"2024-06-01","entity":")" + entity +
             R"(","metric":"reliability_test","value":)" + std::to_string(i) + ",";
    }
    out += std::string(R"("id":")") + id + "\"," + kSource + "}\n";
  }
  return out;
}

// ---------------------------------------------------------------------------
// What a log holds, and whether it is a consistent prefix of the history.

struct LoggedEvent {
  uint64_t seq = 0;
  std::string id;
};

// The seq and id of each event in `ndjson` (export / log --format ndjson).
inline std::vector<LoggedEvent> ParseEvents(const std::string& ndjson, std::string* error) {
  std::vector<LoggedEvent> events;
  std::istringstream in(ndjson);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("seq") || !j.contains("id")) {
      *error = "not an event line: " + line.substr(0, 200);
      return {};
    }
    events.push_back({j["seq"].get<uint64_t>(), j["id"].get<std::string>()});
  }
  return events;
}

// A batch as a reader found it: how many events, at which seqs.
struct SeenBatch {
  size_t expected = 0;  // k, from the ids
  size_t found = 0;
  uint64_t first_seq = 0, last_seq = 0;
};

struct LogView {
  std::vector<LoggedEvent> events;
  std::map<std::string, SeenBatch> batches;  // by tag
  bool Has(const std::string& tag) const { return batches.count(tag) > 0; }
};

// Checks that `events` is a consistent prefix of a twinline history: seqs
// are exactly 1..N in order, no id appears twice, and every tagged batch is
// whole (all its k events) and contiguous (one write transaction). Returns
// "" when it is, else what is wrong; fills *view.
inline std::string CheckPrefix(std::vector<LoggedEvent> events, LogView* view) {
  view->events = std::move(events);
  view->batches.clear();
  std::set<std::string> ids;
  for (size_t i = 0; i < view->events.size(); ++i) {
    const LoggedEvent& e = view->events[i];
    if (e.seq != i + 1) {
      return "seq " + std::to_string(e.seq) + " at position " + std::to_string(i + 1) +
             ": the seqs are not 1..N";
    }
    if (!ids.insert(e.id).second) {
      return "id " + e.id + " appears twice (seq " + std::to_string(e.seq) + ")";
    }
    const size_t dot1 = e.id.find('.');
    if (dot1 == std::string::npos) continue;  // not a tagged event (the base city)
    const size_t dot2 = e.id.find('.', dot1 + 1);
    const std::string tag = e.id.substr(0, dot1);
    SeenBatch& b = view->batches[tag];
    b.expected = std::stoul(e.id.substr(dot2 + 1));
    if (b.found > 0 && e.seq != b.last_seq + 1) {
      return "batch " + tag + " is not contiguous: seq " + std::to_string(e.seq) + " after " +
             std::to_string(b.last_seq);
    }
    if (b.found == 0) b.first_seq = e.seq;
    b.last_seq = e.seq;
    ++b.found;
  }
  for (const auto& [tag, b] : view->batches) {
    if (b.found != b.expected) {
      return "batch " + tag + " is half-written: " + std::to_string(b.found) + " of " +
             std::to_string(b.expected) + " events, seqs " + std::to_string(b.first_seq) + ".." +
             std::to_string(b.last_seq);
    }
  }
  return "";
}

// What every reader has seen so far: a seq, once seen, must always name the
// same event (no reader may see a different history than another).
class HistoryWitness {
 public:
  // Returns "" or the first disagreement with an earlier read.
  std::string Agree(const std::vector<LoggedEvent>& events) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const LoggedEvent& e : events) {
      if (e.seq <= ids_.size()) {
        if (ids_[e.seq - 1] != e.id) {
          return "seq " + std::to_string(e.seq) + " was " + ids_[e.seq - 1] +
                 " to an earlier reader and is " + e.id + " now";
        }
      } else if (e.seq == ids_.size() + 1) {
        ids_.push_back(e.id);
      }
    }
    return "";
  }

 private:
  std::mutex mu_;
  std::vector<std::string> ids_;  // ids_[seq - 1]
};

// ---------------------------------------------------------------------------
// Processes.

// A child process with stdin, stdout and stderr on files in `scratch`.
// Killed (SIGKILL) and reaped on destruction if still running.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Reap(0);
    }
  }

  // `name` names the captured files (scratch/NAME.stdout ...).
  bool Start(std::vector<std::string> argv_strings, const fs::path& scratch,
             const std::string& name, const std::string& input = "") {
    in_ = scratch / (name + ".stdin");
    out_ = scratch / (name + ".stdout");
    err_ = scratch / (name + ".stderr");
    test::WriteFile(in_, input);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in_.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (std::string& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    started_ = std::chrono::steady_clock::now();
    return rc == 0;
  }

  void Kill(int signal = SIGKILL) {
    if (pid_ > 0) kill(pid_, signal);
  }

  // Waits for the exit, at most `hang_guard` (then kills it and reports 999:
  // a hang). Returns the exit code, 128 + signal when killed by one.
  int Wait(std::chrono::milliseconds hang_guard = 120s) {
    if (pid_ <= 0) return exit_code_;
    const auto deadline = std::chrono::steady_clock::now() + hang_guard;
    while (Reap(WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        Reap(0);
        exit_code_ = 999;
        return exit_code_;
      }
      std::this_thread::sleep_for(1ms);
    }
    return exit_code_;
  }

  // How long it ran (start to reaped).
  std::chrono::microseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(ended_ - started_);
  }
  pid_t pid() const { return pid_; }
  std::string Out() const { return test::ReadFile(out_); }
  std::string Err() const { return test::ReadFile(err_); }

 private:
  // waitpid; 0 while running, else the pid (and exit_code_ is set).
  pid_t Reap(int flags) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, flags);
    if (r == pid_) {
      ended_ = std::chrono::steady_clock::now();
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
    } else if (r < 0) {
      pid_ = -1;  // not our child any more: nothing to wait for
      return -1;
    }
    return r;
  }

  pid_t pid_ = -1;
  int exit_code_ = -1;
  fs::path in_, out_, err_;
  std::chrono::steady_clock::time_point started_, ended_;
};

// Runs `twinline --db DB ARGS...` to the end.
inline test::RunResult Twl(const std::string& db, std::vector<std::string> args,
                           const fs::path& scratch, const std::string& input = "") {
  args.insert(args.begin(), {Bin(), "--db", db});
  return test::RunProgram(args, input, scratch);
}

// `twinline serve` on 127.0.0.1 and an ephemeral port, two threads.
using Server = test::ServerProcess;

// Starts (or restarts) `server` on `db`; false with the reason in *error.
inline bool StartServer(Server* server, const std::string& db, const fs::path& scratch,
                        std::string* error) {
  return server->Start(Bin(), db, {"--threads", "2"}, scratch, error);
}

// ---------------------------------------------------------------------------
// HTTP: one request per connection (Connection: close), blocking sockets
// with a timeout as a hang guard.

struct HttpAnswer {
  bool complete = false;  // a whole response arrived (status line, headers, Content-Length bytes)
  int status = 0;
  std::string body;
  std::string error;  // why not complete
  Json json() const { return Json::parse(body, nullptr, /*allow_exceptions=*/false); }
};

inline int ConnectLoopback(uint16_t port, std::chrono::seconds timeout, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket failed";
    return -1;
  }
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == EINTR) {
      // The connection goes on in the background: wait for its outcome.
      pollfd p{fd, POLLOUT, 0};
      int ready;
      do {
        ready = poll(&p, 1, static_cast<int>(timeout.count() * 1000));
      } while (ready < 0 && errno == EINTR);
      socklen_t len = sizeof err;
      err = ETIMEDOUT;
      if (ready > 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err != 0) {
      *error = std::string("connect: ") + std::strerror(err);
      close(fd);
      return -1;
    }
  }
  return fd;
}

inline bool SendAll(int fd, const std::string& bytes, std::string* error) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;  // sockets with a timeout are not restarted (signal(7))
    if (n <= 0) {
      *error = std::string("send: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

inline HttpAnswer Http(uint16_t port, const std::string& method, const std::string& target,
                       const std::string& content_type = "", const std::string& body = "",
                       std::chrono::seconds timeout = 60s) {
  HttpAnswer answer;
  const int fd = ConnectLoopback(port, timeout, &answer.error);
  if (fd < 0) return answer;
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!content_type.empty()) request += "Content-Type: " + content_type + "\r\n";
  if (method == "POST" || !body.empty()) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (!SendAll(fd, request, &answer.error)) {
    close(fd);
    return answer;
  }
  std::string data;
  std::optional<size_t> header_end, length;
  char buf[65536];
  while (true) {
    if (!header_end) {
      const size_t at = data.find("\r\n\r\n");
      if (at != std::string::npos) {
        header_end = at + 4;
        std::string head = data.substr(0, at);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const size_t cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) length = std::stoul(head.substr(cl + 17));
      }
    }
    if (header_end && length && data.size() >= *header_end + *length) break;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      answer.error = std::string("recv: ") + std::strerror(errno);
      break;
    }
    if (n == 0) {
      answer.error = header_end && length ? "connection closed mid-body"
                                          : "connection closed before a whole response";
      break;
    }
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (header_end && length && data.size() >= *header_end + *length &&
      data.rfind("HTTP/1.1 ", 0) == 0) {
    answer.complete = true;
    answer.status = std::stoi(data.substr(9, 3));
    answer.body = data.substr(*header_end, *length);
    answer.error.clear();
  }
  return answer;
}

// POSTs one NDJSON batch to /v1/events (with expect_seq when given).
inline HttpAnswer PostBatch(uint16_t port, const std::string& ndjson,
                            std::optional<uint64_t> expect_seq = {}) {
  std::string target = "/v1/events";
  if (expect_seq) target += "?expect_seq=" + std::to_string(*expect_seq);
  return Http(port, "POST", target, "application/x-ndjson", ndjson);
}

// The whole log through GET /v1/events, page by page until `more` is false.
// Each page is its own snapshot; since the log only grows, the pages
// together are the log as the last page saw it. Returns "" or the failure.
inline std::string ReadLogHttp(uint16_t port, std::vector<LoggedEvent>* events) {
  events->clear();
  uint64_t after = 0;
  for (;;) {
    HttpAnswer a = Http(port, "GET", "/v1/events?limit=1000&after=" + std::to_string(after));
    if (!a.complete || a.status != 200) {
      return "GET /v1/events failed: " +
             (a.complete ? std::to_string(a.status) + " " + a.body : a.error);
    }
    Json j = a.json();
    for (const Json& e : j["events"])
      events->push_back({e["seq"].get<uint64_t>(), e["id"].get<std::string>()});
    after = j["next_after"].get<uint64_t>();
    if (!j["more"].get<bool>()) return "";
  }
}

// The whole log through `twinline export`. Returns "" or the failure.
inline std::string ReadLogCli(const std::string& db, const fs::path& scratch,
                              std::vector<LoggedEvent>* events) {
  test::RunResult r = Twl(db, {"export"}, scratch);
  if (r.exit_code != 0) return "export exited " + std::to_string(r.exit_code) + ": " + r.err;
  std::string error;
  *events = ParseEvents(r.out, &error);
  return error;
}

}  // namespace twinline::reliability

#endif  // TWINLINE_TESTS_RELIABILITY_HARNESS_H_
