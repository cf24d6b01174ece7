// The bundled dataset (data/seed.ndjson) carries the facts of the five source
// articles in ../shared/seeds, each with its source. The dataset is loaded
// the way a user loads it (`twinline import`), then inspected through the
// library. Expected values are read off the articles by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/event_log.h"
#include "core/identity.h"
#include "events/json_codec.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;

// Runs `twinline --db DB args...`; stdout and stderr go to *output.
int Twinline(const std::string& db, std::vector<std::string> args, const std::filesystem::path& scratch,
             std::string* output) {
  args.insert(args.begin(), {TWINLINE_BIN, "--db", db});
  test::RunResult r = test::RunProgram(args, "", scratch);
  *output = r.out + r.err;
  return r.exit_code;
}

// The dataset loaded once for the whole suite.
class DatasetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("twinline-dataset");
    std::string out;
    ASSERT_EQ(Twinline(*dir_ / "db", {"init"}, dir_->path(), &out), 0) << out;
    ASSERT_EQ(Twinline(*dir_ / "db", {"import", TWINLINE_SOURCE_DIR "/data/seed.ndjson"}, dir_->path(), &out), 0)
        << out;
    import_output_ = new std::string(out);

    OpenOptions options;
    options.read_only = true;
    ASSERT_TRUE(EventLog::Open(*dir_ / "db", options, &log_).ok());
    // Facts (JSON form, with every source attached by corroborations) by kind.
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    facts_ = new std::map<std::string, nlohmann::ordered_json>();
    ASSERT_TRUE(txn->Scan(1, UINT64_MAX, [&](schema::Event::Reader ev) {
                       nlohmann::ordered_json j = EncodeEvent(ev);
                       if (j["kind"] == "corroboration") {
                         auto& fact = (*facts_)[j["target"].get<std::string>()];
                         for (auto& s : j["sources"]) fact["sources"].push_back(s);
                       } else {
                         (*facts_)[j["id"].get<std::string>()] = j;
                       }
                       return true;
                     }).ok());
  }
  static void TearDownTestSuite() {
    log_.reset();
    delete dir_;
    delete facts_;
    delete import_output_;
  }

  // Facts of `kind` whose fields include every (key, value) in `match`.
  static std::vector<nlohmann::ordered_json> Find(const std::string& kind, const nlohmann::json& match) {
    std::vector<nlohmann::ordered_json> out;
    for (const auto& [id, fact] : *facts_) {
      if (fact["kind"] != kind) continue;
      bool all = true;
      // ordered_json on both sides: clang's C++20 operator== lookup finds
      // ordered_json == json ambiguous.
      for (const auto& [k, v] : match.items()) all = all && fact.contains(k) && fact[k] == nlohmann::ordered_json(v);
      if (all) out.push_back(fact);
    }
    return out;
  }

  static std::set<std::string> Languages(const nlohmann::ordered_json& fact) {
    std::set<std::string> langs;
    for (const auto& s : fact["sources"]) langs.insert(s["language"].get<std::string>());
    return langs;
  }

  static test::TempDir* dir_;
  static std::string* import_output_;
  static std::unique_ptr<EventLog> log_;
  static std::map<std::string, nlohmann::ordered_json>* facts_;
};

test::TempDir* DatasetTest::dir_ = nullptr;
std::string* DatasetTest::import_output_ = nullptr;
std::unique_ptr<EventLog> DatasetTest::log_;
std::map<std::string, nlohmann::ordered_json>* DatasetTest::facts_ = nullptr;

