// CSV partnership lists (docs/EVENTS.md, "CSV"): RFC 4180 records become
// partnership_established events in their JSON form, each with the line it
// starts on; errors carry the line (index()) and the column (field()).
#include "events/csv_import.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "events/json_codec.h"

namespace twinline {
namespace {

using nlohmann::json;

constexpr char kHeader[] = "a,b,date,source_title,source_publisher,source_published,source_language\n";

struct Read {
  Status status;
  std::vector<CsvRow> rows;
};

Read ReadCsv(const std::string& text) {
  std::istringstream in(text);
  Read r;
  r.status = ReadPartnershipCsv(in, &r.rows);
  return r;
}

json Source(const char* title) {
  return {{"title", title}, {"publisher", "P"}, {"published", "2025-04-17"}, {"language", "en"}};
}

TEST(CsvImportTest, ReadsRowsIntoPartnershipEvents) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,Montpellier,1981,T,P,2025-04-17,en\n" +
                   "Wuxi,Düsseldorf,2016-10,T2,P,2025-04-17,en\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 2);
  EXPECT_EQ(r.rows[0].event, (json{{"kind", "partnership_established"},
                                   {"a", "chengdu"},
                                   {"b", "Montpellier"},
                                   {"partnership", "sister_city"},
                                   {"date", "1981"},
                                   {"sources", json::array({Source("T")})}}));
  EXPECT_EQ(r.rows[1].line, 3);
  EXPECT_EQ(r.rows[1].event["b"], "Düsseldorf");
  EXPECT_EQ(r.rows[1].event["date"], "2016-10");
}

TEST(CsvImportTest, ReadsOptionalColumnsInAnyOrder) {
  Read r = ReadCsv(
      "note,id,source_quote,source_url,source_language,source_published,source_publisher,source_title,kind,date,b,a\n"
      "checked,ev-1,in 1981,https://example.org,de,2025,P,T,friendship_city,1981,montpellier,chengdu\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 1u);
  const json& ev = r.rows[0].event;
  EXPECT_EQ(ev["a"], "chengdu");
  EXPECT_EQ(ev["b"], "montpellier");
  EXPECT_EQ(ev["partnership"], "friendship_city");
  EXPECT_EQ(ev["id"], "ev-1");
  EXPECT_EQ(ev["note"], "checked");
  EXPECT_EQ(ev["sources"][0],
            (json{{"title", "T"}, {"publisher", "P"}, {"published", "2025"}, {"language", "de"},
                  {"url", "https://example.org"}, {"quote", "in 1981"}}));
}

TEST(CsvImportTest, OmitsEmptyOptionalValuesAndDefaultsKind) {
  Read r = ReadCsv("a,b,date,kind,source_title,source_publisher,source_published,source_language,source_url,id,note\n"
                   "chengdu,wuxi,1981,,T,P,2025-04-17,en,,,\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const json& ev = r.rows.at(0).event;
  EXPECT_EQ(ev["partnership"], "sister_city");
  EXPECT_FALSE(ev.contains("id"));
  EXPECT_FALSE(ev.contains("note"));
  EXPECT_EQ(ev["sources"][0], Source("T"));
}

TEST(CsvImportTest, ReadsQuotedFieldsWithCommas) {
  Read r = ReadCsv(std::string(kHeader) +
                   R"(chengdu,montpellier,1981,"Chengdu, Sichuan: ""friendship"" cities",P,2025-04-17,"en")" "\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows.at(0).event["sources"][0]["title"], R"(Chengdu, Sichuan: "friendship" cities)");
  EXPECT_EQ(r.rows.at(0).event["sources"][0]["language"], "en");
}

TEST(CsvImportTest, ReadsQuotedNewlinesAndCountsLinesAcrossThem) {
  Read r = ReadCsv(std::string(kHeader) +
                   "chengdu,montpellier,1981,\"first line\nsecond line\r\nthird line\",P,2025-04-17,en\n"
                   "chengdu,wuxi,1982,T,P,2025-04-17,en\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 2);
  EXPECT_EQ(r.rows[0].event["sources"][0]["title"], "first line\nsecond line\r\nthird line");
  EXPECT_EQ(r.rows[1].line, 5);
}

TEST(CsvImportTest, ReadsEmptyQuotedFieldAndLastFieldWithoutNewline) {
  Read r = ReadCsv("a,b,date,source_title,source_publisher,source_published,source_language,note\n"
                   "chengdu,wuxi,1981,T,P,2025,en,\"\"");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_FALSE(r.rows[0].event.contains("note"));
}

TEST(CsvImportTest, AcceptsCrlfLineEndings) {
  Read r = ReadCsv("a,b,date,source_title,source_publisher,source_published,source_language\r\n"
                   "chengdu,montpellier,1981,T,P,2025-04-17,en\r\n"
                   "chengdu,wuxi,1982,T,P,2025-04-17,en\r\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1].line, 3);
  EXPECT_EQ(r.rows[1].event["sources"][0]["language"], "en");  // no stray '\r'
}

TEST(CsvImportTest, SkipsUtf8Bom) {
  Read r = ReadCsv("\xEF\xBB\xBF" + std::string(kHeader) + "chengdu,montpellier,1981,T,P,2025-04-17,en\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].line, 2);
}

TEST(CsvImportTest, SkipsBlankLines) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,T,P,2025-04-17,en\n\n" +
                   "chengdu,wuxi,1982,T,P,2025-04-17,en\n\n  \n\r\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1].line, 4);
}

TEST(CsvImportTest, TrimsHeaderNamesButNotValues) {
  Read r = ReadCsv("a, b ,date,source_title,source_publisher,source_published,source_language\n"
                   "chengdu, wuxi ,1981,T,P,2025,en\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows.at(0).event["b"], " wuxi ");
}

TEST(CsvImportTest, ReadsHeaderOnlyAsNoRows) {
  Read r = ReadCsv(kHeader);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.rows.empty());
}

TEST(CsvImportTest, RowsDecodeAsEvents) {
  class SlugResolver : public EntityResolver {
   public:
    Status Resolve(std::string_view ref, std::string* id) override {
      static const std::map<std::string, std::string, std::less<>> kRefs = {
          {"chengdu", "chengdu"}, {"Montpellier", "montpellier"}, {"montpellier", "montpellier"}};
      auto it = kRefs.find(ref);
      if (it == kRefs.end()) return Status::NotFound("unknown entity '" + std::string(ref) + "'");
      *id = it->second;
      return Status::Ok();
    }
  } resolver;
  Read r = ReadCsv("a,b,date,kind,source_title,source_publisher,source_published,source_language,source_url,"
                   "source_quote,id,note\n"
                   "Montpellier,chengdu,1981,friendship_city,T,P,2025-04-17,en,https://x.org,q,ev-1,n\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  capnp::MallocMessageBuilder message;
  Status s = DecodeEvent(r.rows.at(0).event, resolver, {}, message.initRoot<schema::Event>());
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto p = message.getRoot<schema::Event>().getPayload().getPartnershipEstablished();
  EXPECT_STREQ(p.getA().cStr(), "chengdu");
  EXPECT_EQ(p.getKind(), schema::PartnershipKind::FRIENDSHIP_CITY);
}

// ---------------------------------------------------------------------------
// Errors name the line (index) and the column (field).

void ExpectError(const Read& r, int64_t line, const std::string& column, const std::string& message_part) {
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.code(), Status::Code::kInvalidArgument) << r.status.ToString();
  EXPECT_EQ(r.status.index(), line) << r.status.ToString();
  EXPECT_EQ(r.status.field(), column) << r.status.ToString();
  EXPECT_NE(r.status.message().find(message_part), std::string::npos) << r.status.ToString();
}

TEST(CsvImportTest, NamesLineOfShortRow) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,T,P,2025-04-17,en\n" +
                   "chengdu,wuxi,1982,T,P\n");
  ExpectError(r, 3, "source_published", "expected 7 fields as in the header, found 5");
}

TEST(CsvImportTest, NamesLineOfLongRow) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,T,P,2025-04-17,en,extra\n");
  ExpectError(r, 2, "", "found 8");
}

TEST(CsvImportTest, NamesLineOfUnterminatedQuote) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,T,P,2025-04-17,en\n" +
                   "chengdu,wuxi,1982,\"T,P,2025-04-17,en\n\n");
  ExpectError(r, 3, "source_title", "unterminated quoted field");
}

TEST(CsvImportTest, RejectsQuoteInsideUnquotedField) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,The \"best\" cities,P,2025-04-17,en\n");
  ExpectError(r, 2, "source_title", "quote inside an unquoted field");
}

