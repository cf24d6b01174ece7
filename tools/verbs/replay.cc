// `twinline replay`: the state of the network on a valid day, as the log knew
// it at a recorded time, as one of four projections (counts, trade, network,
// timeline), or a time series with --from/--to/--step. The flags fill a
// ReplayRequest; what it means and how it is printed is replay_view.h's, the
// same code that answers GET /v1/replay. The verb only reads: every answer
// comes from one read transaction, so it is consistent even while another
// process appends.
#include <CLI/CLI.hpp>

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
  f->projection_opt = cmd.add_option("--projection", f->projection, "what to show")
                          ->check(CLI::IsMember({"counts", "trade", "network", "timeline"}))
                          ->capture_default_str();
  cmd.add_option("--format", r.format,
                 "table|json|csv (counts, trade), table|json|graphml|geojson (network), "
                 "table|json (timeline), csv|json|table (series; default csv)")
      ->check(CLI::IsMember({"table", "json", "csv", "graphml", "geojson"}));
  AddProjectionFlags(cmd, &r.common);
  cmd.add_option("--from", r.from, "time series: first step (the last day of this EDTF date)");
  cmd.add_option("--to", r.to, "time series: last step at or before the last day of this date");
  cmd.add_option("--step", r.step, "time series: step between dates")
      ->check(CLI::IsMember({"year", "month"}))
      ->capture_default_str();
  cmd.footer(
      "Examples:\n"
      "  twinline replay --as-of 1981 --entity Chengdu\n"
      "  twinline replay --as-of 2024 --projection network --format graphml > net.graphml\n"
      "  twinline replay --as-of 2025 --projection timeline --entity 重庆\n"
      "  twinline replay --from 2000 --to 2025 --step year");

  return [f](Context& ctx) -> Status {
    api::ReplayRequest request = f->request;
    // Given or not matters: a time series refuses an explicit --projection.
    if (f->projection_opt->count() > 0) request.projection = f->projection;
    api::ReadView snap;
    TWINLINE_RETURN_IF_ERROR(api::BeginReadView(*ctx.log, &snap));
    return api::RenderReplay(snap, request, *ctx.out, ctx.logger.get());
  };
}

}  // namespace twinline::cli
