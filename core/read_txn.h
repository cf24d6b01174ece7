// Internal to core/: the ReadTxn of an LMDB event log (core/event_log.h
// gives the contract).
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

}  // namespace twinline::log_internal

#endif  // TWINLINE_CORE_READ_TXN_H_
