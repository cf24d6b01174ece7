#include "projections/network.h"

#include <capnp/schema.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ostream>

#include "core/edtf.h"

namespace twinline {
namespace {

using Json = nlohmann::ordered_json;

// Union-find over node indexes, with path halving and union by size.
class DisjointSets {
 public:
  explicit DisjointSets(size_t n) : parent_(n), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), size_t{0});
  }
  size_t Find(size_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  void Union(size_t a, size_t b) {
    a = Find(a);
    b = Find(b);
    if (a == b) return;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
  }

 private:
  std::vector<size_t> parent_;
  std::vector<size_t> size_;
};

// Groups nodes into the components of `edges` (only those with status yes
// when `certain_only`), whose node indexes are `ends`; numbers them as the
// contract says and stores each node's number through `member`.
std::vector<std::vector<size_t>> Components(const std::vector<EdgeRow>& edges,
                                            const std::vector<std::pair<size_t, size_t>>& ends,
                                            bool certain_only, std::vector<NetworkNode>* nodes,
                                            size_t NetworkNode::*member) {
  DisjointSets sets(nodes->size());
  for (size_t e = 0; e < edges.size(); ++e) {
    if (certain_only && edges[e].status != Tri::kYes) continue;
    sets.Union(ends[e].first, ends[e].second);
  }
  std::map<size_t, std::vector<size_t>> by_root;
  for (size_t i = 0; i < nodes->size(); ++i) by_root[sets.Find(i)].push_back(i);
  std::vector<std::vector<size_t>> out;
  out.reserve(by_root.size());
  for (auto& [root, members] : by_root) out.push_back(std::move(members));
  // Members are ascending node indexes, i.e. by slug; so members[0] is the
  // smallest slug.
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    if (x.size() != y.size()) return x.size() > y.size();
    return x.front() < y.front();
  });
  for (size_t c = 0; c < out.size(); ++c) {
    for (size_t i : out[c]) (*nodes)[i].*member = c;
  }
  return out;
}

std::string EntityTypeName(schema::EntityType type) {
  auto enumerants = capnp::Schema::from<schema::EntityType>().getEnumerants();
  const auto index = static_cast<uint16_t>(type);
  if (index < enumerants.size()) return enumerants[index].getProto().getName();
  return std::to_string(index);
}

std::string FormatDouble(double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json RangeJson(const Range& r) { return Json{{"certain", r.certain}, {"possible", r.possible}}; }

Json ComponentsJson(const Network& net, const std::vector<std::vector<size_t>>& components) {
  Json out = Json::array();
  for (const auto& members : components) {
    Json list = Json::array();
    for (size_t i : members) list.push_back(net.nodes[i].slug);
    out.push_back(std::move(list));
  }
  return out;
}

}  // namespace

// Text for XML character data and attribute values. Characters XML 1.0 does
// not allow (C0 controls other than tab, newline, carriage return) are
// dropped; everything stored was valid UTF-8 on the way in.
std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

Status LoadEntityDirectory(const ReadTxn& txn, const std::set<std::string>& slugs,
                           EntityDirectory* out) {
  for (const std::string& slug : slugs) {
    uint64_t seq = 0;
    Status s = txn.FindEntity(slug, &seq);
    if (s.code() == Status::Code::kNotFound) continue;
    TWINLINE_RETURN_IF_ERROR(s);
    EntityInfo info;
    bool registration = false;
    TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
      if (!ev.getPayload().isEntityRegistered()) return;
      registration = true;
      auto reg = ev.getPayload().getEntityRegistered();
      info.name =
          reg.getNames().size() > 0 ? std::string(reg.getNames()[0].getText().cStr()) : slug;
      info.type = EntityTypeName(reg.getType());
      info.country = reg.getCountry();
      info.has_location = reg.getHasLocation();
      if (info.has_location) {
        info.lat = reg.getLocation().getLat();
        info.lon = reg.getLocation().getLon();
      }
    }));
    if (!registration) {
      return Status::Corruption("entity '" + slug + "' points at seq " + std::to_string(seq) +
                                ", which is not its registration");
    }
    (*out)[slug] = std::move(info);
  }
  return Status::Ok();
}

std::set<std::string> EdgeEndpoints(const Snapshot& snapshot) {
  std::set<std::string> slugs;
  for (const EdgeRow& e : snapshot.edges) {
    slugs.insert(e.a);
    slugs.insert(e.b);
  }
  return slugs;
}

