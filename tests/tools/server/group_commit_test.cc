// GroupCommitter: batches that queue up while a group is being written go
// into the next group together; every caller is answered once, in order,
// with its own outcome; Stop answers everything queued first.
#include "tools/server/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace twinline::server {
namespace {

using namespace std::chrono_literals;

PendingEvent Event() { return std::make_unique<capnp::MallocMessageBuilder>(); }

std::vector<PendingEvent> Batch(size_t n) {
  std::vector<PendingEvent> batch;
  for (size_t i = 0; i < n; ++i) batch.push_back(Event());
  return batch;
}

// A stand-in for EventLog::AppendGroup that records each group's shape and
// can hold the first call until released.
class FakeLog {
 public:
  Status AppendGroup(std::vector<EventLog::GroupItem>* items) {
    std::unique_lock<std::mutex> lock(mu_);
    groups_.push_back({});
    for (auto& item : *items) {
      groups_.back().push_back(item.batch.size());
      if (item.options.expected_last_seq && *item.options.expected_last_seq != last_seq_) {
        item.status = Status::Conflict("log at seq " + std::to_string(last_seq_));
        continue;
      }
      last_seq_ += item.batch.size();
      item.result.last_seq = last_seq_;
      item.result.appended = item.batch.size();
    }
    entered_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
    return group_status_;
  }

  void Hold() { hold_ = true; }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = false;
    changed_.notify_all();
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(changed_.wait_for(lock, 5s, [&] { return entered_; }));
  }
  void FailGroups(Status s) { group_status_ = std::move(s); }
  std::vector<std::vector<size_t>> groups() {
    std::lock_guard<std::mutex> lock(mu_);
    return groups_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool hold_ = false, entered_ = false;
  uint64_t last_seq_ = 0;
  Status group_status_;
  std::vector<std::vector<size_t>> groups_;
};

struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<int, Status>> got;  // (caller, status)
  std::vector<uint64_t> last_seqs;

  GroupCommitter::Done For(int caller) {
    return [this, caller](const Status& s, AppendResult r) {
      std::lock_guard<std::mutex> lock(mu);
      got.emplace_back(caller, s);
      last_seqs.push_back(r.last_seq);
      cv.notify_all();
    };
  }
  void WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return got.size() >= n; }));
  }
};

GroupCommitter::AppendGroupFn Appender(FakeLog* log) {
  return [log](std::vector<EventLog::GroupItem>* items) { return log->AppendGroup(items); };
}

TEST(GroupCommitterTest, BatchesQueuedDuringACommitShareTheNextGroup) {
  FakeLog log;
  log.Hold();
  Answers answers;
  std::atomic<int> commits{0};
  GroupCommitter committer(Appender(&log), {}, [&](uint64_t) { ++commits; }, nullptr);
  ASSERT_TRUE(committer.Submit(Batch(1), {}, answers.For(0)));
  log.WaitEntered();  // the first group is being written...
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(committer.Submit(Batch(2), {}, answers.For(i)));
  log.Release();  // ...and the five that queued meanwhile go together
  answers.WaitFor(6);

  EXPECT_EQ(log.groups(), (std::vector<std::vector<size_t>>{{1}, {2, 2, 2, 2, 2}}));
  std::lock_guard<std::mutex> lock(answers.mu);
  for (int i = 0; i <= 5; ++i) {
    EXPECT_EQ(answers.got[i].first, i);  // answered in submission order
    EXPECT_TRUE(answers.got[i].second.ok());
  }
  EXPECT_EQ(answers.last_seqs, (std::vector<uint64_t>{1, 3, 5, 7, 9, 11}));
  EXPECT_EQ(commits.load(), 2);
  EXPECT_EQ(committer.counters().groups, 2u);
  EXPECT_EQ(committer.counters().batches, 6u);
}

TEST(GroupCommitterTest, EachBatchGetsItsOwnOutcome) {
  FakeLog log;
  log.Hold();
  Answers answers;
  GroupCommitter committer(Appender(&log), {}, nullptr, nullptr);
  ASSERT_TRUE(committer.Submit(Batch(1), {}, answers.For(0)));
  log.WaitEntered();
  AppendOptions stale;
  stale.expected_last_seq = 0;  // the first batch moves the log to seq 1
  ASSERT_TRUE(committer.Submit(Batch(1), stale, answers.For(1)));
  ASSERT_TRUE(committer.Submit(Batch(1), {}, answers.For(2)));
  log.Release();
  answers.WaitFor(3);
  std::lock_guard<std::mutex> lock(answers.mu);
  EXPECT_TRUE(answers.got[0].second.ok());
  EXPECT_EQ(answers.got[1].second.code(), Status::Code::kConflict);
  EXPECT_TRUE(answers.got[2].second.ok());
}

TEST(GroupCommitterTest, AFailedGroupIsEveryBatchsAnswer) {
  FakeLog log;
  log.FailGroups(Status::IOError("disk gone"));
  Answers answers;
  GroupCommitter committer(Appender(&log), {}, nullptr, nullptr);
  ASSERT_TRUE(committer.Submit(Batch(1), {}, answers.For(0)));
  answers.WaitFor(1);
  std::lock_guard<std::mutex> lock(answers.mu);
  EXPECT_EQ(answers.got[0].second.code(), Status::Code::kIOError);
  EXPECT_EQ(answers.last_seqs[0], 0u);
}

TEST(GroupCommitterTest, GroupsStayWithinTheEventLimit) {
  FakeLog log;
  log.Hold();
  Answers answers;
  GroupCommitter::Options options;
  options.max_group_events = 5;
  GroupCommitter committer(Appender(&log), options, nullptr, nullptr);
  ASSERT_TRUE(committer.Submit(Batch(1), {}, answers.For(0)));
  log.WaitEntered();
  ASSERT_TRUE(committer.Submit(Batch(3), {}, answers.For(1)));
  ASSERT_TRUE(committer.Submit(Batch(3), {}, answers.For(2)));
  ASSERT_TRUE(committer.Submit(Batch(9), {}, answers.For(3)));  // alone: bigger than the limit
  log.Release();
  answers.WaitFor(4);
  EXPECT_EQ(log.groups(), (std::vector<std::vector<size_t>>{{1}, {3}, {3}, {9}}));
}

TEST(GroupCommitterTest, StopAnswersEverythingQueuedThenRefuses) {
  FakeLog log;
  log.Hold();
  Answers answers;
  GroupCommitter committer(Appender(&log), {}, nullptr, nullptr);
  ASSERT_TRUE(committer.Submit(Batch(1), {}, answers.For(0)));
  log.WaitEntered();
  ASSERT_TRUE(committer.Submit(Batch(1), {}, answers.For(1)));
  std::thread stopper([&] { committer.Stop(); });
  std::this_thread::sleep_for(20ms);  // Stop is waiting on the held group
  log.Release();
  stopper.join();
  {
    std::lock_guard<std::mutex> lock(answers.mu);
    EXPECT_EQ(answers.got.size(), 2u);
  }
  EXPECT_FALSE(committer.Submit(Batch(1), {}, answers.For(2)));
}

}  // namespace
}  // namespace twinline::server
