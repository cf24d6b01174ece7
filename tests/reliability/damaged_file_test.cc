// Damaged data files: a data file cut short at every page boundary, and a
// bit flipped in turn in every byte of both meta pages, of every root page
// and of a sample of the other pages, must never crash twinline, never be
// reported as "not initialised", never be written to by `init`, and never
// give an answer that differs from the intact database's unless `verify`
// reports the damage (docs/RELIABILITY.md, "A damaged data file").
//
// The database is built at test time by the real binary (init + import of
// the history below), so the sweeps follow the on-disk format wherever it
// goes; only LMDB's own layout is read here, to find the meta pages and the
// root pages (lmdb.h's API, plus where MDB_meta keeps the main table's root).
//
// Two ways in. The library (in this process, fast: every position) runs
// what the verbs run: a read-only open, Verify, QuickVerify, a scan of every
// record, a replay, the statistics, an open as `init` opens, and an append.
// The real binary (slower: every page boundary and a sample of the flips)
// runs every verb, as a user would, and checks exit codes and messages.
//
// Knobs (environment; the long run in docs/RELIABILITY.md turns them up):
//   TWINLINE_DAMAGE_STRIDE  flip every Nth byte of the pages swept with a
//                           stride (CI: 29 in root pages; 61 in the rest of
//                           the meta pages, 4 x 61 in other pages)
//   TWINLINE_DAMAGE_BITS    bits flipped per byte: 1 (CI; the bit rotates
//                           with the offset and the seed) or 8 (every bit)
//   TWINLINE_DAMAGE_CLI     1: run the binary for every position, not a sample
#include <gtest/gtest.h>
#include <lmdb.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "core/sha256.h"
#include "projections/projection.h"
#include "tests/reliability/harness.h"

namespace twinline::reliability {
namespace {

using test::ReadFile;
using test::WriteFile;

constexpr char kSourceJson[] =
    R"("sources":[{"title":"Damaged file test","publisher":"twinline tests","published":"2025","language":"en"}])";

// About 300 events: entities with two names, partnerships, reports, and a
// few events with long notes, whose records LMDB keeps on overflow pages.
// Every table is at least two levels deep.
std::string History() {
  std::string out;
  for (int i = 0; i < 60; ++i) {
    out += R"({"kind":"entity_registered","date":"19)" + std::to_string(40 + i % 50) +
           R"(","entity":"town-)" + std::to_string(i) + R"(","type":"city","country":"DE",)" +
           R"("names":[{"text":"Town )" + std::to_string(i) + R"(","lang":"en"},)" +
           R"({"text":"Stadt )" + std::to_string(i) + R"(","lang":"de"}],)" + kSourceJson + "}\n";
  }
  for (int i = 0; i < 150; ++i) {
    const int a = i % 60, b = (i * 7 + 1) % 60;
    if (a == b) continue;
    out += R"({"kind":"partnership_established","date":")" + std::to_string(1950 + i % 70) +
           R"(-0)" + std::to_string(1 + i % 9) + R"(","a":"town-)" + std::to_string(a) +
           R"(","b":"town-)" + std::to_string(b) + R"(","partnership":"sister_city",)" +
           kSourceJson + "}\n";
  }
  for (int i = 0; i < 80; ++i) {
    out += R"({"kind":"count_reported","date":"2024-0)" + std::to_string(1 + i % 9) +
           R"(-01","entity":"town-)" + std::to_string(i % 60) +
           R"(","metric":"damage_test","value":)" + std::to_string(i) + "," + kSourceJson;
    if (i % 16 == 0) out += R"(,"note":")" + std::string(3000, static_cast<char>('a' + i % 26)) + "\"";
    out += "}\n";
  }
  return out;
}

uint64_t LoadU64(const std::string& bytes, size_t at) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

