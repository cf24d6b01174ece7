// The JSON event codec against docs/EVENTS.md: what it accepts, how it
// normalises, what it refuses (and which field it names), the export form
// and its exact round trip.
#include "events/json_codec.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "core/edtf.h"

namespace twinline {
namespace {

using Which = schema::Payload::Which;

// Resolves slugs to themselves and a few display names to slugs; anything
// else is unknown, as LogEntityResolver would say.
class FakeResolver : public EntityResolver {
 public:
  FakeResolver() {
    for (const char* slug : {"chengdu", "montpellier", "duesseldorf", "duisburg", "wuxi", "yixing", "wuxi-fao", "eu",
                             "db-cargo", "cpaffc", "chengdu-europe-centre"}) {
      refs_[slug] = slug;
    }
    refs_["Chengdu"] = "chengdu";
    refs_["Montpellier"] = "montpellier";
    refs_["Düsseldorf"] = "duesseldorf";
    refs_["Duisburg"] = "duisburg";
    refs_["Wuxi"] = "wuxi";
  }

  Status Resolve(std::string_view ref, std::string* id) override {
    auto it = refs_.find(std::string(ref));
    if (it == refs_.end()) return Status::NotFound("unknown entity '" + std::string(ref) + "'");
    *id = it->second;
    return Status::Ok();
  }

