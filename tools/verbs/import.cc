// `twinline import FILE|-`: a whole NDJSON or CSV file appended as ONE atomic
// batch, streamed: each line is read and decoded on a thread of its own
// (api::NdjsonStream) and handed to one EventLog::BatchWriter on this one,
// so memory holds a few thousand events at a time, the entities the file
// registers and LMDB's dirty
// pages (at most 512 MiB; the rest spill to the data file), whatever the
// size of the file (10^7 events: 557 MB anonymous memory at most). The first bad line aborts the import with
// "FILE:LINE: field: message" and the log is left as it was; a file can
// register an entity on one line and name it on the next
// (LogEntityResolver::AddPending). The temporal index (docs/INDEX.md) is
// built in the import's own transaction, from the events as they are
// written, when the import outgrows the index's tail.
//
// The batch writer holds the log's single writer from the first line to the
// commit: other appends wait for the import.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <cctype>
#include <fstream>
#include <sstream>

#include "events/csv_import.h"
#include "events/fact_table.h"
#include "events/json_codec.h"
#include "tools/api/batch_decode.h"
#include "tools/api/json_views.h"
#include "tools/api/ndjson_stream.h"
#include "tools/api/read_view.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

// Progress is shown only on a terminal and only when it is worth it.
constexpr size_t kProgressThreshold = 1000;
constexpr size_t kProgressEvery = 1000;

struct ImportFlags {
  std::string file;
  std::vector<std::string> formats;  // ndjson|csv (input), json (summary)
  bool restore = false;
  bool dry_run = false;
  bool progress = false;
  bool register_missing = false;
  uint64_t expect_seq = 0;
  CLI::Option* expect_seq_opt = nullptr;

  bool Has(std::string_view f) const {
    return std::find(formats.begin(), formats.end(), f) != formats.end();
  }
  bool EndsWith(std::string_view suffix) const {
    if (file.size() < suffix.size()) return false;
    std::string tail = file.substr(file.size() - suffix.size());
    for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return tail == suffix;
  }
  bool IsTsv() const { return Has("tsv") || (!Has("csv") && !Has("ndjson") && EndsWith(".tsv")); }
  bool IsCsv() const {
    if (Has("csv") || IsTsv()) return true;
    if (Has("ndjson")) return false;
    return EndsWith(".csv");
  }
};

// Progress on stderr (a terminal, or --progress): lines read, and for a
// file its share of the bytes and the time left at the rate so far:
//   read 250000 lines, 80.2 of 320.8 MB (25%), about 0:42 left
// then "committing…"; Done() ends the line, so the summary gets its own.
class Progress {
 public:
  Progress(const Context& ctx, bool forced, uint64_t total_bytes)
      : err_(ctx.err_is_terminal || forced ? ctx.err : nullptr), total_(total_bytes),
        start_(std::chrono::steady_clock::now()) {}
  ~Progress() { Done(); }
  void Line(size_t n, uint64_t bytes) {
    // Each time the count passes a multiple of kProgressEvery (events come
    // with their line numbers, which skip comments and blank lines).
    if (err_ == nullptr || n < kProgressThreshold || n / kProgressEvery == shown_at_ / kProgressEvery) return;
    shown_at_ = n;
    *err_ << "\rread " << n << " lines";
    if (total_ > 0) {
      char buf[96];
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const double left = bytes > 0 ? seconds * static_cast<double>(total_ - std::min(bytes, total_)) /
                                          static_cast<double>(bytes)
                                    : 0;
      const auto s = static_cast<long long>(left + 0.5);
      std::snprintf(buf, sizeof buf, ", %.1f of %.1f MB (%d%%), about %lld:%02lld left", bytes / 1e6, total_ / 1e6,
                    static_cast<int>(100 * std::min(bytes, total_) / total_), s / 60, s % 60);
      *err_ << buf;
    } else {
      *err_ << "…";
    }
    *err_ << "\x1b[K" << std::flush;  // clear what a longer line left
    shown_ = true;
  }
  // Before the commit, which may take a while for a large file.
  void Committing(size_t events) {
    if (!shown_) return;
    *err_ << "\rread " << events << " events; committing…\x1b[K" << std::flush;
  }
  void Done() {
    if (shown_) *err_ << '\n' << std::flush;
    shown_ = false;
  }

 private:
  std::ostream* err_;
  uint64_t total_;  // bytes of the file; 0 when unknown (stdin)
  std::chrono::steady_clock::time_point start_;
  size_t shown_at_ = 0;  // the count last shown
  bool shown_ = false;
};

