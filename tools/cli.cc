#include "tools/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>

#include "core/edtf.h"
#include "events/json_codec.h"
#include "projections/network.h"

namespace twinline::cli {

int ExitCode(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kExitOk;
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
    case Status::Code::kAlreadyExists:
      return kExitInvalid;
    case Status::Code::kCorruption:
      return kExitCorruption;
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
  Status s = EventLog::Open(ctx->db_path, options, log);
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

Status BeginSnapshot(const EventLog& log, Snapshot* out) {
  TWINLINE_RETURN_IF_ERROR(log.BeginRead(&out->txn));
  Status s;
  out->folder = NameFolder::Create(&s);
  if (out->folder == nullptr) return s;
  out->resolver = std::make_unique<LogEntityResolver>(out->txn.get(), out->folder.get());
  return Status::Ok();
}

std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

// ---------------------------------------------------------------------------
// Text layout.

namespace {

// East Asian Wide and Fullwidth ranges (Unicode UAX #11), the characters a
// terminal draws two columns wide.
bool IsWide(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

// Combining marks take no column of their own.
bool IsZeroWidth(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0xFE00 && c <= 0xFE0F);
}

void Pad(std::ostream& out, size_t n) {
  for (size_t i = 0; i < n; ++i) out << ' ';
}

}  // namespace

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80           ? 1
                 : (b >> 5) == 0x6  ? 2
                 : (b >> 4) == 0xE  ? 3
                 : (b >> 3) == 0x1E ? 4
                                    : 1;
    if (i + len > s.size()) len = 1;
    char32_t c = len == 1 ? b : (b & (0x7F >> len));
    for (size_t k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    width += IsZeroWidth(c) ? 0 : IsWide(c) ? 2 : 1;
  }
  return width;
}

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), right_(headers_.size(), false) {}

void Table::AlignRight(size_t column) { right_.at(column) = true; }

void Table::AddRow(std::vector<std::string> row) {
  row.resize(headers_.size());
  rows_.push_back(std::move(row));
  notes_.emplace_back();
}

void Table::AddNote(std::string note) {
  if (!notes_.empty()) notes_.back().push_back(std::move(note));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < row.size(); ++c) {
      const size_t gap = widths[c] - DisplayWidth(row[c]);
      const bool last = c + 1 == row.size();
      if (right_[c]) Pad(out, gap);
      out << row[c];
      if (!last) {
        if (!right_[c]) Pad(out, gap);
        out << "  ";
      }
    }
    out << '\n';
  };
  print_row(headers_);
  for (size_t r = 0; r < rows_.size(); ++r) {
    print_row(rows_[r]);
    for (const std::string& note : notes_[r]) out << "    " << note << '\n';
  }
}

void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, DisplayWidth(key));
  for (const auto& [key, value] : fields) {
    out << key << ':';
    Pad(out, width - DisplayWidth(key) + 2);
    out << value << '\n';
  }
}

std::string FormatNumber(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  std::string text = ec == std::errc() ? std::string(buf, end) : std::to_string(value);
  if (!std::isfinite(value)) return text;
  // Group the integer digits by thousands.
  const size_t sign = text[0] == '-' ? 1 : 0;
  size_t int_end = text.find('.');
  if (int_end == std::string::npos) int_end = text.size();
  for (size_t i = int_end; i > sign + 3; i -= 3) text.insert(i - 3, ",");
  return text;
}

// ---------------------------------------------------------------------------
// Event summaries, built from the JSON form so that enumerations read exactly
// as users write them in files ("sister_city", "air_cargo").

namespace {

using Json = nlohmann::ordered_json;

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return FormatNumber(it->get<double>());
  return it->dump();
}

