#include "tools/server/sessions.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <optional>
#include <sstream>

#include "tools/api/json_views.h"

namespace twinline::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// ConnectionRegistry

bool ConnectionRegistry::Add(const std::shared_ptr<Connection>& c, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_.size() >= limit) return false;
  open_[c.get()] = c;
  return true;
}

void ConnectionRegistry::Remove(Connection* c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_.erase(c) > 0 && open_.empty()) empty_.notify_all();
}

size_t ConnectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

void ConnectionRegistry::StopAll() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : open_) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& c : open) c->Stop();
}

bool ConnectionRegistry::WaitEmpty(SteadyClock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return empty_.wait_until(lock, deadline, [&] { return open_.empty(); });
}

namespace {

// Frames per write while live; catch-up reads this many events per chunk.
constexpr size_t kFramesPerWrite = 256;
// The kernel's send buffer for a stream: what a stalled client can absorb
// before our writes wait and its queue starts to fill (the kernel would
// otherwise grow it to megabytes per connection).
constexpr int kStreamSendBuffer = 64 * 1024;
// How long a closing connection keeps reading (and discarding) what the
// client still sends, so it gets our answer instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(1);

std::string PeerName(const tcp::socket& socket) {
  beast::error_code ec;
  const tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) return "-";
  std::ostringstream out;
  out << ep;
  return out.str();
}

double MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

// Half-closes, then reads until the client closes too (or kLingerTime), then
// closes: a client still sending a refused body reads our answer.
template <class Self>
void LingerClose(std::shared_ptr<Self> self, beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    stream.close();
    return;
  }
  auto buffer = std::make_shared<std::array<char, 4096>>();
  stream.expires_after(kLingerTime);
  struct Drain {
    std::shared_ptr<Self> self;
    beast::tcp_stream* stream;
    std::shared_ptr<std::array<char, 4096>> buffer;
    void operator()(beast::error_code ec, size_t) {
      if (ec) {
        stream->close();
        return;
      }
      stream->async_read_some(net::buffer(*buffer), std::move(*this));
    }
  };
  stream.async_read_some(net::buffer(*buffer), Drain{std::move(self), &stream, buffer});
}

// ---------------------------------------------------------------------------
// SseSession

class SseSession : public Connection, public std::enable_shared_from_this<SseSession> {
 public:
  SseSession(beast::tcp_stream stream, ServerContext* ctx, std::string peer, std::string target,
             SteadyClock::time_point started)
      : stream_(std::move(stream)),
        ctx_(ctx),
        peer_(std::move(peer)),
        target_(std::move(target)),
        started_(started),
        heartbeat_(stream_.get_executor()) {}

  ~SseSession() override {
    if (sub_) ctx_->hub->Unsubscribe(sub_.get());
    ctx_->registry->Remove(this);
  }

  void Start(uint64_t after) {
    // Takes over the slot of the HttpSession it came from.
    ctx_->registry->Add(shared_from_this(), std::numeric_limits<size_t>::max());
    delivered_ = after;
    beast::error_code ec;
    stream_.socket().set_option(net::socket_base::send_buffer_size(kStreamSendBuffer), ec);
    std::weak_ptr<SseSession> weak = weak_from_this();
    auto executor = stream_.get_executor();
    sub_ = ctx_->hub->Subscribe(after, [weak, executor] {
      net::post(executor, [weak] {
        if (auto self = weak.lock()) self->Pump();
      });
    });
    out_ =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\n"
        "X-Accel-Buffering: no\r\n"
        "Connection: close\r\n" +
        ctx_->routes->CorsHeaders() +
        "\r\n"
        ": twinline events after seq " +
        std::to_string(after) + "\n\n";
    WatchPeer();
    ArmHeartbeat();
    Write();
  }

