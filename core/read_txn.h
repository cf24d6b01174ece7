// Internal to core/: the ReadTxn of an LMDB event log, and the
// DerivedWriteTxn that an IndexMaintainer writes derived data through
// (core/event_log.h gives both contracts).
#ifndef TWINLINE_CORE_READ_TXN_H_
#define TWINLINE_CORE_READ_TXN_H_

#include <memory>
#include <string>

#include "core/event_log.h"
#include "core/lmdb_env.h"
#include "core/log_tables.h"

namespace twinline::log_internal {

// A ReadTxn over `txn` (owned). `dbi` is borrowed from the EventLog, which
// outlives every ReadTxn it hands out; `path` is the database directory.
std::unique_ptr<ReadTxn> NewReadTxn(std::unique_ptr<lmdb::Txn> txn, const TableHandles& dbi,
                                    std::string path);

// A DerivedWriteTxn over the write transaction `txn` (borrowed: it must
// outlive the result, and is not committed by it).
std::unique_ptr<DerivedWriteTxn> NewDerivedWriteTxn(lmdb::Txn& txn, const TableHandles& dbi,
                                                    std::string path);

}  // namespace twinline::log_internal

#endif  // TWINLINE_CORE_READ_TXN_H_
