#include "tools/api/network_export.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "core/edtf.h"
#include "tools/api/json_views.h"
#include "tools/api/text_layout.h"

namespace twinline::api {
namespace {

using Json = nlohmann::ordered_json;

std::string Number(double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> SourceLines(const WindowEdge& e) {
  std::vector<std::string> lines;
  for (const SourceRef& s : e.sources) lines.push_back(DescribeSource(s));
  return lines;
}

bool Mutual(const WindowEdge& e) { return e.history.kind == EdgeRow::Kind::kPartnership; }

// Merges overlapping or adjacent [first, last] day ranges.
std::vector<std::pair<int64_t, int64_t>> Merge(std::vector<std::pair<int64_t, int64_t>> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& r : ranges) {
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::string Describe(const NetworkWindow& w) {
  return "from " + FormatDay(w.from) + " to " + FormatDay(w.to) + ", known at seq " +
         std::to_string(w.known_seq) + ", dates " + std::string(DateRuleName(w.rule));
}

}  // namespace

std::string EdgeId(EdgeRow::Kind kind, const std::string& a, const std::string& b,
                   const std::string& subkind) {
  return std::string(EdgeKindName(kind)) + ":" + a + ":" + b + ":" + subkind;
}

Status BuildNetworkWindow(const ReadTxn& txn, const Query& query, int64_t from, int64_t to,
                          const std::string& entity, const EdgeFilter& filter, NetworkWindow* out) {
  *out = NetworkWindow();
  out->from = from;
  out->to = to;
  out->known_seq = std::min(query.known_seq, txn.LastSeq());
  out->rule = query.rule;
  std::vector<EdgeHistory> histories;
  TWINLINE_RETURN_IF_ERROR(EdgeHistories(txn, query, from, to, &histories));
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> spells;
  for (EdgeHistory& h : histories) {
    if (!entity.empty() && h.a != entity && h.b != entity) continue;
    if (!filter.Keeps(h.kind)) continue;
    WindowEdge e;
    e.id = EdgeId(h.kind, h.a, h.b, h.subkind);
    for (uint64_t seq : h.seqs) {
      TWINLINE_RETURN_IF_ERROR(EventIdAt(txn, seq, &e.event_ids.emplace_back()));
      TWINLINE_RETURN_IF_ERROR(SourcesBehind(txn, seq, out->known_seq, &e.sources));
    }
    for (const StatusSpan& s : h.spans) {
      spells[h.a].emplace_back(s.first, s.last);
      spells[h.b].emplace_back(s.first, s.last);
    }
    e.history = std::move(h);
    out->edges.push_back(std::move(e));
  }
  std::set<std::string> slugs;
  for (const auto& [slug, ranges] : spells) slugs.insert(slug);
  EntityDirectory directory;
  TWINLINE_RETURN_IF_ERROR(LoadEntityDirectory(txn, slugs, &directory));
  for (auto& [slug, ranges] : spells) {
    WindowNode n;
    n.slug = slug;
    auto it = directory.find(slug);
    if (it != directory.end()) {
      n.info = it->second;
    } else {
      n.info.name = slug;
    }
    n.spells = Merge(std::move(ranges));
    out->nodes.push_back(std::move(n));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// GEXF 1.3 (gexf.net): a dynamic graph with date intervals.

void WriteWindowGexf(const NetworkWindow& w, std::ostream& out) {
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<gexf xmlns=\"http://gexf.net/1.3\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
         "xsi:schemaLocation=\"http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd\" "
         "version=\"1.3\">\n"
      << "  <meta>\n    <creator>twinline</creator>\n    <description>twinline network "
      << Describe(w) << "</description>\n  </meta>\n"
      << "  <graph mode=\"dynamic\" defaultedgetype=\"directed\" timeformat=\"date\" "
         "timerepresentation=\"interval\" start=\""
      << FormatDay(w.from) << "\" end=\"" << FormatDay(w.to) << "\">\n";
  out << "    <attributes class=\"node\" mode=\"static\">\n"
         "      <attribute id=\"type\" title=\"type\" type=\"string\"/>\n"
         "      <attribute id=\"country\" title=\"country\" type=\"string\"/>\n"
         "      <attribute id=\"lat\" title=\"lat\" type=\"double\"/>\n"
         "      <attribute id=\"lon\" title=\"lon\" type=\"double\"/>\n"
         "    </attributes>\n"
         "    <attributes class=\"edge\" mode=\"static\">\n"
         "      <attribute id=\"kind\" title=\"kind\" type=\"string\"/>\n"
         "      <attribute id=\"subkind\" title=\"subkind\" type=\"string\"/>\n"
         "      <attribute id=\"events\" title=\"events\" type=\"string\"/>\n"
         "      <attribute id=\"sources\" title=\"sources\" type=\"string\"/>\n"
         "    </attributes>\n"
         "    <attributes class=\"edge\" mode=\"dynamic\">\n"
         "      <attribute id=\"status\" title=\"status\" type=\"string\"/>\n"
         "    </attributes>\n";
  auto attvalue = [&](const char* key, const std::string& value) {
    out << "          <attvalue for=\"" << key << "\" value=\"" << XmlEscape(value) << "\"/>\n";
  };
  auto spell = [&](int64_t first, int64_t last) {
    out << "          <spell start=\"" << FormatDay(first) << "\" end=\"" << FormatDay(last)
        << "\"/>\n";
  };
  out << "    <nodes>\n";
  for (const WindowNode& n : w.nodes) {
    out << "      <node id=\"" << XmlEscape(n.slug) << "\" label=\"" << XmlEscape(n.info.name)
        << "\">\n        <attvalues>\n";
    if (!n.info.type.empty()) attvalue("type", n.info.type);
    if (!n.info.country.empty()) attvalue("country", n.info.country);
    if (n.info.has_location) {
      attvalue("lat", Number(n.info.lat));
      attvalue("lon", Number(n.info.lon));
    }
    out << "        </attvalues>\n        <spells>\n";
    for (const auto& [first, last] : n.spells) spell(first, last);
    out << "        </spells>\n      </node>\n";
  }
  out << "    </nodes>\n    <edges>\n";
  for (const WindowEdge& e : w.edges) {
    const EdgeHistory& h = e.history;
    out << "      <edge id=\"" << XmlEscape(e.id) << "\" source=\"" << XmlEscape(h.a)
        << "\" target=\"" << XmlEscape(h.b) << "\" type=\"" << (Mutual(e) ? "mutual" : "directed")
        << "\" label=\"" << XmlEscape(h.subkind) << "\">\n        <attvalues>\n";
    attvalue("kind", std::string(EdgeKindName(h.kind)));
    attvalue("subkind", h.subkind);
    attvalue("events", Join(e.event_ids, " "));
    attvalue("sources", Join(SourceLines(e), " | "));
    for (const StatusSpan& s : h.spans) {
      out << "          <attvalue for=\"status\" value=\"" << TriName(s.status) << "\" start=\""
          << FormatDay(s.first) << "\" end=\"" << FormatDay(s.last) << "\"/>\n";
    }
    out << "        </attvalues>\n        <spells>\n";
    std::vector<std::pair<int64_t, int64_t>> ranges;
    for (const StatusSpan& s : h.spans) ranges.emplace_back(s.first, s.last);
    for (const auto& [first, last] : Merge(std::move(ranges))) spell(first, last);
    out << "        </spells>\n      </edge>\n";
  }
  out << "    </edges>\n  </graph>\n</gexf>\n";
}

// ---------------------------------------------------------------------------
// GraphML: one edge element per span.

void WriteWindowGraphMl(const NetworkWindow& w, std::ostream& out) {
  WriteGraphMlHead(
      {{"label", "node", "string"},   {"type", "node", "string"},     {"country", "node", "string"},
       {"lat", "node", "double"},     {"lon", "node", "double"},      {"start", "node", "string"},
       {"end", "node", "string"},     {"spells", "node", "string"},   {"edge", "edge", "string"},
       {"kind", "edge", "string"},    {"subkind", "edge", "string"},  {"mutual", "edge", "boolean"},
       {"status", "edge", "string"},  {"start", "edge", "string"},    {"end", "edge", "string"},
       {"events", "edge", "string"},  {"sources", "edge", "string"}},
      /*domain_prefix=*/true, out);
  out << "  <graph id=\"twinline\" edgedefault=\"directed\">\n"
      << "    <desc>twinline network " << Describe(w) << "</desc>\n";
  auto data = [&](char domain, const char* key, const std::string& value) {
    out << "      <data key=\"" << domain << '_' << key << "\">" << XmlEscape(value) << "</data>\n";
  };
  for (const WindowNode& n : w.nodes) {
    out << "    <node id=\"" << XmlEscape(n.slug) << "\">\n";
    data('n', "label", n.info.name);
    if (!n.info.type.empty()) data('n', "type", n.info.type);
    if (!n.info.country.empty()) data('n', "country", n.info.country);
    if (n.info.has_location) {
      data('n', "lat", Number(n.info.lat));
      data('n', "lon", Number(n.info.lon));
    }
    std::vector<std::string> spells;
    for (const auto& [first, last] : n.spells) {
      spells.push_back("[" + FormatDay(first) + "," + FormatDay(last) + "]");
    }
    data('n', "start", FormatDay(n.spells.front().first));
    data('n', "end", FormatDay(n.spells.back().second));
    data('n', "spells", "<" + Join(spells, ";") + ">");
    out << "    </node>\n";
  }
  for (const WindowEdge& e : w.edges) {
    const EdgeHistory& h = e.history;
    for (size_t i = 0; i < h.spans.size(); ++i) {
      const StatusSpan& s = h.spans[i];
      out << "    <edge id=\"" << XmlEscape(e.id) << '#' << i + 1 << "\" source=\""
          << XmlEscape(h.a) << "\" target=\"" << XmlEscape(h.b) << "\">\n";
      data('e', "edge", e.id);
      data('e', "kind", std::string(EdgeKindName(h.kind)));
      data('e', "subkind", h.subkind);
      data('e', "mutual", Mutual(e) ? "true" : "false");
      data('e', "status", std::string(TriName(s.status)));
      data('e', "start", FormatDay(s.first));
      data('e', "end", FormatDay(s.last));
      data('e', "events", Join(e.event_ids, " "));
      data('e', "sources", Join(SourceLines(e), " | "));
      out << "    </edge>\n";
    }
  }
  out << "  </graph>\n</graphml>\n";
}

// ---------------------------------------------------------------------------
// GeoJSON (RFC 7946): one layer, one geometry type.

void WriteWindowGeoJson(const NetworkWindow& w, Layer layer, std::ostream& out,
                        std::vector<std::string>* omitted) {
  auto point = [](const EntityInfo& info) { return Json::array({info.lon, info.lat}); };
  Json features = Json::array();
  size_t left_out = 0;
  if (layer == Layer::kNodes) {
    for (const WindowNode& n : w.nodes) {
      if (!n.info.has_location) {
        ++left_out;
        continue;
      }
      for (const auto& [first, last] : n.spells) {
        features.push_back(Json{
            {"type", "Feature"},
            {"geometry", Json{{"type", "Point"}, {"coordinates", point(n.info)}}},
            {"properties", Json{{"id", n.slug},
                                {"name", n.info.name},
                                {"type", n.info.type},
                                {"country", n.info.country},
                                {"start", FormatDay(first)},
                                {"end", FormatDay(last)}}}});
      }
    }
    if (left_out > 0 && omitted != nullptr) {
      omitted->push_back(std::to_string(left_out) + (left_out == 1 ? " node" : " nodes") +
                         " without coordinates left out of the GeoJSON");
    }
  } else {
    std::map<std::string, const WindowNode*> nodes;
    for (const WindowNode& n : w.nodes) nodes[n.slug] = &n;
    for (const WindowEdge& e : w.edges) {
      const EdgeHistory& h = e.history;
      const EntityInfo& ia = nodes.at(h.a)->info;
      const EntityInfo& ib = nodes.at(h.b)->info;
      if (!ia.has_location || !ib.has_location) {
        ++left_out;
        continue;
      }
      Json sources = Json::array();
      for (const SourceRef& s : e.sources) sources.push_back(SourceJson(s));
      for (const StatusSpan& s : h.spans) {
        features.push_back(
            Json{{"type", "Feature"},
                 {"geometry", Json{{"type", "LineString"},
                                   {"coordinates", Json::array({point(ia), point(ib)})}}},
                 {"properties", Json{{"id", e.id},
                                     {"kind", EdgeKindName(h.kind)},
                                     {"subkind", h.subkind},
                                     {"source", h.a},
                                     {"target", h.b},
                                     {"mutual", Mutual(e)},
                                     {"status", TriName(s.status)},
                                     {"start", FormatDay(s.first)},
                                     {"end", FormatDay(s.last)},
                                     {"events", e.event_ids},
                                     {"sources", sources}}}});
      }
    }
    if (left_out > 0 && omitted != nullptr) {
      omitted->push_back(std::to_string(left_out) + (left_out == 1 ? " edge" : " edges") +
                         " with an end without coordinates left out of the GeoJSON");
    }
  }
  out << DumpJson(Json{{"type", "FeatureCollection"},
                       {"name", layer == Layer::kNodes ? "twinline-nodes" : "twinline-edges"},
                       {"features", std::move(features)}})
      << '\n';
}

// ---------------------------------------------------------------------------
// CSV: a node list or an edge list.

void WriteWindowCsv(const NetworkWindow& w, Layer layer, std::ostream& out) {
  if (layer == Layer::kNodes) {
    // `spells` in Gephi's interval-set form: <[start,end];[start,end]>.
    out << "id,label,type,country,lat,lon,start,end,spells\n";
    for (const WindowNode& n : w.nodes) {
      std::vector<std::string> spells;
      for (const auto& [first, last] : n.spells) {
        spells.push_back("[" + FormatDay(first) + "," + FormatDay(last) + "]");
      }
      out << CsvField(n.slug) << ',' << CsvField(n.info.name) << ',' << n.info.type << ','
          << n.info.country << ',' << (n.info.has_location ? Number(n.info.lat) : "") << ','
          << (n.info.has_location ? Number(n.info.lon) : "") << ','
          << FormatDay(n.spells.front().first) << ',' << FormatDay(n.spells.back().second) << ','
          << CsvField("<" + Join(spells, ";") + ">") << '\n';
    }
    return;
  }
  out << "id,source,target,kind,subkind,mutual,status,start,end,events,sources\n";
  for (const WindowEdge& e : w.edges) {
    const EdgeHistory& h = e.history;
    const std::string sources = CsvField(Join(SourceLines(e), " | "));
    for (const StatusSpan& s : h.spans) {
      out << CsvField(e.id) << ',' << CsvField(h.a) << ',' << CsvField(h.b) << ','
          << EdgeKindName(h.kind) << ',' << h.subkind << ',' << (Mutual(e) ? "true" : "false")
          << ',' << TriName(s.status) << ',' << FormatDay(s.first) << ',' << FormatDay(s.last)
          << ',' << Join(e.event_ids, " ") << ',' << sources << '\n';
    }
  }
}

// ---------------------------------------------------------------------------
// JSON: the whole window.

void WriteWindowJson(const NetworkWindow& w, std::ostream& out) {
  Json nodes = Json::array();
  for (const WindowNode& n : w.nodes) {
    Json j{{"id", n.slug},
           {"name", n.info.name},
           {"type", n.info.type},
           {"country", n.info.country}};
    if (n.info.has_location) {
      j["lat"] = n.info.lat;
      j["lon"] = n.info.lon;
    }
    Json spells = Json::array();
    for (const auto& [first, last] : n.spells) {
      spells.push_back(Json{{"start", FormatDay(first)}, {"end", FormatDay(last)}});
    }
    j["spells"] = std::move(spells);
    nodes.push_back(std::move(j));
  }
  Json edges = Json::array();
  for (const WindowEdge& e : w.edges) {
    const EdgeHistory& h = e.history;
    Json spans = Json::array();
    for (const StatusSpan& s : h.spans) {
      spans.push_back(Json{
          {"start", FormatDay(s.first)}, {"end", FormatDay(s.last)}, {"status", TriName(s.status)}});
    }
    Json sources = Json::array();
    for (const SourceRef& s : e.sources) sources.push_back(SourceJson(s));
    edges.push_back(Json{{"id", e.id},
                         {"kind", EdgeKindName(h.kind)},
                         {"subkind", h.subkind},
                         {"source", h.a},
                         {"target", h.b},
                         {"mutual", Mutual(e)},
                         {"spans", std::move(spans)},
                         {"events", e.event_ids},
                         {"sources", std::move(sources)}});
  }
  out << DumpJson(Json{{"from", FormatDay(w.from)},
                       {"to", FormatDay(w.to)},
                       {"known_seq", w.known_seq},
                       {"dates", DateRuleName(w.rule)},
                       {"nodes", std::move(nodes)},
                       {"edges", std::move(edges)}})
      << '\n';
}

}  // namespace twinline::api
