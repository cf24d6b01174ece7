// End-to-end checks of `twinline serve`: the real binary (TWINLINE_BIN) on an
// ephemeral loopback port over a temporary copy of the bundled dataset
// (data/seed.ndjson, 96 events), spoken to by a small Beast client; the CLI
// runs alongside it as a separate process, as users run it. Replay and diff
// answers are compared with what the CLI prints on the same database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/server_process.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr uint64_t kSeedEvents = 96;
constexpr char kSource[] =
    R"("sources":[{"title":"Server test","publisher":"twinline tests","published":"2025","language":"en"}])";

// A count_reported fact about Chengdu; a different `value` is a different fact.
std::string CountEvent(int value, const std::string& metric = "server_test") {
  return std::string(R"({"kind":"count_reported","date":"2025-04-17","entity":"chengdu","metric":")") +
         metric + R"(","value":)" + std::to_string(value) + "," + kSource + "}";
}

// ---------------------------------------------------------------------------
// A small HTTP client: one request per connection unless a Connection is kept.

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json;  // the body, when it is JSON
  bool ok = false;  // a response arrived
  std::string error;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port) : stream_(ioc_) {
    stream_.expires_after(10s);
    stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                          [&](beast::error_code ec) { ec_ = ec; });
    Run();
  }

  bool connected() const { return !ec_; }

  HttpResult Send(http::verb method, const std::string& target, const std::string& body = "",
                  const Headers& headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!body.empty() || method == http::verb::post) {
      req.body() = body;
      req.prepare_payload();
    }
    return SendRequest(req);
  }

  // Writes `bytes` as they are (malformed requests), then reads a response.
  HttpResult SendRaw(const std::string& bytes) {
    Write(bytes);
    return ReadResponse();
  }
  void Write(const std::string& bytes) {
    stream_.expires_after(10s);
    net::async_write(stream_, net::buffer(bytes), [&](beast::error_code ec, size_t) { ec_ = ec; });
    Run();
  }
  HttpResult Read() { return ReadResponse(); }

  // Whether the server closes this connection within `within` (reads EOF).
  bool ClosedWithin(std::chrono::milliseconds within) {
    stream_.expires_after(within);
    char byte;
    beast::error_code result;
    stream_.async_read_some(net::buffer(&byte, 1),
                            [&](beast::error_code ec, size_t) { result = ec; });
    Run();
    return result == net::error::eof || result == net::error::connection_reset;
  }

 private:
  HttpResult SendRequest(http::request<http::string_body>& req) {
    stream_.expires_after(10s);
    http::async_write(stream_, req, [&](beast::error_code ec, size_t) { ec_ = ec; });
    Run();
    return ReadResponse();
  }

  HttpResult ReadResponse() {
    HttpResult result;
    if (ec_) {
      result.error = ec_.message();
      return result;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    stream_.expires_after(10s);
    http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, size_t) { ec_ = ec; });
    Run();
    if (ec_) {
      result.error = ec_.message();
      return result;
    }
    auto& res = parser.get();
    result.ok = true;
    result.status = res.result_int();
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.headers[name] = std::string(field.value());
    }
    result.body = res.body();
    if (result.headers["content-type"].rfind("application/json", 0) == 0) {
      result.json = Json::parse(result.body, nullptr, /*allow_exceptions=*/false);
    }
    return result;
  }

  void Run() {
    ioc_.run();
    ioc_.restart();
  }

  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code ec_;
};

// ---------------------------------------------------------------------------
// A Server-Sent Events client on a plain socket (reads can time out without
// losing the connection).

struct SseEvent {
  std::string id, event, data;
  Json json() const { return Json::parse(data); }
};

class SseClient {
 public:
  // Connects and sends GET `target`; `receive_buffer` > 0 shrinks the
  // socket's receive buffer (a client that reads slowly).
  SseClient(uint16_t port, const std::string& target, const Headers& headers = {},
            int receive_buffer = 0)
      : socket_(ioc_) {
    socket_.open(tcp::v4());
    if (receive_buffer > 0) {
      socket_.set_option(net::socket_base::receive_buffer_size(receive_buffer));
    }
    beast::error_code ec;
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return;
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    request += "\r\n";
    net::write(socket_, net::buffer(request), ec);
    if (ec) return;
    // The response header.
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!ReadMore(5s)) return;
    }
    const size_t end = buffer_.find("\r\n\r\n");
    head_ = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    if (head_.rfind("HTTP/1.1 ", 0) == 0) status_ = std::stoi(head_.substr(9, 3));
  }

  int status() const { return status_; }
  const std::string& head() const { return head_; }
  // The rest of a non-stream answer (an error's JSON body), read to the end.
  std::string RestOfBody() {
    while (ReadMore(2s)) {
    }
    return buffer_;
  }

  // The next event; comments (": ...") are skipped unless `comments`, when
  // they come back as an event named ":" with the text as data. nullopt on
  // end of stream or timeout.
  std::optional<SseEvent> Next(std::chrono::milliseconds timeout = 5s, bool comments = false) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const size_t end = buffer_.find("\n\n");
      if (end != std::string::npos) {
        const std::string block = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        SseEvent ev;
        bool comment_only = true;
        size_t pos = 0;
        while (pos <= block.size()) {
          size_t nl = block.find('\n', pos);
          if (nl == std::string::npos) nl = block.size();
          const std::string line = block.substr(pos, nl - pos);
          pos = nl + 1;
          if (line.empty()) continue;
          if (line[0] == ':') {
            if (comments && comment_only) {
              ev.event = ":";
              ev.data = line.substr(1);
            }
            continue;
          }
          comment_only = false;
          const size_t colon = line.find(':');
          const std::string field = line.substr(0, colon);
          std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
          if (!value.empty() && value[0] == ' ') value.erase(0, 1);
          if (field == "id") ev.id = value;
          if (field == "event") ev.event = value;
          if (field == "data") ev.data += value;
        }
        if (!comment_only) return ev;
        if (comments) return ev;
        continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadMore(left)) return std::nullopt;
    }
  }

  // Reads up to `n` events (skipping comments) within `timeout` overall.
  std::vector<SseEvent> Take(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::vector<SseEvent> events;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (events.size() < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      auto ev = Next(left);
      if (!ev) break;
      events.push_back(*ev);
    }
    return events;
  }

  // True when the server has closed the stream (EOF) within `timeout`,
  // everything before it having been read.
  bool EndsWithin(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || (!ReadMore(left) && !eof_)) return eof_;
    }
    return true;
  }

  void Close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  // Appends what arrives within `timeout`; false on timeout, error or EOF.
  bool ReadMore(std::chrono::milliseconds timeout) {
    if (eof_) return false;
    char buf[16384];
    beast::error_code result = net::error::would_block;
    size_t got = 0;
    socket_.async_read_some(net::buffer(buf), [&](beast::error_code ec, size_t n) {
      result = ec;
      got = n;
    });
    ioc_.run_for(timeout);
    if (!ioc_.stopped()) {
      socket_.cancel();
      ioc_.run();
    }
    ioc_.restart();
    if (result) {
      if (result != net::error::operation_aborted) eof_ = true;
      return false;
    }
    buffer_.append(buf, got);
    return true;
  }

  net::io_context ioc_;
  tcp::socket socket_;
  std::string buffer_;
  std::string head_;
  int status_ = 0;
  bool eof_ = false;
};