// Where LMDB keeps what matters in a data file: the page size, the pages in
// use, and the root pages (the free-page table's and the main table's, from
// the newest meta page; each named table's, from its record in the main
// table: MDB_db, whose root page number is its last 8 bytes).
struct Layout {
  size_t page_size = 0;
  size_t pages = 0;  // pages of the file
  std::map<std::string, uint64_t> roots;  // "(main)", "(free)", and each table

  static Layout Of(const std::string& dir, const std::string& bytes) {
    Layout layout;
    MDB_env* env = nullptr;
    EXPECT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    EXPECT_EQ(mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOLOCK, 0644), 0);
    MDB_stat stat;
    MDB_envinfo info;
    mdb_env_stat(env, &stat);
    mdb_env_info(env, &info);
    layout.page_size = stat.ms_psize;
    layout.pages = bytes.size() / layout.page_size;
    const size_t meta = (info.me_last_txnid & 1) * layout.page_size + 16;  // MDB_meta
    layout.roots["(free)"] = LoadU64(bytes, meta + 24 + 40);
    layout.roots["(main)"] = LoadU64(bytes, meta + 24 + 48 + 40);
    MDB_txn* txn = nullptr;
    EXPECT_EQ(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), 0);
    MDB_dbi main = 0;
    EXPECT_EQ(mdb_dbi_open(txn, nullptr, 0, &main), 0);
    MDB_cursor* c = nullptr;
    EXPECT_EQ(mdb_cursor_open(txn, main, &c), 0);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      if (v.mv_size != 48) continue;
      uint64_t root = 0;
      std::memcpy(&root, static_cast<const char*>(v.mv_data) + 40, sizeof root);
      layout.roots[std::string(static_cast<const char*>(k.mv_data), k.mv_size)] = root;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    for (auto it = layout.roots.begin(); it != layout.roots.end();) {
      it = it->second >= layout.pages ? layout.roots.erase(it) : std::next(it);  // empty tables
    }
    return layout;
  }
};

// What the library answers on a database, as the verbs would print it.
struct Answers {
  Status open;                // read-only, as every reading verb opens
  Status verify, quick, scan, replay, stats;
  std::string head;           // Verify's chain head
  std::string records;        // SHA-256 over every record's stored bytes, in seq order
  std::string replay_hash;    // the network on 2025-12-31, as known now
  uint64_t entities = 0;
  Status init;                // an open as `twinline init` opens
  Status append;              // an open for writing, and one append
};

std::string Hex(const Digest& d) { return ToHex(d); }

