// `twinline backup DEST`: a consistent copy of the database while writers go
// on (EventLog::Backup: LMDB's mdb_env_copy2 inside one read transaction).
// Needs only read access to the source; never overwrites: DEST must not
// exist or be empty. The copy is built in a temporary directory beside DEST,
// checked (the quick check, or the full one with --verify), then renamed
// into place, so DEST is either a whole, checked copy or absent.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "tools/api/json_views.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

struct BackupFlags {
  std::string dest;
  bool compact = false;
  bool verify = false;
  std::string format = "text";
};

}  // namespace

Handler ConfigureBackup(CLI::App& cmd) {
  auto f = std::make_shared<BackupFlags>();
  cmd.add_option("DEST", f->dest, "directory to create (must not exist, or be empty)")->required();
  cmd.add_flag("--compact", f->compact,
               "leave out free pages and renumber the rest: a smaller copy, made more slowly");
  cmd.add_flag("--verify", f->verify,
               "verify the whole copy (as `twinline verify` does) before keeping it; by default "
               "only the quick check runs");
  cmd.add_option("--format", f->format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return [f](Context& ctx) -> Status {
    BackupOptions options;
    options.compact = f->compact;
    options.full_verify = f->verify;
    BackupReport report;
    TWINLINE_RETURN_IF_ERROR(ctx.log->Backup(f->dest, options, &report));
    if (f->format == "json") {
      nlohmann::ordered_json j{
          {"dest", f->dest},         {"last_seq", report.last_seq},
          {"head", report.head},     {"bytes", report.bytes},
          {"compacted", f->compact}, {"verified", f->verify ? "full" : "quick"}};
      *ctx.out << api::DumpJson(j) << '\n';
    } else {
      *ctx.out << "backed up " << ctx.db_path << " to " << f->dest << ": seq 1.." << report.last_seq
               << ", chain head " << report.head << ", " << report.bytes << " bytes"
               << (f->compact ? " (compacted)" : "") << '\n';
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
