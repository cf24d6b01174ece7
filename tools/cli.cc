#include "tools/cli.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "projections/projection.h"

namespace twinline::cli {

int ExitCode(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kExitOk;
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
      return kExitInvalid;
    case Status::Code::kCorruption:
      return kExitCorruption;
    // Something already there stands in the way (an id or entity taken, a
    // backup destination in use) or the log moved on: 409 over HTTP.
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict:
      return kExitConflict;
    case Status::Code::kIOError:
    case Status::Code::kReadOnly:
    case Status::Code::kFull:
    case Status::Code::kVersion:
      return kExitEnvironment;
  }
  return kExitInternal;
}

void AddGlobalOptions(CLI::App& app, GlobalOptions* options) {
  options->db_path = "./twinline.db";
  app.add_option("--db", options->db_path, "database directory")
      ->envname("TWINLINE_DB")
      ->capture_default_str();
  app.add_option("--log-level", options->log_level, "diagnostics on stderr")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
}

void ReportError(const Context& ctx, const Status& status) {
  std::string text;
  // Input errors carry messages written for the user ("unknown entity ..."); the
  // others read better with their kind in front ("corruption: seq 3: ...").
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
    case Status::Code::kAlreadyExists:
      break;
    default:
      text = std::string(Status::CodeName(status.code())) + ": ";
  }
  if (!status.field().empty()) text += status.field() + ": ";
  text += status.message();
  if (ctx.error_location.empty()) {
    *ctx.err << "twinline: " << text << '\n';
  } else {
    *ctx.err << ctx.error_location << ": " << text << '\n';
  }
  if (!ctx.error_hint.empty()) *ctx.err << "twinline: " << ctx.error_hint << '\n';
}

namespace {

Status OpenFor(Access access, Context* ctx, std::unique_ptr<EventLog>* log) {
  if (access == Access::kNone) return Status::Ok();
  OpenOptions options;
  options.logger = ctx->logger;
  options.read_only = access == Access::kReadOnly;
  // An empty directory holds no database, as a missing one does: both are
  // "not found" (exit 2, with the hint to init), and init fills either.
  // Every append keeps the temporal index with the log (docs/INDEX.md).
  if (!options.read_only) options.maintainer = NewIndexMaintainer();
  std::error_code ec;
  const bool empty_dir = std::filesystem::is_directory(ctx->db_path, ec) &&
                         std::filesystem::is_empty(ctx->db_path, ec) && !ec;
  Status s = empty_dir ? Status::NotFound("no twinline database at " + ctx->db_path + " (the directory is empty)")
                       : EventLog::Open(ctx->db_path, options, log);
  if (s.code() == Status::Code::kNotFound) {
    if (access == Access::kCreate) {
      options.create_if_missing = true;
      ctx->created = true;
      return EventLog::Open(ctx->db_path, options, log);
    }
    ctx->error_hint = "create one with: twinline --db " + ctx->db_path + " init";
  }
  return s;
}

}  // namespace

int RunVerb(const Verb& verb, const Handler& handler, const GlobalOptions& global, Context* ctx) {
  ctx->db_path = global.db_path;
  std::unique_ptr<EventLog> log;
  Status s = OpenFor(verb.access, ctx, &log);
  if (s.ok()) {
    ctx->log = log.get();
    try {
      s = handler(*ctx);
    } catch (const std::exception& e) {
      // Expected failures are Status values; an exception here is a bug.
      ctx->out->flush();
      *ctx->err << "twinline: internal error in '" << verb.name << "': " << e.what() << '\n';
      ctx->log = nullptr;
      return kExitInternal;
    }
    ctx->log = nullptr;
  }
  ctx->out->flush();
  if (!s.ok()) ReportError(*ctx, s);
  return ExitCode(s);
}

Status ReadInput(const std::string& path, Context& ctx, std::string* data) {
  std::ifstream file;
  std::istream* in = ctx.in;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
    in = &file;
  }
  std::ostringstream buffer;
  buffer << in->rdbuf();
  if (in->bad()) return Status::IOError("error reading " + (path == "-" ? "stdin" : path));
  *data = std::move(buffer).str();
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Projection verbs.

void AddProjectionFlags(CLI::App& cmd, api::ProjectionParams* params) {
  cmd.add_option("--known-at", params->known_at,
                 "what the log knew then: @SEQ, an RFC 3339 time or an EDTF date (end of its "
                 "last day, UTC); default: everything recorded");
  cmd.add_option("--dates", params->dates,
                 "partial dates: range = certain and possible, earliest = every fact on its "
                 "first possible day, latest = on its last")
      ->check(CLI::IsMember({"range", "earliest", "latest"}))
      ->capture_default_str();
  cmd.add_option("--entity", params->entity, "only what concerns this entity (slug or any name)");
  cmd.add_option("--edges", params->edges,
                 "partnerships or routes alone (counts, network, partners, timeline, diff); "
                 "default: all, both")
      ->check(CLI::IsMember({"all", "partnerships", "routes"}));
  cmd.add_flag("--no-index", params->no_index,
               "answer by replaying the log instead of from the temporal index (same answer, "
               "slower)");
}

}  // namespace twinline::cli
