// libFuzzer target: a damaged data file (data.mdb), opened and read the way
// every verb reads it.
//
// The input is not the file itself but a list of edits to the data file of
// a small database built at start-up from data/seed.ndjson by the library,
// so the target follows the on-disk format wherever it goes (no committed
// database) and libFuzzer's mutations stay small. Each edit is 5 bytes of
// header and its bytes:
//   u32le word: bit 31 clear: overwrite at offset (word mod file size)
//               with the next u8 n (at most 64) bytes of the input;
//               bit 31 set:   cut the file to (word & 0x7fffffff) mod
//               (file size + 1) bytes (the u8 that follows is ignored).
// An empty input is the intact file.
//
// On each damaged file it opens the database read-only, then runs Verify
// and VerifyIndex (as `twinline verify` does), QuickVerify, a read of every
// record, a replay and the statistics; opens it as `twinline init` does;
// and opens it for writing and appends. Beyond
// "no crash, no hang, no sanitizer report", it checks the promises of
// core/db_file_check.h and core/lmdb_guard.h (docs/RELIABILITY.md):
//  * a refused open is corruption (or, for a damaged version record, the
//    version's refusal) with a message, never "not initialised";
//  * a file the reading open refuses is refused by `init` and by the
//    writer too, and is never written (its bytes are unchanged);
//  * `init` never writes into the file, whatever it holds;
//  * when Verify passes, the chain head, every record and the replay are
//    those of the intact file: a damage Verify does not report changes no
//    answer.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/sha256.h"
#include "projections/projection.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace twinline;
namespace fs = std::filesystem;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

constexpr int64_t kReplayDay = 20453;  // 2025-12-31

// What a read-only open answers.
struct Answers {
  Status open, verify;
  std::string head, records, replay_hash;
  bool replay_ok = false, records_ok = false;
};

Answers Ask(const std::string& dir) {
  Answers a;
  OpenOptions options;
  options.read_only = true;
  std::unique_ptr<EventLog> log;
  a.open = EventLog::Open(dir, options, &log);
  if (!a.open.ok()) return a;
  VerifyReport report;
  // As `twinline verify` checks: the log, then the temporal index.
  a.verify = log->Verify(&report);
  a.head = report.head;
  if (a.verify.ok()) {
    std::unique_ptr<ReadTxn> txn;
    a.verify = log->BeginRead(&txn);
    if (a.verify.ok()) a.verify = VerifyIndex(*txn);
  }
  (void)log->QuickVerify(kQuickVerifyTail, &report);
  std::unique_ptr<ReadTxn> txn;
  if (!log->BeginRead(&txn).ok()) return a;
  Sha256 records;
  a.records_ok = true;
  for (uint64_t seq = 1; a.records_ok && seq <= txn->LastSeq() && seq <= 100000; ++seq) {
    std::string raw;
    a.records_ok = txn->GetRaw(seq, &raw).ok();
    records.Update(raw);
  }
  a.records = ToHex(records.Finish());
  Query query;
  query.as_of_day = kReplayDay;
  Snapshot snapshot;
  a.replay_ok = Replay(*txn, query, &snapshot).ok();
  a.replay_hash = snapshot.state_hash;
  LogStats stats;
  (void)txn->Stats(&stats);
  std::vector<std::string> slugs;
  (void)txn->LookupNameKey("chengdu", &slugs);
  return a;
}

// The intact database: its directory, data file and answers.
struct Base {
  Base() {
    fuzz::SeedDatabase& db = fuzz::Db();
    const fs::path dir = fs::path(db.log().path());
    bytes = ReadBytes(dir / "data.mdb");
    work = dir.parent_path() / "damaged";
    fs::create_directories(work);
    WriteBytes(work / "data.mdb", bytes);
    intact = Ask(work.string());
    fuzz::MustBeOk(intact.open, "opening the intact copy");
    fuzz::MustBeOk(intact.verify, "verifying the intact copy");
    FUZZ_CHECK(intact.replay_ok && intact.records_ok, "the intact copy does not replay");
  }
  std::string bytes;
  fs::path work;
  Answers intact;
};