// Decodes the events of one file and hands each to the batch as it comes.
class Importer {
 public:
  // All borrowed for the importer's life. `writer` is null in a dry run:
  // events are decoded, then dropped.
  Importer(Context& ctx, const std::string& name, LogEntityResolver& resolver,
           const DecodeOptions& options, EventLog::BatchWriter* writer, bool show_progress,
           uint64_t total_bytes)
      : ctx_(ctx), name_(name), resolver_(resolver), options_(options), writer_(writer),
        progress_(ctx, show_progress, total_bytes) {}

  // An NDJSON file: decoded on a thread of its own (api::NdjsonStream)
  // while this one hands the events to the writer.
  Status Ndjson(std::istream& in) {
    api::NdjsonStream stream(in, resolver_, options_);
    stream.Start();
    api::StreamedEvent e;
    while (stream.Next(&e)) {
      progress_.Line(static_cast<size_t>(e.line), e.bytes);
      ++events_;
      if (writer_ == nullptr) continue;
      Status s = writer_->Add(std::move(e.event), nullptr);
      if (!s.ok()) return FailAt(e.line, s);
    }
    const Status& s = stream.status();
    if (s.code() == Status::Code::kIOError) return Status::IOError("error reading " + name_);
    if (!s.ok()) return FailAt(stream.failed_line(), s);
    return Status::Ok();
  }

  // A CSV or TSV file: a fact table (a `subject` column; events/fact_table.h)
  // or a plain partnership list (csv_import.h).
  Status Csv(std::istream& in, char separator, bool register_missing) {
    // The header decides; a stream that cannot seek back (stdin) is read
    // whole first (tables are small).
    std::istream* source = &in;
    std::istringstream buffered;
    std::string first_line;
    if (in.tellg() != std::streampos(-1)) {
      std::getline(in, first_line);
      in.clear();
      in.seekg(0);
    } else {
      std::ostringstream all;
      all << in.rdbuf();
      buffered.str(std::move(all).str());
      std::getline(buffered, first_line);
      buffered.clear();
      buffered.seekg(0);
      source = &buffered;
    }
    if (IsFactTableHeader(first_line, separator)) return FactTable(*source, separator, register_missing);
    if (separator != ',') {
      return FailAt(1, Status::InvalidArgument("a TSV file must be a fact table: its header needs a subject "
                                               "column (docs/EVENTS.md, \"Fact tables\")"));
    }
    PartnershipCsvReader reader(*source);
    return TakeRows<CsvRow>(reader);
  }

  // Takes every row a table reader gives ({line, event} rows); a reader's
  // error carries its line in index().
  template <typename Row, typename Reader>
  Status TakeRows(Reader& reader) {
    size_t rows = 0;
    while (true) {
      Row row;
      bool done = false;
      Status s = reader.Next(&row, &done);
      if (!s.ok()) {
        ctx_.error_location = s.index() > 0 ? name_ + ":" + std::to_string(s.index()) : name_;
        return s;
      }
      if (done) return Status::Ok();
      progress_.Line(++rows, 0);
      TWINLINE_RETURN_IF_ERROR(Take(&row.event, "", row.line));
    }
  }

  Status FactTable(std::istream& in, char separator, bool register_missing) {
    FactTableOptions options;
    options.separator = separator;
    options.register_missing = register_missing;
    FactTableReader reader(in, resolver_, options);
    TWINLINE_RETURN_IF_ERROR(TakeRows<FactEvent>(reader));
    notes_ = reader.notes();
    return Status::Ok();
  }

  // What a fact table's import applied or registered, for the summary.
  const std::vector<std::string>& notes() const { return notes_; }

  size_t events() const { return events_; }
  Progress& progress() { return progress_; }

 private:
  // Decodes one event (from `j`, else from `text`) as any batch is decoded
  // (DecodeIntoBatch: an entity it registers becomes resolvable for the
  // lines after it) and appends it at once.
  Status Take(const nlohmann::json* j, std::string_view text, int64_t line) {
    one_.events.clear();
    one_.positions.clear();
    Status s = api::DecodeIntoBatch(j, text, resolver_, options_, line, &one_);
    if (!s.ok()) return FailAt(line, s);
    ++events_;
    if (writer_ != nullptr) {
      s = writer_->Add(std::move(one_.events.front()), nullptr);
      if (!s.ok()) return FailAt(line, s);
    }
    return Status::Ok();
  }

  Status FailAt(int64_t line, const Status& s) {
    ctx_.error_location = name_ + ":" + std::to_string(line);
    return s;
  }

  Context& ctx_;
  const std::string& name_;
  LogEntityResolver& resolver_;
  const DecodeOptions& options_;
  EventLog::BatchWriter* writer_;
  Progress progress_;
  api::DecodedBatch one_;  // the event being decoded: a batch of one, reused
  size_t events_ = 0;
  std::vector<std::string> notes_;  // a fact table's defaults and registrations
};

}  // namespace

