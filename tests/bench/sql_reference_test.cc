// The benchmark's SQLite reference (bench/sql_reference.h) asks twinline's
// question in SQL; these tests check that the SQL is right by hand on a small
// history with corrections, ends and open starts, and that it agrees with
// Replay and Diff on a generated history, which is what `bench/run` then
// relies on at every size. The DuckDB reference (bench/duckdb_reference.h,
// when the build installed it) is held to the same answers.
#include "bench/sql_reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "bench/duckdb_reference.h"
#include "core/edtf.h"
#include "tests/testing/test_util.h"

namespace twinline::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

int64_t Day(int y, unsigned m, unsigned d) { return DaysFromCivil(y, m, d); }

class SqlReferenceTest : public ::testing::Test {
 protected:
  // Imports `ndjson` into a fresh log with the real binary, opens it and
  // loads the SQLite reference from it.
  void Load(const std::string& ndjson) {
    test::WriteFile(temp_.path() / "history.ndjson", ndjson);
    ASSERT_EQ(Twl({"init"}).exit_code, 0);
    const test::RunResult r = Twl({"import", temp_ / "history.ndjson"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    OpenOptions options;
    options.read_only = true;
    ASSERT_TRUE(EventLog::Open(temp_ / "db", options, &log_).ok());
    ASSERT_TRUE(log_->BeginRead(&txn_).ok());
    LoadStats stats;
    const Status s = SqlReference::Load(*txn_, temp_ / "reference.sqlite", &stats, &sql_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // A generated history of 6,000 events, with partial dates, corrections,
  // ended partnerships and closed routes.
  void LoadGenerated() {
    const test::RunResult gen = test::RunProgram(
        {TWINLINE_GEN_BIN, "--events", "6000", "--cities", "300", "--countries", "20", "--seed", "5"},
        "", temp_.path());
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    ASSERT_NO_FATAL_FAILURE(Load(gen.out));
  }

  test::RunResult Twl(std::vector<std::string> args) {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", temp_ / "db"});
    return test::RunProgram(args, "", temp_.path());
  }

  std::vector<std::string> SqlAsOf(int64_t day) {
    AsOfAnswer answer;
    const Status s = sql_->AsOf(day, &answer);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return AsOfLines(answer);
  }
  std::vector<std::string> TwinlineAsOf(int64_t day, bool index = true) {
    Query q;
    q.as_of_day = day;
    q.rule = DateRule::kEarliest;
    q.use_index = index;
    Snapshot snap;
    const Status s = Replay(*txn_, q, &snap);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return AsOfLines(snap);
  }
  std::vector<std::string> SqlDiff(int64_t from, int64_t to) {
    DiffAnswer answer;
    const Status s = sql_->Diff(from, to, &answer);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return DiffLines(answer);
  }
  std::vector<std::string> TwinlineDiff(int64_t from, int64_t to) {
    Query q;
    q.rule = DateRule::kEarliest;
    Snapshot a, b;
    q.as_of_day = from;
    EXPECT_TRUE(Replay(*txn_, q, &a).ok());
    q.as_of_day = to;
    EXPECT_TRUE(Replay(*txn_, q, &b).ok());
    std::vector<DiffRow> rows;
    const Status s = twinline::Diff(*txn_, a, b, &rows);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return DiffLines(rows);
  }

  // What `twinline diff` computes: DiffAt, from the temporal index.
  std::vector<std::string> TwinlineDiffAt(int64_t from, int64_t to) {
    Query a, b;
    a.rule = b.rule = DateRule::kEarliest;
    a.as_of_day = from;
    b.as_of_day = to;
    Snapshot sa, sb;
    std::vector<DiffRow> rows;
    const Status s = DiffAt(*txn_, a, b, &sa, &sb, &rows);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return DiffLines(rows);
  }

#ifdef TWINLINE_DUCKDB_SCRIPT
  // DuckDB, loaded from the facts of the same log, exported as bench/run
  // exports them.
  void LoadDuckDb(int threads = 1) {
    FactStats stats;
    uint64_t bytes = 0;
    Status s = DuckDbReference::ExportFacts(*txn_, temp_ / "facts", &stats, &bytes);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_GT(bytes, 0u);
    DuckDbLoad load;
    s = DuckDbReference::Start({TWINLINE_NODE, TWINLINE_DUCKDB_SCRIPT}, temp_ / "facts",
                               temp_ / "reference.duckdb", threads, &load, &duck_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_THAT(load.version, ::testing::StartsWith("v"));
    EXPECT_GT(load.file_bytes, 0u);
  }
  std::vector<std::string> DuckAsOf(int64_t day) {
    AsOfAnswer answer;
    EngineTiming t;
    Status s = duck_->AsOfCounts(day, &answer, &t);
    if (s.ok()) s = duck_->AsOfTrade(day, &answer, &t);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_GE(t.wall_s, 0.0);
    return AsOfLines(answer);
  }
  std::vector<std::string> DuckDiff(int64_t from, int64_t to) {
    DiffAnswer answer;
    EngineTiming t;
    const Status s = duck_->Diff(from, to, &answer, &t);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return DiffLines(answer);
  }
  std::unique_ptr<DuckDbReference> duck_;
#endif

  test::TempDir temp_{"twinline-sql-reference-test"};
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ReadTxn> txn_;
  std::unique_ptr<SqlReference> sql_;
};

// Seqs follow the lines: aa 1, bb 2, cc 3, p1 4, p2 5, p3 6, o1 7, o2 8,
// o3 9, t1 10, t2 11, t3 12, x1 13 (retracts t3), m1 14 (moves p1 to 1998).
constexpr const char* kHandmade = R"(
{"id":"aa","kind":"entity_registered","date":"1950-01-01","entity":"aa","type":"city","names":[{"text":"Aa","lang":"en"}],"country":"XA","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"bb","kind":"entity_registered","date":"1950-01-01","entity":"bb","type":"city","names":[{"text":"Bb","lang":"en"}],"country":"XB","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"cc","kind":"entity_registered","date":"1950-01-01","entity":"cc","type":"city","names":[{"text":"Cc","lang":"en"}],"country":"XC","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"p1","kind":"partnership_established","date":"2000-05","a":"aa","b":"bb","partnership":"sister_city","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"p2","kind":"partnership_ended","date":"2005","a":"aa","b":"bb","partnership":"sister_city","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"p3","kind":"partnership_established","date":"../1990","a":"aa","b":"cc","partnership":"friendship_city","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"o1","kind":"route_opened","date":"2001-03","from":"aa","to":"cc","mode":"rail","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"o2","kind":"route_closed","date":"2010-06-01","from":"aa","to":"cc","mode":"rail","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"o3","kind":"route_opened","date":"2012","from":"aa","to":"cc","mode":"rail","name":"again","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"t1","kind":"trade_volume_reported","date":"2003","reporter":"aa","partner":"bb","period":"2002","amount":100,"currency":"EUR","flow":"total","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"t2","kind":"trade_volume_reported","date":"2004-02","reporter":"aa","partner":"bb","period":"2002","amount":120,"currency":"EUR","flow":"total","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"t3","kind":"trade_volume_reported","date":"2004-06","reporter":"aa","partner":"bb","period":"2002","amount":999,"currency":"EUR","flow":"total","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"x1","kind":"retraction","date":"2006","target":"t3","reason":"wrong","sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
{"id":"m1","kind":"amendment","target":"p1","reason":"date","replacement":{"kind":"partnership_established","date":"1998","a":"aa","b":"bb","partnership":"sister_city"},"sources":[{"title":"t","publisher":"p","published":"2020","language":"en"}]}
)";

TEST_F(SqlReferenceTest, AnswersAsOfByHandUnderTheEarliestRule) {
  ASSERT_NO_FATAL_FAILURE(Load(kHandmade));
  // The open start "../1990" is in effect from the beginning of time.
  EXPECT_THAT(SqlAsOf(Day(1960, 1, 1)), ElementsAre("counts aa 1 0", "counts cc 1 0"));
  // The amendment moved aa–bb from 2000-05 to 1998.
  EXPECT_THAT(SqlAsOf(Day(1998, 1, 1)),
              ElementsAre("counts aa 2 0", "counts bb 1 0", "counts cc 1 0"));
  EXPECT_THAT(SqlAsOf(Day(2001, 3, 1)),
              ElementsAre("counts aa 2 1", "counts bb 1 0", "counts cc 1 1"));
  // The later revision wins; the retracted one (999) never counts.
  EXPECT_THAT(SqlAsOf(Day(2004, 7, 1)),
              ElementsAre("counts aa 2 1", "counts bb 1 0", "counts cc 1 1",
                          "trade aa bb 2002 total 120.00 EUR 11"));
  // Ended in 2005; the route closed in 2010 and opened again in 2012.
  EXPECT_THAT(SqlAsOf(Day(2011, 1, 1)), ElementsAre("counts aa 1 0", "counts cc 1 0",
                                                    "trade aa bb 2002 total 120.00 EUR 11"));
  EXPECT_THAT(SqlAsOf(Day(2012, 1, 1)), ElementsAre("counts aa 1 1", "counts cc 1 1",
                                                    "trade aa bb 2002 total 120.00 EUR 11"));
  for (int64_t day : {Day(1960, 1, 1), Day(1998, 1, 1), Day(2001, 3, 1), Day(2004, 2, 1),
                      Day(2004, 7, 1), Day(2005, 1, 1), Day(2011, 1, 1), Day(2012, 1, 1)}) {
    EXPECT_EQ(TwinlineAsOf(day), SqlAsOf(day)) << FormatDay(day);
  }
}

TEST_F(SqlReferenceTest, AnswersDiffByHand) {
  ASSERT_NO_FATAL_FAILURE(Load(kHandmade));
  EXPECT_THAT(
      SqlDiff(Day(1997, 12, 31), Day(2004, 3, 1)),
      ElementsAre("count aa partnerships 1 2", "count aa routes 0 1", "count bb partnerships 0 1",
                  "count cc routes 0 1", "trade aa → bb 2002 total | none | 120 EUR"));
  EXPECT_THAT(SqlDiff(Day(2004, 3, 1), Day(2005, 1, 1)),
              ElementsAre("count aa partnerships 2 1", "count bb partnerships 1 0"));
  // Nothing happens between the two days: no row.
  EXPECT_THAT(SqlDiff(Day(2011, 1, 1), Day(2011, 6, 1)), IsEmpty());
  for (auto [from, to] :
       {std::pair(Day(1997, 12, 31), Day(2004, 3, 1)), std::pair(Day(2004, 3, 1), Day(2005, 1, 1)),
        std::pair(Day(1960, 1, 1), Day(2020, 1, 1)), std::pair(Day(2003, 6, 1), Day(2004, 3, 1))}) {
    EXPECT_EQ(TwinlineDiff(from, to), SqlDiff(from, to))
        << FormatDay(from) << " .. " << FormatDay(to);
  }
}

// A generated history (with partial dates, corrections, ended partnerships
// and closed routes) answers identically at many dates, with and without
// the index, and its diffs too.
TEST_F(SqlReferenceTest, AgreesWithReplayAndDiffOnAGeneratedHistory) {
  ASSERT_NO_FATAL_FAILURE(LoadGenerated());

  std::vector<int64_t> days;
  for (int year = 1950; year <= 2026; year += 4) days.push_back(Day(year, 6, 30));
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> any(Day(1950, 1, 1), Day(2025, 12, 31));
  for (int i = 0; i < 10; ++i) days.push_back(any(rng));
  size_t counted = 0;
  for (int64_t day : days) {
    const std::vector<std::string> sql = SqlAsOf(day);
    counted += sql.size();
    EXPECT_EQ(DescribeDifference("twinline", TwinlineAsOf(day), "SQLite", sql), "")
        << FormatDay(day);
    EXPECT_EQ(
        DescribeDifference("twinline (no index)", TwinlineAsOf(day, /*index=*/false), "SQLite", sql),
        "")
        << FormatDay(day);
  }
  EXPECT_GT(counted, 1000u);  // the question is not trivially empty
  for (int i = 0; i < 6; ++i) {
    int64_t from = any(rng), to = any(rng);
    if (from > to) std::swap(from, to);
    const std::vector<std::string> sql = SqlDiff(from, to);
    EXPECT_EQ(DescribeDifference("twinline", TwinlineDiff(from, to), "SQLite", sql), "")
        << FormatDay(from) << " .. " << FormatDay(to);
    EXPECT_EQ(DescribeDifference("DiffAt", TwinlineDiffAt(from, to), "SQLite", sql), "")
        << FormatDay(from) << " .. " << FormatDay(to);
  }
  EXPECT_THAT(SqlDiff(Day(1960, 1, 1), Day(2020, 1, 1)), Not(IsEmpty()));
}

#ifdef TWINLINE_DUCKDB_SCRIPT
// DuckDB's SQL (bench/duckdb/reference.mjs) gives the hand-checked answers
// of SQLite above: ties on a day broken by seq, the amendment, the
// retraction, the open start, the route closed and opened again.
TEST_F(SqlReferenceTest, DuckDbAnswersTheHandmadeHistoryAsSqliteDoes) {
  ASSERT_NO_FATAL_FAILURE(Load(kHandmade));
  ASSERT_NO_FATAL_FAILURE(LoadDuckDb());
  EXPECT_THAT(DuckAsOf(Day(2004, 7, 1)),
              ElementsAre("counts aa 2 1", "counts bb 1 0", "counts cc 1 1",
                          "trade aa bb 2002 total 120.00 EUR 11"));
  EXPECT_THAT(DuckDiff(Day(2004, 3, 1), Day(2005, 1, 1)),
              ElementsAre("count aa partnerships 2 1", "count bb partnerships 1 0"));
  for (int64_t day : {Day(1960, 1, 1), Day(1998, 1, 1), Day(2001, 3, 1), Day(2004, 2, 1),
                      Day(2004, 7, 1), Day(2005, 1, 1), Day(2011, 1, 1), Day(2012, 1, 1)}) {
    EXPECT_EQ(DuckAsOf(day), SqlAsOf(day)) << FormatDay(day);
  }
  for (auto [from, to] :
       {std::pair(Day(1997, 12, 31), Day(2004, 3, 1)), std::pair(Day(2004, 3, 1), Day(2005, 1, 1)),
        std::pair(Day(1960, 1, 1), Day(2020, 1, 1)), std::pair(Day(2011, 1, 1), Day(2011, 6, 1))}) {
    EXPECT_EQ(DuckDiff(from, to), SqlDiff(from, to)) << FormatDay(from) << " .. " << FormatDay(to);
  }
}

// On a generated history, DuckDB with two threads agrees with twinline's
// index (as-of) and DiffAt (diff).
TEST_F(SqlReferenceTest, DuckDbAgreesWithTwinlineOnAGeneratedHistory) {
  ASSERT_NO_FATAL_FAILURE(LoadGenerated());
  ASSERT_NO_FATAL_FAILURE(LoadDuckDb(/*threads=*/2));
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> any(Day(1950, 1, 1), Day(2025, 12, 31));
  size_t counted = 0;
  for (int i = 0; i < 8; ++i) {
    const int64_t day = any(rng);
    const std::vector<std::string> duck = DuckAsOf(day);
    counted += duck.size();
    EXPECT_EQ(DescribeDifference("twinline", TwinlineAsOf(day), "DuckDB", duck), "")
        << FormatDay(day);
  }
  EXPECT_GT(counted, 500u);
  for (int i = 0; i < 4; ++i) {
    int64_t from = any(rng), to = any(rng);
    if (from > to) std::swap(from, to);
    EXPECT_EQ(DescribeDifference("DiffAt", TwinlineDiffAt(from, to), "DuckDB", DuckDiff(from, to)),
              "")
        << FormatDay(from) << " .. " << FormatDay(to);
  }
}

// A load the DuckDB process refuses is an error with its reason, and an
// existing database file is never loaded into.
TEST(DuckDbReferenceTest, SaysWhyItCannotLoad) {
  test::TempDir temp("twinline-duckdb-reference-test");
  const DuckDbProgram program{TWINLINE_NODE, TWINLINE_DUCKDB_SCRIPT};
  std::unique_ptr<DuckDbReference> duck;
  DuckDbLoad load;
  Status s = DuckDbReference::Start(program, temp / "nofacts", temp / "new.duckdb", 1, &load, &duck);
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_THAT(s.ToString(), ::testing::HasSubstr("no entity.csv in"));
  EXPECT_EQ(duck, nullptr);

  test::WriteFile(temp.path() / "taken.duckdb", "x");
  s = DuckDbReference::Start(program, temp / "nofacts", temp / "taken.duckdb", 1, &load, &duck);
  EXPECT_EQ(s.code(), Status::Code::kAlreadyExists) << s.ToString();
}
#endif

TEST(SqlReferenceLinesTest, DescribesWhatDiffers) {
  EXPECT_EQ(DescribeDifference("twinline", {"a", "b"}, "SQLite", {"a", "b"}), "");
  const std::string d = DescribeDifference("twinline", {"a", "b"}, "SQLite", {"a", "c"});
  EXPECT_THAT(d, ::testing::HasSubstr("twinline: b"));
  EXPECT_THAT(d, ::testing::HasSubstr("SQLite: c"));
  EXPECT_THAT(d, ::testing::HasSubstr("1 only in twinline's, 1 only in SQLite's"));
  EXPECT_NE(LinesHash({"a", "b"}), LinesHash({"ab"}));
}

}  // namespace
}  // namespace twinline::bench
