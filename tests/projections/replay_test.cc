// Replay, the temporal index, timeline, diff and --known-at on the bundled dataset
// (data/seed.ndjson), loaded the way a user loads it (`twinline init`,
// `twinline import`) and queried through the library. Corrections and
// backdated facts are appended with `twinline append`.
//
// Every expected value is worked out by hand from the articles' dates
// (data/README.md) and docs/PROJECTIONS.md; each test says how. `--as-of`
// means the last day of an EDTF expression: "1981" = 1981-12-31.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "core/edtf.h"
#include "core/event_log.h"
#include "core/identity.h"
#include "core/kinds.h"
#include "core/lmdb_env.h"
#include "core/sha256.h"
#include "projections/projection.h"
#include "projections/state.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

using Which = schema::Payload::Which;

// The day `--as-of EDTF` means: the last day of the expression.
int64_t AsOf(const std::string& edtf) {
  EdtfDate date;
  Status st = ParseEdtf(edtf, &date);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return date.latest;
}

constexpr char kTestSource[] =
    R"("sources":[{"title":"Replay test corrections","publisher":"twinline tests","published":"2025-05-01","language":"en"}])";

// A database holding the bundled dataset, with a library handle on it.
class SeededLog {
 public:
  SeededLog() {
    Run({"init"});
    Run({"import", TWINLINE_SOURCE_DIR "/data/seed.ndjson"});
    Status st = EventLog::Open(dir_ / "db", OpenOptions(), &log_);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  // Runs `twinline --db DB args...` with `input` on stdin; expects success.
  void Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", dir_ / "db"});
    test::RunResult r = test::RunProgram(args, input, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // Appends one JSON event through the CLI; returns the log's last seq after.
  uint64_t Append(const std::string& json) {
    Run({"append"}, json);
    return Txn()->LastSeq();
  }

  // Imports NDJSON lines as one batch; returns the log's last seq after.
  uint64_t Import(const std::string& ndjson) {
    const std::string path = dir_ / "more.ndjson";
    test::WriteFile(path, ndjson);
    Run({"import", path});
    return Txn()->LastSeq();
  }

  std::unique_ptr<ReadTxn> Txn() const {
    std::unique_ptr<ReadTxn> txn;
    Status st = log_->BeginRead(&txn);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return txn;
  }

  // The seq and id of the first event of kind `which` touching `slug` whose
  // payload satisfies `match`.
  template <typename Match>
  std::pair<uint64_t, std::string> Find(const std::string& slug, Which which, Match match) const {
    std::pair<uint64_t, std::string> found;
    auto txn = Txn();
    auto visit = [&](schema::Event::Reader ev) {
      if (ev.getPayload().which() != which || !match(ev.getPayload())) return true;
      found = {ev.getSeq(), Str(ev.getId())};
      return false;
    };
    EXPECT_TRUE(txn->ScanEntity(slug, visit).ok());
    EXPECT_NE(found.first, 0u) << "no such event of " << slug;
    return found;
  }

  std::pair<uint64_t, std::string> ChengduMontpellier() const {
    return Find("montpellier", Which::PARTNERSHIP_ESTABLISHED, [](auto) { return true; });
  }

  // The answer from the temporal index (with whatever tail the log has
  // beyond it), checked against the replay of the log: the same rows and
  // hash, whatever the test goes on to assert.
  Snapshot Replay(const std::string& as_of, DateRule rule = DateRule::kRange,
                  uint64_t known_seq = UINT64_MAX, ReplayStats* stats = nullptr) const {
    Query q;
    q.as_of_day = AsOf(as_of);
    q.rule = rule;
    q.known_seq = known_seq;
    q.use_index = false;
    const Snapshot from_log = ReplayQuery(q);
    q.use_index = true;
    ReplayStats local;
    const Snapshot from_index = ReplayQuery(q, stats != nullptr ? stats : &local);
    EXPECT_TRUE((stats != nullptr ? stats : &local)->used_index);
    EXPECT_EQ(from_log.edges, from_index.edges) << as_of;
    EXPECT_EQ(from_log.counts, from_index.counts) << as_of;
    EXPECT_EQ(from_log.trade, from_index.trade) << as_of;
    EXPECT_EQ(from_log.trade_totals, from_index.trade_totals) << as_of;
    EXPECT_EQ(from_log.state_hash, from_index.state_hash) << as_of;
    return from_index;
  }

  Snapshot ReplayQuery(const Query& q, ReplayStats* stats = nullptr) const {
    Snapshot snap;
    auto txn = Txn();
    Status st = twinline::Replay(*txn, q, &snap, stats);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return snap;
  }

  // The rows that differ between two snapshots of this log, with their causes.
  std::vector<DiffRow> Diff(const Snapshot& from, const Snapshot& to) const {
    std::vector<DiffRow> rows;
    Status st = twinline::Diff(*Txn(), from, to, &rows);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return rows;
  }

  // Rebuilds the temporal index at the log's head (no tail).
  void RebuildIndex() {
    Status st = log_->UpdateDerived([](DerivedWriteTxn& txn) { return twinline::RebuildIndex(txn); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void DropIndex() {
    Status st = log_->UpdateDerived([](DerivedWriteTxn& txn) { return twinline::DropIndex(txn); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  EventLog& log() { return *log_; }

 private:
  test::TempDir dir_{"twinline-replay"};
  std::unique_ptr<EventLog> log_;
};

// --- Helpers over Snapshots -------------------------------------------------

const EdgeRow* FindEdge(const Snapshot& s, EdgeRow::Kind kind, const std::string& a,
                        const std::string& b) {
  for (const EdgeRow& e : s.edges) {
    if (e.kind == kind && e.a == a && e.b == b) return &e;
  }
  return nullptr;
}

Tri Partnership(const Snapshot& s, const std::string& a, const std::string& b) {
  const EdgeRow* e = FindEdge(s, EdgeRow::Kind::kPartnership, a, b);
  return e ? e->status : Tri::kNo;
}

Tri Route(const Snapshot& s, const std::string& from, const std::string& to) {
  const EdgeRow* e = FindEdge(s, EdgeRow::Kind::kRoute, from, to);
  return e ? e->status : Tri::kNo;
}

EntityCounts CountsOf(const Snapshot& s, const std::string& slug) {
  auto it = s.counts.find(slug);
  return it == s.counts.end() ? EntityCounts() : it->second;
}

Range R(uint64_t certain, uint64_t possible) { return Range{certain, possible}; }

Range In(const std::map<std::string, Range>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? Range() : it->second;
}


// The dataset loaded once for the read-only tests.
class ReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log_ = new SeededLog(); }
  static void TearDownTestSuite() {
    delete log_;
    log_ = nullptr;
  }
  static SeededLog* log_;
};
SeededLog* ReplayTest::log_ = nullptr;

// Chengdu–Montpellier, sister cities "in 1981" (articles 000/001): date 1981,
// so e = 1981-01-01, l = 1981-12-31.
//  * 1980-12-31 < e: no; Chengdu has nothing to count yet.
//  * 1981-06-30 is in [e, l): maybe, so Chengdu's partnerships are certain 0,
//    possible 1 (likewise by kind sister_city and by Montpellier's country FR;
//    Montpellier's by Chengdu's country CN).
//  * 1981 = 1981-12-31 = l: yes, 1–1.
TEST_F(ReplayTest, ChengduMontpellierIsMaybeDuringItsYearAndYesAtItsEnd) {
  Snapshot before = log_->Replay("1980-12-31");
  EXPECT_EQ(Partnership(before, "chengdu", "montpellier"), Tri::kNo);
  EXPECT_EQ(CountsOf(before, "chengdu").partnerships, R(0, 0));

  Snapshot during = log_->Replay("1981-06-30");
  EXPECT_EQ(Partnership(during, "chengdu", "montpellier"), Tri::kMaybe);
  const EntityCounts chengdu = CountsOf(during, "chengdu");
  EXPECT_EQ(chengdu.partnerships, R(0, 1));
  EXPECT_EQ(In(chengdu.partnerships_by_kind, "sister_city"), R(0, 1));
  EXPECT_EQ(In(chengdu.partnerships_by_country, "FR"), R(0, 1));
  EXPECT_EQ(In(CountsOf(during, "montpellier").partnerships_by_country, "CN"), R(0, 1));
  const EdgeRow* edge = FindEdge(during, EdgeRow::Kind::kPartnership, "chengdu", "montpellier");
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->subkind, "sister_city");
  // One fact: article 001's copy is a corroboration, which adds no event.
  ASSERT_EQ(edge->events.size(), 1u);
  EXPECT_EQ(edge->events[0], (EventMark{log_->ChengduMontpellier().first, Tri::kMaybe}));

  Snapshot after = log_->Replay("1981");
  EXPECT_EQ(Partnership(after, "chengdu", "montpellier"), Tri::kYes);
  EXPECT_EQ(CountsOf(after, "chengdu").partnerships, R(1, 1));
}

// Chongqing–Düsseldorf, founded "am 22. Juli 2004" (article 002): one day, so
// two-valued: no on 2004-07-21, yes from 2004-07-22. Chongqing's only
// partnership: 0–0 as of 2003, 1–1 as of 2024.
TEST_F(ReplayTest, ChongqingDuesseldorfFromTheDayItWasFounded) {
  EXPECT_EQ(Partnership(log_->Replay("2004-07-21"), "chongqing", "duesseldorf"), Tri::kNo);
  EXPECT_EQ(Partnership(log_->Replay("2004-07-22"), "chongqing", "duesseldorf"), Tri::kYes);
  EXPECT_EQ(CountsOf(log_->Replay("2003"), "chongqing").partnerships, R(0, 0));
  const EntityCounts chongqing = CountsOf(log_->Replay("2024"), "chongqing");
  EXPECT_EQ(chongqing.partnerships, R(1, 1));
  EXPECT_EQ(In(chongqing.partnerships_by_country, "DE"), R(1, 1));
}

// Huangnixiang–Grenadian village, a friendship village "established" by the
// article of 2023-10-06: date ../2023-10-06, e = -inf, l = 2023-10-06. So
// maybe on every day before (2000, and 1900 too), yes from 2023-10-06.
TEST_F(ReplayTest, FriendshipVillageWithAnOpenStartIsMaybeUntilPublication) {
  const std::string a = "huangnixiang", b = "village-in-st-patrick-grenada";
  EXPECT_EQ(Partnership(log_->Replay("1900"), a, b), Tri::kMaybe);
  EXPECT_EQ(Partnership(log_->Replay("2000"), a, b), Tri::kMaybe);
  EXPECT_EQ(Partnership(log_->Replay("2023-10-05"), a, b), Tri::kMaybe);
  Snapshot published = log_->Replay("2023-10-06");
  EXPECT_EQ(Partnership(published, a, b), Tri::kYes);
  EXPECT_EQ(In(CountsOf(published, a).partnerships_by_kind, "friendship_village"), R(1, 1));
  EXPECT_EQ(In(CountsOf(published, a).partnerships_by_country, "GD"), R(1, 1));
}

// Qingdao Port's two port cooperations (Long Beach, Antwerp-Bruges), results
// of the brand created in 2021, so dated 2021/2023-10-06: e = 2021-01-01,
// l = 2023-10-06. As of 2020: no; as of 2022 (inside): maybe, so Qingdao
// Port has 0–2 partnerships (0–1 with a US port, 0–1 with a BE port); as of
// 2023-10-06: 2–2.
TEST_F(ReplayTest, QingdaoPortCooperationsAreUncertainBetweenBrandAndArticle) {
  Snapshot y2020 = log_->Replay("2020");
  EXPECT_EQ(Partnership(y2020, "port-of-long-beach", "qingdao-port"), Tri::kNo);
  EXPECT_EQ(CountsOf(y2020, "qingdao-port").partnerships, R(0, 0));

  Snapshot y2022 = log_->Replay("2022");
  EXPECT_EQ(Partnership(y2022, "port-of-long-beach", "qingdao-port"), Tri::kMaybe);
  EXPECT_EQ(Partnership(y2022, "port-of-antwerp-bruges", "qingdao-port"), Tri::kMaybe);
  const EntityCounts port = CountsOf(y2022, "qingdao-port");
  EXPECT_EQ(port.partnerships, R(0, 2));
  EXPECT_EQ(In(port.partnerships_by_kind, "port_cooperation"), R(0, 2));
  EXPECT_EQ(In(port.partnerships_by_country, "US"), R(0, 1));
  EXPECT_EQ(In(port.partnerships_by_country, "BE"), R(0, 1));

  EXPECT_EQ(CountsOf(log_->Replay("2023-10-06"), "qingdao-port").partnerships, R(2, 2));
}

// The China-Europe rail express from Chongqing, inaugurated "im März 2011":
// date 2011-03, e = 2011-03-01, l = 2011-03-31. As of 2011-02 (= 02-28): no;
// 2011-03-15: maybe (Chongqing routes 0–1, rail 0–1); 2011-03 (= 03-31): yes.
TEST_F(ReplayTest, ChongqingRailRouteOpensDuringMarch2011) {
  EXPECT_EQ(Route(log_->Replay("2011-02"), "chongqing", "europe"), Tri::kNo);
  Snapshot mid = log_->Replay("2011-03-15");
  EXPECT_EQ(Route(mid, "chongqing", "europe"), Tri::kMaybe);
  EXPECT_EQ(CountsOf(mid, "chongqing").routes, R(0, 1));
  EXPECT_EQ(In(CountsOf(mid, "chongqing").routes_by_mode, "rail"), R(0, 1));
  Snapshot end = log_->Replay("2011-03");
  EXPECT_EQ(Route(end, "chongqing", "europe"), Tri::kYes);
  EXPECT_EQ(CountsOf(end, "europe").routes, R(1, 1));
}

// Chengdu's trade with the EU "in 2024 ... 142.16 billion yuan": valid time
// 2024 (the period it covers). As of 2024-06-30 the figure is only possible
// (maybe, totals certain 0, possible 142,160,000,000); as of 2024 it holds.
TEST_F(ReplayTest, ChengduEuTradeIsCertainOnlyOnceTheYearIsOver) {
  EXPECT_TRUE(log_->Replay("2023").trade.empty());

  Snapshot mid = log_->Replay("2024-06-30");
  ASSERT_EQ(mid.trade.size(), 1u);
  EXPECT_EQ(mid.trade[0].status, Tri::kMaybe);
  EXPECT_EQ(mid.trade[0].amount, 142160000000.0);
  ASSERT_EQ(mid.trade_totals.size(), 1u);
  EXPECT_EQ(mid.trade_totals[0].certain, 0.0);
  EXPECT_EQ(mid.trade_totals[0].possible, 142160000000.0);

  Snapshot end = log_->Replay("2024");
  ASSERT_EQ(end.trade.size(), 1u);
  const TradeRow& row = end.trade[0];
  EXPECT_EQ(row.reporter, "chengdu");
  EXPECT_EQ(row.partner, "eu");
  EXPECT_EQ(row.period, "2024");
  EXPECT_EQ(row.flow, "total");
  EXPECT_EQ(row.currency, "CNY");
  EXPECT_EQ(row.amount, 142160000000.0);
  EXPECT_EQ(row.status, Tri::kYes);
  ASSERT_EQ(end.trade_totals.size(), 1u);
  EXPECT_EQ(end.trade_totals[0], (TradeTotal{"chengdu", "CNY", 142160000000.0, 142160000000.0}));
}

// Chengdu's own figures are dated on the articles' day, 2025-04-17: as of
// 2025-04-16 it has reported nothing; as of 2025-04-17 "241 partner cities"
// is certain, beside 31 of them in the EU and 11 routes to the EU.
TEST_F(ReplayTest, ChengduReports241PartnerCitiesOnPublicationDay) {
  EXPECT_TRUE(CountsOf(log_->Replay("2025-04-16"), "chengdu").reported.empty());

  const EntityCounts chengdu = CountsOf(log_->Replay("2025-04-17"), "chengdu");
  auto find = [&](const std::string& metric, const std::string& scope) -> const ReportedCount* {
    for (const ReportedCount& r : chengdu.reported) {
      if (r.metric == metric && r.scope == scope) return &r;
    }
    return nullptr;
  };
  const ReportedCount* cities = find("partner_cities", "");
  ASSERT_NE(cities, nullptr);
  EXPECT_EQ(cities->value, 241);
  EXPECT_EQ(cities->status, Tri::kYes);
  EXPECT_EQ(cities->qualifier, "exact");
  EXPECT_EQ(cities->date, "2025-04-17");
  ASSERT_NE(find("partner_cities", "eu"), nullptr);
  EXPECT_EQ(find("partner_cities", "eu")->value, 31);
  ASSERT_NE(find("routes", "eu"), nullptr);
  EXPECT_EQ(find("routes", "eu")->value, 11);
  // What the log knows beside it: one partnership (Montpellier).
  EXPECT_EQ(chengdu.partnerships, R(1, 1));
}

// Wuxi held the 10th Sister Cities Forum and the 2021 Industrial
// Cooperation Conference on the same day, 2021-12-08 (two forum_held
// facts), and launched three initiatives there. As of 2021-12-07: nothing;
// as of 2021-12-08: forums 2–2, initiatives 3–3.
TEST_F(ReplayTest, WuxiHeldTwoForumsOnDecemberEighth) {
  EXPECT_EQ(CountsOf(log_->Replay("2021-12-07"), "wuxi").forums, R(0, 0));
  const EntityCounts wuxi = CountsOf(log_->Replay("2021-12-08"), "wuxi");
  EXPECT_EQ(wuxi.forums, R(2, 2));
  EXPECT_EQ(wuxi.initiatives, R(3, 3));
  // The events behind them: 2 forums + 3 initiatives + 3 count reports, all
  // on that one day, so settled: counted, not listed.
  EXPECT_EQ(wuxi.settled_events, 8u);
  EXPECT_TRUE(wuxi.open_events.empty());
}

// Facts with an open start ("has established", "betreibt bereits"), as of
// 2000: under --dates range they are possible but not certain; earliest puts
// them at -inf (all happened), latest on their publication end (none yet).
//  * Chengdu founded the Central Asia association (../2025-04-17): 0–1, 1, 0.
//  * Sichuan Airlines' cargo route Chengdu → Belgium (../2025-04-17): same.
//  * Düsseldorf founded Heinrich Heine University (../2024) and hosts the
//    Chongqing liaison office (../2024): same.
//  * The friendship village edge (../2023-10-06): maybe, yes, no.
TEST_F(ReplayTest, OpenStartFactsUnderEarliestAndLatestDates) {
  const Snapshot range = log_->Replay("2000", DateRule::kRange);
  const Snapshot earliest = log_->Replay("2000", DateRule::kEarliest);
  const Snapshot latest = log_->Replay("2000", DateRule::kLatest);

  EXPECT_EQ(CountsOf(range, "chengdu").organisations, R(0, 1));
  EXPECT_EQ(CountsOf(earliest, "chengdu").organisations, R(1, 1));
  EXPECT_EQ(CountsOf(latest, "chengdu").organisations, R(0, 0));

  EXPECT_EQ(CountsOf(range, "chengdu").routes, R(0, 1));
  EXPECT_EQ(CountsOf(earliest, "chengdu").routes, R(1, 1));
  EXPECT_EQ(In(CountsOf(earliest, "chengdu").routes_by_mode, "air_cargo"), R(1, 1));
  EXPECT_EQ(CountsOf(latest, "chengdu").routes, R(0, 0));

  EXPECT_EQ(CountsOf(range, "duesseldorf").organisations, R(0, 1));
  EXPECT_EQ(CountsOf(range, "duesseldorf").offices_hosted, R(0, 1));
  EXPECT_EQ(CountsOf(earliest, "duesseldorf").offices_hosted, R(1, 1));
  EXPECT_EQ(CountsOf(latest, "duesseldorf").offices_hosted, R(0, 0));

  const std::string a = "huangnixiang", b = "village-in-st-patrick-grenada";
  EXPECT_EQ(Partnership(range, a, b), Tri::kMaybe);
  EXPECT_EQ(Partnership(earliest, a, b), Tri::kYes);
  EXPECT_EQ(Partnership(latest, a, b), Tri::kNo);

  // Two-valued rules: every count is certain == possible.
  for (const Snapshot* s : {&earliest, &latest}) {
    for (const auto& [slug, c] : s->counts) {
      for (const Range& r : {c.partnerships, c.routes, c.forums, c.agreements, c.offices,
                             c.offices_hosted, c.organisations, c.awards, c.initiatives}) {
        EXPECT_EQ(r.certain, r.possible) << slug;
      }
    }
    for (const EdgeRow& e : s->edges) EXPECT_EQ(e.status, Tri::kYes);
  }
}

// The story of Chengdu as of 1981-06-30: the two open-start facts
// (../2025-04-17; same range, so in seq order: the association first, as
// in the file) and the Montpellier partnership (1981), all maybe. The
// partnership carries its two sources: itself and 001's corroboration.
TEST_F(ReplayTest, TimelineOfChengduIn1981) {
  Query q;
  q.as_of_day = AsOf("1981-06-30");
  std::vector<TimelineEntry> entries;
  auto txn = log_->Txn();
  ASSERT_TRUE(Timeline(*txn, "chengdu", q, &entries).ok());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].kind, "organisation_founded");
  EXPECT_EQ(entries[0].date, "../2025-04-17");
  EXPECT_EQ(entries[1].kind, "route_opened");
  EXPECT_EQ(entries[2].kind, "partnership_established");
  EXPECT_EQ(entries[2].date, "1981");
  EXPECT_EQ(entries[2].seq, log_->ChengduMontpellier().first);
  EXPECT_EQ(entries[2].source_seqs.size(), 2u);
  for (const TimelineEntry& e : entries) EXPECT_EQ(e.occurred, Tri::kMaybe);

  EXPECT_EQ(Timeline(*txn, "atlantis", q, &entries).code(), Status::Code::kNotFound);
}

// Diff 1980 → 1981: the Chengdu–Montpellier partnership appears (no → yes)
// because of its one event, and both cities' partnership counts go 0 → 1.
// Diff 2020 → 2022: Qingdao Port's partnerships go 0 → 0–2.
// Diff 2024-06-30 → 2024: the trade figure goes from possible to certain.
TEST_F(ReplayTest, DiffNamesChangesAndTheirEvents) {
  const uint64_t seq = log_->ChengduMontpellier().first;
  std::vector<DiffRow> rows = log_->Diff(log_->Replay("1980"), log_->Replay("1981"));
  auto find = [&](const std::string& what, const std::string& key) -> const DiffRow* {
    for (const DiffRow& r : rows) {
      if (r.what == what && r.key == key) return &r;
    }
    return nullptr;
  };
  const DiffRow* edge = find("partnership", "chengdu — montpellier (sister_city)");
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->change, DiffRow::Change::kAdded);
  EXPECT_EQ(edge->before, "no");
  EXPECT_EQ(edge->after, "yes");
  EXPECT_EQ(edge->cause_seqs, std::vector<uint64_t>{seq});
  const DiffRow* count = find("count", "chengdu partnerships");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->before, "0");
  EXPECT_EQ(count->after, "1");
  EXPECT_EQ(count->cause_seqs, std::vector<uint64_t>{seq});
  ASSERT_NE(find("count", "montpellier partnerships in CN"), nullptr);

  rows = log_->Diff(log_->Replay("2020"), log_->Replay("2022"));
  count = find("count", "qingdao-port partnerships");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->before, "0");
  EXPECT_EQ(count->after, "0–2");
  EXPECT_EQ(count->cause_seqs.size(), 2u);

