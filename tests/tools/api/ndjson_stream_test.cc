// api::NdjsonStream: an NDJSON stream decoded on its own thread hands its
// events back in file order, with their lines; it ends at the first line
// that does not decode, after every event before it; and a consumer that
// stops early (the writer refused an event) stops it without a hang.
#include "tools/api/ndjson_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/names.h"
#include "events/entity_resolver.h"

namespace twinline::api {
namespace {

using ::testing::HasSubstr;

constexpr char kSource[] =
    R"("sources":[{"title":"T","publisher":"P","published":"2024","language":"en"}])";

std::string Registration(const std::string& slug) {
  return R"({"kind":"entity_registered","date":"2000","entity":")" + slug +
         R"(","type":"city","country":"DE","names":[{"text":")" + slug + R"(","lang":"de"}],)" +
         kSource + "}";
}

std::string Partnership(const std::string& a, const std::string& b, int year) {
  return R"({"kind":"partnership_established","date":")" + std::to_string(year) + R"(","a":")" + a +
         R"(","b":")" + b + R"(","partnership":"sister_city",)" + kSource + "}";
}

class NdjsonStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st;
    folder_ = NameFolder::Create(&st);
    ASSERT_NE(folder_, nullptr) << st.ToString();
    resolver_ = std::make_unique<LogEntityResolver>(nullptr, folder_.get());
  }

  std::unique_ptr<NameFolder> folder_;
  std::unique_ptr<LogEntityResolver> resolver_;
};

TEST_F(NdjsonStreamTest, HandsEventsBackInFileOrderWithTheirLinesSkippingCommentsAndBlanks) {
  std::istringstream in(Registration("aachen") + "\n# a comment\n\n" + Registration("bonn") +
                        "\r\n" + Partnership("aachen", "bonn", 1990) + "\n");
  NdjsonStream stream(in, *resolver_, DecodeOptions());
  stream.Start();
  std::vector<int64_t> lines;
  std::vector<std::string> kinds;
  StreamedEvent e;
  while (stream.Next(&e)) {
    lines.push_back(e.line);
    kinds.push_back(e.event->getRoot<schema::Event>().getPayload().isEntityRegistered()
                        ? "registered"
                        : "partnership");
  }
  EXPECT_TRUE(stream.status().ok()) << stream.status().ToString();
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 4, 5}));
  EXPECT_EQ(kinds, (std::vector<std::string>{"registered", "registered", "partnership"}));
}

TEST_F(NdjsonStreamTest, EndsAtTheFirstBadLineAfterEveryEventBeforeIt) {
  std::string text = Registration("aachen") + "\n" + Registration("bonn") + "\n";
  for (int i = 0; i < 3000; ++i) text += Partnership("aachen", "bonn", 1900 + i % 100) + "\n";
  text += Partnership("aachen", "nowhere", 2000) + "\n";  // line 3003
  text += Partnership("aachen", "bonn", 2001) + "\n";
  std::istringstream in(text);
  NdjsonStream stream(in, *resolver_, DecodeOptions());
  stream.Start();
  size_t events = 0;
  StreamedEvent e;
  while (stream.Next(&e)) ++events;
  EXPECT_EQ(events, 3002u);
  EXPECT_EQ(stream.failed_line(), 3003);
  EXPECT_THAT(stream.status().ToString(), HasSubstr("nowhere"));
}

TEST_F(NdjsonStreamTest, RefusesALineLongerThanAnEventMayBeBeforeParsingIt) {
  std::istringstream in(Registration("aachen") + "\n" + std::string(kMaxEventBytes + 10, ' ') + "x\n");
  NdjsonStream stream(in, *resolver_, DecodeOptions());
  stream.Start();
  StreamedEvent e;
  ASSERT_TRUE(stream.Next(&e));
  EXPECT_FALSE(stream.Next(&e));
  EXPECT_EQ(stream.failed_line(), 2);
  EXPECT_THAT(stream.status().ToString(), HasSubstr("an event may be at most"));
}

TEST_F(NdjsonStreamTest, AConsumerThatStopsEarlyStopsTheDecodingThread) {
  // Far more events than may wait (kMaxInFlight): the thread is blocked
  // handing them over when the consumer goes away.
  std::string text = Registration("aachen") + "\n" + Registration("bonn") + "\n";
  for (size_t i = 0; i < 3 * NdjsonStream::kMaxInFlight; ++i) {
    text += Partnership("aachen", "bonn", 1900 + static_cast<int>(i % 100)) + "\n";
  }
  std::istringstream in(text);
  {
    NdjsonStream stream(in, *resolver_, DecodeOptions());
    stream.Start();
    StreamedEvent e;
    ASSERT_TRUE(stream.Next(&e));
    EXPECT_EQ(e.line, 1);
  }  // the destructor must return: the test would hang otherwise
  EXPECT_LT(static_cast<size_t>(in.tellg()), text.size());  // not read to the end
}

}  // namespace
}  // namespace twinline::api
