// End-to-end checks of `twinline replay`, `diff` and `checkpoint`: the real
// binary (TWINLINE_BIN) on the bundled dataset (data/seed.ndjson) imported
// into a temporary database. Expected values are read off data/README.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/testing/test_util.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Result = test::RunResult;
using test::Grep;

constexpr char kSeed[] = TWINLINE_SOURCE_DIR "/data/seed.ndjson";
constexpr uint64_t kSeedEvents = 96;  // data/README.md: 47 entities, 44 facts, 5 corroborations

// The seed is imported once for the suite; tests that write (appending a
// retraction, building checkpoints) get a database of their own.
class ReplayCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = new test::TempDir("twinline-replay-cli");
    seed_db_ = new std::string(*suite_dir_ / "seed.db");
    Result r = Run(*seed_db_, {"init"}, suite_dir_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Run(*seed_db_, {"import", kSeed}, suite_dir_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_THAT(r.out, HasSubstr("log at seq " + std::to_string(kSeedEvents)));
  }
  static void TearDownTestSuite() {
    delete seed_db_;
    delete suite_dir_;
    seed_db_ = nullptr;
    suite_dir_ = nullptr;
  }

  static Result Run(const std::string& db, std::vector<std::string> args, const fs::path& scratch,
                    const std::string& input = "") {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", db});
    Result r = test::RunProgram(args, input, scratch);
    EXPECT_NE(r.exit_code, -1) << r.err;
    return r;
  }

  // `twinline --db <seed> args...`, expected to succeed.
  Result Twl(std::vector<std::string> args, const std::string& db = "",
             const std::string& input = "") {
    Result r = Run(db.empty() ? *seed_db_ : db, std::move(args), dir_.path(), input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
  // The same, expected to fail with `exit_code`.
  Result TwlFails(std::vector<std::string> args, int exit_code) {
    Result r = Run(*seed_db_, std::move(args), dir_.path());
    EXPECT_EQ(r.exit_code, exit_code) << r.out << r.err;
    return r;
  }

  // A fresh database holding the seed, for tests that write.
  std::string OwnSeedDb() {
    const std::string db = dir_ / "own.db";
    Twl({"init"}, db);
    Twl({"import", kSeed}, db);
    return db;
  }

  // The id of the one event `log` finds with these filters.
  std::string IdOf(std::vector<std::string> filters, const std::string& db = "") {
    filters.insert(filters.begin(), "log");
    filters.insert(filters.end(), {"--format", "json"});
    const auto events = nlohmann::json::parse(Twl(filters, db).out);
    EXPECT_EQ(events.size(), 1u) << events;
    return events.empty() ? "" : events[0]["id"].get<std::string>();
  }

  std::string ChongqingDuesseldorfId(const std::string& db = "") {
    return IdOf({"--entity", "chongqing", "--kind", "partnership_established"}, db);
  }

  static test::TempDir* suite_dir_;
  static std::string* seed_db_;
  test::TempDir dir_{"twinline-replay-cli-test"};
};

test::TempDir* ReplayCliTest::suite_dir_ = nullptr;
std::string* ReplayCliTest::seed_db_ = nullptr;

// ---------------------------------------------------------------------------
// replay: counts

TEST_F(ReplayCliTest, PartnershipDatedToAYearIsUncertainWithinTheYear) {
  Result r = Twl({"replay", "--as-of", "1981-06-30", "--entity", "Chengdu"});
  EXPECT_THAT(r.out, HasSubstr("as of 1981-06-30"));
  EXPECT_EQ(Grep(r.out, "^chengdu +0–1 ").size(), 1u) << r.out;
}

TEST_F(ReplayCliTest, PartnershipDatedToAYearIsCertainAtTheYearsEnd) {
  Result r = Twl({"replay", "--as-of", "1981", "--entity", "成都"});
  EXPECT_THAT(r.out, HasSubstr("as of 1981-12-31"));
  EXPECT_EQ(Grep(r.out, "^chengdu +1 ").size(), 1u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("sister_city 1"));
  EXPECT_THAT(r.out, HasSubstr("FR 1"));
}

TEST_F(ReplayCliTest, ChongqingGainsItsPartnershipAndRouteBetween2003And2024) {
  Result before = Twl({"replay", "--as-of", "2003", "--entity", "重庆"});
  EXPECT_EQ(Grep(before.out, "^chongqing +0 +0 ").size(), 1u) << before.out;
  Result after = Twl({"replay", "--as-of", "2024", "--entity", "重庆"});
  EXPECT_EQ(Grep(after.out, "^chongqing +1 +1 ").size(), 1u) << after.out;
  EXPECT_THAT(after.out, HasSubstr("DE 1"));
  EXPECT_THAT(after.out, HasSubstr("rail 1"));
}

TEST_F(ReplayCliTest, EntityCountsShowItsReportedFiguresBesideTheLog) {
  Result r = Twl({"replay", "--as-of", "2025", "--entity", "chengdu"});
  EXPECT_EQ(Grep(r.out, R"(^reports partner_cities = 241 \(2025-04-17, ev-[0-9a-f]{16}\); )"
                        R"(the log knows 1$)")
                .size(),
            1u)
      << r.out;
  EXPECT_EQ(Grep(r.out, R"(^reports partner_cities in eu = 31 \(2025-04-17, ev-)").size(), 1u);
}

TEST_F(ReplayCliTest, CountsAsJsonAndCsvCarryTheSameRanges) {
  const auto j =
      nlohmann::json::parse(Twl({"replay", "--as-of", "1981-06-30", "--format", "json"}).out);
  EXPECT_EQ(j["as_of"], "1981-06-30");
  EXPECT_EQ(j["known_seq"], kSeedEvents);
  EXPECT_EQ(j["entities"]["chengdu"]["partnerships"]["certain"], 0);
  EXPECT_EQ(j["entities"]["chengdu"]["partnerships"]["possible"], 1);
  Result csv = Twl({"replay", "--as-of", "1981-06-30", "--format", "csv"});
  EXPECT_EQ(Grep(csv.out, "^entity,measure,certain,possible$").size(), 1u);
  EXPECT_EQ(Grep(csv.out, "^chengdu,partnerships,0,1$").size(), 1u) << csv.out;
}

TEST_F(ReplayCliTest, DateRulesDisagreeOnAFactWithAnOpenStart) {
  // Huangnixiang's friendship village tie is dated ../2023-10-06.
  Result earliest = Twl({"replay", "--as-of", "2000", "--entity", "huangnixiang", "--dates",
                         "earliest", "--format", "csv"});
  EXPECT_EQ(Grep(earliest.out, "^huangnixiang,partnerships,1,1$").size(), 1u) << earliest.out;
  Result latest = Twl({"replay", "--as-of", "2000", "--entity", "huangnixiang", "--dates", "latest",
                       "--format", "csv"});
  EXPECT_EQ(Grep(latest.out, "^huangnixiang,partnerships,0,0$").size(), 1u) << latest.out;
  Result range = Twl({"replay", "--as-of", "2000", "--entity", "huangnixiang", "--format", "csv"});
  EXPECT_EQ(Grep(range.out, "^huangnixiang,partnerships,0,1$").size(), 1u) << range.out;
}

// ---------------------------------------------------------------------------
// replay: trade, network, timeline, series

TEST_F(ReplayCliTest, TradeShowsChengduEuVolumeAndTotal) {
  Result r = Twl({"replay", "--as-of", "2024", "--projection", "trade"});
  EXPECT_EQ(Grep(r.out, "^chengdu +eu +2024 +total +142,160,000,000 +CNY +certain +ev-").size(), 1u)
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("total reported by chengdu: 142,160,000,000 CNY"));
  Result csv = Twl({"replay", "--as-of", "2024", "--projection", "trade", "--format", "csv"});
  EXPECT_EQ(Grep(csv.out, "^chengdu,eu,2024,total,142160000000,CNY,certain,ev-").size(), 1u)
      << csv.out;
}

TEST_F(ReplayCliTest, TradeBeforeTheReportedYearEndsIsOnlyPossible) {
  Result r = Twl({"replay", "--as-of", "2024-06", "--projection", "trade"});
  EXPECT_EQ(Grep(r.out, "^chengdu +eu .* possible ").size(), 1u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("total reported by chengdu: 0–142,160,000,000 CNY"));
}

// As JSON, a count or trade row lists its open events (e <= D < l) and counts
// its settled ones. Chengdu–EU trade is dated 2024: open (maybe) as of
// 2024-06-30, settled as of 2024. Chengdu as of 1981-06-30: its one counter
// fact, the Central Asia association (../2025-04-17), is open; nothing is
// settled yet.
TEST_F(ReplayCliTest, JsonRowsListOpenEventsAndCountSettledOnes) {
  auto trade = [&](const std::string& as_of) {
    const auto j = nlohmann::json::parse(
        Twl({"replay", "--as-of", as_of, "--projection", "trade", "--format", "json"}).out);
    EXPECT_EQ(j["trade"].size(), 1u) << j;
    return j["trade"][0];
  };
  const auto mid = trade("2024-06-30");
  ASSERT_EQ(mid["open_events"].size(), 1u) << mid;
  EXPECT_EQ(mid["open_events"][0]["occurred"], "maybe");
  EXPECT_EQ(mid["open_events"][0]["seq"], mid["seq"]);
  EXPECT_EQ(mid["settled_events"], 0);
  const auto end = trade("2024");
  EXPECT_TRUE(end["open_events"].empty()) << end;
  EXPECT_EQ(end["settled_events"], 1);
  EXPECT_FALSE(end.contains("events"));

  const auto j =
      nlohmann::json::parse(Twl({"replay", "--as-of", "1981-06-30", "--format", "json"}).out);
  const auto& chengdu = j["entities"]["chengdu"];
  ASSERT_EQ(chengdu["open_events"].size(), 1u) << chengdu;
  EXPECT_EQ(chengdu["open_events"][0]["occurred"], "maybe");
  EXPECT_EQ(chengdu["settled_events"], 0);
  EXPECT_EQ(chengdu["organisations"]["possible"], 1);
}

// As of 2025 every partnership and route of the seed is certain: 6
// partnerships and 4 routes between 16 entities (data/README.md).
constexpr size_t kNodes2025 = 16, kEdges2025 = 10;

TEST_F(ReplayCliTest, NetworkAsGraphMlIsXmlWithEveryNodeAndEdge) {
  const std::string path = dir_ / "network.graphml";
  test::WriteFile(
      path,
      Twl({"replay", "--as-of", "2025", "--projection", "network", "--format", "graphml"}).out);
  const std::string script =
      "import sys, xml.etree.ElementTree as ET\n"
      "ns = {'g': 'http://graphml.graphdrawing.org/xmlns'}\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "print(len(root.findall('.//g:node', ns)), len(root.findall('.//g:edge', ns)))\n";
  Result py = test::RunProgram({"/usr/bin/python3", "-c", script, path}, "", dir_.path());
  if (py.exit_code == -1) GTEST_SKIP() << "python3 is not installed";
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, std::to_string(kNodes2025) + " " + std::to_string(kEdges2025) + "\n");

  // networkx reads it too, when installed.
  const std::string nx =
      "import sys\n"
      "try:\n  import networkx\nexcept ImportError:\n  print('skip'); sys.exit(0)\n"
      "g = networkx.read_graphml(sys.argv[1])\n"
      "print(g.number_of_nodes(), g.number_of_edges(), g.nodes['chongqing']['label'])\n";
  py = test::RunProgram({"/usr/bin/python3", "-c", nx, path}, "", dir_.path());
  ASSERT_EQ(py.exit_code, 0) << py.err;
  if (py.out != "skip\n") {
    EXPECT_EQ(py.out,
              std::to_string(kNodes2025) + " " + std::to_string(kEdges2025) + " Chongqing\n");
  }
}