// ---------------------------------------------------------------------------
// The fixture: a copy of the seeded database per test, a server on it.

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    seeded_ = new test::TempDir("twinline-serve-seed");
    const std::string db = *seeded_ / "db";
    test::RunResult r = test::RunProgram({TWINLINE_BIN, "--db", db, "init"}, "", seeded_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = test::RunProgram({TWINLINE_BIN, "--db", db, "import", TWINLINE_SOURCE_DIR "/data/seed.ndjson"},
                         "", seeded_->path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete seeded_;
    seeded_ = nullptr;
  }

  void SetUp() override {
    db_ = dir_ / "db";
    fs::create_directory(db_);
    fs::copy_file(seeded_->path() / "db" / "data.mdb", fs::path(db_) / "data.mdb");
  }

  // Every server this fixture started must shut down cleanly on SIGTERM,
  // with nothing on stderr from a sanitizer (when built with one).
  void TearDown() override {
    if (!server_.running()) return;
    EXPECT_EQ(server_.Stop(SIGTERM), 0) << server_.Stderr();
    const std::string err = server_.Stderr();
    EXPECT_EQ(err.find("runtime error"), std::string::npos) << err;
    EXPECT_EQ(err.find("Sanitizer"), std::string::npos) << err;
  }

  void StartServer(const std::vector<std::string>& args = {}) {
    std::string error;
    ASSERT_TRUE(server_.Start(TWINLINE_BIN, db_, args, dir_.path(), &error)) << error;
  }

  test::RunResult Twl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {TWINLINE_BIN, "--db", db_});
    return test::RunProgram(args, input, dir_.path());
  }

  Json CliJson(const std::vector<std::string>& args) {
    test::RunResult r = Twl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out, nullptr, false);
  }

  HttpResult Get(const std::string& target, const Headers& headers = {}) {
    return HttpConnection(server_.port()).Send(http::verb::get, target, "", headers);
  }

  HttpResult Post(const std::string& target, const std::string& body,
                  const std::string& content_type = "application/json", Headers headers = {}) {
    if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
    return HttpConnection(server_.port()).Send(http::verb::post, target, body, headers);
  }

  // GET `target` and `twinline ARGS...` on the same database: the body must
  // be the CLI's stdout, byte for byte, served as `content_type`.
  void ExpectSameAsCli(const std::string& target, const std::vector<std::string>& args,
                       const std::string& content_type) {
    test::RunResult cli = Twl(args);
    ASSERT_EQ(cli.exit_code, 0) << cli.err;
    ASSERT_FALSE(cli.out.empty());
    HttpResult r = Get(target);
    ASSERT_TRUE(r.ok) << target << ": " << r.error;
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    EXPECT_EQ(r.headers["content-type"], content_type) << target;
    EXPECT_EQ(r.body, cli.out) << target;
  }

  uint64_t LastSeq() { return CliJson({"stats", "--format", "json"}).value("events", uint64_t{0}); }

  static test::TempDir* seeded_;
  test::TempDir dir_{"twinline-serve-test"};
  std::string db_;
  test::ServerProcess server_;
};

test::TempDir* ServeTest::seeded_ = nullptr;

// The error object of a JSON error answer.
Json Error(const HttpResult& r) { return r.json.value("error", Json::object()); }

// ---------------------------------------------------------------------------
// Reads

TEST_F(ServeTest, HealthSaysOkWithTheLastSeq) {
  StartServer();
  HttpResult r = Get("/v1/health");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.json["status"], "ok");
  EXPECT_EQ(r.json["last_seq"], kSeedEvents);
  EXPECT_EQ(r.json["read_only"], false);
  EXPECT_EQ(r.json["writes_need_token"], false);
}

TEST_F(ServeTest, EventsPagesWithTheCursorCoverTheLogOnceInOrder) {
  StartServer();
  const Json all = CliJson({"log", "--format", "json"});
  ASSERT_EQ(all.size(), kSeedEvents);
  Json collected = Json::array();
  uint64_t after = 0;
  int pages = 0;
  for (;;) {
    HttpResult r = Get("/v1/events?limit=10&after=" + std::to_string(after));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& ev : r.json["events"]) collected.push_back(ev);
    EXPECT_EQ(r.json["last_seq"], kSeedEvents);
    after = r.json["next_after"].get<uint64_t>();
    ++pages;
    if (!r.json["more"].get<bool>()) break;
    ASSERT_LT(pages, 20);
  }
  EXPECT_EQ(pages, 10);
  EXPECT_EQ(after, kSeedEvents);
  // Exactly what `twinline log --format json` renders.
  EXPECT_EQ(collected, all);
}

TEST_F(ServeTest, EventsFilterByEntityInAnyLanguageKindAndValidDates) {
  StartServer();
  HttpResult r = Get("/v1/events?entity=%E9%87%8D%E5%BA%86");  // 重庆
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["events"], CliJson({"log", "--entity", "重庆", "--format", "json"}));
  EXPECT_GT(r.json["events"].size(), 0u);

  r = Get("/v1/events?entity=Chengdu&kind=partnership_established,count_reported");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["events"], CliJson({"log", "--entity", "Chengdu", "--kind",
                                       "partnership_established", "--kind", "count_reported",
                                       "--format", "json"}));

  r = Get("/v1/events?from=2004&to=2011-03&kind=partnership_established&kind=route_opened");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["events"],
            CliJson({"log", "--from", "2004", "--to", "2011-03", "--kind", "partnership_established",
                     "--kind", "route_opened", "--format", "json"}));
  EXPECT_GT(r.json["events"].size(), 0u);
}

TEST_F(ServeTest, EventsEntityPagesResumeAfterTheCursor) {
  StartServer();
  const Json all = CliJson({"log", "--entity", "chengdu", "--format", "json"});
  ASSERT_GT(all.size(), 3u);
  HttpResult first = Get("/v1/events?entity=chengdu&limit=3");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.json["events"].size(), 3u);
  EXPECT_TRUE(first.json["more"].get<bool>());
  HttpResult rest = Get("/v1/events?entity=chengdu&limit=1000&after=" +
                        std::to_string(first.json["next_after"].get<uint64_t>()));
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_FALSE(rest.json["more"].get<bool>());
  Json joined = first.json["events"];
  for (const auto& ev : rest.json["events"]) joined.push_back(ev);
  EXPECT_EQ(joined, all);
}

TEST_F(ServeTest, EventsSinceARecordedTimeStartAtTheFirstEventRecordedThen) {
  StartServer();
  HttpResult r = Get("/v1/events?since=1999-01-01&limit=1000");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["events"].size(), kSeedEvents);
  r = Post("/v1/events", "[" + CountEvent(1) + "]");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string recorded = r.json["recorded_at"].get<std::string>();
  r = Get("/v1/events?since=" + recorded);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["events"].size(), 1u);
  EXPECT_EQ(r.json["events"][0]["seq"], kSeedEvents + 1);
  EXPECT_EQ(r.json["events"][0]["recorded_at"], recorded);
  r = Get("/v1/events?since=2999");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["events"].size(), 0u);
}

TEST_F(ServeTest, EventsRefuseBadParametersNamingThem) {
  StartServer();
  struct Case {
    std::string target;
    int status;
    std::string field;
  } cases[] = {
      {"/v1/events?limt=5", 400, "limt"},
      {"/v1/events?limit=0", 400, "limit"},
      {"/v1/events?limit=abc", 400, "limit"},
      {"/v1/events?limit=1001", 400, "limit"},
      {"/v1/events?kind=partnership", 400, "kind"},
      {"/v1/events?from=2021-02-30", 400, "from"},
      {"/v1/events?from=2020&to=2010", 400, "from"},
      {"/v1/events?after=1&since=2020", 400, "since"},
      {"/v1/events?since=yesterday", 400, "since"},
      {"/v1/events?after=-1", 400, "after"},
      {"/v1/events?after=100000", 400, "after"},  // beyond the log, as /v1/subscribe
      {"/v1/events?limit=1&limit=2", 400, "limit"},
      {"/v1/events?entity=Dusseldorff", 404, "entity"},
      {"/v1/events?entity=%ZZ", 400, ""},
      {"/v1/events?limit=%FF", 400, "limit"},  // not UTF-8: quoted with a replacement
      {"/v1/events?%FF=1", 400, ""},
      {"/v1/events?entity=%FF", 400, "entity"},
      {"/v1/%FF", 404, ""},
  };
  for (const Case& c : cases) {
    HttpResult r = Get(c.target);
    EXPECT_EQ(r.status, c.status) << c.target << ": " << r.body;
    EXPECT_TRUE(Error(r).contains("message")) << c.target;
    if (!c.field.empty()) {
      EXPECT_EQ(Error(r).value("field", ""), c.field) << c.target;
    }
  }
  HttpResult r = Get("/v1/events?entity=Dusseldorff");
  EXPECT_EQ(Error(r)["code"], "not_found");
  EXPECT_THAT(Error(r)["message"].get<std::string>(), HasSubstr("did you mean: duesseldorf"));
}

