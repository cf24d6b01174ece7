// EventLog: twinline's immutable, append-only history of facts about
// relations between cities, stored in one LMDB environment (docs/FORMAT.md).
//
// What an EventLog promises:
//  * Order. Events get consecutive seqs 1, 2, 3, ... in append order; a seq,
//    once given, always names the same bytes. Nothing is ever updated or
//    deleted: a correction is a new event (retraction, amendment).
//  * Atomicity. Append(batch) validates and writes the whole batch in one
//    LMDB write transaction: every event, its chain hash and every index
//    entry land together, or nothing does. An invalid event anywhere in the
//    batch fails the whole batch; the Status names its index() and field().
//  * Identity. The same fact appended twice is stored once (docs/EVENTS.md,
//    "Identity"): a re-appended fact is a no-op, and a new source for a known
//    fact is recorded as a `corroboration` event, never by editing.
//  * Optimistic concurrency. An append may state the last seq its writer
//    saw; if another writer has appended since, it fails with kConflict and
//    writes nothing.
//  * Tamper evidence. Each record is chained to the previous one by SHA-256;
//    Verify() recomputes the chain and every index and names the first bad seq.
//  * Concurrency. Any number of processes and threads may read while one
//    writes (LMDB's single writer, MVCC readers). An EventLog object is
//    thread-safe; a ReadTxn is used by one thread at a time.
//  * Space. The memory map grows as the log does (docs/FORMAT.md, "Map
//    size"): a write that fills it is rolled back, the map grown and the write
//    run again, up to OpenOptions::max_map_size and the disk's free space.
//    Beyond that a write fails with kFull and writes nothing; so does one
//    that finds the disk full. A database written by a newer format is never
//    opened (kVersion); a read-only one is still read (kReadOnly on writes).
//
// Recorded time is one value per batch, taken from the Clock at append time,
// and never goes backwards within a log (a clock that steps back is clamped
// to the previous batch's time).
#ifndef TWINLINE_CORE_EVENT_LOG_H_
#define TWINLINE_CORE_EVENT_LOG_H_

#include <capnp/message.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace spdlog {
class logger;
}

