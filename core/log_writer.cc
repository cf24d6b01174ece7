#include "core/log_writer.h"

#include <capnp/message.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/identity.h"
#include "core/log_index.h"
#include "core/read_txn.h"
#include "core/record.h"
#include "core/schema_names.h"
#include "core/sha256.h"
#include "core/validation.h"

namespace twinline::log_internal {
namespace {

using Which = schema::Payload::Which;
using lmdb::DecodeU64;
using lmdb::EncodeU64;

uint64_t Hash64(std::string_view s) { return std::hash<std::string_view>()(s); }

uint64_t PrefixOf(const Digest& d) {
  uint64_t v;
  std::memcpy(&v, d.data(), sizeof v);
  return v;
}

// Whether a key may be in a table: a chain of Bloom filters (each twice
// the capacity of the one before, ~10 bits and 4 probes a key: about 1% of
// absent keys look present). A batch's lookups of keys that are new (almost
// all of them) cost a few bit tests instead of a B-tree descent each.
class KeyFilter {
 public:
  void Add(uint64_t h) {
    if (filters_.empty() || filters_.back().count == filters_.back().capacity) {
      const size_t capacity = filters_.empty() ? size_t{1} << 16 : filters_.back().capacity * 2;
      filters_.push_back({std::vector<uint64_t>(capacity * 10 / 64 + 1), capacity, 0});
    }
    Filter& f = filters_.back();
    const uint64_t bits = f.words.size() * 64;
    for (int i = 0; i < 4; ++i) {
      const uint64_t bit = Probe(h, i) % bits;
      f.words[bit / 64] |= uint64_t{1} << (bit % 64);
    }
    ++f.count;
  }
  bool MayContain(uint64_t h) const {
    for (const Filter& f : filters_) {
      const uint64_t bits = f.words.size() * 64;
      bool all = true;
      for (int i = 0; i < 4 && all; ++i) {
        const uint64_t bit = Probe(h, i) % bits;
        all = (f.words[bit / 64] >> (bit % 64)) & 1;
      }
      if (all) return true;
    }
    return false;
  }

 private:
  static uint64_t Probe(uint64_t h, int i) {
    uint64_t x = h + 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  struct Filter {
    std::vector<uint64_t> words;
    size_t capacity = 0, count = 0;
  };
  std::vector<Filter> filters_;
};

struct DigestHash {
  size_t operator()(const Digest& d) const { return PrefixOf(d); }
};

struct StringHash {
  using is_transparent = void;  // found by string_view, without a copy
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// The index entries of one table waiting to be put, their bytes in one
// arena (one allocation for thousands of entries, not two each).
class EntryRun {
 public:
  void Add(std::string_view key, std::string_view value) {
    refs_.push_back({arena_.size(), static_cast<uint32_t>(key.size()),
                     static_cast<uint32_t>(value.size())});
    arena_.append(key);
    arena_.append(value);
  }
  bool empty() const { return refs_.empty(); }
  size_t size() const { return refs_.size(); }
  std::string_view key(size_t i) const { return {arena_.data() + refs_[i].offset, refs_[i].key_size}; }
  std::string_view value(size_t i) const {
    return {arena_.data() + refs_[i].offset + refs_[i].key_size, refs_[i].value_size};
  }
  // In (key, value) order: LMDB's order of keys and of sorted duplicates.
  void Sort() {
    const char* base = arena_.data();
    std::sort(refs_.begin(), refs_.end(), [base](const Ref& a, const Ref& b) {
      const std::string_view ka(base + a.offset, a.key_size), kb(base + b.offset, b.key_size);
      if (const int c = ka.compare(kb); c != 0) return c < 0;
      return std::string_view(base + a.offset + a.key_size, a.value_size) <
             std::string_view(base + b.offset + b.key_size, b.value_size);
    });
  }
  void Clear() {
    refs_.clear();
    arena_.clear();
  }

 private:
  struct Ref {
    size_t offset;
    uint32_t key_size, value_size;
  };
  std::string arena_;
  std::vector<Ref> refs_;
};

// Appending within one write transaction: validation, identity, the record,
// its chain hash and its index entries (docs/FORMAT.md, docs/EVENTS.md).
class TxnWriter {
 public:
  TxnWriter(lmdb::Txn& txn, const TableHandles& dbi, const NameFolder& folder,
            const AppendOptions& options, IndexMaintainer* observer)
      : txn_(txn), dbi_(dbi), folder_(folder), options_(options), observer_(observer) {}

