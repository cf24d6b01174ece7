#include "core/log_writer.h"

#include <capnp/message.h>
#include <kj/exception.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <set>
#include <unordered_map>

#include "core/identity.h"
#include "core/log_index.h"
#include "core/record.h"
#include "core/schema_names.h"
#include "core/sha256.h"
#include "core/validation.h"

namespace twinline::log_internal {
namespace {

using Which = schema::Payload::Which;
using lmdb::DecodeU64;
using lmdb::EncodeU64;

class TxnWriter {
 public:
  TxnWriter(lmdb::Txn& txn, const TableHandles& dbi, const NameFolder& folder,
              const AppendOptions& options)
      : txn_(txn), dbi_(dbi), folder_(folder), options_(options) {}

  Status Start(int64_t now) {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn_, dbi_[kEvents], &c));
    if (c->Last()) {
      last_seq_ = DecodeU64(c->key());
      TWINLINE_RETURN_IF_ERROR(
          WithStoredEvent(c->value(), last_seq_, [&](auto ev) { last_recorded_ = ev.getRecordedAt(); }));
      MDB_val h;
      TWINLINE_RETURN_IF_ERROR(txn_.Get(dbi_[kChain], EncodeU64(last_seq_), &h).WithField("chain"));
      if (h.mv_size != prev_hash_.size()) return Status::Corruption("chain hash of the last record has the wrong size");
      std::memcpy(prev_hash_.data(), h.mv_data, prev_hash_.size());
    }
    TWINLINE_RETURN_IF_ERROR(c->status());
    if (options_.expected_last_seq && *options_.expected_last_seq != last_seq_) {
      return Status::Conflict("expected the log to end at seq " + std::to_string(*options_.expected_last_seq) +
                              " but it ends at seq " + std::to_string(last_seq_) +
                              ": another writer appended first; re-read and retry");
    }
    // Recorded time never goes backwards, even if the clock does.
    now_ = std::max(now, last_recorded_);
    return Status::Ok();
  }

  Status AppendOne(capnp::MessageBuilder& message, AppendOutcome* outcome) {
    auto ev = message.getRoot<schema::Event>();
    TWINLINE_RETURN_IF_ERROR(CheckAndNormalise(ev));
    auto payload = ev.getPayload();
    const Which which = payload.which();
    if (!options_.restore) {
      ev.setSeq(0);
      ev.setRecordedAt(0);
    }

    // Every entity the payload names must already be registered (earlier in
    // this batch counts: the transaction sees its own writes).
    for (const auto& slug : EntityRefs(payload.asReader())) {
      if (which == Which::ENTITY_REGISTERED && slug == payload.getEntityRegistered().getEntity().cStr()) continue;
      std::string_view v;
      Status st = Find(kEntities, slug, &v);
      if (st.code() == Status::Code::kNotFound) {
        return Status::NotFound("unknown entity '" + slug + "' (register it with an entity_registered event first)");
      }
      TWINLINE_RETURN_IF_ERROR(st);
    }

    if (IsReference(which)) return AppendReference(message, outcome);

    const Digest fact = FactFingerprint(payload.asReader(), ev.getValidTime().getEdtf().cStr());
    std::string_view existing;
    Status st = Find(kFacts, AsBytes(fact), &existing);
    if (st.ok()) {
      uint64_t fact_seq = DecodeU64(existing);
      TargetInfo target;
      std::string fact_id;
      TWINLINE_RETURN_IF_ERROR(Lookup(fact_seq, &target, &fact_id));
      if (ev.getId().size() > 0 && fact_id != ev.getId().cStr()) {
        return Status::AlreadyExists("this fact is already recorded as '" + fact_id + "' (seq " +
                                     std::to_string(fact_seq) + "); it cannot be given a second id")
            .WithField("id");
      }
      return AttachSources(ev.asReader(), target, fact_id, outcome);
    }
    if (st.code() != Status::Code::kNotFound) return st;

    if (ev.getId().size() == 0) ev.setId(DerivedEventId(fact));
    TWINLINE_RETURN_IF_ERROR(CheckIdFree(ev.getId().cStr()));
    if (which == Which::ENTITY_REGISTERED) {
      std::string slug = Str(payload.getEntityRegistered().getEntity());
      std::string_view v;
      if (Find(kEntities, slug, &v).ok()) {
        return Status::AlreadyExists("entity '" + slug + "' is already registered (seq " +
                                     std::to_string(DecodeU64(v)) +
                                     ") with different details; amend that event instead")
            .WithField("entity");
      }
    }
    outcome->disposition = AppendOutcome::Disposition::kAppended;
    outcome->event_id = Str(ev.getId());
    return Write(message, &fact, &outcome->seq);
  }

