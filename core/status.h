// Status: the outcome of an operation that can fail for reasons a user can act
// on (bad input, a conflict, a missing entity, a corrupted file).
//
// Expected failures are values, never exceptions: functions return a Status
// (or take one by pointer) and callers branch on it. Exceptions and asserts are
// kept for bugs. The CLI maps a Status code to an exit code and the HTTP layer
// to a status code, each in one place.
//
// A Status may carry the position of the offending item in a batch
// (`index()`, 0-based) and the field it concerns (`field()`, e.g.
// "sources[0].published"), so that callers reading files can name the line.
#ifndef TWINLINE_CORE_STATUS_H_
#define TWINLINE_CORE_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace twinline {

class Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument,  // malformed input: bad JSON, impossible date, missing source
    kNotFound,         // unknown entity, event id or seq
    kAlreadyExists,    // an id already taken by a different fact or entity
    kConflict,         // optimistic concurrency: the log moved past the expected seq
    kCorruption,       // hash chain or index disagrees with the log
    kIOError,          // the file system or LMDB failed
    kReadOnly,         // a write was attempted on a read-only database
    kFull,             // the database map is full
    kVersion,          // the database was written by an unsupported format version
  };

  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status Conflict(std::string msg) { return Status(Code::kConflict, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status ReadOnly(std::string msg) { return Status(Code::kReadOnly, std::move(msg)); }
  static Status Full(std::string msg) { return Status(Code::kFull, std::move(msg)); }
  static Status Version(std::string msg) { return Status(Code::kVersion, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Position of the offending item in a batch, or -1.
  int64_t index() const { return index_; }
  // Dotted path of the offending field ("sources[0].title"), or empty.
  const std::string& field() const { return field_; }

  // Returns a copy that records the batch position / field. When a field is
  // already set, `WithField("replacement")` yields "replacement.date".
  Status WithIndex(int64_t index) const {
    Status s = *this;
    s.index_ = index;
    return s;
  }
  Status WithField(std::string_view field) const {
    Status s = *this;
    s.field_ = s.field_.empty() ? std::string(field) : std::string(field) + "." + s.field_;
    return s;
  }

  // "invalid argument: date: 2021-02-30 is not a day of February 2021".
  std::string ToString() const;
  static std::string_view CodeName(Code code);

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
  int64_t index_ = -1;
  std::string field_;
};

// Propagates a non-OK status to the caller.
#define TWINLINE_RETURN_IF_ERROR(expr)          \
  do {                                          \
    ::twinline::Status _twl_status = (expr);    \
    if (!_twl_status.ok()) return _twl_status;  \
  } while (0)

}  // namespace twinline

#endif  // TWINLINE_CORE_STATUS_H_
