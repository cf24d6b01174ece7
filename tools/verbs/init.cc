// `twinline init`: create a database, or report the one already there.
// Running it twice is harmless, so scripts can call it unconditionally.
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
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
    *ctx.out << "twinline database at " << ctx.db_path << " already exists (" << txn->LastSeq()
             << " events)\n";
    return Status::Ok();
  };
}

}  // namespace twinline::cli
