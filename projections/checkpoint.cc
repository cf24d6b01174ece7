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
#include <span>
#include <stdexcept>

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

void SetList(capnp::List<uint64_t>::Builder list, std::span<const uint64_t> seqs) {
  for (size_t i = 0; i < seqs.size(); ++i) list.set(i, seqs[i]);
}

void SetFigure(const State& state, schema::CountFigure::Builder b, const CountFigure& f) {
  SetDated(b.initAt(), f.at);
  b.setDate(AsText(state.Name(f.date)));
  b.setValue(f.value);
  b.setQualifier(f.qualifier);
}

// A trade figure's date is not written: no row shows it.
void SetFigure(const State& state, schema::TradeFigure::Builder b, const TradeFigure& f) {
  SetDated(b.initAt(), f.at);
  b.setAmount(f.amount);
  b.setCurrency(AsText(state.Name(f.currency)));
}

std::string_view View(capnp::Text::Reader text) { return {text.cStr(), text.size()}; }

CountFigure GetFigure(State* state, schema::CountFigure::Reader r) {
  return {GetDated(r.getAt()), r.getValue(), state->InternName(View(r.getDate())),
          r.getQualifier()};
}

TradeFigure GetFigure(State* state, schema::TradeFigure::Reader r) {
  return {GetDated(r.getAt()), r.getAmount(), state->InternName(View(r.getCurrency()))};
}

template <typename Builder, typename Entry, typename Figure>
void SetReports(const State& state, Builder b, const Entry& r,
                std::span<const OpenFigure<Figure>> open) {
  b.setHasBest(r.has_best);
  if (r.has_best) SetFigure(state, b.initBest(), r.best);
  b.setSettledCount(r.settled);
  auto list = b.initOpen(open.size());
  for (size_t i = 0; i < open.size(); ++i) SetFigure(state, list[i], open[i].figure);
}

template <typename Reader, typename Entry, typename Figure>
void GetReports(State* state, Reader reader, uint32_t owner, Entry* r,
                std::vector<OpenFigure<Figure>>* open) {
  r->has_best = reader.getHasBest();
  if (r->has_best) r->best = GetFigure(state, reader.getBest());
  r->settled = reader.getSettledCount();
  for (auto f : reader.getOpen()) open->push_back({GetFigure(state, f), owner});
}

std::string EncodeState(State& state) {
  state.Normalise();
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::CheckpointState>();
  root.setVersion(schema::CHECKPOINT_STATE_VERSION);
  auto entities = root.initEntities(state.EntityCount());
  for (uint32_t i = 0; i < state.EntityCount(); ++i) entities.set(i, AsText(state.Slug(i)));
  SetList(root.initEntitySettled(state.entity_settled.size()), state.entity_settled);

  auto edges = root.initEdges(state.edges.size());
  GroupCursor<EdgeEvent> edge_events(state.edge_events);
  for (uint32_t i = 0; i < state.edges.size(); ++i) {
    const Edge& edge = state.edges[i];
    auto b = edges[i];
    b.setRoute(edge.key.kind == EdgeRow::Kind::kRoute);
    b.setA(edge.key.a);
    b.setB(edge.key.b);
    b.setSubkind(edge.key.subkind);
    b.setPrefixRange(static_cast<uint8_t>(edge.prefix.range));
    b.setPrefixEarliest(edge.prefix.earliest);
    b.setPrefixLatest(edge.prefix.latest);
    const std::span<const uint64_t> seqs = state.PrefixSeqs(i);
    SetList(b.initPrefixSeqs(seqs.size()), seqs);
    const std::span<const EdgeEvent> open = edge_events.Next(i);
    auto events = b.initEvents(open.size());
    for (size_t j = 0; j < open.size(); ++j) {
      SetDated(events[j].initAt(), open[j].at);
      events[j].setEstablish(open[j].establish);
    }
  }

  auto counters = root.initCounters(state.counters.size());
  GroupCursor<CounterFact> counter_facts(state.counter_facts);
  for (uint32_t i = 0; i < state.counters.size(); ++i) {
    const CounterEntry& c = state.counters[i];
    auto b = counters[i];
    b.setEntity(c.key.entity);
    b.setCounter(static_cast<uint8_t>(c.key.counter));
    b.setSettledCount(c.settled);
    const std::span<const CounterFact> open = counter_facts.Next(i);
    auto list = b.initOpen(open.size());
    for (size_t j = 0; j < open.size(); ++j) SetDated(list[j], open[j].at);
  }

  auto reports = root.initReports(state.reports.size());
  GroupCursor<OpenFigure<CountFigure>> report_figures(state.report_figures);
  for (uint32_t i = 0; i < state.reports.size(); ++i) {
    const Report& r = state.reports[i];
    auto b = reports[i];
    b.setEntity(r.key.entity);
    b.setMetric(AsText(state.Name(r.key.metric)));
    b.setHasScope(r.key.scope != kNoEntity);
    b.setScope(r.key.scope == kNoEntity ? 0 : r.key.scope);
    SetReports(state, b, r, report_figures.Next(i));
  }

  auto trade = root.initTrade(state.trade.size());
  GroupCursor<OpenFigure<TradeFigure>> trade_figures(state.trade_figures);
  for (uint32_t i = 0; i < state.trade.size(); ++i) {
    const Trade& t = state.trade[i];
    auto b = trade[i];
    b.setReporter(t.key.reporter);
    b.setPartner(t.key.partner);
    b.setPeriod(AsText(state.Name(t.key.period)));
    b.setFlow(t.key.flow);
    SetReports(state, b, t, trade_figures.Next(i));
  }
  return Framed(message);
}

