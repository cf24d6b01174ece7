#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace twinline::bench {
namespace {

using Json = nlohmann::ordered_json;

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<Json> ReadJson(const std::string& path, std::string* error) {
  auto text = ReadText(path);
  if (!text) return std::nullopt;
  try {
    return Json::parse(*text);
  } catch (const std::exception& e) {
    *error = path + ": " + e.what();
    return std::nullopt;
  }
}

// --- Google Benchmark output ---------------------------------------------------------

// The entry of benchmark `name` (its median when it was repeated).
const Json* Micro(const std::optional<Json>& micro, const std::string& name) {
  if (!micro || !micro->contains("benchmarks")) return nullptr;
  const Json* found = nullptr;
  for (const Json& b : (*micro)["benchmarks"]) {
    const std::string run = b.value("run_name", b.value("name", ""));
    if (run != name && run.rfind(name + "/", 0) != 0) continue;
    if (b.value("run_type", "") == "aggregate") {
      if (b.value("aggregate_name", "") == "median") return &b;
      continue;
    }
    if (found == nullptr) found = &b;
  }
  return found;
}

std::optional<double> Counter(const Json* b, const char* counter) {
  if (b == nullptr || b->value("error_occurred", false) || !b->contains(counter))
    return std::nullopt;
  return (*b)[counter].get<double>();
}

// Events per second of this thread's CPU time (Google Benchmark's cpu_time
// of one iteration): what the figure would be on an idle machine, as far as
// waiting for a core goes.
std::optional<double> CpuRate(const Json* b) {
  const auto events = Counter(b, "events");
  if (!events || !b->contains("cpu_time")) return std::nullopt;
  const std::string unit = b->value("time_unit", "ns");
  const double scale = unit == "s" ? 1 : unit == "ms" ? 1e-3 : unit == "us" ? 1e-6 : 1e-9;
  const double seconds = (*b)["cpu_time"].get<double>() * scale;
  if (seconds <= 0) return std::nullopt;
  return *events / seconds;
}

// --- Formatting -------------------------------------------------------------------

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Three significant digits.
std::string Sig(double v) {
  if (v >= 100) return Fmt("%.0f", v);
  if (v >= 10) return Fmt("%.1f", v);
  return Fmt("%.2f", v);
}

std::string Rate(double per_second, const char* unit) {
  if (per_second >= 1e6) return Sig(per_second / 1e6) + "M " + unit;
  if (per_second >= 1e3) return Sig(per_second / 1e3) + "k " + unit;
  return Sig(per_second) + " " + unit;
}

std::string Duration(double seconds) {
  if (seconds >= 1) return Sig(seconds) + " s";
  if (seconds >= 1e-3) return Sig(seconds * 1e3) + " ms";
  return Sig(seconds * 1e6) + " µs";
}

std::string Megabytes(double mb) { return Fmt("%.0f MB", mb); }

std::string Count(double n) {
  std::string digits = Fmt("%.0f", n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// --- The table -----------------------------------------------------------------------

enum class Unit { kEventsPerSecond, kSeconds, kMegabytes, kBytesPerEvent, kText };

// A figure measured on one side: wall (or the value) and CPU time.
struct Side {
  std::optional<double> value;
  std::optional<double> cpu;
};

// Which side a row's ratio is taken against, and how it reads.
enum class Against { kNone, kSqlite, kDuckDb, kOther };
enum class RatioKind {
  kShare,   // twinline / reference: the share of a limit (rates)
  kFaster,  // reference / twinline: "x faster" (latencies, sizes)
  kTimes,   // twinline / reference: "x" as long, as large (a target of at most N x)
};

struct Row {
  Row(std::string figure, std::string name, std::optional<double> value = std::nullopt,
      Unit unit = Unit::kText, std::string text = "")
      : figure(std::move(figure)), name(std::move(name)), unit(unit), text(std::move(text)) {
    twinline.value = value;
  }

  std::string figure;  // "1", "2", ...
  std::string name;
  Unit unit = Unit::kText;
  std::string text;  // the value, when unit is kText (or extra words after it)
  Side twinline, sqlite, duck1, duck2;  // DuckDB with 1 and 2 threads
  std::string other_name;                // another reference (LMDB, another twinline figure)
  Side other;
  Against against = Against::kNone;
  RatioKind ratio_kind = RatioKind::kFaster;
  std::string target;
  std::optional<bool> met;
  std::string note;

  const Side& Reference() const {
    static const Side kNoSide;
    switch (against) {
      case Against::kSqlite:
        return sqlite;
      case Against::kDuckDb:
        return duck1;
      case Against::kOther:
        return other;
      case Against::kNone:
        break;
    }
    return kNoSide;
  }
  static std::optional<double> RatioOf(std::optional<double> v, std::optional<double> ref,
                                       RatioKind kind) {
    if (!v || !ref || *v <= 0 || *ref <= 0) return std::nullopt;
    return kind == RatioKind::kFaster ? *ref / *v : *v / *ref;
  }
  std::optional<double> ratio() const { return RatioOf(twinline.value, Reference().value, ratio_kind); }
  std::optional<double> cpu_ratio() const {
    return RatioOf(twinline.cpu, Reference().cpu, ratio_kind);
  }
};

std::string ValueText(std::optional<double> v, Unit unit, const std::string& text = "") {
  if (!v) return text.empty() ? "n/a" : text;
  std::string s;
  switch (unit) {
    case Unit::kEventsPerSecond:
      s = Rate(*v, "ev/s");
      break;
    case Unit::kSeconds:
      s = Duration(*v);
      break;
    case Unit::kMegabytes:
      s = Megabytes(*v);
      break;
    case Unit::kBytesPerEvent:
      s = Sig(*v) + " B/event";
      break;
    case Unit::kText:
      break;
  }
  return text.empty() ? s : s + " " + text;
}

const char* UnitName(Unit u) {
  switch (u) {
    case Unit::kEventsPerSecond:
      return "events/s";
    case Unit::kSeconds:
      return "s";
    case Unit::kMegabytes:
      return "MB";
    case Unit::kBytesPerEvent:
      return "bytes/event";
    case Unit::kText:
      break;
  }
  return "";
}

const char* AgainstName(Against a) {
  switch (a) {
    case Against::kSqlite:
      return "sqlite";
    case Against::kDuckDb:
      return "duckdb_1_thread";
    case Against::kOther:
      return "other";
    case Against::kNone:
      break;
  }
  return nullptr;
}

class Table {
 public:
  Row& Add(Row row) { return rows_.emplace_back(std::move(row)); }

  void Print(std::ostream& out) const {
    std::vector<std::vector<std::string>> cells;
    cells.push_back({"#", "FIGURE", "TWINLINE", "SQLITE", "DUCKDB 1 THREAD", "DUCKDB 2 THREADS",
                     "OTHER REFERENCE", "RATIO", "TARGET", "MET", "RATIO ON CPU TIME"});
    for (const Row& r : rows_) {
      auto side = [&](const Side& s) { return s.value ? ValueText(s.value, r.unit) : "-"; };
      std::string other = r.other_name;
      if (!other.empty()) other += " " + (r.other.value ? ValueText(r.other.value, r.unit) : "n/a");
      auto ratio = [&](std::optional<double> x) -> std::string {
        if (!x) return "-";
        std::string vs;
        if (r.against == Against::kDuckDb) vs = " DuckDB";
        if (r.against == Against::kSqlite) vs = " SQLite";
        switch (r.ratio_kind) {
          case RatioKind::kShare:
            return Fmt("%.3f", *x) + "x";
          case RatioKind::kFaster:
            return Sig(*x) + "x" + (vs.empty() ? " faster" : vs + "'s speed");
          case RatioKind::kTimes:
            return Sig(*x) + "x";
        }
        return "-";
      };
      cells.push_back({r.figure, r.name, ValueText(r.twinline.value, r.unit, r.text),
                       side(r.sqlite), side(r.duck1), side(r.duck2), other.empty() ? "-" : other,
                       ratio(r.ratio()), r.target.empty() ? "-" : r.target,
                       r.met ? (*r.met ? "yes" : "NO") : "-", ratio(r.cpu_ratio())});
    }
    std::vector<size_t> width(cells[0].size(), 0);
    for (const auto& row : cells) {
      for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Columns(row[c]));
    }
    for (const auto& row : cells) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) {
        line += row[c];
        if (c + 1 < row.size()) line += std::string(width[c] - Columns(row[c]) + 2, ' ');
      }
      out << line << '\n';
    }
    bool notes = false;
    for (const Row& r : rows_) {
      if (r.note.empty()) continue;
      if (!notes) out << '\n';
      notes = true;
      out << "  [" << r.figure << "] " << r.name << ": " << r.note << '\n';
    }
  }

