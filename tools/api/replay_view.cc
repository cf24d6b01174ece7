#include "tools/api/replay_view.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

#include "core/edtf.h"
#include "events/json_codec.h"
#include "projections/network.h"
#include "tools/api/countries_view.h"
#include "tools/api/event_summary.h"
#include "tools/api/json_views.h"
#include "tools/api/network_export.h"
#include "tools/api/network_totals.h"
#include "tools/api/partners_view.h"
#include "tools/api/series_chart.h"
#include "tools/api/text_layout.h"

namespace twinline::api {
namespace {

using Json = nlohmann::ordered_json;


// The per-entity counters, in the order the table prints them.
struct Measure {
  const char* name;    // JSON key and CSV measure
  const char* header;  // table column
  Range EntityCounts::*field;
  std::optional<EdgeRow::Kind> edges;  // the edges it counts, if it counts edges
};
constexpr Measure kMeasures[] = {
    {"partnerships", "PARTNERSHIPS", &EntityCounts::partnerships, EdgeRow::Kind::kPartnership},
    {"routes", "ROUTES", &EntityCounts::routes, EdgeRow::Kind::kRoute},
    {"forums", "FORUMS", &EntityCounts::forums, std::nullopt},
    {"agreements", "AGREEMENTS", &EntityCounts::agreements, std::nullopt},
    {"offices", "OFFICES", &EntityCounts::offices, std::nullopt},
    {"offices_hosted", "HOSTED", &EntityCounts::offices_hosted, std::nullopt},
    {"organisations", "ORGS", &EntityCounts::organisations, std::nullopt},
    {"awards", "AWARDS", &EntityCounts::awards, std::nullopt},
    {"initiatives", "INITIATIVES", &EntityCounts::initiatives, std::nullopt},
};

// The measures an edge filter keeps: all of them, or the one counting the
// kind kept.
std::vector<const Measure*> MeasuresKept(const EdgeFilter& filter) {
  std::vector<const Measure*> kept;
  for (const Measure& m : kMeasures) {
    if (filter.all() || m.edges == filter.only) kept.push_back(&m);
  }
  return kept;
}

// What a projection renders from: the read transaction (for ids, names and
// sources), the snapshot (already restricted to --entity) and where to write.
struct View {
  const ReadTxn& txn;
  const twinline::Snapshot& snap;
  const std::string& entity;  // resolved slug, or empty
  const std::string& format;
  const EdgeFilter& filter;
  std::ostream& out;
  std::vector<std::string>* notes;  // may be null
};

// The network-wide totals of the view's day, from its own rows when they
// are the whole network's, else from the temporal index.
Status TotalsOf(const View& v, NetworkTotals* totals) {
  const RowSets rows = v.snap.query.rows;
  if (v.snap.query.entity.empty() && (rows & kCountRows) != 0) {
    *totals = TotalsOfCounts(v.snap.counts);
  } else if (v.snap.query.entity.empty() && (rows & kEdgeRows) != 0) {
    *totals = TotalsOfEdges(v.snap.edges);
  } else {
    TWINLINE_RETURN_IF_ERROR(ComputeNetworkTotals(v.txn, v.snap.query, totals));
  }
  return Status::Ok();
}

// The last line of a table answer: "network totals:  6 partnerships, ...".
Status PrintTotals(const View& v) {
  NetworkTotals totals;
  TWINLINE_RETURN_IF_ERROR(TotalsOf(v, &totals));
  v.out << '\n';
  PrintFields(v.out, {{"network totals", TotalsText(totals, v.filter)}});
  return Status::Ok();
}

// The same as the "network_totals" member of a JSON answer.
Status AddTotals(const View& v, Json* j) {
  NetworkTotals totals;
  TWINLINE_RETURN_IF_ERROR(TotalsOf(v, &totals));
  (*j)["network_totals"] = TotalsJson(totals, v.filter);
  return Status::Ok();
}

// 142160000000 (no separators, no exponent): numbers for CSV.
std::string PlainNumber(double value) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

Json MarksJson(const std::vector<EventMark>& marks) {
  Json out = Json::array();
  for (const EventMark& m : marks)
    out.push_back(Json{{"seq", m.seq}, {"occurred", TriName(m.occurred)}});
  return out;
}

// "sister_city 1, friendship_city 0–1", or "-".
std::string Breakdown(const std::map<std::string, Range>& ranges) {
  std::string out;
  for (const auto& [key, range] : ranges) {
    if (!out.empty()) out += ", ";
    out += (key.empty() ? "(none)" : key) + " " + FormatRange(range);
  }
  return out.empty() ? "-" : out;
}

// ---------------------------------------------------------------------------
// counts

// What the log itself knows about a figure an entity reports, where the two
// measure the same thing: partner_cities ~ its partnerships (by the scope's
// country when the scope is a country), partner_countries ~ the distinct
// countries of its partners, routes ~ its routes. Other metrics (events
// held, companies, ...) have no counterpart in the log.
std::optional<Range> LogKnows(const ReportedCount& r, const EntityCounts& c,
                              const EntityDirectory& scopes) {
  if (r.metric == "partner_cities") {
    if (r.scope.empty()) return c.partnerships;
    auto scope = scopes.find(r.scope);
    if (scope == scopes.end() || scope->second.type != "country") return std::nullopt;
    auto it = c.partnerships_by_country.find(scope->second.country);
    return it == c.partnerships_by_country.end() ? Range{} : it->second;
  }
  if (r.metric == "partner_countries" && r.scope.empty()) {
    Range countries;
    for (const auto& [country, range] : c.partnerships_by_country) {
      if (country.empty()) continue;
      countries.certain += range.certain > 0 ? 1 : 0;
      countries.possible += range.possible > 0 ? 1 : 0;
    }
    return countries;
  }
  if (r.metric == "routes" && r.scope.empty()) return c.routes;
  return std::nullopt;
}

// The edges a reported metric is compared with (LogKnows), if any.
std::optional<EdgeRow::Kind> MetricEdges(const ReportedCount& r) {
  if (r.metric == "partner_cities" || r.metric == "partner_countries") {
    return EdgeRow::Kind::kPartnership;
  }
  if (r.metric == "routes") return EdgeRow::Kind::kRoute;
  return std::nullopt;
}

// Whether a view shows a reported figure: every one, or under an edge
// filter those compared with the edges kept.
bool ShowsReported(const EdgeFilter& filter, const ReportedCount& r) {
  return filter.all() || MetricEdges(r) == filter.only;
}

Status ReportedLine(const View& v, const ReportedCount& r, const EntityCounts& c,
                    const EntityDirectory& scopes, std::string* line) {
  std::string id;
  TWINLINE_RETURN_IF_ERROR(EventIdAt(v.txn, r.seq, &id));
  *line = "reports " + r.metric + (r.scope.empty() ? "" : " in " + r.scope) + " " +
          QualifierSymbol(r.qualifier) + " " + FormatNumber(r.value) + " (" + r.date + ", " + id +
          (r.status == Tri::kMaybe ? ", possibly not yet" : "") + ")";
  if (auto knows = LogKnows(r, c, scopes)) *line += "; the log knows " + FormatRange(*knows);
  return Status::Ok();
}

Status LoadScopes(const ReadTxn& txn, const EntityCounts& c, EntityDirectory* scopes) {
  std::set<std::string> slugs;
  for (const ReportedCount& r : c.reported) {
    if (!r.scope.empty()) slugs.insert(r.scope);
  }
  return LoadEntityDirectory(txn, slugs, scopes);
}

Status PrintCounts(const View& v) {
  const std::vector<const Measure*> measures = MeasuresKept(v.filter);
  // With --entity, the entity has a row even when it has nothing to count
  // yet; with --edges, the rows of entities with (possibly) some.
  // The rows, referenced in the snapshot (never copied), in slug order.
  const EntityCounts nothing;
  std::map<std::string_view, const EntityCounts*> rows;
  for (const auto& [slug, c] : v.snap.counts) {
    if (v.filter.all() || (c.*measures.front()->field).possible > 0) {
      rows.emplace_hint(rows.end(), slug, &c);
    }
  }
  if (!v.entity.empty()) {
    auto it = v.snap.counts.find(v.entity);
    rows.try_emplace(v.entity, it == v.snap.counts.end() ? &nothing : &it->second);
  }
  const bool partnerships = v.filter.Keeps(EdgeRow::Kind::kPartnership);
  const bool routes = v.filter.Keeps(EdgeRow::Kind::kRoute);

  if (v.format == "csv") {
    // Written in blocks: one line per entity and measure (~10^5 at 10^6 events).
    std::string block = "entity,measure,certain,possible\n";
    char number[24];
    auto append_number = [&](uint64_t n) {
      const auto [end, ec] = std::to_chars(number, number + sizeof number, n);
      block.append(number, end);
    };
    for (const auto& [slug, c] : rows) {
      for (const Measure* m : measures) {
        const Range& r = (*c).*m->field;
        block.append(slug);
        block += ',';
        block.append(m->name);
        block += ',';
        append_number(r.certain);
        block += ',';
        append_number(r.possible);
        block += '\n';
      }
      if (block.size() > (1 << 16)) {
        v.out.write(block.data(), static_cast<std::streamsize>(block.size()));
        block.clear();
      }
    }
    v.out.write(block.data(), static_cast<std::streamsize>(block.size()));
    return Status::Ok();
  }

  if (v.format == "json") {
    Json entities = Json::object();
    for (const auto& [slug, counts] : rows) {
      const EntityCounts& c = *counts;
      Json j = Json::object();
      for (const Measure* m : measures) j[m->name] = RangeJson(c.*m->field);
      if (partnerships) {
        Json by_kind = Json::object(), by_country = Json::object();
        for (const auto& [k, r] : c.partnerships_by_kind) by_kind[k] = RangeJson(r);
        for (const auto& [k, r] : c.partnerships_by_country) by_country[k] = RangeJson(r);
        j["partnerships"]["by_kind"] = std::move(by_kind);
        j["partnerships"]["by_country"] = std::move(by_country);
      }
      if (routes) {
        Json by_mode = Json::object();
        for (const auto& [k, r] : c.routes_by_mode) by_mode[k] = RangeJson(r);
        j["routes"]["by_mode"] = std::move(by_mode);
      }
      EntityDirectory scopes;
      TWINLINE_RETURN_IF_ERROR(LoadScopes(v.txn, c, &scopes));
      Json reported = Json::array();
      for (const ReportedCount& r : c.reported) {
        if (!ShowsReported(v.filter, r)) continue;
        std::string id;
        TWINLINE_RETURN_IF_ERROR(EventIdAt(v.txn, r.seq, &id));
        Json jr{{"metric", r.metric}, {"scope", r.scope},
                {"value", r.value},   {"qualifier", r.qualifier},
                {"date", r.date},     {"status", TriName(r.status)},
                {"seq", r.seq},       {"id", id}};
        if (auto knows = LogKnows(r, c, scopes)) jr["log_knows"] = RangeJson(*knows);
        reported.push_back(std::move(jr));
      }
      j["reported"] = std::move(reported);
      if (v.filter.all()) {  // the counter and report events behind the other measures
        j["open_events"] = MarksJson(c.open_events);
        j["settled_events"] = c.settled_events;
      }
      entities[std::string(slug)] = std::move(j);
    }
    Json j = DescribeSnapshotJson(v.snap);
    j["entities"] = std::move(entities);
    TWINLINE_RETURN_IF_ERROR(AddTotals(v, &j));
    v.out << DumpJson(j) << '\n';
    return Status::Ok();
  }

  std::vector<std::string> headers{"ENTITY"};
  for (const Measure* m : measures) headers.push_back(m->header);
  Table table(headers);
  for (size_t i = 1; i < headers.size(); ++i) table.AlignRight(i);
  for (const auto& [slug, c] : rows) {
    std::vector<std::string> row{std::string(slug)};
    for (const Measure* m : measures) row.push_back(FormatRange((*c).*m->field));
    table.AddRow(std::move(row));
  }
  v.out << DescribeSnapshot(v.snap) << '\n';
  table.Print(v.out);
  if (!v.entity.empty()) {
    const EntityCounts& c = *rows.at(v.entity);
    v.out << '\n';
    std::vector<std::pair<std::string, std::string>> breakdowns;
    if (partnerships) {
      breakdowns.emplace_back("partnerships by kind", Breakdown(c.partnerships_by_kind));
      breakdowns.emplace_back("partnerships by country", Breakdown(c.partnerships_by_country));
    }
    if (routes) breakdowns.emplace_back("routes by mode", Breakdown(c.routes_by_mode));
    PrintFields(v.out, breakdowns);
    EntityDirectory scopes;
    TWINLINE_RETURN_IF_ERROR(LoadScopes(v.txn, c, &scopes));
    for (const ReportedCount& r : c.reported) {
      if (!ShowsReported(v.filter, r)) continue;
      std::string line;
      TWINLINE_RETURN_IF_ERROR(ReportedLine(v, r, c, scopes, &line));
      v.out << line << '\n';
    }
  }
  return PrintTotals(v);
}

// ---------------------------------------------------------------------------
// trade

std::string TradeStatus(Tri status) { return status == Tri::kYes ? "certain" : "possible"; }

// "142,160,000,000", or "0–142,160,000,000" (certain–possible).
std::string FormatAmounts(double certain, double possible) {
  return FormatNumber(certain) + (possible == certain ? "" : "–" + FormatNumber(possible));
}

Status PrintTrade(const View& v) {
  std::vector<std::string> ids;
  for (const TradeRow& t : v.snap.trade) {
    TWINLINE_RETURN_IF_ERROR(EventIdAt(v.txn, t.seq, &ids.emplace_back()));
  }
  if (v.format == "csv") {
    v.out << "reporter,partner,period,flow,amount,currency,status,event\n";
    for (size_t i = 0; i < v.snap.trade.size(); ++i) {
      const TradeRow& t = v.snap.trade[i];
      // Slugs, EDTF periods, flows, ISO currencies and ids need no quoting;
      // the amount is written plain (no thousands separators).
      v.out << t.reporter << ',' << t.partner << ',' << t.period << ',' << t.flow << ','
            << PlainNumber(t.amount) << ',' << t.currency << ',' << TradeStatus(t.status) << ','
            << ids[i] << '\n';
    }
    return Status::Ok();
  }
  if (v.format == "json") {
    Json rows = Json::array();
    for (size_t i = 0; i < v.snap.trade.size(); ++i) {
      const TradeRow& t = v.snap.trade[i];
      rows.push_back(Json{{"reporter", t.reporter},
                          {"partner", t.partner},
                          {"period", t.period},
                          {"flow", t.flow},
                          {"amount", t.amount},
                          {"currency", t.currency},
                          {"status", TriName(t.status)},
                          {"seq", t.seq},
                          {"id", ids[i]},
                          {"open_events", MarksJson(t.open_events)},
                          {"settled_events", t.settled_events}});
    }
    Json totals = Json::array();
    for (const TradeTotal& t : v.snap.trade_totals) {
      totals.push_back(Json{{"reporter", t.reporter},
                            {"currency", t.currency},
                            {"certain", t.certain},
                            {"possible", t.possible}});
    }
    Json j = DescribeSnapshotJson(v.snap);
    j["trade"] = std::move(rows);
    j["totals"] = std::move(totals);
    TWINLINE_RETURN_IF_ERROR(AddTotals(v, &j));
    v.out << DumpJson(j) << '\n';
    return Status::Ok();
  }
  v.out << DescribeSnapshot(v.snap) << '\n';
  if (v.snap.trade.empty()) {
    v.out << "no trade figures\n";
    return PrintTotals(v);
  }
  Table table(
      {"REPORTER", "PARTNER", "PERIOD", "FLOW", "AMOUNT", "CURRENCY", "STATUS", "SOURCE-EVENT"});
  table.AlignRight(4);
  for (size_t i = 0; i < v.snap.trade.size(); ++i) {
    const TradeRow& t = v.snap.trade[i];
    table.AddRow({t.reporter, t.partner, t.period, t.flow, FormatNumber(t.amount), t.currency,
                  TradeStatus(t.status), ids[i]});
  }
  table.Print(v.out);
  v.out << '\n';
  for (const TradeTotal& t : v.snap.trade_totals) {
    v.out << "total reported by " << t.reporter << ": " << FormatAmounts(t.certain, t.possible)
          << ' ' << t.currency << '\n';
  }
  return PrintTotals(v);
}

// ---------------------------------------------------------------------------
// network

// What WriteNetworkGeoJson leaves out: nodes without a location, and edges
// with such an end.
void NoteMissingCoordinates(const Network& net, std::vector<std::string>* notes) {
  if (notes == nullptr) return;
  size_t nodes = 0, edges = 0;
  for (const NetworkNode& n : net.nodes) nodes += n.info.has_location ? 0 : 1;
  for (const EdgeRow& e : net.edges) {
    const size_t a = net.Find(e.a), b = net.Find(e.b);
    edges += net.nodes[a].info.has_location && net.nodes[b].info.has_location ? 0 : 1;
  }
  if (nodes > 0) {
    notes->push_back(std::to_string(nodes) + (nodes == 1 ? " node" : " nodes") +
                     " without coordinates left out of the GeoJSON");
  }
  if (edges > 0) {
    notes->push_back(std::to_string(edges) + (edges == 1 ? " edge" : " edges") +
                     " with an end without coordinates left out of the GeoJSON");
  }
}

Status PrintNetwork(const View& v) {
  // --edges: the graph of one kind of edge (degrees, components, hubs).
  const twinline::Snapshot* snap = &v.snap;
  twinline::Snapshot kept;
  if (!v.filter.all()) {
    kept.query = v.snap.query;
    kept.known_seq = v.snap.known_seq;
    for (const EdgeRow& e : v.snap.edges) {
      if (v.filter.Keeps(e.kind)) kept.edges.push_back(e);
    }
    snap = &kept;
  }
  EntityDirectory entities;
  TWINLINE_RETURN_IF_ERROR(LoadEntityDirectory(v.txn, EdgeEndpoints(*snap), &entities));
  const Network net = BuildNetwork(*snap, entities);
  if (v.format == "json") {
    Json j = NetworkJson(net);
    TWINLINE_RETURN_IF_ERROR(AddTotals(v, &j));
    v.out << DumpJson(j) << '\n';
    return Status::Ok();
  }
  if (v.format == "graphml") {
    WriteNetworkGraphMl(net, v.out);
    return Status::Ok();
  }
  if (v.format == "geojson") {
    WriteNetworkGeoJson(net, v.out);
    NoteMissingCoordinates(net, v.notes);
    return Status::Ok();
  }
  size_t certain_edges = 0;
  for (const EdgeRow& e : net.edges) certain_edges += e.status == Tri::kYes ? 1 : 0;
  v.out << DescribeSnapshot(v.snap) << '\n';
  PrintFields(v.out,
              {{"nodes", std::to_string(net.nodes.size())},
               {"edges", std::to_string(net.edges.size()) + " (" + std::to_string(certain_edges) +
                             " certain, " + std::to_string(net.edges.size() - certain_edges) +
                             " possible)"},
               {"components",
                std::to_string(net.components_certain.size()) + " over certain edges, " +
                    std::to_string(net.components_possible.size()) + " over possible edges"}});
  if (net.hubs.empty()) return PrintTotals(v);
  v.out << "\nhubs:\n";
  Table table({"ENTITY", "NAME", "TYPE", "DEGREE", "COMPONENT"});
  table.AlignRight(3);
  table.AlignRight(4);
  for (size_t i : net.hubs) {
    const NetworkNode& n = net.nodes[i];
    const size_t size = net.components_possible[n.component_possible].size();
    table.AddRow({n.slug, n.info.name, n.info.type, FormatRange(n.degree),
                  std::to_string(size) + (size == 1 ? " node" : " nodes")});
  }
  table.Print(v.out);
  return PrintTotals(v);
}

// ---------------------------------------------------------------------------
// timeline

Status PrintTimeline(const View& v, const Query& query) {
  std::vector<TimelineEntry> entries;
  TWINLINE_RETURN_IF_ERROR(Timeline(v.txn, v.entity, query, &entries));
  Table table({"DATE", "KIND", "SUMMARY", "OCCURRED", "SOURCES", "ID"});
  table.AlignRight(4);
  Json list = Json::array();
  for (const TimelineEntry& e : entries) {
    std::string summary;
    Json event;
    bool kept = true;
    TWINLINE_RETURN_IF_ERROR(v.txn.Get(e.seq, [&](schema::Event::Reader ev) {
      kept = v.filter.all() || EdgeKindOf(ev.getPayload()) == v.filter.only;
      summary = SummarizeEffective(ev);
      if (v.format == "json") event = EncodeEvent(ev);
    }));
    if (!kept) continue;
    std::vector<SourceRef> sources;
    TWINLINE_RETURN_IF_ERROR(CollectSources(v.txn, e.source_seqs, &sources));
    if (v.format == "json") {
      Json js = Json::array();
      for (const SourceRef& s : sources) js.push_back(SourceJson(s));
      Json j{{"seq", e.seq},
             {"id", e.id},
             {"kind", e.kind},
             {"date", e.date},
             {"occurred", TriName(e.occurred)}};
      if (!e.amends.empty()) j["amends"] = e.amends;
      j["summary"] = summary;
      j["sources"] = std::move(js);
      j["event"] = std::move(event);
      list.push_back(std::move(j));
      continue;
    }
    table.AddRow({e.date, e.kind, summary, std::string(TriName(e.occurred)),
                  std::to_string(sources.size()), e.id});
    for (const SourceRef& s : sources) {
      table.AddNote("source: " + DescribeSource(s));
    }
  }
  if (v.format == "json") {
    Json j = DescribeSnapshotJson(v.snap);
    j["entity"] = v.entity;
    j["events"] = std::move(list);
    TWINLINE_RETURN_IF_ERROR(AddTotals(v, &j));
    v.out << DumpJson(j) << '\n';
    return Status::Ok();
  }
  v.out << v.entity << ", " << DescribeSnapshot(v.snap) << '\n';
  table.Print(v.out);
  return PrintTotals(v);
}

// ---------------------------------------------------------------------------
// partners

Status PrintPartners(const View& v) {
  Partners partners;
  TWINLINE_RETURN_IF_ERROR(CollectPartners(v.txn, v.snap, v.entity, v.filter, &partners));
  if (v.format == "csv") {
    WritePartnersCsv(partners, v.out);
    return Status::Ok();
  }
  if (v.format == "json") {
    Json j = DescribeSnapshotJson(v.snap);
    j["entity"] = v.entity;
    j.update(PartnersJson(partners));
    TWINLINE_RETURN_IF_ERROR(AddTotals(v, &j));
    v.out << DumpJson(j) << '\n';
    return Status::Ok();
  }
  v.out << v.entity << ", " << DescribeSnapshot(v.snap) << "\n\n";
  WritePartnersTable(partners, v.out);
  return PrintTotals(v);
}

// ---------------------------------------------------------------------------
// time series

struct Amount {
  double certain = 0, possible = 0;
};

// The key figures of one step. With an entity (the snapshot restricted to
// it), `partnered` counts its partners; otherwise every entity with a
// partnership.
struct SeriesPoint {
  int64_t day = 0;
  Range partnerships, routes, partnered;
  std::map<std::string, Amount> trade;  // currency -> totals
};

SeriesPoint MeasureStep(const twinline::Snapshot& snap, const std::string& entity) {
  SeriesPoint p;
  p.day = snap.query.as_of_day;
  // Of one entity's edges, the entities with a partnership are its partners.
  const NetworkTotals totals = TotalsOfEdges(snap.edges, entity);
  p.partnerships = totals.partnerships;
  p.routes = totals.routes;
  p.partnered = totals.partnered;
  for (const TradeTotal& t : snap.trade_totals) {
    Amount& a = p.trade[t.currency];
    a.certain += t.certain;
    a.possible += t.possible;
  }
  return p;
}

// The day `months` months after `day`: the same day of the month (clamped to
// the month's length), or the month's last day when `day` is a last day, so
// that year-end and month-end steps stay at period ends.
int64_t AddMonths(int64_t day, int64_t months) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  const bool month_end = d == DaysInMonth(y, m);
  const int64_t index = y * 12 + (m - 1) + months;
  const int64_t ny = index >= 0 ? index / 12 : (index - 11) / 12;
  const auto nm = static_cast<unsigned>(index - ny * 12 + 1);
  const unsigned last = DaysInMonth(ny, nm);
  return DaysFromCivil(ny, nm, month_end ? last : std::min(d, last));
}

// The days of a time series: the last day of `from`, then every step until
// the last day of `to`.
Status StepDays(const ReplayRequest& r, const std::string& step, std::vector<int64_t>* days) {
  const ParamStyle style = r.style;
  if (r.from.empty() || r.to.empty()) {
    return Status::InvalidArgument("a time series needs both " + ParamName(style, "from") +
                                   " and " + ParamName(style, "to"))
        .WithField(ParamName(style, r.from.empty() ? "from" : "to"));
  }
  int64_t first = 0, last = 0;
  TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(r.from, ParamName(style, "from"), &first));
  TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(r.to, ParamName(style, "to"), &last));
  if (first > last) {
    return Status::InvalidArgument(ParamSetting(style, "from", r.from) + " is after " +
                                   ParamSetting(style, "to", r.to))
        .WithField(ParamName(style, "from"));
  }
  const int64_t months = step == "month" ? 1 : 12;
  for (int64_t k = 0;; ++k) {
    const int64_t day = AddMonths(first, k * months);
    if (day > last) break;
    if (days->size() == r.max_steps) {
      return Status::InvalidArgument("more than " + std::to_string(r.max_steps) + " steps from " +
                                     FormatDay(first) + " to " + FormatDay(last) + " by " + step +
                                     "; shorten the range or use a longer " +
                                     ParamName(style, "step"))
          .WithField(ParamName(style, "step"));
    }
    days->push_back(day);
  }
  return Status::Ok();
}

