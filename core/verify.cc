// EventLog::Verify and QuickVerify (docs/FORMAT.md, "Verification").
#include <kj/exception.h>

#include <algorithm>
#include <tuple>
#include <cstring>
#include <vector>

#include "core/db_file_check.h"
#include "core/event_log.h"
#include "core/log_index.h"
#include "core/log_tables.h"
#include "core/record.h"
#include "core/sha256.h"

namespace twinline {

using namespace log_internal;  // NOLINT: the log's own internals
using lmdb::DecodeU64;
using lmdb::EncodeU64;

namespace {

// ---------------------------------------------------------------------------
// Verification (docs/FORMAT.md, "Verification"): one pass over the records
// in seq order, checking for each what it implies is stored, then one count
// per index. Memory does not grow with the log.

using Counts = std::array<uint64_t, kNumTables>;

// What a reference in record `seq` points at: found through the stored
// by_id index (whose entry for the target was checked with the target's own
// record, which comes first) and checked against the record it names.
Status VerifyTarget(const lmdb::Txn& txn, const TableHandles& dbi,
                    std::string_view id, uint64_t seq, TargetInfo* info) {
  const Status unknown = Status::Corruption("refers to unknown event '" + std::string(id) + "'");
  MDB_val v;
  Status st = txn.Get(dbi[kById], id, &v);
  if (st.code() == Status::Code::kNotFound) return unknown;
  TWINLINE_RETURN_IF_ERROR(st);
  if (v.mv_size != 8) return unknown;
  const uint64_t target = DecodeU64(lmdb::View(v));
  if (target == 0 || target >= seq) return unknown;
  MDB_val record;
  st = txn.Get(dbi[kEvents], EncodeU64(target), &record);
  if (st.code() == Status::Code::kNotFound) return unknown;
  TWINLINE_RETURN_IF_ERROR(st);
  bool found = false;
  TWINLINE_RETURN_IF_ERROR(
      WithStoredEvent(lmdb::View(record), target, [&](schema::Event::Reader ev) {
        found = std::string_view(ev.getId().cStr(), ev.getId().size()) == id;
        if (found) *info = DescribeTarget(ev);
      }));
  return found ? Status::Ok() : unknown;
}

// The index entries record `ev` implies, found as Verify finds them.
Status ImpliedEntries(const lmdb::Txn& txn, const TableHandles& dbi,
                      const NameFolder& folder, schema::Event::Reader ev,
                      std::vector<IndexEntry>* out) {
  out->clear();
  const uint64_t seq = ev.getSeq();
  TargetLookup lookup = [&](std::string_view id, TargetInfo* info) {
    return VerifyTarget(txn, dbi, id, seq, info);
  };
  return IndexEntriesFor(ev, folder, lookup, out);
}

// Whether `e` is stored: for a posting table, its value among the
// duplicates of its key; otherwise under its key, with its value.
Status FindEntry(const lmdb::Txn& txn, const TableHandles& dbi, const IndexEntry& e, bool* found,
                 bool* wrong_value) {
  *found = *wrong_value = false;
  if (kTableFlags[e.table] & MDB_DUPSORT) {
    // Through lmdb::Cursor, whose calls are guarded (core/lmdb_guard.h).
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn, dbi[e.table], &c));
    *found = c->SeekBoth(e.key, e.value);
    return c->status();
  }
  MDB_val stored;
  Status st = txn.Get(dbi[e.table], e.key, &stored);
  if (st.code() == Status::Code::kNotFound) return Status::Ok();
  TWINLINE_RETURN_IF_ERROR(st);
  *found = true;
  *wrong_value = lmdb::View(stored) != e.value;
  return Status::Ok();
}