  rows = log_->Diff(log_->Replay("2024-06-30"), log_->Replay("2024"));
  const DiffRow* trade = find("trade", "chengdu → eu 2024 total");
  ASSERT_NE(trade, nullptr);
  EXPECT_EQ(trade->before, "maybe 142,160,000,000 CNY");
  EXPECT_EQ(trade->after, "142,160,000,000 CNY");
  EXPECT_EQ(trade->cause_seqs.size(), 1u);

  EXPECT_TRUE(log_->Diff(log_->Replay("2024"), log_->Replay("2024")).empty());
}

// A row names only its own events:
//  * 2020 → 2022: Qingdao Port's partnerships in US change because of the
//    Long Beach cooperation alone, those in BE because of Antwerp-Bruges
//    alone (both start in 2021).
//  * 2021-12-07 → 2021-12-08: Wuxi's forums change because of its two
//    forums, its initiatives because of its three initiatives (not the
//    other five events of that day).
//  * Under --dates latest, 2024-06-30 → 2024: the trade figure appears
//    (its report, dated 2024, happens on 2024-12-31), though no row lists
//    it on either side: it is open at 2024-06-30 under a rule that gives no
//    row for it yet, and settled at 2024.
TEST_F(ReplayTest, DiffNamesOnlyTheEventsOfEachRow) {
  auto seq_of = [&](const std::string& partner) {
    return log_->Find(partner, Which::PARTNERSHIP_ESTABLISHED, [](auto) { return true; }).first;
  };
  std::vector<DiffRow> rows = log_->Diff(log_->Replay("2020"), log_->Replay("2022"));
  auto find = [&](const std::string& what, const std::string& key) -> const DiffRow* {
    for (const DiffRow& r : rows) {
      if (r.what == what && r.key == key) return &r;
    }
    ADD_FAILURE() << "no row " << what << " " << key;
    return nullptr;
  };
  const DiffRow* us = find("count", "qingdao-port partnerships in US");
  ASSERT_NE(us, nullptr);
  EXPECT_EQ(us->cause_seqs, std::vector<uint64_t>{seq_of("port-of-long-beach")});
  const DiffRow* be = find("count", "qingdao-port partnerships in BE");
  ASSERT_NE(be, nullptr);
  EXPECT_EQ(be->cause_seqs, std::vector<uint64_t>{seq_of("port-of-antwerp-bruges")});

  rows = log_->Diff(log_->Replay("2021-12-07"), log_->Replay("2021-12-08"));
  const DiffRow* forums = find("count", "wuxi forums");
  ASSERT_NE(forums, nullptr);
  EXPECT_EQ(forums->before, "0");
  EXPECT_EQ(forums->after, "2");
  ASSERT_EQ(forums->cause_seqs.size(), 2u);
  auto txn = log_->Txn();
  for (uint64_t seq : forums->cause_seqs) {
    ASSERT_TRUE(txn->Get(seq,
                         [](schema::Event::Reader ev) {
                           EXPECT_EQ(ev.getPayload().which(), Which::FORUM_HELD);
                         })
                    .ok());
  }
  const DiffRow* initiatives = find("count", "wuxi initiatives");
  ASSERT_NE(initiatives, nullptr);
  EXPECT_EQ(initiatives->cause_seqs.size(), 3u);

  rows = log_->Diff(log_->Replay("2024-06-30", DateRule::kLatest),
                    log_->Replay("2024", DateRule::kLatest));
  const DiffRow* trade = find("trade", "chengdu → eu 2024 total");
  ASSERT_NE(trade, nullptr);
  EXPECT_EQ(trade->change, DiffRow::Change::kAdded);
  ASSERT_EQ(trade->cause_seqs.size(), 1u);
  ASSERT_TRUE(txn->Get(trade->cause_seqs[0],
                       [](schema::Event::Reader ev) {
                         EXPECT_EQ(ev.getPayload().which(), Which::TRADE_VOLUME_REPORTED);
                       })
                  .ok());
}