// A column of the series: one range of each step.
struct SeriesColumn {
  std::string name;    // CSV column prefix and JSON key
  std::string header;  // table column
  std::string label;   // chart legend
  Range SeriesPoint::*field;
};

// The columns an edge filter keeps; trade goes with no filter only.
std::vector<SeriesColumn> SeriesColumns(const std::string& entity, const EdgeFilter& filter) {
  std::vector<SeriesColumn> columns;
  const bool partnerships = filter.Keeps(EdgeRow::Kind::kPartnership);
  if (partnerships) {
    columns.push_back({"partnerships", "PARTNERSHIPS", "partnerships", &SeriesPoint::partnerships});
  }
  if (filter.Keeps(EdgeRow::Kind::kRoute)) {
    columns.push_back({"routes", "ROUTES", "routes", &SeriesPoint::routes});
  }
  if (partnerships) {
    columns.push_back(
        {"entities_with_partnership", entity.empty() ? "ENTITIES WITH PARTNERSHIP" : "PARTNERS",
         entity.empty() ? "entities with partnership" : "partners", &SeriesPoint::partnered});
  }
  return columns;
}

Status PrintSeries(const ReplayRequest& r, const ReadTxn& txn, Query query,
                   const std::string& entity, const EdgeFilter& filter, const std::string& format,
                   std::ostream& out) {
  const std::string step = r.step.empty() ? "year" : r.step;
  std::vector<int64_t> days;
  TWINLINE_RETURN_IF_ERROR(StepDays(r, step, &days));
  const std::vector<SeriesColumn> columns = SeriesColumns(entity, filter);
  std::vector<SeriesPoint> points;
  std::set<std::string> currencies;
  uint64_t known_seq = 0;
  // MeasureStep reads no counts; trade only when shown.
  query.rows = filter.all() ? kEdgeRows | kTradeRows : kEdgeRows;
  query.entity = entity;
  for (int64_t day : days) {
    query.as_of_day = day;
    twinline::Snapshot snap;
    TWINLINE_RETURN_IF_ERROR(Replay(txn, query, &snap));
    known_seq = snap.known_seq;
    points.push_back(MeasureStep(snap, entity));
    for (const auto& [currency, amount] : points.back().trade) currencies.insert(currency);
  }

  if (format == "json") {
    Json rows = Json::array();
    for (const SeriesPoint& p : points) {
      Json row{{"date", FormatDay(p.day)}};
      for (const SeriesColumn& c : columns) row[c.name] = RangeJson(p.*c.field);
      if (filter.all()) {
        Json trade = Json::object();
        for (const auto& [currency, a] : p.trade) {
          trade[currency] = Json{{"certain", a.certain}, {"possible", a.possible}};
        }
        row["trade"] = std::move(trade);
      }
      rows.push_back(std::move(row));
    }
    Json j{{"from", FormatDay(days.front())},
           {"to", FormatDay(days.back())},
           {"step", step},
           {"known_seq", known_seq},
           {"dates", DateRuleName(query.rule)}};
    if (!entity.empty()) j["entity"] = entity;
    j["series"] = std::move(rows);
    out << DumpJson(j) << '\n';
    return Status::Ok();
  }

  if (format == "svg" || format == "png") {
    // Counts only: trade amounts live on another scale (the csv and json
    // forms carry them).
    Chart chart;
    chart.title = entity.empty() ? "twinline: the network over time" : "twinline: " + entity + " over time";
    chart.subtitle = FormatDay(days.front()) + " to " + FormatDay(days.back()) + " by " + step +
                     ", known at seq " + std::to_string(known_seq) + ", dates " +
                     std::string(DateRuleName(query.rule)) + "; band: certain to possible";
    chart.days = days;
    for (const SeriesColumn& c : columns) {
      ChartMeasure m{c.label, {}, {}};
      for (const SeriesPoint& p : points) {
        m.certain.push_back(static_cast<double>((p.*c.field).certain));
        m.possible.push_back(static_cast<double>((p.*c.field).possible));
      }
      chart.measures.push_back(std::move(m));
    }
    std::ostringstream svg;
    WriteSeriesSvg(chart, svg);
    if (format == "svg") {
      out << svg.str();
      return Status::Ok();
    }
    std::string png;
    TWINLINE_RETURN_IF_ERROR(RenderPng(svg.str(), &png));
    out.write(png.data(), static_cast<std::streamsize>(png.size()));
    return Status::Ok();
  }

  auto amount = [&](const SeriesPoint& p, const std::string& currency) {
    auto it = p.trade.find(currency);
    return it == p.trade.end() ? Amount{} : it->second;
  };
  if (format == "csv") {
    // One column per bound, plain numbers: ready for a spreadsheet or pandas.
    out << "date";
    for (const SeriesColumn& c : columns)
      out << ',' << c.name << "_certain," << c.name << "_possible";
    for (const std::string& c : currencies)
      out << ",trade_" << c << "_certain,trade_" << c << "_possible";
    out << '\n';
    for (const SeriesPoint& p : points) {
      out << FormatDay(p.day);
      for (const SeriesColumn& c : columns) {
        out << ',' << (p.*c.field).certain << ',' << (p.*c.field).possible;
      }
      for (const std::string& c : currencies) {
        const Amount a = amount(p, c);
        out << ',' << PlainNumber(a.certain) << ',' << PlainNumber(a.possible);
      }
      out << '\n';
    }
    return Status::Ok();
  }
  // For people: certain–possible ranges, grouped numbers.
  std::vector<std::string> headers{"DATE"};
  for (const SeriesColumn& c : columns) headers.push_back(c.header);
  for (const std::string& c : currencies) headers.push_back("TRADE " + c);
  Table table(headers);
  for (size_t i = 1; i < headers.size(); ++i) table.AlignRight(i);
  for (const SeriesPoint& p : points) {
    std::vector<std::string> row{FormatDay(p.day)};
    for (const SeriesColumn& c : columns) row.push_back(FormatRange(p.*c.field));
    for (const std::string& c : currencies) {
      const Amount a = amount(p, c);
      row.push_back(FormatAmounts(a.certain, a.possible));
    }
    table.AddRow(std::move(row));
  }
  table.Print(out);
  return Status::Ok();
}

