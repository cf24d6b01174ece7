// End-to-end checks of the `twinline` command: the real binary (TWINLINE_BIN)
// run on a temporary database, stdin fed from a file, stdout, stderr and the
// exit status captured.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/event_log.h"
#include "tests/testing/test_util.h"
#include <string>
#include <vector>

extern char** environ;

namespace twinline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using Result = test::RunResult;
using test::ReadFile;
using test::WriteFile;

// Two sources as they appear in the seed articles.
constexpr char kChengduSource[] =
    R"({"title":"2025 Chengdu International Friendship Cities Cooperation and Development Forum",)"
    R"("publisher":"Media OutReach Newswire","published":"2025-04-17","language":"en"})";
constexpr char kNrwSource[] =
    R"({"title":"Chongqing und Düsseldorf feiern 20 Jahre Städtepartnerschaftsfreundschaft",)"
    R"("publisher":"nrwheute","published":"2024","language":"de"})";

std::string Sources(const char* source) { return std::string(R"("sources":[)") + source + "]"; }

// Entities and facts; the entity lines come first, so the fact lines can
// name the entities in any language (they are resolved within the batch).
std::string SeedNdjson() {
  const std::string cd = Sources(kChengduSource), nrw = Sources(kNrwSource);
  return "# seed: entities first\n"
         R"({"kind":"entity_registered","date":"1981","entity":"chengdu","type":"city","country":"CN","names":[{"text":"Chengdu","lang":"en"},{"text":"成都","lang":"zh"}],)" +
         cd + "}\n" +
         R"({"kind":"entity_registered","date":"1981","entity":"montpellier","type":"city","country":"FR","names":[{"text":"Montpellier","lang":"fr"}],)" +
         cd + "}\n" +
         R"({"kind":"entity_registered","date":"2004","entity":"duesseldorf","type":"city","country":"DE","names":[{"text":"Düsseldorf","lang":"de"},{"text":"Dusseldorf","lang":"en"},{"text":"杜塞尔多夫","lang":"zh"}],)" +
         nrw + "}\n" +
         R"({"kind":"entity_registered","date":"2004","entity":"chongqing","type":"city","country":"CN","names":[{"text":"Chongqing","lang":"en"},{"text":"重庆","lang":"zh"}],)" +
         nrw + "}\n" +
         R"({"kind":"entity_registered","date":"2024","entity":"eu","type":"bloc","names":[{"text":"European Union","lang":"en"}],)" +
         cd + "}\n" +
         "\n"
         R"({"kind":"partnership_established","date":"1981","a":"成都","b":"Montpellier","partnership":"sister_city",)" +
         cd + "}\n" +
         R"({"kind":"partnership_established","date":"2004-07-22","a":"Düsseldorf","b":"重庆","partnership":"sister_city",)" +
         nrw + "}\n" +
         R"({"kind":"trade_volume_reported","date":"2024","reporter":"chengdu","partner":"eu","period":"2024","amount":142160000000,"currency":"CNY","flow":"total",)" +
         cd + "}\n" +
         R"({"kind":"count_reported","date":"../2025-04-17","entity":"chengdu","metric":"partner_cities","value":241,)" +
         cd + "}\n" +
         R"({"kind":"office_opened","date":"2011-03","owner":"chongqing","host":"duesseldorf","name":"European liaison office",)" +
         nrw + "}\n";
}
constexpr int kSeedEvents = 10;