namespace twinline {

namespace lmdb {
class Env;
class Txn;
}  // namespace lmdb

class NameFolder;
class IndexMaintainer;

// The on-disk format this build writes (docs/FORMAT.md). Format 1 (before
// packed records and the temporal index) is read by `twinline upgrade` only.
inline constexpr uint32_t kFormatVersion = 2;

// How many of the last records QuickVerify() checks for `twinline serve`,
// `verify --quick` and a backup's copy.
inline constexpr uint64_t kQuickVerifyTail = 1000;

struct OpenOptions {
  bool read_only = false;
  bool create_if_missing = false;  // make the directory and tables (`twinline init`)
  // The memory map's first size (at least twice the data file is mapped).
  // It grows on demand; the file grows only as data is written.
  size_t map_size = size_t{256} << 20;
  // The map never grows beyond this, nor beyond what the disk's free space
  // allows; a write that needs more fails with kFull.
  size_t max_map_size = size_t{1} << 40;
  // How long a resize waits for this process's other transactions (a
  // server's readers) to end before the write fails with kFull.
  std::chrono::milliseconds resize_wait{10000};
  const Clock* clock = nullptr;  // borrowed; nullptr = system clock
  std::shared_ptr<spdlog::logger> logger;  // nullptr = no logging
  // Keeps derived data (the temporal index) up to date with every append;
  // nullptr = none (derived data then lags behind, which readers allow for).
  std::shared_ptr<IndexMaintainer> maintainer;
};

// An event waiting to be appended: a message whose root is schema::Event.
// The log sets seq, recordedAt, the derived id (when empty) and the date's
// earliest/latest, and normalises the payload.
using PendingEvent = std::unique_ptr<capnp::MallocMessageBuilder>;

struct AppendOptions {
  std::optional<uint64_t> expected_last_seq;  // fail with kConflict if the log moved on
  // Restore mode (import --restore): keep each event's own seq and
  // recordedAt. Requires seq == last + 1 for every event and non-decreasing
  // recorded times.
  bool restore = false;
  // Restore mode only (a follower, tools/replication/): the chain hash (32
  // raw bytes) the log must end on after this batch. If the batch's last
  // record hashes to anything else, the append fails with kCorruption and
  // writes nothing: a copied record that was altered never lands.
  std::optional<std::string> expected_chain_head;
};

struct AppendOutcome {
  enum class Disposition { kAppended, kCorroborated, kDuplicate };
  Disposition disposition = Disposition::kAppended;
  uint64_t seq = 0;         // seq written (the corroboration's for kCorroborated), or the fact's seq for kDuplicate
  std::string event_id;     // id of the fact (for kCorroborated/kDuplicate: the existing fact)
};

struct AppendResult {
  std::vector<AppendOutcome> outcomes;  // one per batch event, in batch order
  uint64_t last_seq = 0;                // the log's last seq after the append
  int64_t recorded_at = 0;              // recorded time of the batch (0 if nothing was written)
  size_t appended = 0, corroborated = 0, duplicates = 0;
};

struct VerifyReport {
  uint64_t events = 0;          // records checked
  uint64_t index_entries = 0;   // index entries checked
  uint64_t last_seq = 0;        // the log's last seq
  std::string head;             // hex chain hash of the last record
  std::optional<uint64_t> first_bad_seq;  // set when verification failed at a record
};

struct BackupOptions {
  bool compact = false;      // omit free pages, renumber (MDB_CP_COMPACT): smaller, slower
  bool full_verify = false;  // Verify() the copy before it is put in place (else QuickVerify)
};

struct BackupReport {
  uint64_t last_seq = 0;  // the copy holds seqs 1..last_seq
  std::string head;       // its chain head
  uint64_t bytes = 0;     // size of its data.mdb
};

struct LogStats {
  uint64_t events = 0;
  uint64_t entities = 0;
  std::map<std::string, uint64_t> by_kind;  // kind ("partnership_established") -> count
  int64_t first_recorded_at = 0, last_recorded_at = 0;
  int64_t min_valid_day = 0, max_valid_day = 0;  // over bounded earliest/latest days
  uint64_t sources = 0;         // source citations over all events
  std::string head;             // hex chain hash of the last record
  uint64_t file_bytes = 0;      // size of data.mdb
};

// A consistent snapshot of the log: everything committed when it began, and
// nothing after. Readers passed to callbacks point into the memory map (or
// an aligned copy) and are valid only during the callback.
class ReadTxn {
 public:
  virtual ~ReadTxn() = default;

  using EventFn = std::function<bool(schema::Event::Reader)>;  // return false to stop

  virtual uint64_t LastSeq() const = 0;
  // kNotFound if there is no such seq; kCorruption if the record cannot be decoded.
  virtual Status Get(uint64_t seq, const std::function<void(schema::Event::Reader)>& fn) const = 0;
  // The canonical form of a record (docs/FORMAT.md, "The event record"):
  // what the chain hashes, `log --raw` prints and `capnp decode` reads.
  virtual Status GetRaw(uint64_t seq, std::string* bytes) const = 0;
  virtual Status FindById(std::string_view id, uint64_t* seq) const = 0;
  // Events with from <= seq <= to, ascending.
  virtual Status Scan(uint64_t from, uint64_t to, const EventFn& fn) const = 0;
  // Events touching `slug`, ascending seq.
  virtual Status ScanEntity(std::string_view slug, const EventFn& fn) const = 0;
  // Events whose possible days overlap [from_day, to_day], ascending seq
  // (one pass over the log: for `log --from/--to`, not for projections).
  virtual Status ScanValidRange(int64_t from_day, int64_t to_day, const EventFn& fn) const = 0;
  // The events at `seqs` (ascending; kInvalidArgument otherwise), fetched
  // with one cursor moving forward: events that share a page cost one
  // descent of the B-tree between them instead of one each. kNotFound
  // names the first seq that is not in the log.
  virtual Status GetAscending(std::span<const uint64_t> seqs, const EventFn& fn) const = 0;
  // The chain hash of record `seq` (docs/FORMAT.md, "Hash chain"); seq 0 is
  // the 32 zero bytes every chain starts from. kNotFound past the end.
  virtual Status ChainHash(uint64_t seq, std::array<uint8_t, 32>* hash) const = 0;

