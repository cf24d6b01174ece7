// The network by country, rendered: `twinline replay --projection countries`
// and GET /v1/replay?projection=countries (projections/countries.h says what
// is counted). What the page's map draws on a large log instead of every
// edge: each country's partnerships, routes and entities with an edge
// (certain–possible), and the strongest links between countries.
//
// Contract:
//  * PrintCountries writes the answer to `query` (its day, known-at, rule;
//    no entity) in `format`:
//      table  the totals, a row per country, then the `top` strongest links
//      json   {as_of, known_seq, dates, partnerships, routes, entities,
//              countries: [...], links_total, links: [...]} (the `top`
//              strongest links, strongest first); a country without a code
//              is null
//      csv    one list: `layer` nodes (a row per country) or edges (the
//             `top` strongest links), counts as certain and possible columns
//  * `top` is the number of links shown (0: all of them); the countries are
//    always all there.
//  * `stats` (may be null) gets what the answer read (ReplayStats).
//  * Deterministic: the same log and request give the same bytes.
#ifndef TWINLINE_TOOLS_API_COUNTRIES_VIEW_H_
#define TWINLINE_TOOLS_API_COUNTRIES_VIEW_H_

#include <cstddef>
#include <iosfwd>
#include <string>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"

namespace twinline::api {

// Links a countries answer shows unless asked otherwise.
inline constexpr size_t kDefaultCountryLinks = 50;

Status PrintCountries(const ReadTxn& txn, const Query& query, size_t top,
                      const std::string& format, const std::string& layer, std::ostream& out,
                      ReplayStats* stats);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_COUNTRIES_VIEW_H_
