#include "bench/effective_facts.h"

#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/schema_names.h"

namespace twinline::bench {
namespace {

using Which = schema::Payload::Which;

std::string_view View(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

// Gives entities, edges and trade keys their ids as facts name them.
class Reader {
 public:
  Reader(FactSink* sink, FactStats* stats) : sink_(sink), stats_(stats) {}

  Status Run(const ReadTxn& txn) {
    const uint64_t last = txn.LastSeq();
    // 1. Which events are superseded.
    std::unordered_set<std::string> superseded;
    TWINLINE_RETURN_IF_ERROR(txn.Scan(1, last, [&](schema::Event::Reader ev) {
      ++stats_->events_read;
      auto p = ev.getPayload();
      if (p.which() == Which::RETRACTION) superseded.emplace(View(p.getRetraction().getTarget()));
      if (p.which() == Which::AMENDMENT) superseded.emplace(View(p.getAmendment().getTarget()));
      return true;
    }));
    // 2. The facts.
    Status inner;
    TWINLINE_RETURN_IF_ERROR(txn.Scan(1, last, [&](schema::Event::Reader ev) {
      auto p = ev.getPayload();
      if (p.which() == Which::RETRACTION || p.which() == Which::CORROBORATION) return true;
      if (superseded.count(std::string(View(ev.getId()))) > 0) return true;
      if (p.which() == Which::AMENDMENT) p = p.getAmendment().getReplacement();
      inner = Fact(ev.getSeq(), ev.getValidTime().getEarliest(), ev.getValidTime().getLatest(), p);
      return inner.ok();
    }));
    TWINLINE_RETURN_IF_ERROR(inner);
    stats_->entities = entities_.size();
    stats_->edges = edges_.size();
    stats_->trade_keys = trade_keys_.size();
    return Status::Ok();
  }

 private:
  Status Entity(std::string_view slug, int64_t* id) {
    auto [it, inserted] =
        entities_.try_emplace(std::string(slug), static_cast<int64_t>(entities_.size()) + 1);
    *id = it->second;
    return inserted ? sink_->Entity(*id, slug) : Status::Ok();
  }

  Status Edge(int kind, std::string_view a, std::string_view b, uint16_t subkind, bool establish,
              uint64_t seq, int64_t e) {
    int64_t ia = 0, ib = 0;
    TWINLINE_RETURN_IF_ERROR(Entity(a, &ia));
    TWINLINE_RETURN_IF_ERROR(Entity(b, &ib));
    auto [it, inserted] = edges_.try_emplace(std::tuple(kind, ia, ib, subkind),
                                             static_cast<int64_t>(edges_.size()) + 1);
    if (inserted) TWINLINE_RETURN_IF_ERROR(sink_->Edge(it->second, kind, ia, ib, subkind));
    ++stats_->edge_events;
    return sink_->EdgeEvent(it->second, e, static_cast<int64_t>(seq), establish);
  }

  Status Fact(uint64_t seq, int64_t e, int64_t l, schema::Payload::Reader p) {
    switch (p.which()) {
      case Which::PARTNERSHIP_ESTABLISHED:
      case Which::PARTNERSHIP_ENDED: {
        const bool establish = p.which() == Which::PARTNERSHIP_ESTABLISHED;
        auto x = establish ? p.getPartnershipEstablished() : p.getPartnershipEnded();
        return Edge(0, View(x.getA()), View(x.getB()), static_cast<uint16_t>(x.getKind()),
                    establish, seq, e);
      }
      case Which::ROUTE_OPENED:
      case Which::ROUTE_CLOSED: {
        const bool establish = p.which() == Which::ROUTE_OPENED;
        auto x = establish ? p.getRouteOpened() : p.getRouteClosed();
        return Edge(1, View(x.getFrom()), View(x.getTo()), static_cast<uint16_t>(x.getMode()),
                    establish, seq, e);
      }
      case Which::TRADE_VOLUME_REPORTED: {
        auto x = p.getTradeVolumeReported();
        int64_t reporter = 0, partner = 0;
        TWINLINE_RETURN_IF_ERROR(Entity(View(x.getReporter()), &reporter));
        TWINLINE_RETURN_IF_ERROR(Entity(View(x.getPartner()), &partner));
        const auto flow = static_cast<uint16_t>(x.getFlow());
        auto [it, inserted] = trade_keys_.try_emplace(
            std::tuple(reporter, partner, std::string(View(x.getPeriod())), flow),
            static_cast<int64_t>(trade_keys_.size()) + 1);
        if (inserted) {
          TWINLINE_RETURN_IF_ERROR(
              sink_->TradeKey(it->second, reporter, partner, View(x.getPeriod()),
                              EnumerantName(capnp::Schema::from<schema::TradeFlow>(), flow)));
        }
        ++stats_->trade_reports;
        return sink_->TradeReport(static_cast<int64_t>(seq), it->second, e, l, x.getAmount(),
                                  View(x.getCurrency()));
      }
      default:
        return Status::Ok();  // not part of the question
    }
  }

  FactSink* sink_;     // borrowed
  FactStats* stats_;   // borrowed
  std::unordered_map<std::string, int64_t> entities_;
  std::map<std::tuple<int, int64_t, int64_t, uint16_t>, int64_t> edges_;
  std::map<std::tuple<int64_t, int64_t, std::string, uint16_t>, int64_t> trade_keys_;
};

}  // namespace

Status ReadEffectiveFacts(const ReadTxn& txn, FactSink* sink, FactStats* stats) {
  *stats = FactStats();
  return Reader(sink, stats).Run(txn);
}

}  // namespace twinline::bench
