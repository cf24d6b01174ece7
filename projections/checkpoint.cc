// Projection checkpoints (docs/PROJECTIONS.md §5): building them, storing
// the compacted state as a Checkpoint message (schemas/checkpoint.capnp),
// and choosing and loading the one a query may use.
//
// A checkpoint at day C built at seq B holds insert(effective facts at B with
// e <= C), compacted at C. It answers for a query (D, K) with C <= D when
// B <= K and nothing recorded in (B, K] could change that set: no
// correction (retraction or amendment) and no fact with e <= C.
// Corroborations change no state and never invalidate. A state written in
// another shape (its `version` is not schema::CHECKPOINT_STATE_VERSION) is
// skipped like one whose hash fails: it is never read with the wrong
// meaning.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/edtf.h"
#include "core/identity.h"
#include "core/lmdb_env.h"
#include "core/sha256.h"
#include "projections/state.h"
#include "schemas/checkpoint.capnp.h"

namespace twinline {
namespace projection_internal {

namespace {

using Which = schema::Payload::Which;

std::string Framed(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  return std::string(reinterpret_cast<const char*>(words.begin()),
                     words.size() * sizeof(capnp::word));
}

// LMDB aligns values to 2 bytes; Cap'n Proto needs 8.
kj::Array<capnp::word> Aligned(std::string_view bytes) {
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), words.size() * sizeof(capnp::word));
  return words;
}

capnp::ReaderOptions OptionsFor(size_t words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words * 2 + 1024;  // the state is one message; no amplification
  return options;
}

capnp::Text::Reader AsText(const std::string& s) {
  return capnp::Text::Reader(s.c_str(), s.size());
}

Digest CheckpointDigest(int64_t day, uint64_t built_seq, std::string_view state) {
  Sha256 h;
  h.Update("twinline-checkpoint-v1");
  h.Update(lmdb::EncodeDay(day));
  h.Update(lmdb::EncodeU64(built_seq));
  h.Update(state);
  return h.Finish();
}

void SetDated(schema::DatedSeq::Builder b, const Dated& d) {
  b.setSeq(d.seq);
  b.setEarliest(d.e);
  b.setLatest(d.l);
}

Dated GetDated(schema::DatedSeq::Reader r) { return {r.getSeq(), r.getEarliest(), r.getLatest()}; }

void SetList(capnp::List<uint64_t>::Builder list, const std::vector<uint64_t>& seqs) {
  for (size_t i = 0; i < seqs.size(); ++i) list.set(i, seqs[i]);
}

std::vector<uint64_t> GetSeqs(capnp::List<uint64_t>::Reader list) {
  std::vector<uint64_t> seqs;
  seqs.reserve(list.size());
  for (uint64_t seq : list) seqs.push_back(seq);
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

void SetFigure(schema::CountFigure::Builder b, const CountFigure& f) {
  SetDated(b.initAt(), f.at);
  b.setDate(AsText(f.date));
  b.setValue(f.value);
  b.setQualifier(f.qualifier);
}

void SetFigure(schema::TradeFigure::Builder b, const TradeFigure& f) {
  SetDated(b.initAt(), f.at);
  b.setDate(AsText(f.date));
  b.setAmount(f.amount);
  b.setCurrency(AsText(f.currency));
}

CountFigure GetFigure(schema::CountFigure::Reader r) {
  return {GetDated(r.getAt()), Str(r.getDate()), r.getValue(), r.getQualifier()};
}

TradeFigure GetFigure(schema::TradeFigure::Reader r) {
  return {GetDated(r.getAt()), Str(r.getDate()), r.getAmount(), Str(r.getCurrency())};
}

template <typename Builder, typename Figure>
void SetReports(Builder b, const ReportState<Figure>& r) {
  b.setHasBest(r.best_settled.has_value());
  if (r.best_settled) SetFigure(b.initBest(), *r.best_settled);
  b.setSettledCount(r.settled);
  auto open = b.initOpen(r.open.size());
  for (size_t i = 0; i < r.open.size(); ++i) SetFigure(open[i], r.open[i]);
}

template <typename Reader, typename Figure>
void GetReports(Reader reader, ReportState<Figure>* r) {
  if (reader.getHasBest()) r->best_settled = GetFigure(reader.getBest());
  r->settled = reader.getSettledCount();
  for (auto f : reader.getOpen()) r->open.push_back(GetFigure(f));
}

std::string EncodeState(const State& state) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::CheckpointState>();
  root.setVersion(schema::CHECKPOINT_STATE_VERSION);
  auto entities = root.initEntities(state.EntityCount());
  for (uint32_t i = 0; i < state.EntityCount(); ++i) entities.set(i, AsText(state.Slug(i)));
  SetList(root.initEntitySettled(state.entity_settled.size()), state.entity_settled);

  auto edges = root.initEdges(state.edges.size());
  size_t i = 0;
  for (const auto& [key, edge] : state.edges) {
    auto b = edges[i++];
    b.setRoute(key.kind == EdgeRow::Kind::kRoute);
    b.setA(key.a);
    b.setB(key.b);
    b.setSubkind(key.subkind);
    b.setPrefixRange(static_cast<uint8_t>(edge.prefix.range));
    b.setPrefixEarliest(edge.prefix.earliest);
    b.setPrefixLatest(edge.prefix.latest);
    SetList(b.initPrefixSeqs(edge.prefix.seqs.size()), edge.prefix.seqs);
    auto events = b.initEvents(edge.events.size());
    for (size_t j = 0; j < edge.events.size(); ++j) {
      SetDated(events[j].initAt(), edge.events[j].at);
      events[j].setEstablish(edge.events[j].establish);
    }
  }

  auto counters = root.initCounters(state.counters.size());
  i = 0;
  for (const auto& [key, c] : state.counters) {
    auto b = counters[i++];
    b.setEntity(key.first);
    b.setCounter(static_cast<uint8_t>(key.second));
    b.setSettledCount(c.settled);
    auto open = b.initOpen(c.open.size());
    for (size_t j = 0; j < c.open.size(); ++j) SetDated(open[j], c.open[j]);
  }

  auto reports = root.initReports(state.reports.size());
  i = 0;
  for (const auto& [key, r] : state.reports) {
    auto b = reports[i++];
    b.setEntity(key.entity);
    b.setMetric(AsText(key.metric));
    b.setHasScope(key.scope != kNoEntity);
    b.setScope(key.scope == kNoEntity ? 0 : key.scope);
    SetReports(b, r);
  }

  auto trade = root.initTrade(state.trade.size());
  i = 0;
  for (const auto& [key, r] : state.trade) {
    auto b = trade[i++];
    b.setReporter(key.reporter);
    b.setPartner(key.partner);
    b.setPeriod(AsText(key.period));
    b.setFlow(key.flow);
    SetReports(b, r);
  }
  return Framed(message);
}

// A stored checkpoint, decoded but not yet trusted.
struct Stored {
  int64_t day = 0;
  uint64_t built_seq = 0;
  std::string state;
  std::string sha256;
};

bool ParseStored(std::string_view value, Stored* out) {
  if (value.empty() || value.size() % sizeof(capnp::word) != 0) return false;
  kj::Array<capnp::word> words = Aligned(value);
  try {
    capnp::FlatArrayMessageReader reader(words, OptionsFor(words.size()));
    auto cp = reader.getRoot<schema::Checkpoint>();
    out->day = cp.getDay();
    out->built_seq = cp.getBuiltSeq();
    auto state = cp.getState();
    out->state.assign(reinterpret_cast<const char*>(state.begin()), state.size());
    auto sha = cp.getSha256();
    out->sha256.assign(reinterpret_cast<const char*>(sha.begin()), sha.size());
  } catch (const kj::Exception&) {
    return false;
  }
  return true;
}

// What was recorded after a checkpoint's built_seq, up to the query's K.
struct Since {
  bool correction = false;
  int64_t min_fact_day = kUnboundedEnd;  // least e of a fact recorded since
};

Status ScanSince(const ReadTxn& txn, uint64_t built_seq, uint64_t known_seq, Since* since) {
  return txn.Scan(built_seq + 1, known_seq, [&](schema::Event::Reader ev) {
    const Which which = ev.getPayload().which();
    if (which == Which::RETRACTION || which == Which::AMENDMENT) {
      since->correction = true;
      return false;
    }
    if (which != Which::CORROBORATION) {
      since->min_fact_day = std::min(since->min_fact_day, ev.getValidTime().getEarliest());
    }
    return true;
  });
}

}  // namespace

