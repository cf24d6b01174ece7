// twinline-gen: a deterministic synthetic history of city relations, written
// as NDJSON that `twinline import` accepts (docs/EVENTS.md), for benchmarks
// and for measuring import and replay at millions of events.
//
//   twinline-gen --events N [--seed S] [--cities 20000] [--countries 200] > history.ndjson
//
// Contract:
//  * Determinism. The output is a function of the arguments alone: the same
//    arguments give byte-identical output on any machine (own PRNG, integer
//    arithmetic only, no hash-ordered containers, no floating-point output).
//  * Bounded memory. Nothing generated is kept: every event is a pure
//    function of (seed, its line index) plus four counters, so 10^7 events
//    take the memory of one line.
//  * Validity. Every line imports: N lines in, N events appended, in ONE
//    batch and into a log that holds no other `g<seed>-` ids. Every event
//    has an explicit id `g<seed>-<line index>` and at least one source, and
//    no two lines state the same fact (identity, docs/EVENTS.md), so none is
//    a duplicate or a corroboration.
//
// Workload. First the entity registrations: `--countries` countries (ISO-like
// codes), 5 blocs, one organisation per 20 cities, `--cities` cities with a
// country and coordinates. Then facts, each kind drawn per line (about):
//   partnership_established  5%   pairs never repeat for one partnership kind;
//                                 each city has at most 2*50 partners per kind
//   partnership_ended        0.5% only of pairs established earlier in the file,
//                                 dated in a later year
//   route_opened / closed    4% / 1%  over a bounded set of routes; a closure
//                                 closes an opening of an earlier line, later
//   trade_volume_reported   35%  a bounded key space: up to 2,000 reporter
//                                 cities x 5 partners x 1950-2025 x 3 flows,
//                                 half the reports on a hot tenth of it, so
//                                 keys are revised again and again
//   count_reported           3%
//   retraction / amendment   1%  of the event 1009 lines earlier (each event
//                                 is corrected at most once; an amendment
//                                 corrects the date of a fact it can re-derive)
//   forum_held, agreement_signed, office_opened, award_granted,
//   initiative_launched, organisation_founded: the rest (~50%)
// Valid dates are spread over 1950-2025 and emitted out of date order (as
// backfilled history is): about 4% are years ("1987"), 5% months
// ("1994-05"), 1% uncertain years ("2001?"), 1% open starts ("../1999").
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/edtf.h"

namespace twinline::bench {
namespace {

// ---------------------------------------------------------------------------
// Randomness: SplitMix64 streams keyed by (seed, what, index).

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// What a stream is for; part of its key, so streams never overlap.
enum Salt : uint64_t {
  kSaltKind = 1,
  kSaltEntity,
  kSaltFact,
  kSaltFallback,
  kSaltEstablish,
  kSaltEnd,
  kSaltOpen,
  kSaltClose,
  kSaltSources,
  kSaltCorrection,
  kSaltRegistration,
  kSaltCountry,
};

class Rng {
 public:
  Rng(uint64_t seed, Salt salt, uint64_t index) : state_(Mix(Mix(seed) ^ Mix(salt * 0x100000001b3ULL) ^ index)) {}
  uint64_t Next() { return state_ = Mix(state_); }
  // Uniform in [0, n); the modulo bias is irrelevant here.
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  int64_t Between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  bool Percent(unsigned p) { return Below(100) < p; }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------
// Output: one buffer, written to stdout in large blocks.

class Out {
 public:
  ~Out() { Flush(); }
  void Raw(std::string_view s) { buf_.append(s); }
  void Int(int64_t v) { buf_.append(std::to_string(v)); }
  // A JSON string; generated text is ASCII letters, digits and punctuation.
  void Str(std::string_view s) {
    buf_.push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') buf_.push_back('\\');
      buf_.push_back(c);
    }
    buf_.push_back('"');
  }
  void Key(std::string_view key) {
    buf_.push_back(',');
    Str(key);
    buf_.push_back(':');
  }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    Str(value);
  }
  void EndLine() {
    buf_.push_back('\n');
    if (buf_.size() >= (size_t{1} << 20)) Flush();
  }
  void Flush() {
    if (buf_.empty() || failed_) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size()) failed_ = true;
    buf_.clear();
  }
  bool failed() { return failed_ || std::fflush(stdout) != 0; }

