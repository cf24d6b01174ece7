// GroupCommitter: the server's single writer. Request handlers hand it
// decoded batches; one thread takes whatever has queued up and appends it
// with one call of the group appender (EventLog::AppendGroup in the
// server): ONE durable LMDB write transaction, so one fsync, for many small
// appends, each batch still landing whole or not at all on its own, exactly
// as if it had been appended alone at that point in the log.
//
// Contract:
//  * Submit queues a batch and returns at once; `done` is called exactly
//    once, on the writer thread, after the transaction holding the batch has
//    committed (durable) or failed. It receives the batch's own Status (a
//    validation error naming index(), kConflict on expected_last_seq) or the
//    group's when the group as a whole could not commit. `done` must not
//    block: post the reply to the connection's executor.
//  * Batches are appended in Submit order; a group holds at most
//    max_group_batches batches and, unless a single batch is larger,
//    max_group_events events.
//  * `on_commit(last_seq)` runs on the writer thread after each group that
//    wrote something, before the `done` callbacks (the subscription hub
//    looks at the log at once instead of at its next poll).
//  * Stop() refuses new batches (Submit returns false and does not call
//    `done`), finishes every batch already queued, and joins the thread.
//    The destructor calls Stop().
//  * The queue is not bounded here: each connection has at most one request
//    in flight, so the server's connection cap bounds it.
#ifndef TWINLINE_TOOLS_SERVER_GROUP_COMMIT_H_
#define TWINLINE_TOOLS_SERVER_GROUP_COMMIT_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"

namespace spdlog {
class logger;
}

namespace twinline::server {

class GroupCommitter {
 public:
  // Appends a group in one durable transaction (EventLog::AppendGroup's
  // contract); behind a function so tests can watch how batches are grouped.
  using AppendGroupFn = std::function<Status(std::vector<EventLog::GroupItem>* items)>;
  using Done = std::function<void(const Status& status, AppendResult result)>;
  using OnCommit = std::function<void(uint64_t last_seq)>;

  struct Options {
    size_t max_group_batches = 256;
    size_t max_group_events = 10000;
  };

  struct Counters {
    uint64_t groups = 0;   // transactions committed (or attempted)
    uint64_t batches = 0;  // batches answered
  };

  GroupCommitter(AppendGroupFn append_group, const Options& options, OnCommit on_commit,
                 std::shared_ptr<spdlog::logger> logger);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  bool Submit(std::vector<PendingEvent> batch, const AppendOptions& options, Done done);
  void Stop();
  Counters counters() const;

 private:
  struct Pending {
    std::vector<PendingEvent> batch;
    AppendOptions options;
    Done done;
  };

  void Run();
  void CommitGroup(std::vector<Pending>& group);

  const AppendGroupFn append_group_;
  const Options options_;
  const OnCommit on_commit_;
  const std::shared_ptr<spdlog::logger> logger_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  Counters counters_;          // guarded by mu_
  std::thread thread_;         // last: started once the rest is built
};

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_GROUP_COMMIT_H_
