#include "tools/server/routes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "core/edtf.h"
#include "events/json_codec.h"
#include "projections/projection.h"
#include "tools/api/batch_decode.h"
#include "tools/api/diff_view.h"
#include "tools/api/event_query.h"
#include "tools/api/json_views.h"
#include "tools/api/read_view.h"
#include "tools/api/replay_view.h"
#include "tools/server/auth.h"
#include "tools/server/web_assets.h"

namespace twinline::server {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Errors

http::status HttpStatusFor(const Status& status, Origin origin) {
  switch (status.code()) {
    case Status::Code::kOk:
      return http::status::ok;
    case Status::Code::kInvalidArgument:
      return origin == Origin::kBody ? http::status::unprocessable_entity
                                     : http::status::bad_request;
    case Status::Code::kNotFound:
      return origin == Origin::kBody ? http::status::unprocessable_entity : http::status::not_found;
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict:
      return http::status::conflict;
    case Status::Code::kReadOnly:
      return http::status::forbidden;
    case Status::Code::kFull:
      return http::status::insufficient_storage;
    case Status::Code::kCorruption:
    case Status::Code::kIOError:
    case Status::Code::kVersion:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

namespace {

std::string CodeFor(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kInvalidArgument: return "invalid_argument";
    case Status::Code::kNotFound: return "not_found";
    case Status::Code::kAlreadyExists: return "already_exists";
    case Status::Code::kConflict: return "conflict";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kIOError: return "io_error";
    case Status::Code::kReadOnly: return "read_only";
    case Status::Code::kFull: return "database_full";
    case Status::Code::kVersion: return "unsupported_version";
  }
  return "internal";
}

// `body` as it is, with its media type.
Response MakeBody(http::status status, std::string_view content_type, std::string body,
                  unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type,
          boost::beast::string_view(content_type.data(), content_type.size()));
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// One line of JSON and a newline.
Response MakeJson(http::status status, std::string body, unsigned version, bool keep_alive) {
  body += '\n';
  return MakeBody(status, "application/json", std::move(body), version, keep_alive);
}

Response ErrorJson(http::status status, Json error, unsigned version, bool keep_alive) {
  // Messages quote what the client sent, which may not be UTF-8 ("%FF"):
  // replace such bytes rather than fail (api::DumpJson is strict).
  return MakeJson(status,
                  Json{{"error", std::move(error)}}.dump(-1, ' ', false,
                                                         Json::error_handler_t::replace),
                  version, keep_alive);
}

Json StatusErrorJson(const Status& status) {
  Json e{{"code", CodeFor(status.code())}, {"message", status.message()}};
  if (!status.field().empty()) e["field"] = status.field();
  return e;
}

}  // namespace

Response ErrorResponse(http::status status, std::string_view code, std::string_view message,
                       unsigned version, bool keep_alive) {
  return ErrorJson(status, Json{{"code", code}, {"message", message}}, version, keep_alive);
}

Response StatusResponse(const Status& status, Origin origin, unsigned version, bool keep_alive) {
  return ErrorJson(HttpStatusFor(status, origin), StatusErrorJson(status), version, keep_alive);
}

// ---------------------------------------------------------------------------
// Targets and parameters

namespace {

using Params = std::multimap<std::string, std::string>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: %XX and '+' for a space.
Status PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      *out += ' ';
    } else if (in[i] == '%') {
      const int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("bad percent-encoding in '" + std::string(in) + "'");
      }
      *out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      *out += in[i];
    }
  }
  return Status::Ok();
}

Status ParseTarget(std::string_view target, std::string* path, Params* params) {
  const size_t q = target.find('?');
  *path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return Status::Ok();
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key, value;
    TWINLINE_RETURN_IF_ERROR(PercentDecode(pair.substr(0, eq), &key));
    if (eq != std::string_view::npos) {
      TWINLINE_RETURN_IF_ERROR(PercentDecode(pair.substr(eq + 1), &value));
    }
    params->emplace(std::move(key), std::move(value));
  }
  return Status::Ok();
}

