// `twinline index`: the temporal index (docs/INDEX.md), derived data that
// answers `replay` and `diff` in the cost of what they ask. Every append
// keeps it with the log; this verb shows it, rebuilds it from the log
// (`--rebuild`), checks it against the log byte for byte (`--verify`) or
// drops it (`--drop`: answers then come from reading the whole log). It
// makes answers faster, never different.
#include <CLI/CLI.hpp>

#include "projections/projection.h"
#include "tools/api/text_layout.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

struct IndexFlags {
  bool rebuild = false;
  bool verify = false;
  bool drop = false;
};

std::string Size(uint64_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " B";
  if (bytes < 10 * 1024 * 1024) return std::to_string((bytes + 512) / 1024) + " KiB";
  return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

std::string Count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void Print(const IndexInfo& info, std::ostream& out) {
  if (!info.present) {
    out << "no temporal index: answers read the whole log (" << info.log_seq
        << " events); build it with: twinline index --rebuild\n";
    return;
  }
  api::PrintFields(out, {{"built at seq", std::to_string(info.base_seq)},
                    {"log at seq", std::to_string(info.log_seq)},
                    {"tail", Count(info.log_seq - info.base_seq, "event", "events") +
                                 ", read on top of it by every answer"},
                    {"size", Size(info.bytes)},
                    {"entities", std::to_string(info.entities)},
                    {"edges", std::to_string(info.edges) + " (" + std::to_string(info.edge_facts) +
                                  " events)"},
                    {"counter facts", std::to_string(info.counter_facts)},
                    {"reported counts", std::to_string(info.report_keys) + " keys (" +
                                            std::to_string(info.report_facts) + " reports)"},
                    {"trade", std::to_string(info.trade_keys) + " keys (" +
                                  std::to_string(info.trade_facts) + " reports)"},
                    {"corrected facts", std::to_string(info.corrections)},
                    {"breakpoints", std::to_string(info.breakpoints)}});
}

}  // namespace

Handler ConfigureIndex(CLI::App& cmd) {
  auto f = std::make_shared<IndexFlags>();
  auto* rebuild = cmd.add_flag("--rebuild", f->rebuild, "build the index from the whole log, now");
  auto* verify = cmd.add_flag("--verify", f->verify,
                              "rebuild it in memory and compare it with the stored one");
  auto* drop = cmd.add_flag("--drop", f->drop, "remove the stored index");
  rebuild->excludes(verify)->excludes(drop);
  verify->excludes(drop);

  return [f](Context& ctx) -> Status {
    IndexInfo info;
    if (f->rebuild) {
      TWINLINE_RETURN_IF_ERROR(
          ctx.log->UpdateDerived([&](DerivedWriteTxn& txn) { return RebuildIndex(txn, &info); }));
      *ctx.out << "rebuilt the temporal index at seq " << info.base_seq << " ("
               << Size(info.bytes) << ")\n";
      return Status::Ok();
    }
    if (f->drop) {
      TWINLINE_RETURN_IF_ERROR(ctx.log->UpdateDerived([](DerivedWriteTxn& txn) { return DropIndex(txn); }));
      *ctx.out << "dropped the temporal index; rebuild it with: twinline index --rebuild\n";
      return Status::Ok();
    }
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
    if (f->verify) {
      TWINLINE_RETURN_IF_ERROR(VerifyIndex(*txn, &info));
      if (!info.present) {
        *ctx.out << "no temporal index to verify\n";
      } else {
        *ctx.out << "ok: the temporal index at seq " << info.base_seq
                 << " is the one the log builds\n";
      }
      return Status::Ok();
    }
    TWINLINE_RETURN_IF_ERROR(DescribeIndex(*txn, &info));
    Print(info, *ctx.out);
    return Status::Ok();
  };
}

}  // namespace twinline::cli
