// The JSON form of events (docs/EVENTS.md). Layout of this file:
//
//  1. Names: kind and enumeration names are derived from the schema itself
//     (camelCase member -> snake_case JSON name), so they can never drift
//     from twinline.capnp and a new enumerant is readable and writable as
//     soon as the schema grows.
//  2. ObjectReader: typed, checked access to the members of one JSON object.
//     Every error it returns names the member; callers nest paths with
//     Status::WithField ("sources[0]" + "published").
//  3. Per-kind payload decoders, written once and used both for the event
//     itself and for an amendment's `replacement`.
//  4. The envelope decoder, the text parser and the encoder.
//
// Absent optional values are left unset in the builder (never set to ""),
// so the canonical encoding of a fact, and with it its fingerprint, does not
// depend on whether a writer omitted a field or wrote it empty.
#include "events/json_codec.h"

#include <capnp/schema.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/edtf.h"
#include "core/names.h"
#include "core/schema_names.h"

namespace twinline {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using Which = schema::Payload::Which;

constexpr int kMaxNestingDepth = 32;
constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxQuoteChars = 1000;
constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

Status Invalid(std::string message) { return Status::InvalidArgument(std::move(message)); }

// ---------------------------------------------------------------------------
// 1. Names


std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// JSON names of the Payload union members, indexed by discriminant.
const std::vector<std::string>& KindNames() {
  static const std::vector<std::string>* const names = [] {
    auto fields = capnp::Schema::from<schema::Payload>().getUnionFields();
    auto* v = new std::vector<std::string>(fields.size());
    for (auto field : fields) {
      (*v)[field.getProto().getDiscriminantValue()] = SnakeCase(field.getProto().getName().cStr());
    }
    return v;
  }();
  return *names;
}

// JSON names of enum E's enumerants, indexed by value (enumerants are listed
// in ordinal order, and an enumerant's value is its ordinal).
template <typename E>
const std::vector<std::string>& EnumNames() {
  static const std::vector<std::string>* const names = [] {
    auto* v = new std::vector<std::string>;
    for (auto e : capnp::Schema::from<E>().getEnumerants()) v->push_back(SnakeCase(e.getProto().getName().cStr()));
    return v;
  }();
  return *names;
}

template <typename E>
ojson EnumJson(E value) {
  const auto& names = EnumNames<E>();
  auto index = static_cast<size_t>(value);
  // A value from a newer schema than this binary's: keep the number.
  if (index >= names.size()) return ojson(index);
  return ojson(names[index]);
}

// Kind-specific members in the order docs/EVENTS.md lists them (which is also
// the order the encoder writes them).
std::span<const std::string_view> KindFields(Which kind) {
  static constexpr std::string_view kEntityRegistered[] = {"entity", "type", "names", "country", "location", "parent"};
  static constexpr std::string_view kPartnership[] = {"a", "b", "partnership", "detail"};
  static constexpr std::string_view kAgreement[] = {"parties", "title", "agreement"};
  static constexpr std::string_view kForum[] = {"host", "name", "edition", "venue", "organiser", "attendance"};
  static constexpr std::string_view kRoute[] = {"from", "to", "mode", "operator", "name"};
  static constexpr std::string_view kOffice[] = {"owner", "host", "name"};
  static constexpr std::string_view kOrganisation[] = {"organisation", "founder", "purpose"};
  static constexpr std::string_view kAward[] = {"recipient", "grantor", "name"};
  static constexpr std::string_view kTrade[] = {"reporter", "partner", "period", "amount", "currency", "flow"};
  static constexpr std::string_view kCount[] = {"entity", "metric", "value", "qualifier", "scope", "wording"};
  static constexpr std::string_view kInitiative[] = {"owner", "name", "partners"};
  static constexpr std::string_view kRetraction[] = {"target", "reason"};
  static constexpr std::string_view kAmendment[] = {"target", "reason", "replacement"};
  static constexpr std::string_view kCorroboration[] = {"target"};
  switch (kind) {
    case Which::ENTITY_REGISTERED: return kEntityRegistered;
    case Which::PARTNERSHIP_ESTABLISHED:
    case Which::PARTNERSHIP_ENDED: return kPartnership;
    case Which::AGREEMENT_SIGNED: return kAgreement;
    case Which::FORUM_HELD: return kForum;
    case Which::ROUTE_OPENED:
    case Which::ROUTE_CLOSED: return kRoute;
    case Which::OFFICE_OPENED: return kOffice;
    case Which::ORGANISATION_FOUNDED: return kOrganisation;
    case Which::AWARD_GRANTED: return kAward;
    case Which::TRADE_VOLUME_REPORTED: return kTrade;
    case Which::COUNT_REPORTED: return kCount;
    case Which::INITIATIVE_LAUNCHED: return kInitiative;
    case Which::RETRACTION: return kRetraction;
    case Which::AMENDMENT: return kAmendment;
    case Which::CORROBORATION: return kCorroboration;
  }
  return {};
}

// Envelope members of an event; a replacement has only `kind` and `date`.
constexpr std::string_view kEventEnvelope[] = {"seq", "recorded_at", "id", "kind", "date", "sources", "note"};
constexpr std::string_view kReplacementEnvelope[] = {"kind", "date"};

bool IsCorrectionKind(Which kind) {
  return kind == Which::RETRACTION || kind == Which::AMENDMENT || kind == Which::CORROBORATION;
}

// ---------------------------------------------------------------------------
// Syntax checks of single values.

std::string_view TrimAscii(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

bool IsAsciiAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAsciiLowerOrDigit(char c) { return (c >= 'a' && c <= 'z') || IsAsciiDigit(c); }

// `n` capital letters: ISO 3166-1 alpha-2 (n=2), ISO 4217 (n=3).
bool IsCapitals(std::string_view s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), IsAsciiUpper);
}

// 1-64 of [A-Za-z0-9._:-].
bool IsEventId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

// The shape of a BCP 47 tag as twinline uses it: a 2-3 letter primary
// language subtag, then any number of 2-8 alphanumeric subtags ("zh-Hant",
// "pt-BR", "sr-Latn-RS"). The registry itself is not consulted.
bool IsLanguageTag(std::string_view s) {
  size_t pos = 0;
  bool first = true;
  while (true) {
    size_t end = s.find('-', pos);
    std::string_view sub = s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (first) {
      if (sub.size() < 2 || sub.size() > 3 || !std::all_of(sub.begin(), sub.end(), IsAsciiAlpha)) return false;
    } else if (sub.size() < 2 || sub.size() > 8 ||
               !std::all_of(sub.begin(), sub.end(), [](char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); })) {
      return false;
    }
    if (end == std::string_view::npos) return true;
    pos = end + 1;
    first = false;
  }
}

// snake_case: "partner_cities", "routes".
bool IsSnakeCase(std::string_view s) {
  if (s.empty() || !(s.front() >= 'a' && s.front() <= 'z') || s.back() == '_') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (s[i - 1] == '_') return false;
    } else if (!IsAsciiLowerOrDigit(s[i])) {
      return false;
    }
  }
  return true;
}