TEST(CsvImportTest, RejectsTextAfterClosingQuote) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,\"T\"x,P,2025-04-17,en\n");
  ExpectError(r, 2, "source_title", "after a closing quote");
}

TEST(CsvImportTest, RejectsUnknownColumn) {
  Read r = ReadCsv("a,b,date,colour,source_title,source_publisher,source_published,source_language\n");
  ExpectError(r, 1, "colour", "unknown column 'colour'");
}

TEST(CsvImportTest, RejectsDuplicateColumn) {
  Read r = ReadCsv("a,b,date,source_title,source_publisher,source_published,source_language,a\n");
  ExpectError(r, 1, "a", "duplicate column 'a'");
}

TEST(CsvImportTest, RejectsMissingRequiredColumn) {
  Read r = ReadCsv("a,b,source_title,source_publisher,source_published,source_language\n"
                   "chengdu,wuxi,T,P,2025,en\n");
  ExpectError(r, 1, "date", "required column 'date' is missing");
}

TEST(CsvImportTest, NamesHeaderLineAfterBlankLines) {
  Read r = ReadCsv("\n\na,b,date,source_title,source_publisher,source_published\n");
  ExpectError(r, 3, "source_language", "is missing");
}

TEST(CsvImportTest, RejectsEmptyRequiredValue) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,T,P,2025-04-17,en\n" +
                   "chengdu,wuxi,1982,\"  \",P,2025-04-17,en\n");
  ExpectError(r, 3, "source_title", "required value is empty");
}

