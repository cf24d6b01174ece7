// The questions researchers ask of their own fact table, each answered by
// one command (issue 15, section 2), end to end on the real binary: a table
// of a few hundred rows of mixed kinds, whose places are not registered
// yet, imported in one command; then the partners of a place as of a day
// (partnerships and routes apart, with kinds, dates and sources), the
// partnerships-only and routes-only views, the network-wide totals every
// replay answer ends with, and what happened between two dates beside the
// state diff. Every answer is the same from the temporal index as from the
// replay of the log (--no-index).
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
using ::testing::Not;
using Json = nlohmann::json;
using Result = test::RunResult;
using test::Grep;

constexpr char kHeader[] =
    "kind,subject,subject_country,object,object_country,date,end_date,partnership_kind,"
    "route_mode,name,amount,currency,metric,value,source_url,note\n";

// The rows the tests ask about.
// clang-format off
constexpr char kStoryRows[] =
    // Prague: 2 partnerships and 3 routes by 2020 (a network degree of 5).
    "partnership_established,Prague,CZ,Hamburg,DE,1990,,sister_city,,,,,,,https://example.org/prague-hamburg,\n"
    "partnership_established,Prague,CZ,Hamburg,DE,1990,,sister_city,,,,,,,https://example.net/hamburg-news,a second source\n"
    "partnership_established,Prague,CZ,Taipei,TW,2001-03,,friendship_city,,,,,,,https://example.org/prague-taipei,\n"
    "route_opened,Prague,CZ,Vienna,AT,1995,,,rail,,,,,,https://example.org/prague-vienna,\n"
    "route_opened,Prague,CZ,Shanghai,CN,2015-06,,,air_passenger,,,,,,https://example.org/prague-shanghai,\n"
    "route_opened,Dresden,DE,Prague,CZ,2008,,,road,,,,,,https://example.org/dresden-prague,\n"
    // A partnership that began and ended within 2020.
    "partnership_established,Brno,CZ,Linz,AT,2020-03-01,2020-09-30,,,,,,,,https://example.org/brno-linz,\n"
    // One that ended in 2019.
    "partnership_established,Xiangtan,CN,Lakeville,US,1987-05,,,,,,,,,https://example.org/a,\n"
    "partnership_ended,Xiangtan,CN,Lakeville,US,2019-10-09,,,,,,,,,https://example.org/b,council vote\n";
// clang-format on

struct Place {
  const char* name;
  const char* country;
};
constexpr Place kPlaces[] = {
    {"Aarhus", "DK"},  {"Bergen", "NO"}, {"Cork", "IE"},    {"Dijon", "FR"},  {"Essen", "DE"},
    {"Faro", "PT"},    {"Graz", "AT"},   {"Haarlem", "NL"}, {"Izmir", "TR"},  {"Jena", "DE"},
    {"Kobe", "JP"},    {"Lyon", "FR"},   {"Malmo", "SE"},   {"Nantes", "FR"}, {"Oulu", "FI"},
    {"Porto", "PT"},   {"Quito", "EC"},  {"Riga", "LV"},    {"Split", "HR"},  {"Turku", "FI"},
    {"Utrecht", "NL"}, {"Varna", "BG"},  {"Wroclaw", "PL"}, {"Xian", "CN"},   {"York", "GB"},
    {"Zadar", "HR"},   {"Bilbao", "ES"}, {"Gdansk", "PL"},  {"Kaunas", "LT"}, {"Tartu", "EE"},
};
constexpr int kPlaceCount = static_cast<int>(std::size(kPlaces));
constexpr int kFillerRows = 320;

