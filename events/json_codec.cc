// The JSON form of events (docs/EVENTS.md). Layout of this file:
//
//  1. Names and single-value syntax checks.
//  2. Two views of a parsed JSON value with one interface: simdjson's DOM
//     (the fast path every good line takes) and nlohmann::json (the exact
//     path, and DecodeEvent's input).
//  3. The decoder, written once over either view and driven by the kind
//     table (core/kinds.h): the envelope, then the kind's fields in the
//     table's order, each read, checked and written straight into the
//     Cap'n Proto builder.
//  4. EventDecoder: simdjson first; anything it does not accept whole (a
//     syntax error, a refusal, a number or string simdjson reads differently
//     from nlohmann) is decoded again on the exact path, whose answer is the
//     one returned. So the fast path changes speed only: what is accepted,
//     what is stored and every message are the exact path's.
//  5. Text parsing on the exact path, the encoder, timestamps.
//
// Absent optional values are left unset in the builder (never set to ""),
// so the canonical encoding of a fact, and with it its fingerprint, does not
// depend on whether a writer omitted a field or wrote it empty.
#include "events/json_codec.h"

#include <capnp/schema.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/edtf.h"
#include "core/kinds.h"
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

// JSON names of the kinds, indexed by discriminant (the kind table's).
const std::vector<std::string>& KindNames() {
  static const std::vector<std::string>* const names = [] {
    auto* v = new std::vector<std::string>;
    for (const KindSpec& kind : Kinds()) v->emplace_back(kind.name);
    return v;
  }();
  return *names;
}

// JSON names of an enumeration's enumerants, indexed by value (enumerants
// are listed in ordinal order, and an enumerant's value is its ordinal).
struct EnumNameList {
  std::vector<std::string> names;
  std::string joined;  // "rail, air_cargo, ..." for messages
};

const EnumNameList& EnumNames(capnp::EnumSchema schema) {
  // One entry per enumeration of the schema, built on first use; the
  // schemas are few and fixed, so a linear list is the cheapest lookup.
  struct Entry {
    uint64_t id;
    EnumNameList list;
  };
  static std::vector<Entry>* const cache = [] {
    auto* v = new std::vector<Entry>;
    for (const KindSpec& kind : Kinds()) {
      for (const FieldSpec& field : kind.fields) {
        if (field.access.enum_schema == nullptr) continue;
        capnp::EnumSchema s = field.access.enum_schema();
        if (std::any_of(v->begin(), v->end(), [&](const Entry& e) { return e.id == s.getProto().getId(); })) {
          continue;
        }
        Entry e{s.getProto().getId(), {}};
        for (auto en : s.getEnumerants()) e.list.names.push_back(SnakeCase(en.getProto().getName().cStr()));
        e.list.joined = Join(e.list.names);
        v->push_back(std::move(e));
      }
    }
    // Enumerations of nested values (figures) are not in any kind's fields.
    capnp::EnumSchema q = capnp::Schema::from<schema::Qualifier>();
    if (std::none_of(v->begin(), v->end(), [&](const Entry& e) { return e.id == q.getProto().getId(); })) {
      Entry e{q.getProto().getId(), {}};
      for (auto en : q.getEnumerants()) e.list.names.push_back(SnakeCase(en.getProto().getName().cStr()));
      e.list.joined = Join(e.list.names);
      v->push_back(std::move(e));
    }
    return v;
  }();
  const uint64_t id = schema.getProto().getId();
  for (const Entry& e : *cache) {
    if (e.id == id) return e.list;
  }
  static const EnumNameList kEmpty;
  return kEmpty;
}

// The names of a field's enumeration, found by the field's accessor (a
// pointer comparison per lookup, for the decoder's hot path).
const EnumNameList& EnumNamesOf(capnp::EnumSchema (*enum_schema)()) {
  struct Entry {
    capnp::EnumSchema (*fn)();
    const EnumNameList* list;
  };
  static std::vector<Entry>* const by_fn = [] {
    auto* v = new std::vector<Entry>;
    for (const KindSpec& kind : Kinds()) {
      for (const FieldSpec& field : kind.fields) {
        if (field.access.enum_schema != nullptr) v->push_back({field.access.enum_schema, &EnumNames(field.access.enum_schema())});
      }
    }
    return v;
  }();
  for (const Entry& e : *by_fn) {
    if (e.fn == enum_schema) return *e.list;
  }
  return EnumNames(enum_schema());
}

ojson EnumJson(capnp::EnumSchema schema, uint16_t value) {
  const auto& names = EnumNames(schema).names;
  // A value from a newer schema than this binary's: keep the number.
  if (value >= names.size()) return ojson(value);
  return ojson(names[value]);
}

// Envelope members of an event; a replacement has only `kind` and `date`.
constexpr std::string_view kEventEnvelope[] = {"seq", "recorded_at", "id", "kind", "date", "sources", "note"};
enum EnvelopeSlot { kSeq, kRecordedAt, kId, kKind, kDate, kSources, kNote, kEnvelopeSize };
constexpr std::string_view kReplacementEnvelope[] = {"kind", "date"};
constexpr int kReplacementKind = 0, kReplacementDate = 1, kReplacementEnvelopeSize = 2;

constexpr std::string_view kSourceFields[] = {"title", "publisher", "published", "language", "url", "quote"};
constexpr std::string_view kNameFields[] = {"text", "lang"};
constexpr std::string_view kLocationFields[] = {"lat", "lon"};
constexpr std::string_view kFigureFields[] = {"label", "value", "qualifier"};

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
// npos. The JSON parsers check their input, but DecodeEvent is also given
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

capnp::Text::Reader AsText(std::string_view s) { return capnp::Text::Reader(s.data(), s.size()); }

// ---------------------------------------------------------------------------
// 2. Views of a parsed value. Each names its value type `Value` and offers
// the same static functions; the decoder below is written once over them.

