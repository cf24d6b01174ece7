// EventLog and storage: the map grows (and stops at its limit with kFull,
// writing nothing), a map grown by another process is adopted, a newer
// format is refused untouched, Verify streams and still finds every kind of
// damage, QuickVerify, and Backup.
#include <gtest/gtest.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/event_log.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;
using test::ReadFile;

// Raw LMDB access to a closed database, to damage it as a disk or a
// tamperer would (the EventLog must be closed: one environment per process).
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    EXPECT_EQ(mdb_env_create(&env_), 0);
    mdb_env_set_maxdbs(env_, 16);
    mdb_env_set_mapsize(env_, size_t{1} << 30);
    EXPECT_EQ(mdb_env_open(env_, dir.c_str(), 0, 0644), 0);
    EXPECT_EQ(mdb_txn_begin(env_, nullptr, 0, &txn_), 0);
  }
  ~RawDb() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    mdb_env_close(env_);
  }
  MDB_dbi Table(const char* name) {
    MDB_dbi dbi = 0;
    const std::string_view n(name);
    // The posting tables hold sorted duplicates (docs/FORMAT.md).
    const unsigned flags = n == "by_entity" || n == "facts" || n == "refs" ? MDB_DUPSORT | MDB_DUPFIXED : 0;
    EXPECT_EQ(mdb_dbi_open(txn_, name, flags, &dbi), 0) << name;
    return dbi;
  }
  void Put(const char* table, const std::string& key, const std::string& value) {
    MDB_val k{key.size(), const_cast<char*>(key.data())},
        v{value.size(), const_cast<char*>(value.data())};
    ASSERT_EQ(mdb_put(txn_, Table(table), &k, &v, 0), 0);
  }
  void Delete(const char* table, const std::string& key) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    ASSERT_EQ(mdb_del(txn_, Table(table), &k, nullptr), 0);
  }
  // The first key of `table` that starts with `prefix`.
  std::string FirstKey(const char* table, const std::string& prefix) {
    MDB_cursor* c = nullptr;
    EXPECT_EQ(mdb_cursor_open(txn_, Table(table), &c), 0);
    MDB_val k{prefix.size(), const_cast<char*>(prefix.data())}, v;
    std::string key;
    if (mdb_cursor_get(c, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE) == 0) {
      key.assign(static_cast<char*>(k.mv_data), k.mv_size);
    }
    mdb_cursor_close(c);
    return key;
  }
  void Commit() {
    ASSERT_EQ(mdb_txn_commit(txn_), 0);
    txn_ = nullptr;
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
};

std::string U64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

// An entity registration carrying `note_bytes` of note: big events fill a
// map quickly.
PendingEvent Entity(int i, size_t note_bytes = 0) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto ev = message->initRoot<schema::Event>();
  ev.initValidTime().setEdtf("2024");
  auto source = ev.initSources(1)[0];
  source.setTitle("Storage test");
  source.setPublisher("twinline tests");
  source.setPublished("2025");
  source.setLanguage("en");
  auto reg = ev.getPayload().initEntityRegistered();
  reg.setEntity("city-" + std::to_string(i));
  reg.setType(schema::EntityType::CITY);
  reg.setCountry("DE");
  auto names = reg.initNames(1);
  names[0].setText("City " + std::to_string(i));
  names[0].setLang("en");
  if (note_bytes > 0) ev.setNote(std::string(note_bytes, static_cast<char>('a' + i % 26)));
  return message;
}

std::vector<PendingEvent> Entities(int from, int count, size_t note_bytes) {
  std::vector<PendingEvent> batch;
  for (int i = from; i < from + count; ++i) batch.push_back(Entity(i, note_bytes));
  return batch;
}

// A corroboration of the event `target` with a new source: a reference, so
// Verify looks its target up.
PendingEvent Corroboration(const std::string& target) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto ev = message->initRoot<schema::Event>();
  ev.initValidTime().setEdtf("2024");
  auto source = ev.initSources(1)[0];
  source.setTitle("A second source");
  source.setPublisher("twinline tests");
  source.setPublished("2025");
  source.setLanguage("en");
  ev.getPayload().initCorroboration().setTarget(target);
  return message;
}

class StorageTest : public ::testing::Test {
 protected:
  void TearDown() override { log_.reset(); }