  Status Start(int64_t now) {
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn_, dbi_[kEvents], &c));
    if (c->Last()) {
      TWINLINE_RETURN_IF_ERROR(lmdb::DecodeStoredU64(c->key(), "a key of table 'events'", &last_seq_));
      TWINLINE_RETURN_IF_ERROR(WithStoredEvent(
          c->value(), last_seq_, [&](auto ev) { last_recorded_ = ev.getRecordedAt(); }));
      MDB_val h;
      TWINLINE_RETURN_IF_ERROR(txn_.Get(dbi_[kChain], EncodeU64(last_seq_), &h).WithField("chain"));
      if (h.mv_size != prev_hash_.size()) {
        return Status::Corruption("chain hash of the last record has the wrong size");
      }
      std::memcpy(prev_hash_.data(), h.mv_data, prev_hash_.size());
    }
    TWINLINE_RETURN_IF_ERROR(c->status());
    if (options_.expected_last_seq && *options_.expected_last_seq != last_seq_) {
      return Status::Conflict("expected the log to end at seq " +
                              std::to_string(*options_.expected_last_seq) + " but it ends at seq " +
                              std::to_string(last_seq_) +
                              ": another writer appended first; re-read and retry");
    }
    // Recorded time never goes backwards, even if the clock does.
    now_ = std::max(now, last_recorded_);
    // Keys the log held before this batch can be ruled out by the filters
    // only once they hold them too (see Lookups()).
    uint64_t facts = 0, ids = 0;
    TWINLINE_RETURN_IF_ERROR(txn_.Entries(dbi_[kFacts], &facts));
    TWINLINE_RETURN_IF_ERROR(txn_.Entries(dbi_[kById], &ids));
    facts_unfiltered_ = facts > 0;
    ids_unfiltered_ = ids > 0;
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
    if (++appended_in_batch_ == kFilterExistingAfter) TWINLINE_RETURN_IF_ERROR(FilterExisting());

    // Every entity the payload names must already be registered (earlier in
    // this batch counts: the transaction sees its own writes).
    for (const auto& slug : EntityRefs(payload.asReader())) {
      if (which == Which::ENTITY_REGISTERED &&
          slug == std::string_view(payload.getEntityRegistered().getEntity().cStr())) {
        continue;
      }
      std::optional<uint64_t> registered;
      TWINLINE_RETURN_IF_ERROR(FindEntity(slug, &registered));
      if (!registered) {
        return Status::NotFound("unknown entity '" + slug +
                                "' (register it with an entity_registered event first)");
      }
    }

    if (IsReference(which)) return AppendReference(message, outcome);

    const Digest fact = FactFingerprint(payload.asReader(), ev.getValidTime().getEdtf().cStr());
    std::optional<uint64_t> existing;
    TWINLINE_RETURN_IF_ERROR(FindFact(fact, &existing));
    if (existing) {
      std::string fact_id;
      TWINLINE_RETURN_IF_ERROR(IdAt(*existing, &fact_id));
      if (ev.getId().size() > 0 && fact_id != ev.getId().cStr()) {
        return Status::AlreadyExists("this fact is already recorded as '" + fact_id + "' (seq " +
                                     std::to_string(*existing) +
                                     "); it cannot be given a second id")
            .WithField("id");
      }
      return AttachSources(ev.asReader(), *existing, fact_id, outcome);
    }

