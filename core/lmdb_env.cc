#include "core/lmdb_env.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <string>

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
      return Status::Version(msg);
    case MDB_INVALID:  // a meta page that is not one: damage (core/db_file_check.h)
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
      return Status::Corruption(msg + " (the data file is damaged)");
    case kLmdbFault:  // lmdb_guard.h
      return Status::Corruption(std::string(what) + ": " + LastFault() +
                                " (the data file is damaged)");
    case EACCES:
    case EROFS:
      return Status::ReadOnly(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      // The data file could not grow (disk full, quota, file size limit).
      // LMDB writes the new meta page last, so the log is as it was before.
      return Status::Full(msg + " (no space for the data file to grow; free some disk space)");
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

Status DecodeStoredU64(std::string_view bytes, std::string_view what, uint64_t* out) {
  if (bytes.size() != 8) {
    return Status::Corruption(std::string(what) + " is " + std::to_string(bytes.size()) +
                              " bytes long, not 8: the data file is damaged; restore the "
                              "database from a backup");
  }
  *out = DecodeU64(bytes);
  return Status::Ok();
}

std::string EncodeDay(int64_t day) {
  return EncodeU64(static_cast<uint64_t>(day) ^ 0x8000000000000000ULL);
}

int64_t DecodeDay(std::string_view bytes) {
  return static_cast<int64_t>(DecodeU64(bytes) ^ 0x8000000000000000ULL);
}

namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// "1.5 GiB", "64.0 MiB", "12 KiB".
std::string Bytes(size_t n) {
  char buf[32];
  if (n >= (size_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(n) / (1 << 30));
  } else if (n >= (size_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%zu KiB", (n + 1023) / 1024);
  }
  return buf;
}

size_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

// Free bytes for an unprivileged writer on the file system holding `dir`.
size_t DiskFree(const std::string& dir) {
  struct statvfs vfs;
  if (statvfs(dir.c_str(), &vfs) != 0) return SIZE_MAX;  // unknown: do not limit
  return static_cast<size_t>(vfs.f_bavail) * static_cast<size_t>(vfs.f_frsize);
}

// Calls fn(start, end, offset) for each mapping of the file `file` (its
// stat; `real`: its canonical path, for filesystems whose /proc maps show
// another device or inode than fstat, such as overlayfs) in this process.
template <typename Fn>
void ForEachMappingOf(const struct stat& file, const std::string& real, Fn fn) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // start-end perms offset major:minor inode [path]
    uintptr_t start = 0, end = 0;
    unsigned long long offset = 0, inode = 0;
    unsigned dev_major = 0, dev_minor = 0;
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " %*s %llx %x:%x %llu %n", &start, &end,
                    &offset, &dev_major, &dev_minor, &inode, &path_at) < 6) {
      continue;
    }
    const bool same_file =
        (inode == file.st_ino && dev_major == major(file.st_dev) &&
         dev_minor == minor(file.st_dev)) ||
        (!real.empty() && path_at > 0 && line.compare(path_at, std::string::npos, real) == 0);
    if (same_file) fn(start, end, static_cast<off_t>(offset));
  }
}

std::string RealPath(const std::string& path) {
  std::string out;
  if (char* real = realpath(path.c_str(), nullptr)) {
    out = real;
    free(real);
  }
  return out;
}

// Where this process maps the start of `data_path` (LMDB maps the data file
// whole, from offset 0): the first byte of each such mapping.
std::vector<uintptr_t> MapsOf(const std::string& data_path) {
  std::vector<uintptr_t> starts;
  struct stat file;
  if (stat(data_path.c_str(), &file) != 0) return starts;
  ForEachMappingOf(file, RealPath(data_path), [&](uintptr_t start, uintptr_t, off_t offset) {
    if (offset == 0) starts.push_back(start);
  });
  return starts;
}