size_t Network::Find(std::string_view slug) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), slug,
                             [](const NetworkNode& n, std::string_view s) { return n.slug < s; });
  return it != nodes.end() && it->slug == slug ? static_cast<size_t>(it - nodes.begin())
                                               : nodes.size();
}

Network BuildNetwork(const Snapshot& snapshot, const EntityDirectory& entities, size_t hub_limit) {
  Network net;
  net.as_of_day = snapshot.query.as_of_day;
  net.known_seq = snapshot.known_seq;
  net.rule = snapshot.query.rule;
  net.edges = snapshot.edges;

  for (const std::string& slug : EdgeEndpoints(snapshot)) {  // a std::set: sorted
    NetworkNode node;
    node.slug = slug;
    auto it = entities.find(slug);
    if (it != entities.end()) {
      node.info = it->second;
    } else {
      node.info.name = slug;
    }
    net.nodes.push_back(std::move(node));
  }

  std::vector<std::pair<size_t, size_t>> ends;
  ends.reserve(net.edges.size());
  for (const EdgeRow& e : net.edges) {
    const size_t a = net.Find(e.a), b = net.Find(e.b);
    ends.emplace_back(a, b);
    const bool certain = e.status == Tri::kYes;
    const bool possible = e.status != Tri::kNo;  // a Snapshot never holds kNo; be safe
    for (size_t i : a == b ? std::vector<size_t>{a} : std::vector<size_t>{a, b}) {
      net.nodes[i].degree.certain += certain ? 1 : 0;
      net.nodes[i].degree.possible += possible ? 1 : 0;
    }
  }

  net.components_certain = Components(net.edges, ends, /*certain_only=*/true, &net.nodes,
                                      &NetworkNode::component_certain);
  net.components_possible = Components(net.edges, ends, /*certain_only=*/false, &net.nodes,
                                       &NetworkNode::component_possible);

  std::vector<size_t> order(net.nodes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const Range& dx = net.nodes[x].degree;
    const Range& dy = net.nodes[y].degree;
    if (dx.certain != dy.certain) return dx.certain > dy.certain;
    return dx.possible > dy.possible;  // stable: ties stay in slug order
  });
  if (order.size() > hub_limit) order.resize(hub_limit);
  net.hubs = std::move(order);
  return net;
}

std::string_view TriName(Tri tri) {
  switch (tri) {
    case Tri::kNo:
      return "no";
    case Tri::kMaybe:
      return "maybe";
    case Tri::kYes:
      return "yes";
  }
  return "no";
}

std::string_view EdgeKindName(EdgeRow::Kind kind) {
  return kind == EdgeRow::Kind::kRoute ? "route" : "partnership";
}

std::string_view DateRuleName(DateRule rule) {
  switch (rule) {
    case DateRule::kRange:
      return "range";
    case DateRule::kEarliest:
      return "earliest";
    case DateRule::kLatest:
      return "latest";
  }
  return "range";
}

Json NetworkJson(const Network& net) {
  Json nodes = Json::array();
  for (const NetworkNode& n : net.nodes) {
    Json j{
        {"id", n.slug}, {"name", n.info.name}, {"type", n.info.type}, {"country", n.info.country}};
    if (n.info.has_location) {
      j["lat"] = n.info.lat;
      j["lon"] = n.info.lon;
    }
    j["degree"] = RangeJson(n.degree);
    j["component"] = Json{{"certain", n.component_certain}, {"possible", n.component_possible}};
    nodes.push_back(std::move(j));
  }
  Json edges = Json::array();
  for (const EdgeRow& e : net.edges) {
    Json events = Json::array();
    for (const EventMark& m : e.events) {
      events.push_back(Json{{"seq", m.seq}, {"occurred", TriName(m.occurred)}});
    }
    edges.push_back(Json{{"kind", EdgeKindName(e.kind)},
                         {"source", e.a},
                         {"target", e.b},
                         {"subkind", e.subkind},
                         {"status", TriName(e.status)},
                         {"events", std::move(events)}});
  }
  Json hubs = Json::array();
  for (size_t i : net.hubs) {
    hubs.push_back(Json{{"id", net.nodes[i].slug}, {"degree", RangeJson(net.nodes[i].degree)}});
  }
  return Json{{"as_of", FormatDay(net.as_of_day)},
              {"known_seq", net.known_seq},
              {"dates", DateRuleName(net.rule)},
              {"nodes", std::move(nodes)},
              {"edges", std::move(edges)},
              {"components", Json{{"certain", ComponentsJson(net, net.components_certain)},
                                  {"possible", ComponentsJson(net, net.components_possible)}}},
              {"hubs", std::move(hubs)}};
}