// nlohmann::json: the exact path, and values built in memory (CSV rows).
struct NlohmannView {
  using Value = const json*;
  // Strings come from a parser that checked them, or from memory: check.
  static constexpr bool kUtf8Checked = false;

  static std::string TypeName(Value v) { return v->type_name(); }
  static bool IsObject(Value v) { return v->is_object(); }
  static bool IsArray(Value v) { return v->is_array(); }
  static bool IsString(Value v) { return v->is_string(); }
  static bool IsNumber(Value v) { return v->is_number(); }
  static bool IsInteger(Value v) { return v->is_number_integer(); }
  static bool IsUnsigned(Value v) { return v->is_number_unsigned(); }
  static std::string_view String(Value v) { return v->get_ref<const std::string&>(); }
  static double Double(Value v) { return v->get<double>(); }
  static int64_t Int64(Value v) { return v->get<int64_t>(); }
  static uint64_t Uint64(Value v) { return v->get<uint64_t>(); }
  static std::string NumberText(Value v) { return v->dump(); }
  static size_t Size(Value v) { return v->size(); }
  static std::optional<Value> Member(Value v, std::string_view key) {
    auto it = v->find(key);
    if (it == v->end()) return std::nullopt;
    return &*it;
  }
  template <typename Fn>  // fn(key, value); object members in key order
  static void ForEachMember(Value v, Fn&& fn) {
    for (auto it = v->begin(); it != v->end(); ++it) fn(std::string_view(it.key()), &*it);
  }
  template <typename Fn>  // fn(index, value)
  static Status ForEachElement(Value v, Fn&& fn) {
    for (size_t i = 0; i < v->size(); ++i) TWINLINE_RETURN_IF_ERROR(fn(i, &(*v)[i]));
    return Status::Ok();
  }
};

// simdjson's DOM: the fast path. Its strings are validated UTF-8.
struct SimdView {
  using Value = simdjson::dom::element;
  static constexpr bool kUtf8Checked = true;

  static std::string TypeName(Value v) {
    switch (v.type()) {
      case simdjson::dom::element_type::ARRAY: return "array";
      case simdjson::dom::element_type::OBJECT: return "object";
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64:
      case simdjson::dom::element_type::DOUBLE: return "number";
      case simdjson::dom::element_type::STRING: return "string";
      case simdjson::dom::element_type::BOOL: return "boolean";
      case simdjson::dom::element_type::NULL_VALUE: return "null";
    }
    return "value";
  }
  static bool IsObject(Value v) { return v.type() == simdjson::dom::element_type::OBJECT; }
  static bool IsArray(Value v) { return v.type() == simdjson::dom::element_type::ARRAY; }
  static bool IsString(Value v) { return v.type() == simdjson::dom::element_type::STRING; }
  static bool IsNumber(Value v) { return v.is_number(); }
  static bool IsInteger(Value v) {
    return v.type() == simdjson::dom::element_type::INT64 || v.type() == simdjson::dom::element_type::UINT64;
  }
  static bool IsUnsigned(Value v) { return v.type() == simdjson::dom::element_type::UINT64; }
  static std::string_view String(Value v) { return v.get_string().value_unsafe(); }
  static double Double(Value v) { return v.get_double().value_unsafe(); }
  static int64_t Int64(Value v) { return v.get_int64().value_unsafe(); }
  static uint64_t Uint64(Value v) { return v.get_uint64().value_unsafe(); }
  static std::string NumberText(Value v) {
    if (v.type() == simdjson::dom::element_type::INT64) return json(Int64(v)).dump();
    if (v.type() == simdjson::dom::element_type::UINT64) return json(Uint64(v)).dump();
    return json(Double(v)).dump();
  }
  static size_t Size(Value v) { return simdjson::dom::array(v.get_array().value_unsafe()).size(); }
  static std::optional<Value> Member(Value v, std::string_view key) {
    Value found;
    if (simdjson::dom::object(v.get_object().value_unsafe()).at_key(key).get(found) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    return found;
  }
  template <typename Fn>
  static void ForEachMember(Value v, Fn&& fn) {
    for (auto member : simdjson::dom::object(v.get_object().value_unsafe())) fn(member.key, member.value);
  }
  template <typename Fn>
  static Status ForEachElement(Value v, Fn&& fn) {
    size_t i = 0;
    for (Value item : simdjson::dom::array(v.get_array().value_unsafe())) TWINLINE_RETURN_IF_ERROR(fn(i++, item));
    return Status::Ok();
  }
};

// ---------------------------------------------------------------------------
// 3. The decoder.

// Memory the decoder reuses from one event to the next, so that a good
// line, once the buffers have grown, allocates nothing.
struct Scratch {
  std::string slug;                 // a resolved entity reference
  std::vector<std::string> slugs;   // a resolved entity list (slugs[0, n))
  std::string pair_a, pair_b;       // a symmetric pair being put in order

  // Dates parsed so far, by text: a history names the same days again and
  // again (each event's date, its sources' publication dates), and parsing
  // is a pure function. Bounded: emptied when full.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  static constexpr size_t kMaxDates = size_t{1} << 16;
  std::unordered_map<std::string, EdtfDate, TextHash, std::equal_to<>> dates;
  const EdtfDate* date = nullptr;  // the last one read (points into `dates`)
};

template <typename View>
class Decoder {
 public:
  using Value = typename View::Value;

  Decoder(EntityResolver& resolver, Scratch& scratch) : resolver_(resolver), scratch_(scratch) {}

  Status Event(Value v, const DecodeOptions& options, schema::Event::Builder out);

 private:
  // The members of one object, each bound to its index in the names it may
  // have (the `allowed` lists, concatenated); unbound ones are absent.
  class Members {
   public:
    static constexpr size_t kMaxNames = 16;  // the envelope (7) and a kind's fields (at most 6)