// Opens `env` in `path` with `flags`; on failure the handle is closed and
// *env is null (LMDB: a handle whose open failed must be discarded).
int OpenRaw(const std::string& path, unsigned flags, size_t map_size, MDB_env** env) {
  int rc = mdb_env_create(env);
  if (rc != MDB_SUCCESS) return rc;
  rc = mdb_env_set_maxdbs(*env, 16);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(*env, map_size);
  // Many reader slots: a server may hold one read transaction per request.
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(*env, 512);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(*env, path.c_str(), flags, 0644);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(*env);
    *env = nullptr;
  }
  return rc;
}

}  // namespace

Status Env::Open(const std::string& path, const EnvOptions& options, std::unique_ptr<Env>* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (!options.create) {
      return Status::NotFound("no twinline database at '" + path +
                              "' (create one with `twinline init`, or pass --db)");
    }
    if (mkdir(path.c_str(), 0755) != 0) {
      const int err = errno;
      Status s = Status::IOError("cannot create directory '" + path + "': " + std::strerror(err));
      return err == EACCES || err == EROFS ? Status::ReadOnly(s.message()) : s;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("'" + path + "' is not a directory");
  }

  // The first map: the configured size, at least twice the data file (room
  // to append before the first resize), within the limit and the disk.
  const size_t file = FileSize(path + "/data.mdb");
  size_t map = std::max(options.initial_map_size, 2 * file);
  map = std::min(map, options.max_map_size);
  if (!options.read_only) map = std::min(map, file + DiskFree(path));
  map = RoundUp(std::max({map, file, PageSize()}), PageSize());

  // MDB_NOTLS: read transactions are tied to the object, not the thread, so a
  // server can hand them between threads.
  const unsigned flags = MDB_NOTLS | (options.read_only ? MDB_RDONLY : 0);
  const std::vector<uintptr_t> maps_before = MapsOf(path + "/data.mdb");
  MDB_env* env = nullptr;
  int rc = OpenRaw(path, flags, map, &env);
  bool lockless = false;
  if ((rc == EACCES || rc == EROFS) && options.read_only) {
    // LMDB writes its lock file even to read (it creates lock.mdb when
    // missing, and registers readers in it). Without the right to, read
    // without it: see Env::lockless().
    if (OpenRaw(path, flags | MDB_NOLOCK, map, &env) == MDB_SUCCESS) {
      rc = MDB_SUCCESS;
      lockless = true;
    }
  }
  if (rc == EACCES || rc == EROFS) {
    return Status::ReadOnly(
        "cannot open '" + path + "' " + (options.read_only ? "for reading" : "for writing") + ": " +
        mdb_strerror(rc) + " (the directory, data.mdb or lock.mdb is not " +
        (options.read_only ? "readable" : "writable by this user") + ")" +
        (options.read_only
             ? ""
             : "; verbs that only read (log, replay, verify, export, backup) still work"));
  }
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "opening database '" + path + "'");
  // A process that dies inside a read transaction (SIGKILL, or SIGPIPE in
  // `twinline log | head`) keeps its reader slot, and the snapshot it pinned,
  // until someone asks LMDB to free them: do so on every open. Otherwise,
  // while any process holds the database open (a server), 512 such deaths
  // make every read fail with MDB_READERS_FULL (tests/reliability).
  int dead = 0;
  if (!lockless) (void)mdb_reader_check(env, &dead);
  Watch(env);  // faults on damaged pages become errors (lmdb_guard.h)
  out->reset(new Env(env, path, options, lockless));
  (*out)->UpdateRange(maps_before);
  return Status::Ok();
}

void Env::UpdateRange(const std::vector<uintptr_t>& before) const {
  // LMDB does not say where it mapped the file (mdb_env_info's me_mapaddr is
  // the fixed address a meta page asks for: null). The map is the mapping of
  // data.mdb that was not there before the open or the resize; when that is
  // not exactly one (another thread mapped the same file meanwhile), the
  // range stays unknown and CheckInFile checks nothing.
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  range_.base = nullptr;
  range_.size = info.me_mapsize;
  const char* found = nullptr;
  int count = 0;
  for (uintptr_t start : MapsOf(path_ + "/data.mdb")) {
    if (std::find(before.begin(), before.end(), start) != before.end()) continue;
    found = reinterpret_cast<const char*>(start);
    ++count;
  }
  if (count == 1) range_.base = found;
}