TEST_F(ReplayCliTest, NetworkAsGeoJsonHasPointsForCitiesWithCoordinates) {
  const auto j = nlohmann::json::parse(
      Twl({"replay", "--as-of", "2025", "--projection", "network", "--format", "geojson"}).out);
  EXPECT_EQ(j["type"], "FeatureCollection");
  size_t points = 0, lines = 0;
  for (const auto& f : j["features"]) {
    if (f["geometry"]["type"] == "Point") ++points;
    if (f["geometry"]["type"] == "LineString") ++lines;
    if (f["properties"].value("id", "") == "chongqing") {
      EXPECT_EQ(f["geometry"]["coordinates"], (nlohmann::json{106.55, 29.56}));
    }
  }
  // Located: chengdu, montpellier, chongqing, duesseldorf, qingdao, mannheim,
  // samarkand, port-of-long-beach. Lines with both ends located: the two
  // city partnerships and the two Qingdao trains.
  EXPECT_EQ(points, 8u);
  EXPECT_EQ(lines, 4u);
}

TEST_F(ReplayCliTest, NetworkTableSummarisesComponentsAndHubs) {
  Result r = Twl({"replay", "--as-of", "2025", "--projection", "network"});
  EXPECT_EQ(Grep(r.out, "^nodes: +16$").size(), 1u) << r.out;
  EXPECT_EQ(Grep(r.out, R"(^edges: +10 \(10 certain, 0 possible\)$)").size(), 1u) << r.out;
  EXPECT_EQ(Grep(r.out, "^qingdao-port +Qingdao Port +port +2 ").size(), 1u) << r.out;
  const auto j = nlohmann::json::parse(
      Twl({"replay", "--as-of", "2025", "--projection", "network", "--format", "json"}).out);
  EXPECT_EQ(j["nodes"].size(), kNodes2025);
  EXPECT_EQ(j["edges"].size(), kEdges2025);
}