// Words over `bytes`: the bytes themselves when they are word-aligned (a
// large LMDB value starts on its own page, so a stored checkpoint is), else
// an aligned copy kept in `copy`. Valid while `bytes` and `copy` are.
kj::ArrayPtr<const capnp::word> WordsOf(std::string_view bytes, kj::Array<capnp::word>* copy) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    return kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()),
                        bytes.size() / sizeof(capnp::word));
  }
  *copy = Aligned(bytes);
  return *copy;
}

// A stored checkpoint, decoded but not yet trusted. `state` and `sha256`
// view the stored value (or `copy`): valid while it is.
struct Stored {
  int64_t day = 0;
  uint64_t built_seq = 0;
  std::string_view state;
  std::string_view sha256;
  kj::Array<capnp::word> copy;
};

bool ParseStored(std::string_view value, Stored* out) {
  if (value.empty() || value.size() % sizeof(capnp::word) != 0) return false;
  const kj::ArrayPtr<const capnp::word> words = WordsOf(value, &out->copy);
  try {
    capnp::FlatArrayMessageReader reader(words, OptionsFor(words.size()));
    auto cp = reader.getRoot<schema::Checkpoint>();
    out->day = cp.getDay();
    out->built_seq = cp.getBuiltSeq();
    auto state = cp.getState();
    out->state = std::string_view(reinterpret_cast<const char*>(state.begin()), state.size());
    auto sha = cp.getSha256();
    out->sha256 = std::string_view(reinterpret_cast<const char*>(sha.begin()), sha.size());
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

std::string EncodeCheckpoint(State& state, int64_t day, uint64_t built_seq) {
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
  kj::Array<capnp::word> copy;
  const kj::ArrayPtr<const capnp::word> words = WordsOf(bytes, &copy);
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
      if (state->Intern(View(entities[i])) != i) {
        return Status::Corruption("checkpoint repeats an entity");
      }
    }
    const uint32_t n = entities.size();
    auto entity = [&](uint32_t index) {
      if (index >= n) throw std::out_of_range("entity index");
      return index;
    };
    // Adds `key` to `table`; a key stored twice is corruption.
    auto add = [](auto* table, const auto& key) {
      bool added = false;
      const uint32_t index = table->FindOrAdd(key, &added);
      if (!added) throw std::out_of_range("repeated key");
      return index;
    };
    // Only the parts the state keeps are read (State::rows).
    if (state->KeepsEdges()) {
      for (auto e : root.getEdges()) {
        const EdgeKey key{entity(e.getA()), entity(e.getB()), e.getSubkind(),
                          e.getRoute() ? EdgeRow::Kind::kRoute : EdgeRow::Kind::kPartnership};
        const uint32_t i = add(&state->edges, key);
        Edge& edge = state->edges[i];
        if (e.getPrefixRange() > static_cast<uint8_t>(Tri::kYes)) {
          throw std::out_of_range("prefix status");
        }
        edge.prefix.range = static_cast<Tri>(e.getPrefixRange());
        edge.prefix.earliest = e.getPrefixEarliest();
        edge.prefix.latest = e.getPrefixLatest();
        if (state->KeepsEdgeSeqs()) {
          std::vector<uint64_t>& pool = state->prefix_seqs;
          edge.seqs_begin = static_cast<uint32_t>(pool.size());
          for (uint64_t seq : e.getPrefixSeqs()) pool.push_back(seq);
          edge.seqs_count = static_cast<uint32_t>(pool.size() - edge.seqs_begin);
          std::sort(pool.begin() + edge.seqs_begin, pool.end());
        }
        for (auto x : e.getEvents()) {
          state->edge_events.push_back({GetDated(x.getAt()), i, x.getEstablish()});
        }
      }
    }
    if (state->KeepsCounts()) {
      for (auto c : root.getCounters()) {
        if (c.getCounter() >= kNumCounters) throw std::out_of_range("counter");
        const uint32_t i = add(&state->counters, CounterKey{entity(c.getEntity()),
                                                            static_cast<Counter>(c.getCounter())});
        state->counters[i].settled = c.getSettledCount();
        for (auto x : c.getOpen()) state->counter_facts.push_back({GetDated(x), i});
      }
      for (auto r : root.getReports()) {
        const ReportKey key{entity(r.getEntity()), state->InternName(View(r.getMetric())),
                            r.getHasScope() ? entity(r.getScope()) : kNoEntity};
        const uint32_t i = add(&state->reports, key);
        GetReports(state, r, i, &state->reports[i], &state->report_figures);
      }
      const auto settled = root.getEntitySettled();
      if (settled.size() > n) throw std::out_of_range("settled count list");
      for (uint64_t count : settled) state->entity_settled.push_back(count);
    }
    if (state->KeepsTrade()) {
      for (auto t : root.getTrade()) {
        const TradeKey key{entity(t.getReporter()), entity(t.getPartner()),
                           state->InternName(View(t.getPeriod())), t.getFlow()};
        const uint32_t i = add(&state->trade, key);
        GetReports(state, t, i, &state->trade[i], &state->trade_figures);
      }
    }
    state->Normalise();
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
    // Everything happens inside the callback, where the stored value is
    // valid: it is hashed and decoded where it lies, not copied.
    Status inner;
    bool loaded = false;
    TWINLINE_RETURN_IF_ERROR(txn.ScanCheckpoints([&](std::string_view k, std::string_view value) {
      if (k < key) return true;
      if (k != key) return false;
      Stored stored;
      if (!ParseStored(value, &stored) || stored.day != c || stored.built_seq > known_seq) {
        return false;
      }
      auto found = since.find(stored.built_seq);
      if (found == since.end()) {
        found = since.emplace(stored.built_seq, Since()).first;
        inner = ScanSince(txn, stored.built_seq, known_seq, &found->second);
        if (!inner.ok()) return false;
      }
      if (found->second.correction || found->second.min_fact_day <= c) {
        return false;  // stale: the next `twinline checkpoint` rebuilds it
      }
      const Digest digest = CheckpointDigest(c, stored.built_seq, stored.state);
      if (stored.sha256 != AsBytes(digest)) return false;
      State decoded(state->rows());
      if (!DecodeState(stored.state, &decoded).ok()) return false;
      *state = std::move(decoded);
      loaded = true;
      return false;
    }));
    TWINLINE_RETURN_IF_ERROR(inner);
    // The checkpoint's pages (~150 MB at 10^7 events) are not needed again.
    txn.ReleaseMappedPages();
    if (!loaded) {
      ++*skipped;
      continue;
    }
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