Handler ConfigureImport(CLI::App& cmd) {
  auto f = std::make_shared<ImportFlags>();
  cmd.add_option("FILE", f->file,
                 "NDJSON file, or a CSV/TSV fact table or partnership list; '-' for stdin")
      ->required();
  cmd.add_option("--format", f->formats,
                 "input format ndjson|csv|tsv (default: by the file's extension, else ndjson), "
                 "and/or json for a JSON summary; may be given twice")
      ->check(CLI::IsMember({"ndjson", "csv", "tsv", "json"}))
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd.add_flag("--restore", f->restore,
               "load an export into an empty log keeping seq and recorded_at (identical log)");
  cmd.add_flag("--dry-run", f->dry_run, "decode and check every line; write nothing");
  cmd.add_flag("--register-missing", f->register_missing,
               "fact tables: register a place that no registered name matches, from its row (name, "
               "country), and list it in the summary");
  cmd.add_flag("--progress", f->progress,
               "show progress on stderr (lines, share of the file, time left) even when it is not a terminal");
  f->expect_seq_opt = cmd.add_option("--expect-seq", f->expect_seq,
                                     "fail with a conflict (exit 4) unless the log is at seq N");

  return [f](Context& ctx) -> Status {
    const std::string name = f->file == "-" ? "<stdin>" : f->file;
    std::ifstream file;
    std::istream* in = ctx.in;
    if (f->file != "-") {
      file.open(f->file, std::ios::binary);
      if (!file) return Status::NotFound("cannot read " + f->file + ": " + std::strerror(errno));
      in = &file;
    }

    ctx.error_hint = "nothing was written";
    std::unique_ptr<EventLog::BatchWriter> writer;
    if (!f->dry_run) {
      AppendOptions options;
      options.restore = f->restore;
      if (f->expect_seq_opt->count() > 0) options.expected_last_seq = f->expect_seq;
      TWINLINE_RETURN_IF_ERROR(ctx.log->BeginBatch(options, &writer));
    }
    // Begun after the writer, the snapshot shows exactly the log the batch
    // extends: no other writer can commit in between.
    api::ReadView snap;
    TWINLINE_RETURN_IF_ERROR(api::BeginReadView(*ctx.log, &snap));
    const uint64_t last_seq = snap.txn->LastSeq();
    if (f->restore && last_seq != 0) {
      return Status::InvalidArgument("import --restore needs an empty log; " + ctx.db_path +
                                     " is at seq " + std::to_string(last_seq));
    }

    DecodeOptions decode_options;
    decode_options.restore = f->restore;
    std::error_code size_ec;
    const uint64_t total_bytes = f->file == "-" ? 0 : std::filesystem::file_size(f->file, size_ec);
    Importer importer(ctx, name, *snap.resolver, decode_options, writer.get(), f->progress,
                      size_ec ? 0 : total_bytes);
    TWINLINE_RETURN_IF_ERROR(f->IsCsv() ? importer.Csv(*in, f->IsTsv() ? '\t' : ',', f->register_missing)
                                        : importer.Ndjson(*in));
    const size_t events = importer.events();
    snap.resolver.reset();  // the read transaction ends before the commit
    snap.txn.reset();

    const bool json = f->Has("json");
    if (f->dry_run) {
      importer.progress().Done();
      ctx.error_hint.clear();
      if (json) {
        nlohmann::ordered_json j{
            {"file", name}, {"events", events}, {"dry_run", true}, {"last_seq", last_seq}};
        *ctx.out << api::DumpJson(j) << '\n';
      } else {
        *ctx.out << "checked " << name << ": " << events
                 << " events decode; nothing written (dry run)\n";
      }
      return Status::Ok();
    }

    importer.progress().Committing(events);
    AppendResult result;
    Status committed = writer->Commit(&result);
    importer.progress().Done();  // the summary (or the error) on a line of its own
    TWINLINE_RETURN_IF_ERROR(committed);
    writer.reset();
    ctx.error_hint.clear();
    if (json) {
      nlohmann::ordered_json j{{"file", name},
                               {"events", events},
                               {"appended", result.appended},
                               {"corroborated", result.corroborated},
                               {"duplicates", result.duplicates},
                               {"last_seq", result.last_seq}};
      *ctx.out << api::DumpJson(j) << '\n';
    } else {
      *ctx.out << "imported " << name << ": " << events << (events == 1 ? " event" : " events")
               << " — " << result.appended << " appended, " << result.corroborated
               << " corroborated, " << result.duplicates
               << (result.duplicates == 1 ? " duplicate" : " duplicates") << "; log at seq "
               << result.last_seq << '\n';
      for (const std::string& note : importer.notes()) *ctx.out << "  " << note << '\n';
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