  Json ToJson() const {
    Json rows = Json::array();
    for (const Row& r : rows_) {
      Json j{{"figure", r.figure}, {"name", r.name}};
      auto side = [&](const Side& s) {
        if (!s.value) return Json(nullptr);
        Json v{{"value", *s.value}, {"unit", UnitName(r.unit)}};
        if (s.cpu) v["cpu_s"] = *s.cpu;
        return v;
      };
      j["twinline"] = r.twinline.value ? side(r.twinline) : Json(r.text);
      if (r.twinline.value && !r.text.empty()) j["twinline"]["detail"] = r.text;
      j["sqlite"] = side(r.sqlite);
      j["duckdb_1_thread"] = side(r.duck1);
      j["duckdb_2_threads"] = side(r.duck2);
      j["other_reference"] = r.other_name.empty() ? Json(nullptr) : Json{{"name", r.other_name}};
      if (r.other.value) j["other_reference"]["value"] = *r.other.value;
      const char* against = AgainstName(r.against);
      j["ratio_against"] = against != nullptr ? Json(against) : Json(nullptr);
      j["ratio"] = r.ratio() ? Json(*r.ratio()) : Json(nullptr);
      j["ratio_on_cpu_time"] = r.cpu_ratio() ? Json(*r.cpu_ratio()) : Json(nullptr);
      j["target"] = r.target.empty() ? Json(nullptr) : Json(r.target);
      j["met"] = r.met ? Json(*r.met) : Json(nullptr);
      if (!r.note.empty()) j["note"] = r.note;
      rows.push_back(std::move(j));
    }
    return rows;
  }

