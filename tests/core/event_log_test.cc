// EventLog: atomic batches, identity (duplicates and corroboration),
// corrections, optimistic concurrency, snapshots and the hash chain.
#include "core/event_log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/edtf.h"
#include "core/identity.h"
#include "core/sha256.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;
using Disposition = AppendOutcome::Disposition;

struct SourceSpec {
  std::string title = "Chongqing und Düsseldorf feiern 20 Jahre";
  std::string publisher = "nrwheute";
  std::string published = "2024";
  std::string language = "de";
};

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void TearDown() override { log_.reset(); }  // before temp_ removes the files

  void Reopen() {
    log_.reset();
    OpenOptions options;
    options.create_if_missing = true;
    options.clock = &clock_;
    options.map_size = size_t{64} << 20;
    Status st = EventLog::Open(dir_, options, &log_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  static PendingEvent NewEvent(const std::string& date, const std::vector<SourceSpec>& sources = {SourceSpec()}) {
    auto message = std::make_unique<capnp::MallocMessageBuilder>();
    auto ev = message->initRoot<schema::Event>();
    ev.initValidTime().setEdtf(date);
    auto list = ev.initSources(sources.size());
    for (size_t i = 0; i < sources.size(); ++i) {
      list[i].setTitle(sources[i].title);
      list[i].setPublisher(sources[i].publisher);
      list[i].setPublished(sources[i].published);
      list[i].setLanguage(sources[i].language);
    }
    return message;
  }

  static PendingEvent Entity(const std::string& slug, const std::string& name, const std::string& lang = "de") {
    auto message = NewEvent("2024");
    auto reg = message->getRoot<schema::Event>().getPayload().initEntityRegistered();
    reg.setEntity(slug);
    reg.setType(schema::EntityType::CITY);
    reg.setCountry("DE");
    auto names = reg.initNames(1);
    names[0].setText(name);
    names[0].setLang(lang);
    return message;
  }

  static PendingEvent Partnership(const std::string& a, const std::string& b, const std::string& date,
                                  const std::vector<SourceSpec>& sources = {SourceSpec()}) {
    auto message = NewEvent(date, sources);
    auto p = message->getRoot<schema::Event>().getPayload().initPartnershipEstablished();
    p.setA(a);
    p.setB(b);
    p.setKind(schema::PartnershipKind::SISTER_CITY);
    return message;
  }

  static PendingEvent Retraction(const std::string& target) {
    auto message = NewEvent("2024");
    auto r = message->getRoot<schema::Event>().getPayload().initRetraction();
    r.setTarget(target);
    r.setReason("wrong city");
    return message;
  }

  static PendingEvent Amendment(const std::string& target, const std::string& a, const std::string& b,
                                const std::string& date) {
    auto message = NewEvent(date);
    auto am = message->getRoot<schema::Event>().getPayload().initAmendment();
    am.setTarget(target);
    am.setReason("date corrected");
    am.initValidTime().setEdtf(date);
    auto p = am.initReplacement().initPartnershipEstablished();
    p.setA(a);
    p.setB(b);
    p.setKind(schema::PartnershipKind::SISTER_CITY);
    return message;
  }

  Status Append(std::vector<PendingEvent> batch, AppendResult* result = nullptr,
                AppendOptions options = AppendOptions()) {
    AppendResult local;
    return log_->Append(batch, options, result ? result : &local);
  }

  template <typename... E>
  static std::vector<PendingEvent> Batch(E... events) {
    std::vector<PendingEvent> batch;
    (batch.push_back(std::move(events)), ...);
    return batch;
  }

  void AppendCities() {
    ASSERT_TRUE(Append(Batch(Entity("chongqing", "Chongqing"), Entity("duesseldorf", "Düsseldorf"),
                             Entity("duisburg", "Duisburg")))
                    .ok());
  }

  uint64_t LastSeq() {
    std::unique_ptr<ReadTxn> txn;
    EXPECT_TRUE(log_->BeginRead(&txn).ok());
    return txn->LastSeq();
  }

  test::TempDir temp_{"twinline-log-test"};
  std::string dir_ = temp_.path().string();
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<EventLog> log_;
};

TEST_F(EventLogTest, AssignsConsecutiveSeqsAndOneRecordedTimePerBatch) {
  AppendResult result;
  ASSERT_TRUE(Append(Batch(Entity("chongqing", "Chongqing"), Entity("duesseldorf", "Düsseldorf")), &result).ok());
  EXPECT_EQ(result.last_seq, 2u);
  EXPECT_EQ(result.appended, 2u);
  clock_.Advance(5);
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), &result).ok());
  EXPECT_EQ(result.outcomes[0].seq, 3u);

  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  std::vector<int64_t> times;
  ASSERT_TRUE(txn->Scan(1, 100, [&](schema::Event::Reader ev) {
                   times.push_back(ev.getRecordedAt());
                   return true;
                 }).ok());
  EXPECT_EQ(times, (std::vector<int64_t>{1'700'000'000'000'000, 1'700'000'000'000'000, 1'700'000'000'000'005}));
}

TEST_F(EventLogTest, StoresResolvedDateBoundsAndDerivedId) {
  AppendCities();
  AppendResult result;
  ASSERT_TRUE(Append(Batch(Partnership("duesseldorf", "chongqing", "2011-03")), &result).ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  ASSERT_TRUE(txn->Get(result.outcomes[0].seq, [&](schema::Event::Reader ev) {
                   EXPECT_EQ(FormatDay(ev.getValidTime().getEarliest()), "2011-03-01");
                   EXPECT_EQ(FormatDay(ev.getValidTime().getLatest()), "2011-03-31");
                   EXPECT_EQ(std::string(ev.getId().cStr()).substr(0, 3), "ev-");
                   // Symmetric pair stored in sorted order.
                   EXPECT_STREQ(ev.getPayload().getPartnershipEstablished().getA().cStr(), "chongqing");
                 }).ok());
}

TEST_F(EventLogTest, BatchIsAllOrNothing) {
  AppendCities();
  const uint64_t before = LastSeq();
  Status st = Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22"),
                           Partnership("chongqing", "duisburg", "2021-02-30")));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.index(), 1);
  EXPECT_EQ(st.field(), "date");
  EXPECT_EQ(LastSeq(), before);
  VerifyReport report;
  EXPECT_TRUE(log_->Verify(&report).ok());
}

