// Internal to core/: the LMDB tables of an event log (docs/FORMAT.md,
// "Named databases"), shared by the log's writer, reader, verification and
// backup. Not part of the API (that is core/event_log.h).
#ifndef TWINLINE_CORE_LOG_TABLES_H_
#define TWINLINE_CORE_LOG_TABLES_H_

#include <lmdb.h>

#include <array>
#include <string>
#include <string_view>

#include "core/event_log.h"
#include "core/lmdb_env.h"
#include "core/sha256.h"

namespace twinline {

enum Table : size_t {
  kMeta,
  kEvents,
  kChain,
  kById,
  kByEntity,
  kEntities,
  kNames,
  kFacts,
  kRefs,
  kIndex,  // derived data (the temporal index), outside the chain and Verify's index check
  kNumTables
};

inline constexpr std::array<const char*, kNumTables> kTableNames = {
    "meta", "events", "chain", "by_id", "by_entity", "entities", "names", "facts", "refs", "index"};

// mdb_dbi_open flags of each table: the postings (by_entity, facts, refs)
// are sorted duplicates of one fixed size under one key, stored packed by
// LMDB without a node per entry.
inline constexpr std::array<unsigned, kNumTables> kTableFlags = {
    0, 0, 0, 0, MDB_DUPSORT | MDB_DUPFIXED, 0, 0, MDB_DUPSORT | MDB_DUPFIXED,
    MDB_DUPSORT | MDB_DUPFIXED, 0};

// The tables whose entries Verify derives from the records (the postings
// and lookups; not the records, the chain, meta or the derived index).
inline constexpr bool IsRecordIndex(size_t t) {
  return t == kById || t == kByEntity || t == kEntities || t == kNames || t == kFacts ||
         t == kRefs;
}

using TableHandles = std::array<MDB_dbi, kNumTables>;

struct EventLog::Tables {
  std::array<MDB_dbi, kNumTables> dbi{};
};

namespace log_internal {

inline const Digest kZeroDigest{};

// `a` 0x00 `b`: the keys of names.
std::string Join(std::string_view a, std::string_view b);

// Opens (or, with `create`, creates) every table in `txn`.
Status OpenTables(lmdb::Txn& txn, bool create, TableHandles* dbi);

// Refuses a database this build cannot read: a newer format, or a version
// record that is not a format number at all. Nothing is written either way.
Status CheckFormatVersion(const std::string& path, std::string_view text);

}  // namespace log_internal
}  // namespace twinline

#endif  // TWINLINE_CORE_LOG_TABLES_H_
