// Crash safety: the real `twinline import` and `twinline serve` are killed
// with SIGKILL at random moments while they append, again and again; after
// every kill the log must verify, hold every acknowledged batch whole, hold
// each unacknowledged batch whole or not at all, hold nothing twice, and
// never change what an earlier check saw (docs/RELIABILITY.md).
//
// What "acknowledged" means: for `import`, the process exited 0 having
// printed its summary; for `serve`, a complete 2xx answer to the POST reached
// the client. Each test prints its seed; TWINLINE_RELIABILITY_SEED replays
// one, TWINLINE_RELIABILITY_ROUNDS sets the number of kills
// (tests/reliability/long_run.sh).
//
// Kill moments are drawn at random over the measured length of the work, so
// they land in start-up, decoding, the write transaction, the commit, the
// index build in it, or after the answer; no assertion depends on
// where they land.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/reliability/harness.h"

namespace twinline::reliability {
namespace {

// A tag's fate, as decided by the first check after the writer was killed
// or answered; every later check must agree.
enum class Fate { kPresent, kAbsent };

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::printf("[ seed     ] TWINLINE_RELIABILITY_SEED=%llu\n",
                static_cast<unsigned long long>(Seed()));
    rng_.seed(Seed() ^ std::hash<std::string>{}(
                           ::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }

  // A fresh database holding only the base city, under the temp dir.
  std::string NewDb(const std::string& name) {
    const std::string db = temp_ / name;
    test::RunResult r = Twl(db, {"init"}, temp_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = Twl(db, {"import", "-"}, temp_.path(), BaseNdjson());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return db;
  }

  // `twinline verify` passes.
  void ExpectVerifies(const std::string& db, const std::string& when) {
    test::RunResult r = Twl(db, {"verify"}, temp_.path());
    EXPECT_EQ(r.exit_code, 0) << when << ": verify failed: " << r.out << r.err;
    EXPECT_EQ(r.out.rfind("ok:", 0), 0u) << when << ": " << r.out;
  }

  // Checks `events` against everything written so far: a consistent prefix
  // (CheckPrefix), only batches this test wrote, every acknowledged one, and
  // the same fate for every batch as at its first check. Decides the fate
  // of the batches in `undecided`.
  void CheckLog(const std::vector<LoggedEvent>& events, const std::vector<std::string>& undecided,
                const std::string& when) {
    LogView view;
    const std::string error = CheckPrefix(events, &view);
    ASSERT_EQ(error, "") << when;
    for (const auto& [tag, batch] : view.batches) {
      ASSERT_TRUE(written_.count(tag) > 0) << when << ": batch " << tag << " was never written";
    }
    for (const std::string& tag : acknowledged_) {
      ASSERT_TRUE(view.Has(tag)) << when << ": acknowledged batch " << tag << " is missing";
    }
    for (const std::string& tag : undecided)
      fate_[tag] = view.Has(tag) ? Fate::kPresent : Fate::kAbsent;
    for (const auto& [tag, fate] : fate_) {
      ASSERT_EQ(view.Has(tag), fate == Fate::kPresent)
          << when << ": batch " << tag
          << (fate == Fate::kPresent ? " vanished" : " appeared later");
    }
  }

  size_t Draw(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng_); }

  test::TempDir temp_{"twinline-crash-test"};
  std::mt19937_64 rng_;
  std::set<std::string> written_;       // every tag handed to a writer
  std::set<std::string> acknowledged_;  // tags whose writer said they landed
  std::map<std::string, Fate> fate_;
};

// ---------------------------------------------------------------------------
// import

// Sizes of the batches: half small, half large enough that the import's
// write transaction takes a while and builds the temporal index in it.
constexpr size_t kSmallBatch = 40, kLargeBatch = 1500;
// A fresh database after this many kills, so a long run's checks stay cheap.
constexpr size_t kKillsPerDatabase = 25;

// Replay must answer the same from the temporal index as from the log: an
// import builds the index in its own transaction, so a kill leaves the old
// index (and a tail) or the new one, never half of one.
void ExpectIndexAgreesWithReplay(const std::string& db, const fs::path& scratch) {
  for (const char* as_of : {"2001", "2024"}) {
    test::RunResult with = Twl(db, {"replay", "--as-of", as_of, "--format", "json"}, scratch);
    test::RunResult without =
        Twl(db, {"replay", "--as-of", as_of, "--format", "json", "--no-index"}, scratch);
    ASSERT_EQ(with.exit_code, 0) << with.err;
    ASSERT_EQ(without.exit_code, 0) << without.err;
    EXPECT_EQ(with.out, without.out) << db << ": replay as of " << as_of;
  }
}

TEST_F(CrashTest, KilledImportLeavesEachFileWholeOrAbsent) {
  const size_t rounds = Rounds(12);
  // Every fifth import (the first included) runs to its end: it is timed,
  // to spread the kill moments over the whole of an import as the log grows
  // (imports get slower, and each builds the temporal index),
  // and it is an acknowledged batch every later check must find.
  constexpr size_t kTimedEvery = 5;
  std::string db = NewDb("db-0");
  // The model: start-up (an import of one event, timed once) plus a time
  // per event (from the last timed import, of kLargeBatch events).
  double startup_micros = 0, micros_per_event = 0;
  {
    written_.insert("start");
    Child c;
    ASSERT_TRUE(c.Start({Bin(), "--db", db, "import", "-"}, temp_.path(), "import",
                        BatchNdjson("start", 1)));
    ASSERT_EQ(c.Wait(), 0) << c.Err();
    acknowledged_.insert("start");
    startup_micros = static_cast<double>(c.elapsed().count());
  }

  size_t kills = 0, killed_absent = 0, killed_present = 0, finished = 0;
  for (size_t round = 0; round < rounds; ++round) {
    if (round > 0 && round % kKillsPerDatabase == 0) {
      ExpectVerifies(db, "before moving on from " + db);
      ASSERT_NO_FATAL_FAILURE(ExpectIndexAgreesWithReplay(db, temp_.path()));
      db = NewDb("db-" + std::to_string(round / kKillsPerDatabase));
      written_.clear();
      acknowledged_.clear();
      fate_.clear();
    }
    const std::string tag = "i" + std::to_string(round);
    const bool timed = round % kTimedEvery == 0;
    const size_t k = timed             ? kLargeBatch
                     : Draw(0, 1) == 0 ? Draw(1, kSmallBatch)
                                       : Draw(kSmallBatch, kLargeBatch);
    const std::string file = temp_ / "batch.ndjson";
    test::WriteFile(file, BatchNdjson(tag, k));
    written_.insert(tag);
    const double estimate = startup_micros + micros_per_event * static_cast<double>(k);
    const auto delay = std::chrono::microseconds(
        timed ? 0 : static_cast<int64_t>(Draw(0, 1000) * 1.2 * estimate / 1000));
    const std::string when = "round " + std::to_string(round) + " (batch " + tag + " of " +
                             std::to_string(k) + " events, " +
                             (timed ? std::string("not killed")
                                    : "kill after " + std::to_string(delay.count()) + " us") +
                             ", seed " + std::to_string(Seed()) + ")";

    Child import;
    ASSERT_TRUE(import.Start({Bin(), "--db", db, "import", file}, temp_.path(), "import"));
    if (!timed) {
      std::this_thread::sleep_for(delay);
      import.Kill(SIGKILL);
    }
    const int code = import.Wait();
    if (code == 0) {
      ASSERT_NE(import.Out().find("imported"), std::string::npos) << when << ": " << import.Out();
      acknowledged_.insert(tag);
      ++finished;
      if (timed) {
        micros_per_event =
            std::max(0.0, static_cast<double>(import.elapsed().count()) - startup_micros) /
            static_cast<double>(k);
      }
    } else {
      ASSERT_FALSE(timed) << when << ": import failed: " << import.Err();
      ASSERT_EQ(code, 128 + SIGKILL) << when << ": import failed on its own: " << import.Err();
    }

    ExpectVerifies(db, when);
    std::vector<LoggedEvent> events;
    ASSERT_EQ(ReadLogCli(db, temp_.path(), &events), "") << when;
    ASSERT_NO_FATAL_FAILURE(CheckLog(events, {tag}, when));
    if (code != 0) {
      ++kills;
      ++(fate_[tag] == Fate::kPresent ? killed_present : killed_absent);
    }
  }
  ASSERT_NO_FATAL_FAILURE(ExpectIndexAgreesWithReplay(db, temp_.path()));
  std::printf(
      "[ figures  ] import: %zu kills: %zu before the commit (batch absent), %zu after it "
      "(batch whole); %zu imports ran to the end\n",
      kills, killed_absent, killed_present, finished);
  RecordProperty("kills", static_cast<int>(kills));
}

// ---------------------------------------------------------------------------
// serve

// Clients that POST tagged batches until the server dies under them.
class Clients {
 public:
  struct Sent {
    std::string tag;
    bool acknowledged = false;
  };

