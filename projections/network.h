// Network: the graph of partnerships and routes in a projection Snapshot,
// with what one asks of a network (degrees, connected components, hubs) and
// three writers: JSON, GraphML (Gephi, networkx, yEd) and GeoJSON (maps).
//
// Contract:
//  * Nodes are the endpoints of the Snapshot's edges, one per slug, sorted by
//    slug. An entity without any (possibly) active edge is not a node.
//  * The graph is an undirected multigraph: a partnership a—b and a route
//    from→to both connect their two ends, and two edges between the same
//    pair (a sister-city tie and a rail route) are two edges. Writers keep a
//    route's direction as source→target; degrees and components ignore it.
//  * Honest uncertainty: every edge has status yes or maybe (EdgeRow). A
//    node's degree is a Range: certain = its edges with status yes,
//    possible = yes + maybe (a self-loop counts once). Components are
//    computed twice, over the certain edges and over the possible edges, so
//    a node whose ties are all uncertain is alone in the certain graph.
//  * Components are numbered from 0 by size (largest first), ties by their
//    smallest slug; members are sorted by slug. Hubs are the nodes with the
//    highest degree, certain first, then possible, then by slug.
//  * Deterministic: the same Snapshot and directory give the same bytes from
//    every writer. Writers never fail on valid input: names are escaped for
//    XML and JSON, characters XML 1.0 forbids are dropped.
//  * Pure: BuildNetwork and the writers read nothing but their arguments;
//    LoadEntityDirectory is the only function here that reads the log.
#ifndef TWINLINE_PROJECTIONS_NETWORK_H_
#define TWINLINE_PROJECTIONS_NETWORK_H_

#include <cstddef>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"

namespace twinline {

// What a node shows of its entity, from the entity's registration.
struct EntityInfo {
  std::string name;     // first registered name ("Düsseldorf"); the slug if unregistered
  std::string type;     // "city", "port", ... (schema enumerant name)
  std::string country;  // ISO 3166-1 alpha-2, or empty
  bool has_location = false;
  double lat = 0, lon = 0;  // WGS 84 degrees, when has_location
};

// slug -> info. Slugs missing from it are shown by slug, without location.
using EntityDirectory = std::map<std::string, EntityInfo>;

// Reads the registrations of `slugs` (FindEntity + Get of the registration
// seq) into `out`. An unregistered slug is left out, not an error.
Status LoadEntityDirectory(const ReadTxn& txn, const std::set<std::string>& slugs,
                           EntityDirectory* out);

// Every slug a Snapshot's edges touch (what LoadEntityDirectory needs).
std::set<std::string> EdgeEndpoints(const Snapshot& snapshot);

struct NetworkNode {
  std::string slug;
  EntityInfo info;
  Range degree;
  size_t component_certain = 0;   // index into Network::components_certain
  size_t component_possible = 0;  // index into Network::components_possible
};

struct Network {
  int64_t as_of_day = 0;
  uint64_t known_seq = 0;
  DateRule rule = DateRule::kRange;
  std::vector<NetworkNode> nodes;  // sorted by slug
  std::vector<EdgeRow> edges;      // as in the Snapshot (status yes or maybe)
  // Node indexes of each component, numbered as in the contract.
  std::vector<std::vector<size_t>> components_certain;
  std::vector<std::vector<size_t>> components_possible;
  std::vector<size_t> hubs;  // node indexes, at most the hub_limit given

  // Index of `slug` in nodes, or nodes.size().
  size_t Find(std::string_view slug) const;
};

inline constexpr size_t kDefaultHubLimit = 10;

Network BuildNetwork(const Snapshot& snapshot, const EntityDirectory& entities,
                     size_t hub_limit = kDefaultHubLimit);

// Text for XML character data and attribute values (GraphML, GEXF).
// Characters XML 1.0 does not allow (C0 controls other than tab, newline,
// carriage return) are dropped; everything stored was valid UTF-8.
std::string XmlEscape(std::string_view s);

// "no", "maybe", "yes".
std::string_view TriName(Tri tri);
// "partnership", "route".
std::string_view EdgeKindName(EdgeRow::Kind kind);
// "range", "earliest", "latest" (the --dates words).
std::string_view DateRuleName(DateRule rule);

// One JSON object: query, nodes (with degree and component numbers), edges
// (with status and the seqs of their events), components, hubs.
// NetworkJson is that object, for a caller that adds to it.
nlohmann::ordered_json NetworkJson(const Network& network);
void WriteNetworkJson(const Network& network, std::ostream& out);

// GraphML 1.0 with typed keys: nodes carry label, type, country, lat, lon
// (when known), degree_certain, degree_possible; edges carry kind, subkind,
// status. The graph is undirected (edgedefault), as the contract says.
void WriteNetworkGraphMl(const Network& network, std::ostream& out);

// The head of a GraphML document, shared by every GraphML writer: the XML
// declaration, the <graphml> element and one <key> per attribute, whose id
// is the attribute's name, or with `domain_prefix` "n_" or "e_" and the
// name (a node and an edge attribute may then share a name).
struct GraphMlKey {
  const char* name;
  const char* domain;  // "node", "edge"
  const char* type;    // "string", "int", "double", "boolean"
};
void WriteGraphMlHead(std::initializer_list<GraphMlKey> keys, bool domain_prefix,
                      std::ostream& out);

// A GeoJSON FeatureCollection (RFC 7946): a Point per node with a location
// and a LineString per edge whose two ends have one; coordinates are
// [lon, lat]. Nodes and edges without coordinates are left out.
void WriteNetworkGeoJson(const Network& network, std::ostream& out);

}  // namespace twinline

#endif  // TWINLINE_PROJECTIONS_NETWORK_H_
