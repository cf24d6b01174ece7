// EdgeHistories (projections/edge_history.h) against Replay: on a generated
// history (backdated, partial and open dates, ended partnerships, closed
// routes, retractions, amendments) and on the bundled dataset, every edge's
// status on a day taken from its spans equals the status of its row in the
// Snapshot Replay gives for that day, under every date rule, at the last
// seq and at an earlier one; and no Snapshot row is missing from the
// histories.
#include "projections/edge_history.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>

#include "core/edtf.h"
#include "core/event_log.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

class EdgeHistoryTest : public ::testing::Test {
 protected:
  // Imports `ndjson` into a fresh database with the real binary and opens it.
  void Load(const std::string& ndjson) {
    const auto file = temp_ / "events.ndjson";
    test::WriteFile(file, ndjson);
    const test::RunResult init =
        test::RunProgram({TWINLINE_BIN, "--db", temp_ / "db", "init"}, "", temp_.path());
    ASSERT_EQ(init.exit_code, 0) << init.err;
    const test::RunResult run = test::RunProgram(
        {TWINLINE_BIN, "--db", temp_ / "db", "import", file}, "", temp_.path());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    OpenOptions options;
    options.read_only = true;
    ASSERT_TRUE(EventLog::Open(temp_ / "db", options, &log_).ok());
    ASSERT_TRUE(log_->BeginRead(&txn_).ok());
  }

  static std::string Key(EdgeRow::Kind kind, const std::string& a, const std::string& b,
                         const std::string& subkind) {
    return std::to_string(static_cast<int>(kind)) + "|" + a + "|" + b + "|" + subkind;
  }

  // Compares the histories over [from, to] with Replay on `days`.
  void ExpectAgreesWithReplay(const Query& base, int64_t from, int64_t to,
                              const std::vector<int64_t>& days) {
    std::vector<EdgeHistory> histories;
    ASSERT_TRUE(EdgeHistories(*txn_, base, from, to, &histories).ok());
    std::map<std::string, const EdgeHistory*> by_key;
    for (const EdgeHistory& h : histories) by_key[Key(h.kind, h.a, h.b, h.subkind)] = &h;
    for (int64_t day : days) {
      Query q = base;
      q.as_of_day = day;
      q.rows = kEdgeRows;
      Snapshot snap;
      ASSERT_TRUE(Replay(*txn_, q, &snap).ok());
      size_t active = 0;
      for (const EdgeRow& row : snap.edges) {
        auto it = by_key.find(Key(row.kind, row.a, row.b, row.subkind));
        ASSERT_NE(it, by_key.end()) << "row " << row.a << "—" << row.b << " " << row.subkind
                                    << " on " << FormatDay(day) << " has no history";
        EXPECT_EQ(it->second->StatusOn(day), row.status)
            << row.a << "—" << row.b << " " << row.subkind << " on " << FormatDay(day);
      }
      for (const EdgeHistory& h : histories) active += h.StatusOn(day) != Tri::kNo ? 1 : 0;
      EXPECT_EQ(active, snap.edges.size()) << "edges active on " << FormatDay(day);
    }
  }

  test::TempDir temp_{"twinline-edge-history"};
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ReadTxn> txn_;
};

TEST_F(EdgeHistoryTest, StatusOnEveryDayEqualsReplayOnAGeneratedHistory) {
  const test::RunResult gen = test::RunProgram(
      {TWINLINE_GEN_BIN, "--events", "3000", "--seed", "7", "--cities", "60", "--countries", "10"},
      "", temp_.path());
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  Load(gen.out);
  EdtfDate lo, hi;
  ASSERT_TRUE(ParseEdtf("1950-01-01", &lo).ok());
  ASSERT_TRUE(ParseEdtf("2025-12-31", &hi).ok());
  std::mt19937_64 rng(16);
  std::uniform_int_distribution<int64_t> pick(lo.earliest, hi.latest);
  std::vector<int64_t> days = {lo.earliest, hi.latest};
  for (int i = 0; i < 40; ++i) days.push_back(pick(rng));
  for (DateRule rule : {DateRule::kRange, DateRule::kEarliest, DateRule::kLatest}) {
    for (uint64_t known : {txn_->LastSeq(), txn_->LastSeq() * 2 / 3}) {
      SCOPED_TRACE(std::string(rule == DateRule::kRange ? "range" : "placed") + " @" +
                   std::to_string(known));
      Query q;
      q.rule = rule;
      q.known_seq = known;
      ExpectAgreesWithReplay(q, lo.earliest, hi.latest, days);
    }
  }
}

TEST_F(EdgeHistoryTest, ChengduMontpellierIsPossibleThrough1981AndCertainFromItsLastDay) {
  Load(test::ReadFile(std::string(TWINLINE_SOURCE_DIR) + "/data/seed.ndjson"));
  EdtfDate y1980, y2025;
  ASSERT_TRUE(ParseEdtf("1980-01-01", &y1980).ok());
  ASSERT_TRUE(ParseEdtf("2025-12-31", &y2025).ok());
  std::vector<EdgeHistory> histories;
  ASSERT_TRUE(EdgeHistories(*txn_, Query(), y1980.earliest, y2025.latest, &histories).ok());
  const EdgeHistory* cm = nullptr;
  for (const EdgeHistory& h : histories) {
    if (h.a == "chengdu" && h.b == "montpellier") cm = &h;
  }
  ASSERT_NE(cm, nullptr);
  EdtfDate y1981;
  ASSERT_TRUE(ParseEdtf("1981", &y1981).ok());
  ASSERT_EQ(cm->spans.size(), 2u);
  EXPECT_EQ(cm->spans[0], (StatusSpan{y1981.earliest, y1981.latest - 1, Tri::kMaybe}));
  EXPECT_EQ(cm->spans[1], (StatusSpan{y1981.latest, y2025.latest, Tri::kYes}));
  EXPECT_EQ(cm->subkind, "sister_city");
  EXPECT_EQ(cm->StatusOn(y1981.earliest - 1), Tri::kNo);

  std::vector<int64_t> days;
  for (int64_t d = y1980.earliest; d <= y2025.latest; d += 97) days.push_back(d);
  ExpectAgreesWithReplay(Query(), y1980.earliest, y2025.latest, days);
}

TEST_F(EdgeHistoryTest, RefusesAWindowThatEndsBeforeItStarts) {
  Load(test::ReadFile(std::string(TWINLINE_SOURCE_DIR) + "/data/seed.ndjson"));
  std::vector<EdgeHistory> histories;
  const Status s = EdgeHistories(*txn_, Query(), 100, 99, &histories);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace twinline