    // Reports the first member (in the view's order) not in `allowed`,
    // naming it as the field: "colour: unknown field for kind forum_held".
    // A name given twice (only a parser that keeps duplicates, simdjson,
    // passes one) is refused too.
    Status Bind(Value obj, std::span<const std::string_view> names, std::string_view what,
                std::span<const FieldSpec> fields = {}, std::string_view what_kind = {}) {
      present_ = 0;
      Status status;
      View::ForEachMember(obj, [&](std::string_view key, Value value) {
        if (!status.ok()) return;
        size_t slot = 0;
        for (; slot < names.size(); ++slot) {
          if (names[slot].size() == key.size() && names[slot] == key) break;
        }
        if (slot == names.size()) {
          size_t i = 0;
          while (i < fields.size() && !(fields[i].name.size() == key.size() && fields[i].name == key)) ++i;
          if (i == fields.size()) {
            status = Invalid("unknown field for " + std::string(what) + std::string(what_kind)).WithField(key);
            return;
          }
          slot += i;
        }
        const uint64_t bit = uint64_t{1} << slot;
        if ((present_ & bit) != 0) {
          status = Invalid("duplicate key '" + std::string(key) + "'");
          return;
        }
        present_ |= bit;
        values_[slot] = value;
      });
      return status;
    }
    const Value* Find(size_t slot) const { return (present_ >> slot & 1) != 0 ? &values_[slot] : nullptr; }
    bool Has(size_t slot) const { return (present_ >> slot & 1) != 0; }

   private:
    uint64_t present_ = 0;
    std::array<Value, kMaxNames> values_;
  };

  // A member looked up by name before binding (`kind`, which says what the
  // other members may be).
  static std::optional<Value> FindByName(Value obj, std::string_view name) { return View::Member(obj, name); }

  static Status Missing(std::string_view key) { return Invalid("required field is missing").WithField(key); }

  static std::string ElementName(std::string_view key, size_t i) {
    return std::string(key) + "[" + std::to_string(i) + "]";
  }

  // A string; a required one must not be blank. NUL is refused because
  // Cap'n Proto text is NUL-terminated. Absent: *out is empty.
  static Status Text(const Value* v, std::string_view key, Need need, std::string_view* out) {
    *out = {};
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    if (!View::IsString(*v)) return Invalid("must be a string, got " + View::TypeName(*v)).WithField(key);
    const std::string_view s = View::String(*v);
    if (std::memchr(s.data(), '\0', s.size()) != nullptr) {
      return Invalid("must not contain NUL characters").WithField(key);
    }
    if constexpr (!View::kUtf8Checked) {
      if (const size_t bad = InvalidUtf8At(s); bad != std::string_view::npos) {
        return Invalid("must be valid UTF-8 (ill-formed at byte " + std::to_string(bad) + ")").WithField(key);
      }
    }
    if (need == Need::kRequired && TrimAscii(s).empty()) return Invalid("must not be empty").WithField(key);
    *out = s;
    return Status::Ok();
  }

  // An entity reference, resolved to its slug in scratch_.slug (empty when
  // an optional one is absent). The resolver's own message is kept.
  Status Entity(const Value* v, std::string_view key, Need need, std::string_view* slug) {
    std::string_view ref;
    TWINLINE_RETURN_IF_ERROR(Text(v, key, need, &ref));
    *slug = {};
    if (ref.empty()) return Status::Ok();
    Status s = resolver_.Resolve(ref, &scratch_.slug);
    if (!s.ok()) return s.WithField(key);
    *slug = scratch_.slug;
    return Status::Ok();
  }

  // An array of entity references, resolved in order into scratch_.slugs;
  // *n is how many (0: an optional one absent or empty).
  Status EntityList(const Value* v, std::string_view key, Need need, size_t* n) {
    *n = 0;
    const Value* list = nullptr;
    TWINLINE_RETURN_IF_ERROR(Array(v, key, need, &list));
    if (list == nullptr) return Status::Ok();
    return View::ForEachElement(*list, [&](size_t i, Value item) -> Status {
      if (!View::IsString(item)) {
        return Invalid("must be a string, got " + View::TypeName(item)).WithField(ElementName(key, i));
      }
      const std::string_view ref = View::String(item);
      if (TrimAscii(ref).empty()) return Invalid("must not be empty").WithField(ElementName(key, i));
      if (scratch_.slugs.size() <= *n) scratch_.slugs.emplace_back();
      Status s = resolver_.Resolve(ref, &scratch_.slugs[*n]);
      if (!s.ok()) return s.WithField(ElementName(key, i));
      ++*n;
      return Status::Ok();
    });
  }

  // An EDTF expression, parsed; scratch_.date points to the parse until the
  // next call.
  Status Edtf(const Value* v, std::string_view key) {
    std::string_view text;
    TWINLINE_RETURN_IF_ERROR(Text(v, key, Need::kRequired, &text));
    if (auto it = scratch_.dates.find(text); it != scratch_.dates.end()) {
      scratch_.date = &it->second;
      return Status::Ok();
    }
    EdtfDate parsed;
    Status s = ParseEdtf(text, &parsed);
    if (!s.ok()) return s.WithField(key);
    if (scratch_.dates.size() >= Scratch::kMaxDates) scratch_.dates.clear();
    scratch_.date = &scratch_.dates.emplace(std::string(text), std::move(parsed)).first->second;
    return Status::Ok();
  }

  // A finite number. -0 is stored as 0 so that it cannot split a fact.
  static Status Number(const Value* v, std::string_view key, double* out) {
    if (v == nullptr) return Missing(key);
    if (!View::IsNumber(*v)) return Invalid("must be a number, got " + View::TypeName(*v)).WithField(key);
    const double d = View::Double(*v);
    if (!std::isfinite(d)) return Invalid("must be a finite number").WithField(key);
    *out = d == 0 ? 0.0 : d;
    return Status::Ok();
  }

  static Status NonNegative(const Value* v, std::string_view key, double* out) {
    TWINLINE_RETURN_IF_ERROR(Number(v, key, out));
    if (*out < 0) return Invalid("must be >= 0").WithField(key);
    return Status::Ok();
  }

