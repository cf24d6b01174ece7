#include "core/read_txn.h"

#include <sys/stat.h>

#include <algorithm>

#include "core/edtf.h"
#include "core/record.h"
#include "core/schema_names.h"
#include "core/sha256.h"

namespace twinline::log_internal {
namespace {

using lmdb::DecodeU64;
using lmdb::EncodeU64;

class LmdbReadTxn : public ReadTxn {
 public:
  LmdbReadTxn(std::unique_ptr<lmdb::Txn> txn, const std::array<MDB_dbi, kNumTables>& dbi,
              std::string path)
      : txn_(std::move(txn)), dbi_(dbi), path_(std::move(path)) {}

  uint64_t LastSeq() const override {
    std::unique_ptr<lmdb::Cursor> c;
    if (!lmdb::Cursor::Open(*txn_, dbi_[kEvents], &c).ok() || !c->Last()) return 0;
    return DecodeU64(c->key());
  }

  Status Get(uint64_t seq, const std::function<void(schema::Event::Reader)>& fn) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kEvents], EncodeU64(seq), &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("no event at seq " + std::to_string(seq) + " (the log ends at " +
                              std::to_string(LastSeq()) + ")");
    }
    TWINLINE_RETURN_IF_ERROR(st);
    return WithStoredEvent(lmdb::View(v), seq, fn);
  }

  Status GetRaw(uint64_t seq, std::string* bytes) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kEvents], EncodeU64(seq), &v);
    if (st.code() == Status::Code::kNotFound) return Status::NotFound("no event at seq " + std::to_string(seq));
    TWINLINE_RETURN_IF_ERROR(st);
    bytes->assign(lmdb::View(v));
    return Status::Ok();
  }

  Status ChainHash(uint64_t seq, std::string* hash) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kChain], EncodeU64(seq), &v);
    if (st.code() == Status::Code::kNotFound) return Status::NotFound("no chain hash at seq " + std::to_string(seq));
    TWINLINE_RETURN_IF_ERROR(st);
    hash->assign(lmdb::View(v));
    return Status::Ok();
  }

  Status FindById(std::string_view id, uint64_t* seq) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kById], id, &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("no event with id '" + std::string(id) + "'");
    }
    TWINLINE_RETURN_IF_ERROR(st);
    *seq = DecodeU64(lmdb::View(v));
    return Status::Ok();
  }

  Status Scan(uint64_t from, uint64_t to, const EventFn& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kEvents], &c));
    for (bool ok = c->Seek(EncodeU64(from)); ok; ok = c->Next()) {
      uint64_t seq = DecodeU64(c->key());
      if (seq > to) break;
      bool more = true;
      TWINLINE_RETURN_IF_ERROR(WithStoredEvent(c->value(), seq, [&](auto ev) { more = fn(ev); }));
      if (!more) break;
    }
    return c->status();
  }

  // Visits the seqs stored after `prefix` in a table keyed `prefix ‖ seq`.
  Status ScanPrefixed(Table table, const std::string& prefix, const EventFn& fn) const {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[table], &c));
    for (bool ok = c->Seek(prefix); ok; ok = c->Next()) {
      std::string_view key = c->key();
      if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) break;
      bool more = true;
      TWINLINE_RETURN_IF_ERROR(Get(DecodeU64(key.substr(prefix.size())), [&](auto ev) { more = fn(ev); }));
      if (!more) break;
    }
    return c->status();
  }

  Status ScanEntity(std::string_view slug, const EventFn& fn) const override {
    return ScanPrefixed(kByEntity, std::string(slug) + '\0', fn);
  }

  Status ScanReferences(std::string_view event_id, const EventFn& fn) const override {
    return ScanPrefixed(kRefs, std::string(event_id) + '\0', fn);
  }

  Status ScanValidRange(int64_t from_day, int64_t to_day, const EventFn& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kByDate], &c));
    // Walks every event that starts before `to_day` (see the header).
    for (bool ok = c->First(); ok; ok = c->Next()) {
      std::string_view key = c->key();
      if (lmdb::DecodeDay(key) > to_day) break;
      if (lmdb::DecodeDay(c->value()) < from_day) continue;
      bool more = true;
      TWINLINE_RETURN_IF_ERROR(Get(DecodeU64(key.substr(8)), [&](auto ev) { more = fn(ev); }));
      if (!more) break;
    }
    return c->status();
  }

  // Visits the seqs of the date index's entries with an earliest day in
  // [from_day, to_day], in index order (earliest day, then seq), until
  // `fn` returns false.
  Status WalkStarting(int64_t from_day, int64_t to_day,
                      const std::function<bool(uint64_t seq)>& fn) const {
    if (from_day > to_day) return Status::Ok();
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kByDate], &c));
    for (bool ok = c->Seek(lmdb::EncodeDay(from_day)); ok; ok = c->Next()) {
      std::string_view key = c->key();
      if (lmdb::DecodeDay(key) > to_day || !fn(DecodeU64(key.substr(8)))) break;
    }
    return c->status();
  }

  Status ScanStarting(int64_t from_day, int64_t to_day, const EventFn& fn) const override {
    Status inner;
    TWINLINE_RETURN_IF_ERROR(WalkStarting(from_day, to_day, [&](uint64_t seq) {
      bool more = true;
      inner = Get(seq, [&](auto ev) { more = fn(ev); });
      return inner.ok() && more;
    }));
    return inner;
  }

  Status SeqsStarting(int64_t from_day, int64_t to_day, uint64_t max_seq, size_t limit,
                      std::vector<uint64_t>* seqs, bool* truncated) const override {
    seqs->clear();
    *truncated = false;
    TWINLINE_RETURN_IF_ERROR(WalkStarting(from_day, to_day, [&](uint64_t seq) {
      if (seq > max_seq) return true;
      if (seqs->size() == limit) {
        *truncated = true;
        return false;
      }
      seqs->push_back(seq);
      return true;
    }));
    std::sort(seqs->begin(), seqs->end());
    return Status::Ok();
  }

  Status GetAscending(std::span<const uint64_t> seqs, const EventFn& fn) const override {
    if (!std::is_sorted(seqs.begin(), seqs.end())) {
      return Status::InvalidArgument("GetAscending: seqs are not in ascending order");
    }
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kEvents], &c));
    for (const uint64_t seq : seqs) {
      // LMDB's seek first looks within the cursor's current leaf page, so a
      // seq next to the last one costs no descent from the root.
      if (!c->Seek(EncodeU64(seq)) || DecodeU64(c->key()) != seq) {
        TWINLINE_RETURN_IF_ERROR(c->status());
        return Status::NotFound("no event at seq " + std::to_string(seq));
      }
      bool more = true;
      TWINLINE_RETURN_IF_ERROR(WithStoredEvent(c->value(), seq, [&](auto ev) { more = fn(ev); }));
      if (!more) break;
    }
    return Status::Ok();
  }

  Status FindEntity(std::string_view slug, uint64_t* seq) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kEntities], slug, &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("unknown entity '" + std::string(slug) + "'");
    }
    TWINLINE_RETURN_IF_ERROR(st);
    *seq = DecodeU64(lmdb::View(v));
    return Status::Ok();
  }

  Status ListEntities(const std::function<bool(std::string_view, uint64_t)>& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kEntities], &c));
    for (bool ok = c->First(); ok; ok = c->Next()) {
      if (!fn(c->key(), DecodeU64(c->value()))) break;
    }
    return c->status();
  }

  Status LookupNameKey(std::string_view key, std::vector<std::string>* slugs) const override {
    slugs->clear();
    std::string prefix = std::string(key) + '\0';
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kNames], &c));
    for (bool ok = c->Seek(prefix); ok; ok = c->Next()) {
      std::string_view k = c->key();
      if (k.substr(0, prefix.size()) != prefix) break;
      slugs->emplace_back(k.substr(prefix.size()));
    }
    return c->status();
  }

  Status ListNameKeys(const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kNames], &c));
    for (bool ok = c->First(); ok; ok = c->Next()) {
      std::string_view k = c->key();
      size_t nul = k.find('\0');
      if (nul == std::string_view::npos) continue;
      if (!fn(k.substr(0, nul), k.substr(nul + 1))) break;
    }
    return c->status();
  }

  Status ScanCheckpoints(
      const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kCheckpoints], &c));
    for (bool ok = c->First(); ok; ok = c->Next()) {
      if (!fn(c->key(), c->value())) break;
    }
    return c->status();
  }

  void ReleaseMappedPages() const override {
    lmdb::ReleaseMappedPages(mdb_txn_env(txn_->get()));
  }

  Status Stats(LogStats* stats) const override {
    *stats = LogStats();
    stats->min_valid_day = kUnboundedEnd;
    stats->max_valid_day = kUnboundedStart;
    TWINLINE_RETURN_IF_ERROR(Scan(1, UINT64_MAX, [&](schema::Event::Reader ev) {
      ++stats->events;
      stats->by_kind[PayloadKindName(ev.getPayload().which())]++;
      stats->sources += ev.getSources().size();
      if (stats->first_recorded_at == 0) stats->first_recorded_at = ev.getRecordedAt();
      stats->last_recorded_at = ev.getRecordedAt();
      for (int64_t day : {ev.getValidTime().getEarliest(), ev.getValidTime().getLatest()}) {
        if (day == kUnboundedStart || day == kUnboundedEnd) continue;
        stats->min_valid_day = std::min(stats->min_valid_day, day);
        stats->max_valid_day = std::max(stats->max_valid_day, day);
      }
      return true;
    }));
    if (stats->min_valid_day > stats->max_valid_day) stats->min_valid_day = stats->max_valid_day = 0;
    MDB_stat st;
    if (mdb_stat(txn_->get(), dbi_[kEntities], &st) == MDB_SUCCESS) stats->entities = st.ms_entries;
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kChain], &c));
    stats->head = c->Last() ? ToHex(reinterpret_cast<const uint8_t*>(c->value().data()), c->value().size())
                            : ToHex(kZeroDigest);
    struct stat file;
    if (stat((path_ + "/data.mdb").c_str(), &file) == 0) stats->file_bytes = file.st_size;
    return Status::Ok();
  }

 private:
  std::unique_ptr<lmdb::Txn> txn_;
  const std::array<MDB_dbi, kNumTables>& dbi_;  // borrowed from the EventLog, which outlives us
  std::string path_;
};

}  // namespace

std::unique_ptr<ReadTxn> NewReadTxn(std::unique_ptr<lmdb::Txn> txn, const TableHandles& dbi,
                                    std::string path) {
  return std::make_unique<LmdbReadTxn>(std::move(txn), dbi, std::move(path));
}

}  // namespace twinline::log_internal