std::string EncodeCheckpoint(const State& state, int64_t day, uint64_t built_seq) {
  const std::string bytes = EncodeState(state);
  const Digest digest = CheckpointDigest(day, built_seq, bytes);
  capnp::MallocMessageBuilder message;
  auto cp = message.initRoot<schema::Checkpoint>();
  cp.setDay(day);
  cp.setBuiltSeq(built_seq);
  cp.setState(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
  cp.setSha256(capnp::Data::Reader(digest.data(), digest.size()));
  return Framed(message);
}

Status DecodeState(std::string_view bytes, State* state) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption("checkpoint state is not a whole number of words");
  }
  kj::Array<capnp::word> words = Aligned(bytes);
  try {
    capnp::FlatArrayMessageReader reader(words, OptionsFor(words.size()));
    auto root = reader.getRoot<schema::CheckpointState>();
    if (root.getVersion() != schema::CHECKPOINT_STATE_VERSION) {
      // An older shape (settled facts as seq lists): reading it with this
      // build's fields would count no settled facts at all.
      return Status::Corruption("checkpoint state has version " +
                                std::to_string(root.getVersion()) + "; this build reads version " +
                                std::to_string(schema::CHECKPOINT_STATE_VERSION) +
                                " (rebuild with `twinline checkpoint`)");
    }
    const auto entities = root.getEntities();
    for (uint32_t i = 0; i < entities.size(); ++i) {
      if (state->Intern(Str(entities[i])) != i) {
        return Status::Corruption("checkpoint repeats an entity");
      }
    }
    const uint32_t n = entities.size();
    auto entity = [&](uint32_t index) {
      if (index >= n) throw std::out_of_range("entity index");
      return index;
    };
    size_t open = 0;
    for (auto e : root.getEdges()) {
      EdgeKey key{e.getRoute() ? EdgeRow::Kind::kRoute : EdgeRow::Kind::kPartnership,
                  entity(e.getA()), entity(e.getB()), e.getSubkind()};
      EdgeState& edge = state->edges[key];
      if (e.getPrefixRange() > static_cast<uint8_t>(Tri::kYes)) {
        throw std::out_of_range("prefix status");
      }
      edge.prefix.range = static_cast<Tri>(e.getPrefixRange());
      edge.prefix.earliest = e.getPrefixEarliest();
      edge.prefix.latest = e.getPrefixLatest();
      edge.prefix.seqs = GetSeqs(e.getPrefixSeqs());
      for (auto x : e.getEvents()) edge.events.push_back({GetDated(x.getAt()), x.getEstablish()});
      open += edge.events.size();
    }
    for (auto c : root.getCounters()) {
      if (c.getCounter() >= kNumCounters) throw std::out_of_range("counter");
      CounterState& cs =
          state->counters[{entity(c.getEntity()), static_cast<Counter>(c.getCounter())}];
      cs.settled = c.getSettledCount();
      for (auto x : c.getOpen()) cs.open.push_back(GetDated(x));
      open += cs.open.size();
    }
    for (auto r : root.getReports()) {
      ReportKey key{entity(r.getEntity()), Str(r.getMetric()),
                    r.getHasScope() ? entity(r.getScope()) : kNoEntity};
      GetReports(r, &state->reports[key]);
      open += state->reports[key].open.size();
    }
    for (auto t : root.getTrade()) {
      TradeKey key{entity(t.getReporter()), entity(t.getPartner()), Str(t.getPeriod()),
                   t.getFlow()};
      GetReports(t, &state->trade[key]);
      open += state->trade[key].open.size();
    }
    const auto settled = root.getEntitySettled();
    if (settled.size() > n) throw std::out_of_range("settled count list");
    for (uint64_t count : settled) state->entity_settled.push_back(count);
    state->open_items_ = open;
  } catch (const kj::Exception& e) {
    return Status::Corruption("checkpoint state does not decode: " +
                              std::string(e.getDescription().cStr()));
  } catch (const std::out_of_range& e) {
    return Status::Corruption(std::string("checkpoint state has a bad ") + e.what());
  }
  return Status::Ok();
}

