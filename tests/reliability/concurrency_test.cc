// Concurrency: writer processes (`twinline import`, `twinline append`, with
// and without --expect-seq) and HTTP clients of one `twinline serve` (POST
// /v1/events, with and without expect_seq) append tagged batches to one
// database at once, while readers (`twinline export`, `verify`, `stats`,
// GET /v1/events, the /v1/subscribe stream) read it over and over. Every
// read must be a consistent prefix of one history: seqs 1..N, every batch
// whole, a seq always naming the same event and a length always the same
// chain head; a write refused for a conflict (exit 4, 409) leaves nothing;
// at the end the log holds exactly the acknowledged batches, each once.
//
// The amount of work is fixed (so many batches per writer), not the time;
// readers run until the writers are done. Optimistic writers send every
// fourth attempt with a seq they know is stale, so conflicts happen whatever
// the scheduling; the others conflict when they happen to.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/reliability/harness.h"

namespace twinline::reliability {
namespace {

// Batches per writer: the CI figure (TWINLINE_RELIABILITY_BATCHES sets it).
constexpr size_t kBatchesPerWriter = 8;
// An optimistic writer gives up (and fails the test) after this many
// conflicts on one batch: a hang guard, far above what contention causes.
constexpr size_t kMaxTries = 200;

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::printf("[ seed     ] TWINLINE_RELIABILITY_SEED=%llu\n",
                static_cast<unsigned long long>(Seed()));
    db_ = temp_ / "db";
    test::RunResult r = Twl(db_, {"init"}, temp_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Twl(db_, {"import", "-"}, temp_.path(), BaseNdjson());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Each thread runs its processes in its own scratch directory.
  fs::path Scratch(const std::string& name) {
    const fs::path dir = temp_.path() / name;
    fs::create_directories(dir);
    return dir;
  }

  // Thread-safe records of what the writers were told.
  void Acknowledged(const std::string& tag, size_t k) {
    std::lock_guard<std::mutex> lock(mu_);
    acknowledged_[tag] = k;
  }
  void Refused(const std::string& tag) {
    std::lock_guard<std::mutex> lock(mu_);
    refused_.insert(tag);
  }
  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.push_back(what);
  }

  // A read of the whole log: consistent by itself and with every other read.
  void CheckRead(const std::vector<LoggedEvent>& events, const std::string& reader) {
    LogView view;
    std::string error = CheckPrefix(events, &view);
    if (error.empty()) error = witness_.Agree(events);
    if (!error.empty()) Fail(reader + ": " + error);
    // A refused batch is never seen, by anyone, at any time.
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& tag : refused_) {
      if (view.Has(tag)) failures_.push_back(reader + ": refused batch " + tag + " is in the log");
    }
  }

  test::TempDir temp_{"twinline-concurrency-test"};
  std::string db_;
  HistoryWitness witness_;
  std::mutex mu_;
  std::map<std::string, size_t> acknowledged_;  // tag -> k
  std::set<std::string> refused_;
  std::vector<std::string> failures_;
};