// The offset of the first byte that does not begin a well-formed UTF-8
// sequence (RFC 3629: no overlongs, surrogates or values above U+10FFFF), or
// npos. The JSON parser checks its input, but DecodeEvent is also given
// values built elsewhere (CSV rows), and everything stored must encode back
// to JSON.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      if (b == 0xE0) lo = 0xA0;  // overlong
      if (b == 0xED) hi = 0x9F;  // surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      if (b == 0xF0) lo = 0x90;  // overlong
      if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (s.size() - i <= n) return i;
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

// Code points in well-formed UTF-8 (checked by Text()).
size_t CountCodePoints(std::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// "string", "number", "array", ... for "must be X, got Y" messages.
std::string TypeName(const json& j) { return j.type_name(); }

capnp::Text::Reader AsText(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

// ---------------------------------------------------------------------------
// 2. ObjectReader

enum class Need { kRequired, kOptional };

// Reports the first member of `obj` that is not in one of `allowed`, naming
// it as the field: "colour: unknown field for kind forum_held".
Status CheckMembers(const json& obj, std::initializer_list<std::span<const std::string_view>> allowed,
                    std::string_view what) {
  for (const auto& member : obj.items()) {
    const std::string& key = member.key();  // not a structured binding: clang < 16 cannot capture one
    bool known = std::any_of(allowed.begin(), allowed.end(), [&key](std::span<const std::string_view> names) {
      return std::find(names.begin(), names.end(), key) != names.end();
    });
    if (!known) return Invalid("unknown field for " + std::string(what)).WithField(key);
  }
  return Status::Ok();
}

// Typed, checked access to the members of one JSON object. Every getter
// returns errors with the member name as the field. Absent optional members
// leave the output empty (strings, lists) or at the given default.
class ObjectReader {
 public:
  ObjectReader(const json& obj, EntityResolver& resolver) : obj_(obj), resolver_(resolver) {}

  const json* Find(std::string_view key) const {
    auto it = obj_.find(std::string(key));
    return it == obj_.end() ? nullptr : &*it;
  }
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  // A string; a required one must not be blank. NUL is refused because
  // Cap'n Proto text is NUL-terminated.
  Status Text(std::string_view key, Need need, std::string* out) const {
    out->clear();
    const json* v = Find(key);
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    if (!v->is_string()) return Invalid("must be a string, got " + TypeName(*v)).WithField(key);
    const std::string& s = v->get_ref<const std::string&>();
    if (s.find('\0') != std::string::npos) return Invalid("must not contain NUL characters").WithField(key);
    if (const size_t bad = InvalidUtf8At(s); bad != std::string_view::npos) {
      return Invalid("must be valid UTF-8 (ill-formed at byte " + std::to_string(bad) + ")").WithField(key);
    }
    if (need == Need::kRequired && TrimAscii(s).empty()) return Invalid("must not be empty").WithField(key);
    *out = s;
    return Status::Ok();
  }

  // An entity reference, resolved to its slug. The resolver's own message
  // (unknown, ambiguous, candidates) is kept.
  Status Entity(std::string_view key, Need need, std::string* slug) const {
    std::string ref;
    TWINLINE_RETURN_IF_ERROR(Text(key, need, &ref));
    slug->clear();
    if (ref.empty()) return Status::Ok();
    return Resolve(ref, slug).WithField(key);
  }

  // A non-empty array of entity references, resolved in order.
  Status EntityList(std::string_view key, Need need, std::vector<std::string>* slugs) const {
    slugs->clear();
    const json* list = nullptr;
    TWINLINE_RETURN_IF_ERROR(Array(key, need, &list));
    if (list == nullptr) return Status::Ok();
    for (size_t i = 0; i < list->size(); ++i) {
      const json& item = (*list)[i];
      std::string element = ElementName(key, i);
      if (!item.is_string()) return Invalid("must be a string, got " + TypeName(item)).WithField(element);
      const std::string& ref = item.get_ref<const std::string&>();
      if (TrimAscii(ref).empty()) return Invalid("must not be empty").WithField(element);
      std::string slug;
      TWINLINE_RETURN_IF_ERROR(Resolve(ref, &slug).WithField(element));
      slugs->push_back(std::move(slug));
    }
    return Status::Ok();
  }

  // An EDTF expression; `*out` holds the parse with its normalised text.
  Status Edtf(std::string_view key, EdtfDate* out) const {
    std::string text;
    TWINLINE_RETURN_IF_ERROR(Text(key, Need::kRequired, &text));
    return ParseEdtf(text, out).WithField(key);
  }

  // A finite number. -0 is stored as 0 so that it cannot split a fact.
  Status Number(std::string_view key, double* out) const {
    const json* v = Find(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_number()) return Invalid("must be a number, got " + TypeName(*v)).WithField(key);
    double d = v->get<double>();
    if (!std::isfinite(d)) return Invalid("must be a finite number").WithField(key);
    *out = d == 0 ? 0.0 : d;
    return Status::Ok();
  }

  Status NonNegative(std::string_view key, double* out) const {
    TWINLINE_RETURN_IF_ERROR(Number(key, out));
    if (*out < 0) return Invalid("must be >= 0").WithField(key);
    return Status::Ok();
  }

  // A JSON integer (not 3.0) within [min, max]; absent optional -> *out = 0.
  Status Integer(std::string_view key, Need need, uint64_t min, uint64_t max, uint64_t* out) const {
    *out = 0;
    const json* v = Find(key);
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    std::string expected = min == 1 && max == std::numeric_limits<uint64_t>::max()
                               ? "must be a positive integer"
                               : "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!v->is_number_integer()) {
      return Invalid(expected + ", got " + (v->is_number() ? v->dump() : TypeName(*v))).WithField(key);
    }
    if (v->is_number_unsigned()) {
      *out = v->get<uint64_t>();
    } else {
      int64_t i = v->get<int64_t>();
      if (i < 0) return Invalid(expected).WithField(key);
      *out = static_cast<uint64_t>(i);
    }
    if (*out < min || *out > max) return Invalid(expected).WithField(key);
    return Status::Ok();
  }

  // One of E's snake_case names; absent -> `fallback` if there is one.
  template <typename E>
  Status Enum(std::string_view key, std::optional<E> fallback, E* out) const {
    const json* v = Find(key);
    if (v == nullptr) {
      if (!fallback) return Missing(key);
      *out = *fallback;
      return Status::Ok();
    }
    const auto& names = EnumNames<E>();
    if (!v->is_string()) return Invalid("must be a string, one of " + Join(names)).WithField(key);
    const std::string& s = v->get_ref<const std::string&>();
    auto it = std::find(names.begin(), names.end(), s);
    if (it == names.end()) return Invalid("'" + s + "' is not one of " + Join(names)).WithField(key);
    *out = static_cast<E>(it - names.begin());
    return Status::Ok();
  }

  // An array; a required one must not be empty, an absent or empty optional
  // one gives *out = nullptr.
  Status Array(std::string_view key, Need need, const json** out) const {
    *out = nullptr;
    const json* v = Find(key);
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    if (!v->is_array()) return Invalid("must be an array, got " + TypeName(*v)).WithField(key);
    if (v->empty()) return need == Need::kRequired ? Invalid("must not be empty").WithField(key) : Status::Ok();
    *out = v;
    return Status::Ok();
  }

  // An object; absent optional -> *out = nullptr.
  Status Object(std::string_view key, Need need, const json** out) const {
    *out = nullptr;
    const json* v = Find(key);
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    if (!v->is_object()) return Invalid("must be an object, got " + TypeName(*v)).WithField(key);
    *out = v;
    return Status::Ok();
  }

  EntityResolver& resolver() const { return resolver_; }

  static std::string ElementName(std::string_view key, size_t i) {
    return std::string(key) + "[" + std::to_string(i) + "]";
  }

 private:
  static Status Missing(std::string_view key) { return Invalid("required field is missing").WithField(key); }
  Status Resolve(const std::string& ref, std::string* slug) const { return resolver_.Resolve(ref, slug); }

  const json& obj_;
  EntityResolver& resolver_;
};

// Checks that `v` is an object and returns a reader for it ("must be an
// object", with no field: the caller names the element).
Status ElementReader(const json& v, EntityResolver& resolver, std::optional<ObjectReader>* out) {
  if (!v.is_object()) return Invalid("must be an object, got " + TypeName(v));
  out->emplace(v, resolver);
  return Status::Ok();
}

void SetDate(const EdtfDate& date, schema::Date::Builder out) {
  out.setEdtf(AsText(date.Normalized()));
  out.setEarliest(date.earliest);
  out.setLatest(date.latest);
}

// ---------------------------------------------------------------------------
// 3. Payload decoders: each reads the kind's members from `r` (whose unknown
// members have already been rejected) into the union member's builder.

Status DecodePayloadFields(const ObjectReader& r, Which kind, schema::Payload::Builder out);

Status DecodeName(const json& v, EntityResolver& resolver, schema::Name::Builder out) {
  static constexpr std::string_view kFields[] = {"text", "lang"};
  std::optional<ObjectReader> r;
  TWINLINE_RETURN_IF_ERROR(ElementReader(v, resolver, &r));
  TWINLINE_RETURN_IF_ERROR(CheckMembers(v, {kFields}, "a name"));
  std::string text, lang;
  TWINLINE_RETURN_IF_ERROR(r->Text("text", Need::kRequired, &text));
  TWINLINE_RETURN_IF_ERROR(r->Text("lang", Need::kRequired, &lang));
  if (!IsLanguageTag(lang)) return Invalid("'" + lang + "' is not a BCP 47 language tag").WithField("lang");
  out.setText(AsText(text));
  out.setLang(AsText(lang));
  return Status::Ok();
}

Status DecodeLocation(const json& v, EntityResolver& resolver, schema::GeoPoint::Builder out) {
  static constexpr std::string_view kFields[] = {"lat", "lon"};
  std::optional<ObjectReader> r;
  TWINLINE_RETURN_IF_ERROR(ElementReader(v, resolver, &r));
  TWINLINE_RETURN_IF_ERROR(CheckMembers(v, {kFields}, "a location"));
  double lat = 0, lon = 0;
  TWINLINE_RETURN_IF_ERROR(r->Number("lat", &lat));
  if (lat < -90 || lat > 90) return Invalid("must be between -90 and 90").WithField("lat");
  TWINLINE_RETURN_IF_ERROR(r->Number("lon", &lon));
  if (lon < -180 || lon > 180) return Invalid("must be between -180 and 180").WithField("lon");
  out.setLat(lat);
  out.setLon(lon);
  return Status::Ok();
}

Status DecodeFigure(const json& v, EntityResolver& resolver, schema::Figure::Builder out) {
  static constexpr std::string_view kFields[] = {"label", "value", "qualifier"};
  std::optional<ObjectReader> r;
  TWINLINE_RETURN_IF_ERROR(ElementReader(v, resolver, &r));
  TWINLINE_RETURN_IF_ERROR(CheckMembers(v, {kFields}, "a figure"));
  std::string label;
  double value = 0;
  schema::Qualifier qualifier{};
  TWINLINE_RETURN_IF_ERROR(r->Text("label", Need::kRequired, &label));
  TWINLINE_RETURN_IF_ERROR(r->NonNegative("value", &value));
  TWINLINE_RETURN_IF_ERROR(r->Enum("qualifier", std::optional(schema::Qualifier::EXACT), &qualifier));
  out.setLabel(AsText(label));
  out.setValue(value);
  out.setQualifier(qualifier);
  return Status::Ok();
}

// Decodes each element of the (non-null) array `list` with `decode` into the
// list builder `out`, naming failures "key[i]".
template <typename ListBuilder, typename DecodeElement>
Status DecodeElements(std::string_view key, const json& list, EntityResolver& resolver, ListBuilder out,
                      DecodeElement decode) {
  for (size_t i = 0; i < list.size(); ++i) {
    TWINLINE_RETURN_IF_ERROR(decode(list[i], resolver, out[i]).WithField(ObjectReader::ElementName(key, i)));
  }
  return Status::Ok();
}

Status DecodeEntityRegistered(const ObjectReader& r, schema::EntityRegistered::Builder out) {
  std::string entity, country, parent;
  schema::EntityType type{};
  const json* names = nullptr;
  const json* location = nullptr;
  TWINLINE_RETURN_IF_ERROR(r.Text("entity", Need::kRequired, &entity));
  if (!IsEntitySlug(entity)) {
    return Invalid("'" + entity + "' is not an entity id: 1-64 of a-z, 0-9 and '-', not starting or ending with '-'")
        .WithField("entity");
  }
  TWINLINE_RETURN_IF_ERROR(r.Enum("type", std::optional<schema::EntityType>(), &type));
  TWINLINE_RETURN_IF_ERROR(r.Array("names", Need::kRequired, &names));
  // Blocs and continents span countries: no single ISO 3166-1 code.
  const bool spans_countries = type == schema::EntityType::BLOC || type == schema::EntityType::CONTINENT;
  TWINLINE_RETURN_IF_ERROR(r.Text("country", spans_countries ? Need::kOptional : Need::kRequired, &country));
  if (!country.empty() && !IsCapitals(country, 2)) {
    return Invalid("'" + country + "' is not an ISO 3166-1 alpha-2 code (two capital letters)").WithField("country");
  }
  TWINLINE_RETURN_IF_ERROR(r.Object("location", Need::kOptional, &location));
  TWINLINE_RETURN_IF_ERROR(r.Entity("parent", Need::kOptional, &parent));

  out.setEntity(AsText(entity));
  out.setType(type);
  TWINLINE_RETURN_IF_ERROR(DecodeElements("names", *names, r.resolver(), out.initNames(names->size()), DecodeName));
  if (!country.empty()) out.setCountry(AsText(country));
  if (location != nullptr) {
    TWINLINE_RETURN_IF_ERROR(DecodeLocation(*location, r.resolver(), out.initLocation()).WithField("location"));
    out.setHasLocation(true);
  }
  if (!parent.empty()) out.setParent(AsText(parent));
  return Status::Ok();
}

// Stored with a < b: a partnership is symmetric.
Status DecodePartnership(const ObjectReader& r, schema::Partnership::Builder out) {
  std::string a, b, detail;
  schema::PartnershipKind kind{};
  TWINLINE_RETURN_IF_ERROR(r.Entity("a", Need::kRequired, &a));
  TWINLINE_RETURN_IF_ERROR(r.Entity("b", Need::kRequired, &b));
  if (a == b) return Invalid("names the same entity as a ('" + a + "')").WithField("b");
  TWINLINE_RETURN_IF_ERROR(r.Enum("partnership", std::optional<schema::PartnershipKind>(), &kind));
  TWINLINE_RETURN_IF_ERROR(r.Text("detail", Need::kOptional, &detail));
  if (b < a) std::swap(a, b);
  out.setA(AsText(a));
  out.setB(AsText(b));
  out.setKind(kind);
  if (!detail.empty()) out.setDetail(AsText(detail));
  return Status::Ok();
}

// Parties are stored sorted and de-duplicated: signing is symmetric, and
// naming a party twice ("Chengdu", "chengdu") does not add one.
Status DecodeAgreement(const ObjectReader& r, schema::AgreementSigned::Builder out) {
  std::vector<std::string> parties;
  std::string title;
  schema::AgreementKind kind{};
  TWINLINE_RETURN_IF_ERROR(r.EntityList("parties", Need::kRequired, &parties));
  std::sort(parties.begin(), parties.end());
  parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
  if (parties.size() < 2) return Invalid("needs at least two distinct entities").WithField("parties");
  TWINLINE_RETURN_IF_ERROR(r.Text("title", Need::kRequired, &title));
  TWINLINE_RETURN_IF_ERROR(r.Enum("agreement", std::optional<schema::AgreementKind>(), &kind));
  auto list = out.initParties(parties.size());
  for (size_t i = 0; i < parties.size(); ++i) list.set(i, AsText(parties[i]));
  out.setTitle(AsText(title));
  out.setKind(kind);
  return Status::Ok();
}

Status DecodeForum(const ObjectReader& r, schema::ForumHeld::Builder out) {
  std::string host, name, venue, organiser;
  uint64_t edition = 0;
  const json* attendance = nullptr;
  TWINLINE_RETURN_IF_ERROR(r.Entity("host", Need::kRequired, &host));
  TWINLINE_RETURN_IF_ERROR(r.Text("name", Need::kRequired, &name));
  // 0 is accepted as "not stated", the stored meaning of 0.
  TWINLINE_RETURN_IF_ERROR(r.Integer("edition", Need::kOptional, 0, std::numeric_limits<uint32_t>::max(), &edition));
  TWINLINE_RETURN_IF_ERROR(r.Entity("venue", Need::kOptional, &venue));
  TWINLINE_RETURN_IF_ERROR(r.Entity("organiser", Need::kOptional, &organiser));
  TWINLINE_RETURN_IF_ERROR(r.Array("attendance", Need::kOptional, &attendance));
  out.setHost(AsText(host));
  out.setName(AsText(name));
  out.setEdition(static_cast<uint32_t>(edition));
  if (!venue.empty()) out.setVenue(AsText(venue));
  if (!organiser.empty()) out.setOrganiser(AsText(organiser));
  if (attendance != nullptr) {
    TWINLINE_RETURN_IF_ERROR(DecodeElements("attendance", *attendance, r.resolver(),
                                            out.initAttendance(attendance->size()), DecodeFigure));
  }
  return Status::Ok();
}

Status DecodeRoute(const ObjectReader& r, schema::Route::Builder out) {
  std::string from, to, op, name;
  schema::RouteMode mode{};
  TWINLINE_RETURN_IF_ERROR(r.Entity("from", Need::kRequired, &from));
  TWINLINE_RETURN_IF_ERROR(r.Entity("to", Need::kRequired, &to));
  TWINLINE_RETURN_IF_ERROR(r.Enum("mode", std::optional<schema::RouteMode>(), &mode));
  TWINLINE_RETURN_IF_ERROR(r.Entity("operator", Need::kOptional, &op));
  TWINLINE_RETURN_IF_ERROR(r.Text("name", Need::kOptional, &name));
  out.setFrom(AsText(from));
  out.setTo(AsText(to));
  out.setMode(mode);
  if (!op.empty()) out.setOperator(AsText(op));
  if (!name.empty()) out.setName(AsText(name));
  return Status::Ok();
}

Status DecodeOffice(const ObjectReader& r, schema::OfficeOpened::Builder out) {
  std::string owner, host, name;
  TWINLINE_RETURN_IF_ERROR(r.Entity("owner", Need::kRequired, &owner));
  TWINLINE_RETURN_IF_ERROR(r.Entity("host", Need::kRequired, &host));
  TWINLINE_RETURN_IF_ERROR(r.Text("name", Need::kRequired, &name));
  out.setOwner(AsText(owner));
  out.setHost(AsText(host));
  out.setName(AsText(name));
  return Status::Ok();
}

Status DecodeOrganisation(const ObjectReader& r, schema::OrganisationFounded::Builder out) {
  std::string organisation, founder, purpose;
  TWINLINE_RETURN_IF_ERROR(r.Entity("organisation", Need::kRequired, &organisation));
  TWINLINE_RETURN_IF_ERROR(r.Entity("founder", Need::kRequired, &founder));
  TWINLINE_RETURN_IF_ERROR(r.Text("purpose", Need::kOptional, &purpose));
  out.setOrganisation(AsText(organisation));
  out.setFounder(AsText(founder));
  if (!purpose.empty()) out.setPurpose(AsText(purpose));
  return Status::Ok();
}

Status DecodeAward(const ObjectReader& r, schema::AwardGranted::Builder out) {
  std::string recipient, grantor, name;
  TWINLINE_RETURN_IF_ERROR(r.Entity("recipient", Need::kRequired, &recipient));
  TWINLINE_RETURN_IF_ERROR(r.Entity("grantor", Need::kRequired, &grantor));
  TWINLINE_RETURN_IF_ERROR(r.Text("name", Need::kRequired, &name));
  out.setRecipient(AsText(recipient));
  out.setGrantor(AsText(grantor));
  out.setName(AsText(name));
  return Status::Ok();
}

Status DecodeTrade(const ObjectReader& r, schema::TradeVolumeReported::Builder out) {
  std::string reporter, partner, currency;
  EdtfDate period;
  double amount = 0;
  schema::TradeFlow flow{};
  TWINLINE_RETURN_IF_ERROR(r.Entity("reporter", Need::kRequired, &reporter));
  TWINLINE_RETURN_IF_ERROR(r.Entity("partner", Need::kRequired, &partner));
  TWINLINE_RETURN_IF_ERROR(r.Edtf("period", &period));
  TWINLINE_RETURN_IF_ERROR(r.NonNegative("amount", &amount));
  TWINLINE_RETURN_IF_ERROR(r.Text("currency", Need::kRequired, &currency));
  if (!IsCapitals(currency, 3)) {
    return Invalid("'" + currency + "' is not an ISO 4217 code (three capital letters)").WithField("currency");
  }
  TWINLINE_RETURN_IF_ERROR(r.Enum("flow", std::optional<schema::TradeFlow>(), &flow));
  out.setReporter(AsText(reporter));
  out.setPartner(AsText(partner));
  out.setPeriod(AsText(period.Normalized()));
  out.setAmount(amount);
  out.setCurrency(AsText(currency));
  out.setFlow(flow);
  return Status::Ok();
}

Status DecodeCount(const ObjectReader& r, schema::CountReported::Builder out) {
  std::string entity, metric, scope, wording;
  double value = 0;
  schema::Qualifier qualifier{};
  TWINLINE_RETURN_IF_ERROR(r.Entity("entity", Need::kRequired, &entity));
  TWINLINE_RETURN_IF_ERROR(r.Text("metric", Need::kRequired, &metric));
  if (!IsSnakeCase(metric)) return Invalid("'" + metric + "' is not snake_case").WithField("metric");
  TWINLINE_RETURN_IF_ERROR(r.NonNegative("value", &value));
  TWINLINE_RETURN_IF_ERROR(r.Enum("qualifier", std::optional(schema::Qualifier::EXACT), &qualifier));
  TWINLINE_RETURN_IF_ERROR(r.Entity("scope", Need::kOptional, &scope));
  TWINLINE_RETURN_IF_ERROR(r.Text("wording", Need::kOptional, &wording));
  out.setEntity(AsText(entity));
  out.setMetric(AsText(metric));
  out.setValue(value);
  out.setQualifier(qualifier);
  if (!scope.empty()) out.setScope(AsText(scope));
  if (!wording.empty()) out.setWording(AsText(wording));
  return Status::Ok();
}

// Partners keep the order given: the spec does not make them a set.
Status DecodeInitiative(const ObjectReader& r, schema::InitiativeLaunched::Builder out) {
  std::string owner, name;
  std::vector<std::string> partners;
  TWINLINE_RETURN_IF_ERROR(r.Entity("owner", Need::kRequired, &owner));
  TWINLINE_RETURN_IF_ERROR(r.Text("name", Need::kRequired, &name));
  TWINLINE_RETURN_IF_ERROR(r.EntityList("partners", Need::kOptional, &partners));
  out.setOwner(AsText(owner));
  out.setName(AsText(name));
  if (!partners.empty()) {
    auto list = out.initPartners(partners.size());
    for (size_t i = 0; i < partners.size(); ++i) list.set(i, AsText(partners[i]));
  }
  return Status::Ok();
}

// `target` of a correction: an event id.
Status ReadTarget(const ObjectReader& r, std::string* target) {
  TWINLINE_RETURN_IF_ERROR(r.Text("target", Need::kRequired, target));
  if (!IsEventId(*target)) return Invalid("'" + *target + "' is not an event id").WithField("target");
  return Status::Ok();
}

Status DecodeRetraction(const ObjectReader& r, schema::Retraction::Builder out) {
  std::string target, reason;
  TWINLINE_RETURN_IF_ERROR(ReadTarget(r, &target));
  TWINLINE_RETURN_IF_ERROR(r.Text("reason", Need::kRequired, &reason));
  out.setTarget(AsText(target));
  out.setReason(AsText(reason));
  return Status::Ok();
}

Status DecodeCorroboration(const ObjectReader& r, schema::Corroboration::Builder out) {
  std::string target;
  TWINLINE_RETURN_IF_ERROR(ReadTarget(r, &target));
  out.setTarget(AsText(target));
  return Status::Ok();
}

// Reads the `kind` member of an event or replacement.
Status ReadKind(const ObjectReader& r, Which* kind) {
  std::string name;
  TWINLINE_RETURN_IF_ERROR(r.Text("kind", Need::kRequired, &name));
  std::optional<Which> parsed = ParseKind(name);
  if (!parsed) return Invalid("unknown kind '" + name + "'; valid kinds: " + Join(KindNames())).WithField("kind");
  *kind = *parsed;
  return Status::Ok();
}

// The `replacement` object of an amendment: kind, date and that kind's
// members, decoded with the same per-kind code as an event.
Status DecodeReplacement(const json& v, EntityResolver& resolver, schema::Amendment::Builder out) {
  std::optional<ObjectReader> r;
  TWINLINE_RETURN_IF_ERROR(ElementReader(v, resolver, &r));
  Which kind;
  TWINLINE_RETURN_IF_ERROR(ReadKind(*r, &kind));
  if (IsCorrectionKind(kind)) {
    return Invalid("a replacement cannot be a " + std::string(KindName(kind)) + "; it must be a fact")
        .WithField("kind");
  }
  for (std::string_view key : {"sources", "id", "note", "seq", "recorded_at"}) {
    if (r->Has(key)) {
      return Invalid("not allowed in a replacement; it belongs to the amendment itself").WithField(key);
    }
  }
  TWINLINE_RETURN_IF_ERROR(
      CheckMembers(v, {kReplacementEnvelope, KindFields(kind)}, "kind " + std::string(KindName(kind))));
  EdtfDate date;
  TWINLINE_RETURN_IF_ERROR(r->Edtf("date", &date));
  SetDate(date, out.initValidTime());
  return DecodePayloadFields(*r, kind, out.initReplacement());
}

Status DecodeAmendment(const ObjectReader& r, schema::Amendment::Builder out) {
  std::string target, reason;
  const json* replacement = nullptr;
  TWINLINE_RETURN_IF_ERROR(ReadTarget(r, &target));
  TWINLINE_RETURN_IF_ERROR(r.Text("reason", Need::kRequired, &reason));
  TWINLINE_RETURN_IF_ERROR(r.Object("replacement", Need::kRequired, &replacement));
  out.setTarget(AsText(target));
  out.setReason(AsText(reason));
  return DecodeReplacement(*replacement, r.resolver(), out).WithField("replacement");
}

Status DecodePayloadFields(const ObjectReader& r, Which kind, schema::Payload::Builder out) {
  switch (kind) {
    case Which::ENTITY_REGISTERED: return DecodeEntityRegistered(r, out.initEntityRegistered());
    case Which::PARTNERSHIP_ESTABLISHED: return DecodePartnership(r, out.initPartnershipEstablished());
    case Which::PARTNERSHIP_ENDED: return DecodePartnership(r, out.initPartnershipEnded());
    case Which::AGREEMENT_SIGNED: return DecodeAgreement(r, out.initAgreementSigned());
    case Which::FORUM_HELD: return DecodeForum(r, out.initForumHeld());
    case Which::ROUTE_OPENED: return DecodeRoute(r, out.initRouteOpened());
    case Which::ROUTE_CLOSED: return DecodeRoute(r, out.initRouteClosed());
    case Which::OFFICE_OPENED: return DecodeOffice(r, out.initOfficeOpened());
    case Which::ORGANISATION_FOUNDED: return DecodeOrganisation(r, out.initOrganisationFounded());
    case Which::AWARD_GRANTED: return DecodeAward(r, out.initAwardGranted());
    case Which::TRADE_VOLUME_REPORTED: return DecodeTrade(r, out.initTradeVolumeReported());
    case Which::COUNT_REPORTED: return DecodeCount(r, out.initCountReported());
    case Which::INITIATIVE_LAUNCHED: return DecodeInitiative(r, out.initInitiativeLaunched());
    case Which::RETRACTION: return DecodeRetraction(r, out.initRetraction());
    case Which::AMENDMENT: return DecodeAmendment(r, out.initAmendment());
    case Which::CORROBORATION: return DecodeCorroboration(r, out.initCorroboration());
  }
  return Invalid("unsupported kind");
}

// ---------------------------------------------------------------------------
// 4. The envelope.

Status DecodeSource(const json& v, EntityResolver& resolver, schema::Source::Builder out) {
  static constexpr std::string_view kFields[] = {"title", "publisher", "published", "language", "url", "quote"};
  std::optional<ObjectReader> r;
  TWINLINE_RETURN_IF_ERROR(ElementReader(v, resolver, &r));
  TWINLINE_RETURN_IF_ERROR(CheckMembers(v, {kFields}, "a source"));
  std::string title, publisher, language, url, quote;
  EdtfDate published;
  TWINLINE_RETURN_IF_ERROR(r->Text("title", Need::kRequired, &title));
  TWINLINE_RETURN_IF_ERROR(r->Text("publisher", Need::kRequired, &publisher));
  TWINLINE_RETURN_IF_ERROR(r->Edtf("published", &published));
  TWINLINE_RETURN_IF_ERROR(r->Text("language", Need::kRequired, &language));
  if (!IsLanguageTag(language)) {
    return Invalid("'" + language + "' is not a BCP 47 language tag (e.g. en, de, zh-Hant)").WithField("language");
  }
  TWINLINE_RETURN_IF_ERROR(r->Text("url", Need::kOptional, &url));
  TWINLINE_RETURN_IF_ERROR(r->Text("quote", Need::kOptional, &quote));
  if (size_t n = CountCodePoints(quote); n > kMaxQuoteChars) {
    return Invalid("is " + std::to_string(n) + " characters long; at most " + std::to_string(kMaxQuoteChars) +
                   " are allowed")
        .WithField("quote");
  }
  out.setTitle(AsText(title));
  out.setPublisher(AsText(publisher));
  out.setPublished(AsText(published.Normalized()));
  out.setLanguage(AsText(language));
  if (!url.empty()) out.setUrl(AsText(url));
  if (!quote.empty()) out.setQuote(AsText(quote));
  return Status::Ok();
}

// The envelope date. An amendment's defaults to its replacement's date (the
// payload has been decoded by now) and, if written, must say the same.
Status DecodeEventDate(const ObjectReader& r, Which kind, schema::Event::Builder out) {
  if (kind != Which::AMENDMENT) {
    EdtfDate date;
    TWINLINE_RETURN_IF_ERROR(r.Edtf("date", &date));
    SetDate(date, out.initValidTime());
    return Status::Ok();
  }
  auto replacement_date = out.getPayload().getAmendment().getValidTime().asReader();
  if (r.Has("date")) {
    EdtfDate date;
    TWINLINE_RETURN_IF_ERROR(r.Edtf("date", &date));
    if (date.Normalized() != std::string_view(replacement_date.getEdtf().cStr())) {
      return Invalid("'" + date.Normalized() + "' differs from replacement.date '" +
                     replacement_date.getEdtf().cStr() + "'; omit it or make them equal")
          .WithField("date");
    }
  }
  out.setValidTime(replacement_date);
  return Status::Ok();
}

Status DecodeRestoreFields(const ObjectReader& r, schema::Event::Builder out) {
  uint64_t seq = 0;
  std::string recorded_at;
  int64_t micros = 0;
  TWINLINE_RETURN_IF_ERROR(r.Integer("seq", Need::kRequired, 1, std::numeric_limits<uint64_t>::max(), &seq));
  TWINLINE_RETURN_IF_ERROR(r.Text("recorded_at", Need::kRequired, &recorded_at));
  TWINLINE_RETURN_IF_ERROR(ParseTimestamp(recorded_at, &micros).WithField("recorded_at"));
  out.setSeq(seq);
  out.setRecordedAt(micros);
  return Status::Ok();
}

Status DecodeEventObject(const json& j, EntityResolver& resolver, const DecodeOptions& options,
                         schema::Event::Builder out) {
  if (!j.is_object()) return Invalid("an event must be a JSON object, got " + TypeName(j));
  ObjectReader r(j, resolver);
  Which kind;
  TWINLINE_RETURN_IF_ERROR(ReadKind(r, &kind));
  // Unknown members first: a misspelt "dat" should be named as such, not
  // reported as a missing "date".
  TWINLINE_RETURN_IF_ERROR(CheckMembers(j, {kEventEnvelope, KindFields(kind)}, "kind " + std::string(KindName(kind))));

  std::string id;
  TWINLINE_RETURN_IF_ERROR(r.Text("id", Need::kOptional, &id));
  if (r.Has("id") && !IsEventId(id)) {
    return Invalid("'" + id + "' is not an event id: 1-64 of A-Z, a-z, 0-9, '.', '_', ':' and '-'").WithField("id");
  }
  if (!id.empty()) out.setId(AsText(id));

  if (kind != Which::AMENDMENT) TWINLINE_RETURN_IF_ERROR(DecodeEventDate(r, kind, out));
  TWINLINE_RETURN_IF_ERROR(DecodePayloadFields(r, kind, out.initPayload()));
  if (kind == Which::AMENDMENT) TWINLINE_RETURN_IF_ERROR(DecodeEventDate(r, kind, out));

  const json* sources = nullptr;
  TWINLINE_RETURN_IF_ERROR(r.Array("sources", Need::kRequired, &sources));
  TWINLINE_RETURN_IF_ERROR(
      DecodeElements("sources", *sources, resolver, out.initSources(sources->size()), DecodeSource));

  std::string note;
  TWINLINE_RETURN_IF_ERROR(r.Text("note", Need::kOptional, &note));
  if (!note.empty()) out.setNote(AsText(note));

  // Without --restore, seq and recorded_at are the log's to assign: an
  // export can be imported into another log as plain facts.
  if (options.restore) TWINLINE_RETURN_IF_ERROR(DecodeRestoreFields(r, out));
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Text parsing.

// "line 2, column 7" for a 1-based byte offset into `text` (nlohmann's
// parse_error::byte; one past the end at end of input). One-line inputs, the
// NDJSON case, just say "column 7".
std::string Position(std::string_view text, size_t byte) {
  size_t offset = byte == 0 ? 0 : std::min(byte - 1, text.size());
  size_t line_start = text.rfind('\n', offset == 0 ? std::string_view::npos : offset - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  size_t column = offset - line_start + 1;
  if (text.find('\n') == std::string_view::npos || text.find('\n') + 1 == text.size()) {
    return "column " + std::to_string(column);
  }
  size_t line = 1 + std::count(text.begin(), text.begin() + line_start, '\n');
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// The part of an nlohmann message after its "[json.exception...] parse error
// at line 1, column 5: " prefix.
std::string ExceptionDetail(std::string_view what) {
  size_t start = what.find("] ");
  start = start == std::string_view::npos ? 0 : start + 2;
  if (what.substr(start).starts_with("parse error")) {
    size_t colon = what.find(": ", start);
    if (colon != std::string_view::npos) start = colon + 2;
  }
  return std::string(what.substr(start));
}

// Parses one JSON value, fast, when it is valid: JSON syntax, nesting no
// deeper than kMaxNestingDepth and no duplicate member names, which it
// detects by counting the names of each object (an object with fewer members
// than names had one) instead of remembering them. Returns false for
// anything else, leaving ParseJsonText's exact pass to say what is wrong.
bool ParseValidJsonText(std::string_view text, json* out) {
  bool refused = false;
  std::vector<size_t> names;  // member names seen so far, per open object
  json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (refused) return false;  // the value is doomed; build nothing more
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth + 1 > kMaxNestingDepth) refused = true;
        if (event == json::parse_event_t::object_start) names.push_back(0);
        return !refused;
      case json::parse_event_t::key:
        ++names.back();
        return true;
      case json::parse_event_t::object_end:
        if (parsed.size() != names.back()) refused = true;
        names.pop_back();
        return !refused;
      default:
        return true;
    }
  };
  try {
    *out = json::parse(text.data(), text.data() + text.size(), callback);
  } catch (const json::exception&) {
    return false;
  }
  return !refused;
}

// Parses one JSON value. Beyond JSON syntax it refuses duplicate member names
// (nlohmann would silently keep the last) and nesting deeper than
// kMaxNestingDepth; no exception escapes. Valid input (every line of a good
// file) takes the fast pass alone; anything else is parsed again by the
// exact pass below, which names the first problem.
Status ParseJsonText(std::string_view text, json* out) {
  if (ParseValidJsonText(text, out)) return Status::Ok();
  Status callback_error;
  std::vector<std::set<std::string>> open_objects;  // member names seen so far
  json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (!callback_error.ok()) return false;  // the value is doomed; build nothing more
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        // `depth` counts the enclosing containers; this one adds a level.
        if (depth + 1 > kMaxNestingDepth) {
          callback_error = Invalid("nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels");
          return false;
        }
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        return true;
      case json::parse_event_t::object_end:
        open_objects.pop_back();
        return true;
      case json::parse_event_t::key: {
        const std::string& name = parsed.get_ref<const std::string&>();
        if (!open_objects.back().insert(name).second) {
          callback_error = Invalid("duplicate key '" + name + "'");
          if (open_objects.size() == 1) callback_error = callback_error.WithField(name);
          return false;
        }
        return true;
      }
      default:
        return true;
    }
  };
  try {
    *out = json::parse(text.data(), text.data() + text.size(), callback);
  } catch (const json::parse_error& e) {
    // A syntax error stops the parser, so any callback error came earlier.
    if (!callback_error.ok()) return callback_error;
    return Invalid(Position(text, e.byte) + ": " + ExceptionDetail(e.what()));
  } catch (const json::exception& e) {
    if (!callback_error.ok()) return callback_error;
    // out_of_range.406 "number overflow parsing '1e400'" carries no
    // position; find the token to name its column.
    std::string detail = ExceptionDetail(e.what());
    size_t open = detail.find('\'');
    size_t close = detail.rfind('\'');
    if (open != std::string::npos && close > open) {
      size_t at = text.find(std::string_view(detail).substr(open + 1, close - open - 1));
      if (at != std::string_view::npos) return Invalid(Position(text, at + 1) + ": " + detail);
    }
    return Invalid(detail);
  }
  if (!callback_error.ok()) return callback_error;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Encoding.

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// Whole numbers are written without a fraction (142160000000, not
// 142160000000.0) while they are exactly representable integers; anything
// else is written as nlohmann's shortest round-tripping double.
ojson NumberJson(double v) {
  constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) <= kMaxExactInteger) {
    return v < 0 ? ojson(static_cast<int64_t>(v)) : ojson(static_cast<uint64_t>(v));
  }
  return ojson(v);
}