TEST_F(ServeTest, EntitiesListAndFindByNameInAnyLanguage) {
  StartServer();
  HttpResult r = Get("/v1/entities");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["entities"], CliJson({"entities", "--format", "json"}));
  r = Get("/v1/entities?name=%E9%87%8D%E5%BA%86");  // 重庆
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json, CliJson({"entities", "重庆", "--format", "json"}));
  EXPECT_EQ(r.json["slug"], "chongqing");
  r = Get("/v1/entities?name=D%C3%BCsseldorf");  // Düsseldorf
  EXPECT_EQ(r.json["slug"], "duesseldorf");
  r = Get("/v1/entities?name=Duesseldorf");
  EXPECT_EQ(r.json["slug"], "duesseldorf");
  r = Get("/v1/entities?name=Dusseldorff");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Error(r)["field"], "name");
}

TEST_F(ServeTest, StatsAreWhatTheCliPrints) {
  StartServer();
  HttpResult r = Get("/v1/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json, CliJson({"stats", "--format", "json"}));
}

TEST_F(ServeTest, UnknownPathIs404AndWrongMethodIs405) {
  StartServer();
  HttpResult r = Get("/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Error(r)["code"], "not_found");
  r = HttpConnection(server_.port()).Send(http::verb::delete_, "/v1/events");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, POST");
  r = Post("/v1/stats", "[]");
  EXPECT_EQ(r.status, 405);
}

TEST_F(ServeTest, KeepAliveConnectionServesSeveralRequests) {
  StartServer();
  HttpConnection c(server_.port());
  for (int i = 0; i < 3; ++i) {
    HttpResult r = c.Send(http::verb::get, "/v1/health");
    ASSERT_EQ(r.status, 200) << r.error;
  }
}

// ---------------------------------------------------------------------------
// Replay and diff

TEST_F(ServeTest, ReplayAnswersAreByteIdenticalToTheCli) {
  StartServer();
  struct Case {
    std::string target;
    std::vector<std::string> args;
    std::string content_type;
  };
  const std::vector<Case> cases = {
      {"/v1/replay?as_of=2025",
       {"replay", "--as-of", "2025", "--format", "json"},
       "application/json"},
      {"/v1/replay?as_of=1981&entity=%E6%88%90%E9%83%BD",  // 成都
       {"replay", "--as-of", "1981", "--entity", "成都", "--format", "json"},
       "application/json"},
      {"/v1/replay?as_of=2000&entity=huangnixiang&dates=earliest&format=csv",
       {"replay", "--as-of", "2000", "--entity", "huangnixiang", "--dates", "earliest", "--format",
        "csv"},
       "text/csv; charset=utf-8"},
      {"/v1/replay?as_of=2025&entity=chengdu&format=table",
       {"replay", "--as-of", "2025", "--entity", "chengdu"},
       "text/plain; charset=utf-8"},
      {"/v1/replay?as_of=2024-06&projection=trade",
       {"replay", "--as-of", "2024-06", "--projection", "trade", "--format", "json"},
       "application/json"},
      {"/v1/replay?as_of=2024&projection=trade&format=csv",
       {"replay", "--as-of", "2024", "--projection", "trade", "--format", "csv"},
       "text/csv; charset=utf-8"},
      {"/v1/replay?as_of=2025&projection=network",
       {"replay", "--as-of", "2025", "--projection", "network", "--format", "json"},
       "application/json"},
      {"/v1/replay?as_of=2025&projection=network&format=graphml",
       {"replay", "--as-of", "2025", "--projection", "network", "--format", "graphml"},
       "application/graphml+xml"},
      {"/v1/replay?as_of=2025&projection=network&format=geojson",
       {"replay", "--as-of", "2025", "--projection", "network", "--format", "geojson"},
       "application/geo+json"},
      {"/v1/replay?as_of=2025&projection=network&format=table",
       {"replay", "--as-of", "2025", "--projection", "network"},
       "text/plain; charset=utf-8"},
      {"/v1/replay?as_of=2025&projection=timeline&entity=%E9%87%8D%E5%BA%86",  // 重庆
       {"replay", "--as-of", "2025", "--projection", "timeline", "--entity", "重庆", "--format",
        "json"},
       "application/json"},
      {"/v1/replay?as_of=2025&projection=timeline&entity=chengdu&known_at=@60&format=table",
       {"replay", "--as-of", "2025", "--projection", "timeline", "--entity", "chengdu",
        "--known-at", "@60"},
       "text/plain; charset=utf-8"},
      {"/v1/replay?from=2019&to=2025",
       {"replay", "--from", "2019", "--to", "2025", "--format", "json"},
       "application/json"},
      {"/v1/replay?from=2019&to=2025&format=csv",
       {"replay", "--from", "2019", "--to", "2025"}, "text/csv; charset=utf-8"},
      {"/v1/replay?as_of=2025&projection=countries&top=3",
       {"replay", "--as-of", "2025", "--projection", "countries", "--top", "3", "--format", "json"},
       "application/json"},
      {"/v1/replay?as_of=1981-06-30&projection=countries&format=csv&layer=edges&top=all",
       {"replay", "--as-of", "1981-06-30", "--projection", "countries", "--format", "csv",
        "--layer", "edges", "--top", "all"},
       "text/csv; charset=utf-8"},
      {"/v1/replay?from=2023-01&to=2024-06&step=month&entity=chengdu&dates=latest&format=table",
       {"replay", "--from", "2023-01", "--to", "2024-06", "--step", "month", "--entity", "chengdu",
        "--dates", "latest", "--format", "table"},
       "text/plain; charset=utf-8"},
      // The partners of one entity; one kind of edge alone.
      {"/v1/replay?as_of=2025&projection=partners&entity=chengdu",
       {"replay", "--as-of", "2025", "--projection", "partners", "--entity", "chengdu", "--format",
        "json"},
       "application/json"},
      {"/v1/replay?as_of=2025&projection=partners&entity=Qingdao&format=table",
       {"replay", "--as-of", "2025", "--projection", "partners", "--entity", "Qingdao"},
       "text/plain; charset=utf-8"},
      {"/v1/replay?as_of=2025&projection=partners&entity=chengdu&edges=routes&format=csv",
       {"replay", "--as-of", "2025", "--projection", "partners", "--entity", "chengdu", "--edges",
        "routes", "--format", "csv"},
       "text/csv; charset=utf-8"},
      {"/v1/replay?as_of=2025&projection=network&edges=partnerships",
       {"replay", "--as-of", "2025", "--projection", "network", "--edges", "partnerships",
        "--format", "json"},
       "application/json"},
      {"/v1/replay?as_of=2025&edges=routes&format=table",
       {"replay", "--as-of", "2025", "--edges", "routes"},
       "text/plain; charset=utf-8"},
      {"/v1/replay?from=2019&to=2025&edges=partnerships&format=csv",
       {"replay", "--from", "2019", "--to", "2025", "--edges", "partnerships"},
       "text/csv; charset=utf-8"},
  };
  for (const Case& c : cases) ExpectSameAsCli(c.target, c.args, c.content_type);
}

TEST_F(ServeTest, DiffAnswersAreByteIdenticalToTheCli) {
  StartServer();
  ExpectSameAsCli("/v1/diff?from=2003&to=2005", {"diff", "2003", "2005", "--format", "json"},
                  "application/json");
  ExpectSameAsCli("/v1/diff?from=2003&to=2005&format=table", {"diff", "2003", "2005"},
                  "text/plain; charset=utf-8");
  ExpectSameAsCli("/v1/diff?from=2020&to=2025&entity=Qingdao&projection=network&format=table",
                  {"diff", "2020", "2025", "--entity", "Qingdao", "--projection", "network"},
                  "text/plain; charset=utf-8");
  ExpectSameAsCli("/v1/diff?from=2003&to=2005&sources=true&limit=3",
                  {"diff", "2003", "2005", "--format", "json", "--sources", "--limit", "3"},
                  "application/json");
  ExpectSameAsCli("/v1/diff?from=2003&to=2005&sources=false&format=table",
                  {"diff", "2003", "2005"}, "text/plain; charset=utf-8");
  for (const std::string field : {"sources", "limit"}) {
    HttpResult r = Get("/v1/diff?from=2003&to=2005&" + field + "=yes");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Error(r)["field"], field) << r.body;
  }
  ExpectSameAsCli("/v1/diff?from=2000&to=2025&known_at=@50&dates=earliest&projection=counts",
                  {"diff", "2000", "2025", "--known-at", "@50", "--dates", "earliest", "--projection",
                   "counts", "--format", "json"},
                  "application/json");
  // One kind of edge, and what happened in between, listed up to `events`.
  ExpectSameAsCli("/v1/diff?from=2019&to=2025&edges=routes&events=1&format=table",
                  {"diff", "2019", "2025", "--edges", "routes", "--events", "1"},
                  "text/plain; charset=utf-8");
  ExpectSameAsCli(
      "/v1/diff?from=2003&to=2005&edges=partnerships&events=0",
      {"diff", "2003", "2005", "--edges", "partnerships", "--events", "0", "--format", "json"},
      "application/json");
}

TEST_F(ServeTest, ReplayCountsAreCertainPossibleRangesOnTheAsOfDay) {
  StartServer();
  // Chengdu–Montpellier is dated 1981: possible within the year, certain at its end.
  HttpResult r = Get("/v1/replay?as_of=1981-06-30&entity=Chengdu");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["as_of"], "1981-06-30");
  EXPECT_EQ(r.json["known_seq"], kSeedEvents);
  EXPECT_EQ(r.json["dates"], "range");
  ASSERT_EQ(r.json["entities"].size(), 1u) << r.body;
  Json partnerships = r.json["entities"]["chengdu"]["partnerships"];
  EXPECT_EQ(partnerships["certain"], 0);
  EXPECT_EQ(partnerships["possible"], 1);
  r = Get("/v1/replay?as_of=1981&entity=chengdu");
  ASSERT_EQ(r.status, 200) << r.body;
  partnerships = r.json["entities"]["chengdu"]["partnerships"];
  EXPECT_EQ(partnerships["certain"], 1);
  EXPECT_EQ(partnerships["by_country"]["FR"]["certain"], 1);
  // The entity's own figure beside what the log knows.
  r = Get("/v1/replay?as_of=2025&entity=chengdu");
  ASSERT_EQ(r.status, 200) << r.body;
  bool found = false;
  for (const Json& rep : r.json["entities"]["chengdu"]["reported"]) {
    if (rep["metric"] != "partner_cities" || rep["scope"] != "") continue;
    found = true;
    EXPECT_EQ(rep["value"], 241);
    EXPECT_EQ(rep["log_knows"]["certain"], 1);
  }
  EXPECT_TRUE(found) << r.body;
}