TEST_F(ReplayCliTest, CountriesTableSumsTheNetworkByCountryAndListsTheStrongestLinks) {
  // Chongqing–Düsseldorf arrives on 2004-07-22: the CN–DE link with it.
  Result r = Twl({"replay", "--as-of", "2004-07-21", "--projection", "countries", "--top", "all"});
  EXPECT_THAT(r.out, Not(HasSubstr("CN  DE")));
  r = Twl({"replay", "--as-of", "2004-07-22", "--projection", "countries", "--top", "all"});
  EXPECT_THAT(r.out, HasSubstr("as of 2004-07-22, known at seq 96, dates range"));
  ASSERT_EQ(Grep(r.out, "^CN  DE +1 +0$").size(), 1u) << r.out;
  // A year-dated partnership is possible within its year, certain after it.
  r = Twl({"replay", "--as-of", "1981-06-30", "--projection", "countries"});
  EXPECT_EQ(Grep(r.out, "^CN  FR +0–1 +0$").size(), 1u) << r.out;
  EXPECT_EQ(Grep(r.out, "^partnerships: +0–2$").size(), 1u) << r.out;
  r = Twl({"replay", "--as-of", "2025", "--projection", "countries", "--top", "2"});
  EXPECT_THAT(r.out, HasSubstr("links, the 2 strongest of 8:"));
  EXPECT_EQ(Grep(r.out, "^CN +6 +4 +6$").size(), 1u) << r.out;  // every partnership touches China
  EXPECT_EQ(Grep(r.out, "^- +0 +1 +1$").size(), 1u) << r.out;   // Europe: no country
  // The CSV lists: one row per country, or per link.
  r = Twl({"replay", "--as-of", "2025", "--projection", "countries", "--format", "csv", "--layer",
           "nodes"});
  EXPECT_THAT(r.out, HasSubstr("country,partnerships_certain,partnerships_possible,routes_certain,"
                               "routes_possible,entities_certain,entities_possible\n,0,0,1,1,1,1\n"));
  EXPECT_THAT(r.out, HasSubstr("\nCN,6,6,4,4,6,6\n"));
}