  Clients(uint16_t port, size_t clients, const std::string& prefix, uint64_t seed) {
    for (size_t c = 0; c < clients; ++c) {
      threads_.emplace_back([this, port, c, prefix, seed] {
        std::mt19937_64 rng(seed + c);
        for (size_t n = 0; !stop_.load(); ++n) {
          const std::string tag = prefix + "-c" + std::to_string(c) + "-n" + std::to_string(n);
          const size_t k = std::uniform_int_distribution<size_t>(1, 20)(rng);
          HttpAnswer a = PostBatch(port, BatchNdjson(tag, k));
          std::lock_guard<std::mutex> lock(mu_);
          sent_.push_back({tag, a.complete && a.status / 100 == 2});
          if (a.complete && a.status / 100 != 2) {
            failures_.push_back(tag + ": " + std::to_string(a.status) + " " + a.body);
          }
          if (!a.complete) return;  // the server is gone
        }
      });
    }
  }
  ~Clients() { Join(); }

  void Join() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Valid after Join().
  const std::vector<Sent>& sent() const { return sent_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Sent> sent_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

TEST_F(CrashTest, KilledServerKeepsEveryAcknowledgedBatch) {
  const size_t kills = Rounds(8);
  constexpr size_t kClients = 3;
  std::string db = NewDb("db-0");
  Server server;
  std::string error;
  ASSERT_TRUE(StartServer(&server, db, temp_.path(), &error)) << error;

  size_t acknowledged = 0, unanswered_present = 0, unanswered_absent = 0;
  for (size_t round = 0; round < kills; ++round) {
    if (round > 0 && round % kKillsPerDatabase == 0) {
      server.Signal(SIGTERM);
      ASSERT_EQ(server.WaitExit(), 0) << server.Stderr();
      db = NewDb("db-" + std::to_string(round / kKillsPerDatabase));
      written_.clear();
      acknowledged_.clear();
      fate_.clear();
      ASSERT_TRUE(StartServer(&server, db, temp_.path(), &error)) << error;
    }
    const auto delay = std::chrono::milliseconds(Draw(0, 400));
    const std::string when = "round " + std::to_string(round) + " (kill after " +
                             std::to_string(delay.count()) + " ms, seed " + std::to_string(Seed()) +
                             ")";
    std::vector<std::string> undecided;
    {
      Clients clients(server.port(), kClients, "s" + std::to_string(round), rng_());
      std::this_thread::sleep_for(delay);
      server.Signal(SIGKILL);
      ASSERT_EQ(server.WaitExit(), 128 + SIGKILL) << when << ": " << server.Stderr();
      clients.Join();
      ASSERT_TRUE(clients.failures().empty()) << when << ": " << clients.failures().front();
      for (const Clients::Sent& s : clients.sent()) {
        written_.insert(s.tag);
        if (s.acknowledged) {
          acknowledged_.insert(s.tag);
          ++acknowledged;
        } else {
          undecided.push_back(s.tag);
        }
      }
    }

    // Checked on the dead server's files, by the CLI...
    ExpectVerifies(db, when);
    std::vector<LoggedEvent> events;
    ASSERT_EQ(ReadLogCli(db, temp_.path(), &events), "") << when;
    ASSERT_NO_FATAL_FAILURE(CheckLog(events, undecided, when));
    for (const std::string& tag : undecided)
      ++(fate_[tag] == Fate::kPresent ? unanswered_present : unanswered_absent);

    // ... and by a restarted server, which must serve exactly that log.
    ASSERT_TRUE(StartServer(&server, db, temp_.path(), &error)) << when << ": restart failed: " << error;
    std::vector<LoggedEvent> served;
    ASSERT_EQ(ReadLogHttp(server.port(), &served), "") << when;
    ASSERT_EQ(served.size(), events.size()) << when;
    for (size_t i = 0; i < served.size(); ++i) ASSERT_EQ(served[i].id, events[i].id) << when;
  }
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitExit(), 0) << server.Stderr();
  ExpectVerifies(db, "at the end");
  std::printf(
      "[ figures  ] serve: %zu kills; %zu batches acknowledged (all present); unanswered when "
      "killed: %zu whole, %zu absent\n",
      kills, acknowledged, unanswered_present, unanswered_absent);
  RecordProperty("kills", static_cast<int>(kills));
}

// A CLI writer killed while a server runs on the same database dies holding
// LMDB's writer lock and a reader slot: the server must take the lock over,
// keep appending and reading, and the killed batch must be whole or absent.
TEST_F(CrashTest, KilledImportDoesNotWedgeARunningServer) {
  const size_t kills = Rounds(8);
  std::string db = NewDb("db");
  Server server;
  std::string error;
  ASSERT_TRUE(StartServer(&server, db, temp_.path(), &error)) << error;
  size_t finished = 0;
  for (size_t round = 0; round < kills; ++round) {
    const std::string tag = "w" + std::to_string(round);
    const size_t k = Draw(1, 600);
    const std::string file = temp_ / "batch.ndjson";
    test::WriteFile(file, BatchNdjson(tag, k));
    written_.insert(tag);
    const auto delay = std::chrono::microseconds(Draw(0, 60000));
    const std::string when = "round " + std::to_string(round) + " (batch " + tag + " of " +
                             std::to_string(k) + " events, kill after " +
                             std::to_string(delay.count()) + " us, seed " + std::to_string(Seed()) +
                             ")";
    Child import;
    ASSERT_TRUE(import.Start({Bin(), "--db", db, "import", file}, temp_.path(), "import"));
    std::this_thread::sleep_for(delay);
    import.Kill(SIGKILL);
    const int code = import.Wait();
    if (code == 0) {
      acknowledged_.insert(tag);
      ++finished;
    } else {
      ASSERT_EQ(code, 128 + SIGKILL) << when << ": import failed on its own: " << import.Err();
    }

    // The server still writes (an answer at all means it got the lock)...
    const std::string next = "p" + std::to_string(round);
    written_.insert(next);
    HttpAnswer a = PostBatch(server.port(), BatchNdjson(next, 3));
    ASSERT_TRUE(a.complete) << when << ": POST after the kill: " << a.error;
    ASSERT_EQ(a.status, 200) << when << ": " << a.body;
    acknowledged_.insert(next);
    // ... and reads a consistent log.
    std::vector<LoggedEvent> events;
    ASSERT_EQ(ReadLogHttp(server.port(), &events), "") << when;
    ASSERT_NO_FATAL_FAILURE(CheckLog(events, {tag}, when));
  }
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitExit(), 0) << server.Stderr();
  ExpectVerifies(db, "at the end");
  std::printf("[ figures  ] import beside serve: %zu kills, %zu imports finished first\n",
              kills - finished, finished);
  RecordProperty("kills", static_cast<int>(kills - finished));
}

}  // namespace
}  // namespace twinline::reliability
