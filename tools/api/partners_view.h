// The partners of one entity as of a day: its partnerships and its routes,
// listed apart, each with its partner (name, country), its kind or mode (and
// a route's direction), its status, and the events behind it with their
// dates and sources — what `twinline replay --projection partners --entity
// X` prints and GET /v1/replay?projection=partners&entity=X sends
// (replay_view.h renders the answer around these parts).
//
// Contract:
//  * The partners are the entity's edges in a replay restricted to it
//    (Query::entity with edge rows: from the temporal index, the cost of its
//    own edges): exactly the edges with status yes or maybe on the day, in
//    row order; a partnership or route that has ended by then is not one.
//  * An edge's events are its effective events with earliest day on or
//    before the day (EdgeRow::events), in order of their days (earliest,
//    latest, seq), each with its occurrence and the sources behind it as
//    known at the snapshot's seq (its own, then its corroborations').
//  * `since` is the date, as written, of the latest establishing event
//    (partnership_established, route_opened) listed.
//  * Each list's count is a certain–possible range (certain: status yes).
//    An edge filter keeps one list; the other is then empty and not shown.
#ifndef TWINLINE_TOOLS_API_PARTNERS_VIEW_H_
#define TWINLINE_TOOLS_API_PARTNERS_VIEW_H_

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/network.h"
#include "projections/projection.h"
#include "tools/api/event_summary.h"
#include "tools/api/projection_request.h"

namespace twinline::api {

struct PartnerEvent {
  uint64_t seq = 0;
  std::string id, kind, date;  // kind in snake_case, date as written (EDTF)
  Tri occurred = Tri::kNo;     // as of the day
  std::vector<SourceRef> sources;
};

struct Partner {
  std::string slug;       // the partner
  EntityInfo info;        // its name and country (the slug when unregistered)
  std::string subkind;    // "sister_city", "rail"
  std::string direction;  // routes: "to" (the entity's own route) or "from"; empty for partnerships
  Tri status = Tri::kNo;  // kYes or kMaybe
  std::string since;
  std::vector<PartnerEvent> events;
};

struct Partners {
  EdgeFilter filter;
  std::vector<Partner> partnerships, routes;
  Range partnership_count, route_count;
};

// The partners of `entity` in `snap`, a replay of edge rows restricted to
// it; reads the events, their sources and the partners' registrations.
Status CollectPartners(const ReadTxn& txn, const Snapshot& snap, const std::string& entity,
                       const EdgeFilter& filter, Partners* out);

// The two lists as tables: "partnerships: 2", a table, the events and
// their sources under each row; then "routes: 3" and theirs.
void WritePartnersTable(const Partners& partners, std::ostream& out);

// {"partnerships": {"count", "partners": [...]}, "routes": {...}}, the lists
// kept.
nlohmann::ordered_json PartnersJson(const Partners& partners);

// One row per partnership or route: relation, partner, name, country, kind,
// direction, status, since, events (ids), sources (" | "-separated).
void WritePartnersCsv(const Partners& partners, std::ostream& out);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_PARTNERS_VIEW_H_
