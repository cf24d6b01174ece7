// WorkPool: jobs run on the pool's threads, a full queue refuses at once,
// and Stop() finishes what was taken.
#include "tools/server/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace twinline::server {
namespace {

TEST(WorkPoolTest, AFullQueueRefusesAtOnceAndStopFinishesWhatWasTaken) {
  WorkPool pool(1, 2, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false, started = false;
  std::atomic<int> ran{0};
  auto blocker = [&] {
    std::unique_lock<std::mutex> lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    ++ran;
  };
  ASSERT_TRUE(pool.Submit(blocker));
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started; });  // the one thread is busy now
  }
  EXPECT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_EQ(pool.busy(), 3u);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.Submit([&] { ++ran; })) << "a third waiting job was taken";
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  pool.Stop();
  EXPECT_EQ(ran, 3);
  EXPECT_FALSE(pool.Submit([&] { ++ran; })) << "a stopped pool took a job";
}

TEST(WorkPoolTest, AThrowingJobDoesNotStopThePool) {
  WorkPool pool(2, 8, nullptr);
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([] { throw std::runtime_error("a bug"); }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  pool.Stop();
  EXPECT_EQ(ran, 5);
}

}  // namespace
}  // namespace twinline::server