TEST_F(ServeTest, ReplayTradeIsPossibleDuringItsPeriodAndCertainAfter) {
  StartServer();
  HttpResult r = Get("/v1/replay?as_of=2024-06&projection=trade");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["trade"].size(), 1u) << r.body;
  EXPECT_EQ(r.json["trade"][0]["reporter"], "chengdu");
  EXPECT_EQ(r.json["trade"][0]["status"], "maybe");
  EXPECT_EQ(r.json["totals"][0]["certain"], 0.0);
  EXPECT_EQ(r.json["totals"][0]["possible"], 142160000000.0);
  r = Get("/v1/replay?as_of=2024&projection=trade");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["trade"][0]["status"], "yes");
  EXPECT_EQ(r.json["totals"][0]["certain"], 142160000000.0);
  r = Get("/v1/replay?as_of=2010&projection=trade");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json["trade"].empty()) << r.body;
}

TEST_F(ServeTest, ReplayNetworkComesAsJsonGraphmlOrGeojson) {
  StartServer();
  HttpResult r = Get("/v1/replay?as_of=2025&projection=network");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["nodes"].size(), 16u);
  EXPECT_EQ(r.json["edges"].size(), 10u);
  r = Get("/v1/replay?as_of=2025&projection=network&format=graphml");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/graphml+xml");
  EXPECT_EQ(r.body.rfind("<?xml", 0), 0u) << r.body.substr(0, 100);
  EXPECT_THAT(r.body, HasSubstr("<node id=\"chongqing\">"));
  r = Get("/v1/replay?as_of=2025&projection=network&format=geojson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/geo+json");
  const Json geo = Json::parse(r.body, nullptr, false);
  EXPECT_EQ(geo["type"], "FeatureCollection");
  EXPECT_EQ(geo["features"].size(), 12u);
  // In 1900 only the ties with an open start ("../2023-10-06") may exist:
  // possible edges, none certain; read at their latest day, none at all.
  r = Get("/v1/replay?as_of=1900&projection=network");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["edges"].size(), 2u) << r.body;
  for (const Json& e : r.json["edges"]) EXPECT_EQ(e["status"], "maybe") << r.body;
  r = Get("/v1/replay?as_of=1900&projection=network&dates=latest");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json["nodes"].empty()) << r.body;
  EXPECT_TRUE(r.json["edges"].empty()) << r.body;
}

TEST_F(ServeTest, ReplayCountriesAggregatesTheNetworkByCountryWithCertainAndPossible) {
  StartServer();
  // Mid-1981 Chengdu–Montpellier (dated 1981) only possibly holds: CN–FR is
  // a possible link; at the end of 2025 the network's six partnerships all
  // touch China, Chongqing–Düsseldorf among them.
  HttpResult r = Get("/v1/replay?as_of=1981-06-30&projection=countries");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["known_seq"], kSeedEvents);
  Json link;
  for (const Json& l : r.json["links"]) {
    if (l["a"] == "CN" && l["b"] == "FR") link = l;
  }
  ASSERT_FALSE(link.is_null()) << r.body;
  EXPECT_EQ(link["partnerships"], (Json{{"certain", 0}, {"possible", 1}}));

  r = Get("/v1/replay?as_of=2025&projection=countries&top=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["partnerships"], (Json{{"certain", 6}, {"possible", 6}}));
  EXPECT_EQ(r.json["routes"], (Json{{"certain", 4}, {"possible", 4}}));
  EXPECT_EQ(r.json["links_total"], 8);
  ASSERT_EQ(r.json["links"].size(), 2u);  // the two strongest: CN–BE and CN–DE, one of each kind
  EXPECT_EQ(r.json["links"][0], (Json{{"a", "BE"}, {"b", "CN"},
                                      {"partnerships", {{"certain", 1}, {"possible", 1}}},
                                      {"routes", {{"certain", 1}, {"possible", 1}}}}));
  EXPECT_EQ(r.json["links"][1]["a"], "CN");
  EXPECT_EQ(r.json["links"][1]["b"], "DE");
  const Json& first = r.json["countries"][0];  // Europe has no country: null, listed first
  EXPECT_TRUE(first["country"].is_null()) << r.body;
  EXPECT_EQ(first["routes"], (Json{{"certain", 1}, {"possible", 1}}));
  for (const Json& c : r.json["countries"]) {
    if (c["country"] == "CN") {
      EXPECT_EQ(c["partnerships"]["certain"], 6);
    }
  }

  struct Refused {
    std::string target, field;
  };
  for (const Refused& c : std::vector<Refused>{
           {"/v1/replay?as_of=2025&projection=countries&entity=chengdu", "entity"},
           {"/v1/replay?as_of=2025&projection=network&top=5", "top"},
           {"/v1/replay?as_of=2025&projection=countries&top=many", "top"},
           {"/v1/replay?as_of=2025&projection=countries&format=csv", "layer"},
           {"/v1/replay?as_of=2025&projection=countries&format=graphml", "format"},
       }) {
    r = Get(c.target);
    EXPECT_EQ(r.status, 400) << c.target << ": " << r.body;
    EXPECT_EQ(Error(r)["field"], c.field) << c.target << ": " << r.body;
  }
}