 private:
  // Display width: UTF-8 continuation bytes take no column.
  static size_t Columns(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }
  std::vector<Row> rows_;
};

// serve_load.sh's result table: a header "RUN  REQUESTS/S  P50 ..." and one
// row per run until a blank line. A run's name may hold spaces ("GET
// /v1/events"): the other columns are the last words of its row, read by
// the header's names, so columns the script adds later do not shift them.
struct ServeRun {
  std::string name;
  std::map<std::string, std::string> columns;  // "REQUESTS/S" -> "1796.42", ...
  std::string Column(const std::string& name) const {
    auto it = columns.find(name);
    return it == columns.end() ? "?" : it->second;
  }
};

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

std::vector<ServeRun> ParseServe(const std::string& text, std::string* context) {
  std::vector<ServeRun> runs;
  std::istringstream in(text);
  std::vector<std::string> header;  // the column names after RUN, while in the table
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("twinline serve under wrk", 0) == 0 || line.rfind("server --threads", 0) == 0 ||
        line.rfind("check:", 0) == 0 || line.rfind("verify:", 0) == 0 ||
        line.rfind("appends:", 0) == 0) {
      *context += (context->empty() ? "" : "\n") + line;
    }
    std::vector<std::string> w = Words(line);
    if (!w.empty() && w[0] == "RUN" && std::find(w.begin(), w.end(), "REQUESTS/S") != w.end()) {
      header.assign(w.begin() + 1, w.end());
      continue;
    }
    if (header.empty()) continue;
    if (w.empty()) {
      header.clear();
      continue;
    }
    if (w.size() <= header.size()) continue;
    ServeRun r;
    const size_t first = w.size() - header.size();
    for (size_t i = 0; i < first; ++i) r.name += (i ? " " : "") + w[i];
    for (size_t c = 0; c < header.size(); ++c) r.columns[header[c]] = w[first + c];
    runs.push_back(std::move(r));
  }
  return runs;
}

