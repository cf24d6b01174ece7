// Hostile and malformed input, table-driven (issue 6, "reliability"):
// truncated lines, invalid UTF-8, huge numbers, deep nesting, unknown and
// duplicate fields, duplicate ids, dates out of range, references to
// unknown or retracted events, corrections of corrections.
//
// Every row is a whole import file whose first line is a good, new fact and
// whose bad line comes later, so that a partial write would show. Each row
// must be refused with an error naming its line and field, and the log must
// be exactly as before: same last seq, same chain head. A row is checked
// through every public interface that reads such a file:
//  * the library: api::DecodeNdjsonBatch (or PartnershipCsvReader) and
//    EventLog::Append, as import and the server decode and write;
//  * the HTTP API: POST /v1/events as NDJSON through Routes (in-process,
//    with the server's GroupCommitter), answered 4xx with "line" and "field";
//  * the real binary, `twinline import FILE`, which must print
//    "FILE:LINE: FIELD: MESSAGE" and "nothing was written".
// CSV rows are not posted: the server takes JSON and NDJSON only.
#include <capnp/message.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <ostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "core/names.h"
#include "events/csv_import.h"
#include "events/entity_resolver.h"
#include "events/json_codec.h"
#include "tests/testing/test_util.h"
#include "tools/api/batch_decode.h"
#include "tools/server/group_commit.h"
#include "tools/server/routes.h"

namespace twinline {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSource[] =
    R"("sources":[{"title":"Bad input test","publisher":"twinline tests","published":"2025","language":"en"}])";

std::string Event(const std::string& fields) { return "{" + fields + "," + kSource + "}"; }

// What the log holds before every row: five cities, a fact, a retracted
// fact and an amended fact, with ids the rows can refer to.
std::string BaseNdjson() {
  auto city = [](const std::string& slug, const std::string& country, const std::string& name) {
    return Event(R"("kind":"entity_registered","date":"2020","entity":")" + slug +
                 R"(","type":"city","country":")" + country + R"(","names":[{"text":")" + name +
                 R"(","lang":"en"}])");
  };
  return city("chengdu", "CN", "Chengdu") + "\n" + city("montpellier", "FR", "Montpellier") +
         "\n" + city("wuxi", "CN", "Wuxi") + "\n" + city("chongqing", "CN", "Chongqing") + "\n" +
         city("duesseldorf", "DE", "Düsseldorf") + "\n" +
         Event(R"("kind":"partnership_established","id":"fact-1","date":"1981","a":"chengdu","b":"montpellier","partnership":"sister_city")") +
         "\n" +
         Event(R"("kind":"partnership_established","id":"fact-2","date":"2004-07-22","a":"chongqing","b":"duesseldorf","partnership":"sister_city")") +
         "\n" +
         Event(R"("kind":"retraction","id":"retraction-2","date":"2024","target":"fact-2","reason":"withdrawn")") +
         "\n" +
         Event(R"("kind":"partnership_established","id":"fact-3","date":"2010","a":"wuxi","b":"chengdu","partnership":"friendship_city")") +
         "\n" +
         Event(R"("kind":"amendment","id":"amendment-3","target":"fact-3","reason":"year","replacement":{"kind":"partnership_established","date":"2011","a":"wuxi","b":"chengdu","partnership":"friendship_city"})") +
         "\n";
}

// A good line: a new fact, which a partial write would leave in the log.
const std::string kGood =
    Event(R"("kind":"partnership_established","date":"1999","a":"chengdu","b":"wuxi","partnership":"sister_city")");
const std::string kPartnership = R"("a":"chengdu","b":"wuxi","partnership":"sister_city")";

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

struct BadInput {
  const char* name;
  std::string input;
  int64_t line;           // the line the error must name
  std::string field;      // the field it must name ("": none, e.g. a syntax error)
  std::string message;    // a part of its message
  unsigned http = 422;    // POST /v1/events status (0: CSV, not sent)
  bool csv = false;
};

