// The LMDB event log. Layout and rules: docs/FORMAT.md and docs/EVENTS.md.
#include "core/event_log.h"

#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <kj/exception.h>
#include <set>
#include <unordered_map>

#include "core/edtf.h"
#include "core/identity.h"
#include "core/lmdb_env.h"
#include "core/names.h"
#include "core/schema_names.h"
#include "core/sha256.h"

namespace twinline {

enum Table : size_t {
  kMeta,
  kEvents,
  kChain,
  kByDate,
  kByEntity,
  kById,
  kEntities,
  kNames,
  kFacts,
  kFactSources,
  kRefs,
  kCheckpoints,  // derived data, outside the chain and Verify's index check
  kNumTables
};

struct EventLog::Tables {
  std::array<MDB_dbi, kNumTables> dbi{};
};

namespace {

using Which = schema::Payload::Which;
using lmdb::DecodeU64;
using lmdb::EncodeU64;

constexpr std::array<const char*, kNumTables> kTableNames = {
    "meta", "events", "chain", "by_date", "by_entity", "by_id",
    "entities", "names", "facts", "fact_sources", "refs", "checkpoints"};

const Digest kZeroDigest{};

std::string Join(std::string_view a, std::string_view b) {
  std::string out(a);
  out.push_back('\0');
  out.append(b);
  return out;
}


// A stored record opened for reading. Decodes in place when LMDB's value is
// 8-byte aligned (Cap'n Proto's requirement), else from one aligned copy.
class StoredEvent {
 public:
  explicit StoredEvent(std::string_view bytes) {
    const word_t* begin = reinterpret_cast<const word_t*>(bytes.data());
    size_t words = bytes.size() / sizeof(capnp::word);
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) != 0) {
      copy_ = kj::heapArray<capnp::word>(words);
      std::memcpy(copy_.begin(), bytes.data(), words * sizeof(capnp::word));
      begin = copy_.begin();
    }
    reader_.emplace(kj::ArrayPtr<const capnp::word>(begin, words));
  }
  schema::Event::Reader root() { return reader_->getRoot<schema::Event>(); }

 private:
  using word_t = capnp::word;
  kj::Array<capnp::word> copy_;
  std::optional<capnp::FlatArrayMessageReader> reader_;
};

// Runs `fn` over the decoded record, turning a malformed message (Cap'n Proto
// reports those by exception) into kCorruption naming the seq.
Status WithStoredEvent(std::string_view bytes, uint64_t seq,
                       const std::function<void(schema::Event::Reader)>& fn) {
  if (bytes.size() % sizeof(capnp::word) != 0 || bytes.empty()) {
    return Status::Corruption("seq " + std::to_string(seq) + ": record size " +
                              std::to_string(bytes.size()) + " is not a whole number of words");
  }
  try {
    StoredEvent stored(bytes);
    fn(stored.root());
  } catch (const kj::Exception& e) {
    return Status::Corruption("seq " + std::to_string(seq) + ": record does not decode: " +
                              std::string(e.getDescription().cStr()));
  }
  return Status::Ok();
}

// The stored form of an event: its canonical Cap'n Proto encoding
// (capnp::canonicalize: one segment, no padding or orphaned space, a layout
// fixed by the content alone) framed as a standard single-segment message,
// so that the same event always has the same bytes (restore reproduces the
// hash chain) and stock tools read it.
std::string EncodeRecord(schema::Event::Reader ev) {
  kj::Array<capnp::word> canonical = capnp::canonicalize(ev);
  std::string out(8, '\0');
  const uint32_t segment_words = static_cast<uint32_t>(canonical.size());
  // Segment table: (segment count - 1) = 0, then the segment's size in
  // words, both little-endian u32; 8 bytes keep the segment word-aligned.
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((segment_words >> (8 * i)) & 0xff);
  out.append(reinterpret_cast<const char*>(canonical.begin()), canonical.size() * sizeof(capnp::word));
  return out;
}

// What the index derivation needs to know about a reference's target.
struct TargetInfo {
  uint64_t seq = 0;
  Which which = Which::ENTITY_REGISTERED;
  Which fact_which = Which::ENTITY_REGISTERED;  // for an amendment: its replacement's kind
  Digest fact{};
  std::vector<std::string> entities;
  std::string edtf;
  int64_t earliest = 0, latest = 0;
};