// docs/PROJECTIONS.md §6: Chongqing–Montpellier established some day in
// 2030-01-01/2030-01-11 and ended on 2030-01-06 (appended after it). On
// 2030-01-06 the end follows the establish in every world (a tie goes to the
// higher seq): no. On 2030-01-07 the establish may fall on that day: maybe.
// Neither event's presence or occurrence changed (maybe, yes on both days),
// so the added row names no cause.
TEST(DiffTest, AmountsAreGroupedByThousandsWithoutTrailingZeros) {
  EXPECT_EQ(AmountText(142160000000), "142,160,000,000");
  EXPECT_EQ(AmountText(1.5), "1.5");
  EXPECT_EQ(AmountText(1234.567), "1,234.57");
  EXPECT_EQ(AmountText(-1000), "-1,000");
  EXPECT_EQ(AmountText(0), "0");
}

TEST(DiffTest, EdgeChangingOnlyBecauseADayPassedNamesItsUncertainEvent) {
  SeededLog log;
  const std::string edge = R"("a":"chongqing","b":"montpellier","partnership":"other",)";
  const uint64_t established =
      log.Append(R"({"kind":"partnership_established","date":"2030-01-01/2030-01-11",)" + edge +
                 kTestSource + "}");
  log.Append(R"({"kind":"partnership_ended","date":"2030-01-06",)" + edge + kTestSource + "}");
  const Snapshot day6 = log.Replay("2030-01-06"), day7 = log.Replay("2030-01-07");
  EXPECT_EQ(Partnership(day6, "chongqing", "montpellier"), Tri::kNo);
  EXPECT_EQ(Partnership(day7, "chongqing", "montpellier"), Tri::kMaybe);
  const EdgeRow* row = FindEdge(day7, EdgeRow::Kind::kPartnership, "chongqing", "montpellier");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->events,
            (std::vector<EventMark>{{established, Tri::kMaybe}, {established + 1, Tri::kYes}}));
  bool found = false;
  for (const DiffRow& d : log.Diff(day6, day7)) {
    if (d.key != "chongqing — montpellier (other)") continue;
    found = true;
    EXPECT_EQ(d.change, DiffRow::Change::kAdded);
    // Neither event changed occurrence (maybe and yes on both days): the
    // change comes from where the uncertain establishment may fall.
    EXPECT_EQ(d.cause_seqs, std::vector<uint64_t>{established});
  }
  EXPECT_TRUE(found);
}

