// Internal to core/: the index entries a stored event owns (docs/FORMAT.md).
// One function derives them for the writer (to put them) and for Verify (to
// check them), so the two can never disagree about what an index holds.
#ifndef TWINLINE_CORE_LOG_INDEX_H_
#define TWINLINE_CORE_LOG_INDEX_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_tables.h"
#include "core/names.h"
#include "core/sha256.h"
#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace twinline::log_internal {

// What the index derivation needs to know about a reference's target.
struct TargetInfo {
  using Which = schema::Payload::Which;
  uint64_t seq = 0;
  Which which = Which::ENTITY_REGISTERED;
  Which fact_which = Which::ENTITY_REGISTERED;  // for an amendment: its replacement's kind
  Digest fact{};
  std::vector<std::string> entities;
  std::string edtf;
  int64_t earliest = 0, latest = 0;
};

// The target facts of `ev`, as a reference to it needs them.
TargetInfo DescribeTarget(schema::Event::Reader ev);

using TargetLookup = std::function<Status(std::string_view id, TargetInfo* info)>;

// The `facts` key of a fact fingerprint: its first 8 bytes. Two facts may
// share one (the entries are sorted duplicates); whoever looks a fact up
// compares the whole fingerprint of each candidate.
inline std::string FactKey(const Digest& fact) {
  return std::string(reinterpret_cast<const char*>(fact.data()), 8);
}

// One entry of a record index: for the posting tables (by_entity, facts,
// refs) a duplicate `value` under `key`.
struct IndexEntry {
  Table table;
  std::string key;
  std::string value;
};

// The index entries one stored event owns (docs/FORMAT.md). The same function
// serves Append (to write them) and Verify (to rebuild them), so the two can
// never disagree about what an index should hold. `known_fact`, when set, is
// the event's own fact fingerprint as the caller already computed it (an
// append has; not used for a corroboration, whose fact is its target's).
Status IndexEntriesFor(schema::Event::Reader ev, const NameFolder& folder,
                       const TargetLookup& lookup, std::vector<IndexEntry>* out,
                       const Digest* known_fact = nullptr);

}  // namespace twinline::log_internal

#endif  // TWINLINE_CORE_LOG_INDEX_H_
