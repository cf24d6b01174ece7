// libFuzzer target: the HTTP request handling of `twinline serve`, without
// sockets. The input is raw bytes as a client would send them on a
// connection; they go through what an HttpSession does with them
// (tools/server/sessions.cc): Beast's request_parser with the server's
// default header and body limits, then, for a complete request, the
// routes (tools/server/routes.h): SubscribeStart for GET /v1/subscribe,
// Routes::Handle for everything else, over a database holding the bundled
// dataset, with a real GroupCommitter and SubscriptionHub behind it, so a
// valid POST /v1/events is appended for real. The database is reloaded
// from the seed once fuzzed appends have added 1000 events.
//
// Checked beyond "no crash, no sanitizer report" (routes.h's contract):
//  * Handle answers exactly once, within 10 s;
//  * every error is one line of JSON and a newline, as application/json, and
//    every answer that says it is JSON parses as JSON;
//  * no 5xx: the database is healthy, so every failure is the client's.
// A request with an Authorization header is also answered by routes that
// require a bearer token.
#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/fuzz/fuzz_support.h"
#include "tools/server/group_commit.h"
#include "tools/server/routes.h"
#include "tools/server/server.h"
#include "tools/server/subscriptions.h"

namespace {

using namespace twinline;          // NOLINT: a fuzz target
using namespace twinline::server;  // NOLINT

// Appended events beyond the seed after which the database is reloaded.
constexpr uint64_t kResetAfterEvents = 1000;
// Requests read from one input, one after the other (keep-alive).
constexpr int kMaxRequests = 8;

// What Server::Start builds around the log, minus the sockets.
class Stack {
 public:
  explicit Stack(EventLog* log) {
    SubscriptionHub::Options hub_options;
    hub_options.poll_interval = std::chrono::milliseconds(200);
    hub_ = std::make_unique<SubscriptionHub>(log, hub_options, nullptr);
    fuzz::MustBeOk(hub_->Start(), "SubscriptionHub::Start");
    SubscriptionHub* hub = hub_.get();
    committer_ = std::make_unique<GroupCommitter>(
        [log](std::vector<EventLog::GroupItem>* items) { return log->AppendGroup(items); },
        GroupCommitter::Options(), [hub](uint64_t) { hub->Notify(); }, nullptr);
    routes_ = std::make_unique<Routes>(log, committer_.get(), hub_.get(), RouteOptions(), nullptr);
    RouteOptions with_token;
    with_token.token = "fuzz-token";
    token_routes_ =
        std::make_unique<Routes>(log, committer_.get(), hub_.get(), with_token, nullptr);
  }
  ~Stack() {
    routes_.reset();
    token_routes_.reset();
    committer_.reset();  // answers everything queued, joins the writer
    hub_.reset();
  }

  const Routes& routes() const { return *routes_; }
  const Routes& token_routes() const { return *token_routes_; }

 private:
  std::unique_ptr<SubscriptionHub> hub_;
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<Routes> routes_;
  std::unique_ptr<Routes> token_routes_;
};

std::unique_ptr<Stack>& TheStack() {
  fuzz::Db();  // constructed first, so destroyed after the stack that borrows its log
  static std::unique_ptr<Stack> stack;
  if (stack == nullptr) stack = std::make_unique<Stack>(&fuzz::Db().log());
  return stack;
}

void CheckResponse(const Response& res, const char* where) {
  const unsigned status = res.result_int();
  FUZZ_CHECK(status >= 200 && status < 500, "%s: status %u: %s", where, status,
             res.body().substr(0, 2000).c_str());
  const std::string& body = res.body();
  const bool json = res[http::field::content_type] == "application/json";
  if (status >= 400) {
    // An error is always {"error": {...}}: one line of JSON and a newline.
    FUZZ_CHECK(json, "%s: an error answer that is not JSON", where);
    FUZZ_CHECK(!body.empty() && body.back() == '\n' && body.find('\n') == body.size() - 1,
               "%s: the error answer is not one line: %s", where, body.c_str());
  }
  if (json) {
    FUZZ_CHECK(!nlohmann::json::parse(body, nullptr, false).is_discarded(),
               "%s: the answer is not JSON: %s", where, body.substr(0, 2000).c_str());
  } else {
    // /v1/replay and /v1/diff also answer CSV, text, GraphML, GeoJSON.
    FUZZ_CHECK(!res[http::field::content_type].empty(), "%s: no content type", where);
  }
  // As HttpSession writes it (http::async_write: the same serializer).
  std::ostringstream wire;
  wire << res;
  const std::string bytes = wire.str();
  FUZZ_CHECK(bytes.rfind("HTTP/1.", 0) == 0 && bytes.size() >= body.size() &&
                 bytes.compare(bytes.size() - body.size(), body.size(), body) == 0,
             "%s: the serialised answer is not a status line, headers and the body", where);
}

void Answer(const Routes& routes, const Request& req, const char* where) {
  if (routes.IsSubscribe(req)) {
    uint64_t after = 0;
    bool ok = false;
    Response error = routes.SubscribeStart(req, &after, &ok);
    if (!ok) CheckResponse(error, where);
    return;
  }
  auto answered = std::make_shared<std::promise<Response>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  routes.Handle(req, [answered, calls](Response res) {
    if (calls->fetch_add(1) == 0) answered->set_value(std::move(res));
  });
  std::future<Response> future = answered->get_future();
  FUZZ_CHECK(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready,
             "%s: no answer within 10 s", where);
  const Response res = future.get();
  FUZZ_CHECK(calls->load() == 1, "%s: answered %d times", where, calls->load());
  CheckResponse(res, where);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<Stack>& stack = TheStack();

  // As HttpSession reads requests (server.h: limits from ServerOptions).
  const ServerOptions limits;
  boost::asio::const_buffer input(data, size);
  for (int n = 0; n < kMaxRequests && input.size() > 0; ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    boost::system::error_code ec;
    while (input.size() > 0 && !parser.is_done()) {
      const size_t used = parser.put(input, ec);
      input += used;
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) break;  // the rest is an incomplete piece: the client went quiet
      } else if (ec) {
        break;  // the session answers 400/413/431 and closes
      }
    }
    // The connection closed: Beast decides whether what came is a message
    // (bytes it could not use yet are dropped), and it is the last one.
    const bool closed = !ec && !parser.is_done() && parser.got_some();
    if (closed) parser.put_eof(ec);
    if (ec || !parser.is_done()) break;

    const Request req = parser.release();
    Answer(stack->routes(), req, "routes");
    if (req.find(http::field::authorization) != req.end()) {
      Answer(stack->token_routes(), req, "token routes");
    }
    if (closed || stack->routes().IsSubscribe(req) || !req.keep_alive()) break;
  }

  std::unique_ptr<ReadTxn> txn;
  fuzz::MustBeOk(fuzz::Db().log().BeginRead(&txn), "BeginRead");
  if (txn->LastSeq() > fuzz::Db().seed_last_seq() + kResetAfterEvents) {
    txn.reset();
    stack.reset();
    fuzz::Db().Reset();
    stack = std::make_unique<Stack>(&fuzz::Db().log());
  }
  return 0;
}
