// `twinline replay`: the state of the network on a valid day, as the log knew
// it at a recorded time, as one of six projections (counts, trade, network,
// timeline, countries, partners), or a time series with --from/--to/--step.
// The flags fill a ReplayRequest; what it means and how it is printed is
// replay_view.h's, the same code that answers GET /v1/replay. The verb only
// reads: every answer comes from one read transaction, so it is consistent
// even while another process appends.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "tools/api/read_view.h"
#include "tools/api/replay_view.h"
#include "tools/cli.h"

namespace twinline::cli {

Handler ConfigureReplay(CLI::App& cmd) {
  struct Flags {
    api::ReplayRequest request;
    std::string projection = "counts";  // the default, shown in --help
    CLI::Option* projection_opt = nullptr;
  };
  auto f = std::make_shared<Flags>();
  api::ReplayRequest& r = f->request;
  r.step = "year";
  cmd.add_option("--as-of", r.as_of, "valid date, EDTF; its LAST day counts (2011 = 2011-12-31)");
  f->projection_opt =
      cmd.add_option("--projection", f->projection, "what to show")
          ->check(CLI::IsMember({"counts", "trade", "network", "timeline", "countries", "partners"}))
          ->capture_default_str();
  cmd.add_option("--format", r.format,
                 "table|json|csv (counts, trade, countries, partners), table|json|graphml|geojson|gexf|csv "
                 "(network), table|json (timeline), csv|json|table|svg|png (series; default "
                 "csv), gexf|graphml|geojson|csv|json (network over --from/--to; default gexf)")
      ->check(CLI::IsMember({"table", "json", "csv", "graphml", "geojson", "gexf", "svg", "png"}));
  cmd.add_option("--layer", r.layer,
                 "a network as csv or geojson: nodes (node list, points) or edges (edge list, "
                 "lines); countries as csv: nodes (a row per country) or edges (the links)")
      ->check(CLI::IsMember({"nodes", "edges"}));
  cmd.add_option("--top", r.top,
                 "countries: how many of the strongest links between countries to show (default "
                 "50), or all");
  AddProjectionFlags(cmd, &r.common);
  cmd.add_option("--from", r.from,
                 "time series: first step (the last day of this EDTF date); network: the "
                 "window's first day (the first day of this date)");
  cmd.add_option("--to", r.to,
                 "time series: last step at or before the last day of this date; network: the "
                 "window's last day");
  cmd.add_option("--step", r.step, "time series: step between dates")
      ->check(CLI::IsMember({"year", "month"}))
      ->capture_default_str();
  cmd.footer(
      "Examples:\n"
      "  twinline replay --as-of 1981 --entity Chengdu\n"
      "  twinline replay --as-of 2024 --projection network --format graphml > net.graphml\n"
      "  twinline replay --as-of 2025 --projection timeline --entity 重庆\n"
      "  twinline replay --as-of 2025 --projection countries --top 10\n"
      "  twinline replay --as-of 2025 --projection partners --entity Qingdao\n"
      "  twinline replay --as-of 2025 --projection network --edges routes\n"
      "  twinline replay --from 2000 --to 2025 --step year\n"
      "  twinline replay --from 2000 --to 2025 --step year --format svg > chart.svg\n"
      "  twinline replay --from 1950 --to 2025 --projection network --format gexf > net.gexf\n"
      "  twinline replay --from 1950 --to 2025 --projection network --format geojson "
      "--layer edges > lines.geojson");

  return [f](Context& ctx) -> Status {
    api::ReplayRequest request = f->request;
    // Given or not matters: a time series refuses an explicit --projection.
    if (f->projection_opt->count() > 0) request.projection = f->projection;
    api::ReadView snap;
    TWINLINE_RETURN_IF_ERROR(api::BeginReadView(*ctx.log, &snap));
    std::vector<std::string> notes;
    TWINLINE_RETURN_IF_ERROR(api::RenderReplay(snap, request, *ctx.out, ctx.logger.get(), &notes));
    for (const std::string& note : notes) *ctx.err << "twinline: note: " << note << '\n';
    return Status::Ok();
  };
}

}  // namespace twinline::cli