 private:
  std::string buf_;
  bool failed_ = false;
};

// ---------------------------------------------------------------------------
// The world: entities and how facts name them.

struct Config {
  uint64_t events = 0;
  uint64_t seed = 1;
  uint64_t cities = 20000;
  uint64_t countries = 200;
};

constexpr uint64_t kBlocs = 5;
constexpr int kFirstYear = 1950, kLastYear = 2025;
constexpr uint64_t kMaxTradeReporters = 2000;
constexpr uint64_t kTradePartners = 5;
constexpr uint64_t kPartnersPerSide = 50;      // each city: up to 2 x 50 partners per kind
constexpr uint64_t kPartnershipKinds = 6;
constexpr uint64_t kRoutesPerCity = 3;         // the bounded set of routes: 3 per city
constexpr uint64_t kCorrectionDistance = 1009; // a correction targets the line this far back

constexpr const char* kPartnershipNames[kPartnershipKinds] = {
    "sister_city", "friendship_city", "friendly_cooperation", "friendship_village", "port_cooperation", "other"};
constexpr const char* kModes[] = {"rail", "air_cargo", "air_passenger", "sea", "road"};
constexpr const char* kFlows[] = {"total", "imports", "exports"};
constexpr const char* kCurrencies[] = {"USD", "EUR", "CNY", "JPY", "GBP", "INR", "BRL", "KRW"};
constexpr const char* kQualifiers[] = {"exact", "approximately", "nearly", "more_than", "at_least"};
constexpr const char* kMetrics[] = {"partner_cities", "partner_countries", "routes", "events_held", "editions"};
constexpr const char* kAgreements[] = {"memorandum", "cooperation", "logistics", "treaty", "other"};
constexpr const char* kLanguages[] = {"en", "de", "fr", "zh", "es", "pt", "ja"};
constexpr const char* kSyllables[] = {"ka", "lo", "mer", "an", "ri", "sto", "vel", "den", "bra", "ni",
                                      "tor", "ush", "el", "qui", "sa", "mon", "ber", "gal", "zo", "fen",
                                      "ha", "dor", "lin", "ta", "pe", "ru", "vik", "os", "ma", "wen"};
constexpr const char* kPublishers[] = {"Twin Towns Gazette", "Municipal Bulletin", "City Diplomacy Review",
                                       "Harbour Times", "Trade Ledger", "Regional Herald", "Friendship Wire",
                                       "Civic Record", "Global Cities Digest", "Provincial Courier"};

template <typename T, size_t N>
constexpr uint64_t Count(const T (&)[N]) {
  return N;
}

