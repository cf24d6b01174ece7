// Internal to core/: appending to an event log — one write transaction per
// batch (its own, or one nested in a group commit's). Behind
// EventLog::Append, BeginBatch and AppendGroup (core/event_log.h gives the
// contract).
#ifndef TWINLINE_CORE_LOG_WRITER_H_
#define TWINLINE_CORE_LOG_WRITER_H_

#include <spdlog/spdlog.h>

#include <memory>
#include <vector>

#include "core/event_log.h"
#include "core/lmdb_env.h"
#include "core/log_tables.h"
#include "core/names.h"

namespace twinline::log_internal {

// A batch being appended in one write transaction. The first failure
// aborts the transaction, so nothing of the batch remains, and is returned
// again by every later call.
class LogBatchWriter : public EventLog::BatchWriter {
 public:
  // Add without taking the message: Append leaves the caller's batch in place.
  virtual Status AddMessage(capnp::MessageBuilder& message, AppendOutcome* outcome) = 0;
  // The batch failed because the map filled up: Append and AppendGroup grow
  // it and run the batch again.
  virtual bool map_full() const = 0;
};

// Who else a writer serves. Borrowed from the EventLog, which outlives
// every writer it hands out.
struct WriterHooks {
  IndexMaintainer* maintainer = nullptr;  // may be null
  spdlog::logger* logger = nullptr;       // may be null
  // Each written event goes to maintainer->Observe (EventLog::BeginBatch).
  bool streamed = false;
  // A batch nested in a group commit: its Commit hands its writes to the
  // group's transaction, and the maintainer runs once, before the group's.
  bool nested = false;
};

// Starts a writer on `txn` (owned; a fresh or a nested write transaction):
// reads the log's end and checks options.expected_last_seq; `now` is the
// batch's recorded time (clamped so that it never goes backwards). `env`,
// `dbi` and `folder` are borrowed from the EventLog, which outlives every
// writer it hands out.
Status StartWriter(std::unique_ptr<lmdb::Txn> txn, const lmdb::Env& env, const TableHandles& dbi,
                   const NameFolder& folder, const AppendOptions& options, int64_t now,
                   const WriterHooks& hooks, std::unique_ptr<LogBatchWriter>* out);

// Writes every event of `batch` (left in place) through `writer` and commits.
Status WriteAll(LogBatchWriter& writer, std::vector<PendingEvent>& batch, AppendResult* result);

}  // namespace twinline::log_internal

#endif  // TWINLINE_CORE_LOG_WRITER_H_