TargetInfo DescribeTarget(schema::Event::Reader ev) {
  TargetInfo info;
  info.seq = ev.getSeq();
  auto payload = ev.getPayload();
  info.which = payload.which();
  info.fact_which =
      info.which == Which::AMENDMENT ? payload.getAmendment().getReplacement().which() : info.which;
  info.fact = FactFingerprint(payload, ev.getValidTime().getEdtf().cStr());
  info.entities = EntityRefs(payload);
  info.edtf = Str(ev.getValidTime().getEdtf());
  info.earliest = ev.getValidTime().getEarliest();
  info.latest = ev.getValidTime().getLatest();
  return info;
}

using TargetLookup = std::function<Status(std::string_view id, TargetInfo* info)>;

struct IndexEntry {
  Table table;
  std::string key;
  std::string value;
};

// The index entries one stored event owns (docs/FORMAT.md). The same function
// serves Append (to write them) and Verify (to rebuild them), so the two can
// never disagree about what an index should hold. `known_fact`, when set, is
// the event's own fact fingerprint as the caller already computed it (an
// append has; not used for a corroboration, whose fact is its target's).
Status IndexEntriesFor(schema::Event::Reader ev, const NameFolder& folder,
                       const TargetLookup& lookup, std::vector<IndexEntry>* out,
                       const Digest* known_fact = nullptr) {
  const uint64_t seq = ev.getSeq();
  const std::string seq_key = EncodeU64(seq);
  auto payload = ev.getPayload();
  const Which which = payload.which();

  out->push_back({kByDate, lmdb::EncodeDay(ev.getValidTime().getEarliest()) + seq_key,
                  lmdb::EncodeDay(ev.getValidTime().getLatest())});
  out->push_back({kById, std::string(ev.getId().cStr()), seq_key});

  std::vector<std::string> entities = EntityRefs(payload);
  std::optional<TargetInfo> target;
  if (IsReference(which)) {
    target.emplace();
    TWINLINE_RETURN_IF_ERROR(lookup(ReferenceTarget(payload), &*target));
    entities.insert(entities.end(), target->entities.begin(), target->entities.end());
    std::sort(entities.begin(), entities.end());
    entities.erase(std::unique(entities.begin(), entities.end()), entities.end());
    const char tag = which == Which::RETRACTION ? 'R' : which == Which::AMENDMENT ? 'A' : 'C';
    out->push_back({kRefs, Join(ReferenceTarget(payload), seq_key), std::string(1, tag)});
  }
  for (const auto& slug : entities) out->push_back({kByEntity, Join(slug, seq_key), ""});

  if (which == Which::ENTITY_REGISTERED) {
    auto reg = payload.getEntityRegistered();
    std::string slug = Str(reg.getEntity());
    out->push_back({kEntities, slug, seq_key});
    std::set<std::string> keys = {slug};
    for (auto name : reg.getNames()) {
      std::vector<std::string> name_keys;
      TWINLINE_RETURN_IF_ERROR(folder.IndexKeys(name.getText().cStr(), &name_keys));
      keys.insert(name_keys.begin(), name_keys.end());
    }
    for (const auto& key : keys) out->push_back({kNames, Join(key, slug), ""});
  }

  // Sources attach to the fact: the event's own fingerprint, or for a
  // corroboration its target's.
  Digest fact = which == Which::CORROBORATION ? target->fact
                : known_fact != nullptr     ? *known_fact
                                            : FactFingerprint(payload, ev.getValidTime().getEdtf().cStr());
  if (which != Which::CORROBORATION) out->push_back({kFacts, std::string(AsBytes(fact)), seq_key});
  for (auto source : ev.getSources()) {
    Digest src = SourceFingerprint(source);
    out->push_back({kFactSources, std::string(AsBytes(fact)) + std::string(AsBytes(src)), seq_key});
  }
  return Status::Ok();
}

Status CheckText(capnp::Text::Reader text, const char* field) {
  if (text.size() == 0) return Status::InvalidArgument("must not be empty").WithField(field);
  return Status::Ok();
}

Status CheckAmount(double v, const char* field) {
  if (!std::isfinite(v) || v < 0) {
    return Status::InvalidArgument("must be a finite number >= 0").WithField(field);
  }
  return Status::Ok();
}

