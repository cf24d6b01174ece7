#include "bench/micro.h"

#include <benchmark/benchmark.h>
#include <capnp/message.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <sstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/duckdb_reference.h"
#include "bench/lmdb_reference.h"
#include "bench/process_stats.h"
#include "bench/sql_reference.h"
#include "core/edtf.h"
#include "core/event_log.h"
#include "projections/projection.h"

namespace twinline::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// What each question asks twinline, as the CLI asks it: `twinline replay
// --projection counts --format csv` (count rows, brief), `--projection
// trade`, and `twinline diff FROM TO` (every row set, DiffAt).
constexpr RowSets kCountsQuestion = kCountRows | kCountsBrief;
constexpr RowSets kTradeQuestion = kTradeRows;
constexpr RowSets kDiffQuestion = kAllRows;

// The three questions every side answers (bench/README.md).
enum Question { kCounts = 0, kTrade = 1, kDiff = 2 };
constexpr const char* kQuestionNames[] = {"as-of counts", "trade in force", "diff"};

// Wall-clock and this thread's CPU time of one sample. The machine may be
// shared: wall time includes waiting for a core, CPU time does not.
class Timing {
 public:
  void Start() {
    wall_start_ = Clock::now();
    cpu_start_ = ThreadCpu();
  }
  void Stop() {
    wall_ = std::chrono::duration<double>(Clock::now() - wall_start_).count();
    cpu_ = ThreadCpu() - cpu_start_;
  }
  // A time measured elsewhere (inside DuckDB's process, or a whole process).
  void Set(double wall, double cpu) {
    wall_ = wall;
    cpu_ = cpu;
  }
  double wall() const { return wall_; }
  double cpu() const { return cpu_; }

 private:
  static double ThreadCpu() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }
  Clock::time_point wall_start_;
  double cpu_start_ = 0, wall_ = 0, cpu_ = 0;
};

// Nearest-rank percentile of `samples` (seconds), p in (0, 100].
double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  return samples[std::clamp<size_t>(rank, 1, samples.size()) - 1];
}

// twinline's answer to question q, in process, reduced to canonical lines:
// for kCounts and kTrade as of `day`, for kDiff between `day` and `day2`.
// `t` times the call alone (Replay or DiffAt), not the reduction.
Status AskTwinline(const ReadTxn& txn, Question q, int64_t day, int64_t day2, bool use_index,
                   Timing* t, std::vector<std::string>* lines, uint64_t* applied = nullptr) {
  Query query;
  query.as_of_day = day;
  query.rule = DateRule::kEarliest;
  query.use_index = use_index;
  if (q == kDiff) {
    query.rows = kDiffQuestion;
    Query to = query;
    to.as_of_day = day2;
    Snapshot a, b;
    std::vector<DiffRow> rows;
    t->Start();
    TWINLINE_RETURN_IF_ERROR(DiffAt(txn, query, to, &a, &b, &rows));
    t->Stop();
    *lines = DiffLines(rows);
    return Status::Ok();
  }
  query.rows = q == kCounts ? kCountsQuestion : kTradeQuestion;
  Snapshot snap;
  ReplayStats stats;
  t->Start();
  TWINLINE_RETURN_IF_ERROR(Replay(txn, query, &snap, &stats));
  t->Stop();
  if (applied != nullptr) *applied += stats.events_applied;
  *lines = AsOfLines(snap);
  return Status::Ok();
}

// What the benchmarks share: the log (opened on first use, read-only), the
// SQLite and DuckDB references (loaded on first use), the sampled dates and,
// per question and sample, the hash of the first answer computed for it,
// which every later answer must match (the lines are not kept: a
// disagreement is described against twinline's answer, computed again).
class Fixture {
 public:
  explicit Fixture(MicroOptions options) : o_(std::move(options)) {
    std::mt19937_64 rng(o_.seed);
    std::uniform_int_distribution<int64_t> day(DaysFromCivil(1950, 1, 1),
                                               DaysFromCivil(2025, 12, 31));
    for (int i = 0; i < o_.samples; ++i) asof_days_.push_back(day(rng));
    for (int i = 0; i < o_.diff_samples; ++i) {
      int64_t a = day(rng), b = day(rng);
      if (a > b) std::swap(a, b);
      diff_days_.emplace_back(a, b);
    }
    expected_[kCounts].resize(asof_days_.size());
    expected_[kTrade].resize(asof_days_.size());
    expected_[kDiff].resize(diff_days_.size());
  }