// gtest names a row by its name, not by its bytes.
void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

const char kCsvHeader[] =
    "a,b,date,kind,source_title,source_publisher,source_published,source_language\n";

std::vector<BadInput> Cases() {
  std::vector<BadInput> c;
  // Truncated lines.
  c.push_back({"TruncatedObject", kGood + "\n" + R"({"kind":"partnership_established","date":"1981","a":"chengdu")" + "\n",
               2, "", "column 62: syntax error while parsing object - unexpected end of input", 422});
  c.push_back({"TruncatedInsideKey", kGood + "\n" + R"({"kind":"partnership_established","da)", 2, "",
               "invalid string: missing closing quote"});
  c.push_back({"TruncatedInsideEscape", kGood + "\n" + R"({"kind":"partnership_established","note":"\u00)", 2, "",
               "syntax error"});
  // Invalid UTF-8.
  c.push_back({"InvalidUtf8Byte", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + ",\"note\":\"caf\xE9\"") + "\n",
               2, "", "ill-formed UTF-8 byte", 422});
  c.push_back({"Utf8EncodedSurrogate", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + ",\"note\":\"\xED\xA0\x80\"") + "\n",
               2, "", "ill-formed UTF-8 byte"});
  c.push_back({"OverlongUtf8", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + ",\"note\":\"\xC0\xAF\"") + "\n",
               2, "", "ill-formed UTF-8 byte"});
  c.push_back({"InvalidUtf8InCsvValue", std::string(kCsvHeader) + "chengdu,wuxi,1999,,Partner list,FAO,2025,en\n" +
                   "chengdu,montpellier,1990,,Partner \xFE list,FAO,2025,en\n",
               3, "sources[0].title", "must be valid UTF-8 (ill-formed at byte 8)", 0, true});
  c.push_back({"InvalidUtf8InCsvEntity", std::string(kCsvHeader) + "chengdu,wuxi,1999,,Partner list,FAO,2025,en\n" +
                   "chengdu,Montpellier\xFF,1990,,Partner list,FAO,2025,en\n",
               3, "b", "must be valid UTF-8 (ill-formed at byte 11)", 0, true});
  c.push_back({"NulCharacter", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + R"(,"note":"a\u0000b")") + "\n",
               2, "note", "must not contain NUL characters"});
  // Huge and out-of-range numbers.
  c.push_back({"NumberOverflow", kGood + "\n" + Event(R"("kind":"trade_volume_reported","date":"2024","reporter":"chengdu","partner":"wuxi","period":"2024","amount":1e400,"currency":"CNY","flow":"total")") + "\n",
               2, "", "number overflow parsing '1e400'", 422});
  c.push_back({"HugeIntegerForAnInteger", kGood + "\n" + Event(R"("kind":"forum_held","date":"2024","host":"chengdu","name":"Forum","edition":99999999999999999999999)") + "\n",
               2, "edition", "must be an integer from 0 to 4294967295, got 9.999999999999999e+22"});
  c.push_back({"IntegerAboveRange", kGood + "\n" + Event(R"("kind":"forum_held","date":"2024","host":"chengdu","name":"Forum","edition":4294967296)") + "\n",
               2, "edition", "must be an integer from 0 to 4294967295"});
  c.push_back({"NegativeAmount", kGood + "\n" + Event(R"("kind":"trade_volume_reported","date":"2024","reporter":"chengdu","partner":"wuxi","period":"2024","amount":-1,"currency":"CNY","flow":"total")") + "\n",
               2, "amount", "must be >= 0"});
  // Deep nesting: refused at 33 levels, and a very deep line costs no stack.
  c.push_back({"NestingBeyondLimit", kGood + "\n" + R"({"kind":"partnership_established","note":)" + Nested(32) + "}\n",
               2, "", "nesting deeper than 32 levels", 422});
  c.push_back({"VeryDeepNesting", kGood + "\n" + Nested(200000) + "\n", 2, "", "nesting deeper than 32 levels"});
  // Unknown, duplicate and missing fields; wrong shapes.
  c.push_back({"UnknownField", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + R"(,"colour":"red")") + "\n",
               2, "colour", "unknown field for kind partnership_established", 422});
  c.push_back({"UnknownFieldInSource", kGood + "\n" + R"({"kind":"partnership_established","date":"1990",)" + kPartnership +
                   R"(,"sources":[{"title":"t","publisher":"p","published":"2025","language":"en","colour":1}]})" + "\n",
               2, "sources[0].colour", "unknown field for a source"});
  c.push_back({"UnknownCsvColumn", std::string("a,b,date,colour,source_title,source_publisher,source_published,source_language\n") +
                   "chengdu,wuxi,1999,red,Partner list,FAO,2025,en\n",
               1, "colour", "unknown column 'colour'", 0, true});
  c.push_back({"DuplicateKey", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990","date":"1991",)" + kPartnership) + "\n",
               2, "date", "duplicate key 'date'"});
  c.push_back({"MissingSources", kGood + "\n" + R"({"kind":"partnership_established","date":"1990",)" + kPartnership + "}\n",
               2, "sources", "required field is missing"});
  c.push_back({"NotAnObject", kGood + "\n[1,2]\n", 2, "", "an event must be a JSON object, got array"});
  c.push_back({"UnknownKind", kGood + "\n" + Event(R"("kind":"colonisation","date":"1990")") + "\n",
               2, "kind", "unknown kind 'colonisation'"});
  c.push_back({"LineLongerThanAnEvent", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + R"(,"note":")" + std::string(api::kMaxEventBytes, 'x') + "\"") + "\n",
               2, "", "an event may be at most 1048576 bytes"});
  // Dates out of range.
  c.push_back({"DayThatDoesNotExist", kGood + "\n" + Event(R"("kind":"partnership_established","date":"2021-02-30",)" + kPartnership) + "\n",
               2, "date", "day 30 does not exist in 2021-02", 422});
  c.push_back({"MonthOutOfRange", kGood + "\n" + Event(R"("kind":"partnership_established","date":"2021-13",)" + kPartnership) + "\n",
               2, "date", "month 13 is out of range"});
  c.push_back({"YearBeyondSupportedRange", kGood + "\n" + Event(R"("kind":"partnership_established","date":"Y99999999999999999",)" + kPartnership) + "\n",
               2, "date", "has more than 15 digits, beyond the supported range"});
  c.push_back({"IntervalEndingBeforeItStarts", kGood + "\n" + Event(R"("kind":"partnership_established","date":"2024/2016",)" + kPartnership) + "\n",
               2, "date", "starts after it ends"});
  c.push_back({"SourceDateOutOfRange", kGood + "\n" + R"({"kind":"partnership_established","date":"1990",)" + kPartnership +
                   R"(,"sources":[{"title":"t","publisher":"p","published":"2021-02-30","language":"en"}]})" + "\n",
               2, "sources[0].published", "day 30 does not exist in 2021-02"});
  c.push_back({"CsvDateOutOfRange", std::string(kCsvHeader) + "chengdu,wuxi,1999,,Partner list,FAO,2025,en\n" +
                   "chengdu,montpellier,1990-00,,Partner list,FAO,2025,en\n",
               3, "date", "month 00 is out of range", 0, true});
  // Entities: unknown, the same on both sides, registered twice.
  c.push_back({"UnknownEntity", kGood + "\n" + Event(R"("kind":"partnership_established","date":"1990","a":"chengdu","b":"Nowhere","partnership":"sister_city")") + "\n",
               2, "b", "unknown entity 'Nowhere'"});
  c.push_back({"EntityRegisteredAgain", kGood + "\n" + Event(R"("kind":"entity_registered","date":"2021","entity":"wuxi","type":"city","country":"CN","names":[{"text":"Wu Xi","lang":"en"}])") + "\n",
               2, "entity", "entity 'wuxi' is already registered", 409});
  // Duplicate ids.
  c.push_back({"DuplicateIdWithinTheFile", Event(R"("kind":"partnership_established","id":"my-id","date":"1999",)" + kPartnership) + "\n" +
                   Event(R"("kind":"partnership_established","id":"my-id","date":"1998",)" + kPartnership) + "\n",
               2, "id", "event id 'my-id' is already used", 409});
  c.push_back({"IdTakenInTheLog", kGood + "\n" + Event(R"("kind":"partnership_established","id":"fact-1","date":"1998",)" + kPartnership) + "\n",
               2, "id", "event id 'fact-1' is already used", 409});
  // References to unknown or retracted events.
  c.push_back({"RetractionOfAnUnknownEvent", kGood + "\n" + Event(R"("kind":"retraction","date":"2024","target":"ev-0000000000000000","reason":"r")") + "\n",
               2, "target", "no event with id 'ev-0000000000000000' in the log", 422});
  c.push_back({"CorroborationOfAnUnknownEvent", kGood + "\n" + Event(R"("kind":"corroboration","date":"2024","target":"nope")") + "\n",
               2, "target", "no event with id 'nope' in the log"});
  c.push_back({"RetractionOfARetractedFact", kGood + "\n" + Event(R"("kind":"retraction","date":"2025","target":"fact-2","reason":"again")") + "\n",
               2, "target", "'fact-2' has already been retracted"});
  c.push_back({"AmendmentOfARetractedFact", kGood + "\n" + Event(R"("kind":"amendment","target":"fact-2","reason":"r","replacement":{"kind":"partnership_established","date":"2005","a":"chongqing","b":"duesseldorf","partnership":"sister_city"})") + "\n",
               2, "target", "'fact-2' has already been retracted"});
  c.push_back({"RetractionRetractedInTheSameFile", kGood + "\n" + Event(R"("kind":"retraction","date":"2024","target":"fact-1","reason":"one")") + "\n" +
                   Event(R"("kind":"retraction","date":"2024","target":"fact-1","reason":"two")") + "\n",
               3, "target", "'fact-1' has already been retracted"});
  c.push_back({"RetractionOfARetraction", kGood + "\n" + Event(R"("kind":"retraction","date":"2025","target":"retraction-2","reason":"r")") + "\n",
               2, "target", "'retraction-2' is a retraction; only facts and amendments can be corrected"});
  // Corrections of corrections.
  c.push_back({"AmendmentOfAnAmendedFact", kGood + "\n" + Event(R"("kind":"amendment","target":"fact-3","reason":"r","replacement":{"kind":"partnership_established","date":"2012","a":"wuxi","b":"chengdu","partnership":"friendship_city"})") + "\n",
               2, "target", "'fact-3' has already been amended; amend its latest amendment instead", 422});
  c.push_back({"ReplacementThatIsAnAmendment", kGood + "\n" + Event(R"("kind":"amendment","target":"amendment-3","reason":"r","replacement":{"kind":"amendment","date":"2012","target":"fact-3","reason":"x"})") + "\n",
               2, "replacement.kind", "a replacement cannot be a amendment; it must be a fact"});
  c.push_back({"ReplacementOfAnotherKind", kGood + "\n" + Event(R"("kind":"amendment","target":"amendment-3","reason":"r","replacement":{"kind":"partnership_ended","date":"2012","a":"wuxi","b":"chengdu","partnership":"friendship_city"})") + "\n",
               2, "replacement.kind", "a replacement must be of the same kind as the event it corrects"});
  c.push_back({"CorroborationOfARetraction", kGood + "\n" + Event(R"("kind":"corroboration","date":"2024","target":"retraction-2")") + "\n",
               2, "target", "'retraction-2' is not a fact that sources can be added to"});
  return c;
}