// Row i of the filler: every kind a row can express, between the places
// above, on dates from 1960 to 2023 written to a year, a month or a day.
std::string FillerRow(int i) {
  static constexpr const char* kKinds[] = {
      "partnership_established", "route_opened",         "agreement_signed", "forum_held",
      "office_opened",           "organisation_founded", "award_granted",    "trade_reported",
      "count_reported",          "route_opened"};
  const std::string kind = kKinds[i % std::size(kKinds)];
  const int k = (i * 11 + i / 10) % kPlaceCount;
  const Place& a = kPlaces[k];
  int j = (i * 7 + 3 + i / 10 * 13) % kPlaceCount;
  if (j == k) j = (j + 1) % kPlaceCount;
  const Place& b = kPlaces[j];
  const int year = 1960 + (i * 13) % 64;
  char date[16];
  if (i % 3 == 0) std::snprintf(date, sizeof date, "%d", year);
  if (i % 3 == 1) std::snprintf(date, sizeof date, "%d-%02d", year, 1 + i % 12);
  if (i % 3 == 2) std::snprintf(date, sizeof date, "%d-%02d-%02d", year, 1 + i % 12, 1 + i % 28);
  std::string end_date, partnership_kind, route_mode, name, amount, currency, metric, value;
  const std::string n = std::to_string(i);
  if (kind == "partnership_established")
    partnership_kind = i % 4 == 0 ? "friendship_city" : "sister_city";
  if (kind == "route_opened") {
    route_mode = i % 3 == 0 ? "air_cargo" : i % 3 == 1 ? "sea" : "rail";
    if (i % 20 == 1) end_date = std::to_string(year + 3);  // some routes close again
  }
  if (kind == "agreement_signed") name = "Agreement " + n;
  if (kind == "forum_held") name = "Forum " + n;
  if (kind == "office_opened") name = "Office " + n;
  if (kind == "award_granted") name = "Award " + n;
  if (kind == "trade_reported") {
    amount = std::to_string(1000000 + i * 1000);
    currency = "EUR";
  }
  if (kind == "count_reported") {
    metric = "partner_cities";
    value = std::to_string(i % 40);
  }
  std::string object = b.name, object_country = b.country;
  if (kind == "organisation_founded") {
    object = std::string("Society ") + a.name + " " + n;  // a new place, registered from the row
    object_country = a.country;
  }
  return kind + "," + a.name + "," + a.country + "," + object + "," + object_country + "," + date +
         "," + end_date + "," + partnership_kind + "," + route_mode + "," + name + "," + amount +
         "," + currency + "," + metric + "," + value + ",https://example.org/facts/" + n + ",\n";
}

class FactTableAnswersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("twinline-fact-answers");
    db_ = new std::string(*dir_ / "db");
    std::string table = kHeader;
    table += kStoryRows;
    for (int i = 0; i < kFillerRows; ++i) table += FillerRow(i);
    table_ = new std::string(*dir_ / "facts.csv");
    test::WriteFile(*table_, table);
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    // One command: the whole table, registering every place it names.
    import_ = new Result(Run({"import", "--register-missing", *table_}));
    ASSERT_EQ(import_->exit_code, 0) << import_->err;
  }
  static void TearDownTestSuite() {
    delete import_;
    delete table_;
    delete db_;
    delete dir_;
  }

  static Result Run(std::vector<std::string> args) {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", *db_});
    return test::RunProgram(args, "", dir_->path());
  }
  // Runs a question, expecting success, and checks that the replay of the
  // log (--no-index) gives the same bytes.
  static std::string Ask(std::vector<std::string> args) {
    Result r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    args.push_back("--no-index");
    Result slow = Run(args);
    EXPECT_EQ(slow.exit_code, 0) << slow.err;
    EXPECT_EQ(r.out, slow.out) << "the temporal index and the log disagree";
    return r.out;
  }

  static test::TempDir* dir_;
  static std::string* db_;
  static std::string* table_;
  static Result* import_;
};

test::TempDir* FactTableAnswersTest::dir_ = nullptr;
std::string* FactTableAnswersTest::db_ = nullptr;
std::string* FactTableAnswersTest::table_ = nullptr;
Result* FactTableAnswersTest::import_ = nullptr;

