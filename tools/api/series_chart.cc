#include "tools/api/series_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "core/edtf.h"
#include "projections/network.h"

#ifdef TWINLINE_HAVE_RSVG
#include <cairo.h>
#include <librsvg/rsvg.h>
#endif

namespace twinline::api {
namespace {

constexpr double kWidth = 860, kHeight = 440;
constexpr double kLeft = 64, kRight = 180, kTop = 64, kBottom = 48;
// Okabe–Ito colours: told apart with colour-blindness too.
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#F0E442", "#000000"};

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A round step giving about `ticks` ticks up to `max`.
double NiceStep(double max, int ticks) {
  if (max <= 0) return 1;
  const double raw = max / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * mag) return std::max(1.0, m * mag);
  }
  return 10 * mag;
}

std::string Label(double v) {
  char buf[32];
  if (v >= 1e9) {
    std::snprintf(buf, sizeof buf, "%gG", v / 1e9);
  } else if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

}  // namespace

void WriteSeriesSvg(const Chart& chart, std::ostream& out) {
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  double max = 0;
  for (const ChartMeasure& m : chart.measures) {
    for (double v : m.possible) max = std::max(max, v);
  }
  const double step = NiceStep(max, 5);
  const double top = std::max(step, std::ceil(max / step) * step);
  const int64_t first = chart.days.empty() ? 0 : chart.days.front();
  const int64_t last = chart.days.empty() ? 1 : std::max(chart.days.back(), first + 1);
  auto x = [&](int64_t day) {
    return kLeft + plot_w * static_cast<double>(day - first) / static_cast<double>(last - first);
  };
  auto y = [&](double v) { return kTop + plot_h * (1 - v / top); };

  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << kWidth
      << "\" height=\"" << kHeight << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "  <title>" << XmlEscape(chart.title) << "</title>\n"
      << "  <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      << "  <text x=\"" << kLeft << "\" y=\"24\" font-size=\"16\" font-weight=\"bold\">"
      << XmlEscape(chart.title) << "</text>\n"
      << "  <text x=\"" << kLeft << "\" y=\"44\" fill=\"#555555\">" << XmlEscape(chart.subtitle)
      << "</text>\n";
  // Grid and y axis.
  out << "  <g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double v = 0; v <= top + step / 2; v += step) {
    out << "    <line x1=\"" << kLeft << "\" x2=\"" << Fixed(kLeft + plot_w) << "\" y1=\""
        << Fixed(y(v)) << "\" y2=\"" << Fixed(y(v)) << "\"/>\n";
  }
  out << "  </g>\n  <g text-anchor=\"end\" fill=\"#333333\">\n";
  for (double v = 0; v <= top + step / 2; v += step) {
    out << "    <text x=\"" << kLeft - 6 << "\" y=\"" << Fixed(y(v) + 4) << "\">" << Label(v)
        << "</text>\n";
  }
  out << "  </g>\n";
  // x axis: a tick per labelled day, at most ~12 labels.
  const size_t every = std::max<size_t>(1, (chart.days.size() + 11) / 12);
  out << "  <g text-anchor=\"middle\" fill=\"#333333\">\n";
  for (size_t i = 0; i < chart.days.size(); i += every) {
    const int64_t d = chart.days[i];
    std::string text = FormatDay(d);
    if (every >= 1 && chart.days.size() > 1 && text.size() == 10 && text.substr(4) == "-12-31") {
      text = text.substr(0, 4);  // year ends read as years
    }
    out << "    <line x1=\"" << Fixed(x(d)) << "\" x2=\"" << Fixed(x(d)) << "\" y1=\""
        << Fixed(kTop + plot_h) << "\" y2=\"" << Fixed(kTop + plot_h + 4)
        << "\" stroke=\"#333333\"/>\n"
        << "    <text x=\"" << Fixed(x(d)) << "\" y=\"" << Fixed(kTop + plot_h + 18) << "\">"
        << XmlEscape(text) << "</text>\n";
  }
  out << "  </g>\n  <line x1=\"" << kLeft << "\" x2=\"" << Fixed(kLeft + plot_w) << "\" y1=\""
      << Fixed(kTop + plot_h) << "\" y2=\"" << Fixed(kTop + plot_h)
      << "\" stroke=\"#333333\"/>\n";
  // One band and two lines per measure.
  for (size_t m = 0; m < chart.measures.size(); ++m) {
    const ChartMeasure& measure = chart.measures[m];
    const char* colour = kColours[m % std::size(kColours)];
    std::string band, certain, possible;
    for (size_t i = 0; i < chart.days.size(); ++i) {
      const std::string px = Fixed(x(chart.days[i]));
      possible += (i == 0 ? "M" : " L") + px + "," + Fixed(y(measure.possible[i]));
      certain += (i == 0 ? "M" : " L") + px + "," + Fixed(y(measure.certain[i]));
      band += (i == 0 ? "M" : " L") + px + "," + Fixed(y(measure.possible[i]));
    }
    for (size_t i = chart.days.size(); i-- > 0;) {
      band += " L" + Fixed(x(chart.days[i])) + "," + Fixed(y(measure.certain[i]));
    }
    out << "  <g class=\"measure\" data-name=\"" << XmlEscape(measure.name) << "\">\n";
    if (!chart.days.empty()) {
      out << "    <path d=\"" << band << " Z\" fill=\"" << colour
          << "\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
          << "    <path d=\"" << possible << "\" fill=\"none\" stroke=\"" << colour
          << "\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n"
          << "    <path d=\"" << certain << "\" fill=\"none\" stroke=\"" << colour
          << "\" stroke-width=\"2\"/>\n";
    }
    const double ly = kTop + 10 + 22.0 * static_cast<double>(m);
    const double lx = kLeft + plot_w + 16;
    out << "    <line x1=\"" << lx << "\" x2=\"" << lx + 22 << "\" y1=\"" << Fixed(ly)
        << "\" y2=\"" << Fixed(ly) << "\" stroke=\"" << colour << "\" stroke-width=\"2\"/>\n"
        << "    <text x=\"" << lx + 28 << "\" y=\"" << Fixed(ly + 4) << "\">"
        << XmlEscape(measure.name) << "</text>\n  </g>\n";
  }
  const double ky = kTop + 10 + 22.0 * static_cast<double>(chart.measures.size()) + 10;
  const double kx = kLeft + plot_w + 16;
  out << "  <g fill=\"#555555\" font-size=\"11\">\n"
      << "    <line x1=\"" << kx << "\" x2=\"" << kx + 22 << "\" y1=\"" << Fixed(ky) << "\" y2=\""
      << Fixed(ky) << "\" stroke=\"#555555\" stroke-width=\"2\"/>\n"
      << "    <text x=\"" << kx + 28 << "\" y=\"" << Fixed(ky + 4) << "\">certain</text>\n"
      << "    <line x1=\"" << kx << "\" x2=\"" << kx + 22 << "\" y1=\"" << Fixed(ky + 18)
      << "\" y2=\"" << Fixed(ky + 18)
      << "\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n"
      << "    <text x=\"" << kx + 28 << "\" y=\"" << Fixed(ky + 22) << "\">possible</text>\n"
      << "  </g>\n</svg>\n";
}