  // Entities: the seq of an entity's registration, or kNotFound.
  virtual Status FindEntity(std::string_view slug, uint64_t* seq) const = 0;
  virtual Status ListEntities(const std::function<bool(std::string_view slug, uint64_t seq)>& fn) const = 0;
  // Slugs registered under an exact folded name key (see core/names.h).
  virtual Status LookupNameKey(std::string_view key, std::vector<std::string>* slugs) const = 0;
  // Every (folded key, slug) pair, for suggesting close candidates.
  virtual Status ListNameKeys(const std::function<bool(std::string_view key, std::string_view slug)>& fn) const = 0;
  // Corrections and corroborations that target `event_id`, ascending seq.
  virtual Status ScanReferences(std::string_view event_id, const EventFn& fn) const = 0;

  // Derived data (the temporal index, docs/INDEX.md): the value stored
  // under `key` in the log's `index` table, or kNotFound. Valid until the
  // transaction ends; word-aligned when larger than half a page.
  virtual Status GetDerived(std::string_view key, std::string_view* value) const = 0;
  // Every (key, size) of the index table, in key order.
  virtual Status ListDerived(
      const std::function<bool(std::string_view key, size_t size)>& fn) const = 0;

  virtual Status Stats(LogStats* stats) const = 0;

  // Drops this process's resident pages of the log's memory map, so that a
  // long scan (a replay from zero reads the whole log) does not keep every
  // page it touched in its RSS (10^7 events: ~10 GB). Changes no data and
  // nothing a reader sees: the map is shared and read-only, and LMDB never
  // rewrites a page a live transaction can reach, so a dropped page faults
  // back in from the page cache with the same bytes, even under a reader
  // still in use. Call it between records anyway: pages still in use come
  // straight back. A hint: does nothing where it cannot.
  virtual void ReleaseMappedPages() const {}
};

// A read transaction over a write transaction that may also write the
// log's derived data (its `index` table): what an IndexMaintainer and
// EventLog::UpdateDerived are handed. Reads see the transaction's own
// writes, appended events included.
class DerivedWriteTxn : public ReadTxn {
 public:
  // Puts a value of `size` bytes under `key` and sets *data to where its
  // bytes go: write them before the next write in this transaction. A value
  // larger than half a page lies on its own pages, word-aligned.
  virtual Status ReserveDerived(std::string_view key, size_t size, char** data) = 0;
  // Deletes `key`; kNotFound when there is none.
  virtual Status DeleteDerived(std::string_view key) = 0;
  // Deletes every key.
  virtual Status ClearDerived() = 0;
};

// Keeps derived data up to date with the log (projections/ implements it
// for the temporal index). Called by the log's single writer, one batch at
// a time: calls are never concurrent.
class IndexMaintainer {
 public:
  virtual ~IndexMaintainer() = default;
  // A streamed batch (EventLog::BeginBatch) wrote `ev`: every event of
  // such a batch comes here once, in seq order, as stored. An error fails
  // the batch. The reader is valid only during the call.
  virtual Status Observe(schema::Event::Reader /*ev*/) { return Status::Ok(); }
  // A write transaction that appended the events first_seq..last_seq
  // (none when first_seq > last_seq) is about to commit; `streamed` says
  // Observe saw each of them. An error fails the commit: nothing is written.
  virtual Status BeforeCommit(DerivedWriteTxn& txn, uint64_t first_seq, uint64_t last_seq,
                              bool streamed) = 0;
  // A streamed batch ended without committing: forget what Observe saw.
  virtual void Abandon() {}
};

class EventLog {
 public:
  // Opens the database in directory `path`. Without create_if_missing, a
  // missing or uninitialised database is kNotFound; a newer format is kVersion.
  static Status Open(const std::string& path, const OpenOptions& options,
                     std::unique_ptr<EventLog>* out);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `batch` atomically (see the promises above). On failure nothing
  // is written and the Status carries the failing event's index().
  Status Append(std::vector<PendingEvent>& batch, const AppendOptions& options,
                AppendResult* result);

