#include "core/read_txn.h"

#include <sys/stat.h>

#include <algorithm>

#include "core/edtf.h"
#include "core/record.h"
#include "core/schema_names.h"
#include "core/sha256.h"
#include <kj/exception.h>
#include <cstring>

namespace twinline::log_internal {
namespace {

using lmdb::DecodeU64;
using lmdb::EncodeU64;

// Reads through `txn_`: its own (a read transaction) or one borrowed (a
// write transaction, for DerivedWriteTxn).
template <typename Base>
class LmdbReadTxn : public Base {
 public:
  using EventFn = ReadTxn::EventFn;
  LmdbReadTxn(std::unique_ptr<lmdb::Txn> owned, lmdb::Txn& txn, const TableHandles& dbi,
              std::string path)
      : owned_(std::move(owned)), txn_(&txn), dbi_(dbi), path_(std::move(path)) {}

  uint64_t LastSeq() const override {
    std::unique_ptr<lmdb::Cursor> c;
    if (!lmdb::Cursor::Open(*txn_, dbi_[kEvents], &c).ok() || !c->Last()) return 0;
    // A damaged key reads as no seq here; verify and every scan name it.
    return c->key().size() == 8 ? DecodeU64(c->key()) : 0;
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
    return UnpackRecord(lmdb::View(v), seq, bytes);
  }

  Status FindById(std::string_view id, uint64_t* seq) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kById], id, &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("no event with id '" + std::string(id) + "'");
    }
    TWINLINE_RETURN_IF_ERROR(st);
    TWINLINE_RETURN_IF_ERROR(lmdb::DecodeStoredU64(lmdb::View(v), "a value of table 'by_id'", seq));
    return Status::Ok();
  }

  Status Scan(uint64_t from, uint64_t to, const EventFn& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kEvents], &c));
    RecordReader reader;  // one buffer for the whole scan
    for (bool ok = c->Seek(EncodeU64(from)); ok; ok = c->Next()) {
      uint64_t seq = 0;
      TWINLINE_RETURN_IF_ERROR(lmdb::DecodeStoredU64(c->key(), "a key of table 'events'", &seq));
      if (seq > to) break;
      TWINLINE_RETURN_IF_ERROR(reader.Open(c->value(), seq));
      bool more = true;
      TWINLINE_RETURN_IF_ERROR(Visit(reader, seq, fn, &more));
      if (!more) break;
    }
    return c->status();
  }

  // Visits the events whose seqs a posting table (sorted duplicates of 8
  // bytes, or more: the seq comes first) holds under `key`, ascending.
  Status ScanPostings(Table table, std::string_view key, const EventFn& fn) const {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[table], &c));
    for (bool ok = c->SeekKey(key); ok; ok = c->NextDup()) {
      if (c->value().size() < 8) return Status::Corruption(std::string("index '") + kTableNames[table] + "' has a short entry");
      bool more = true;
      TWINLINE_RETURN_IF_ERROR(Get(DecodeU64(c->value()), [&](auto ev) { more = fn(ev); }));
      if (!more) break;
    }
    return c->status();
  }

  Status ScanEntity(std::string_view slug, const EventFn& fn) const override {
    return ScanPostings(kByEntity, slug, fn);
  }

  Status ScanReferences(std::string_view event_id, const EventFn& fn) const override {
    return ScanPostings(kRefs, event_id, fn);
  }

  Status ScanValidRange(int64_t from_day, int64_t to_day, const EventFn& fn) const override {
    return Scan(1, UINT64_MAX, [&](schema::Event::Reader ev) {
      const auto date = ev.getValidTime();
      if (date.getEarliest() > to_day || date.getLatest() < from_day) return true;
      return fn(ev);
    });
  }

  Status GetAscending(std::span<const uint64_t> seqs, const EventFn& fn) const override {
    if (!std::is_sorted(seqs.begin(), seqs.end())) {
      return Status::InvalidArgument("GetAscending: seqs are not in ascending order");
    }
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kEvents], &c));
    RecordReader reader;
    for (const uint64_t seq : seqs) {
      // LMDB's seek first looks within the cursor's current leaf page, so a
      // seq next to the last one costs no descent from the root.
      if (!c->Seek(EncodeU64(seq)) || c->key() != EncodeU64(seq)) {
        TWINLINE_RETURN_IF_ERROR(c->status());
        return Status::NotFound("no event at seq " + std::to_string(seq));
      }
      TWINLINE_RETURN_IF_ERROR(reader.Open(c->value(), seq));
      bool more = true;
      TWINLINE_RETURN_IF_ERROR(Visit(reader, seq, fn, &more));
      if (!more) break;
    }
    return Status::Ok();
  }

  Status ChainHash(uint64_t seq, Digest* hash) const override {
    if (seq == 0) {
      *hash = kZeroDigest;
      return Status::Ok();
    }
    MDB_val v;
    Status st = txn_->Get(dbi_[kChain], EncodeU64(seq), &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("no chain hash at seq " + std::to_string(seq));
    }
    TWINLINE_RETURN_IF_ERROR(st);
    if (v.mv_size != hash->size()) {
      return Status::Corruption("seq " + std::to_string(seq) + ": its chain hash has the wrong size");
    }
    std::memcpy(hash->data(), v.mv_data, hash->size());
    return Status::Ok();
  }

  Status FindEntity(std::string_view slug, uint64_t* seq) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kEntities], slug, &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("unknown entity '" + std::string(slug) + "'");
    }
    TWINLINE_RETURN_IF_ERROR(st);
    TWINLINE_RETURN_IF_ERROR(lmdb::DecodeStoredU64(lmdb::View(v), "a value of table 'entities'", seq));
    return Status::Ok();
  }

  Status ListEntities(const std::function<bool(std::string_view, uint64_t)>& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kEntities], &c));
    for (bool ok = c->First(); ok; ok = c->Next()) {
      uint64_t seq = 0;
      TWINLINE_RETURN_IF_ERROR(lmdb::DecodeStoredU64(c->value(), "a value of table 'entities'", &seq));
      if (!fn(c->key(), seq)) break;
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

  Status GetDerived(std::string_view key, std::string_view* value) const override {
    MDB_val v;
    Status st = txn_->Get(dbi_[kIndex], key, &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("no derived value '" + std::string(key) + "'");
    }
    TWINLINE_RETURN_IF_ERROR(st);
    *value = lmdb::View(v);
    return Status::Ok();
  }

  Status ListDerived(const std::function<bool(std::string_view, size_t)>& fn) const override {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn_, dbi_[kIndex], &c));
    for (bool ok = c->First(); ok; ok = c->Next()) {
      if (!fn(c->key(), c->value().size())) break;
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

 protected:
  // Runs `fn` over the record `reader` holds, turning a malformed one into
  // kCorruption naming `seq`.
  static Status Visit(RecordReader& reader, uint64_t seq, const EventFn& fn, bool* more) {
    try {
      *more = fn(reader.root());
    } catch (const kj::Exception& e) {
      return Status::Corruption("seq " + std::to_string(seq) + ": record does not decode: " +
                                std::string(e.getDescription().cStr()));
    }
    return Status::Ok();
  }

  std::unique_ptr<lmdb::Txn> owned_;  // null when txn_ is borrowed
  lmdb::Txn* txn_;
  const TableHandles& dbi_;  // borrowed from the EventLog, which outlives us
  std::string path_;
};

