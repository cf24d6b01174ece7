// What the libFuzzer targets share: a checked-invariant macro, a scratch
// database holding the bundled dataset (data/seed.ndjson), so that entity
// references, event ids, retractions and amendments in fuzzed input can
// name things that exist, and the checks every event decoder target makes
// (ndjson_fuzzer, csv_fuzzer): a snapshot of that database that must not
// have moved, the kinds of refusal allowed, the encode/decode round trip and
// an uncommitted write.
//
// A fuzz target is a process-wide singleton by nature (libFuzzer calls
// LLVMFuzzerTestOneInput again and again in one process), so the database
// is created on first use and removed when the process exits normally; a
// crashing run leaves its /tmp/twinline-fuzz-* directory behind.
#ifndef TWINLINE_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define TWINLINE_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <capnp/message.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/event_log.h"
#include "core/names.h"
#include "events/entity_resolver.h"
#include "events/json_codec.h"
#include "tools/api/batch_decode.h"
#include "tools/api/json_views.h"

// A broken promise of the code under test: print and abort, so libFuzzer
// records the input as a crash.
#define FUZZ_CHECK(cond, ...)                                                     \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__,        \
                   __LINE__, #cond);                                              \
      std::fprintf(stderr, __VA_ARGS__);                                          \
      std::fprintf(stderr, "\n");                                                 \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

namespace twinline::fuzz {

// Dies with `what` unless `s` is OK: the fixture itself failed, not the
// code under test.
inline void MustBeOk(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "fuzz fixture: %s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

// A database directory under /tmp holding data/seed.ndjson (96 events),
// removed on destruction.
class SeedDatabase {
 public:
  SeedDatabase() {
    std::string tmpl = "/tmp/twinline-fuzz-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    dir_ = tmpl;
    Status s;
    folder_ = NameFolder::Create(&s);
    MustBeOk(s, "NameFolder::Create");
    Open();
  }
  ~SeedDatabase() {
    log_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  SeedDatabase(const SeedDatabase&) = delete;
  SeedDatabase& operator=(const SeedDatabase&) = delete;

  EventLog& log() { return *log_; }
  const NameFolder& folder() const { return *folder_; }
  // The log's last seq right after the seed was loaded.
  uint64_t seed_last_seq() const { return seed_last_seq_; }

  // Throws the database away and loads the seed again (for targets whose
  // input appends: keeps the log small and the runs comparable). The caller
  // must have dropped everything that borrows log().
  void Reset() {
    log_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_ / "db", ignored);
    Open();
  }

 private:
  void Open() {
    OpenOptions options;
    options.create_if_missing = true;
    options.map_size = size_t{1} << 30;
    MustBeOk(EventLog::Open((dir_ / "db").string(), options, &log_), "EventLog::Open");
    std::ifstream in(std::string(TWINLINE_SOURCE_DIR) + "/data/seed.ndjson", std::ios::binary);
    const std::string seed{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (seed.empty()) {
      std::fprintf(stderr, "fuzz fixture: cannot read %s/data/seed.ndjson\n", TWINLINE_SOURCE_DIR);
      std::abort();
    }
    std::unique_ptr<ReadTxn> txn;
    MustBeOk(log_->BeginRead(&txn), "BeginRead");
    LogEntityResolver resolver(txn.get(), folder_.get());
    api::DecodedBatch batch;
    int64_t failed_at = -1;
    MustBeOk(api::DecodeNdjsonBatch(seed, resolver, DecodeOptions(), &batch, &failed_at),
             "decoding data/seed.ndjson");
    txn.reset();
    AppendResult result;
    MustBeOk(log_->Append(batch.events, AppendOptions(), &result), "appending data/seed.ndjson");
    seed_last_seq_ = result.last_seq;
  }

  std::filesystem::path dir_;
  std::unique_ptr<NameFolder> folder_;
  std::unique_ptr<EventLog> log_;
  uint64_t seed_last_seq_ = 0;
};

// The one database of this process.
inline SeedDatabase& Db() {
  static SeedDatabase db;  // destroyed at exit: removes the directory
  return db;
}

// ---------------------------------------------------------------------------
// The event decoder targets.

// A read snapshot of Db() and a resolver over it, as `import` and `POST
// /v1/events` decode against one. Checks that no earlier input wrote.
struct SeedSnapshot {
  SeedSnapshot() {
    MustBeOk(Db().log().BeginRead(&txn), "BeginRead");
    FUZZ_CHECK(txn->LastSeq() == Db().seed_last_seq(), "the log moved to seq %llu",
               static_cast<unsigned long long>(txn->LastSeq()));
    resolver = std::make_unique<LogEntityResolver>(txn.get(), &Db().folder());
  }
  std::unique_ptr<ReadTxn> txn;
  std::unique_ptr<LogEntityResolver> resolver;  // borrows txn
};

// How the decoder and the log refuse input: bad, unknown, taken, conflict.
// Anything else (corruption, I/O, internal) on input alone is a bug.
inline bool ExpectedFailure(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict:
      return true;
    default:
      return false;
  }
}

// A decoded event encodes as `export` and the server write it (strict JSON:
// valid UTF-8), and that text decodes with the same options to an event
// that encodes the same (docs/EVENTS.md: the export form round-trips). Without
// `options.restore`, seq and recorded_at are the log's and not compared.
inline void CheckRoundTrip(schema::Event::Reader ev, LogEntityResolver& resolver,
                           const DecodeOptions& options) {
  nlohmann::ordered_json first = EncodeEvent(ev);
  std::string text;
  try {
    text = api::DumpJson(first);
  } catch (const nlohmann::json::exception& e) {
    FUZZ_CHECK(false, "a decoded event does not encode as JSON: %s", e.what());
  }
  capnp::MallocMessageBuilder message;
  const Status s = DecodeEventText(text, resolver, options, message.initRoot<schema::Event>());
  FUZZ_CHECK(s.ok(), "the encoding of a decoded event does not decode: %s\n  %s",
             s.ToString().c_str(), text.c_str());
  nlohmann::ordered_json second = EncodeEvent(message.getRoot<schema::Event>().asReader());
  if (!options.restore) {
    for (auto* j : {&first, &second}) {
      j->erase("seq");
      j->erase("recorded_at");
    }
  }
  FUZZ_CHECK(first == second, "round trip changed the event:\n  %s\n  %s", text.c_str(),
             second.dump().c_str());
}

// Adds the event at batch index `index` to `writer` (a batch that is never
// committed). Returns false, having checked the refusal is an expected one
// naming `index`, when the log refused it: the batch is dead after that.
inline bool AddUncommitted(EventLog::BatchWriter& writer, PendingEvent event, int64_t index) {
  const Status s = writer.Add(std::move(event), nullptr);
  if (s.ok()) return true;
  FUZZ_CHECK(ExpectedFailure(s), "the log refused event %lld with %s",
             static_cast<long long>(index), s.ToString().c_str());
  FUZZ_CHECK(s.index() == index, "the refusal of event %lld names index %lld",
             static_cast<long long>(index), static_cast<long long>(s.index()));
  return false;
}

}  // namespace twinline::fuzz

#endif  // TWINLINE_TESTS_FUZZ_FUZZ_SUPPORT_H_