TEST_F(EventLogTest, RefusesEventWithoutSource) {
  AppendCities();
  Status st = Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22", {})));
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.field(), "sources");
}

TEST_F(EventLogTest, RefusesUnknownEntityButAcceptsOneRegisteredEarlierInTheBatch) {
  Status st = Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")));
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_NE(st.message().find("chongqing"), std::string::npos);
  EXPECT_TRUE(Append(Batch(Entity("chongqing", "Chongqing"), Entity("duesseldorf", "Düsseldorf"),
                           Partnership("chongqing", "duesseldorf", "2004-07-22")))
                  .ok());
}

TEST_F(EventLogTest, SameFactTwiceIsStoredOnce) {
  AppendCities();
  AppendResult first, second;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), &first).ok());
  // Same fact, pair written the other way round, same source.
  ASSERT_TRUE(Append(Batch(Partnership("duesseldorf", "chongqing", "2004-07-22")), &second).ok());
  EXPECT_EQ(second.duplicates, 1u);
  EXPECT_EQ(second.outcomes[0].disposition, Disposition::kDuplicate);
  EXPECT_EQ(second.outcomes[0].event_id, first.outcomes[0].event_id);
  EXPECT_EQ(second.last_seq, first.last_seq);
}

TEST_F(EventLogTest, SameFactWithinOneBatchIsStoredOnce) {
  AppendCities();
  AppendResult result;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22"),
                           Partnership("chongqing", "duesseldorf", "2004-07-22")),
                     &result)
                  .ok());
  EXPECT_EQ(result.appended, 1u);
  EXPECT_EQ(result.duplicates, 1u);
}

TEST_F(EventLogTest, NewSourceForKnownFactIsRecordedAsCorroboration) {
  AppendCities();
  AppendResult first, second, third;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), &first).ok());
  SourceSpec english{"Chongqing and Düsseldorf celebrate 20 years", "example", "2024-07-22", "en"};
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22", {SourceSpec(), english})), &second)
                  .ok());
  ASSERT_EQ(second.outcomes[0].disposition, Disposition::kCorroborated);
  EXPECT_EQ(second.outcomes[0].event_id, first.outcomes[0].event_id);

  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  ASSERT_TRUE(txn->Get(second.outcomes[0].seq, [&](schema::Event::Reader ev) {
                   ASSERT_EQ(ev.getPayload().which(), schema::Payload::CORROBORATION);
                   EXPECT_EQ(Str(ev.getPayload().getCorroboration().getTarget()), first.outcomes[0].event_id);
                   ASSERT_EQ(ev.getSources().size(), 1u);  // only the new source
                   EXPECT_STREQ(ev.getSources()[0].getLanguage().cStr(), "en");
                 }).ok());
  // The original record is untouched: still one source.
  ASSERT_TRUE(txn->Get(first.outcomes[0].seq, [&](schema::Event::Reader ev) {
                   EXPECT_EQ(ev.getSources().size(), 1u);
                 }).ok());
  txn.reset();

  // Both sources now known: a third append changes nothing.
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22", {english})), &third).ok());
  EXPECT_EQ(third.outcomes[0].disposition, Disposition::kDuplicate);
  EXPECT_EQ(third.last_seq, second.last_seq);
}