constexpr char kPartnershipCsv[] =
    "a,b,date,kind,source_title,source_publisher,source_published,source_language\n"
    "Chengdu,Düsseldorf,2020,friendship_city,Partner list,Chengdu FAO,2025,en\n"
    "\"Chongqing\",Montpellier,2019,,Partner list,Chengdu FAO,2025,en\n";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = (dir_ / "db").string(); }

  // Runs the binary with `args` (no --db added), `input` on stdin. With
  // `program_in_args`, args[0] is the program to run instead (a wrapper).
  Result Exec(const std::vector<std::string>& args, const std::string& input = "",
              bool program_in_args = false) {
    std::vector<std::string> argv;
    if (!program_in_args) argv.push_back(TWINLINE_BIN);
    argv.insert(argv.end(), args.begin(), args.end());
    Result run = test::RunProgram(argv, input, dir_);
    EXPECT_NE(run.exit_code, -1) << run.err;
    return run;
  }

  // Runs `twinline --db <db> args...`.
  Result Twl(std::vector<std::string> args, const std::string& input = "", std::string db = "") {
    args.insert(args.begin(), {"--db", db.empty() ? db_ : db});
    return Exec(args, input);
  }

  // Writes `text` to a file in the temp dir and returns its path.
  std::string File(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    WriteFile(path, text);
    return path.string();
  }

  void InitAndSeed(std::string db = "") {
    ASSERT_EQ(Twl({"init"}, "", db).exit_code, 0);
    Result r = Twl({"import", File("seed.ndjson", SeedNdjson())}, "", db);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  nlohmann::json Stats(std::string db = "") {
    Result r = Twl({"stats", "--format", "json"}, "", db);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }

  test::TempDir temp_{"twinline-cli-test"};  // declared first: dir_ reads it
  fs::path dir_ = temp_.path();
  std::string db_;
};

// ---------------------------------------------------------------------------
// --version

