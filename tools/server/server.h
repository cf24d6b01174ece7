// Server: `twinline serve`, an HTTP/1.1 server (Boost.Beast on Boost.Asio)
// over one EventLog. The endpoints are routes.h's; this is the plumbing:
// listening, connections, limits, timeouts, the SSE stream and shutdown.
//
// What a Server promises:
//  * Safe by default. It listens where told (the verb's default is
//    127.0.0.1). A writable server on a non-loopback address must have a
//    token (auth.h): Start refuses otherwise.
//  * Limits. A request's header block may be at most max_header_bytes (else
//    431) and its body at most max_body_bytes (else 413, checked against
//    Content-Length before the body is read); both answers close the
//    connection. Malformed HTTP gets 400 and a close. At most
//    max_connections connections are open at once (SSE streams included);
//    one more is answered 503 and closed at once.
//  * Timeouts. A kept-alive connection may wait idle_timeout for its next
//    request; once a request's first bytes arrive, all of it must arrive
//    within read_timeout; each write must complete within write_timeout
//    (a reader that stopped reading is cut off). A timeout closes the
//    connection.
//  * Concurrency. `threads` I/O threads run every connection; a read is
//    answered on the I/O thread that received it, in its own LMDB read
//    transaction, so reads run in parallel (the log is opened with
//    MDB_NOTLS: a read transaction is not tied to its thread). Appends go to
//    one GroupCommitter thread (group_commit.h). Each connection has one
//    request in flight at a time (HTTP/1.1 without pipelining in parallel).
//  * Subscriptions (GET /v1/subscribe). Server-Sent Events: "id: SEQ",
//    "event: event", "data: <the event's JSON>"; a ": heartbeat" comment
//    after `heartbeat` without traffic; "event: overflow" when the client
//    fell more than sse_queue events behind and "event: shutdown" when the
//    server stops, both with data {"resume_after": SEQ, "message": ...} and
//    followed by the end of the stream. A stream's kernel send buffer is
//    kept small (64 KiB), so a stalled client shows up as a full queue
//    soon. Ordering and the catch-up/live hand-over are SubscriptionHub's
//    (subscriptions.h); appends by other processes are seen within
//    poll_interval.
//  * Shutdown. Shutdown() (thread-safe, returns at once) stops accepting,
//    closes idle connections, lets requests already being read or handled
//    finish (their connections then close), and gives every subscriber its
//    final event. Wait() returns once every connection has closed, or
//    shutdown_grace after Shutdown() (the rest are then cut off), and after
//    the writer has answered every batch it was given.
//  * Every request is logged at info level: peer, method, target, status,
//    duration (a stream: when it ends, with the events sent).
#ifndef TWINLINE_TOOLS_SERVER_SERVER_H_
#define TWINLINE_TOOLS_SERVER_SERVER_H_

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/event_log.h"
#include "core/status.h"

namespace spdlog {
class logger;
}

namespace twinline::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an IP address (v4 or v6)
  uint16_t port = 8080;            // 0: any free port (see Server::endpoint)
  unsigned threads = 0;            // I/O threads; 0: one per core
  bool read_only = false;          // refuse every write (403)
  std::string token;               // bearer token for writes; empty: none
  size_t max_body_bytes = size_t{8} << 20;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_connections = 256;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds heartbeat{15'000};
  std::chrono::milliseconds poll_interval{25};
  size_t sse_queue = 1024;  // frames a live subscriber may lag behind
  // Steps a GET /v1/replay time series may have; each is one replay on an
  // I/O thread (at most api::kMaxSeriesSteps, the CLI's own limit).
  size_t max_series_steps = 240;
  // --cors-origin: an origin whose pages may call the API (CORS); empty: none.
  std::string cors_origin;
  std::chrono::milliseconds shutdown_grace{10'000};
  // A read replica (`serve --follow`): read_only with this reason in the 403.
  std::string read_only_reason;
  // Replication's state for /v1/health (routes.h, RouteOptions).
  std::function<std::string()> replication_health;
};

class Server {
 public:
  // Binds, listens and starts the threads. `log` is borrowed and must
  // outlive the Server; it must be writable unless options.read_only.
  static Status Start(EventLog* log, const ServerOptions& options,
                      std::shared_ptr<spdlog::logger> logger, std::unique_ptr<Server>* out);
  ~Server();  // Shutdown(), then Wait()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The address actually bound (the port chosen when options.port was 0).
  boost::asio::ip::tcp::endpoint endpoint() const;

  void Shutdown();
  void Wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_SERVER_H_
