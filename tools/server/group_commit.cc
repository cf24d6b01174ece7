#include "tools/server/group_commit.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace twinline::server {

GroupCommitter::GroupCommitter(AppendGroupFn append_group, const Options& options,
                               OnCommit on_commit, std::shared_ptr<spdlog::logger> logger)
    : append_group_(std::move(append_group)),
      options_(options),
      on_commit_(std::move(on_commit)),
      logger_(std::move(logger)),
      thread_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() { Stop(); }

bool GroupCommitter::Submit(std::vector<PendingEvent> batch, const AppendOptions& options,
                            Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    queue_.push_back(Pending{std::move(batch), options, std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void GroupCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

GroupCommitter::Counters GroupCommitter::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void GroupCommitter::Run() {
  for (;;) {
    std::vector<Pending> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is answered
      // Whatever has queued while the previous group was being written goes
      // into this one: under load, groups grow by themselves, and an append
      // on an idle server waits for no one.
      size_t events = 0;
      while (!queue_.empty() && group.size() < options_.max_group_batches) {
        const size_t n = queue_.front().batch.size();
        if (!group.empty() && events + n > options_.max_group_events) break;
        events += n;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
  }
}

void GroupCommitter::CommitGroup(std::vector<Pending>& group) {
  std::vector<EventLog::GroupItem> items(group.size());
  size_t events = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    events += group[i].batch.size();
    items[i].batch = std::move(group[i].batch);
    items[i].options = group[i].options;
  }
  const auto start = std::chrono::steady_clock::now();
  Status group_status = append_group_(&items);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  uint64_t last_seq = 0;
  bool wrote = false;
  for (const auto& item : items) {
    if (!group_status.ok() || !item.status.ok()) continue;
    last_seq = std::max(last_seq, item.result.last_seq);
    wrote = wrote || item.result.appended + item.result.corroborated > 0;
  }
  if (logger_) {
    if (group_status.ok()) {
      logger_->debug("group commit: {} batches, {} events, {:.2f} ms, log at seq {}", items.size(),
                     events, ms, last_seq);
    } else {
      logger_->error("group commit of {} batches failed: {}", items.size(), group_status.ToString());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.groups;
    counters_.batches += items.size();
  }
  if (wrote && on_commit_) on_commit_(last_seq);
  for (size_t i = 0; i < group.size(); ++i) {
    const Status& s = group_status.ok() ? items[i].status : group_status;
    group[i].done(s, s.ok() ? std::move(items[i].result) : AppendResult());
  }
}

}  // namespace twinline::server
