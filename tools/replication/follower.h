// Follower: a read replica's side of replication (`twinline follow`,
// `twinline serve --follow`). It builds a local log from a JetStream stream
// that a Replicator fills, and keeps it up to date (docs/REPLICATION.md).
//
// What a Follower promises:
//  * The same log. Each stream message N is appended as record N in restore
//    mode (its seq and recorded time kept, re-encoded canonically), so the
//    follower stores the primary's bytes, chain and indexes; every append
//    must end on the chain hash the message carries, or it writes nothing
//    (AppendOptions::expected_chain_head).
//  * Refusal. A stream that does not continue this log (it holds fewer
//    records, or its message at this log's last seq carries another chain
//    hash) is refused with kConflict before anything is written.
//  * A tampered message stops it. A message whose record does not hash to
//    the chain hash it carries, or that cannot be decoded, ends Run with
//    kCorruption naming the seq; every record before it is kept, nothing of
//    it is written, and the log stays valid (`twinline verify`).
//  * Transient failures (no server, a node killed, the consumer lost) are
//    retried: it resubscribes from its own last seq + 1.
//  * Batches: the messages that have arrived (up to `batch`) are appended
//    in one transaction, so a follower that fell behind catches up fast.
#ifndef TWINLINE_TOOLS_REPLICATION_FOLLOWER_H_
#define TWINLINE_TOOLS_REPLICATION_FOLLOWER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "tools/replication/jetstream.h"

namespace spdlog {
class logger;
}

namespace twinline::replication {

struct FollowerOptions {
  std::vector<std::string> servers;  // NATS URLs
  StreamSpec stream;
  size_t batch = 2000;  // records appended per transaction at most
  // Return once the log holds every record the stream held when it caught
  // up, instead of following until stopped.
  bool once = false;
};

struct FollowerProgress {
  uint64_t applied_seq = 0;  // the log's last seq
  uint64_t stream_seq = 0;   // the stream's last seq, as last seen
  // Primary's commit to this log's commit of the last record applied,
  // milliseconds (recorded time vs. this machine's clock).
  int64_t lag_ms = 0;
  std::string state;  // "connecting", "waiting for stream", "following", "retrying: ...", "stopped: ..."
  uint64_t behind() const { return stream_seq > applied_seq ? stream_seq - applied_seq : 0; }
};

class Follower {
 public:
  // `log` is borrowed, must outlive the Follower and be writable. Nothing
  // else should append to it while the Follower runs.
  Follower(EventLog* log, FollowerOptions options, std::shared_ptr<spdlog::logger> logger);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Follows until `stop` is set (Ok), until caught up with options.once
  // (Ok), or until a failure that retrying cannot mend (kConflict,
  // kCorruption, kVersion, a local write error).
  Status Run(const std::atomic<bool>& stop);

  FollowerProgress progress() const;  // thread-safe

 private:
  struct Pending;
  Status Session(Link& link, const std::atomic<bool>& stop);
  Status Start(Link& link, uint64_t* next, bool* done);
  Status Flush(Pending* pending);
  void Update(const std::function<void(FollowerProgress*)>& fn);

  EventLog* const log_;
  const FollowerOptions options_;
  const std::shared_ptr<spdlog::logger> logger_;
  mutable std::mutex mu_;
  FollowerProgress progress_;
};

}  // namespace twinline::replication

#endif  // TWINLINE_TOOLS_REPLICATION_FOLLOWER_H_
