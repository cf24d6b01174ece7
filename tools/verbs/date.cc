// `twinline date EXPR`: explain how an EDTF expression is read — its
// normalised text, form, precision, qualifiers and the range of days it can
// stand for — without touching any database. What `log --from/--to` and the
// by_date index compare is exactly this earliest/latest range.
#include <CLI/CLI.hpp>
#include <ostream>

#include "core/edtf.h"
#include "tools/api/json_views.h"
#include "tools/api/text_layout.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

const char* PrecisionName(EdtfPrecision p) {
  switch (p) {
    case EdtfPrecision::kYear:
      return "year";
    case EdtfPrecision::kSeason:
      return "season";
    case EdtfPrecision::kMonth:
      return "month";
    case EdtfPrecision::kDay:
      return "day";
    case EdtfPrecision::kDateTime:
      return "date-time";
  }
  return "?";
}

const char* EndName(EdtfDate::End end) {
  switch (end) {
    case EdtfDate::End::kDate:
      return "date";
    case EdtfDate::End::kOpen:
      return "open";
    case EdtfDate::End::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string Precision(const EdtfDate& d) {
  if (d.form == EdtfDate::Form::kDate) return PrecisionName(d.start.precision);
  auto side = [](EdtfDate::End kind, const EdtfPoint& p) -> std::string {
    return kind == EdtfDate::End::kDate ? PrecisionName(p.precision) : EndName(kind);
  };
  return side(d.start_kind, d.start) + " / " + side(d.end_kind, d.end);
}

std::vector<std::string> Qualifiers(const EdtfDate& d) {
  std::vector<std::string> q;
  if (d.approximate()) q.push_back("approximate");
  if (d.uncertain()) q.push_back("uncertain");
  if (d.start.unspecified || d.end.unspecified) q.push_back("unspecified digits");
  return q;
}

// One sentence a reader can check against what they meant.
std::string Meaning(const EdtfDate& d) {
  const std::string from = FormatDay(d.earliest), to = FormatDay(d.latest);
  if (d.form == EdtfDate::Form::kDate) {
    if (d.earliest == d.latest) return "happened on " + from;
    return "happened on some day between " + from + " and " + to;
  }
  const bool open_start = d.start_kind != EdtfDate::End::kDate;
  const bool open_end = d.end_kind != EdtfDate::End::kDate;
  const std::string start_word = d.start_kind == EdtfDate::End::kOpen ? "open" : "unknown";
  const std::string end_word = d.end_kind == EdtfDate::End::kOpen ? "open" : "unknown";
  if (open_start && open_end) {
    return start_word + " start, " + end_word + " end: no bound on when it happened";
  }
  if (open_start) return start_word + " start: happened at some time up to " + to;
  if (open_end) return end_word + " end: happened at some time from " + from + " on";
  return "interval: from " + from + " to " + to;
}

}  // namespace

Handler ConfigureDate(CLI::App& cmd) {
  auto expr = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  cmd.add_option("EXPR", *expr, "EDTF expression, e.g. 2011-03, ../2023-10-06, 198X, 2014-11~")
      ->required();
  cmd.add_option("--format", *format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return [expr, format](Context& ctx) -> Status {
    EdtfDate d;
    Status s = ParseEdtf(*expr, &d);
    if (!s.ok()) return s.field().empty() ? s.WithField(*expr) : s;
    const bool interval = d.form == EdtfDate::Form::kInterval;
    const std::vector<std::string> qualifiers = Qualifiers(d);
    if (*format == "json") {
      nlohmann::ordered_json j;
      j["input"] = *expr;
      j["normalised"] = d.Normalized();
      j["form"] = interval ? "interval" : "date";
      j["precision"] = Precision(d);
      j["approximate"] = d.approximate();
      j["uncertain"] = d.uncertain();
      j["unspecified"] = d.start.unspecified || d.end.unspecified;
      j["start"] = interval ? EndName(d.start_kind) : "date";
      j["end"] = interval ? EndName(d.end_kind) : "date";
      j["earliest"] = FormatDay(d.earliest);
      j["latest"] = FormatDay(d.latest);
      j["meaning"] = Meaning(d);
      *ctx.out << api::DumpJson(j) << '\n';
      return Status::Ok();
    }
    std::string q;
    for (const std::string& item : qualifiers) q += (q.empty() ? "" : ", ") + item;
    api::PrintFields(*ctx.out, {{"normalised", d.Normalized()},
                                {"form", interval ? "interval" : "date"},
                                {"precision", Precision(d)},
                                {"qualifiers", q.empty() ? "none" : q},
                                {"earliest day", FormatDay(d.earliest)},
                                {"latest day", FormatDay(d.latest)},
                                {"meaning", Meaning(d)}});
    return Status::Ok();
  };
}

}  // namespace twinline::cli