// Parses an event's date and writes the normalised text and day bounds back.
Status NormaliseDate(schema::Date::Builder date) {
  EdtfDate parsed;
  Status st = ParseEdtf(date.getEdtf().cStr(), &parsed);
  if (!st.ok()) return st;
  date.setEdtf(parsed.Normalized());
  date.setEarliest(parsed.earliest);
  date.setLatest(parsed.latest);
  return Status::Ok();
}

// Checks that do not need the log: a library caller that bypasses the JSON
// decoder still cannot store an event without a source, a valid date or a
// sane payload.
Status CheckPayload(schema::Payload::Reader p) {
  switch (p.which()) {
    case Which::ENTITY_REGISTERED: {
      auto e = p.getEntityRegistered();
      if (!IsEntitySlug(e.getEntity().cStr())) {
        return Status::InvalidArgument("'" + std::string(e.getEntity().cStr()) +
                                       "' is not an entity id (1-64 of a-z, 0-9, '-')")
            .WithField("entity");
      }
      if (e.getNames().size() == 0) return Status::InvalidArgument("at least one name is required").WithField("names");
      for (auto n : e.getNames()) TWINLINE_RETURN_IF_ERROR(CheckText(n.getText(), "names"));
      break;
    }
    case Which::PARTNERSHIP_ESTABLISHED:
    case Which::PARTNERSHIP_ENDED: {
      auto x = p.which() == Which::PARTNERSHIP_ESTABLISHED ? p.getPartnershipEstablished() : p.getPartnershipEnded();
      if (x.getA() == x.getB()) return Status::InvalidArgument("an entity cannot partner with itself").WithField("b");
      break;
    }
    case Which::AGREEMENT_SIGNED:
      if (p.getAgreementSigned().getParties().size() < 2) {
        return Status::InvalidArgument("at least two distinct parties are required").WithField("parties");
      }
      break;
    case Which::ROUTE_OPENED:
    case Which::ROUTE_CLOSED: {
      auto r = p.which() == Which::ROUTE_OPENED ? p.getRouteOpened() : p.getRouteClosed();
      if (r.getFrom() == r.getTo()) return Status::InvalidArgument("a route must join two entities").WithField("to");
      break;
    }
    case Which::FORUM_HELD:
      for (auto f : p.getForumHeld().getAttendance()) TWINLINE_RETURN_IF_ERROR(CheckAmount(f.getValue(), "attendance"));
      break;
    case Which::TRADE_VOLUME_REPORTED: {
      auto t = p.getTradeVolumeReported();
      TWINLINE_RETURN_IF_ERROR(CheckAmount(t.getAmount(), "amount"));
      EdtfDate period;
      Status st = ParseEdtf(t.getPeriod().cStr(), &period);
      if (!st.ok()) return st.WithField("period");
      break;
    }
    case Which::COUNT_REPORTED:
      TWINLINE_RETURN_IF_ERROR(CheckAmount(p.getCountReported().getValue(), "value"));
      TWINLINE_RETURN_IF_ERROR(CheckText(p.getCountReported().getMetric(), "metric"));
      break;
    case Which::AMENDMENT:
      if (IsReference(p.getAmendment().getReplacement().which())) {
        return Status::InvalidArgument("a replacement cannot itself be a correction").WithField("replacement.kind");
      }
      TWINLINE_RETURN_IF_ERROR(CheckPayload(p.getAmendment().getReplacement()));
      break;
    default:
      break;
  }
  if (IsReference(p.which()) && ReferenceTarget(p).empty()) {
    return Status::InvalidArgument("must name the event it refers to").WithField("target");
  }
  return Status::Ok();
}