// Refuses parameters the endpoint does not know, and repeats of those that
// take one value.
Status CheckParams(const Params& params, std::initializer_list<std::string_view> allowed,
                   std::initializer_list<std::string_view> repeatable = {}) {
  for (auto it = params.begin(); it != params.end(); it = params.upper_bound(it->first)) {
    const std::string& key = it->first;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (std::string_view a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      return Status::InvalidArgument("unknown parameter '" + key + "'" +
                                     (known.empty() ? "; this endpoint takes none"
                                                    : "; this endpoint takes " + known))
          .WithField(key);
    }
    if (params.count(key) > 1 &&
        std::find(repeatable.begin(), repeatable.end(), key) == repeatable.end()) {
      return Status::InvalidArgument("given more than once").WithField(key);
    }
  }
  return Status::Ok();
}

const std::string* Param(const Params& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? nullptr : &it->second;
}

Status ParseU64(const std::string& text, std::string_view field, uint64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument("'" + text + "' is not a non-negative integer").WithField(field);
  }
  return Status::Ok();
}

// A switch: true or false.
Status ParseBool(const std::string& text, std::string_view field, bool* out) {
  if (text != "true" && text != "false") {
    return Status::InvalidArgument("'" + text + "' is not true or false").WithField(field);
  }
  *out = text == "true";
  return Status::Ok();
}

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

// `since`: events recorded at or after a time, i.e. after the last seq
// recorded before it. An RFC 3339 UTC time, or an EDTF date (from the start
// of its earliest day, UTC).
Status ResolveSince(const ReadTxn& txn, const std::string& text, uint64_t* after) {
  int64_t micros = 0;
  if (text.find('T') != std::string::npos) {
    Status s = ParseTimestamp(text, &micros);
    if (!s.ok()) return s.WithField("since");
  } else {
    EdtfDate date;
    Status s = ParseEdtf(text, &date);
    if (!s.ok()) {
      return Status::InvalidArgument("'" + text +
                                     "' is neither an RFC 3339 UTC time "
                                     "(2025-04-17T08:45:00Z) nor an EDTF date: " +
                                     s.message())
          .WithField("since");
    }
    constexpr int64_t kMaxDay = std::numeric_limits<int64_t>::max() / kMicrosPerDay - 1;
    if (date.earliest <= 0) {  // before 1970: before anything was recorded
      *after = 0;
      return Status::Ok();
    }
    if (date.earliest >= kMaxDay) {
      *after = txn.LastSeq();
      return Status::Ok();
    }
    micros = date.earliest * kMicrosPerDay;
  }
  if (micros <= 0) {
    *after = 0;
    return Status::Ok();
  }
  // The log as known one microsecond before `since` (projections/known_at).
  return ResolveKnownAt(txn, FormatTimestamp(micros - 1), after);
}