    if (ev.getId().size() == 0) ev.setId(DerivedEventId(fact));
    TWINLINE_RETURN_IF_ERROR(CheckIdFree(ev.getId().cStr()));
    if (which == Which::ENTITY_REGISTERED) {
      const std::string_view slug = payload.getEntityRegistered().getEntity().cStr();
      std::optional<uint64_t> registered;
      TWINLINE_RETURN_IF_ERROR(FindEntity(slug, &registered));
      if (registered) {
        return Status::AlreadyExists("entity '" + std::string(slug) +
                                     "' is already registered (seq " + std::to_string(*registered) +
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

  // Puts every waiting index entry into its table, in key order (see
  // runs_). Commit calls it last; Write whenever kFlushEntries wait.
  Status Flush() {
    for (size_t t = 0; t < kNumTables; ++t) {
      EntryRun& run = runs_[t];
      if (run.empty()) continue;
      run.Sort();
      std::unique_ptr<lmdb::PutCursor> cursor;
      TWINLINE_RETURN_IF_ERROR(lmdb::PutCursor::Open(txn_, dbi_[t], &cursor));
      // A key (or, in a posting table, a key and value) already stored is
      // a bug or a damaged log, and fails the batch: nothing is written.
      const bool dupsort = kTableFlags[t] & MDB_DUPSORT;
      const unsigned flags = dupsort ? MDB_NODUPDATA : MDB_NOOVERWRITE;
      for (size_t i = 0; i < run.size(); ++i) {
        if (i > 0 && run.key(i) == run.key(i - 1) &&
            (!dupsort || run.value(i) == run.value(i - 1))) {
          return KeyExists(static_cast<Table>(t));
        }
        TWINLINE_RETURN_IF_ERROR(cursor->Put(run.key(i), run.value(i), flags, kTableNames[t]));
      }
      run.Clear();
    }
    waiting_facts_.clear();
    waiting_ids_.clear();
    waiting_entries_ = 0;
    return Status::Ok();
  }

 private:
  // --- Lookups: this batch's entries waiting to be put, then the tables.

  // After this many events a batch also filters the keys the log held
  // before it (one pass over `facts` and `by_id`), so that a large import
  // into a large log stops looking each new key up in the B-trees.
  static constexpr size_t kFilterExistingAfter = size_t{1} << 16;

  Status FilterExisting() {
    for (auto [table, filter, unfiltered] :
         {std::tuple(kFacts, &fact_filter_, &facts_unfiltered_),
          std::tuple(kById, &id_filter_, &ids_unfiltered_)}) {
      if (!*unfiltered) continue;
      std::unique_ptr<lmdb::Cursor> c;
      TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn_, dbi_[table], &c));
      for (bool ok = c->First(); ok; ok = c->Next()) {
        if (table == kFacts) {
          uint64_t prefix = 0;
          std::memcpy(&prefix, c->key().data(), std::min<size_t>(8, c->key().size()));
          filter->Add(prefix);
        } else {
          filter->Add(Hash64(c->key()));
        }
      }
      TWINLINE_RETURN_IF_ERROR(c->status());
      *unfiltered = false;
    }
    return Status::Ok();
  }

  // The seq that first stated `fact`, if any.
  Status FindFact(const Digest& fact, std::optional<uint64_t>* seq) {
    seq->reset();
    if (auto it = waiting_facts_.find(fact); it != waiting_facts_.end()) {
      *seq = it->second;
      return Status::Ok();
    }
    if (!facts_unfiltered_ && !fact_filter_.MayContain(PrefixOf(fact))) return Status::Ok();
    // Every fact sharing the key's 8 bytes: compare whole fingerprints.
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn_, dbi_[kFacts], &c));
    for (bool ok = c->SeekKey(FactKey(fact)); ok; ok = c->NextDup()) {
      uint64_t candidate = 0;
      TWINLINE_RETURN_IF_ERROR(lmdb::DecodeStoredU64(c->value(), "a value of table 'facts'", &candidate));
      Digest stored{};
      MDB_val v;
      TWINLINE_RETURN_IF_ERROR(txn_.Get(dbi_[kEvents], EncodeU64(candidate), &v));
      TWINLINE_RETURN_IF_ERROR(WithStoredEvent(lmdb::View(v), candidate, [&](auto ev) {
        stored = FactFingerprint(ev.getPayload(), ev.getValidTime().getEdtf().cStr());
      }));
      if (stored == fact) {
        *seq = candidate;
        return Status::Ok();
      }
    }
    return c->status();
  }

  Status FindId(std::string_view id, std::optional<uint64_t>* seq) {
    seq->reset();
    if (auto it = waiting_ids_.find(id); it != waiting_ids_.end()) {
      *seq = it->second;
      return Status::Ok();
    }
    if (!ids_unfiltered_ && !id_filter_.MayContain(Hash64(id))) return Status::Ok();
    MDB_val v;
    Status st = txn_.Get(dbi_[kById], id, &v);
    if (st.code() == Status::Code::kNotFound) return Status::Ok();
    TWINLINE_RETURN_IF_ERROR(st);
    if (v.mv_size != 8) return Status::Corruption("index 'by_id' has an entry of the wrong size");
    *seq = DecodeU64(lmdb::View(v));
    return Status::Ok();
  }

