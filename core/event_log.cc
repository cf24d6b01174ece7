// The LMDB event log: opening it, appending (through core/log_writer.h),
// reading (core/read_txn.h) and writing derived data. Layout and rules:
// docs/FORMAT.md and docs/EVENTS.md; verification is in verify.cc, backups
// in backup.cc.
#include "core/event_log.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>
#include <ctime>

#include "core/db_file_check.h"
#include "core/lmdb_env.h"
#include "core/log_tables.h"
#include "core/log_writer.h"
#include "core/names.h"
#include "core/read_txn.h"

namespace twinline {

using namespace log_internal;  // NOLINT: the log's own internals

namespace log_internal {

Status CheckFormatVersion(const std::string& path, std::string_view text) {
  uint64_t version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  const std::string readable = std::to_string(kFormatVersion);
  if (ec != std::errc() || end != text.data() + text.size() || version == 0) {
    return Status::Version("'" + path + "' has an unreadable format version '" + std::string(text) +
                           "' (this build reads format " + readable +
                           "); it was not modified");
  }
  if (version < kFormatVersion) {
    return Status::Version("'" + path + "' is in format " + std::to_string(version) +
                           ", written by an earlier twinline (this build reads format " + readable +
                           "); copy it into the current format with `twinline upgrade " + path +
                           " NEW_DIR`. It was not modified");
  }
  if (version > kFormatVersion) {
    return Status::Version("'" + path + "' was written by a newer twinline (format " +
                           std::to_string(version) + ", this build reads up to " + readable +
                           "); upgrade twinline to use it. It was not modified");
  }
  return Status::Ok();
}


}  // namespace log_internal

namespace {

std::string FormatRfc3339(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// After a write hit the end of the map: grows it, or says why it cannot.
Status GrowMap(const lmdb::Env& env, spdlog::logger* logger) {
  const size_t before = env.map_size();
  Status st = env.Grow();
  if (!st.ok()) return Status::Full(st.message() + "; nothing was written");
  if (logger)
    logger->info("database map grown from {} MiB to {} MiB", before >> 20, env.map_size() >> 20);
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// EventLog.

EventLog::EventLog(std::string path, std::unique_ptr<lmdb::Env> env, std::unique_ptr<Tables> tables,
                   const OpenOptions& options)
    : path_(std::move(path)),
      env_(std::move(env)),
      tables_(std::move(tables)),
      clock_(options.clock ? options.clock : &system_clock_),
      logger_(options.logger),
      maintainer_(options.maintainer) {}

EventLog::~EventLog() = default;

Status EventLog::Open(const std::string& path, const OpenOptions& options,
                      std::unique_ptr<EventLog>* out) {
  lmdb::EnvOptions env_options;
  env_options.read_only = options.read_only;
  env_options.create = options.create_if_missing;
  env_options.initial_map_size = options.map_size;
  env_options.max_map_size = options.max_map_size;
  env_options.resize_wait = options.resize_wait;
  // Hardening (issue 14, core/db_file_check.h): data.mdb is checked against
  // LMDB's meta pages and roots before anything maps it.
  DataFileFacts file;
  TWINLINE_RETURN_IF_ERROR(CheckDataFile(path, &file));
  std::unique_ptr<lmdb::Env> env;
  TWINLINE_RETURN_IF_ERROR(lmdb::Env::Open(path, env_options, &env));
  if (env->lockless() && options.logger) {
    options.logger->info(
        "'{}' is read-only to this user: reading without LMDB's lock file; results "
        "are consistent only while no other process writes",
        path);
  }
  auto tables = std::make_unique<Tables>();

  // Table handles opened in a transaction become the environment's when it
  // commits; read-only transactions commit too, for that reason.
  std::unique_ptr<lmdb::Txn> txn;
  const bool create = options.create_if_missing && !options.read_only;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env, /*read_only=*/!create, &txn));
  // The version record first: a database of a newer format is refused
  // before anything else is read from it, and nothing is ever written to it.
  bool versioned = false;
  // Issue 14: `init` writes only into a data file that holds nothing, and a
  // missing version record or table is damage unless the file holds nothing.
  const bool may_init = create && !file.holds_data;
  {
    MDB_dbi meta;
    Status st = txn->OpenDb(kTableNames[kMeta], may_init, &meta);
    MDB_val v;
    if (st.ok()) st = txn->Get(meta, "format_version", &v);
    if (st.ok()) {
      TWINLINE_RETURN_IF_ERROR(CheckFormatVersion(path, lmdb::View(v)));
      versioned = true;
    } else if (st.code() != Status::Code::kNotFound) {
      return st;
    } else if (!may_init) {
      return NoVersionRecord(path, file);
    }
  }
  if (versioned) TWINLINE_RETURN_IF_ERROR(CheckTableSet(path, file, kTableNames));
  Status tables_status = OpenTables(*txn, may_init && !versioned, &tables->dbi);
  if (tables_status.code() == Status::Code::kNotFound) {
    return Status::Corruption("'" + path + "' is damaged: " + tables_status.message());
  }
  TWINLINE_RETURN_IF_ERROR(tables_status);
  if (!versioned) {
    const Clock* clock = options.clock;
    SystemClock system;
    int64_t now = (clock ? clock : &system)->NowMicros();
    TWINLINE_RETURN_IF_ERROR(txn->Put(tables->dbi[kMeta], "format_version",
                                      std::to_string(kFormatVersion), 0, "format version"));
    TWINLINE_RETURN_IF_ERROR(
        txn->Put(tables->dbi[kMeta], "created_at", FormatRfc3339(now), 0, "creation time"));
  }
  TWINLINE_RETURN_IF_ERROR(txn->Commit());

  Status folder_status;
  auto folder = NameFolder::Create(&folder_status);
  if (!folder) return folder_status;
  out->reset(new EventLog(path, std::move(env), std::move(tables), options));
  (*out)->folder_ = std::move(folder);
  return Status::Ok();
}

Status EventLog::Append(std::vector<PendingEvent>& batch, const AppendOptions& options,
                        AppendResult* result) {
  for (;;) {
    *result = AppendResult();
    Status st;
    bool map_full = false;
    {
      std::unique_ptr<lmdb::Txn> txn;
      TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/false, &txn));
      std::unique_ptr<LogBatchWriter> writer;
      WriterHooks hooks{maintainer_.get(), logger_.get()};
      st = StartWriter(std::move(txn), *env_, tables_->dbi, *folder_, options, clock_->NowMicros(),
                       hooks, &writer);
      if (st.ok()) st = WriteAll(*writer, batch, result);
      map_full = writer != nullptr && writer->map_full();
    }  // the transaction has ended: the map may be resized
    if (st.ok() || !map_full) return st;
    *result = AppendResult();
    // The whole batch again, in a bigger map (the events are still in `batch`).
    TWINLINE_RETURN_IF_ERROR(GrowMap(*env_, logger_.get()));
  }
}