// Routes over a log with a real GroupCommitter, as `twinline serve` has them.
class InProcessServer {
 public:
  explicit InProcessServer(EventLog* log)
      : committer_([log](std::vector<EventLog::GroupItem>* items) { return log->AppendGroup(items); },
                   server::GroupCommitter::Options(), nullptr, nullptr),
        routes_(log, &committer_, nullptr, server::RouteOptions(), nullptr) {}

  server::Response Post(const std::string& content_type, const std::string& body) {
    server::Request req{server::http::verb::post, "/v1/events", 11};
    req.set(server::http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    std::promise<server::Response> answered;
    routes_.Handle(req, [&answered](server::Response res) { answered.set_value(std::move(res)); });
    std::future<server::Response> future = answered.get_future();
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer";
      return server::Response();
    }
    return future.get();
  }

 private:
  server::GroupCommitter committer_;
  server::Routes routes_;
};

// The "error" object of a JSON answer (an empty object, and a test
// failure, when the answer is not one).
nlohmann::json ErrorOf(const server::Response& res) {
  nlohmann::json body = nlohmann::json::parse(res.body(), nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) {
    ADD_FAILURE() << "not an error answer: " << res.body().substr(0, 300);
    return nlohmann::json::object();
  }
  return body["error"];
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {
 protected:
  void SetUp() override {
    OpenOptions options;
    options.create_if_missing = true;
    ASSERT_TRUE(EventLog::Open(db_, options, &log_).ok());
    Status s;
    folder_ = NameFolder::Create(&s);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    LogEntityResolver resolver(txn.get(), folder_.get());
    api::DecodedBatch batch;
    int64_t failed_at = -1;
    s = api::DecodeNdjsonBatch(BaseNdjson(), resolver, DecodeOptions(), &batch, &failed_at);
    ASSERT_TRUE(s.ok()) << failed_at << ": " << s.ToString();
    txn.reset();
    AppendResult result;
    s = log_->Append(batch.events, AppendOptions(), &result);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(result.appended, 10u);
    Snapshot(&last_seq_, &head_);
  }

  // The log's last seq and chain head, after checking the whole chain.
  void Snapshot(uint64_t* last_seq, std::string* head) {
    VerifyReport report;
    const Status s = log_->Verify(&report);
    ASSERT_TRUE(s.ok()) << s.ToString();
    *last_seq = report.events;
    *head = report.head;
  }

  void ExpectLogUnchanged(const char* after) {
    uint64_t last_seq = 0;
    std::string head;
    Snapshot(&last_seq, &head);
    EXPECT_EQ(last_seq, last_seq_) << "after " << after << ": something was written";
    EXPECT_EQ(head, head_) << "after " << after << ": the chain moved";
  }

  // The import path of the library: decode everything, then one Append.
  // Returns the error and the input line it names.
  Status Import(const BadInput& c, int64_t* line) {
    std::unique_ptr<ReadTxn> txn;
    Status s = log_->BeginRead(&txn);
    if (!s.ok()) return s;
    LogEntityResolver resolver(txn.get(), folder_.get());
    api::DecodedBatch batch;
    int64_t failed_at = -1;
    if (c.csv) {
      std::istringstream in(c.input);
      PartnershipCsvReader reader(in);
      while (s.ok()) {
        CsvRow row;
        bool done = false;
        s = reader.Next(&row, &done);
        if (!s.ok()) failed_at = s.index();
        if (!s.ok() || done) break;
        s = api::DecodeIntoBatch(&row.event, "", resolver, DecodeOptions(), row.line, &batch);
        if (!s.ok()) failed_at = row.line;
      }
    } else {
      s = api::DecodeNdjsonBatch(c.input, resolver, DecodeOptions(), &batch, &failed_at);
    }
    txn.reset();
    if (s.ok()) {
      AppendResult result;
      s = log_->Append(batch.events, AppendOptions(), &result);
      if (!s.ok() && s.index() >= 0 && static_cast<size_t>(s.index()) < batch.positions.size()) {
        failed_at = batch.positions[static_cast<size_t>(s.index())];
      }
    }
    *line = failed_at;
    return s;
  }

  test::TempDir dir_{"twinline-bad-input"};
  std::string db_ = dir_ / "db";
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<NameFolder> folder_;
  uint64_t last_seq_ = 0;
  std::string head_;
};

TEST_P(BadInputTest, LibraryImportNamesLineAndFieldAndWritesNothing) {
  const BadInput& c = GetParam();
  int64_t line = -1;
  const Status s = Import(c, &line);
  ASSERT_FALSE(s.ok()) << "accepted";
  EXPECT_EQ(line, c.line) << s.ToString();
  EXPECT_EQ(s.field(), c.field) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(c.message));
  ExpectLogUnchanged("the library import");
}

