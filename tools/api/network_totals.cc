#include "tools/api/network_totals.h"

#include <algorithm>

#include "tools/api/json_views.h"
#include "tools/api/text_layout.h"

namespace twinline::api {
namespace {

using Json = nlohmann::ordered_json;

void Count(Range* r, bool certain) {
  r->certain += certain ? 1 : 0;
  r->possible += 1;
}

std::string Counted(const Range& r, const char* one, const char* many) {
  return FormatRange(r) + " " + (r.certain == 1 && r.possible == 1 ? one : many);
}

}  // namespace

NetworkTotals TotalsOfEdges(const std::vector<EdgeRow>& edges, std::string_view except) {
  NetworkTotals t;
  std::map<std::string_view, Tri> partnered;  // slug -> best status of its partnerships
  for (const EdgeRow& e : edges) {
    const bool route = e.kind == EdgeRow::Kind::kRoute;
    Count(route ? &t.routes : &t.partnerships, e.status == Tri::kYes);
    if (route) continue;
    for (const std::string* slug : {&e.a, &e.b}) {
      if (*slug == except) continue;
      Tri& best = partnered[*slug];
      best = std::max(best, e.status);
    }
  }
  for (const auto& [slug, status] : partnered) Count(&t.partnered, status == Tri::kYes);
  return t;
}

NetworkTotals TotalsOfCounts(const std::map<std::string, EntityCounts>& counts) {
  NetworkTotals t;
  for (const auto& [slug, c] : counts) {
    t.partnerships.certain += c.partnerships.certain;
    t.partnerships.possible += c.partnerships.possible;
    t.routes.certain += c.routes.certain;
    t.routes.possible += c.routes.possible;
    if (c.partnerships.possible > 0) Count(&t.partnered, c.partnerships.certain > 0);
  }
  // Every edge joins two distinct entities and is counted at both.
  for (Range* r : {&t.partnerships, &t.routes}) {
    r->certain /= 2;
    r->possible /= 2;
  }
  return t;
}

Status ComputeNetworkTotals(const ReadTxn& txn, const Query& query, NetworkTotals* out) {
  Query every = query;
  every.entity.clear();
  every.rows = kCountRows | kCountsBrief;
  Snapshot snap;
  TWINLINE_RETURN_IF_ERROR(Replay(txn, every, &snap));
  *out = TotalsOfCounts(snap.counts);
  return Status::Ok();
}

std::string TotalsText(const NetworkTotals& t, const EdgeFilter& filter) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (filter.Keeps(EdgeRow::Kind::kPartnership)) {
    add(Counted(t.partnerships, "partnership", "partnerships"));
  }
  if (filter.Keeps(EdgeRow::Kind::kRoute)) add(Counted(t.routes, "route", "routes"));
  if (filter.Keeps(EdgeRow::Kind::kPartnership)) {
    add(Counted(t.partnered, "entity with a partnership", "entities with a partnership"));
  }
  return out;
}

Json TotalsJson(const NetworkTotals& t, const EdgeFilter& filter) {
  Json j = Json::object();
  if (filter.Keeps(EdgeRow::Kind::kPartnership)) j["partnerships"] = RangeJson(t.partnerships);
  if (filter.Keeps(EdgeRow::Kind::kRoute)) j["routes"] = RangeJson(t.routes);
  if (filter.Keeps(EdgeRow::Kind::kPartnership)) {
    j["entities_with_partnership"] = RangeJson(t.partnered);
  }
  return j;
}

}  // namespace twinline::api
