// twinline: the command-line tool over the event log. This file holds the
// verb table and the only spdlog configuration in the program; everything a
// verb does lives in verbs/<name>.cc, what verbs share in cli.cc.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "core/event_log.h"
#include "tools/cli.h"
#include "tools/version.h"

namespace {

using twinline::cli::Access;
using twinline::cli::Verb;

// Every verb, with what it needs from the database.
constexpr Verb kVerbs[] = {
    {"init", "create a database (no-op if it exists)", Access::kCreate,
     twinline::cli::ConfigureInit},
    {"append", "append one event (JSON on stdin, or from flags)", Access::kReadWrite,
     twinline::cli::ConfigureAppend},
    {"import", "append a whole NDJSON or CSV file as one atomic batch", Access::kReadWrite,
     twinline::cli::ConfigureImport},
    {"export", "write every event as NDJSON, in seq order", Access::kReadOnly,
     twinline::cli::ConfigureExport},
    {"log", "list events, filtered by entity, kind, date or seq", Access::kReadOnly,
     twinline::cli::ConfigureLog},
    {"entities", "list entities, or show one by slug or name", Access::kReadOnly,
     twinline::cli::ConfigureEntities},
    {"date", "explain how an EDTF date is read", Access::kNone, twinline::cli::ConfigureDate},
    {"verify", "check the hash chain and every index", Access::kReadOnly,
     twinline::cli::ConfigureVerify},
    {"stats", "counts, time ranges, file size and chain head", Access::kReadOnly,
     twinline::cli::ConfigureStats},
    {"replay", "the network as of a date, as known at a time: counts, trade, network, timeline",
     Access::kReadOnly, twinline::cli::ConfigureReplay},
    {"diff", "what changed between two dates, or between two recorded times", Access::kReadOnly,
     twinline::cli::ConfigureDiff},
    {"index", "show, rebuild, verify or drop the temporal index", Access::kReadWrite,
     twinline::cli::ConfigureIndex},
    {"backup", "copy the database consistently while writers go on", Access::kReadOnly, twinline::cli::ConfigureBackup},
    {"upgrade", "copy a database of an earlier on-disk format into the current one",
     Access::kNone, twinline::cli::ConfigureUpgrade},
    // The server opens the database itself: read-only or not, per --read-only.
    {"serve", "serve the HTTP API (JSON, Server-Sent Events) until SIGINT/SIGTERM",
     Access::kNone, twinline::cli::ConfigureServe},
    {"replicate", "publish the log to a NATS JetStream stream, and what is appended, until SIGINT/SIGTERM",
     Access::kReadOnly, twinline::cli::ConfigureReplicate},
    {"follow", "build and keep up a read replica from a replicated log's JetStream stream",
     Access::kCreate, twinline::cli::ConfigureFollow},
};

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);

  CLI::App app{"twinline: an event-sourced timeline of relations between cities", "twinline"};
  // "twinline 0.1.0 (on-disk format 1, commit 1a2b3c4d5e6f)".
  app.set_version_flag("--version", std::string("twinline ") + TWINLINE_VERSION + " (on-disk format " +
                                        std::to_string(twinline::kFormatVersion) + ", commit " +
                                        TWINLINE_COMMIT + ")");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the verb: `twinline log --db X`
  twinline::cli::GlobalOptions global;
  twinline::cli::AddGlobalOptions(app, &global);

  std::vector<std::pair<CLI::App*, twinline::cli::Handler>> handlers;
  for (const Verb& verb : kVerbs) {
    CLI::App* cmd = app.add_subcommand(verb.name, verb.description);
    handlers.emplace_back(cmd, verb.configure(*cmd));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "twinline: " << e.what() << "\ntwinline: run 'twinline --help' for usage\n";
    return twinline::cli::kExitUsage;
  }

  auto logger = std::make_shared<spdlog::logger>(
      "twinline", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("twinline: [%l] %v");
  logger->set_level(spdlog::level::from_str(global.log_level));

  twinline::cli::Context ctx;
  ctx.logger = logger;
  ctx.in = &std::cin;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  ctx.err_is_terminal = isatty(STDERR_FILENO) != 0;
  for (size_t i = 0; i < handlers.size(); ++i) {
    if (handlers[i].first->parsed()) {
      return twinline::cli::RunVerb(kVerbs[i], handlers[i].second, global, &ctx);
    }
  }
  return twinline::cli::kExitUsage;  // unreachable: require_subcommand(1)
}
