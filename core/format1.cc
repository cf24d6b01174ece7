#include "core/format1.h"

#include <cstring>
#include <memory>

#include "core/lmdb_env.h"

namespace twinline {

Status ScanFormat1(const std::string& path,
                   const std::function<Status(uint64_t seq, std::string_view canonical)>& fn,
                   Format1Log* log) {
  *log = Format1Log();
  lmdb::EnvOptions options;
  options.read_only = true;
  std::unique_ptr<lmdb::Env> env;
  TWINLINE_RETURN_IF_ERROR(lmdb::Env::Open(path, options, &env));
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env, /*read_only=*/true, &txn));
  MDB_dbi meta, events, chain;
  TWINLINE_RETURN_IF_ERROR(txn->OpenDb("meta", false, &meta));
  MDB_val v;
  TWINLINE_RETURN_IF_ERROR(txn->Get(meta, "format_version", &v).WithField("format_version"));
  if (lmdb::View(v) != "1") {
    return Status::Version("'" + path + "' is not a database of format 1 (its version record says '" +
                           std::string(lmdb::View(v)) + "')");
  }
  TWINLINE_RETURN_IF_ERROR(txn->OpenDb("events", false, &events));
  TWINLINE_RETURN_IF_ERROR(txn->OpenDb("chain", false, &chain));
  std::unique_ptr<lmdb::Cursor> c;
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, events, &c));
  uint64_t expected = 1;
  for (bool ok = c->First(); ok; ok = c->Next(), ++expected) {
    if (c->key().size() != 8 || lmdb::DecodeU64(c->key()) != expected) {
      return Status::Corruption("'" + path + "': its records are not numbered 1..N (at seq " +
                                std::to_string(expected) + "); verify it with an earlier twinline");
    }
    TWINLINE_RETURN_IF_ERROR(fn(expected, c->value()));
    log->last_seq = expected;
  }
  TWINLINE_RETURN_IF_ERROR(c->status());
  if (log->last_seq > 0) {
    TWINLINE_RETURN_IF_ERROR(txn->Get(chain, lmdb::EncodeU64(log->last_seq), &v).WithField("chain"));
    if (v.mv_size != log->head.size()) return Status::Corruption("'" + path + "': a chain hash has the wrong size");
    std::memcpy(log->head.data(), v.mv_data, log->head.size());
  }
  return Status::Ok();
}

}  // namespace twinline