TEST_F(EventLogTest, ExplicitIdTakenByAnotherFactIsRefused) {
  AppendCities();
  auto a = Partnership("chongqing", "duesseldorf", "2004-07-22");
  a->getRoot<schema::Event>().setId("cq-dus");
  ASSERT_TRUE(Append(Batch(std::move(a))).ok());
  auto b = Partnership("chongqing", "duisburg", "2004-07-22");
  b->getRoot<schema::Event>().setId("cq-dus");
  Status st = Append(Batch(std::move(b)));
  EXPECT_EQ(st.code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(st.field(), "id");
}

TEST_F(EventLogTest, ReregisteringAnEntityDifferentlyIsRefused) {
  AppendCities();
  Status st = Append(Batch(Entity("chongqing", "Chongqing City")));
  EXPECT_EQ(st.code(), Status::Code::kAlreadyExists);
  // The identical registration is a duplicate, not an error.
  AppendResult result;
  ASSERT_TRUE(Append(Batch(Entity("chongqing", "Chongqing")), &result).ok());
  EXPECT_EQ(result.duplicates, 1u);
}

TEST_F(EventLogTest, CorrectionsNeverAlterTheOriginal) {
  AppendCities();
  AppendResult fact, amend, retract;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2005")), &fact).ok());
  const std::string id = fact.outcomes[0].event_id;
  std::string original;
  {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    ASSERT_TRUE(txn->GetRaw(fact.outcomes[0].seq, &original).ok());
  }
  ASSERT_TRUE(Append(Batch(Amendment(id, "chongqing", "duesseldorf", "2004-07-22")), &amend).ok());
  const std::string amendment_id = amend.outcomes[0].event_id;

  // The superseded version cannot be amended again; the latest one can be retracted.
  Status st = Append(Batch(Amendment(id, "chongqing", "duesseldorf", "2004-07")));
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("already been amended"), std::string::npos);
  ASSERT_TRUE(Append(Batch(Retraction(amendment_id)), &retract).ok());
  st = Append(Batch(Retraction(amendment_id)));  // same retraction again: a duplicate
  EXPECT_TRUE(st.ok());

  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  std::string now;
  ASSERT_TRUE(txn->GetRaw(fact.outcomes[0].seq, &now).ok());
  EXPECT_EQ(now, original);
  int refs = 0;
  ASSERT_TRUE(txn->ScanReferences(id, [&](schema::Event::Reader) { return ++refs, true; }).ok());
  EXPECT_EQ(refs, 1);
  int entity_events = 0;
  ASSERT_TRUE(txn->ScanEntity("duesseldorf", [&](schema::Event::Reader) { return ++entity_events, true; }).ok());
  EXPECT_EQ(entity_events, 4);  // registration, fact, amendment, retraction
}

TEST_F(EventLogTest, RefusesCorrectionsOfUnknownRetractedOrMismatchedEvents) {
  AppendCities();
  EXPECT_EQ(Append(Batch(Retraction("ev-nope"))).code(), Status::Code::kNotFound);
  AppendResult fact, retract;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2005")), &fact).ok());
  const std::string id = fact.outcomes[0].event_id;

  auto wrong_kind = NewEvent("2005");
  auto am = wrong_kind->getRoot<schema::Event>().getPayload().initAmendment();
  am.setTarget(id);
  am.initValidTime().setEdtf("2005");
  auto route = am.initReplacement().initRouteOpened();
  route.setFrom("chongqing");
  route.setTo("duisburg");
  Status st = Append(Batch(std::move(wrong_kind)));
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.field(), "replacement.kind");

  ASSERT_TRUE(Append(Batch(Retraction(id)), &retract).ok());
  st = Append(Batch(Amendment(id, "chongqing", "duesseldorf", "2004")));
  EXPECT_NE(st.message().find("retracted"), std::string::npos);
  st = Append(Batch(Retraction(retract.outcomes[0].event_id)));
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
}

TEST_F(EventLogTest, ExpectedSeqConflictWritesNothing) {
  AppendCities();
  AppendOptions options;
  options.expected_last_seq = 2;  // the log is at 3
  AppendResult result;
  Status st = Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), &result, options);
  EXPECT_EQ(st.code(), Status::Code::kConflict);
  EXPECT_EQ(LastSeq(), 3u);
  options.expected_last_seq = 3;
  EXPECT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), &result, options).ok());
}

TEST_F(EventLogTest, ConflictWhenAnotherProcessAppendedFirst) {
  AppendCities();
  const uint64_t seen = LastSeq();
  log_.reset();  // LMDB allows one environment handle per process
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<EventLog> other;
    OpenOptions options;
    if (!EventLog::Open(dir_, options, &other).ok()) _exit(1);
    std::vector<PendingEvent> batch;
    batch.push_back(Partnership("chongqing", "duisburg", "2011-03"));
    AppendResult r;
    _exit(other->Append(batch, AppendOptions(), &r).ok() ? 0 : 2);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  Reopen();
  AppendOptions options;
  options.expected_last_seq = seen;
  Status st = Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), nullptr, options);
  EXPECT_EQ(st.code(), Status::Code::kConflict);
  EXPECT_EQ(LastSeq(), seen + 1);
}

