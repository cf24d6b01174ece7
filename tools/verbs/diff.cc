// `twinline diff`: what differs between two replays, printed like a diff tool
// (`+` added, `-` removed, `~` changed), every row naming its events:
//
//   twinline diff FROM TO [--known-at T]       two valid dates, one recorded time
//   twinline diff --as-of D --known-at A --vs-known-at B
//                                              one valid date, two recorded times
//
// The arguments fill a DiffRequest; what it means and how it is printed is
// diff_view.h's, the same code that answers GET /v1/diff. An empty diff
// prints "no differences" and succeeds.
#include <CLI/CLI.hpp>

#include "tools/api/diff_view.h"
#include "tools/api/read_view.h"
#include "tools/cli.h"

namespace twinline::cli {

Handler ConfigureDiff(CLI::App& cmd) {
  auto request = std::make_shared<api::DiffRequest>();
  api::DiffRequest& r = *request;
  r.projection = "all";  // the defaults, shown in --help
  r.format = "table";
  cmd.add_option("FROM", r.from, "earlier valid date, EDTF (its last day counts)");
  cmd.add_option("TO", r.to, "later valid date, EDTF (its last day counts)");
  cmd.add_option("--as-of", r.as_of, "with --vs-known-at: the one valid date to compare");
  cmd.add_option("--vs-known-at", r.vs_known_at,
                 "compare what the log knew at --known-at (default: everything) with what it "
                 "knew at this time: @SEQ, RFC 3339 or EDTF");
  cmd.add_option("--projection", r.projection, "which rows to compare")
      ->check(CLI::IsMember({"all", "counts", "trade", "network"}))
      ->capture_default_str();
  cmd.add_option("--format", r.format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd.add_option("--events", r.events,
                 "two valid dates: list at most N of the events dated in between (default 100; "
                 "0: none)");
  cmd.add_option("--limit", r.limit,
                 "list at most this many rows (the summary still counts them all)");
  cmd.add_flag("--sources", r.sources,
               "show each event's sources, its corroborations' too (under each row of a table)");
  AddProjectionFlags(cmd, &r.common);
  cmd.footer(
      "Examples:\n"
      "  twinline diff 2003 2005\n"
      "  twinline diff 2020 2025 --entity Qingdao --projection network --sources\n"
      "  twinline diff 2019 2020 --edges partnerships   # changes after 2019-12-31, up to "
      "2020-12-31\n"
      "  twinline diff --as-of 2024 --known-at @96 --vs-known-at @97");

  return [request](Context& ctx) -> Status {
    api::ReadView snap;
    TWINLINE_RETURN_IF_ERROR(api::BeginReadView(*ctx.log, &snap));
    return api::RenderDiff(snap, *request, *ctx.out);
  };
}

}  // namespace twinline::cli
