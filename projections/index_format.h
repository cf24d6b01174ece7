// Internal to projections/: the layout of the temporal index (docs/INDEX.md,
// "Layout"). Every section is an array of one of the structs below (or of
// u32/i64/bytes), stored as one value of the log's `index` table under its
// name and read where it lies. Changing anything here changes kIndexFormat.
#ifndef TWINLINE_PROJECTIONS_INDEX_FORMAT_H_
#define TWINLINE_PROJECTIONS_INDEX_FORMAT_H_

#include <cstdint>
#include <type_traits>

namespace twinline::projection_internal::index {

inline constexpr uint32_t kIndexFormat = 1;
inline constexpr char kMagic[16] = "twinline-index";
inline constexpr uint32_t kNone = UINT32_MAX;   // no entity, no name
inline constexpr uint64_t kNever = UINT64_MAX;  // never corrected

// Section names (keys of the `index` table).
inline constexpr const char* kHeader = "header";
inline constexpr const char* kSlugOff = "slug.off";
inline constexpr const char* kSlugChr = "slug.chr";
inline constexpr const char* kNameOff = "name.off";
inline constexpr const char* kNameChr = "name.chr";
inline constexpr const char* kEntCountry = "ent.country";
inline constexpr const char* kEntRegOff = "ent.reg.off";
inline constexpr const char* kEntReg = "ent.reg";
inline constexpr const char* kEdge = "edge";
inline constexpr const char* kEdgeFact = "edge.fact";
inline constexpr const char* kEntEdgeOff = "ent.edge.off";
inline constexpr const char* kEntEdge = "ent.edge";
inline constexpr const char* kEntCfOff = "ent.cf.off";
inline constexpr const char* kEntCf = "ent.cf";
inline constexpr const char* kEntOpenOff = "ent.open.off";
inline constexpr const char* kEntOpen = "ent.open";
inline constexpr const char* kRk = "rk";
inline constexpr const char* kRkFact = "rk.fact";
inline constexpr const char* kEntRkOff = "ent.rk.off";
inline constexpr const char* kTk = "tk";
inline constexpr const char* kTkFact = "tk.fact";
inline constexpr const char* kCorr = "corr";
inline constexpr const char* kPcOff = "pc.off";
inline constexpr const char* kPcDay = "pc.day";
inline constexpr const char* kPcCode = "pc.code";
inline constexpr const char* kPcSnapOff = "pc.snap.off";
inline constexpr const char* kPcSnap = "pc.snap";
inline constexpr const char* kIdOff = "id.off";
inline constexpr const char* kIdChr = "id.chr";

struct Header {
  char magic[16];          // kMagic
  uint32_t format;         // kIndexFormat
  uint32_t byte_order;     // 0x01020304 as written by the builder's machine
  uint64_t base_seq;       // B: the index holds the log's seqs 1..B
  uint8_t chain[32];       // the chain hash of seq B (zeros for B = 0)
  uint64_t entities, names, edges, edge_facts, counter_facts, report_keys, report_facts,
      trade_keys, trade_facts, corrections, breakpoints, snapshots;
};

// A fact's seq with its flags in the top 16 bits (seqs stay below 2^48).
inline constexpr uint64_t kSeqMask = (uint64_t{1} << 48) - 1;
inline constexpr uint64_t kCorrected = uint64_t{1} << 63;  // corrected (retracted/amended) by B
inline constexpr uint64_t kEstablish = uint64_t{1} << 62;  // edge facts: establish/open
inline constexpr int kCounterShift = 48;                   // counter facts: counter mask, 7 bits

// An edge fact; also a counter fact (flags: kCorrected, counter mask << kCounterShift)
// and an open fact (ent.open: a counter or report fact with e < l).
struct Fact {
  uint64_t seq;  // | flags
  int64_t e, l;
};

struct Edge {
  uint32_t a, b;        // entity ids (partnership a < b by slug; route from, to)
  uint8_t kind;         // EdgeRow::Kind
  uint8_t pad;
  uint16_t subkind;     // PartnershipKind or RouteMode ordinal
  uint32_t fact_begin;  // into edge.fact; the next edge's (or edge_facts) ends it
};

struct ReportKey {
  uint32_t entity;
  uint32_t metric;      // name id
  uint32_t scope;       // entity id or kNone
  uint32_t fact_begin;  // into rk.fact
};

struct ReportFact {
  uint64_t seq;  // | kCorrected
  int64_t e, l;
  double value;
  uint32_t date;  // name id of the report's EDTF valid time
  uint16_t qualifier;
  uint16_t pad;
};

struct TradeKey {
  uint32_t reporter, partner;  // entity ids
  uint32_t period;             // name id
  uint16_t flow;
  uint16_t pad;
  uint32_t fact_begin;  // into tk.fact
  uint32_t pad2;
};

struct TradeFact {
  uint64_t seq;  // | kCorrected
  int64_t e, l;
  double amount;
  uint32_t currency;  // name id
  uint32_t pad;
};

// A registration of an entity (one per version: the first registration,
// then each amendment that follows it), for its country at any K.
struct Registration {
  uint64_t seq;
  uint64_t amended_by;    // the amendment of this version, or kNever
  uint64_t retracted_by;  // the first retraction of it, or kNever
  uint32_t country;       // name id, or kNone (no country, or a replacement naming another slug)
  uint32_t pad;
};

// A corrected fact: its seq and the seq of the first retraction or
// amendment of it.
struct Correction {
  uint64_t seq, corrected_at;
};

// Prefix counts (docs/INDEX.md §3). A breakpoint's code: bits 0-3 the
// measure, then two bits per lane (0: 0, 1: +1, 3: -1) for lanes 0-3 at
// bits 4-11, bit 12 settled (+1).
inline constexpr int kMeasures = 10;  // partnerships, routes, 7 counters, reports seen
inline constexpr int kMeasurePartnerships = 0, kMeasureRoutes = 1, kMeasureCounter0 = 2,
                     kMeasureReports = 9;
inline constexpr int kLanes = 4;
inline constexpr int kSnapshotEvery = 32;
struct Snapshot {
  uint32_t v[kMeasures][kLanes];
  uint32_t settled;
  uint32_t pad;
};

inline constexpr uint16_t Code(int measure, const int (&lanes)[kLanes], bool settled) {
  uint16_t code = static_cast<uint16_t>(measure);
  for (int i = 0; i < kLanes; ++i) {
    code |= static_cast<uint16_t>((lanes[i] == 1 ? 1 : lanes[i] == -1 ? 3 : 0) << (4 + 2 * i));
  }
  return static_cast<uint16_t>(code | (settled ? 1 << 12 : 0));
}
inline constexpr int CodeMeasure(uint16_t code) { return code & 0xf; }
inline constexpr int CodeLane(uint16_t code, int lane) {
  const int bits = (code >> (4 + 2 * lane)) & 3;
  return bits == 1 ? 1 : bits == 3 ? -1 : 0;
}
inline constexpr bool CodeSettled(uint16_t code) { return (code >> 12) & 1; }

static_assert(sizeof(Header) % 8 == 0 && std::is_trivially_copyable_v<Header>);
static_assert(sizeof(Fact) == 24 && sizeof(Edge) == 16 && sizeof(ReportKey) == 16);
static_assert(sizeof(ReportFact) == 40 && sizeof(TradeKey) == 24 && sizeof(TradeFact) == 40);
static_assert(sizeof(Registration) == 32 && sizeof(Correction) == 16);
static_assert(sizeof(Snapshot) % 8 == 0);

}  // namespace twinline::projection_internal::index

#endif  // TWINLINE_PROJECTIONS_INDEX_FORMAT_H_