// The NDJSON rows, posted to the server.
class BadInputHttpTest : public BadInputTest {};

TEST_P(BadInputHttpTest, HttpPostNamesLineAndFieldAndWritesNothing) {
  const BadInput& c = GetParam();
  InProcessServer server(log_.get());
  const server::Response res = server.Post("application/x-ndjson", c.input);
  EXPECT_EQ(res.result_int(), c.http) << res.body().substr(0, 300);
  const nlohmann::json error = ErrorOf(res);
  EXPECT_EQ(error.value("line", int64_t{-1}), c.line) << res.body();
  EXPECT_EQ(error.value("field", std::string()), c.field) << res.body();
  EXPECT_THAT(error.value("message", std::string()), HasSubstr(c.message));
  ExpectLogUnchanged("POST /v1/events");
}

TEST_P(BadInputTest, CliImportNamesFileLineAndFieldAndWritesNothing) {
  const BadInput& c = GetParam();
  const std::string file = dir_ / (c.csv ? "input.csv" : "input.ndjson");
  test::WriteFile(file, c.input);
  const test::RunResult run = test::RunProgram({TWINLINE_BIN, "--db", db_, "import", file}, "", dir_.path());
  // Something already in the log stands in the way: exit 4, as HTTP's 409.
  EXPECT_EQ(run.exit_code, c.http == 409 ? 4 : 2) << run.err;
  const std::string where = file + ":" + std::to_string(c.line) + ": ";
  EXPECT_THAT(run.err, StartsWith(where + (c.field.empty() ? "" : c.field + ": "))) << run.err;
  EXPECT_THAT(run.err, HasSubstr(c.message));
  EXPECT_THAT(run.err, HasSubstr("\ntwinline: nothing was written\n"));
  ExpectLogUnchanged("twinline import");
}