// ---------------------------------------------------------------------------

// The formats each projection can be written in; the first is the default.
const std::vector<std::string>& FormatsOf(const std::string& projection) {
  static const std::map<std::string, std::vector<std::string>> kFormats = {
      {"counts", {"table", "json", "csv"}},
      {"trade", {"table", "json", "csv"}},
      {"network", {"table", "json", "graphml", "geojson", "gexf", "csv"}},
      {"network_window", {"gexf", "graphml", "geojson", "csv", "json"}},
      {"timeline", {"table", "json"}},
      {"countries", {"table", "json", "csv"}},
      {"partners", {"table", "json", "csv"}},
      {"series", {"csv", "json", "table", "svg", "png"}},
  };
  return kFormats.at(projection);
}

bool IsSeries(const ReplayRequest& r) { return !r.from.empty() || !r.to.empty(); }

// The links a countries answer shows: a count, "all" (0), or the default.
Status ParseTop(const ReplayRequest& r, size_t* top) {
  *top = kDefaultCountryLinks;
  if (r.top.empty()) return Status::Ok();
  if (r.top == "all") {
    *top = 0;
    return Status::Ok();
  }
  const char* end = r.top.data() + r.top.size();
  auto [ptr, ec] = std::from_chars(r.top.data(), end, *top);
  if (ec != std::errc() || ptr != end || *top == 0) {
    return Status::InvalidArgument("'" + r.top + "' is not a number of links (1 or more, or all)")
        .WithField(ParamName(r.style, "top"));
  }
  return Status::Ok();
}
// The network over a window: from/to with projection network.
bool IsWindow(const ReplayRequest& r) { return IsSeries(r) && r.projection == "network"; }

}  // namespace