  uint64_t last_seq() const { return last_seq_; }
  int64_t now() const { return now_; }
  const Digest& head() const { return prev_hash_; }

 private:
  Status Lookup(uint64_t seq, TargetInfo* info, std::string* id) {
    MDB_val v;
    TWINLINE_RETURN_IF_ERROR(txn_.Get(dbi_[kEvents], EncodeU64(seq), &v));
    return WithStoredEvent(lmdb::View(v), seq, [&](schema::Event::Reader ev) {
      *info = DescribeTarget(ev);
      if (id) *id = Str(ev.getId());
    });
  }

  Status LookupId(std::string_view id, TargetInfo* info) {
    std::string_view v;
    Status st = Find(kById, id, &v);
    if (st.code() == Status::Code::kNotFound) {
      return Status::NotFound("no event with id '" + std::string(id) + "' in the log").WithField("target");
    }
    TWINLINE_RETURN_IF_ERROR(st);
    return Lookup(DecodeU64(v), info, nullptr);
  }

  Status CheckIdFree(std::string_view id) {
    std::string_view v;
    if (Find(kById, id, &v).ok()) {
      return Status::AlreadyExists("event id '" + std::string(id) + "' is already used by seq " +
                                   std::to_string(DecodeU64(v)) + " for a different fact")
          .WithField("id");
    }
    return Status::Ok();
  }