  const MicroOptions& options() const { return o_; }
  const std::vector<int64_t>& asof_days() const { return asof_days_; }
  const std::vector<std::pair<int64_t, int64_t>>& diff_days() const { return diff_days_; }

  // The log is held open from first use to the end: benchmarks that open
  // the same directory with plain LMDB run before it (registration order).
  Status Log(EventLog** log) {
    if (log_ == nullptr) {
      OpenOptions options;
      options.read_only = true;
      TWINLINE_RETURN_IF_ERROR(EventLog::Open(o_.db, options, &log_));
    }
    *log = log_.get();
    return Status::Ok();
  }

  Status Sql(SqlReference** sql) {
    if (sql_ == nullptr) {
      LoadStats stats;
      TWINLINE_RETURN_IF_ERROR(LoadSql(&stats));
    }
    *sql = sql_.get();
    return Status::Ok();
  }

  Status LoadSql(LoadStats* stats) {
    sql_.reset();
    const std::string path = o_.work + "/reference.sqlite";
    fs::remove(path);
    EventLog* log = nullptr;
    TWINLINE_RETURN_IF_ERROR(Log(&log));
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(log->BeginRead(&txn));
    return SqlReference::Load(*txn, path, stats, &sql_);
  }

  // The effective facts as CSV for DuckDB, written once.
  std::string FactsDir() const { return o_.work + "/facts"; }
  Status ExportFacts(FactStats* stats, uint64_t* bytes) {
    fs::remove_all(FactsDir());
    EventLog* log = nullptr;
    TWINLINE_RETURN_IF_ERROR(Log(&log));
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(log->BeginRead(&txn));
    TWINLINE_RETURN_IF_ERROR(DuckDbReference::ExportFacts(*txn, FactsDir(), stats, bytes));
    facts_exported_ = true;
    return Status::Ok();
  }

  // DuckDB with `threads` threads, on a database of its own loaded from the
  // exported facts; one instance at a time (another thread count, or
  // `reload`, replaces it, loading again). `load` (may be null) gets the
  // load's figures when this call loaded it.
  Status Duck(int threads, DuckDbReference** duck, DuckDbLoad* load = nullptr,
              bool reload = false) {
    if (duck_ == nullptr || duck_threads_ != threads || reload) {
      duck_.reset();
      if (!facts_exported_) {
        FactStats stats;
        uint64_t bytes = 0;
        TWINLINE_RETURN_IF_ERROR(ExportFacts(&stats, &bytes));
      }
      const std::string db = o_.work + "/duckdb-" + std::to_string(threads) + ".db";
      fs::remove(db);
      fs::remove(db + ".wal");
      DuckDbLoad loaded;
      DuckDbProgram program{o_.node, o_.duckdb_script};
      TWINLINE_RETURN_IF_ERROR(
          DuckDbReference::Start(program, FactsDir(), db, threads, &loaded, &duck_));
      duck_threads_ = threads;
      if (load != nullptr) *load = loaded;
    }
    *duck = duck_.get();
    return Status::Ok();
  }

  // Checks `lines`, one side's answer to question q for sample i, against
  // the first answer given for it. Returns false on a disagreement, which is
  // recorded with both answers' differing lines.
  bool Check(Question q, size_t i, const std::string& side,
             const std::vector<std::string>& lines) {
    std::optional<Expected>& expected = expected_[q][i];
    const std::string hash = LinesHash(lines);
    if (!expected) {
      expected = Expected{hash, side};
      return true;
    }
    if (expected->hash == hash) return true;
    failures_.push_back(side + " disagrees with " + expected->side + " on the " +
                        kQuestionNames[q] + " " + SampleName(q, i) + ": " +
                        Difference(q, i, side, lines));
    return false;
  }