TEST_F(ReplayCliTest, TimelineOfChongqingListsThePartnershipWithItsSource) {
  Result r = Twl({"replay", "--as-of", "2025", "--projection", "timeline", "--entity", "重庆"});
  const std::vector<std::string> lines = Grep(r.out, "");
  const std::regex row("^2004-07-22 +partnership_established +chongqing — duesseldorf");
  auto it = std::find_if(lines.begin(), lines.end(),
                         [&](const std::string& line) { return std::regex_search(line, row); });
  ASSERT_NE(it, lines.end()) << r.out;
  EXPECT_THAT(*it, HasSubstr(ChongqingDuesseldorfId()));
  ASSERT_NE(it + 1, lines.end());
  EXPECT_EQ(*(it + 1),
            "    source: Chongqing und Düsseldorf feiern 20 Jahre "
            "Städtepartnerschaftsfreundschaft — nrwheute, 2024? (de)");
  const auto j = nlohmann::json::parse(Twl({"replay", "--as-of", "2025", "--projection", "timeline",
                                            "--entity", "chongqing", "--format", "json"})
                                           .out);
  bool found = false;
  for (const auto& e : j["events"]) {
    if (e["date"] != "2004-07-22") continue;
    found = true;
    EXPECT_EQ(e["occurred"], "yes");
    EXPECT_EQ(e["sources"][0]["publisher"], "nrwheute");
  }
  EXPECT_TRUE(found) << j;
}

