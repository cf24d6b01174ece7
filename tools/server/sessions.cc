#include "tools/server/sessions.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <string_view>

#include "tools/api/json_views.h"
#include "tools/server/auth.h"

namespace twinline::server {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// ConnectionRegistry

ConnectionRegistry::Admission ConnectionRegistry::Add(const std::shared_ptr<Connection>& c,
                                                      const net::ip::address& client, size_t limit,
                                                      size_t per_client_limit, bool* client_full) {
  std::lock_guard<std::mutex> lock(mu_);
  auto count = per_client_.find(client);
  const size_t mine = count == per_client_.end() ? 0 : count->second;
  *client_full = mine >= per_client_limit;
  if (admitted_ < limit && !*client_full) {
    open_[c.get()] = Entry{c, client, false};
    ++per_client_[client];
    ++admitted_;
    return Admission::kAdmitted;
  }
  if (triaged_ < kMaxTriage) {
    open_[c.get()] = Entry{c, client, true};
    ++triaged_;
    return Admission::kTriage;
  }
  return Admission::kRefused;
}

void ConnectionRegistry::Replace(Connection* old, const std::shared_ptr<Connection>& now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(old);
  if (it == open_.end()) return;
  Entry entry = it->second;
  entry.connection = now;
  open_.erase(it);
  open_[now.get()] = entry;
}

void ConnectionRegistry::Forget(const Entry& e) {
  if (e.triage) {
    --triaged_;
    return;
  }
  --admitted_;
  auto count = per_client_.find(e.client);
  if (count != per_client_.end() && --count->second == 0) per_client_.erase(count);
}

void ConnectionRegistry::Remove(Connection* c) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(c);
  if (it == open_.end()) return;
  Forget(it->second);
  open_.erase(it);
  if (open_.empty()) empty_.notify_all();
}

size_t ConnectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