Status ReplayFormat(const ReplayRequest& r, std::string* format) {
  const ParamStyle style = r.style;
  const bool series = IsSeries(r);
  if (!r.projection.empty()) {
    TWINLINE_RETURN_IF_ERROR(
        CheckChoice(style, "projection", r.projection,
                    {"counts", "trade", "network", "timeline", "countries", "partners"}));
  }
  const bool window = IsWindow(r);
  if (series && !window && !r.step.empty()) {
    TWINLINE_RETURN_IF_ERROR(CheckChoice(style, "step", r.step, {"year", "month"}));
  }
  const std::string as_of = ParamName(style, "as_of");
  const std::string from_to = ParamName(style, "from") + "/" + ParamName(style, "to");
  if (series && !r.as_of.empty()) {
    return Status::InvalidArgument("give either " + as_of + " (one day) or " + from_to +
                                   " (a series, or the network over a window)")
        .WithField(as_of);
  }
  if (!series && r.as_of.empty()) {
    return Status::InvalidArgument("give " + ParamSetting(style, "as_of", "DATE") + ", or " +
                                   from_to + " for a time series")
        .WithField(as_of);
  }
  if (series && !r.projection.empty() && !window) {
    return Status::InvalidArgument("a time series has its own columns; drop " +
                                   ParamName(style, "projection") + " (or give " +
                                   ParamSetting(style, "projection", "network") +
                                   " for the network over the window)")
        .WithField(ParamName(style, "projection"));
  }
  const std::string projection = window   ? "network_window"
                                 : series ? "series"
                                 : r.projection.empty() ? "counts"
                                                        : r.projection;
  if (projection == "timeline" && r.common.entity.empty()) {
    return Status::InvalidArgument("the timeline is one entity's: give " +
                                   ParamName(style, "entity"))
        .WithField(ParamName(style, "projection"));
  }
  if (projection == "countries" && !r.common.entity.empty()) {
    return Status::InvalidArgument(
               "the network by country is the whole network's; for one entity's neighbourhood "
               "give " + ParamSetting(style, "projection", "network") + " with " +
               ParamName(style, "entity"))
        .WithField(ParamName(style, "entity"));
  }
  if (!r.top.empty()) {
    if (projection != "countries") {
      return Status::InvalidArgument(ParamName(style, "top") + " applies to " +
                                     ParamSetting(style, "projection", "countries"))
          .WithField(ParamName(style, "top"));
    }
    size_t top = 0;
    TWINLINE_RETURN_IF_ERROR(ParseTop(r, &top));
  }
  if (projection == "partners" && r.common.entity.empty()) {
    return Status::InvalidArgument("partners are one entity's: give " + ParamName(style, "entity"))
        .WithField(ParamName(style, "projection"));
  }
  EdgeFilter filter;
  TWINLINE_RETURN_IF_ERROR(ParseEdgeFilter(r.common, style, &filter));
  if (!filter.all() && projection == "trade") {
    return Status::InvalidArgument(ParamName(style, "edges") +
                                   " keeps partnerships or routes; trade figures are neither")
        .WithField(ParamName(style, "edges"));
  }
  if (!filter.all() && projection == "countries") {
    return Status::InvalidArgument(ParamSetting(style, "projection", "countries") +
                                   " counts partnerships and routes apart already; drop " +
                                   ParamName(style, "edges"))
        .WithField(ParamName(style, "edges"));
  }
  const auto& formats = FormatsOf(projection);
  *format = r.format.empty() ? formats.front() : r.format;
  if (std::find(formats.begin(), formats.end(), *format) == formats.end()) {
    std::string list;
    for (const std::string& x : formats) list += (list.empty() ? "" : ", ") + x;
    return Status::InvalidArgument(
               ParamSetting(style, "format", *format) + " does not apply to " +
               (window   ? "the network over a window"
                : series ? "a time series"
                         : ParamSetting(style, "projection", projection)) +
               " (use " + list + ")")
        .WithField(ParamName(style, "format"));
  }
  if (*format == "png" && !PngSupported()) {
    return Status::InvalidArgument("this twinline was built without librsvg, so it cannot draw "
                                   "PNG; use " + ParamSetting(style, "format", "svg"))
        .WithField(ParamName(style, "format"));
  }
  // A layer picks the node or the edge list of a network written as one
  // table (csv) or one geometry type (geojson); the window's GeoJSON and
  // every network CSV need one.
  const std::string layer = ParamName(style, "layer");
  const bool layered = (projection.starts_with("network") || projection == "countries") &&
                       (*format == "csv" || *format == "geojson");
  if (!r.layer.empty()) {
    if (!layered) {
      return Status::InvalidArgument(layer + " applies to a network written as csv or geojson, " +
                                     "and to " + ParamSetting(style, "projection", "countries") +
                                     " as csv")
          .WithField(layer);
    }
    TWINLINE_RETURN_IF_ERROR(CheckChoice(style, "layer", r.layer, {"nodes", "edges"}));
  } else if (layered && (window || *format == "csv")) {
    const bool countries = projection == "countries";
    return Status::InvalidArgument(
               ParamSetting(style, "format", *format) + " holds one list: give " +
               ParamSetting(style, "layer", "nodes") + " (" +
               (countries ? "a row per country" : *format == "csv" ? "the node list" : "points") +
               ") or " + ParamSetting(style, "layer", "edges") + " (" +
               (countries ? "the links between countries"
                : *format == "csv" ? "the edge list" : "lines") +
               ")")
        .WithField(layer);
  }
  return Status::Ok();
}