  // The seq of `slug`'s registration, if it is registered.
  Status FindEntity(std::string_view slug, std::optional<uint64_t>* seq) {
    seq->reset();
    if (auto it = entities_.find(slug); it != entities_.end()) {
      *seq = it->second;
      return Status::Ok();
    }
    MDB_val v;
    Status st = txn_.Get(dbi_[kEntities], slug, &v);
    if (st.code() == Status::Code::kNotFound) return Status::Ok();
    TWINLINE_RETURN_IF_ERROR(st);
    uint64_t found = 0;
    TWINLINE_RETURN_IF_ERROR(lmdb::DecodeStoredU64(lmdb::View(v), "a value of table 'entities'", &found));
    *seq = found;
    entities_.emplace(slug, **seq);  // a registration is never removed
    return Status::Ok();
  }

  Status Lookup(uint64_t seq, TargetInfo* info, std::string* id) {
    MDB_val v;
    TWINLINE_RETURN_IF_ERROR(txn_.Get(dbi_[kEvents], EncodeU64(seq), &v));
    return WithStoredEvent(lmdb::View(v), seq, [&](schema::Event::Reader ev) {
      if (info != nullptr) *info = DescribeTarget(ev);
      if (id != nullptr) *id = Str(ev.getId());
    });
  }

  Status IdAt(uint64_t seq, std::string* id) { return Lookup(seq, nullptr, id); }

  Status LookupId(std::string_view id, TargetInfo* info) {
    std::optional<uint64_t> seq;
    TWINLINE_RETURN_IF_ERROR(FindId(id, &seq));
    if (!seq) {
      return Status::NotFound("no event with id '" + std::string(id) + "' in the log")
          .WithField("target");
    }
    return Lookup(*seq, info, nullptr);
  }

  Status CheckIdFree(std::string_view id) {
    std::optional<uint64_t> seq;
    TWINLINE_RETURN_IF_ERROR(FindId(id, &seq));
    if (seq) {
      return Status::AlreadyExists("event id '" + std::string(id) + "' is already used by seq " +
                                   std::to_string(*seq) + " for a different fact")
          .WithField("id");
    }
    return Status::Ok();
  }

  // The references already made to `id`, (seq, tag 'R', 'A' or 'C'), by seq.
  Status References(std::string_view id, std::vector<std::pair<uint64_t, char>>* refs) {
    refs->clear();
    std::unique_ptr<lmdb::Cursor> c;
    TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(txn_, dbi_[kRefs], &c));
    for (bool ok = c->SeekKey(id); ok; ok = c->NextDup()) {
      if (c->value().size() != 9) return Status::Corruption("index 'refs' has an entry of the wrong size");
      refs->emplace_back(DecodeU64(c->value()), c->value()[8]);
    }
    TWINLINE_RETURN_IF_ERROR(c->status());
    if (auto it = waiting_refs_.find(id); it != waiting_refs_.end()) {
      refs->insert(refs->end(), it->second.begin(), it->second.end());
    }
    std::sort(refs->begin(), refs->end());
    refs->erase(std::unique(refs->begin(), refs->end()), refs->end());
    return Status::Ok();
  }

