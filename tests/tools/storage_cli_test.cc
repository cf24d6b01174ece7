// End-to-end checks of the storage behaviours through the real binary
// (TWINLINE_BIN): a read-only database is still read and never written, a
// newer format is refused untouched, a flipped byte is found by `verify` and
// stops `serve` (unless --no-verify), and `backup` copies consistently while
// another process appends.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <lmdb.h>
#include <openssl/sha.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <regex>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/server_process.h"
#include "tests/testing/test_util.h"

extern char** environ;

namespace twinline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Result = test::RunResult;
using test::ReadFile;
using test::WriteFile;
using namespace std::chrono_literals;

constexpr char kSource[] =
    R"("sources":[{"title":"Storage CLI test","publisher":"twinline tests","published":"2025","language":"en"}])";

std::string EntityLine(const std::string& slug, const std::string& name) {
  return R"({"kind":"entity_registered","date":"2004","entity":")" + slug +
         R"(","type":"city","country":"DE","names":[{"text":")" + name + R"(","lang":"en"}],)" +
         kSource + "}\n";
}

// A count_reported fact; a different `value` is a different fact. `title`
// replaces the source title (to find the record's bytes in data.mdb).
std::string CountEvent(int value, const std::string& title = "Storage CLI test") {
  return R"({"kind":"count_reported","date":"2025-04-17","entity":"chengdu","metric":"routes","value":)" +
         std::to_string(value) + R"(,"sources":[{"title":")" + title +
         R"(","publisher":"twinline tests","published":"2025","language":"en"}]})";
}

class StorageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_ / "db").string();
    // Other users (the read-only runs below) must reach the files.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  }

  Result Exec(std::vector<std::string> argv, const std::string& input = "") {
    Result run = test::RunProgram(std::move(argv), input, dir_);
    EXPECT_NE(run.exit_code, -1) << run.err;
    return run;
  }
  // `twinline --db DB args...`, as `prefix` (e.g. setpriv) when given.
  Result Twl(std::vector<std::string> args, const std::string& input = "", std::string db = "",
             const std::vector<std::string>& prefix = {}) {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", db.empty() ? db_ : db});
    args.insert(args.begin(), prefix.begin(), prefix.end());
    return Exec(args, input);
  }

  void Seed(std::string db = "") {
    ASSERT_EQ(Twl({"init"}, "", db).exit_code, 0);
    const std::string file = (dir_ / "seed.ndjson").string();
    WriteFile(file, EntityLine("chengdu", "Chengdu") + EntityLine("montpellier", "Montpellier"));
    Result r = Twl({"import", file}, "", db);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (int v = 1; v <= 5; ++v) ASSERT_EQ(Twl({"append"}, CountEvent(v), db).exit_code, 0);
  }

  uint64_t LastSeq(std::string db = "") {
    Result r = Twl({"stats", "--format", "json"}, "", db);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["events"].get<uint64_t>() : 0;
  }

  // Runs the binary as an unprivileged user when we are root (root ignores
  // file permissions); empty when we are not root.
  std::vector<std::string> AsUser() {
    if (geteuid() != 0) return {};
    return {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }

  // Flips one bit of every copy of `marker` in DIR/data.mdb (LMDB is
  // copy-on-write: stale pages may hold older copies of the record).
  // Records are stored packed (docs/FORMAT.md): a text's first word, 8
  // nonzero bytes, appears verbatim, so that is what is searched for.
  static size_t FlipMarker(const fs::path& dir, const std::string& marker) {
    const fs::path data = dir / "data.mdb";
    std::string bytes = ReadFile(data);
    const std::string word = marker.substr(0, 8);
    size_t flipped = 0;
    for (size_t pos = bytes.find(word); pos != std::string::npos;
         pos = bytes.find(word, pos + 1)) {
      bytes[pos + 3] ^= 0x01;
      ++flipped;
    }
    WriteFile(data, bytes);
    return flipped;
  }

  test::TempDir temp_{"twinline-storage-cli-test"};
  fs::path dir_ = temp_.path();
  std::string db_;
};

// ---------------------------------------------------------------------------
// Read-only databases.

