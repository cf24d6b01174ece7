// Event identity: which payloads are the same fact, which sources the same source.
#include "core/identity.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

namespace twinline {
namespace {

capnp::MallocMessageBuilder* Partnership(capnp::MallocMessageBuilder* m, const char* a, const char* b) {
  auto p = m->initRoot<schema::Payload>().initPartnershipEstablished();
  p.setA(a);
  p.setB(b);
  p.setKind(schema::PartnershipKind::SISTER_CITY);
  NormalizePayload(m->getRoot<schema::Payload>());
  return m;
}

TEST(IdentityTest, PartnershipIsSymmetric) {
  capnp::MallocMessageBuilder x, y;
  Partnership(&x, "chengdu", "montpellier");
  Partnership(&y, "montpellier", "chengdu");
  EXPECT_EQ(FactFingerprint(x.getRoot<schema::Payload>(), "1981"),
            FactFingerprint(y.getRoot<schema::Payload>(), "1981"));
}

TEST(IdentityTest, DateAndKindArePartOfTheFact) {
  capnp::MallocMessageBuilder x, y;
  Partnership(&x, "chengdu", "montpellier");
  Partnership(&y, "chengdu", "montpellier");
  auto px = x.getRoot<schema::Payload>().asReader();
  EXPECT_NE(FactFingerprint(px, "1981"), FactFingerprint(px, "1982"));
  y.getRoot<schema::Payload>().getPartnershipEstablished().setKind(schema::PartnershipKind::FRIENDSHIP_CITY);
  EXPECT_NE(FactFingerprint(px, "1981"), FactFingerprint(y.getRoot<schema::Payload>(), "1981"));
}

TEST(IdentityTest, AgreementPartiesAreSortedAndUnique) {
  capnp::MallocMessageBuilder m;
  auto a = m.initRoot<schema::Payload>().initAgreementSigned();
  auto parties = a.initParties(3);
  parties.set(0, "tianfu-new-district");
  parties.set(1, "asti");
  parties.set(2, "asti");
  NormalizePayload(m.getRoot<schema::Payload>());
  auto list = m.getRoot<schema::Payload>().getAgreementSigned().getParties();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_STREQ(list[0].cStr(), "asti");
  EXPECT_STREQ(list[1].cStr(), "tianfu-new-district");
}

TEST(IdentityTest, SourceIdentityIgnoresTheQuote) {
  capnp::MallocMessageBuilder x, y;
  auto sx = x.initRoot<schema::Source>();
  auto sy = y.initRoot<schema::Source>();
  for (auto s : {sx, sy}) {
    s.setTitle("Qingdao expands sister-city relationships");
    s.setPublisher("International Daily News");
    s.setPublished("2023-10-06");
    s.setLanguage("en");
  }
  sx.setQuote("86 cities in 48 countries");
  EXPECT_EQ(SourceFingerprint(sx), SourceFingerprint(sy));
  sy.setLanguage("zh");
  EXPECT_NE(SourceFingerprint(sx), SourceFingerprint(sy));
}

TEST(IdentityTest, EntityRefsCoverReplacementOfAmendment) {
  capnp::MallocMessageBuilder m;
  auto am = m.initRoot<schema::Payload>().initAmendment();
  am.setTarget("ev-1");
  auto route = am.initReplacement().initRouteOpened();
  route.setFrom("qingdao");
  route.setTo("mannheim");
  route.setOperator("qingdao");
  EXPECT_EQ(EntityRefs(m.getRoot<schema::Payload>()), (std::vector<std::string>{"mannheim", "qingdao"}));
  EXPECT_TRUE(IsReference(schema::Payload::AMENDMENT));
  EXPECT_EQ(ReferenceTarget(m.getRoot<schema::Payload>()), "ev-1");
}

TEST(IdentityTest, DerivedIdIsStableHexPrefix) {
  Digest d{};
  d[0] = 0xab;
  EXPECT_EQ(DerivedEventId(d), "ev-ab00000000000000");
}

}  // namespace
}  // namespace twinline