// `append`: also open for writing and append (a durable commit: slower).
Answers Ask(const std::string& dir, bool write, bool append = true) {
  Answers a;
  {
    OpenOptions options;
    options.read_only = true;
    std::unique_ptr<EventLog> log;
    a.open = EventLog::Open(dir, options, &log);
    if (a.open.ok()) {
      VerifyReport report;
      // As `twinline verify` checks: the log, then the temporal index.
      a.verify = log->Verify(&report);
      a.head = report.head;
      if (a.verify.ok()) {
        std::unique_ptr<ReadTxn> txn;
        a.verify = log->BeginRead(&txn);
        if (a.verify.ok()) a.verify = VerifyIndex(*txn);
      }
      a.quick = log->QuickVerify(kQuickVerifyTail, &report);
      std::unique_ptr<ReadTxn> txn;
      a.scan = log->BeginRead(&txn);
      if (a.scan.ok()) {
        Sha256 records;
        for (uint64_t seq = 1; a.scan.ok() && seq <= txn->LastSeq(); ++seq) {
          std::string raw;
          a.scan = txn->GetRaw(seq, &raw);
          records.Update(raw);
        }
        a.records = Hex(records.Finish());
        Query query;
        query.as_of_day = 20453;  // 2025-12-31
        Snapshot snapshot;
        a.replay = Replay(*txn, query, &snapshot);
        a.replay_hash = snapshot.state_hash;
        LogStats stats;
        a.stats = txn->Stats(&stats);
        a.entities = stats.entities;
      }
    }
  }
  if (!write) return a;
  {
    OpenOptions options;
    options.create_if_missing = true;  // as `twinline init` opens
    std::unique_ptr<EventLog> log;
    a.init = EventLog::Open(dir, options, &log);
  }
  // A file that opens but that verify finds damaged gets no append: LMDB
  // trusts the sizes in its pages when it writes (ASan saw it copy 8 MiB
  // out of a 4 KiB page whose node size had a flipped bit), so what such a
  // write does is not twinline's to promise (docs/RELIABILITY.md: verify,
  // then restore from a backup). A file refused at open, or one verify
  // passes, is appended to.
  if (append && a.open.ok() && !a.verify.ok()) append = false;
  if (append) {
    std::unique_ptr<EventLog> log;
    a.append = EventLog::Open(dir, OpenOptions(), &log);
    if (a.append.ok()) {
      auto message = std::make_unique<capnp::MallocMessageBuilder>();
      auto ev = message->initRoot<schema::Event>();
      ev.initValidTime().setEdtf("2025");
      auto source = ev.initSources(1)[0];
      source.setTitle("An append to a damaged file");
      source.setPublisher("twinline tests");
      source.setPublished("2025");
      source.setLanguage("en");
      auto reg = ev.getPayload().initEntityRegistered();
      reg.setEntity("late-town");
      reg.setType(schema::EntityType::CITY);
      reg.setCountry("FR");
      auto names = reg.initNames(1);
      names[0].setText("Late Town");
      names[0].setLang("en");
      std::vector<PendingEvent> batch;
      batch.push_back(std::move(message));
      AppendResult result;
      a.append = log->Append(batch, AppendOptions(), &result);
    }
  }
  return a;
}

// The statuses a damaged file may be refused with: corruption, or for a
// damaged version record the version's own refusal.
bool IsDamageRefusal(const Status& s) {
  if (s.code() == Status::Code::kCorruption) return true;
  // A flipped version record reads as another format ('1' -> '9').
  return s.code() == Status::Code::kVersion && s.message().find("format") != std::string::npos;
}

class DamagedFileTest : public ::testing::Test {
 protected:
  // The intact database is built once, by the first test that runs: its
  // failures fail that test and every later one (a failed SetUpTestSuite
  // would only mark them skipped, which CTest counts as no failure).
  void SetUp() override {
    if (!prepared_) {
      prepared_ = true;
      Prepare();
      ready_ = !HasFatalFailure() && !HasNonfatalFailure();
    }
    ASSERT_TRUE(ready_) << "building the intact database failed (see the first test's output)";
  }

  static void Prepare() {
    std::printf("[ seed     ] TWINLINE_RELIABILITY_SEED=%llu\n",
                static_cast<unsigned long long>(Seed()));
    temp_ = new test::TempDir("twinline-damage");
    const std::string db = *temp_ / "intact";
    ASSERT_EQ(Twl(db, {"init"}, temp_->path()).exit_code, 0);
    test::RunResult r = Twl(db, {"import", "-"}, temp_->path(), History());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    intact_ = new std::string(ReadFile(fs::path(db) / "data.mdb"));
    layout_ = new Layout(Layout::Of(db, *intact_));
    answers_ = new Answers(Ask(db, /*write=*/false));
    ASSERT_TRUE(answers_->verify.ok()) << answers_->verify.ToString();
    ASSERT_TRUE(answers_->replay.ok()) << answers_->replay.ToString();
    // Every tree of the sweep is deeper than its root.
    ASSERT_GE(layout_->roots.size(), 10u);
    for (const char* verb : kReadingVerbs) {
      test::RunResult run = Twl(db, Split(verb), temp_->path());
      ASSERT_EQ(run.exit_code, 0) << verb << ": " << run.err;
      (*cli_)[verb] = run.out;
    }
  }
  static void TearDownTestSuite() {
    delete answers_;
    delete layout_;
    delete intact_;
    delete temp_;
  }