// chmod a-w on the directory and every file in it: LMDB cannot use its lock
// file, so reads fall back to MDB_NOLOCK; writes fail with exit 5.
class ReadOnlyDatabaseTest : public StorageCliTest {
 protected:
  void SetUp() override {
    StorageCliTest::SetUp();
    if (geteuid() == 0 && !fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "root without setpriv";
    Seed();
    head_ = Head();
    out_ = (dir_ / "out").string();  // where the unprivileged user may write
    fs::create_directory(out_);
    fs::permissions(out_, fs::perms::all);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(db_, fs::perms::owner_all, fs::perm_options::add, ignored);
    for (const char* f : {"data.mdb", "lock.mdb"}) {
      fs::permissions(fs::path(db_) / f, fs::perms::owner_write, fs::perm_options::add, ignored);
    }
  }
  std::string Head() {
    Result r = Twl({"stats", "--format", "json"});
    return nlohmann::json::parse(r.out)["head"].get<std::string>();
  }
  void MakeReadOnly() {
    const auto r = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
    for (const auto& e : fs::directory_iterator(db_)) fs::permissions(e.path(), r);
    fs::permissions(db_,
                    r | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec);
  }
  void ReadVerbsWorkAndWritesFail() {
    const std::string bytes = ReadFile(fs::path(db_) / "data.mdb");
    const auto user = AsUser();
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"log", "--entity", "Chengdu"},
                                               {"replay", "--as-of", "2025", "--format", "json"},
                                               {"verify"},
                                               {"export"},
                                               {"stats"},
                                               {"backup", out_ + "/copy"}}) {
      Result r = Twl(args, "", "", user);
      EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    }
    EXPECT_THAT(Twl({"verify"}, "", "", user).out, HasSubstr(head_));
    EXPECT_EQ(Twl({"stats", "--format", "json"}, "", out_ + "/copy", user).exit_code, 0);

    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"append"}, {"init"}, {"index", "--rebuild"}}) {
      Result r = Twl(args, CountEvent(99), "", user);
      EXPECT_EQ(r.exit_code, 5) << args[0] << ": " << r.err;
      EXPECT_THAT(r.err, HasSubstr("read-only: cannot open '" + db_ + "' for writing"));
      EXPECT_THAT(r.err, HasSubstr("verbs that only read"));
    }
    EXPECT_EQ(ReadFile(fs::path(db_) / "data.mdb"), bytes);
  }
  std::string head_, out_;
};

TEST_F(ReadOnlyDatabaseTest, EverythingReadOnlyIsReadWithoutTheLockFileAndNeverWritten) {
  MakeReadOnly();
  ReadVerbsWorkAndWritesFail();
}

TEST_F(ReadOnlyDatabaseTest, ReadOnlyDirectoryWithoutALockFileIsRead) {
  fs::remove(fs::path(db_) / "lock.mdb");
  MakeReadOnly();
  ReadVerbsWorkAndWritesFail();
  EXPECT_FALSE(fs::exists(fs::path(db_) / "lock.mdb"));
}

// ---------------------------------------------------------------------------
// Format version.

TEST_F(StorageCliTest, NewerFormatIsRefusedByEveryVerbAndNeverWritten) {
  Seed();
  {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ASSERT_EQ(mdb_env_open(env, db_.c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi meta;
    ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    std::string key = "format_version", value = "7";
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn, meta, &k, &v, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }
  const std::string bytes = ReadFile(fs::path(db_) / "data.mdb");
  const std::string file = (dir_ / "more.ndjson").string();
  WriteFile(file, CountEvent(42) + "\n");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"log"},
                                             {"verify"},
                                             {"replay", "--as-of", "2025"},
                                             {"backup", (dir_ / "b").string()},
                                             {"append"},
                                             {"import", file},
                                             {"init"},
                                             {"index"},
                                             {"serve", "--listen", "127.0.0.1:0"}}) {
    Result r = Twl(args, CountEvent(42));
    EXPECT_EQ(r.exit_code, 5) << args[0] << ": " << r.err;
    EXPECT_THAT(r.err,
                HasSubstr("was written by a newer twinline (format 7, this build reads up to 2)"))
        << args[0];
  }
  EXPECT_EQ(ReadFile(fs::path(db_) / "data.mdb"), bytes);
  EXPECT_FALSE(fs::exists(dir_ / "b"));
}

// ---------------------------------------------------------------------------
// Corruption: verify and serve.