std::vector<std::string> SplitKinds(const Params& params) {
  std::vector<std::string> kinds;
  auto [begin, end] = params.equal_range("kind");
  for (auto it = begin; it != end; ++it) {
    std::string_view v = it->second;
    while (!v.empty()) {
      const size_t comma = v.find(',');
      if (comma != 0) kinds.emplace_back(v.substr(0, comma));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return kinds;
}

// Replay and diff parameters hold dates and names: an empty one is refused
// rather than read as "not given".
Status CheckNotEmpty(const Params& params) {
  for (const auto& [key, value] : params) {
    if (value.empty()) return Status::InvalidArgument("needs a value").WithField(key);
  }
  return Status::Ok();
}

// Copies the parameter `key`, when given, into `*into`.
void Take(const Params& params, const std::string& key, std::string* into) {
  if (const std::string* v = Param(params, key)) *into = *v;
}

// The media type of a replay or diff answer in `format`.
std::string_view ContentTypeFor(std::string_view format) {
  if (format == "csv") return "text/csv; charset=utf-8";
  if (format == "table") return "text/plain; charset=utf-8";
  if (format == "graphml") return "application/graphml+xml";
  if (format == "geojson") return "application/geo+json";
  if (format == "gexf") return "application/gexf+xml";
  if (format == "svg") return "image/svg+xml";
  if (format == "png") return "image/png";
  return "application/json";
}

// The parameters replay and diff share: projection, format and the
// projection flags (known_at, dates, entity).
void TakeShared(const Params& params, std::string* projection, std::string* format,
                api::ProjectionParams* common) {
  Take(params, "projection", projection);
  Take(params, "format", format);
  Take(params, "known_at", &common->known_at);
  Take(params, "dates", &common->dates);
  Take(params, "entity", &common->entity);
  Take(params, "edges", &common->edges);
}

// A replay or diff answer: `render` writes it from one read snapshot of
// `log`; its errors are the parameters' (4xx naming them) or the log's.
Response RenderOnSnapshot(const EventLog& log, const Request& req, std::string_view content_type,
                          const std::function<Status(api::ReadView&, std::ostream&)>& render) {
  api::ReadView view;
  Status s = api::BeginReadView(log, &view);
  std::ostringstream body;
  if (s.ok()) s = render(view, body);
  if (!s.ok()) return StatusResponse(s, Origin::kParameters, req.version(), req.keep_alive());
  return MakeBody(http::status::ok, content_type, std::move(body).str(), req.version(),
                  req.keep_alive());
}

std::string_view MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  return content_type;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

// ---------------------------------------------------------------------------
// Routes

Routes::Routes(const EventLog* log, GroupCommitter* committer, const SubscriptionHub* hub,
               RouteOptions options, std::shared_ptr<spdlog::logger> logger)
    : log_(log),
      committer_(committer),
      hub_(hub),
      options_(std::move(options)),
      logger_(std::move(logger)) {}

std::string Routes::CorsHeaders() const {
  if (options_.cors_origin.empty()) return "";
  return "Access-Control-Allow-Origin: " + options_.cors_origin + "\r\nVary: Origin\r\n";
}

void Routes::Handle(const Request& req, Respond respond) const {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  if (!options_.cors_origin.empty()) {
    // --cors-origin: that origin's pages may call the API (every answer says
    // so); a preflight is answered here.
    respond = [respond = std::move(respond), origin = options_.cors_origin](Response res) {
      res.set(http::field::access_control_allow_origin, origin);
      res.set(http::field::vary, "Origin");
      respond(std::move(res));
    };
    if (req.method() == http::verb::options) {
      Response res{http::status::no_content, version};
      res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
      res.set(http::field::access_control_allow_headers,
              "Content-Type, Authorization, Last-Event-ID");
      res.set(http::field::access_control_max_age, "600");
      res.keep_alive(keep_alive);
      res.prepare_payload();
      return respond(std::move(res));
    }
  }
  std::string path;
  Params params;
  Status s = ParseTarget(View(req.target()), &path, &params);
  if (!s.ok()) return respond(StatusResponse(s, Origin::kParameters, version, keep_alive));

  // The page (web_assets.h): GET / and its assets.
  if (path == "/" || path.starts_with("/assets/")) {
    const WebAsset* asset = FindWebAsset(path);
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      Response res = ErrorResponse(http::status::method_not_allowed, "method_not_allowed",
                                   std::string(req.method_string()) + " is not allowed on " +
                                       path + "; allowed: GET",
                                   version, keep_alive);
      res.set(http::field::allow, "GET");
      return respond(std::move(res));
    }
    if (asset == nullptr) {
      return respond(ErrorResponse(
          http::status::not_found, "not_found",
          path == "/" ? "this twinline was built without its page (node and npm were missing "
                        "at build time: install them and rebuild); the API is under /v1/"
                      : "no such asset: " + path,
          version, keep_alive));
    }
    Response res = MakeBody(http::status::ok, asset->content_type,
                            std::string(reinterpret_cast<const char*>(asset->data), asset->size),
                            version, keep_alive);
    // The page is part of the binary: it changes only with it.
    res.set(http::field::cache_control, path == "/" ? "no-cache" : "max-age=3600");
    return respond(std::move(res));
  }

  struct Endpoint {
    const char* path;
    const char* methods;  // for Allow
  };
  static constexpr Endpoint kEndpoints[] = {
      {"/v1/health", "GET"},    {"/v1/events", "GET, POST"}, {"/v1/entities", "GET"},
      {"/v1/stats", "GET"},     {"/v1/replay", "GET"},       {"/v1/diff", "GET"},
      {"/v1/subscribe", "GET"},
  };
  const Endpoint* endpoint = nullptr;
  for (const Endpoint& e : kEndpoints) {
    if (path == e.path) endpoint = &e;
  }
  if (endpoint == nullptr) {
    return respond(ErrorResponse(http::status::not_found, "not_found",
                                 "no such endpoint: " + path +
                                     " (see docs/openapi.yaml; endpoints live under /v1/)",
                                 version, keep_alive));
  }
  const http::verb method = req.method();
  const bool post_ok = path == "/v1/events";
  if (method != http::verb::get && !(post_ok && method == http::verb::post)) {
    Response res = ErrorResponse(http::status::method_not_allowed, "method_not_allowed",
                                 std::string(req.method_string()) + " is not allowed on " + path +
                                     "; allowed: " + endpoint->methods,
                                 version, keep_alive);
    res.set(http::field::allow, endpoint->methods);
    return respond(std::move(res));
  }
  if (method == http::verb::post) return PostEvents(req, params, std::move(respond));
  if (path == "/v1/health") {
    s = CheckParams(params, {});
    return respond(s.ok() ? Health(req) : StatusResponse(s, Origin::kParameters, version, keep_alive));
  }
  if (path == "/v1/events") return respond(GetEvents(req, params));
  if (path == "/v1/entities") return respond(Entities(req, params));
  if (path == "/v1/replay") return respond(Replay(req, params));
  if (path == "/v1/diff") return respond(Diff(req, params));
  if (path == "/v1/stats") {
    s = CheckParams(params, {});
    return respond(s.ok() ? Stats(req) : StatusResponse(s, Origin::kParameters, version, keep_alive));
  }
  // /v1/subscribe reaches here only if the server did not take it over.
  respond(ErrorResponse(http::status::internal_server_error, "internal",
                        "subscription not handled", version, false));
}

bool Routes::IsSubscribe(const Request& req) const {
  const std::string_view target = View(req.target());
  return req.method() == http::verb::get &&
         target.substr(0, target.find('?')) == std::string_view("/v1/subscribe");
}

Response Routes::SubscribeStart(const Request& req, uint64_t* after, bool* ok) const {
  *ok = false;
  const unsigned version = req.version();
  std::string path;
  Params params;
  Status s = ParseTarget(View(req.target()), &path, &params);
  if (s.ok()) s = CheckParams(params, {"after", "since"});
  const std::string* after_text = Param(params, "after");
  const std::string* since_text = Param(params, "since");
  if (s.ok() && after_text != nullptr && since_text != nullptr) {
    s = Status::InvalidArgument("give 'after' or 'since', not both").WithField("since");
  }
  if (!s.ok()) return StatusResponse(s, Origin::kParameters, version, false);

  std::unique_ptr<ReadTxn> txn;
  s = log_->BeginRead(&txn);
  if (!s.ok()) return StatusResponse(s, Origin::kParameters, version, false);
  const uint64_t last = txn->LastSeq();
  const auto last_event_id = req.find("Last-Event-ID");
  if (last_event_id != req.end()) {
    s = ParseU64(std::string(last_event_id->value()), "Last-Event-ID", after);
  } else if (after_text != nullptr) {
    s = ParseU64(*after_text, "after", after);
  } else if (since_text != nullptr) {
    s = ResolveSince(*txn, *since_text, after);
  } else {
    *after = last;
  }
  if (s.ok() && *after > last) {
    s = Status::InvalidArgument("seq " + std::to_string(*after) + " is beyond the log, at seq " +
                                std::to_string(last) + " (a different database?)")
            .WithField(last_event_id != req.end() ? "Last-Event-ID" : "after");
  }
  if (!s.ok()) return StatusResponse(s, Origin::kParameters, version, false);
  *ok = true;
  return Response();
}

Response Routes::Health(const Request& req) const {
  uint64_t last = 0;
  {
    std::unique_ptr<ReadTxn> txn;
    Status s = log_->BeginRead(&txn);
    if (!s.ok()) return StatusResponse(s, Origin::kParameters, req.version(), req.keep_alive());
    last = txn->LastSeq();
  }
  const bool stopping = stopping_.load();
  Json j{{"status", stopping ? "shutting_down" : "ok"},
         {"last_seq", last},
         {"read_only", options_.read_only},
         {"writes_need_token", !options_.token.empty()},
         {"subscribers", hub_ != nullptr ? hub_->subscribers() : 0}};
  if (committer_ != nullptr) {
    const GroupCommitter::Counters c = committer_->counters();
    j["commit_groups"] = c.groups;
    j["commit_batches"] = c.batches;
  }
  if (options_.replication_health) j["replication"] = Json::parse(options_.replication_health());
  return MakeJson(stopping ? http::status::service_unavailable : http::status::ok, api::DumpJson(j),
                  req.version(), req.keep_alive());
}

Response Routes::GetEvents(const Request& req, const Params& params) const {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  auto fail = [&](const Status& s) { return StatusResponse(s, Origin::kParameters, version, keep_alive); };

  Status s = CheckParams(params, {"after", "since", "limit", "entity", "kind", "from", "to"}, {"kind"});
  if (!s.ok()) return fail(s);
  api::EventQueryText text;
  text.kinds = SplitKinds(params);
  if (const std::string* v = Param(params, "from")) text.from = *v;
  if (const std::string* v = Param(params, "to")) text.to = *v;
  api::EventFilter filter;
  s = api::BuildEventFilter(text, "", &filter);
  if (!s.ok()) return fail(s);
  uint64_t limit = options_.default_limit;
  if (const std::string* v = Param(params, "limit")) {
    s = ParseU64(*v, "limit", &limit);
    if (!s.ok()) return fail(s);
    if (limit == 0 || limit > options_.max_limit) {
      return fail(Status::InvalidArgument("must be 1.." + std::to_string(options_.max_limit))
                      .WithField("limit"));
    }
  }
  const std::string* after_text = Param(params, "after");
  const std::string* since_text = Param(params, "since");
  if (after_text != nullptr && since_text != nullptr) {
    return fail(Status::InvalidArgument("give 'after' (a seq, the cursor) or 'since' (a recorded "
                                        "time), not both")
                    .WithField("since"));
  }

  api::ReadView view;
  s = api::BeginReadView(*log_, &view);
  if (!s.ok()) return fail(s);
  const ReadTxn& txn = *view.txn;
  const uint64_t last = txn.LastSeq();
  uint64_t after = 0;
  if (after_text != nullptr) s = ParseU64(*after_text, "after", &after);
  if (since_text != nullptr) s = ResolveSince(txn, *since_text, &after);
  if (s.ok() && after > last) {  // as GET /v1/subscribe refuses it
    s = Status::InvalidArgument("seq " + std::to_string(after) + " is beyond the log, at seq " +
                                std::to_string(last) + " (a different database?)")
            .WithField("after");
  }
  if (!s.ok()) return fail(s);
  std::string slug;
  if (const std::string* v = Param(params, "entity")) {
    s = view.resolver->Resolve(*v, &slug);
    if (!s.ok()) return fail(s.WithField("entity"));
  }

  // One pass in seq order: stop at `limit` matches or after `scan_budget`
  // records, remembering the last seq looked at: the cursor.
  std::string events;
  uint64_t count = 0, examined = 0, cursor = after;
  bool more = false;
  auto visit = [&](schema::Event::Reader ev) {
    const uint64_t seq = ev.getSeq();
    if (seq <= after) return true;  // the entity index starts at the beginning
    if (count == limit || examined == options_.scan_budget) {
      more = true;
      return false;
    }
    ++examined;
    cursor = seq;
    if (filter.Matches(ev)) {
      if (count > 0) events += ',';
      events += api::DumpJson(EncodeEvent(ev));
      ++count;
    }
    return true;
  };
  if (!slug.empty()) {
    // TODO(perf): ReadTxn::ScanEntity from a seq, so a late page does not
    // walk the entity's earlier events.
    s = txn.ScanEntity(slug, visit);
  } else if (after < last) {
    s = txn.Scan(after + 1, last, visit);
  }
  if (!s.ok()) return fail(s);
  if (!more) cursor = std::max(after, last);
  std::string body = "{\"events\":[" + events + "],\"last_seq\":" + std::to_string(last) +
                     ",\"next_after\":" + std::to_string(cursor) +
                     ",\"more\":" + (more ? "true" : "false") + "}";
  return MakeJson(http::status::ok, std::move(body), version, keep_alive);
}

void Routes::PostEvents(const Request& req, const Params& params, Respond respond) const {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  if (options_.read_only || committer_ == nullptr) {
    return respond(ErrorResponse(http::status::forbidden, "read_only",
                                 options_.read_only_reason.empty()
                                     ? "this server is read-only (--read-only): it accepts no writes"
                                     : options_.read_only_reason,
                                 version, keep_alive));
  }
  if (!options_.token.empty()) {
    const auto auth = req.find(http::field::authorization);
    if (auth == req.end() || !BearerMatches(View(auth->value()), options_.token)) {
      Response res = ErrorResponse(
          http::status::unauthorized, "unauthorized",
          auth == req.end() ? "writes need a bearer token: Authorization: Bearer <token>"
                            : "the bearer token is not the server's",
          version, keep_alive);
      res.set(http::field::www_authenticate, "Bearer realm=\"twinline\"");
      return respond(std::move(res));
    }
  }
  Status s = CheckParams(params, {"expect_seq"});
  AppendOptions append_options;
  if (s.ok()) {
    if (const std::string* v = Param(params, "expect_seq")) {
      uint64_t seq = 0;
      s = ParseU64(*v, "expect_seq", &seq);
      append_options.expected_last_seq = seq;
    }
  }
  if (!s.ok()) return respond(StatusResponse(s, Origin::kParameters, version, keep_alive));

  const std::string_view media = MediaType(View(req[http::field::content_type]));
  const bool ndjson = EqualsIgnoreCase(media, "application/x-ndjson") ||
                      EqualsIgnoreCase(media, "application/ndjson");
  if (!ndjson && !EqualsIgnoreCase(media, "application/json")) {
    return respond(ErrorResponse(
        http::status::unsupported_media_type, "unsupported_media_type",
        (media.empty() ? std::string("no Content-Type given")
                       : "Content-Type '" + std::string(media) + "' is not accepted") +
            "; send application/json (an array of events) or application/x-ndjson (one "
            "event per line)",
        version, keep_alive));
  }

  // Decode everything against one snapshot before anything is written.
  api::DecodedBatch batch;
  {
    api::ReadView view;
    s = api::BeginReadView(*log_, &view);
    if (!s.ok()) return respond(StatusResponse(s, Origin::kBody, version, keep_alive));
    int64_t failed_at = -1;
    const DecodeOptions decode_options;
    if (ndjson) {
      s = api::DecodeNdjsonBatch(req.body(), *view.resolver, decode_options, &batch, &failed_at);
    } else {
      nlohmann::json json;
      try {
        json = nlohmann::json::parse(req.body());
      } catch (const nlohmann::json::exception& e) {
        // "[json.exception.parse_error.101] parse error at line 1, column 7: ...",
        // or a number no double holds: "[json.exception.out_of_range.406]
        // number overflow parsing '1e400'" (not a parse_error).
        std::string what = e.what();
        size_t at = what.find("parse error");
        if (at == std::string::npos && what.find("] ") != std::string::npos) at = what.find("] ") + 2;
        return respond(ErrorResponse(http::status::bad_request, "invalid_json",
                                     "the body is not JSON: " +
                                         (at == std::string::npos ? what : what.substr(at)),
                                     version, keep_alive));
      }
      s = api::DecodeJsonBatch(json, *view.resolver, decode_options, &batch, &failed_at);
    }
    if (!s.ok()) {
      // No position: the body's shape is wrong (not an array), not an event.
      if (failed_at < 0) return respond(StatusResponse(s, Origin::kParameters, version, keep_alive));
      Json e = StatusErrorJson(s);
      e[ndjson ? "line" : "index"] = failed_at;
      return respond(ErrorJson(HttpStatusFor(s, Origin::kBody), std::move(e), version, keep_alive));
    }
  }  // the snapshot ends before the write
  if (batch.events.empty()) {
    return respond(ErrorResponse(http::status::bad_request, "empty_batch",
                                 "the body holds no events", version, keep_alive));
  }

  auto positions = std::make_shared<std::vector<int64_t>>(std::move(batch.positions));
  auto done = [respond, positions, ndjson, version, keep_alive](const Status& st,
                                                                AppendResult result) {
    if (!st.ok()) {
      Json e = StatusErrorJson(st);
      if (st.index() >= 0 && static_cast<size_t>(st.index()) < positions->size()) {
        e[ndjson ? "line" : "index"] = (*positions)[static_cast<size_t>(st.index())];
      }
      return respond(ErrorJson(HttpStatusFor(st, Origin::kBody), std::move(e), version, keep_alive));
    }
    Json j{{"appended", result.appended},
           {"corroborated", result.corroborated},
           {"duplicates", result.duplicates},
           {"last_seq", result.last_seq},
           {"recorded_at", result.recorded_at != 0 ? Json(FormatTimestamp(result.recorded_at))
                                                    : Json(nullptr)}};
    Json outcomes = Json::array();
    for (const AppendOutcome& o : result.outcomes) outcomes.push_back(api::OutcomeJson(o));
    j["events"] = std::move(outcomes);
    respond(MakeJson(http::status::ok, api::DumpJson(j), version, keep_alive));
  };
  if (!committer_->Submit(std::move(batch.events), append_options, std::move(done))) {
    respond(ErrorResponse(http::status::service_unavailable, "shutting_down",
                          "the server is shutting down; nothing was written", version, false));
  }
}

Response Routes::Entities(const Request& req, const Params& params) const {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  auto fail = [&](const Status& s) { return StatusResponse(s, Origin::kParameters, version, keep_alive); };
  Status s = CheckParams(params, {"name"});
  if (!s.ok()) return fail(s);
  api::ReadView view;
  s = api::BeginReadView(*log_, &view);
  if (!s.ok()) return fail(s);
  Json j;
  if (const std::string* name = Param(params, "name")) {
    std::string slug;
    s = view.resolver->Resolve(*name, &slug);
    if (!s.ok()) return fail(s.WithField("name"));
    s = api::EntityDetailJson(*view.txn, slug, &j);
  } else {
    Json array;
    s = api::EntitiesJson(*view.txn, &array);
    j = Json{{"entities", std::move(array)}};
  }
  if (!s.ok()) return fail(s);
  return MakeJson(http::status::ok, api::DumpJson(j), version, keep_alive);
}

Response Routes::Stats(const Request& req) const {
  std::unique_ptr<ReadTxn> txn;
  Status s = log_->BeginRead(&txn);
  LogStats st;
  if (s.ok()) s = txn->Stats(&st);
  if (!s.ok()) return StatusResponse(s, Origin::kParameters, req.version(), req.keep_alive());
  return MakeJson(http::status::ok, api::DumpJson(api::StatsJson(st)), req.version(),
                  req.keep_alive());
}

Response Routes::Replay(const Request& req, const Params& params) const {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  auto fail = [&](const Status& s) { return StatusResponse(s, Origin::kParameters, version, keep_alive); };
  Status s = CheckParams(params, {"as_of", "known_at", "projection", "entity", "dates", "format",
                                  "from", "to", "step", "layer", "top", "edges"});
  if (s.ok()) s = CheckNotEmpty(params);
  if (!s.ok()) return fail(s);
  api::ReplayRequest r;
  r.style = api::ParamStyle::kUrl;
  r.format = "json";  // an HTTP client reads JSON unless it asks otherwise
  r.max_steps = options_.max_series_steps;
  Take(params, "as_of", &r.as_of);
  Take(params, "from", &r.from);
  Take(params, "to", &r.to);
  Take(params, "step", &r.step);
  Take(params, "layer", &r.layer);
  Take(params, "top", &r.top);
  TakeShared(params, &r.projection, &r.format, &r.common);
  std::string format;
  s = api::ReplayFormat(r, &format);  // before the snapshot: reads nothing
  if (!s.ok()) return fail(s);
  std::vector<std::string> notes;
  Response res = RenderOnSnapshot(*log_, req, ContentTypeFor(format),
                                  [&](api::ReadView& view, std::ostream& body) {
                                    return api::RenderReplay(view, r, body, logger_.get(), &notes);
                                  });
  // What the answer leaves out (a GeoJSON's nodes without coordinates), as
  // the CLI says it on stderr.
  std::string omitted;
  for (const std::string& note : notes) omitted += (omitted.empty() ? "" : "; ") + note;
  if (!omitted.empty()) res.set("X-Twinline-Omitted", omitted);
  return res;
}

Response Routes::Diff(const Request& req, const Params& params) const {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  auto fail = [&](const Status& s) { return StatusResponse(s, Origin::kParameters, version, keep_alive); };
  Status s = CheckParams(params, {"from", "to", "as_of", "known_at", "vs_known_at", "projection",
                                  "entity", "dates", "format", "edges", "events", "limit",
                                  "sources"});
  if (s.ok()) s = CheckNotEmpty(params);
  if (!s.ok()) return fail(s);
  api::DiffRequest r;
  r.style = api::ParamStyle::kUrl;
  r.format = "json";
  Take(params, "from", &r.from);
  Take(params, "to", &r.to);
  Take(params, "as_of", &r.as_of);
  Take(params, "vs_known_at", &r.vs_known_at);
  Take(params, "events", &r.events);
  Take(params, "limit", &r.limit);
  if (const std::string* v = Param(params, "sources")) {
    s = ParseBool(*v, "sources", &r.sources);
    if (!s.ok()) return fail(s);
  }
  TakeShared(params, &r.projection, &r.format, &r.common);
  return RenderOnSnapshot(
      *log_, req, ContentTypeFor(r.format),
      [&](api::ReadView& view, std::ostream& body) { return api::RenderDiff(view, r, body); });
}

}  // namespace twinline::server