  static std::vector<std::string> Split(const std::string& words) {
    std::vector<std::string> out;
    std::istringstream in(words);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  }

  // A database directory holding `bytes` as its data file (no lock file).
  std::string Damaged(const std::string& bytes) {
    const std::string dir = *temp_ / "damaged";
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    fs::create_directories(dir);
    WriteFile(fs::path(dir) / "data.mdb", bytes);
    return dir;
  }

  enum class Verdict { kRefusedAtOpen, kFoundByVerify, kHarmless };

  // The library's answers on `bytes`, checked against the promises; `what`
  // names the damage in failures.
  Verdict CheckLibrary(const std::string& bytes, const std::string& what) {
    const std::string dir = Damaged(bytes);
    // Every eighth damaged file also gets an append (a durable commit).
    const bool append = ++checked_ % 8 == 0;
    const Answers a = Ask(dir, /*write=*/true, append);
    const Answers& intact = *answers_;
    // `init` never writes into a file that holds data: whatever it said,
    // the file is as it was (the append below may write, after it).
    EXPECT_TRUE(a.init.ok() || IsDamageRefusal(a.init)) << what << ": init: " << a.init.ToString();
    if (!a.open.ok()) {
      EXPECT_TRUE(IsDamageRefusal(a.open)) << what << ": open: " << a.open.ToString();
      EXPECT_FALSE(a.init.ok()) << what << ": `init` opened what reading verbs refuse";
      if (append) {
        EXPECT_FALSE(a.append.ok()) << what << ": appended to what reading verbs refuse";
      }
      EXPECT_EQ(ReadFile(fs::path(dir) / "data.mdb"), bytes) << what << ": a refused file changed";
      ++counts_["refused at open"];
      return Verdict::kRefusedAtOpen;
    }
    // Everything else either fails (any error, never a crash) or gives the
    // intact answer; a different answer is allowed only where Verify
    // reports the damage.
    const bool reported = !a.verify.ok();
    if (reported) {
      EXPECT_TRUE(IsDamageRefusal(a.verify)) << what << ": verify: " << a.verify.ToString();
      ++counts_["found by verify"];
    } else {
      EXPECT_EQ(a.head, intact.head) << what << ": verify passed with another chain head";
      EXPECT_TRUE(a.quick.ok()) << what << ": " << a.quick.ToString();
      EXPECT_TRUE(a.scan.ok()) << what << ": " << a.scan.ToString();
      EXPECT_EQ(a.records, intact.records) << what << ": verify passed, the records differ";
      EXPECT_TRUE(a.replay.ok()) << what << ": " << a.replay.ToString();
      EXPECT_EQ(a.replay_hash, intact.replay_hash) << what << ": verify passed, replay differs";
      EXPECT_EQ(a.entities, intact.entities) << what;
      ++counts_["harmless"];
    }
    return reported ? Verdict::kFoundByVerify : Verdict::kHarmless;
  }