  std::string SampleName(Question q, size_t i) const {
    if (q == kDiff) {
      return FormatDay(diff_days_[i].first) + " .. " + FormatDay(diff_days_[i].second);
    }
    return "as of " + FormatDay(asof_days_[i]);
  }

  const std::vector<std::string>& failures() const { return failures_; }
  void Fail(std::string what) { failures_.push_back(std::move(what)); }

 private:
  struct Expected {
    std::string hash;
    std::string side;  // who gave it
  };

  // How `lines` differ from twinline's answer (from its index), asked again.
  std::string Difference(Question q, size_t i, const std::string& side,
                         const std::vector<std::string>& lines) {
    EventLog* log = nullptr;
    std::unique_ptr<ReadTxn> txn;
    std::vector<std::string> twinline;
    Timing t;
    const int64_t day = q == kDiff ? diff_days_[i].first : asof_days_[i];
    const int64_t day2 = q == kDiff ? diff_days_[i].second : 0;
    Status s = Log(&log);
    if (s.ok()) s = log->BeginRead(&txn);
    if (s.ok()) s = AskTwinline(*txn, q, day, day2, true, &t, &twinline);
    if (!s.ok()) return "(could not ask twinline again: " + s.ToString() + ")";
    return DescribeDifference("twinline", twinline, side, lines);
  }

  MicroOptions o_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SqlReference> sql_;
  bool facts_exported_ = false;
  std::unique_ptr<DuckDbReference> duck_;
  int duck_threads_ = 0;
  std::vector<int64_t> asof_days_;
  std::vector<std::pair<int64_t, int64_t>> diff_days_;
  std::vector<std::optional<Expected>> expected_[3];
  std::vector<std::string> failures_;
};

Fixture* fixture = nullptr;  // set by MicroMain for the benchmarks' lifetime

bool Ok(benchmark::State& state, const Status& s) {
  if (s.ok()) return true;
  state.SkipWithError(s.ToString().c_str());
  fixture->Fail(s.ToString());
  return false;
}

std::string Fresh(const std::string& name) {
  const std::string path = fixture->options().work + "/" + name;
  fs::remove_all(path);
  return path;
}

// --- 1. Import ---------------------------------------------------------------

void LmdbPut(benchmark::State& state) {
  PlainStats stats;
  for (auto _ : state) {
    if (!Ok(state,
            PutRecords(fixture->options().db, Fresh("lmdb-put"), fixture->options().batch, &stats)))
      return;
  }
  fs::remove_all(fixture->options().work + "/lmdb-put");
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(stats.records), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["events"] = static_cast<double>(stats.records);
  state.counters["bytes"] = static_cast<double>(stats.bytes);
}

// The log's events, copied into fresh messages and appended through
// EventLog::BeginBatch / Add / Commit to a new log: what `twinline import`
// does after parsing JSON. The copy from the source log is timed too.
void LibraryAppend(benchmark::State& state) {
  EventLog* source = nullptr;
  if (!Ok(state, fixture->Log(&source))) return;
  uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = Fresh("library-append");
    std::unique_ptr<EventLog> log;
    OpenOptions create;
    create.create_if_missing = true;
    if (!Ok(state, EventLog::Open(dir, create, &log))) return;
    std::unique_ptr<ReadTxn> txn;
    if (!Ok(state, source->BeginRead(&txn))) return;
    state.ResumeTiming();

    const uint64_t batch = fixture->options().batch;
    std::unique_ptr<EventLog::BatchWriter> writer;
    Status inner = log->BeginBatch({}, &writer);
    uint64_t in_batch = 0;
    AppendResult result;
    events = 0;
    Status s = !inner.ok() ? inner : txn->Scan(1, txn->LastSeq(), [&](schema::Event::Reader ev) {
      auto message = std::make_unique<capnp::MallocMessageBuilder>(
          static_cast<unsigned>(ev.totalSize().wordCount + 8));
      message->setRoot(ev);
      inner = writer->Add(std::move(message), nullptr);
      if (inner.ok() && batch != 0 && ++in_batch == batch) {
        inner = writer->Commit(&result);
        writer.reset();
        if (inner.ok()) inner = log->BeginBatch({}, &writer);
        in_batch = 0;
      }
      ++events;
      return inner.ok();
    });
    if (s.ok()) s = inner;
    if (s.ok() && writer != nullptr) s = writer->Commit(&result);
    writer.reset();
    if (!Ok(state, s)) return;

    state.PauseTiming();
    log.reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["events"] = static_cast<double>(events);
}

