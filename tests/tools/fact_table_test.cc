// Fact tables end to end (docs/EVENTS.md, "Fact tables"): `twinline import
// FILE.csv|.tsv` on the real binary and a temporary database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/testing/test_util.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Result = test::RunResult;

constexpr char kRegistrations[] =
    R"({"kind":"entity_registered","date":"2024","entity":"us","type":"country","names":[{"text":"United States","lang":"en"},{"text":"美国","lang":"zh"}],"country":"US","sources":[{"title":"T","publisher":"P","published":"2024","language":"en"}]})"
    "\n"
    R"({"kind":"entity_registered","date":"2024","entity":"chongqing","type":"city","names":[{"text":"Chongqing","lang":"en"},{"text":"重庆","lang":"zh"}],"country":"CN","sources":[{"title":"T","publisher":"P","published":"2024","language":"en"}]})"
    "\n";

// The issue's table, plus a route that closes and a count.
constexpr char kTable[] =
    "Kind,Subject,Subject_Country,Object,Object_Country,Date,End_Date,Amount,Currency,Source_URL,Note\n"
    "partnership_established,Xiangtan,CN,Lakeville,US,1987-05,,,,https://example.org/a,\n"
    "partnership_ended,Xiangtan,CN,Lakeville,US,2019-10-09,,,,https://example.org/b,council vote\n"
    "route_opened,Xiangtan,CN,Lakeville,US,2012,,,,https://example.org/c,freight rail\n"
    "trade_reported,Xiangtan,CN,United States,US,2021-01,2021-10,95890000000,CNY,https://www.example.org/d,\n"
    "partnership_established,重慶,CN,Lakeville,US,2001,2010,,,https://example.org/e,\n";

class FactTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_ / "db").string();
    ASSERT_EQ(Twl({"init"}).exit_code, 0);
    ASSERT_EQ(Twl({"import", File("places.ndjson", kRegistrations)}).exit_code, 0);
  }

  Result Twl(std::vector<std::string> args) {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", db_});
    return test::RunProgram(args, "", dir_);
  }

  std::string File(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    test::WriteFile(path, text);
    return path.string();
  }

  uint64_t Events() {
    Result r = Twl({"stats", "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["events"].get<uint64_t>();
  }

  test::TempDir temp_{"twinline-fact-table-test"};
  fs::path dir_ = temp_.path();
  std::string db_;
};

TEST_F(FactTableTest, ImportsTheTableRegisteringMissingPlacesAndSaysWhatItAssumed) {
  const std::string table = File("facts.csv", kTable);
  Result r = Twl({"import", "--register-missing", table});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 2 places registered, 5 rows, one of them (an end_date) two events.
  EXPECT_THAT(r.out, StartsWith("imported " + table + ": 8 events — 8 appended"));
  EXPECT_THAT(r.out, HasSubstr("\n  registered 2 places: xiangtan (Xiangtan, CN), lakeville (Lakeville, US)\n"));
  EXPECT_THAT(r.out, HasSubstr("default partnership_kind 'sister_city' applied to 3 rows (no partnership_kind column)"));
  EXPECT_THAT(r.out, HasSubstr("default route_mode 'rail' applied to 1 row (no route_mode column)"));
  EXPECT_THAT(r.out, HasSubstr("default flow 'total' applied to 1 row (no flow column)"));

  // The facts, as a user asks for them: Xiangtan's partnership ended in
  // 2019; the trade figure's period spans the two dates; the Traditional
  // spelling found Chongqing; the URL's host is the publisher.
  r = Twl({"log", "--entity", "xiangtan", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json events = nlohmann::json::parse(r.out);
  std::vector<std::string> kinds;
  for (const auto& ev : events) kinds.push_back(ev["kind"]);
  EXPECT_THAT(kinds, ::testing::UnorderedElementsAre("entity_registered", "partnership_established",
                                                     "partnership_ended", "route_opened", "trade_volume_reported"));
  for (const auto& ev : events) {
    if (ev["kind"] == "trade_volume_reported") {
      EXPECT_EQ(ev["period"], "2021-01/2021-10");
      EXPECT_EQ(ev["partner"], "us");
      EXPECT_EQ(ev["sources"][0]["publisher"], "www.example.org");
      EXPECT_EQ(ev["sources"][0]["url"], "https://www.example.org/d");
    }
    if (ev["kind"] == "partnership_ended") EXPECT_EQ(ev["note"], "council vote");
  }
  r = Twl({"log", "--entity", "chongqing", "--kind", "partnership_ended", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 1u);

  // Importing the same table again changes nothing.
  const uint64_t before = Events();
  r = Twl({"import", "--register-missing", table});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("0 appended"));
  EXPECT_EQ(Events(), before);
}

TEST_F(FactTableTest, UnknownPlaceWithoutRegisterMissingFailsTheLineAndWritesNothing) {
  const uint64_t before = Events();
  const std::string table = File("facts.csv", "kind,subject,object,date,source_url\n"
                                              "route_opened,Chongqing,United States,2011,https://example.org/r\n"
                                              "route_opened,Chongqin,United States,2012,https://example.org/r\n");
  Result r = Twl({"import", table});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith(table + ":3: subject: unknown entity 'Chongqin'; did you mean: chongqing"));
  EXPECT_THAT(r.err, HasSubstr("--register-missing"));
  EXPECT_THAT(r.err, HasSubstr("nothing was written"));
  EXPECT_EQ(Events(), before);
}

TEST_F(FactTableTest, TsvAndBadCellsNameLineAndColumn) {
  const std::string tsv = File("facts.tsv", "KIND\tSUBJECT\tOBJECT\tDATE\tAMOUNT\tCURRENCY\tSOURCE_URL\n"
                                            "trade_reported\tChongqing\tUS\t2024\t1.5e9\tUSD\thttps://example.org/t\n");
  Result r = Twl({"import", tsv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 event — 1 appended"));

  const uint64_t before = Events();
  const std::string bad = File("bad.csv", "kind,subject,object,date,amount,currency,source_url\n"
                                          "trade_reported,Chongqing,US,2023,95.89bn,USD,https://example.org/t\n");
  r = Twl({"import", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith(bad + ":2: amount: '95.89bn' is not a number"));
  const std::string date = File("date.csv", "kind,subject,object,date,source_url\n"
                                            "route_opened,Chongqing,US,2021-02-30,https://example.org/t\n");
  r = Twl({"import", date});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith(date + ":2: date: day 30 does not exist in 2021-02"));
  const std::string kind = File("kind.csv", "kind,subject,object,date,source_url\n"
                                            "retraction,Chongqing,US,2021,https://example.org/t\n");
  r = Twl({"import", kind});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith(kind + ":2: kind: 'retraction' is not a kind a fact table can hold"));
  EXPECT_EQ(Events(), before);
}

}  // namespace
}  // namespace twinline