namespace {

// A debug line on what a replay read (the index and its tail, or the log).
void LogReplayStats(spdlog::logger* logger, const Query& query, const ReplayStats& stats) {
  if (logger == nullptr) return;
  if (!stats.index_problem.empty()) {
    logger->warn("{}; answering from the log instead", stats.index_problem);
  }
  if (stats.used_index) {
    logger->debug("answered as of {} from the temporal index at seq {} and {} later {}",
                  FormatDay(query.as_of_day), stats.index_seq, stats.tail_events,
                  stats.tail_events == 1 ? "event" : "events");
  } else {
    logger->debug("replayed {} events of the log to {}", stats.events_applied,
                  FormatDay(query.as_of_day));
  }
}

// The network over [first, last] in one of the window formats.
Status PrintWindow(const ReadTxn& txn, const Query& query, int64_t first, int64_t last,
                   const std::string& entity, const EdgeFilter& filter, const std::string& format,
                   const std::string& layer, std::ostream& out, std::vector<std::string>* notes) {
  NetworkWindow window;
  TWINLINE_RETURN_IF_ERROR(BuildNetworkWindow(txn, query, first, last, entity, filter, &window));
  const Layer which = layer == "nodes" ? Layer::kNodes : Layer::kEdges;
  if (format == "gexf") {
    WriteWindowGexf(window, out);
  } else if (format == "graphml") {
    WriteWindowGraphMl(window, out);
  } else if (format == "geojson") {
    WriteWindowGeoJson(window, which, out, notes);
  } else if (format == "csv") {
    WriteWindowCsv(window, which, out);
  } else {
    WriteWindowJson(window, out);
  }
  return Status::Ok();
}

// The window of a network request: from the FIRST day of `from` to the last
// day of `to` (a window, unlike a series, covers its ends whole).
Status WindowDays(const ReplayRequest& r, int64_t* first, int64_t* last) {
  const ParamStyle style = r.style;
  if (r.from.empty() || r.to.empty()) {
    return Status::InvalidArgument("the network over a window needs both " +
                                   ParamName(style, "from") + " and " + ParamName(style, "to"))
        .WithField(ParamName(style, r.from.empty() ? "from" : "to"));
  }
  EdtfDate from;
  Status s = ParseEdtf(r.from, &from);
  if (!s.ok()) return s.WithField(ParamName(style, "from"));
  if (from.earliest == kUnboundedStart) {
    return Status::InvalidArgument("'" + r.from +
                                   "' has an open or unknown start; give a first day "
                                   "(e.g. 1950)")
        .WithField(ParamName(style, "from"));
  }
  *first = from.earliest;
  TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(r.to, ParamName(style, "to"), last));
  if (*first > *last) {
    return Status::InvalidArgument(ParamSetting(style, "from", r.from) + " is after " +
                                   ParamSetting(style, "to", r.to))
        .WithField(ParamName(style, "from"));
  }
  return Status::Ok();
}

}  // namespace

