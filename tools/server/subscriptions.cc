#include "tools/server/subscriptions.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "events/json_codec.h"
#include "tools/api/json_views.h"

namespace twinline::server {

FramePtr RenderFrame(schema::Event::Reader ev) {
  auto frame = std::make_shared<Frame>();
  frame->seq = ev.getSeq();
  frame->text = "id: " + std::to_string(frame->seq) +
                "\nevent: event\ndata: " + api::DumpJson(EncodeEvent(ev)) + "\n\n";
  return frame;
}

// ---------------------------------------------------------------------------
// Subscription

Subscription::Subscription(uint64_t after, size_t queue_limit, std::function<void()> wake)
    : queue_limit_(queue_limit), wake_(std::move(wake)), after_(after) {}

Subscription::Taken Subscription::Take(size_t max_frames) {
  std::lock_guard<std::mutex> lock(mu_);
  Taken taken;
  const size_t n = std::min(max_frames, queue_.size());
  taken.frames.assign(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  taken.overflowed = overflowed_;
  taken.closed = closed_;
  wake_pending_ = false;
  return taken;
}

bool Subscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void Subscription::Offer(const FramePtr& frame) {
  std::lock_guard<std::mutex> lock(mu_);
  if (overflowed_ || closed_) return;
  if (queue_.size() >= queue_limit_) {
    // Too far behind: what is queued will not be sent; the client resumes
    // from the last event it received.
    overflowed_ = true;
    queue_.clear();
  } else {
    queue_.push_back(frame);
  }
  WakeLocked();
}

void Subscription::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  WakeLocked();
}

void Subscription::WakeLocked() {
  if (wake_pending_) return;
  wake_pending_ = true;
  if (wake_) wake_();
}

// ---------------------------------------------------------------------------
// SubscriptionHub

SubscriptionHub::SubscriptionHub(const EventLog* log, const Options& options,
                                 std::shared_ptr<spdlog::logger> logger)
    : log_(log), options_(options), logger_(std::move(logger)) {}

SubscriptionHub::~SubscriptionHub() { Stop(); }

Status SubscriptionHub::Start() {
  std::unique_ptr<ReadTxn> txn;
  TWINLINE_RETURN_IF_ERROR(log_->BeginRead(&txn));
  {
    std::lock_guard<std::mutex> lock(mu_);
    published_ = txn->LastSeq();
  }
  watcher_ = std::thread([this] { Watch(); });
  return Status::Ok();
}

void SubscriptionHub::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  wake_.notify_one();
}

void SubscriptionHub::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [ptr, sub] : subs_) sub->Close();
}

uint64_t SubscriptionHub::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

size_t SubscriptionHub::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

std::shared_ptr<Subscription> SubscriptionHub::Subscribe(uint64_t after,
                                                         std::function<void()> wake) {
  auto sub = std::make_shared<Subscription>(after, options_.queue_limit, std::move(wake));
  std::lock_guard<std::mutex> lock(mu_);
  subs_.emplace(sub.get(), sub);
  if (stopping_) sub->Close();
  return sub;
}

Status SubscriptionHub::ReadFrames(uint64_t after, size_t max,
                                   std::vector<FramePtr>* frames) const {
  frames->clear();
  const uint64_t published = this->published();
  if (after >= published || max == 0) return Status::Ok();
  const uint64_t upto = std::min(published, after + max);
  std::unique_ptr<ReadTxn> txn;
  TWINLINE_RETURN_IF_ERROR(log_->BeginRead(&txn));
  return txn->Scan(after + 1, upto, [&](schema::Event::Reader ev) {
    frames->push_back(RenderFrame(ev));
    return true;
  });
}

bool SubscriptionHub::Join(Subscription* sub, uint64_t delivered) {
  std::lock_guard<std::mutex> lock(mu_);
  if (delivered < published_) return false;
  auto it = subs_.find(sub);
  if (it == subs_.end()) return false;
  if (!sub->live_) {
    sub->live_ = true;
    ++live_count_;
  }
  // delivered > published_ happens when a client resumes from an event it
  // got from another server on the same database before this hub saw it.
  sub->after_ = delivered;
  return true;
}

void SubscriptionHub::Unsubscribe(Subscription* sub) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subs_.find(sub);
  if (it == subs_.end()) return;
  if (sub->live_) --live_count_;
  subs_.erase(it);
}

void SubscriptionHub::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || notified_; });
    if (stopping_) break;
    notified_ = false;
    lock.unlock();
    // A cheap read transaction: begin, read the last key, end.
    uint64_t last = 0;
    Status s;
    {
      std::unique_ptr<ReadTxn> txn;
      s = log_->BeginRead(&txn);
      if (s.ok()) last = txn->LastSeq();
    }
    if (s.ok()) s = Advance(last);
    if (!s.ok() && logger_) logger_->error("subscriptions: reading the log failed: {}", s.ToString());
    lock.lock();
  }
}

// Offers the events in (published_, last] to the live subscribers, chunk by
// chunk, advancing published_ with each chunk under the lock Join takes.
// Nobody live: nothing to render, published_ jumps to `last`.
Status SubscriptionHub::Advance(uint64_t last) {
  std::vector<FramePtr> frames;
  uint64_t rendered_from = 0, rendered_upto = 0;  // frames hold (rendered_from, rendered_upto]
  for (;;) {
    uint64_t from = 0, upto = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (published_ >= last || stopping_) return Status::Ok();
      from = published_;
      upto = std::min(last, from + options_.chunk);
      if (live_count_ == 0) {
        published_ = last;
        return Status::Ok();
      }
      if (rendered_from == from && rendered_upto == upto) {
        for (auto& [ptr, sub] : subs_) {
          if (!sub->live_) continue;
          for (const FramePtr& f : frames) {
            if (f->seq > sub->after_) sub->Offer(f);
          }
        }
        published_ = upto;  // only this thread writes it
        continue;
      }
    }
    // Render outside the lock, then offer (above).
    frames.clear();
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(log_->BeginRead(&txn));
    TWINLINE_RETURN_IF_ERROR(txn->Scan(from + 1, upto, [&](schema::Event::Reader ev) {
      frames.push_back(RenderFrame(ev));
      return true;
    }));
    rendered_from = from;
    rendered_upto = upto;
  }
}

}  // namespace twinline::server