  void Stop() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Pump(); });
  }

 private:
  // Sends what is due: a catch-up chunk, queued live frames, or the end.
  void Pump() {
    if (closed_ || writing_) return;
    SubscriptionHub& hub = *ctx_->hub;
    if (!joined_) {
      if (sub_->closed()) return Final("shutdown", "the server is shutting down");
      if (delivered_ < hub.published()) {
        std::vector<FramePtr> frames;
        Status s = hub.ReadFrames(delivered_, kFramesPerWrite, &frames);
        if (!s.ok() || frames.empty()) {
          if (ctx_->logger) ctx_->logger->error("subscription catch-up failed: {}", s.ToString());
          end_ = "catch-up failed";
          return Close();
        }
        Queue(frames);
        return Write();
      }
      if (!hub.Join(sub_.get(), delivered_)) {
        // The hub moved on while we caught up: read the rest first.
        net::post(stream_.get_executor(), [self = shared_from_this()] { self->Pump(); });
        return;
      }
      joined_ = true;
    }
    Subscription::Taken taken = sub_->Take(kFramesPerWrite);
    if (!taken.frames.empty()) {
      Queue(taken.frames);
      return Write();
    }
    if (taken.overflowed) {
      return Final("overflow", "this client fell more than " +
                                   std::to_string(ctx_->options->sse_queue) +
                                   " events behind and is disconnected; reconnect to resume");
    }
    if (taken.closed) return Final("shutdown", "the server is shutting down");
  }

  void Queue(const std::vector<FramePtr>& frames) {
    for (const FramePtr& f : frames) out_ += f->text;
    pending_seq_ = frames.back()->seq;
    pending_events_ = frames.size();
  }

  // The last event of the stream; the connection closes after it.
  void Final(const std::string& event, const std::string& message) {
    final_ = true;
    end_ = event;
    const nlohmann::ordered_json data{{"resume_after", delivered_}, {"message", message}};
    out_ += "event: " + event + "\ndata: " + api::DumpJson(data) + "\n\n";
    Write();
  }

  void Write() {
    writing_ = true;
    stream_.expires_after(ctx_->options->write_timeout);
    net::async_write(stream_, net::buffer(out_),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnWrite(ec);
                     });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    out_.clear();
    if (ec) {
      if (end_.empty()) end_ = ec == beast::error::timeout ? "write timeout" : "client gone";
      return Close();
    }
    if (pending_seq_ != 0) {
      delivered_ = pending_seq_;
      events_sent_ += pending_events_;
      pending_seq_ = 0;
    }
    last_write_ = SteadyClock::now();
    if (final_) return Close();
    Pump();
  }

  // A client that closes its end is noticed at once, not at the next write.
  void WatchPeer() {
    stream_.socket().async_read_some(
        net::buffer(peer_buffer_), [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) {
            if (self->end_.empty()) self->end_ = "client closed";
            return self->Close();
          }
          self->WatchPeer();  // a client has nothing to say here; ignore it
        });
  }

  void ArmHeartbeat() {
    heartbeat_.expires_at(last_write_ + ctx_->options->heartbeat);
    heartbeat_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (!self->writing_ && !self->final_ &&
          SteadyClock::now() >= self->last_write_ + self->ctx_->options->heartbeat) {
        self->out_ = ": heartbeat\n\n";
        self->Write();
        self->last_write_ = SteadyClock::now();
      }
      self->ArmHeartbeat();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    heartbeat_.cancel();
    ctx_->hub->Unsubscribe(sub_.get());
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    if (ctx_->logger) {
      ctx_->logger->info("{} GET {} 200 stream {:.1f} ms, {} events, {}", peer_, target_,
                         MillisSince(started_), events_sent_, end_.empty() ? "closed" : end_);
    }
  }

  beast::tcp_stream stream_;
  ServerContext* const ctx_;
  const std::string peer_, target_;
  const SteadyClock::time_point started_;
  net::steady_timer heartbeat_;
  std::shared_ptr<Subscription> sub_;
  uint64_t delivered_ = 0;     // the last seq whose frame was written
  uint64_t pending_seq_ = 0;   // the last seq in out_, 0 if none
  size_t pending_events_ = 0;  // frames in out_
  uint64_t events_sent_ = 0;
  bool joined_ = false, writing_ = false, final_ = false, closed_ = false;
  std::string out_;  // being written
  std::string end_;  // why the stream ended, for the log
  std::array<char, 256> peer_buffer_{};
  SteadyClock::time_point last_write_ = SteadyClock::now();
};

// ---------------------------------------------------------------------------
// HttpSession

