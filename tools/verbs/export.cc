// `twinline export [-o FILE]`: every event in seq order as NDJSON, in the
// form `import --restore` reads back into an identical log (same seqs,
// recorded times and therefore chain head) and plain `import` reads back as
// the same facts.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "events/json_codec.h"
#include "tools/api/json_views.h"
#include "tools/cli.h"

namespace twinline::cli {

Handler ConfigureExport(CLI::App& cmd) {
  auto output = std::make_shared<std::string>("-");
  cmd.add_option("-o,--output", *output, "file to write (default: stdout)");
  return [output](Context& ctx) -> Status {
    std::ofstream file;
    std::ostream* out = ctx.out;
    if (*output != "-") {
      file.open(*output, std::ios::binary | std::ios::trunc);
      if (!file) return Status::IOError("cannot write " + *output + ": " + std::strerror(errno));
      out = &file;
    }
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
    TWINLINE_RETURN_IF_ERROR(
        txn->Scan(1, std::numeric_limits<uint64_t>::max(), [&](schema::Event::Reader ev) {
          *out << api::DumpJson(EncodeEvent(ev)) << '\n';
          return out->good();
        }));
    out->flush();
    if (!out->good()) {
      return Status::IOError("cannot write " + (*output == "-" ? std::string("stdout") : *output));
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