TEST_F(ConcurrencyTest, WritersAndReadersSeeOneHistoryOfWholeBatches) {
  const uint64_t seed = Seed();
  const size_t batches = EnvU64("TWINLINE_RELIABILITY_BATCHES", kBatchesPerWriter);
  Server server;
  std::string error;
  ASSERT_TRUE(StartServer(&server, db_, temp_.path(), &error)) << error;
  const uint16_t port = server.port();
  std::atomic<size_t> conflicts{0}, reads{0};

  std::vector<std::thread> writers;
  // `twinline import FILE`, no expectation: always lands.
  writers.emplace_back([&] {
    const fs::path scratch = Scratch("import");
    std::mt19937_64 rng(seed + 1);
    for (size_t n = 0; n < batches; ++n) {
      const std::string tag = "ci" + std::to_string(n);
      const size_t k = std::uniform_int_distribution<size_t>(2, 30)(rng);
      test::WriteFile(scratch / "batch.ndjson", BatchNdjson(tag, k));
      test::RunResult r = Twl(db_, {"import", (scratch / "batch.ndjson").string()}, scratch);
      if (r.exit_code != 0) {
        return Fail("import " + tag + " exited " + std::to_string(r.exit_code) + ": " + r.err);
      }
      Acknowledged(tag, k);
    }
  });
  // `twinline append --expect-seq N` and `import --expect-seq N`: read the
  // log's length, append conditionally, retry on a conflict (exit 4) as a
  // new batch; every fourth attempt states a stale N on purpose.
  for (const bool import : {false, true}) {
    writers.emplace_back([&, import] {
      const fs::path scratch = Scratch(import ? "import-expect" : "append-expect");
      std::mt19937_64 rng(seed + (import ? 2 : 3));
      size_t attempt = 0;
      for (size_t n = 0; n < batches; ++n) {
        for (size_t t = 0;; ++t, ++attempt) {
          if (t == kMaxTries) return Fail("optimistic writer starved");
          const std::string tag =
              std::string(import ? "ie" : "ae") + std::to_string(n) + "t" + std::to_string(t);
          const size_t k = import ? std::uniform_int_distribution<size_t>(2, 10)(rng) : 1;
          test::RunResult stats = Twl(db_, {"stats", "--format", "json"}, scratch);
          if (stats.exit_code != 0) return Fail("stats: " + stats.err);
          uint64_t seq = Json::parse(stats.out)["events"].get<uint64_t>();
          const bool stale = attempt % 4 == 3;
          if (stale) --seq;
          test::WriteFile(scratch / "batch.ndjson", BatchNdjson(tag, k));
          test::RunResult r = import ? Twl(db_,
                                           {"import", "--expect-seq", std::to_string(seq),
                                            (scratch / "batch.ndjson").string()},
                                           scratch)
                                     : Twl(db_, {"append", "--expect-seq", std::to_string(seq)},
                                           scratch, BatchNdjson(tag, k));
          if (r.exit_code == 0 && !stale) {
            Acknowledged(tag, k);
            break;
          }
          if (r.exit_code != 4) {
            return Fail(tag + (stale ? " (stale seq) " : " ") + "exited " +
                        std::to_string(r.exit_code) + " where a conflict (4) was due: " + r.out +
                        r.err);
          }
          Refused(tag);
          ++conflicts;
        }
      }
    });
  }
  // POST /v1/events, with and without expect_seq (409 on a conflict).
  for (const bool expect : {false, true}) {
    writers.emplace_back([&, expect] {
      std::mt19937_64 rng(seed + (expect ? 4 : 5));
      size_t attempt = 0;
      for (size_t n = 0; n < batches; ++n) {
        for (size_t t = 0;; ++t, ++attempt) {
          if (t == kMaxTries) return Fail("optimistic HTTP writer starved");
          const std::string tag =
              std::string(expect ? "he" : "hp") + std::to_string(n) + "t" + std::to_string(t);
          const size_t k = std::uniform_int_distribution<size_t>(1, 30)(rng);
          std::optional<uint64_t> seq;
          bool stale = false;
          if (expect) {
            HttpAnswer health = Http(port, "GET", "/v1/health");
            if (!health.complete || health.status != 200) {
              return Fail("health: " + health.error + health.body);
            }
            seq = health.json()["last_seq"].get<uint64_t>();
            stale = attempt % 4 == 3;
            if (stale) --*seq;
          }
          HttpAnswer a = PostBatch(port, BatchNdjson(tag, k), seq);
          if (!a.complete) return Fail("POST " + tag + ": " + a.error);
          if (a.status == 200 && !stale) {
            Acknowledged(tag, k);
            break;
          }
          if (!expect || a.status != 409) {
            return Fail("POST " + tag + (stale ? " (stale seq) " : " ") + "answered " +
                        std::to_string(a.status) + ": " + a.body);
          }
          Refused(tag);
          ++conflicts;
        }
      }
    });
  }

  std::atomic<bool> writing{true};
  std::vector<std::thread> readers;
  // `twinline export`, `GET /v1/events` (paged): the whole log.
  readers.emplace_back([&] {
    const fs::path scratch = Scratch("export");
    while (writing) {
      std::vector<LoggedEvent> events;
      const std::string e = ReadLogCli(db_, scratch, &events);
      if (!e.empty()) return Fail(e);
      CheckRead(events, "export");
      ++reads;
    }
  });
  readers.emplace_back([&] {
    while (writing) {
      std::vector<LoggedEvent> events;
      const std::string e = ReadLogHttp(port, &events);
      if (!e.empty()) return Fail(e);
      CheckRead(events, "GET /v1/events");
      ++reads;
    }
  });
  // `twinline verify` on a log being written, and `stats`: a length always
  // comes with the same chain head.
  std::mutex heads_mu;
  std::map<uint64_t, std::string> heads;
  readers.emplace_back([&] {
    const fs::path scratch = Scratch("verify");
    for (bool verify = true; writing; verify = !verify) {
      if (verify) {
        test::RunResult r = Twl(db_, {"verify"}, scratch);
        if (r.exit_code != 0) return Fail("verify during the writes: " + r.out + r.err);
      } else {
        test::RunResult r = Twl(db_, {"stats", "--format", "json"}, scratch);
        if (r.exit_code != 0) return Fail("stats: " + r.err);
        const Json j = Json::parse(r.out);
        std::lock_guard<std::mutex> lock(heads_mu);
        auto [it, fresh] = heads.emplace(j["events"].get<uint64_t>(), j["head"].get<std::string>());
        if (!fresh && it->second != j["head"].get<std::string>()) {
          return Fail("seq " + std::to_string(it->first) + " had chain head " + it->second +
                      " and now " + j["head"].get<std::string>());
        }
      }
      ++reads;
    }
  });
  // The live stream from the start: every event once, in seq order.
  std::vector<LoggedEvent> streamed;
  std::atomic<uint64_t> final_seq{0};
  readers.emplace_back([&] {
    std::string err;
    const int fd = ConnectLoopback(port, 60s, &err);
    if (fd < 0) return Fail("subscribe: " + err);
    if (!SendAll(fd, "GET /v1/subscribe?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &err)) {
      close(fd);
      return Fail("subscribe: " + err);
    }
    std::string buffer;
    char buf[65536];
    const auto hang_guard = std::chrono::steady_clock::now() + 300s;
    for (;;) {
      if (final_seq != 0 && !streamed.empty() && streamed.back().seq >= final_seq) break;
      pollfd p{fd, POLLIN, 0};
      const int ready = poll(&p, 1, 50);
      if (ready <= 0) {
        if (std::chrono::steady_clock::now() < hang_guard) continue;
        Fail("the event stream stalled after seq " +
             std::to_string(streamed.empty() ? 0 : streamed.back().seq));
        break;
      }
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        Fail("the event stream ended after seq " +
             std::to_string(streamed.empty() ? 0 : streamed.back().seq));
        break;
      }
      buffer.append(buf, static_cast<size_t>(n));
      for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
        const std::string block = buffer.substr(0, end);
        const size_t data = block.find("\ndata: ");
        if (block.find("event: event") == std::string::npos || data == std::string::npos) continue;
        const Json j = Json::parse(block.substr(data + 7, block.find('\n', data + 1) - data - 7),
                                   nullptr, false);
        if (j.is_discarded()) {
          Fail("stream: not JSON: " + block.substr(0, 200));
          continue;
        }
        const uint64_t seq = j["seq"].get<uint64_t>();
        if (seq != streamed.size() + 1) {
          Fail("stream: seq " + std::to_string(seq) + " after " + std::to_string(streamed.size()));
        }
        streamed.push_back({seq, j["id"].get<std::string>()});
      }
    }
    close(fd);
  });

  for (std::thread& t : writers) t.join();
  std::vector<LoggedEvent> final_log;
  {
    const std::string e = ReadLogCli(db_, temp_.path(), &final_log);
    EXPECT_EQ(e, "");
  }
  final_seq = final_log.empty() ? 1 : final_log.size();
  writing = false;
  for (std::thread& t : readers) t.join();
  for (const std::string& f : failures_) ADD_FAILURE() << f;
  ASSERT_TRUE(failures_.empty());

  // The end state: exactly the acknowledged batches, each whole and once,
  // and no refused one.
  LogView view;
  ASSERT_EQ(CheckPrefix(final_log, &view), "");
  size_t expected_events = 1;  // the base city
  for (const auto& [tag, k] : acknowledged_) {
    EXPECT_TRUE(view.Has(tag)) << "acknowledged batch " << tag << " is missing";
    expected_events += k;
  }
  for (const std::string& tag : refused_)
    EXPECT_FALSE(view.Has(tag)) << "refused batch " << tag << " is in the log";
  EXPECT_EQ(view.batches.size(), acknowledged_.size());
  EXPECT_EQ(final_log.size(), expected_events);
  EXPECT_EQ(acknowledged_.size(), 5 * batches);
  // The stream saw the same history.
  ASSERT_EQ(streamed.size(), final_log.size());
  for (size_t i = 0; i < streamed.size(); ++i)
    ASSERT_EQ(streamed[i].id, final_log[i].id) << "seq " << i + 1;
  // The deliberately stale attempts alone make conflicts certain.
  EXPECT_GE(conflicts.load(), 4u);

  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitExit(), 0) << server.Stderr();
  test::RunResult r = Twl(db_, {"verify"}, temp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::printf(
      "[ figures  ] %zu events in %zu batches from 5 writers, %zu conflicts refused, %zu whole-log "
      "reads checked, %zu events streamed\n",
      final_log.size(), acknowledged_.size(), conflicts.load(), reads.load(), streamed.size());
}

}  // namespace
}  // namespace twinline::reliability
