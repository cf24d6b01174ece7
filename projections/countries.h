// The network on a day by country: how many partnerships and routes each
// country's entities hold, and between which countries they run. What a map
// shows of a large network (the page of `twinline serve`, `twinline replay
// --projection countries`) instead of every edge.
//
// Contract:
//  * ReplayCountries(txn, query) aggregates exactly the edge rows of
//    Replay(txn, query with rows = kEdgeRows) (projection.h): every edge of
//    status yes or maybe on query.as_of_day, as known at query.known_seq,
//    under query.rule. An entity's country is the one of its registration
//    in effect at known_seq (as "partnerships in CC" of a count row);
//    entities without one (blocs, continents, unregistered slugs) are
//    counted under the country "".
//  * Every count is a Range: certain = the edges of status yes, possible =
//    yes + maybe. An edge is counted once in each country it touches (once
//    when both ends share a country), and once in the link of its two
//    ends' countries. Routes are directed, but a link is the unordered pair
//    (a <= b), so a link's counts sum the routes both ways.
//  * Per country, `entities` counts the entities with at least one edge of
//    the network (certain: with an edge of status yes).
//  * Orders: countries by code; links strongest first: by possible
//    partnerships + routes, then certain, then (a, b). Deterministic.
//  * From the temporal index (docs/INDEX.md) when query.use_index and the
//    index can be read: the cost of evaluating each edge's status and
//    nothing else (no rows are built, no event is read, no registration
//    decoded). Otherwise from Replay and each end's registration. Both give
//    the same answer.
//  * query.rows is ignored; query.entity must be empty (kInvalidArgument):
//    one entity's neighbourhood is its edge rows (Replay with entity).
#ifndef TWINLINE_PROJECTIONS_COUNTRIES_H_
#define TWINLINE_PROJECTIONS_COUNTRIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"

namespace twinline {

struct CountryCounts {
  std::string country;  // ISO 3166-1 alpha-2 as registered, or "" (none)
  Range partnerships, routes, entities;
  bool operator==(const CountryCounts&) const = default;
};

struct CountryLink {
  std::string a, b;  // countries, a <= b
  Range partnerships, routes;
  bool operator==(const CountryLink&) const = default;
};

struct CountryNetwork {
  uint64_t known_seq = 0;  // the K actually used (<= the log's last seq)
  // The whole network: its edges, and the entities with an edge.
  Range partnerships, routes, entities;
  std::vector<CountryCounts> countries;  // by country code ("" first)
  std::vector<CountryLink> links;        // strongest first (see the contract)
  bool operator==(const CountryNetwork&) const = default;
};

// The network of `query` by country. `stats` (may be null) says whether the
// index answered, as Replay's do.
Status ReplayCountries(const ReadTxn& txn, const Query& query, CountryNetwork* out,
                       ReplayStats* stats = nullptr);

}  // namespace twinline

#endif  // TWINLINE_PROJECTIONS_COUNTRIES_H_
