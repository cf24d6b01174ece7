// Reading a database of on-disk format 1 (docs/FORMAT.md, "Versioning":
// records stored unpacked, with by_date, fact_sources and checkpoints
// tables), for `twinline upgrade`, which copies its records into a log of
// the current format. Nothing here writes to the old database.
#ifndef TWINLINE_CORE_FORMAT1_H_
#define TWINLINE_CORE_FORMAT1_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/sha256.h"
#include "core/status.h"

namespace twinline {

struct Format1Log {
  uint64_t last_seq = 0;
  Digest head{};  // the stored chain hash of the last record (zeros when empty)
};

// Opens the format-1 database in `path` read-only and hands `fn` every
// record in seq order, in its canonical form (format 1 stored exactly that).
// kVersion when the database is not of format 1; `fn`'s error stops the scan.
Status ScanFormat1(const std::string& path,
                   const std::function<Status(uint64_t seq, std::string_view canonical)>& fn,
                   Format1Log* log);

}  // namespace twinline

#endif  // TWINLINE_CORE_FORMAT1_H_
