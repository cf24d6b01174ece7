// Reading the temporal index where it lies (docs/INDEX.md §6): each section
// a span over the log's map, checked for shape before anything is read
// through it, so that a damaged index is reported, never followed.
#include <algorithm>
#include <cstring>

#include "projections/index.h"

namespace twinline::projection_internal {

namespace ix = index;

namespace {

Status Damaged(const std::string& why) {
  return Status::Corruption("the temporal index is damaged (" + why +
                            "); rebuild it with `twinline index --rebuild`");
}

// Offsets [0, ..., total], non-decreasing, `count + 1` of them.
template <typename T>
bool Offsets(std::span<const T> off, size_t count, size_t total) {
  if (off.size() != count + 1 || off.front() != 0 || off.back() != total) return false;
  for (size_t i = 1; i < off.size(); ++i) {
    if (off[i] < off[i - 1]) return false;
  }
  return true;
}

}  // namespace

Status IndexView::Bytes(const ReadTxn& txn, const char* name, std::string_view* out) {
  Status st = txn.GetDerived(name, out);
  if (st.code() == Status::Code::kNotFound) return Damaged("section '" + std::string(name) + "' is missing");
  return st;
}

template <typename T>
Status IndexView::Section(const ReadTxn& txn, const char* name, std::span<const T>* out) {
  std::string_view bytes;
  TWINLINE_RETURN_IF_ERROR(Bytes(txn, name, &bytes));
  if (bytes.size() % sizeof(T) != 0) {
    return Damaged("section '" + std::string(name) + "' is not a whole number of entries");
  }
  const char* data = bytes.data();
  if (reinterpret_cast<uintptr_t>(data) % alignof(T) != 0) {
    // A small value lies in a leaf page, 2-byte aligned: one aligned copy.
    auto copy = std::make_unique<uint64_t[]>(bytes.size() / 8 + 1);
    std::memcpy(copy.get(), data, bytes.size());
    data = reinterpret_cast<const char*>(copy.get());
    copies_.push_back(std::move(copy));
  }
  *out = std::span<const T>(reinterpret_cast<const T*>(data), bytes.size() / sizeof(T));
  return Status::Ok();
}

Status IndexView::Open(const ReadTxn& txn, std::unique_ptr<IndexView>* out) {
  std::unique_ptr<IndexView> v(new IndexView());
  std::string_view header;
  Status st = txn.GetDerived(ix::kHeader, &header);
  if (st.code() == Status::Code::kNotFound) {
    // No index yet: an empty one, at B = 0.
    static const uint32_t kZero[1] = {0};
    static const uint64_t kZero64[1] = {0};
    v->slug_off_ = v->name_off_ = v->ent_reg_off_ = v->ent_edge_off_ = v->ent_cf_off_ =
        v->ent_open_off_ = v->ent_rk_off_ = v->pc_off_ = v->pc_snap_off_ =
            std::span<const uint32_t>(kZero, 1);
    v->id_off_ = std::span<const uint64_t>(kZero64, 1);
    *out = std::move(v);
    return Status::Ok();
  }
  TWINLINE_RETURN_IF_ERROR(st);
  if (header.size() != sizeof(ix::Header)) return Damaged("its header has the wrong size");
  std::memcpy(&v->header_, header.data(), sizeof v->header_);
  const ix::Header& h = v->header_;
  if (std::memcmp(h.magic, ix::kMagic, sizeof h.magic) != 0) return Damaged("its header is not one");
  if (h.byte_order != 0x01020304) {
    return Status::Version("the temporal index was built on a machine of another byte order; "
                           "rebuild it with `twinline index --rebuild`");
  }
  if (h.format != ix::kIndexFormat) {
    return Status::Version("the temporal index is in format " + std::to_string(h.format) +
                           " (this build reads " + std::to_string(ix::kIndexFormat) +
                           "); rebuild it with `twinline index --rebuild`");
  }
  // The index must be of this log: the chain hash of its base.
  if (h.base_seq > txn.LastSeq()) return Damaged("it is ahead of the log");
  Digest chain{};
  TWINLINE_RETURN_IF_ERROR(txn.ChainHash(h.base_seq, &chain));
  if (std::memcmp(chain.data(), h.chain, sizeof h.chain) != 0) {
    return Damaged("it was built from another history than this log's (chain hash of seq " +
                   std::to_string(h.base_seq) + ")");
  }
  v->present_ = true;

  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kSlugOff, &v->slug_off_));
  TWINLINE_RETURN_IF_ERROR(v->Bytes(txn, ix::kSlugChr, &v->slug_chr_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kNameOff, &v->name_off_));
  TWINLINE_RETURN_IF_ERROR(v->Bytes(txn, ix::kNameChr, &v->name_chr_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntCountry, &v->ent_country_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntRegOff, &v->ent_reg_off_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntReg, &v->ent_reg_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEdge, &v->edges_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEdgeFact, &v->edge_facts_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntEdgeOff, &v->ent_edge_off_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntEdge, &v->ent_edge_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntCfOff, &v->ent_cf_off_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntCf, &v->ent_cf_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntOpenOff, &v->ent_open_off_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntOpen, &v->ent_open_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kRk, &v->rk_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kRkFact, &v->rk_facts_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kEntRkOff, &v->ent_rk_off_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kTk, &v->tk_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kTkFact, &v->tk_facts_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kCorr, &v->corr_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kPcOff, &v->pc_off_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kPcDay, &v->pc_day_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kPcCode, &v->pc_code_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kPcSnapOff, &v->pc_snap_off_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kPcSnap, &v->pc_snap_));
  TWINLINE_RETURN_IF_ERROR(v->Section(txn, ix::kIdOff, &v->id_off_));
  TWINLINE_RETURN_IF_ERROR(v->Bytes(txn, ix::kIdChr, &v->id_chr_));

  // Shape: every offset array and every id a key holds in range, so that
  // nothing read through them leaves its section.
  const size_t ne = h.entities, nn = h.names;
  bool ok = Offsets(v->slug_off_, ne, v->slug_chr_.size()) &&
            Offsets(v->name_off_, nn, v->name_chr_.size()) && v->ent_country_.size() == ne &&
            Offsets(v->ent_reg_off_, ne, v->ent_reg_.size()) && v->edges_.size() == h.edges &&
            v->edge_facts_.size() == h.edge_facts &&
            Offsets(v->ent_edge_off_, ne, v->ent_edge_.size()) &&
            Offsets(v->ent_cf_off_, ne, v->ent_cf_.size()) && v->ent_cf_.size() == h.counter_facts &&
            Offsets(v->ent_open_off_, ne, v->ent_open_.size()) && v->rk_.size() == h.report_keys &&
            v->rk_facts_.size() == h.report_facts && Offsets(v->ent_rk_off_, ne, v->rk_.size()) &&
            v->tk_.size() == h.trade_keys && v->tk_facts_.size() == h.trade_facts &&
            v->corr_.size() == h.corrections && Offsets(v->pc_off_, ne, v->pc_day_.size()) &&
            v->pc_code_.size() == v->pc_day_.size() && v->pc_day_.size() == h.breakpoints &&
            Offsets(v->pc_snap_off_, ne, v->pc_snap_.size()) && v->pc_snap_.size() == h.snapshots &&
            Offsets(v->id_off_, h.base_seq, v->id_chr_.size());
  for (uint32_t c : v->ent_country_) ok = ok && (c == ix::kNone || c < nn);
  for (const ix::Registration& r : v->ent_reg_) ok = ok && (r.country == ix::kNone || r.country < nn);
  uint32_t prev = 0;
  for (const ix::Edge& g : v->edges_) {
    ok = ok && g.a < ne && g.b < ne &&
         g.kind <= static_cast<uint8_t>(EdgeRow::Kind::kRoute) && g.fact_begin >= prev && g.fact_begin <= v->edge_facts_.size();
    prev = g.fact_begin;
  }
  for (uint32_t g : v->ent_edge_) ok = ok && g < v->edges_.size();
  prev = 0;
  for (const ix::ReportKey& k : v->rk_) {
    ok = ok && k.entity < ne && k.metric < nn && (k.scope == ix::kNone || k.scope < ne) &&
         k.fact_begin >= prev && k.fact_begin <= v->rk_facts_.size();
    prev = k.fact_begin;
  }
  prev = 0;
  for (const ix::TradeKey& k : v->tk_) {
    ok = ok && k.reporter < ne && k.partner < ne && k.period < nn && k.fact_begin >= prev &&
         k.fact_begin <= v->tk_facts_.size();
    prev = k.fact_begin;
  }
  // Name ids of facts and the measure of each breakpoint (an index into a
  // snapshot's rows): a flipped bit there must not lead outside a section.
  for (const ix::ReportFact& f : v->rk_facts_) ok = ok && f.date < nn;
  for (const ix::TradeFact& f : v->tk_facts_) ok = ok && f.currency < nn;
  for (uint16_t code : v->pc_code_) ok = ok && ix::CodeMeasure(code) < ix::kMeasures;
  // Per entity, one snapshot for every kSnapshotEvery breakpoints after the first.
  for (size_t e = 0; ok && e < ne; ++e) {
    const uint32_t points = v->pc_off_[e + 1] - v->pc_off_[e];
    const uint32_t snaps = v->pc_snap_off_[e + 1] - v->pc_snap_off_[e];
    ok = snaps == (points == 0 ? 0 : (points - 1) / ix::kSnapshotEvery);
  }
  if (!ok) return Damaged("its sections do not fit together");
  *out = std::move(v);
  return Status::Ok();
}

std::optional<uint32_t> IndexView::FindSlug(std::string_view slug) const {
  uint32_t lo = 0, hi = static_cast<uint32_t>(entities());
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (Slug(mid) < slug) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < entities() && Slug(lo) == slug) return lo;
  return std::nullopt;
}

std::optional<uint32_t> IndexView::FindName(std::string_view name) const {
  uint32_t lo = 0, hi = static_cast<uint32_t>(names());
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (Name(mid) < name) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < names() && Name(lo) == name) return lo;
  return std::nullopt;
}

std::string_view IndexView::EventId(uint64_t seq) const {
  if (seq == 0 || seq >= id_off_.size()) return {};
  return id_chr_.substr(id_off_[seq - 1], id_off_[seq] - id_off_[seq - 1]);
}

uint64_t IndexView::CorrectedAt(uint64_t seq) const {
  auto it = std::lower_bound(corr_.begin(), corr_.end(), seq,
                             [](const ix::Correction& c, uint64_t s) { return c.seq < s; });
  return it != corr_.end() && it->seq == seq ? it->corrected_at : ix::kNever;
}

}  // namespace twinline::projection_internal