TEST(CsvImportTest, RejectsEmptyInput) {
  ExpectError(ReadCsv(""), 1, "", "header");
  ExpectError(ReadCsv("\xEF\xBB\xBF\n"), 1, "", "header");
}

TEST(CsvImportTest, RejectsARecordLongerThanTheLimit) {
  Read r = ReadCsv(std::string(kHeader) + "chengdu,montpellier,1981,T,P,2025-04-17,en\n" + "chengdu,wuxi,1982,\"" +
                   std::string(kMaxCsvRecordBytes, 'x') + "\",P,2025-04-17,en\n");
  ExpectError(r, 3, "source_title", "longer than 1048576 bytes");
}

// ---------------------------------------------------------------------------
// Streaming: the reader takes one record from the stream per row.

TEST(CsvImportTest, ReaderConsumesTheStreamOneRecordAtATime) {
  const std::string first = "chengdu,montpellier,1981,T,P,2025-04-17,en\n";
  std::istringstream in(std::string(kHeader) + first + "\"Wuxi\",Düsseldorf,2016-10,T2,P,2025-04-17,en\n");
  PartnershipCsvReader reader(in);
  CsvRow row;
  bool done = true;
  ASSERT_TRUE(reader.Next(&row, &done).ok());
  ASSERT_FALSE(done);
  EXPECT_EQ(row.line, 2);
  EXPECT_EQ(row.event["a"], "chengdu");
  // Only the header and the first record have been taken from the stream.
  EXPECT_EQ(static_cast<size_t>(in.tellg()), std::string(kHeader).size() + first.size());
  ASSERT_TRUE(reader.Next(&row, &done).ok());
  ASSERT_FALSE(done);
  EXPECT_EQ(row.line, 3);
  EXPECT_EQ(row.event["a"], "Wuxi");
  ASSERT_TRUE(reader.Next(&row, &done).ok());
  EXPECT_TRUE(done);
  EXPECT_EQ(row.line, 3);  // untouched at the end
}

TEST(CsvImportTest, ReaderStaysFailedAfterAnError) {
  std::istringstream in(std::string(kHeader) + "chengdu,montpellier,1981,T,P\n" +
                        "chengdu,wuxi,1982,T,P,2025-04-17,en\n");
  PartnershipCsvReader reader(in);
  CsvRow row;
  bool done = false;
  Status first = reader.Next(&row, &done);
  EXPECT_EQ(first.index(), 2);
  Status again = reader.Next(&row, &done);
  EXPECT_EQ(again.index(), 2);
  EXPECT_EQ(again.message(), first.message());
}

TEST(CsvImportTest, KeepsAHeaderThatOnlyStartsLikeABom) {
  // U+FF41 (fullwidth a) is EF BD 81: two bytes in common with no BOM.
  Read r = ReadCsv("\xEF\xBD\x81" + std::string(kHeader));
  ExpectError(r, 1, "\xEF\xBD\x81" "a", "unknown column");
}

}  // namespace
}  // namespace twinline