TEST_F(EventLogTest, ReaderKeepsItsSnapshotWhileWriterAppends) {
  AppendCities();
  std::unique_ptr<ReadTxn> snapshot;
  ASSERT_TRUE(log_->BeginRead(&snapshot).ok());
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22"))).ok());
  EXPECT_EQ(snapshot->LastSeq(), 3u);
  EXPECT_EQ(snapshot->Get(4, [](schema::Event::Reader) {}).code(), Status::Code::kNotFound);
  EXPECT_EQ(LastSeq(), 4u);
}

TEST_F(EventLogTest, IndexesFindEventsByEntityDateIdAndName) {
  AppendCities();
  AppendResult r;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22"),
                           Partnership("chongqing", "duisburg", "../2023-10-06")),
                     &r)
                  .ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  uint64_t seq = 0;
  ASSERT_TRUE(txn->FindById(r.outcomes[1].event_id, &seq).ok());
  EXPECT_EQ(seq, 5u);

  std::vector<uint64_t> seqs;
  auto collect = [&](schema::Event::Reader ev) { return seqs.push_back(ev.getSeq()), true; };
  ASSERT_TRUE(txn->ScanEntity("duisburg", collect).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{3, 5}));

  // 2000-01-01..2000-12-31: only the open-start event can overlap.
  seqs.clear();
  ASSERT_TRUE(txn->ScanValidRange(DaysFromCivil(2000, 1, 1), DaysFromCivil(2000, 12, 31), collect).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{5}));

  std::vector<std::string> slugs;
  ASSERT_TRUE(txn->LookupNameKey("duesseldorf", &slugs).ok());
  EXPECT_EQ(slugs, (std::vector<std::string>{"duesseldorf"}));
  ASSERT_TRUE(txn->LookupNameKey("dusseldorf", &slugs).ok());
  EXPECT_EQ(slugs, (std::vector<std::string>{"duesseldorf"}));
}

TEST_F(EventLogTest, GetAscendingFetchesSeqsInOrderAndChainHashNamesEachRecord) {
  AppendCities();  // seqs 1-3
  AppendResult r;
  // Appended out of date order, as backfilled history is: seqs 4-7.
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2010"),
                           Partnership("chongqing", "duisburg", "1990-05-01"),
                           Partnership("duesseldorf", "duisburg", "2000"),
                           Partnership("chongqing", "duisburg", "1995")),
                     &r)
                  .ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  std::vector<uint64_t> seqs;
  auto collect = [&](schema::Event::Reader ev) { return seqs.push_back(ev.getSeq()), true; };

  // The chain: seq 0 is the zero hash every chain starts from; each
  // record's hash is SHA-256(previous hash ‖ canonical record).
  std::array<uint8_t, 32> zero{}, h1{}, h2{};
  ASSERT_TRUE(txn->ChainHash(0, &zero).ok());
  EXPECT_EQ(zero, (std::array<uint8_t, 32>{}));
  ASSERT_TRUE(txn->ChainHash(1, &h1).ok());
  ASSERT_TRUE(txn->ChainHash(2, &h2).ok());
  std::string raw;
  ASSERT_TRUE(txn->GetRaw(2, &raw).ok());
  Sha256 expected;
  expected.Update(h1.data(), h1.size());
  expected.Update(raw);
  EXPECT_EQ(expected.Finish(), h2);
  std::array<uint8_t, 32> beyond{};
  EXPECT_EQ(txn->ChainHash(8, &beyond).code(), Status::Code::kNotFound);

  seqs.clear();
  const std::vector<uint64_t> wanted{2, 5, 7};
  ASSERT_TRUE(txn->GetAscending(wanted, collect).ok());
  EXPECT_EQ(seqs, wanted);
  // Stops when the callback says so.
  seqs.clear();
  ASSERT_TRUE(txn->GetAscending(wanted, [&](schema::Event::Reader ev) {
                   seqs.push_back(ev.getSeq());
                   return false;
                 }).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2}));
  const std::vector<uint64_t> descending{7, 5}, missing{5, 99};
  EXPECT_EQ(txn->GetAscending(descending, collect).code(), Status::Code::kInvalidArgument);
  const Status st = txn->GetAscending(missing, collect);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_NE(st.message().find("99"), std::string::npos) << st.ToString();
}