  // Streaming form of Append for batches too large to hold in memory
  // (`twinline import` of millions of lines): one write transaction is held
  // open from BeginBatch to Commit; Add validates and writes one event into
  // it (events added earlier in the batch are visible to later ones, as in
  // Append); Commit makes the whole batch durable at once. The first failing
  // Add or Commit leaves nothing written; so does destroying the writer
  // without a successful Commit. Holds the log's single writer for its whole
  // life: other appends (any process) wait. A BatchWriter belongs to the
  // thread that began it (LMDB's writer lock is that thread's), must be
  // destroyed before the EventLog, and that thread must not append by any
  // other means while it lives (it would wait for itself). Outcomes are not
  // kept, so memory does not grow with the batch (LMDB keeps up to 512 MiB
  // of dirty pages in memory and spills the rest to the data file).
  class BatchWriter {
   public:
    virtual ~BatchWriter() = default;
    // `outcome` may be null. On failure the Status carries index() = the
    // event's position in the batch, and the batch is dead (every later
    // call fails).
    virtual Status Add(PendingEvent event, AppendOutcome* outcome) = 0;
    // result->outcomes stays empty; the counts, last_seq and recorded_at
    // are filled.
    virtual Status Commit(AppendResult* result) = 0;
  };
  Status BeginBatch(const AppendOptions& options, std::unique_ptr<BatchWriter>* out);

  // Group commit (the server): appends several independent batches in ONE
  // durable write transaction. Each batch lands whole or not at all, on its
  // own: a batch that fails (validation, kConflict on its expected_last_seq)
  // leaves no trace and does not affect the others (LMDB nested
  // transactions). Batches are applied in vector order, each checked
  // (expected_last_seq, identity) against the log as the batches before it
  // in the group left it, each with its own recorded time. The returned
  // Status is an error only when the group as a whole could not be committed
  // (I/O, map full), in which case nothing was written and every item's
  // status carries that error. The group shares one transaction's budget of
  // dirty pages: keep groups to what a server collects in a few milliseconds
  // (a batch that no longer fits fails on its own with kFull).
  struct GroupItem {
    std::vector<PendingEvent> batch;
    AppendOptions options;
    Status status;        // this batch's own outcome
    AppendResult result;  // filled when status is Ok
  };
  Status AppendGroup(std::vector<GroupItem>* items);

  Status BeginRead(std::unique_ptr<ReadTxn>* out) const;

  // Runs `body` in a write transaction of its own and commits: for writing
  // derived data (`twinline index`), which is not part of the history, not
  // hash-chained, and may be rebuilt or dropped at will. If the map fills
  // up, grows it and runs `body` again.
  Status UpdateDerived(const std::function<Status(DerivedWriteTxn& txn)>& body);

  // Checks the hash chain and all indexes. Returns kCorruption (with
  // report->first_bad_seq set where a record is at fault) on failure.
  // Streams: memory does not grow with the log (docs/FORMAT.md, "Verification").
  Status Verify(VerifyReport* report) const;

  // A cheap check for startup (`twinline serve`): the format version, that
  // the records, chain hashes, id and date indexes hold one entry per seq
  // 1..N, and for the last `tail` records what Verify() checks (chain, decoding,
  // each record's own index entries). Cost grows with `tail`, not the log.
  Status QuickVerify(uint64_t tail, VerifyReport* report) const;

  // Copies a consistent snapshot of the log (what was committed when the
  // copy began; writers may go on meanwhile) to the directory `dest`, which
  // must not exist or be empty: never overwrites. Writes into a temporary
  // directory beside `dest`, checks the copy (QuickVerify, or Verify with
  // options.full_verify), then renames it into place; on failure nothing is
  // left behind. Needs only read access to this log.
  Status Backup(const std::string& dest, const BackupOptions& options, BackupReport* report) const;

  const std::string& path() const { return path_; }

 private:
  struct Tables;  // the named databases' handles, opened once in Open()

  EventLog(std::string path, std::unique_ptr<lmdb::Env> env, std::unique_ptr<Tables> tables,
           const OpenOptions& options);
  // Runs `body` in a write transaction and commits; if the map filled up,
  // grows it and runs `body` again in a fresh transaction.
  Status WriteGrowing(const std::function<Status(lmdb::Txn& txn)>& body);
  // One attempt of AppendGroup; *map_full says whether the map filled up.
  Status AppendGroupOnce(std::vector<GroupItem>* items, bool* map_full);

  std::string path_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<Tables> tables_;
  std::unique_ptr<NameFolder> folder_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<IndexMaintainer> maintainer_;  // may be null
};

}  // namespace twinline

#endif  // TWINLINE_CORE_EVENT_LOG_H_
