// LogEntityResolver over a real log: slugs, names in any language, case and
// diacritics insensitivity, ambiguity, close-candidate suggestions and
// entities pending in the batch being decoded.
#include "events/entity_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "events/json_codec.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSources[] =
    R"("sources":[{"title":"Chongqing und Düsseldorf feiern 20 Jahre","publisher":"nrwheute",)"
    R"("published":"2024","language":"de"}])";

// Registration events, one per line.
const std::vector<std::string> kEntities = {
    R"json({"kind":"entity_registered","date":"2004","entity":"duesseldorf","type":"city",
        "country":"DE","names":[{"text":"Düsseldorf","lang":"de"},
        {"text":"Dusseldorf","lang":"en"},{"text":"杜塞尔多夫","lang":"zh"}],)json",
    R"json({"kind":"entity_registered","date":"2004","entity":"chongqing","type":"city",
        "country":"CN","names":[{"text":"Chongqing","lang":"en"},{"text":"重庆","lang":"zh"}],)json",
    R"json({"kind":"entity_registered","date":"2004","entity":"duisburg","type":"city",
        "country":"DE","names":[{"text":"Duisburg","lang":"de"}],)json",
    // Two cities sharing a name, and a slug that is also another city's name.
    R"json({"kind":"entity_registered","date":"2004","entity":"frankfurt-main","type":"city",
        "country":"DE","names":[{"text":"Frankfurt","lang":"de"},
        {"text":"Frankfurt am Main","lang":"de"}],)json",
    R"json({"kind":"entity_registered","date":"2004","entity":"frankfurt-oder","type":"city",
        "country":"DE","names":[{"text":"Frankfurt","lang":"de"},
        {"text":"Frankfurt (Oder)","lang":"de"}],)json",
    R"json({"kind":"entity_registered","date":"2004","entity":"paris","type":"city",
        "country":"FR","names":[{"text":"Paris","lang":"fr"}],)json",
    R"json({"kind":"entity_registered","date":"2004","entity":"paris-tx","type":"city",
        "country":"US","names":[{"text":"Paris","lang":"en"}],)json",
};

class EntityResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st;
    folder_ = NameFolder::Create(&st);
    ASSERT_NE(folder_, nullptr) << st.ToString();
    OpenOptions options;
    options.create_if_missing = true;
    options.map_size = size_t{64} << 20;
    st = EventLog::Open(dir_, options, &log_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void TearDown() override {
    resolver_.reset();
    txn_.reset();
    log_.reset();
  }

  // Appends every registration in kEntities, then opens a snapshot and a
  // resolver over it.
  void RegisterAll() {
    LogEntityResolver no_log(nullptr, folder_.get());
    std::vector<PendingEvent> batch;
    for (const std::string& line : kEntities) {
      auto message = std::make_unique<capnp::MallocMessageBuilder>();
      Status st = DecodeEventText(line + kSources + "}", no_log, DecodeOptions(),
                                  message->initRoot<schema::Event>());
      ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << line;
      batch.push_back(std::move(message));
    }
    AppendResult result;
    Status st = log_->Append(batch, AppendOptions(), &result);
    ASSERT_TRUE(st.ok()) << st.ToString();
    OpenResolver();
  }

  void OpenResolver() {
    resolver_.reset();
    ASSERT_TRUE(log_->BeginRead(&txn_).ok());
    resolver_ = std::make_unique<LogEntityResolver>(txn_.get(), folder_.get());
  }

  // The slug `ref` resolves to, or "error: <message>".
  std::string Resolve(std::string_view ref) {
    std::string id;
    Status st = resolver_->Resolve(ref, &id);
    return st.ok() ? id : "error: " + st.message();
  }

  test::TempDir temp_{"twinline-resolver-test"};
  std::string dir_ = temp_.path().string();
  std::unique_ptr<NameFolder> folder_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ReadTxn> txn_;
  std::unique_ptr<LogEntityResolver> resolver_;
};

TEST_F(EntityResolverTest, SlugResolvesToItself) {
  RegisterAll();
  EXPECT_EQ(Resolve("duesseldorf"), "duesseldorf");
  EXPECT_EQ(Resolve("chongqing"), "chongqing");
  EXPECT_EQ(Resolve("frankfurt-oder"), "frankfurt-oder");
}

TEST_F(EntityResolverTest, ResolvesNamesInEveryRegisteredLanguage) {
  RegisterAll();
  EXPECT_EQ(Resolve("Düsseldorf"), "duesseldorf");  // German
  EXPECT_EQ(Resolve("Dusseldorf"), "duesseldorf");  // English
  EXPECT_EQ(Resolve("杜塞尔多夫"), "duesseldorf");  // Chinese
  EXPECT_EQ(Resolve("重庆"), "chongqing");
  EXPECT_EQ(Resolve("Chongqing"), "chongqing");
  EXPECT_EQ(Resolve("Frankfurt am Main"), "frankfurt-main");
}