// "sister_city" -> "sister city".
std::string Words(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

std::string Ordinal(uint64_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string JoinStrings(const Json& array) {
  std::string out;
  if (!array.is_array()) return out;
  for (const auto& item : array) {
    if (!out.empty()) out += ", ";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

std::string WithSuffix(const std::string& prefix, const std::string& value) {
  return value.empty() ? "" : prefix + value;
}

std::string QualifierWord(const std::string& q) {
  if (q == "approximately") return "≈";
  if (q == "nearly") return "nearly";
  if (q == "more_than") return ">";
  if (q == "at_least") return "≥";
  return "=";
}

}  // namespace

std::string SummarizeEvent(schema::Event::Reader ev) {
  const Json j = EncodeEvent(ev);
  const std::string kind = Str(j, "kind");
  if (kind == "entity_registered") {
    std::string name;
    if (auto it = j.find("names"); it != j.end() && it->is_array() && !it->empty()) {
      name = Str((*it)[0], "text");
    }
    const std::string country = Str(j, "country");
    return Str(j, "entity") + ": " + Str(j, "type") + " " + name +
           (country.empty() ? "" : " (" + country + ")");
  }
  if (kind == "partnership_established" || kind == "partnership_ended") {
    return Str(j, "a") + " — " + Str(j, "b") + " (" + Words(Str(j, "partnership")) + ")" +
           (kind == "partnership_ended" ? " ended" : "") + WithSuffix(": ", Str(j, "detail"));
  }
  if (kind == "agreement_signed") {
    return JoinStrings(j.value("parties", Json::array())) + ": " + Str(j, "title") + " (" +
           Words(Str(j, "agreement")) + ")";
  }
  if (kind == "forum_held") {
    std::string edition;
    if (auto it = j.find("edition"); it != j.end() && it->is_number() && it->get<double>() > 0) {
      edition = Ordinal(it->get<uint64_t>()) + " ";
    }
    return Str(j, "host") + ": " + edition + Str(j, "name") + WithSuffix(" in ", Str(j, "venue"));
  }
  if (kind == "route_opened" || kind == "route_closed") {
    return Str(j, "from") + " → " + Str(j, "to") + " (" + Words(Str(j, "mode")) + ")" +
           WithSuffix(": ", Str(j, "name")) + (kind == "route_closed" ? " closed" : "");
  }
  if (kind == "office_opened") {
    return Str(j, "owner") + ": " + Str(j, "name") + " in " + Str(j, "host");
  }
  if (kind == "organisation_founded") {
    return Str(j, "founder") + " founded " + Str(j, "organisation") +
           WithSuffix(": ", Str(j, "purpose"));
  }
  if (kind == "award_granted") {
    return Str(j, "grantor") + " → " + Str(j, "recipient") + ": " + Str(j, "name");
  }
  if (kind == "trade_volume_reported") {
    return Str(j, "reporter") + " → " + Str(j, "partner") + " trade " + Str(j, "period") + ": " +
           Str(j, "amount") + " " + Str(j, "currency") + " " + Str(j, "flow");
  }
  if (kind == "count_reported") {
    return Str(j, "entity") + " reports " + Str(j, "metric") + " " +
           QualifierWord(Str(j, "qualifier")) + " " + Str(j, "value") +
           WithSuffix(" in ", Str(j, "scope"));
  }
  if (kind == "initiative_launched") {
    return Str(j, "owner") + " launched " + Str(j, "name") +
           WithSuffix(" with ", JoinStrings(j.value("partners", Json::array())));
  }
  if (kind == "retraction")
    return "retracts " + Str(j, "target") + WithSuffix(": ", Str(j, "reason"));
  if (kind == "amendment") return "amends " + Str(j, "target") + WithSuffix(": ", Str(j, "reason"));
  if (kind == "corroboration") return "corroborates " + Str(j, "target");
  return kind;
}

Status CountSources(const ReadTxn& txn, schema::Event::Reader ev, uint64_t* count) {
  *count = ev.getSources().size();
  if (ev.getPayload().isCorroboration()) return Status::Ok();
  const std::string id = ev.getId();
  return txn.ScanReferences(id, [&](schema::Event::Reader ref) {
    if (ref.getPayload().isCorroboration()) *count += ref.getSources().size();
    return true;
  });
}

std::string QualifierSymbol(std::string_view qualifier) {
  return QualifierWord(std::string(qualifier));
}

// ---------------------------------------------------------------------------
// Projection verbs.

std::string FormatRange(const Range& range) {
  if (range.certain == range.possible) return std::to_string(range.certain);
  return std::to_string(range.certain) + "–" + std::to_string(range.possible);
}

Status ParseAsOfDay(std::string_view text, std::string_view field, int64_t* day) {
  EdtfDate date;
  Status s = ParseEdtf(text, &date);
  if (!s.ok()) return s.WithField(field);
  if (date.latest == kUnboundedEnd) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' has an open or unknown end, so no last day to replay to; "
                                   "give one (e.g. 2024 or 2024-06-30)")
        .WithField(field);
  }
  *day = date.latest;
  return Status::Ok();
}

void AddProjectionFlags(CLI::App& cmd, ProjectionFlags* flags) {
  cmd.add_option("--known-at", flags->known_at,
                 "what the log knew then: @SEQ, an RFC 3339 time or an EDTF date (end of its "
                 "last day, UTC); default: everything recorded");
  cmd.add_option("--dates", flags->dates,
                 "partial dates: range = certain and possible, earliest = every fact on its "
                 "first possible day, latest = on its last")
      ->check(CLI::IsMember({"range", "earliest", "latest"}))
      ->capture_default_str();
  cmd.add_option("--entity", flags->entity, "only what concerns this entity (slug or any name)");
  cmd.add_flag("--no-checkpoints", flags->no_checkpoints,
               "replay from the start of the log, ignoring stored checkpoints");
}

void RestrictToEntity(std::string_view slug, twinline::Snapshot* snapshot) {
  std::erase_if(snapshot->edges, [&](const EdgeRow& e) { return e.a != slug && e.b != slug; });
  std::erase_if(snapshot->counts, [&](const auto& entry) { return entry.first != slug; });
  std::erase_if(snapshot->trade,
                [&](const TradeRow& t) { return t.reporter != slug && t.partner != slug; });
  std::erase_if(snapshot->trade_totals, [&](const TradeTotal& t) { return t.reporter != slug; });
}

std::string DescribeSnapshot(const twinline::Snapshot& snapshot) {
  return "as of " + FormatDay(snapshot.query.as_of_day) + ", known at seq " +
         std::to_string(snapshot.known_seq) + ", dates " +
         std::string(DateRuleName(snapshot.query.rule));
}

nlohmann::ordered_json DescribeSnapshotJson(const twinline::Snapshot& snapshot) {
  return nlohmann::ordered_json{{"as_of", FormatDay(snapshot.query.as_of_day)},
                                {"known_seq", snapshot.known_seq},
                                {"dates", DateRuleName(snapshot.query.rule)}};
}

Status EventIdAt(const ReadTxn& txn, uint64_t seq, std::string* id) {
  return txn.Get(seq, [&](schema::Event::Reader ev) { *id = ev.getId(); });
}

Status RefreshCheckpoints(EventLog& log, size_t* count, uint64_t* bytes) {
  // The old checkpoints go first, then each new one is stored as soon as it
  // is built (one held in memory at a time). A query meanwhile sees fewer
  // checkpoints, never a wrong one (each is validated when loaded), and the
  // log's read snapshot may stay open across the writes (MDB_NOTLS).
  TWINLINE_RETURN_IF_ERROR(log.ReplaceCheckpoints({}));
  std::unique_ptr<ReadTxn> txn;
  TWINLINE_RETURN_IF_ERROR(log.BeginRead(&txn));
  std::vector<int64_t> days;
  TWINLINE_RETURN_IF_ERROR(DefaultCheckpointDays(*txn, &days));
  size_t built = 0;
  uint64_t total = 0;
  TWINLINE_RETURN_IF_ERROR(BuildCheckpoints(*txn, days, [&](std::string key, std::string value) {
    ++built;
    total += key.size() + value.size();
    return log.PutCheckpoint(key, value);
  }));
  if (count != nullptr) *count = built;
  if (bytes != nullptr) *bytes = total;
  return Status::Ok();
}

}  // namespace twinline::cli
