// The live side of `GET /v1/subscribe`: a hub that watches the log and hands
// each new event, rendered once as a Server-Sent Events frame, to every
// subscriber, without ever waiting on one.
//
// Delivery promise (per subscriber): the events with seq > `after`, in seq
// order, with no gap and no repeat, until the subscriber stops, falls too far
// behind (overflow) or the hub stops (shutdown). It is kept in two phases:
//  1. Catch-up. The subscriber's connection reads frames from the log itself
//     (ReadFrames, in chunks, each after the previous one was written), so a
//     subscriber starting far back costs one chunk of memory, not a queue.
//     ReadFrames never goes past published(), the last seq the hub has
//     handed out.
//  2. Live. Once it has delivered everything up to published(), Join puts
//     it in the live set, under the same lock the hub holds while it offers
//     new frames and advances published(); every frame after that arrives
//     in its queue. Join refuses (catch up more) if the hub moved on.
//
// Watching: a thread polls the log's last seq every `poll_interval` with a
// cheap read transaction, so appends by OTHER processes on the same
// database are seen; Notify() makes it look at once (the server's own
// appends). A jump is read and rendered in chunks of `chunk` events, and
// only when someone subscribes.
//
// Bounds: a live subscriber's queue holds at most `queue_limit` frames that
// its connection has not taken yet. When a frame would not fit, the queue is
// emptied and the subscription marked overflowed: the connection tells the
// client the last seq it delivered and closes; the client resumes from there
// (Last-Event-ID). Offering never blocks and never allocates per subscriber
// beyond a pointer: frames are shared.
//
// Threads: all methods are thread-safe. `wake`, given to Subscribe, is
// called (from the watcher thread or Stop's caller, with internal locks
// held) when a subscription's queue goes from empty to non-empty or it
// overflows or closes; it must only schedule work (post to an executor).
#ifndef TWINLINE_TOOLS_SERVER_SUBSCRIPTIONS_H_
#define TWINLINE_TOOLS_SERVER_SUBSCRIPTIONS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace spdlog {
class logger;
}

namespace twinline::server {

// One event as an SSE message: "id: SEQ\nevent: event\ndata: JSON\n\n", the
// JSON being the event exactly as `twinline log --format json` and `export`
// render it (EncodeEvent), on one line.
struct Frame {
  uint64_t seq = 0;
  std::string text;
};
using FramePtr = std::shared_ptr<const Frame>;

FramePtr RenderFrame(schema::Event::Reader ev);

class SubscriptionHub;

// One subscriber's queue; shared by the hub and the subscriber's connection.
class Subscription {
 public:
  Subscription(uint64_t after, size_t queue_limit, std::function<void()> wake);

  struct Taken {
    std::vector<FramePtr> frames;  // in seq order, all > everything taken before
    bool overflowed = false;       // fell behind: tell the client and close
    bool closed = false;           // the hub stopped: say goodbye and close
  };
  // Takes up to `max_frames` queued frames and the current flags.
  Taken Take(size_t max_frames);
  // Whether the hub has stopped (for a connection still catching up).
  bool closed() const;

 private:
  friend class SubscriptionHub;
  void Offer(const FramePtr& frame);  // hub lock held
  void Close();                       // hub lock held
  void WakeLocked();                  // mu_ held

  const size_t queue_limit_;
  const std::function<void()> wake_;
  uint64_t after_;  // guarded by the hub's lock: frames <= after_ are not offered
  bool live_ = false;  // guarded by the hub's lock

  mutable std::mutex mu_;
  std::deque<FramePtr> queue_;
  bool overflowed_ = false;
  bool closed_ = false;
  bool wake_pending_ = false;  // a wake was sent and not yet answered by Take
};

class SubscriptionHub {
 public:
  struct Options {
    std::chrono::milliseconds poll_interval{25};
    size_t queue_limit = 1024;
    size_t chunk = 256;
  };

  // `log` is borrowed and must outlive the hub.
  SubscriptionHub(const EventLog* log, const Options& options,
                  std::shared_ptr<spdlog::logger> logger);
  ~SubscriptionHub();  // Stop()
  SubscriptionHub(const SubscriptionHub&) = delete;
  SubscriptionHub& operator=(const SubscriptionHub&) = delete;

  // Reads the log's last seq (published() starts there) and starts watching.
  Status Start();
  void Notify();
  // Stops watching and closes every subscription (present and future).
  // Idempotent; not to be called from two threads at once.
  void Stop();

  uint64_t published() const;
  size_t subscribers() const;

  // Registers a subscriber that wants the events after `after` (catch-up
  // phase). After Stop the subscription comes back already closed.
  std::shared_ptr<Subscription> Subscribe(uint64_t after, std::function<void()> wake);
  // Frames of the events in (after, min(published(), after + max)], in order.
  Status ReadFrames(uint64_t after, size_t max, std::vector<FramePtr>* frames) const;
  // Moves `sub` to live delivery if `delivered` >= published(); its queue
  // then receives every frame with seq > delivered. False: read more first.
  bool Join(Subscription* sub, uint64_t delivered);
  void Unsubscribe(Subscription* sub);

 private:
  void Watch();
  Status Advance(uint64_t last);

  const EventLog* const log_;
  const Options options_;
  const std::shared_ptr<spdlog::logger> logger_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  uint64_t published_ = 0;  // guarded by mu_
  bool notified_ = false;   // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::unordered_map<Subscription*, std::shared_ptr<Subscription>> subs_;  // guarded by mu_
  size_t live_count_ = 0;                                                  // guarded by mu_
  std::thread watcher_;
};

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_SUBSCRIPTIONS_H_