// Checks one record: its key (the next seq), its chain hash (from *prev,
// which it advances, over the record's canonical form), that it decodes and
// names its own seq, and that every index entry it implies is stored with
// its value (counted in *implied). Errors name the seq.
Status CheckRecord(const lmdb::Txn& txn, const TableHandles& dbi, const NameFolder& folder,
                   uint64_t seq, std::string_view key, std::string_view value,
                   const lmdb::Cursor* chain, Digest* prev, RecordReader* reader,
                   std::vector<IndexEntry>* entries, Counts* implied) {
  auto bad = [seq](const std::string& why) {
    return Status::Corruption("seq " + std::to_string(seq) + ": " + why);
  };
  if (key.size() != 8 || DecodeU64(key) != seq) {
    return bad("records are not numbered 1..N without gaps (found key " +
               ToHex(reinterpret_cast<const uint8_t*>(key.data()), key.size()) + ")");
  }
  if (chain == nullptr || chain->key() != key) return bad("the chain has no hash for this record");
  Status opened = reader->Open(value, seq);
  if (!opened.ok()) return bad("hash chain mismatch: the record was altered (it does not unpack)");
  Sha256 h;
  h.Update(prev->data(), prev->size());
  h.Update(reader->canonical());
  const Digest hash = h.Finish();
  if (chain->value() != AsBytes(hash))
    return bad("hash chain mismatch: the record or its hash was altered");
  *prev = hash;

  Status inner;
  try {
    schema::Event::Reader ev = reader->root();
    if (ev.getSeq() != seq) {
      inner = Status::Corruption("record says seq " + std::to_string(ev.getSeq()));
    } else {
      inner = ImpliedEntries(txn, dbi, folder, ev, entries);
    }
  } catch (const kj::Exception& e) {
    inner = Status::Corruption(std::string("record does not decode: ") + e.getDescription().cStr());
  }
  if (!inner.ok()) return inner.code() == Status::Code::kCorruption ? bad(inner.message()) : inner;

  std::sort(entries->begin(), entries->end(), [](const IndexEntry& a, const IndexEntry& b) {
    return std::tie(a.table, a.key, a.value) < std::tie(b.table, b.key, b.value);
  });
  for (size_t i = 0; i < entries->size(); ++i) {
    const IndexEntry& e = (*entries)[i];
    const std::string name = kTableNames[e.table];
    const IndexEntry* before = i > 0 ? &(*entries)[i - 1] : nullptr;
    if (before && before->table == e.table && before->key == e.key &&
        (before->value == e.value || !(kTableFlags[e.table] & MDB_DUPSORT))) {
      return bad("duplicate entry in index '" + name + "'");
    }
    bool found = false, wrong_value = false;
    TWINLINE_RETURN_IF_ERROR(FindEntry(txn, dbi, e, &found, &wrong_value));
    if (!found) return bad("index '" + name + "' is missing an entry");
    if (wrong_value) return bad("index '" + name + "' has a wrong value");
    ++(*implied)[e.table];
  }
  return Status::Ok();
}

// The seq of the record an index entry says it belongs to (0: none).
uint64_t ClaimedSeq(const lmdb::Txn& txn, const TableHandles& dbi, size_t table,
                    std::string_view key, std::string_view value) {
  switch (table) {
    case kNames: {  // folded name ‖ 0x00 ‖ slug: the slug's registration
      const size_t nul = key.rfind('\0');
      MDB_val v;
      if (nul == std::string_view::npos || !txn.Get(dbi[kEntities], key.substr(nul + 1), &v).ok())
        return 0;
      value = lmdb::View(v);
      return value.size() == 8 ? DecodeU64(value) : 0;
    }
    case kRefs:  // seq ‖ tag
      return value.size() == 9 ? DecodeU64(value) : 0;
    default:  // by_id, by_entity, entities, facts: the value is the seq
      return value.size() == 8 ? DecodeU64(value) : 0;
  }
}

