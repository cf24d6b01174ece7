// Readers killed in the middle of a read: a process that dies inside an LMDB
// read transaction (SIGKILL, or SIGPIPE in `twinline log | head`) leaves its
// slot in the reader table taken and the snapshot it read pinned. Found by
// the reliability suite: with `twinline serve` holding the database open,
// about 510 `twinline export | head -c 10` made every read of the server and
// of the CLI fail with MDB_READERS_FULL until the server was restarted. The
// fix (core/lmdb_env.cc): every open frees the slots of dead processes, and a
// transaction that finds the table full frees them and retries.
//
// The table here has 4 slots, not 512: LMDB sizes it by whoever opens the
// database first, and this test does (with the LMDB API) before any twinline
// process, so a few killed readers fill it.
#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tests/reliability/harness.h"

namespace twinline::reliability {
namespace {

constexpr unsigned kSlots = 4;

// The pids holding slots in `env`'s reader table.
std::vector<pid_t> ReaderPids(MDB_env* env) {
  std::vector<pid_t> pids;
  mdb_reader_list(
      env,
      [](const char* line, void* ctx) -> int {
        // "    pid     thread     txnid" once, then "%10d %zx %s" per slot.
        char* end = nullptr;
        const long pid = std::strtol(line, &end, 10);
        if (end != line && pid > 0) {
          static_cast<std::vector<pid_t>*>(ctx)->push_back(static_cast<pid_t>(pid));
        }
        return 0;
      },
      &pids);
  return pids;
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

// `twinline export` writing into a pipe nobody reads: once the pipe is full
// it blocks inside its read transaction, holding a slot, until killed.
class BlockedReader {
 public:
  BlockedReader(const std::string& db, const fs::path& scratch) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> argv_strings = {Bin(), "--db", db, "export"};
    const std::string err = (scratch / "reader.stderr").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (std::string& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    pipe_ = fds[0];
  }
  ~BlockedReader() {
    Kill();
    if (pipe_ >= 0) close(pipe_);
  }

  // Waits until it is inside its read transaction (true) or has exited
  // (false: the table was full when it started). `export` writes only from
  // inside the transaction, and writes far more than the pipe holds, so
  // once anything is in the pipe it stays in there, blocked, until killed.
  // The deadline is a hang guard, not a timing assertion.
  bool WaitUntilReading() {
    const auto guard = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < guard) {
      int pending = 0;
      if (ioctl(pipe_, FIONREAD, &pending) == 0 && pending > 0) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int pipe_ = -1;
};

class ReaderSlotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = temp_ / "db";
    ASSERT_EQ(Twl(db_, {"init"}, temp_.path()).exit_code, 0);
    // Enough events that `export` writes far more than a pipe holds.
    test::RunResult r =
        Twl(db_, {"import", "-"}, temp_.path(), BaseNdjson() + BatchNdjson("bulk", 1500));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Be the first to open it, with a 4-slot table.
    fs::remove(fs::path(db_) / "lock.mdb");
    ASSERT_EQ(mdb_env_create(&env_), MDB_SUCCESS);
    ASSERT_EQ(mdb_env_set_maxreaders(env_, kSlots), MDB_SUCCESS);
    ASSERT_EQ(mdb_env_set_maxdbs(env_, 16), MDB_SUCCESS);
    ASSERT_EQ(mdb_env_open(env_, db_.c_str(), MDB_RDONLY | MDB_NOTLS, 0644), MDB_SUCCESS);
  }
  void TearDown() override {
    if (env_ != nullptr) mdb_env_close(env_);
  }

  // Starts readers until `n` of them hold slots (a reader that found the
  // table full, taken for an instant by the server's own reads, is retried).
  void HoldSlots(size_t n, std::vector<std::unique_ptr<BlockedReader>>* readers) {
    for (int attempts = 0; readers->size() < n; ++attempts) {
      ASSERT_LT(attempts, 1000) << "readers keep failing to get a slot";
      auto reader = std::make_unique<BlockedReader>(db_, temp_.path());
      ASSERT_GT(reader->pid(), 0);
      if (!reader->WaitUntilReading()) continue;
      const std::vector<pid_t> pids = ReaderPids(env_);
      ASSERT_NE(std::find(pids.begin(), pids.end(), reader->pid()), pids.end())
          << "a reader holds no slot";
      readers->push_back(std::move(reader));
    }
  }

  test::TempDir temp_{"twinline-reader-slots-test"};
  std::string db_;
  MDB_env* env_ = nullptr;
};

TEST_F(ReaderSlotsTest, OpeningTheDatabaseFreesTheSlotsOfDeadReaders) {
  std::vector<std::unique_ptr<BlockedReader>> readers;
  ASSERT_NO_FATAL_FAILURE(HoldSlots(2, &readers));
  std::vector<pid_t> dead;
  for (auto& r : readers) {
    dead.push_back(r->pid());
    r->Kill();
  }
  for (pid_t p : dead) ASSERT_FALSE(Alive(p));
  // Nobody has freed them yet.
  size_t stale = 0;
  for (pid_t p : ReaderPids(env_)) stale += !Alive(p);
  ASSERT_EQ(stale, dead.size());

  test::RunResult r = Twl(db_, {"stats"}, temp_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (pid_t p : ReaderPids(env_))
    EXPECT_TRUE(Alive(p)) << "the slot of dead pid " << p << " is still taken";
}

TEST_F(ReaderSlotsTest, ServerReadsAfterDeadReadersFilledEverySlot) {
  Server server;
  std::string error;
  ASSERT_TRUE(StartServer(&server, db_, temp_.path(), &error)) << error;
  std::vector<std::unique_ptr<BlockedReader>> readers;
  ASSERT_NO_FATAL_FAILURE(HoldSlots(kSlots, &readers));
  for (auto& r : readers) r->Kill();

  // The server opened the database before they died; only freeing slots
  // when the table is full lets it read again.
  HttpAnswer a = Http(server.port(), "GET", "/v1/events?limit=1");
  ASSERT_TRUE(a.complete) << a.error;
  EXPECT_EQ(a.status, 200) << a.body;
  a = PostBatch(server.port(), BatchNdjson("after", 2));
  ASSERT_TRUE(a.complete) << a.error;
  EXPECT_EQ(a.status, 200) << a.body;
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitExit(), 0) << server.Stderr();
  test::RunResult r = Twl(db_, {"verify"}, temp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace twinline::reliability