TEST_F(ReplayCliTest, YearlySeriesHasOneRowPerYearEnd) {
  Result r = Twl({"replay", "--from", "2000", "--to", "2025", "--step", "year"});
  const auto rows = Grep(r.out, "^[0-9]{4}-");
  ASSERT_EQ(rows.size(), 26u) << r.out;
  EXPECT_EQ(rows.front().substr(0, 10), "2000-12-31");
  EXPECT_EQ(rows.back().substr(0, 10), "2025-12-31");
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "date,partnerships_certain,partnerships_possible,routes_certain,routes_possible,"
            "entities_with_partnership_certain,entities_with_partnership_possible,"
            "trade_CNY_certain,trade_CNY_possible");
  // 2004: Chengdu—Montpellier and Chongqing—Düsseldorf certain; the open-start
  // friendship village and the chengdu→belgium flights possible.
  EXPECT_EQ(Grep(r.out, "^2004-12-31,2,3,").size(), 1u) << r.out;
  EXPECT_EQ(Grep(r.out, "^2024-12-31,.*,142160000000,142160000000$").size(), 1u) << r.out;
}

TEST_F(ReplayCliTest, MonthlySeriesForOneEntityStepsAtMonthEnds) {
  const auto j =
      nlohmann::json::parse(Twl({"replay", "--from", "2004-06", "--to", "2004-08", "--step",
                                 "month", "--entity", "Düsseldorf", "--format", "json"})
                                .out);
  ASSERT_EQ(j["series"].size(), 3u) << j;
  EXPECT_EQ(j["series"][0]["date"], "2004-06-30");
  EXPECT_EQ(j["series"][0]["partnerships"]["possible"], 0);
  EXPECT_EQ(j["series"][1]["date"], "2004-07-31");
  EXPECT_EQ(j["series"][1]["partnerships"]["certain"], 1);
  EXPECT_EQ(j["series"][1]["entities_with_partnership"]["certain"], 1);  // its partner
}

// ---------------------------------------------------------------------------
// diff

TEST_F(ReplayCliTest, DiffBetweenDatesNamesTheEventBehindANewPartnership) {
  Result r = Twl({"diff", "2003", "2005"});
  const auto rows = Grep(r.out, R"(^\+ chongqing — duesseldorf \(sister_city\) )");
  ASSERT_EQ(rows.size(), 1u) << r.out;
  EXPECT_THAT(rows[0], HasSubstr(ChongqingDuesseldorfId()));
  EXPECT_THAT(r.out, HasSubstr("--- as of 2003-12-31"));
  EXPECT_THAT(r.out, HasSubstr("+++ as of 2005-12-31"));
}