// Called when index `table` holds more entries than the records imply (all
// implied ones are there): finds one that its claimed record does not imply.
Status FindUnexplained(const lmdb::Txn& txn, const TableHandles& dbi,
                       const NameFolder& folder, size_t table, uint64_t last_seq, uint64_t stored,
                       uint64_t implied) {
  std::unique_ptr<lmdb::Cursor> c;
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn, dbi[table], &c));
  std::vector<IndexEntry> entries;
  for (bool ok = c->First(); ok; ok = c->Next()) {
    const uint64_t seq = ClaimedSeq(txn, dbi, table, c->key(), c->value());
    bool explained = false;
    MDB_val record;
    if (seq >= 1 && seq <= last_seq && txn.Get(dbi[kEvents], EncodeU64(seq), &record).ok()) {
      Status inner;
      TWINLINE_RETURN_IF_ERROR(
          WithStoredEvent(lmdb::View(record), seq, [&](schema::Event::Reader ev) {
            inner = ImpliedEntries(txn, dbi, folder, ev, &entries);
          }));
      TWINLINE_RETURN_IF_ERROR(inner);

      for (const IndexEntry& e : entries) {
        explained = explained || (e.table == table && e.key == c->key() && e.value == c->value());
      }
    }
    if (!explained) {
      return Status::Corruption(
          std::string("index '") + kTableNames[table] + "' has an entry no record explains (key " +
          ToHex(reinterpret_cast<const uint8_t*>(c->key().data()), c->key().size()) + ")");
    }
  }
  TWINLINE_RETURN_IF_ERROR(c->status());
  return Status::Corruption(std::string("index '") + kTableNames[table] + "' holds " +
                            std::to_string(stored) + " entries where the records imply " +
                            std::to_string(implied));
}

Status TableEntries(const lmdb::Txn& txn, MDB_dbi dbi, uint64_t* entries) {
  MDB_stat st;
  TWINLINE_RETURN_IF_ERROR(
      lmdb::LmdbStatus(mdb_stat(txn.get(), dbi, &st), "reading table statistics"));
  *entries = st.ms_entries;
  return Status::Ok();
}


}  // namespace

Status EventLog::Verify(VerifyReport* report) const {
  *report = VerifyReport();
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/true, &txn));
  const auto& dbi = tables_->dbi;
  // Issue 14: every page of every table first, so that a damaged page a
  // scan never meets (a branch key a lookup follows) is found too.
  TWINLINE_RETURN_IF_ERROR(CheckTrees(*txn, path_));

  // 1. The records in seq order, each with its chain hash and every index
  //    entry it implies (all must be stored, with their values).
  Counts implied{};
  std::vector<IndexEntry> entries;  // one record's, reused
  RecordReader reader;              // one buffer for every record
  std::unique_ptr<lmdb::Cursor> events, chain;
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[kEvents], &events));
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[kChain], &chain));
  Digest prev = kZeroDigest;
  uint64_t seq = 0;
  bool more_chain = chain->First();
  for (bool ok = events->First(); ok; ok = events->Next(), more_chain = chain->Next()) {
    ++seq;
    Status st = CheckRecord(*txn, dbi, *folder_, seq, events->key(), events->value(),
                            more_chain ? chain.get() : nullptr, &prev, &reader, &entries, &implied);
    if (!st.ok()) {
      if (st.code() == Status::Code::kCorruption) report->first_bad_seq = seq;
      return st;
    }
    ++report->events;
  }
  TWINLINE_RETURN_IF_ERROR(events->status());
  TWINLINE_RETURN_IF_ERROR(chain->status());
  if (more_chain) {
    report->first_bad_seq = seq + 1;
    return Status::Corruption("seq " + std::to_string(seq + 1) +
                              ": the chain has a hash for a record that does not exist");
  }
  report->last_seq = seq;
  report->head = ToHex(prev);

  // 2. No index holds anything else. Every implied entry was found and no
  //    two records imply the same key (a second one would have found the
  //    first's value), so equal counts mean equal contents.
  for (size_t t = 0; t < kNumTables; ++t) {
    if (!IsRecordIndex(t)) continue;
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[t], &c));
    uint64_t stored = 0;
    for (bool ok = c->First(); ok; ok = c->Next()) ++stored;  // walks the tree: reads every page
    TWINLINE_RETURN_IF_ERROR(c->status());
    report->index_entries += stored;
    if (stored != implied[t])
      return FindUnexplained(*txn, dbi, *folder_, t, seq, stored, implied[t]);
  }
  return Status::Ok();
}