// Diff compares snapshots under one date rule.
TEST_F(ReplayTest, DiffRefusesSnapshotsUnderDifferentRules) {
  std::vector<DiffRow> rows;
  EXPECT_EQ(
      Diff(*log_->Txn(), log_->Replay("2020", DateRule::kEarliest), log_->Replay("2020"), &rows)
          .code(),
      Status::Code::kInvalidArgument);
}

// Diff compares like with like: two snapshots of one row selection, and
// counts only with the edge rows their causes are found through. Snapshots
// of edges and counts give the full diff's partnership, route and count
// rows, with the same causes.
TEST_F(ReplayTest, DiffComparesSnapshotsOfOneRowSelection) {
  auto replay = [&](const std::string& as_of, RowSets rows) {
    Query q;
    q.as_of_day = AsOf(as_of);
    q.rows = rows;
    return log_->ReplayQuery(q);
  };
  std::vector<DiffRow> rows;
  auto txn = log_->Txn();
  EXPECT_EQ(Diff(*txn, replay("1990", kAllRows), replay("2020", kTradeRows), &rows).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(Diff(*txn, replay("1990", kCountRows), replay("2020", kCountRows), &rows).code(),
            Status::Code::kInvalidArgument);

  std::vector<DiffRow> full, partial;
  ASSERT_TRUE(Diff(*txn, replay("1990", kAllRows), replay("2020", kAllRows), &full).ok());
  const RowSets edges_and_counts = kEdgeRows | kCountRows;
  ASSERT_TRUE(
      Diff(*txn, replay("1990", edges_and_counts), replay("2020", edges_and_counts), &partial)
          .ok());
  auto key = [](const DiffRow& r) {
    return std::tuple(r.what, r.key, r.before, r.after, r.cause_seqs);
  };
  std::vector<decltype(key(full[0]))> want, got;
  for (const DiffRow& r : full) {
    if (r.what != "trade") want.push_back(key(r));
  }
  for (const DiffRow& r : partial) got.push_back(key(r));
  EXPECT_GT(want.size(), 10u);
  EXPECT_EQ(got, want);
}

// --known-at: "@N" is seq N (beyond the log's end: an error, not the end); a time or an EDTF date
// is every event recorded by then. The dataset was recorded just now, so
// 1990 knows nothing and 2999 everything.
TEST_F(ReplayTest, KnownAtResolvesSeqsTimesAndDates) {
  auto txn = log_->Txn();
  const uint64_t last = txn->LastSeq();
  uint64_t seq = 0;
  ASSERT_TRUE(ResolveKnownAt(*txn, "@5", &seq).ok());
  EXPECT_EQ(seq, 5u);
  const Status beyond = ResolveKnownAt(*txn, "@999999", &seq);
  EXPECT_EQ(beyond.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(beyond.message(), "'@999999' is beyond the log's head: it ends at seq " + std::to_string(last));
  ASSERT_TRUE(ResolveKnownAt(*txn, "@" + std::to_string(last), &seq).ok());
  EXPECT_EQ(seq, last);
  ASSERT_TRUE(ResolveKnownAt(*txn, "1990", &seq).ok());
  EXPECT_EQ(seq, 0u);
  ASSERT_TRUE(ResolveKnownAt(*txn, "2999-12-31", &seq).ok());
  EXPECT_EQ(seq, last);
  ASSERT_TRUE(ResolveKnownAt(*txn, "1999-01-01T00:00:00Z", &seq).ok());
  EXPECT_EQ(seq, 0u);
  ASSERT_TRUE(ResolveKnownAt(*txn, "2999-01-01T12:00:00.5+02:00", &seq).ok());
  EXPECT_EQ(seq, last);
  EXPECT_EQ(ResolveKnownAt(*txn, "@five", &seq).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ResolveKnownAt(*txn, "yesterday", &seq).code(), Status::Code::kInvalidArgument);

  // Known at seq 0, nothing is known.
  Snapshot nothing = log_->Replay("2025", DateRule::kRange, 0);
  EXPECT_TRUE(nothing.edges.empty());
  EXPECT_TRUE(nothing.counts.empty());
  EXPECT_EQ(nothing.known_seq, 0u);
}

// --- Corrections and --known-at ---------------------------------------------

// A retraction takes effect from its own recorded time: known before it,
// Chengdu–Montpellier holds as of 1981; known after it, it does not.
TEST(KnownAtTest, RetractionHidesTheFactOnlyFromItsOwnSeq) {
  SeededLog log;
  const auto [seq, id] = log.ChengduMontpellier();
  const uint64_t before = log.Txn()->LastSeq();
  const uint64_t after = log.Append(R"({"kind":"retraction","date":"2025-05-01","target":")" + id +
                                    R"(","reason":"test: not a sister city",)" + kTestSource + "}");
  ASSERT_EQ(after, before + 1);

  EXPECT_EQ(Partnership(log.Replay("1981", DateRule::kRange, before), "chengdu", "montpellier"),
            Tri::kYes);
  EXPECT_EQ(Partnership(log.Replay("1981", DateRule::kRange, after), "chengdu", "montpellier"),
            Tri::kNo);
  EXPECT_EQ(Partnership(log.Replay("1981"), "chengdu", "montpellier"),
            Tri::kNo);  // default: everything
  EXPECT_EQ(CountsOf(log.Replay("2025"), "chengdu").partnerships, R(0, 0));

  // Resolved through --known-at "@N", the same.
  uint64_t k = 0;
  ASSERT_TRUE(ResolveKnownAt(*log.Txn(), "@" + std::to_string(before), &k).ok());
  EXPECT_EQ(Partnership(log.Replay("1981", DateRule::kRange, k), "chengdu", "montpellier"),
            Tri::kYes);

  // The timeline drops it too, and Diff across the two known-at times names
  // the fact as the cause.
  std::vector<DiffRow> rows = log.Diff(log.Replay("1981", DateRule::kRange, before),
                                       log.Replay("1981", DateRule::kRange, after));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].change, DiffRow::Change::kRemoved);
  EXPECT_EQ(rows[0].cause_seqs, std::vector<uint64_t>{seq});
}

