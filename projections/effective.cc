// The effective facts at K (docs/PROJECTIONS.md §1), streamed from the log.
//
// Whether a fact is superseded is asked of the `refs` index per fact
// (ReadTxn::ScanReferences: the corrections and corroborations that target
// its id), so nothing about the whole log is held in memory: neither the
// events nor the set of corrections.
#include <capnp/schema.h>


#include "core/edtf.h"
#include "core/identity.h"
#include "core/schema_names.h"
#include "projections/state.h"

namespace twinline::projection_internal {

using Which = schema::Payload::Which;

Tri Occurrence(int64_t e, int64_t l, int64_t day, DateRule rule) {
  switch (rule) {
    case DateRule::kEarliest:
      return e <= day ? Tri::kYes : Tri::kNo;
    case DateRule::kLatest:
      return l != kUnboundedEnd && l <= day ? Tri::kYes : Tri::kNo;
    case DateRule::kRange:
      break;
  }
  if (l <= day) return Tri::kYes;
  return e <= day ? Tri::kMaybe : Tri::kNo;
}

Status FindSuperseding(const ReadTxn& txn, std::string_view id, uint64_t known_seq,
                       bool* superseded, std::optional<uint64_t>* amended_by) {
  *superseded = false;
  if (amended_by != nullptr) amended_by->reset();
  return txn.ScanReferences(id, [&](schema::Event::Reader ref) {
    if (ref.getSeq() > known_seq) return false;  // ascending seq: nothing later counts
    const Which which = ref.getPayload().which();
    if (which == Which::RETRACTION || which == Which::AMENDMENT) *superseded = true;
    if (which == Which::AMENDMENT && amended_by != nullptr) *amended_by = ref.getSeq();
    return true;
  });
}

Status ScanEffectiveFacts(const ReadTxn& txn, uint64_t known_seq, std::optional<int64_t> after_day,
                          int64_t to_day, const std::function<bool(const Fact&)>& fn,
                          RowSets rows) {
  if (after_day && *after_day >= to_day) return Status::Ok();
  const int64_t from_day = after_day ? *after_day + 1 : kUnboundedStart;
  uint64_t visited = 0;
  Status inner;
  Status st = txn.ScanStarting(from_day, to_day, [&](schema::Event::Reader ev) {
    // Between records: nothing from earlier callbacks is held (state.h).
    if (++visited % kReleaseEvery == 0) txn.ReleaseMappedPages();
    if (ev.getSeq() > known_seq) return true;
    auto payload = ev.getPayload();
    const Which which = payload.which();
    if (which == Which::RETRACTION || which == Which::CORROBORATION) return true;
    if (which == Which::AMENDMENT) payload = payload.getAmendment().getReplacement();
    if ((RowsFed(payload.which()) & rows) == 0) return true;  // not even looked up
    const std::string_view id(ev.getId().cStr(), ev.getId().size());
    bool superseded = false;
    inner = FindSuperseding(txn, id, known_seq, &superseded);
    if (!inner.ok()) return false;
    if (superseded) return true;
    auto date = ev.getValidTime();
    Fact fact;
    fact.seq = ev.getSeq();
    fact.e = date.getEarliest();
    fact.l = date.getLatest();
    fact.edtf = std::string_view(date.getEdtf().cStr(), date.getEdtf().size());
    fact.payload = payload;
    return fn(fact);
  });
  TWINLINE_RETURN_IF_ERROR(inner);
  return st;
}

Status EffectiveCountry(const ReadTxn& txn, std::string_view slug, uint64_t known_seq,
                        std::string* country) {
  country->clear();
  uint64_t seq = 0;
  Status st = txn.FindEntity(slug, &seq);
  if (st.code() == Status::Code::kNotFound) return Status::Ok();
  TWINLINE_RETURN_IF_ERROR(st);
  // Follow the registration's amendments (each amends the previous one) to
  // the one in effect at known_seq.
  while (seq <= known_seq) {
    std::string id, entity, iso;
    bool registration = false;
    TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
      id = Str(ev.getId());
      auto payload = ev.getPayload();
      if (payload.which() == Which::AMENDMENT) payload = payload.getAmendment().getReplacement();
      if (payload.which() == Which::ENTITY_REGISTERED) {
        registration = true;
        entity = Str(payload.getEntityRegistered().getEntity());
        iso = Str(payload.getEntityRegistered().getCountry());
      }
    }));
    bool superseded = false;
    std::optional<uint64_t> amended_by;
    TWINLINE_RETURN_IF_ERROR(FindSuperseding(txn, id, known_seq, &superseded, &amended_by));
    if (amended_by) {
      seq = *amended_by;
      continue;
    }
    if (!superseded && registration && entity == slug) *country = iso;
    break;
  }
  return Status::Ok();
}

std::string PartnershipKindName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::PartnershipKind>(), ordinal);
}
std::string RouteModeName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::RouteMode>(), ordinal);
}
std::string TradeFlowName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::TradeFlow>(), ordinal);
}
std::string QualifierName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::Qualifier>(), ordinal);
}


}  // namespace twinline::projection_internal
