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
//    connection. Malformed HTTP gets 400 and a close.
//  * Framing (RFC 9112 §6): a request whose Transfer-Encoding does not end
//    in `chunked`, or that has both Transfer-Encoding and Content-Length, or
//    more than one Content-Length or Host, is answered 400 and the
//    connection closed (its body can no longer be told from a next
//    request); a transfer coding other than `chunked` is 501. More than one
//    Authorization header is 400 (sessions.cc, Screen).
//  * Writes are judged from their headers (auth.h, AuthorizeWrite): without
//    the token, or on a read-only server, a request with a body is answered
//    401/403 and closed before its body is read.
//  * Connections. At most max_connections are open at once (SSE streams
//    included), at most max_connections_per_client from one address. A
//    connection beyond either limit is "triaged": it may send one request
//    within a second; GET /v1/health is answered, anything else 503 (with
//    Retry-After), and it is closed. At most kMaxTriage are triaged at once;
//    beyond that a connection is closed unanswered.
//  * Timeouts. A new connection must deliver its whole first request within
//    read_timeout of being accepted; a kept-alive connection may wait
//    idle_timeout for its next request, which must then arrive whole within
//    read_timeout of its first byte (header and body: a header trickled a
//    byte at a time is cut off like a slow body); each write must complete
//    within write_timeout (a reader that stopped reading is cut off). A
//    timeout closes the connection.
//  * Concurrency. `threads` I/O threads run every connection and answer the
//    cheap requests, each in its own LMDB read transaction, so reads run in
//    parallel (the log is opened with MDB_NOTLS: a read transaction is not
//    tied to its thread). Heavy requests, whose cost grows with the log
//    (replay, diff, stats), run on a separate pool of heavy_threads with at
//    most heavy_queue waiting (work_pool.h); one more is answered 503 with
//    Retry-After. So a flood of heavy requests never delays /v1/health.
//    Appends go to one GroupCommitter thread (group_commit.h). Each
//    connection has one request in flight at a time (HTTP/1.1 without
//    pipelining in parallel).
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
//    duration (a stream: when it ends, with the events sent). The value of
//    any query parameter whose name holds "token", and the server's token
//    wherever it appears, are logged as "<redacted>".
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
  size_t max_connections_per_client = 64;  // per remote address
  unsigned heavy_threads = 0;              // threads for heavy requests; 0: one per core
  size_t heavy_queue = 64;                 // heavy requests waiting at most (503 beyond)
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