Status CheckAndNormalise(schema::Event::Builder ev) {
  auto sources = ev.getSources();
  if (sources.size() == 0) {
    return Status::InvalidArgument("every fact needs at least one source").WithField("sources");
  }
  std::vector<Digest> fingerprints;
  fingerprints.reserve(sources.size());
  for (uint32_t i = 0; i < sources.size(); ++i) {
    auto s = sources[i];
    fingerprints.push_back(SourceFingerprint(s));
    const auto field = [i] { return "sources[" + std::to_string(i) + "]"; };
    Status st = CheckText(s.getTitle(), "title");
    if (st.ok()) st = CheckText(s.getPublisher(), "publisher");
    if (st.ok()) st = CheckText(s.getLanguage(), "language");
    if (!st.ok()) return st.WithField(field());
    EdtfDate published;
    st = ParseEdtf(s.getPublished().cStr(), &published);
    if (!st.ok()) return st.WithField("published").WithField(field());
    for (uint32_t j = 0; j < i; ++j) {
      if (fingerprints[j] == fingerprints[i]) {
        return Status::InvalidArgument("repeats sources[" + std::to_string(j) + "]").WithField(field());
      }
    }
  }
  Status st = NormaliseDate(ev.getValidTime());
  if (!st.ok()) return st.WithField("date");
  auto payload = ev.getPayload();
  if (payload.which() == Which::AMENDMENT) {
    auto amendment = payload.getAmendment();
    st = NormaliseDate(amendment.getValidTime());
    if (!st.ok()) return st.WithField("replacement.date");
    if (amendment.getValidTime().getEdtf() != ev.getValidTime().getEdtf()) {
      return Status::InvalidArgument("an amendment's date must be its replacement's date").WithField("date");
    }
  }
  TWINLINE_RETURN_IF_ERROR(CheckPayload(payload.asReader()));
  NormalizePayload(payload);
  return Status::Ok();
}

Status OpenTables(lmdb::Txn& txn, bool create, std::array<MDB_dbi, kNumTables>* dbi) {
  for (size_t i = 0; i < kNumTables; ++i) {
    TWINLINE_RETURN_IF_ERROR(txn.OpenDb(kTableNames[i], create, &(*dbi)[i]));
  }
  return Status::Ok();
}

