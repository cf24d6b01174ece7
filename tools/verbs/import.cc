// `twinline import FILE|-`: a whole NDJSON or CSV file appended as ONE atomic
// batch. Every line is decoded before anything is written, so the first bad
// line aborts the import with "FILE:LINE: field: message" and the log is left
// as it was; a file can register an entity on one line and name it on the
// next (LogEntityResolver::AddPending). An import that writes to a log of
// 1000 events or more then rebuilds the replay checkpoints.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <sstream>

#include "events/csv_import.h"
#include "events/json_codec.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

// Progress is shown only on a terminal and only when it is worth it.
constexpr size_t kProgressThreshold = 1000;
// No real event comes near this; a longer line is a wrong file or an attack,
// refused before the JSON parser spends memory on it.
constexpr size_t kMaxLineBytes = size_t{1} << 20;
constexpr size_t kProgressEvery = 1000;
constexpr unsigned kFirstSegmentWords = 64;

struct ImportFlags {
  std::string file;
  std::vector<std::string> formats;  // ndjson|csv (input), json (summary)
  bool restore = false;
  bool dry_run = false;
  uint64_t expect_seq = 0;
  CLI::Option* expect_seq_opt = nullptr;

  bool Has(std::string_view f) const {
    return std::find(formats.begin(), formats.end(), f) != formats.end();
  }
  bool IsCsv() const {
    if (Has("csv")) return true;
    if (Has("ndjson")) return false;
    return file.size() >= 4 && file.compare(file.size() - 4, 4, ".csv") == 0;
  }
};

// The batch being built, with the file line each event came from.
struct DecodedBatch {
  std::vector<PendingEvent> events;
  std::vector<int64_t> lines;
};

class Progress {
 public:
  Progress(const Context& ctx, size_t total_lines)
      : err_(ctx.err_is_terminal && total_lines > kProgressThreshold ? ctx.err : nullptr) {}
  ~Progress() {
    if (shown_) *err_ << '\n';
  }
  void Line(size_t n) {
    if (err_ == nullptr || n % kProgressEvery != 0) return;
    *err_ << "\rdecoded " << n << " lines…" << std::flush;
    shown_ = true;
  }

 private:
  std::ostream* err_;
  bool shown_ = false;
};

// Decodes one event into the batch; an entity it registers becomes
// resolvable for the lines after it.
Status DecodeInto(const nlohmann::json* j, std::string_view text, LogEntityResolver& resolver,
                  const DecodeOptions& options, int64_t line, DecodedBatch* batch) {
  // A whole file is held in memory until its one transaction commits, so
  // start each message small: Cap'n Proto's default first segment (8 KiB)
  // would cost ~8 KiB per line; typical events need a few hundred bytes and
  // larger ones grow their message as needed.
  auto message = std::make_unique<capnp::MallocMessageBuilder>(kFirstSegmentWords);
  auto ev = message->initRoot<schema::Event>();
  TWINLINE_RETURN_IF_ERROR(j != nullptr ? DecodeEvent(*j, resolver, options, ev)
                                        : DecodeEventText(text, resolver, options, ev));
  auto payload = ev.asReader().getPayload();
  if (payload.isEntityRegistered()) {
    auto reg = payload.getEntityRegistered();
    std::vector<std::string> names;
    for (auto name : reg.getNames()) names.emplace_back(name.getText());
    TWINLINE_RETURN_IF_ERROR(resolver.AddPending(reg.getEntity().cStr(), names));
  }
  batch->events.push_back(std::move(message));
  batch->lines.push_back(line);
  return Status::Ok();
}

Status DecodeNdjson(const std::string& data, LogEntityResolver& resolver,
                    const DecodeOptions& options, Context& ctx, const std::string& name,
                    DecodedBatch* batch) {
  const size_t total = static_cast<size_t>(std::count(data.begin(), data.end(), '\n')) + 1;
  Progress progress(ctx, total);
  size_t pos = 0;
  int64_t line = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::string_view text(data.data() + pos, end - pos);
    pos = end + 1;
    ++line;
    progress.Line(static_cast<size_t>(line));
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > kMaxLineBytes) {
      ctx.error_location = name + ":" + std::to_string(line);
      return Status::InvalidArgument("line is " + std::to_string(text.size()) + " bytes; an event may be at most " +
                                     std::to_string(kMaxLineBytes) + " bytes");
    }
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos || text[first] == '#') continue;
    Status s = DecodeInto(nullptr, text, resolver, options, line, batch);
    if (!s.ok()) {
      ctx.error_location = name + ":" + std::to_string(line);
      return s;
    }
  }
  return Status::Ok();
}

Status DecodeCsv(const std::string& data, LogEntityResolver& resolver, const DecodeOptions& options,
                 Context& ctx, const std::string& name, DecodedBatch* batch) {
  std::istringstream in(data);
  std::vector<CsvRow> rows;
  Status s = ReadPartnershipCsv(in, &rows);
  if (!s.ok()) {
    ctx.error_location = s.index() > 0 ? name + ":" + std::to_string(s.index()) : name;
    return s;
  }
  Progress progress(ctx, rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    progress.Line(i + 1);
    s = DecodeInto(&rows[i].event, "", resolver, options, rows[i].line, batch);
    if (!s.ok()) {
      ctx.error_location = name + ":" + std::to_string(rows[i].line);
      return s;
    }
  }
  return Status::Ok();
}