 private:
  std::map<std::string, std::string> refs_;
};

constexpr char kSource[] = R"({"title":"T","publisher":"P","published":"2025-04-17","language":"en"})";

// A JSON event with `fields` (kind and its members), a date and one source.
std::string Ev(const std::string& fields) {
  return R"({"date":"2024-06-12",)" + fields + R"(,"sources":[)" + kSource + "]}";
}

// One decoded message.
struct Decoded {
  std::unique_ptr<capnp::MallocMessageBuilder> message = std::make_unique<capnp::MallocMessageBuilder>();
  Status status;
  schema::Event::Reader ev() { return message->getRoot<schema::Event>().asReader(); }
};

Decoded Decode(std::string_view text, bool restore = false) {
  FakeResolver resolver;
  Decoded d;
  DecodeOptions options;
  options.restore = restore;
  d.status = DecodeEventText(text, resolver, options, d.message->initRoot<schema::Event>());
  return d;
}

std::string CanonicalBytes(schema::Event::Reader ev) {
  kj::Array<capnp::word> words = capnp::canonicalize(ev);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

std::vector<std::string> Keys(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  return keys;
}

constexpr char kTwoSources[] =
    R"("sources":[{"title":"2025 Chengdu International Friendship Cities","publisher":"Media OutReach Newswire",)"
    R"("published":"2025-04-17","language":"en","url":"https://example.org/a",)"
    R"("quote":"first sister-city relationship with Montpellier, France, in 1981"},)"
    R"({"title":"成都国际友城","publisher":"成都日报","published":"2025-04","language":"zh-Hans"}])";

// One event of every kind with every optional field present.
std::vector<std::string> FullSamples() {
  const std::string tail = std::string(",") + kTwoSources + R"(,"note":"checked"})";
  return {
      R"({"id":"ev-er","kind":"entity_registered","date":"2025-04-17","entity":"tianfu","type":"district",)"
      R"("names":[{"text":"Tianfu New Area","lang":"en"},{"text":"天府新区","lang":"zh-Hans"}],"country":"CN",)"
      R"("location":{"lat":30.4,"lon":-104.07},"parent":"Chengdu")" + tail,
      R"({"id":"ev-pe","kind":"partnership_established","date":"1981","a":"Montpellier","b":"chengdu",)"
      R"("partnership":"sister_city","detail":"first European partner")" + tail,
      R"({"id":"ev-px","kind":"partnership_ended","date":"2019-05","a":"wuxi","b":"Düsseldorf",)"
      R"("partnership":"friendship_city","detail":"ended by council vote")" + tail,
      R"({"id":"ev-as","kind":"agreement_signed","date":"2016-10-08","parties":["Wuxi","chengdu","Duisburg","duisburg"],)"
      R"("title":"Logistics cooperation agreement","agreement":"logistics")" + tail,
      R"({"id":"ev-fh","kind":"forum_held","date":"2024-09-20","host":"wuxi","name":"Wuxi International Sister Cities Forum",)"
      R"("edition":3,"venue":"yixing","organiser":"wuxi-fao","attendance":[{"label":"guests","value":100,)"
      R"("qualifier":"nearly"},{"label":"countries","value":30.5,"qualifier":"exact"}])" + tail,
      R"({"id":"ev-ro","kind":"route_opened","date":"2013-04-26","from":"chengdu","to":"Duisburg","mode":"rail",)"
      R"("operator":"db-cargo","name":"China-Europe Railway Express")" + tail,
      R"({"id":"ev-rc","kind":"route_closed","date":"2020-03","from":"chengdu","to":"duisburg","mode":"air_cargo",)"
      R"("operator":"db-cargo","name":"Cargo flight")" + tail,
      R"({"id":"ev-oo","kind":"office_opened","date":"2015","owner":"chengdu","host":"Düsseldorf",)"
      R"("name":"European liaison office")" + tail,
      R"({"id":"ev-of","kind":"organisation_founded","date":"2018","organisation":"chengdu-europe-centre",)"
      R"("founder":"chengdu","purpose":"trade promotion")" + tail,
      R"({"id":"ev-ag","kind":"award_granted","date":"2023-11-02","recipient":"chengdu","grantor":"cpaffc",)"
      R"("name":"Friendship Cities Exchange and Cooperation Award")" + tail,
      R"({"id":"ev-tv","kind":"trade_volume_reported","date":"2025-01-20","reporter":"chengdu","partner":"eu",)"
      R"("period":"2024","amount":142160000000,"currency":"CNY","flow":"exports")" + tail,
      R"({"id":"ev-cr","kind":"count_reported","date":"2025-04-17","entity":"chengdu","metric":"partner_cities",)"
      R"("value":241,"qualifier":"more_than","scope":"eu","wording":"international friendship cities")" + tail,
      R"({"id":"ev-il","kind":"initiative_launched","date":"2022","owner":"chengdu","name":"Friendship Cities Platform",)"
      R"("partners":["Montpellier","wuxi"])" + tail,
      R"({"id":"ev-rt","kind":"retraction","date":"2025-05-01","target":"ev-0123456789abcdef","reason":"duplicate")" +
          tail,
      R"({"id":"ev-am","kind":"amendment","target":"ev-0123456789abcdef","reason":"the source says 1982",)"
      R"("replacement":{"kind":"partnership_established","date":"1982","a":"Montpellier","b":"chengdu",)"
      R"("partnership":"sister_city","detail":"corrected"})" + tail,
      R"({"id":"ev-co","kind":"corroboration","date":"1981","target":"ev-0123456789abcdef")" + tail,
  };
}

// docs/EVENTS.md, "Kinds and their fields", in the order listed there.
const std::map<std::string, std::vector<std::string>>& SpecFieldOrder() {
  static const auto* order = new std::map<std::string, std::vector<std::string>>{
      {"entity_registered", {"entity", "type", "names", "country", "location", "parent"}},
      {"partnership_established", {"a", "b", "partnership", "detail"}},
      {"partnership_ended", {"a", "b", "partnership", "detail"}},
      {"agreement_signed", {"parties", "title", "agreement"}},
      {"forum_held", {"host", "name", "edition", "venue", "organiser", "attendance"}},
      {"route_opened", {"from", "to", "mode", "operator", "name"}},
      {"route_closed", {"from", "to", "mode", "operator", "name"}},
      {"office_opened", {"owner", "host", "name"}},
      {"organisation_founded", {"organisation", "founder", "purpose"}},
      {"award_granted", {"recipient", "grantor", "name"}},
      {"trade_volume_reported", {"reporter", "partner", "period", "amount", "currency", "flow"}},
      {"count_reported", {"entity", "metric", "value", "qualifier", "scope", "wording"}},
      {"initiative_launched", {"owner", "name", "partners"}},
      {"retraction", {"target", "reason"}},
      {"amendment", {"target", "reason", "replacement"}},
      {"corroboration", {"target"}},
  };
  return *order;
}

// ---------------------------------------------------------------------------
// Accepting and normalising.

TEST(JsonCodecTest, DecodesSpecExample) {
  Decoded d = Decode(R"({"kind": "partnership_established", "date": "1981",
    "a": "chengdu", "b": "Montpellier", "partnership": "sister_city",
    "sources": [{"title": "2025 Chengdu International Friendship Cities ...",
                 "publisher": "Media OutReach Newswire", "published": "2025-04-17",
                 "language": "en", "quote": "first sister-city relationship with Montpellier, France, in 1981"}]})");
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  auto ev = d.ev();
  EXPECT_EQ(ev.getSeq(), 0u);
  EXPECT_EQ(ev.getRecordedAt(), 0);
  EXPECT_FALSE(ev.hasId());
  ASSERT_EQ(ev.getPayload().which(), Which::PARTNERSHIP_ESTABLISHED);
  auto p = ev.getPayload().getPartnershipEstablished();
  EXPECT_STREQ(p.getA().cStr(), "chengdu");
  EXPECT_STREQ(p.getB().cStr(), "montpellier");
  EXPECT_EQ(p.getKind(), schema::PartnershipKind::SISTER_CITY);
  EXPECT_FALSE(p.hasDetail());
  ASSERT_EQ(ev.getSources().size(), 1u);
  auto s = ev.getSources()[0];
  EXPECT_STREQ(s.getPublisher().cStr(), "Media OutReach Newswire");
  EXPECT_STREQ(s.getPublished().cStr(), "2025-04-17");
  EXPECT_STREQ(s.getLanguage().cStr(), "en");
  EXPECT_FALSE(s.hasUrl());
  EXPECT_STREQ(s.getQuote().cStr(), "first sister-city relationship with Montpellier, France, in 1981");
}

TEST(JsonCodecTest, StoresDateNormalisedWithItsDayRange) {
  Decoded d = Decode(R"({"kind":"corroboration","date":"1981","target":"ev-1","sources":[)" + std::string(kSource) +
                     "]}");
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EdtfDate expected;
  ASSERT_TRUE(ParseEdtf("1981", &expected).ok());
  auto date = d.ev().getValidTime();
  EXPECT_EQ(std::string(date.getEdtf().cStr()), expected.Normalized());
  EXPECT_EQ(date.getEarliest(), expected.earliest);
  EXPECT_EQ(date.getLatest(), expected.latest);
}

TEST(JsonCodecTest, SortsPartnershipEnds) {
  Decoded ab = Decode(Ev(R"("kind":"partnership_established","a":"chengdu","b":"Montpellier","partnership":"other")"));
  Decoded ba = Decode(Ev(R"("kind":"partnership_established","a":"montpellier","b":"Chengdu","partnership":"other")"));
  ASSERT_TRUE(ab.status.ok()) << ab.status.ToString();
  ASSERT_TRUE(ba.status.ok()) << ba.status.ToString();
  EXPECT_STREQ(ba.ev().getPayload().getPartnershipEstablished().getA().cStr(), "chengdu");
  EXPECT_STREQ(ba.ev().getPayload().getPartnershipEstablished().getB().cStr(), "montpellier");
  EXPECT_EQ(CanonicalBytes(ab.ev()), CanonicalBytes(ba.ev()));
}

TEST(JsonCodecTest, SortsAndDeduplicatesAgreementParties) {
  Decoded d = Decode(Ev(R"("kind":"agreement_signed","parties":["wuxi","Chengdu","chengdu"],"title":"MoU",)"
                        R"("agreement":"memorandum")"));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  auto parties = d.ev().getPayload().getAgreementSigned().getParties();
  ASSERT_EQ(parties.size(), 2u);
  EXPECT_STREQ(parties[0].cStr(), "chengdu");
  EXPECT_STREQ(parties[1].cStr(), "wuxi");
}

TEST(JsonCodecTest, RejectsAgreementWithOneDistinctParty) {
  Decoded d = Decode(Ev(R"("kind":"agreement_signed","parties":["chengdu","Chengdu"],"title":"MoU",)"
                        R"("agreement":"memorandum")"));
  EXPECT_EQ(d.status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(d.status.field(), "parties");
}

TEST(JsonCodecTest, DefaultsCountQualifierToExact) {
  Decoded d = Decode(Ev(R"("kind":"count_reported","entity":"chengdu","metric":"routes","value":12)"));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.ev().getPayload().getCountReported().getQualifier(), schema::Qualifier::EXACT);
}

TEST(JsonCodecTest, AcceptsBlocWithoutCountry) {
  Decoded d = Decode(Ev(R"("kind":"entity_registered","entity":"asean","type":"bloc",)"
                        R"("names":[{"text":"ASEAN","lang":"en"}])"));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_FALSE(d.ev().getPayload().getEntityRegistered().hasCountry());
  EXPECT_FALSE(d.ev().getPayload().getEntityRegistered().getHasLocation());
}

TEST(JsonCodecTest, TreatsEditionZeroAsNotStated) {
  Decoded d = Decode(Ev(R"("kind":"forum_held","host":"wuxi","name":"Forum","edition":0)"));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.ev().getPayload().getForumHeld().getEdition(), 0u);
  EXPECT_FALSE(EncodeEvent(d.ev()).contains("edition"));
}

TEST(JsonCodecTest, AcceptsLanguageTagShapes) {
  for (const char* tag : {"en", "de", "zh", "zh-Hant", "pt-BR", "sr-Latn-RS", "gsw", "es-419"}) {
    Decoded d = Decode(R"({"kind":"corroboration","date":"1981","target":"ev-1","sources":[{"title":"T",)"
                       R"("publisher":"P","published":"2025","language":")" +
                       std::string(tag) + R"("}]})");
    EXPECT_TRUE(d.status.ok()) << tag << ": " << d.status.ToString();
  }
  for (const char* tag : {"e", "english", "en_US", "zh-", "-en", "12", "en-a", "en-abcdefghi", ""}) {
    Decoded d = Decode(R"({"kind":"corroboration","date":"1981","target":"ev-1","sources":[{"title":"T",)"
                       R"("publisher":"P","published":"2025","language":")" +
                       std::string(tag) + R"("}]})");
    EXPECT_EQ(d.status.field(), "sources[0].language") << tag;
  }
}