TEST_F(CliTest, VersionNamesVersionFormatAndCommit) {
  Result r = Exec({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::MatchesRegex(
                         "twinline [0-9]+\\.[0-9]+\\.[0-9]+ \\(on-disk format [0-9]+, commit [0-9a-z-]+\\)\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("on-disk format " + std::to_string(kFormatVersion) + ","));
}

// ---------------------------------------------------------------------------
// init, append, import

TEST_F(CliTest, InitCreatesThenReportsExisting) {
  Result r = Twl({"init"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "initialised empty twinline database at " + db_ + "\n");
  r = Twl({"init"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "twinline database at " + db_ + " already exists (0 events)\n");
}

TEST_F(CliTest, DatabaseComesFromEnvironmentWhenNoDbFlag) {
  setenv("TWINLINE_DB", db_.c_str(), 1);
  Result r = Exec({"init"});
  unsetenv("TWINLINE_DB");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(db_));
  EXPECT_TRUE(fs::exists(fs::path(db_) / "data.mdb"));
}

TEST_F(CliTest, ReadingAMissingDatabaseFailsWithAHint) {
  Result r = Twl({"stats"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("twinline: "));
  EXPECT_THAT(r.err, HasSubstr("init"));
  EXPECT_FALSE(fs::exists(fs::path(db_) / "data.mdb"));
}

// An empty directory is no database, like a missing one: the same exit code
// and hint; init makes a database in either.
TEST_F(CliTest, EmptyDirectoryIsReportedAsAMissingDatabase) {
  const std::string missing = (dir_ / "missing").string();
  const std::string empty = (dir_ / "empty").string();
  fs::create_directory(empty);
  const Result a = Twl({"stats"}, "", missing);
  const Result b = Twl({"stats"}, "", empty);
  EXPECT_EQ(a.exit_code, 2) << a.err;
  EXPECT_EQ(b.exit_code, 2) << b.err;
  EXPECT_THAT(a.err, HasSubstr("create one with: twinline --db " + missing + " init"));
  EXPECT_THAT(b.err, HasSubstr("create one with: twinline --db " + empty + " init"));
  EXPECT_THAT(b.err, HasSubstr("the directory is empty"));
  EXPECT_EQ(Twl({"init"}, "", empty).exit_code, 0);
  EXPECT_EQ(Twl({"stats"}, "", empty).exit_code, 0);
}

TEST_F(CliTest, AppendFromFlagsThenDuplicateThenCorroboration) {
  InitAndSeed();
  const std::vector<std::string> fact = {"append",
                                         "--kind",
                                         "partnership_established",
                                         "--date",
                                         "1981",
                                         "--set",
                                         "a=chengdu",
                                         "--set",
                                         "b=Montpellier",
                                         "--set",
                                         "partnership=sister_city"};
  auto with_source = [&](const std::string& title) {
    std::vector<std::string> args = fact;
    args.insert(args.end(), {"--source-title", title, "--source-publisher", "Xinhua",
                             "--source-published", "2021-06", "--source-language", "en"});
    return args;
  };
  Result r = Twl(with_source("Chengdu and Montpellier: 40 years"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              testing::MatchesRegex("corroborated ev-[0-9a-f]+: new source recorded at seq 11\n"));
  r = Twl(with_source("Chengdu and Montpellier: 40 years"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              testing::MatchesRegex("duplicate of ev-[0-9a-f]+ \\(seq 6\\): nothing written\n"));

  // A new fact from flags; --set KEY:=JSON gives a number.
  r = Twl({"append",
           "--kind",
           "forum_held",
           "--date",
           "2021-12-08",
           "--set",
           "host=chengdu",
           "--set",
           "name=Chengdu Friendship Forum",
           "--set",
           "edition:=10",
           "--source-title",
           "T",
           "--source-publisher",
           "P",
           "--source-published",
           "2021-12-11",
           "--source-language",
           "de",
           "--format",
           "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "appended");
  EXPECT_EQ(j["seq"], 12);
  r = Twl({"log", "--seq", "12"});
  EXPECT_THAT(r.out, HasSubstr("chengdu: 10th Chengdu Friendship Forum"));
}

TEST_F(CliTest, AppendFromStdinJson) {
  InitAndSeed();
  const std::string ev =
      R"({"kind":"award_granted","date":"2014-11","recipient":"Düsseldorf","grantor":"chongqing",)"
      R"("name":"Friendship Cities Exchange and Cooperation Award",)" +
      Sources(kNrwSource) + "}";
  Result r = Twl({"append"}, ev);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, testing::MatchesRegex("appended ev-[0-9a-f]+ at seq 11\n"));
  r = Twl({"append", "--json", "-"}, ev);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("duplicate of "));
}

TEST_F(CliTest, AppendWithoutSourcesFails) {
  InitAndSeed();
  Result r = Twl({"append", "--kind", "count_reported", "--date", "2025", "--set", "entity=chengdu",
                  "--set", "metric=routes", "--set", "value:=11"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("sources"));
  EXPECT_EQ(Stats()["events"], kSeedEvents);
}

// Import progress (on a terminal, or with --progress): lines, the share of
// the file and the time left, then "committing…", and a line break before
// the summary.
TEST_F(CliTest, ImportProgressShowsShareOfFileAndEndsItsLine) {
  ASSERT_EQ(Twl({"init"}).exit_code, 0);
  std::string lines;
  for (int i = 0; i < 2000; ++i) lines += "# filler line " + std::to_string(i) + "\n";
  const std::string path = File("progress.ndjson", lines + SeedNdjson());
  Result r = Twl({"import", "--progress", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, testing::ContainsRegex("read 20[0-9][0-9] lines, "));
  EXPECT_THAT(r.err, testing::ContainsRegex("of 0\\.[0-9] MB \\([0-9]+%\\), about 0:[0-9][0-9] left"));
  EXPECT_THAT(r.err, HasSubstr("committing…"));
  EXPECT_EQ(r.err.back(), '\n');
  EXPECT_THAT(r.out, testing::StartsWith("imported "));
}

// --set as httpie: KEY=TEXT is always a string (a year stays the text
// "2024"), KEY:=JSON a JSON value; bad JSON after := is refused, naming it.
TEST_F(CliTest, AppendSetTakesTextWithEqualsAndJsonWithColonEquals) {
  InitAndSeed();
  auto append = [&](std::vector<std::string> sets) {
    std::vector<std::string> args = {"append", "--kind", "trade_volume_reported", "--date", "2024",
                                     "--source-title", "T", "--source-publisher", "P",
                                     "--source-published", "2025", "--source-language", "en"};
    for (const std::string& set : sets) {
      args.push_back("--set");
      args.push_back(set);
    }
    return Twl(args);
  };
  Result r = append({"reporter=chengdu", "partner=eu", "period=2024", "amount:=5e9", "currency=EUR", "flow=total"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = append({"reporter=chengdu", "partner=eu", "period:=2024", "amount:=1", "currency=EUR", "flow=total"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("period: must be a string, got number"));
  r = append({"reporter=chengdu", "partner=eu", "period=2023", "amount=1", "currency=EUR", "flow=total"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("amount: must be a number, got string"));
  r = append({"reporter=chengdu", "amount:=1,5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--set amount:= takes a JSON value"));
  EXPECT_EQ(Stats()["events"], kSeedEvents + 1);
}

TEST_F(CliTest, ImportNdjsonResolvesEntitiesRegisteredEarlierInTheFile) {
  ASSERT_EQ(Twl({"init"}).exit_code, 0);
  const std::string path = File("seed.ndjson", SeedNdjson());
  Result r = Twl({"import", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported " + path +
                       ": 10 events — 10 appended, 0 corroborated, 0 duplicates; log at seq 10\n");
  r = Twl({"log", "--seq", "6..7"});
  EXPECT_THAT(r.out, HasSubstr("chengdu — montpellier (sister city)"));
  EXPECT_THAT(r.out, HasSubstr("chongqing — duesseldorf (sister city)"));
}

TEST_F(CliTest, ImportCsvByExtensionAndByFormatFlag) {
  InitAndSeed();
  Result r = Twl({"import", File("partners.csv", kPartnershipCsv)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 events — 2 appended"));
  r = Twl({"log", "--kind", "partnership_established", "--from", "2019", "--to", "2020"});
  EXPECT_THAT(r.out, HasSubstr("chengdu — duesseldorf (friendship city)"));
  EXPECT_THAT(r.out, HasSubstr("chongqing — montpellier (sister city)"));
  // From stdin, the format flag says CSV; --format json gives the summary as JSON.
  r = Twl({"import", "-", "--format", "csv", "--format", "json"}, kPartnershipCsv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["duplicates"], 2);
  EXPECT_EQ(j["last_seq"], kSeedEvents + 2);
}

TEST_F(CliTest, ReimportChangesNothing) {
  InitAndSeed();
  const nlohmann::json before = Stats();
  Result r = Twl({"import", (dir_ / "seed.ndjson").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("10 events — 0 appended, 0 corroborated, 10 duplicates; log at seq 10"));
  const nlohmann::json after = Stats();
  EXPECT_EQ(after["events"], before["events"]);
  EXPECT_EQ(after["head"], before["head"]);
}

TEST_F(CliTest, SecondSourceForTheSameFactCorroborates) {
  InitAndSeed();
  // The same partnership, written the other way round, from another source.
  const std::string line =
      R"({"kind":"partnership_established","date":"2004-07-22","a":"Chongqing","b":"duesseldorf",)"
      R"("partnership":"sister_city",)" +
      Sources(kChengduSource) + "}\n";
  Result r = Twl({"import", File("more.ndjson", line)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("1 event — 0 appended, 1 corroborated, 0 duplicates; log at seq 11"));
  r = Twl({"log", "--seq", "7"});
  // SOURCES counts the corroboration's source too.
  EXPECT_THAT(r.out, testing::ContainsRegex("chongqing — duesseldorf \\(sister city\\) +2 "));
  r = Twl({"log", "--kind", "corroboration"});
  EXPECT_THAT(r.out, HasSubstr("corroborates ev-"));
}

struct BadLine {
  const char* name;
  std::string line3;
  const char* expected;  // field and/or message in stderr
};

TEST_F(CliTest, BadLineNamesLineAndFieldAndWritesNothing) {
  InitAndSeed();
  const std::string cd = Sources(kChengduSource);
  auto count = [&](const std::string& date, const std::string& entity, const std::string& value,
                   const std::string& sources) {
    return R"({"kind":"count_reported","date":")" + date + R"(","entity":")" + entity +
           R"(","metric":"routes","value":)" + value + (sources.empty() ? "" : "," + sources) + "}";
  };
  const std::vector<BadLine> cases = {
      {"impossible date", count("2021-02-30", "chengdu", "3", cd), "date: "},
      {"unknown entity", count("2021", "Chengduu", "3", cd), "unknown entity 'Chengduu'"},
      {"missing sources", count("2021", "chengdu", "3", ""), "sources"},
      {"negative amount",
       R"({"kind":"trade_volume_reported","date":"2024","reporter":"chengdu","partner":"eu",)"
       R"("period":"2024","amount":-5,"currency":"CNY","flow":"total",)" +
           cd + "}",
       "amount: "},
      {"malformed JSON", R"({"kind":"count_reported",)", "column "},
      {"oversized line", count("2021", "chengdu", "3", cd).insert(1, R"("note":")" + std::string(1 << 20, 'x') + "\","),
       "an event may be at most 1048576 bytes"},
  };
  const nlohmann::json before = Stats();
  for (const BadLine& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = File(
        "bad.ndjson", count("2020", "chengdu", "1", cd) + "\n" + count("2021", "成都", "2", cd) +
                          "\n" + c.line3 + "\n" + count("2022", "chengdu", "4", cd) + "\n");
    Result r = Twl({"import", file});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, StartsWith(file + ":3: "));
    EXPECT_THAT(r.err, HasSubstr(c.expected));
    EXPECT_THAT(r.err, HasSubstr("nothing was written"));
    EXPECT_EQ(r.out, "");
    const nlohmann::json after = Stats();
    EXPECT_EQ(after["events"], before["events"]);
    EXPECT_EQ(after["head"], before["head"]);
  }
}

TEST_F(CliTest, BadCsvRowNamesItsLine) {
  InitAndSeed();
  const std::string csv = std::string(kPartnershipCsv) + "Chengdu,Atlantis,2021,,T,P,2025,en\n";
  const std::string file = File("bad.csv", csv);
  Result r = Twl({"import", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith(file + ":4: "));
  EXPECT_THAT(r.err, HasSubstr("unknown entity 'Atlantis'"));
  EXPECT_EQ(Stats()["events"], kSeedEvents);
}

TEST_F(CliTest, ImportErrorFoundByTheLogNamesItsLineAndWritesNothing) {
  InitAndSeed();
  const std::string cd = Sources(kChengduSource);
  auto count = [&](const std::string& id, const std::string& value) {
    return R"({"id":")" + id + R"(","kind":"count_reported","date":"2021","entity":"chengdu",)"
           R"("metric":"routes","value":)" + value + "," + cd + "}";
  };
  // CRLF line ends; line 4 reuses line 2's id for another fact, which only
  // the log can tell (the decoder accepts each line on its own).
  const std::string file = File("ids.ndjson", "# two reports\r\n" + count("cd-routes", "3") + "\r\n\r\n" +
                                                  count("cd-routes", "4") + "\r\n");
  const nlohmann::json before = Stats();
  Result r = Twl({"import", file});
  EXPECT_EQ(r.exit_code, 4);  // a conflict with what the log holds, as HTTP's 409
  EXPECT_THAT(r.err, StartsWith(file + ":4: id: event id 'cd-routes' is already used"));
  EXPECT_THAT(r.err, HasSubstr("nothing was written"));
  EXPECT_EQ(Stats()["head"], before["head"]);
  // Without the clash the same CRLF file imports.
  r = Twl({"import", File("ok.ndjson", "# one report\r\n" + count("cd-routes", "3") + "\r\n")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 event — 1 appended"));
}

TEST_F(CliTest, DryRunChecksAndWritesNothing) {
  ASSERT_EQ(Twl({"init"}).exit_code, 0);
  Result r = Twl({"import", "--dry-run", File("seed.ndjson", SeedNdjson())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nothing written"));
  EXPECT_EQ(Stats()["events"], 0);
}

TEST_F(CliTest, ExpectSeqConflictExitsFour) {
  InitAndSeed();
  const std::string ev = R"({"kind":"count_reported","date":"2025","entity":"chengdu",)"
                         R"("metric":"routes","value":11,)" +
                         Sources(kChengduSource) + "}";
  Result r = Twl({"append", "--expect-seq", "3"}, ev);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("conflict"));
  r = Twl({"import", "--expect-seq", "9", File("one.ndjson", ev + "\n")});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(Stats()["events"], kSeedEvents);
  r = Twl({"append", "--expect-seq", "10"}, ev);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// ---------------------------------------------------------------------------
// log

TEST_F(CliTest, LogFiltersByEntityNameKindDateAndSeq) {
  InitAndSeed();
  // By Chinese name: Chongqing's registration, partnership and office.
  Result r = Twl({"log", "--entity", "重庆"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("SEQ  DATE"));
  EXPECT_THAT(r.out, HasSubstr("chongqing — duesseldorf (sister city)"));
  EXPECT_THAT(r.out, HasSubstr("chongqing: European liaison office in duesseldorf"));
  EXPECT_THAT(r.out, Not(HasSubstr("montpellier")));

  r = Twl({"log", "--kind", "trade_volume_reported", "--kind", "count_reported"});
  EXPECT_THAT(r.out, HasSubstr("chengdu → eu trade 2024: 142,160,000,000 CNY total"));
  EXPECT_THAT(r.out, HasSubstr("chengdu reports partner_cities = 241"));
  EXPECT_THAT(r.out, Not(HasSubstr("partnership_established")));

  // 2011 overlaps the office (2011-03) and the open-ended count (../2025-04-17).
  r = Twl({"log", "--from", "2011", "--to", "2011-12", "--format", "ndjson"});
  std::vector<int> seqs;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    seqs.push_back(nlohmann::json::parse(line)["seq"].get<int>());
  }
  EXPECT_EQ(seqs, (std::vector<int>{9, 10}));

  r = Twl({"log", "--seq", "8..", "--format", "json"});
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["seq"], 8);
  EXPECT_EQ(j[0]["kind"], "trade_volume_reported");
  r = Twl({"log", "--seq", "..3", "--limit", "2", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 2u);
}

TEST_F(CliTest, LogRejectsUnknownEntityKindAndBadDate) {
  InitAndSeed();
  Result r = Twl({"log", "--entity", "Dusseldorff"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("did you mean: duesseldorf (Düsseldorf)"));
  EXPECT_EQ(Twl({"log", "--kind", "partnership"}).exit_code, 2);
  r = Twl({"log", "--from", "2021-13"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--from"));
  r = Twl({"log", "--seq", "5..3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--seq: empty range: 5 is after 3"));
  r = Twl({"log", "--from", "2030", "--to", "2020"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--from 2030 is after --to 2020"));
}

TEST_F(CliTest, LogRawWritesTheStoredRecord) {
  InitAndSeed();
  Result r = Twl({"log", "--raw", "7"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("duesseldorf"));
  EXPECT_EQ(r.out.size() % 8, 0u);  // whole Cap'n Proto words
  EXPECT_EQ(Twl({"log", "--raw", "99"}).exit_code, 2);
}

// ---------------------------------------------------------------------------
// export / import round trips

TEST_F(CliTest, ExportThenRestoreGivesIdenticalChainHead) {
  InitAndSeed();
  Result r = Twl({"import", File("more.csv", kPartnershipCsv)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string exported = (dir_ / "export.ndjson").string();
  r = Twl({"export", "-o", exported});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Twl({"export"}).out, ReadFile(exported));

  const std::string copy = (dir_ / "restored").string();
  ASSERT_EQ(Twl({"init"}, "", copy).exit_code, 0);
  r = Twl({"import", "--restore", exported}, "", copy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json original = Stats(), restored = Stats(copy);
  EXPECT_EQ(restored["events"], original["events"]);
  EXPECT_EQ(restored["head"], original["head"]);
  EXPECT_EQ(Twl({"export"}, "", copy).out, ReadFile(exported));
  // --restore refuses a log that is not empty.
  r = Twl({"import", "--restore", exported}, "", copy);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("empty"));
}

TEST_F(CliTest, ExportThenPlainImportGivesTheSameFacts) {
  InitAndSeed();
  const std::string line =
      R"({"kind":"partnership_established","date":"1981","a":"chengdu","b":"montpellier",)"
      R"("partnership":"sister_city",)" +
      Sources(kNrwSource) + "}\n";
  ASSERT_EQ(Twl({"import", File("more.ndjson", line)}).exit_code, 0);  // a corroboration
  const std::string exported = (dir_ / "export.ndjson").string();
  ASSERT_EQ(Twl({"export", "-o", exported}).exit_code, 0);

  const std::string copy = (dir_ / "copy").string();
  ASSERT_EQ(Twl({"init"}, "", copy).exit_code, 0);
  Result r = Twl({"import", exported}, "", copy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json original = Stats(), imported = Stats(copy);
  EXPECT_EQ(imported["events"], original["events"]);
  EXPECT_EQ(imported["by_kind"], original["by_kind"]);
  EXPECT_EQ(imported["sources"], original["sources"]);
  EXPECT_EQ(imported["entities"], original["entities"]);
  // Same ids (derived from the facts) in the same order.
  auto ids = [&](const std::string& db) {
    std::vector<std::string> out;
    for (const auto& ev : nlohmann::json::parse(Twl({"log", "--format", "json"}, "", db).out)) {
      out.push_back(ev["id"]);
    }
    return out;
  };
  EXPECT_EQ(ids(copy), ids(db_));
}

// ---------------------------------------------------------------------------
// entities, date, verify, stats

TEST_F(CliTest, EntitiesListsAndResolvesByAnyName) {
  InitAndSeed();
  Result r = Twl({"entities"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("SLUG"));
  EXPECT_THAT(r.out, HasSubstr("Düsseldorf (de), Dusseldorf (en), 杜塞尔多夫 (zh)"));
  r = Twl({"entities", "DÜSSELDORF"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, testing::ContainsRegex("slug: +duesseldorf"));
  EXPECT_THAT(r.out, testing::ContainsRegex("events: +3"));
  r = Twl({"entities", "重庆", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["slug"], "chongqing");
  EXPECT_EQ(j["country"], "CN");
  r = Twl({"entities", "Dusseldorff"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("unknown entity 'Dusseldorff'; did you mean: duesseldorf (Düsseldorf)"));
}

TEST_F(CliTest, DateExplainsHowAnExpressionIsRead) {
  // No database is touched.
  Result r = Exec({"--db", "/nonexistent/db", "date", "2011-03"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, testing::ContainsRegex("precision: +month"));
  EXPECT_THAT(r.out, testing::ContainsRegex("earliest day: +2011-03-01"));
  EXPECT_THAT(r.out, testing::ContainsRegex("latest day: +2011-03-31"));
  r = Exec({"date", "../2023-10-06"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("open start: happened at some time up to 2023-10-06"));
  EXPECT_THAT(r.out, testing::ContainsRegex("earliest day: +\\.\\."));
  r = Exec({"date", "2014-11~", "--format", "json"});
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["approximate"], true);
  EXPECT_EQ(j["form"], "date");
  r = Exec({"date", "2021-02-30"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("twinline: "));
  EXPECT_THAT(r.err, HasSubstr("30"));
}

TEST_F(CliTest, VerifyPassesOnAnIntactLog) {
  InitAndSeed();
  Result r = Twl({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, testing::MatchesRegex(
                         "ok: 10 events, [0-9]+ index entries, temporal index at seq 10, chain head [0-9a-f]{64}\n"));
  EXPECT_THAT(r.out, HasSubstr(Stats()["head"].get<std::string>()));
}

TEST_F(CliTest, VerifyNamesTheSeqOfAFlippedByte) {
  InitAndSeed();
  const std::string marker = "CORRUPT-ME-MARKER";
  const std::string ev = R"({"kind":"count_reported","date":"2023","entity":"chengdu",)"
                         R"("metric":"routes","value":11,"sources":[{"title":")" +
                         marker + R"(","publisher":"P","published":"2023","language":"en"}]})";
  ASSERT_EQ(Twl({"append"}, ev).exit_code, 0);
  ASSERT_EQ(Twl({"append"}, R"({"kind":"count_reported","date":"2024","entity":"chengdu",)"
                            R"("metric":"routes","value":12,)" +
                                Sources(kChengduSource) + "}")
                .exit_code,
            0);

  const fs::path copy = dir_ / "corrupted";
  fs::copy(db_, copy);
  const fs::path data = copy / "data.mdb";
  std::string bytes = ReadFile(data);
  // LMDB is copy-on-write: stale pages may hold older copies of the record,
  // so flip the marker wherever it occurs. Records are stored packed
  // (docs/FORMAT.md): the text's first word appears verbatim.
  const std::string word = marker.substr(0, 8);
  size_t flipped = 0;
  for (size_t pos = bytes.find(word); pos != std::string::npos;
       pos = bytes.find(word, pos + 1)) {
    bytes[pos + 3] ^= 0x01;
    ++flipped;
  }
  ASSERT_GT(flipped, 0u);
  WriteFile(data, bytes);

  Result r = Twl({"verify"}, "", copy.string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("corruption: "));
  EXPECT_THAT(r.err, testing::ContainsRegex("seq 11\\b"));
  EXPECT_EQ(Twl({"verify"}).exit_code, 0);  // the original is untouched
}

TEST_F(CliTest, StatsCountsKindsAndRanges) {
  InitAndSeed();
  nlohmann::json j = Stats();
  EXPECT_EQ(j["events"], kSeedEvents);
  EXPECT_EQ(j["entities"], 5);
  EXPECT_EQ(j["by_kind"]["entity_registered"], 5);
  EXPECT_EQ(j["by_kind"]["partnership_established"], 2);
  EXPECT_EQ(j["valid_time"]["earliest"], "1981-01-01");
  EXPECT_EQ(j["valid_time"]["latest"], "2025-04-17");
  EXPECT_GT(j["file_bytes"].get<uint64_t>(), 0u);
  Result r = Twl({"stats"});
  EXPECT_THAT(r.out, testing::ContainsRegex("events: +10\n"));
  EXPECT_THAT(r.out, testing::ContainsRegex("partnership_established +2\n"));
}

// ---------------------------------------------------------------------------
// the command line itself

TEST_F(CliTest, EveryVerbHasHelp) {
  for (const char* verb :
       {"init", "append", "import", "export", "log", "entities", "date", "verify", "stats"}) {
    Result r = Exec({verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_THAT(r.out, HasSubstr("Usage")) << verb;
  }
}

TEST_F(CliTest, UsageErrorsExitOne) {
  EXPECT_EQ(Exec({}).exit_code, 1);
  EXPECT_EQ(Exec({"frobnicate"}).exit_code, 1);
  EXPECT_EQ(Exec({"log", "--limit", "many"}).exit_code, 1);
  EXPECT_EQ(Exec({"--log-level", "loud", "stats"}).exit_code, 1);
  Result r = Exec({"append", "--json", "-", "--kind", "forum_held"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("twinline: "));
}

TEST_F(CliTest, ReadOnlyVerbsWorkOnAReadOnlyDatabase) {
  InitAndSeed();
  // Root ignores file permissions, so run the binary as nobody instead.
  std::vector<std::string> as_user;
  if (geteuid() == 0) {
    if (!fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "running as root without setpriv";
    as_user = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  // data.mdb and the directory read-only. LMDB documents that it still
  // writes its lock file in read-only mode (except on a read-only file
  // system), so lock.mdb stays writable.
  const fs::path db = db_;
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  const fs::perms read_only =
      fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
  fs::permissions(db / "data.mdb", read_only);
  fs::permissions(db / "lock.mdb", read_only | fs::perms::owner_write | fs::perms::group_write |
                                       fs::perms::others_write);
  fs::permissions(
      db, read_only | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec);
  auto run = [&](std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", db_});
    args.insert(args.begin(), as_user.begin(), as_user.end());
    return Exec(args, input, /*program_in_args=*/true);
  };
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"stats"}, {"log", "--entity", "重庆"}, {"entities"}, {"export"}, {"verify"}}) {
    Result r = run(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
  }
  const std::string ev = R"({"kind":"count_reported","date":"2025","entity":"chengdu",)"
                         R"("metric":"routes","value":11,)" +
                         Sources(kChengduSource) + "}";
  Result r = run({"append"}, ev);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  fs::permissions(db, fs::perms::owner_all, fs::perm_options::add);
  fs::permissions(db / "data.mdb", fs::perms::owner_write, fs::perm_options::add);
}

}  // namespace
}  // namespace twinline
