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

enum class Unit { kEventsPerSecond, kSeconds, kMegabytes, kText };

struct Row {
  Row(std::string figure, std::string name, std::optional<double> value = std::nullopt,
      Unit unit = Unit::kText, std::string text = "")
      : figure(std::move(figure)),
        name(std::move(name)),
        value(value),
        unit(unit),
        text(std::move(text)) {}

  std::string figure;  // "1", "2", ...
  std::string name;
  std::optional<double> value;
  Unit unit = Unit::kText;
  std::string text;  // the value, when unit is kText (or extra words after it)
  std::string ref_name;
  std::optional<double> ref_value;
  // ratio = value / reference for rates (share of the limit), reference /
  // value for latencies and sizes ("x faster").
  std::optional<double> ratio;
  std::optional<double> cpu_ratio;  // the same ratio on CPU time
  std::string target;
  std::optional<bool> met;
  std::string note;
};

std::string ValueText(std::optional<double> v, Unit unit, const std::string& text) {
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
    case Unit::kText:
      break;
  }
  return "";
}

class Table {
 public:
  Row& Add(Row row) { return rows_.emplace_back(std::move(row)); }

  // A throughput beside its limit: ratio = share of the limit.
  Row& Throughput(std::string figure, std::string name, std::optional<double> value,
                  std::string ref_name, std::optional<double> ref,
                  std::optional<double> cpu_value = std::nullopt,
                  std::optional<double> cpu_ref = std::nullopt) {
    Row r{std::move(figure), std::move(name), value, Unit::kEventsPerSecond};
    r.ref_name = std::move(ref_name);
    r.ref_value = ref;
    if (value && ref && *ref > 0) r.ratio = *value / *ref;
    if (cpu_value && cpu_ref && *cpu_ref > 0) r.cpu_ratio = *cpu_value / *cpu_ref;
    return Add(std::move(r));
  }
  // A latency beside another: ratio = how many times faster twinline is.
  Row& Latency(std::string figure, std::string name, std::optional<double> value,
               std::string ref_name, std::optional<double> ref,
               std::optional<double> cpu_value = std::nullopt,
               std::optional<double> cpu_ref = std::nullopt) {
    Row r{std::move(figure), std::move(name), value, Unit::kSeconds};
    r.ref_name = std::move(ref_name);
    r.ref_value = ref;
    if (value && ref && *value > 0) r.ratio = *ref / *value;
    if (cpu_value && cpu_ref && *cpu_value > 0) r.cpu_ratio = *cpu_ref / *cpu_value;
    return Add(std::move(r));
  }

