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
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/lmdb_reference.h"
#include "bench/sql_reference.h"
#include "core/edtf.h"
#include "core/event_log.h"
#include "projections/projection.h"

namespace twinline::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// What an as-of query asks twinline: the row sets holding the question
// SQLite answers (counts and trade; bench/README.md), as `twinline replay
// --projection counts` and `--projection trade` would. A diff asks every
// row set: Diff finds the causes of changed counts through the edge rows.
constexpr RowSets kAsOfRows = kCountRows | kTradeRows;

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

// What the benchmarks share: the log (opened on first use, read-only), the
// SQLite reference (loaded on first use), the sampled dates and, per
// sample, the hash of the first answer computed for it, which every later
// answer for that sample must match.
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
    asof_expected_.resize(asof_days_.size());
    diff_expected_.resize(diff_days_.size());
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

  // Checks `lines`, one side's answer for as-of sample i, against the first
  // answer given for it. Returns false on a disagreement, which is recorded.
  bool CheckAsOf(size_t i, const std::string& side, const std::vector<std::string>& lines) {
    return Check(&asof_expected_[i], side, lines, [&] {
      return "as of " + FormatDay(asof_days_[i]) + ": " + AsOfDifference(asof_days_[i]);
    });
  }
  bool CheckDiff(size_t i, const std::string& side, const std::vector<std::string>& lines) {
    return Check(&diff_expected_[i], side, lines, [&] {
      return "diff " + FormatDay(diff_days_[i].first) + " .. " + FormatDay(diff_days_[i].second) +
             ": " + DiffDifference(diff_days_[i].first, diff_days_[i].second);
    });
  }

  const std::vector<std::string>& failures() const { return failures_; }
  void Fail(std::string what) { failures_.push_back(std::move(what)); }

 private:
  struct Expected {
    std::string hash;
    std::string side;  // who gave it
  };

  template <typename DescribeFn>
  bool Check(std::optional<Expected>* expected, const std::string& side,
             const std::vector<std::string>& lines, DescribeFn describe) {
    const std::string hash = LinesHash(lines);
    if (!*expected) {
      *expected = Expected{hash, side};
      return true;
    }
    if ((*expected)->hash == hash) return true;
    failures_.push_back(side + " disagrees with " + (*expected)->side + ", " + describe());
    return false;
  }

  // Both answers again, line by line (only after a disagreement).
  std::string AsOfDifference(int64_t day) {
    EventLog* log = nullptr;
    SqlReference* sql = nullptr;
    std::unique_ptr<ReadTxn> txn;
    Snapshot snap;
    AsOfAnswer answer;
    Query q;
    q.as_of_day = day;
    q.rule = DateRule::kEarliest;
    q.rows = kAsOfRows;
    Status s = Log(&log);
    if (s.ok()) s = Sql(&sql);
    if (s.ok()) s = log->BeginRead(&txn);
    if (s.ok()) s = Replay(*txn, q, &snap);
    if (s.ok()) s = sql->AsOf(day, &answer);
    if (!s.ok()) return "(could not recompute: " + s.ToString() + ")";
    return DescribeDifference(AsOfLines(snap), AsOfLines(answer));
  }
  std::string DiffDifference(int64_t from, int64_t to) {
    EventLog* log = nullptr;
    SqlReference* sql = nullptr;
    std::unique_ptr<ReadTxn> txn;
    Snapshot a, b;
    std::vector<DiffRow> rows;
    DiffAnswer answer;
    Query q;
    q.rule = DateRule::kEarliest;
    Status s = Log(&log);
    if (s.ok()) s = Sql(&sql);
    if (s.ok()) s = log->BeginRead(&txn);
    q.as_of_day = from;
    if (s.ok()) s = Replay(*txn, q, &a);
    q.as_of_day = to;
    if (s.ok()) s = Replay(*txn, q, &b);
    if (s.ok()) s = twinline::Diff(*txn, a, b, &rows);
    if (s.ok()) s = sql->Diff(from, to, &answer);
    if (!s.ok()) return "(could not recompute: " + s.ToString() + ")";
    return DescribeDifference(DiffLines(rows), DiffLines(answer));
  }

  MicroOptions o_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SqlReference> sql_;
  std::vector<int64_t> asof_days_;
  std::vector<std::pair<int64_t, int64_t>> diff_days_;
  std::vector<std::optional<Expected>> asof_expected_, diff_expected_;
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

// --- 3. As-of queries -------------------------------------------------------------

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

// Runs `sample(i, &timing, &lines)` for i = 0, 1, ... one per iteration
// (after one untimed warm-up), reports the latencies' percentiles and
// checks each answer.
template <typename SampleFn, typename CheckFn>
void Latencies(benchmark::State& state, SampleFn sample, CheckFn check) {
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
    if (!check(i, lines)) ++mismatches;
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
  if (mismatches > 0) state.SkipWithError("answers disagree (see stderr)");
}

