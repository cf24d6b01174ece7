// `twinline stats`: what the log holds (events, entities, sources, events per
// kind), the valid-time and recorded-time ranges, the data file size and the
// chain head — the hash to compare when checking two copies hold the same
// history.
#include <CLI/CLI.hpp>
#include <ostream>

#include "core/edtf.h"
#include "events/json_codec.h"
#include "tools/api/json_views.h"
#include "tools/api/text_layout.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

std::string Bytes(uint64_t n) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return std::to_string(n) + " bytes";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return std::string(buf) + " (" + std::to_string(n) + " bytes)";
}

}  // namespace

Handler ConfigureStats(CLI::App& cmd) {
  auto format = std::make_shared<std::string>("text");
  cmd.add_option("--format", *format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return [format](Context& ctx) -> Status {
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
    LogStats st;
    TWINLINE_RETURN_IF_ERROR(txn->Stats(&st));
    const bool empty = st.events == 0;
    const std::string valid_from = empty ? "" : FormatDay(st.min_valid_day);
    const std::string valid_to = empty ? "" : FormatDay(st.max_valid_day);
    const std::string recorded_from = empty ? "" : FormatTimestamp(st.first_recorded_at);
    const std::string recorded_to = empty ? "" : FormatTimestamp(st.last_recorded_at);

    if (*format == "json") {
      *ctx.out << api::DumpJson(api::StatsJson(st)) << '\n';
      return Status::Ok();
    }
    api::PrintFields(*ctx.out,
                     {{"events", std::to_string(st.events)},
                      {"entities", std::to_string(st.entities)},
                      {"sources", std::to_string(st.sources)},
                      {"valid time", empty ? "-" : valid_from + " .. " + valid_to},
                      {"recorded time", empty ? "-" : recorded_from + " .. " + recorded_to},
                      {"data file", Bytes(st.file_bytes)},
                      {"chain head", st.head.empty() ? "-" : st.head}});
    if (!st.by_kind.empty()) {
      *ctx.out << '\n';
      api::Table table({"KIND", "EVENTS"});
      table.AlignRight(1);
      for (const auto& [kind, n] : st.by_kind) table.AddRow({kind, std::to_string(n)});
      table.Print(*ctx.out);
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