std::string RowName(const ::testing::TestParamInfo<BadInput>& info) {
  return std::string(info.param.name);
}

std::vector<BadInput> NdjsonCases() {
  std::vector<BadInput> rows;
  for (BadInput& c : Cases()) {
    if (!c.csv) rows.push_back(std::move(c));
  }
  return rows;
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputTest, ::testing::ValuesIn(Cases()), RowName);
INSTANTIATE_TEST_SUITE_P(Table, BadInputHttpTest, ::testing::ValuesIn(NdjsonCases()), RowName);

// ---------------------------------------------------------------------------
// Beyond the table: the single-event paths and the JSON body of the server.

class BadInputSingleTest : public BadInputTest {};

// `twinline append` reads one JSON object: the same refusals, without a line.
TEST_F(BadInputSingleTest, CliAppendRefusesHugeNumbersAndInvalidUtf8) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Event(R"("kind":"count_reported","date":"2025","entity":"chengdu","metric":"partner_cities","value":1e999)"),
       "number overflow parsing '1e999'"},
      {Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + ",\"note\":\"\xFF\""),
       "ill-formed UTF-8 byte"},
      {Event(R"("kind":"partnership_established","date":"1990",)" + kPartnership + R"(,"note":)" + Nested(100000)),
       "nesting deeper than 32 levels"},
  };
  for (const auto& [input, message] : cases) {
    const test::RunResult run = test::RunProgram({TWINLINE_BIN, "--db", db_, "append"}, input, dir_.path());
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_THAT(run.err, StartsWith("twinline: "));
    EXPECT_THAT(run.err, HasSubstr(message));
  }
  ExpectLogUnchanged("twinline append");
}

