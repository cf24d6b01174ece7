// The network by country (projections/countries.h): from the temporal index
// it is the same answer as from the log's edge rows, on a generated history
// with corrections, partial dates and a tail of later appends (a new
// partnership, a retracted one, a city moved to another country), at the
// head, in the tail and before the index, under every date rule; and its
// counts add up.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/edtf.h"
#include "core/event_log.h"
#include "projections/countries.h"
#include "projections/projection.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

using Json = nlohmann::json;

class CountriesTest : public ::testing::Test {
 protected:
  test::RunResult Twl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", temp_ / "db"});
    test::RunResult r = test::RunProgram(args, input, temp_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }

  // A generated history, imported (the import builds the index), then
  // three later events read as the index's tail.
  void BuildLog() {
    const test::RunResult gen =
        test::RunProgram({TWINLINE_GEN_BIN, "--events", "20000", "--seed", "5", "--cities", "1000",
                          "--countries", "30"},
                         "", temp_.path());
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    test::WriteFile(temp_ / "history.ndjson", gen.out);
    Twl({"init"});
    Twl({"import", temp_ / "history.ndjson"});

    // What the tail changes: the first partnership (retracted), the first
    // city (moved to another country), and a partnership between the
    // first two cities.
    std::istringstream lines(gen.out);
    Json partnership, city, other_city;
    for (std::string line; std::getline(lines, line);) {
      Json j = Json::parse(line);
      if (partnership.is_null() && j["kind"] == "partnership_established") partnership = j;
      if (j["kind"] == "entity_registered" && j["type"] == "city") {
        if (city.is_null()) {
          city = j;
        } else if (other_city.is_null() && j["country"] != city["country"]) {
          other_city = j;
        }
      }
    }
    ASSERT_FALSE(partnership.is_null());
    ASSERT_FALSE(other_city.is_null());
    const Json source = {{"title", "Countries test"}, {"publisher", "twinline tests"},
                         {"published", "2026"}, {"language", "en"}};
    Json moved = city;
    moved.erase("id");
    moved.erase("sources");
    moved["country"] = other_city["country"];
    const Json tail = Json::array({
        {{"kind", "partnership_established"}, {"date", "1990"}, {"a", city["entity"]},
         {"b", other_city["entity"]}, {"partnership", "friendship_city"}, {"sources", {source}}},
        {{"kind", "retraction"}, {"date", "2026"}, {"target", partnership["id"]},
         {"reason", "test"}, {"sources", {source}}},
        {{"kind", "amendment"}, {"target", city["id"]}, {"reason", "moved"},
         {"replacement", moved}, {"sources", {source}}},
    });
    for (const Json& ev : tail) Twl({"append"}, ev.dump());
    moved_city_ = city["entity"];

    OpenOptions options;
    options.read_only = true;
    Status st = EventLog::Open(temp_ / "db", options, &log_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  test::TempDir temp_{"twinline-countries-test"};
  std::unique_ptr<EventLog> log_;
  std::string moved_city_;
};

Range Sum(Range a, const Range& b) {
  a.certain += b.certain;
  a.possible += b.possible;
  return a;
}

TEST_F(CountriesTest, FromTheIndexEqualsFromTheLogAndAddsUp) {
  BuildLog();
  if (HasFatalFailure()) return;
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  IndexInfo info;
  ASSERT_TRUE(DescribeIndex(*txn, &info).ok());
  const uint64_t last = txn->LastSeq();
  ASSERT_EQ(info.base_seq + 3, last) << "the three appends are the index's tail";

  size_t compared = 0, with_links = 0, uncertain = 0;
  for (const uint64_t known : {last, last - 1, last - 2, info.base_seq, info.base_seq / 2}) {
    for (int year = 1960; year <= 2025; year += 5) {
      for (const DateRule rule : {DateRule::kRange, DateRule::kEarliest, DateRule::kLatest}) {
        SCOPED_TRACE("known at " + std::to_string(known) + ", " + std::to_string(year) +
                     ", rule " + std::to_string(static_cast<int>(rule)));
        Query q;
        q.as_of_day = DaysFromCivil(year, 6, 30);
        q.known_seq = known;
        q.rule = rule;
        CountryNetwork from_index, from_log;
        ReplayStats stats;
        ASSERT_TRUE(ReplayCountries(*txn, q, &from_index, &stats).ok());
        EXPECT_TRUE(stats.used_index);
        q.use_index = false;
        ASSERT_TRUE(ReplayCountries(*txn, q, &from_log, &stats).ok());
        EXPECT_FALSE(stats.used_index);
        ASSERT_EQ(from_index, from_log);
        ++compared;

        // Its totals are the edge rows of the replay.
        q.rows = kEdgeRows;
        Snapshot snap;
        ASSERT_TRUE(Replay(*txn, q, &snap).ok());
        Range partnerships, routes;
        for (const EdgeRow& e : snap.edges) {
          Range& r = e.kind == EdgeRow::Kind::kPartnership ? partnerships : routes;
          r.possible += 1;
          r.certain += e.status == Tri::kYes ? 1 : 0;
        }
        EXPECT_EQ(from_index.partnerships, partnerships);
        EXPECT_EQ(from_index.routes, routes);
        uncertain += partnerships.certain < partnerships.possible ? 1 : 0;
        // Each edge is in one link, and in one or two countries.
        Range link_sum, country_sum;
        for (const CountryLink& l : from_index.links) {
          EXPECT_LE(l.a, l.b);
          link_sum = Sum(link_sum, Sum(l.partnerships, l.routes));
        }
        for (const CountryCounts& c : from_index.countries) {
          country_sum = Sum(country_sum, Sum(c.partnerships, c.routes));
        }
        const Range edges = Sum(partnerships, routes);
        EXPECT_EQ(link_sum, edges);
        EXPECT_GE(country_sum.possible, edges.possible);
        EXPECT_LE(country_sum.possible, 2 * edges.possible);
        with_links += from_index.links.size() > 1 ? 1 : 0;
        for (size_t i = 1; i < from_index.links.size(); ++i) {
          const CountryLink& x = from_index.links[i - 1];
          const CountryLink& y = from_index.links[i];
          EXPECT_GE(x.partnerships.possible + x.routes.possible,
                    y.partnerships.possible + y.routes.possible);
        }
      }
    }
  }
  EXPECT_EQ(compared, 5u * 14u * 3u);
  EXPECT_GT(with_links, compared / 2);
  EXPECT_GT(uncertain, 0u) << "no day had an only-possible partnership";
}

TEST_F(CountriesTest, AMovedCityCountsInItsNewCountryFromTheAmendmentOn) {
  BuildLog();
  if (HasFatalFailure()) return;
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  const uint64_t last = txn->LastSeq();
  // The city's entities count before and after its amendment (the last
  // event): it leaves one country for another.
  Query q;
  q.as_of_day = DaysFromCivil(2025, 12, 31);
  q.rule = DateRule::kEarliest;
  std::map<std::string, uint64_t> before, after;
  for (const auto& [known, into] : {std::pair{last - 1, &before}, std::pair{last, &after}}) {
    q.known_seq = known;
    CountryNetwork net;
    ASSERT_TRUE(ReplayCountries(*txn, q, &net).ok());
    for (const CountryCounts& c : net.countries) (*into)[c.country] = c.entities.possible;
  }
  size_t fewer = 0, more = 0;
  for (const auto& [country, n] : after) {
    fewer += n + 1 == before[country] ? 1 : 0;
    more += n == before[country] + 1 ? 1 : 0;
  }
  EXPECT_EQ(fewer, 1u) << moved_city_;
  EXPECT_EQ(more, 1u) << moved_city_;
}

TEST_F(CountriesTest, OneEntityIsRefused) {
  Twl({"init"});
  OpenOptions options;
  options.read_only = true;
  ASSERT_TRUE(EventLog::Open(temp_ / "db", options, &log_).ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  Query q;
  q.entity = "chengdu";
  CountryNetwork net;
  EXPECT_EQ(ReplayCountries(*txn, q, &net).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace twinline
