// The connections of a Server (server.h states what they promise):
//  * HttpSession: one HTTP/1.1 connection. Reads a request within the
//    header/body limits and the idle/read timeouts, has Routes answer it,
//    writes the answer within the write timeout, and keeps the connection
//    alive when the client asks and the server is not stopping. A GET
//    /v1/subscribe turns the connection into an SseSession.
//  * SseSession: a connection streaming Server-Sent Events from a
//    Subscription (subscriptions.h): catch-up chunks read from the log, then
//    live frames, heartbeats, and a final overflow or shutdown event.
//  * ConnectionRegistry: every open connection, for the connection caps
//    (the server's and each client address's), the triage of connections
//    beyond them, and shutdown.
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
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "tools/server/routes.h"
#include "tools/server/server.h"
#include "tools/server/subscriptions.h"
#include "tools/server/work_pool.h"

namespace twinline::server {

class Connection {
 public:
  virtual ~Connection() = default;
  // The server is stopping: close if idle, else finish and close. Any thread.
  virtual void Stop() = 0;
};

// Connections triaged at once at most (server.h, "Connections").
inline constexpr size_t kMaxTriage = 64;

class ConnectionRegistry {
 public:
  enum class Admission {
    kAdmitted,    // counted against the caps
    kTriage,      // beyond a cap: may ask for /v1/health only
    kRefused,     // beyond a cap with every triage place taken: close unanswered
  };
  // Registers `c` from `client`. *client_full says which cap was reached
  // (the client's rather than the server's) when not admitted.
  Admission Add(const std::shared_ptr<Connection>& c, const boost::asio::ip::address& client,
                size_t limit, size_t per_client_limit, bool* client_full);
  // `now` takes over the place of `old` (an HTTP connection that became a
  // stream), with its client and its count.
  void Replace(Connection* old, const std::shared_ptr<Connection>& now);
  void Remove(Connection* c);
  size_t size() const;  // admitted and triaged
  // Calls Stop() on every open connection.
  void StopAll();
  // Blocks until no connection is open or `deadline` passes; true if none is.
  bool WaitEmpty(std::chrono::steady_clock::time_point deadline);

 private:
  struct Entry {
    std::weak_ptr<Connection> connection;
    boost::asio::ip::address client;
    bool triage = false;
  };
  void Forget(const Entry& e);  // caller holds mu_

  mutable std::mutex mu_;
  std::condition_variable empty_;
  std::unordered_map<Connection*, Entry> open_;
  std::map<boost::asio::ip::address, size_t> per_client_;  // admitted connections
  size_t admitted_ = 0, triaged_ = 0;
};

// What the sessions share; owned by Server::Impl.
struct ServerContext {
  const ServerOptions* options = nullptr;
  const Routes* routes = nullptr;
  WorkPool* heavy = nullptr;  // heavy requests (work_pool.h)
  SubscriptionHub* hub = nullptr;
  ConnectionRegistry* registry = nullptr;
  spdlog::logger* logger = nullptr;  // may be null
  std::atomic<bool> stopping{false};
  // When the last warning about connections beyond the caps was logged
  // (seconds on the steady clock): at most one a second.
  std::atomic<int64_t> last_triage_warning{0}, last_refusal_warning{0};
};

// Starts serving an accepted connection (its executor must be a strand),
// admitting or triaging it (server.h, "Connections").
void StartHttpSession(boost::asio::ip::tcp::socket socket, ServerContext* ctx);

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_SESSIONS_H_