#ifdef TWINLINE_HAVE_RSVG

bool PngSupported() { return true; }

Status RenderPng(const std::string& svg, std::string* png) {
  GError* error = nullptr;
  RsvgHandle* handle = rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()),
                                                 svg.size(), &error);
  if (handle == nullptr) {
    std::string message = error != nullptr ? error->message : "unknown error";
    if (error != nullptr) g_error_free(error);
    return Status::IOError("cannot read the chart's SVG: " + message);
  }
  cairo_surface_t* surface = cairo_image_surface_create(
      CAIRO_FORMAT_ARGB32, static_cast<int>(kWidth * 2), static_cast<int>(kHeight * 2));
  cairo_t* cr = cairo_create(surface);
  RsvgRectangle viewport{0, 0, kWidth * 2, kHeight * 2};
  const gboolean ok = rsvg_handle_render_document(handle, cr, &viewport, &error);
  cairo_destroy(cr);
  g_object_unref(handle);
  Status s;
  if (!ok) {
    s = Status::IOError(std::string("cannot draw the chart: ") +
                        (error != nullptr ? error->message : "unknown error"));
    if (error != nullptr) g_error_free(error);
  } else {
    png->clear();
    const cairo_status_t written = cairo_surface_write_to_png_stream(
        surface,
        [](void* closure, const unsigned char* data, unsigned int length) {
          static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
          return CAIRO_STATUS_SUCCESS;
        },
        png);
    if (written != CAIRO_STATUS_SUCCESS) {
      s = Status::IOError(std::string("cannot encode the chart as PNG: ") +
                          cairo_status_to_string(written));
    }
  }
  cairo_surface_destroy(surface);
  return s;
}

#else

bool PngSupported() { return false; }

Status RenderPng(const std::string&, std::string*) {
  return Status::InvalidArgument(
      "this twinline was built without librsvg, so it cannot write PNG; ask for svg");
}

#endif

}  // namespace twinline::api
