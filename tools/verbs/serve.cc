// `twinline serve`: the HTTP/1.1 API over the database (tools/server/;
// endpoints in docs/openapi.yaml, examples in docs/SERVER.md). Prints one
// line, "listening on http://HOST:PORT", once it accepts connections, then
// serves until SIGINT or SIGTERM, and shuts down gracefully: in-flight
// requests finish, subscribers get a final event. A second signal ends the
// process at once (the log is never left half-written: LMDB commits are
// atomic).
//
// The verb opens the database itself (Access::kNone in the verb table): read
// only with --read-only, else for appending, which other processes (the
// CLI) may keep doing while it runs. Requests are logged at info level,
// the default for this verb unless --log-level says otherwise.
//
// Replication (docs/REPLICATION.md): `--replicate URL` publishes the log to
// a JetStream stream while serving (a Replicator thread, as `twinline
// replicate`); `--follow URL` makes this a read replica: a Follower thread
// keeps the log up with the stream (as `twinline follow`), the HTTP API
// refuses writes, and /v1/health says which seq it has and how far behind
// the stream it is.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <atomic>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "tools/api/replay_view.h"
#include "tools/cli.h"
#include "tools/replication/follower.h"
#include "tools/replication/replicator.h"
#include "tools/server/auth.h"
#include "tools/server/server.h"

namespace twinline::cli {
namespace {

struct ServeFlags {
  std::string cors_origin;
  std::string listen = "127.0.0.1:8080";
  std::string token_file;
  bool read_only = false;
  bool no_verify = false;
  unsigned threads = 0;
  size_t max_body = size_t{8} << 20;
  size_t max_header = size_t{16} << 10;
  size_t max_connections = 256;
  size_t max_connections_per_client = 64;
  unsigned heavy_threads = 0;
  size_t heavy_queue = 64;
  double read_timeout = 10, idle_timeout = 60, write_timeout = 10;
  double heartbeat = 15, poll_interval = 0.025, shutdown_grace = 10;
  size_t sse_queue = 1024;
  size_t max_series_steps = 240;
  std::string replicate, follow;  // NATS servers
  replication::StreamSpec stream;
  CLI::Option* log_level = nullptr;  // the global --log-level, to see if it was given
};

// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0".
Status ParseListen(const std::string& text, std::string* host, uint16_t* port) {
  const Status bad = Status::InvalidArgument("'" + text + "' is not HOST:PORT (127.0.0.1:8080, "
                                             "[::1]:8080; port 0 = any free port)")
                         .WithField("--listen");
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return bad;
  std::string h = text.substr(0, colon);
  if (h.front() == '[') {
    if (h.back() != ']') return bad;
    h = h.substr(1, h.size() - 2);
  }
  unsigned long p = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return bad;
    p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p > 65535) return bad;
  }
  *host = h;
  *port = static_cast<uint16_t>(p);
  return Status::Ok();
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000 + 0.5));
}

}  // namespace