void WriteNetworkJson(const Network& net, std::ostream& out) {
  out << DumpJson(NetworkJson(net)) << '\n';
}

void WriteGraphMlHead(std::initializer_list<GraphMlKey> keys, bool domain_prefix,
                      std::ostream& out) {
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\"\n"
         "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
         "    xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns "
         "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n";
  for (const GraphMlKey& k : keys) {
    out << "  <key id=\"";
    if (domain_prefix) out << k.domain[0] << '_';
    out << k.name << "\" for=\"" << k.domain << "\" attr.name=\"" << k.name << "\" attr.type=\""
        << k.type << "\"/>\n";
  }
}

void WriteNetworkGraphMl(const Network& net, std::ostream& out) {
  WriteGraphMlHead({{"label", "node", "string"},
                    {"type", "node", "string"},
                    {"country", "node", "string"},
                    {"lat", "node", "double"},
                    {"lon", "node", "double"},
                    {"degree_certain", "node", "int"},
                    {"degree_possible", "node", "int"},
                    {"kind", "edge", "string"},
                    {"subkind", "edge", "string"},
                    {"status", "edge", "string"}},
                   /*domain_prefix=*/false, out);
  out << "  <graph id=\"twinline\" edgedefault=\"undirected\">\n"
      << "    <desc>twinline network as of " << FormatDay(net.as_of_day) << ", known at seq "
      << net.known_seq << ", dates " << DateRuleName(net.rule) << "</desc>\n";
  auto data = [&](const char* key, const std::string& value) {
    out << "      <data key=\"" << key << "\">" << XmlEscape(value) << "</data>\n";
  };
  for (const NetworkNode& n : net.nodes) {
    out << "    <node id=\"" << XmlEscape(n.slug) << "\">\n";
    data("label", n.info.name);
    if (!n.info.type.empty()) data("type", n.info.type);
    if (!n.info.country.empty()) data("country", n.info.country);
    if (n.info.has_location) {
      data("lat", FormatDouble(n.info.lat));
      data("lon", FormatDouble(n.info.lon));
    }
    data("degree_certain", std::to_string(n.degree.certain));
    data("degree_possible", std::to_string(n.degree.possible));
    out << "    </node>\n";
  }
  for (size_t i = 0; i < net.edges.size(); ++i) {
    const EdgeRow& e = net.edges[i];
    out << "    <edge id=\"e" << i << "\" source=\"" << XmlEscape(e.a) << "\" target=\""
        << XmlEscape(e.b) << "\">\n";
    data("kind", std::string(EdgeKindName(e.kind)));
    data("subkind", e.subkind);
    data("status", std::string(TriName(e.status)));
    out << "    </edge>\n";
  }
  out << "  </graph>\n</graphml>\n";
}

void WriteNetworkGeoJson(const Network& net, std::ostream& out) {
  auto point = [](const EntityInfo& info) { return Json::array({info.lon, info.lat}); };
  Json features = Json::array();
  for (const NetworkNode& n : net.nodes) {
    if (!n.info.has_location) continue;
    features.push_back(Json{{"type", "Feature"},
                            {"geometry", Json{{"type", "Point"}, {"coordinates", point(n.info)}}},
                            {"properties", Json{{"id", n.slug},
                                                {"name", n.info.name},
                                                {"type", n.info.type},
                                                {"country", n.info.country},
                                                {"degree_certain", n.degree.certain},
                                                {"degree_possible", n.degree.possible}}}});
  }
  for (const EdgeRow& e : net.edges) {
    const size_t a = net.Find(e.a), b = net.Find(e.b);
    if (a == net.nodes.size() || b == net.nodes.size()) continue;
    const EntityInfo& ia = net.nodes[a].info;
    const EntityInfo& ib = net.nodes[b].info;
    if (!ia.has_location || !ib.has_location) continue;
    features.push_back(
        Json{{"type", "Feature"},
             {"geometry",
              Json{{"type", "LineString"}, {"coordinates", Json::array({point(ia), point(ib)})}}},
             {"properties", Json{{"kind", EdgeKindName(e.kind)},
                                 {"subkind", e.subkind},
                                 {"status", TriName(e.status)},
                                 {"source", e.a},
                                 {"target", e.b}}}});
  }
  out << DumpJson(Json{{"type", "FeatureCollection"}, {"features", std::move(features)}}) << '\n';
}

}  // namespace twinline