TEST_F(FactTableAnswersTest, AFewHundredRowsOfMixedKindsImportInOneCommand) {
  EXPECT_THAT(import_->out, HasSubstr("registered "));
  EXPECT_THAT(import_->out, HasSubstr("prague (Prague, CZ)"));
  EXPECT_THAT(import_->out, HasSubstr("1 corroborated"));  // Prague–Hamburg's second source
  const Json stats = Json::parse(Run({"stats", "--format", "json"}).out);
  for (const char* kind :
       {"partnership_established", "partnership_ended", "route_opened", "route_closed",
        "agreement_signed", "forum_held", "office_opened", "organisation_founded", "award_granted",
        "trade_volume_reported", "count_reported", "entity_registered"}) {
    EXPECT_GT(stats["by_kind"].value(kind, 0), 0) << kind;
  }
  EXPECT_GT(stats["events"].get<int>(), 300 + kPlaceCount);
}

TEST_F(FactTableAnswersTest, PartnersOfAPlaceAsOfADayAreTwoListsWithKindsDatesAndSources) {
  const std::string out =
      Ask({"replay", "--as-of", "2020", "--projection", "partners", "--entity", "Prague"});
  EXPECT_THAT(out, HasSubstr("prague, as of 2020-12-31"));
  EXPECT_THAT(out, HasSubstr("\npartnerships: 2\n"));
  EXPECT_THAT(out, HasSubstr("\nroutes: 3\n"));
  EXPECT_EQ(Grep(out, "^hamburg +Hamburg +DE +sister_city +yes +1990 +2$").size(), 1u) << out;
  EXPECT_EQ(Grep(out, "^taipei +Taipei +TW +friendship_city +yes +2001-03 +1$").size(), 1u) << out;
  EXPECT_EQ(Grep(out, "^vienna +Vienna +AT +to +rail +yes +1995 +1$").size(), 1u) << out;
  EXPECT_EQ(Grep(out, "^shanghai +Shanghai +CN +to +air_passenger +yes +2015-06 +1$").size(), 1u)
      << out;
  EXPECT_EQ(Grep(out, "^dresden +Dresden +DE +from +road +yes +2008 +1$").size(), 1u) << out;
  // Under each partner: its events with their dates, and their sources.
  EXPECT_EQ(Grep(out, "^    1990  partnership_established  ev-").size(), 1u) << out;
  EXPECT_EQ(Grep(out, "^      source: .*https://example.org/prague-hamburg$").size(), 1u) << out;
  EXPECT_EQ(Grep(out, "^      source: .*https://example.net/hamburg-news$").size(), 1u) << out;

  // As of 2000 Taipei and Shanghai are not partners yet.
  const Json j = Json::parse(Ask({"replay", "--as-of", "2000", "--projection", "partners",
                                  "--entity", "prague", "--format", "json"}));
  EXPECT_EQ(j["partnerships"]["count"], Json::parse(R"({"certain":1,"possible":1})"));
  ASSERT_EQ(j["partnerships"]["partners"].size(), 1u);
  const Json& hamburg = j["partnerships"]["partners"][0];
  EXPECT_EQ(hamburg["partner"], "hamburg");
  EXPECT_EQ(hamburg["kind"], "sister_city");
  EXPECT_EQ(hamburg["since"], "1990");
  ASSERT_EQ(hamburg["events"].size(), 1u);
  EXPECT_EQ(hamburg["events"][0]["sources"].size(), 2u);
  EXPECT_EQ(hamburg["events"][0]["sources"][0]["url"], "https://example.org/prague-hamburg");
  std::vector<std::string> routes;
  for (const Json& r : j["routes"]["partners"]) {
    routes.push_back(r["partner"].get<std::string>() + " " + r["direction"].get<std::string>() +
                     " " + r["mode"].get<std::string>());
  }
  EXPECT_THAT(routes, ::testing::ElementsAre("vienna to rail"));

  // One list alone, and the same as CSV.
  const std::string csv = Ask({"replay", "--as-of", "2020", "--projection", "partners", "--entity",
                               "prague", "--edges", "routes", "--format", "csv"});
  EXPECT_EQ(Grep(csv, "^route,").size(), 3u) << csv;
  EXPECT_EQ(Grep(csv, "^partnership,").size(), 0u) << csv;
}