TEST_F(EventLogTest, VerifyPassesAndReportsChainHead) {
  AppendCities();
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22"))).ok());
  VerifyReport report;
  Status st = log_->Verify(&report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(report.events, 4u);
  EXPECT_GT(report.index_entries, 10u);
  EXPECT_EQ(report.head.size(), 64u);
  LogStats stats;
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  ASSERT_TRUE(txn->Stats(&stats).ok());
  EXPECT_EQ(stats.head, report.head);
  EXPECT_EQ(stats.entities, 3u);
}

TEST_F(EventLogTest, VerifyNamesFirstBadSeqOfCorruptedRecord) {
  AppendCities();
  SourceSpec marked{"CORRUPT-ME-MARKER", "twinline tests", "2024", "en"};
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22", {marked}))).ok());
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duisburg", "2011"))).ok());
  log_.reset();

  // Flip one byte of the marker inside data.mdb, as a disk error or a
  // tamperer would. LMDB is copy-on-write, so stale copies of the record
  // may sit in free pages: alter every occurrence to be sure to hit the live one.
  // Records are stored packed (docs/FORMAT.md): a text's first word, 8
  // nonzero bytes, appears verbatim.
  std::string path = dir_ + "/data.mdb";
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t hits = 0;
  for (size_t at = data.find("CORRUPT-"); at != std::string::npos;
       at = data.find("CORRUPT-", at + 1), ++hits) {
    file.seekp(static_cast<std::streamoff>(at));
    file.put('X');
  }
  ASSERT_GT(hits, 0u);
  file.close();

  Reopen();
  VerifyReport report;
  Status st = log_->Verify(&report);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  ASSERT_TRUE(report.first_bad_seq.has_value());
  EXPECT_EQ(*report.first_bad_seq, 4u);
  EXPECT_NE(st.message().find("seq 4"), std::string::npos);
}

TEST_F(EventLogTest, RestoreKeepsSeqAndRecordedTimeSoChainsMatch) {
  AppendCities();
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22"))).ok());
  VerifyReport original;
  ASSERT_TRUE(log_->Verify(&original).ok());

  // Copy every record into a second log in restore mode.
  std::vector<PendingEvent> batch;
  {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    ASSERT_TRUE(txn->Scan(1, UINT64_MAX, [&](schema::Event::Reader ev) {
                     auto m = std::make_unique<capnp::MallocMessageBuilder>();
                     m->setRoot(ev);
                     batch.push_back(std::move(m));
                     return true;
                   }).ok());
  }
  test::TempDir copy_temp("twinline-log-restored");
  const std::string copy_dir = copy_temp.path().string();
  {
    std::unique_ptr<EventLog> copy;
    OpenOptions options;
    options.create_if_missing = true;
    options.map_size = size_t{64} << 20;
    ASSERT_TRUE(EventLog::Open(copy_dir, options, &copy).ok());
    AppendOptions restore;
    restore.restore = true;
    AppendResult r;
    Status st = copy->Append(batch, restore, &r);
    ASSERT_TRUE(st.ok()) << st.ToString();
    VerifyReport copied;
    ASSERT_TRUE(copy->Verify(&copied).ok());
    EXPECT_EQ(copied.head, original.head);
  }
}

TEST_F(EventLogTest, ChainHashIsTheStoredHashOfEachRecord) {
  AppendCities();
  VerifyReport report;
  ASSERT_TRUE(log_->Verify(&report).ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  Digest first{}, last{};
  ASSERT_TRUE(txn->ChainHash(1, &first).ok());
  ASSERT_TRUE(txn->ChainHash(3, &last).ok());
  EXPECT_NE(first, last);
  EXPECT_EQ(ToHex(last), report.head);
  EXPECT_EQ(txn->ChainHash(4, &last).code(), Status::Code::kNotFound);
}

TEST_F(EventLogTest, RestoreWithTheWrongExpectedChainHeadWritesNothing) {
  AppendCities();
  std::string head;
  std::vector<PendingEvent> batch;
  {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    Digest stored{};
    ASSERT_TRUE(txn->ChainHash(3, &stored).ok());
    head = std::string(AsBytes(stored));
    ASSERT_TRUE(txn->Scan(1, UINT64_MAX, [&](schema::Event::Reader ev) {
                     auto m = std::make_unique<capnp::MallocMessageBuilder>();
                     m->setRoot(ev);
                     batch.push_back(std::move(m));
                     return true;
                   }).ok());
  }
  test::TempDir copy_temp("twinline-log-restored");
  std::unique_ptr<EventLog> copy;
  OpenOptions options;
  options.create_if_missing = true;
  options.map_size = size_t{64} << 20;
  ASSERT_TRUE(EventLog::Open(copy_temp.path().string(), options, &copy).ok());
  AppendOptions restore;
  restore.restore = true;
  std::string wrong = head;
  wrong[0] = static_cast<char>(wrong[0] ^ 1);
  restore.expected_chain_head = wrong;
  AppendResult r;
  Status st = copy->Append(batch, restore, &r);
  EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("at seq 3"), std::string::npos) << st.message();
  {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(copy->BeginRead(&txn).ok());
    EXPECT_EQ(txn->LastSeq(), 0u);
  }
  restore.expected_chain_head = head;
  st = copy->Append(batch, restore, &r);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(r.last_seq, 3u);
}

TEST_F(EventLogTest, ReadOnlyOpenRefusesWrites) {
  AppendCities();
  log_.reset();
  OpenOptions options;
  options.read_only = true;
  ASSERT_TRUE(EventLog::Open(dir_, options, &log_).ok());
  EXPECT_EQ(Append(Batch(Entity("wuxi", "Wuxi"))).code(), Status::Code::kReadOnly);
  EXPECT_EQ(LastSeq(), 3u);
}

// ---------------------------------------------------------------------------
// Streaming batches (BeginBatch / BatchWriter).

TEST_F(EventLogTest, BatchWriterStreamsOneAtomicBatch) {
  std::unique_ptr<EventLog::BatchWriter> writer;
  ASSERT_TRUE(log_->BeginBatch(AppendOptions(), &writer).ok());
  AppendOutcome outcome;
  ASSERT_TRUE(writer->Add(Entity("chongqing", "Chongqing"), &outcome).ok());
  EXPECT_EQ(outcome.seq, 1u);
  ASSERT_TRUE(writer->Add(Entity("duesseldorf", "Düsseldorf"), nullptr).ok());
  // Sees the entities added before it, and is deduplicated within the batch.
  ASSERT_TRUE(writer->Add(Partnership("chongqing", "duesseldorf", "2004-07-22"), &outcome).ok());
  EXPECT_EQ(outcome.disposition, Disposition::kAppended);
  ASSERT_TRUE(writer->Add(Partnership("duesseldorf", "chongqing", "2004-07-22"), &outcome).ok());
  EXPECT_EQ(outcome.disposition, Disposition::kDuplicate);
  EXPECT_EQ(outcome.seq, 3u);
  EXPECT_EQ(LastSeq(), 0u);  // nothing is visible before Commit
  AppendResult result;
  ASSERT_TRUE(writer->Commit(&result).ok());
  EXPECT_TRUE(result.outcomes.empty());
  EXPECT_EQ(result.appended, 3u);
  EXPECT_EQ(result.duplicates, 1u);
  EXPECT_EQ(result.last_seq, 3u);
  EXPECT_EQ(result.recorded_at, clock_.NowMicros());
  EXPECT_EQ(LastSeq(), 3u);
  EXPECT_FALSE(writer->Add(Entity("duisburg", "Duisburg"), nullptr).ok());  // committed: closed
  VerifyReport report;
  EXPECT_TRUE(log_->Verify(&report).ok());
}

TEST_F(EventLogTest, BatchWriterFailureWritesNothingReleasesTheWriterAndRefusesLaterCalls) {
  AppendCities();
  std::unique_ptr<EventLog::BatchWriter> writer;
  ASSERT_TRUE(log_->BeginBatch(AppendOptions(), &writer).ok());
  ASSERT_TRUE(writer->Add(Partnership("chongqing", "duesseldorf", "2004-07-22"), nullptr).ok());
  Status st = writer->Add(Partnership("chongqing", "duisburg", "2021-02-30"), nullptr);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.index(), 1);
  EXPECT_EQ(st.field(), "date");
  // Dead: later calls repeat the failure.
  Status later = writer->Add(Partnership("duesseldorf", "duisburg", "2011"), nullptr);
  EXPECT_EQ(later.index(), 1);
  EXPECT_EQ(later.field(), "date");
  AppendResult result;
  EXPECT_FALSE(writer->Commit(&result).ok());
  // The failed writer no longer holds LMDB's writer lock (this would block).
  AppendResult other;
  ASSERT_TRUE(Append(Batch(Partnership("duesseldorf", "duisburg", "2011")), &other).ok());
  EXPECT_EQ(other.last_seq, 4u);  // the first partnership left no trace
  writer.reset();
  VerifyReport report;
  EXPECT_TRUE(log_->Verify(&report).ok());
}