// `twinline upgrade OLD NEW`: a database of on-disk format 1 (records stored
// unpacked, in their canonical form, chained by SHA-256), built here with
// LMDB's C API from the bundled dataset's records and a chain re-derived
// with OpenSSL, is copied into the current format with the same records,
// the same chain head and the same answers; a database that is not of
// format 1 is refused.
TEST_F(StorageCliTest, UpgradeCopiesAFormatOneDatabaseWithTheSameChainAndAnswers) {
  ASSERT_EQ(Twl({"init"}).exit_code, 0);
  ASSERT_EQ(Twl({"import", std::string(TWINLINE_SOURCE_DIR) + "/data/seed.ndjson"}).exit_code, 0);
  const Result verified = Twl({"verify"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(verified.out, m, std::regex("ok: ([0-9]+) events.*chain head ([0-9a-f]{64})")))
      << verified.out;
  const int events = std::stoi(m[1]);
  const std::string head = m[2];
  ASSERT_GT(events, 50);

  const fs::path old_db = dir_ / "format1";
  fs::create_directories(old_db);
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 16), 0);
  ASSERT_EQ(mdb_env_set_mapsize(env, size_t{64} << 20), 0);
  ASSERT_EQ(mdb_env_open(env, old_db.c_str(), 0, 0644), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi meta, records, chain;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
  ASSERT_EQ(mdb_dbi_open(txn, "events", MDB_CREATE, &records), 0);
  ASSERT_EQ(mdb_dbi_open(txn, "chain", MDB_CREATE, &chain), 0);
  auto put = [&](MDB_dbi dbi, std::string key, std::string value) {
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  };
  put(meta, "format_version", "1");
  std::array<unsigned char, SHA256_DIGEST_LENGTH> hash{};  // before seq 1: zeros
  for (int seq = 1; seq <= events; ++seq) {
    const Result raw = Twl({"log", "--raw", std::to_string(seq)});
    ASSERT_EQ(raw.exit_code, 0) << raw.err;
    std::string key(8, '\0');
    for (int i = 0; i < 8; ++i) key[i] = static_cast<char>((static_cast<uint64_t>(seq) >> (56 - 8 * i)) & 0xff);
    std::string chained(reinterpret_cast<const char*>(hash.data()), hash.size());
    chained += raw.out;
    SHA256(reinterpret_cast<const unsigned char*>(chained.data()), chained.size(), hash.data());
    put(records, key, raw.out);
    put(chain, key, std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
  }
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);

  const std::string new_db = (dir_ / "upgraded").string();
  const Result upgraded = Exec({TWINLINE_BIN, "upgrade", old_db.string(), new_db});
  ASSERT_EQ(upgraded.exit_code, 0) << upgraded.err;
  EXPECT_THAT(Twl({"verify"}, "", new_db).out, HasSubstr("chain head " + head));
  EXPECT_EQ(Twl({"export"}, "", new_db).out, Twl({"export"}).out);
  for (const std::vector<std::string>& question :
       {std::vector<std::string>{"replay", "--as-of", "2004-07-22"},
        std::vector<std::string>{"diff", "2000", "2021-12-08"}}) {
    const Result a = Twl(question, "", new_db), b = Twl(question);
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out);
  }

  // The current format is not format 1: refused, nothing made.
  const Result refused = Exec({TWINLINE_BIN, "upgrade", db_, (dir_ / "again").string()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("format"));
  EXPECT_FALSE(fs::exists(dir_ / "again" / "data.mdb"));
}