  // A JSON integer (not 3.0) within [min, max]; absent optional -> *out = 0.
  static Status Integer(const Value* v, std::string_view key, Need need, uint64_t min, uint64_t max,
                        uint64_t* out) {
    *out = 0;
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    auto expected = [&] {
      return min == 1 && max == std::numeric_limits<uint64_t>::max()
                 ? std::string("must be a positive integer")
                 : "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
    };
    if (!View::IsInteger(*v)) {
      return Invalid(expected() + ", got " + (View::IsNumber(*v) ? View::NumberText(*v) : View::TypeName(*v)))
          .WithField(key);
    }
    if (View::IsUnsigned(*v)) {
      *out = View::Uint64(*v);
    } else {
      const int64_t i = View::Int64(*v);
      if (i < 0) return Invalid(expected()).WithField(key);
      *out = static_cast<uint64_t>(i);
    }
    if (*out < min || *out > max) return Invalid(expected()).WithField(key);
    return Status::Ok();
  }

  // One of the enumeration's snake_case names; absent -> `fallback` (-1:
  // none, it is required).
  static Status Enum(const Value* v, std::string_view key, const EnumNameList& names, int fallback,
                     uint16_t* out) {
    if (v == nullptr) {
      if (fallback < 0) return Missing(key);
      *out = static_cast<uint16_t>(fallback);
      return Status::Ok();
    }
    if (!View::IsString(*v)) return Invalid("must be a string, one of " + names.joined).WithField(key);
    const std::string_view s = View::String(*v);
    for (size_t i = 0; i < names.names.size(); ++i) {
      if (names.names[i] == s) {
        *out = static_cast<uint16_t>(i);
        return Status::Ok();
      }
    }
    return Invalid("'" + std::string(s) + "' is not one of " + names.joined).WithField(key);
  }

  // An array; a required one must not be empty, an absent or empty optional
  // one gives *out = nullptr.
  static Status Array(const Value* v, std::string_view key, Need need, const Value** out) {
    *out = nullptr;
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    if (!View::IsArray(*v)) return Invalid("must be an array, got " + View::TypeName(*v)).WithField(key);
    if (View::Size(*v) == 0) return need == Need::kRequired ? Invalid("must not be empty").WithField(key) : Status::Ok();
    *out = v;
    return Status::Ok();
  }

  // An object; absent optional -> *out = nullptr.
  static Status Object(const Value* v, std::string_view key, Need need, const Value** out) {
    *out = nullptr;
    if (v == nullptr) return need == Need::kRequired ? Missing(key) : Status::Ok();
    if (!View::IsObject(*v)) return Invalid("must be an object, got " + View::TypeName(*v)).WithField(key);
    *out = v;
    return Status::Ok();
  }

  // "must be an object", with no field: the caller names the element.
  static Status ElementObject(Value v) {
    if (!View::IsObject(v)) return Invalid("must be an object, got " + View::TypeName(v));
    return Status::Ok();
  }

  static void SetDate(const EdtfDate& date, schema::Date::Builder out) {
    out.setEdtf(AsText(date.Normalized()));
    out.setEarliest(date.earliest);
    out.setLatest(date.latest);
  }

  Status ReadKind(const Value* v, const KindSpec** kind);
  Status Fields(const Members& m, size_t base, const KindSpec& kind, capnp::AnyStruct::Builder out);
  Status Composite(const Value& v, const FieldSpec& field, capnp::AnyStruct::Builder out);
  Status Name(Value v, schema::Name::Builder out);
  Status Location(Value v, schema::GeoPoint::Builder out);
  Status Figure(Value v, schema::Figure::Builder out);
  Status Replacement(Value v, schema::Amendment::Builder out);
  Status Source(Value v, schema::Source::Builder out);
  Status EventDate(const Members& m, const KindSpec& kind, schema::Event::Builder out);
  Status RestoreFields(const Members& m, schema::Event::Builder out);