Env::~Env() { mdb_env_close(env_); }

size_t Env::map_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

void Env::Enter() const {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return !remapping_; });
  ++open_txns_;
  owners_.push_back(std::this_thread::get_id());
}

void Env::Leave(std::thread::id owner) const {
  std::lock_guard<std::mutex> lock(mu_);
  --open_txns_;
  auto it = std::find(owners_.begin(), owners_.end(), owner);
  if (it != owners_.end()) owners_.erase(it);
  if (open_txns_ == 0) changed_.notify_all();
}

Status Env::Remap(size_t size, std::chrono::milliseconds wait) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (std::find(owners_.begin(), owners_.end(), std::this_thread::get_id()) != owners_.end()) {
    return Status::Full("cannot resize the database map while this thread holds a transaction");
  }
  // One remap at a time; then no new transaction begins until this one is done.
  if (!changed_.wait_for(lock, wait, [&] { return !remapping_; })) {
    return Status::Full("another resize of the database map did not finish");
  }
  remapping_ = true;
  const bool drained = changed_.wait_for(lock, wait, [&] { return open_txns_ == 0; });
  int rc = MDB_SUCCESS;
  if (drained) {
    MDB_envinfo before;
    mdb_env_info(env_, &before);
    // This map is unmapped and mapped again, maybe at the same address.
    std::vector<uintptr_t> others = MapsOf(path_ + "/data.mdb");
    others.erase(std::remove(others.begin(), others.end(),
                             reinterpret_cast<uintptr_t>(range_.base)),
                 others.end());
    rc = mdb_env_set_mapsize(env_, size);
    if (rc == MDB_SUCCESS && size == 0) {
      // Adopting the persisted size must not undo a growth of ours that is
      // not committed (persisted) yet.
      MDB_envinfo after;
      mdb_env_info(env_, &after);
      if (after.me_mapsize < before.me_mapsize) rc = mdb_env_set_mapsize(env_, before.me_mapsize);
    }
    UpdateRange(others);
  }
  remapping_ = false;
  changed_.notify_all();
  if (!drained) {
    return Status::Full("cannot resize the database map: " + std::to_string(open_txns_) +
                        " other transaction(s) of this process stayed open for " +
                        std::to_string(wait.count()) + " ms");
  }
  return LmdbStatus(rc, "resizing the database map");
}

Env::Capacity Env::Measure() const {
  Capacity cap;
  MDB_envinfo info;
  MDB_stat stat;
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &stat);
  cap.map = info.me_mapsize;
  cap.used = (info.me_last_pgno + 1) * stat.ms_psize;
  cap.file = FileSize(path_ + "/data.mdb");
  cap.disk_free = DiskFree(path_);
  cap.limit = options_.max_map_size;
  const size_t disk_cap = cap.disk_free == SIZE_MAX ? SIZE_MAX : cap.file + cap.disk_free;
  if (disk_cap < cap.limit) {
    cap.limit = disk_cap / PageSize() * PageSize();
    cap.disk_bound = true;
  }
  return cap;
}

Status Env::FullStatusLocked(const Capacity& cap) const {
  std::string msg =
      "the database is full: its map holds " + Bytes(cap.map) + " (" + Bytes(cap.used) + " in use)";
  if (cap.map >= options_.max_map_size) {
    msg += " and has reached its limit of " + Bytes(options_.max_map_size) +
           " (OpenOptions::max_map_size)";
  } else if (cap.disk_bound && cap.map >= cap.limit) {
    msg += " and cannot grow: the disk holding '" + path_ + "' has " + Bytes(cap.disk_free) +
           " free; free some space and retry";
  } else {
    msg += "; it grows before a write is tried again";
  }
  return Status::Full(msg);
}

Status Env::FullStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  return FullStatusLocked(Measure());
}

