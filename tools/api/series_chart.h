// A time series drawn for a report, without a browser: `twinline replay
// --from … --to … --step year --format svg` (or png) and GET /v1/replay with
// format=svg|png. Each measure is a band from its certain to its possible
// value (the honest range of docs/PROJECTIONS.md §2): the certain values as
// a solid line, the possible ones dashed, the band between them shaded.
//
// Contract:
//  * WriteSeriesSvg writes one standalone SVG 1.1 document (UTF-8, no
//    scripts, no external references, fonts by generic family), the same
//    bytes for the same input. Every measure has one value per day.
//  * RenderPng rasterises such an SVG with librsvg and cairo (Debian's
//    librsvg2); kInvalidArgument when this build has no PNG support, with
//    the SVG alternative in the message.
#ifndef TWINLINE_TOOLS_API_SERIES_CHART_H_
#define TWINLINE_TOOLS_API_SERIES_CHART_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/status.h"

namespace twinline::api {

struct ChartMeasure {
  std::string name;                       // "partnerships"
  std::vector<double> certain, possible;  // one per day
};

struct Chart {
  std::string title;              // first line of the heading
  std::string subtitle;           // "as known at seq 96, dates range"
  std::vector<int64_t> days;      // x, days since 1970-01-01, ascending
  std::vector<ChartMeasure> measures;
};

void WriteSeriesSvg(const Chart& chart, std::ostream& out);

// Whether RenderPng works in this build.
bool PngSupported();
Status RenderPng(const std::string& svg, std::string* png);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_SERIES_CHART_H_