std::string FormatRfc3339(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---------------------------------------------------------------------------
// ReadTxn over LMDB.

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

// ---------------------------------------------------------------------------
// Appending: one write transaction for the whole batch.

class TxnWriter {
 public:
  TxnWriter(lmdb::Txn& txn, const std::array<MDB_dbi, kNumTables>& dbi, const NameFolder& folder,
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
  const std::array<MDB_dbi, kNumTables>& dbi_;
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
class LmdbBatchWriter : public EventLog::BatchWriter {
 public:
  // `txn` is owned; `env`, `dbi`, `folder` and `logger` are borrowed from
  // the EventLog, which outlives every writer it hands out.
  LmdbBatchWriter(std::unique_ptr<lmdb::Txn> txn, const lmdb::Env& env,
                  const std::array<MDB_dbi, kNumTables>& dbi, const NameFolder& folder,
                  const AppendOptions& options, spdlog::logger* logger)
      : options_(options),
        txn_(std::move(txn)),
        writer_(*txn_, dbi, folder, options_),
        env_(env),
        logger_(logger) {}

  // The batch failed because the map filled up: Append and AppendGroup grow
  // it and run the batch again.
  bool map_full() const { return map_full_; }

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
  Status AddMessage(capnp::MessageBuilder& message, AppendOutcome* outcome) {
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

// Starts a writer on `txn` (a fresh or a nested write transaction).
Status StartWriter(std::unique_ptr<lmdb::Txn> txn, const lmdb::Env& env,
                   const std::array<MDB_dbi, kNumTables>& dbi, const NameFolder& folder,
                   const AppendOptions& options, int64_t now, spdlog::logger* logger,
                   std::unique_ptr<LmdbBatchWriter>* out) {
  auto writer = std::make_unique<LmdbBatchWriter>(std::move(txn), env, dbi, folder, options, logger);
  TWINLINE_RETURN_IF_ERROR(writer->Start(now));
  *out = std::move(writer);
  return Status::Ok();
}

// Writes every event of `batch` (left in place) through `writer` and commits.
Status WriteAll(LmdbBatchWriter& writer, std::vector<PendingEvent>& batch, AppendResult* result) {
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

// Refuses a database this build cannot read: a newer format, or a version
// record that is not a format number at all. Nothing is written either way.
Status CheckFormatVersion(const std::string& path, std::string_view text) {
  uint64_t version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  const std::string readable = std::to_string(kFormatVersion);
  if (ec != std::errc() || end != text.data() + text.size() || version == 0) {
    return Status::Version("'" + path + "' has an unreadable format version '" + std::string(text) +
                           "' (this build reads formats 1 to " + readable +
                           "); it was not modified");
  }
  if (version > kFormatVersion) {
    return Status::Version("'" + path + "' was written by a newer twinline (format " +
                           std::to_string(version) + ", this build reads up to " + readable +
                           "); upgrade twinline to use it. It was not modified");
  }
  return Status::Ok();
}

// After a write hit the end of the map: grows it, or says why it cannot.
Status GrowMap(const lmdb::Env& env, spdlog::logger* logger) {
  const size_t before = env.map_size();
  Status st = env.Grow();
  if (!st.ok()) return Status::Full(st.message() + "; nothing was written");
  if (logger)
    logger->info("database map grown from {} MiB to {} MiB", before >> 20, env.map_size() >> 20);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Verification (docs/FORMAT.md, "Verification"): one pass over the records
// in seq order, checking for each what it implies is stored, then one count
// per index. Memory does not grow with the log.

using Counts = std::array<uint64_t, kNumTables>;

// What a reference in record `seq` points at: found through the stored
// by_id index (whose entry for the target was checked with the target's own
// record, which comes first) and checked against the record it names.
Status VerifyTarget(const lmdb::Txn& txn, const std::array<MDB_dbi, kNumTables>& dbi,
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
Status ImpliedEntries(const lmdb::Txn& txn, const std::array<MDB_dbi, kNumTables>& dbi,
                      const NameFolder& folder, schema::Event::Reader ev,
                      std::vector<IndexEntry>* out) {
  out->clear();
  const uint64_t seq = ev.getSeq();
  TargetLookup lookup = [&](std::string_view id, TargetInfo* info) {
    return VerifyTarget(txn, dbi, id, seq, info);
  };
  return IndexEntriesFor(ev, folder, lookup, out);
}

// Checks one record: its key (the next seq), its chain hash (from *prev,
// which it advances), that it decodes and names its own seq, and that every
// index entry it implies is stored with its value (counted in *implied).
// Errors name the seq.
Status CheckRecord(const lmdb::Txn& txn, const std::array<MDB_dbi, kNumTables>& dbi,
                   const NameFolder& folder, uint64_t seq, std::string_view key,
                   std::string_view value, const lmdb::Cursor* chain, Digest* prev,
                   std::vector<IndexEntry>* entries, Counts* implied) {
  auto bad = [seq](const std::string& why) {
    return Status::Corruption("seq " + std::to_string(seq) + ": " + why);
  };
  if (key.size() != 8 || DecodeU64(key) != seq) {
    return bad("records are not numbered 1..N without gaps (found key " +
               ToHex(reinterpret_cast<const uint8_t*>(key.data()), key.size()) + ")");
  }
  if (chain == nullptr || chain->key() != key) return bad("the chain has no hash for this record");
  Sha256 h;
  h.Update(prev->data(), prev->size());
  h.Update(value);
  const Digest hash = h.Finish();
  if (chain->value() != AsBytes(hash))
    return bad("hash chain mismatch: the record or its hash was altered");
  *prev = hash;

  Status inner;
  TWINLINE_RETURN_IF_ERROR(WithStoredEvent(value, seq, [&](schema::Event::Reader ev) {
    if (ev.getSeq() != seq) {
      inner = Status::Corruption("record says seq " + std::to_string(ev.getSeq()));
      return;
    }
    inner = ImpliedEntries(txn, dbi, folder, ev, entries);
  }));
  if (!inner.ok()) return inner.code() == Status::Code::kCorruption ? bad(inner.message()) : inner;

  std::sort(entries->begin(), entries->end(), [](const IndexEntry& a, const IndexEntry& b) {
    return a.table != b.table ? a.table < b.table : a.key < b.key;
  });
  for (size_t i = 0; i < entries->size(); ++i) {
    const IndexEntry& e = (*entries)[i];
    const std::string name = kTableNames[e.table];
    if (i > 0 && (*entries)[i - 1].table == e.table && (*entries)[i - 1].key == e.key) {
      return bad("duplicate entry in index '" + name + "'");
    }
    MDB_val stored;
    Status st = txn.Get(dbi[e.table], e.key, &stored);
    if (st.code() == Status::Code::kNotFound)
      return bad("index '" + name + "' is missing an entry");
    TWINLINE_RETURN_IF_ERROR(st);
    if (lmdb::View(stored) != e.value) return bad("index '" + name + "' has a wrong value");
    ++(*implied)[e.table];
  }
  return Status::Ok();
}

// The seq of the record an index entry says it belongs to (0: none).
uint64_t ClaimedSeq(const lmdb::Txn& txn, const std::array<MDB_dbi, kNumTables>& dbi, size_t table,
                    std::string_view key, std::string_view value) {
  switch (table) {
    case kByDate:
    case kByEntity:
    case kRefs:  // ... ‖ seq
      return key.size() >= 9 ? DecodeU64(key.substr(key.size() - 8)) : 0;
    case kNames: {  // folded name ‖ 0x00 ‖ slug: the slug's registration
      const size_t nul = key.rfind('\0');
      MDB_val v;
      if (nul == std::string_view::npos || !txn.Get(dbi[kEntities], key.substr(nul + 1), &v).ok())
        return 0;
      value = lmdb::View(v);
      [[fallthrough]];
    }
    default:  // by_id, entities, facts, fact_sources: the value is the seq
      return value.size() == 8 ? DecodeU64(value) : 0;
  }
}

// Called when index `table` holds more entries than the records imply (all
// implied ones are there): finds one that its claimed record does not imply.
Status FindUnexplained(const lmdb::Txn& txn, const std::array<MDB_dbi, kNumTables>& dbi,
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
// ---------------------------------------------------------------------------
// EventLog.

EventLog::EventLog(std::string path, std::unique_ptr<lmdb::Env> env, std::unique_ptr<Tables> tables,
                   const OpenOptions& options)
    : path_(std::move(path)),
      env_(std::move(env)),
      tables_(std::move(tables)),
      clock_(options.clock ? options.clock : &system_clock_),
      logger_(options.logger) {}

EventLog::~EventLog() = default;

Status EventLog::Open(const std::string& path, const OpenOptions& options,
                      std::unique_ptr<EventLog>* out) {
  lmdb::EnvOptions env_options;
  env_options.read_only = options.read_only;
  env_options.create = options.create_if_missing;
  env_options.initial_map_size = options.map_size;
  env_options.max_map_size = options.max_map_size;
  env_options.resize_wait = options.resize_wait;
  std::unique_ptr<lmdb::Env> env;
  TWINLINE_RETURN_IF_ERROR(lmdb::Env::Open(path, env_options, &env));
  if (env->lockless() && options.logger) {
    options.logger->info(
        "'{}' is read-only to this user: reading without LMDB's lock file; results "
        "are consistent only while no other process writes",
        path);
  }
  auto tables = std::make_unique<Tables>();

  // Table handles opened in a transaction become the environment's when it
  // commits; read-only transactions commit too, for that reason.
  std::unique_ptr<lmdb::Txn> txn;
  const bool create = options.create_if_missing && !options.read_only;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env, /*read_only=*/!create, &txn));
  // The version record first: a database of a newer format is refused
  // before anything else is read from it, and nothing is ever written to it.
  bool versioned = false;
  {
    MDB_dbi meta;
    TWINLINE_RETURN_IF_ERROR(txn->OpenDb(kTableNames[kMeta], create, &meta));
    MDB_val v;
    Status st = txn->Get(meta, "format_version", &v);
    if (st.ok()) {
      TWINLINE_RETURN_IF_ERROR(CheckFormatVersion(path, lmdb::View(v)));
      versioned = true;
    } else if (st.code() != Status::Code::kNotFound) {
      return st;
    } else if (!create) {
      return Status::NotFound("'" + path +
                              "' is not an initialised twinline database (run `twinline init`)");
    }
  }
  TWINLINE_RETURN_IF_ERROR(OpenTables(*txn, create, &tables->dbi));
  if (!versioned) {
    const Clock* clock = options.clock;
    SystemClock system;
    int64_t now = (clock ? clock : &system)->NowMicros();
    TWINLINE_RETURN_IF_ERROR(txn->Put(tables->dbi[kMeta], "format_version",
                                      std::to_string(kFormatVersion), 0, "format version"));
    TWINLINE_RETURN_IF_ERROR(
        txn->Put(tables->dbi[kMeta], "created_at", FormatRfc3339(now), 0, "creation time"));
  }
  TWINLINE_RETURN_IF_ERROR(txn->Commit());

  Status folder_status;
  auto folder = NameFolder::Create(&folder_status);
  if (!folder) return folder_status;
  out->reset(new EventLog(path, std::move(env), std::move(tables), options));
  (*out)->folder_ = std::move(folder);
  return Status::Ok();
}

Status EventLog::Append(std::vector<PendingEvent>& batch, const AppendOptions& options,
                        AppendResult* result) {
  for (;;) {
    *result = AppendResult();
    Status st;
    bool map_full = false;
    {
      std::unique_ptr<lmdb::Txn> txn;
      TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/false, &txn));
      std::unique_ptr<LmdbBatchWriter> writer;
      st = StartWriter(std::move(txn), *env_, tables_->dbi, *folder_, options, clock_->NowMicros(),
                       logger_.get(), &writer);
      if (st.ok()) st = WriteAll(*writer, batch, result);
      map_full = writer != nullptr && writer->map_full();
    }  // the transaction has ended: the map may be resized
    if (st.ok() || !map_full) return st;
    *result = AppendResult();
    // The whole batch again, in a bigger map (the events are still in `batch`).
    TWINLINE_RETURN_IF_ERROR(GrowMap(*env_, logger_.get()));
  }
}

Status EventLog::BeginBatch(const AppendOptions& options, std::unique_ptr<BatchWriter>* out) {
  // A streamed batch cannot be run again (its events are gone once added),
  // so give it all the room there is before it begins.
  env_->GrowToLimit();
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/false, &txn));
  std::unique_ptr<LmdbBatchWriter> writer;
  TWINLINE_RETURN_IF_ERROR(StartWriter(std::move(txn), *env_, tables_->dbi, *folder_, options,
                                       clock_->NowMicros(), logger_.get(), &writer));
  *out = std::move(writer);
  return Status::Ok();
}

Status EventLog::AppendGroup(std::vector<GroupItem>* items) {
  for (;;) {
    bool map_full = false;
    Status st = AppendGroupOnce(items, &map_full);
    if (!map_full) return st;
    // Nothing of the group was committed: grow the map and run it all again.
    Status grown = GrowMap(*env_, logger_.get());
    if (!grown.ok()) {
      for (GroupItem& item : *items) {
        item.status = grown;
        item.result = AppendResult();
      }
      return grown;
    }
  }
}

Status EventLog::AppendGroupOnce(std::vector<GroupItem>* items, bool* map_full) {
  for (GroupItem& item : *items) {
    item.status = Status::Ok();
    item.result = AppendResult();
  }
  std::unique_ptr<lmdb::Txn> group;
  Status st = lmdb::Txn::Begin(*env_, /*read_only=*/false, &group);
  size_t landed = 0;
  uint64_t last_seq = 0;
  for (size_t i = 0; st.ok() && i < items->size(); ++i) {
    GroupItem& item = (*items)[i];
    // Each batch in its own nested transaction: a failure aborts it alone,
    // and the next batch starts from the log as the earlier ones left it.
    std::unique_ptr<lmdb::Txn> nested;
    item.status = lmdb::Txn::BeginNested(*group, &nested);
    std::unique_ptr<LmdbBatchWriter> writer;
    if (item.status.ok()) {
      item.status = StartWriter(std::move(nested), *env_, tables_->dbi, *folder_, item.options,
                                clock_->NowMicros(), /*logger=*/nullptr, &writer);
    }
    if (item.status.ok()) item.status = WriteAll(*writer, item.batch, &item.result);
    if (writer != nullptr && writer->map_full()) {
      // The map filled up: the group is run again, whole, in a bigger map.
      *map_full = true;
      return item.status;  // `group` aborts here: nothing was written
    }
    if (item.status.ok()) {
      ++landed;
      last_seq = item.result.last_seq;
    } else {
      item.result = AppendResult();
      if (logger_)
        logger_->debug("group item {} of {} refused: {}", i, items->size(), item.status.ToString());
    }
  }
  if (st.ok()) {
    st = group->Commit();
    *map_full = !st.ok() && group->map_full();
    group.reset();
    if (*map_full) return st;
  }
  if (!st.ok()) {
    // Nothing was written: no batch landed, whatever its own checks said.
    for (GroupItem& item : *items) {
      if (item.status.ok()) {
        item.status = st;
        item.result = AppendResult();
      }
    }
    if (logger_)
      logger_->warn("group of {} batches not committed: {}", items->size(), st.ToString());
    return st;
  }
  if (logger_) {
    logger_->info("group commit: {} of {} batches appended; log at seq {}", landed, items->size(),
                  last_seq);
  }
  return Status::Ok();
}

Status EventLog::WriteGrowing(const std::function<Status(lmdb::Txn& txn)>& body) {
  for (;;) {
    Status st;
    bool map_full = false;
    {
      std::unique_ptr<lmdb::Txn> txn;
      TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/false, &txn));
      st = body(*txn);
      if (st.ok()) st = txn->Commit();
      map_full = txn->map_full();
    }
    if (st.ok() || !map_full) return st;
    TWINLINE_RETURN_IF_ERROR(GrowMap(*env_, logger_.get()));
  }
}

Status EventLog::BeginRead(std::unique_ptr<ReadTxn>* out) const {
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/true, &txn));
  *out = std::make_unique<LmdbReadTxn>(std::move(txn), tables_->dbi, path_);
  return Status::Ok();
}

