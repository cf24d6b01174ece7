// `twinline append`: one event, as a JSON object (stdin, or --json FILE) or
// built from flags (--kind, --date, --set KEY=VALUE, --source-*). Entity
// references are resolved against the current log; the event is appended as
// a batch of one, so the identity rules (duplicate, corroboration) apply
// exactly as for `import`.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "events/json_codec.h"
#include "tools/api/json_views.h"
#include "tools/api/read_view.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

struct AppendFlags {
  std::string json_path;
  std::string kind, date, id, note;
  std::vector<std::string> sets;
  std::string source_title, source_publisher, source_published, source_language, source_url,
      source_quote;
  uint64_t expect_seq = 0;
  std::string format = "text";

  CLI::Option* json_opt = nullptr;
  CLI::Option* kind_opt = nullptr;
  CLI::Option* expect_seq_opt = nullptr;
};

// --set, as httpie writes request items: KEY=TEXT is always a string
// (`period=2024`, `name=true` stay text), KEY:=JSON is a JSON value
// (`edition:=10`, `parties:=["chengdu","eu"]`).
Status SetField(const std::string& set, nlohmann::json* event) {
  const size_t eq = set.find('=');
  if (eq == std::string::npos || eq == 0 || (eq == 1 && set[0] == ':')) {
    return Status::InvalidArgument("--set expects KEY=TEXT or KEY:=JSON, got '" + set + "'");
  }
  if (set[eq - 1] != ':') {
    (*event)[set.substr(0, eq)] = set.substr(eq + 1);
    return Status::Ok();
  }
  const std::string key = set.substr(0, eq - 1);
  nlohmann::json value = nlohmann::json::parse(set.substr(eq + 1), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Status::InvalidArgument("--set " + key + ":= takes a JSON value (10, [\"a\",\"b\"], \"text\"), got '" +
                                   set.substr(eq + 1) + "'; for text write " + key + "=TEXT");
  }
  (*event)[key] = std::move(value);
  return Status::Ok();
}

Status EventFromFlags(const AppendFlags& f, nlohmann::json* out) {
  nlohmann::json j = nlohmann::json::object();
  j["kind"] = f.kind;
  if (!f.date.empty()) j["date"] = f.date;
  for (const std::string& set : f.sets) TWINLINE_RETURN_IF_ERROR(SetField(set, &j));
  nlohmann::json source = nlohmann::json::object();
  auto put = [&](const char* key, const std::string& value) {
    if (!value.empty()) source[key] = value;
  };
  put("title", f.source_title);
  put("publisher", f.source_publisher);
  put("published", f.source_published);
  put("language", f.source_language);
  put("url", f.source_url);
  put("quote", f.source_quote);
  // Without any --source-* flag the decoder reports the missing sources.
  if (!source.empty()) j["sources"] = nlohmann::json::array({source});
  if (!f.id.empty()) j["id"] = f.id;
  if (!f.note.empty()) j["note"] = f.note;
  *out = std::move(j);
  return Status::Ok();
}

// Where the JSON event comes from: --json FILE, or stdin.
Status ReadJsonText(const AppendFlags& f, Context& ctx, std::string* text) {
  // Waiting on a terminal for JSON nobody is typing helps no one.
  if (f.json_path.empty() && isatty(STDIN_FILENO)) {
    return Status::InvalidArgument(
        "no event given: pipe a JSON object on stdin, or use --kind, --date, --set and "
        "--source-* (see twinline append --help)");
  }
  return ReadInput(f.json_path.empty() ? "-" : f.json_path, ctx, text);
}

std::string DescribeOutcome(const AppendOutcome& o) {
  const std::string seq = std::to_string(o.seq);
  switch (o.disposition) {
    case AppendOutcome::Disposition::kAppended:
      return "appended " + o.event_id + " at seq " + seq;
    case AppendOutcome::Disposition::kDuplicate:
      return "duplicate of " + o.event_id + " (seq " + seq + "): nothing written";
    case AppendOutcome::Disposition::kCorroborated:
      return "corroborated " + o.event_id + ": new source recorded at seq " + seq;
  }
  return "";
}

}  // namespace

Handler ConfigureAppend(CLI::App& cmd) {
  auto f = std::make_shared<AppendFlags>();
  f->json_opt = cmd.add_option("--json", f->json_path,
                               "read the event as a JSON object from FILE ('-' = stdin, the "
                               "default when no --kind is given)");
  f->kind_opt = cmd.add_option("--kind", f->kind, "event kind, e.g. partnership_established");
  cmd.add_option("--date", f->date, "valid time, EDTF (e.g. 1981, 2011-03, ../2023-10-06)");
  cmd.add_option("--set", f->sets,
                 "a field of the kind (repeatable): KEY=TEXT for a string, KEY:=JSON for "
                 "any JSON value (numbers, arrays), as httpie: --set period=2024 --set edition:=10")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd.add_option("--source-title", f->source_title, "source: headline or document title");
  cmd.add_option("--source-publisher", f->source_publisher, "source: outlet or issuing body");
  cmd.add_option("--source-published", f->source_published, "source: publication date, EDTF");
  cmd.add_option("--source-language", f->source_language, "source: BCP 47 language tag");
  cmd.add_option("--source-url", f->source_url, "source: address");
  cmd.add_option("--source-quote", f->source_quote, "source: short supporting quote");
  cmd.add_option("--id", f->id, "explicit event id (default: derived from the fact)");
  cmd.add_option("--note", f->note, "editor's note");
  f->expect_seq_opt = cmd.add_option("--expect-seq", f->expect_seq,
                                     "fail with a conflict (exit 4) unless the log is at seq N");
  cmd.add_option("--format", f->format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  f->json_opt->excludes(f->kind_opt);

  return [f](Context& ctx) -> Status {
    auto message = std::make_unique<capnp::MallocMessageBuilder>();
    {
      api::ReadView snap;
      TWINLINE_RETURN_IF_ERROR(api::BeginReadView(*ctx.log, &snap));
      const DecodeOptions decode_options;
      if (f->kind_opt->count() > 0) {
        nlohmann::json j;
        TWINLINE_RETURN_IF_ERROR(EventFromFlags(*f, &j));
        TWINLINE_RETURN_IF_ERROR(
            DecodeEvent(j, *snap.resolver, decode_options, message->initRoot<schema::Event>()));
      } else {
        std::string text;
        TWINLINE_RETURN_IF_ERROR(ReadJsonText(*f, ctx, &text));
        TWINLINE_RETURN_IF_ERROR(DecodeEventText(text, *snap.resolver, decode_options,
                                                 message->initRoot<schema::Event>()));
      }
    }  // the snapshot ends before the write transaction begins

    std::vector<PendingEvent> batch;
    batch.push_back(std::move(message));
    AppendOptions options;
    if (f->expect_seq_opt->count() > 0) options.expected_last_seq = f->expect_seq;
    AppendResult result;
    TWINLINE_RETURN_IF_ERROR(ctx.log->Append(batch, options, &result));
    const AppendOutcome& o = result.outcomes.at(0);
    if (f->format == "json") {
      nlohmann::ordered_json j = api::OutcomeJson(o);
      j["last_seq"] = result.last_seq;
      *ctx.out << api::DumpJson(j) << '\n';
    } else {
      *ctx.out << DescribeOutcome(o) << '\n';
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
