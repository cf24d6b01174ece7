// JetStream: the small part of cnats (libnats-dev, the NATS C client) that
// replication uses, behind RAII types and Status values. One Link is one
// NATS connection and its JetStream context; the stream a log is replicated
// to is described by StreamSpec, and its records by record_message.h.
//
// Contract:
//  * Errors are values. Every cnats failure becomes a Status naming what was
//    attempted, the servers and cnats's (or the JetStream API's) own words:
//    kIOError for the network and the cluster (no servers, timeouts, no
//    quorum), kNotFound for a missing stream or message, kConflict for a
//    publish whose expected last sequence the stream no longer has.
//  * Reconnection. A Link reconnects by itself (cnats's reconnect, to any
//    server of the list, forever, every 250 ms): a killed NATS node costs
//    the requests in flight, which fail with kIOError and are retried by the
//    caller, never silently.
//  * Ownership. A Link owns its connection and context; messages (Msg) own
//    their natsMsg. A Link is used by one thread at a time, except that
//    cnats calls an async publish's ack handler on its own thread.
#ifndef TWINLINE_TOOLS_REPLICATION_JETSTREAM_H_
#define TWINLINE_TOOLS_REPLICATION_JETSTREAM_H_

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace twinline::replication {

// The stream a log is replicated to: one subject, one record per message,
// stream sequence = record seq (docs/REPLICATION.md).
struct StreamSpec {
  std::string name = "TWINLINE";
  int replicas = 3;
  // "twinline.<name>": the only subject of the stream.
  std::string Subject() const { return "twinline." + name; }
};

// Splits "nats://a:4222,nats://b:4223" (or "a:4222,b:4223") into URLs;
// kInvalidArgument (field `field`) for an empty list or an empty element.
Status ParseServers(std::string_view text, std::string_view field, std::vector<std::string>* urls);

// A received or fetched NATS message.
class Msg {
 public:
  Msg() = default;
  explicit Msg(natsMsg* msg) : msg_(msg) {}
  ~Msg() { natsMsg_Destroy(msg_); }
  Msg(Msg&& other) noexcept : msg_(other.msg_) { other.msg_ = nullptr; }
  Msg& operator=(Msg&& other) noexcept;
  Msg(const Msg&) = delete;
  Msg& operator=(const Msg&) = delete;

  natsMsg* get() const { return msg_; }
  natsMsg** out() { return &msg_; }  // for cnats calls that create one
  std::string_view Data() const;
  // The header's value, or "" when the message has no such header.
  std::string Header(const char* key) const;

 private:
  natsMsg* msg_ = nullptr;
};

// The stream's state as the cluster reports it.
struct StreamState {
  uint64_t messages = 0, first_seq = 0, last_seq = 0;
  int64_t replicas = 0;
  std::vector<std::string> subjects;
  std::string leader;  // the Raft leader's server name, when clustered
};

class Link {
 public:
  // Connects to any of `urls` (waiting up to connect_timeout_ms for the first
  // connection) and opens a JetStream context whose API requests wait up to
  // request_timeout_ms. `name` is the connection's name in the server's logs.
  static Status Connect(const std::vector<std::string>& urls, const std::string& name,
                        int64_t connect_timeout_ms, int64_t request_timeout_ms,
                        const jsOptions* publish_async, std::unique_ptr<Link>* out);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // The stream's state; kNotFound when it does not exist.
  Status Info(const StreamSpec& spec, StreamState* state);
  // Creates the stream if it does not exist (file storage, spec.replicas
  // replicas, deletes and purges denied, 2 min duplicate window), and
  // checks that an existing one has spec's subject.
  Status Ensure(const StreamSpec& spec, StreamState* state);
  // The stream's message at `seq` (kNotFound when there is none).
  Status Get(const StreamSpec& spec, uint64_t seq, Msg* msg);

  // A subscription that delivers the stream's messages from `start_seq` on,
  // in order (a JetStream ordered consumer: ephemeral, no acks, flow
  // control and heartbeats).
  Status Subscribe(const StreamSpec& spec, uint64_t start_seq, natsSubscription** sub);

  jsCtx* js() const { return js_; }
  natsConnection* connection() const { return nc_; }
  const std::string& servers() const { return servers_; }

 private:
  Link() = default;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::string servers_;  // for messages
  int64_t request_timeout_ms_ = 5000;
};

// A Status for a failed cnats call: `what` ("publishing seq 7 to TWINLINE"),
// cnats's text, and the JetStream error code when there is one.
Status NatsStatus(natsStatus s, jsErrCode code, const std::string& what);

}  // namespace twinline::replication

#endif  // TWINLINE_TOOLS_REPLICATION_JETSTREAM_H_