  EntityResolver& resolver_;
  Scratch& scratch_;
};

// Reads the `kind` member of an event or replacement.
template <typename View>
Status Decoder<View>::ReadKind(const Value* v, const KindSpec** kind) {
  std::string_view name;
  TWINLINE_RETURN_IF_ERROR(Text(v, "kind", Need::kRequired, &name));
  *kind = FindKind(name);
  if (*kind == nullptr) {
    return Invalid("unknown kind '" + std::string(name) + "'; valid kinds: " + Join(KindNames())).WithField("kind");
  }
  return Status::Ok();
}

// The kind's fields, in the table's order: each read, checked and written.
// Composite values are checked for shape here and decoded after every other
// field (so an unknown entity is reported before a bad name in `names`).
template <typename View>
Status Decoder<View>::Fields(const Members& m, size_t base, const KindSpec& kind, capnp::AnyStruct::Builder out) {
  for (size_t i = 0; i < kind.fields.size(); ++i) {
    const FieldSpec& field = kind.fields[i];
    const Value* v = m.Find(base + i);
    const FieldAccess& access = field.access;
    std::string_view text;
    switch (field.type) {
      case FieldType::kText:
        TWINLINE_RETURN_IF_ERROR(Text(v, field.name, field.need, &text));
        if (!text.empty()) access.set_text(out, AsText(text));
        break;
      case FieldType::kEntity: {
        TWINLINE_RETURN_IF_ERROR(Entity(v, field.name, field.need, &text));
        if (!field.distinct_from.empty() && !text.empty()) {
          const FieldSpec* other = kind.Field(field.distinct_from);
          const capnp::Text::Reader other_slug = other->access.text(out.asReader());
          if (std::string_view(other_slug.cStr(), other_slug.size()) == text) {
            return Invalid(SameEntityMessage(field.distinct_from, text)).WithField(field.name);
          }
        }
        if (!text.empty()) access.set_text(out, AsText(text));
        break;
      }
      case FieldType::kEntityList: {
        size_t n = 0;
        TWINLINE_RETURN_IF_ERROR(EntityList(v, field.name, field.need, &n));
        auto begin = scratch_.slugs.begin();
        if (field.distinct_set) {
          // Signing is symmetric, and naming a party twice ("Chengdu",
          // "chengdu") does not add one.
          std::sort(begin, begin + static_cast<ptrdiff_t>(n));
          n = static_cast<size_t>(std::unique(begin, begin + static_cast<ptrdiff_t>(n)) - begin);
          if (n < 2) return Invalid(kTooFewDistinctEntities).WithField(field.name);
        }
        if (n > 0) {
          auto list = access.init_list(out, static_cast<unsigned>(n));
          for (size_t k = 0; k < n; ++k) list.set(static_cast<unsigned>(k), AsText(scratch_.slugs[k]));
        }
        break;
      }
      case FieldType::kEnum: {
        uint16_t value = 0;
        TWINLINE_RETURN_IF_ERROR(Enum(v, field.name, EnumNamesOf(access.enum_schema), field.default_enumerant, &value));
        access.set_enum_value(out, value);
        break;
      }
      case FieldType::kNonNegative: {
        double value = 0;
        TWINLINE_RETURN_IF_ERROR(NonNegative(v, field.name, &value));
        access.set_number(out, value);
        break;
      }
      case FieldType::kEdition: {
        // 0 is accepted as "not stated", the stored meaning of 0.
        uint64_t value = 0;
        TWINLINE_RETURN_IF_ERROR(
            Integer(v, field.name, field.need, 0, std::numeric_limits<uint32_t>::max(), &value));
        access.set_number(out, static_cast<double>(value));
        break;
      }
      case FieldType::kPeriod:
        TWINLINE_RETURN_IF_ERROR(Edtf(v, field.name));
        access.set_text(out, AsText(scratch_.date->Normalized()));
        break;
      case FieldType::kSlug:
        TWINLINE_RETURN_IF_ERROR(Text(v, field.name, field.need, &text));
        if (!IsEntitySlug(text)) {
          return Invalid(NotASlugMessage(text)).WithField(field.name);
        }
        access.set_text(out, AsText(text));
        break;
      case FieldType::kCountry: {
        // Blocs and continents span countries: no single ISO 3166-1 code.
        Need need = field.need;
        if (need == Need::kUnlessSpansCountries) {
          const auto type = out.asReader().as<schema::EntityRegistered>().getType();
          need = type == schema::EntityType::BLOC || type == schema::EntityType::CONTINENT ? Need::kOptional
                                                                                          : Need::kRequired;
        }
        TWINLINE_RETURN_IF_ERROR(Text(v, field.name, need, &text));
        if (!text.empty() && !IsCapitals(text, 2)) {
          return Invalid("'" + std::string(text) + "' is not an ISO 3166-1 alpha-2 code (two capital letters)")
              .WithField(field.name);
        }
        if (!text.empty()) access.set_text(out, AsText(text));
        break;
      }
      case FieldType::kCurrency:
        TWINLINE_RETURN_IF_ERROR(Text(v, field.name, field.need, &text));
        if (!IsCapitals(text, 3)) {
          return Invalid("'" + std::string(text) + "' is not an ISO 4217 code (three capital letters)")
              .WithField(field.name);
        }
        access.set_text(out, AsText(text));
        break;
      case FieldType::kMetric:
        TWINLINE_RETURN_IF_ERROR(Text(v, field.name, field.need, &text));
        if (!IsSnakeCase(text)) return Invalid("'" + std::string(text) + "' is not snake_case").WithField(field.name);
        access.set_text(out, AsText(text));
        break;
      case FieldType::kTarget:
        TWINLINE_RETURN_IF_ERROR(Text(v, field.name, field.need, &text));
        if (!IsEventId(text)) return Invalid("'" + std::string(text) + "' is not an event id").WithField(field.name);
        access.set_text(out, AsText(text));
        break;
      case FieldType::kNames:
      case FieldType::kFigures: {
        const Value* list = nullptr;
        TWINLINE_RETURN_IF_ERROR(Array(v, field.name, field.need, &list));
        break;
      }
      case FieldType::kLocation:
      case FieldType::kReplacement: {
        const Value* object = nullptr;
        TWINLINE_RETURN_IF_ERROR(Object(v, field.name, field.need, &object));
        break;
      }
    }
  }
  for (size_t i = 0; i < kind.fields.size(); ++i) {
    const FieldSpec& field = kind.fields[i];
    const Value* v = m.Find(base + i);
    if (v == nullptr) continue;
    switch (field.type) {
      case FieldType::kNames:
      case FieldType::kFigures:
      case FieldType::kLocation:
      case FieldType::kReplacement:
        TWINLINE_RETURN_IF_ERROR(Composite(*v, field, out));
        break;
      default:  // simple values: done above
        break;
    }
  }
  if (kind.symmetry == Symmetry::kPair) {
    // Stored with a < b: the relation is symmetric.
    const FieldAccess& a = kind.fields[0].access;
    const FieldAccess& b = kind.fields[1].access;
    auto ta = a.text(out.asReader()), tb = b.text(out.asReader());
    if (std::string_view(tb.cStr(), tb.size()) < std::string_view(ta.cStr(), ta.size())) {
      scratch_.pair_a.assign(ta.cStr(), ta.size());
      scratch_.pair_b.assign(tb.cStr(), tb.size());
      a.set_text(out, AsText(scratch_.pair_b));
      b.set_text(out, AsText(scratch_.pair_a));
    }
  }
  return Status::Ok();
}

// Decodes each element of the (non-empty) array `list` with `decode` into
// the list builder `out`, naming failures "key[i]".
template <typename View, typename ListBuilder, typename DecodeElement>
Status DecodeElements(std::string_view key, typename View::Value list, ListBuilder out, DecodeElement decode) {
  return View::ForEachElement(list, [&](size_t i, typename View::Value item) -> Status {
    Status s = decode(item, out[static_cast<unsigned>(i)]);
    if (!s.ok()) return s.WithField(std::string(key) + "[" + std::to_string(i) + "]");
    return Status::Ok();
  });
}

template <typename View>
Status Decoder<View>::Composite(const Value& v, const FieldSpec& field, capnp::AnyStruct::Builder out) {
  switch (field.type) {
    case FieldType::kNames: {
      auto reg = out.as<schema::EntityRegistered>();
      return DecodeElements<View>(field.name, v, reg.initNames(static_cast<unsigned>(View::Size(v))),
                                  [this](Value item, schema::Name::Builder b) { return Name(item, b); });
    }
    case FieldType::kFigures: {
      auto forum = out.as<schema::ForumHeld>();
      return DecodeElements<View>(field.name, v, forum.initAttendance(static_cast<unsigned>(View::Size(v))),
                                  [this](Value item, schema::Figure::Builder b) { return Figure(item, b); });
    }
    case FieldType::kLocation: {
      auto reg = out.as<schema::EntityRegistered>();
      Status s = Location(v, reg.initLocation());
      if (!s.ok()) return s.WithField(field.name);
      reg.setHasLocation(true);
      return Status::Ok();
    }
    case FieldType::kReplacement: {
      Status s = Replacement(v, out.as<schema::Amendment>());
      if (!s.ok()) return s.WithField(field.name);
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

template <typename View>
Status Decoder<View>::Name(Value v, schema::Name::Builder out) {
  TWINLINE_RETURN_IF_ERROR(ElementObject(v));
  Members m;
  TWINLINE_RETURN_IF_ERROR(m.Bind(v, kNameFields, "a name"));
  std::string_view text, lang;
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(0), "text", Need::kRequired, &text));
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(1), "lang", Need::kRequired, &lang));
  if (!IsLanguageTag(lang)) return Invalid("'" + std::string(lang) + "' is not a BCP 47 language tag").WithField("lang");
  out.setText(AsText(text));
  out.setLang(AsText(lang));
  return Status::Ok();
}

