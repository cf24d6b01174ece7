// Network: degrees, components and hubs of a hand-built Snapshot, the three
// writers, and reading node names and coordinates from registrations.
#include "projections/network.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/edtf.h"
#include "tests/testing/test_util.h"

namespace twinline {
namespace {

EdgeRow Partnership(std::string a, std::string b, Tri status, std::string kind = "sister_city") {
  EdgeRow e;
  e.kind = EdgeRow::Kind::kPartnership;
  e.a = std::move(a);
  e.b = std::move(b);
  e.subkind = std::move(kind);
  e.status = status;
  e.events = {{7, status}};
  return e;
}

EdgeRow Route(std::string from, std::string to, Tri status, std::string mode = "rail") {
  EdgeRow e = Partnership(std::move(from), std::move(to), status, std::move(mode));
  e.kind = EdgeRow::Kind::kRoute;
  return e;
}

EntityInfo City(std::string name, double lat, double lon) {
  EntityInfo info;
  info.name = std::move(name);
  info.type = "city";
  info.country = "XX";
  info.has_location = true;
  info.lat = lat;
  info.lon = lon;
  return info;
}

// chengdu — montpellier (yes), chongqing — duesseldorf (yes),
// chongqing → europe rail (yes), huangnixiang — village (maybe),
// chengdu — duesseldorf (maybe): two certain components joined by a maybe.
Snapshot Sample() {
  Snapshot s;
  s.query.as_of_day = DaysFromCivil(2024, 12, 31);
  s.known_seq = 96;
  s.edges = {
      Partnership("chengdu", "duesseldorf", Tri::kMaybe),
      Partnership("chengdu", "montpellier", Tri::kYes),
      Partnership("chongqing", "duesseldorf", Tri::kYes),
      Partnership("huangnixiang", "village", Tri::kMaybe, "friendship_village"),
      Route("chongqing", "europe", Tri::kYes),
  };
  return s;
}

EntityDirectory SampleDirectory() {
  EntityDirectory d;
  d["chengdu"] = City("Chengdu", 30.66, 104.07);
  d["chongqing"] = City("Chongqing", 29.56, 106.55);
  d["duesseldorf"] = City("Düsseldorf & <Co>", 51.23, 6.77);
  d["montpellier"] = City("Montpellier", 43.61, 3.88);
  d["europe"].name = "Europe";  // no location
  d["europe"].type = "continent";
  return d;  // huangnixiang, village: not registered here
}

const NetworkNode& Node(const Network& net, std::string_view slug) {
  const size_t i = net.Find(slug);
  EXPECT_LT(i, net.nodes.size()) << slug;
  return net.nodes.at(i);
}

std::string Write(void (*writer)(const Network&, std::ostream&), const Network& net) {
  std::ostringstream out;
  writer(net, out);
  return out.str();
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(NetworkTest, NodesAreEdgeEndpointsSortedBySlug) {
  const Network net = BuildNetwork(Sample(), SampleDirectory());
  std::vector<std::string> slugs;
  for (const NetworkNode& n : net.nodes) slugs.push_back(n.slug);
  EXPECT_EQ(slugs, (std::vector<std::string>{"chengdu", "chongqing", "duesseldorf", "europe",
                                             "huangnixiang", "montpellier", "village"}));
  EXPECT_EQ(net.edges.size(), 5u);
  EXPECT_EQ(net.Find("nowhere"), net.nodes.size());
}

TEST(NetworkTest, DegreeCountsCertainAndPossibleEdges) {
  const Network net = BuildNetwork(Sample(), SampleDirectory());
  EXPECT_EQ(Node(net, "chengdu").degree, (Range{1, 2}));
  EXPECT_EQ(Node(net, "chongqing").degree, (Range{2, 2}));  // a partnership and a route
  EXPECT_EQ(Node(net, "duesseldorf").degree, (Range{1, 2}));
  EXPECT_EQ(Node(net, "village").degree, (Range{0, 1}));
}

TEST(NetworkTest, ParallelEdgesBetweenOnePairBothCount) {
  Snapshot s;
  s.edges = {Partnership("a", "b", Tri::kYes), Partnership("a", "b", Tri::kYes, "friendship_city"),
             Route("b", "a", Tri::kMaybe)};
  const Network net = BuildNetwork(s, {});
  EXPECT_EQ(Node(net, "a").degree, (Range{2, 3}));
  EXPECT_EQ(net.components_certain.size(), 1u);
}

TEST(NetworkTest, UncertainTiesJoinComponentsOnlyInThePossibleGraph) {
  const Network net = BuildNetwork(Sample(), SampleDirectory());
  // Certain: {chongqing, duesseldorf, europe}, {chengdu, montpellier},
  // {huangnixiang}, {village}.
  ASSERT_EQ(net.components_certain.size(), 4u);
  EXPECT_EQ(net.components_certain[0].size(), 3u);
  EXPECT_EQ(net.components_certain[1].size(), 2u);
  EXPECT_NE(Node(net, "chengdu").component_certain, Node(net, "duesseldorf").component_certain);
  EXPECT_NE(Node(net, "huangnixiang").component_certain, Node(net, "village").component_certain);
  // Possible: the maybe ties join chengdu's pair to chongqing's triple.
  ASSERT_EQ(net.components_possible.size(), 2u);
  EXPECT_EQ(net.components_possible[0].size(), 5u);
  EXPECT_EQ(Node(net, "chengdu").component_possible, 0u);
  EXPECT_EQ(Node(net, "village").component_possible, 1u);
}

TEST(NetworkTest, EqualSizedComponentsAreNumberedBySmallestSlug) {
  Snapshot s;
  s.edges = {Partnership("x", "y", Tri::kYes), Partnership("a", "m", Tri::kYes)};
  const Network net = BuildNetwork(s, {});
  ASSERT_EQ(net.components_certain.size(), 2u);
  EXPECT_EQ(net.nodes[net.components_certain[0][0]].slug, "a");
  EXPECT_EQ(Node(net, "x").component_certain, 1u);
}

TEST(NetworkTest, HubsRankCertainDegreeBeforePossibleAndRespectTheLimit) {
  const Network net = BuildNetwork(Sample(), SampleDirectory(), /*hub_limit=*/3);
  ASSERT_EQ(net.hubs.size(), 3u);
  EXPECT_EQ(net.nodes[net.hubs[0]].slug, "chongqing");    // 2–2
  EXPECT_EQ(net.nodes[net.hubs[1]].slug, "chengdu");      // 1–2, before duesseldorf by slug
  EXPECT_EQ(net.nodes[net.hubs[2]].slug, "duesseldorf");  // 1–2
}

TEST(NetworkTest, EmptySnapshotGivesEmptyNetworkAndValidOutputs) {
  const Network net = BuildNetwork(Snapshot{}, {});
  EXPECT_TRUE(net.nodes.empty());
  EXPECT_TRUE(net.components_possible.empty());
  const auto geo = nlohmann::json::parse(Write(WriteNetworkGeoJson, net));
  EXPECT_EQ(geo["type"], "FeatureCollection");
  EXPECT_TRUE(geo["features"].empty());
  EXPECT_EQ(Count(Write(WriteNetworkGraphMl, net), "<node "), 0u);
}

TEST(NetworkTest, JsonListsNodesEdgesComponentsAndHubs) {
  const Network net = BuildNetwork(Sample(), SampleDirectory());
  const auto j = nlohmann::json::parse(Write(WriteNetworkJson, net));
  EXPECT_EQ(j["as_of"], "2024-12-31");
  EXPECT_EQ(j["known_seq"], 96);
  EXPECT_EQ(j["dates"], "range");
  ASSERT_EQ(j["nodes"].size(), 7u);
  EXPECT_EQ(j["nodes"][0]["id"], "chengdu");
  EXPECT_EQ(j["nodes"][0]["degree"]["possible"], 2);
  EXPECT_DOUBLE_EQ(j["nodes"][0]["lat"].get<double>(), 30.66);
  EXPECT_FALSE(j["nodes"][3].contains("lat")) << j["nodes"][3];  // europe
  ASSERT_EQ(j["edges"].size(), 5u);
  EXPECT_EQ(j["edges"][0]["status"], "maybe");
  EXPECT_EQ(j["edges"][4]["kind"], "route");
  EXPECT_EQ(j["edges"][4]["events"][0]["seq"], 7);
  EXPECT_EQ(j["components"]["certain"].size(), 4u);
  EXPECT_EQ(j["components"]["possible"][1], (nlohmann::json{"huangnixiang", "village"}));
  EXPECT_EQ(j["hubs"][0]["id"], "chongqing");
}

TEST(NetworkTest, GraphMlDeclaresKeysAndEscapesNames) {
  const std::string xml = Write(WriteNetworkGraphMl, BuildNetwork(Sample(), SampleDirectory()));
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  for (const char* key : {"label", "type", "country", "lat", "lon", "degree_certain",
                          "degree_possible", "kind", "subkind", "status"}) {
    EXPECT_NE(xml.find(std::string("<key id=\"") + key + "\""), std::string::npos) << key;
  }
  EXPECT_NE(xml.find("edgedefault=\"undirected\""), std::string::npos);
  EXPECT_EQ(Count(xml, "<node "), 7u);
  EXPECT_EQ(Count(xml, "<edge "), 5u);
  EXPECT_NE(xml.find("<data key=\"label\">Düsseldorf &amp; &lt;Co&gt;</data>"), std::string::npos);
  EXPECT_NE(xml.find("source=\"chongqing\" target=\"europe\""), std::string::npos);
  EXPECT_EQ(xml.find("<Co>"), std::string::npos);
  // Every element opened is closed.
  EXPECT_EQ(Count(xml, "<data "), Count(xml, "</data>"));
  EXPECT_EQ(Count(xml, "<node "), Count(xml, "</node>"));
  EXPECT_EQ(Count(xml, "<edge "), Count(xml, "</edge>"));
}

TEST(NetworkTest, GraphMlDropsCharactersXmlForbids) {
  EntityDirectory d;
  d["a"].name = std::string("bell\x07") + "tab\tok";
  Snapshot s;
  s.edges = {Partnership("a", "b", Tri::kYes)};
  const std::string xml = Write(WriteNetworkGraphMl, BuildNetwork(s, d));
  EXPECT_NE(xml.find("<data key=\"label\">belltab\tok</data>"), std::string::npos) << xml;
}

TEST(NetworkTest, GeoJsonHasPointsForLocatedNodesAndLinesForLocatedEdges) {
  const auto j =
      nlohmann::json::parse(Write(WriteNetworkGeoJson, BuildNetwork(Sample(), SampleDirectory())));
  EXPECT_EQ(j["type"], "FeatureCollection");
  size_t points = 0, lines = 0;
  for (const auto& f : j["features"]) {
    EXPECT_EQ(f["type"], "Feature");
    if (f["geometry"]["type"] == "Point") {
      ++points;
      if (f["properties"]["id"] == "chengdu") {
        EXPECT_DOUBLE_EQ(f["geometry"]["coordinates"][0].get<double>(), 104.07);  // lon first
        EXPECT_DOUBLE_EQ(f["geometry"]["coordinates"][1].get<double>(), 30.66);
      }
    } else {
      ASSERT_EQ(f["geometry"]["type"], "LineString");
      EXPECT_EQ(f["geometry"]["coordinates"].size(), 2u);
      EXPECT_TRUE(f["properties"].contains("status"));
      EXPECT_TRUE(f["properties"].contains("kind"));
      ++lines;
    }
  }
  EXPECT_EQ(points, 4u);  // chengdu, chongqing, duesseldorf, montpellier
  EXPECT_EQ(lines, 3u);   // the three city—city partnerships; europe has no location
}

TEST(NetworkTest, WritersAreDeterministic) {
  const Network a = BuildNetwork(Sample(), SampleDirectory());
  const Network b = BuildNetwork(Sample(), SampleDirectory());
  EXPECT_EQ(Write(WriteNetworkJson, a), Write(WriteNetworkJson, b));
  EXPECT_EQ(Write(WriteNetworkGraphMl, a), Write(WriteNetworkGraphMl, b));
  EXPECT_EQ(Write(WriteNetworkGeoJson, a), Write(WriteNetworkGeoJson, b));
}

TEST(NetworkTest, DirectoryIsReadFromRegistrations) {
  test::TempDir dir("twinline-network");
  std::unique_ptr<EventLog> log;
  OpenOptions options;
  options.create_if_missing = true;
  options.map_size = size_t{64} << 20;
  ASSERT_TRUE(EventLog::Open(dir / "db", options, &log).ok());

  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto ev = message->initRoot<schema::Event>();
  ev.initValidTime().setEdtf("2024");
  auto source = ev.initSources(1)[0];
  source.setTitle("T");
  source.setPublisher("P");
  source.setPublished("2024");
  source.setLanguage("de");
  auto reg = ev.getPayload().initEntityRegistered();
  reg.setEntity("duesseldorf");
  reg.setType(schema::EntityType::CITY);
  reg.setCountry("DE");
  reg.setHasLocation(true);
  reg.getLocation().setLat(51.23);
  reg.getLocation().setLon(6.77);
  auto names = reg.initNames(2);
  names[0].setText("Düsseldorf");
  names[0].setLang("de");
  names[1].setText("Dusseldorf");
  names[1].setLang("en");
  std::vector<PendingEvent> batch;
  batch.push_back(std::move(message));
  AppendResult result;
  ASSERT_TRUE(log->Append(batch, {}, &result).ok());

  std::unique_ptr<ReadTxn> txn;
  ASSERT_TRUE(log->BeginRead(&txn).ok());
  EntityDirectory d;
  ASSERT_TRUE(LoadEntityDirectory(*txn, {"duesseldorf", "unregistered"}, &d).ok());
  ASSERT_EQ(d.size(), 1u);
  const EntityInfo& info = d.at("duesseldorf");
  EXPECT_EQ(info.name, "Düsseldorf");
  EXPECT_EQ(info.type, "city");
  EXPECT_EQ(info.country, "DE");
  EXPECT_TRUE(info.has_location);
  EXPECT_DOUBLE_EQ(info.lon, 6.77);
}

}  // namespace
}  // namespace twinline