TEST_F(ReplayCliTest, DiffListsSourcesUnderEachRowAndAtMostTheRowsOfItsLimit) {
  Result r = Twl({"diff", "2003", "2005", "--sources", "--limit", "2"});
  const auto rows = Grep(r.out, R"(^[-+~] )");
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(Grep(r.out, "^    " + ChongqingDuesseldorfId() +
                            " source: Chongqing und Düsseldorf feiern 20 Jahre "
                            "Städtepartnerschaftsfreundschaft — nrwheute, 2024\\? \\(de\\)$")
                .size(),
            2u)
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("\n... and 5 more\n7 differences: 7 added, 0 removed, 0 changed\n"));

  r = Twl({"diff", "2003", "2005", "--limit", "1", "--format", "json"});
  const auto diff = nlohmann::json::parse(r.out);
  EXPECT_EQ(diff["differences"].size(), 1u);
  EXPECT_FALSE(diff["differences"][0]["events"][0].contains("sources"));
  EXPECT_EQ(diff["summary"], (nlohmann::json{{"differences", 7}, {"added", 7}, {"removed", 0},
                                             {"changed", 0}}));
  EXPECT_THAT(TwlFails({"diff", "2003", "2005", "--limit", "0"}, 2).err, HasSubstr("--limit"));
}

TEST_F(ReplayCliTest, DiffWithNothingChangedSaysNoDifferences) {
  Result r = Twl({"diff", "2005", "2006", "--entity", "chongqing"});
  EXPECT_THAT(r.out, HasSubstr("no differences\n"));
  const auto j = nlohmann::json::parse(
      Twl({"diff", "2005", "2006", "--entity", "chongqing", "--format", "json"}).out);
  EXPECT_TRUE(j["differences"].empty());
}

TEST_F(ReplayCliTest, DiffOfProjectionNetworkShowsOnlyEdges) {
  const auto j = nlohmann::json::parse(
      Twl({"diff", "2003", "2025", "--projection", "network", "--format", "json"}).out);
  ASSERT_FALSE(j["differences"].empty());
  for (const auto& d : j["differences"]) {
    EXPECT_TRUE(d["what"] == "partnership" || d["what"] == "route") << d;
    EXPECT_FALSE(d["events"].empty()) << d;
  }
}

TEST_F(ReplayCliTest, DiffBetweenRecordedTimesNamesTheRetraction) {
  const std::string db = OwnSeedDb();
  const std::string target = ChongqingDuesseldorfId(db);
  const std::string retraction =
      R"({"kind":"retraction","date":"2025-01-01","target":")" + target +
      R"(","reason":"test","sources":[{"title":"Correction","publisher":"twinline tests",)"
      R"("published":"2025-01-01","language":"en"}]})";
  Result appended = test::RunProgram({TWINLINE_BIN, "--db", db, "append", "--format", "json"},
                                     retraction, dir_.path());
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  const auto outcome = nlohmann::json::parse(appended.out);
  const std::string retraction_id = outcome["id"];
  const std::string before = "@" + std::to_string(kSeedEvents);

  Result r = Twl({"diff", "--as-of", "2024", "--known-at", before, "--vs-known-at",
                  "@" + std::to_string(outcome["seq"].get<uint64_t>())},
                 db);
  const auto rows = Grep(r.out, R"(^- chongqing — duesseldorf \(sister_city\) )");
  ASSERT_EQ(rows.size(), 1u) << r.out;
  EXPECT_THAT(rows[0], HasSubstr(target));
  EXPECT_THAT(rows[0], HasSubstr(retraction_id));
  // A removed row says it is gone, not a bare "yes" that reads as active.
  EXPECT_THAT(rows[0], HasSubstr("  partnership  yes → no  "));

  // With --sources each event's sources, the retraction's too, under the row.
  r = Twl({"diff", "--as-of", "2024", "--known-at", before, "--vs-known-at",
           "@" + std::to_string(outcome["seq"].get<uint64_t>()), "--sources", "--format", "json",
           "--projection", "network"},
          db);
  const auto diff = nlohmann::json::parse(r.out);
  ASSERT_EQ(diff["differences"].size(), 1u) << r.out;
  const auto& row = diff["differences"][0];
  EXPECT_EQ(row["events"][0]["sources"][0]["publisher"], "nrwheute") << r.out;
  EXPECT_EQ(row["corrections"][0]["id"], retraction_id) << r.out;
  EXPECT_EQ(row["corrections"][0]["sources"][0]["title"], "Correction") << r.out;

  // Known at the earlier time, the partnership is still there.
  Result old =
      Twl({"replay", "--as-of", "2024", "--entity", "chongqing", "--known-at", before}, db);
  EXPECT_EQ(Grep(old.out, "^chongqing +1 ").size(), 1u) << old.out;
  Result now = Twl({"replay", "--as-of", "2024", "--entity", "chongqing"}, db);
  EXPECT_EQ(Grep(now.out, "^chongqing +0 ").size(), 1u) << now.out;
}

