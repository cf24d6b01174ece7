#include "bench/duckdb_reference.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

extern char** environ;

namespace twinline::bench {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// One CSV file written through a large buffer.
class CsvFile {
 public:
  Status Open(const std::string& path, const char* header) {
    path_ = path;
    f_ = std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    std::fputs(header, f_);
    std::fputc('\n', f_);
    return Status::Ok();
  }
  ~CsvFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  CsvFile& Int(int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    Separator();
    std::fwrite(buf, 1, static_cast<size_t>(end - buf), f_);
    return *this;
  }
  CsvFile& Real(double v) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
    Separator();
    std::fwrite(buf, 1, static_cast<size_t>(n), f_);
    return *this;
  }
  CsvFile& Text(std::string_view v) {
    Separator();
    std::fputc('"', f_);
    for (char c : v) {
      if (c == '"') std::fputc('"', f_);
      std::fputc(c, f_);
    }
    std::fputc('"', f_);
    return *this;
  }
  Status End() {
    std::fputc('\n', f_);
    first_ = true;
    return std::ferror(f_) ? Status::IOError("cannot write " + path_) : Status::Ok();
  }
  Status Close(uint64_t* bytes) {
    const bool failed = std::fclose(f_) != 0;
    f_ = nullptr;
    if (failed) return Status::IOError("cannot write " + path_);
    std::error_code ec;
    *bytes += fs::file_size(path_, ec);
    return Status::Ok();
  }

 private:
  void Separator() {
    if (!first_) std::fputc(',', f_);
    first_ = false;
  }
  std::string path_;
  FILE* f_ = nullptr;
  bool first_ = true;
};

// The columns are those of bench/duckdb/reference.mjs's tables.
class CsvSink final : public FactSink {
 public:
  Status Open(const std::string& dir) {
    TWINLINE_RETURN_IF_ERROR(entity_.Open(dir + "/entity.csv", "id,slug"));
    TWINLINE_RETURN_IF_ERROR(edge_.Open(dir + "/edge.csv", "id,kind,a,b,subkind"));
    TWINLINE_RETURN_IF_ERROR(edge_event_.Open(dir + "/edge_event.csv", "edge,e,seq,establish"));
    TWINLINE_RETURN_IF_ERROR(
        trade_key_.Open(dir + "/trade_key.csv", "id,reporter,partner,period,flow"));
    return trade_report_.Open(dir + "/trade_report.csv", "seq,key,e,l,amount,currency");
  }
  Status Close(uint64_t* bytes) {
    for (CsvFile* f : {&entity_, &edge_, &edge_event_, &trade_key_, &trade_report_})
      TWINLINE_RETURN_IF_ERROR(f->Close(bytes));
    return Status::Ok();
  }

  Status Entity(int64_t id, std::string_view slug) override {
    return entity_.Int(id).Text(slug).End();
  }
  Status Edge(int64_t id, int kind, int64_t a, int64_t b, int64_t subkind) override {
    return edge_.Int(id).Int(kind).Int(a).Int(b).Int(subkind).End();
  }
  Status EdgeEvent(int64_t edge, int64_t e, int64_t seq, bool establish) override {
    return edge_event_.Int(edge).Int(e).Int(seq).Int(establish ? 1 : 0).End();
  }
  Status TradeKey(int64_t id, int64_t reporter, int64_t partner, std::string_view period,
                  std::string_view flow) override {
    return trade_key_.Int(id).Int(reporter).Int(partner).Text(period).Text(flow).End();
  }
  Status TradeReport(int64_t seq, int64_t key, int64_t e, int64_t l, double amount,
                     std::string_view currency) override {
    return trade_report_.Int(seq).Int(key).Int(e).Int(l).Real(amount).Text(currency).End();
  }

 private:
  CsvFile entity_, edge_, edge_event_, trade_key_, trade_report_;
};

// A field of reference.mjs's rows: \\, \t and \n unescaped.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      out += c == 't' ? '\t' : c == 'n' ? '\n' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(Unescape(line.substr(start, tab == std::string_view::npos ? tab : tab - start)));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return fields;
}

Status Int(const std::string& field, int64_t* v) {
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), *v);
  if (ec != std::errc() || end != field.data() + field.size())
    return Status::Corruption("DuckDB reference: '" + field + "' is not an integer");
  return Status::Ok();
}

Status Real(const std::string& field, double* v) {
  char* end = nullptr;
  *v = std::strtod(field.c_str(), &end);
  if (field.empty() || end != field.c_str() + field.size())
    return Status::Corruption("DuckDB reference: '" + field + "' is not a number");
  return Status::Ok();
}

