// The reliability suite's own checks (harness.h) must be able to fail: each
// kind of damage they look for, made by hand, is named.
#include "tests/reliability/harness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace twinline::reliability {
namespace {

using ::testing::HasSubstr;

std::vector<LoggedEvent> Log(const std::vector<std::string>& ids) {
  std::vector<LoggedEvent> events;
  for (const std::string& id : ids) events.push_back({events.size() + 1, id});
  return events;
}

TEST(ReliabilityCheckTest, AcceptsWholeContiguousBatches) {
  LogView view;
  EXPECT_EQ(CheckPrefix(Log({"ev-base", "a.0.2", "a.1.2", "b.0.1"}), &view), "");
  EXPECT_TRUE(view.Has("a"));
  EXPECT_TRUE(view.Has("b"));
  EXPECT_FALSE(view.Has("c"));
}

TEST(ReliabilityCheckTest, NamesAHalfWrittenBatch) {
  LogView view;
  EXPECT_THAT(CheckPrefix(Log({"ev-base", "a.0.3", "a.1.3"}), &view),
              HasSubstr("batch a is half-written: 2 of 3"));
}

TEST(ReliabilityCheckTest, NamesAnInterleavedBatch) {
  LogView view;
  EXPECT_THAT(CheckPrefix(Log({"a.0.2", "b.0.1", "a.1.2"}), &view),
              HasSubstr("batch a is not contiguous"));
}

TEST(ReliabilityCheckTest, NamesAGapAndADuplicate) {
  LogView view;
  std::vector<LoggedEvent> gap = Log({"a.0.2", "a.1.2", "b.0.1"});
  gap[2].seq = 4;
  EXPECT_THAT(CheckPrefix(gap, &view), HasSubstr("seqs are not 1..N"));
  EXPECT_THAT(CheckPrefix(Log({"a.0.1", "a.0.1"}), &view), HasSubstr("appears twice"));
}

TEST(ReliabilityCheckTest, WitnessNamesASeqThatChangedBetweenReads) {
  HistoryWitness witness;
  EXPECT_EQ(witness.Agree(Log({"a.0.2", "a.1.2"})), "");
  EXPECT_EQ(witness.Agree(Log({"a.0.2", "a.1.2", "b.0.1"})), "");
  EXPECT_THAT(witness.Agree(Log({"a.0.2", "c.0.1"})), HasSubstr("seq 2 was a.1.2"));
}

TEST(ReliabilityCheckTest, BatchIdsCarryTheirTagAndSize) {
  std::vector<LoggedEvent> events;
  std::istringstream in(BatchNdjson("t1", 3));
  for (std::string line; std::getline(in, line);) {
    events.push_back({events.size() + 1, Json::parse(line)["id"].get<std::string>()});
  }
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].id, "t1.0.3");
  EXPECT_EQ(events[2].id, "t1.2.3");
  LogView view;
  EXPECT_EQ(CheckPrefix(events, &view), "");
  EXPECT_EQ(view.batches["t1"].expected, 3u);
}

}  // namespace
}  // namespace twinline::reliability