// A pronounceable name of 2-3 syllables, capitalised.
std::string MakeName(Rng& rng) {
  std::string name;
  const int syllables = 2 + static_cast<int>(rng.Below(2));
  for (int s = 0; s < syllables; ++s) name += kSyllables[rng.Below(Count(kSyllables))];
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

// A valid date in [y0, y1] and the last year it can fall in.
struct Date {
  std::string edtf;
  int year = 0;  // for ordering facts that must come later (ends, closures)
};

std::string Pad(int64_t v, int width) {
  std::string s = std::to_string(v);
  return std::string(s.size() < static_cast<size_t>(width) ? width - s.size() : 0, '0') + s;
}

std::string Day(int64_t year, unsigned month, unsigned day) {
  return Pad(year, 4) + "-" + Pad(month, 2) + "-" + Pad(day, 2);
}

// `open_start` allows "../YYYY"; dates that must fall after another one
// (ends, closures) are made without it.
Date MakeDate(Rng& rng, int y0, int y1, bool open_start = true) {
  Date d;
  d.year = static_cast<int>(rng.Between(y0, y1));
  const auto month = static_cast<unsigned>(rng.Between(1, 12));
  const auto day = static_cast<unsigned>(rng.Between(1, DaysInMonth(d.year, month)));
  const uint64_t p = rng.Below(1000);
  if (p < 40) {
    d.edtf = Pad(d.year, 4);  // a year
  } else if (p < 90) {
    d.edtf = Pad(d.year, 4) + "-" + Pad(month, 2);  // a month
  } else if (p < 100) {
    d.edtf = Pad(d.year, 4) + "?";  // uncertain
  } else if (p < 110 && open_start) {
    d.edtf = "../" + Pad(d.year, 4);  // open start: no later than that year
  } else {
    d.edtf = Day(d.year, month, day);
  }
  return d;
}

// A full day in [y0, y1] (publication dates).
std::string MakeDay(Rng& rng, int y0, int y1) {
  const int64_t first = DaysFromCivil(y0, 1, 1), last = DaysFromCivil(y1, 12, 31);
  return FormatDay(rng.Between(first, last));
}

enum class Kind {
  kEstablish,
  kEnd,
  kOpen,
  kClose,
  kTrade,
  kCount,
  kCorrection,
  kForum,
  kAgreement,
  kOffice,
  kAward,
  kInitiative,
  kOrganisation,
};

constexpr Kind kOtherKinds[] = {Kind::kForum, Kind::kForum, Kind::kForum, Kind::kAgreement, Kind::kAgreement,
                                Kind::kOffice, Kind::kAward, Kind::kInitiative, Kind::kInitiative,
                                Kind::kOrganisation};

// Facts whose content is a pure function of their line (no counters), so an
// amendment can re-derive them.
bool IsStateless(Kind k) {
  return k != Kind::kEstablish && k != Kind::kEnd && k != Kind::kOpen && k != Kind::kClose &&
         k != Kind::kCorrection;
}

class Generator {
 public:
  Generator(const Config& config, Out& out)
      : c_(config),
        out_(out),
        orgs_(std::max<uint64_t>(10, config.cities / 20)),
        registrations_(config.countries + kBlocs + orgs_ + config.cities),
        side_partners_(std::min<uint64_t>(kPartnersPerSide, config.cities >= 6 ? config.cities / 2 - 2 : 0)),
        offset_step_(side_partners_ == 0 ? 0 : std::max<uint64_t>(1, (config.cities / 2 - 2) / side_partners_)),
        routes_(config.cities * kRoutesPerCity),
        reporters_(std::min(kMaxTradeReporters, config.cities)) {
    // A bijection on city indexes, so that structure in the pair and route
    // schemes does not show as neighbouring slugs.
    perm_mul_ = 1 + Mix(c_.seed) % c_.cities;
    while (Gcd(perm_mul_, c_.cities) != 1) ++perm_mul_;
    perm_add_ = Mix(c_.seed + 1) % c_.cities;
  }

  uint64_t registrations() const { return registrations_; }

  void Run() {
    for (uint64_t i = 0; i < c_.events; ++i) {
      if (i < registrations_) {
        Registration(i);
      } else {
        Fact(i);
      }
      out_.EndLine();
    }
  }

 private:
  static uint64_t Gcd(uint64_t a, uint64_t b) {
    while (b != 0) {
      const uint64_t t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  // --- Entities -------------------------------------------------------------

  uint64_t City(uint64_t k) const { return (k % c_.cities * perm_mul_ + perm_add_) % c_.cities; }

  // Country k's code: a bijection on the 676 two-letter codes.
  static std::string Code(uint64_t k) {
    const uint64_t m = (k * 263 + 17) % 676;
    return {static_cast<char>('A' + m / 26), static_cast<char>('A' + m % 26)};
  }
  static std::string Lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    return s;
  }

  std::string CountrySlug(uint64_t k) const { return "ct-" + Lower(Code(k)); }
  static std::string BlocSlug(uint64_t b) { return "bloc-" + std::to_string(b + 1); }
  static std::string OrgSlug(uint64_t o) { return "org-" + std::to_string(o + 1); }
  std::string CityName(uint64_t c) const {
    Rng rng(c_.seed, kSaltEntity, c_.countries + kBlocs + orgs_ + c);
    return MakeName(rng);
  }
  std::string CitySlug(uint64_t c) const { return Lower(CityName(c)) + "-" + std::to_string(c + 1); }
  uint64_t CityCountry(uint64_t c) const { return Rng(c_.seed, kSaltCountry, c).Below(c_.countries); }
  std::string Org(Rng& rng) const { return OrgSlug(rng.Below(orgs_)); }
  std::string AnyCity(Rng& rng) const { return CitySlug(rng.Below(c_.cities)); }

  void Begin(uint64_t i, std::string_view kind, std::string_view date) {
    out_.Raw("{\"id\":");
    out_.Str("g" + std::to_string(c_.seed) + "-" + std::to_string(i));
    out_.Field("kind", kind);
    if (!date.empty()) out_.Field("date", date);
  }

  // Ends the line's object with its sources. Sources are published after
  // `year` (a fact is reported once it happened), or in 2025 at the latest.
  void Sources(uint64_t i, int year) {
    Rng rng(c_.seed, kSaltSources, i);
    const int count = rng.Percent(5) ? 2 : 1;
    out_.Raw(",\"sources\":[");
    for (int s = 0; s < count; ++s) {
      if (s > 0) out_.Raw(",");
      const char* publisher = kPublishers[rng.Below(Count(kPublishers))];
      out_.Raw("{\"title\":");
      out_.Str(std::string(publisher) + " no. " + std::to_string(i) + (s > 0 ? " (follow-up)" : ""));
      out_.Field("publisher", publisher);
      out_.Field("published", MakeDay(rng, std::clamp(year + 1, kFirstYear, kLastYear), kLastYear));
      out_.Field("language", kLanguages[rng.Below(Count(kLanguages))]);
      if (rng.Percent(30)) out_.Field("url", "https://example.org/twinline-gen/" + std::to_string(i) + "/" + std::to_string(s));
      if (rng.Percent(20)) out_.Field("quote", "as reported in item " + std::to_string(i));
      out_.Raw("}");
    }
    out_.Raw("]}");
  }

  void Names(const std::string& name, std::string_view lang) {
    out_.Key("names");
    out_.Raw("[{\"text\":");
    out_.Str(name);
    out_.Field("lang", lang);
    out_.Raw("}]");
  }

  void Registration(uint64_t i) {
    Rng rng(c_.seed, kSaltRegistration, i);
    const std::string date = Day(kFirstYear, 1, 1 + static_cast<unsigned>(rng.Below(28)));
    uint64_t k = i;
    if (k < c_.countries) {
      Begin(i, "entity_registered", date);
      out_.Field("entity", CountrySlug(k));
      out_.Field("type", "country");
      Names(MakeName(rng) + "ia", "en");
      out_.Field("country", Code(k));
    } else if ((k -= c_.countries) < kBlocs) {
      Begin(i, "entity_registered", date);
      out_.Field("entity", BlocSlug(k));
      out_.Field("type", "bloc");
      Names(MakeName(rng) + " Union", "en");
    } else if ((k -= kBlocs) < orgs_) {
      Begin(i, "entity_registered", date);
      out_.Field("entity", OrgSlug(k));
      out_.Field("type", "organisation");
      Names(MakeName(rng) + " Friendship Association " + std::to_string(k + 1), "en");
      out_.Field("country", Code(rng.Below(c_.countries)));
    } else {
      k -= orgs_;
      const std::string name = CityName(k);
      Begin(i, "entity_registered", date);
      out_.Field("entity", CitySlug(k));
      out_.Field("type", "city");
      Names(name, kLanguages[k % Count(kLanguages)]);
      out_.Field("country", Code(CityCountry(k)));
      // Coordinates in ten-thousandths of a degree, printed from integers.
      const int64_t lat = rng.Between(-550000, 700000), lon = rng.Between(-1800000, 1800000);
      out_.Key("location");
      out_.Raw("{\"lat\":" + Degrees(lat) + ",\"lon\":" + Degrees(lon) + "}");
    }
    Sources(i, kFirstYear);
  }

  static std::string Degrees(int64_t tenthousandths) {
    const int64_t a = tenthousandths < 0 ? -tenthousandths : tenthousandths;
    return (tenthousandths < 0 ? "-" : "") + std::to_string(a / 10000) + "." + Pad(a % 10000, 4);
  }

  // --- Facts ----------------------------------------------------------------

  Kind BaseKind(uint64_t i) const {
    const uint64_t u = Rng(c_.seed, kSaltKind, i).Next() % 10000;
    if (u < 500) return Kind::kEstablish;
    if (u < 550) return Kind::kEnd;
    if (u < 950) return Kind::kOpen;
    if (u < 1050) return Kind::kClose;
    if (u < 4550) return Kind::kTrade;
    if (u < 4850) return Kind::kCount;
    if (u < 4950) return Kind::kCorrection;
    return kOtherKinds[Rng(c_.seed, kSaltFallback, i).Below(Count(kOtherKinds))];
  }

  // The kind written when the drawn one cannot be (no pair left, nothing to end).
  Kind Fallback(uint64_t i) const { return kOtherKinds[Rng(c_.seed, kSaltFallback, i).Below(Count(kOtherKinds))]; }

  void Fact(uint64_t i) {
    const Kind kind = BaseKind(i);
    switch (kind) {
      case Kind::kEstablish:
        if (Establish(i)) return;
        break;
      case Kind::kEnd:
        if (End(i)) return;
        break;
      case Kind::kOpen:
        Open(i);
        return;
      case Kind::kClose:
        if (Close(i)) return;
        break;
      case Kind::kCorrection:
        if (Correction(i)) return;
        break;
      default:
        Stateless(i, kind, /*variant=*/0, /*as_replacement=*/false);
        return;
    }
    Stateless(i, Fallback(i), 0, false);
  }

  // Partnership p: the p-th unordered pair of cities of one partnership
  // kind. Pair (x, x + offset_k) with offsets below cities/2 never repeats.
  struct Pair {
    std::string a, b;
    const char* kind;
    Date date;
  };
  bool PairOf(uint64_t p, Pair* pair) const {
    const uint64_t per_kind = c_.cities * side_partners_;
    if (per_kind == 0 || p / per_kind >= kPartnershipKinds) return false;
    const uint64_t within = p % per_kind, x = within % c_.cities, k = within / c_.cities;
    pair->a = CitySlug(City(x));
    pair->b = CitySlug(City((x + 1 + k * offset_step_) % c_.cities));
    pair->kind = kPartnershipNames[p / per_kind];
    Rng rng(c_.seed, kSaltEstablish, p);
    pair->date = MakeDate(rng, kFirstYear, kLastYear - 1);
    return true;
  }

  bool Establish(uint64_t i) {
    Pair pair;
    if (!PairOf(established_, &pair)) return false;
    ++established_;
    Begin(i, "partnership_established", pair.date.edtf);
    out_.Field("a", pair.a);
    out_.Field("b", pair.b);
    out_.Field("partnership", pair.kind);
    Sources(i, pair.date.year);
    return true;
  }

  // End q ends partnership 10q + r (r < 10): each at most once, if already
  // established, in a later year.
  bool End(uint64_t i) {
    const uint64_t p = 10 * ended_ + Rng(c_.seed, kSaltEnd, ended_).Below(10);
    Pair pair;
    if (p >= established_ || !PairOf(p, &pair)) return false;
    Rng rng(c_.seed, kSaltEnd, ended_ + (uint64_t{1} << 40));
    ++ended_;
    const Date date = MakeDate(rng, pair.date.year + 1, kLastYear, /*open_start=*/false);
    Begin(i, "partnership_ended", date.edtf);
    out_.Field("a", pair.a);
    out_.Field("b", pair.b);
    out_.Field("partnership", pair.kind);
    if (rng.Percent(30)) out_.Field("detail", "ended by council vote");
    Sources(i, date.year);
    return true;
  }

  // Opening o runs route r (bounded set); its name carries o so that every
  // opening is a distinct fact.
  struct Opening {
    std::string from, to, name;
    const char* mode;
    std::string operator_org;
    Date date;
  };
  Opening OpeningOf(uint64_t o) const {
    Rng rng(c_.seed, kSaltOpen, o);
    const uint64_t r = rng.Below(routes_);
    const uint64_t x = r % c_.cities, j = r / c_.cities;
    Opening op;
    op.from = CitySlug(City(x));
    op.to = CitySlug(City(x + 1 + (j * 7919 + Mix(x) % 1000) % (c_.cities - 1)));
    op.mode = kModes[(x + j) % Count(kModes)];
    op.name = "route " + std::to_string(r) + " service " + std::to_string(o);
    if (rng.Percent(40)) op.operator_org = Org(rng);
    op.date = MakeDate(rng, kFirstYear, kLastYear - 1);
    return op;
  }

  void WriteRoute(uint64_t i, std::string_view kind, const Opening& op, const Date& date) {
    Begin(i, kind, date.edtf);
    out_.Field("from", op.from);
    out_.Field("to", op.to);
    out_.Field("mode", op.mode);
    if (!op.operator_org.empty()) out_.Field("operator", op.operator_org);
    out_.Field("name", op.name);
    Sources(i, date.year);
  }

  void Open(uint64_t i) {
    const Opening op = OpeningOf(opened_++);
    WriteRoute(i, "route_opened", op, op.date);
  }

  // Closure c closes opening 4c + r (r < 4), once, in a later year.
  bool Close(uint64_t i) {
    const uint64_t o = 4 * closed_ + Rng(c_.seed, kSaltClose, closed_).Below(4);
    if (o >= opened_) return false;
    Rng rng(c_.seed, kSaltClose, closed_ + (uint64_t{1} << 40));
    ++closed_;
    const Opening op = OpeningOf(o);
    WriteRoute(i, "route_closed", op, MakeDate(rng, op.date.year + 1, kLastYear, /*open_start=*/false));
    return true;
  }

  // A retraction or an amendment of line t = i - 1009, when t is a fact that
  // is not itself a correction; t is corrected by no other line.
  bool Correction(uint64_t i) {
    if (i < registrations_ + kCorrectionDistance) return false;
    const uint64_t t = i - kCorrectionDistance;
    const Kind target = BaseKind(t);
    if (target == Kind::kCorrection) return false;
    Rng rng(c_.seed, kSaltCorrection, i);
    const std::string target_id = "g" + std::to_string(c_.seed) + "-" + std::to_string(t);
    if (IsStateless(target) && rng.Percent(40)) {
      // Amendment: the same fact with a corrected date (the envelope date
      // is the replacement's and is left out).
      Begin(i, "amendment", "");
      out_.Field("target", target_id);
      out_.Field("reason", "date corrected");
      out_.Key("replacement");
      const int year = Stateless(t, target, /*variant=*/1, /*as_replacement=*/true);
      Sources(i, year);
      return true;
    }
    const Date date = MakeDate(rng, kFirstYear, kLastYear);
    Begin(i, "retraction", date.edtf);
    out_.Field("target", target_id);
    out_.Field("reason", rng.Percent(50) ? "duplicate of another report" : "not supported by the source");
    Sources(i, date.year);
    return true;
  }

  // A fact whose content depends on its line alone. variant 1 is the same
  // fact with another date (an amendment's replacement). As a replacement
  // it is written as {"kind":...,"date":...,fields} with no id or sources;
  // returns the year of its date.
  int Stateless(uint64_t i, Kind kind, int variant, bool as_replacement) {
    Rng rng(c_.seed, kSaltFact, i);
    Rng dates(c_.seed, kSaltFact, i ^ (static_cast<uint64_t>(variant) << 48) ^ (uint64_t{1} << 47));
    const char* name = nullptr;
    switch (kind) {
      case Kind::kTrade: name = "trade_volume_reported"; break;
      case Kind::kCount: name = "count_reported"; break;
      case Kind::kForum: name = "forum_held"; break;
      case Kind::kAgreement: name = "agreement_signed"; break;
      case Kind::kOffice: name = "office_opened"; break;
      case Kind::kAward: name = "award_granted"; break;
      case Kind::kInitiative: name = "initiative_launched"; break;
      case Kind::kOrganisation: name = "organisation_founded"; break;
      default: name = "forum_held"; kind = Kind::kForum; break;  // unreachable: callers pass stateless kinds
    }
    Date date;
    std::string period;
    if (kind == Kind::kTrade) {
      // The key: hot half of the reports on a tenth of the reporters and
      // the last decade.
      const bool hot = rng.Percent(50);
      const uint64_t reporter = hot ? rng.Below(std::max<uint64_t>(1, reporters_ / 10)) : rng.Below(reporters_);
      const int year = static_cast<int>(hot ? rng.Between(kLastYear - 9, kLastYear) : rng.Between(kFirstYear, kLastYear));
      const uint64_t partner = rng.Below(kTradePartners);
      period = Pad(year, 4);
      date = MakeDate(dates, std::min(year + 1, kLastYear), std::min(year + 1, kLastYear));
      if (as_replacement) {
        out_.Raw("{\"kind\":");
        out_.Str(name);
        out_.Field("date", date.edtf);
      } else {
        Begin(i, name, date.edtf);
      }
      out_.Field("reporter", CitySlug(City(reporter)));
      out_.Field("partner", partner + 1 == kTradePartners ? BlocSlug(reporter % kBlocs)
                                                          : CountrySlug((reporter * 31 + partner * 17) % c_.countries));
      out_.Field("period", period);
      // Distinct for every line, so every report (revision) is a new fact.
      out_.Key("amount");
      out_.Int(static_cast<int64_t>((1 + rng.Below(50000)) * 1'000'000'000ULL + i));
      out_.Field("currency", kCurrencies[reporter % Count(kCurrencies)]);
      out_.Field("flow", kFlows[rng.Below(Count(kFlows))]);
    } else {
      date = MakeDate(dates, kFirstYear, kLastYear);
      if (as_replacement) {
        out_.Raw("{\"kind\":");
        out_.Str(name);
        out_.Field("date", date.edtf);
      } else {
        Begin(i, name, date.edtf);
      }
      const std::string n = std::to_string(i);
      switch (kind) {
        case Kind::kCount:
          out_.Field("entity", AnyCity(rng));
          out_.Field("metric", kMetrics[rng.Below(Count(kMetrics))]);
          out_.Key("value");
          out_.Int(static_cast<int64_t>(rng.Below(500)));
          out_.Field("qualifier", kQualifiers[rng.Below(Count(kQualifiers))]);
          if (rng.Percent(20)) out_.Field("scope", BlocSlug(rng.Below(kBlocs)));
          out_.Field("wording", "figure " + n + " as published");
          break;
        case Kind::kForum: {
          const std::string host = AnyCity(rng);
          out_.Field("host", host);
          out_.Field("name", "Friendship Cities Forum " + n);
          if (rng.Percent(50)) {
            out_.Key("edition");
            out_.Int(static_cast<int64_t>(1 + rng.Below(30)));
          }
          if (rng.Percent(30)) out_.Field("venue", host);
          if (rng.Percent(20)) out_.Field("organiser", Org(rng));
          if (rng.Percent(20)) {
            out_.Key("attendance");
            out_.Raw("[{\"label\":\"guests\",\"value\":" + std::to_string(10 + rng.Below(2000)) +
                     ",\"qualifier\":\"nearly\"}]");
          }
          break;
        }
        case Kind::kAgreement: {
          out_.Key("parties");
          const uint64_t a = rng.Below(c_.cities), b = (a + 1 + rng.Below(c_.cities - 1)) % c_.cities;
          out_.Raw("[");
          out_.Str(CitySlug(a));
          out_.Raw(",");
          out_.Str(CitySlug(b));
          if (rng.Percent(20)) {
            out_.Raw(",");
            out_.Str(Org(rng));
          }
          out_.Raw("]");
          out_.Field("title", "Memorandum of cooperation " + n);
          out_.Field("agreement", kAgreements[rng.Below(Count(kAgreements))]);
          break;
        }
        case Kind::kOffice:
          out_.Field("owner", Org(rng));
          out_.Field("host", AnyCity(rng));
          out_.Field("name", "Liaison office " + n);
          break;
        case Kind::kAward:
          out_.Field("recipient", AnyCity(rng));
          out_.Field("grantor", Org(rng));
          out_.Field("name", "Friendship Cities Award " + n);
          break;
        case Kind::kInitiative: {
          out_.Field("owner", AnyCity(rng));
          out_.Field("name", "Cooperation initiative " + n);
          const uint64_t partners = rng.Below(3);
          if (partners > 0) {
            out_.Key("partners");
            out_.Raw("[");
            for (uint64_t p = 0; p < partners; ++p) {
              if (p > 0) out_.Raw(",");
              out_.Str(AnyCity(rng));
            }
            out_.Raw("]");
          }
          break;
        }
        case Kind::kOrganisation:
          out_.Field("organisation", Org(rng));
          out_.Field("founder", AnyCity(rng));
          out_.Field("purpose", "exchange programme " + n);
          break;
        default:
          break;
      }
    }
    if (as_replacement) {
      out_.Raw("}");
    } else {
      Sources(i, date.year);
    }
    return date.year;
  }

  const Config c_;
  Out& out_;
  const uint64_t orgs_;
  const uint64_t registrations_;
  const uint64_t side_partners_;  // partners per city on one side of a pair, per kind
  const uint64_t offset_step_;
  const uint64_t routes_;
  const uint64_t reporters_;
  uint64_t perm_mul_ = 1, perm_add_ = 0;
  // The only state: how many of each stateful kind have been written.
  uint64_t established_ = 0, ended_ = 0, opened_ = 0, closed_ = 0;
};

}  // namespace
}  // namespace twinline::bench

int main(int argc, char** argv) {
  using twinline::bench::Config;
  CLI::App app{"twinline-gen: a deterministic synthetic city-relations history as NDJSON on stdout",
               "twinline-gen"};
  Config config;
  app.add_option("--events", config.events, "number of events (lines) to write, registrations included")
      ->required();
  app.add_option("--seed", config.seed, "seed; the same arguments always give the same output")
      ->capture_default_str();
  app.add_option("--cities", config.cities, "number of cities")->check(CLI::Range(2, 10'000'000))->capture_default_str();
  app.add_option("--countries", config.countries, "number of countries (at most 676 two-letter codes)")
      ->check(CLI::Range(1, 676))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  twinline::bench::Out out;
  twinline::bench::Generator generator(config, out);
  if (config.events < generator.registrations()) {
    std::fprintf(stderr,
                 "twinline-gen: --events %llu is fewer than the %llu entity registrations; "
                 "give more events or fewer --cities/--countries\n",
                 static_cast<unsigned long long>(config.events),
                 static_cast<unsigned long long>(generator.registrations()));
    return 1;
  }
  if (config.events >= 1'000'000'000ULL) {
    std::fprintf(stderr, "twinline-gen: --events must be below 10^9 (trade amounts embed the line index)\n");
    return 1;
  }
  generator.Run();
  out.Flush();
  if (out.failed()) {
    std::fprintf(stderr, "twinline-gen: writing to stdout failed: %s\n", std::strerror(errno));
    return 1;
  }
  return 0;
}