void PutOptional(ojson& j, const char* key, capnp::Text::Reader t) {
  if (t.size() != 0) j[key] = Str(t);
}

ojson EntityListJson(capnp::List<capnp::Text>::Reader list) {
  ojson out = ojson::array();
  for (auto item : list) out.push_back(Str(item));
  return out;
}

void EncodePayloadFields(schema::Payload::Reader p, ojson& j);

void EncodeEntityRegistered(schema::EntityRegistered::Reader e, ojson& j) {
  j["entity"] = Str(e.getEntity());
  j["type"] = EnumJson(e.getType());
  ojson names = ojson::array();
  for (auto n : e.getNames()) names.push_back({{"text", Str(n.getText())}, {"lang", Str(n.getLang())}});
  j["names"] = std::move(names);
  PutOptional(j, "country", e.getCountry());
  if (e.getHasLocation()) {
    j["location"] = {{"lat", NumberJson(e.getLocation().getLat())}, {"lon", NumberJson(e.getLocation().getLon())}};
  }
  PutOptional(j, "parent", e.getParent());
}

void EncodePartnership(schema::Partnership::Reader p, ojson& j) {
  j["a"] = Str(p.getA());
  j["b"] = Str(p.getB());
  j["partnership"] = EnumJson(p.getKind());
  PutOptional(j, "detail", p.getDetail());
}

