// Timeline: one entity's story, from the log's by-entity index.
#include <algorithm>
#include <tuple>

#include "core/identity.h"
#include "core/schema_names.h"
#include "projections/projection.h"
#include "projections/state.h"

namespace twinline {

using Which = schema::Payload::Which;

Status Timeline(const ReadTxn& txn, std::string_view entity, const Query& query,
                std::vector<TimelineEntry>* out) {
  out->clear();
  uint64_t registration = 0;
  TWINLINE_RETURN_IF_ERROR(txn.FindEntity(entity, &registration));
  const uint64_t known_seq = std::min(query.known_seq, txn.LastSeq());
  const int64_t day = query.as_of_day;

  struct Item {
    int64_t e = 0, l = 0;
    TimelineEntry entry;
  };
  std::vector<Item> items;
  Status inner;
  Status st = txn.ScanEntity(entity, [&](schema::Event::Reader ev) {
    if (ev.getSeq() > known_seq) return false;  // ascending seq
    auto payload = ev.getPayload();
    const Which which = payload.which();
    if (which == Which::RETRACTION || which == Which::CORROBORATION) return true;
    Item item;
    TimelineEntry& entry = item.entry;
    if (which == Which::AMENDMENT) {
      // An amendment touches the entity through its target too; it belongs
      // here only if its replacement is about the entity.
      auto refs = EntityRefs(payload.getAmendment().getReplacement());
      if (!std::binary_search(refs.begin(), refs.end(), std::string(entity))) return true;
      entry.amends = Str(payload.getAmendment().getTarget());
      payload = payload.getAmendment().getReplacement();
    }
    auto date = ev.getValidTime();
    item.e = date.getEarliest();
    item.l = date.getLatest();
    entry.occurred = projection_internal::Occurrence(item.e, item.l, day, query.rule);
    if (entry.occurred == Tri::kNo) return true;
    entry.seq = ev.getSeq();
    entry.id = Str(ev.getId());
    entry.kind = PayloadKindName(payload.which());
    entry.date = Str(date.getEdtf());
    entry.source_seqs.push_back(entry.seq);
    // One pass over what refers to it: corrections supersede it,
    // corroborations add sources.
    bool superseded = false;
    inner = txn.ScanReferences(entry.id, [&](schema::Event::Reader ref) {
      if (ref.getSeq() > known_seq) return false;
      const Which kind = ref.getPayload().which();
      if (kind == Which::CORROBORATION) {
        entry.source_seqs.push_back(ref.getSeq());
      } else {
        superseded = true;
      }
      return true;
    });
    if (!inner.ok()) return false;
    if (!superseded) items.push_back(std::move(item));
    return true;
  });
  TWINLINE_RETURN_IF_ERROR(inner);
  TWINLINE_RETURN_IF_ERROR(st);
  std::sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    return std::tie(x.e, x.l, x.entry.seq) < std::tie(y.e, y.l, y.entry.seq);
  });
  for (Item& item : items) out->push_back(std::move(item.entry));
  return Status::Ok();
}

}  // namespace twinline