TEST_F(ServeTest, ReplayTimelineTellsOneEntitysStoryWithSources) {
  StartServer();
  HttpResult r = Get("/v1/replay?as_of=2025&projection=timeline&entity=%E9%87%8D%E5%BA%86");  // 重庆
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["entity"], "chongqing");
  ASSERT_EQ(r.json["events"].size(), 5u) << r.body;
  const Json& first = r.json["events"][0];
  EXPECT_EQ(first["date"], "2004-07-22");
  EXPECT_EQ(first["kind"], "partnership_established");
  EXPECT_EQ(first["id"], "ev-658f2256f99761dd");
  ASSERT_EQ(first["sources"].size(), 1u);
  EXPECT_EQ(first["sources"][0]["publisher"], "nrwheute");
  // Nothing of it had happened by 2000.
  r = Get("/v1/replay?as_of=2000&projection=timeline&entity=chongqing");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json["events"].empty()) << r.body;
}

TEST_F(ServeTest, ReplaySeriesHasOneRowPerStep) {
  StartServer();
  HttpResult r = Get("/v1/replay?from=2019&to=2025");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["step"], "year");
  ASSERT_EQ(r.json["series"].size(), 7u) << r.body;
  EXPECT_EQ(r.json["series"][0]["date"], "2019-12-31");
  EXPECT_EQ(r.json["series"][6]["date"], "2025-12-31");
  EXPECT_EQ(r.json["series"][6]["partnerships"]["certain"], 6);
  EXPECT_EQ(r.json["series"][6]["trade"]["CNY"]["certain"], 142160000000.0);
  r = Get("/v1/replay?from=2023-01&to=2024-06&step=month&entity=chengdu");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["entity"], "chengdu");
  ASSERT_EQ(r.json["series"].size(), 18u) << r.body;
  EXPECT_EQ(r.json["series"][1]["date"], "2023-02-28");
  r = Get("/v1/replay?from=2019&to=2025&format=csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 8) << r.body;  // header + 7
}

TEST_F(ServeTest, ReplaySeesWhatAnotherProcessAppendsAndKnownAtLooksBack) {
  StartServer();
  const std::string retraction =
      R"({"kind":"retraction","date":"2024?","target":"ev-658f2256f99761dd","reason":"serve test",)" +
      std::string(kSource) + "}";
  test::RunResult appended = Twl({"append"}, retraction);
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  const std::string retraction_id = appended.out.substr(9, appended.out.find(' ', 9) - 9);
  ASSERT_EQ(retraction_id.rfind("ev-", 0), 0u) << appended.out;

  HttpResult r = Get("/v1/replay?as_of=2024&entity=chongqing");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["known_seq"], kSeedEvents + 1);
  EXPECT_EQ(r.json["entities"]["chongqing"]["partnerships"]["certain"], 0);
  r = Get("/v1/replay?as_of=2024&entity=chongqing&known_at=@96");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["known_seq"], kSeedEvents);
  EXPECT_EQ(r.json["entities"]["chongqing"]["partnerships"]["certain"], 1);
}

TEST_F(ServeTest, ReplaySeriesLongerThanTheServersStepLimitIsRefused) {
  StartServer({"--max-series-steps", "5"});
  HttpResult r = Get("/v1/replay?from=2021&to=2025");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["series"].size(), 5u);
  r = Get("/v1/replay?from=2020&to=2025");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Error(r).value("field", ""), "step");
  EXPECT_THAT(Error(r).value("message", ""), HasSubstr("more than 5 steps from 2020-12-31"));
  // The default limit is the server's, not the CLI's 2400.
  server_.Stop(SIGTERM);
  StartServer();
  EXPECT_EQ(Get("/v1/replay?from=1786&to=2025").status, 200);  // 240 year ends
  EXPECT_EQ(Get("/v1/replay?from=1785&to=2025").status, 400);
}

TEST_F(ServeTest, DiffBetweenTwoValidDatesNamesTheEventsBehindEachRow) {
  StartServer();
  HttpResult r = Get("/v1/diff?from=2003&to=2005");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["from"]["as_of"], "2003-12-31");
  EXPECT_EQ(r.json["to"]["as_of"], "2005-12-31");
  ASSERT_EQ(r.json["differences"].size(), 7u) << r.body;
  for (const Json& d : r.json["differences"]) {
    EXPECT_EQ(d["change"], "added");
    ASSERT_EQ(d["events"].size(), 1u);
    EXPECT_EQ(d["events"][0]["id"], "ev-658f2256f99761dd");
    EXPECT_TRUE(d["corrections"].empty());
  }
  EXPECT_EQ(r.json["differences"][0]["key"], "chongqing — duesseldorf (sister_city)");
  r = Get("/v1/diff?from=2020&to=2025&entity=qingdao&projection=network");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json["differences"].size(), 2u) << r.body;
  EXPECT_EQ(r.json["differences"][0]["what"], "route");
  r = Get("/v1/diff?from=2025&to=2025&format=table");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("no differences\n"));
}

TEST_F(ServeTest, DiffBetweenTwoRecordedTimesNamesTheCorrection) {
  StartServer();
  const std::string retraction =
      R"({"kind":"retraction","date":"2024?","target":"ev-658f2256f99761dd","reason":"serve test",)" +
      std::string(kSource) + "}";
  test::RunResult appended = Twl({"append"}, retraction);
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  const std::string retraction_id = appended.out.substr(9, appended.out.find(' ', 9) - 9);

  const std::string target = "/v1/diff?as_of=2024&known_at=@96&vs_known_at=@97&projection=network";
  HttpResult r = Get(target);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["from"]["known_seq"], kSeedEvents);
  EXPECT_EQ(r.json["to"]["known_seq"], kSeedEvents + 1);
  ASSERT_EQ(r.json["differences"].size(), 1u) << r.body;
  const Json& d = r.json["differences"][0];
  EXPECT_EQ(d["change"], "removed");
  EXPECT_EQ(d["key"], "chongqing — duesseldorf (sister_city)");
  ASSERT_EQ(d["corrections"].size(), 1u) << r.body;
  EXPECT_EQ(d["corrections"][0]["id"], retraction_id);
  EXPECT_EQ(d["corrections"][0]["kind"], "retraction");
  ExpectSameAsCli(target + "&format=table",
                  {"diff", "--as-of", "2024", "--known-at", "@96", "--vs-known-at", "@97",
                   "--projection", "network"},
                  "text/plain; charset=utf-8");
}