// ---------------------------------------------------------------------------
// checkpoint

// The temporal index is derived data: dropped, rebuilt or read with a tail,
// every answer is the one the log gives (`--no-index`), byte for byte.
TEST_F(ReplayCliTest, IndexIsShownRebuiltVerifiedAndDroppedAndLeavesAnswersUnchanged) {
  const std::string db = OwnSeedDb();
  Result shown = Twl({"index"}, db);
  EXPECT_THAT(shown.out, testing::ContainsRegex("built at seq: +96\n"));
  EXPECT_THAT(shown.out, testing::ContainsRegex("tail: +0 events"));
  EXPECT_THAT(Twl({"index", "--verify"}, db).out, HasSubstr("ok: the temporal index at seq 96"));

  auto same_answers = [&](const std::string& when) {
    for (const std::string as_of : {"1981-06-30", "2004", "2011-03-15", "2021", "2024", "2030"}) {
      for (const std::string projection : {"counts", "trade", "network"}) {
        std::vector<std::string> args{"replay",   "--as-of",  as_of, "--projection",
                                      projection, "--format", "json"};
        const std::string with = Twl(args, db).out;
        args.push_back("--no-index");
        EXPECT_EQ(with, Twl(args, db).out) << when << ": " << as_of << " " << projection;
      }
    }
    EXPECT_EQ(Twl({"diff", "2000", "2025"}, db).out,
              Twl({"diff", "2000", "2025", "--no-index"}, db).out)
        << when;
  };
  same_answers("indexed");

  Result dropped = Twl({"index", "--drop"}, db);
  EXPECT_THAT(dropped.out, HasSubstr("dropped the temporal index"));
  EXPECT_THAT(Twl({"index"}, db).out, HasSubstr("no temporal index"));
  same_answers("without an index");

  Result rebuilt = Twl({"index", "--rebuild"}, db);
  EXPECT_THAT(rebuilt.out, HasSubstr("rebuilt the temporal index at seq 96"));
  // A correction after the index: read as its tail.
  Twl({"append"}, db,
      R"({"kind":"retraction","date":"2024?","target":"ev-658f2256f99761dd","reason":"test",)"
      R"("sources":[{"title":"T","publisher":"P","published":"2026","language":"en"}]})");
  EXPECT_THAT(Twl({"index"}, db).out, testing::ContainsRegex("tail: +1 event,"));
  same_answers("with a tail");
}

