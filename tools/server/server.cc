#include "tools/server/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tools/server/auth.h"
#include "tools/server/group_commit.h"
#include "tools/server/routes.h"
#include "tools/server/sessions.h"
#include "tools/server/subscriptions.h"
#include "tools/server/work_pool.h"

namespace twinline::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Members are destroyed in reverse order: the io_context (and with it every
// session still alive) goes before the registry, routes, hub and committer
// the sessions borrow.
struct Server::Impl {
  Impl(EventLog* log, const ServerOptions& options, std::shared_ptr<spdlog::logger> logger)
      : log(log), options(options), logger(std::move(logger)) {}

  void Accept();

  EventLog* const log;
  const ServerOptions options;
  const std::shared_ptr<spdlog::logger> logger;

  std::unique_ptr<SubscriptionHub> hub;
  std::unique_ptr<GroupCommitter> committer;  // null when read-only
  std::unique_ptr<Routes> routes;
  std::unique_ptr<WorkPool> heavy;  // heavy requests; joined in Wait(), before the io_context goes
  ConnectionRegistry registry;
  ServerContext ctx;

  net::io_context ioc;
  // Keeps the I/O threads running while no operation is pending (a session
  // waiting for the writer thread, once the acceptor is closed) until Wait()
  // lets them go.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{net::make_strand(ioc)};
  net::steady_timer accept_retry{acceptor.get_executor()};
  tcp::endpoint endpoint;
  std::vector<std::thread> threads;

  std::mutex mu;
  std::condition_variable shut;
  bool shutdown_begun = false;  // guarded by mu
  bool shutdown_done = false;   // guarded by mu
  bool waited = false;          // guarded by mu
  SteadyClock::time_point shutdown_at;
};

void Server::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](boost::system::error_code ec,
                                                      tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (ec) {
      if (logger) logger->warn("accept failed: {}", ec.message());
      // Out of descriptors (or similar): give connections time to close
      // instead of spinning.
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    StartHttpSession(std::move(socket), &ctx);
    Accept();
  });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
  Wait();
}

Status Server::Start(EventLog* log, const ServerOptions& options,
                     std::shared_ptr<spdlog::logger> logger, std::unique_ptr<Server>* out) {
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(options.host, ec);
  if (ec) {
    return Status::InvalidArgument("'" + options.host + "' is not an IP address")
        .WithField("--listen");
  }
  TWINLINE_RETURN_IF_ERROR(CheckListenPolicy(address, options.read_only, !options.token.empty()));

  auto impl = std::make_unique<Impl>(log, options, logger);
  Impl& s = *impl;
  SubscriptionHub::Options hub_options;
  hub_options.poll_interval = options.poll_interval;
  hub_options.queue_limit = options.sse_queue;
  s.hub = std::make_unique<SubscriptionHub>(log, hub_options, logger);
  TWINLINE_RETURN_IF_ERROR(s.hub->Start());
  if (!options.read_only) {
    SubscriptionHub* hub = s.hub.get();
    s.committer = std::make_unique<GroupCommitter>(
        [log](std::vector<EventLog::GroupItem>* items) { return log->AppendGroup(items); },
        GroupCommitter::Options(), [hub](uint64_t) { hub->Notify(); }, logger);
  }
  RouteOptions route_options;
  route_options.read_only = options.read_only;
  route_options.token = options.token;
  route_options.max_series_steps = options.max_series_steps;
  route_options.read_only_reason = options.read_only_reason;
  route_options.replication_health = options.replication_health;
  route_options.cors_origin = options.cors_origin;
  s.routes = std::make_unique<Routes>(log, s.committer.get(), s.hub.get(), route_options, logger);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  s.heavy = std::make_unique<WorkPool>(options.heavy_threads == 0 ? cores : options.heavy_threads,
                                       options.heavy_queue, logger);
  s.ctx.options = &s.options;
  s.ctx.routes = s.routes.get();
  s.ctx.heavy = s.heavy.get();
  s.ctx.hub = s.hub.get();
  s.ctx.registry = &s.registry;
  s.ctx.logger = logger.get();

  const tcp::endpoint endpoint(address, options.port);
  auto fail = [&](const char* what) {
    return Status::IOError("cannot listen on " + options.host + ":" +
                           std::to_string(options.port) + ": " + what + ": " + ec.message());
  };
  s.acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("set_option");
  s.acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  s.endpoint = s.acceptor.local_endpoint(ec);
  if (ec) return fail("local_endpoint");

  s.Accept();
  s.work.emplace(s.ioc.get_executor());
  unsigned threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) {
    s.threads.emplace_back([&s] {
      for (;;) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {
          // A bug in a handler; keep serving the other connections.
          if (s.logger) s.logger->error("internal error in a connection handler: {}", e.what());
        }
      }
    });
  }
  if (logger) {
    logger->info("serving {} on {}:{} with {} threads and {} for heavy requests{}{}",
                 log->path(), s.endpoint.address().to_string(), s.endpoint.port(), threads,
                 s.heavy->threads(),
                 options.read_only ? ", read-only" : "",
                 options.token.empty() ? "" : ", writes need the token");
  }
  out->reset(new Server(std::move(impl)));
  return Status::Ok();
}

tcp::endpoint Server::endpoint() const { return impl_->endpoint; }

void Server::Shutdown() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.shutdown_begun) return;
    s.shutdown_begun = true;
    s.shutdown_at = SteadyClock::now();
  }
  if (s.logger) {
    s.logger->info("shutting down: {} connections open, up to {} ms to finish",
                   s.registry.size(), s.options.shutdown_grace.count());
  }
  s.ctx.stopping = true;
  s.routes->BeginShutdown();
  net::post(s.acceptor.get_executor(), [&s] {
    boost::system::error_code ec;
    s.acceptor.close(ec);
    s.accept_retry.cancel();
  });
  s.hub->Stop();          // every subscriber gets its final event
  s.registry.StopAll();   // idle connections close; busy ones finish first
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.shutdown_done = true;
  }
  s.shut.notify_all();
}

void Server::Wait() {
  Impl& s = *impl_;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.shut.wait(lock, [&] { return s.shutdown_done; });
    if (s.waited) return;
    s.waited = true;
  }
  if (!s.registry.WaitEmpty(s.shutdown_at + s.options.shutdown_grace) && s.logger) {
    s.logger->warn("{} connections still open after {} ms: cut off", s.registry.size(),
                   s.options.shutdown_grace.count());
  }
  s.work.reset();
  s.ioc.stop();
  for (std::thread& t : s.threads) t.join();
  s.heavy->Stop();  // heavy requests still running finish (their answers go nowhere)
  if (s.committer) s.committer->Stop();  // answers anything still queued
  s.hub->Stop();
  if (s.logger) s.logger->info("stopped");
}

}  // namespace twinline::server