TEST(JsonCodecTest, AmendmentDateDefaultsToReplacementDate) {
  Decoded d = Decode(R"({"kind":"amendment","target":"ev-1","reason":"r","replacement":{"kind":"route_opened",)"
                     R"("date":"2013-04","from":"chengdu","to":"duisburg","mode":"rail"},"sources":[)" +
                     std::string(kSource) + "]}");
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_STREQ(d.ev().getValidTime().getEdtf().cStr(), "2013-04");
  auto amendment = d.ev().getPayload().getAmendment();
  EXPECT_EQ(amendment.getValidTime().getEarliest(), d.ev().getValidTime().getEarliest());
  EXPECT_EQ(amendment.getReplacement().which(), Which::ROUTE_OPENED);
}

TEST(JsonCodecTest, AcceptsAmendmentDateEqualToReplacementDate) {
  Decoded d = Decode(R"({"kind":"amendment","date":"2013-04","target":"ev-1","reason":"r","replacement":)"
                     R"({"kind":"route_opened","date":"2013-04","from":"chengdu","to":"duisburg","mode":"rail"},)"
                     R"("sources":[)" + std::string(kSource) + "]}");
  EXPECT_TRUE(d.status.ok()) << d.status.ToString();
}

TEST(JsonCodecTest, KeepsSeqAndRecordedAtOnlyWhenRestoring) {
  std::string text = R"({"seq":17,"recorded_at":"2025-04-17T08:45:00.123456Z","kind":"corroboration",)"
                     R"("date":"1981","target":"ev-1","sources":[)" + std::string(kSource) + "]}";
  Decoded plain = Decode(text);
  ASSERT_TRUE(plain.status.ok()) << plain.status.ToString();
  EXPECT_EQ(plain.ev().getSeq(), 0u);
  EXPECT_EQ(plain.ev().getRecordedAt(), 0);
  Decoded restored = Decode(text, /*restore=*/true);
  ASSERT_TRUE(restored.status.ok()) << restored.status.ToString();
  EXPECT_EQ(restored.ev().getSeq(), 17u);
  EXPECT_EQ(restored.ev().getRecordedAt(), 1744879500123456);
}