// An import builds the index in its own transaction: afterwards it holds
// every event, with no tail, whatever the size of the log.
TEST_F(ReplayCliTest, ImportBuildsTheIndexInItsOwnTransaction) {
  const std::string source =
      R"("sources":[{"title":"T","publisher":"P","published":"2020","language":"en"}])";
  std::string ndjson;
  for (int i = 0; i < 500; ++i) {
    ndjson += R"({"kind":"entity_registered","date":"2020","entity":"c)" + std::to_string(i) +
              R"(","type":"city","country":"DE","names":[{"text":"City )" + std::to_string(i) +
              R"(","lang":"en"}],)" + source + "}\n";
  }
  for (int i = 0; i < 4800; ++i) {
    ndjson += R"({"kind":"partnership_established","date":")" + std::to_string(1525 + i % 500) +
              R"(","a":"c)" + std::to_string(i % 500) + R"(","b":"c)" +
              std::to_string((i % 500 + 1 + i / 500) % 500) + R"(","partnership":")" +
              (i / 500 % 2 ? "friendship_city" : "sister_city") + R"(",)" + source + "}\n";
  }
  const std::string file = dir_ / "big.ndjson";
  test::WriteFile(file, ndjson);
  const std::string db = dir_ / "big.db";
  Twl({"init"}, db);
  Twl({"import", file}, db);
  Result shown = Twl({"index"}, db);
  EXPECT_THAT(shown.out, testing::ContainsRegex("built at seq: +5300\n")) << shown.out;
  EXPECT_THAT(shown.out, testing::ContainsRegex("tail: +0 events")) << shown.out;
  EXPECT_EQ(Twl({"replay", "--as-of", "2000", "--format", "json"}, db).out,
            Twl({"replay", "--as-of", "2000", "--format", "json", "--no-index"}, db).out);
}

// ---------------------------------------------------------------------------
// errors and help

TEST_F(ReplayCliTest, AsOfWithoutALastDayIsRefused) {
  Result r = TwlFails({"replay", "--as-of", "2000/.."}, 2);
  EXPECT_THAT(r.err, HasSubstr("--as-of: '2000/..' has an open or unknown end"));
}

TEST_F(ReplayCliTest, ReplayNeedsADateOrASeries) {
  Result r = TwlFails({"replay"}, 2);
  EXPECT_THAT(r.err, HasSubstr("give --as-of DATE"));
  TwlFails({"replay", "--as-of", "2000", "--from", "1990", "--to", "2000"}, 2);
}

TEST_F(ReplayCliTest, TimelineNeedsAnEntity) {
  Result r = TwlFails({"replay", "--as-of", "2024", "--projection", "timeline"}, 2);
  EXPECT_THAT(r.err, HasSubstr("give --entity"));
}

TEST_F(ReplayCliTest, FormatMustFitTheProjection) {
  Result r = TwlFails({"replay", "--as-of", "2024", "--format", "graphml"}, 2);
  EXPECT_THAT(r.err, HasSubstr("--format graphml does not apply to --projection counts"));
}

TEST_F(ReplayCliTest, UnknownEntitySuggestsCloseNames) {
  Result r = TwlFails({"replay", "--as-of", "2024", "--entity", "Dusseldorff"}, 2);
  EXPECT_THAT(r.err, HasSubstr("--entity: unknown entity 'Dusseldorff'"));
}

TEST_F(ReplayCliTest, SeriesPastTheStepLimitIsRefused) {
  Result r = TwlFails({"replay", "--from", "1000", "--to", "2025", "--step", "month"}, 2);
  EXPECT_THAT(r.err, HasSubstr("more than 2400 steps"));
}

TEST_F(ReplayCliTest, DiffNeedsTwoDatesOrTwoRecordedTimes) {
  TwlFails({"diff", "2003"}, 2);
  Result r = TwlFails({"diff", "--vs-known-at", "@1"}, 2);
  EXPECT_THAT(r.err, HasSubstr("give --as-of"));
}

TEST_F(ReplayCliTest, VerbsExplainThemselves) {
  for (const char* verb : {"replay", "diff", "checkpoint"}) {
    Result r = Twl({verb, "--help"});
    EXPECT_THAT(r.out, HasSubstr("--")) << verb;
  }
  EXPECT_THAT(Twl({"replay", "--help"}).out, HasSubstr("--as-of"));
  EXPECT_THAT(Twl({"diff", "--help"}).out, HasSubstr("--vs-known-at"));
}

}  // namespace
}  // namespace twinline