  // The tags ('R', 'A', 'C') of the references already made to `id`.
  Status ReferenceTags(std::string_view id, std::string* tags) {
    std::string prefix = std::string(id) + '\0';
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn_, dbi_[kRefs], &c));
    for (bool ok = c->Seek(prefix); ok && c->key().substr(0, prefix.size()) == prefix; ok = c->Next()) {
      tags->append(c->value());
    }
    TWINLINE_RETURN_IF_ERROR(c->status());
    for (auto it = waiting_refs_.lower_bound(prefix); it != waiting_refs_.end() && it->starts_with(prefix);
         ++it) {
      tags->append(waiting_[kRefs].find(*it)->second);
    }
    return Status::Ok();
  }

  // Sources of `ev` not yet attached to the fact `target`; writes a
  // corroboration carrying them, or nothing when there are none.
  Status AttachSources(schema::Event::Reader ev, const TargetInfo& target, const std::string& fact_id,
                       AppendOutcome* outcome) {
    std::vector<uint32_t> fresh;
    std::set<std::string> seen;
    auto sources = ev.getSources();
    for (uint32_t i = 0; i < sources.size(); ++i) {
      std::string key = std::string(AsBytes(target.fact)) + std::string(AsBytes(SourceFingerprint(sources[i])));
      std::string_view v;
      if (!Find(kFactSources, key, &v).ok() && seen.insert(key).second) fresh.push_back(i);
    }
    outcome->event_id = fact_id;
    if (fresh.empty()) {
      outcome->disposition = AppendOutcome::Disposition::kDuplicate;
      outcome->seq = target.seq;
      if (options_.restore) return Status::InvalidArgument("restore: this event adds nothing to the log it is restored into");
      return Status::Ok();
    }
    capnp::MallocMessageBuilder message;
    auto corroboration = message.initRoot<schema::Event>();
    auto date = corroboration.initValidTime();
    date.setEdtf(target.edtf);
    date.setEarliest(target.earliest);
    date.setLatest(target.latest);
    auto list = corroboration.initSources(fresh.size());
    Sha256 id_hash;
    id_hash.Update("twinline-corroboration-v1");
    id_hash.Update(AsBytes(target.fact));
    for (size_t i = 0; i < fresh.size(); ++i) {
      list.setWithCaveats(i, sources[fresh[i]]);
      id_hash.Update(AsBytes(SourceFingerprint(sources[fresh[i]])));
    }
    corroboration.getPayload().initCorroboration().setTarget(fact_id);
    if (ev.hasNote()) corroboration.setNote(ev.getNote());
    if (ev.getPayload().which() == Which::CORROBORATION && ev.getId().size() > 0) {
      corroboration.setId(ev.getId());  // an exported corroboration keeps its id
    } else {
      corroboration.setId(DerivedEventId(id_hash.Finish()));
    }
    TWINLINE_RETURN_IF_ERROR(CheckIdFree(corroboration.getId().cStr()));
    corroboration.setSeq(ev.getSeq());
    corroboration.setRecordedAt(ev.getRecordedAt());
    outcome->disposition = AppendOutcome::Disposition::kCorroborated;
    return Write(message, nullptr, &outcome->seq);
  }

  Status AppendReference(capnp::MessageBuilder& message, AppendOutcome* outcome) {
    auto ev = message.getRoot<schema::Event>();
    auto payload = ev.getPayload();
    const Which which = payload.which();
    std::string target_id(ReferenceTarget(payload.asReader()));
    TargetInfo target;
    TWINLINE_RETURN_IF_ERROR(LookupId(target_id, &target));
    std::string tags;
    TWINLINE_RETURN_IF_ERROR(ReferenceTags(target_id, &tags));
    const bool retracted = tags.find('R') != std::string::npos;
    const bool amended = tags.find('A') != std::string::npos;

    if (which == Which::CORROBORATION) {
      if (target.which == Which::CORROBORATION || target.which == Which::RETRACTION) {
        return Status::InvalidArgument("'" + target_id + "' is not a fact that sources can be added to").WithField("target");
      }
      return AttachSources(ev.asReader(), target, target_id, outcome);
    }

    // A correction already in the log (same fingerprint) is a duplicate.
    const Digest fact = FactFingerprint(payload.asReader(), ev.getValidTime().getEdtf().cStr());
    std::string_view existing;
    if (Find(kFacts, AsBytes(fact), &existing).ok()) {
      TargetInfo self;
      std::string self_id;
      TWINLINE_RETURN_IF_ERROR(Lookup(DecodeU64(existing), &self, &self_id));
      return AttachSources(ev.asReader(), self, self_id, outcome);
    }
    if (target.which == Which::RETRACTION || target.which == Which::CORROBORATION) {
      return Status::InvalidArgument("'" + target_id + "' is a " + PayloadKindName(target.which) +
                                     "; only facts and amendments can be corrected")
          .WithField("target");
    }
    if (retracted) {
      return Status::InvalidArgument("'" + target_id + "' has already been retracted").WithField("target");
    }
    if (which == Which::AMENDMENT) {
      if (amended) {
        return Status::InvalidArgument("'" + target_id +
                                       "' has already been amended; amend its latest amendment instead")
            .WithField("target");
      }
      Which replacement = payload.getAmendment().getReplacement().which();
      if (replacement != target.fact_which) {
        return Status::InvalidArgument("a replacement must be of the same kind as the event it corrects (" +
                                       PayloadKindName(target.fact_which) + ")")
            .WithField("replacement.kind");
      }
    }
    if (ev.getId().size() == 0) ev.setId(DerivedEventId(fact));
    TWINLINE_RETURN_IF_ERROR(CheckIdFree(ev.getId().cStr()));
    outcome->disposition = AppendOutcome::Disposition::kAppended;
    outcome->event_id = Str(ev.getId());
    return Write(message, &fact, &outcome->seq);
  }

  // Assigns seq and recorded time (unless restoring), then stores the record,
  // its chain hash and its index entries. `fact` is the event's own fact
  // fingerprint when the caller has it (null for a corroboration).
  Status Write(capnp::MessageBuilder& message, const Digest* fact, uint64_t* seq) {
    auto ev = message.getRoot<schema::Event>();
    if (options_.restore) {
      if (ev.getSeq() != last_seq_ + 1) {
        return Status::InvalidArgument("restore: seq " + std::to_string(ev.getSeq()) + " would be stored at " +
                                       std::to_string(last_seq_ + 1))
            .WithField("seq");
      }
      if (ev.getRecordedAt() < last_recorded_) {
        return Status::InvalidArgument("restore: recorded time goes backwards").WithField("recorded_at");
      }
      last_recorded_ = ev.getRecordedAt();
    } else {
      ev.setSeq(last_seq_ + 1);
      ev.setRecordedAt(now_);
    }
    const uint64_t new_seq = ev.getSeq();
    const std::string bytes = EncodeRecord(ev.asReader());
    const std::string seq_key = EncodeU64(new_seq);

    Sha256 chain;
    chain.Update(prev_hash_.data(), prev_hash_.size());
    chain.Update(bytes);
    Digest hash = chain.Finish();

    TWINLINE_RETURN_IF_ERROR(txn_.Put(dbi_[kEvents], seq_key, bytes, MDB_NOOVERWRITE | MDB_APPEND, "event"));
    TWINLINE_RETURN_IF_ERROR(txn_.Put(dbi_[kChain], seq_key, AsBytes(hash), MDB_NOOVERWRITE | MDB_APPEND, "chain"));

    std::vector<IndexEntry> entries;
    TargetLookup lookup = [this](std::string_view id, TargetInfo* info) { return LookupId(id, info); };
    TWINLINE_RETURN_IF_ERROR(IndexEntriesFor(ev.asReader(), folder_, lookup, &entries, fact));
    for (auto& e : entries) {
      // Every index key is unique to its event (name keys include the slug,
      // fact-source keys are checked before writing): a clash is a bug or a
      // damaged log, and aborts the batch. One with an entry waiting is
      // found here (in an index appends never read: when its run is
      // sorted), one with an entry already in the table when the entry is
      // put (MDB_NOOVERWRITE): both at the latest at the next flush, so an
      // Add or the Commit fails and, as always, nothing of the batch is
      // written.
      ++waiting_entries_;
      if (!IsLookedUp(e.table)) {
        unsorted_[e.table].emplace_back(std::move(e.key), std::move(e.value));
        continue;
      }
      if (e.table == kRefs) waiting_refs_.insert(e.key);
      auto [it, inserted] = waiting_[e.table].try_emplace(std::move(e.key), std::move(e.value));
      if (!inserted) return KeyExists(e.table);
    }
    prev_hash_ = hash;
    last_seq_ = new_seq;
    *seq = new_seq;
    if (waiting_entries_ >= kFlushEntries) return Flush();
    return Status::Ok();
  }

 public:
  // Puts every waiting index entry into its table, in key order (see
  // waiting_). Commit calls it last; Write whenever kFlushEntries wait.
  Status Flush() {
    for (size_t t = 0; t < kNumTables; ++t) {
      const auto table = static_cast<Table>(t);
      auto& run = unsorted_[t];
      for (auto& waiting = waiting_[t]; !waiting.empty();) {
        auto node = waiting.extract(waiting.begin());
        run.emplace_back(std::move(node.key()), std::move(node.mapped()));
      }
      if (run.empty()) continue;
      std::sort(run.begin(), run.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      std::unique_ptr<lmdb::PutCursor> cursor;
      TWINLINE_RETURN_IF_ERROR(lmdb::PutCursor::Open(txn_, dbi_[t], &cursor));
      for (size_t i = 0; i < run.size(); ++i) {
        if (i > 0 && run[i].first == run[i - 1].first) return KeyExists(table);
        TWINLINE_RETURN_IF_ERROR(cursor->Put(run[i].first, run[i].second, MDB_NOOVERWRITE, kTableNames[t]));
      }
      run.clear();
    }
    waiting_refs_.clear();
    waiting_entries_ = 0;
    return Status::Ok();
  }

 private:
  // `key` in `table` as this batch sees it: its waiting entries first, then
  // the table. OK (with *value set, valid until the next write), kNotFound,
  // or an error.
  Status Find(Table table, std::string_view key, std::string_view* value) const {
    assert(IsLookedUp(table));
    const auto& waiting = waiting_[table];
    if (auto it = waiting.find(key); it != waiting.end()) {
      *value = it->second;
      return Status::Ok();
    }
    MDB_val v;
    TWINLINE_RETURN_IF_ERROR(txn_.Get(dbi_[table], key, &v));
    *value = lmdb::View(v);
    return Status::Ok();
  }

  lmdb::Txn& txn_;
  const TableHandles& dbi_;
  const NameFolder& folder_;
  const AppendOptions& options_;
  uint64_t last_seq_ = 0;
  int64_t last_recorded_ = 0;
  int64_t now_ = 0;
  Digest prev_hash_{};

  // Index entries written by this batch but not yet put into their tables,
  // per table. The keys of most indexes (dates, slugs,
  // fingerprints, ids) arrive in no order, and a B-tree put at a random key
  // is a descent from the root onto a random page; put in key order, through
  // one cursor, most land on the page the previous one did (10^6-event
  // import: see bench/README.md). So entries wait here and are put sorted,
  // whenever kFlushEntries wait (bounded memory: tens of MB) and at the
  // commit.
  // Every lookup an append makes goes through Find (or ReferenceTags), which
  // sees them first: the batch behaves exactly as if each entry had been put
  // at once. Records and chain hashes (keyed by seq, MDB_APPEND) go straight
  // to their tables.
  static constexpr size_t kFlushEntries = size_t{1} << 18;
  struct KeyHash {
    using is_transparent = void;  // Find looks keys up by string_view, without a copy
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
  };
  using WaitingTable = std::unordered_map<std::string, std::string, KeyHash, std::equal_to<>>;
  // The tables an append reads wait hashed, for Find; the others (dates,
  // entity postings, names: written, never read, by an append) as they came,
  // with no per-entry lookup structure; each run is sorted when flushed.
  static bool IsLookedUp(Table table) {
    return table == kFacts || table == kFactSources || table == kById || table == kEntities ||
           table == kRefs;
  }
  static Status KeyExists(Table table) {
    return lmdb::LmdbStatus(MDB_KEYEXIST, std::string("writing ") + kTableNames[table]);
  }
  std::array<WaitingTable, kNumTables> waiting_;
  std::array<std::vector<std::pair<std::string, std::string>>, kNumTables> unsorted_;
  std::set<std::string, std::less<>> waiting_refs_;  // waiting_[kRefs]'s keys in order: scanned by prefix
  size_t waiting_entries_ = 0;
};

