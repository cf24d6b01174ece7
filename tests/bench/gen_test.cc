// twinline-gen end to end: the same arguments give the same bytes, the
// workload has the promised shape, and a generated history imports into a
// fresh log as one clean batch that `twinline verify` accepts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/testing/test_util.h"

namespace twinline {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class GenTest : public ::testing::Test {
 protected:
  test::RunResult Gen(std::vector<std::string> args) {
    args.insert(args.begin(), TWINLINE_GEN_BIN);
    return test::RunProgram(args, "", temp_.path());
  }
  test::RunResult Twl(std::vector<std::string> args) {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", temp_ / "db"});
    return test::RunProgram(args, "", temp_.path());
  }

  static std::vector<Json> Lines(const std::string& ndjson) {
    std::vector<Json> lines;
    std::istringstream in(ndjson);
    for (std::string line; std::getline(in, line);) lines.push_back(Json::parse(line));
    return lines;
  }

  test::TempDir temp_{"twinline-gen-test"};
};

// The test world: 50 countries, 5 blocs, 50 organisations, 1000 cities.
const std::vector<std::string> kSmallWorld = {"--cities", "1000", "--countries", "50"};
constexpr size_t kSmallWorldEntities = 50 + 5 + 50 + 1000;

std::vector<std::string> Args(const std::string& events, const std::string& seed) {
  std::vector<std::string> args = {"--events", events, "--seed", seed};
  args.insert(args.end(), kSmallWorld.begin(), kSmallWorld.end());
  return args;
}

TEST_F(GenTest, SameArgumentsGiveIdenticalBytes) {
  const test::RunResult first = Gen(Args("5000", "7"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const test::RunResult second = Gen(Args("5000", "7"));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(std::count(first.out.begin(), first.out.end(), '\n'), 5000);
  EXPECT_TRUE(first.out == second.out);  // not EXPECT_EQ: a failure would print megabytes
  const test::RunResult other_seed = Gen(Args("5000", "8"));
  ASSERT_EQ(other_seed.exit_code, 0) << other_seed.err;
  EXPECT_FALSE(first.out == other_seed.out);
  // A longer run begins with the shorter one: a line depends on its index.
  const test::RunResult longer = Gen(Args("6000", "7"));
  EXPECT_EQ(longer.out.substr(0, first.out.size()), first.out);
}

TEST_F(GenTest, RefusesFewerEventsThanRegistrations) {
  const test::RunResult r = Gen(Args("100", "1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("1105 entity registrations"));
  EXPECT_EQ(r.out, "");
}

TEST_F(GenTest, WritesTheWorkloadItPromises) {
  const test::RunResult r = Gen(Args("20000", "3"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<Json> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 20000u);

  std::map<std::string, size_t> kinds;
  std::map<std::string, size_t> line_of_id;
  std::set<std::tuple<std::string, std::string, std::string>> pairs;       // established (a, b, kind)
  std::map<std::tuple<std::string, std::string, std::string>, int> est_year;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int> trade_keys;
  std::set<std::string> corrected;
  size_t partial = 0, uncertain = 0, open_start = 0, facts = 0, out_of_order = 0;
  std::string previous_date;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Json& ev = lines[i];
    SCOPED_TRACE(ev.dump());
    const std::string kind = ev.at("kind");
    ++kinds[kind];
    ASSERT_TRUE(line_of_id.emplace(ev.at("id"), i).second) << "ids repeat";
    ASSERT_FALSE(ev.at("sources").empty());
    if (i < kSmallWorldEntities) {
      ASSERT_EQ(kind, "entity_registered");  // registrations come first
      continue;
    }
    ASSERT_NE(kind, "entity_registered");
    ++facts;
    const std::string date = kind == "amendment" ? ev.at("replacement").at("date") : ev.at("date");
    if (date.size() == 4 || date.size() == 7) ++partial;
    if (date.back() == '?') ++uncertain;
    if (date.starts_with("../")) ++open_start;
    if (!previous_date.empty() && date.size() == 10 && previous_date.size() == 10 && date < previous_date) {
      ++out_of_order;
    }
    if (date.size() == 10) previous_date = date;
    const int year = std::stoi(date.substr(date.starts_with("../") ? 3 : 0, 4));
    EXPECT_GE(year, 1950);
    EXPECT_LE(year, 2025);

    if (kind == "partnership_established" || kind == "partnership_ended") {
      std::string a = ev.at("a"), b = ev.at("b");
      if (b < a) std::swap(a, b);
      const auto key = std::make_tuple(a, b, ev.at("partnership").get<std::string>());
      if (kind == "partnership_established") {
        EXPECT_TRUE(pairs.insert(key).second) << "pair established twice";
        est_year[key] = year;
      } else {
        ASSERT_TRUE(est_year.contains(key)) << "ends a partnership not established before";
        EXPECT_GT(year, est_year[key]);
        EXPECT_FALSE(date.starts_with("../"));
      }
    } else if (kind == "trade_volume_reported") {
      ++trade_keys[std::make_tuple(ev.at("reporter").get<std::string>(), ev.at("partner").get<std::string>(),
                                   ev.at("period").get<std::string>(), ev.at("flow").get<std::string>())];
    } else if (kind == "retraction" || kind == "amendment") {
      const std::string target = ev.at("target");
      ASSERT_TRUE(line_of_id.contains(target)) << "targets an event not written before";
      EXPECT_GE(line_of_id[target], kSmallWorldEntities);
      EXPECT_TRUE(corrected.insert(target).second) << "an event corrected twice";
      if (kind == "amendment") {
        EXPECT_EQ(ev.at("replacement").at("kind"), lines[line_of_id[target]].at("kind"));
      }
    }
  }
  EXPECT_EQ(kinds["entity_registered"], kSmallWorldEntities);
  auto share = [&](const std::string& kind) { return static_cast<double>(kinds[kind]) / facts; };
  EXPECT_NEAR(share("trade_volume_reported"), 0.35, 0.03);
  EXPECT_NEAR(share("partnership_established"), 0.05, 0.01);
  EXPECT_NEAR(share("route_opened"), 0.04, 0.01);
  EXPECT_NEAR(share("count_reported"), 0.03, 0.01);
  EXPECT_GT(kinds["partnership_ended"], 20u);
  EXPECT_GT(kinds["route_closed"], 50u);
  EXPECT_GT(kinds["retraction"], 20u);
  EXPECT_GT(kinds["amendment"], 10u);
  for (const char* kind : {"forum_held", "agreement_signed", "office_opened", "award_granted",
                           "initiative_launched", "organisation_founded"}) {
    EXPECT_GT(kinds[kind], 100u) << kind;
  }
  EXPECT_NEAR(static_cast<double>(partial) / facts, 0.09, 0.03);
  EXPECT_GT(uncertain, 50u);
  EXPECT_GT(open_start, 50u);
  EXPECT_GT(out_of_order, facts / 4);  // not in date order
  // A bounded key space: the same trade keys are reported again (revised).
  size_t revised = 0;
  for (const auto& [key, reports] : trade_keys) revised += reports > 1 ? 1 : 0;
  EXPECT_GT(revised, 200u);
}

TEST_F(GenTest, TwentyThousandEventsImportCleanlyAndVerify) {
  const test::RunResult gen = Gen(Args("20000", "1"));
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string file = temp_ / "history.ndjson";
  test::WriteFile(file, gen.out);
  ASSERT_EQ(Twl({"init"}).exit_code, 0);
  test::RunResult r = Twl({"import", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported " + file +
                       ": 20000 events — 20000 appended, 0 corroborated, 0 duplicates; log at seq 20000\n");
  r = Twl({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Twl({"stats", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json stats = Json::parse(r.out);
  EXPECT_EQ(stats["events"], 20000);
  EXPECT_EQ(stats["entities"], kSmallWorldEntities);
  // Importing it again changes nothing: every line is a known fact.
  r = Twl({"import", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("0 appended, 0 corroborated, 20000 duplicates; log at seq 20000"));
}

}  // namespace
}  // namespace twinline
