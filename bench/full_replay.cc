#include "bench/full_replay.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/edtf.h"
#include "core/event_log.h"
#include "projections/projection.h"

namespace twinline::bench {
namespace {

constexpr const char* kUsage =
    "usage: twinline-bench replay --db DIR [--as-of EDTF] [--no-index]\n";

// Counts the rows of each set; keeps nothing of them.
class CountingSink final : public SnapshotSink {
 public:
  Status Edge(EdgeRow) override { return ++edges, Status::Ok(); }
  Status Count(std::string, EntityCounts) override { return ++counts, Status::Ok(); }
  Status Trade(TradeRow) override { return ++trade, Status::Ok(); }
  Status Total(TradeTotal) override { return ++totals, Status::Ok(); }
  Status End(const std::string& state_hash) override {
    hash = state_hash;
    return Status::Ok();
  }

  uint64_t edges = 0, counts = 0, trade = 0, totals = 0;
  std::string hash;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "twinline-bench replay: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int FullReplayMain(int argc, char** argv) {
  std::string db;
  Query query;
  query.as_of_day = DaysFromCivil(9999, 12, 31);
  query.rows = kAllRows;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--db") == 0 && has_value) {
      db = argv[++i];
    } else if (std::strcmp(argv[i], "--as-of") == 0 && has_value) {
      // As `twinline replay --as-of`: an EDTF date, its last day counts.
      EdtfDate date;
      const char* text = argv[++i];
      const Status parsed = ParseEdtf(text, &date);
      if (!parsed.ok() || date.latest == kUnboundedEnd) {
        std::fprintf(stderr, "twinline-bench replay: --as-of %s: %s\n", text,
                     parsed.ok() ? "has no last day" : parsed.ToString().c_str());
        return 1;
      }
      query.as_of_day = date.latest;
    } else if (std::strcmp(argv[i], "--no-index") == 0) {
      query.use_index = false;
    } else {
      std::fputs(kUsage, stderr);
      return 1;
    }
  }
  if (db.empty()) {
    std::fputs(kUsage, stderr);
    return 1;
  }
  OpenOptions options;
  options.read_only = true;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<ReadTxn> txn;
  Status s = EventLog::Open(db, options, &log);
  if (s.ok()) s = log->BeginRead(&txn);
  CountingSink sink;
  ReplayStats stats;
  if (s.ok()) s = ReplayInto(*txn, query, &sink, &stats);
  if (!s.ok()) return Fail(s);
  std::printf("as of %s: %llu edge rows, %llu count rows, %llu trade rows, %llu totals; "
              "%llu facts applied; state %s\n",
              FormatDay(query.as_of_day).c_str(), static_cast<unsigned long long>(sink.edges),
              static_cast<unsigned long long>(sink.counts),
              static_cast<unsigned long long>(sink.trade),
              static_cast<unsigned long long>(sink.totals),
              static_cast<unsigned long long>(stats.events_applied), sink.hash.c_str());
  return 0;
}

}  // namespace twinline::bench