Status Env::Grow() const {
  Capacity cap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cap = Measure();
  }
  const size_t target = std::min(cap.limit, std::max(2 * cap.map, cap.map + (size_t{64} << 20)));
  if (target <= cap.map) {
    std::lock_guard<std::mutex> lock(mu_);
    return FullStatusLocked(cap);
  }
  Status s = Remap(target, options_.resize_wait);
  if (!s.ok()) {
    return Status::Full("the database map (" + Bytes(cap.map) + ") is full; " + s.message());
  }
  return Status::Ok();
}

void Env::GrowToLimit() const {
  Capacity cap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_txns_ > 0) return;
    cap = Measure();
  }
  if (cap.limit > cap.map) (void)Remap(cap.limit, std::chrono::milliseconds(0));
}

Status Env::Copy(const std::string& dir, unsigned flags) const {
  for (int attempt = 0;; ++attempt) {
    Enter();
    const int rc = Guarded(range_, [&] { return mdb_env_copy2(env_, dir.c_str(), flags); });
    Leave(std::this_thread::get_id());
    if (rc != MDB_MAP_RESIZED || attempt == 2) return LmdbStatus(rc, "copying the database");
    // Another process grew the map: adopt its size, start the copy again.
    unlink((dir + "/data.mdb").c_str());
    TWINLINE_RETURN_IF_ERROR(Remap(0, options_.resize_wait));
  }
}

Status Txn::Begin(const Env& env, bool read_only, std::unique_ptr<Txn>* out) {
  if (!read_only && env.read_only()) {
    return Status::ReadOnly("the database is open read-only");
  }
  if (!read_only && env.faulted()) {
    return Status::Corruption(
        "the data file is damaged (an earlier write stopped on a damaged page); this process "
        "writes nothing more to it: " + LastFault());
  }
  for (int attempt = 0;; ++attempt) {
    env.Enter();
    MDB_txn* txn = nullptr;
    const int rc = mdb_txn_begin(env.get(), nullptr, read_only ? MDB_RDONLY : 0, &txn);
    if (rc == MDB_SUCCESS) {
      out->reset(new Txn(&env, txn, read_only, /*counted=*/true));
      const MapRange& map = env.range();
      (*out)->file_end_ = map.base == nullptr ? nullptr : map.base + map.size;
      if (read_only && map.base != nullptr) {
        // A read transaction sees only committed pages: those of the data
        // file up to the newest snapshot's last page.
        MDB_envinfo info;
        MDB_stat stat;
        mdb_env_info(env.get(), &info);
        mdb_env_stat(env.get(), &stat);
        const size_t in_use = (info.me_last_pgno + 1) * size_t{stat.ms_psize};
        if (in_use < map.size) (*out)->file_end_ = map.base + in_use;
      }
      return Status::Ok();
    }
    env.Leave(std::this_thread::get_id());
    // Every slot taken: free those of dead processes (see Env::Open) and retry.
    int dead = 0;
    if (rc == MDB_READERS_FULL && attempt == 0 &&
        mdb_reader_check(env.get(), &dead) == MDB_SUCCESS && dead > 0) {
      continue;
    }
    if (rc != MDB_MAP_RESIZED || attempt == 2) {
      return LmdbStatus(rc,
                        read_only ? "starting a read transaction" : "starting a write transaction");
    }
    // Another process grew the map past ours: adopt its size and retry.
    TWINLINE_RETURN_IF_ERROR(env.Remap(0, env.options_.resize_wait));
  }
}

Status Txn::BeginNested(Txn& parent, std::unique_ptr<Txn>* out) {
  if (parent.read_only())
    return Status::ReadOnly("cannot nest a write transaction in a read transaction");
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(mdb_txn_env(parent.get()), parent.get(), 0, &txn);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "starting a nested write transaction");
  out->reset(new Txn(parent.env_, txn, /*read_only=*/false, /*counted=*/false));
  (*out)->file_end_ = parent.file_end_;
  return Status::Ok();
}

Txn::~Txn() {
  if (txn_ != nullptr) {
    MDB_txn* txn = txn_;
    (void)Guard([txn] {
      mdb_txn_abort(txn);
      return MDB_SUCCESS;
    });
  }
  End();
}