template <typename View>
Status Decoder<View>::Location(Value v, schema::GeoPoint::Builder out) {
  TWINLINE_RETURN_IF_ERROR(ElementObject(v));
  Members m;
  TWINLINE_RETURN_IF_ERROR(m.Bind(v, kLocationFields, "a location"));
  double lat = 0, lon = 0;
  TWINLINE_RETURN_IF_ERROR(Number(m.Find(0), "lat", &lat));
  if (lat < -90 || lat > 90) return Invalid("must be between -90 and 90").WithField("lat");
  TWINLINE_RETURN_IF_ERROR(Number(m.Find(1), "lon", &lon));
  if (lon < -180 || lon > 180) return Invalid("must be between -180 and 180").WithField("lon");
  out.setLat(lat);
  out.setLon(lon);
  return Status::Ok();
}

template <typename View>
Status Decoder<View>::Figure(Value v, schema::Figure::Builder out) {
  TWINLINE_RETURN_IF_ERROR(ElementObject(v));
  Members m;
  TWINLINE_RETURN_IF_ERROR(m.Bind(v, kFigureFields, "a figure"));
  std::string_view label;
  double value = 0;
  uint16_t qualifier = 0;
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(0), "label", Need::kRequired, &label));
  TWINLINE_RETURN_IF_ERROR(NonNegative(m.Find(1), "value", &value));
  static const EnumNameList& qualifiers = EnumNames(capnp::Schema::from<schema::Qualifier>());
  TWINLINE_RETURN_IF_ERROR(Enum(m.Find(2), "qualifier", qualifiers, static_cast<int>(schema::Qualifier::EXACT), &qualifier));
  out.setLabel(AsText(label));
  out.setValue(value);
  out.setQualifier(static_cast<schema::Qualifier>(qualifier));
  return Status::Ok();
}

// The `replacement` object of an amendment: kind, date and that kind's
// members, decoded with the same code as an event's.
template <typename View>
Status Decoder<View>::Replacement(Value v, schema::Amendment::Builder out) {
  TWINLINE_RETURN_IF_ERROR(ElementObject(v));
  const KindSpec* kind = nullptr;
  std::optional<Value> kind_value = FindByName(v, "kind");
  TWINLINE_RETURN_IF_ERROR(ReadKind(kind_value ? &*kind_value : nullptr, &kind));
  if (kind->is_reference) {
    return Invalid("a replacement cannot be a " + std::string(kind->name) + "; it must be a fact").WithField("kind");
  }
  for (std::string_view key : {"sources", "id", "note", "seq", "recorded_at"}) {
    if (FindByName(v, key)) {
      return Invalid("not allowed in a replacement; it belongs to the amendment itself").WithField(key);
    }
  }
  Members m;
  TWINLINE_RETURN_IF_ERROR(m.Bind(v, kReplacementEnvelope, "kind ", kind->fields, kind->name));
  TWINLINE_RETURN_IF_ERROR(Edtf(m.Find(kReplacementDate), "date"));
  SetDate(*scratch_.date, out.initValidTime());
  return Fields(m, kReplacementEnvelopeSize, *kind, kind->init(out.initReplacement()));
}

template <typename View>
Status Decoder<View>::Source(Value v, schema::Source::Builder out) {
  TWINLINE_RETURN_IF_ERROR(ElementObject(v));
  Members m;
  TWINLINE_RETURN_IF_ERROR(m.Bind(v, kSourceFields, "a source"));
  std::string_view title, publisher, language, url, quote;
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(0), "title", Need::kRequired, &title));
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(1), "publisher", Need::kRequired, &publisher));
  TWINLINE_RETURN_IF_ERROR(Edtf(m.Find(2), "published"));
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(3), "language", Need::kRequired, &language));
  if (!IsLanguageTag(language)) {
    return Invalid("'" + std::string(language) + "' is not a BCP 47 language tag (e.g. en, de, zh-Hant)")
        .WithField("language");
  }
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(4), "url", Need::kOptional, &url));
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(5), "quote", Need::kOptional, &quote));
  if (quote.size() > kMaxQuoteChars) {
    if (size_t n = CountCodePoints(quote); n > kMaxQuoteChars) {
      return Invalid("is " + std::to_string(n) + " characters long; at most " + std::to_string(kMaxQuoteChars) +
                     " are allowed")
          .WithField("quote");
    }
  }
  out.setTitle(AsText(title));
  out.setPublisher(AsText(publisher));
  out.setPublished(AsText(scratch_.date->Normalized()));
  out.setLanguage(AsText(language));
  if (!url.empty()) out.setUrl(AsText(url));
  if (!quote.empty()) out.setQuote(AsText(quote));
  return Status::Ok();
}

