// The network by country (countries.h): one tally fed either from the
// temporal index (each edge's status, its ends' countries at K) or from the
// edge rows of a replay and each end's registration.
#include "projections/countries.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "projections/index_state.h"
#include "projections/state.h"

namespace twinline {
namespace {

void Add(Range* r, Tri status) {
  r->possible += 1;
  r->certain += status == Tri::kYes ? 1 : 0;
}

class Tally {
 public:
  // A number for `country`, the same for the same code.
  uint32_t CountryId(std::string_view country) {
    auto [it, added] = ids_.try_emplace(std::string(country), static_cast<uint32_t>(countries_.size()));
    if (added) countries_.push_back(CountryCounts{it->first, {}, {}, {}});
    return it->second;
  }

  void Edge(EdgeRow::Kind kind, uint32_t ca, uint32_t cb, Tri status) {
    const bool partnership = kind == EdgeRow::Kind::kPartnership;
    Add(partnership ? &total_.partnerships : &total_.routes, status);
    Add(partnership ? &countries_[ca].partnerships : &countries_[ca].routes, status);
    if (cb != ca) Add(partnership ? &countries_[cb].partnerships : &countries_[cb].routes, status);
    const uint64_t key = uint64_t{std::min(ca, cb)} << 32 | std::max(ca, cb);
    Link& link = links_[key];
    Add(partnership ? &link.partnerships : &link.routes, status);
  }

  // An entity with edges, the best of whose statuses is `status`.
  void Entity(uint32_t country, Tri status) {
    Add(&total_.entities, status);
    Add(&countries_[country].entities, status);
  }

  void Finish(uint64_t known_seq, CountryNetwork* out) {
    *out = CountryNetwork();
    out->known_seq = known_seq;
    out->partnerships = total_.partnerships;
    out->routes = total_.routes;
    out->entities = total_.entities;
    out->links.reserve(links_.size());
    for (const auto& [key, link] : links_) {
      const std::string& a = countries_[static_cast<uint32_t>(key >> 32)].country;
      const std::string& b = countries_[static_cast<uint32_t>(key)].country;
      out->links.push_back(CountryLink{std::min(a, b), std::max(a, b), link.partnerships, link.routes});
    }
    auto strength = [](const CountryLink& l) {
      return std::make_tuple(l.partnerships.possible + l.routes.possible,
                             l.partnerships.certain + l.routes.certain);
    };
    std::sort(out->links.begin(), out->links.end(), [&](const CountryLink& x, const CountryLink& y) {
      const auto sx = strength(x), sy = strength(y);
      if (sx != sy) return sx > sy;
      return std::tie(x.a, x.b) < std::tie(y.a, y.b);
    });
    for (CountryCounts& c : countries_) {
      if (c.partnerships.possible + c.routes.possible > 0) out->countries.push_back(std::move(c));
    }
    std::sort(out->countries.begin(), out->countries.end(),
              [](const CountryCounts& x, const CountryCounts& y) { return x.country < y.country; });
  }

 private:
  struct Link {
    Range partnerships, routes;
  };
  struct Total {
    Range partnerships, routes, entities;
  };
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<CountryCounts> countries_;
  std::unordered_map<uint64_t, Link> links_;
  Total total_;
};

Tri Best(Tri x, Tri y) { return static_cast<uint8_t>(x) >= static_cast<uint8_t>(y) ? x : y; }

// From the index: every edge evaluated where it lies; countries by entity id.
Status CountriesFromIndex(const ReadTxn& txn, const projection_internal::IndexView& view,
                          const Query& query, CountryNetwork* out, ReplayStats* stats) {
  const uint64_t known_seq = std::min(query.known_seq, txn.LastSeq());
  projection_internal::IndexState s(txn, view, known_seq);
  TWINLINE_RETURN_IF_ERROR(s.Load());
  stats->tail_events = s.tail_events();
  Tally tally;
  constexpr uint32_t kUnknown = UINT32_MAX;
  std::vector<uint32_t> country(s.entities(), kUnknown);
  std::vector<Tri> best(s.entities(), Tri::kNo);
  auto country_of = [&](uint32_t entity) {
    if (country[entity] == kUnknown) country[entity] = tally.CountryId(s.Country(entity));
    return country[entity];
  };
  const uint32_t edges = s.edges();
  for (uint32_t g = 0; g < edges; ++g) {
    const Tri status = projection_internal::EvaluateEdge(s, g, query.as_of_day, query.rule, nullptr);
    if (status == Tri::kNo) continue;
    const projection_internal::IndexState::EdgeDef def = s.Edge(g);
    tally.Edge(def.kind, country_of(def.a), country_of(def.b), status);
    best[def.a] = Best(best[def.a], status);
    best[def.b] = Best(best[def.b], status);
  }
  for (uint32_t e = 0; e < best.size(); ++e) {
    if (best[e] != Tri::kNo) tally.Entity(country_of(e), best[e]);
  }
  tally.Finish(known_seq, out);
  return Status::Ok();
}

// From the edge rows of a replay, and each end's registration at K.
Status CountriesFromRows(const ReadTxn& txn, const Query& query, CountryNetwork* out,
                         ReplayStats* stats) {
  Query edges_only = query;
  edges_only.rows = kEdgeRows;
  Snapshot snap;
  TWINLINE_RETURN_IF_ERROR(Replay(txn, edges_only, &snap, stats));
  Tally tally;
  struct End {
    uint32_t country = 0;
    Tri best = Tri::kNo;
  };
  std::unordered_map<std::string, End> ends;
  // The ends' countries first (a registration read per entity), then the tally.
  for (const EdgeRow& row : snap.edges) {
    for (const std::string* slug : {&row.a, &row.b}) {
      auto [it, added] = ends.try_emplace(*slug);
      if (!added) continue;
      std::string iso;
      TWINLINE_RETURN_IF_ERROR(
          projection_internal::EffectiveCountry(txn, *slug, snap.known_seq, &iso));
      it->second.country = tally.CountryId(iso);
    }
  }
  for (const EdgeRow& row : snap.edges) {
    End& a = ends[row.a];
    End& b = ends[row.b];
    tally.Edge(row.kind, a.country, b.country, row.status);
    a.best = Best(a.best, row.status);
    b.best = Best(b.best, row.status);
  }
  for (const auto& [slug, e] : ends) tally.Entity(e.country, e.best);
  tally.Finish(snap.known_seq, out);
  return Status::Ok();
}

}  // namespace

Status ReplayCountries(const ReadTxn& txn, const Query& query, CountryNetwork* out,
                       ReplayStats* stats) {
  ReplayStats local;
  ReplayStats& st = stats != nullptr ? *stats : local;
  st = ReplayStats();
  if (!query.entity.empty()) {
    return Status::InvalidArgument(
        "the network by country is the whole network's; one entity's neighbourhood is its edge "
        "rows");
  }
  if (query.use_index) {
    std::unique_ptr<projection_internal::IndexView> view;
    Status opened = projection_internal::IndexView::Open(txn, &view);
    if (opened.ok()) {
      st.used_index = true;
      st.index_seq = view->base_seq();
      return CountriesFromIndex(txn, *view, query, out, &st);
    }
    st.index_problem = opened.message();
  }
  Query from_log = query;
  from_log.use_index = false;
  return CountriesFromRows(txn, from_log, out, &st);
}

}  // namespace twinline
