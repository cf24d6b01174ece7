// SubscriptionHub: the catch-up/live hand-over leaves no gap and no repeat,
// a subscriber that falls behind is flagged and its queue emptied, appends
// are noticed by polling, and Stop closes every subscription.
#include "tools/server/subscriptions.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "events/entity_resolver.h"
#include "events/json_codec.h"
#include "tests/testing/test_util.h"

namespace twinline::server {
namespace {

using namespace std::chrono_literals;

constexpr char kSource[] =
    R"("sources":[{"title":"T","publisher":"P","published":"2025","language":"en"}])";

class SubscriptionHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenOptions options;
    options.create_if_missing = true;
    options.map_size = size_t{64} << 20;
    Status s = EventLog::Open(dir_.path().string(), options, &log_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Append({std::string(R"({"kind":"entity_registered","date":"1981","entity":"chengdu",)"
                        R"("type":"city","country":"CN","names":[{"text":"Chengdu","lang":"en"}],)") +
            kSource + "}"});
  }
  void TearDown() override {
    hub_.reset();
    log_.reset();
  }

  // Appends one count_reported event per value, as one batch.
  void AppendCounts(int from, int to) {
    std::vector<std::string> lines;
    for (int v = from; v <= to; ++v) {
      lines.push_back(std::string(R"({"kind":"count_reported","date":"2025","entity":"chengdu",)"
                                  R"("metric":"partner_cities","value":)") +
                      std::to_string(v) + "," + kSource + "}");
    }
    Append(lines);
  }

