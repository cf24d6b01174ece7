// Thin RAII wrappers over LMDB for the event log: an environment, a
// transaction that aborts unless committed, and a cursor. Every MDB_* return
// code becomes a Status here, in one place (LmdbStatus).
//
// Lifetimes (LMDB's own rules, restated): an MDB_val returned by Get or a
// cursor points into the memory map and is valid only until its transaction
// ends; copy out or decode inside. A Txn must not outlive its Env; a Cursor
// must not outlive its Txn.
#ifndef TWINLINE_CORE_LMDB_ENV_H_
#define TWINLINE_CORE_LMDB_ENV_H_

#include <lmdb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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
std::string EncodeDay(int64_t day);          // biased so that negative days sort first
int64_t DecodeDay(std::string_view bytes);

class Env {
 public:
  // Opens (and with `create`, makes) the environment in directory `path`.
  static Status Open(const std::string& path, bool read_only, bool create, size_t map_size,
                     std::unique_ptr<Env>* out);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* get() const { return env_; }
  bool read_only() const { return read_only_; }

 private:
  Env(MDB_env* env, bool read_only) : env_(env), read_only_(read_only) {}
  MDB_env* env_;
  bool read_only_;
};

class Txn {
 public:
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

  // Opens a named database; with `create` (write transactions only) makes it.
  Status OpenDb(const char* name, bool create, MDB_dbi* dbi);
  // OK, kNotFound, or an error. `value` is valid until the transaction ends.
  Status Get(MDB_dbi dbi, std::string_view key, MDB_val* value) const;
  // Puts with `flags` (e.g. MDB_NOOVERWRITE); `what` names the record for errors.
  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags,
             std::string_view what);

 private:
  Txn(MDB_txn* txn, bool read_only) : txn_(txn), read_only_(read_only) {}
  MDB_txn* txn_;
  bool read_only_;
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
  std::string_view key() const { return View(key_); }
  std::string_view value() const { return View(value_); }
  // The LMDB error that stopped iteration, if it was not just the end.
  const Status& status() const { return status_; }

 private:
  explicit Cursor(MDB_cursor* c) : cursor_(c) {}
  bool Move(MDB_cursor_op op);
  MDB_cursor* cursor_;
  MDB_val key_{0, nullptr};
  MDB_val value_{0, nullptr};
  Status status_;
};

}  // namespace twinline::lmdb

#endif  // TWINLINE_CORE_LMDB_ENV_H_