void ConnectionRegistry::StopAll() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, entry] : open_) {
      if (auto c = entry.connection.lock()) open.push_back(std::move(c));
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
  // Takes over the registry place of `from`, the HTTP connection it was.
  SseSession(beast::tcp_stream stream, ServerContext* ctx, Connection* from, std::string peer,
             std::string target, SteadyClock::time_point started)
      : stream_(std::move(stream)),
        ctx_(ctx),
        from_(from),
        peer_(std::move(peer)),
        target_(std::move(target)),
        started_(started),
        heartbeat_(stream_.get_executor()) {}

  ~SseSession() override {
    if (sub_) ctx_->hub->Unsubscribe(sub_.get());
    ctx_->registry->Remove(this);
  }

  void Start(uint64_t after) {
    ctx_->registry->Replace(from_, shared_from_this());
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
  Connection* const from_;  // the HttpSession this was; only compared, never used
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

// How long a triaged connection (beyond a connection cap) has for its one
// request.
constexpr auto kTriageTimeout = std::chrono::seconds(1);
// Bytes asked for by the read that waits for a request's first byte.
constexpr size_t kFirstRead = 4096;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The values of every `field` header of `req`, in order.
std::vector<std::string_view> Values(const Request& req, http::field field) {
  std::vector<std::string_view> values;
  for (auto [it, end] = req.equal_range(field); it != end; ++it) values.push_back(View(it->value()));
  return values;
}

// The path of a request target, without its query.
std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// Requests whose cost grows with the log: they run on the heavy pool.
bool IsHeavy(const Request& req) {
  const std::string_view path = PathOf(View(req.target()));
  return path == "/v1/replay" || path == "/v1/diff" || path == "/v1/stats";
}

// `target` as the request log shows it: the value of every query parameter
// whose name holds "token" (access_token, token, ...) and the server's own
// token wherever it appears are replaced by "<redacted>".
std::string Redact(std::string_view target, const std::string& token) {
  std::string out(target.substr(0, target.find('?')));
  if (out.size() < target.size()) {
    std::string_view query = target.substr(out.size() + 1);
    out += '?';
    bool first = true;
    while (true) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const size_t eq = pair.find('=');
      std::string name(pair.substr(0, eq));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!first) out += '&';
      first = false;
      if (eq != std::string_view::npos && name.find("token") != std::string::npos) {
        out += std::string(pair.substr(0, eq)) + "=<redacted>";
      } else {
        out += pair;
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  if (!token.empty()) {
    for (size_t at = out.find(token); at != std::string::npos; at = out.find(token, at)) {
      out.replace(at, token.size(), "<redacted>");
    }
  }
  return out;
}

class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ServerContext* ctx)
      : stream_(std::move(socket)), ctx_(ctx), peer_(PeerName(stream_.socket())) {}

  ~HttpSession() override { ctx_->registry->Remove(this); }

  // Serves the connection; `triage`: it is beyond a connection cap
  // (`client_full`: its client's) and may ask for /v1/health only.
  void Run(bool triage, bool client_full) {
    triage_ = triage;
    client_full_ = client_full;
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      // The whole first request is due within read_timeout of the accept
      // (server.h, "Timeouts"); a triaged one within kTriageTimeout.
      self->stream_.expires_after(self->RequestTimeout());
      self->ReadRequest();
    });
  }

  // Stopping before the request was read: say so and close.
  void RefuseStopping() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      Response res = ErrorResponse(http::status::service_unavailable, "shutting_down",
                                   "the server is shutting down", 11, false);
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

  std::chrono::milliseconds RequestTimeout() const {
    const std::chrono::milliseconds read = ctx_->options->read_timeout;
    return triage_ ? std::min<std::chrono::milliseconds>(read, kTriageTimeout) : read;
  }

  // Waits for the first byte of the next request (or takes one already
  // buffered after the previous request).
  void ReadRequest() {
    if (ctx_->stopping) return Close();
    state_ = State::kIdle;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_->options->max_header_bytes));
    parser_->body_limit(ctx_->options->max_body_bytes);
    if (buffer_.size() > 0) return StartRequest();
    if (requests_ > 0) stream_.expires_after(ctx_->options->idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->OnReadError(ec);
                              self->buffer_.commit(n);
                              self->StartRequest();
                            });
  }

  // The request's first bytes are here: all of it is due within the
  // request timeout from now (from the accept, for a connection's first).
  void StartRequest() {
    state_ = State::kReading;
    started_ = SteadyClock::now();
    if (requests_ > 0) stream_.expires_after(RequestTimeout());
    ++requests_;
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    method_ = std::string(req.method_string());
    target_ = std::string(req.target());
    if (std::optional<Response> refusal = Screen()) return Write(std::move(*refusal));
    if (parser_->is_done()) return Handle();
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

  // What is decided from the header alone, before any body is read: the
  // framing (RFC 9112 §6), the Authorization header, the triage of a
  // connection beyond a cap, and whether a write may send its body. A
  // refusal closes the connection.
  std::optional<Response> Screen() {
    const auto& req = parser_->get();
    auto refuse = [&](http::status status, std::string_view code, const std::string& message) {
      // HTTP/1.1 whatever the request's version, as Refuse answers (RFC 9110 §6.2).
      return std::optional<Response>(ErrorResponse(status, code, message, 11, false));
    };
    std::vector<std::string_view> encodings;
    const std::vector<std::string_view> te = Values(req, http::field::transfer_encoding);
    const size_t te_fields = te.size();
    for (std::string_view list : te) {
      while (!list.empty()) {
        const size_t comma = list.find(',');
        const std::string_view coding = TrimSpace(list.substr(0, comma));
        if (!coding.empty()) encodings.push_back(coding);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    }
    const size_t lengths = req.count(http::field::content_length);
    if (te_fields > 0) {
      if (lengths > 0) {
        return refuse(http::status::bad_request, "bad_request",
                      "the request has both Transfer-Encoding and Content-Length; its length is "
                      "ambiguous (RFC 9112 §6.3), so it is refused and the connection closed");
      }
      if (req.version() < 11) {
        return refuse(http::status::bad_request, "bad_request",
                      "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)");
      }
      const bool chunked_last = !encodings.empty() && EqualsIgnoreCase(encodings.back(), "chunked");
      if (!chunked_last) {
        return refuse(http::status::bad_request, "bad_request",
                      "Transfer-Encoding '" + std::string(View(req[http::field::transfer_encoding])) +
                          "' does not end in 'chunked': the body's length is unknown (RFC 9112 "
                          "§6.3), so the request is refused and the connection closed");
      }
      for (size_t i = 0; i + 1 < encodings.size(); ++i) {
        if (EqualsIgnoreCase(encodings[i], "chunked")) {
          return refuse(http::status::bad_request, "bad_request",
                        "'chunked' is applied more than once in Transfer-Encoding (RFC 9112 "
                        "§7.1)");
        }
      }
      if (encodings.size() > 1) {
        return refuse(http::status::not_implemented, "unsupported_transfer_coding",
                      "transfer coding '" + std::string(encodings.front()) +
                          "' is not supported; send the body with 'Transfer-Encoding: chunked' "
                          "alone, or with Content-Length");
      }
    }
    if (lengths > 1) {
      return refuse(http::status::bad_request, "bad_request",
                    "more than one Content-Length header (RFC 9112 §6.3)");
    }
    if (req.count(http::field::host) > 1) {
      return refuse(http::status::bad_request, "bad_request",
                    "more than one Host header (RFC 9112 §3.2)");
    }
    const std::vector<std::string_view> authorization = Values(req, http::field::authorization);
    if (authorization.size() > 1) {
      return refuse(http::status::bad_request, "bad_request",
                    "more than one Authorization header: which one is meant is ambiguous");
    }
    const bool has_body = te_fields > 0 || (parser_->content_length() && *parser_->content_length() > 0);
    if (triage_) {
      const bool health = (req.method() == http::verb::get || req.method() == http::verb::head) &&
                          PathOf(View(req.target())) == "/v1/health" && !has_body;
      if (!health) return Busy();
    }
    if (has_body && IsWriteMethod(View(req.method_string()))) {
      const ServerOptions& o = *ctx_->options;
      switch (AuthorizeWrite(o.read_only, o.token, authorization)) {
        case WriteAuth::kAllowed:
          break;
        case WriteAuth::kReadOnly:  // a follower says whose replica it is (serve --follow)
          return refuse(http::status::forbidden, "read_only",
                        o.read_only_reason.empty()
                            ? "this server is read-only (--read-only): it accepts no writes"
                            : o.read_only_reason);
        case WriteAuth::kAmbiguous:  // refused above
        case WriteAuth::kNoToken:
        case WriteAuth::kWrongToken: {
          std::optional<Response> res = refuse(
              http::status::unauthorized, "unauthorized",
              authorization.empty() ? "writes need a bearer token: Authorization: Bearer <token>"
                                    : "the bearer token is not the server's");
          res->set(http::field::www_authenticate, "Bearer realm=\"twinline\"");
          return res;
        }
      }
    }
    return std::nullopt;
  }

  // The answer to a triaged connection that did not ask for /v1/health.
  Response Busy() const {
    const ServerOptions& o = *ctx_->options;
    Response res = ErrorResponse(
        http::status::service_unavailable, "too_many_connections",
        client_full_ ? "this address has " + std::to_string(o.max_connections_per_client) +
                           " connections open (--max-connections-per-client); retry later"
                     : "the server has " + std::to_string(o.max_connections) +
                           " connections open (--max-connections); retry later",
        11, false);
    res.set(http::field::retry_after, "1");
    return res;
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
                          state_ == State::kIdle ? "idle" : "request");
    }
    Close();
  }

  void Refuse(http::status status, std::string_view code, const std::string& message) {
    if (parser_ && parser_->is_header_done()) {  // the request line, when it was read
      method_ = std::string(parser_->get().method_string());
      target_ = std::string(parser_->get().target());
    }
    Write(ErrorResponse(status, code, message, 11, false));
  }

  void Handle() {
    state_ = State::kHandling;
    req_ = parser_->release();
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
      auto sse = std::make_shared<SseSession>(std::move(stream_), ctx_, this, peer_,
                                              Redact(target_, ctx_->options->token), started_);
      sse->Start(after);
      return;  // this session ends here; the stream lives on in `sse`
    }
    auto respond = [self = shared_from_this()](Response res) {
      net::dispatch(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->Write(std::move(res));
      });
    };
    if (ctx_->heavy != nullptr && IsHeavy(req_)) {
      const bool taken = ctx_->heavy->Submit([self = shared_from_this(), respond] {
        self->ctx_->routes->Handle(self->req_, respond);
      });
      if (!taken) {
        Response res = ErrorResponse(
            http::status::service_unavailable, "busy",
            "the server is answering " + std::to_string(ctx_->heavy->busy()) +
                " replays, diffs and statistics already (--heavy-threads, --heavy-queue); retry "
                "later",
            req_.version(), req_.keep_alive());
        res.set(http::field::retry_after, "1");
        Write(std::move(res));
      }
      return;
    }
    routes.Handle(req_, respond);
  }

  void Write(Response res) {
    state_ = State::kWriting;
    res_ = std::make_shared<Response>(std::move(res));
    if (ctx_->stopping || triage_) res_->keep_alive(false);
    stream_.expires_after(ctx_->options->write_timeout);
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(beast::error_code ec) {
    if (ctx_->logger) {
      ctx_->logger->info("{} {} {} {} {:.2f} ms", peer_, method_.empty() ? "-" : method_,
                         target_.empty() ? "-" : Redact(target_, ctx_->options->token),
                         res_->result_int(), MillisSince(started_));
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
  bool triage_ = false, client_full_ = false;
  uint64_t requests_ = 0;  // requests begun on this connection
  SteadyClock::time_point started_ = SteadyClock::now();
  std::string method_, target_;  // of the request being answered, for the log
};

// Rate-limits the warning about refused connections to one a second.
bool ShouldWarn(std::atomic<int64_t>* last_warned) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          SteadyClock::now().time_since_epoch())
                          .count();
  int64_t last = last_warned->load();
  return now > last && last_warned->compare_exchange_strong(last, now);
}

}  // namespace