Status RenderReplay(ReadView& read_view, const ReplayRequest& r, std::ostream& out,
                    spdlog::logger* logger, std::vector<std::string>* notes) {
  std::string format;
  TWINLINE_RETURN_IF_ERROR(ReplayFormat(r, &format));
  EdgeFilter filter;
  TWINLINE_RETURN_IF_ERROR(ParseEdgeFilter(r.common, r.style, &filter));
  Query query;
  std::string entity;
  TWINLINE_RETURN_IF_ERROR(ResolveProjectionParams(r.common, r.style, read_view, &query, &entity));
  if (IsWindow(r)) {
    int64_t first = 0, last = 0;
    TWINLINE_RETURN_IF_ERROR(WindowDays(r, &first, &last));
    return PrintWindow(*read_view.txn, query, first, last, entity, filter, format, r.layer, out,
                       notes);
  }
  if (IsSeries(r)) return PrintSeries(r, *read_view.txn, query, entity, filter, format, out);

  TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(r.as_of, ParamName(r.style, "as_of"), &query.as_of_day));
  if (r.projection == "countries") {
    size_t top = 0;
    TWINLINE_RETURN_IF_ERROR(ParseTop(r, &top));
    ReplayStats stats;
    TWINLINE_RETURN_IF_ERROR(
        PrintCountries(*read_view.txn, query, top, format, r.layer, out, &stats));
    LogReplayStats(logger, query, stats);
    return Status::Ok();
  }
  if (r.projection == "network" &&
      (format == "gexf" || format == "csv" || (format == "geojson" && !r.layer.empty()))) {
    // The window writers on the one day: the same edges (edge_history.h),
    // with ids, events and sources.
    return PrintWindow(*read_view.txn, query, query.as_of_day, query.as_of_day, entity, filter,
                       format, r.layer, out, notes);
  }
  // Only the row sets the projection shows are computed (Query::rows); a
  // timeline reads the log itself (Timeline) and needs none of them.
  // Count rows are brief (ranges only) where the view shows no more: CSV,
  // and the table of every entity. The entity's own rows only, when one is
  // given (Query::entity).
  const bool brief = format == "csv" || (format == "table" && entity.empty());
  query.rows = r.projection == "trade"      ? kTradeRows
               : r.projection == "network"  ? kEdgeRows
               : r.projection == "partners" ? kEdgeRows
               : r.projection == "timeline" ? RowSets{0}
               : brief                      ? kCountRows | kCountsBrief
                                            : kCountRows;
  query.entity = entity;
  twinline::Snapshot state;
  ReplayStats stats;
  TWINLINE_RETURN_IF_ERROR(Replay(*read_view.txn, query, &state, &stats));
  LogReplayStats(logger, query, stats);
  const View view{*read_view.txn, state, entity, format, filter, out, notes};
  if (r.projection == "trade") return PrintTrade(view);
  if (r.projection == "network") return PrintNetwork(view);
  if (r.projection == "timeline") return PrintTimeline(view, query);
  if (r.projection == "partners") return PrintPartners(view);
  return PrintCounts(view);
}

}  // namespace twinline::api
