// Plain LMDB, no twinline: what the storage engine itself delivers on the
// same record bytes, the reference beside twinline's import and replay
// figures (bench/README.md).
//
//  * PutRecords: copies the `events` table of a twinline log (its values are
//    the encoded events, docs/FORMAT.md) into a fresh environment with
//    mdb_put(MDB_APPEND), `batch` records per write transaction, each
//    commit durable: the storage limit for appending those records.
//  * ScanRecords: one read transaction, one cursor over `events`, touching
//    every byte of every value: the limit for reading the log.
// The environments are opened with the flags twinline uses (MDB_NOTLS,
// durable commits; a fixed 64 GiB map, whose size costs nothing). A directory must not be open
// through an EventLog in the same process at the same time (LMDB's rule: one environment handle per
// file per process).
#ifndef TWINLINE_BENCH_LMDB_REFERENCE_H_
#define TWINLINE_BENCH_LMDB_REFERENCE_H_

#include <cstdint>
#include <string>

#include "core/status.h"

namespace twinline::bench {

struct PlainStats {
  uint64_t records = 0;
  uint64_t bytes = 0;     // value bytes
  uint64_t checksum = 0;  // sum of all value bytes (keeps the reads from being optimised away)
};

// `to_dir` is created; it must not exist. batch = 0: one transaction.
Status PutRecords(const std::string& from_dir, const std::string& to_dir, uint64_t batch,
                  PlainStats* stats);
Status ScanRecords(const std::string& dir, PlainStats* stats);

}  // namespace twinline::bench

#endif  // TWINLINE_BENCH_LMDB_REFERENCE_H_