void StartHttpSession(tcp::socket socket, ServerContext* ctx) {
  beast::error_code ec;
  net::ip::address client = socket.remote_endpoint(ec).address();
  if (client.is_v6() && client.to_v6().is_v4_mapped()) client = client.to_v6().to_v4();
  auto session = std::make_shared<HttpSession>(std::move(socket), ctx);
  bool client_full = false;
  const ConnectionRegistry::Admission admission =
      ctx->registry->Add(session, client, ctx->options->max_connections,
                         ctx->options->max_connections_per_client, &client_full);
  if (admission == ConnectionRegistry::Admission::kRefused) {
    if (ctx->logger && ShouldWarn(&ctx->last_refusal_warning)) {
      ctx->logger->warn("connection caps reached and {} connections triaged already: closing "
                        "connections unanswered",
                        kMaxTriage);
    }
    return;  // the session and its socket close here
  }
  if (ctx->stopping) return session->RefuseStopping();
  const bool triage = admission == ConnectionRegistry::Admission::kTriage;
  if (triage && ctx->logger && ShouldWarn(&ctx->last_triage_warning)) {
    ctx->logger->warn("{} cap reached ({}): answering /v1/health only on new connections",
                      client_full ? "per-client connection" : "connection",
                      client_full ? ctx->options->max_connections_per_client
                                  : ctx->options->max_connections);
  }
  session->Run(triage, client_full);
}

}  // namespace twinline::server
