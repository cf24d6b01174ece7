// The endpoints of `twinline serve` (docs/openapi.yaml describes them in
// full; docs/SERVER.md shows them with curl):
//
//   GET  /              the page (web/; web_assets.h), and its /assets/
//   GET  /v1/health     {"status": "ok", "last_seq", "read_only", ...}
//   GET  /v1/events     events after a seq (`after`, the cursor) or recorded
//                       from a time on (`since`), filtered by `entity`, `kind`,
//                       valid dates `from`/`to`; `limit` per page
//   POST /v1/events     a JSON array (or one object) or NDJSON batch, appended
//                       atomically with the identity rules of `twinline
//                       import`; `expect_seq` answered with 409 on conflict
//   GET  /v1/entities   every entity, or `name`: one, by slug or any name
//   GET  /v1/stats      what `twinline stats --format json` prints
//   GET  /v1/replay     the network on a valid date (`as_of`) as known at a
//                       recorded time (`known_at`): `projection` counts,
//                       trade, network or timeline, `entity`, `dates`; or a
//                       time series (`from`, `to`, `step`). What `twinline
//                       replay` prints, byte for byte (tools/api/replay_view.h)
//   GET  /v1/diff       what changed between two valid dates (`from`, `to`),
//                       or at one (`as_of`) between two recorded times
//                       (`known_at`, `vs_known_at`): `twinline diff`'s
//                       answer (tools/api/diff_view.h)
//   GET  /v1/subscribe  Server-Sent Events; parsed here (SubscribeStart), the
//                       stream itself is the server's (server.h)
//
// Contract:
//  * Every answer is JSON ("application/json", one line and a newline),
//    except replay and diff answers asked for in another `format`: csv
//    (text/csv), table (text/plain, as the CLI prints it), graphml
//    (application/graphml+xml), geojson (application/geo+json). A failure
//    is always JSON: {"error": {"code", "message", "field"?, "line"?|
//    "index"?}} with a 4xx status that names the problem, or 5xx when the database
//    failed. Status codes map to HTTP in one place (HttpStatusFor):
//    invalid argument 400 (parameters, a body of the wrong shape) / 422 (an
//    event in the body), not found 404 (parameters) / 422 (an entity an
//    event names), already exists and conflict 409,
//    read-only 403, database full 507, anything else 500.
//  * Unknown parameters are refused (400), as the JSON codec refuses
//    unknown fields: a typo never silently widens a query.
//  * Reads run on the calling thread, each in its own LMDB read transaction
//    (a consistent snapshot; any number in parallel). A replay or diff is a
//    read like any other: it holds its I/O thread while it replays (a time
//    series at most `max_series_steps` replays), and its answer is built
//    in memory before it is sent. A write is decoded on the calling thread
//    against a snapshot, then handed to the GroupCommitter; it is answered
//    only once durable. Nothing is written unless the whole batch decodes
//    and appends.
//  * Replay and diff: the parameters are the CLI flags with '_' for '-'
//    (as_of = --as-of) and fill the same request (replay_view.h,
//    diff_view.h), so format=json is byte-identical to the CLI's --format
//    json; `format` defaults to json here. An empty value is refused; so
//    is a bad date (400, the EDTF parser's message, `field` the parameter),
//    a format the projection does not have (400), and an unknown entity
//    (404).
//  * Paging (GET /v1/events): events come in seq order; at most `limit`
//    (default 100, at most 1000) and at most `scan_budget` records looked at
//    per page. The answer carries "next_after" (pass it as `after` with the
//    same filters for the next page) and "more" (false: the log held nothing
//    further when the page was read; later appends will show up after
//    next_after).
#ifndef TWINLINE_TOOLS_SERVER_ROUTES_H_
#define TWINLINE_TOOLS_SERVER_ROUTES_H_

#include <atomic>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/event_log.h"
#include "core/status.h"
#include "tools/server/group_commit.h"
#include "tools/server/subscriptions.h"

namespace spdlog {
class logger;
}

namespace twinline::server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Beast (Boost 1.74) speaks boost::string_view; the rest of twinline std's.
inline std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Where a failed Status came from: the URL (parameters) or the request body.
enum class Origin { kParameters, kBody };
http::status HttpStatusFor(const Status& status, Origin origin);

// A JSON error answer: {"error": {"code": code, "message": message}}.
Response ErrorResponse(http::status status, std::string_view code, std::string_view message,
                       unsigned version, bool keep_alive);
// The same for a failed Status: code "invalid_argument", "not_found", ...,
// with "field" when the Status names one.
Response StatusResponse(const Status& status, Origin origin, unsigned version, bool keep_alive);

struct RouteOptions {
  bool read_only = false;
  std::string token;  // empty: writes need no token (loopback only, see auth.h)
  uint64_t default_limit = 100;
  uint64_t max_limit = 1000;
  uint64_t scan_budget = 10000;
  size_t max_series_steps = 240;  // GET /v1/replay?from&to: replays per request
  // Why writes are refused, when read_only is not just --read-only (a read
  // replica names its primary's stream).
  std::string read_only_reason;
  // Replication's state (tools/replication/), as a JSON object that
  // /v1/health shows under "replication"; unset when not replicating.
  std::function<std::string()> replication_health;
  std::string cors_origin;        // empty: no CORS headers (same-origin pages only)
};

class Routes {
 public:
  // Everything is borrowed and must outlive the Routes; `committer` is null
  // on a read-only server.
  Routes(const EventLog* log, GroupCommitter* committer, const SubscriptionHub* hub,
         RouteOptions options, std::shared_ptr<spdlog::logger> logger);

  using Respond = std::function<void(Response)>;
  // Answers `req` (anything but a subscription): `respond` is called exactly
  // once, on this thread, or for an append on the writer thread.
  void Handle(const Request& req, Respond respond) const;

  bool IsSubscribe(const Request& req) const;
  // Header lines ("Name: value\r\n") a response written outside Handle (the
  // event stream's head) carries: CORS when --cors-origin is set, else none.
  std::string CorsHeaders() const;
  // GET /v1/subscribe: the seq after which the stream starts, from the
  // Last-Event-ID header (a reconnecting client; it wins), `after`, or
  // `since` (a recorded time), else the log's last seq (live only). An
  // error (bad parameter, a seq beyond the log) is returned as the Response
  // to send, with *ok false.
  Response SubscribeStart(const Request& req, uint64_t* after, bool* ok) const;

  // After this, /v1/health answers 503 "shutting_down".
  void BeginShutdown() { stopping_ = true; }

 private:
  using Params = std::multimap<std::string, std::string>;

  Response Health(const Request& req) const;
  Response GetEvents(const Request& req, const Params& params) const;
  void PostEvents(const Request& req, const Params& params, Respond respond) const;
  Response Entities(const Request& req, const Params& params) const;
  Response Stats(const Request& req) const;
  Response Replay(const Request& req, const Params& params) const;
  Response Diff(const Request& req, const Params& params) const;

  const EventLog* const log_;
  GroupCommitter* const committer_;
  const SubscriptionHub* const hub_;
  const RouteOptions options_;
  const std::shared_ptr<spdlog::logger> logger_;
  std::atomic<bool> stopping_{false};
};

}  // namespace twinline::server

#endif  // TWINLINE_TOOLS_SERVER_ROUTES_H_