void EncodeAgreement(schema::AgreementSigned::Reader a, ojson& j) {
  j["parties"] = EntityListJson(a.getParties());
  j["title"] = Str(a.getTitle());
  j["agreement"] = EnumJson(a.getKind());
}

void EncodeForum(schema::ForumHeld::Reader f, ojson& j) {
  j["host"] = Str(f.getHost());
  j["name"] = Str(f.getName());
  if (f.getEdition() != 0) j["edition"] = f.getEdition();
  PutOptional(j, "venue", f.getVenue());
  PutOptional(j, "organiser", f.getOrganiser());
  if (f.getAttendance().size() != 0) {
    ojson figures = ojson::array();
    for (auto fig : f.getAttendance()) {
      figures.push_back(
          {{"label", Str(fig.getLabel())}, {"value", NumberJson(fig.getValue())}, {"qualifier", EnumJson(fig.getQualifier())}});
    }
    j["attendance"] = std::move(figures);
  }
}

void EncodeRoute(schema::Route::Reader r, ojson& j) {
  j["from"] = Str(r.getFrom());
  j["to"] = Str(r.getTo());
  j["mode"] = EnumJson(r.getMode());
  PutOptional(j, "operator", r.getOperator());
  PutOptional(j, "name", r.getName());
}

void EncodeReplacement(schema::Amendment::Reader a, ojson& j) {
  ojson replacement;
  replacement["kind"] = std::string(KindName(a.getReplacement().which()));
  replacement["date"] = Str(a.getValidTime().getEdtf());
  EncodePayloadFields(a.getReplacement(), replacement);
  j["replacement"] = std::move(replacement);
}