// Traditional Chinese spellings find names registered in Simplified
// characters (ICU's Traditional-Simplified transform).
TEST_F(EntityResolverTest, TraditionalChineseResolvesToTheSimplifiedName) {
  RegisterAll();
  EXPECT_EQ(Resolve("重慶"), "chongqing");
  EXPECT_EQ(Resolve("杜塞爾多夫"), "duesseldorf");
}

TEST_F(EntityResolverTest, IgnoresCaseAndDiacritics) {
  RegisterAll();
  for (const char* ref :
       {"Düsseldorf", "Duesseldorf", "duesseldorf", "DÜSSELDORF", "DUSSELDORF", "düsseldorf"}) {
    EXPECT_EQ(Resolve(ref), "duesseldorf") << ref;
  }
  EXPECT_EQ(Resolve("CHONGQING"), "chongqing");
  EXPECT_EQ(Resolve("frankfurt (oder)"), "frankfurt-oder");
}

TEST_F(EntityResolverTest, AmbiguousNameListsEveryCandidate) {
  RegisterAll();
  std::string id;
  Status st = resolver_->Resolve("Frankfurt", &id);
  ASSERT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("ambiguous entity 'Frankfurt'"));
  EXPECT_THAT(st.message(), HasSubstr("frankfurt-main (Frankfurt)"));
  EXPECT_THAT(st.message(), HasSubstr("frankfurt-oder (Frankfurt)"));
}

TEST_F(EntityResolverTest, ExactSlugWinsOverAnAmbiguousName) {
  RegisterAll();
  // "paris" is a slug and also a name of paris-tx: the slug wins.
  EXPECT_EQ(Resolve("paris"), "paris");
  EXPECT_THAT(Resolve("Paris"), HasSubstr("ambiguous"));
}

TEST_F(EntityResolverTest, UnknownNameSuggestsCloseCandidates) {
  RegisterAll();
  std::string id;
  Status st = resolver_->Resolve("Dusseldorff", &id);
  ASSERT_EQ(st.code(), Status::Code::kNotFound) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("unknown entity 'Dusseldorff'; did you mean: "));
  EXPECT_THAT(st.message(), HasSubstr("duesseldorf (Düsseldorf)"));
  EXPECT_THAT(st.message(), Not(HasSubstr("chongqing")));
}

TEST_F(EntityResolverTest, UnknownPrefixSuggestsLongerNames) {
  RegisterAll();
  EXPECT_THAT(Resolve("Chong"), HasSubstr("did you mean: chongqing (Chongqing)?"));
}

TEST_F(EntityResolverTest, UnknownNameWithNothingCloseSuggestsNothing) {
  RegisterAll();
  std::string message = Resolve("Timbuktu");
  EXPECT_THAT(message, HasSubstr("unknown entity 'Timbuktu'"));
  EXPECT_THAT(message, Not(HasSubstr("did you mean")));
}

TEST_F(EntityResolverTest, EmptyLogSaysNoEntityIsRegistered) {
  OpenResolver();
  std::string id;
  Status st = resolver_->Resolve("Chengdu", &id);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("no entity is registered yet"));
}

TEST_F(EntityResolverTest, PendingEntitiesResolveWithinTheBatch) {
  RegisterAll();
  ASSERT_TRUE(resolver_->AddPending("wuxi", {"Wuxi", "无锡"}).ok());
  ASSERT_TRUE(resolver_->AddPending("qingdao-port", {"Qingdao Port"}).ok());
  EXPECT_EQ(Resolve("wuxi"), "wuxi");
  EXPECT_EQ(Resolve("无锡"), "wuxi");
  EXPECT_EQ(Resolve("WUXI"), "wuxi");
  EXPECT_EQ(Resolve("qingdao-port"), "qingdao-port");
  EXPECT_EQ(Resolve("qingdao port"), "qingdao-port");
  // Logged entities still resolve alongside the pending ones.
  EXPECT_EQ(Resolve("Düsseldorf"), "duesseldorf");
  // A pending entity is suggested by its first name.
  EXPECT_THAT(Resolve("Wuxxi"), HasSubstr("did you mean: wuxi (Wuxi)?"));
}

TEST_F(EntityResolverTest, PendingNameClashingWithLoggedNameIsAmbiguous) {
  RegisterAll();
  ASSERT_TRUE(resolver_->AddPending("duisburg-2", {"Duisburg"}).ok());
  std::string message = Resolve("Duisburg");
  EXPECT_THAT(message, HasSubstr("ambiguous"));
  EXPECT_THAT(message, HasSubstr("duisburg (Duisburg)"));
  EXPECT_THAT(message, HasSubstr("duisburg-2 (Duisburg)"));
}

TEST_F(EntityResolverTest, PendingEntitiesWorkWithoutALog) {
  LogEntityResolver resolver(nullptr, folder_.get());
  ASSERT_TRUE(resolver.AddPending("chengdu", {"Chengdu", "成都"}).ok());
  std::string id;
  ASSERT_TRUE(resolver.Resolve("成都", &id).ok());
  EXPECT_EQ(id, "chengdu");
  EXPECT_EQ(resolver.Resolve("Chengduu", &id).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace twinline
