// Thin RAII wrappers over LMDB for the event log: an environment, a
// transaction that aborts unless committed, and a cursor. Every MDB_* return
// code becomes a Status here, in one place (LmdbStatus).
//
// Lifetimes (LMDB's own rules, restated): an MDB_val returned by Get or a
// cursor points into the memory map and is valid only until its transaction
// ends; copy out or decode inside. A Txn must not outlive its Env; a Cursor
// must not outlive its Txn.
//
// The memory map grows (docs/FORMAT.md, "Map size"). LMDB allows resizing it
// (mdb_env_set_mapsize) only while no transaction of this process is open,
// and does not check that itself: the map is unmapped and mapped again, so a
// reader in another thread would read freed memory. Env therefore counts its
// open transactions. Remap() stops new ones from beginning, waits (bounded)
// for the open ones to end, resizes, and lets the waiters go; it gives up
// at once when the calling thread itself holds a transaction. Two things
// resize: a writer whose transaction hit MDB_MAP_FULL (Grow(), then it
// retries), and a transaction that cannot begin because another process grew
// the map past ours (MDB_MAP_RESIZED: Txn::Begin adopts the size and retries).
#ifndef TWINLINE_CORE_LMDB_ENV_H_
#define TWINLINE_CORE_LMDB_ENV_H_

#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/lmdb_guard.h"
#include "core/status.h"

namespace twinline::lmdb {

// Maps an LMDB return code to a Status; `what` says what was being done.
Status LmdbStatus(int rc, std::string_view what);

inline std::string_view View(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}
inline MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// Big-endian encodings used in keys (docs/FORMAT.md).
std::string EncodeU64(uint64_t v);
uint64_t DecodeU64(std::string_view bytes);  // requires bytes.size() >= 8
// DecodeU64 of a stored key or value that must be 8 bytes (a seq): in a
// damaged file it may not be, and that is kCorruption naming `what`.
Status DecodeStoredU64(std::string_view bytes, std::string_view what, uint64_t* out);
std::string EncodeDay(int64_t day);          // biased so that negative days sort first
int64_t DecodeDay(std::string_view bytes);

struct EnvOptions {
  bool read_only = false;
  bool create = false;  // make the directory when missing
  // The map's first size; Open maps at least twice the data file's size.
  size_t initial_map_size = size_t{256} << 20;
  // Growth stops here, or earlier when the disk holding the database has no
  // more free space than the map would need.
  size_t max_map_size = size_t{1} << 40;
  // How long a resize waits for this process's other transactions to end.
  std::chrono::milliseconds resize_wait{10000};
};

class Env {
 public:
  // Opens (and with options.create, makes) the environment in directory
  // `path`. A read-only open of a directory where LMDB cannot use its lock
  // file (no write permission on lock.mdb, or none on the directory to
  // create it) falls back to MDB_NOLOCK: see lockless().
  static Status Open(const std::string& path, const EnvOptions& options, std::unique_ptr<Env>* out);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* get() const { return env_; }
  bool read_only() const { return read_only_; }
  const std::string& path() const { return path_; }
  // Opened without LMDB's lock file (MDB_NOLOCK, read-only only): this
  // process's readers are not registered, so a writer in another process
  // may recycle pages a long read is still using. Safe when nobody writes.
  bool lockless() const { return lockless_; }

  // The current size of the map, in bytes.
  size_t map_size() const;

  // Where the map lies (for lmdb_guard.h and Txn::CheckInFile; a null base
  // when it could not be told apart from another mapping of the same file).
  // Changes only in Remap, while no transaction of this process is open, so
  // a transaction may read it.
  const MapRange& range() const { return range_; }
  // An LMDB call in a write transaction faulted on a damaged page
  // (lmdb_guard.h): LMDB's writer state cannot be trusted any more, so no
  // further write transaction begins (kCorruption). Reads go on.
  bool faulted() const { return faulted_.load(); }

  // After MDB_MAP_FULL, with the failed transaction gone: doubles the map
  // (by 64 MiB at least), up to max_map_size and to what the free disk
  // space allows. OK when the map grew (retry the transaction); otherwise a
  // kFull Status saying why it cannot (the limit, the disk, or transactions
  // of this process that stayed open).
  Status Grow() const;
  // Best effort, for a batch that cannot be retried (a streamed import):
  // grows the map to its limit now if no transaction of this process is open.
  void GrowToLimit() const;
  // The kFull Status for a full map that was not (or cannot be) grown.
  Status FullStatus() const;

