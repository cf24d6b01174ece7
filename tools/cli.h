// What the `twinline` verbs share: the verb table entry, the context a verb
// runs in, opening the database as the verb needs it, entity resolution over
// a snapshot, the table printer, the one-line event summary, the flags and
// helpers of the projection verbs (replay, diff, checkpoint) and the single
// mapping from a Status to an exit code.
//
// Shape of the CLI (after Ninja's subcommand table): main.cc lists every verb
// as {name, description, access, configure}. `configure` declares the verb's
// own arguments on its CLI11 subcommand and returns the handler that runs it;
// the dispatcher (RunVerb) opens the database according to `access` — a verb
// that only reads never gets a writable database — runs the handler and turns
// its Status into an exit code and one message on stderr.
//
// Exit codes (ExitCode, the only place they are decided):
//   0 ok; 1 usage (bad command line); 2 invalid input, not found, already
//   exists; 3 corruption; 4 conflict (the log moved past --expect-seq);
//   5 I/O error, read-only database, database full, unsupported version;
//   70 internal error (a bug: an exception escaped a verb).
#ifndef TWINLINE_TOOLS_CLI_H_
#define TWINLINE_TOOLS_CLI_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event_log.h"
#include "core/names.h"
#include "core/status.h"
#include "events/entity_resolver.h"
#include "projections/projection.h"
#include "schemas/twinline.capnp.h"

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
Handler ConfigureCheckpoint(CLI::App& cmd);
Handler ConfigureServe(CLI::App& cmd);
Handler ConfigureBackup(CLI::App& cmd);

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

// A consistent snapshot of the log with an entity resolver over it. Members
// are destroyed in reverse order, so the resolver never outlives the txn.
struct Snapshot {
  std::unique_ptr<ReadTxn> txn;
  std::unique_ptr<NameFolder> folder;
  std::unique_ptr<LogEntityResolver> resolver;
};
Status BeginSnapshot(const EventLog& log, Snapshot* out);

// Compact one-line JSON, UTF-8 unescaped; throws on invalid UTF-8 (a bug:
// everything stored was validated on the way in).
std::string DumpJson(const nlohmann::ordered_json& j);
std::string DumpJson(const nlohmann::json& j);

// Columns printed one space-padded table; widths count terminal columns
// (code points, East Asian wide characters as 2).
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // Right-aligns column `column` (numbers).
  void AlignRight(size_t column);
  void AddRow(std::vector<std::string> row);
  // A free line printed under the last row added so far, indented by four
  // spaces and outside the columns (it does not widen them): details such as
  // the sources of an event. Ignored before the first row.
  void AddNote(std::string note);
  size_t rows() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::vector<std::string>> notes_;  // notes_[i]: printed after rows_[i]
};

// "key:   value" lines with values aligned (details of one thing).
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// Terminal columns `s` occupies.
size_t DisplayWidth(std::string_view s);

// A short human line for an event, by kind: "chengdu — montpellier (sister
// city)", "chengdu → eu trade 2024: 142,160,000,000 CNY total".
std::string SummarizeEvent(schema::Event::Reader ev);

// Sources backing an event: its own plus those of the corroborations that
// target it later.
Status CountSources(const ReadTxn& txn, schema::Event::Reader ev, uint64_t* count);

// "142,160,000,000"; fractions kept ("2.5").
std::string FormatNumber(double value);

// How a count_reported qualifier reads before its value: "=", "≈", "nearly",
// ">", "≥" (as in SummarizeEvent).
std::string QualifierSymbol(std::string_view qualifier);

// ---------------------------------------------------------------------------
// What the projection verbs (replay, diff) share; docs/PROJECTIONS.md.

// "3" when certain == possible, else "1–3" (certain–possible).
std::string FormatRange(const Range& range);

// The valid day an --as-of (or FROM, TO) expression stands for: the LAST day
// of the EDTF expression ("2011" = 2011-12-31). An expression without a last
// day ("2011/..") is refused; `field` names the flag in the error.
Status ParseAsOfDay(std::string_view text, std::string_view field, int64_t* day);

// The flags every projection verb takes, declared by AddProjectionFlags.
struct ProjectionFlags {
  std::string known_at;         // --known-at: "@N", RFC 3339, EDTF; empty = everything
  std::string dates = "range";  // --dates range|earliest|latest
  std::string entity;           // --entity: slug or any registered name; empty = all
  bool no_checkpoints = false;  // --no-checkpoints
};
void AddProjectionFlags(CLI::App& cmd, ProjectionFlags* flags);

// Keeps only what concerns `slug`: edges touching it, its own counts, trade
// rows it reports or is the partner of, and the totals it reports.
void RestrictToEntity(std::string_view slug, twinline::Snapshot* snapshot);

// "as of 2024-12-31, known at seq 96, dates range": the heading of a table;
// and the same as JSON: {"as_of": "2024-12-31", "known_seq": 96, "dates": "range"}.
std::string DescribeSnapshot(const twinline::Snapshot& snapshot);
nlohmann::ordered_json DescribeSnapshotJson(const twinline::Snapshot& snapshot);

// The id of the event at `seq` ("ev-658f2256f99761dd").
Status EventIdAt(const ReadTxn& txn, uint64_t seq, std::string* id);

// Rebuilds the projection checkpoints for everything recorded
// (DefaultCheckpointDays, BuildCheckpoints) and stores them in place of the
// old ones, one at a time as each is built (EventLog::PutCheckpoint), so
// memory holds one checkpoint, not all of them. `count` and `bytes` (optional)
// receive the number of checkpoints and their total size.
Status RefreshCheckpoints(EventLog& log, size_t* count, uint64_t* bytes);

}  // namespace twinline::cli

#endif  // TWINLINE_TOOLS_CLI_H_