TEST(JsonCodecTest, ReturnsResolverErrorWithField) {
  Decoded d = Decode(Ev(R"("kind":"partnership_established","a":"chengdu","b":"Atlantis","partnership":"other")"));
  EXPECT_EQ(d.status.code(), Status::Code::kNotFound);
  EXPECT_EQ(d.status.field(), "b");
  EXPECT_EQ(d.status.message(), "unknown entity 'Atlantis'");
}

TEST(JsonCodecTest, RejectsMissingSources) {
  Decoded d = Decode(R"({"kind":"corroboration","date":"1981","target":"ev-1"})");
  EXPECT_EQ(d.status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(d.status.field(), "sources");
}

TEST(JsonCodecTest, NamesFieldOfImpossibleDate) {
  Decoded d = Decode(R"({"kind":"corroboration","date":"2021-02-30","target":"ev-1","sources":[)" +
                     std::string(kSource) + "]}");
  EXPECT_EQ(d.status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(d.status.field(), "date");
  EXPECT_FALSE(d.status.message().empty());
}

TEST(JsonCodecTest, NamesKindOfUnknownField) {
  Decoded d = Decode(Ev(R"("kind":"partnership_established","a":"chengdu","b":"wuxi","partnership":"other",)"
                        R"("colour":"red")"));
  EXPECT_EQ(d.status.field(), "colour");
  EXPECT_NE(d.status.message().find("partnership_established"), std::string::npos) << d.status.message();
}

TEST(JsonCodecTest, ListsValidKindsForUnknownKind) {
  Decoded d = Decode(Ev(R"("kind":"twinning")"));
  EXPECT_EQ(d.status.field(), "kind");
  EXPECT_NE(d.status.message().find("partnership_established"), std::string::npos) << d.status.message();
  EXPECT_NE(d.status.message().find("corroboration"), std::string::npos) << d.status.message();
}

TEST(JsonCodecTest, ReportsColumnOfSyntaxError) {
  Decoded d = Decode(R"({"kind":tru})");
  EXPECT_EQ(d.status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(d.status.message().rfind("column 12: ", 0), 0u) << d.status.message();
  EXPECT_EQ(d.status.message().find("json.exception"), std::string::npos) << d.status.message();

  Decoded multi = Decode("{\n  \"kind\": tru\n}");
  EXPECT_EQ(multi.status.message().rfind("line 2, column 14: ", 0), 0u) << multi.status.message();
}

TEST(JsonCodecTest, ReportsDuplicateKey) {
  Decoded d = Decode(R"({"kind":"corroboration","date":"1981","date":"1982","target":"ev-1","sources":[)" +
                     std::string(kSource) + "]}");
  EXPECT_EQ(d.status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(d.status.message(), "duplicate key 'date'");
  EXPECT_EQ(d.status.field(), "date");
}

TEST(JsonCodecTest, LimitsNestingTo32Levels) {
  auto nested = [](int arrays) {
    return R"({"note":)" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
  };
  Decoded ok_depth = Decode(nested(31));  // 32 levels: parses, then fails as an event
  EXPECT_EQ(ok_depth.status.message().find("nesting"), std::string::npos) << ok_depth.status.message();
  Decoded too_deep = Decode(nested(32));
  EXPECT_NE(too_deep.status.message().find("nesting deeper than 32"), std::string::npos)
      << too_deep.status.message();
  Decoded very_deep = Decode(nested(100000));
  EXPECT_NE(very_deep.status.message().find("nesting deeper than 32"), std::string::npos);
}

TEST(JsonCodecTest, RejectsNonFiniteNumbersInParsedJson) {
  FakeResolver resolver;
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    nlohmann::json j = nlohmann::json::parse(Ev(R"("kind":"trade_volume_reported","reporter":"chengdu",)"
                                                R"("partner":"eu","period":"2024","amount":1,"currency":"EUR",)"
                                                R"("flow":"total")"));
    j["amount"] = bad;
    capnp::MallocMessageBuilder message;
    Status s = DecodeEvent(j, resolver, {}, message.initRoot<schema::Event>());
    EXPECT_EQ(s.field(), "amount");
    EXPECT_EQ(s.message(), "must be a finite number");
  }
}

TEST(JsonCodecTest, NeverThrowsOnOddValues) {
  FakeResolver resolver;
  for (const nlohmann::json& j : {nlohmann::json(nullptr), nlohmann::json(3), nlohmann::json::array(),
                                  nlohmann::json::binary({1, 2}), nlohmann::json{{"kind", nullptr}},
                                  nlohmann::json{{"kind", "forum_held"}, {"attendance", {{{"value", {1}}}}}}}) {
    capnp::MallocMessageBuilder message;
    Status s;
    EXPECT_NO_THROW(s = DecodeEvent(j, resolver, {}, message.initRoot<schema::Event>()));
    EXPECT_FALSE(s.ok());
  }
}

// ---------------------------------------------------------------------------
// Refusals, table-driven: each names the field and says why.

struct BadInput {
  std::string name;
  std::string text;
  std::string field;         // expected Status::field()
  std::string message_part;  // expected somewhere in the message
  Status::Code code = Status::Code::kInvalidArgument;
  bool restore = false;
};

void PrintTo(const BadInput& input, std::ostream* os) { *os << input.name; }

std::vector<BadInput> BadInputs() {
  const std::string src = kSource;
  const std::string partnership = R"("kind":"partnership_established","a":"chengdu","b":"wuxi","partnership":"other")";
  const std::string trade = R"("kind":"trade_volume_reported","reporter":"chengdu","partner":"eu","period":"2024",)"
                            R"("currency":"EUR","flow":"total")";
  const std::string registered = R"("kind":"entity_registered","entity":"tianfu","type":"district",)"
                                 R"("names":[{"text":"Tianfu","lang":"en"}])";
  const std::string corroboration = R"({"kind":"corroboration","date":"1981","target":"ev-1",)";
  auto with_source = [&](const std::string& source) {
    return corroboration + R"("sources":[)" + source + "]}";
  };
  auto amendment = [&](const std::string& replacement) {
    return R"({"kind":"amendment","target":"ev-1","reason":"r","replacement":)" + replacement + R"(,"sources":[)" +
           src + "]}";
  };
  auto restore_with = [&](const std::string& envelope) {
    return R"({)" + envelope + R"("kind":"corroboration","date":"1981","target":"ev-1","sources":[)" + src + "]}";
  };
  return {
      {"malformed_json", R"({"kind": "partnership_established",)", "", "column 36: "},
      {"trailing_garbage", Ev(partnership) + "x", "", "column "},
      {"not_an_object", "[1, 2]", "", "must be a JSON object, got array"},
      {"missing_kind", Ev(R"("a":"chengdu")"), "kind", "required field is missing"},
      {"kind_not_a_string", Ev(R"("kind":5)"), "kind", "must be a string, got number"},
      {"unknown_kind", Ev(R"("kind":"twinning")"), "kind", "unknown kind 'twinning'; valid kinds: entity_registered"},
      {"missing_date", R"({"kind":"corroboration","target":"ev-1","sources":[)" + src + "]}", "date", "missing"},
      {"date_not_a_string", R"({"kind":"corroboration","date":1981,"target":"ev-1","sources":[)" + src + "]}", "date",
       "must be a string, got number"},
      {"impossible_date", R"({"kind":"corroboration","date":"2021-02-30","target":"ev-1","sources":[)" + src + "]}",
       "date", ""},
      {"month_13", R"({"kind":"corroboration","date":"2021-13","target":"ev-1","sources":[)" + src + "]}", "date", ""},
      {"word_for_date", R"({"kind":"corroboration","date":"spring","target":"ev-1","sources":[)" + src + "]}", "date",
       ""},
      {"unknown_entity", Ev(R"("kind":"partnership_established","a":"Atlantis","b":"wuxi","partnership":"other")"),
       "a", "unknown entity 'Atlantis'", Status::Code::kNotFound},
      {"same_entity_twice", Ev(R"("kind":"partnership_established","a":"Chengdu","b":"chengdu","partnership":"other")"),
       "b", "same entity"},
      {"missing_sources", corroboration + R"("note":"n"})", "sources", "required field is missing"},
      {"empty_sources", corroboration + R"("sources":[]})", "sources", "must not be empty"},
      {"sources_not_an_array", corroboration + R"("sources":{}})", "sources", "must be an array, got object"},
      {"source_not_an_object", with_source(R"("a source")"), "sources[0]", "must be an object, got string"},
      {"source_missing_title", with_source(R"({"publisher":"P","published":"2025","language":"en"})"),
       "sources[0].title", "required field is missing"},
      {"source_blank_publisher", with_source(R"({"title":"T","publisher":"  ","published":"2025","language":"en"})"),
       "sources[0].publisher", "must not be empty"},
      {"impossible_published", with_source(R"({"title":"T","publisher":"P","published":"2021-02-30","language":"en"})"),
       "sources[0].published", ""},
      {"bad_language", with_source(R"({"title":"T","publisher":"P","published":"2025","language":"english"})"),
       "sources[0].language", "BCP 47"},
      {"long_quote",
       with_source(R"({"title":"T","publisher":"P","published":"2025","language":"en","quote":")" +
                   std::string(1001, 'q') + R"("})"),
       "sources[0].quote", "at most 1000"},
      {"unknown_source_field", with_source(R"({"title":"T","publisher":"P","published":"2025","language":"en","x":1})"),
       "sources[0].x", "unknown field for a source"},
      {"second_source_bad", with_source(src + R"(,{"title":"T","publisher":"P","published":"2025"})"),
       "sources[1].language", "required field is missing"},
      {"negative_amount", Ev(trade + R"(,"amount":-1)"), "amount", "must be >= 0"},
      {"amount_as_string", Ev(trade + R"(,"amount":"100")"), "amount", "must be a number, got string"},
      {"amount_as_bool", Ev(trade + R"(,"amount":true)"), "amount", "must be a number, got boolean"},
      {"huge_amount", Ev(trade + R"(,"amount":1e400)"), "", "number overflow parsing '1e400'"},
      {"nan_literal", Ev(trade + R"(,"amount":NaN)"), "", "column "},
      {"duplicate_key", Ev(trade + R"(,"amount":1,"currency":"eur")"), "currency", "duplicate key 'currency'"},
      {"bad_currency",
       Ev(R"("kind":"trade_volume_reported","reporter":"chengdu","partner":"eu","period":"2024","amount":1,)"
          R"("currency":"euro","flow":"total")"),
       "currency", "ISO 4217"},
      {"bad_period",
       Ev(R"("kind":"trade_volume_reported","reporter":"chengdu","partner":"eu","period":"spring","amount":1,)"
          R"("currency":"EUR","flow":"total")"),
       "period", ""},
      {"unknown_flow",
       Ev(R"("kind":"trade_volume_reported","reporter":"chengdu","partner":"eu","period":"2024","amount":1,)"
          R"("currency":"EUR","flow":"both")"),
       "flow", "'both' is not one of total, imports, exports"},
      {"camel_case_enum", Ev(R"("kind":"partnership_established","a":"chengdu","b":"wuxi","partnership":"sisterCity")"),
       "partnership", "is not one of sister_city"},
      {"missing_enum", Ev(R"("kind":"partnership_established","a":"chengdu","b":"wuxi")"), "partnership",
       "required field is missing"},
      {"negative_count", Ev(R"("kind":"count_reported","entity":"chengdu","metric":"routes","value":-3)"), "value",
       ">= 0"},
      {"metric_not_snake_case", Ev(R"("kind":"count_reported","entity":"chengdu","metric":"Partner Cities","value":3)"),
       "metric", "snake_case"},
      {"negative_edition", Ev(R"("kind":"forum_held","host":"wuxi","name":"F","edition":-1)"), "edition",
       "integer from 0"},
      {"fractional_edition", Ev(R"("kind":"forum_held","host":"wuxi","name":"F","edition":1.5)"), "edition",
       "integer from 0"},
      {"figure_negative_value",
       Ev(R"("kind":"forum_held","host":"wuxi","name":"F","attendance":[{"label":"guests","value":-1}])"),
       "attendance[0].value", ">= 0"},
      {"figure_unknown_field",
       Ev(R"("kind":"forum_held","host":"wuxi","name":"F","attendance":[{"label":"g","value":1,"unit":"p"}])"),
       "attendance[0].unit", "unknown field for a figure"},
      {"attendance_not_an_array", Ev(R"("kind":"forum_held","host":"wuxi","name":"F","attendance":5)"), "attendance",
       "must be an array"},
      {"unknown_field", Ev(partnership + R"(,"colour":"red")"), "colour",
       "unknown field for kind partnership_established"},
      {"field_of_other_kind", Ev(partnership + R"(,"amount":1)"), "amount", "unknown field for kind"},
      {"null_optional", Ev(partnership + R"(,"detail":null)"), "detail", "must be a string, got null"},
      {"bad_id", Ev(partnership + R"(,"id":"has space")"), "id", "not an event id"},
      {"empty_id", Ev(partnership + R"(,"id":"")"), "id", "not an event id"},
      {"long_id", Ev(partnership + R"(,"id":")" + std::string(65, 'x') + R"(")"), "id", "not an event id"},
      {"note_not_a_string", Ev(partnership + R"(,"note":["n"])"), "note", "must be a string, got array"},
      {"bad_slug", Ev(R"("kind":"entity_registered","entity":"Tianfu","type":"district","country":"CN",)"
                      R"("names":[{"text":"Tianfu","lang":"en"}])"),
       "entity", "not an entity id"},
      {"missing_country", Ev(registered), "country", "required field is missing"},
      {"bad_country", Ev(registered + R"(,"country":"cn")"), "country", "ISO 3166-1"},
      {"latitude_out_of_range", Ev(registered + R"(,"country":"CN","location":{"lat":91,"lon":0})"), "location.lat",
       "between -90 and 90"},
      {"longitude_missing", Ev(registered + R"(,"country":"CN","location":{"lat":30})"), "location.lon", "missing"},
      {"empty_names", Ev(R"("kind":"entity_registered","entity":"x","type":"city","country":"CN","names":[])"),
       "names", "must not be empty"},
      {"bad_name_language",
       Ev(R"("kind":"entity_registered","entity":"x","type":"city","country":"CN","names":[{"text":"X","lang":"x"}])"),
       "names[0].lang", "BCP 47"},
      {"unknown_parent", Ev(registered + R"(,"country":"CN","parent":"Nowhere")"), "parent", "unknown entity",
       Status::Code::kNotFound},
      {"parties_not_an_array", Ev(R"("kind":"agreement_signed","parties":"chengdu","title":"T","agreement":"other")"),
       "parties", "must be an array"},
      {"party_not_a_string", Ev(R"("kind":"agreement_signed","parties":["chengdu",7],"title":"T","agreement":"other")"),
       "parties[1]", "must be a string, got number"},
      {"party_unknown", Ev(R"("kind":"agreement_signed","parties":["chengdu","Atlantis"],"title":"T",)"
                           R"("agreement":"other")"),
       "parties[1]", "unknown entity 'Atlantis'", Status::Code::kNotFound},
      {"partner_unknown", Ev(R"("kind":"initiative_launched","owner":"chengdu","name":"N","partners":["Atlantis"])"),
       "partners[0]", "unknown entity", Status::Code::kNotFound},
      {"retraction_bad_target", Ev(R"("kind":"retraction","target":"ev 1","reason":"r")"), "target",
       "not an event id"},
      {"retraction_without_reason", Ev(R"("kind":"retraction","target":"ev-1")"), "reason", "missing"},
      {"replacement_missing", R"({"kind":"amendment","target":"ev-1","reason":"r","sources":[)" + src + "]}",
       "replacement", "required field is missing"},
      {"replacement_not_an_object", amendment("[]"), "replacement", "must be an object, got array"},
      {"replacement_impossible_date",
       amendment(R"({"kind":"route_opened","date":"2013-02-30","from":"chengdu","to":"duisburg","mode":"rail"})"),
       "replacement.date", ""},
      {"replacement_unknown_entity",
       amendment(R"({"kind":"route_opened","date":"2013","from":"chengdu","to":"Atlantis","mode":"rail"})"),
       "replacement.to", "unknown entity", Status::Code::kNotFound},
      {"replacement_with_sources",
       amendment(R"({"kind":"route_opened","date":"2013","from":"chengdu","to":"duisburg","mode":"rail","sources":[]})"),
       "replacement.sources", "not allowed in a replacement"},
      {"replacement_unknown_field",
       amendment(R"({"kind":"route_opened","date":"2013","from":"chengdu","to":"duisburg","mode":"rail","x":1})"),
       "replacement.x", "unknown field for kind route_opened"},
      {"replacement_is_a_correction", amendment(R"({"kind":"retraction","date":"2013","target":"ev-2","reason":"r"})"),
       "replacement.kind", "cannot be a retraction"},
      {"amendment_date_differs",
       R"({"kind":"amendment","date":"2014","target":"ev-1","reason":"r","replacement":{"kind":"route_opened",)"
       R"("date":"2013","from":"chengdu","to":"duisburg","mode":"rail"},"sources":[)" +
           src + "]}",
       "date", "differs from replacement.date '2013'"},
      {"restore_without_seq", restore_with(R"("recorded_at":"2025-04-17T08:45:00Z",)"), "seq",
       "required field is missing", Status::Code::kInvalidArgument, true},
      {"restore_zero_seq", restore_with(R"("seq":0,"recorded_at":"2025-04-17T08:45:00Z",)"), "seq",
       "must be a positive integer", Status::Code::kInvalidArgument, true},
      {"restore_without_recorded_at", restore_with(R"("seq":1,)"), "recorded_at", "required field is missing",
       Status::Code::kInvalidArgument, true},
      {"restore_bad_recorded_at", restore_with(R"("seq":1,"recorded_at":"2025-04-17 08:45:00",)"), "recorded_at",
       "RFC 3339", Status::Code::kInvalidArgument, true},
  };
}

class JsonCodecRejectsTest : public testing::TestWithParam<BadInput> {};

TEST_P(JsonCodecRejectsTest, NamesFieldAndReason) {
  const BadInput& input = GetParam();
  Decoded d = Decode(input.text, input.restore);
  ASSERT_FALSE(d.status.ok()) << input.text;
  EXPECT_EQ(d.status.code(), input.code) << d.status.ToString();
  EXPECT_EQ(d.status.field(), input.field) << d.status.ToString();
  EXPECT_NE(d.status.message().find(input.message_part), std::string::npos) << d.status.ToString();
  EXPECT_FALSE(d.status.message().empty());
}

INSTANTIATE_TEST_SUITE_P(JsonCodecBadInputs, JsonCodecRejectsTest, testing::ValuesIn(BadInputs()),
                         [](const testing::TestParamInfo<BadInput>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// The export form.

TEST(JsonCodecTest, EncodesEnvelopeAndFieldsInFixedOrder) {
  Decoded d = Decode(R"({"note":"n","sources":[{"quote":"q","url":"u","language":"en","published":"2025-04-17",)"
                     R"("publisher":"P","title":"T"}],"detail":"d","partnership":"sister_city","b":"chengdu",)"
                     R"("a":"Montpellier","date":"1981","kind":"partnership_established","id":"x1",)"
                     R"("recorded_at":"2025-04-17T08:45:00.123456Z","seq":7})",
                     /*restore=*/true);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(EncodeEvent(d.ev()).dump(),
            R"({"seq":7,"recorded_at":"2025-04-17T08:45:00.123456Z","id":"x1","kind":"partnership_established",)"
            R"("date":"1981","a":"chengdu","b":"montpellier","partnership":"sister_city","detail":"d",)"
            R"("sources":[{"title":"T","publisher":"P","published":"2025-04-17","language":"en","url":"u",)"
            R"("quote":"q"}],"note":"n"})");
}

TEST(JsonCodecTest, EncodesEveryKindsFieldsInSpecOrder) {
  for (const std::string& sample : FullSamples()) {
    Decoded d = Decode(sample);
    ASSERT_TRUE(d.status.ok()) << sample << "\n" << d.status.ToString();
    std::string kind(KindName(d.ev().getPayload().which()));
    SCOPED_TRACE(kind);
    std::vector<std::string> expected = {"seq", "recorded_at", "id", "kind", "date"};
    for (const std::string& field : SpecFieldOrder().at(kind)) expected.push_back(field);
    expected.push_back("sources");
    expected.push_back("note");
    nlohmann::ordered_json j = EncodeEvent(d.ev());
    EXPECT_EQ(Keys(j), expected);
  }
}

TEST(JsonCodecTest, OmitsUnsetOptionalFields) {
  Decoded d = Decode(Ev(R"("kind":"forum_held","host":"wuxi","name":"Forum")"));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  nlohmann::ordered_json j = EncodeEvent(d.ev());
  EXPECT_EQ(Keys(j), (std::vector<std::string>{"seq", "recorded_at", "kind", "date", "host", "name", "sources"}));
  EXPECT_EQ(Keys(j["sources"][0]), (std::vector<std::string>{"title", "publisher", "published", "language"}));
}

TEST(JsonCodecTest, EncodesAmendmentWithNestedReplacement) {
  Decoded d = Decode(R"({"kind":"amendment","target":"ev-1","reason":"r","replacement":{"kind":"route_opened",)"
                     R"("date":"2013-04","from":"Duisburg","to":"chengdu","mode":"rail"},"sources":[)" +
                     std::string(kSource) + "]}");
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  nlohmann::ordered_json j = EncodeEvent(d.ev());
  EXPECT_EQ(j["date"], "2013-04");
  EXPECT_EQ(j["replacement"].dump(),
            R"({"kind":"route_opened","date":"2013-04","from":"duisburg","to":"chengdu","mode":"rail"})");
}

TEST(JsonCodecTest, EncodesWholeAmountsAsIntegers) {
  Decoded d = Decode(Ev(R"("kind":"trade_volume_reported","reporter":"chengdu","partner":"eu","period":"2024",)"
                        R"("amount":142160000000,"currency":"CNY","flow":"total")"));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.ev().getPayload().getTradeVolumeReported().getAmount(), 142160000000.0);
  std::string text = EncodeEvent(d.ev()).dump();
  EXPECT_NE(text.find(R"("amount":142160000000,)"), std::string::npos) << text;
}

TEST(JsonCodecTest, RoundTripsAwkwardNumbersExactly) {
  for (const char* amount : {"0", "0.1", "1.5", "142160000000", "142160000000.5", "9007199254740993", "1e300",
                             "2.5e-7", "123456789.123456789", "-0", "-0.0"}) {
    SCOPED_TRACE(amount);
    Decoded d = Decode(Ev(R"("kind":"trade_volume_reported","reporter":"chengdu","partner":"eu","period":"2024",)"
                          R"("amount":)" + std::string(amount) + R"(,"currency":"CNY","flow":"total")"));
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    double stored = d.ev().getPayload().getTradeVolumeReported().getAmount();
    EXPECT_FALSE(std::signbit(stored));
    d.message->getRoot<schema::Event>().setSeq(1);
    Decoded again = Decode(EncodeEvent(d.ev()).dump(), /*restore=*/true);
    ASSERT_TRUE(again.status.ok()) << again.status.ToString();
    EXPECT_EQ(again.ev().getPayload().getTradeVolumeReported().getAmount(), stored);
  }
}

TEST(JsonCodecTest, RoundTripsEveryKind) {
  std::set<Which> covered;
  int64_t n = 0;
  for (const std::string& sample : FullSamples()) {
    Decoded first = Decode(sample);
    ASSERT_TRUE(first.status.ok()) << sample << "\n" << first.status.ToString();
    auto root = first.message->getRoot<schema::Event>();
    root.setSeq(++n);
    root.setRecordedAt(1744879500123456 + n);
    Which kind = root.getPayload().which();
    covered.insert(kind);
    SCOPED_TRACE(std::string(KindName(kind)));

    std::string exported = EncodeEvent(first.ev()).dump();
    Decoded second = Decode(exported, /*restore=*/true);
    ASSERT_TRUE(second.status.ok()) << exported << "\n" << second.status.ToString();
    EXPECT_EQ(CanonicalBytes(first.ev()), CanonicalBytes(second.ev()))
        << first.ev().toString().flatten().cStr() << "\nvs\n"
        << second.ev().toString().flatten().cStr();
    EXPECT_EQ(EncodeEvent(second.ev()).dump(), exported);
  }
  for (int i = 0; i <= static_cast<int>(Which::CORROBORATION); ++i) {
    EXPECT_TRUE(covered.contains(static_cast<Which>(i))) << "no sample for " << KindName(static_cast<Which>(i));
  }
}

// ---------------------------------------------------------------------------
// Names and timestamps.

TEST(JsonCodecTest, MapsKindNamesBothWays) {
  EXPECT_EQ(KindName(Which::PARTNERSHIP_ESTABLISHED), "partnership_established");
  EXPECT_EQ(KindName(Which::TRADE_VOLUME_REPORTED), "trade_volume_reported");
  for (int i = 0; i <= static_cast<int>(Which::CORROBORATION); ++i) {
    auto which = static_cast<Which>(i);
    EXPECT_EQ(ParseKind(KindName(which)), which);
  }
  EXPECT_EQ(ParseKind("partnershipEstablished"), std::nullopt);
  EXPECT_EQ(ParseKind(""), std::nullopt);
}

TEST(JsonCodecTest, FormatsTimestampsWithMicroseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1744879500123456), "2025-04-17T08:45:00.123456Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(951782400000000), "2000-02-29T00:00:00.000000Z");
}

TEST(JsonCodecTest, ParsesTimestampsItFormats) {
  for (int64_t micros : {int64_t{0}, int64_t{-1}, int64_t{1744879500123456}, int64_t{951782400000000},
                         int64_t{253402300799999999} /* 9999-12-31T23:59:59.999999Z */}) {
    int64_t parsed = 42;
    ASSERT_TRUE(ParseTimestamp(FormatTimestamp(micros), &parsed).ok()) << FormatTimestamp(micros);
    EXPECT_EQ(parsed, micros);
  }
  int64_t parsed = 0;
  ASSERT_TRUE(ParseTimestamp("2025-04-17T08:45:00Z", &parsed).ok());
  EXPECT_EQ(parsed, 1744879500000000);
  ASSERT_TRUE(ParseTimestamp("2025-04-17T08:45:00.1Z", &parsed).ok());
  EXPECT_EQ(parsed, 1744879500100000);
}

TEST(JsonCodecTest, RejectsImpossibleTimestamps) {
  for (const char* bad : {"", "2025-04-17", "2025-04-17T08:45:00", "2025-04-17T08:45:00+00:00",
                          "2025-04-17T08:45:00.000000z", "2025-04-17t08:45:00Z", "2025-04-17 08:45:00Z",
                          "2025-04-17T08:45:00.Z", "2025-04-17T08:45:00.1234567Z", "2025-02-29T00:00:00Z",
                          "2025-13-01T00:00:00Z", "2025-00-10T00:00:00Z", "2025-04-31T00:00:00Z",
                          "2025-04-17T24:00:00Z", "2025-04-17T08:60:00Z", "2016-12-31T23:59:60Z", "25-04-17T08:45:00Z",
                          "2025-04-17T08:45:00Z ", "+2025-04-17T08:45:00Z"}) {
    int64_t parsed = 0;
    Status s = ParseTimestamp(bad, &parsed);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace twinline