TEST_F(EventLogTest, BatchWriterDestroyedWithoutCommitWritesNothing) {
  AppendCities();
  {
    std::unique_ptr<EventLog::BatchWriter> writer;
    ASSERT_TRUE(log_->BeginBatch(AppendOptions(), &writer).ok());
    ASSERT_TRUE(writer->Add(Partnership("chongqing", "duesseldorf", "2004-07-22"), nullptr).ok());
  }
  EXPECT_EQ(LastSeq(), 3u);
  AppendResult result;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), &result).ok());
  EXPECT_EQ(result.appended, 1u);  // not a duplicate: the fact index kept nothing either
}

TEST_F(EventLogTest, BatchWriterChecksExpectedSeqWhenItBegins) {
  AppendCities();
  AppendOptions options;
  options.expected_last_seq = 2;
  std::unique_ptr<EventLog::BatchWriter> writer;
  EXPECT_EQ(log_->BeginBatch(options, &writer).code(), Status::Code::kConflict);
  EXPECT_EQ(writer, nullptr);
  options.expected_last_seq = 3;
  ASSERT_TRUE(log_->BeginBatch(options, &writer).ok());
}

// ---------------------------------------------------------------------------
// Group commit (AppendGroup).

// A clock that moves on by one microsecond each time it is read.
class SteppingClock : public Clock {
 public:
  explicit SteppingClock(int64_t start) : now_(start) {}
  int64_t NowMicros() const override { return now_++; }

 private:
  mutable int64_t now_;
};