TEST_F(StorageCliTest, FlippedByteIsNamedByVerifyAndStopsServeUnlessToldNotToVerify) {
  Seed();
  const std::string marker = "FLIP-ME-IN-THE-TAIL";
  ASSERT_EQ(Twl({"append"}, CountEvent(100, marker)).exit_code, 0);
  const uint64_t flipped_seq = LastSeq();
  ASSERT_EQ(Twl({"append"}, CountEvent(101)).exit_code, 0);
  EXPECT_EQ(Twl({"verify", "--quick"}).exit_code, 0);

  const fs::path copy = dir_ / "corrupted";
  fs::copy(db_, copy);
  ASSERT_GT(FlipMarker(copy, marker), 0u);

  const std::string seq_re = "seq " + std::to_string(flipped_seq) + "\\b";
  Result r = Twl({"verify"}, "", copy.string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("corruption: "));
  EXPECT_THAT(r.err, testing::ContainsRegex(seq_re));
  r = Twl({"verify", "--quick"}, "", copy.string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, testing::ContainsRegex(seq_re));

  // serve checks before it listens: it exits at once, naming the seq.
  r = Twl({"serve", "--listen", "127.0.0.1:0"}, "", copy.string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, testing::ContainsRegex(seq_re));
  EXPECT_THAT(r.err, HasSubstr("--no-verify"));
  EXPECT_THAT(r.out, Not(HasSubstr("listening")));

  // --no-verify: it serves anyway, and stops cleanly on SIGTERM.
  test::ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(TWINLINE_BIN, copy.string(), {"--no-verify"}, dir_, &error))
      << error;
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.Stderr();

  EXPECT_EQ(Twl({"verify"}).exit_code, 0);  // the original is untouched
}

// ---------------------------------------------------------------------------
// Backup.

TEST_F(StorageCliTest, BackupWhileAnotherProcessAppendsIsAConsistentVerifiedPrefix) {
  Seed();
  const uint64_t seeded = LastSeq();
  constexpr int kAppends = 40;
  // Another process appends one event at a time while the backup runs.
  const std::string script =
      "for i in $(seq 1000 " + std::to_string(999 + kAppends) +
      "); do "
      "echo '{\"kind\":\"count_reported\",\"date\":\"2025-04-17\",\"entity\":\"chengdu\","
      "\"metric\":\"routes\",\"value\":'$i',\"sources\":[{\"title\":\"Storage CLI test\","
      "\"publisher\":\"twinline tests\",\"published\":\"2025\",\"language\":\"en\"}]}' "
      "| \"$0\" --db \"$1\" append >/dev/null || exit 1; done";
  std::vector<std::string> argv = {"/bin/sh", "-c", script, TWINLINE_BIN, db_};
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t writer = 0;
  ASSERT_EQ(posix_spawn(&writer, raw[0], &actions, nullptr, raw.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  // Back up once the writer is under way.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (LastSeq() < seeded + 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  const std::string dest = (dir_ / "backup").string();
  Result backup = Twl({"backup", dest, "--format", "json"});
  int status = 0;
  waitpid(writer, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  const nlohmann::json j = nlohmann::json::parse(backup.out);
  const uint64_t at = j["last_seq"].get<uint64_t>();
  const uint64_t final_seq = LastSeq();
  EXPECT_EQ(final_seq, seeded + kAppends);
  EXPECT_GE(at, seeded + 5);
  EXPECT_LE(at, final_seq);

  // The copy verifies, ends at `at` and replays as the original did then.
  Result verify = Twl({"verify"}, "", dest);
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr(j["head"].get<std::string>()));
  EXPECT_EQ(LastSeq(dest), at);
  Result copy = Twl({"replay", "--as-of", "2025", "--format", "json"}, "", dest);
  Result original = Twl(
      {"replay", "--as-of", "2025", "--format", "json", "--known-at", "@" + std::to_string(at)});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  ASSERT_EQ(original.exit_code, 0) << original.err;
  EXPECT_EQ(copy.out, original.out);
  Result copy_log = Twl({"log", "--format", "ndjson"}, "", dest);
  Result original_log = Twl({"log", "--format", "ndjson", "--seq", ".." + std::to_string(at)});
  ASSERT_EQ(original_log.exit_code, 0) << original_log.err;
  EXPECT_EQ(copy_log.out, original_log.out);

  // Never over a non-empty directory; no temporary directory left behind.
  Result again = Twl({"backup", dest});
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_THAT(again.err, HasSubstr("not an empty directory"));
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".tmp-")));
  }
}

TEST_F(StorageCliTest, CompactBackupVerifiesFully) {
  Seed();
  const std::string dest = (dir_ / "compact").string();
  Result r = Twl({"backup", dest, "--compact", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(compacted)"));
  EXPECT_THAT(r.out, HasSubstr("seq 1.." + std::to_string(LastSeq())));
  EXPECT_EQ(Twl({"verify"}, "", dest).exit_code, 0);
}

}  // namespace
}  // namespace twinline