  // Sources of `ev` not yet attached to the fact stated at `fact_seq` (by
  // its own record or a corroboration of it); writes a corroboration
  // carrying them, or nothing when there are none.
  Status AttachSources(schema::Event::Reader ev, uint64_t fact_seq, const std::string& fact_id,
                       AppendOutcome* outcome) {
    TargetInfo target;
    std::set<Digest> known;
    auto collect = [&](uint64_t seq, TargetInfo* info) {
      MDB_val v;
      TWINLINE_RETURN_IF_ERROR(txn_.Get(dbi_[kEvents], EncodeU64(seq), &v));
      return WithStoredEvent(lmdb::View(v), seq, [&](schema::Event::Reader stored) {
        if (info != nullptr) *info = DescribeTarget(stored);
        for (auto source : stored.getSources()) known.insert(SourceFingerprint(source));
      });
    };
    TWINLINE_RETURN_IF_ERROR(collect(fact_seq, &target));
    std::vector<std::pair<uint64_t, char>> refs;
    TWINLINE_RETURN_IF_ERROR(References(fact_id, &refs));
    for (const auto& [seq, tag] : refs) {
      if (tag == 'C') TWINLINE_RETURN_IF_ERROR(collect(seq, nullptr));
    }
    std::vector<uint32_t> fresh;
    auto sources = ev.getSources();
    for (uint32_t i = 0; i < sources.size(); ++i) {
      if (known.insert(SourceFingerprint(sources[i])).second) fresh.push_back(i);
    }
    outcome->event_id = fact_id;
    if (fresh.empty()) {
      outcome->disposition = AppendOutcome::Disposition::kDuplicate;
      outcome->seq = fact_seq;
      if (options_.restore) {
        return Status::InvalidArgument("restore: this event adds nothing to the log it is restored into");
      }
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
    std::optional<uint64_t> target_seq;
    TWINLINE_RETURN_IF_ERROR(FindId(target_id, &target_seq));
    if (!target_seq) {
      return Status::NotFound("no event with id '" + target_id + "' in the log").WithField("target");
    }
    TargetInfo target;
    TWINLINE_RETURN_IF_ERROR(Lookup(*target_seq, &target, nullptr));
    std::vector<std::pair<uint64_t, char>> refs;
    TWINLINE_RETURN_IF_ERROR(References(target_id, &refs));
    bool retracted = false, amended = false;
    for (const auto& [seq, tag] : refs) {
      retracted = retracted || tag == 'R';
      amended = amended || tag == 'A';
    }

    if (which == Which::CORROBORATION) {
      if (target.which == Which::CORROBORATION || target.which == Which::RETRACTION) {
        return Status::InvalidArgument("'" + target_id + "' is not a fact that sources can be added to")
            .WithField("target");
      }
      return AttachSources(ev.asReader(), *target_seq, target_id, outcome);
    }

    // A correction already in the log (same fingerprint) is a duplicate.
    const Digest fact = FactFingerprint(payload.asReader(), ev.getValidTime().getEdtf().cStr());
    std::optional<uint64_t> existing;
    TWINLINE_RETURN_IF_ERROR(FindFact(fact, &existing));
    if (existing) {
      std::string self_id;
      TWINLINE_RETURN_IF_ERROR(IdAt(*existing, &self_id));
      return AttachSources(ev.asReader(), *existing, self_id, outcome);
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
        return Status::InvalidArgument("restore: seq " + std::to_string(ev.getSeq()) +
                                       " would be stored at " + std::to_string(last_seq_ + 1))
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
    const std::string canonical = CanonicalRecord(ev.asReader());
    const std::string seq_key = EncodeU64(new_seq);

    Sha256 chain;
    chain.Update(prev_hash_.data(), prev_hash_.size());
    chain.Update(canonical);
    const Digest hash = chain.Finish();

    TWINLINE_RETURN_IF_ERROR(txn_.Put(dbi_[kEvents], seq_key, PackRecord(canonical),
                                      MDB_NOOVERWRITE | MDB_APPEND, "event"));
    TWINLINE_RETURN_IF_ERROR(
        txn_.Put(dbi_[kChain], seq_key, AsBytes(hash), MDB_NOOVERWRITE | MDB_APPEND, "chain"));

    entries_.clear();
    TargetLookup lookup = [this](std::string_view id, TargetInfo* info) { return LookupId(id, info); };
    TWINLINE_RETURN_IF_ERROR(IndexEntriesFor(ev.asReader(), folder_, lookup, &entries_, fact));
    for (IndexEntry& e : entries_) {
      switch (e.table) {
        case kFacts: {
          // The whole fingerprint, for exact lookups until the entry is put.
          const Digest whole = fact != nullptr ? *fact
                                               : FactFingerprint(ev.getPayload().asReader(),
                                                                 ev.getValidTime().getEdtf().cStr());
          if (!waiting_facts_.emplace(whole, new_seq).second) return KeyExists(kFacts);
          fact_filter_.Add(PrefixOf(whole));
          break;
        }
        case kById:
          if (!waiting_ids_.emplace(e.key, new_seq).second) return KeyExists(kById);
          id_filter_.Add(Hash64(e.key));
          break;
        case kEntities:
          entities_.emplace(e.key, new_seq);
          break;
        case kRefs:
          waiting_refs_[e.key].emplace_back(new_seq, e.value[8]);
          break;
        default:
          break;
      }
      runs_[e.table].Add(e.key, e.value);
      ++waiting_entries_;
    }
    prev_hash_ = hash;
    last_seq_ = new_seq;
    *seq = new_seq;
    if (observer_ != nullptr) TWINLINE_RETURN_IF_ERROR(observer_->Observe(ev.asReader()));
    if (waiting_entries_ >= kFlushEntries) return Flush();
    return Status::Ok();
  }

  static Status KeyExists(Table table) {
    return lmdb::LmdbStatus(MDB_KEYEXIST, std::string("writing ") + kTableNames[table]);
  }

  lmdb::Txn& txn_;
  const TableHandles& dbi_;
  const NameFolder& folder_;
  const AppendOptions& options_;
  IndexMaintainer* observer_;  // may be null; sees every event written (streamed batches)
  uint64_t last_seq_ = 0;
  int64_t last_recorded_ = 0;
  int64_t now_ = 0;
  Digest prev_hash_{};
  size_t appended_in_batch_ = 0;

  // Index entries written by this batch but not yet put into their tables.
  // Their keys (ids, slugs, fingerprints) arrive in no order, and a B-tree
  // put at a random key is a descent from the root onto a random page; put
  // in key order, through one cursor, most land on the page the previous
  // one did. So entries wait in runs, and are put sorted whenever
  // kFlushEntries wait (bounded memory: tens of MB) and at the commit.
  // What an append looks up (facts, ids, entities, references) is found
  // among the waiting entries first, so the batch behaves exactly as if
  // each entry had been put at once.
  static constexpr size_t kFlushEntries = size_t{1} << 18;
  std::array<EntryRun, kNumTables> runs_;
  size_t waiting_entries_ = 0;
  std::unordered_map<Digest, uint64_t, DigestHash> waiting_facts_;  // until flushed
  StringMap<uint64_t> waiting_ids_;                                  // until flushed
  StringMap<std::vector<std::pair<uint64_t, char>>> waiting_refs_;  // the whole batch
  StringMap<uint64_t> entities_;  // registered: this batch's, and those looked up
  // Every fact prefix and id this batch wrote (and, once FilterExisting
  // ran, every one the log held): a key they rule out is not in the table.
  KeyFilter fact_filter_, id_filter_;
  bool facts_unfiltered_ = true, ids_unfiltered_ = true;  // the log held keys the filters lack
  std::vector<IndexEntry> entries_;  // one record's, reused
};

// A batch being appended in one write transaction (its own, or one nested in
// a group's): the machinery behind Append, BeginBatch and AppendGroup. The
// first failure aborts the transaction, so nothing of the batch remains, and
// is returned again by every later call.
class LmdbBatchWriter : public LogBatchWriter {
 public:
  LmdbBatchWriter(std::unique_ptr<lmdb::Txn> txn, const lmdb::Env& env, const TableHandles& dbi,
                  const NameFolder& folder, const AppendOptions& options, const WriterHooks& hooks)
      : options_(options),
        txn_(std::move(txn)),
        writer_(*txn_, dbi, folder, options_, hooks.streamed ? hooks.maintainer : nullptr),
        env_(env),
        dbi_(dbi),
        path_(env.path()),
        hooks_(hooks) {}

  ~LmdbBatchWriter() override {
    if (!committed_ && hooks_.streamed && hooks_.maintainer != nullptr) hooks_.maintainer->Abandon();
  }

  bool map_full() const override { return map_full_; }

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
      if (hooks_.logger) hooks_.logger->debug("batch refused at #{}: {}", index, st.ToString());
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
    if (st.ok() && hooks_.maintainer != nullptr && !hooks_.nested) {
      std::unique_ptr<DerivedWriteTxn> derived = NewDerivedWriteTxn(*txn_, dbi_, path_);
      st = hooks_.maintainer->BeforeCommit(*derived, first_seq_, writer_.last_seq(), hooks_.streamed);
    }
    if (st.ok()) st = txn_->Commit();
    if (!st.ok()) return Fail(st);  // the transaction is gone either way
    txn_.reset();
    committed_ = true;
    result->last_seq = writer_.last_seq();
    result->recorded_at = writer_.last_seq() >= first_seq_ ? writer_.now() : 0;
    result->appended = appended_;
    result->corroborated = corroborated_;
    result->duplicates = duplicates_;
    if (hooks_.logger) {
      hooks_.logger->info("appended batch of {}: {} new, {} corroborated, {} duplicate; log at seq {}",
                          added_, appended_, corroborated_, duplicates_, result->last_seq);
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
  const TableHandles& dbi_;
  std::string path_;
  const WriterHooks hooks_;
  uint64_t first_seq_ = 0;
  size_t added_ = 0, appended_ = 0, corroborated_ = 0, duplicates_ = 0;
  Status failure_;
  bool committed_ = false;
  bool map_full_ = false;
};

}  // namespace

Status StartWriter(std::unique_ptr<lmdb::Txn> txn, const lmdb::Env& env, const TableHandles& dbi,
                   const NameFolder& folder, const AppendOptions& options, int64_t now,
                   const WriterHooks& hooks, std::unique_ptr<LogBatchWriter>* out) {
  auto writer = std::make_unique<LmdbBatchWriter>(std::move(txn), env, dbi, folder, options, hooks);
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