TEST_F(FactTableAnswersTest, PartnershipsOrRoutesAloneInReplayAndDiff) {
  auto degree = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"replay",  "--as-of",  "2020", "--projection",
                                     "network", "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Json net = Json::parse(Ask(args));
    for (const Json& n : net["nodes"]) {
      if (n["id"] == "prague") return n["degree"]["possible"].get<int>();
    }
    return -1;
  };
  EXPECT_EQ(degree({}), 5);
  EXPECT_EQ(degree({"--edges", "partnerships"}), 2);
  EXPECT_EQ(degree({"--edges", "routes"}), 3);

  const std::string counts = Ask({"replay", "--as-of", "2020", "--edges", "routes"});
  EXPECT_THAT(counts, HasSubstr("ENTITY"));
  EXPECT_THAT(counts, Not(HasSubstr("PARTNERSHIPS")));
  EXPECT_EQ(Grep(counts, "^prague +3$").size(), 1u) << counts;
  const std::string one =
      Ask({"replay", "--as-of", "2020", "--entity", "prague", "--edges", "partnerships"});
  EXPECT_EQ(Grep(one, "^prague +2$").size(), 1u) << one;
  EXPECT_THAT(one, HasSubstr("partnerships by kind:     friendship_city 1, sister_city 1"));
  EXPECT_THAT(one, Not(HasSubstr("routes by mode")));

  const Json diff =
      Json::parse(Ask({"diff", "2000", "2020", "--edges", "routes", "--format", "json"}));
  ASSERT_FALSE(diff["differences"].empty());
  for (const Json& d : diff["differences"]) {
    const std::string key = d["key"];
    EXPECT_TRUE(d["what"] == "route" || key.find(" routes") != std::string::npos) << d;
  }
  for (const Json& e : diff["window"]["events"]) {
    EXPECT_TRUE(e["kind"] == "route_opened" || e["kind"] == "route_closed") << e;
  }
  const Json partnerships = Json::parse(Ask({"diff", "2000", "2020", "--edges", "partnerships",
                                             "--projection", "network", "--format", "json"}));
  ASSERT_FALSE(partnerships["differences"].empty());
  for (const Json& d : partnerships["differences"]) EXPECT_EQ(d["what"], "partnership") << d;

  Result trade = Run({"replay", "--as-of", "2020", "--projection", "trade", "--edges", "routes"});
  EXPECT_EQ(trade.exit_code, 2);
  EXPECT_THAT(trade.err, HasSubstr("--edges"));
}