TEST_F(ServeTest, ReplayAndDiffRefuseBadParametersNamingThem) {
  StartServer();
  struct Case {
    std::string target;
    int status;
    std::string field;    // empty: the error names none
    std::string message;  // a part of it
  };
  const std::vector<Case> cases = {
      {"/v1/replay?as_of=2024&asof=2024", 400, "asof", "unknown parameter 'asof'"},
      {"/v1/replay?as_of=2024&no_index=1", 400, "no_index", "unknown parameter"},
      {"/v1/replay?as_of=2021-02-30", 400, "as_of", "day 30 does not exist in 2021-02"},
      {"/v1/replay?as_of=2000/..", 400, "as_of", "has an open or unknown end"},
      {"/v1/replay?as_of=2024&known_at=@abc", 400, "known_at", ""},
      {"/v1/replay?as_of=2024&as_of=2025", 400, "as_of", "given more than once"},
      {"/v1/replay?as_of=", 400, "as_of", "needs a value"},
      {"/v1/replay", 400, "as_of", "give as_of=DATE, or from/to for a time series"},
      {"/v1/replay?as_of=2024&from=2000&to=2001", 400, "as_of", "give either as_of"},
      {"/v1/replay?as_of=2024&entity=Dusseldorff", 404, "entity", "unknown entity 'Dusseldorff'"},
      {"/v1/replay?as_of=2024&projection=timeline", 400, "projection", "give entity"},
      {"/v1/replay?as_of=2024&projection=graph", 400, "projection", "'graph' is not one of"},
      {"/v1/replay?as_of=2024&format=graphml", 400, "format",
       "format=graphml does not apply to projection=counts (use table, json, csv)"},
      {"/v1/replay?as_of=2024&projection=timeline&entity=chengdu&format=csv", 400, "format",
       "does not apply to projection=timeline"},
      {"/v1/replay?as_of=2024&format=xml", 400, "format", "format=xml does not apply"},
      {"/v1/replay?as_of=2024&dates=middle", 400, "dates", "'middle' is not one of"},
      {"/v1/replay?from=2000&to=2001&projection=trade", 400, "projection", "drop projection"},
      {"/v1/replay?from=2000", 400, "to", "needs both from and to"},
      {"/v1/replay?from=2025&to=2000", 400, "from", "from=2025 is after to=2000"},
      {"/v1/replay?from=2000&to=2001&step=week", 400, "step", "'week' is not one of year, month"},
      {"/v1/replay?from=1000&to=2025&step=month", 400, "step", "more than 240 steps"},
      {"/v1/diff?from=2003", 400, "", "give two valid dates (from and to)"},
      {"/v1/diff?from=2021-02-30&to=2025", 400, "from", "day 30 does not exist in 2021-02"},
      {"/v1/diff?from=2020&to=2025-13", 400, "to", "month 13"},
      {"/v1/diff?vs_known_at=@1", 400, "as_of", "give as_of"},
      {"/v1/diff?as_of=2024", 400, "as_of", "as_of goes with vs_known_at"},
      {"/v1/diff?from=2003&to=2005&as_of=2024&vs_known_at=@2", 400, "", "not both"},
      {"/v1/diff?as_of=2024&vs_known_at=@zz", 400, "vs_known_at", ""},
      {"/v1/diff?from=2003&to=2005&entity=Nowhere", 404, "entity", "unknown entity 'Nowhere'"},
      {"/v1/diff?from=2003&to=2005&format=csv", 400, "format", "'csv' is not one of table, json"},
      {"/v1/diff?from=2003&to=2005&projection=timeline", 400, "projection", "is not one of"},
      {"/v1/diff?from=2003&to=2005&limt=3", 400, "limt", "unknown parameter 'limt'"},
      {"/v1/replay?as_of=2024&projection=partners", 400, "projection", "give entity"},
      {"/v1/replay?as_of=2024&edges=ferries", 400, "edges",
       "'ferries' is not one of all, partnerships, routes"},
      {"/v1/replay?as_of=2024&projection=trade&edges=routes", 400, "edges",
       "trade figures are neither"},
      {"/v1/diff?from=2003&to=2005&events=many", 400, "events", "'many' is not a number of events"},
      {"/v1/diff?as_of=2024&known_at=@2&vs_known_at=@3&events=5", 400, "events",
       "between two valid dates"},
      {"/v1/diff?from=2003&to=2005&edges=ferries", 400, "edges", "is not one of"},
  };
  for (const Case& c : cases) {
    HttpResult r = Get(c.target);
    ASSERT_TRUE(r.ok) << c.target << ": " << r.error;
    EXPECT_EQ(r.status, c.status) << c.target << ": " << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json") << c.target;
    const Json e = Error(r);
    EXPECT_EQ(e.value("field", ""), c.field) << c.target << ": " << r.body;
    EXPECT_THAT(e.value("message", ""), HasSubstr(c.message)) << c.target;
  }
  HttpResult r = Post("/v1/replay?as_of=2024", "{}");
  EXPECT_EQ(r.status, 405) << r.body;
  EXPECT_EQ(r.headers["allow"], "GET");
}

// ---------------------------------------------------------------------------
// Writes

TEST_F(ServeTest, PostedJsonArrayIsOneAtomicIdempotentBatch) {
  StartServer();
  // The second event names the entity the first registers, by name.
  const std::string body =
      "[" +
      std::string(R"({"kind":"entity_registered","date":"2025","entity":"teststadt","type":"city",)"
                  R"("country":"DE","names":[{"text":"Teststadt","lang":"de"}],)") +
      kSource + "}," +
      R"({"kind":"partnership_established","date":"2025","a":"Teststadt","b":"成都","partnership":"friendship_city",)" +
      kSource + "}]";
  HttpResult r = Post("/v1/events", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["appended"], 2);
  EXPECT_EQ(r.json["duplicates"], 0);
  EXPECT_EQ(r.json["last_seq"], kSeedEvents + 2);
  ASSERT_EQ(r.json["events"].size(), 2u);
  EXPECT_EQ(r.json["events"][0]["outcome"], "appended");
  EXPECT_EQ(r.json["events"][1]["seq"], kSeedEvents + 2);
  const Json logged = CliJson({"log", "--seq", std::to_string(kSeedEvents + 2), "--format", "json"});
  EXPECT_EQ(logged[0]["id"], r.json["events"][1]["id"]);
  EXPECT_EQ(logged[0]["b"], "teststadt");

  // Again: nothing changes.
  r = Post("/v1/events", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["appended"], 0);
  EXPECT_EQ(r.json["duplicates"], 2);
  EXPECT_EQ(r.json["recorded_at"], nullptr);
  EXPECT_EQ(r.json["events"][1]["outcome"], "duplicate");
  EXPECT_EQ(LastSeq(), kSeedEvents + 2);
  EXPECT_EQ(Twl({"verify"}).exit_code, 0);
}

TEST_F(ServeTest, PostedNdjsonWithABadLineWritesNothingAndNamesTheLine) {
  StartServer();
  const std::string body = "# a comment\n" + CountEvent(1) + "\n\n" +
                           R"({"kind":"count_reported","date":"2021-02-30","entity":"chengdu","metric":"m","value":1,)" +
                           kSource + "}\n";
  HttpResult r = Post("/v1/events", body, "application/x-ndjson");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(Error(r)["code"], "invalid_argument");
  EXPECT_EQ(Error(r)["line"], 4);
  EXPECT_EQ(Error(r)["field"], "date");
  EXPECT_EQ(LastSeq(), kSeedEvents);

  r = Post("/v1/events", CountEvent(1) + "\n" + CountEvent(2) + "\r\n", "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["appended"], 2);
}

TEST_F(ServeTest, PostedEventNamingAnUnknownEntityIs422WithItsIndex) {
  StartServer();
  const std::string body = "[" + CountEvent(1) + "," +
                           R"({"kind":"count_reported","date":"2025","entity":"Atlantis","metric":"m","value":1,)" +
                           kSource + "}]";
  HttpResult r = Post("/v1/events", body);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(Error(r)["code"], "not_found");
  EXPECT_EQ(Error(r)["index"], 1);
  EXPECT_EQ(Error(r)["field"], "entity");
  EXPECT_EQ(LastSeq(), kSeedEvents);
}

TEST_F(ServeTest, StaleExpectedSeqIsAConflictAndWritesNothing) {
  StartServer();
  HttpResult r = Post("/v1/events?expect_seq=95", "[" + CountEvent(1) + "]");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Error(r)["code"], "conflict");
  EXPECT_EQ(LastSeq(), kSeedEvents);
  r = Post("/v1/events?expect_seq=96", "[" + CountEvent(1) + "]");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastSeq(), kSeedEvents + 1);
}