Status LoadCheckpoint(const ReadTxn& txn, int64_t day, uint64_t known_seq, State* state,
                      std::optional<int64_t>* checkpoint_day, uint64_t* skipped) {
  checkpoint_day->reset();
  std::vector<int64_t> days;  // candidates, ascending
  TWINLINE_RETURN_IF_ERROR(txn.ScanCheckpoints([&](std::string_view key, std::string_view) {
    if (key.size() != 8) return true;
    const int64_t c = lmdb::DecodeDay(key);
    if (c > day) return false;
    days.push_back(c);
    return true;
  }));
  std::map<uint64_t, Since> since;  // per built_seq, scanned once
  for (auto it = days.rbegin(); it != days.rend(); ++it) {
    const int64_t c = *it;
    const std::string key = lmdb::EncodeDay(c);
    std::string value;
    TWINLINE_RETURN_IF_ERROR(txn.ScanCheckpoints([&](std::string_view k, std::string_view v) {
      if (k < key) return true;
      if (k == key) value.assign(v);
      return false;
    }));
    Stored stored;
    if (!ParseStored(value, &stored) || stored.day != c || stored.built_seq > known_seq) {
      ++*skipped;
      continue;
    }
    auto found = since.find(stored.built_seq);
    if (found == since.end()) {
      found = since.emplace(stored.built_seq, Since()).first;
      TWINLINE_RETURN_IF_ERROR(ScanSince(txn, stored.built_seq, known_seq, &found->second));
    }
    if (found->second.correction || found->second.min_fact_day <= c) {
      ++*skipped;  // stale: the next `twinline checkpoint` rebuilds it
      continue;
    }
    const Digest digest = CheckpointDigest(c, stored.built_seq, stored.state);
    if (stored.sha256 != AsBytes(digest)) {
      ++*skipped;
      continue;
    }
    State loaded;
    if (!DecodeState(stored.state, &loaded).ok()) {
      ++*skipped;
      continue;
    }
    *state = std::move(loaded);
    *checkpoint_day = c;
    return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace projection_internal

using projection_internal::Inserter;

Status BuildCheckpoints(const ReadTxn& txn, const std::vector<int64_t>& days,
                        std::vector<std::pair<std::string, std::string>>* entries) {
  entries->clear();
  return BuildCheckpoints(txn, days, [entries](std::string key, std::string value) {
    entries->emplace_back(std::move(key), std::move(value));
    return Status::Ok();
  });
}

Status BuildCheckpoints(const ReadTxn& txn, const std::vector<int64_t>& days,
                        const CheckpointSink& sink) {
  std::vector<int64_t> sorted;
  for (int64_t d : days) {
    if (d != kUnboundedStart && d != kUnboundedEnd) sorted.push_back(d);
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  if (sorted.empty()) return Status::Ok();

  // One pass in order of e: before the first fact past a checkpoint day,
  // everything with e <= that day is in; compact there and store it.
  const uint64_t built_seq = txn.LastSeq();
  projection_internal::State state;
  Inserter inserter(&state, std::nullopt);
  size_t next = 0;
  Status sunk;
  auto emit = [&]() {
    const int64_t c = sorted[next++];
    inserter.CompactAt(c);
    sunk = sink(lmdb::EncodeDay(c), projection_internal::EncodeCheckpoint(state, c, built_seq));
    return sunk.ok();
  };
  TWINLINE_RETURN_IF_ERROR(projection_internal::ScanEffectiveFacts(
      txn, built_seq, std::nullopt, sorted.back(), [&](const projection_internal::Fact& fact) {
        while (next < sorted.size() && fact.e > sorted[next]) {
          if (!emit()) return false;
        }
        inserter.Insert(fact);
        return true;
      }));
  TWINLINE_RETURN_IF_ERROR(sunk);
  while (next < sorted.size()) {
    if (!emit()) return sunk;
  }
  return Status::Ok();
}

Status DefaultCheckpointDays(const ReadTxn& txn, std::vector<int64_t>* days) {
  days->clear();
  LogStats stats;
  TWINLINE_RETURN_IF_ERROR(txn.Stats(&stats));
  if (stats.events == 0 || stats.min_valid_day > stats.max_valid_day) return Status::Ok();
  int64_t first_year = 0, last_year = 0;
  unsigned month = 0, mday = 0;
  CivilFromDays(stats.min_valid_day, &first_year, &month, &mday);
  CivilFromDays(stats.max_valid_day, &last_year, &month, &mday);
  // Years divisible by 5 (floor division, for years before 0 too).
  int64_t year = first_year - ((first_year % 5) + 5) % 5;
  if (year < first_year) year += 5;
  for (; year <= last_year; year += 5) days->push_back(DaysFromCivil(year, 12, 31));
  return Status::Ok();
}

}  // namespace twinline