Status EventLog::BeginBatch(const AppendOptions& options, std::unique_ptr<BatchWriter>* out) {
  // A streamed batch cannot be run again (its events are gone once added),
  // so give it all the room there is before it begins.
  env_->GrowToLimit();
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/false, &txn));
  std::unique_ptr<LogBatchWriter> writer;
  WriterHooks hooks{maintainer_.get(), logger_.get()};
  hooks.streamed = true;
  TWINLINE_RETURN_IF_ERROR(StartWriter(std::move(txn), *env_, tables_->dbi, *folder_, options,
                                       clock_->NowMicros(), hooks, &writer));
  *out = std::move(writer);
  return Status::Ok();
}

Status EventLog::AppendGroup(std::vector<GroupItem>* items) {
  for (;;) {
    bool map_full = false;
    Status st = AppendGroupOnce(items, &map_full);
    if (!map_full) return st;
    // Nothing of the group was committed: grow the map and run it all again.
    Status grown = GrowMap(*env_, logger_.get());
    if (!grown.ok()) {
      for (GroupItem& item : *items) {
        item.status = grown;
        item.result = AppendResult();
      }
      return grown;
    }
  }
}

Status EventLog::AppendGroupOnce(std::vector<GroupItem>* items, bool* map_full) {
  for (GroupItem& item : *items) {
    item.status = Status::Ok();
    item.result = AppendResult();
  }
  std::unique_ptr<lmdb::Txn> group;
  Status st = lmdb::Txn::Begin(*env_, /*read_only=*/false, &group);
  size_t landed = 0;
  uint64_t last_seq = 0;
  uint64_t before = 0;  // the log's last seq before the group
  if (st.ok()) {
    std::unique_ptr<lmdb::Cursor> c;
    st = lmdb::Cursor::Open(*group, tables_->dbi[kEvents], &c);
    if (st.ok() && c->Last()) st = lmdb::DecodeStoredU64(c->key(), "a key of table 'events'", &before);
    if (st.ok()) st = c->status();
  }
  for (size_t i = 0; st.ok() && i < items->size(); ++i) {
    GroupItem& item = (*items)[i];
    // Each batch in its own nested transaction: a failure aborts it alone,
    // and the next batch starts from the log as the earlier ones left it.
    std::unique_ptr<lmdb::Txn> nested;
    item.status = lmdb::Txn::BeginNested(*group, &nested);
    std::unique_ptr<LogBatchWriter> writer;
    if (item.status.ok()) {
      WriterHooks hooks{maintainer_.get(), /*logger=*/nullptr};
      hooks.nested = true;
      item.status = StartWriter(std::move(nested), *env_, tables_->dbi, *folder_, item.options,
                                clock_->NowMicros(), hooks, &writer);
    }
    if (item.status.ok()) item.status = WriteAll(*writer, item.batch, &item.result);
    if (writer != nullptr && writer->map_full()) {
      // The map filled up: the group is run again, whole, in a bigger map.
      *map_full = true;
      return item.status;  // `group` aborts here: nothing was written
    }
    if (item.status.ok()) {
      ++landed;
      last_seq = item.result.last_seq;
    } else {
      item.result = AppendResult();
      if (logger_)
        logger_->debug("group item {} of {} refused: {}", i, items->size(), item.status.ToString());
    }
  }
  if (st.ok() && maintainer_ != nullptr && landed > 0) {
    std::unique_ptr<DerivedWriteTxn> derived = NewDerivedWriteTxn(*group, tables_->dbi, path_);
    st = maintainer_->BeforeCommit(*derived, before + 1, std::max(before, last_seq),
                                   /*streamed=*/false);
    *map_full = !st.ok() && group->map_full();
    if (*map_full) return st;
  }
  if (st.ok()) {
    st = group->Commit();
    *map_full = !st.ok() && group->map_full();
    group.reset();
    if (*map_full) return st;
  }
  if (!st.ok()) {
    // Nothing was written: no batch landed, whatever its own checks said.
    for (GroupItem& item : *items) {
      if (item.status.ok()) {
        item.status = st;
        item.result = AppendResult();
      }
    }
    if (logger_)
      logger_->warn("group of {} batches not committed: {}", items->size(), st.ToString());
    return st;
  }
  if (logger_) {
    logger_->info("group commit: {} of {} batches appended; log at seq {}", landed, items->size(),
                  last_seq);
  }
  return Status::Ok();
}

Status EventLog::WriteGrowing(const std::function<Status(lmdb::Txn& txn)>& body) {
  for (;;) {
    Status st;
    bool map_full = false;
    {
      std::unique_ptr<lmdb::Txn> txn;
      TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/false, &txn));
      st = body(*txn);
      if (st.ok()) st = txn->Commit();
      map_full = txn->map_full();
    }
    if (st.ok() || !map_full) return st;
    TWINLINE_RETURN_IF_ERROR(GrowMap(*env_, logger_.get()));
  }
}

Status EventLog::BeginRead(std::unique_ptr<ReadTxn>* out) const {
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/true, &txn));
  *out = NewReadTxn(std::move(txn), tables_->dbi, path_);
  return Status::Ok();
}

Status EventLog::UpdateDerived(const std::function<Status(DerivedWriteTxn& txn)>& body) {
  return WriteGrowing([&](lmdb::Txn& txn) {
    std::unique_ptr<DerivedWriteTxn> derived = NewDerivedWriteTxn(txn, tables_->dbi, path_);
    return body(*derived);
  });
}

}  // namespace twinline