// DecodeEvent is also handed JSON built in memory (CSV rows): strings in it
// were never checked by a JSON parser, and an event stored with invalid
// UTF-8 could not be exported or served (regression: CSV import accepted
// such bytes, then `export` failed with an internal error).
TEST_F(BadInputSingleTest, DecoderRefusesInvalidUtf8NotCheckedByAParser) {
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  LogEntityResolver resolver(txn.get(), folder_.get());
  for (const std::string bad : {"\xFF", "ab\xC3", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC0\xAF", "\xE0\x80\xAF"}) {
    nlohmann::json j = nlohmann::json::parse(kGood);
    j["sources"][0]["publisher"] = "FAO " + bad;
    capnp::MallocMessageBuilder message;
    const Status s = DecodeEvent(j, resolver, DecodeOptions(), message.initRoot<schema::Event>());
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(s.field(), "sources[0].publisher");
    EXPECT_THAT(s.message(), HasSubstr("must be valid UTF-8 (ill-formed at byte "));
  }
  // Well-formed text of every length is kept.
  nlohmann::json j = nlohmann::json::parse(kGood);
  j["sources"][0]["publisher"] = "é 重庆 \xF0\x9F\x9A\x84 \xF4\x8F\xBF\xBF";
  capnp::MallocMessageBuilder message;
  EXPECT_TRUE(DecodeEvent(j, resolver, DecodeOptions(), message.initRoot<schema::Event>()).ok());
}

// The JSON body of POST /v1/events is parsed by the server itself: its
// refusals are 400 "invalid_json", never an escaped exception (regression:
// a number too large for a double, `[1e400]`, took the server down).
TEST_F(BadInputSingleTest, HttpJsonBodyRefusesHugeNumbersTruncationAndBadUtf8) {
  InProcessServer server(log_.get());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[" + kGood + ",1e400]", "number overflow parsing '1e400'"},
      {"[" + kGood + R"(,{"kind":"count_reported","value":-1e999}])", "number overflow"},
      {"[" + kGood + R"(,{"kind":"partnership_est)", "syntax error"},
      {"[" + kGood + ",\"\xFF\"]", "ill-formed UTF-8 byte"},
  };
  for (const auto& [body, message] : cases) {
    const server::Response res = server.Post("application/json", body);
    EXPECT_EQ(res.result_int(), 400u) << res.body();
    const nlohmann::json error = ErrorOf(res);
    EXPECT_EQ(error.value("code", ""), "invalid_json");
    EXPECT_THAT(error.value("message", ""), HasSubstr(message));
  }
  ExpectLogUnchanged("POST /v1/events (JSON)");
}

// A JSON body nested far deeper than any event: refused by the decoder with
// the index of the offending element, without exhausting the stack.
TEST_F(BadInputSingleTest, HttpJsonBodyRefusesDeepNesting) {
  InProcessServer server(log_.get());
  const server::Response res = server.Post("application/json", "[" + kGood + "," + Nested(500000) + "]");
  EXPECT_EQ(res.result_int(), 422u) << res.body().substr(0, 300);
  const nlohmann::json error = ErrorOf(res);
  EXPECT_EQ(error.value("index", -1), 1);
  EXPECT_THAT(error.value("message", ""), HasSubstr("an event must be a JSON object, got array"));
  ExpectLogUnchanged("POST /v1/events (deep JSON)");
}

}  // namespace
}  // namespace twinline