void EncodePayloadFields(schema::Payload::Reader p, ojson& j) {
  switch (p.which()) {
    case Which::ENTITY_REGISTERED:
      EncodeEntityRegistered(p.getEntityRegistered(), j);
      return;
    case Which::PARTNERSHIP_ESTABLISHED:
      EncodePartnership(p.getPartnershipEstablished(), j);
      return;
    case Which::PARTNERSHIP_ENDED:
      EncodePartnership(p.getPartnershipEnded(), j);
      return;
    case Which::AGREEMENT_SIGNED:
      EncodeAgreement(p.getAgreementSigned(), j);
      return;
    case Which::FORUM_HELD:
      EncodeForum(p.getForumHeld(), j);
      return;
    case Which::ROUTE_OPENED:
      EncodeRoute(p.getRouteOpened(), j);
      return;
    case Which::ROUTE_CLOSED:
      EncodeRoute(p.getRouteClosed(), j);
      return;
    case Which::OFFICE_OPENED: {
      auto o = p.getOfficeOpened();
      j["owner"] = Str(o.getOwner());
      j["host"] = Str(o.getHost());
      j["name"] = Str(o.getName());
      return;
    }
    case Which::ORGANISATION_FOUNDED: {
      auto o = p.getOrganisationFounded();
      j["organisation"] = Str(o.getOrganisation());
      j["founder"] = Str(o.getFounder());
      PutOptional(j, "purpose", o.getPurpose());
      return;
    }
    case Which::AWARD_GRANTED: {
      auto a = p.getAwardGranted();
      j["recipient"] = Str(a.getRecipient());
      j["grantor"] = Str(a.getGrantor());
      j["name"] = Str(a.getName());
      return;
    }
    case Which::TRADE_VOLUME_REPORTED: {
      auto t = p.getTradeVolumeReported();
      j["reporter"] = Str(t.getReporter());
      j["partner"] = Str(t.getPartner());
      j["period"] = Str(t.getPeriod());
      j["amount"] = NumberJson(t.getAmount());
      j["currency"] = Str(t.getCurrency());
      j["flow"] = EnumJson(t.getFlow());
      return;
    }
    case Which::COUNT_REPORTED: {
      auto c = p.getCountReported();
      j["entity"] = Str(c.getEntity());
      j["metric"] = Str(c.getMetric());
      j["value"] = NumberJson(c.getValue());
      j["qualifier"] = EnumJson(c.getQualifier());
      PutOptional(j, "scope", c.getScope());
      PutOptional(j, "wording", c.getWording());
      return;
    }
    case Which::INITIATIVE_LAUNCHED: {
      auto i = p.getInitiativeLaunched();
      j["owner"] = Str(i.getOwner());
      j["name"] = Str(i.getName());
      if (i.getPartners().size() != 0) j["partners"] = EntityListJson(i.getPartners());
      return;
    }
    case Which::RETRACTION:
      j["target"] = Str(p.getRetraction().getTarget());
      j["reason"] = Str(p.getRetraction().getReason());
      return;
    case Which::AMENDMENT:
      j["target"] = Str(p.getAmendment().getTarget());
      j["reason"] = Str(p.getAmendment().getReason());
      EncodeReplacement(p.getAmendment(), j);
      return;
    case Which::CORROBORATION:
      j["target"] = Str(p.getCorroboration().getTarget());
      return;
  }
}

