#include "tools/api/countries_view.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "projections/countries.h"
#include "tools/api/json_views.h"
#include "tools/api/projection_request.h"
#include "tools/api/text_layout.h"

namespace twinline::api {
namespace {

using Json = nlohmann::ordered_json;

Json RangeJson(const Range& r) { return Json{{"certain", r.certain}, {"possible", r.possible}}; }
Json CountryJson(const std::string& code) { return code.empty() ? Json(nullptr) : Json(code); }
std::string CountryText(const std::string& code) { return code.empty() ? "-" : code; }

void PrintJson(const Snapshot& described, const CountryNetwork& net, size_t shown,
               std::ostream& out) {
  Json j = DescribeSnapshotJson(described);
  j["partnerships"] = RangeJson(net.partnerships);
  j["routes"] = RangeJson(net.routes);
  j["entities"] = RangeJson(net.entities);
  Json countries = Json::array();
  for (const CountryCounts& c : net.countries) {
    countries.push_back(Json{{"country", CountryJson(c.country)},
                             {"partnerships", RangeJson(c.partnerships)},
                             {"routes", RangeJson(c.routes)},
                             {"entities", RangeJson(c.entities)}});
  }
  j["countries"] = std::move(countries);
  j["links_total"] = net.links.size();
  Json links = Json::array();
  for (size_t i = 0; i < shown; ++i) {
    const CountryLink& l = net.links[i];
    links.push_back(Json{{"a", CountryJson(l.a)},
                         {"b", CountryJson(l.b)},
                         {"partnerships", RangeJson(l.partnerships)},
                         {"routes", RangeJson(l.routes)}});
  }
  j["links"] = std::move(links);
  out << DumpJson(j) << '\n';
}

void Cells(const Range& r, std::ostream& out) { out << ',' << r.certain << ',' << r.possible; }

void PrintCsv(const CountryNetwork& net, size_t shown, bool links, std::ostream& out) {
  if (!links) {
    out << "country,partnerships_certain,partnerships_possible,routes_certain,routes_possible,"
           "entities_certain,entities_possible\n";
    for (const CountryCounts& c : net.countries) {
      out << c.country;
      Cells(c.partnerships, out);
      Cells(c.routes, out);
      Cells(c.entities, out);
      out << '\n';
    }
    return;
  }
  out << "a,b,partnerships_certain,partnerships_possible,routes_certain,routes_possible\n";
  for (size_t i = 0; i < shown; ++i) {
    const CountryLink& l = net.links[i];
    out << l.a << ',' << l.b;
    Cells(l.partnerships, out);
    Cells(l.routes, out);
    out << '\n';
  }
}

void PrintTable(const Snapshot& described, const CountryNetwork& net, size_t shown,
                std::ostream& out) {
  out << DescribeSnapshot(described) << '\n';
  PrintFields(out, {{"partnerships", FormatRange(net.partnerships)},
                    {"routes", FormatRange(net.routes)},
                    {"entities", FormatRange(net.entities) + " with a partnership or route"},
                    {"countries", std::to_string(net.countries.size())},
                    {"links", std::to_string(net.links.size()) + " country pairs"}});
  if (net.countries.empty()) return;
  out << '\n';
  Table countries({"COUNTRY", "PARTNERSHIPS", "ROUTES", "ENTITIES"});
  for (size_t c = 1; c < 4; ++c) countries.AlignRight(c);
  for (const CountryCounts& c : net.countries) {
    countries.AddRow({CountryText(c.country), FormatRange(c.partnerships), FormatRange(c.routes),
                      FormatRange(c.entities)});
  }
  countries.Print(out);
  out << "\nlinks" << (shown < net.links.size() ? ", the " + std::to_string(shown) +
                                                       " strongest of " +
                                                       std::to_string(net.links.size())
                                                 : std::string())
      << ":\n";
  Table links({"A", "B", "PARTNERSHIPS", "ROUTES"});
  links.AlignRight(2);
  links.AlignRight(3);
  for (size_t i = 0; i < shown; ++i) {
    const CountryLink& l = net.links[i];
    links.AddRow({CountryText(l.a), CountryText(l.b), FormatRange(l.partnerships),
                  FormatRange(l.routes)});
  }
  links.Print(out);
}

}  // namespace

Status PrintCountries(const ReadTxn& txn, const Query& query, size_t top,
                      const std::string& format, const std::string& layer, std::ostream& out,
                      ReplayStats* stats) {
  CountryNetwork net;
  TWINLINE_RETURN_IF_ERROR(ReplayCountries(txn, query, &net, stats));
  const size_t shown = top == 0 ? net.links.size() : std::min(top, net.links.size());
  Snapshot described;  // the heading's as-of, known-at and rule
  described.query = query;
  described.known_seq = net.known_seq;
  if (format == "json") {
    PrintJson(described, net, shown, out);
  } else if (format == "csv") {
    PrintCsv(net, shown, layer == "edges", out);
  } else {
    PrintTable(described, net, shown, out);
  }
  return Status::Ok();
}

}  // namespace twinline::api