std::vector<EventLog::GroupItem> Group(std::vector<std::vector<PendingEvent>> batches) {
  std::vector<EventLog::GroupItem> items(batches.size());
  for (size_t i = 0; i < batches.size(); ++i) items[i].batch = std::move(batches[i]);
  return items;
}

TEST_F(EventLogTest, AppendGroupLandsIndependentBatchesWithTheirOwnRecordedTimes) {
  log_.reset();
  SteppingClock clock(1'700'000'000'000'000);
  OpenOptions options;
  options.create_if_missing = true;
  options.clock = &clock;
  options.map_size = size_t{64} << 20;
  ASSERT_TRUE(EventLog::Open(dir_, options, &log_).ok());

  std::vector<std::vector<PendingEvent>> batches;
  batches.push_back(Batch(Entity("chongqing", "Chongqing"), Entity("duesseldorf", "Düsseldorf")));
  batches.push_back(Batch(Entity("duisburg", "Duisburg"),
                          Partnership("chongqing", "duesseldorf", "2004-07-22")));  // names batch 0's entities
  batches.push_back(Batch(Partnership("chongqing", "duisburg", "2011")));
  auto items = Group(std::move(batches));
  ASSERT_TRUE(log_->AppendGroup(&items).ok());
  for (const auto& item : items) EXPECT_TRUE(item.status.ok()) << item.status.ToString();
  EXPECT_EQ(items[0].result.last_seq, 2u);
  EXPECT_EQ(items[1].result.last_seq, 4u);
  EXPECT_EQ(items[2].result.last_seq, 5u);
  ASSERT_EQ(items[1].result.outcomes.size(), 2u);
  EXPECT_EQ(items[1].result.outcomes[1].seq, 4u);
  EXPECT_LT(items[0].result.recorded_at, items[1].result.recorded_at);
  EXPECT_LT(items[1].result.recorded_at, items[2].result.recorded_at);

  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  std::vector<int64_t> times;
  ASSERT_TRUE(txn->Scan(1, 100, [&](schema::Event::Reader ev) { return times.push_back(ev.getRecordedAt()), true; })
                  .ok());
  const int64_t t0 = items[0].result.recorded_at, t1 = items[1].result.recorded_at,
                t2 = items[2].result.recorded_at;
  EXPECT_EQ(times, (std::vector<int64_t>{t0, t0, t1, t1, t2}));
  txn.reset();
  VerifyReport report;
  EXPECT_TRUE(log_->Verify(&report).ok());
}

TEST_F(EventLogTest, AppendGroupBadBatchAmongGoodOnesLeavesNoTrace) {
  AppendCities();
  auto marked = Partnership("chongqing", "duesseldorf", "2004-07-22");
  marked->getRoot<schema::Event>().setId("in-the-bad-batch");
  std::vector<std::vector<PendingEvent>> batches;
  batches.push_back(Batch(Entity("wuxi", "Wuxi")));
  batches.push_back(Batch(Entity("qingdao", "Qingdao"), std::move(marked),
                          Partnership("chongqing", "duisburg", "2021-02-30")));  // bad date
  batches.push_back(Batch(Partnership("duesseldorf", "duisburg", "2011")));
  auto items = Group(std::move(batches));
  ASSERT_TRUE(log_->AppendGroup(&items).ok());
  EXPECT_TRUE(items[0].status.ok());
  EXPECT_EQ(items[1].status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(items[1].status.index(), 2);
  EXPECT_EQ(items[1].status.field(), "date");
  EXPECT_EQ(items[1].result.last_seq, 0u);
  EXPECT_TRUE(items[2].status.ok());
  EXPECT_EQ(items[2].result.last_seq, 5u);  // straight after batch 0
  EXPECT_EQ(LastSeq(), 5u);

  {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    uint64_t seq = 0;
    EXPECT_EQ(txn->FindById("in-the-bad-batch", &seq).code(), Status::Code::kNotFound);
    EXPECT_EQ(txn->FindEntity("qingdao", &seq).code(), Status::Code::kNotFound);
    std::vector<std::string> slugs;
    ASSERT_TRUE(txn->LookupNameKey("qingdao", &slugs).ok());
    EXPECT_TRUE(slugs.empty());
    EXPECT_TRUE(txn->FindEntity("wuxi", &seq).ok());
  }
  VerifyReport report;
  Status st = log_->Verify(&report);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(report.events, 5u);
  // The facts index kept nothing of the bad batch: its good fact is new.
  AppendResult again;
  ASSERT_TRUE(Append(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")), &again).ok());
  EXPECT_EQ(again.appended, 1u);
}

TEST_F(EventLogTest, AppendGroupChecksEachExpectedSeqAgainstTheBatchesBeforeIt) {
  AppendCities();  // log at 3
  std::vector<std::vector<PendingEvent>> batches;
  batches.push_back(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")));
  batches.push_back(Batch(Partnership("chongqing", "duisburg", "2011")));
  batches.push_back(Batch(Partnership("duesseldorf", "duisburg", "2012")));
  batches.push_back(Batch(Entity("wuxi", "Wuxi")));
  auto items = Group(std::move(batches));
  items[0].options.expected_last_seq = 3;  // ok: the log is at 3
  items[1].options.expected_last_seq = 3;  // conflict: batch 0 moved it to 4
  items[2].options.expected_last_seq = 4;  // ok: batch 1 left no trace
  // items[3]: no expectation
  ASSERT_TRUE(log_->AppendGroup(&items).ok());
  EXPECT_TRUE(items[0].status.ok());
  EXPECT_EQ(items[1].status.code(), Status::Code::kConflict);
  EXPECT_NE(items[1].status.message().find("ends at seq 4"), std::string::npos) << items[1].status.message();
  EXPECT_TRUE(items[2].status.ok());
  EXPECT_EQ(items[2].result.last_seq, 5u);
  EXPECT_TRUE(items[3].status.ok());
  EXPECT_EQ(items[3].result.last_seq, 6u);
  EXPECT_EQ(LastSeq(), 6u);
}

TEST_F(EventLogTest, AppendGroupDeduplicatesAcrossBatchesAsIfAppendedInTurn) {
  SourceSpec english{"Chongqing and Düsseldorf celebrate 20 years", "example", "2024-07-22", "en"};
  // The same batches, once as a group and once one Append after another;
  // the clock stands still, so the two logs must be byte-identical.
  auto batches = [&] {
    std::vector<std::vector<PendingEvent>> b;
    b.push_back(Batch(Entity("chongqing", "Chongqing"), Entity("duesseldorf", "Düsseldorf")));
    b.push_back(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22")));
    b.push_back(Batch(Partnership("duesseldorf", "chongqing", "2004-07-22")));              // duplicate
    b.push_back(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22", {english})));  // corroboration
    b.push_back(Batch(Partnership("chongqing", "duesseldorf", "2004-07-22", {english}),   // duplicate
                      Entity("chongqing", "Chongqing")));                                   // duplicate
    return b;
  };
  auto items = Group(batches());
  ASSERT_TRUE(log_->AppendGroup(&items).ok());
  for (const auto& item : items) ASSERT_TRUE(item.status.ok()) << item.status.ToString();
  EXPECT_EQ(items[1].result.appended, 1u);
  EXPECT_EQ(items[2].result.duplicates, 1u);
  EXPECT_EQ(items[2].result.outcomes[0].event_id, items[1].result.outcomes[0].event_id);
  EXPECT_EQ(items[3].result.corroborated, 1u);
  EXPECT_EQ(items[4].result.duplicates, 2u);
  EXPECT_EQ(items[4].result.last_seq, 4u);
  EXPECT_EQ(items[4].result.recorded_at, 0);  // wrote nothing
  VerifyReport grouped;
  ASSERT_TRUE(log_->Verify(&grouped).ok());

  test::TempDir other_temp("twinline-log-in-turn");
  std::unique_ptr<EventLog> other;
  OpenOptions options;
  options.create_if_missing = true;
  options.clock = &clock_;
  options.map_size = size_t{64} << 20;
  ASSERT_TRUE(EventLog::Open(other_temp.path().string(), options, &other).ok());
  std::vector<AppendResult> in_turn;
  for (auto& batch : batches()) {
    AppendResult r;
    ASSERT_TRUE(other->Append(batch, AppendOptions(), &r).ok());
    in_turn.push_back(r);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(items[i].result.appended, in_turn[i].appended);
    EXPECT_EQ(items[i].result.corroborated, in_turn[i].corroborated);
    EXPECT_EQ(items[i].result.duplicates, in_turn[i].duplicates);
    EXPECT_EQ(items[i].result.last_seq, in_turn[i].last_seq);
  }
  VerifyReport sequential;
  ASSERT_TRUE(other->Verify(&sequential).ok());
  EXPECT_EQ(grouped.head, sequential.head);
  EXPECT_EQ(grouped.index_entries, sequential.index_entries);
}

TEST_F(EventLogTest, AppendGroupOnAReadOnlyLogFailsAsAWholeAndSaysSoPerItem) {
  AppendCities();
  log_.reset();
  OpenOptions options;
  options.read_only = true;
  ASSERT_TRUE(EventLog::Open(dir_, options, &log_).ok());
  std::vector<std::vector<PendingEvent>> batches;
  batches.push_back(Batch(Entity("wuxi", "Wuxi")));
  auto items = Group(std::move(batches));
  EXPECT_EQ(log_->AppendGroup(&items).code(), Status::Code::kReadOnly);
  EXPECT_EQ(items[0].status.code(), Status::Code::kReadOnly);
  EXPECT_EQ(LastSeq(), 3u);
}

TEST(EventLogOpenTest, MissingDatabaseIsNotFoundWithAHint) {
  std::unique_ptr<EventLog> log;
  Status st = EventLog::Open("/tmp/twinline-does-not-exist-xyz", OpenOptions(), &log);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_NE(st.message().find("twinline init"), std::string::npos);
}

}  // namespace
}  // namespace twinline