double Mb(const Json& stats, const char* key) { return stats.value(key, 0.0) * 1024.0 / 1e6; }

std::string Now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string LoadAverage() {
  auto text = ReadText("/proc/loadavg");
  if (!text) return "";
  std::istringstream in(*text);
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int ReportMain(int argc, char** argv) {
  std::string dir, out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else {
      std::fprintf(
          stderr,
          "twinline-bench report: unknown argument %s (usage: report --dir DIR [--out FILE])\n",
          a.c_str());
      return 1;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "twinline-bench report: --dir is required\n");
    return 1;
  }
  std::string error;
  const std::optional<Json> meta = ReadJson(dir + "/meta.json", &error);
  if (!meta) {
    std::fprintf(stderr, "twinline-bench report: cannot read %s/meta.json %s\n", dir.c_str(),
                 error.c_str());
    return 1;
  }
  const std::optional<Json> micro = ReadJson(dir + "/micro.json", &error);
  Json processes = Json::object();
  for (const char* p :
       {"import", "index_rebuild", "replay_full", "replay_asof", "replay_counts", "diff"}) {
    if (auto j = ReadJson(dir + "/" + p + ".json", &error)) processes[p] = *j;
  }
  if (!error.empty()) {
    std::fprintf(stderr, "twinline-bench report: %s\n", error.c_str());
    return 1;
  }
  const std::optional<Json> disk = ReadJson(dir + "/disk.json", &error);
  const std::optional<std::string> serve = ReadText(dir + "/serve.txt");
  const double events = meta->value("events", 0.0);

  Table t;
  auto bench = [&](const std::string& name) { return Micro(micro, name); };
  auto counter = [&](const std::string& name, const char* c) { return Counter(bench(name), c); };
  auto rate = [&](const std::string& name) { return counter(name, "events_per_second"); };
  // Wall and CPU percentile of a latency benchmark ("p50", "p99").
  auto latency = [&](const std::string& name, const std::string& p) {
    return Side{counter(name, (p + "_s").c_str()), counter(name, (p + "_cpu_s").c_str())};
  };
  // A benchmark run once (wall = its real time), with its CPU time.
  auto once = [&](const std::string& name) {
    Side s;
    const Json* b = bench(name);
    if (b == nullptr || b->value("error_occurred", false)) return s;
    s.value = b->value("real_time", 0.0) / 1e3;  // Unit(kMillisecond)
    s.cpu = b->contains("cpu_s") ? (*b)["cpu_s"].get<double>() : b->value("cpu_time", 0.0) / 1e3;
    return s;
  };
  auto process_ok = [&](const char* name) {
    return processes.contains(name) && processes[name].value("exit_code", -1) == 0;
  };
  auto process_side = [&](const char* name) {
    Side s;
    if (!process_ok(name)) return s;
    s.value = processes[name].value("wall_s", 0.0);
    s.cpu = processes[name].value("user_s", 0.0) + processes[name].value("sys_s", 0.0);
    return s;
  };
  const bool duckdb = bench("duckdb/load") != nullptr;
  const std::string not_judged =
      "measured at " + Count(events) + " events; the target is for ";
  // Targets stated for 10^6 and 10^7 events are judged at those sizes only.
  auto judge_at = [&](Row& r, double from_events, bool met) {
    if (events >= from_events) {
      r.met = met;
    } else {
      r.note = not_judged + (from_events >= 1e7 ? "10^7" : "10^6 and 10^7") +
               " events, not judged here";
    }
  };

  // 1. Import and load.
  const Side put{rate("import/lmdb_put"), CpuRate(bench("import/lmdb_put"))};
  const Side import_time = process_side("import");
  {
    Row r{"1", "import: twinline import NDJSON (the temporal index included)"};
    r.unit = Unit::kEventsPerSecond;
    if (import_time.value) {
      r.twinline = {events / *import_time.value, events / *import_time.cpu};
    }
    r.other_name = "LMDB put";
    r.other = put;
    r.against = Against::kOther;
    r.ratio_kind = RatioKind::kShare;
    r.target = ">= 500k ev/s";
    if (r.twinline.value) judge_at(r, 1e6, *r.twinline.value >= 500e3);
    const std::string judged = r.note;
    r.note = "events / wall time of the whole `twinline import` process; the writer builds the "
             "temporal index in the import's transaction. The ratio is to a plain LMDB put of "
             "the same record bytes (a limit, not a rival)" +
             (judged.empty() ? std::string() : "; " + judged);
    t.Add(std::move(r));
  }
  if (micro) {
    Row r{"1", "load time, same events: twinline import / SQLite / DuckDB load", std::nullopt,
          Unit::kSeconds};
    r.twinline = import_time;
    r.sqlite = once("sqlite/load");
    r.duck1 = once("duckdb/load");
    r.duck2 = once("duckdb/load_2t");
    r.against = Against::kDuckDb;
    const Side csv = once("duckdb/export");
    r.note = "twinline parses the NDJSON, checks, chains and indexes every event; SQLite and "
             "DuckDB load the effective facts read from the twinline log (SQLite: inserts, two "
             "indexes, ANALYZE; DuckDB: " +
             (csv.value ? "CSV files written in " + Duration(*csv.value) + ", not included, "
                        : std::string("CSV files ")) +
             "read into tables, CHECKPOINT, timed inside its process)";
    t.Add(std::move(r));
    Row lib{"1", "import: library appends (BeginBatch/Add)", rate("import/library_append"),
            Unit::kEventsPerSecond};
    lib.twinline.cpu = CpuRate(bench("import/library_append"));
    lib.other_name = "LMDB put";
    lib.other = put;
    lib.against = Against::kOther;
    lib.ratio_kind = RatioKind::kShare;
    lib.note = "the log's events copied into new messages and appended to a fresh log in one "
               "batch; the reference puts the same record bytes into the events table alone "
               "(MDB_APPEND)";
    t.Add(std::move(lib));
  }
  if (processes.contains("import")) {
    const Json& s = processes["import"];
    Row r{"1", "peak memory, twinline import: heap (anon) / total", Mb(s, "peak_anon_kb"),
          Unit::kMegabytes, "/ " + Megabytes(Mb(s, "peak_rss_kb"))};
    r.target = "heap < 1 GB at 10^7";
    judge_at(r, 1e7, *r.twinline.value < 1000);
    t.Add(std::move(r));
  }

  // 2. The index rebuild and the full replay, against a scan.
  const Side scan{rate("replay/lmdb_scan"), CpuRate(bench("replay/lmdb_scan"))};
  if (process_ok("index_rebuild")) {
    const Side p = process_side("index_rebuild");
    Row r{"2", "index rebuild: twinline index --rebuild", events / *p.value,
          Unit::kEventsPerSecond};
    r.twinline.cpu = events / *p.cpu;
    r.other_name = "LMDB scan";
    r.other = scan;
    r.against = Against::kOther;
    r.ratio_kind = RatioKind::kShare;
    r.target = ">= 0.5x";
    r.note = "events / wall time of the whole process (" + Duration(*p.value) +
             "): read the log, build the index, write it, commit";
    if (r.ratio()) r.met = *r.ratio() >= 0.5;
    t.Add(std::move(r));
  }
  if (micro) {
    Row r{"2", "full replay from zero (no index)", rate("replay/twinline_full"),
          Unit::kEventsPerSecond};
    r.twinline.cpu = CpuRate(bench("replay/twinline_full"));
    r.other_name = "LMDB scan";
    r.other = scan;
    r.against = Against::kOther;
    r.ratio_kind = RatioKind::kShare;
    t.Add(std::move(r));
  }

  // 3-5. The three questions.
  auto question = [&](const std::string& figure, const std::string& label, const std::string& q,
                      const std::string& p) {
    Row r{figure, label, std::nullopt, Unit::kSeconds};
    r.twinline = latency(q + "/twinline", p);
    r.sqlite = latency(q + "/sqlite", p);
    r.duck1 = latency(q + "/duckdb", p);
    r.duck2 = latency(q + "/duckdb_2t", p);
    r.against = duckdb ? Against::kDuckDb : Against::kSqlite;
    if (p == "p50") {
      if (auto js = counter(q + "/duckdb", "p50_js_s")) {
        r.note = "DuckDB in engine: its result materialized in its own chunks; making it JS "
                 "values took " + Duration(*js) + " more (median, 1 thread), not counted";
      }
    }
    return r;
  };
  if (micro) {
    {
      Row r = question("3", "as-of counts median (in process, temporal index)", "asof_counts",
                       "p50");
      const bool big = events >= 1e7;
      r.target = big ? "<= 30 ms at 10^7" : "<= 10 ms at 10^6";
      if (r.twinline.value) judge_at(r, 1e6, *r.twinline.value <= (big ? 0.030 : 0.010));
      t.Add(std::move(r));
      t.Add(question("3", "as-of counts p99", "asof_counts", "p99"));
    }
    if (bench("asof_counts/twinline_process") != nullptr) {
      Row r{"3", "as-of counts median, whole process: twinline replay --format csv", std::nullopt,
            Unit::kSeconds};
      r.twinline = latency("asof_counts/twinline_process", "p50");
      r.duck1 = latency("asof_counts/duckdb", "p50");
      r.duck2 = latency("asof_counts/duckdb_2t", "p50");
      r.against = Against::kDuckDb;
      r.target = "faster than DuckDB";
      if (r.ratio()) r.met = *r.ratio() > 1;
      r.note = "`twinline replay --as-of D --projection counts --format csv --dates earliest` "
               "timed from its start to its exit (open the log, answer, write the CSV), its "
               "output checked like every answer; against DuckDB's time inside its process";
      t.Add(std::move(r));
    }
    {
      Row r{"3", "as-of counts median by replaying the log (no index)", std::nullopt,
            Unit::kSeconds};
      r.twinline = latency("asof_counts/twinline_no_index", "p50");
      r.other_name = "index";
      r.other = latency("asof_counts/twinline", "p50");
      t.Add(std::move(r));
    }
    {
      Row r = question("4", "trade in force median (in process, temporal index)", "asof_trade",
                       "p50");
      r.target = "faster than DuckDB";
      if (duckdb && r.ratio()) r.met = *r.ratio() > 1;
      t.Add(std::move(r));
      t.Add(question("4", "trade in force p99", "asof_trade", "p99"));
      Row n{"4", "trade in force median by replaying the log (no index)", std::nullopt,
            Unit::kSeconds};
      n.twinline = latency("asof_trade/twinline_no_index", "p50");
      t.Add(std::move(n));
    }
    {
      Row r = question("5", "diff median (DiffAt, as twinline diff)", "diff", "p50");
      r.target = "faster than DuckDB";
      if (duckdb && r.ratio()) r.met = *r.ratio() > 1;
      t.Add(std::move(r));
      t.Add(question("5", "diff p99", "diff", "p99"));
      Row x{"5", "diff median / as-of median (every row set, in process)", std::nullopt,
            Unit::kSeconds};
      x.twinline = latency("diff/twinline", "p50");
      x.other_name = "as-of";
      x.other = latency("asof_all/twinline", "p50");
      x.against = Against::kOther;
      x.ratio_kind = RatioKind::kTimes;
      x.target = "<= 2x";
      if (x.ratio()) x.met = *x.ratio() <= 2;
      t.Add(std::move(x));
      Row n{"5", "diff median by replaying the log (no index: two replays and Diff)",
            std::nullopt, Unit::kSeconds};
      n.twinline = latency("diff/twinline_no_index", "p50");
      t.Add(std::move(n));
    }
    {
      // Every side of every question, checked sample by sample.
      Row r{"3-5", "answers identical"};
      std::string text;
      bool all = true, complete = true;
      for (const auto& [q, label] : {std::pair("asof_counts", "as-of counts"),
                                     std::pair("asof_trade", "trade"), std::pair("diff", "diffs")}) {
        double samples = 0, mismatches = 0;
        bool any = false;
        for (const char* side : {"twinline", "twinline_process", "twinline_no_index", "sqlite",
                                 "duckdb", "duckdb_2t"}) {
          const Json* b = bench(std::string(q) + "/" + side);
          if (b == nullptr) continue;
          const auto s = Counter(b, "samples"), m = Counter(b, "mismatches");
          if (!s || !m) {
            complete = false;
            all = all && b->value("error_message", "").find("disagree") == std::string::npos;
            continue;
          }
          any = true;
          samples += *s;
          mismatches += *m;
        }
        all = all && mismatches == 0;
        complete = complete && any;
        text += (text.empty() ? "answers: " : ", ") + Count(samples - mismatches) + "/" +
                Count(samples) + " " + label;
      }
      r.text = complete ? text : (all ? "not checked (a benchmark failed or was filtered out)"
                                      : "DISAGREE (the lines are in twinline-bench micro's output)");
      r.target = "all";
      r.met = complete && all;
      r.note = "answers compared, one per side and sample: twinline from its index, by replaying "
               "the log, the twinline replay process, SQLite" +
               std::string(duckdb ? ", DuckDB with 1 and 2 threads" : " (DuckDB left out: --no-duckdb)");
      t.Add(std::move(r));
    }
  }

  // 6. Disk.
  if (disk && events > 0) {
    Row r{"6", "disk: data.mdb (du), indexes included, per event",
          disk->value("data_mdb_bytes_on_disk", 0.0) / events, Unit::kBytesPerEvent};
    r.sqlite.value = counter("sqlite/load", "file_bytes");
    r.duck1.value = counter("duckdb/load", "file_bytes");
    if (r.sqlite.value) *r.sqlite.value /= events;
    if (r.duck1.value) *r.duck1.value /= events;
    r.target = "<= 250 B/event at 10^7";
    judge_at(r, 1e7, *r.twinline.value <= 250);
    r.note = Count(disk->value("data_mdb_bytes_on_disk", 0.0)) + " bytes in use on disk (" +
             Count(disk->value("data_mdb_size", 0.0)) +
             " apparent) after the import; SQLite's and DuckDB's files hold only the effective "
             "facts of the question, per event of the log" +
             (r.note.empty() ? std::string() : "; " + r.note);
    t.Add(std::move(r));
  }

  // 7. Peak memory.
  auto memory = [&](const char* process, const std::string& label) -> Row* {
    if (!processes.contains(process)) return nullptr;
    const Json& s = processes[process];
    Row& r = t.Add({"7", label, Mb(s, "peak_anon_kb"), Unit::kMegabytes,
                    "/ " + Megabytes(Mb(s, "peak_rss_kb"))});
    return &r;
  };
  if (Row* r = memory("replay_asof", "peak memory, as-of of every row set: heap / total")) {
    r->target = "heap < 300 MB at 10^7";
    judge_at(*r, 1e7, *r->twinline.value < 300);
    r->note = "twinline-bench replay --as-of 2000-06-30: every row set at once from the index, "
              "rows counted and dropped" + (r->note.empty() ? std::string() : "; " + r->note);
  }
  if (Row* r = memory("diff", "peak memory, twinline diff 1990-01-01 2010-12-31: heap / total")) {
    r->target = "heap < 300 MB at 10^7";
    judge_at(*r, 1e7, *r->twinline.value < 300);
    if (processes.contains("replay_asof")) {
      Row x{"7", "peak heap, diff / as-of of every row set", r->twinline.value, Unit::kMegabytes};
      x.other_name = "as-of";
      x.other.value = Mb(processes["replay_asof"], "peak_anon_kb");
      x.against = Against::kOther;
      x.ratio_kind = RatioKind::kTimes;
      x.target = "<= 1x";
      if (x.ratio()) x.met = *x.ratio() <= 1;
      t.Add(std::move(x));
    }
  }
  memory("replay_counts",
         "peak memory, twinline replay --projection counts --format csv: heap / total");
  if (processes.contains("replay_full")) {
    const Json& s = processes["replay_full"];
    t.Add({"7", "peak memory, full replay (no index, every row set): heap / file-backed",
           Mb(s, "peak_anon_kb"), Unit::kMegabytes, "/ " + Megabytes(Mb(s, "peak_file_kb"))});
  }
  memory("index_rebuild", "peak memory, twinline index --rebuild: heap / total");
  if (duckdb) {
    Row r{"7", "peak memory, DuckDB's process (node), after its answers"};
    r.unit = Unit::kMegabytes;
    if (auto kb = counter("diff/duckdb", "peak_rss_kb")) r.duck1.value = *kb * 1024.0 / 1e6;
    if (auto kb = counter("diff/duckdb_2t", "peak_rss_kb")) r.duck2.value = *kb * 1024.0 / 1e6;
    r.text = "-";
    t.Add(std::move(r));
  }

  // 8. Server.
  std::string serve_context;
  if (serve) {
    for (const ServeRun& run : ParseServe(*serve, &serve_context)) {
      Row r{"8", "server: " + run.name};
      const std::string errors = run.Column("ERRORS");
      r.text = run.Column("REQUESTS/S") + " req/s, p50 " + run.Column("P50") + ", p99 " +
               run.Column("P99") + (errors == "0" ? "" : ", errors " + errors);
      t.Add(std::move(r));
    }
    if (serve_context.find("check: FAILED") != std::string::npos) {
      t.Add(
          {"8", "server: load script check", std::nullopt, Unit::kText, "FAILED (see serve.txt)"});
    }
  }

  // Print. The date is the run's start; the load after it, as bench/run
  // noted it (else now: `report` may be run again later on the same files).
  const std::string date = meta->value("started", Now());
  std::string load_after = LoadAverage();
  if (auto noted = ReadText(dir + "/load_after"))
    load_after = Words(*noted).empty() ? load_after : *noted;
  while (!load_after.empty() && load_after.back() == '\n') load_after.pop_back();
  std::cout << "twinline bench, " << date << ": " << Count(events) << " events ("
            << meta->value("cities", 0) << " cities, " << meta->value("countries", 0)
            << " countries), " << meta->value("cores", 0) << " cores ("
            << meta->value("cpu", std::string("?")) << "), load "
            << meta->value("load_before", std::string("?")) << " before, " << load_after
            << " after\n"
            << "command: " << meta->value("command", std::string("?")) << "\n\n";
  t.Print(std::cout);
  if (!serve_context.empty())
    std::cout << "\nserver run (bench/serve_load.sh):\n" << serve_context << '\n';

  if (!out_path.empty()) {
    Json j;
    j["schema"] = "twinline-bench-v1";
    j["date"] = date;
    j["meta"] = *meta;
    j["load_after"] = load_after;
    j["reported"] = Now();
    j["figures"] = t.ToJson();
    j["raw"] = Json{{"micro", micro ? *micro : Json(nullptr)},
                    {"processes", processes},
                    {"disk", disk ? *disk : Json(nullptr)},
                    {"serve", serve ? Json(*serve) : Json(nullptr)}};
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << '\n';
    if (!out) {
      std::fprintf(stderr, "twinline-bench report: cannot write %s\n", out_path.c_str());
      return 1;
    }
    std::cout << "\nresults: " << out_path << '\n';
  }
  return 0;
}

}  // namespace twinline::bench