// A batch being appended in one write transaction (its own, or one nested in
// a group's): the machinery behind Append, BeginBatch and AppendGroup. The
// first failure aborts the transaction, so nothing of the batch remains, and
// is returned again by every later call.
class LmdbBatchWriter : public LogBatchWriter {
 public:
  // `txn` is owned; `env`, `dbi`, `folder` and `logger` are borrowed from
  // the EventLog, which outlives every writer it hands out.
  LmdbBatchWriter(std::unique_ptr<lmdb::Txn> txn, const lmdb::Env& env,
                  const TableHandles& dbi, const NameFolder& folder,
                  const AppendOptions& options, spdlog::logger* logger)
      : options_(options),
        txn_(std::move(txn)),
        writer_(*txn_, dbi, folder, options_),
        env_(env),
        logger_(logger) {}

  // The batch failed because the map filled up: Append and AppendGroup grow
  // it and run the batch again.
  bool map_full() const override { return map_full_; }

  // Reads the log's end and checks expected_last_seq; `now` is the batch's
  // recorded time (clamped so that it never goes backwards).
  Status Start(int64_t now) {
    Status st = writer_.Start(now);
    if (!st.ok()) return Fail(st);
    first_seq_ = writer_.last_seq() + 1;
    return Status::Ok();
  }