  // The real binary on `bytes`: every verb exits without a signal or an
  // internal error, with a message when it fails; refused damage is exit 3
  // and leaves the file as it was (`serve` refuses to start on it too);
  // `init` never writes. Reading verbs that
  // succeed print what they print on the intact database, unless `verify`
  // reported the damage.
  void CheckCli(const std::string& bytes, const std::string& what, size_t rotation,
                Verdict library) {
    const std::string dir = Damaged(bytes);
    const fs::path data = fs::path(dir) / "data.mdb";
    const test::RunResult verify = Twl(dir, {"verify"}, temp_->path());
    EXPECT_TRUE(verify.exit_code == 0 || verify.exit_code == 3 || verify.exit_code == 5)
        << what << ": verify exited " << verify.exit_code << ": " << verify.err;
    const bool reported = verify.exit_code != 0;
    std::vector<std::string> verbs;
    if (EnvU64("TWINLINE_DAMAGE_CLI", 0) != 0) {
      verbs.assign(std::begin(kReadingVerbs), std::end(kReadingVerbs));
    } else {
      verbs.push_back(kReadingVerbs[rotation % std::size(kReadingVerbs)]);
    }
    for (const std::string& verb : verbs) {
      const test::RunResult run = Twl(dir, Split(verb), temp_->path());
      ExpectSane(run, what + ": " + verb);
      if (run.exit_code == 0 && !reported) {
        EXPECT_EQ(run.out, cli_->at(verb)) << what << ": " << verb << " answered otherwise";
      }
      if (reported && run.exit_code == 0) ++counts_["a verb succeeded on reported damage"];
    }
    // `init` and the writers last: a refused file stays as it was.
    const std::string before = ReadFile(data);
    const test::RunResult init = Twl(dir, {"init"}, temp_->path());
    ExpectSane(init, what + ": init");
    EXPECT_EQ(ReadFile(data), before) << what << ": init wrote to the data file";
    if (init.exit_code == 0) {
      // Only a database that opens and quick-verifies: reported as there.
      EXPECT_NE(init.out.find("already exists"), std::string::npos) << what << ": " << init.out;
    }
    if (reported) {
      const test::RunResult import =
          Twl(dir, {"import", "-"}, temp_->path(), BatchNdjson("late", 1));
      ExpectSane(import, what + ": import");
      if (library == Verdict::kRefusedAtOpen) {
        // Refused before anything was mapped: nobody may write.
        EXPECT_EQ(verify.exit_code, 3) << what << ": verify: " << verify.err;
        EXPECT_EQ(import.exit_code, 3) << what << ": import: " << import.err;
        EXPECT_EQ(ReadFile(data), before) << what << ": import wrote to a refused file";
      }
    }
    if (library == Verdict::kRefusedAtOpen) {
      // `serve` checks the file before it listens (a hang guard of 20 s:
      // a server that started would be killed, exit 124).
      const test::RunResult serve = test::RunProgram(
          {"/usr/bin/timeout", "20", Bin(), "--db", dir, "serve", "--listen", "127.0.0.1:0"}, "",
          temp_->path());
      ExpectSane(serve, what + ": serve");
      EXPECT_EQ(serve.exit_code, 3) << what << ": serve: " << serve.err;
      EXPECT_NE(serve.err.find("damaged"), std::string::npos) << what << ": serve: " << serve.err;
      EXPECT_EQ(ReadFile(data), before) << what << ": serve wrote to a refused file";
    }
  }

  static void ExpectSane(const test::RunResult& run, const std::string& what) {
    EXPECT_LT(run.exit_code, 64) << what << ": killed by signal " << run.exit_code - 128 << "\n"
                                 << run.err;
    EXPECT_GE(run.exit_code, 0) << what;
    if (run.exit_code != 0) {
      EXPECT_FALSE(run.err.empty()) << what << ": exit " << run.exit_code << " without a message";
      EXPECT_EQ(run.err.find("not an initialised"), std::string::npos) << what << ": " << run.err;
      EXPECT_EQ(run.err.find("create one with"), std::string::npos) << what << ": " << run.err;
    }
  }

  static void Report(const char* sweep) {
    std::string line;
    for (const auto& [what, n] : counts_) line += " " + what + ": " + std::to_string(n) + ";";
    std::printf("[ damage   ] %s:%s\n", sweep, line.c_str());
    counts_.clear();
  }

  static constexpr const char* kReadingVerbs[] = {
      "verify --quick",     "log --entity town-3", "export",          "stats --format json",
      "entities town-7",    "replay --as-of 2025", "diff 1990 2025",  "log --kind count_reported",
  };

