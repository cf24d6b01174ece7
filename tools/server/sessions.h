// The connections of a Server (server.h states what they promise):
//  * HttpSession: one HTTP/1.1 connection. Reads a request within the
//    header/body limits and the idle/read timeouts, has Routes answer it,
//    writes the answer within the write timeout, and keeps the connection
//    alive when the client asks and the server is not stopping. A GET
//    /v1/subscribe turns the connection into an SseSession.
//  * SseSession: a connection streaming Server-Sent Events from a
//    Subscription (subscriptions.h): catch-up chunks read from the log, then
//    live frames, heartbeats, and a final overflow or shutdown event.
//  * ConnectionRegistry: every open connection, for the connection cap and
//    for shutdown.
//
// Threads: each connection runs on its own strand; everything a session
// touches happens there, except what its Subscription and the registry
// guard with their own locks. ServerContext and everything it points to
// must outlive every session (Server::Impl destroys the io_context, and with
// it the sessions, before the rest).
#ifndef TWINLINE_TOOLS_SERVER_SESSIONS_H_
#define TWINLINE_TOOLS_SERVER_SESSIONS_H_

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "tools/server/routes.h"
#include "tools/server/server.h"
#include "tools/server/subscriptions.h"

namespace twinline::server {

class Connection {
 public:
  virtual ~Connection() = default;
  // The server is stopping: close if idle, else finish and close. Any thread.
  virtual void Stop() = 0;
};

class ConnectionRegistry {
 public:
  // Registers `c` unless `limit` connections are open already.
  bool Add(const std::shared_ptr<Connection>& c, size_t limit);
  void Remove(Connection* c);
  size_t size() const;
  // Calls Stop() on every open connection.
  void StopAll();
  // Blocks until no connection is open or `deadline` passes; true if none is.
  bool WaitEmpty(std::chrono::steady_clock::time_point deadline);

 private:
  mutable std::mutex mu_;
  std::condition_variable empty_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> open_;
};

// What the sessions share; owned by Server::Impl.
struct ServerContext {
  const ServerOptions* options = nullptr;
  const Routes* routes = nullptr;
  SubscriptionHub* hub = nullptr;
  ConnectionRegistry* registry = nullptr;
  spdlog::logger* logger = nullptr;  // may be null
  std::atomic<bool> stopping{false};
};

// Starts serving an accepted connection (its executor must be a strand).
// Answers 503 and closes it when the connection cap is reached.
void StartHttpSession(boost::asio::ip::tcp::socket socket, ServerContext* ctx);

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_SESSIONS_H_