Status EventLog::QuickVerify(uint64_t tail, VerifyReport* report) const {
  *report = VerifyReport();
  // Issue 14: the structure first: meta pages, roots, the table set.
  DataFileFacts file;
  TWINLINE_RETURN_IF_ERROR(CheckDataFile(path_, &file));
  TWINLINE_RETURN_IF_ERROR(CheckTableSet(path_, file, kTableNames));
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/true, &txn));
  const auto& dbi = tables_->dbi;

  MDB_val v;
  Status st = txn->Get(dbi[kMeta], "format_version", &v);
  if (st.code() == Status::Code::kNotFound)
    return Status::Corruption("the format version record is missing");
  TWINLINE_RETURN_IF_ERROR(st);
  TWINLINE_RETURN_IF_ERROR(CheckFormatVersion(path_, lmdb::View(v)));

  // One record, one chain hash and one id entry for each seq 1..N.
  uint64_t n = 0;
  TWINLINE_RETURN_IF_ERROR(TableEntries(*txn, dbi[kEvents], &n));
  std::unique_ptr<lmdb::Cursor> events;
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[kEvents], &events));
  if (n > 0) {
    const bool first = events->First() && events->key() == EncodeU64(1);
    const bool last = events->Last() && events->key() == EncodeU64(n);
    TWINLINE_RETURN_IF_ERROR(events->status());
    if (!first || !last) {
      return Status::Corruption("the " + std::to_string(n) + " records are not numbered 1.." +
                                std::to_string(n));
    }
  }
  for (Table t : {kChain, kById}) {
    uint64_t entries = 0;
    TWINLINE_RETURN_IF_ERROR(TableEntries(*txn, dbi[t], &entries));
    if (entries != n) {
      return Status::Corruption(
          std::string(t == kChain ? "the chain" : "index '" + std::string(kTableNames[t]) + "'") +
          " holds " + std::to_string(entries) + " entries for " + std::to_string(n) + " records");
    }
  }
  report->last_seq = n;

  // The last `tail` records, as Verify checks them, from the stored hash
  // of the record before them.
  const uint64_t from = n > tail ? n - tail + 1 : 1;
  Digest prev = kZeroDigest;
  if (from > 1) {
    MDB_val h;
    TWINLINE_RETURN_IF_ERROR(txn->Get(dbi[kChain], EncodeU64(from - 1), &h));
    if (h.mv_size != prev.size()) {
      report->first_bad_seq = from - 1;
      return Status::Corruption("seq " + std::to_string(from - 1) +
                                ": its chain hash has the wrong size");
    }
    std::memcpy(prev.data(), h.mv_data, prev.size());
  }
  Counts implied{};
  std::vector<IndexEntry> entries;
  RecordReader reader;
  std::unique_ptr<lmdb::Cursor> chain;
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[kChain], &chain));
  bool more_chain = chain->Seek(EncodeU64(from));
  uint64_t seq = from - 1;
  for (bool ok = n > 0 && events->Seek(EncodeU64(from)); ok;
       ok = events->Next(), more_chain = chain->Next()) {
    ++seq;
    st = CheckRecord(*txn, dbi, *folder_, seq, events->key(), events->value(),
                     more_chain ? chain.get() : nullptr, &prev, &reader, &entries, &implied);
    if (!st.ok()) {
      if (st.code() == Status::Code::kCorruption) report->first_bad_seq = seq;
      return st;
    }
    ++report->events;
  }
  TWINLINE_RETURN_IF_ERROR(events->status());
  for (uint64_t count : implied) report->index_entries += count;
  report->head = ToHex(prev);
  return Status::Ok();
}

}  // namespace twinline