// --- 2. Full replay -------------------------------------------------------------

void LmdbScan(benchmark::State& state) {
  PlainStats stats;
  for (auto _ : state) {
    if (!Ok(state, ScanRecords(fixture->options().db, &stats))) return;
    benchmark::DoNotOptimize(stats.checksum);
  }
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(stats.records), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["events"] = static_cast<double>(stats.records);
  state.counters["bytes"] = static_cast<double>(stats.bytes);
}

// A projection rebuilt from zero: every event, no index, the default
// (range) rule, as of a day after everything.
void TwinlineFullReplay(benchmark::State& state) {
  EventLog* log = nullptr;
  if (!Ok(state, fixture->Log(&log))) return;
  std::unique_ptr<ReadTxn> txn;
  if (!Ok(state, log->BeginRead(&txn))) return;
  Query q;
  q.as_of_day = DaysFromCivil(9999, 12, 31);
  q.use_index = false;
  ReplayStats stats;
  for (auto _ : state) {
    Snapshot snap;
    if (!Ok(state, Replay(*txn, q, &snap, &stats))) return;
    benchmark::DoNotOptimize(snap.state_hash);
  }
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(txn->LastSeq()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["events"] = static_cast<double>(txn->LastSeq());
  state.counters["facts_applied"] = static_cast<double>(stats.events_applied);
}

// --- 3-5. The three questions -------------------------------------------------------

void SqliteLoad(benchmark::State& state) {
  LoadStats stats;
  for (auto _ : state) {
    if (!Ok(state, fixture->LoadSql(&stats))) return;
  }
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(stats.events_read), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["events"] = static_cast<double>(stats.events_read);
  state.counters["edge_events"] = static_cast<double>(stats.edge_events);
  state.counters["edges"] = static_cast<double>(stats.edges);
  state.counters["trade_reports"] = static_cast<double>(stats.trade_reports);
  state.counters["trade_keys"] = static_cast<double>(stats.trade_keys);
  state.counters["file_bytes"] = static_cast<double>(stats.file_bytes);
}

// The effective facts written as CSV for DuckDB (the part of DuckDB's load
// that happens in twinline-bench).
void DuckDbExport(benchmark::State& state) {
  FactStats stats;
  uint64_t bytes = 0;
  for (auto _ : state) {
    if (!Ok(state, fixture->ExportFacts(&stats, &bytes))) return;
  }
  state.counters["events"] = static_cast<double>(stats.events_read);
  state.counters["edge_events"] = static_cast<double>(stats.edge_events);
  state.counters["trade_reports"] = static_cast<double>(stats.trade_reports);
  state.counters["csv_bytes"] = static_cast<double>(bytes);
}

// DuckDB's load of the CSV files into a new database with `threads`
// threads, timed inside its process (manual time).
void DuckDbLoadTimed(benchmark::State& state, int threads) {
  DuckDbLoad load;
  for (auto _ : state) {
    DuckDbReference* duck = nullptr;
    if (!Ok(state, fixture->Duck(threads, &duck, &load, /*reload=*/true))) return;
    state.SetIterationTime(load.timing.wall_s);
  }
  state.counters["cpu_s"] = load.timing.cpu_s;
  state.counters["file_bytes"] = static_cast<double>(load.file_bytes);
  state.counters["threads"] = threads;
  state.SetLabel("DuckDB " + load.version);
}

// Runs `sample(i, &timing, &lines)` for i = 0, 1, ... one per iteration
// (after one untimed warm-up), reports the latencies' percentiles and
// checks each answer as side `side` of question q (side "": not checked).
template <typename SampleFn>
void Latencies(benchmark::State& state, Question q, const std::string& side, SampleFn sample) {
  std::vector<double> wall, cpu;
  std::vector<std::string> lines;
  Timing t;
  if (!Ok(state, sample(0, &t, &lines))) return;
  size_t i = 0, mismatches = 0, rows = 0;
  for (auto _ : state) {
    if (!Ok(state, sample(i, &t, &lines))) return;
    state.SetIterationTime(t.wall());
    wall.push_back(t.wall());
    cpu.push_back(t.cpu());
    rows += lines.size();
    if (!side.empty() && !fixture->Check(q, i, side, lines)) ++mismatches;
    ++i;
  }
  state.counters["p50_s"] = Percentile(wall, 50);
  state.counters["p99_s"] = Percentile(wall, 99);
  state.counters["max_s"] = Percentile(wall, 100);
  state.counters["p50_cpu_s"] = Percentile(cpu, 50);
  state.counters["p99_cpu_s"] = Percentile(cpu, 99);
  state.counters["samples"] = static_cast<double>(wall.size());
  state.counters["mismatches"] = static_cast<double>(mismatches);
  state.counters["rows_compared"] = static_cast<double>(rows);
  if (!side.empty()) state.SetLabel(side);
  if (mismatches > 0) state.SkipWithError("answers disagree (see stderr)");
}

// twinline in process: from its temporal index, or (use_index false) by
// replaying the log. The diff is DiffAt, what `twinline diff` does.
void Twinline(benchmark::State& state, Question q, bool use_index) {
  EventLog* log = nullptr;
  if (!Ok(state, fixture->Log(&log))) return;
  std::unique_ptr<ReadTxn> txn;
  if (!Ok(state, log->BeginRead(&txn))) return;
  uint64_t applied = 0;
  Latencies(state, q, use_index ? "twinline" : "twinline (no index)",
            [&](size_t i, Timing* t, std::vector<std::string>* lines) {
              if (q == kDiff) {
                const auto [from, to] = fixture->diff_days()[i];
                return AskTwinline(*txn, q, from, to, use_index, t, lines);
              }
              return AskTwinline(*txn, q, fixture->asof_days()[i], 0, use_index, t, lines,
                                 &applied);
            });
  state.counters["facts_applied_mean"] =
      benchmark::Counter(static_cast<double>(applied), benchmark::Counter::kAvgIterations);
}

// The as-of of every row set, from the index: what a diff of every row set
// (`twinline diff`) is held to (at most twice its time). Not checked: no
// peer answers it.
void TwinlineAsOfAllRows(benchmark::State& state) {
  EventLog* log = nullptr;
  if (!Ok(state, fixture->Log(&log))) return;
  std::unique_ptr<ReadTxn> txn;
  if (!Ok(state, log->BeginRead(&txn))) return;
  Latencies(state, kCounts, "", [&](size_t i, Timing* t, std::vector<std::string>* lines) {
    Query q;
    q.as_of_day = fixture->asof_days()[i];
    q.rule = DateRule::kEarliest;
    q.rows = kDiffQuestion;
    Snapshot snap;
    t->Start();
    TWINLINE_RETURN_IF_ERROR(Replay(*txn, q, &snap));
    t->Stop();
    lines->clear();
    benchmark::DoNotOptimize(snap.state_hash);
    return Status::Ok();
  });
}

// The CSV of `twinline replay --projection counts --format csv` (entity,
// measure, certain, possible), reduced as AsOfLines reduces a Snapshot.
Status CountsCsvLines(const std::string& csv, std::vector<std::string>* lines) {
  std::map<std::string, std::pair<Range, Range>> edges;  // partnerships, routes
  std::istringstream in(csv);
  std::string line;
  if (!std::getline(in, line) || line != "entity,measure,certain,possible")
    return Status::Corruption("twinline replay --format csv: unexpected header '" + line + "'");
  while (std::getline(in, line)) {
    const size_t c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
    if (c3 == std::string::npos)
      return Status::Corruption("twinline replay --format csv: bad line '" + line + "'");
    const std::string measure = line.substr(c1 + 1, c2 - c1 - 1);
    if (measure != "partnerships" && measure != "routes") continue;
    Range r{std::stoull(line.substr(c2 + 1, c3 - c2 - 1)), std::stoull(line.substr(c3 + 1))};
    auto& e = edges[line.substr(0, c1)];
    (measure == "partnerships" ? e.first : e.second) = r;
  }
  Snapshot snap;
  for (const auto& [slug, e] : edges) {
    EntityCounts& c = snap.counts[slug];
    c.partnerships = e.first;
    c.routes = e.second;
  }
  *lines = AsOfLines(snap);
  return Status::Ok();
}

// The whole `twinline replay --as-of D --projection counts --format csv
// --dates earliest` process: start, open, answer, write the CSV, exit. Its
// output is checked like any other answer.
void TwinlineProcess(benchmark::State& state) {
  const MicroOptions& o = fixture->options();
  Latencies(state, kCounts, "twinline replay (process)",
            [&](size_t i, Timing* t, std::vector<std::string>* lines) {
              std::string csv;
              ProcessStats stats;
              TWINLINE_RETURN_IF_ERROR(RunCaptured(
                  {o.twinline, "--db", o.db, "replay", "--as-of", FormatDay(fixture->asof_days()[i]),
                   "--projection", "counts", "--format", "csv", "--dates", "earliest"},
                  &csv, &stats));
              if (stats.exit_code != 0) {
                return Status::IOError("twinline replay exited with status " +
                                       std::to_string(stats.exit_code));
              }
              t->Set(stats.wall_s, stats.user_s + stats.sys_s);
              return CountsCsvLines(csv, lines);
            });
}

void Sqlite(benchmark::State& state, Question q) {
  SqlReference* sql = nullptr;
  if (!Ok(state, fixture->Sql(&sql))) return;
  Latencies(state, q, "SQLite", [&](size_t i, Timing* t, std::vector<std::string>* lines) {
    if (q == kDiff) {
      DiffAnswer answer;
      const auto [from, to] = fixture->diff_days()[i];
      t->Start();
      TWINLINE_RETURN_IF_ERROR(sql->Diff(from, to, &answer));
      t->Stop();
      *lines = DiffLines(answer);
      return Status::Ok();
    }
    AsOfAnswer answer;
    const int64_t day = fixture->asof_days()[i];
    t->Start();
    TWINLINE_RETURN_IF_ERROR(q == kCounts ? sql->AsOfCounts(day, &answer)
                                          : sql->AsOfTrade(day, &answer));
    t->Stop();
    *lines = AsOfLines(answer);
    return Status::Ok();
  });
}

// DuckDB, timed inside its process (DuckDbReference: what that excludes).
void DuckDb(benchmark::State& state, Question q, int threads) {
  DuckDbReference* duck = nullptr;
  if (!Ok(state, fixture->Duck(threads, &duck))) return;
  const std::string side = "DuckDB (" + std::to_string(threads) + " thread" +
                           (threads == 1 ? "" : "s") + ")";
  std::vector<double> js;
  Latencies(state, q, side, [&](size_t i, Timing* t, std::vector<std::string>* lines) {
    EngineTiming engine;
    if (q == kDiff) {
      DiffAnswer answer;
      const auto [from, to] = fixture->diff_days()[i];
      TWINLINE_RETURN_IF_ERROR(duck->Diff(from, to, &answer, &engine));
      *lines = DiffLines(answer);
    } else {
      AsOfAnswer answer;
      const int64_t day = fixture->asof_days()[i];
      TWINLINE_RETURN_IF_ERROR(q == kCounts ? duck->AsOfCounts(day, &answer, &engine)
                                            : duck->AsOfTrade(day, &answer, &engine));
      *lines = AsOfLines(answer);
    }
    t->Set(engine.wall_s, engine.cpu_s);
    js.push_back(engine.js_s);
    return Status::Ok();
  });
  // Not in the figures: the rows made JS values after DuckDB's answer.
  state.counters["p50_js_s"] = Percentile(js, 50);
  uint64_t kb = 0;
  if (Ok(state, duck->PeakRss(&kb))) state.counters["peak_rss_kb"] = static_cast<double>(kb);
  state.counters["threads"] = threads;
}

// --- Options ---------------------------------------------------------------------

// Takes "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past it.
bool Flag(int argc, char** argv, int* i, const char* name, std::string* value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(argv[*i], name, n) != 0) return false;
  if (argv[*i][n] == '=') {
    *value = argv[*i] + n + 1;
    return true;
  }
  if (argv[*i][n] != '\0' || *i + 1 >= argc) return false;
  *value = argv[++*i];
  return true;
}