Status EventLog::ReplaceCheckpoints(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  return WriteGrowing([&](lmdb::Txn& txn) {
    TWINLINE_RETURN_IF_ERROR(txn.Clear(tables_->dbi[kCheckpoints], "checkpoints"));
    for (const auto& [key, value] : entries) {
      TWINLINE_RETURN_IF_ERROR(
          txn.Put(tables_->dbi[kCheckpoints], key, value, MDB_NOOVERWRITE, "checkpoint"));
    }
    return Status::Ok();
  });
}

Status EventLog::PutCheckpoint(std::string_view key, std::string_view value) {
  return WriteGrowing([&](lmdb::Txn& txn) {
    return txn.Put(tables_->dbi[kCheckpoints], key, value, 0, "checkpoint");
  });
}

Status EventLog::Verify(VerifyReport* report) const {
  *report = VerifyReport();
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/true, &txn));
  const auto& dbi = tables_->dbi;

  // 1. The records in seq order, each with its chain hash and every index
  //    entry it implies (all must be stored, with their values).
  Counts implied{};
  std::vector<IndexEntry> entries;  // one record's, reused
  std::unique_ptr<lmdb::Cursor> events, chain;
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[kEvents], &events));
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[kChain], &chain));
  Digest prev = kZeroDigest;
  uint64_t seq = 0;
  bool more_chain = chain->First();
  for (bool ok = events->First(); ok; ok = events->Next(), more_chain = chain->Next()) {
    ++seq;
    Status st = CheckRecord(*txn, dbi, *folder_, seq, events->key(), events->value(),
                            more_chain ? chain.get() : nullptr, &prev, &entries, &implied);
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
  for (size_t t = kChain + 1; t < kCheckpoints; ++t) {
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
  std::unique_ptr<lmdb::Txn> txn;
  TWINLINE_RETURN_IF_ERROR(lmdb::Txn::Begin(*env_, /*read_only=*/true, &txn));
  const auto& dbi = tables_->dbi;

  MDB_val v;
  Status st = txn->Get(dbi[kMeta], "format_version", &v);
  if (st.code() == Status::Code::kNotFound)
    return Status::Corruption("the format version record is missing");
  TWINLINE_RETURN_IF_ERROR(st);
  TWINLINE_RETURN_IF_ERROR(CheckFormatVersion(path_, lmdb::View(v)));

  // One record, one chain hash, one id and one date entry for each seq 1..N.
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
  for (Table t : {kChain, kById, kByDate}) {
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
  std::unique_ptr<lmdb::Cursor> chain;
  TWINLINE_RETURN_IF_ERROR(lmdb::Cursor::Open(*txn, dbi[kChain], &chain));
  bool more_chain = chain->Seek(EncodeU64(from));
  uint64_t seq = from - 1;
  for (bool ok = n > 0 && events->Seek(EncodeU64(from)); ok;
       ok = events->Next(), more_chain = chain->Next()) {
    ++seq;
    st = CheckRecord(*txn, dbi, *folder_, seq, events->key(), events->value(),
                     more_chain ? chain.get() : nullptr, &prev, &entries, &implied);
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
