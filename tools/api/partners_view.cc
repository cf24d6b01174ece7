#include "tools/api/partners_view.h"

#include <algorithm>
#include <ostream>
#include <set>
#include <tuple>

#include "core/kinds.h"
#include "events/json_codec.h"
#include "tools/api/json_views.h"
#include "tools/api/text_layout.h"

namespace twinline::api {
namespace {

using Json = nlohmann::ordered_json;

void Count(Range* r, Tri status) {
  r->certain += status == Tri::kYes ? 1 : 0;
  r->possible += 1;
}

// One event of an edge, as it stands at the snapshot: an amendment stands
// for its replacement, at the replacement's valid time.
struct Read {
  PartnerEvent event;
  int64_t e = 0, l = 0;
  bool establishes = false;
};

Status ReadEvent(const ReadTxn& txn, const EventMark& mark, uint64_t known_seq, Read* out) {
  TWINLINE_RETURN_IF_ERROR(txn.Get(mark.seq, [&](schema::Event::Reader ev) {
    auto payload = ev.getPayload();
    auto valid = ev.getValidTime();
    if (payload.isAmendment()) {
      valid = payload.getAmendment().getValidTime();
      payload = payload.getAmendment().getReplacement();
    }
    out->event.seq = mark.seq;
    out->event.id = ev.getId();
    out->event.kind = KindName(payload.which());
    out->event.date = valid.getEdtf();
    out->event.occurred = mark.occurred;
    out->e = valid.getEarliest();
    out->l = valid.getLatest();
    const KindSpec* kind = FindKind(payload.which());
    out->establishes = kind != nullptr && kind->establishes;
  }));
  return SourcesBehind(txn, mark.seq, known_seq, &out->event.sources);
}

size_t SourceCount(const Partner& p) {
  size_t n = 0;
  for (const PartnerEvent& e : p.events) n += e.sources.size();
  return n;
}

std::string Heading(const char* what, const Range& count) {
  return std::string(what) + ": " + FormatRange(count);
}

void WriteList(const std::vector<Partner>& list, bool routes, std::ostream& out) {
  std::vector<std::string> headers{"PARTNER", "NAME", "COUNTRY"};
  if (routes) headers.push_back("DIRECTION");
  for (const char* h : {routes ? "MODE" : "KIND", "STATUS", "SINCE", "SOURCES"}) {
    headers.push_back(h);
  }
  Table table(headers);
  table.AlignRight(headers.size() - 1);
  for (const Partner& p : list) {
    std::vector<std::string> row{p.slug, p.info.name,
                                 p.info.country.empty() ? "-" : p.info.country};
    if (routes) row.push_back(p.direction);
    for (std::string cell :
         {p.subkind, std::string(TriName(p.status)), p.since.empty() ? std::string("-") : p.since,
          std::to_string(SourceCount(p))}) {
      row.push_back(std::move(cell));
    }
    table.AddRow(std::move(row));
    for (const PartnerEvent& e : p.events) {
      table.AddNote(e.date + "  " + e.kind + "  " + e.id +
                    (e.occurred == Tri::kYes
                         ? ""
                         : "  (occurred: " + std::string(TriName(e.occurred)) + ")"));
      for (const SourceRef& s : e.sources) table.AddNote("  source: " + DescribeSource(s));
    }
  }
  table.Print(out);
}

Json ListJson(const std::vector<Partner>& list, const Range& count, bool routes) {
  Json partners = Json::array();
  for (const Partner& p : list) {
    Json j{{"partner", p.slug}, {"name", p.info.name}, {"country", p.info.country}};
    if (routes) j["direction"] = p.direction;
    j[routes ? "mode" : "kind"] = p.subkind;
    j["status"] = TriName(p.status);
    j["since"] = p.since;
    Json events = Json::array();
    for (const PartnerEvent& e : p.events) {
      Json sources = Json::array();
      for (const SourceRef& s : e.sources) sources.push_back(SourceJson(s));
      events.push_back(Json{{"seq", e.seq},
                            {"id", e.id},
                            {"kind", e.kind},
                            {"date", e.date},
                            {"occurred", TriName(e.occurred)},
                            {"sources", std::move(sources)}});
    }
    j["events"] = std::move(events);
    partners.push_back(std::move(j));
  }
  return Json{{"count", RangeJson(count)}, {"partners", std::move(partners)}};
}

}  // namespace

Status CollectPartners(const ReadTxn& txn, const Snapshot& snap, const std::string& entity,
                       const EdgeFilter& filter, Partners* out) {
  *out = Partners();
  out->filter = filter;
  std::set<std::string> slugs;
  for (const EdgeRow& e : snap.edges) {
    if (!filter.Keeps(e.kind) || (e.a != entity && e.b != entity)) continue;
    Partner p;
    p.slug = e.a == entity ? e.b : e.a;
    p.subkind = e.subkind;
    p.status = e.status;
    if (e.kind == EdgeRow::Kind::kRoute) p.direction = e.a == entity ? "to" : "from";
    std::vector<Read> events;
    for (const EventMark& m : e.events) {
      TWINLINE_RETURN_IF_ERROR(ReadEvent(txn, m, snap.known_seq, &events.emplace_back()));
    }
    std::stable_sort(events.begin(), events.end(), [](const Read& x, const Read& y) {
      return std::tie(x.e, x.l, x.event.seq) < std::tie(y.e, y.l, y.event.seq);
    });
    for (Read& r : events) {
      if (r.establishes) p.since = r.event.date;
      p.events.push_back(std::move(r.event));
    }
    slugs.insert(p.slug);
    const bool route = e.kind == EdgeRow::Kind::kRoute;
    Count(route ? &out->route_count : &out->partnership_count, e.status);
    (route ? out->routes : out->partnerships).push_back(std::move(p));
  }
  EntityDirectory directory;
  TWINLINE_RETURN_IF_ERROR(LoadEntityDirectory(txn, slugs, &directory));
  for (auto* list : {&out->partnerships, &out->routes}) {
    for (Partner& p : *list) {
      auto it = directory.find(p.slug);
      if (it != directory.end()) {
        p.info = it->second;
      } else {
        p.info.name = p.slug;
      }
    }
  }
  return Status::Ok();
}

void WritePartnersTable(const Partners& partners, std::ostream& out) {
  bool first = true;
  for (bool routes : {false, true}) {
    if (!partners.filter.Keeps(routes ? EdgeRow::Kind::kRoute : EdgeRow::Kind::kPartnership)) {
      continue;
    }
    const auto& list = routes ? partners.routes : partners.partnerships;
    if (!first) out << '\n';
    first = false;
    out << Heading(routes ? "routes" : "partnerships",
                   routes ? partners.route_count : partners.partnership_count)
        << '\n';
    if (!list.empty()) WriteList(list, routes, out);
  }
}

Json PartnersJson(const Partners& partners) {
  Json j = Json::object();
  if (partners.filter.Keeps(EdgeRow::Kind::kPartnership)) {
    j["partnerships"] = ListJson(partners.partnerships, partners.partnership_count, false);
  }
  if (partners.filter.Keeps(EdgeRow::Kind::kRoute)) {
    j["routes"] = ListJson(partners.routes, partners.route_count, true);
  }
  return j;
}

void WritePartnersCsv(const Partners& partners, std::ostream& out) {
  out << "relation,partner,name,country,kind,direction,status,since,events,sources\n";
  for (bool routes : {false, true}) {
    for (const Partner& p : routes ? partners.routes : partners.partnerships) {
      std::string ids, sources;
      for (const PartnerEvent& e : p.events) {
        ids += (ids.empty() ? "" : " ") + e.id;
        for (const SourceRef& s : e.sources) {
          sources += (sources.empty() ? "" : " | ") + DescribeSource(s);
        }
      }
      out << (routes ? "route" : "partnership") << ',' << CsvField(p.slug) << ','
          << CsvField(p.info.name) << ',' << p.info.country << ',' << p.subkind << ','
          << p.direction << ',' << TriName(p.status) << ',' << CsvField(p.since) << ',' << ids
          << ',' << CsvField(sources) << '\n';
    }
  }
}

}  // namespace twinline::api
