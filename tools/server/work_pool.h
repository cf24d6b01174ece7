// WorkPool: a fixed set of threads running jobs from a bounded queue. The
// server runs its heavy requests (replay, diff, statistics: work that grows
// with the log) here, so that they never occupy an I/O thread and cheap
// requests, /v1/health first of all, are answered while they run.
//
// Contract:
//  * Submit takes a job unless `queue_limit` jobs are waiting already or
//    the pool is stopping: it returns false at once and never blocks (the
//    caller answers 503).
//  * Jobs start in submission order; up to `threads` run at once.
//  * Stop() takes no new jobs, lets the running and waiting ones finish,
//    then joins the threads. The destructor stops. Thread-safe.
//  * A job that throws is a bug: the exception is logged and the thread
//    goes on with the next job. Jobs must answer their callers themselves.
#ifndef TWINLINE_TOOLS_SERVER_WORK_POOL_H_
#define TWINLINE_TOOLS_SERVER_WORK_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace spdlog {
class logger;
}

namespace twinline::server {

class WorkPool {
 public:
  // `logger` may be null.
  WorkPool(size_t threads, size_t queue_limit, std::shared_ptr<spdlog::logger> logger);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  bool Submit(std::function<void()> job);
  void Stop();

  size_t threads() const { return threads_.size(); }
  size_t queue_limit() const { return queue_limit_; }
  // Jobs running or waiting now.
  size_t busy() const;

 private:
  void Run();

  const size_t queue_limit_;
  const std::shared_ptr<spdlog::logger> logger_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  size_t running_ = 0;                       // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::once_flag stopped_;
  std::vector<std::thread> threads_;  // set in the constructor, joined once by Stop
};

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_WORK_POOL_H_