// The envelope date. An amendment's defaults to its replacement's date (the
// payload has been decoded by now) and, if written, must say the same.
template <typename View>
Status Decoder<View>::EventDate(const Members& m, const KindSpec& kind, schema::Event::Builder out) {
  if (kind.which != Which::AMENDMENT) {
    TWINLINE_RETURN_IF_ERROR(Edtf(m.Find(kDate), "date"));
    SetDate(*scratch_.date, out.initValidTime());
    return Status::Ok();
  }
  auto replacement_date = out.getPayload().getAmendment().getValidTime().asReader();
  if (m.Has(kDate)) {
    TWINLINE_RETURN_IF_ERROR(Edtf(m.Find(kDate), "date"));
    if (scratch_.date->Normalized() != std::string_view(replacement_date.getEdtf().cStr())) {
      return Invalid("'" + scratch_.date->Normalized() + "' differs from replacement.date '" +
                     replacement_date.getEdtf().cStr() + "'; omit it or make them equal")
          .WithField("date");
    }
  }
  out.setValidTime(replacement_date);
  return Status::Ok();
}

template <typename View>
Status Decoder<View>::RestoreFields(const Members& m, schema::Event::Builder out) {
  uint64_t seq = 0;
  std::string_view recorded_at;
  int64_t micros = 0;
  TWINLINE_RETURN_IF_ERROR(Integer(m.Find(kSeq), "seq", Need::kRequired, 1, std::numeric_limits<uint64_t>::max(), &seq));
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(kRecordedAt), "recorded_at", Need::kRequired, &recorded_at));
  Status s = ParseTimestamp(recorded_at, &micros);
  if (!s.ok()) return s.WithField("recorded_at");
  out.setSeq(seq);
  out.setRecordedAt(micros);
  return Status::Ok();
}