  // Sets the map to `size` bytes (0: adopt the size another process
  // persisted, never shrinking ours) once no transaction of this process is
  // open, waiting up to `wait` for them to end. See the top of this file.
  Status Remap(size_t size, std::chrono::milliseconds wait) const;

  // mdb_env_copy2 into the empty directory `dir`, as one transaction of this
  // process (no remap meanwhile). `flags`: 0 or MDB_CP_COMPACT.
  Status Copy(const std::string& dir, unsigned flags) const;

 private:
  friend class Txn;
  struct Capacity {
    size_t map = 0, used = 0, file = 0, limit = 0, disk_free = 0;
    bool disk_bound = false;  // the limit comes from the free disk space
  };

  Env(MDB_env* env, std::string path, const EnvOptions& options, bool lockless)
      : env_(env), path_(std::move(path)), options_(options), read_only_(options.read_only),
        lockless_(lockless) {}
  // Transaction bookkeeping: Enter before mdb_txn_begin (waits while a
  // remap is under way), Leave once the transaction has ended.
  void Enter() const;
  void Leave(std::thread::id owner) const;
  Capacity Measure() const;  // caller holds mu_ or knows no remap runs
  Status FullStatusLocked(const Capacity& cap) const;

  // After the map was made (or moved or grew): `before`, the starts of the
  // data file's other mappings in this process.
  void UpdateRange(const std::vector<uintptr_t>& before) const;

  MDB_env* env_;
  std::string path_;
  EnvOptions options_;
  bool read_only_;
  bool lockless_;
  mutable MapRange range_;
  mutable std::atomic<bool> faulted_{false};

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // a transaction ended, or a remap finished
  mutable size_t open_txns_ = 0;
  mutable std::vector<std::thread::id> owners_;  // the thread that began each open txn
  mutable bool remapping_ = false;
};

class Txn {
 public:
  // Begins a transaction. If another process grew the map beyond this
  // process's (MDB_MAP_RESIZED), adopts the new size and tries again.
  static Status Begin(const Env& env, bool read_only, std::unique_ptr<Txn>* out);
  // Begins a write transaction nested in `parent` (LMDB nested transactions):
  // it sees the parent's writes; committing it hands its writes to the parent
  // (durable only when the parent commits), aborting it undoes them and leaves
  // the parent as it was. While it lives the parent must not be used, and it
  // must end before the parent does.
  static Status BeginNested(Txn& parent, std::unique_ptr<Txn>* out);
  ~Txn();  // aborts unless committed
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Status Commit();
  MDB_txn* get() const { return txn_; }
  bool read_only() const { return read_only_; }
  // A write in this transaction (or its commit) failed with MDB_MAP_FULL:
  // the transaction is dead; grow the map (Env::Grow) and run it again.
  bool map_full() const { return map_full_; }

  // Opens a named database; with `create` (write transactions only) makes it.
  // `flags`: mdb_dbi_open's (MDB_DUPSORT, MDB_DUPFIXED), besides MDB_CREATE.
  Status OpenDb(const char* name, bool create, MDB_dbi* dbi, unsigned flags = 0);
  // OK, kNotFound, or an error. `value` is valid until the transaction ends.
  Status Get(MDB_dbi dbi, std::string_view key, MDB_val* value) const;
  // Puts with `flags` (e.g. MDB_NOOVERWRITE); `what` names the record for errors.
  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags,
             std::string_view what);
  // Puts a value of `size` bytes under `key` and sets *data to where its
  // bytes go (MDB_RESERVE): the caller writes them there before the next
  // write in this transaction. A value larger than about half a page lies
  // on its own pages, word-aligned.
  Status Reserve(MDB_dbi dbi, std::string_view key, size_t size, char** data,
                 std::string_view what);
  // Deletes `key` (every duplicate of it); kNotFound when there is none.
  Status Del(MDB_dbi dbi, std::string_view key, std::string_view what);
  // Empties a named database (mdb_drop without deleting it).
  Status Clear(MDB_dbi dbi, std::string_view what);
  // The number of entries (every duplicate counted) of a database.
  Status Entries(MDB_dbi dbi, uint64_t* entries) const;

