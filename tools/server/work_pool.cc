#include "tools/server/work_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace twinline::server {

WorkPool::WorkPool(size_t threads, size_t queue_limit, std::shared_ptr<spdlog::logger> logger)
    : queue_limit_(queue_limit), logger_(std::move(logger)) {
  threads = std::max<size_t>(threads, 1);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkPool::~WorkPool() { Stop(); }

bool WorkPool::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void WorkPool::Stop() {
  std::call_once(stopped_, [this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  });
}

size_t WorkPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_ + queue_.size();
}

void WorkPool::Run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      job();
    } catch (const std::exception& e) {
      if (logger_) logger_->error("internal error in a heavy request: {}", e.what());
    }
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
}

}  // namespace twinline::server