// An amendment moving the partnership to 1982 stands for its replacement at
// its own seq: known before it, yes as of 1981; known after it, no as of
// 1981 (1982 starts later) and yes as of 1982, with the amendment as the
// edge's one event.
TEST(KnownAtTest, AmendmentMovesThePartnershipFromItsOwnSeq) {
  SeededLog log;
  const auto [seq, id] = log.ChengduMontpellier();
  const uint64_t before = log.Txn()->LastSeq();
  const uint64_t after = log.Append(
      R"({"kind":"amendment","target":")" + id +
      R"(","reason":"test: signed in 1982",)"
      R"("replacement":{"kind":"partnership_established","date":"1982","a":"chengdu","b":"montpellier","partnership":"sister_city"},)" +
      kTestSource + "}");
  ASSERT_EQ(after, before + 1);

  EXPECT_EQ(Partnership(log.Replay("1981", DateRule::kRange, before), "chengdu", "montpellier"),
            Tri::kYes);
  EXPECT_EQ(Partnership(log.Replay("1981", DateRule::kRange, after), "chengdu", "montpellier"),
            Tri::kNo);
  EXPECT_EQ(
      Partnership(log.Replay("1982-06-30", DateRule::kRange, after), "chengdu", "montpellier"),
      Tri::kMaybe);
  Snapshot y1982 = log.Replay("1982", DateRule::kRange, after);
  const EdgeRow* edge = FindEdge(y1982, EdgeRow::Kind::kPartnership, "chengdu", "montpellier");
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->status, Tri::kYes);
  EXPECT_EQ(edge->events, (std::vector<EventMark>{{after, Tri::kYes}}));

  // The timeline shows the amendment, naming what it replaced.
  Query q;
  q.as_of_day = AsOf("1982");
  std::vector<TimelineEntry> entries;
  ASSERT_TRUE(Timeline(*log.Txn(), "montpellier", q, &entries).ok());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].seq, after);
  EXPECT_EQ(entries[0].date, "1982");
  EXPECT_EQ(entries[0].amends, id);
}

// --- The temporal index --------------------------------------------------------

// Mid-year and year end from 1979 to 2026 (year ends only under the
// two-valued rules): the index and the replay of the log give the same
// Snapshot, hash included (SeededLog::Replay checks each).
void ExpectIndexAgreesEverywhere(const SeededLog& log, uint64_t known_seq = UINT64_MAX) {
  for (int y = 1979; y <= 2026; ++y) {
    for (const std::string& as_of : {std::to_string(y) + "-06-30", std::to_string(y)}) {
      for (DateRule rule : {DateRule::kRange, DateRule::kEarliest, DateRule::kLatest}) {
        if (rule != DateRule::kRange && as_of.size() > 4) continue;
        log.Replay(as_of, rule, known_seq);
      }
    }
  }
}