 private:
  Txn(const Env* env, MDB_txn* txn, bool read_only, bool counted)
      : env_(env), txn_(txn), read_only_(read_only), counted_(counted),
        owner_(std::this_thread::get_id()) {}
  friend class PutCursor;
  friend class Cursor;
  Status Check(int rc, std::string_view what);  // LmdbStatus, noting MDB_MAP_FULL
  void End();  // leaves the Env's count once the LMDB transaction is gone
  // Runs an LMDB call on this transaction's pages under lmdb_guard.h's
  // guard; a fault in a write transaction marks the Env faulted.
  template <class Call>
  int Guard(Call&& call) const;
  // OK when a value LMDB returned lies inside the pages of the data file
  // in use (or outside the map: a write transaction's own dirty page).
  Status CheckInFile(const MDB_val& v, std::string_view what) const;

  const Env* env_;
  MDB_txn* txn_;
  bool read_only_;
  const char* file_end_ = nullptr;  // the end of the data file's pages in use, in the map
  bool counted_;  // a top-level transaction, counted by the Env (nested ones are not)
  std::thread::id owner_;
  bool map_full_ = false;
};

class Cursor {
 public:
  static Status Open(const Txn& txn, MDB_dbi dbi, std::unique_ptr<Cursor>* out);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positions; return false at the end (or when nothing matches) and on error.
  bool First();
  bool Last();
  bool Next();
  bool Seek(std::string_view key);  // first key >= `key`
  // Sorted duplicates (MDB_DUPSORT): SeekKey positions at the first value
  // of exactly `key`; NextDup at the next value of the same key.
  bool SeekKey(std::string_view key);
  // SeekBoth positions at exactly `key` with exactly `value` (MDB_GET_BOTH).
  bool SeekBoth(std::string_view key, std::string_view value);
  bool NextDup();
  std::string_view key() const { return View(key_); }
  std::string_view value() const { return View(value_); }
  // The LMDB error that stopped iteration, if it was not just the end.
  const Status& status() const { return status_; }

 private:
  Cursor(const Txn& txn, MDB_cursor* c) : txn_(txn), cursor_(c) {}
  bool Move(MDB_cursor_op op);
  const Txn& txn_;
  MDB_cursor* cursor_;
  MDB_val key_{0, nullptr};
  MDB_val value_{0, nullptr};
  Status status_;
};

// Writes many entries into one table through one cursor. Given in key
// order, each put usually lands on the leaf page the previous one did and
// LMDB skips the descent from the root (mdb_cursor_set checks the cursor's
// current page first), so sorted bulk puts cost a fraction of scattered
// mdb_put calls. Borrows `txn`, which must outlive the cursor; a failure
// (MDB_MAP_FULL included) is noted on the transaction as Txn::Put does.
class PutCursor {
 public:
  static Status Open(Txn& txn, MDB_dbi dbi, std::unique_ptr<PutCursor>* out);
  ~PutCursor();
  PutCursor(const PutCursor&) = delete;
  PutCursor& operator=(const PutCursor&) = delete;

  // As Txn::Put, through the cursor.
  Status Put(std::string_view key, std::string_view value, unsigned flags, std::string_view what);

 private:
  PutCursor(Txn& txn, MDB_cursor* c) : txn_(txn), cursor_(c) {}
  Txn& txn_;
  MDB_cursor* cursor_;
};

// Drops this process's resident pages of `env`'s data file mapping
// (madvise MADV_DONTNEED over the part of the map the file backs, found in
// /proc/self/maps), so that a long scan does not keep every page it touched
// in its RSS. Content-safe at any time: the map is MAP_SHARED over the file
// and LMDB never rewrites a page a live reader can reach, so a dropped page
// faults back in from the page cache unchanged, even one a reader is still
// using (for which it is merely wasted work). Best effort: does nothing
// where the mapping cannot be found (no /proc).
void ReleaseMappedPages(MDB_env* env);

}  // namespace twinline::lmdb

#endif  // TWINLINE_CORE_LMDB_ENV_H_