// Replays of a big log lean on checkpoints, and an import is when they go
// stale (docs/PROJECTIONS.md, 5), so it rebuilds them, once the log is big
// enough for them to matter and if it wrote anything. Checkpoints are derived
// data: the import has already succeeded, so a failure here is a warning.
constexpr uint64_t kCheckpointMinEvents = 1000;

void RefreshCheckpointsAfterImport(Context& ctx, const AppendResult& result) {
  if (result.last_seq < kCheckpointMinEvents || result.appended + result.corroborated == 0) return;
  size_t count = 0;
  uint64_t bytes = 0;
  Status s = RefreshCheckpoints(*ctx.log, &count, &bytes);
  if (ctx.logger == nullptr) return;
  if (s.ok()) {
    ctx.logger->info("refreshed {} replay checkpoints ({} bytes) at seq {}", count, bytes,
                     result.last_seq);
  } else {
    ctx.logger->warn(
        "could not refresh the replay checkpoints ({}); replay still works, "
        "slower; retry with: twinline checkpoint",
        s.ToString());
  }
}

}  // namespace

Handler ConfigureImport(CLI::App& cmd) {
  auto f = std::make_shared<ImportFlags>();
  cmd.add_option("FILE", f->file, "NDJSON or CSV file, '-' for stdin")->required();
  cmd.add_option("--format", f->formats,
                 "input format ndjson|csv (default: csv for *.csv, else ndjson), and/or json "
                 "for a JSON summary; may be given twice")
      ->check(CLI::IsMember({"ndjson", "csv", "json"}))
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd.add_flag("--restore", f->restore,
               "load an export into an empty log keeping seq and recorded_at (identical log)");
  cmd.add_flag("--dry-run", f->dry_run, "decode and check every line; write nothing");
  f->expect_seq_opt = cmd.add_option("--expect-seq", f->expect_seq,
                                     "fail with a conflict (exit 4) unless the log is at seq N");

  return [f](Context& ctx) -> Status {
    const std::string name = f->file == "-" ? "<stdin>" : f->file;
    std::string data;
    TWINLINE_RETURN_IF_ERROR(ReadInput(f->file, ctx, &data));

    DecodeOptions decode_options;
    decode_options.restore = f->restore;
    DecodedBatch batch;
    uint64_t last_seq = 0;
    {
      Snapshot snap;
      TWINLINE_RETURN_IF_ERROR(BeginSnapshot(*ctx.log, &snap));
      last_seq = snap.txn->LastSeq();
      if (f->restore && last_seq != 0) {
        return Status::InvalidArgument("import --restore needs an empty log; " + ctx.db_path +
                                       " is at seq " + std::to_string(last_seq));
      }
      ctx.error_hint = "nothing was written";
      Status s = f->IsCsv() ? DecodeCsv(data, *snap.resolver, decode_options, ctx, name, &batch)
                            : DecodeNdjson(data, *snap.resolver, decode_options, ctx, name, &batch);
      if (!s.ok()) return s;
    }  // the snapshot ends before the write transaction begins

    const bool json = f->Has("json");
    if (f->dry_run) {
      ctx.error_hint.clear();
      if (json) {
        nlohmann::ordered_json j{{"file", name},
                                 {"events", batch.events.size()},
                                 {"dry_run", true},
                                 {"last_seq", last_seq}};
        *ctx.out << DumpJson(j) << '\n';
      } else {
        *ctx.out << "checked " << name << ": " << batch.events.size()
                 << " events decode; nothing written (dry run)\n";
      }
      return Status::Ok();
    }

    AppendResult result;
    result.last_seq = last_seq;
    if (!batch.events.empty()) {
      AppendOptions options;
      options.restore = f->restore;
      if (f->expect_seq_opt->count() > 0) options.expected_last_seq = f->expect_seq;
      Status s = ctx.log->Append(batch.events, options, &result);
      if (!s.ok()) {
        if (s.index() >= 0 && static_cast<size_t>(s.index()) < batch.lines.size()) {
          ctx.error_location = name + ":" + std::to_string(batch.lines[s.index()]);
        }
        return s;
      }
    }
    ctx.error_hint.clear();
    RefreshCheckpointsAfterImport(ctx, result);
    const size_t events = batch.events.size();
    if (json) {
      nlohmann::ordered_json j{{"file", name},
                               {"events", events},
                               {"appended", result.appended},
                               {"corroborated", result.corroborated},
                               {"duplicates", result.duplicates},
                               {"last_seq", result.last_seq}};
      *ctx.out << DumpJson(j) << '\n';
    } else {
      *ctx.out << "imported " << name << ": " << events << (events == 1 ? " event" : " events")
               << " — " << result.appended << " appended, " << result.corroborated
               << " corroborated, " << result.duplicates
               << (result.duplicates == 1 ? " duplicate" : " duplicates") << "; log at seq "
               << result.last_seq << '\n';
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