  Status Add(PendingEvent event, AppendOutcome* outcome) override {
    TWINLINE_RETURN_IF_ERROR(Usable());
    if (event == nullptr) {
      return Fail(Status::InvalidArgument("no event (null PendingEvent)").WithIndex(static_cast<int64_t>(added_)));
    }
    return AddMessage(*event, outcome);  // the message is freed on return
  }

  // Add without taking the message: Append leaves the caller's batch in place.
  Status AddMessage(capnp::MessageBuilder& message, AppendOutcome* outcome) override {
    TWINLINE_RETURN_IF_ERROR(Usable());
    AppendOutcome local;
    AppendOutcome* out = outcome != nullptr ? outcome : &local;
    *out = AppendOutcome();
    const auto index = static_cast<int64_t>(added_);
    Status st;
    try {
      st = writer_.AppendOne(message, out);
    } catch (const kj::Exception& e) {
      // A malformed builder message (e.g. an oversized list) surfaces here.
      st = Status::InvalidArgument(std::string("event cannot be encoded: ") + e.getDescription().cStr());
    }
    if (!st.ok()) {
      if (logger_) logger_->debug("batch refused at #{}: {}", index, st.ToString());
      return Fail(st.WithIndex(index));
    }
    ++added_;
    switch (out->disposition) {
      case AppendOutcome::Disposition::kAppended: ++appended_; break;
      case AppendOutcome::Disposition::kCorroborated: ++corroborated_; break;
      case AppendOutcome::Disposition::kDuplicate: ++duplicates_; break;
    }
    return Status::Ok();
  }