Base& TheBase() {
  static Base base;
  return base;
}

bool IsDamageRefusal(const Status& s) {
  if (s.code() == Status::Code::kCorruption) return !s.message().empty();
  // A flipped version record reads as another format ('1' -> '9').
  return s.code() == Status::Code::kVersion && s.message().find("format") != std::string::npos;
}

std::string Apply(const std::string& base, const uint8_t* data, size_t size) {
  std::string file = base;
  size_t i = 0;
  while (i + 5 <= size) {
    uint32_t word;
    std::memcpy(&word, data + i, 4);
    const size_t n = std::min<size_t>(data[i + 4], 64);
    i += 5;
    if (word & 0x80000000u) {
      file.resize((word & 0x7fffffffu) % (file.size() + 1));
      continue;
    }
    if (file.empty()) break;
    const size_t at = word % file.size();
    for (size_t k = 0; k < n && i < size && at + k < file.size(); ++k, ++i) {
      file[at + k] = static_cast<char>(data[i]);
    }
  }
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Base& base = TheBase();
  const std::string file = Apply(base.bytes, data, size);
  const std::string dir = base.work.string();
  std::error_code ignored;
  fs::remove(base.work / "lock.mdb", ignored);
  WriteBytes(base.work / "data.mdb", file);

  const Answers a = Ask(dir);
  if (!a.open.ok()) {
    FUZZ_CHECK(IsDamageRefusal(a.open), "a damaged file refused as: %s",
               a.open.ToString().c_str());
  } else if (a.verify.ok()) {
    FUZZ_CHECK(a.head == base.intact.head, "verify passed with another chain head %s",
               a.head.c_str());
    FUZZ_CHECK(a.records_ok && a.records == base.intact.records,
               "verify passed but the records read differ");
    FUZZ_CHECK(a.replay_ok && a.replay_hash == base.intact.replay_hash,
               "verify passed but the replay differs");
  } else {
    FUZZ_CHECK(IsDamageRefusal(a.verify), "verify failed with %s", a.verify.ToString().c_str());
  }

  // `init` never writes into the file; what the reading open refuses, the
  // writing opens refuse too, and nobody writes it.
  {
    OpenOptions options;
    options.create_if_missing = true;
    std::unique_ptr<EventLog> log;
    const Status init = EventLog::Open(dir, options, &log);
    log.reset();
    FUZZ_CHECK(ReadBytes(base.work / "data.mdb") == file, "init wrote to the data file (%s)",
               init.ToString().c_str());
    if (!a.open.ok()) FUZZ_CHECK(!init.ok(), "init opened what the reading open refused");
  }
  {
    std::unique_ptr<EventLog> log;
    const Status open = EventLog::Open(dir, OpenOptions(), &log);
    if (!a.open.ok()) {
      FUZZ_CHECK(!open.ok(), "the writer opened what the reading open refused");
      FUZZ_CHECK(ReadBytes(base.work / "data.mdb") == file, "a refused file changed");
    } else if (open.ok()) {
      auto message = std::make_unique<capnp::MallocMessageBuilder>();
      auto ev = message->initRoot<schema::Event>();
      ev.initValidTime().setEdtf("2025");
      auto source = ev.initSources(1)[0];
      source.setTitle("db_file_fuzzer");
      source.setPublisher("twinline tests");
      source.setPublished("2025");
      source.setLanguage("en");
      auto reg = ev.getPayload().initEntityRegistered();
      reg.setEntity("fuzz-town");
      reg.setType(schema::EntityType::CITY);
      reg.setCountry("FR");
      auto names = reg.initNames(1);
      names[0].setText("Fuzz Town");
      names[0].setLang("en");
      std::vector<PendingEvent> batch;
      batch.push_back(std::move(message));
      AppendResult result;
      (void)log->Append(batch, AppendOptions(), &result);
    }
  }
  return 0;
}