  Status Open(OpenOptions options) {
    log_.reset();
    options.create_if_missing = true;
    return EventLog::Open(dir_, options, &log_);
  }
  void OpenTiny(size_t max_map = size_t{1} << 40,
                std::chrono::milliseconds resize_wait = std::chrono::seconds(10)) {
    OpenOptions options;
    options.map_size = size_t{1} << 20;  // 1 MiB
    options.max_map_size = max_map;
    options.resize_wait = resize_wait;
    Status st = Open(options);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  Status Append(std::vector<PendingEvent> batch, AppendResult* result = nullptr) {
    AppendResult local;
    return log_->Append(batch, AppendOptions(), result ? result : &local);
  }
  uint64_t LastSeq() {
    std::unique_ptr<ReadTxn> txn;
    EXPECT_TRUE(log_->BeginRead(&txn).ok());
    return txn->LastSeq();
  }
  VerifyReport VerifyOk() {
    VerifyReport report;
    Status st = log_->Verify(&report);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return report;
  }
  std::string data_file() const { return dir_ + "/data.mdb"; }

  test::TempDir temp_{"twinline-storage-test"};
  std::string dir_ = temp_.path().string() + "/db";
  std::unique_ptr<EventLog> log_;
};

// ---------------------------------------------------------------------------
// The map grows.

TEST_F(StorageTest, MapGrowsThroughABatchLargerThanTheInitialMap) {
  OpenTiny();
  AppendResult result;
  Status st = Append(Entities(0, 4000, 1024), &result);  // ~5 MiB of records and indexes
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(result.appended, 4000u);
  EXPECT_EQ(LastSeq(), 4000u);
  EXPECT_GT(fs::file_size(data_file()), uintmax_t{4} << 20);
  EXPECT_EQ(VerifyOk().events, 4000u);
}

TEST_F(StorageTest, StreamedBatchHasRoomBeyondTheInitialMap) {
  OpenTiny();
  std::unique_ptr<EventLog::BatchWriter> writer;
  ASSERT_TRUE(log_->BeginBatch(AppendOptions(), &writer).ok());
  for (int i = 0; i < 4000; ++i) {
    Status st = writer->Add(Entity(i, 1024), nullptr);
    ASSERT_TRUE(st.ok()) << i << ": " << st.ToString();
  }
  AppendResult result;
  ASSERT_TRUE(writer->Commit(&result).ok());
  writer.reset();
  EXPECT_EQ(LastSeq(), 4000u);
  VerifyOk();
}

TEST_F(StorageTest, AppendGroupGrowsTheMapAndLandsEveryBatch) {
  OpenTiny();
  std::vector<EventLog::GroupItem> items(4);
  for (int b = 0; b < 4; ++b) items[b].batch = Entities(b * 1000, 1000, 1024);
  Status st = log_->AppendGroup(&items);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (const auto& item : items) EXPECT_TRUE(item.status.ok()) << item.status.ToString();
  EXPECT_EQ(items[3].result.last_seq, 4000u);
  EXPECT_EQ(LastSeq(), 4000u);
  VerifyOk();
}

TEST_F(StorageTest, DerivedWritesGrowTheMap) {
  OpenTiny();
  ASSERT_TRUE(Append(Entities(0, 1, 0)).ok());
  const std::string big(size_t{3} << 20, 'c');  // 3 MiB, in a 1 MiB map
  Status st = log_->UpdateDerived([&](DerivedWriteTxn& txn) {
    char* data = nullptr;
    TWINLINE_RETURN_IF_ERROR(txn.ReserveDerived("k", big.size(), &data));
    std::memcpy(data, big.data(), big.size());
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  std::string_view value;
  ASSERT_TRUE(txn->GetDerived("k", &value).ok());
  EXPECT_EQ(value, big);
  // Large derived values lie on their own pages, word-aligned (read in place).
  EXPECT_EQ(reinterpret_cast<uintptr_t>(value.data()) % 8, 0u);
  EXPECT_EQ(txn->GetDerived("missing", &value).code(), Status::Code::kNotFound);
}

TEST_F(StorageTest, BatchBeyondTheMapLimitIsFullAndWritesNothing) {
  OpenTiny(/*max_map=*/size_t{2} << 20);
  ASSERT_TRUE(Append(Entities(0, 10, 0)).ok());

  Status st = Append(Entities(10, 4000, 1024));
  EXPECT_EQ(st.code(), Status::Code::kFull) << st.ToString();
  EXPECT_NE(st.message().find("limit of 2.0 MiB"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("nothing was written"), std::string::npos) << st.message();
  EXPECT_EQ(LastSeq(), 10u);
  EXPECT_EQ(VerifyOk().events, 10u);
  EXPECT_LE(fs::file_size(data_file()), size_t{2} << 20);

  // The log goes on as before: a batch that fits lands.
  ASSERT_TRUE(Append(Entities(10, 5, 0)).ok());
  EXPECT_EQ(LastSeq(), 15u);
}

TEST_F(StorageTest, StreamedBatchBeyondTheMapLimitIsFullAndWritesNothing) {
  OpenTiny(/*max_map=*/size_t{2} << 20);
  ASSERT_TRUE(Append(Entities(0, 10, 0)).ok());
  std::unique_ptr<EventLog::BatchWriter> writer;
  ASSERT_TRUE(log_->BeginBatch(AppendOptions(), &writer).ok());
  Status st;
  int i = 10;
  for (; i < 5000 && st.ok(); ++i) st = writer->Add(Entity(i, 1024), nullptr);
  if (st.ok()) {
    AppendResult result;
    st = writer->Commit(&result);
  }
  EXPECT_EQ(st.code(), Status::Code::kFull) << st.ToString();
  EXPECT_NE(st.message().find("limit of 2.0 MiB"), std::string::npos) << st.message();
  AppendResult result;
  EXPECT_EQ(writer->Commit(&result).code(), Status::Code::kFull);  // the batch is dead
  writer.reset();
  EXPECT_EQ(LastSeq(), 10u);
  VerifyOk();
}

// LMDB may resize the map only while no transaction of the process is open:
// the resize waits for readers in other threads to finish, and new readers
// wait for it.
TEST_F(StorageTest, GrowthWaitsForReadersInOtherThreads) {
  OpenTiny();
  ASSERT_TRUE(Append(Entities(0, 10, 0)).ok());
  std::atomic<bool> reading{false};
  uint64_t seen = 0;
  std::thread reader([&] {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    reading = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    seen = txn->LastSeq();  // its snapshot, read from the map it began with
  });
  while (!reading) std::this_thread::yield();
  Status st = Append(Entities(10, 4000, 1024));
  reader.join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, 10u);
  EXPECT_EQ(LastSeq(), 4010u);
}

TEST_F(StorageTest, GrowthGivesUpWhenReadersStayOpenAndTheBatchCanBeRetried) {
  OpenTiny(size_t{1} << 40, std::chrono::milliseconds(200));
  ASSERT_TRUE(Append(Entities(0, 10, 0)).ok());
  std::atomic<bool> reading{false}, done{false};
  std::thread reader([&] {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    reading = true;
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  while (!reading) std::this_thread::yield();
  Status st = Append(Entities(10, 4000, 1024));
  done = true;
  reader.join();
  EXPECT_EQ(st.code(), Status::Code::kFull) << st.ToString();
  EXPECT_NE(st.message().find("stayed open"), std::string::npos) << st.message();
  EXPECT_EQ(LastSeq(), 10u);
  st = Append(Entities(10, 4000, 1024));
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(StorageTest, GrowthIsRefusedAtOnceWhileTheWritingThreadHoldsAReadTransaction) {
  OpenTiny();
  ASSERT_TRUE(Append(Entities(0, 10, 0)).ok());
  std::unique_ptr<ReadTxn> own;
  ASSERT_TRUE(log_->BeginRead(&own).ok());
  const auto start = std::chrono::steady_clock::now();
  Status st = Append(Entities(10, 4000, 1024));
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::seconds(5));  // not the 10 s wait
  EXPECT_EQ(st.code(), Status::Code::kFull) << st.ToString();
  EXPECT_NE(st.message().find("this thread holds a transaction"), std::string::npos)
      << st.message();
  EXPECT_EQ(own->LastSeq(), 10u);
  own.reset();
  EXPECT_TRUE(Append(Entities(10, 4000, 1024)).ok());
}

// Another process grows the map past this one's and writes beyond it; this
// process's next transaction adopts the new size instead of failing.
TEST_F(StorageTest, MapGrownByAnotherProcessIsAdopted) {
  OpenTiny();
  ASSERT_TRUE(Append(Entities(0, 10, 0)).ok());
  log_.reset();

  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(3);
    std::unique_ptr<EventLog> other;
    OpenOptions options;
    options.map_size = size_t{1} << 20;
    if (!EventLog::Open(dir_, options, &other).ok()) _exit(1);
    std::vector<PendingEvent> batch = Entities(10, 4000, 1024);
    AppendResult r;
    _exit(other->Append(batch, AppendOptions(), &r).ok() ? 0 : 2);
  }
  close(go[0]);
  OpenTiny();  // maps ~1 MiB: the child's data will lie beyond
  EXPECT_EQ(LastSeq(), 10u);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  EXPECT_EQ(LastSeq(), 4010u);  // begins a transaction: MDB_MAP_RESIZED, adopted
  std::string last_name;
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  ASSERT_TRUE(txn->Get(4010,
                       [&](schema::Event::Reader ev) {
                         last_name = ev.getPayload().getEntityRegistered().getEntity();
                       })
                  .ok());
  EXPECT_EQ(last_name, "city-4009");
  txn.reset();
  ASSERT_TRUE(Append(Entities(4010, 10, 0)).ok());
  EXPECT_EQ(VerifyOk().events, 4020u);
}

// The data file cannot grow during a commit (a full disk; here the file
// size limit, RLIMIT_FSIZE, in a child process): the append fails and the
// log is as it was.
TEST_F(StorageTest, DataFileThatCannotGrowFailsTheCommitAndLeavesTheLogIntact) {
  OpenTiny();
  ASSERT_TRUE(Append(Entities(0, 10, 0)).ok());
  const VerifyReport before = VerifyOk();
  log_.reset();
  const auto size = fs::file_size(data_file());

  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(report[0]);
    signal(SIGXFSZ, SIG_IGN);  // write(2) fails with EFBIG instead of killing us
    rlimit limit{static_cast<rlim_t>(size), static_cast<rlim_t>(size)};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(4);
    std::unique_ptr<EventLog> other;
    OpenOptions options;
    options.map_size = size_t{64} << 20;
    if (!EventLog::Open(dir_, options, &other).ok()) _exit(1);
    std::vector<PendingEvent> batch = Entities(10, 2000, 1024);
    AppendResult r;
    const Status st = other->Append(batch, AppendOptions(), &r);
    const std::string text = st.ToString();
    (void)!write(report[1], text.data(), text.size());
    _exit(st.ok() ? 2 : 0);
  }
  close(report[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = read(report[0], buf, sizeof buf)) > 0;)
    said.append(buf, static_cast<size_t>(n));
  close(report[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << " " << said;
  EXPECT_NE(said.find("database full"), std::string::npos) << said;

  OpenTiny();
  EXPECT_EQ(LastSeq(), 10u);
  EXPECT_EQ(VerifyOk().head, before.head);
}

// ---------------------------------------------------------------------------
// The version record.

class FormatVersionTest : public StorageTest {
 protected:
  void SetUp() override {
    OpenTiny();
    ASSERT_TRUE(Append(Entities(0, 3, 0)).ok());
    log_.reset();
  }
  void SetVersion(const std::string& version) {
    RawDb raw(dir_);
    raw.Put("meta", "format_version", version);
    raw.Commit();
  }
};

TEST_F(FormatVersionTest, NewerFormatIsRefusedByEveryOpenAndNeverWritten) {
  SetVersion("3");
  const std::string bytes = ReadFile(data_file());
  for (int mode = 0; mode < 3; ++mode) {
    OpenOptions options;
    options.read_only = mode == 0;
    options.create_if_missing = mode == 2;  // `twinline init` on it
    Status st = EventLog::Open(dir_, options, &log_);
    EXPECT_EQ(st.code(), Status::Code::kVersion) << mode << ": " << st.ToString();
    EXPECT_NE(st.message().find("written by a newer twinline (format 3, this build reads up to 2)"),
              std::string::npos)
        << st.message();
    EXPECT_EQ(log_, nullptr);
  }
  EXPECT_EQ(ReadFile(data_file()), bytes);
}

TEST_F(FormatVersionTest, OlderFormatIsRefusedWithTheUpgradeCommandAndNeverWritten) {
  SetVersion("1");
  const std::string bytes = ReadFile(data_file());
  for (int mode = 0; mode < 3; ++mode) {
    OpenOptions options;
    options.read_only = mode == 0;
    options.create_if_missing = mode == 2;
    Status st = EventLog::Open(dir_, options, &log_);
    EXPECT_EQ(st.code(), Status::Code::kVersion) << mode << ": " << st.ToString();
    EXPECT_NE(st.message().find("is in format 1, written by an earlier twinline"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("twinline upgrade"), std::string::npos) << st.message();
    EXPECT_EQ(log_, nullptr);
  }
  EXPECT_EQ(ReadFile(data_file()), bytes);
}

TEST_F(FormatVersionTest, UnreadableVersionRecordIsRefused) {
  SetVersion("1x");
  OpenOptions options;
  Status st = EventLog::Open(dir_, options, &log_);
  EXPECT_EQ(st.code(), Status::Code::kVersion) << st.ToString();
  EXPECT_NE(st.message().find("unreadable format version '1x'"), std::string::npos) << st.message();
}

// ---------------------------------------------------------------------------
// Verify streams; every kind of damage is still found.

class DamageTest : public StorageTest {
 protected:
  void SetUp() override {
    OpenTiny();
    // 30 entities, then a corroboration of city-3 (a reference: Verify
    // follows it through by_id).
    ASSERT_TRUE(Append(Entities(0, 30, 0)).ok());
    std::string city3_id;
    {
      std::unique_ptr<ReadTxn> txn;
      ASSERT_TRUE(log_->BeginRead(&txn).ok());
      ASSERT_TRUE(txn->Get(4, [&](schema::Event::Reader ev) { city3_id = ev.getId(); }).ok());
    }
    std::vector<PendingEvent> batch;
    batch.push_back(Corroboration(city3_id));
    AppendResult result;
    ASSERT_TRUE(log_->Append(batch, AppendOptions(), &result).ok());
    ASSERT_EQ(result.corroborated, 1u);
    ASSERT_EQ(LastSeq(), 31u);
    city3_id_ = city3_id;
    log_.reset();
  }

  // Reopens and verifies, expecting corruption.
  Status VerifyDamaged(VerifyReport* report) {
    OpenOptions options;
    options.read_only = true;
    Status st = EventLog::Open(dir_, options, &log_);
    EXPECT_TRUE(st.ok()) << st.ToString();
    st = log_->Verify(report);
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
    return st;
  }

  std::string city3_id_;
};

TEST_F(DamageTest, IntactLogVerifiesAndCountsEveryIndexEntry) {
  OpenTiny();
  const VerifyReport report = VerifyOk();
  EXPECT_EQ(report.events, 31u);
  EXPECT_EQ(report.last_seq, 31u);
  // Per entity at least by_id, by_entity, entities, names and facts; the
  // corroboration: by_id, refs, by_entity.
  EXPECT_GE(report.index_entries, 30u * 5 + 3);
}

TEST_F(DamageTest, MissingIndexEntryNamesItsRecord) {
  {
    RawDb raw(dir_);
    raw.Delete("by_entity", "city-7");
    raw.Commit();
  }
  VerifyReport report;
  Status st = VerifyDamaged(&report);
  EXPECT_EQ(report.first_bad_seq, 8u);
  EXPECT_NE(st.message().find("seq 8: index 'by_entity' is missing an entry"), std::string::npos)
      << st.message();
}

TEST_F(DamageTest, WrongIndexValueNamesItsRecord) {
  {
    RawDb raw(dir_);
    raw.Put("entities", "city-12", U64(5));
    raw.Commit();
  }
  VerifyReport report;
  Status st = VerifyDamaged(&report);
  EXPECT_EQ(report.first_bad_seq, 13u);
  EXPECT_NE(st.message().find("index 'entities' has a wrong value"), std::string::npos)
      << st.message();
}

TEST_F(DamageTest, EntryNoRecordExplainsIsFound) {
  {
    RawDb raw(dir_);
    raw.Put("names", std::string("atlantis") + '\0' + "city-5", "");  // city-5 has no such name
    raw.Commit();
  }
  VerifyReport report;
  Status st = VerifyDamaged(&report);
  EXPECT_FALSE(report.first_bad_seq.has_value());
  EXPECT_NE(st.message().find("index 'names' has an entry no record explains"), std::string::npos)
      << st.message();
}

TEST_F(DamageTest, ReferenceWhoseTargetLostItsIdIsFound) {
  {
    RawDb raw(dir_);
    raw.Delete("by_id", city3_id_);
    raw.Commit();
  }
  VerifyReport report;
  Status st = VerifyDamaged(&report);
  EXPECT_EQ(report.first_bad_seq, 4u);  // city-3's own record comes first
  EXPECT_NE(st.message().find("index 'by_id' is missing an entry"), std::string::npos)
      << st.message();
}

TEST_F(DamageTest, RemovedRecordBreaksTheNumbering) {
  {
    RawDb raw(dir_);
    raw.Delete("events", U64(20));
    raw.Commit();
  }
  VerifyReport report;
  Status st = VerifyDamaged(&report);
  EXPECT_EQ(report.first_bad_seq, 20u);
  EXPECT_NE(st.message().find("not numbered 1..N"), std::string::npos) << st.message();
}

TEST_F(DamageTest, AlteredChainHashIsFound) {
  {
    RawDb raw(dir_);
    raw.Put("chain", U64(25), std::string(32, 'x'));
    raw.Commit();
  }
  VerifyReport report;
  Status st = VerifyDamaged(&report);
  EXPECT_EQ(report.first_bad_seq, 25u);
  EXPECT_NE(st.message().find("hash chain mismatch"), std::string::npos) << st.message();
}

// ---------------------------------------------------------------------------
// QuickVerify.

TEST_F(DamageTest, QuickVerifyChecksTheLastRecordsAndTheCounts) {
  OpenTiny();
  VerifyReport report;
  Status st = log_->QuickVerify(10, &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(report.events, 10u);
  EXPECT_EQ(report.last_seq, 31u);
  EXPECT_EQ(report.head, VerifyOk().head);
  ASSERT_TRUE(log_->QuickVerify(1000, &report).ok());
  EXPECT_EQ(report.events, 31u);
  log_.reset();

  // Damage in the tail: named.
  {
    RawDb raw(dir_);
    raw.Put("chain", U64(30), std::string(32, 'x'));
    raw.Commit();
  }
  OpenTiny();
  st = log_->QuickVerify(10, &report);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_EQ(report.first_bad_seq, 30u);
  log_.reset();

  // An index short of an entry, before the tail: found by the counts.
  {
    RawDb raw(dir_);
    raw.Put("chain", U64(30), std::string(32, 'x'));
    raw.Delete("by_id", raw.FirstKey("by_id", ""));
    raw.Commit();
  }
  OpenTiny();
  st = log_->QuickVerify(0, &report);
  EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("index 'by_id' holds 30 entries for 31 records"), std::string::npos)
      << st.message();
}

// ---------------------------------------------------------------------------
// Backup.

TEST_F(DamageTest, BackupIsAVerifiedCopyAndNeverOverwrites) {
  OpenTiny();
  const VerifyReport original = VerifyOk();
  const std::string dest = temp_ / "backup";
  BackupReport report;
  Status st = log_->Backup(dest, BackupOptions(), &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(report.last_seq, 31u);
  EXPECT_EQ(report.head, original.head);
  EXPECT_TRUE(fs::exists(fs::path(dest) / "data.mdb"));
  EXPECT_FALSE(fs::exists(fs::path(dest) / "lock.mdb"));
  EXPECT_EQ(report.bytes, fs::file_size(fs::path(dest) / "data.mdb"));

  // Never over a non-empty directory; nothing left behind.
  st = log_->Backup(dest, BackupOptions(), &report);
  EXPECT_EQ(st.code(), Status::Code::kAlreadyExists) << st.ToString();
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(temp_.path())) ++entries;
  EXPECT_EQ(entries, 2u);  // db, backup

  // Into an empty directory, compacted, fully verified.
  const std::string empty = temp_ / "empty";
  fs::create_directory(empty);
  BackupOptions compact;
  compact.compact = true;
  compact.full_verify = true;
  st = log_->Backup(empty + "/", compact, &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(report.head, original.head);
  EXPECT_LE(report.bytes, fs::file_size(data_file()));

  std::unique_ptr<EventLog> copy;
  OpenOptions options;
  options.read_only = true;
  ASSERT_TRUE(EventLog::Open(dest, options, &copy).ok());
  VerifyReport copied;
  ASSERT_TRUE(copy->Verify(&copied).ok());
  EXPECT_EQ(copied.head, original.head);
  EXPECT_EQ(copied.index_entries, original.index_entries);
}

}  // namespace
}  // namespace twinline
