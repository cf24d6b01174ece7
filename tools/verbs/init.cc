// `twinline init`: create a database, or report the one already there.
// Running it twice is harmless, so scripts can call it unconditionally. It
// writes only into a directory whose data file is missing or holds nothing
// (core/db_file_check.h): a damaged or foreign data file is refused by the
// open before this runs, and an existing database is quick-verified (as
// `serve` does at start-up) so that damage is reported, not "exists".
#include <CLI/CLI.hpp>
#include <ostream>

#include "tools/cli.h"

namespace twinline::cli {

Handler ConfigureInit(CLI::App& /*cmd*/) {
  return [](Context& ctx) -> Status {
    if (ctx.created) {
      *ctx.out << "initialised empty twinline database at " << ctx.db_path << '\n';
      return Status::Ok();
    }
    VerifyReport checked;
    Status s = ctx.log->QuickVerify(kQuickVerifyTail, &checked);
    if (!s.ok()) {
      ctx.error_hint = "a database exists at " + ctx.db_path +
                       " and was left as it is; `twinline verify` checks all of it";
      return s;
    }
    *ctx.out << "twinline database at " << ctx.db_path << " already exists (" << checked.last_seq
             << " events)\n";
    return Status::Ok();
  };
}

}  // namespace twinline::cli
