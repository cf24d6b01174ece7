// The effective facts at K (docs/PROJECTIONS.md §1), streamed from the log.
//
// Whether a fact is superseded is asked of the `refs` index per fact
// (ReadTxn::ScanReferences: the corrections and corroborations that target
// its id), so nothing about the whole log is held in memory: neither the
// events nor the set of corrections.
#include <capnp/schema.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "core/edtf.h"
#include "core/identity.h"
#include "core/schema_names.h"
#include "projections/state.h"

namespace twinline::projection_internal {

using Which = schema::Payload::Which;

Tri Occurrence(int64_t e, int64_t l, int64_t day, DateRule rule) {
  switch (rule) {
    case DateRule::kEarliest:
      return e <= day ? Tri::kYes : Tri::kNo;
    case DateRule::kLatest:
      return l != kUnboundedEnd && l <= day ? Tri::kYes : Tri::kNo;
    case DateRule::kRange:
      break;
  }
  if (l <= day) return Tri::kYes;
  return e <= day ? Tri::kMaybe : Tri::kNo;
}

Status FindSuperseding(const ReadTxn& txn, std::string_view id, uint64_t known_seq,
                       bool* superseded, std::optional<uint64_t>* amended_by) {
  *superseded = false;
  if (amended_by != nullptr) amended_by->reset();
  return txn.ScanReferences(id, [&](schema::Event::Reader ref) {
    if (ref.getSeq() > known_seq) return false;  // ascending seq: nothing later counts
    const Which which = ref.getPayload().which();
    if (which == Which::RETRACTION || which == Which::AMENDMENT) *superseded = true;
    if (which == Which::AMENDMENT && amended_by != nullptr) *amended_by = ref.getSeq();
    return true;
  });
}

namespace {

// Resident pages of the log's map a scan may add before it releases them
// (state.h, MappedPageBudget).
constexpr uint64_t kMappedPageBudget = uint64_t{64} << 20;

}  // namespace

MappedPageBudget::MappedPageBudget(const ReadTxn& txn)
    : MappedPageBudget(txn, kMappedPageBudget) {}

MappedPageBudget::MappedPageBudget(const ReadTxn& txn, uint64_t budget_bytes)
    : txn_(txn), budget_pages_(budget_bytes / static_cast<uint64_t>(sysconf(_SC_PAGESIZE))) {
  base_pages_ = ResidentFilePages().value_or(0);
}

std::optional<uint64_t> MappedPageBudget::ResidentFilePages() {
  // statm: size resident shared text lib data dt, in pages; `shared` is the
  // resident file-backed (and shared memory) pages. One small read.
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[128];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  unsigned long long size = 0, resident = 0, shared = 0;
  if (std::sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3) return std::nullopt;
  return shared;
}

void MappedPageBudget::Check() {
  const std::optional<uint64_t> pages = ResidentFilePages();
  if (!pages) {  // cannot measure: release as the interval alone says
    txn_.ReleaseMappedPages();
    return;
  }
  if (*pages > base_pages_ + budget_pages_) {
    txn_.ReleaseMappedPages();
    ++releases_;
  }
}

namespace {

// The effective fact `ev` stands for at known_seq (§1), if it feeds one of
// `rows`: false when it is a correction or corroboration, feeds none of
// them, or is superseded (looked up only for the facts that feed them).
// `fact` borrows from `ev`.
bool AsEffectiveFact(const ReadTxn& txn, schema::Event::Reader ev, uint64_t known_seq,
                     RowSets rows, Fact* fact, Status* error) {
  auto payload = ev.getPayload();
  const Which which = payload.which();
  if (which == Which::RETRACTION || which == Which::CORROBORATION) return false;
  if (which == Which::AMENDMENT) payload = payload.getAmendment().getReplacement();
  if ((RowsFed(payload.which()) & rows) == 0) return false;  // not even looked up
  const std::string_view id(ev.getId().cStr(), ev.getId().size());
  bool superseded = false;
  *error = FindSuperseding(txn, id, known_seq, &superseded);
  if (!error->ok() || superseded) return false;
  auto date = ev.getValidTime();
  fact->seq = ev.getSeq();
  fact->e = date.getEarliest();
  fact->l = date.getLatest();
  fact->edtf = std::string_view(date.getEdtf().cStr(), date.getEdtf().size());
  fact->payload = payload;
  return true;
}

}  // namespace

Status ScanEffectiveFactsBySeq(const ReadTxn& txn, uint64_t known_seq, int64_t to_day,
                               const std::function<bool(const Fact&)>& fn, RowSets rows) {
  MappedPageBudget pages(txn);
  Status inner;
  Status st = txn.Scan(1, known_seq, [&](schema::Event::Reader ev) {
    pages.Visited();
    if (ev.getValidTime().getEarliest() > to_day) return true;
    Fact fact;
    if (!AsEffectiveFact(txn, ev, known_seq, rows, &fact, &inner)) return inner.ok();
    return fn(fact);
  });
  TWINLINE_RETURN_IF_ERROR(inner);
  return st;
}

Status EffectiveCountry(const ReadTxn& txn, std::string_view slug, uint64_t known_seq,
                        std::string* country) {
  country->clear();
  uint64_t seq = 0;
  Status st = txn.FindEntity(slug, &seq);
  if (st.code() == Status::Code::kNotFound) return Status::Ok();
  TWINLINE_RETURN_IF_ERROR(st);
  // Follow the registration's amendments (each amends the previous one) to
  // the one in effect at known_seq.
  while (seq <= known_seq) {
    std::string id, entity, iso;
    bool registration = false;
    TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
      id = Str(ev.getId());
      auto payload = ev.getPayload();
      if (payload.which() == Which::AMENDMENT) payload = payload.getAmendment().getReplacement();
      if (payload.which() == Which::ENTITY_REGISTERED) {
        registration = true;
        entity = Str(payload.getEntityRegistered().getEntity());
        iso = Str(payload.getEntityRegistered().getCountry());
      }
    }));
    bool superseded = false;
    std::optional<uint64_t> amended_by;
    TWINLINE_RETURN_IF_ERROR(FindSuperseding(txn, id, known_seq, &superseded, &amended_by));
    if (amended_by) {
      seq = *amended_by;
      continue;
    }
    if (!superseded && registration && entity == slug) *country = iso;
    break;
  }
  return Status::Ok();
}

std::string PartnershipKindName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::PartnershipKind>(), ordinal);
}
std::string RouteModeName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::RouteMode>(), ordinal);
}
std::string TradeFlowName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::TradeFlow>(), ordinal);
}
std::string QualifierName(uint16_t ordinal) {
  return EnumerantName(capnp::Schema::from<schema::Qualifier>(), ordinal);
}

const std::string& EnumNames::Subkind(EdgeRow::Kind kind, uint16_t ordinal) {
  auto [it, inserted] = names_.try_emplace({static_cast<int>(kind), ordinal});
  if (inserted) {
    it->second = kind == EdgeRow::Kind::kPartnership ? PartnershipKindName(ordinal)
                                                     : RouteModeName(ordinal);
  }
  return it->second;
}

const std::string& EnumNames::Flow(uint16_t ordinal) {
  auto [it, inserted] = names_.try_emplace({-1, ordinal});
  if (inserted) it->second = TradeFlowName(ordinal);
  return it->second;
}


}  // namespace twinline::projection_internal