TEST_F(FactTableAnswersTest, EveryReplayAnswerCarriesTheNetworkTotals) {
  const Json series =
      Json::parse(Ask({"replay", "--from", "2020", "--to", "2020", "--format", "json"}));
  ASSERT_EQ(series["series"].size(), 1u);
  const Json& step = series["series"][0];
  const Json want = {{"partnerships", step["partnerships"]},
                     {"routes", step["routes"]},
                     {"entities_with_partnership", step["entities_with_partnership"]}};
  EXPECT_GT(want["partnerships"]["certain"].get<int>(), 10);
  EXPECT_GT(want["routes"]["certain"].get<int>(), 10);
  const std::vector<std::vector<std::string>> answers = {
      {"replay", "--as-of", "2020", "--format", "json"},
      {"replay", "--as-of", "2020", "--entity", "prague", "--format", "json"},
      {"replay", "--as-of", "2020", "--projection", "trade", "--format", "json"},
      {"replay", "--as-of", "2020", "--projection", "network", "--format", "json"},
      {"replay", "--as-of", "2020", "--projection", "network", "--entity", "prague", "--format",
       "json"},
      {"replay", "--as-of", "2020", "--projection", "partners", "--entity", "prague", "--format",
       "json"},
      {"replay", "--as-of", "2020", "--projection", "timeline", "--entity", "prague", "--format",
       "json"},
  };
  for (const auto& args : answers) {
    const Json j = Json::parse(Ask(args));
    EXPECT_EQ(j["network_totals"], want) << ::testing::PrintToString(args);
  }
  const std::string line =
      "network totals:  " + std::to_string(want["partnerships"]["certain"].get<int>()) +
      " partnerships, ";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"replay", "--as-of", "2020"},
           {"replay", "--as-of", "2020", "--entity", "prague"},
           {"replay", "--as-of", "2020", "--projection", "trade"},
           {"replay", "--as-of", "2020", "--projection", "network"},
           {"replay", "--as-of", "2020", "--projection", "partners", "--entity", "prague"},
           {"replay", "--as-of", "2020", "--projection", "timeline", "--entity", "prague"}}) {
    EXPECT_THAT(Ask(args), HasSubstr(line)) << ::testing::PrintToString(args);
  }
}

TEST_F(FactTableAnswersTest, WhatHappenedBetweenTwoDatesListsEventsBesideTheStateDiff) {
  const std::string out = Ask({"diff", "2019", "2020"});
  // FROM is the end of 2019: the window is the year 2020.
  EXPECT_THAT(out, HasSubstr("--- as of 2019-12-31 (the end of 2019), known at seq"));
  EXPECT_THAT(out, HasSubstr("+++ as of 2020-12-31 (the end of 2020), known at seq"));
  EXPECT_THAT(out, HasSubstr("\nwhat happened from 2020-01-01 to 2020-12-31: "));
  // Brno–Linz began and ended within 2020: no state differs, the events say it.
  EXPECT_EQ(Grep(out, "^[-+~] brno").size(), 0u) << out;
  EXPECT_EQ(
      Grep(out, "^2020-03-01 +partnership_established +brno — linz \\(sister city\\) +yes +ev-")
          .size(),
      1u)
      << out;
  EXPECT_EQ(
      Grep(out, "^2020-09-30 +partnership_ended +brno — linz \\(sister city\\) ended +yes +ev-")
          .size(),
      1u)
      << out;

  const Json j = Json::parse(Ask({"diff", "2019", "2020", "--entity", "brno", "--format", "json"}));
  EXPECT_TRUE(j["differences"].empty());
  EXPECT_EQ(j["window"]["from"], "2020-01-01");
  EXPECT_EQ(j["window"]["to"], "2020-12-31");
  ASSERT_EQ(j["window"]["events"].size(), 2u) << j;
  EXPECT_EQ(j["window"]["events"][0]["kind"], "partnership_established");
  EXPECT_EQ(j["window"]["events"][1]["kind"], "partnership_ended");

  // --events bounds the list, never the count.
  const std::string few = Ask({"diff", "1960", "2023", "--events", "3"});
  EXPECT_EQ(Grep(few, "^\\.\\.\\. and [0-9]+ more, not listed \\(the events limit is 3\\)$").size(),
            1u)
      << few;
}

TEST_F(FactTableAnswersTest, ARemovedRowSaysItIsGone) {
  const std::string out = Ask({"diff", "2018", "2019"});
  EXPECT_EQ(
      Grep(out, "^- lakeville — xiangtan \\(sister_city\\) +partnership +yes → no +ev-").size(), 1u)
      << out;
  EXPECT_EQ(Grep(out, "^- xiangtan partnerships +count +1 → 0 +ev-").size(), 1u) << out;
  EXPECT_EQ(Grep(out, "^[-~].* yes +ev-").size(), 0u) << out;
}

}  // namespace
}  // namespace twinline