template <class Call>
int Txn::Guard(Call&& call) const {
  const int rc = Guarded(env_->range(), std::forward<Call>(call));
  if (rc == kLmdbFault && !read_only_) env_->faulted_ = true;
  return rc;
}

Status Txn::CheckInFile(const MDB_val& v, std::string_view what) const {
  const char* p = static_cast<const char*>(v.mv_data);
  const MapRange& map = env_->range();
  if (map.base == nullptr || p < map.base || p >= map.base + map.size) {
    return Status::Ok();  // not in the map (or the map is not known)
  }
  // `p` may be the end itself: an empty value stored last in the last page
  // in use points just past that page, and nothing of it is read.
  if (p > file_end_ || v.mv_size > static_cast<size_t>(file_end_ - p)) {
    return Status::Corruption(std::string(what) + ": LMDB returned " +
                              std::to_string(v.mv_size) + " bytes at byte " +
                              std::to_string(p - map.base) +
                              " of the map, beyond the end of the data file's pages (the data "
                              "file is damaged)");
  }
  return Status::Ok();
}

void Txn::End() {
  txn_ = nullptr;
  if (counted_) env_->Leave(owner_);
  counted_ = false;
}

Status Txn::Check(int rc, std::string_view what) {
  if (rc == MDB_MAP_FULL) map_full_ = true;
  return LmdbStatus(rc, what);
}

Status Txn::Commit() {
  MDB_txn* txn = txn_;
  int rc = Guard([txn] { return mdb_txn_commit(txn); });
  if (rc == kLmdbFault) {
    // Stopped half way: LMDB did not free the transaction. Abort it, which
    // releases the writer lock (if that faults too, the lock is held until
    // this process ends).
    (void)Guard([txn] {
      mdb_txn_abort(txn);
      return MDB_SUCCESS;
    });
  }
  End();  // committed or, on failure, freed by LMDB
  return Check(rc, "committing");
}

Status Txn::OpenDb(const char* name, bool create, MDB_dbi* dbi, unsigned flags) {
  MDB_txn* txn = txn_;
  int rc = Guard([&] { return mdb_dbi_open(txn, name, (create ? MDB_CREATE : 0) | flags, dbi); });
  if (rc == MDB_NOTFOUND) {
    return Status::NotFound(std::string("the database has no '") + name + "' table");
  }
  return Check(rc, std::string("opening table '") + name + "'");
}

Status Txn::Get(MDB_dbi dbi, std::string_view key, MDB_val* value) const {
  MDB_val k = Val(key);
  MDB_txn* txn = txn_;
  int rc = Guard([&] { return mdb_get(txn, dbi, &k, value); });
  if (rc == MDB_NOTFOUND) return Status::NotFound("no such key");
  if (rc == MDB_SUCCESS) return CheckInFile(*value, "reading");
  return LmdbStatus(rc, "reading");
}

Status Txn::Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags,
                std::string_view what) {
  MDB_val k = Val(key);
  MDB_val v = Val(value);
  MDB_txn* txn = txn_;
  const int rc = Guard([&] { return mdb_put(txn, dbi, &k, &v, flags); });
  if (rc == MDB_SUCCESS) return Status::Ok();  // the message is built only on failure
  return Check(rc, std::string("writing ") + std::string(what));
}

Status PutCursor::Open(Txn& txn, MDB_dbi dbi, std::unique_ptr<PutCursor>* out) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn.get(), dbi, &c);
  if (rc != MDB_SUCCESS) return txn.Check(rc, "opening a cursor");
  out->reset(new PutCursor(txn, c));
  return Status::Ok();
}

PutCursor::~PutCursor() { mdb_cursor_close(cursor_); }

Status PutCursor::Put(std::string_view key, std::string_view value, unsigned flags,
                      std::string_view what) {
  MDB_val k = Val(key);
  MDB_val v = Val(value);
  MDB_cursor* c = cursor_;
  const int rc = txn_.Guard([&] { return mdb_cursor_put(c, &k, &v, flags); });
  if (rc == MDB_SUCCESS) return Status::Ok();
  return txn_.Check(rc, std::string("writing ") + std::string(what));
}

