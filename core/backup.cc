// EventLog::Backup (docs/FORMAT.md, "Backups").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/event_log.h"
#include "core/lmdb_env.h"

namespace twinline {
namespace {

// fsync(2) on a file or directory, so that a backup survives a crash.
Status SyncPath(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return Status::IOError("cannot open '" + path + "': " + std::strerror(errno));
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0) return Status::IOError("cannot sync '" + path + "': " + std::strerror(err));
  return Status::Ok();
}


}  // namespace

Status EventLog::Backup(const std::string& dest, const BackupOptions& options,
                        BackupReport* report) const {
  namespace fs = std::filesystem;
  *report = BackupReport();
  fs::path target = fs::path(dest).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "copy/" names "copy"
  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec) || !fs::is_empty(target, ec)) {
      return Status::AlreadyExists(
          "'" + dest + "' exists and is not an empty directory; a backup never overwrites");
    }
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) {
    return Status::NotFound("no directory '" + parent.string() + "' to put the backup in");
  }

  // Build the copy beside its destination, then rename it into place.
  std::string tmp = (parent / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  if (mkdtemp(tmp.data()) == nullptr) {
    const int err = errno;
    Status s = Status::IOError("cannot create a directory in '" + parent.string() +
                               "': " + std::strerror(err));
    return err == EACCES || err == EROFS ? Status::ReadOnly(s.message()) : s;
  }
  struct RemoveOnFailure {
    std::string dir;
    bool armed = true;
    ~RemoveOnFailure() {
      std::error_code ignored;
      if (armed) fs::remove_all(dir, ignored);
    }
  } cleanup{tmp};

  TWINLINE_RETURN_IF_ERROR(env_->Copy(tmp, options.compact ? MDB_CP_COMPACT : 0));
  TWINLINE_RETURN_IF_ERROR(SyncPath(tmp + "/data.mdb"));
  {
    OpenOptions copy_options;
    copy_options.read_only = true;
    std::unique_ptr<EventLog> copy;
    Status st = EventLog::Open(tmp, copy_options, &copy);
    VerifyReport checked;
    if (st.ok())
      st = options.full_verify ? copy->Verify(&checked)
                               : copy->QuickVerify(kQuickVerifyTail, &checked);
    if (!st.ok())
      return Status::Corruption("the copy does not verify, so it was not kept: " + st.message());
    report->last_seq = checked.last_seq;
    report->head = checked.head;
  }
  fs::remove(fs::path(tmp) / "lock.mdb", ec);  // LMDB makes it again at need
  report->bytes = fs::file_size(fs::path(tmp) / "data.mdb", ec);

  // The source directory's permissions (mkdtemp made it 0700), and always
  // the owner's: a copy of a read-only database is not read-only itself.
  struct stat source;
  if (stat(path_.c_str(), &source) == 0) chmod(tmp.c_str(), (source.st_mode & 07777) | S_IRWXU);

  // An empty directory at `dest` is replaced (rename(2) allows that).
  if (rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    if (err == ENOTEMPTY || err == EEXIST) {
      return Status::AlreadyExists("'" + dest +
                                   "' was filled while the backup ran; a backup never overwrites");
    }
    return Status::IOError("cannot move the backup into place at '" + dest +
                           "': " + std::strerror(err));
  }
  cleanup.armed = false;
  return SyncPath(parent.string());
}

}  // namespace twinline