Status Width(const std::vector<std::string>& row, size_t n) {
  if (row.size() == n) return Status::Ok();
  return Status::Corruption("DuckDB reference: a row of " + std::to_string(row.size()) +
                            " fields where " + std::to_string(n) + " were expected");
}

EngineTiming Timing(const Json& head) {
  return {head.value("wall_s", 0.0), head.value("cpu_s", 0.0), head.value("js_s", 0.0)};
}

// An optional report in force: amount, currency, seq (all empty: none).
Status Report(const std::vector<std::string>& row, size_t at, std::optional<TradeInForce>* out) {
  if (row[at + 2].empty()) return Status::Ok();
  TradeInForce t;
  TWINLINE_RETURN_IF_ERROR(Real(row[at], &t.amount));
  t.currency = row[at + 1];
  TWINLINE_RETURN_IF_ERROR(Int(row[at + 2], &t.seq));
  *out = std::move(t);
  return Status::Ok();
}

}  // namespace

Status DuckDbReference::ExportFacts(const ReadTxn& txn, const std::string& dir, FactStats* stats,
                                    uint64_t* bytes) {
  *bytes = 0;
  std::error_code ec;
  if (fs::exists(dir, ec)) return Status::AlreadyExists(dir + " already exists");
  if (!fs::create_directories(dir, ec))
    return Status::IOError("cannot create " + dir + ": " + ec.message());
  CsvSink sink;
  TWINLINE_RETURN_IF_ERROR(sink.Open(dir));
  TWINLINE_RETURN_IF_ERROR(ReadEffectiveFacts(txn, &sink, stats));
  return sink.Close(bytes);
}

