// Network-wide totals: how many partnerships and how many routes hold on a
// day, and how many entities have a partnership, each a certain–possible
// range. Every replay answer ends with them (or, with an `edges` filter,
// those of the kind kept), and each step of a time series is made of them.
//
// Contract:
//  * The three ways below give the same totals for one (day, known-at,
//    rule): from every edge row of the network, from every entity's count
//    row (an edge is counted at both its ends, so each sum is twice the
//    total), or computed from the temporal index. Tests hold them together
//    and to the time series.
//  * An entity "has a partnership" certainly when one of its partnerships
//    holds with status yes, possibly when one holds with yes or maybe.
#ifndef TWINLINE_TOOLS_API_NETWORK_TOTALS_H_
#define TWINLINE_TOOLS_API_NETWORK_TOTALS_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"
#include "tools/api/projection_request.h"

namespace twinline::api {

struct NetworkTotals {
  Range partnerships, routes;
  Range partnered;  // entities with a partnership
};

// From the edge rows of the whole network. `except` (a slug) is left out of
// `partnered`: the edges of one entity then give its partners.
NetworkTotals TotalsOfEdges(const std::vector<EdgeRow>& edges, std::string_view except = {});

// From the count rows of every entity (brief rows are enough).
NetworkTotals TotalsOfCounts(const std::map<std::string, EntityCounts>& counts);

// The totals as `query` would see them without its entity filter and row
// selection: every entity's brief count row, from the temporal index (one
// binary search per entity) or the log as query.use_index says.
Status ComputeNetworkTotals(const ReadTxn& txn, const Query& query, NetworkTotals* out);

// "6 partnerships, 4 routes, 11 entities with a partnership" (ranges as
// "2–3"), only the kind `filter` keeps (entities with a partnership go with
// partnerships).
std::string TotalsText(const NetworkTotals& totals, const EdgeFilter& filter);

// {"partnerships": {"certain", "possible"}, "routes": ...,
// "entities_with_partnership": ...}, the same selection.
nlohmann::ordered_json TotalsJson(const NetworkTotals& totals, const EdgeFilter& filter);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_NETWORK_TOTALS_H_