Status Txn::Reserve(MDB_dbi dbi, std::string_view key, size_t size, char** data,
                    std::string_view what) {
  MDB_val k = Val(key);
  MDB_val v{size, nullptr};
  MDB_txn* txn = txn_;
  const int rc = Guard([&] { return mdb_put(txn, dbi, &k, &v, MDB_RESERVE); });
  if (rc != MDB_SUCCESS) return Check(rc, std::string("writing ") + std::string(what));
  *data = static_cast<char*>(v.mv_data);
  return Status::Ok();
}

Status Txn::Del(MDB_dbi dbi, std::string_view key, std::string_view what) {
  MDB_val k = Val(key);
  MDB_txn* txn = txn_;
  const int rc = Guard([&] { return mdb_del(txn, dbi, &k, nullptr); });
  if (rc == MDB_NOTFOUND) return Status::NotFound("no such key");
  return Check(rc, std::string("deleting ") + std::string(what));
}

Status Txn::Entries(MDB_dbi dbi, uint64_t* entries) const {
  MDB_stat st;
  TWINLINE_RETURN_IF_ERROR(LmdbStatus(mdb_stat(txn_, dbi, &st), "reading table statistics"));
  *entries = st.ms_entries;
  return Status::Ok();
}

Status Txn::Clear(MDB_dbi dbi, std::string_view what) {
  MDB_txn* txn = txn_;
  return Check(Guard([&] { return mdb_drop(txn, dbi, 0); }),
               std::string("clearing ") + std::string(what));
}

Status Cursor::Open(const Txn& txn, MDB_dbi dbi, std::unique_ptr<Cursor>* out) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn.get(), dbi, &c);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "opening a cursor");
  out->reset(new Cursor(txn, c));
  return Status::Ok();
}

Cursor::~Cursor() { mdb_cursor_close(cursor_); }

bool Cursor::Move(MDB_cursor_op op) {
  // After a fault the cursor's state is LMDB's half-done work: never used again.
  if (status_.code() == Status::Code::kCorruption) return false;
  MDB_cursor* c = cursor_;
  int rc = txn_.Guard([&] { return mdb_cursor_get(c, &key_, &value_, op); });
  if (rc == MDB_SUCCESS) {
    status_ = txn_.CheckInFile(key_, "reading a key with a cursor");
    if (status_.ok()) status_ = txn_.CheckInFile(value_, "reading with a cursor");
    return status_.ok();
  }
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

bool Cursor::SeekKey(std::string_view key) {
  key_ = Val(key);
  return Move(MDB_SET_KEY);
}

bool Cursor::SeekBoth(std::string_view key, std::string_view value) {
  key_ = Val(key);
  value_ = Val(value);
  return Move(MDB_GET_BOTH);
}

bool Cursor::NextDup() { return Move(MDB_NEXT_DUP); }

// ---------------------------------------------------------------------------
// Releasing the map's resident pages (ReleaseMappedPages).

void ReleaseMappedPages(MDB_env* env) {
  int fd = -1;
  const char* dir = nullptr;
  struct stat file;
  if (mdb_env_get_fd(env, &fd) != MDB_SUCCESS || fstat(fd, &file) != 0 ||
      mdb_env_get_path(env, &dir) != MDB_SUCCESS) {
    return;
  }
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  ForEachMappingOf(file, RealPath(std::string(dir) + "/data.mdb"),
                   [&](uintptr_t start, uintptr_t end, off_t offset) {
                     // Only the part backed by the file: past its end nothing is resident.
                     if (offset >= file.st_size) return;
                     const uintptr_t backed =
                         (static_cast<uintptr_t>(file.st_size - offset) + page - 1) & ~(page - 1);
                     end = std::min(end, start + backed);
                     madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
                   });
}

}  // namespace twinline::lmdb