Status DuckDbReference::Start(const DuckDbProgram& program, const std::string& facts_dir,
                              const std::string& db_path, int threads, DuckDbLoad* load,
                              std::unique_ptr<DuckDbReference>* out) {
  std::error_code ec;
  if (fs::exists(db_path, ec)) return Status::AlreadyExists(db_path + " already exists");
  if (!fs::exists(program.script, ec))
    return Status::NotFound("no DuckDB reference script at " + program.script);
  // Requests go over a socket, so that a write to a process that has died
  // fails with EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE here.
  int to_child[2], from_child[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, to_child) != 0)
    return Status::IOError(std::strerror(errno));
  if (pipe2(from_child, O_CLOEXEC) != 0) {
    close(to_child[0]);
    close(to_child[1]);
    return Status::IOError(std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[1], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  std::string node = program.node, script = program.script;
  char* argv[] = {node.data(), script.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, node.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(to_child[1]);
  close(from_child[1]);
  if (rc != 0) {
    close(to_child[0]);
    close(from_child[0]);
    return Status::NotFound("cannot start " + program.node + " (node.js, for the DuckDB reference): " +
                            std::strerror(rc));
  }
  std::unique_ptr<DuckDbReference> ref(
      new DuckDbReference(pid, to_child[0], fdopen(from_child[0], "r")));
  std::string head;
  std::vector<std::vector<std::string>> rows;
  const Json request{{"op", "load"}, {"facts", facts_dir}, {"db", db_path}, {"threads", threads}};
  TWINLINE_RETURN_IF_ERROR(ref->Ask(request.dump(), &head, &rows));
  const Json j = Json::parse(head);
  load->timing = Timing(j);
  load->file_bytes = j.value("bytes", uint64_t{0});
  load->version = j.value("version", std::string());
  *out = std::move(ref);
  return Status::Ok();
}

DuckDbReference::~DuckDbReference() {
  static constexpr char kQuit[] = "{\"op\":\"quit\"}\n";
  [[maybe_unused]] const ssize_t n = send(to_child_, kQuit, sizeof kQuit - 1, MSG_NOSIGNAL);
  close(to_child_);
  if (from_child_ != nullptr) std::fclose(from_child_);
  int status = 0;
  waitpid(pid_, &status, 0);
}

Status DuckDbReference::Ask(const std::string& request, std::string* head_json,
                            std::vector<std::vector<std::string>>* rows) {
  rows->clear();
  const std::string line = request + "\n";
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = send(to_child_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::IOError(
          "the DuckDB reference (node bench/duckdb/reference.mjs) is not running: " +
          std::string(std::strerror(errno)) +
          "; is @duckdb/node-api installed? (cd bench/duckdb && npm ci)");
    }
    done += static_cast<size_t>(n);
  }
  char* buf = nullptr;
  size_t cap = 0;
  auto next = [&](std::string_view* out) {
    const ssize_t n = getline(&buf, &cap, from_child_);
    if (n <= 0) return false;
    *out = std::string_view(buf, static_cast<size_t>(n));
    if (out->ends_with('\n')) out->remove_suffix(1);
    return true;
  };
  std::string_view got;
  Status s;
  if (!next(&got)) {
    s = Status::IOError(
        "the DuckDB reference (node bench/duckdb/reference.mjs) ended without answering (its "
        "error is above); is @duckdb/node-api installed? (cd bench/duckdb && npm ci)");
  } else {
    *head_json = std::string(got);
    Json head = Json::parse(*head_json, nullptr, /*allow_exceptions=*/false);
    if (!head.is_object()) {
      s = Status::Corruption("DuckDB reference: not an answer: " + *head_json);
    } else if (!head.value("ok", false)) {
      s = Status::IOError("DuckDB: " + head.value("error", std::string("failed")));
    } else {
      const uint64_t n = head.value("rows", uint64_t{0});
      rows->reserve(n);
      for (uint64_t i = 0; i < n && s.ok(); ++i) {
        if (!next(&got)) s = Status::IOError("DuckDB reference: its answer ended early");
        else rows->push_back(Fields(got));
      }
    }
  }
  std::free(buf);
  return s;
}

Status DuckDbReference::AsOfCounts(int64_t day, AsOfAnswer* out, EngineTiming* timing) {
  out->counts.clear();
  std::string head;
  std::vector<std::vector<std::string>> rows;
  TWINLINE_RETURN_IF_ERROR(Ask(Json{{"op", "asof_counts"}, {"day", day}}.dump(), &head, &rows));
  *timing = Timing(Json::parse(head));
  for (const auto& r : rows) {
    TWINLINE_RETURN_IF_ERROR(Width(r, 3));
    EdgeCounts& c = out->counts.emplace_back();
    c.entity = r[0];
    TWINLINE_RETURN_IF_ERROR(Int(r[1], &c.partnerships));
    TWINLINE_RETURN_IF_ERROR(Int(r[2], &c.routes));
  }
  return Status::Ok();
}

Status DuckDbReference::AsOfTrade(int64_t day, AsOfAnswer* out, EngineTiming* timing) {
  out->trade.clear();
  std::string head;
  std::vector<std::vector<std::string>> rows;
  TWINLINE_RETURN_IF_ERROR(Ask(Json{{"op", "asof_trade"}, {"day", day}}.dump(), &head, &rows));
  *timing = Timing(Json::parse(head));
  for (const auto& r : rows) {
    TWINLINE_RETURN_IF_ERROR(Width(r, 7));
    TradeInForce& t = out->trade.emplace_back();
    t.reporter = r[0];
    t.partner = r[1];
    t.period = r[2];
    t.flow = r[3];
    TWINLINE_RETURN_IF_ERROR(Real(r[4], &t.amount));
    t.currency = r[5];
    TWINLINE_RETURN_IF_ERROR(Int(r[6], &t.seq));
  }
  return Status::Ok();
}

Status DuckDbReference::Diff(int64_t day_from, int64_t day_to, DiffAnswer* out,
                             EngineTiming* timing) {
  *out = DiffAnswer();
  std::string head;
  std::vector<std::vector<std::string>> rows;
  TWINLINE_RETURN_IF_ERROR(
      Ask(Json{{"op", "diff"}, {"from", day_from}, {"to", day_to}}.dump(), &head, &rows));
  *timing = Timing(Json::parse(head));
  for (const auto& r : rows) {
    if (!r.empty() && r[0] == "c") {
      TWINLINE_RETURN_IF_ERROR(Width(r, 5));
      CountChange& c = out->counts.emplace_back();
      c.entity = r[1];
      c.routes = r[2] == "1";
      TWINLINE_RETURN_IF_ERROR(Int(r[3], &c.before));
      TWINLINE_RETURN_IF_ERROR(Int(r[4], &c.after));
    } else {
      TWINLINE_RETURN_IF_ERROR(Width(r, 11));
      TradeChange& t = out->trade.emplace_back();
      t.reporter = r[1];
      t.partner = r[2];
      t.period = r[3];
      t.flow = r[4];
      TWINLINE_RETURN_IF_ERROR(Report(r, 5, &t.before));
      TWINLINE_RETURN_IF_ERROR(Report(r, 8, &t.after));
    }
  }
  return Status::Ok();
}

Status DuckDbReference::PeakRss(uint64_t* kb) {
  std::string head;
  std::vector<std::vector<std::string>> rows;
  TWINLINE_RETURN_IF_ERROR(Ask("{\"op\":\"stats\"}", &head, &rows));
  *kb = Json::parse(head).value("max_rss_kb", uint64_t{0});
  return Status::Ok();
}

}  // namespace twinline::bench
