// The kind table (core/kinds.h) against the schema it describes: one row per
// Payload union member, named as the schema names it, with accessors for
// every field that has a value of its own.
#include "core/kinds.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/identity.h"
#include "core/schema_names.h"

namespace twinline {
namespace {

using Which = schema::Payload::Which;

TEST(KindsTest, OneRowPerUnionMemberNamedAsTheSchemaNamesIt) {
  auto members = capnp::Schema::from<schema::Payload>().getUnionFields();
  ASSERT_EQ(Kinds().size(), members.size());
  for (auto member : members) {
    const auto which = static_cast<Which>(member.getProto().getDiscriminantValue());
    const KindSpec* kind = FindKind(which);
    ASSERT_NE(kind, nullptr);
    EXPECT_EQ(kind->which, which);
    EXPECT_EQ(kind->name, SnakeCase(member.getProto().getName().cStr()));
    EXPECT_EQ(FindKind(kind->name), kind);
  }
  EXPECT_EQ(FindKind("no_such_kind"), nullptr);
}

TEST(KindsTest, EveryFieldHasTheAccessorsItsTypeNeeds) {
  for (const KindSpec& kind : Kinds()) {
    std::set<std::string_view> names;
    for (const FieldSpec& field : kind.fields) {
      SCOPED_TRACE(std::string(kind.name) + "." + std::string(field.name));
      EXPECT_TRUE(names.insert(field.name).second) << "named twice";
      if (field.IsTextLike()) EXPECT_TRUE(field.access.text && field.access.set_text);
      if (field.type == FieldType::kEntityList)
        EXPECT_TRUE(field.access.list && field.access.init_list);
      if (field.type == FieldType::kEnum) {
        EXPECT_TRUE(field.access.enum_value && field.access.set_enum_value &&
                    field.access.enum_schema);
      }
      if (field.type == FieldType::kNonNegative || field.type == FieldType::kEdition) {
        EXPECT_TRUE(field.access.number && field.access.set_number);
      }
      if (!field.distinct_from.empty()) EXPECT_NE(kind.Field(field.distinct_from), nullptr);
      if (field.role == Role::kCounted) EXPECT_FALSE(field.counter.empty());
    }
    if (kind.is_reference) EXPECT_NE(kind.Field("target"), nullptr);
    EXPECT_EQ(kind.is_reference, IsReference(kind.which));
  }
}

TEST(KindsTest, AccessorsReadAndWriteTheFieldTheyName) {
  capnp::MallocMessageBuilder message;
  auto payload = message.initRoot<schema::Payload>();
  const KindSpec& route = Kind(Which::ROUTE_OPENED);
  capnp::AnyStruct::Builder fields = route.init(payload);
  route.Field("from")->access.set_text(fields, "qingdao");
  route.Field("to")->access.set_text(fields, "mannheim");
  route.Field("mode")->access.set_enum_value(fields, static_cast<uint16_t>(schema::RouteMode::SEA));
  auto r = payload.asReader().getRouteOpened();
  EXPECT_EQ(std::string(r.getFrom().cStr()), "qingdao");
  EXPECT_EQ(std::string(r.getTo().cStr()), "mannheim");
  EXPECT_EQ(r.getMode(), schema::RouteMode::SEA);
  EXPECT_EQ(Summary(payload.asReader()), "qingdao → mannheim (sea)");
  EXPECT_EQ(EntityRefs(payload.asReader()), (std::vector<std::string>{"mannheim", "qingdao"}));
}

TEST(KindsTest, SummariesReadAsBefore) {
  capnp::MallocMessageBuilder message;
  auto payload = message.initRoot<schema::Payload>();
  auto t = payload.initTradeVolumeReported();
  t.setReporter("chengdu");
  t.setPartner("eu");
  t.setPeriod("2024");
  t.setAmount(142160000000);
  t.setCurrency("CNY");
  EXPECT_EQ(Summary(payload.asReader()), "chengdu → eu trade 2024: 142,160,000,000 CNY total");
  auto c = payload.initCountReported();
  c.setEntity("chengdu");
  c.setMetric("partner_cities");
  c.setValue(31);
  c.setScope("eu");
  c.setQualifier(schema::Qualifier::MORE_THAN);
  EXPECT_EQ(Summary(payload.asReader()), "chengdu reports partner_cities > 31 in eu");
  auto f = payload.initForumHeld();
  f.setHost("wuxi");
  f.setName("Friendship Forum");
  f.setEdition(22);
  f.setVenue("yixing");
  EXPECT_EQ(Summary(payload.asReader()), "wuxi: 22nd Friendship Forum in yixing");
}

TEST(KindsTest, FormatGroupedNumberGroupsThousands) {
  EXPECT_EQ(FormatGroupedNumber(142160000000), "142,160,000,000");
  EXPECT_EQ(FormatGroupedNumber(241), "241");
  EXPECT_EQ(FormatGroupedNumber(-1234.5), "-1,234.5");
}

}  // namespace
}  // namespace twinline