  static test::TempDir* temp_;
  static std::string* intact_;
  static Layout* layout_;
  static Answers* answers_;
  static std::map<std::string, std::string>* cli_;
  static std::map<std::string, size_t> counts_;
  static size_t checked_;
  static bool prepared_, ready_;
};

test::TempDir* DamagedFileTest::temp_ = nullptr;
std::string* DamagedFileTest::intact_ = nullptr;
Layout* DamagedFileTest::layout_ = nullptr;
Answers* DamagedFileTest::answers_ = nullptr;
std::map<std::string, std::string>* DamagedFileTest::cli_ = new std::map<std::string, std::string>;
std::map<std::string, size_t> DamagedFileTest::counts_;
size_t DamagedFileTest::checked_ = 0;
bool DamagedFileTest::prepared_ = false;
bool DamagedFileTest::ready_ = false;

// Bits to flip at byte `at`: one, rotating with the offset and the seed,
// or all eight.
std::vector<int> BitsAt(size_t at) {
  if (EnvU64("TWINLINE_DAMAGE_BITS", 1) >= 8) return {0, 1, 2, 3, 4, 5, 6, 7};
  return {static_cast<int>((at * 5 + Seed()) % 8)};
}

std::string Flipped(const std::string& bytes, size_t at, int bit) {
  std::string out = bytes;
  out[at] = static_cast<char>(out[at] ^ (1 << bit));
  return out;
}

std::string Where(size_t at, int bit) {
  return "byte " + std::to_string(at) + " bit " + std::to_string(bit);
}

TEST_F(DamagedFileTest, InitWritesOnlyIntoADataFileThatHoldsNothing) {
  // Another program's LMDB database: tables, but not twinline's.
  const std::string foreign = *temp_ / "foreign";
  fs::create_directories(foreign);
  {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 4);
    ASSERT_EQ(mdb_env_open(env, foreign.c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "accounts", MDB_CREATE, &dbi), 0);
    MDB_val k{3, const_cast<char*>("key")}, v{5, const_cast<char*>("value")};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }
  const std::string bytes = ReadFile(fs::path(foreign) / "data.mdb");
  for (const char* verb : {"init", "verify", "log"}) {
    const test::RunResult run = Twl(foreign, {verb}, temp_->path());
    EXPECT_EQ(run.exit_code, 3) << verb << ": " << run.err;
    EXPECT_NE(run.err.find("holds tables (accounts)"), std::string::npos) << verb << ": " << run.err;
    EXPECT_NE(run.err.find("damaged, or not a twinline database"), std::string::npos) << run.err;
    ExpectSane(run, std::string("foreign database: ") + verb);
  }
  EXPECT_EQ(ReadFile(fs::path(foreign) / "data.mdb"), bytes) << "init wrote into another database";

  // LMDB's two meta pages and nothing committed (an `init` killed before
  // its commit): not initialised, and `init` initialises it.
  const std::string fresh = *temp_ / "fresh";
  fs::create_directories(fresh);
  {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_open(env, fresh.c_str(), 0, 0644), 0);
    mdb_env_close(env);
  }
  test::RunResult run = Twl(fresh, {"verify"}, temp_->path());
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("not an initialised twinline database"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("create one with"), std::string::npos) << run.err;
  EXPECT_EQ(Twl(fresh, {"init"}, temp_->path()).exit_code, 0);
  EXPECT_EQ(Twl(fresh, {"verify"}, temp_->path()).exit_code, 0);

  // A 0-byte data file is a file cut short, not a new database.
  const std::string empty = Damaged("");
  for (const char* verb : {"init", "verify"}) {
    run = Twl(empty, {verb}, temp_->path());
    EXPECT_EQ(run.exit_code, 3) << verb << ": " << run.err;
    EXPECT_NE(run.err.find("is empty (0 bytes)"), std::string::npos) << run.err;
  }
  EXPECT_EQ(fs::file_size(fs::path(empty) / "data.mdb"), 0u);
}