bool ParseOptions(int* argc, char** argv, MicroOptions* o, std::string* error) {
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string v;
    try {
      if (Flag(*argc, argv, &i, "--db", &v)) {
        o->db = v;
      } else if (Flag(*argc, argv, &i, "--work", &v)) {
        o->work = v;
      } else if (Flag(*argc, argv, &i, "--samples", &v)) {
        o->samples = std::stoi(v);
      } else if (Flag(*argc, argv, &i, "--full-samples", &v)) {
        o->full_samples = std::stoi(v);
      } else if (Flag(*argc, argv, &i, "--diff-samples", &v)) {
        o->diff_samples = std::stoi(v);
      } else if (Flag(*argc, argv, &i, "--seed", &v)) {
        o->seed = std::stoull(v);
      } else if (Flag(*argc, argv, &i, "--batch", &v)) {
        o->batch = std::stoull(v);
      } else if (Flag(*argc, argv, &i, "--repetitions", &v)) {
        o->repetitions = std::stoi(v);
      } else if (Flag(*argc, argv, &i, "--twinline", &v)) {
        o->twinline = v;
      } else if (Flag(*argc, argv, &i, "--duckdb", &v)) {
        o->duckdb_script = v;
      } else if (Flag(*argc, argv, &i, "--node", &v)) {
        o->node = v;
      } else if (std::strcmp(argv[i], "--no-duckdb") == 0) {
        o->duckdb = false;
      } else {
        argv[kept++] = argv[i];
      }
    } catch (const std::exception&) {
      *error = "bad value '" + v + "' for " + argv[i - 1];
      return false;
    }
  }
  *argc = kept;
  if (o->db.empty() || o->work.empty()) {
    *error = "--db DIR and --work DIR are required";
    return false;
  }
  if (o->samples < 1 || o->full_samples < 1 || o->diff_samples < 1 || o->repetitions < 1) {
    *error = "--samples, --full-samples, --diff-samples and --repetitions must be at least 1";
    return false;
  }
  if (o->duckdb && o->duckdb_script.empty()) {
    *error = "--duckdb SCRIPT (bench/duckdb/reference.mjs) is required, or --no-duckdb to leave "
             "the DuckDB peer out";
    return false;
  }
  o->full_samples = std::min(o->full_samples, o->samples);
  o->full_samples = std::min(o->full_samples, o->diff_samples);
  return true;
}

}  // namespace

