// `twinline verify`: recompute the hash chain and every index (EventLog::Verify)
// and name the first bad seq; `--quick` checks only what `serve` checks at
// startup (EventLog::QuickVerify: the version, the counts, the last records).
// The full check then checks the temporal index too (projections'
// VerifyIndex: rebuilt at its seq and compared byte for byte; its memory is
// the index's). Exit 3 on corruption, so scripts and cron jobs can alert on
// it.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "projections/projection.h"
#include "tools/cli.h"

namespace twinline::cli {

Handler ConfigureVerify(CLI::App& cmd) {
  auto quick = std::make_shared<bool>(false);
  cmd.add_flag("--quick", *quick,
               "check only the format version, the record counts and the last " +
                   std::to_string(kQuickVerifyTail) + " records (what `serve` checks at startup)");
  return [quick](Context& ctx) -> Status {
    VerifyReport report;
    Status s = *quick ? ctx.log->QuickVerify(kQuickVerifyTail, &report) : ctx.log->Verify(&report);
    if (!s.ok()) {
      // Make sure the seq is named even if the log's message does not say it.
      if (report.first_bad_seq &&
          s.message().find(std::to_string(*report.first_bad_seq)) == std::string::npos) {
        return Status::Corruption("seq " + std::to_string(*report.first_bad_seq) + ": " +
                                  s.message());
      }
      return s;
    }
    const std::string head = report.head.empty() ? "(empty log)" : report.head;
    std::string index;
    if (!*quick) {
      std::unique_ptr<ReadTxn> txn;
      TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
      IndexInfo info;
      TWINLINE_RETURN_IF_ERROR(VerifyIndex(*txn, &info));
      index = info.present ? ", temporal index at seq " + std::to_string(info.base_seq)
                           : ", no temporal index";
    }
    if (*quick) {
      *ctx.out << "ok (quick): last " << report.events << " of " << report.last_seq << " events, "
               << report.index_entries << " of their index entries, chain head " << head << '\n';
    } else {
      *ctx.out << "ok: " << report.events << " events, " << report.index_entries
               << " index entries" << index << ", chain head " << head << '\n';
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
