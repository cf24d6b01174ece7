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
  kByDate,
  kByEntity,
  kById,
  kEntities,
  kNames,
  kFacts,
  kFactSources,
  kRefs,
  kCheckpoints,  // derived data, outside the chain and Verify's index check
  kNumTables
};

inline constexpr std::array<const char*, kNumTables> kTableNames = {
    "meta", "events", "chain", "by_date", "by_entity", "by_id",
    "entities", "names", "facts", "fact_sources", "refs", "checkpoints"};

using TableHandles = std::array<MDB_dbi, kNumTables>;

struct EventLog::Tables {
  std::array<MDB_dbi, kNumTables> dbi{};
};

namespace log_internal {

inline const Digest kZeroDigest{};

// `a` 0x00 `b`: the keys of by_entity, names and refs.
std::string Join(std::string_view a, std::string_view b);

// Opens (or, with `create`, creates) every table in `txn`.
Status OpenTables(lmdb::Txn& txn, bool create, TableHandles* dbi);

// Refuses a database this build cannot read: a newer format, or a version
// record that is not a format number at all. Nothing is written either way.
Status CheckFormatVersion(const std::string& path, std::string_view text);

}  // namespace log_internal
}  // namespace twinline

#endif  // TWINLINE_CORE_LOG_TABLES_H_