TEST_F(ServeTest, MalformedWritesAreRefusedWithA4xxNamingTheProblem) {
  StartServer();
  HttpResult r = Post("/v1/events", "[" + CountEvent(1) + "]", "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(Error(r)["code"], "unsupported_media_type");
  r = Post("/v1/events", "[" + CountEvent(1) + "]", "");
  EXPECT_EQ(r.status, 415);
  r = Post("/v1/events", "[{\"kind\": ", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Error(r)["code"], "invalid_json");
  EXPECT_THAT(Error(r)["message"].get<std::string>(), HasSubstr("line 1"));
  r = Post("/v1/events", "[]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Error(r)["code"], "empty_batch");
  r = Post("/v1/events", "42");
  EXPECT_EQ(r.status, 400);
  r = Post("/v1/events", "[42]");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Error(r)["index"], 0);
  r = Post("/v1/events", "[" + CountEvent(1) + "]", "application/json; charset=utf-8");
  EXPECT_EQ(r.status, 200) << r.body;
  // Deeply nested JSON is refused, not a crash.
  r = Post("/v1/events", std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(Get("/v1/health").status, 200);
  EXPECT_EQ(LastSeq(), kSeedEvents + 1);
}

TEST_F(ServeTest, ConcurrentAppendsAreEachAnsweredAndLandExactlyOnce) {
  StartServer();
  constexpr int kClients = 12, kPerClient = 5;
  std::vector<std::thread> threads;
  std::vector<int> statuses(kClients);
  std::vector<std::vector<uint64_t>> seqs(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      std::string body = "[";
      for (int i = 0; i < kPerClient; ++i) {
        if (i > 0) body += ",";
        body += CountEvent(c * 100 + i, "concurrency");
      }
      body += "]";
      HttpResult r = Post("/v1/events", body);
      statuses[c] = r.status;
      if (r.status == 200) {
        for (const auto& o : r.json["events"]) seqs[c].push_back(o["seq"].get<uint64_t>());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(statuses[c], 200);
    ASSERT_EQ(seqs[c].size(), static_cast<size_t>(kPerClient));
    for (size_t i = 1; i < seqs[c].size(); ++i) EXPECT_EQ(seqs[c][i], seqs[c][i - 1] + 1);  // a batch is contiguous
    all.insert(seqs[c].begin(), seqs[c].end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kClients * kPerClient));
  EXPECT_EQ(*all.begin(), kSeedEvents + 1);
  EXPECT_EQ(*all.rbegin(), kSeedEvents + kClients * kPerClient);
  const Json health = Get("/v1/health").json;
  EXPECT_EQ(health["commit_batches"], kClients);
  EXPECT_LE(health["commit_groups"].get<int>(), kClients);
  EXPECT_EQ(LastSeq(), kSeedEvents + kClients * kPerClient);
  EXPECT_EQ(Twl({"verify"}).exit_code, 0);
}

// ---------------------------------------------------------------------------
// Auth and modes

TEST_F(ServeTest, WritesNeedTheBearerTokenWhenATokenFileIsGiven) {
  test::WriteFile(dir_ / "token", "s3cret-token-0123456789\n");
  StartServer({"--token-file", dir_ / "token"});
  HttpResult r = Post("/v1/events", "[" + CountEvent(1) + "]");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Error(r)["code"], "unauthorized");
  EXPECT_THAT(r.headers["www-authenticate"], HasSubstr("Bearer"));
  r = Post("/v1/events", "[" + CountEvent(1) + "]", "application/json",
           {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(LastSeq(), kSeedEvents);
  r = Post("/v1/events", "[" + CountEvent(1) + "]", "application/json",
           {{"Authorization", "Bearer s3cret-token-0123456789"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Get("/v1/events?limit=1").status, 200);  // reads need nothing
  EXPECT_EQ(Get("/v1/health").json["writes_need_token"], true);
}

TEST_F(ServeTest, TokenFileIsCheckedBeforeServing) {
  // Run under `timeout`: a token file read without a cap would never end.
  auto serve = [&](const std::string& token_file) {
    return test::RunProgram({"/usr/bin/timeout", "20", TWINLINE_BIN, "--db", db_, "serve",
                             "--listen", "127.0.0.1:0", "--token-file", token_file},
                            "", dir_.path());
  };
  test::RunResult r = serve("/dev/zero");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("over 4096 bytes"));
  test::WriteFile(dir_ / "short", "x\n");
  r = serve(dir_ / "short");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the token has 1 character; use at least 16"));
  // A token file every user may read: served, with a warning.
  test::WriteFile(dir_ / "token", "s3cret-token-0123456789\n");
  ASSERT_EQ(chmod((dir_ / "token").c_str(), 0644), 0);
  StartServer({"--token-file", dir_ / "token"});
  EXPECT_EQ(Get("/v1/health").json["writes_need_token"], true);
  EXPECT_THAT(server_.Stderr(), HasSubstr("readable by every user"));
}

TEST_F(ServeTest, ReadOnlyServerRefusesWritesAndServesReads) {
  StartServer({"--read-only"});
  HttpResult r = Post("/v1/events", "[" + CountEvent(1) + "]");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Error(r)["code"], "read_only");
  EXPECT_EQ(Get("/v1/stats").status, 200);
  EXPECT_EQ(Get("/v1/health").json["read_only"], true);
  EXPECT_EQ(LastSeq(), kSeedEvents);
}

TEST_F(ServeTest, RefusesToTakeWritesOffLoopbackWithoutAToken) {
  test::RunResult r = Twl({"serve", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--token-file"));
  EXPECT_EQ(r.out, "");
  r = Twl({"serve", "--listen", "localhost"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("HOST:PORT"));
}

// ---------------------------------------------------------------------------
// Limits and malformed requests

TEST_F(ServeTest, OversizedBodyIs413AndOversizedHeaderIs431) {
  StartServer({"--max-body", "1000", "--max-header", "2048"});
  // Refused on its Content-Length, before the body is sent.
  HttpResult r = HttpConnection(server_.port())
                     .SendRaw("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: 5000\r\n\r\n");
  EXPECT_EQ(r.status, 413) << r.error;
  EXPECT_EQ(Error(r)["code"], "payload_too_large");
  EXPECT_EQ(r.headers["connection"], "close");
  // A chunked body is cut off as it passes the limit.
  r = HttpConnection(server_.port())
          .SendRaw("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n7d0\r\n" +
                   std::string(2000, ' ') + "\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 413) << r.error;
  r = Get("/v1/health", {{"X-Padding", std::string(4000, 'x')}});
  EXPECT_EQ(r.status, 431) << r.error;
  EXPECT_EQ(Error(r)["code"], "header_too_large");
  EXPECT_EQ(Get("/v1/health").status, 200);
  EXPECT_EQ(LastSeq(), kSeedEvents);
}

TEST_F(ServeTest, MalformedHttpIs400) {
  StartServer();
  HttpResult r = HttpConnection(server_.port()).SendRaw("GARBAGE\r\n\r\n");
  EXPECT_EQ(r.status, 400) << r.error;
  EXPECT_EQ(Error(r)["code"], "bad_request");
  r = HttpConnection(server_.port()).SendRaw("GET /v1/health HTTP/1.1\r\nHost x\r\n\r\n");
  EXPECT_EQ(r.status, 400) << r.error;
  EXPECT_EQ(Get("/v1/health").status, 200);
}

TEST_F(ServeTest, IdleAndSlowConnectionsAreClosedAfterTheirTimeouts) {
  StartServer({"--idle-timeout", "0.3", "--read-timeout", "0.3"});
  HttpConnection idle(server_.port());
  ASSERT_TRUE(idle.connected());
  EXPECT_TRUE(idle.ClosedWithin(3s));
  // A request that starts and never finishes.
  HttpConnection slow(server_.port());
  ASSERT_TRUE(slow.connected());
  slow.SendRaw("GET /v1/health HTTP/1.1\r\n");  // no response: the header never ends
  HttpConnection fresh(server_.port());
  EXPECT_EQ(fresh.Send(http::verb::get, "/v1/health").status, 200);
}

TEST_F(ServeTest, ConnectionsBeyondTheCapAre503) {
  StartServer({"--max-connections", "2"});
  HttpConnection a(server_.port()), b(server_.port());
  ASSERT_EQ(a.Send(http::verb::get, "/v1/health").status, 200);  // both open and counted
  ASSERT_EQ(b.Send(http::verb::get, "/v1/health").status, 200);
  // Beyond the cap a connection may ask for /v1/health only (issue 14:
  // health stays answered however many connections are held open).
  HttpConnection c(server_.port());
  HttpResult r = c.Send(http::verb::get, "/v1/stats");
  EXPECT_EQ(r.status, 503) << r.error;
  EXPECT_EQ(Error(r)["code"], "too_many_connections");
  EXPECT_EQ(HttpConnection(server_.port()).Send(http::verb::get, "/v1/health").status, 200);
  EXPECT_EQ(a.Send(http::verb::get, "/v1/health").status, 200);
}

// ---------------------------------------------------------------------------
// Subscriptions

TEST_F(ServeTest, SubscribeCatchesUpThenDeliversLiveAppendsFromAnyProcess) {
  StartServer({"--poll-interval", "0.02"});
  const Json logged = CliJson({"log", "--seq", "91..", "--format", "json"});
  SseClient sse(server_.port(), "/v1/subscribe?after=90");
  ASSERT_EQ(sse.status(), 200) << sse.head();
  EXPECT_THAT(sse.head(), HasSubstr("Content-Type: text/event-stream"));
  std::vector<SseEvent> got = sse.Take(6);
  ASSERT_EQ(got.size(), 6u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].event, "event");
    EXPECT_EQ(got[i].id, std::to_string(91 + i));
    EXPECT_EQ(got[i].json(), logged[i]);  // as `twinline log --format json` renders it
  }
  // Live: appended by a separate `twinline append` process...
  test::RunResult r = Twl({"append", "--format", "json"}, CountEvent(7));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ev = sse.Next();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->id, "97");
  EXPECT_EQ(ev->json()["value"], 7);
  // ...and through this server.
  ASSERT_EQ(Post("/v1/events", "[" + CountEvent(8) + "," + CountEvent(9) + "]").status, 200);
  got = sse.Take(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "98");
  EXPECT_EQ(got[1].id, "99");
  EXPECT_EQ(got[1].json(), CliJson({"log", "--seq", "99", "--format", "json"})[0]);
}

TEST_F(ServeTest, SubscribeResumesWithLastEventIdWithoutGapOrRepeat) {
  StartServer();
  std::vector<std::string> ids;
  {
    SseClient sse(server_.port(), "/v1/subscribe?after=0");
    ASSERT_EQ(sse.status(), 200);
    for (const SseEvent& ev : sse.Take(5)) ids.push_back(ev.id);
    sse.Close();  // the client goes away after seq 5
  }
  ASSERT_EQ(ids.size(), 5u);
  ASSERT_EQ(Twl({"append"}, CountEvent(1)).exit_code, 0);  // appended while it was away
  // The way EventSource reconnects: same URL, Last-Event-ID (which wins).
  SseClient again(server_.port(), "/v1/subscribe?after=0", {{"Last-Event-ID", ids.back()}});
  ASSERT_EQ(again.status(), 200);
  for (const SseEvent& ev : again.Take(kSeedEvents + 1 - 5)) ids.push_back(ev.id);
  ASSERT_EQ(ids.size(), kSeedEvents + 1);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], std::to_string(i + 1));
  EXPECT_FALSE(again.Next(200ms).has_value());  // and nothing more
}

TEST_F(ServeTest, SubscribeFromARecordedTimeOrLiveOnly) {
  StartServer();
  {
    SseClient sse(server_.port(), "/v1/subscribe?since=1999");
    ASSERT_EQ(sse.status(), 200);
    auto ev = sse.Next();
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ(ev->id, "1");
  }
  SseClient live(server_.port(), "/v1/subscribe");  // from now on
  ASSERT_EQ(live.status(), 200);
  ASSERT_EQ(Post("/v1/events", "[" + CountEvent(1) + "]").status, 200);
  auto ev = live.Next();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->id, std::to_string(kSeedEvents + 1));
}

TEST_F(ServeTest, SubscribeRefusesBadStartsWithJsonErrors) {
  StartServer();
  SseClient beyond(server_.port(), "/v1/subscribe?after=500");
  EXPECT_EQ(beyond.status(), 400);
  EXPECT_THAT(beyond.RestOfBody(), HasSubstr("beyond the log"));
  SseClient bad(server_.port(), "/v1/subscribe", {{"Last-Event-ID", "x"}});
  EXPECT_EQ(bad.status(), 400);
  EXPECT_THAT(bad.RestOfBody(), HasSubstr("Last-Event-ID"));
  SseClient unknown(server_.port(), "/v1/subscribe?from=3");
  EXPECT_EQ(unknown.status(), 400);
}

TEST_F(ServeTest, IdleStreamGetsHeartbeats) {
  StartServer({"--heartbeat", "0.2"});
  SseClient sse(server_.port(), "/v1/subscribe");
  ASSERT_EQ(sse.status(), 200);
  auto first = sse.Next(2s, /*comments=*/true);  // ": twinline events after seq 96"
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->event, ":");
  auto beat = sse.Next(2s, /*comments=*/true);
  ASSERT_TRUE(beat.has_value());
  EXPECT_EQ(beat->event, ":");
  EXPECT_EQ(beat->data, " heartbeat");
}

TEST_F(ServeTest, SlowSubscriberIsToldAndDroppedWithoutHoldingOthersBack) {
  StartServer({"--sse-queue", "100", "--poll-interval", "0.02"});
  SseClient slow(server_.port(), "/v1/subscribe", {}, /*receive_buffer=*/4096);
  SseClient fast(server_.port(), "/v1/subscribe");
  ASSERT_EQ(slow.status(), 200);
  ASSERT_EQ(fast.status(), 200);
  // 600 events in 30 appends; `fast` reads as they come, `slow` not at all.
  std::atomic<bool> posting{true};
  std::vector<SseEvent> fast_got;
  std::thread reader([&] {
    while (fast_got.size() < 600) {
      auto ev = fast.Next(10s);
      if (!ev) break;
      fast_got.push_back(*ev);
    }
  });
  for (int batch = 0; batch < 30; ++batch) {
    std::string body = "[";
    for (int i = 0; i < 20; ++i) body += (i ? "," : "") + CountEvent(batch * 20 + i, "slow_test");
    ASSERT_EQ(Post("/v1/events", body + "]").status, 200);
  }
  posting = false;
  reader.join();
  ASSERT_EQ(fast_got.size(), 600u);
  for (size_t i = 0; i < fast_got.size(); ++i) {
    ASSERT_EQ(fast_got[i].id, std::to_string(kSeedEvents + 1 + i));
  }
  // The slow one got a prefix, then was told where to resume, then dropped.
  std::vector<SseEvent> slow_got;
  while (auto ev = slow.Next(5s)) slow_got.push_back(*ev);
  ASSERT_FALSE(slow_got.empty());
  const SseEvent& last = slow_got.back();
  ASSERT_EQ(last.event, "overflow") << "got " << slow_got.size() << " events";
  uint64_t expected_id = kSeedEvents;
  for (size_t i = 0; i + 1 < slow_got.size(); ++i) {
    EXPECT_EQ(slow_got[i].id, std::to_string(++expected_id));
  }
  EXPECT_EQ(last.json()["resume_after"], expected_id);
  EXPECT_LT(expected_id, kSeedEvents + 600);
  EXPECT_TRUE(slow.EndsWithin(2s));
  EXPECT_EQ(Get("/v1/health").json["subscribers"], 1);  // `fast` only
}

// ---------------------------------------------------------------------------
// Shutdown

TEST_F(ServeTest, TermShutsDownGracefullyGivingSubscribersAFinalEvent) {
  StartServer();
  SseClient sse(server_.port(), "/v1/subscribe?after=94");
  ASSERT_EQ(sse.Take(2).size(), 2u);
  HttpConnection idle(server_.port());
  ASSERT_EQ(idle.Send(http::verb::get, "/v1/health").status, 200);
  server_.Signal(SIGTERM);
  auto ev = sse.Next();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->event, "shutdown");
  EXPECT_EQ(ev->json()["resume_after"], kSeedEvents);
  EXPECT_TRUE(sse.EndsWithin(2s));
  EXPECT_TRUE(idle.ClosedWithin(2s));  // kept-alive, idle: closed
  EXPECT_EQ(server_.WaitExit(), 0);
  const std::string log = server_.Stderr();
  EXPECT_THAT(log, HasSubstr("GET /v1/health 200"));  // every request is logged
  EXPECT_THAT(log, HasSubstr("GET /v1/subscribe?after=94 200 stream"));
  EXPECT_THAT(log, HasSubstr("stopped"));
}

TEST_F(ServeTest, RequestInFlightAtShutdownIsAnswered) {
  StartServer();
  const std::string body = "[" + CountEvent(1) + "]";
  HttpConnection c(server_.port());
  c.Write("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Expect: 100-continue\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n");
  // "100 Continue": the server has the header; the request is in flight.
  HttpResult interim = c.Read();
  ASSERT_EQ(interim.status, 100) << interim.error;
  server_.Signal(SIGTERM);
  HttpConnection late(server_.port());  // after the signal: not accepted
  c.Write(body);
  HttpResult r = c.Read();
  EXPECT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(server_.WaitExit(), 0);
  EXPECT_EQ(LastSeq(), kSeedEvents + 1);
}

}  // namespace
}  // namespace twinline
