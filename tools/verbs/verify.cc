// `twinline verify`: recompute the hash chain and every index (EventLog::Verify)
// and name the first bad seq. Exit 3 on corruption, so scripts and cron jobs
// can alert on it.
#include <CLI/CLI.hpp>
#include <ostream>

#include "tools/cli.h"

namespace twinline::cli {

Handler ConfigureVerify(CLI::App& /*cmd*/) {
  return [](Context& ctx) -> Status {
    VerifyReport report;
    Status s = ctx.log->Verify(&report);
    if (!s.ok()) {
      // Make sure the seq is named even if the log's message does not say it.
      if (report.first_bad_seq &&
          s.message().find(std::to_string(*report.first_bad_seq)) == std::string::npos) {
        return Status::Corruption("seq " + std::to_string(*report.first_bad_seq) + ": " +
                                  s.message());
      }
      return s;
    }
    *ctx.out << "ok: " << report.events << " events, " << report.index_entries
             << " index entries, chain head " << (report.head.empty() ? "(empty log)" : report.head)
             << '\n';
    return Status::Ok();
  };
}

}  // namespace twinline::cli