ojson SourceJson(schema::Source::Reader s) {
  ojson j;
  j["title"] = Str(s.getTitle());
  j["publisher"] = Str(s.getPublisher());
  j["published"] = Str(s.getPublished());
  j["language"] = Str(s.getLanguage());
  PutOptional(j, "url", s.getUrl());
  PutOptional(j, "quote", s.getQuote());
  return j;
}

// Floor division for negative timestamps (before 1970).
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Reads exactly `n` decimal digits at text[*pos].
bool ReadDigits(std::string_view text, size_t* pos, size_t n, int64_t* value) {
  if (*pos + n > text.size()) return false;
  *value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (!IsAsciiDigit(c)) return false;
    *value = *value * 10 + (c - '0');
  }
  *pos += n;
  return true;
}

bool ReadChar(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

std::string_view KindName(schema::Payload::Which which) {
  const auto& names = KindNames();
  auto index = static_cast<size_t>(which);
  return index < names.size() ? std::string_view(names[index]) : std::string_view();
}

std::optional<schema::Payload::Which> ParseKind(std::string_view name) {
  const auto& names = KindNames();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<schema::Payload::Which>(it - names.begin());
}

Status DecodeEvent(const nlohmann::json& j, EntityResolver& resolver, const DecodeOptions& options,
                   schema::Event::Builder out) {
  // The checked accessors above should not throw; this is the backstop for
  // the promise that nothing does.
  try {
    return DecodeEventObject(j, resolver, options, out);
  } catch (const json::exception& e) {
    return Invalid(ExceptionDetail(e.what()));
  }
}

Status DecodeEventText(std::string_view text, EntityResolver& resolver, const DecodeOptions& options,
                       schema::Event::Builder out) {
  json j;
  TWINLINE_RETURN_IF_ERROR(ParseJsonText(text, &j));
  return DecodeEvent(j, resolver, options, out);
}

nlohmann::ordered_json EncodeEvent(schema::Event::Reader ev) {
  ojson j;
  j["seq"] = ev.getSeq();
  j["recorded_at"] = FormatTimestamp(ev.getRecordedAt());
  PutOptional(j, "id", ev.getId());
  j["kind"] = std::string(KindName(ev.getPayload().which()));
  j["date"] = Str(ev.getValidTime().getEdtf());
  EncodePayloadFields(ev.getPayload(), j);
  ojson sources = ojson::array();
  for (auto s : ev.getSources()) sources.push_back(SourceJson(s));
  j["sources"] = std::move(sources);
  PutOptional(j, "note", ev.getNote());
  return j;
}

// Always six fractional digits. RFC 3339 only has years 0000-9999, which is
// all a log's recording times span; ParseTimestamp refuses anything else.
std::string FormatTimestamp(int64_t micros) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t in_day = micros - days * kMicrosPerDay;
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  int64_t seconds = in_day / kMicrosPerSecond;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%06dZ", year, month, day,
                static_cast<int>(seconds / 3600), static_cast<int>(seconds / 60 % 60), static_cast<int>(seconds % 60),
                static_cast<int>(in_day % kMicrosPerSecond));
  return buf;
}