TEST_F(DatasetTest, VerifiesAndEveryFactHasACompleteSource) {
  VerifyReport report;
  Status st = log_->Verify(&report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (const auto& [id, fact] : *facts_) {
    ASSERT_FALSE(fact["sources"].empty()) << id;
    for (const auto& s : fact["sources"]) {
      for (const char* field : {"title", "publisher", "published", "language"}) {
        EXPECT_TRUE(s.contains(field) && !s[field].get<std::string>().empty()) << id << " lacks " << field;
      }
    }
  }
}

TEST_F(DatasetTest, CitesAllFiveArticles) {
  std::set<std::string> publishers;
  for (const auto& [id, fact] : *facts_) {
    for (const auto& s : fact["sources"]) publishers.insert(s["publisher"].get<std::string>() + "/" +
                                                             s["published"].get<std::string>() + "/" +
                                                             s["language"].get<std::string>());
  }
  // 000 (de, EQS), 001 (en, Media OutReach), 002 (de, nrwheute, 2024?),
  // 003 (de, ots/PRNewswire), 004 (en, International Daily News).
  EXPECT_EQ(publishers.size(), 5u);
  std::string all;
  for (const auto& p : publishers) all += p + "\n";
  for (const char* expected : {"nrwheute/2024?/de", "ots/PRNewswire/2021-12-11/de",
                               "International Daily News/2023-10-06/en", "Media OutReach Newswire/2025-04-17/en"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << " not in\n" << all;
  }
}

TEST_F(DatasetTest, ChengduMontpellierIsOneFactWithGermanAndEnglishSources) {
  auto found = Find("partnership_established", {{"a", "chengdu"}, {"b", "montpellier"}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["date"], "1981");
  EXPECT_EQ(found[0]["partnership"], "sister_city");
  EXPECT_EQ(Languages(found[0]), (std::set<std::string>{"de", "en"}));
}

TEST_F(DatasetTest, FactsInBothChengduArticlesAreCorroboratedNotDuplicated) {
  // The 2025-04-16 conference, the Central Asia association, the cargo
  // flights to Belgium, Montpellier 1981 and the 241 partner cities.
  size_t corroborated = 0;
  for (const auto& [id, fact] : *facts_) {
    corroborated += fact["kind"] != "entity_registered" && Languages(fact).size() == 2;
  }
  EXPECT_EQ(corroborated, 5u);
  EXPECT_EQ(Find("count_reported", {{"entity", "chengdu"}, {"metric", "partner_cities"}, {"value", 241}}).size(), 1u);
  EXPECT_NE(import_output_->find("5 corroborated"), std::string::npos) << *import_output_;
}

TEST_F(DatasetTest, ChongqingDuesseldorfPartnershipDatesToTheDay) {
  auto found = Find("partnership_established", {{"a", "chongqing"}, {"b", "duesseldorf"}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["date"], "2004-07-22");
}

TEST_F(DatasetTest, PartialDatesAreKeptAsWritten) {
  auto rail = Find("route_opened", {{"from", "chongqing"}, {"mode", "rail"}});
  ASSERT_EQ(rail.size(), 1u);
  EXPECT_EQ(rail[0]["date"], "2011-03");
  auto award = Find("award_granted", {{"recipient", "duesseldorf"}});
  ASSERT_EQ(award.size(), 1u);
  EXPECT_EQ(award[0]["date"], "2014-11");
  auto village = Find("partnership_established", {{"partnership", "friendship_village"}});
  ASSERT_EQ(village.size(), 1u);
  EXPECT_EQ(village[0]["date"], "../2023-10-06");  // "has ... promoted": by the report's date
  auto memorandum = Find("agreement_signed", {{"agreement", "memorandum"}});
  ASSERT_EQ(memorandum.size(), 1u);
  EXPECT_EQ(memorandum[0]["date"], "2025-02");
  EXPECT_EQ(memorandum[0]["parties"], nlohmann::ordered_json({"asti", "tianfu-new-district"}));
}

TEST_F(DatasetTest, TenthWuxiForumWasHeldInYixingOnDecemberEighth2021) {
  auto found = Find("forum_held", {{"host", "wuxi"}, {"edition", 10}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["date"], "2021-12-08");
  EXPECT_EQ(found[0]["venue"], "yixing");
  ASSERT_EQ(found[0]["attendance"].size(), 3u);
  EXPECT_EQ(found[0]["attendance"][0]["value"], 100);
  EXPECT_EQ(found[0]["attendance"][0]["qualifier"], "nearly");
}

TEST_F(DatasetTest, ChengduTradeWithTheEuIn2024) {
  auto found = Find("trade_volume_reported", {{"reporter", "chengdu"}, {"partner", "eu"}});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["period"], "2024");
  EXPECT_EQ(found[0]["amount"].get<double>(), 142.16e9);
  EXPECT_EQ(found[0]["currency"], "CNY");
  EXPECT_EQ(found[0]["flow"], "total");
}

TEST_F(DatasetTest, CitiesOwnReportedCounts) {
  EXPECT_EQ(Find("count_reported", {{"entity", "chengdu"}, {"value", 31}, {"scope", "eu"}}).size(), 1u);
  EXPECT_EQ(Find("count_reported", {{"entity", "chengdu"}, {"metric", "routes"}, {"value", 11}}).size(), 1u);
  auto qingdao_cities = Find("count_reported", {{"entity", "qingdao"}, {"metric", "partner_cities"}});
  ASSERT_EQ(qingdao_cities.size(), 1u);
  EXPECT_EQ(qingdao_cities[0]["value"], 86);
  EXPECT_EQ(qingdao_cities[0]["date"], "2023-10-06");
  EXPECT_EQ(Find("count_reported", {{"entity", "qingdao"}, {"metric", "partner_countries"}, {"value", 48}}).size(), 1u);
}

TEST_F(DatasetTest, EntitiesResolveByNameInEveryLanguage) {
  std::string out;
  for (const char* name : {"重庆", "Chongqing", "Düsseldorf", "Duesseldorf", "DUSSELDORF", "杜塞尔多夫", "成都",
                           "Europäische Union"}) {
    EXPECT_EQ(Twinline(*dir_ / "db", {"entities", name}, dir_->path(), &out), 0) << name << ": " << out;
  }
}

TEST_F(DatasetTest, ReimportChangesNothing) {
  std::string out;
  const std::string copy = *dir_ / "copy";
  fs::copy(*dir_ / "db", copy);
  ASSERT_EQ(Twinline(copy, {"import", TWINLINE_SOURCE_DIR "/data/seed.ndjson"}, dir_->path(), &out), 0) << out;
  EXPECT_NE(out.find("0 appended, 0 corroborated"), std::string::npos) << out;
}

}  // namespace
}  // namespace twinline