template <typename View>
Status Decoder<View>::Event(Value v, const DecodeOptions& options, schema::Event::Builder out) {
  if (!View::IsObject(v)) return Invalid("an event must be a JSON object, got " + View::TypeName(v));
  const KindSpec* kind = nullptr;
  std::optional<Value> kind_value = FindByName(v, "kind");
  TWINLINE_RETURN_IF_ERROR(ReadKind(kind_value ? &*kind_value : nullptr, &kind));
  // Unknown members first: a misspelt "dat" should be named as such, not
  // reported as a missing "date".
  Members m;
  TWINLINE_RETURN_IF_ERROR(m.Bind(v, kEventEnvelope, "kind ", kind->fields, kind->name));

  std::string_view id;
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(kId), "id", Need::kOptional, &id));
  if (m.Has(kId) && !IsEventId(id)) {
    return Invalid("'" + std::string(id) + "' is not an event id: 1-64 of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
        .WithField("id");
  }
  if (!id.empty()) out.setId(AsText(id));

  const bool amendment = kind->which == Which::AMENDMENT;
  if (!amendment) TWINLINE_RETURN_IF_ERROR(EventDate(m, *kind, out));
  TWINLINE_RETURN_IF_ERROR(Fields(m, kEnvelopeSize, *kind, kind->init(out.initPayload())));
  if (amendment) TWINLINE_RETURN_IF_ERROR(EventDate(m, *kind, out));

  const Value* sources = nullptr;
  TWINLINE_RETURN_IF_ERROR(Array(m.Find(kSources), "sources", Need::kRequired, &sources));
  TWINLINE_RETURN_IF_ERROR(DecodeElements<View>("sources", *sources,
                                                out.initSources(static_cast<unsigned>(View::Size(*sources))),
                                                [this](Value item, schema::Source::Builder b) { return Source(item, b); }));

  std::string_view note;
  TWINLINE_RETURN_IF_ERROR(Text(m.Find(kNote), "note", Need::kOptional, &note));
  if (!note.empty()) out.setNote(AsText(note));

  // Without --restore, seq and recorded_at are the log's to assign: an
  // export can be imported into another log as plain facts.
  if (options.restore) TWINLINE_RETURN_IF_ERROR(RestoreFields(m, out));
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// 5. Text parsing on the exact path.

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

// Every field the kind has, in the table's order: required ones always,
// optional ones when set.
void EncodeKindFields(const KindSpec& kind, capnp::AnyStruct::Reader s, ojson& j) {
  for (const FieldSpec& field : kind.fields) {
    const std::string key(field.name);
    const bool required = field.need == Need::kRequired;
    switch (field.type) {
      case FieldType::kText:
      case FieldType::kEntity:
      case FieldType::kPeriod:
      case FieldType::kSlug:
      case FieldType::kCountry:
      case FieldType::kCurrency:
      case FieldType::kMetric:
      case FieldType::kTarget: {
        capnp::Text::Reader t = field.access.text(s);
        if (required || t.size() != 0) j[key] = Str(t);
        break;
      }
      case FieldType::kEntityList: {
        auto list = field.access.list(s);
        if (required || list.size() != 0) j[key] = EntityListJson(list);
        break;
      }
      case FieldType::kEnum:
        j[key] = EnumJson(field.access.enum_schema(), field.access.enum_value(s));
        break;
      case FieldType::kNonNegative:
        j[key] = NumberJson(field.access.number(s));
        break;
      case FieldType::kEdition:
        if (field.access.number(s) != 0) j[key] = static_cast<uint32_t>(field.access.number(s));
        break;
      case FieldType::kNames: {
        ojson names = ojson::array();
        for (auto n : s.as<schema::EntityRegistered>().getNames()) {
          names.push_back({{"text", Str(n.getText())}, {"lang", Str(n.getLang())}});
        }
        j[key] = std::move(names);
        break;
      }
      case FieldType::kLocation: {
        auto e = s.as<schema::EntityRegistered>();
        if (e.getHasLocation()) {
          j[key] = {{"lat", NumberJson(e.getLocation().getLat())}, {"lon", NumberJson(e.getLocation().getLon())}};
        }
        break;
      }
      case FieldType::kFigures: {
        auto attendance = s.as<schema::ForumHeld>().getAttendance();
        if (attendance.size() == 0) break;
        ojson figures = ojson::array();
        for (auto fig : attendance) {
          figures.push_back({{"label", Str(fig.getLabel())},
                             {"value", NumberJson(fig.getValue())},
                             {"qualifier", EnumJson(capnp::Schema::from<schema::Qualifier>(),
                                                    static_cast<uint16_t>(fig.getQualifier()))}});
        }
        j[key] = std::move(figures);
        break;
      }
      case FieldType::kReplacement: {
        auto a = s.as<schema::Amendment>();
        ojson replacement;
        replacement["kind"] = std::string(KindName(a.getReplacement().which()));
        replacement["date"] = Str(a.getValidTime().getEdtf());
        EncodePayloadFields(a.getReplacement(), replacement);
        j[key] = std::move(replacement);
        break;
      }
    }
  }
}

void EncodePayloadFields(schema::Payload::Reader p, ojson& j) {
  const KindSpec* kind = FindKind(p.which());
  if (kind != nullptr) EncodeKindFields(*kind, kind->get(p), j);
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

// Drops whatever a failed decode left in `out`, so that the exact path
// starts from an empty event.
void ResetEvent(schema::Event::Builder out) {
  out.setSeq(0);
  out.setRecordedAt(0);
  if (out.hasValidTime()) out.disownValidTime();
  if (out.hasId()) out.disownId();
  if (out.hasSources()) out.disownSources();
  if (out.hasPayload()) out.disownPayload();
  if (out.hasNote()) out.disownNote();
}

// The exact path: nlohmann's parse (with its syntax, duplicate and nesting
// checks) and the decoder over its tree.
Status DecodeExact(std::string_view text, EntityResolver& resolver, const DecodeOptions& options,
                   Scratch& scratch, schema::Event::Builder out) {
  json j;
  TWINLINE_RETURN_IF_ERROR(ParseJsonText(text, &j));
  // The checked accessors should not throw; this is the backstop for the
  // promise that nothing does.
  try {
    return Decoder<NlohmannView>(resolver, scratch).Event(&j, options, out);
  } catch (const json::exception& e) {
    return Invalid(ExceptionDetail(e.what()));
  }
}

// Deeper than any event (the exact path names the limit, kMaxNestingDepth).
constexpr size_t kSimdMaxDepth = 2 * kMaxNestingDepth;

}  // namespace

// ---------------------------------------------------------------------------
// 4. EventDecoder.

struct EventDecoder::Impl {
  Impl(EntityResolver& r, const DecodeOptions& o) : resolver(r), options(o) {}

  EntityResolver& resolver;
  DecodeOptions options;
  simdjson::dom::parser parser;
  std::vector<char> padded;  // the line, followed by simdjson's padding
  Scratch scratch;
};

EventDecoder::EventDecoder(EntityResolver& resolver, const DecodeOptions& options)
    : impl_(std::make_unique<Impl>(resolver, options)) {}

EventDecoder::~EventDecoder() = default;

Status EventDecoder::Decode(std::string_view text, schema::Event::Builder out) {
  Impl& d = *impl_;
  if (d.padded.size() < text.size() + simdjson::SIMDJSON_PADDING) {
    d.padded.resize(std::max(text.size() + simdjson::SIMDJSON_PADDING, 2 * d.padded.size()));
  }
  std::memcpy(d.padded.data(), text.data(), text.size());
  std::memset(d.padded.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  if (d.parser.max_depth() != kSimdMaxDepth) {
    if (d.parser.allocate(std::max<size_t>(text.size(), 4096), kSimdMaxDepth) != simdjson::SUCCESS) {
      return DecodeExact(text, d.resolver, d.options, d.scratch, out);
    }
  }
  simdjson::dom::element root;
  if (d.parser.parse(d.padded.data(), text.size(), false).get(root) == simdjson::SUCCESS) {
    Status s = Decoder<SimdView>(d.resolver, d.scratch).Event(root, d.options, out);
    if (s.ok()) return s;
    ResetEvent(out);
  }
  return DecodeExact(text, d.resolver, d.options, d.scratch, out);
}

// ---------------------------------------------------------------------------
// Public API.

std::string_view KindName(schema::Payload::Which which) {
  const KindSpec* kind = FindKind(which);
  return kind != nullptr ? kind->name : std::string_view();
}

std::optional<schema::Payload::Which> ParseKind(std::string_view name) {
  const KindSpec* kind = FindKind(name);
  if (kind == nullptr) return std::nullopt;
  return kind->which;
}

Status DecodeEvent(const nlohmann::json& j, EntityResolver& resolver, const DecodeOptions& options,
                   schema::Event::Builder out) {
  Scratch scratch;
  try {
    return Decoder<NlohmannView>(resolver, scratch).Event(&j, options, out);
  } catch (const json::exception& e) {
    return Invalid(ExceptionDetail(e.what()));
  }
}

// One text, one decode: the exact path alone (a parser set up for one line
// would cost more than simdjson saves on it). Line after line, EventDecoder.
Status DecodeEventText(std::string_view text, EntityResolver& resolver, const DecodeOptions& options,
                       schema::Event::Builder out) {
  Scratch scratch;
  return DecodeExact(text, resolver, options, scratch, out);
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