// Accepts YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z: UTC only ('Z', no offsets), a
// four-digit year, no leap second (Unix time cannot represent one).
Status ParseTimestamp(std::string_view text, int64_t* micros) {
  auto bad = [&text](std::string_view why) {
    return Invalid("'" + std::string(text) + "' is not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS.ffffffZ): " +
                   std::string(why));
  };
  size_t pos = 0;
  int64_t year, month, day, hour, minute, second;
  if (!ReadDigits(text, &pos, 4, &year) || !ReadChar(text, &pos, '-') || !ReadDigits(text, &pos, 2, &month) ||
      !ReadChar(text, &pos, '-') || !ReadDigits(text, &pos, 2, &day) || !ReadChar(text, &pos, 'T') ||
      !ReadDigits(text, &pos, 2, &hour) || !ReadChar(text, &pos, ':') || !ReadDigits(text, &pos, 2, &minute) ||
      !ReadChar(text, &pos, ':') || !ReadDigits(text, &pos, 2, &second)) {
    return bad("malformed");
  }
  int64_t fraction = 0;
  if (ReadChar(text, &pos, '.')) {
    size_t digits = 0;
    while (pos < text.size() && IsAsciiDigit(text[pos])) {
      if (++digits > 6) return bad("more than 6 fractional digits");
      fraction = fraction * 10 + (text[pos++] - '0');
    }
    if (digits == 0) return bad("no digits after '.'");
    for (; digits < 6; ++digits) fraction *= 10;
  }
  if (!ReadChar(text, &pos, 'Z') || pos != text.size()) return bad("must end in 'Z' (UTC)");
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month))) return bad("no such day");
  if (hour > 23 || minute > 59 || second > 59) return bad("time of day out of range");
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  *micros = days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
  return Status::Ok();
}

}  // namespace twinline