TEST_F(DamagedFileTest, EveryTruncationAtAPageBoundaryIsDamageForEveryVerb) {
  const size_t page = layout_->page_size;
  for (size_t pages = 0; pages < layout_->pages; ++pages) {
    const std::string cut = intact_->substr(0, pages * page);
    const std::string what = "cut to " + std::to_string(pages) + " pages";
    const Verdict verdict = CheckLibrary(cut, what);
    EXPECT_EQ(verdict, Verdict::kRefusedAtOpen) << what << ": not refused at open";
    const test::RunResult verify = Twl(Damaged(cut), {"verify"}, temp_->path());
    EXPECT_EQ(verify.exit_code, 3) << what << ": " << verify.err;
    EXPECT_NE(verify.err.find("damaged"), std::string::npos) << what << ": " << verify.err;
    CheckCli(cut, what, pages, verdict);
  }
  Report("truncations");
}

TEST_F(DamagedFileTest, EveryByteOfBothMetaPagesFlippedIsDamageOrHarmless) {
  // LMDB reads the page header and MDB_meta (152 bytes) of each; the rest
  // of a meta page is never read: sampled with the stride.
  const size_t page = layout_->page_size;
  const size_t stride = EnvU64("TWINLINE_DAMAGE_STRIDE", 61);
  size_t n = 0;
  for (size_t meta = 0; meta < 2; ++meta) {
    for (size_t i = 0; i < page; i += i < 152 ? 1 : stride) {
      const size_t at = meta * page + i;
      for (int bit : BitsAt(at)) {
        const std::string damaged = Flipped(*intact_, at, bit);
        const std::string what = "meta page " + std::to_string(meta) + " " + Where(at, bit);
        const Verdict verdict = CheckLibrary(damaged, what);
        if (i < 152 && (i % 8 == 0 || EnvU64("TWINLINE_DAMAGE_CLI", 0) != 0)) {
          CheckCli(damaged, what, n++, verdict);
        }
      }
    }
  }
  Report("meta pages");
}

TEST_F(DamagedFileTest, EveryByteOfTheRootPagesFlippedIsDamageOrHarmless) {
  const size_t page = layout_->page_size;
  const size_t stride = EnvU64("TWINLINE_DAMAGE_STRIDE", 29);
  size_t n = 0;
  for (const auto& [table, root] : layout_->roots) {
    // The page header and the node offsets: every byte; the rest sampled.
    for (size_t i = 0; i < page; i += i < 64 ? 1 : stride) {
      const size_t at = root * page + i;
      for (int bit : BitsAt(at)) {
        const std::string damaged = Flipped(*intact_, at, bit);
        const std::string what = "root page " + std::to_string(root) + " (" + table + ") " +
                                 Where(at, bit);
        const Verdict verdict = CheckLibrary(damaged, what);
        if (++n % 37 == 0 || EnvU64("TWINLINE_DAMAGE_CLI", 0) != 0) {
          CheckCli(damaged, what, n, verdict);
        }
      }
    }
  }
  Report("root pages");
}

TEST_F(DamagedFileTest, BytesFlippedInEveryOtherPageAreDamageOrHarmless) {
  const size_t page = layout_->page_size;
  const size_t stride = EnvU64("TWINLINE_DAMAGE_STRIDE", 61) * 4;
  std::set<uint64_t> roots;
  for (const auto& [table, root] : layout_->roots) roots.insert(root);
  for (size_t p = 2; p < layout_->pages; ++p) {
    if (roots.count(p) > 0) continue;
    for (size_t i = (Seed() + p) % stride; i < page; i += stride) {
      const size_t at = p * page + i;
      for (int bit : BitsAt(at)) {
        CheckLibrary(Flipped(*intact_, at, bit), "page " + std::to_string(p) + " " + Where(at, bit));
      }
    }
  }
  Report("other pages");
}

}  // namespace
}  // namespace twinline::reliability
