#include "core/lmdb_env.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace twinline::lmdb {

Status LmdbStatus(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND:
      return Status::NotFound(msg);
    case MDB_MAP_FULL:
      return Status::Full(msg + " (the database map is full)");
    case MDB_TXN_FULL:
      return Status::Full(msg + " (too much written in one transaction; write smaller batches)");
    case MDB_VERSION_MISMATCH:
    case MDB_INVALID:
      return Status::Version(msg);
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
      return Status::Corruption(msg);
    case EACCES:
    case EROFS:
      return Status::ReadOnly(msg);
    case MDB_KEYEXIST:
      return Status::AlreadyExists(msg);
    default:
      return Status::IOError(msg);
  }
}

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t DecodeU64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

std::string EncodeDay(int64_t day) {
  return EncodeU64(static_cast<uint64_t>(day) ^ 0x8000000000000000ULL);
}

int64_t DecodeDay(std::string_view bytes) {
  return static_cast<int64_t>(DecodeU64(bytes) ^ 0x8000000000000000ULL);
}

Status Env::Open(const std::string& path, bool read_only, bool create, size_t map_size,
                 std::unique_ptr<Env>* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (!create) {
      return Status::NotFound("no twinline database at '" + path +
                              "' (create one with `twinline init`, or pass --db)");
    }
    if (mkdir(path.c_str(), 0755) != 0) {
      return Status::IOError("cannot create directory '" + path + "': " + std::strerror(errno));
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("'" + path + "' is not a directory");
  }

  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_create");
  std::unique_ptr<Env> holder(new Env(env, read_only));
  rc = mdb_env_set_maxdbs(env, 16);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(env, map_size);
  // Many reader slots: a server may hold one read transaction per request.
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(env, 512);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "configuring LMDB");
  // MDB_NOTLS: read transactions are tied to the object, not the thread, so a
  // server can hand them between threads.
  unsigned flags = MDB_NOTLS | (read_only ? MDB_RDONLY : 0);
  rc = mdb_env_open(env, path.c_str(), flags, 0644);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "opening database '" + path + "'");
  *out = std::move(holder);
  return Status::Ok();
}

Env::~Env() { mdb_env_close(env_); }

Status Txn::Begin(const Env& env, bool read_only, std::unique_ptr<Txn>* out) {
  if (!read_only && env.read_only()) {
    return Status::ReadOnly("the database is open read-only");
  }
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env.get(), nullptr, read_only ? MDB_RDONLY : 0, &txn);
  if (rc != MDB_SUCCESS) {
    return LmdbStatus(rc, read_only ? "starting a read transaction" : "starting a write transaction");
  }
  out->reset(new Txn(txn, read_only));
  return Status::Ok();
}

Status Txn::BeginNested(Txn& parent, std::unique_ptr<Txn>* out) {
  if (parent.read_only()) return Status::ReadOnly("cannot nest a write transaction in a read transaction");
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(mdb_txn_env(parent.get()), parent.get(), 0, &txn);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "starting a nested write transaction");
  out->reset(new Txn(txn, /*read_only=*/false));
  return Status::Ok();
}

Txn::~Txn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

Status Txn::Commit() {
  int rc = mdb_txn_commit(txn_);
  txn_ = nullptr;  // committed or, on failure, freed by LMDB
  return LmdbStatus(rc, "committing");
}

Status Txn::OpenDb(const char* name, bool create, MDB_dbi* dbi) {
  int rc = mdb_dbi_open(txn_, name, create ? MDB_CREATE : 0, dbi);
  if (rc == MDB_NOTFOUND) {
    return Status::NotFound(std::string("the database has no '") + name +
                            "' table: not a twinline database, or not initialised (`twinline init`)");
  }
  return LmdbStatus(rc, std::string("opening table '") + name + "'");
}

Status Txn::Get(MDB_dbi dbi, std::string_view key, MDB_val* value) const {
  MDB_val k = Val(key);
  int rc = mdb_get(txn_, dbi, &k, value);
  if (rc == MDB_NOTFOUND) return Status::NotFound("no such key");
  return LmdbStatus(rc, "reading");
}

Status Txn::Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags,
                std::string_view what) {
  MDB_val k = Val(key);
  MDB_val v = Val(value);
  return LmdbStatus(mdb_put(txn_, dbi, &k, &v, flags), std::string("writing ") + std::string(what));
}

Status Cursor::Open(const Txn& txn, MDB_dbi dbi, std::unique_ptr<Cursor>* out) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn.get(), dbi, &c);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "opening a cursor");
  out->reset(new Cursor(c));
  return Status::Ok();
}

Cursor::~Cursor() { mdb_cursor_close(cursor_); }

bool Cursor::Move(MDB_cursor_op op) {
  int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_SUCCESS) return true;
  if (rc != MDB_NOTFOUND) status_ = LmdbStatus(rc, "reading with a cursor");
  return false;
}

bool Cursor::First() { return Move(MDB_FIRST); }
bool Cursor::Last() { return Move(MDB_LAST); }
bool Cursor::Next() { return Move(MDB_NEXT); }

bool Cursor::Seek(std::string_view key) {
  key_ = Val(key);
  return Move(MDB_SET_RANGE);
}

}  // namespace twinline::lmdb
