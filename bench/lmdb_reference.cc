#include "bench/lmdb_reference.h"

#include <lmdb.h>
#include <sys/stat.h>

#include <cstring>
#include <memory>

namespace twinline::bench {
namespace {

Status Lmdb(int rc, const std::string& what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  return Status::IOError("lmdb: " + what + ": " + mdb_strerror(rc));
}

// An environment opened with the flags twinline uses (core/lmdb_env.cc).
class Env {
 public:
  ~Env() {
    if (env_ != nullptr) mdb_env_close(env_);
  }
  Status Open(const std::string& dir, bool read_only) {
    TWINLINE_RETURN_IF_ERROR(Lmdb(mdb_env_create(&env_), "mdb_env_create"));
    TWINLINE_RETURN_IF_ERROR(Lmdb(mdb_env_set_maxdbs(env_, 16), "mdb_env_set_maxdbs"));
    TWINLINE_RETURN_IF_ERROR(
        Lmdb(mdb_env_set_mapsize(env_, size_t{64} << 30), "mdb_env_set_mapsize"));
    return Lmdb(mdb_env_open(env_, dir.c_str(), MDB_NOTLS | (read_only ? MDB_RDONLY : 0), 0644),
                "opening " + dir);
  }
  MDB_env* get() const { return env_; }

 private:
  MDB_env* env_ = nullptr;
};

// A transaction that aborts unless committed.
class Txn {
 public:
  ~Txn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  Status Begin(const Env& env, bool read_only) {
    return Lmdb(mdb_txn_begin(env.get(), nullptr, read_only ? MDB_RDONLY : 0, &txn_),
                "mdb_txn_begin");
  }
  Status Commit() {
    const int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;
    return Lmdb(rc, "mdb_txn_commit");
  }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

class Cursor {
 public:
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  Status Open(const Txn& txn, MDB_dbi dbi) {
    return Lmdb(mdb_cursor_open(txn.get(), dbi, &cursor_), "mdb_cursor_open");
  }
  MDB_cursor* get() const { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

// Sum of the bytes' 8-byte words (and the tail's bytes): reads every byte.
uint64_t Touch(const MDB_val& v) {
  const auto* p = static_cast<const unsigned char*>(v.mv_data);
  uint64_t sum = 0;
  size_t i = 0;
  for (; i + 8 <= v.mv_size; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    sum += w;
  }
  for (; i < v.mv_size; ++i) sum += p[i];
  return sum;
}

void Count(const MDB_val& v, PlainStats* stats) {
  ++stats->records;
  stats->bytes += v.mv_size;
  stats->checksum += Touch(v);
}

}  // namespace

Status PutRecords(const std::string& from_dir, const std::string& to_dir, uint64_t batch,
                  PlainStats* stats) {
  *stats = PlainStats();
  struct stat st;
  if (stat(to_dir.c_str(), &st) == 0) return Status::AlreadyExists(to_dir + " already exists");
  if (mkdir(to_dir.c_str(), 0755) != 0) return Status::IOError("cannot create " + to_dir);
  Env from, to;
  TWINLINE_RETURN_IF_ERROR(from.Open(from_dir, /*read_only=*/true));
  TWINLINE_RETURN_IF_ERROR(to.Open(to_dir, /*read_only=*/false));

  Txn read;
  TWINLINE_RETURN_IF_ERROR(read.Begin(from, /*read_only=*/true));
  MDB_dbi from_dbi;
  TWINLINE_RETURN_IF_ERROR(
      Lmdb(mdb_dbi_open(read.get(), "events", 0, &from_dbi), "opening events"));
  Cursor cursor;
  TWINLINE_RETURN_IF_ERROR(cursor.Open(read, from_dbi));

  auto write = std::make_unique<Txn>();
  TWINLINE_RETURN_IF_ERROR(write->Begin(to, /*read_only=*/false));
  MDB_dbi to_dbi;
  TWINLINE_RETURN_IF_ERROR(
      Lmdb(mdb_dbi_open(write->get(), "events", MDB_CREATE, &to_dbi), "creating events"));
  uint64_t in_batch = 0;
  MDB_val key, value;
  for (int rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_FIRST); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_NEXT)) {
    TWINLINE_RETURN_IF_ERROR(Lmdb(rc, "reading events"));
    TWINLINE_RETURN_IF_ERROR(
        Lmdb(mdb_put(write->get(), to_dbi, &key, &value, MDB_APPEND), "mdb_put"));
    ++stats->records;
    stats->bytes += value.mv_size;
    if (batch != 0 && ++in_batch == batch) {
      TWINLINE_RETURN_IF_ERROR(write->Commit());
      write = std::make_unique<Txn>();
      TWINLINE_RETURN_IF_ERROR(write->Begin(to, /*read_only=*/false));
      in_batch = 0;
    }
  }
  return write->Commit();
}

Status ScanRecords(const std::string& dir, PlainStats* stats) {
  *stats = PlainStats();
  Env env;
  TWINLINE_RETURN_IF_ERROR(env.Open(dir, /*read_only=*/true));
  Txn txn;
  TWINLINE_RETURN_IF_ERROR(txn.Begin(env, /*read_only=*/true));
  MDB_dbi dbi;
  TWINLINE_RETURN_IF_ERROR(Lmdb(mdb_dbi_open(txn.get(), "events", 0, &dbi), "opening events"));
  Cursor cursor;
  TWINLINE_RETURN_IF_ERROR(cursor.Open(txn, dbi));
  MDB_val key, value;
  for (int rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_FIRST); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor.get(), &key, &value, MDB_NEXT)) {
    TWINLINE_RETURN_IF_ERROR(Lmdb(rc, "reading events"));
    Count(value, stats);
  }
  return Status::Ok();
}


}  // namespace twinline::bench
