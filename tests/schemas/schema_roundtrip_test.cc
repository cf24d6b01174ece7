// The event schema survives the log's storage form: an Event carrying each
// payload kind, with every field set, is written with messageToFlatArray
// (what the log stores) and read back with FlatArrayMessageReader; the copy
// must equal the original field by field and in canonical bytes.
//
// The fixtures set every field to a non-default value, and a test checks
// that they still do: when the schema grows, the fixture must grow with it.
#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "schemas/twinline.capnp.h"

namespace twinline {
namespace {

using schema::Payload;
using Which = schema::Payload::Which;

void SetDate(schema::Date::Builder d, const char* edtf, int64_t earliest, int64_t latest) {
  d.setEdtf(edtf);
  d.setEarliest(earliest);
  d.setLatest(latest);
}

void BuildPartnership(schema::Partnership::Builder p) {
  p.setA("chengdu");
  p.setB("montpellier");
  p.setKind(schema::PartnershipKind::FRIENDSHIP_CITY);
  p.setDetail("first sister-city relationship");
}

void BuildRoute(schema::Route::Builder r) {
  r.setFrom("chengdu");
  r.setTo("duisburg");
  r.setMode(schema::RouteMode::AIR_CARGO);
  r.setOperator("db-cargo");
  r.setName("China-Europe Railway Express");
}

// Fills `p` with a payload of `kind`, every field non-default.
void BuildPayload(Which kind, Payload::Builder p) {
  switch (kind) {
    case Which::ENTITY_REGISTERED: {
      auto e = p.initEntityRegistered();
      e.setEntity("tianfu");
      e.setType(schema::EntityType::DISTRICT);
      auto names = e.initNames(2);
      names[0].setText("Tianfu New Area");
      names[0].setLang("en");
      names[1].setText("天府新区");
      names[1].setLang("zh-Hans");
      e.setCountry("CN");
      e.initLocation().setLat(30.4);
      e.getLocation().setLon(104.07);
      e.setHasLocation(true);
      e.setParent("chengdu");
      return;
    }
    case Which::PARTNERSHIP_ESTABLISHED:
      BuildPartnership(p.initPartnershipEstablished());
      return;
    case Which::PARTNERSHIP_ENDED:
      BuildPartnership(p.initPartnershipEnded());
      return;
    case Which::AGREEMENT_SIGNED: {
      auto a = p.initAgreementSigned();
      auto parties = a.initParties(3);
      parties.set(0, "chengdu");
      parties.set(1, "duisburg");
      parties.set(2, "wuxi");
      a.setTitle("Logistics cooperation agreement");
      a.setKind(schema::AgreementKind::LOGISTICS);
      return;
    }
    case Which::FORUM_HELD: {
      auto f = p.initForumHeld();
      f.setHost("wuxi");
      f.setName("Wuxi International Sister Cities Forum");
      f.setEdition(3);
      f.setVenue("yixing");
      auto figures = f.initAttendance(1);
      figures[0].setLabel("guests");
      figures[0].setValue(100);
      figures[0].setQualifier(schema::Qualifier::NEARLY);
      f.setOrganiser("wuxi-fao");
      return;
    }
    case Which::ROUTE_OPENED:
      BuildRoute(p.initRouteOpened());
      return;
    case Which::ROUTE_CLOSED:
      BuildRoute(p.initRouteClosed());
      return;
    case Which::OFFICE_OPENED: {
      auto o = p.initOfficeOpened();
      o.setOwner("chengdu");
      o.setHost("duesseldorf");
      o.setName("European liaison office");
      return;
    }
    case Which::ORGANISATION_FOUNDED: {
      auto o = p.initOrganisationFounded();
      o.setOrganisation("chengdu-europe-centre");
      o.setFounder("chengdu");
      o.setPurpose("trade promotion");
      return;
    }
    case Which::AWARD_GRANTED: {
      auto a = p.initAwardGranted();
      a.setRecipient("chengdu");
      a.setGrantor("cpaffc");
      a.setName("Friendship Cities Exchange and Cooperation Award");
      return;
    }
    case Which::TRADE_VOLUME_REPORTED: {
      auto t = p.initTradeVolumeReported();
      t.setReporter("chengdu");
      t.setPartner("eu");
      t.setPeriod("2024");
      t.setAmount(142160000000.0);
      t.setCurrency("CNY");
      t.setFlow(schema::TradeFlow::EXPORTS);
      return;
    }
    case Which::COUNT_REPORTED: {
      auto c = p.initCountReported();
      c.setEntity("chengdu");
      c.setMetric("partner_cities");
      c.setValue(241);
      c.setQualifier(schema::Qualifier::MORE_THAN);
      c.setScope("eu");
      c.setWording("international friendship cities");
      return;
    }
    case Which::INITIATIVE_LAUNCHED: {
      auto i = p.initInitiativeLaunched();
      i.setOwner("chengdu");
      i.setName("Chengdu Friendship Cities Platform");
      auto partners = i.initPartners(2);
      partners.set(0, "montpellier");
      partners.set(1, "wuxi");
      return;
    }
    case Which::RETRACTION: {
      auto r = p.initRetraction();
      r.setTarget("ev-0123456789abcdef");
      r.setReason("duplicate of an earlier report");
      return;
    }
    case Which::AMENDMENT: {
      auto a = p.initAmendment();
      a.setTarget("ev-0123456789abcdef");
      a.setReason("the source gives 1982");
      SetDate(a.initValidTime(), "1982", 4383, 4747);
      BuildPartnership(a.initReplacement().initPartnershipEstablished());
      return;
    }
    case Which::CORROBORATION:
      p.initCorroboration().setTarget("ev-0123456789abcdef");
      return;
  }
  FAIL() << "no fixture for payload kind " << static_cast<int>(kind);
}

void BuildEvent(Which kind, schema::Event::Builder ev) {
  ev.setSeq(42);
  ev.setRecordedAt(1744879500123456);  // 2025-04-17T08:45:00.123456Z
  SetDate(ev.initValidTime(), "2014-11~", 16375, 16404);
  ev.setId("ev-fedcba9876543210");
  auto sources = ev.initSources(2);
  for (unsigned i = 0; i < 2; ++i) {
    sources[i].setTitle(i == 0 ? "2025 Chengdu International Friendship Cities" : "成都国际友城");
    sources[i].setPublisher("Media OutReach Newswire");
    sources[i].setPublished("2025-04-17");
    sources[i].setLanguage(i == 0 ? "en" : "zh");
    sources[i].setUrl("https://example.org/news/1");
    sources[i].setQuote("first sister-city relationship with Montpellier, France, in 1981");
  }
  BuildPayload(kind, ev.initPayload());
  ev.setNote("checked against the city's own list");
}

// Every member of the Payload union, by reflection: new kinds are covered
// without touching this list.
std::vector<Which> AllKinds() {
  std::vector<Which> kinds;
  for (auto field : capnp::Schema::from<Payload>().getUnionFields()) {
    kinds.push_back(static_cast<Which>(field.getProto().getDiscriminantValue()));
  }
  return kinds;
}

std::string KindLabel(Which kind) {
  for (auto field : capnp::Schema::from<Payload>().getUnionFields()) {
    if (field.getProto().getDiscriminantValue() == static_cast<uint16_t>(kind)) return field.getProto().getName().cStr();
  }
  return "?";
}

std::string CanonicalBytes(schema::Event::Reader ev) {
  kj::Array<capnp::word> words = capnp::canonicalize(ev);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Compares two dynamic values recursively, naming the first differing path.
void ExpectSameValue(capnp::DynamicValue::Reader a, capnp::DynamicValue::Reader b, const std::string& path);

void ExpectSameStruct(capnp::DynamicStruct::Reader a, capnp::DynamicStruct::Reader b, const std::string& path) {
  for (auto field : a.getSchema().getNonUnionFields()) {
    std::string name = path + "." + field.getProto().getName().cStr();
    ASSERT_EQ(a.has(field), b.has(field)) << name;
    if (a.has(field)) ExpectSameValue(a.get(field), b.get(field), name);
  }
  KJ_IF_MAYBE(active, a.which()) {
    KJ_IF_MAYBE(other, b.which()) {
      ASSERT_EQ(active->getIndex(), other->getIndex()) << path << ": different union member";
      ExpectSameValue(a.get(*active), b.get(*other), path + "." + active->getProto().getName().cStr());
    } else {
      ADD_FAILURE() << path << ": union member lost";
    }
  }
}

void ExpectSameValue(capnp::DynamicValue::Reader a, capnp::DynamicValue::Reader b, const std::string& path) {
  ASSERT_EQ(a.getType(), b.getType()) << path;
  switch (a.getType()) {
    case capnp::DynamicValue::BOOL:
      EXPECT_EQ(a.as<bool>(), b.as<bool>()) << path;
      break;
    case capnp::DynamicValue::INT:
      EXPECT_EQ(a.as<int64_t>(), b.as<int64_t>()) << path;
      break;
    case capnp::DynamicValue::UINT:
      EXPECT_EQ(a.as<uint64_t>(), b.as<uint64_t>()) << path;
      break;
    case capnp::DynamicValue::FLOAT:
      EXPECT_EQ(a.as<double>(), b.as<double>()) << path;
      break;
    case capnp::DynamicValue::TEXT:
      EXPECT_STREQ(a.as<capnp::Text>().cStr(), b.as<capnp::Text>().cStr()) << path;
      break;
    case capnp::DynamicValue::ENUM:
      EXPECT_EQ(a.as<capnp::DynamicEnum>().getRaw(), b.as<capnp::DynamicEnum>().getRaw()) << path;
      break;
    case capnp::DynamicValue::LIST: {
      auto la = a.as<capnp::DynamicList>();
      auto lb = b.as<capnp::DynamicList>();
      ASSERT_EQ(la.size(), lb.size()) << path;
      for (unsigned i = 0; i < la.size(); ++i) ExpectSameValue(la[i], lb[i], path + "[" + std::to_string(i) + "]");
      break;
    }
    case capnp::DynamicValue::STRUCT:
      ExpectSameStruct(a.as<capnp::DynamicStruct>(), b.as<capnp::DynamicStruct>(), path);
      break;
    default:
      ADD_FAILURE() << path << ": unexpected value type " << static_cast<int>(a.getType());
  }
}

// Every non-union field, and the active union member, is set to a
// non-default value, all the way down.
void ExpectFullyPopulated(capnp::DynamicStruct::Reader s, const std::string& path) {
  auto check = [&](capnp::StructSchema::Field field) {
    std::string name = path + "." + field.getProto().getName().cStr();
    EXPECT_TRUE(s.has(field, capnp::HasMode::NON_DEFAULT)) << name << " is not set by the fixture";
    if (!s.has(field)) return;
    capnp::DynamicValue::Reader v = s.get(field);
    if (v.getType() == capnp::DynamicValue::STRUCT) {
      ExpectFullyPopulated(v.as<capnp::DynamicStruct>(), name);
    } else if (v.getType() == capnp::DynamicValue::LIST) {
      auto list = v.as<capnp::DynamicList>();
      EXPECT_GT(list.size(), 0u) << name;
      for (unsigned i = 0; i < list.size(); ++i) {
        if (list[i].getType() == capnp::DynamicValue::STRUCT) {
          ExpectFullyPopulated(list[i].as<capnp::DynamicStruct>(), name + "[" + std::to_string(i) + "]");
        }
      }
    }
  };
  for (auto field : s.getSchema().getNonUnionFields()) check(field);
  KJ_IF_MAYBE(active, s.which()) { check(*active); }
}

TEST(SchemaRoundTripTest, FixturesSetEveryFieldOfEveryKind) {
  for (Which kind : AllKinds()) {
    SCOPED_TRACE(KindLabel(kind));
    capnp::MallocMessageBuilder message;
    auto ev = message.initRoot<schema::Event>();
    BuildEvent(kind, ev);
    EXPECT_EQ(ev.getPayload().which(), kind);
    ExpectFullyPopulated(ev.asReader(), "event");
  }
}

TEST(SchemaRoundTripTest, EveryKindSurvivesFlatArrayFieldByField) {
  for (Which kind : AllKinds()) {
    SCOPED_TRACE(KindLabel(kind));
    capnp::MallocMessageBuilder message;
    auto original = message.initRoot<schema::Event>();
    BuildEvent(kind, original);

    kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
    capnp::FlatArrayMessageReader reader(flat);
    auto copy = reader.getRoot<schema::Event>();

    ASSERT_EQ(copy.getPayload().which(), kind);
    ExpectSameStruct(original.asReader(), copy, "event");
    EXPECT_EQ(CanonicalBytes(original.asReader()), CanonicalBytes(copy));
  }
}

TEST(SchemaRoundTripTest, KeepsEnvelopeAndNestedValuesExactly) {
  capnp::MallocMessageBuilder message;
  BuildEvent(Which::AMENDMENT, message.initRoot<schema::Event>());
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  capnp::FlatArrayMessageReader reader(flat);
  auto ev = reader.getRoot<schema::Event>();

  EXPECT_EQ(ev.getSeq(), 42u);
  EXPECT_EQ(ev.getRecordedAt(), 1744879500123456);
  EXPECT_STREQ(ev.getValidTime().getEdtf().cStr(), "2014-11~");
  EXPECT_EQ(ev.getValidTime().getEarliest(), 16375);
  ASSERT_EQ(ev.getSources().size(), 2u);
  EXPECT_STREQ(ev.getSources()[1].getTitle().cStr(), "成都国际友城");
  auto amendment = ev.getPayload().getAmendment();
  EXPECT_STREQ(amendment.getValidTime().getEdtf().cStr(), "1982");
  ASSERT_EQ(amendment.getReplacement().which(), Which::PARTNERSHIP_ESTABLISHED);
  auto replacement = amendment.getReplacement().getPartnershipEstablished();
  EXPECT_STREQ(replacement.getA().cStr(), "chengdu");
  EXPECT_EQ(replacement.getKind(), schema::PartnershipKind::FRIENDSHIP_CITY);
}

TEST(SchemaRoundTripTest, KeepsFloatsBitExact) {
  capnp::MallocMessageBuilder message;
  auto ev = message.initRoot<schema::Event>();
  BuildEvent(Which::TRADE_VOLUME_REPORTED, ev);
  ev.getPayload().getTradeVolumeReported().setAmount(0.1 + 0.2);
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  capnp::FlatArrayMessageReader reader(flat);
  EXPECT_EQ(reader.getRoot<schema::Event>().getPayload().getTradeVolumeReported().getAmount(), 0.1 + 0.2);
}

TEST(SchemaRoundTripTest, UnsetOptionalFieldsReadAsEmpty) {
  capnp::MallocMessageBuilder message;
  auto ev = message.initRoot<schema::Event>();
  auto p = ev.initPayload().initForumHeld();
  p.setHost("wuxi");
  p.setName("Forum");
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  capnp::FlatArrayMessageReader reader(flat);
  auto forum = reader.getRoot<schema::Event>().getPayload().getForumHeld();
  EXPECT_EQ(forum.getEdition(), 0u);
  EXPECT_FALSE(forum.hasVenue());
  EXPECT_STREQ(forum.getVenue().cStr(), "");
  EXPECT_EQ(forum.getAttendance().size(), 0u);
}

}  // namespace
}  // namespace twinline