  void Append(const std::vector<std::string>& lines) {
    std::unique_ptr<ReadTxn> txn;
    ASSERT_TRUE(log_->BeginRead(&txn).ok());
    Status s;
    auto folder = NameFolder::Create(&s);
    LogEntityResolver resolver(txn.get(), folder.get());
    std::vector<PendingEvent> batch;
    for (const std::string& line : lines) {
      batch.push_back(std::make_unique<capnp::MallocMessageBuilder>());
      s = DecodeEventText(line, resolver, {}, batch.back()->initRoot<schema::Event>());
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    txn.reset();
    AppendResult result;
    s = log_->Append(batch, {}, &result);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void StartHub(size_t queue_limit = 100) {
    SubscriptionHub::Options options;
    options.poll_interval = 5ms;
    options.queue_limit = queue_limit;
    options.chunk = 4;
    hub_ = std::make_unique<SubscriptionHub>(log_.get(), options, nullptr);
    ASSERT_TRUE(hub_->Start().ok());
  }

  void WaitPublished(uint64_t seq) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (hub_->published() < seq && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(hub_->published(), seq);
  }

  // Takes frames until `n` have come or the deadline passes.
  static std::vector<uint64_t> TakeSeqs(Subscription& sub, size_t n) {
    std::vector<uint64_t> seqs;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (seqs.size() < n && std::chrono::steady_clock::now() < deadline) {
      for (const FramePtr& f : sub.Take(1000).frames) seqs.push_back(f->seq);
      std::this_thread::sleep_for(1ms);
    }
    return seqs;
  }

  test::TempDir dir_{"twinline-hub-test"};
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SubscriptionHub> hub_;
};

TEST_F(SubscriptionHubTest, FrameIsTheEventAsLogRendersIt) {
  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log_->BeginRead(&txn).ok());
  ASSERT_TRUE(txn->Get(1, [&](schema::Event::Reader ev) {
                   const FramePtr f = RenderFrame(ev);
                   EXPECT_EQ(f->seq, 1u);
                   const std::string prefix = "id: 1\nevent: event\ndata: ";
                   ASSERT_EQ(f->text.substr(0, prefix.size()), prefix);
                   ASSERT_EQ(f->text.substr(f->text.size() - 2), "\n\n");
                   const std::string data =
                       f->text.substr(prefix.size(), f->text.size() - prefix.size() - 2);
                   EXPECT_EQ(data.find('\n'), std::string::npos);
                   EXPECT_EQ(nlohmann::ordered_json::parse(data), EncodeEvent(ev));
                 }).ok());
}

TEST_F(SubscriptionHubTest, CatchUpThenLiveHasNoGapAndNoRepeat) {
  AppendCounts(1, 5);  // seqs 2..6
  StartHub();
  auto sub = hub_->Subscribe(2, nullptr);
  // Catch-up reads from the log, up to what the hub has published.
  std::vector<FramePtr> frames;
  ASSERT_TRUE(hub_->ReadFrames(2, 100, &frames).ok());
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames.front()->seq, 3u);
  EXPECT_EQ(frames.back()->seq, 6u);
  EXPECT_FALSE(hub_->Join(sub.get(), 5));  // not caught up yet
  AppendCounts(6, 8);                      // 7..9, while the subscriber is catching up
  WaitPublished(9);
  EXPECT_FALSE(hub_->Join(sub.get(), 6));  // the hub moved on: read the rest first
  ASSERT_TRUE(hub_->ReadFrames(6, 100, &frames).ok());
  ASSERT_EQ(frames.size(), 3u);
  ASSERT_TRUE(hub_->Join(sub.get(), 9));
  AppendCounts(9, 18);  // 10..19, live; rendered in chunks of 4
  EXPECT_EQ(TakeSeqs(*sub, 10), (std::vector<uint64_t>{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
}

TEST_F(SubscriptionHubTest, AppendsAreSeenByPollingWithoutNotify) {
  StartHub();
  auto sub = hub_->Subscribe(1, nullptr);
  ASSERT_TRUE(hub_->Join(sub.get(), 1));
  AppendCounts(1, 2);
  EXPECT_EQ(TakeSeqs(*sub, 2), (std::vector<uint64_t>{2, 3}));
}

TEST_F(SubscriptionHubTest, WakeIsCalledOnceUntilTaken) {
  StartHub();
  std::atomic<int> wakes{0};
  auto sub = hub_->Subscribe(1, [&] { ++wakes; });
  ASSERT_TRUE(hub_->Join(sub.get(), 1));
  AppendCounts(1, 3);
  WaitPublished(4);
  AppendCounts(4, 5);
  WaitPublished(6);
  EXPECT_EQ(wakes.load(), 1);
  EXPECT_EQ(sub->Take(100).frames.size(), 5u);
  AppendCounts(6, 6);
  WaitPublished(7);
  EXPECT_EQ(wakes.load(), 2);
}

TEST_F(SubscriptionHubTest, SubscriberTooFarBehindIsFlaggedAndItsQueueEmptied) {
  StartHub(/*queue_limit=*/3);
  auto slow = hub_->Subscribe(1, nullptr);
  auto fast = hub_->Subscribe(1, nullptr);
  ASSERT_TRUE(hub_->Join(slow.get(), 1));
  ASSERT_TRUE(hub_->Join(fast.get(), 1));
  AppendCounts(1, 2);  // 2..3
  EXPECT_EQ(TakeSeqs(*fast, 2), (std::vector<uint64_t>{2, 3}));
  AppendCounts(3, 4);  // 4..5: slow now holds 4 > 3 frames
  EXPECT_EQ(TakeSeqs(*fast, 2), (std::vector<uint64_t>{4, 5}));
  Subscription::Taken taken = slow->Take(100);
  EXPECT_TRUE(taken.overflowed);
  EXPECT_TRUE(taken.frames.empty());
  EXPECT_FALSE(fast->Take(100).overflowed);
}

TEST_F(SubscriptionHubTest, StopClosesEverySubscriptionIncludingLaterOnes) {
  StartHub();
  auto live = hub_->Subscribe(1, nullptr);
  ASSERT_TRUE(hub_->Join(live.get(), 1));
  auto catching_up = hub_->Subscribe(0, nullptr);
  hub_->Stop();
  EXPECT_TRUE(live->Take(10).closed);
  EXPECT_TRUE(catching_up->closed());
  EXPECT_TRUE(hub_->Subscribe(1, nullptr)->closed());
}

TEST_F(SubscriptionHubTest, UnsubscribedSubscriberGetsNothingMore) {
  StartHub();
  auto sub = hub_->Subscribe(1, nullptr);
  ASSERT_TRUE(hub_->Join(sub.get(), 1));
  EXPECT_EQ(hub_->subscribers(), 1u);
  hub_->Unsubscribe(sub.get());
  EXPECT_EQ(hub_->subscribers(), 0u);
  AppendCounts(1, 1);
  WaitPublished(2);
  EXPECT_TRUE(sub->Take(10).frames.empty());
}

}  // namespace
}  // namespace twinline::server
