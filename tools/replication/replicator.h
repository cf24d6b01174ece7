// Replicator: the primary's side of replication (`twinline replicate`,
// `twinline serve --replicate`). It tails the local log and publishes every
// record, in seq order, to a JetStream stream (docs/REPLICATION.md).
//
// What a Replicator promises:
//  * Order and exactly once. Record N is stream message N. Each publish
//    carries the message id "<seq>-<chain hash>" (JetStream drops a repeat
//    within the stream's duplicate window) and expects the stream's last
//    sequence to be N-1 (JetStream refuses it otherwise), so a retry, a
//    restart or a second publisher can neither duplicate nor reorder a
//    record, nor leave a gap.
//  * Resumable. On start, and after any failed publish, it reads what the
//    stream holds (its last sequence S), checks that the stream's message S
//    carries the chain hash this log has at S, and publishes from S+1. A
//    crash (SIGKILL) at any moment loses nothing: the stream is the record
//    of what was published.
//  * Safe against a second primary. A stream that holds more records than
//    this log, or whose chain differs from this log's, is refused
//    (kConflict): another log is being published to it.
//  * Transient failures are retried: no NATS server reachable, a publish
//    not acknowledged in time, a stream with no leader while a node is
//    down. Each is logged at warn level once per episode.
//  * Throughput: up to `window` publishes are in flight at once (async
//    publish), each still checked against the expected last sequence.
#ifndef TWINLINE_TOOLS_REPLICATION_REPLICATOR_H_
#define TWINLINE_TOOLS_REPLICATION_REPLICATOR_H_

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

struct ReplicatorOptions {
  std::vector<std::string> servers;  // NATS URLs
  StreamSpec stream;
  size_t window = 1024;              // publishes in flight at most
  std::chrono::milliseconds poll_interval{10};  // how often an idle replicator looks at the log
  std::chrono::milliseconds ack_timeout{5000};  // a publish not acknowledged by then is retried
  // Return once the stream holds every record the log had when it caught
  // up, instead of tailing the log until stopped; a NATS failure is then an
  // error instead of being retried.
  bool once = false;
};

struct ReplicatorProgress {
  uint64_t stream_seq = 0;  // the stream's last acknowledged record
  uint64_t local_seq = 0;   // the log's last seq, when last looked at
  uint64_t resyncs = 0;     // times it re-read the stream after a failure
  std::string state;        // "connecting", "publishing", "idle", "retrying: ...", "stopped: ..."
};

class Replicator {
 public:
  // `log` is borrowed and must outlive the Replicator.
  Replicator(const EventLog* log, ReplicatorOptions options, std::shared_ptr<spdlog::logger> logger);
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Publishes until `stop` is set (then returns Ok once the publishes in
  // flight are answered), until caught up with options.once, or until a
  // failure that retrying cannot mend (a diverged stream, an unreadable log).
  Status Run(const std::atomic<bool>& stop);

  ReplicatorProgress progress() const;  // thread-safe

  // What cnats's ack handler reports from its own thread (replicator.cc;
  // public only so that the C callback may name it).
  struct Acks;

 private:
  Status Session(Link& link, const std::atomic<bool>& stop);
  Status Resync(Link& link, uint64_t* next);
  void Drain(Link& link);
  void SetState(std::string state);

  const EventLog* const log_;
  const ReplicatorOptions options_;
  const std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<Acks> acks_;
  mutable std::mutex mu_;
  ReplicatorProgress progress_;
};

}  // namespace twinline::replication

#endif  // TWINLINE_TOOLS_REPLICATION_REPLICATOR_H_
