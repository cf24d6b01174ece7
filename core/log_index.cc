#include "core/log_index.h"

#include <algorithm>
#include <set>

#include "core/identity.h"
#include "core/lmdb_env.h"

namespace twinline::log_internal {

using Which = schema::Payload::Which;
using lmdb::EncodeU64;

std::string Join(std::string_view a, std::string_view b) {
  std::string out(a);
  out.push_back('\0');
  out.append(b);
  return out;
}

TargetInfo DescribeTarget(schema::Event::Reader ev) {
  TargetInfo info;
  info.seq = ev.getSeq();
  auto payload = ev.getPayload();
  info.which = payload.which();
  info.fact_which =
      info.which == Which::AMENDMENT ? payload.getAmendment().getReplacement().which() : info.which;
  info.fact = FactFingerprint(payload, ev.getValidTime().getEdtf().cStr());
  info.entities = EntityRefs(payload);
  info.edtf = Str(ev.getValidTime().getEdtf());
  info.earliest = ev.getValidTime().getEarliest();
  info.latest = ev.getValidTime().getLatest();
  return info;
}

Status IndexEntriesFor(schema::Event::Reader ev, const NameFolder& folder,
                       const TargetLookup& lookup, std::vector<IndexEntry>* out,
                       const Digest* known_fact) {
  const uint64_t seq = ev.getSeq();
  const std::string seq_key = EncodeU64(seq);
  auto payload = ev.getPayload();
  const Which which = payload.which();

  out->push_back({kById, std::string(ev.getId().cStr(), ev.getId().size()), seq_key});

  std::vector<std::string> entities = EntityRefs(payload);
  if (IsReference(which)) {
    TargetInfo target;
    TWINLINE_RETURN_IF_ERROR(lookup(ReferenceTarget(payload), &target));
    entities.insert(entities.end(), target.entities.begin(), target.entities.end());
    std::sort(entities.begin(), entities.end());
    entities.erase(std::unique(entities.begin(), entities.end()), entities.end());
    const char tag = which == Which::RETRACTION ? 'R' : which == Which::AMENDMENT ? 'A' : 'C';
    out->push_back({kRefs, std::string(ReferenceTarget(payload)), seq_key + tag});
  }
  for (auto& slug : entities) out->push_back({kByEntity, std::move(slug), seq_key});

  if (which == Which::ENTITY_REGISTERED) {
    auto reg = payload.getEntityRegistered();
    std::string slug = Str(reg.getEntity());
    out->push_back({kEntities, slug, seq_key});
    std::set<std::string> keys = {slug};
    for (auto name : reg.getNames()) {
      std::vector<std::string> name_keys;
      TWINLINE_RETURN_IF_ERROR(folder.IndexKeys(name.getText().cStr(), &name_keys));
      keys.insert(name_keys.begin(), name_keys.end());
    }
    for (const auto& key : keys) out->push_back({kNames, Join(key, slug), ""});
  }

  // A corroboration states no fact of its own: its sources belong to its
  // target's, which has the entry.
  if (which != Which::CORROBORATION) {
    const Digest fact = known_fact != nullptr
                            ? *known_fact
                            : FactFingerprint(payload, ev.getValidTime().getEdtf().cStr());
    out->push_back({kFacts, FactKey(fact), seq_key});
  }
  return Status::Ok();
}

Status OpenTables(lmdb::Txn& txn, bool create, TableHandles* dbi) {
  for (size_t i = 0; i < kNumTables; ++i) {
    TWINLINE_RETURN_IF_ERROR(txn.OpenDb(kTableNames[i], create, &(*dbi)[i], kTableFlags[i]));
  }
  return Status::Ok();
}

}  // namespace twinline::log_internal