class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ServerContext* ctx)
      : stream_(std::move(socket)), ctx_(ctx), peer_(PeerName(stream_.socket())) {}

  ~HttpSession() override { ctx_->registry->Remove(this); }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  // Over the connection cap, or stopping: say so and close.
  void RefuseBusy(bool stopping) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), stopping] {
      Response res = ErrorResponse(
          http::status::service_unavailable, stopping ? "shutting_down" : "too_many_connections",
          stopping ? "the server is shutting down"
                   : "the server has " + std::to_string(self->ctx_->options->max_connections) +
                         " connections open (--max-connections); retry later",
          11, false);
      res.set(http::field::retry_after, "1");
      self->Write(std::move(res));
    });
  }

  void Stop() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      // Waiting for a request that has not begun: close now. A request being
      // read or answered finishes; its answer then closes the connection.
      if (self->state_ == State::kIdle) self->stream_.cancel();
    });
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kDone };

  void ReadRequest() {
    if (ctx_->stopping) return Close();
    state_ = State::kIdle;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_->options->max_header_bytes));
    parser_->body_limit(ctx_->options->max_body_bytes);
    stream_.expires_after(ctx_->options->idle_timeout);
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            self->OnFirstBytes(ec);
                          });
  }

  void OnFirstBytes(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    state_ = State::kReading;
    started_ = SteadyClock::now();
    stream_.expires_after(ctx_->options->read_timeout);  // for the rest of the request
    if (parser_->is_header_done()) return OnHeader({});
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return Handle();
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // curl and others wait for this before sending a larger body.
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Handle();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Refuse(http::status::payload_too_large, "payload_too_large",
                    "the request body exceeds " + std::to_string(ctx_->options->max_body_bytes) +
                        " bytes (--max-body)");
    }
    if (ec == http::error::header_limit) {
      return Refuse(http::status::request_header_fields_too_large, "header_too_large",
                    "the request header exceeds " +
                        std::to_string(ctx_->options->max_header_bytes) + " bytes (--max-header)");
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Refuse(http::status::bad_request, "bad_request",
                    "malformed HTTP request: " + ec.message());
    }
    // The client closed, went quiet past a timeout, or the server is
    // stopping: nothing to answer.
    if (ec == beast::error::timeout && ctx_->logger) {
      ctx_->logger->debug("{} {} timeout: closed", peer_,
                          state_ == State::kIdle ? "idle" : "read");
    }
    Close();
  }

  void Refuse(http::status status, std::string_view code, const std::string& message) {
    if (parser_) {  // the request line, when it was read (a limit hit later)
      method_ = std::string(parser_->get().method_string());
      target_ = std::string(parser_->get().target());
    }
    Write(ErrorResponse(status, code, message, 11, false));
  }

  void Handle() {
    state_ = State::kHandling;
    req_ = parser_->release();
    method_ = std::string(req_.method_string());
    target_ = std::string(req_.target());
    const Routes& routes = *ctx_->routes;
    if (routes.IsSubscribe(req_)) {
      uint64_t after = 0;
      bool ok = false;
      Response error = routes.SubscribeStart(req_, &after, &ok);
      if (!ok) return Write(std::move(error));
      if (ctx_->stopping) {
        return Write(ErrorResponse(http::status::service_unavailable, "shutting_down",
                                   "the server is shutting down", req_.version(), false));
      }
      state_ = State::kDone;
      auto sse = std::make_shared<SseSession>(std::move(stream_), ctx_, peer_, target_, started_);
      sse->Start(after);
      return;  // this session ends here; the stream lives on in `sse`
    }
    routes.Handle(req_, [self = shared_from_this()](Response res) {
      net::dispatch(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->Write(std::move(res));
      });
    });
  }

  void Write(Response res) {
    state_ = State::kWriting;
    res_ = std::make_shared<Response>(std::move(res));
    if (ctx_->stopping) res_->keep_alive(false);
    stream_.expires_after(ctx_->options->write_timeout);
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(beast::error_code ec) {
    if (ctx_->logger) {
      ctx_->logger->info("{} {} {} {} {:.2f} ms", peer_, method_.empty() ? "-" : method_,
                         target_.empty() ? "-" : target_, res_->result_int(),
                         MillisSince(started_));
    }
    if (ec) return Close();
    if (!res_->keep_alive()) {
      state_ = State::kDone;
      return LingerClose(shared_from_this(), stream_);
    }
    res_.reset();
    method_.clear();
    target_.clear();
    ReadRequest();
  }

  void Close() {
    state_ = State::kDone;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  ServerContext* const ctx_;
  const std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request req_;
  std::shared_ptr<Response> res_;
  State state_ = State::kIdle;
  SteadyClock::time_point started_ = SteadyClock::now();
  std::string method_, target_;  // of the request being answered, for the log
};

}  // namespace

void StartHttpSession(tcp::socket socket, ServerContext* ctx) {
  auto session = std::make_shared<HttpSession>(std::move(socket), ctx);
  if (ctx->stopping) return session->RefuseBusy(true);
  if (!ctx->registry->Add(session, ctx->options->max_connections)) {
    if (ctx->logger) ctx->logger->warn("connection cap ({}) reached: refusing a connection",
                                       ctx->options->max_connections);
    return session->RefuseBusy(false);
  }
  session->Run();
}

}  // namespace twinline::server