  void Print(std::ostream& out) const {
    std::vector<std::vector<std::string>> cells;
    cells.push_back(
        {"#", "FIGURE", "TWINLINE", "REFERENCE", "RATIO", "TARGET", "MET", "RATIO ON CPU TIME"});
    for (const Row& r : rows_) {
      std::string ref = r.ref_name;
      if (r.ref_value) ref += " " + ValueText(r.ref_value, r.unit, "");
      if (!r.ref_name.empty() && !r.ref_value) ref += " n/a";
      auto ratio = [&](std::optional<double> x) -> std::string {
        if (!x) return "-";
        return r.unit == Unit::kEventsPerSecond ? Fmt("%.3f", *x) + "x" : Sig(*x) + "x faster";
      };
      cells.push_back({r.figure, r.name, ValueText(r.value, r.unit, r.text),
                       ref.empty() ? "-" : ref, ratio(r.ratio), r.target.empty() ? "-" : r.target,
                       r.met ? (*r.met ? "yes" : "NO") : "-", ratio(r.cpu_ratio)});
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
      j["twinline"] =
          r.value ? Json{{"value", *r.value}, {"unit", UnitName(r.unit)}} : Json(r.text);
      if (r.value && !r.text.empty()) j["twinline"]["detail"] = r.text;
      j["reference"] = r.ref_name.empty() ? Json(nullptr) : Json{{"name", r.ref_name}};
      if (r.ref_value) j["reference"]["value"] = *r.ref_value;
      j["ratio"] = r.ratio ? Json(*r.ratio) : Json(nullptr);
      j["ratio_on_cpu_time"] = r.cpu_ratio ? Json(*r.cpu_ratio) : Json(nullptr);
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
  for (const char* p : {"import", "index_rebuild", "replay_full", "replay_asof"}) {
    if (auto j = ReadJson(dir + "/" + p + ".json", &error)) processes[p] = *j;
  }
  if (!error.empty()) {
    std::fprintf(stderr, "twinline-bench report: %s\n", error.c_str());
    return 1;
  }
  const std::optional<std::string> serve = ReadText(dir + "/serve.txt");
  const double events = meta->value("events", 0.0);

  Table t;
  auto rate = [&](const char* name) { return Counter(Micro(micro, name), "events_per_second"); };
  auto p = [&](const char* name, const char* which) { return Counter(Micro(micro, name), which); };
  auto process_ok = [&](const char* name) {
    return processes.contains(name) && processes[name].value("exit_code", -1) == 0;
  };

  // 1. Import.
  const auto put = rate("import/lmdb_put");
  const auto put_cpu = CpuRate(Micro(micro, "import/lmdb_put"));
  std::optional<double> import_rate, import_cpu;
  if (process_ok("import")) {
    const double wall = processes["import"].value("wall_s", 0.0);
    import_rate = events / wall;
    import_cpu = events / (processes["import"].value("user_s", 0.0) +
                           processes["import"].value("sys_s", 0.0));
  }
  t.Throughput("1", "import: twinline import NDJSON (incl. the temporal index)", import_rate,
               "LMDB put", put, import_cpu, put_cpu)
      .note =
      "wall time of the whole `twinline import` process; the writer keeps the temporal index in "
      "the same transaction";
  if (process_ok("index_rebuild")) {
    t.Add({"1", "import: twinline index --rebuild (alone)",
           processes["index_rebuild"].value("wall_s", 0.0), Unit::kSeconds});
  }
  // Without `micro` (bench/run --no-micro) only the process figures remain.
  if (micro) {
    t.Throughput("1", "import: library appends (BeginBatch/Add)", rate("import/library_append"),
                 "LMDB put", put, CpuRate(Micro(micro, "import/library_append")), put_cpu)
        .note =
        "the log's events copied into new messages and appended to a fresh log in one batch; the "
        "reference puts the same record bytes into the events table alone (MDB_APPEND)";

    // 2. Full replay.
    const auto scan = rate("replay/lmdb_scan");
    const auto scan_cpu = CpuRate(Micro(micro, "replay/lmdb_scan"));
    Row& replay =
        t.Throughput("2", "full replay from zero", rate("replay/twinline_full"), "LMDB scan", scan,
                     CpuRate(Micro(micro, "replay/twinline_full")), scan_cpu);
    replay.target = ">= 0.5x";
    if (replay.ratio) replay.met = *replay.ratio >= 0.5;

    // 3. As-of.
    const std::string sqlite_name = "SQLite";
    for (const char* which : {"p50_s", "p99_s"}) {
      const std::string label = std::string("as-of query ") + (which[1] == '5' ? "median" : "p99");
      const std::string cpu = std::string(which, 3) + "_cpu_s";
      Row& r = t.Latency("3", label + " (temporal index)", p("asof/twinline", which), sqlite_name,
                         p("asof/sqlite", which), p("asof/twinline", cpu.c_str()),
                         p("asof/sqlite", cpu.c_str()));
      r.target = ">= 10x faster";
      if (r.ratio) r.met = *r.ratio >= 10;
    }
    t.Latency("3", "as-of query median vs full replay", p("asof/twinline", "p50_s"),
              "no index", p("asof/twinline_no_index", "p50_s"),
              p("asof/twinline", "p50_cpu_s"), p("asof/twinline_no_index", "p50_cpu_s"));
    if (const Json* load = Micro(micro, "sqlite/load"); load != nullptr) {
      Row r{"3", "SQLite load (effective facts, indexes, ANALYZE)",
            load->value("real_time", 0.0) / 1e3, Unit::kSeconds};
      r.note = "from the twinline log to an indexed SQLite file: " +
               Count(load->value("edge_events", 0.0)) + " edge events on " +
               Count(load->value("edges", 0.0)) + " edges, " +
               Count(load->value("trade_reports", 0.0)) + " trade reports on " +
               Count(load->value("trade_keys", 0.0)) + " keys, " +
               Sig(load->value("file_bytes", 0.0) / 1e6) + " MB";
      t.Add(std::move(r));
    }
    {
      const auto tw = Counter(Micro(micro, "asof/twinline"), "samples");
      const auto mism = Counter(Micro(micro, "asof/twinline"), "mismatches");
      const auto full = Counter(Micro(micro, "asof/twinline_no_index"), "mismatches");
      const auto dm = Counter(Micro(micro, "diff/twinline"), "mismatches");
      const auto ds = Counter(Micro(micro, "diff/twinline"), "samples");
      Row r{"3-4", "answers identical to SQLite's"};
      if (tw && mism && ds && dm) {
        r.text = Count(*tw - *mism) + "/" + Count(*tw) + " as-of dates, " + Count(*ds - *dm) + "/" +
                 Count(*ds) + " diffs" + (full && *full == 0 ? ", full replays too" : "");
        r.met = *mism == 0 && *dm == 0 && (!full || *full == 0);
      } else {
        bool disagree = false;
        for (const char* name : {"asof/sqlite", "asof/twinline", "asof/twinline_no_index",
                                 "diff/sqlite", "diff/twinline"}) {
          const Json* b = Micro(micro, name);
          disagree = disagree || (b != nullptr && b->value("error_message", "").find("disagree") !=
                                                      std::string::npos);
        }
        r.text = disagree ? "DISAGREE (the lines are in twinline-bench micro's output)"
                          : "not checked (a benchmark failed or was filtered out)";
        r.met = false;
      }
      r.target = "all";
      t.Add(std::move(r));
    }

    // 4. Diff.
    for (const char* which : {"p50_s", "p99_s"}) {
      const std::string label = std::string("diff ") + (which[1] == '5' ? "median" : "p99");
      const std::string cpu = std::string(which, 3) + "_cpu_s";
      t.Latency("4", label, p("diff/twinline", which), sqlite_name, p("diff/sqlite", which),
                p("diff/twinline", cpu.c_str()), p("diff/sqlite", cpu.c_str()));
    }
  }

  // 5. Peak memory.
  if (processes.contains("replay_full")) {
    const Json& s = processes["replay_full"];
    Row anon{"5", "peak RSS, full replay (every row set): anonymous", Mb(s, "peak_anon_kb"), Unit::kMegabytes};
    anon.target = "< 300 MB at 10^7";
    if (events >= 1e7) {
      anon.met = *anon.value < 300;
    } else {
      anon.note = "measured at " + Count(events) +
                  " events; the target is for 10^7 events, not judged here";
    }
    t.Add(std::move(anon));
    t.Add({"5", "peak RSS, full replay: file-backed (LMDB map)", Mb(s, "peak_file_kb"),
           Unit::kMegabytes});
    t.Add({"5", "peak RSS, full replay: total (kernel high-water mark)", Mb(s, "peak_rss_kb"),
           Unit::kMegabytes});
  }
  if (processes.contains("replay_asof")) {
    const Json& s = processes["replay_asof"];
    Row r{"5", "peak RSS, as-of query (every row set): anon / total", Mb(s, "peak_anon_kb"),
          Unit::kMegabytes};
    r.text = "/ " + Megabytes(Mb(s, "peak_rss_kb"));
    t.Add(std::move(r));
  }
  for (auto [process, label] :
       {std::pair("import", "peak RSS, twinline import: anon / total"),
        std::pair("index_rebuild", "peak RSS, twinline index --rebuild: anon / total")}) {
    if (!processes.contains(process)) continue;
    const Json& s = processes[process];
    Row r{"5", label, Mb(s, "peak_anon_kb"), Unit::kMegabytes};
    r.text = "/ " + Megabytes(Mb(s, "peak_rss_kb"));
    t.Add(std::move(r));
  }

  // 6. Server.
  std::string serve_context;
  if (serve) {
    for (const ServeRun& run : ParseServe(*serve, &serve_context)) {
      Row r{"6", "server: " + run.name};
      const std::string errors = run.Column("ERRORS");
      r.text = run.Column("REQUESTS/S") + " req/s, p50 " + run.Column("P50") + ", p99 " +
               run.Column("P99") + (errors == "0" ? "" : ", errors " + errors);
      t.Add(std::move(r));
    }
    if (serve_context.find("check: FAILED") != std::string::npos) {
      t.Add(
          {"6", "server: load script check", std::nullopt, Unit::kText, "FAILED (see serve.txt)"});
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