// The diff from the index (DiffAt) is the diff of the two replays of the
// log: the same rows, texts and causes.
void ExpectIndexDiffAgrees(const SeededLog& log, const std::string& from, const std::string& to,
                           uint64_t k0 = UINT64_MAX, uint64_t k1 = UINT64_MAX) {
  for (DateRule rule : {DateRule::kRange, DateRule::kEarliest, DateRule::kLatest}) {
    Query q0, q1;
    q0.as_of_day = AsOf(from);
    q1.as_of_day = AsOf(to);
    q0.rule = q1.rule = rule;
    q0.known_seq = k0;
    q1.known_seq = k1;
    auto txn = log.Txn();
    Snapshot b, a;
    std::vector<DiffRow> indexed, replayed;
    ASSERT_TRUE(DiffAt(*txn, q0, q1, &b, &a, &indexed).ok());
    q0.use_index = q1.use_index = false;
    ASSERT_TRUE(DiffAt(*txn, q0, q1, &b, &a, &replayed).ok());
    ASSERT_EQ(indexed.size(), replayed.size()) << from << " " << to;
    for (size_t i = 0; i < indexed.size(); ++i) {
      EXPECT_EQ(indexed[i].key, replayed[i].key) << i;
      EXPECT_EQ(indexed[i].what, replayed[i].what) << replayed[i].key;
      EXPECT_EQ(indexed[i].change, replayed[i].change) << replayed[i].key;
      EXPECT_EQ(indexed[i].before, replayed[i].before) << replayed[i].key;
      EXPECT_EQ(indexed[i].after, replayed[i].after) << replayed[i].key;
      EXPECT_EQ(indexed[i].cause_seqs, replayed[i].cause_seqs) << replayed[i].key;
    }
  }
}

TEST(IndexTest, IndexAnswersAsTheLogDoesOnEveryDayAndRule) {
  SeededLog log;
  log.RebuildIndex();
  ReplayStats stats;
  log.Replay("2011-03-15", DateRule::kRange, UINT64_MAX, &stats);
  EXPECT_EQ(stats.index_seq, log.Txn()->LastSeq());
  EXPECT_EQ(stats.tail_events, 0u);
  ExpectIndexAgreesEverywhere(log);
  ExpectIndexDiffAgrees(log, "2004-07-21", "2004-07-22");
  ExpectIndexDiffAgrees(log, "1981-06-30", "1981");
  ExpectIndexDiffAgrees(log, "1990", "2025");
  ExpectIndexDiffAgrees(log, "2025", "2011");
}

// Without a stored index every answer reads the whole log as the tail, and
// is still the same.
TEST(IndexTest, WithoutAStoredIndexTheWholeLogIsTheTail) {
  SeededLog log;
  log.DropIndex();
  ReplayStats stats;
  log.Replay("2025", DateRule::kRange, UINT64_MAX, &stats);
  EXPECT_EQ(stats.index_seq, 0u);
  EXPECT_EQ(stats.tail_events, log.Txn()->LastSeq());
  ExpectIndexAgreesEverywhere(log);
  ExpectIndexDiffAgrees(log, "2004-07-21", "2004-07-22");
}

// Events recorded after the index (its tail) are read on top of it: new
// facts, a backdated fact, corrections of facts the index holds, a new
// entity, and a registration amended to another country (which changes its
// partners' counts by country).
TEST(IndexTest, TheTailIsReadOnTopOfTheIndex) {
  SeededLog log;
  log.RebuildIndex();
  const uint64_t built = log.Txn()->LastSeq();
  const std::string s = kTestSource;
  const auto [cm_seq, cm_id] = log.ChengduMontpellier();
  const auto [cd_seq, cd_id] = log.Find("duesseldorf", Which::PARTNERSHIP_ESTABLISHED, [](auto) { return true; });
  const auto [reg_seq, reg_id] = log.Find("montpellier", Which::ENTITY_REGISTERED, [](auto) { return true; });
  log.Import(
      R"({"kind":"partnership_ended","date":"2010","a":"chongqing","b":"duesseldorf","partnership":"sister_city",)" + s + "}\n" +
      R"({"kind":"partnership_established","date":"2012-05/2013","a":"chongqing","b":"duesseldorf","partnership":"sister_city",)" + s + "}\n" +
      R"({"kind":"entity_registered","date":"2020","entity":"tailtown","type":"city","names":[{"text":"Tailtown","lang":"en"}],"country":"FR",)" + s + "}\n" +
      R"({"kind":"partnership_established","date":"1975","a":"chengdu","b":"tailtown","partnership":"friendship_city",)" + s + "}\n" +
      R"({"kind":"forum_held","date":"../1999","host":"tailtown","name":"Tail forum",)" + s + "}\n" +
      R"({"kind":"retraction","date":"1981","target":")" + cm_id + R"(","reason":"test",)" + s + "}\n");
  const uint64_t after_import = log.Txn()->LastSeq();
  ReplayStats stats;
  const Snapshot now = log.Replay("2012", DateRule::kRange, UINT64_MAX, &stats);
  EXPECT_EQ(stats.index_seq, built);
  EXPECT_EQ(stats.tail_events, after_import - built);
  EXPECT_EQ(Partnership(now, "chongqing", "duesseldorf"), Tri::kMaybe);
  EXPECT_EQ(Partnership(now, "chengdu", "montpellier"), Tri::kNo);
  EXPECT_EQ(CountsOf(now, "tailtown").forums, R(1, 1));
  ExpectIndexAgreesEverywhere(log);
  ExpectIndexAgreesEverywhere(log, built);       // known before the tail: the index alone
  ExpectIndexAgreesEverywhere(log, built - 10);  // before the index: from its facts by K
  ExpectIndexDiffAgrees(log, "2009", "2013");
  ExpectIndexDiffAgrees(log, "1981", "1981", built, after_import);

  // A registration amended in the tail: Montpellier moves to another
  // country, and Chengdu's partnerships by country follow.
  const std::string reg_amend = R"({"kind":"amendment","date":"2021-12-11","target":")" + reg_id +
      R"(","reason":"test","replacement":{"kind":"entity_registered","date":"2021-12-11","entity":"montpellier","type":"city","names":[{"text":"Montpellier","lang":"en"}],"country":"MC"},)" + s + "}";
  log.Append(reg_amend);
  ExpectIndexAgreesEverywhere(log);
  ExpectIndexDiffAgrees(log, "1980", "2025", built, log.Txn()->LastSeq());
  (void)cd_seq;
  (void)reg_seq;
  (void)cm_seq;
}

// An office whose owner is its host feeds two counters of one entity but is
// one open, then one settled, event of it.
TEST(IndexTest, OfficeOwnedAndHostedByOneEntityIsOneSettledEvent) {
  SeededLog log;
  const uint64_t office = log.Append(
      R"({"kind":"office_opened","date":"1990","owner":"chengdu","host":"chengdu","name":"Home office",)" +
      std::string(kTestSource) + "}");
  for (bool rebuilt : {false, true}) {
    if (rebuilt) log.RebuildIndex();
    const EntityCounts open = CountsOf(log.Replay("1990-06-30"), "chengdu");
    EXPECT_EQ(open.offices, R(0, 1));
    EXPECT_EQ(open.offices_hosted, R(0, 1));
    EXPECT_EQ(
        std::count(open.open_events.begin(), open.open_events.end(), EventMark{office, Tri::kMaybe}),
        1);
    EXPECT_EQ(open.settled_events, 0u);
    const EntityCounts settled = CountsOf(log.Replay("2000"), "chengdu");
    EXPECT_EQ(settled.offices, R(1, 1));
    EXPECT_EQ(settled.offices_hosted, R(1, 1));
    EXPECT_EQ(settled.settled_events, 1u);
  }
}