  Status Commit(AppendResult* result) override {
    TWINLINE_RETURN_IF_ERROR(Usable());
    *result = AppendResult();
    if (options_.expected_chain_head && AsBytes(writer_.head()) != *options_.expected_chain_head) {
      return Fail(Status::Corruption("restore: the log would end on chain hash " + ToHex(writer_.head()) +
                                     " at seq " + std::to_string(writer_.last_seq()) + ", not the expected " +
                                     ToHex(reinterpret_cast<const uint8_t*>(options_.expected_chain_head->data()),
                                           options_.expected_chain_head->size())));
    }
    Status st = writer_.Flush();  // the index entries still waiting, as part of the commit
    if (!st.ok()) return Fail(st);
    st = txn_->Commit();
    if (!st.ok()) return Fail(st);  // the transaction is gone either way
    txn_.reset();
    committed_ = true;
    result->last_seq = writer_.last_seq();
    result->recorded_at = writer_.last_seq() >= first_seq_ ? writer_.now() : 0;
    result->appended = appended_;
    result->corroborated = corroborated_;
    result->duplicates = duplicates_;
    if (logger_) {
      logger_->info("appended batch of {}: {} new, {} corroborated, {} duplicate; log at seq {}", added_,
                    appended_, corroborated_, duplicates_, result->last_seq);
    }
    return Status::Ok();
  }

 private:
  Status Usable() const {
    if (!failure_.ok()) return failure_;
    if (committed_) return Status::InvalidArgument("this batch has already been committed; begin a new one");
    return Status::Ok();
  }

  // Aborts the transaction: nothing of the batch is written.
  Status Fail(const Status& st) {
    failure_ = st;
    if (txn_ != nullptr && txn_->map_full()) {
      map_full_ = true;
      failure_ = Status::Full(env_.FullStatus().message() + "; nothing of this batch was written")
                     .WithIndex(st.index());
    }
    txn_.reset();
    return failure_;
  }

  const AppendOptions options_;  // the writer_ borrows it
  std::unique_ptr<lmdb::Txn> txn_;
  TxnWriter writer_;             // borrows *txn_; unused once txn_ is gone
  const lmdb::Env& env_;
  spdlog::logger* logger_;       // may be null
  uint64_t first_seq_ = 0;
  size_t added_ = 0, appended_ = 0, corroborated_ = 0, duplicates_ = 0;
  Status failure_;
  bool committed_ = false;
  bool map_full_ = false;
};

}  // namespace

Status StartWriter(std::unique_ptr<lmdb::Txn> txn, const lmdb::Env& env,
                   const TableHandles& dbi, const NameFolder& folder,
                   const AppendOptions& options, int64_t now, spdlog::logger* logger,
                   std::unique_ptr<LogBatchWriter>* out) {
  auto writer = std::make_unique<LmdbBatchWriter>(std::move(txn), env, dbi, folder, options, logger);
  TWINLINE_RETURN_IF_ERROR(writer->Start(now));
  *out = std::move(writer);
  return Status::Ok();
}

Status WriteAll(LogBatchWriter& writer, std::vector<PendingEvent>& batch, AppendResult* result) {
  std::vector<AppendOutcome> outcomes(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i] == nullptr) {
      TWINLINE_RETURN_IF_ERROR(writer.Add(nullptr, nullptr));
    } else {
      TWINLINE_RETURN_IF_ERROR(writer.AddMessage(*batch[i], &outcomes[i]));
    }
  }
  TWINLINE_RETURN_IF_ERROR(writer.Commit(result));
  result->outcomes = std::move(outcomes);
  return Status::Ok();
}

}  // namespace twinline::log_internal