int MicroMain(int argc, char** argv) {
  MicroOptions options;
  std::string error;
  if (!ParseOptions(&argc, argv, &options, &error)) {
    std::fprintf(stderr, "twinline-bench micro: %s\n", error.c_str());
    return 1;
  }
  std::error_code ec;
  fs::create_directories(options.work, ec);
  if (ec) {
    std::fprintf(stderr, "twinline-bench micro: cannot create %s: %s\n", options.work.c_str(),
                 ec.message().c_str());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  Fixture f(options);
  fixture = &f;
  const int reps = options.repetitions;
  auto whole = [&](benchmark::internal::Benchmark* b, bool repeat) {
    b->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
    if (repeat && reps > 1) b->Repetitions(reps)->ReportAggregatesOnly(true);
  };
  auto latency = [&](benchmark::internal::Benchmark* b, int samples) {
    b->Iterations(samples)->UseManualTime()->Unit(benchmark::kMillisecond);
  };
  // Plain LMDB first: it opens the log's directory itself, before the
  // fixture holds it open through an EventLog.
  whole(benchmark::RegisterBenchmark("import/lmdb_put", LmdbPut), true);
  benchmark::RegisterBenchmark("replay/lmdb_scan", LmdbScan)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->Repetitions(reps)
      ->ReportAggregatesOnly(reps > 1);
  whole(benchmark::RegisterBenchmark("import/library_append", LibraryAppend), false);
  whole(benchmark::RegisterBenchmark("replay/twinline_full", TwinlineFullReplay), true);

  // twinline answers first: a disagreement is described against its answer.
  const int n = options.samples, nd = options.diff_samples, nf = options.full_samples;
  latency(benchmark::RegisterBenchmark("asof_counts/twinline", Twinline, kCounts, true), n);
  if (!options.twinline.empty()) {
    latency(benchmark::RegisterBenchmark("asof_counts/twinline_process", TwinlineProcess), n);
  }
  latency(benchmark::RegisterBenchmark("asof_counts/twinline_no_index", Twinline, kCounts, false),
          nf);
  latency(benchmark::RegisterBenchmark("asof_trade/twinline", Twinline, kTrade, true), n);
  latency(benchmark::RegisterBenchmark("asof_trade/twinline_no_index", Twinline, kTrade, false),
          nf);
  latency(benchmark::RegisterBenchmark("asof_all/twinline", TwinlineAsOfAllRows), n);
  latency(benchmark::RegisterBenchmark("diff/twinline", Twinline, kDiff, true), nd);
  latency(benchmark::RegisterBenchmark("diff/twinline_no_index", Twinline, kDiff, false), nf);

  whole(benchmark::RegisterBenchmark("sqlite/load", SqliteLoad), false);
  latency(benchmark::RegisterBenchmark("asof_counts/sqlite", Sqlite, kCounts), n);
  latency(benchmark::RegisterBenchmark("asof_trade/sqlite", Sqlite, kTrade), n);
  latency(benchmark::RegisterBenchmark("diff/sqlite", Sqlite, kDiff), nd);

  if (options.duckdb) {
    whole(benchmark::RegisterBenchmark("duckdb/export", DuckDbExport), false);
    for (int threads : {1, 2}) {
      const std::string t = threads == 1 ? "" : "_2t";
      benchmark::RegisterBenchmark(("duckdb/load" + t).c_str(), DuckDbLoadTimed, threads)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
      latency(benchmark::RegisterBenchmark(("asof_counts/duckdb" + t).c_str(), DuckDb, kCounts, threads), n);
      latency(benchmark::RegisterBenchmark(("asof_trade/duckdb" + t).c_str(), DuckDb, kTrade, threads), n);
      latency(benchmark::RegisterBenchmark(("diff/duckdb" + t).c_str(), DuckDb, kDiff, threads), nd);
    }
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  fixture = nullptr;
  if (!f.failures().empty()) {
    std::fprintf(stderr, "twinline-bench micro: FAILED:\n");
    for (const std::string& what : f.failures()) std::fprintf(stderr, "  %s\n", what.c_str());
    return 2;
  }
  return 0;
}

}  // namespace twinline::bench