Handler ConfigureServe(CLI::App& cmd) {
  auto f = std::make_shared<ServeFlags>();
  cmd.add_option("--listen", f->listen, "address and port to listen on; port 0 = any free port")
      ->capture_default_str();
  cmd.add_option("--token-file", f->token_file,
                 "file holding the bearer token that writes must carry (required for writes on "
                 "a non-loopback address)");
  cmd.add_flag("--read-only", f->read_only, "open the database read-only and refuse writes");
  cmd.add_flag("--no-verify", f->no_verify,
               "start even if the quick startup check of the database (`verify --quick`) fails");
  cmd.add_option("--threads", f->threads, "I/O threads (0 = one per core)")->capture_default_str();
  cmd.add_option("--max-body", f->max_body, "largest request body, bytes (413 beyond)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--max-header", f->max_header, "largest request header block, bytes (431 beyond)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--max-connections", f->max_connections,
                 "open connections at most, streams included (beyond: /v1/health only, else 503)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--max-connections-per-client", f->max_connections_per_client,
                 "open connections at most from one address (beyond: /v1/health only, else 503)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--heavy-threads", f->heavy_threads,
                 "threads for replay, diff and stats requests (0 = one per core)")
      ->capture_default_str();
  cmd.add_option("--heavy-queue", f->heavy_queue,
                 "replay, diff and stats requests waiting for a thread at most (503 beyond)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto seconds = [&](const char* name, double* value, const char* what) {
    cmd.add_option(name, *value, what)->check(CLI::PositiveNumber)->capture_default_str();
  };
  seconds("--read-timeout", &f->read_timeout,
          "seconds to receive a whole request from its first byte (a new connection's first: "
          "from the connection)");
  seconds("--idle-timeout", &f->idle_timeout,
          "seconds a kept-alive connection may wait for its next request");
  seconds("--write-timeout", &f->write_timeout, "seconds for each write to a client");
  seconds("--heartbeat", &f->heartbeat, "seconds between keep-alive comments on an idle stream");
  seconds("--poll-interval", &f->poll_interval,
          "seconds between looks at the log for appends by other processes");
  seconds("--shutdown-grace", &f->shutdown_grace,
          "seconds requests may take to finish after SIGINT/SIGTERM");
  cmd.add_option("--sse-queue", f->sse_queue,
                 "events a live subscriber may fall behind before it is dropped")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--cors-origin", f->cors_origin,
                 "an origin (https://example.org) whose pages may call this API from a browser; "
                 "default: none, only the page served here")
      ->check([](const std::string& v) -> std::string {
        if (v.starts_with("http://") || v.starts_with("https://") || v == "*") return "";
        return "an origin is scheme://host[:port] (or *), e.g. https://example.org";
      });
  cmd.add_option("--max-series-steps", f->max_series_steps,
                 "steps (one replay each) a GET /v1/replay time series may have (400 beyond)")
      ->check(CLI::Range(size_t{1}, api::kMaxSeriesSteps))
      ->capture_default_str();
  auto* replicate = cmd.add_option("--replicate", f->replicate,
                                   "publish the log to a JetStream stream on these NATS servers while "
                                   "serving (as `twinline replicate`)");
  cmd.add_option("--follow", f->follow,
                 "serve a read replica: follow the stream on these NATS servers (as `twinline follow`) "
                 "and refuse writes")
      ->excludes(replicate);
  cmd.add_option("--stream", f->stream.name, "the stream for --replicate/--follow")->capture_default_str();
  cmd.add_option("--replicas", f->stream.replicas, "replicas of the stream when --replicate creates it")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  if (cmd.get_parent() != nullptr) f->log_level = cmd.get_parent()->get_option_no_throw("--log-level");

  return [f](Context& ctx) -> Status {
    if (ctx.logger && (f->log_level == nullptr || f->log_level->count() == 0)) {
      ctx.logger->set_level(spdlog::level::info);  // a server logs its requests by default
    }
    server::ServerOptions options;
    TWINLINE_RETURN_IF_ERROR(ParseListen(f->listen, &options.host, &options.port));
    if (!f->token_file.empty()) {
      std::string warning;
      Status s = server::LoadToken(f->token_file, &options.token, &warning);
      if (!s.ok()) return s.WithField("--token-file");
      if (!warning.empty() && ctx.err != nullptr) *ctx.err << "twinline: warning: " << warning << '\n';
    }
    options.read_only = f->read_only || !f->follow.empty();
    options.threads = f->threads;
    options.max_body_bytes = f->max_body;
    options.max_header_bytes = f->max_header;
    options.max_connections = f->max_connections;
    options.max_connections_per_client = f->max_connections_per_client;
    options.heavy_threads = f->heavy_threads;
    options.heavy_queue = f->heavy_queue;
    options.read_timeout = Millis(f->read_timeout);
    options.idle_timeout = Millis(f->idle_timeout);
    options.write_timeout = Millis(f->write_timeout);
    options.heartbeat = Millis(f->heartbeat);
    options.poll_interval = Millis(f->poll_interval);
    options.shutdown_grace = Millis(f->shutdown_grace);
    options.sse_queue = f->sse_queue;
    options.max_series_steps = f->max_series_steps;
    options.cors_origin = f->cors_origin;

    // Signals first, so that one arriving during startup is not fatal.
    boost::asio::io_context signal_io;
    boost::asio::signal_set signals(signal_io, SIGINT, SIGTERM);

    std::vector<std::string> nats;
    if (!f->replicate.empty()) {
      TWINLINE_RETURN_IF_ERROR(replication::ParseServers(f->replicate, "--replicate", &nats));
    }
    if (!f->follow.empty()) {
      TWINLINE_RETURN_IF_ERROR(replication::ParseServers(f->follow, "--follow", &nats));
      if (f->read_only) {
        return Status::InvalidArgument("a follower writes what it follows: drop --read-only (its HTTP API "
                                       "refuses writes anyway)")
            .WithField("--follow");
      }
      options.read_only_reason = "this server is a read replica of stream " + f->stream.name +
                                 " (--follow): write to the primary";
    }

    OpenOptions open_options;
    open_options.logger = ctx.logger;
    open_options.read_only = f->read_only;
    open_options.create_if_missing = !f->follow.empty();  // a new replica starts empty
    // Appends keep the temporal index with the log (docs/INDEX.md).
    if (!f->read_only) open_options.maintainer = NewIndexMaintainer();
    std::unique_ptr<EventLog> log;
    Status s = EventLog::Open(ctx.db_path, open_options, &log);
    if (s.code() == Status::Code::kNotFound) {
      ctx.error_hint = "create one with: twinline --db " + ctx.db_path + " init";
    }
    TWINLINE_RETURN_IF_ERROR(s);
    // Refuse to serve a damaged log (unless told to): the version, the
    // counts and the last records (EventLog::QuickVerify).
    if (!f->no_verify) {
      VerifyReport checked;
      s = log->QuickVerify(kQuickVerifyTail, &checked);
      if (!s.ok()) {
        ctx.error_hint = "not serving; `twinline verify` checks the whole log, `serve --no-verify` starts anyway";
        return s;
      }
    }

    std::unique_ptr<replication::Replicator> replicator;
    std::unique_ptr<replication::Follower> follower;
    const std::string stream = f->stream.name;
    if (!f->replicate.empty()) {
      replication::ReplicatorOptions r;
      r.servers = nats;
      r.stream = f->stream;
      replicator = std::make_unique<replication::Replicator>(log.get(), r, ctx.logger);
      options.replication_health = [&replicator, stream] {
        const replication::ReplicatorProgress p = replicator->progress();
        return nlohmann::ordered_json{{"role", "primary"},
                                      {"stream", stream},
                                      {"stream_seq", p.stream_seq},
                                      {"behind", p.local_seq > p.stream_seq ? p.local_seq - p.stream_seq : 0},
                                      {"state", p.state}}
            .dump();
      };
    }
    if (!f->follow.empty()) {
      replication::FollowerOptions r;
      r.servers = nats;
      r.stream = f->stream;
      follower = std::make_unique<replication::Follower>(log.get(), r, ctx.logger);
      options.replication_health = [&follower, stream] {
        const replication::FollowerProgress p = follower->progress();
        return nlohmann::ordered_json{{"role", "follower"},
                                      {"stream", stream},
                                      {"applied_seq", p.applied_seq},
                                      {"stream_seq", p.stream_seq},
                                      {"behind", p.behind()},
                                      {"lag_ms", p.lag_ms},
                                      {"state", p.state}}
            .dump();
      };
    }

    std::unique_ptr<server::Server> server;
    TWINLINE_RETURN_IF_ERROR(server::Server::Start(log.get(), options, ctx.logger, &server));
    // Replication runs beside the server until it shuts down; a failure it
    // cannot mend stops it (logged, and shown in /v1/health), not the server.
    std::atomic<bool> stop_replication{false};
    std::thread replication_thread([&] {
      Status r = Status::Ok();
      if (replicator) r = replicator->Run(stop_replication);
      if (follower) r = follower->Run(stop_replication);
      if (!r.ok() && ctx.logger) ctx.logger->error("replication stopped: {}", r.ToString());
    });
    const auto endpoint = server->endpoint();
    const std::string host = endpoint.address().is_v6()
                                 ? "[" + endpoint.address().to_string() + "]"
                                 : endpoint.address().to_string();
    *ctx.out << "listening on http://" << host << ":" << endpoint.port() << std::endl;

    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signo) {
          if (ec) return;
          if (ctx.logger) ctx.logger->info("signal {}: shutting down", signo);
          server->Shutdown();
          signals.async_wait([&](const boost::system::error_code& ec2, int) {
            if (ec2) return;
            if (ctx.logger) ctx.logger->warn("second signal: exiting now");
            std::_Exit(kExitEnvironment);
          });
        };
    signals.async_wait(on_signal);
    std::thread signal_thread([&] { signal_io.run(); });
    server->Wait();
    signal_io.stop();
    signal_thread.join();
    stop_replication = true;
    replication_thread.join();
    server.reset();
    return Status::Ok();
  };
}

}  // namespace twinline::cli