class LmdbDerivedWriteTxn final : public LmdbReadTxn<DerivedWriteTxn> {
 public:
  LmdbDerivedWriteTxn(lmdb::Txn& txn, const TableHandles& dbi, std::string path)
      : LmdbReadTxn(nullptr, txn, dbi, std::move(path)) {}

  Status ReserveDerived(std::string_view key, size_t size, char** data) override {
    return txn_->Reserve(dbi_[kIndex], key, size, data, "derived data");
  }
  Status DeleteDerived(std::string_view key) override {
    return txn_->Del(dbi_[kIndex], key, "derived data");
  }
  Status ClearDerived() override { return txn_->Clear(dbi_[kIndex], "derived data"); }
};

}  // namespace

std::unique_ptr<ReadTxn> NewReadTxn(std::unique_ptr<lmdb::Txn> txn, const TableHandles& dbi,
                                    std::string path) {
  lmdb::Txn& borrowed = *txn;
  return std::make_unique<LmdbReadTxn<ReadTxn>>(std::move(txn), borrowed, dbi, std::move(path));
}

std::unique_ptr<DerivedWriteTxn> NewDerivedWriteTxn(lmdb::Txn& txn, const TableHandles& dbi,
                                                    std::string path) {
  return std::make_unique<LmdbDerivedWriteTxn>(txn, dbi, std::move(path));
}

}  // namespace twinline::log_internal
