// What the `twinline` verbs share: the verb table entry, the context a verb
// runs in, opening the database as the verb needs it, the flags and helpers
// of the projection verbs (replay, diff, index) and the single mapping
// from a Status to an exit code. What a verb shares with the HTTP server
// (reads, filters, JSON and text views, replay and diff answers) is the API
// module's, tools/api/; the server includes nothing of this file.
//
// Shape of the CLI (after Ninja's subcommand table): main.cc lists every verb
// as {name, description, access, configure}. `configure` declares the verb's
// own arguments on its CLI11 subcommand and returns the handler that runs it;
// the dispatcher (RunVerb) opens the database according to `access` — a verb
// that only reads never gets a writable database — runs the handler and turns
// its Status into an exit code and one message on stderr.
//
// Exit codes (ExitCode, the only place they are decided):
//   0 ok; 1 usage (bad command line); 2 invalid input, not found;
//   3 corruption; 4 conflict (the log moved past --expect-seq, or something
//   already exists: an id, an entity, a backup destination; HTTP's 409);
//   5 I/O error, read-only database, database full, unsupported version;
//   70 internal error (a bug: an exception escaped a verb).
#ifndef TWINLINE_TOOLS_CLI_H_
#define TWINLINE_TOOLS_CLI_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "tools/api/projection_request.h"

namespace CLI {
class App;
}
namespace spdlog {
class logger;
}

namespace twinline::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitCorruption = 3;
inline constexpr int kExitConflict = 4;
inline constexpr int kExitEnvironment = 5;
inline constexpr int kExitInternal = 70;

int ExitCode(const Status& status);

// What a verb needs from the database; the dispatcher opens it accordingly.
enum class Access {
  kNone,       // touches no database (`date`)
  kReadOnly,   // an existing database, opened with OpenOptions.read_only
  kReadWrite,  // an existing database, opened for appending
  kCreate,     // created when missing (`init`)
};

// Options every verb accepts (given before or after the verb name).
struct GlobalOptions {
  std::string db_path;  // --db, else $TWINLINE_DB, else ./twinline.db
  std::string log_level = "warn";
};

// The world a verb runs in. Streams are borrowed from main() and outlive the
// verb; `log` is owned by the dispatcher and valid for the handler's call.
struct Context {
  std::string db_path;
  std::shared_ptr<spdlog::logger> logger;
  EventLog* log = nullptr;  // null for Access::kNone
  bool created = false;     // Access::kCreate: the database was made just now
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool err_is_terminal = false;  // stderr is a tty: progress output is welcome

  // Set by a verb that reads a file when its error concerns one line:
  // "events.ndjson:3". The error is then printed as "LOCATION: field: message".
  std::string error_location;
  // A second line printed after an error ("nothing was written").
  std::string error_hint;
};

using Handler = std::function<Status(Context& ctx)>;

struct Verb {
  const char* name;
  const char* description;
  Access access;
  // Declares the verb's arguments on `cmd`; the returned handler reads their
  // parsed values (through its captures) when it runs.
  Handler (*configure)(CLI::App& cmd);
};

// The verbs, one per file under verbs/.
Handler ConfigureInit(CLI::App& cmd);
Handler ConfigureAppend(CLI::App& cmd);
Handler ConfigureImport(CLI::App& cmd);
Handler ConfigureExport(CLI::App& cmd);
Handler ConfigureLog(CLI::App& cmd);
Handler ConfigureEntities(CLI::App& cmd);
Handler ConfigureDate(CLI::App& cmd);
Handler ConfigureVerify(CLI::App& cmd);
Handler ConfigureStats(CLI::App& cmd);
Handler ConfigureReplay(CLI::App& cmd);
Handler ConfigureDiff(CLI::App& cmd);
Handler ConfigureIndex(CLI::App& cmd);
Handler ConfigureServe(CLI::App& cmd);
Handler ConfigureBackup(CLI::App& cmd);
Handler ConfigureReplicate(CLI::App& cmd);
Handler ConfigureFollow(CLI::App& cmd);
Handler ConfigureUpgrade(CLI::App& cmd);

// Declares --db and --log-level on the top-level app.
void AddGlobalOptions(CLI::App& app, GlobalOptions* options);

// Opens the database for `verb.access`, runs `handler`, reports a failure on
// ctx->err and returns the exit code. `ctx` carries the streams and logger.
int RunVerb(const Verb& verb, const Handler& handler, const GlobalOptions& global, Context* ctx);

// Prints a failed Status the one way the CLI does: "twinline: message", or
// "LOCATION: field: message" when ctx.error_location is set.
void ReportError(const Context& ctx, const Status& status);

// Reads a whole input: the file at `path`, or ctx.in when `path` is "-".
Status ReadInput(const std::string& path, Context& ctx, std::string* data);

// ---------------------------------------------------------------------------
// What the projection verbs (replay, diff, index) share; docs/PROJECTIONS.md.

// Declares the parameters every projection verb takes as flags: --known-at,
// --dates, --entity, --no-index.
void AddProjectionFlags(CLI::App& cmd, api::ProjectionParams* params);

}  // namespace twinline::cli

#endif  // TWINLINE_TOOLS_CLI_H_