void AsOfSqlite(benchmark::State& state) {
  SqlReference* sql = nullptr;
  if (!Ok(state, fixture->Sql(&sql))) return;
  Latencies(
      state,
      [&](size_t i, Timing* t, std::vector<std::string>* lines) {
        AsOfAnswer answer;
        t->Start();
        TWINLINE_RETURN_IF_ERROR(sql->AsOf(fixture->asof_days()[i], &answer));
        t->Stop();
        *lines = AsOfLines(answer);
        return Status::Ok();
      },
      [&](size_t i, const std::vector<std::string>& lines) {
        return fixture->CheckAsOf(i, "SQLite", lines);
      });
}

void AsOfTwinline(benchmark::State& state, bool use_index) {
  EventLog* log = nullptr;
  if (!Ok(state, fixture->Log(&log))) return;
  std::unique_ptr<ReadTxn> txn;
  if (!Ok(state, log->BeginRead(&txn))) return;
  uint64_t applied = 0;
  Latencies(
      state,
      [&](size_t i, Timing* t, std::vector<std::string>* lines) {
        Query q;
        q.as_of_day = fixture->asof_days()[i];
        q.rule = DateRule::kEarliest;
        q.rows = kAsOfRows;
        q.use_index = use_index;
        Snapshot snap;
        ReplayStats stats;
        t->Start();
        TWINLINE_RETURN_IF_ERROR(Replay(*txn, q, &snap, &stats));
        t->Stop();
        applied += stats.events_applied;
        *lines = AsOfLines(snap);
        return Status::Ok();
      },
      [&](size_t i, const std::vector<std::string>& lines) {
        return fixture->CheckAsOf(i, use_index ? "twinline" : "twinline (no index)", lines);
      });
  state.counters["facts_applied_mean"] =
      benchmark::Counter(static_cast<double>(applied), benchmark::Counter::kAvgIterations);
}

// --- 4. Diff -------------------------------------------------------------------

void DiffSqlite(benchmark::State& state) {
  SqlReference* sql = nullptr;
  if (!Ok(state, fixture->Sql(&sql))) return;
  Latencies(
      state,
      [&](size_t i, Timing* t, std::vector<std::string>* lines) {
        DiffAnswer answer;
        const auto [from, to] = fixture->diff_days()[i];
        t->Start();
        TWINLINE_RETURN_IF_ERROR(sql->Diff(from, to, &answer));
        t->Stop();
        *lines = DiffLines(answer);
        return Status::Ok();
      },
      [&](size_t i, const std::vector<std::string>& lines) {
        return fixture->CheckDiff(i, "SQLite", lines);
      });
}

// What `twinline diff FROM TO` does before the index: two replays and Diff.
void DiffTwinline(benchmark::State& state) {
  EventLog* log = nullptr;
  if (!Ok(state, fixture->Log(&log))) return;
  std::unique_ptr<ReadTxn> txn;
  if (!Ok(state, log->BeginRead(&txn))) return;
  Latencies(
      state,
      [&](size_t i, Timing* t, std::vector<std::string>* lines) {
        const auto [from, to] = fixture->diff_days()[i];
        Query q;
        q.rule = DateRule::kEarliest;
        Snapshot a, b;
        std::vector<DiffRow> rows;
        t->Start();
        q.as_of_day = from;
        TWINLINE_RETURN_IF_ERROR(Replay(*txn, q, &a));
        q.as_of_day = to;
        TWINLINE_RETURN_IF_ERROR(Replay(*txn, q, &b));
        TWINLINE_RETURN_IF_ERROR(twinline::Diff(*txn, a, b, &rows));
        t->Stop();
        *lines = DiffLines(rows);
        return Status::Ok();
      },
      [&](size_t i, const std::vector<std::string>& lines) {
        return fixture->CheckDiff(i, "twinline", lines);
      });
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
  o->full_samples = std::min(o->full_samples, o->samples);
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
  whole(benchmark::RegisterBenchmark("sqlite/load", SqliteLoad), false);
  latency(benchmark::RegisterBenchmark("asof/sqlite", AsOfSqlite), options.samples);
  latency(benchmark::RegisterBenchmark("asof/twinline",
                                       [](benchmark::State& s) { AsOfTwinline(s, true); }),
          options.samples);
  latency(benchmark::RegisterBenchmark("asof/twinline_no_index",
                                       [](benchmark::State& s) { AsOfTwinline(s, false); }),
          options.full_samples);
  latency(benchmark::RegisterBenchmark("diff/sqlite", DiffSqlite), options.diff_samples);
  latency(benchmark::RegisterBenchmark("diff/twinline", DiffTwinline), options.diff_samples);

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