// The stored index is checked against the log byte for byte; a damaged one
// is reported by VerifyIndex, and a query then answers from the log.
TEST(IndexTest, DamagedIndexIsFoundAndNeverChangesAnAnswer) {
  SeededLog log;
  log.RebuildIndex();
  {
    IndexInfo info;
    Status st = VerifyIndex(*log.Txn(), &info);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(info.present);
  }
  const Snapshot before = log.Replay("2011");
  // Flip a breakpoint day: the shape still fits, the content does not.
  Status st = log.log().UpdateDerived([](DerivedWriteTxn& txn) {
    std::string_view days;
    TWINLINE_RETURN_IF_ERROR(txn.GetDerived("pc.day", &days));
    std::string copy(days);
    copy[0] ^= 1;
    char* data = nullptr;
    TWINLINE_RETURN_IF_ERROR(txn.ReserveDerived("pc.day", copy.size(), &data));
    std::memcpy(data, copy.data(), copy.size());
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = VerifyIndex(*log.Txn());
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_NE(st.message().find("'pc.day'"), std::string::npos) << st.message();
  // A section cut short no longer fits: the query answers from the log.
  st = log.log().UpdateDerived([](DerivedWriteTxn& txn) { return txn.DeleteDerived("edge"); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  Query q;
  q.as_of_day = AsOf("2011");
  ReplayStats stats;
  Snapshot snap;
  ASSERT_TRUE(Replay(*log.Txn(), q, &snap, &stats).ok());
  EXPECT_FALSE(stats.used_index);
  EXPECT_NE(stats.index_problem.find("damaged"), std::string::npos) << stats.index_problem;
  EXPECT_EQ(snap.state_hash, before.state_hash);
  log.RebuildIndex();
  EXPECT_TRUE(VerifyIndex(*log.Txn()).ok());
}

// The CLI's writers keep the index: after an import it holds everything;
// appends leave a tail until it outgrows its limit.
TEST(IndexTest, WritersKeepTheIndexWithTheLog) {
  SeededLog log;  // imported through the CLI, whose writer keeps the index
  IndexInfo info;
  ASSERT_TRUE(DescribeIndex(*log.Txn(), &info).ok());
  EXPECT_TRUE(info.present);
  EXPECT_EQ(info.base_seq, info.log_seq);
  const uint64_t seq = log.Append(
      R"({"kind":"forum_held","date":"2024-05-01","host":"chengdu","name":"Tail forum",)" +
      std::string(kTestSource) + "}");
  ASSERT_TRUE(DescribeIndex(*log.Txn(), &info).ok());
  EXPECT_EQ(info.log_seq, seq);
  EXPECT_LE(info.base_seq, seq);
  ExpectIndexAgreesEverywhere(log);
}

TEST_F(ReplayTest, AStateKeepsOnlyWhatItsRowSetsNeed) {
  auto txn = log_->Txn();
  const int64_t day = AsOf("2025");
  std::map<RowSets, projection_internal::State> states;
  for (RowSets rows : {kAllRows, kCountRows, kTradeRows, kEdgeRows}) {
    projection_internal::State& state = states.emplace(rows, rows).first->second;
    ASSERT_TRUE(projection_internal::ScanEffectiveFactsBySeq(
                    *txn, UINT64_MAX, day,
                    [&](const projection_internal::Fact& f) {
                      state.Insert(f);
                      return true;
                    },
                    rows)
                    .ok());
  }
  const auto& all = states.at(kAllRows);
  const auto& counts = states.at(kCountRows);
  const auto& trade = states.at(kTradeRows);
  const auto& edges = states.at(kEdgeRows);
  ASSERT_GT(all.edges.size(), 0u);
  ASSERT_GT(all.trade.size(), 0u);
  ASSERT_GT(all.counters.size(), 0u);
  EXPECT_EQ(counts.edges.size(), all.edges.size());
  EXPECT_EQ(counts.counters.size(), all.counters.size());
  EXPECT_EQ(counts.trade.size(), 0u);
  EXPECT_EQ(trade.trade.size(), all.trade.size());
  EXPECT_EQ(trade.edges.size() + trade.counters.size() + trade.reports.size(), 0u);
  EXPECT_EQ(edges.counters.size() + edges.reports.size() + edges.trade.size(), 0u);

  Query q;
  q.as_of_day = day;
  q.use_index = false;
  ReplayStats all_stats, trade_stats, count_stats;
  Snapshot snap;
  ASSERT_TRUE(Replay(*txn, q, &snap, &all_stats).ok());
  q.rows = kTradeRows;
  ASSERT_TRUE(Replay(*txn, q, &snap, &trade_stats).ok());
  q.rows = kCountRows;
  ASSERT_TRUE(Replay(*txn, q, &snap, &count_stats).ok());
  EXPECT_GT(trade_stats.events_applied, 0u);
  EXPECT_GT(count_stats.events_applied, 0u);
  EXPECT_EQ(trade_stats.events_applied + count_stats.events_applied, all_stats.events_applied);
}

// ReplayInto stops at the first error a sink returns and hands it back: no
// row after it, and no End.
TEST_F(ReplayTest, ASinkErrorStopsTheReplay) {
  struct Failing : SnapshotSink {
    int edges = 0, counts = 0, ends = 0;
    Status Edge(EdgeRow) override {
      return ++edges == 3 ? Status::IOError("disk full while writing rows") : Status::Ok();
    }
    Status Count(std::string, EntityCounts) override {
      ++counts;
      return Status::Ok();
    }
    Status End(const std::string&) override {
      ++ends;
      return Status::Ok();
    }
  } sink;
  Query q;
  q.as_of_day = AsOf("2025");
  auto txn = log_->Txn();
  const Status st = ReplayInto(*txn, q, &sink);
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_EQ(st.message(), "disk full while writing rows");
  EXPECT_EQ(sink.edges, 3);
  EXPECT_EQ(sink.counts, 0);
  EXPECT_EQ(sink.ends, 0);
}

// The resident size, in kB, of this process's mappings of `file`
// (/proc/self/smaps), or nullopt where there is no /proc.
std::optional<uint64_t> MappedResidentKb(const std::string& file) {
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps) return std::nullopt;
  uint64_t total = 0;
  bool ours = false;
  std::string line;
  while (std::getline(smaps, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find('-') != std::string::npos && line.find(':') > line.find(' ')) {
      ours = line.size() >= file.size() && line.compare(line.size() - file.size(), file.size(), file) == 0;
      continue;
    }
    if (ours && line.rfind("Rss:", 0) == 0) total += std::stoull(line.substr(4));
  }
  return total;
}

// ReadTxn::ReleaseMappedPages drops the pages a scan made resident, and
// changes nothing a reader sees: the same transaction reads the same
// events afterwards; a MappedPageBudget releases them once they exceed its
// budget (checked every kCheckEvery records), and a replay answers as
// before.
// Classify reads the kind table (core/kinds.h): every kind's Feed and its
// fields' roles, with no switch over kinds to keep in step.
TEST(ClassifyTest, EveryCountedFieldOfTheKindTableNamesACounter) {
  for (const KindSpec& kind : Kinds()) {
    for (const FieldSpec& field : kind.fields) {
      if (field.role != Role::kCounted) continue;
      EXPECT_TRUE(projection_internal::CounterNamed(field.counter).has_value())
          << kind.name << "." << field.name << " counts '" << field.counter << "'";
    }
  }
}

TEST(ClassifyTest, RowsFedAgreesWithWhatClassifyFindsForEveryKind) {
  using projection_internal::Feeds;
  for (const KindSpec& kind : Kinds()) {
    capnp::MallocMessageBuilder message;
    auto payload = message.initRoot<schema::Payload>();
    kind.init(payload);
    const Feeds f = projection_internal::Classify(payload.asReader());
    const RowSets fed = projection_internal::RowsFed(kind.which);
    switch (f.kind) {
      case Feeds::Kind::kNothing:
        EXPECT_EQ(fed, 0) << kind.name;
        break;
      case Feeds::Kind::kEdge:
        EXPECT_EQ(fed, kEdgeRows | kCountRows) << kind.name;
        break;
      case Feeds::Kind::kCounters:
      case Feeds::Kind::kReport:
        EXPECT_EQ(fed, kCountRows) << kind.name;
        break;
      case Feeds::Kind::kTrade:
        EXPECT_EQ(fed, kTradeRows) << kind.name;
        break;
    }
  }
}

TEST(ClassifyTest, ReadsKeysAndFiguresThroughTheFieldsRoles) {
  using projection_internal::Counter;
  using projection_internal::Feeds;
  capnp::MallocMessageBuilder message;
  auto payload = message.initRoot<schema::Payload>();

  auto office = payload.initOfficeOpened();  // its owner hosts it: two counters of one entity
  office.setOwner("chengdu");
  office.setHost("chengdu");
  office.setName("liaison office");
  Feeds f = projection_internal::Classify(payload.asReader());
  ASSERT_EQ(f.kind, Feeds::Kind::kCounters);
  EXPECT_EQ(f.counters, (std::vector<std::pair<std::string_view, Counter>>{
                            {"chengdu", Counter::kOffices}, {"chengdu", Counter::kOfficesHosted}}));

  auto parties = payload.initAgreementSigned().initParties(3);  // a repeated party counts once
  parties.set(0, "wuxi");
  parties.set(1, "chengdu");
  parties.set(2, "wuxi");
  f = projection_internal::Classify(payload.asReader());
  EXPECT_EQ(f.counters, (std::vector<std::pair<std::string_view, Counter>>{
                            {"chengdu", Counter::kAgreements}, {"wuxi", Counter::kAgreements}}));

  auto route = payload.initRouteClosed();
  route.setFrom("qingdao");
  route.setTo("mannheim");
  route.setMode(schema::RouteMode::AIR_CARGO);
  f = projection_internal::Classify(payload.asReader());
  ASSERT_EQ(f.kind, Feeds::Kind::kEdge);
  EXPECT_EQ(f.edge_kind, EdgeRow::Kind::kRoute);
  EXPECT_EQ(std::tie(f.a, f.b), std::tuple(std::string_view("qingdao"), std::string_view("mannheim")));
  EXPECT_EQ(f.subkind, static_cast<uint16_t>(schema::RouteMode::AIR_CARGO));
  EXPECT_FALSE(f.establish);

  auto trade = payload.initTradeVolumeReported();
  trade.setReporter("chengdu");
  trade.setPartner("eu");
  trade.setPeriod("2024");
  trade.setAmount(142160000000.0);
  trade.setCurrency("CNY");
  trade.setFlow(schema::TradeFlow::EXPORTS);
  f = projection_internal::Classify(payload.asReader());
  ASSERT_EQ(f.kind, Feeds::Kind::kTrade);
  EXPECT_EQ(std::tie(f.entity, f.partner, f.period, f.currency),
            std::tuple(std::string_view("chengdu"), std::string_view("eu"),
                       std::string_view("2024"), std::string_view("CNY")));
  EXPECT_EQ(f.value, 142160000000.0);
  EXPECT_EQ(f.flow, static_cast<uint16_t>(schema::TradeFlow::EXPORTS));

  auto count = payload.initCountReported();
  count.setEntity("chengdu");
  count.setMetric("partner_cities");
  count.setValue(241);
  count.setQualifier(schema::Qualifier::MORE_THAN);
  count.setScope("eu");
  f = projection_internal::Classify(payload.asReader());
  ASSERT_EQ(f.kind, Feeds::Kind::kReport);
  EXPECT_EQ(std::tie(f.entity, f.metric, f.scope),
            std::tuple(std::string_view("chengdu"), std::string_view("partner_cities"),
                       std::string_view("eu")));
  EXPECT_EQ(f.value, 241);
  EXPECT_EQ(f.qualifier, static_cast<uint16_t>(schema::Qualifier::MORE_THAN));
}

TEST(ReleaseMappedPagesTest, DropsResidentPagesAndChangesNoData) {
  test::TempDir dir("twinline-release");
  std::string ndjson;
  const std::string source =
      R"("sources":[{"title":"Release","publisher":"twinline tests","published":"2001-01-01","language":"en"}])";
  for (const char* slug : {"alpha", "beta"}) {
    ndjson += R"({"kind":"entity_registered","date":"1899","entity":")" + std::string(slug) +
              R"(","type":"city","names":[{"text":")" + slug + R"(","lang":"en"}],"country":"DE",)" +
              source + "}\n";
  }
  const int n = static_cast<int>(projection_internal::MappedPageBudget::kCheckEvery) * 2 + 100;
  for (int i = 0; i < n; ++i) {
    ndjson += R"({"kind":"forum_held","date":")" + FormatDay(DaysFromCivil(1900, 1, 1) + i % 30000) +
              R"(","host":"alpha","name":"Forum )" + std::to_string(i) + "\"," + source + "}\n";
  }
  test::WriteFile(dir / "events.ndjson", ndjson);
  for (std::vector<std::string> args : {std::vector<std::string>{"init"},
                                        std::vector<std::string>{"import", dir / "events.ndjson"}}) {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", dir / "db"});
    test::RunResult r = test::RunProgram(args, "", dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::unique_ptr<EventLog> log;
  OpenOptions options;
  options.read_only = true;
  ASSERT_TRUE(EventLog::Open(dir / "db", options, &log).ok());
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log->BeginRead(&txn).ok());

  auto ids = [&] {
    std::vector<std::string> out;
    EXPECT_TRUE(txn->Scan(1, UINT64_MAX, [&](schema::Event::Reader ev) {
                     out.push_back(Str(ev.getId()));
                     return true;
                   }).ok());
    return out;
  };
  const std::vector<std::string> before = ids();
  ASSERT_EQ(before.size(), static_cast<size_t>(n + 2));
  std::error_code error;
  const std::string data = std::filesystem::canonical(dir.path() / "db" / "data.mdb", error).string();
  ASSERT_FALSE(error) << error.message();
  const std::optional<uint64_t> resident = MappedResidentKb(data);
  if (!resident) GTEST_SKIP() << "no /proc/self/smaps";
  EXPECT_GT(*resident, 0u);
  txn->ReleaseMappedPages();
  EXPECT_EQ(MappedResidentKb(data), std::optional<uint64_t>(0));
  EXPECT_EQ(ids(), before);
  EXPECT_GT(MappedResidentKb(data).value_or(0), 0u);

  // A budget of nothing releases at the first check once pages are resident.
  txn->ReleaseMappedPages();
  projection_internal::MappedPageBudget budget(*txn, 0);
  EXPECT_EQ(ids(), before);
  ASSERT_GT(MappedResidentKb(data).value_or(0), 0u);
  for (uint64_t i = 0; i < projection_internal::MappedPageBudget::kCheckEvery; ++i) {
    budget.Visited();
  }
  EXPECT_EQ(budget.releases(), 1u);
  EXPECT_EQ(MappedResidentKb(data), std::optional<uint64_t>(0));
  EXPECT_EQ(ids(), before);

  Query q;
  q.as_of_day = DaysFromCivil(2000, 12, 31);
  q.use_index = false;
  Snapshot snap;
  ReplayStats stats;
  ASSERT_TRUE(Replay(*txn, q, &snap, &stats).ok());
  EXPECT_EQ(stats.events_applied, static_cast<uint64_t>(n));
  EXPECT_EQ(CountsOf(snap, "alpha").forums, R(n, n));
}

}  // namespace
}  // namespace twinline
