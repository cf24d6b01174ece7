// The one home of every event kind: one row per member of the Payload union
// (schemas/twinline.capnp) saying what the kind is made of and what follows
// from it. Everything that treats kinds differently reads this table:
//
//   * the JSON/NDJSON codec (events/json_codec.h): member names, types,
//     required/optional, defaults, the checks and their messages, the order
//     in which fields are read and written;
//   * identity (core/identity.h): which fields name entities (EntityRefs),
//     which relation is symmetric (NormalizePayload), the target of a
//     reference;
//   * the one-line summary (`log`, timelines): Summary();
//   * what a kind feeds in projections (edge, counters, report, trade) and
//     the role of each field in it: Feed and FieldSpec::role, which
//     projections/state.h's Classify and RowsFed read;
//   * the log's validation of payloads built without the codec.
//
// Adding a kind: grow the schema, add one row to kinds.cc (and a case to
// KindIndex below, which the compiler asks for).
//
// Contract:
//  * Kinds() holds one KindSpec per Payload union member, indexed by the
//    member's discriminant; Kind(which) is that row. A discriminant from a
//    newer schema has no row: FindKind returns null for it.
//  * A KindSpec's fields are listed in the order docs/EVENTS.md lists them,
//    which is the order the decoder checks them (so the first problem of an
//    event is the one reported) and the order the encoder writes them.
//  * FieldAccess functions read and write one field of the kind's struct,
//    given as capnp::AnyStruct; they are plain function pointers (no
//    dynamic schema lookups), so the decoder's hot path can use them.
#ifndef TWINLINE_CORE_KINDS_H_
#define TWINLINE_CORE_KINDS_H_

#include <capnp/any.h>
#include <capnp/schema.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "schemas/twinline.capnp.h"

namespace twinline {

// What a field holds, and so how it is read, checked and written.
enum class FieldType : uint8_t {
  kText,         // free text; a required one must not be blank
  kEntity,       // an entity reference (slug or any registered name); the slug is stored
  kEntityList,   // an array of entity references
  kEnum,         // one of an enumeration's snake_case names
  kNonNegative,  // a finite number >= 0
  kEdition,      // an integer 0..2^32-1; 0 means "not stated"
  kPeriod,       // an EDTF expression, stored normalised
  kSlug,         // the id slug of a new entity
  kCountry,      // ISO 3166-1 alpha-2: two capital letters
  kCurrency,     // ISO 4217: three capital letters
  kMetric,       // snake_case
  kTarget,       // an event id
  // Composite values, each bound to the one struct that has it:
  kNames,        // EntityRegistered.names: [{"text", "lang"}], at least one
  kLocation,     // EntityRegistered.location (+ hasLocation): {"lat", "lon"}
  kFigures,      // ForumHeld.attendance: [{"label", "value", "qualifier"}]
  kReplacement,  // Amendment.replacement (+ validTime): {"kind", "date", ...}
};

enum class Need : uint8_t {
  kRequired,
  kOptional,
  kUnlessSpansCountries,  // required unless the entity type is a bloc or continent
};

// What a field is in the projections (docs/PROJECTIONS.md): an end of an
// edge, the entity a counter, report or trade figure belongs to, and the
// parts of a report's or trade figure's key and value. Classify
// (projections/state.h) reads a fact's key from these alone.
enum class Role : uint8_t {
  kNone,
  kEdgeFrom,     // partnership a, route from
  kEdgeTo,       // partnership b, route to
  kSubkind,      // partnership kind, route mode (an enum field)
  kCounted,      // the entity (or entities) whose `counter` goes up (FieldSpec::counter)
  kReporter,     // count/trade: whose figure it is
  kCounterpart,  // trade: the partner; count: the scope
  kMetric,       // count: what is counted
  kFigure,       // count: the value; trade: the amount
  kQualifier,    // count: exact, nearly, ... (an enum field)
  kPeriod,       // trade: the period the figure covers
  kCurrency,     // trade: the amount's currency
  kFlow,         // trade: total, exports, imports (an enum field)
};

// What a kind's effective facts feed in projections.
enum class Feed : uint8_t {
  kNothing,  // registrations and references carry no projected state
  kPartnershipEdge,
  kRouteEdge,
  kCounters,  // one or more (entity, counter) pairs
  kReport,    // an entity's own published figure
  kTrade,     // a trade figure
};

// Typed access to one field of a kind's struct. Which members are set
// depends on the FieldType: text-like types use text/set_text, kEntityList
// list/init_list, kEnum enum_value/set_enum_value (+ enum_schema), numbers
// number/set_number. Composite types have none.
struct FieldAccess {
  capnp::Text::Reader (*text)(capnp::AnyStruct::Reader) = nullptr;
  void (*set_text)(capnp::AnyStruct::Builder, capnp::Text::Reader) = nullptr;
  capnp::List<capnp::Text>::Reader (*list)(capnp::AnyStruct::Reader) = nullptr;
  capnp::List<capnp::Text>::Builder (*init_list)(capnp::AnyStruct::Builder, unsigned) = nullptr;
  uint16_t (*enum_value)(capnp::AnyStruct::Reader) = nullptr;
  void (*set_enum_value)(capnp::AnyStruct::Builder, uint16_t) = nullptr;
  capnp::EnumSchema (*enum_schema)() = nullptr;
  double (*number)(capnp::AnyStruct::Reader) = nullptr;
  void (*set_number)(capnp::AnyStruct::Builder, double) = nullptr;
};

struct FieldSpec {
  std::string_view name;  // JSON member ("partnership")
  FieldType type;
  Need need;
  FieldAccess access;
  // kEnum: the enumerant an absent member means (-1: none, it is required).
  int default_enumerant = -1;
  // kEntity: the earlier field this one must differ from ("names the same
  // entity as a ('chengdu')"); empty when none.
  std::string_view distinct_from;
  // kEntityList: stored sorted and de-duplicated, and then at least two
  // ("needs at least two distinct entities").
  bool distinct_set = false;
  Role role = Role::kNone;
  std::string_view counter;  // Role::kCounted: "forums", "offices_hosted", ...
  // The fact-table column this field is read from (events/fact_table.h):
  // a column name ("name", "amount"), "subject" or "object" (a place),
  // "subject+object" (both, as a list) or "period" (date, or
  // date/end_date); empty when a fact table cannot give it. The value an
  // absent column or empty cell means, if any, is column_default.
  std::string_view column;
  std::string_view column_default;

  // Builders for the table's rows: F(...).Default(x).DistinctFrom("a").
  constexpr FieldSpec Default(int enumerant) const {
    FieldSpec f = *this;
    f.default_enumerant = enumerant;
    return f;
  }
  constexpr FieldSpec DistinctFrom(std::string_view other) const {
    FieldSpec f = *this;
    f.distinct_from = other;
    return f;
  }
  constexpr FieldSpec DistinctSet() const {
    FieldSpec f = *this;
    f.distinct_set = true;
    return f;
  }
  constexpr FieldSpec Col(std::string_view name, std::string_view fallback = {}) const {
    FieldSpec f = *this;
    f.column = name;
    f.column_default = fallback;
    return f;
  }
  constexpr FieldSpec As(Role r, std::string_view counter_name = {}) const {
    FieldSpec f = *this;
    f.role = r;
    f.counter = counter_name;
    return f;
  }

  bool IsEntity() const {
    return type == FieldType::kEntity || type == FieldType::kEntityList || type == FieldType::kSlug;
  }
  bool IsTextLike() const {
    return type == FieldType::kText || type == FieldType::kEntity || type == FieldType::kPeriod ||
           type == FieldType::kSlug || type == FieldType::kCountry ||
           type == FieldType::kCurrency || type == FieldType::kMetric || type == FieldType::kTarget;
  }
};

// How the identity of a fact treats the kind (docs/EVENTS.md, "Identity").
enum class Symmetry : uint8_t {
  kNone,
  kPair,  // the first two fields are one unordered pair: stored a < b
  kSet,   // the distinct_set field is an unordered set: stored sorted, distinct
};

struct KindSpec {
  schema::Payload::Which which;
  std::string_view name;  // "partnership_established"
  std::span<const FieldSpec> fields;
  capnp::AnyStruct::Reader (*get)(schema::Payload::Reader);
  capnp::AnyStruct::Builder (*init)(schema::Payload::Builder);  // sets the member, empty
  capnp::AnyStruct::Builder (*edit)(schema::Payload::Builder);  // the member already set
  Symmetry symmetry = Symmetry::kNone;
  bool is_reference = false;  // retraction, amendment, corroboration: about another event
  Feed feed = Feed::kNothing;
  bool establishes = false;  // kPartnershipEdge / kRouteEdge: begins (else ends) the edge
  // The one-line summary `log` and timelines print ("chengdu — montpellier
  // (sister city)").
  std::string (*summary)(schema::Payload::Reader);

  // The field called `name`, or null.
  const FieldSpec* Field(std::string_view field_name) const;
};

// Every kind, indexed by discriminant.
std::span<const KindSpec> Kinds();

// The row of `which`, or null for a member this build does not know.
const KindSpec* FindKind(schema::Payload::Which which);
// The row of a kind this build knows (every Which it was compiled with).
const KindSpec& Kind(schema::Payload::Which which);
// The row called `name` ("route_opened"), or null.
const KindSpec* FindKind(std::string_view name);

// The one-line summary of a payload ("chengdu → eu trade 2024:
// 142,160,000,000 CNY total"); the kind's number for an unknown kind.
std::string Summary(schema::Payload::Reader payload);

// 142160000000 -> "142,160,000,000": fixed notation, integer digits grouped
// by thousands.
std::string FormatGroupedNumber(double value);

// How a count's qualifier reads before its value: "=", "≈", "nearly", ">",
// "≥" (as in the summaries).
std::string QualifierWord(schema::Qualifier qualifier);

// "'Chengdu' is not an entity id: 1-64 of a-z, 0-9 and '-', ...".
std::string NotASlugMessage(std::string_view text);

// The message of a broken distinct_set rule.
inline constexpr char kTooFewDistinctEntities[] = "needs at least two distinct entities";

// The message of a broken distinct_from rule, the one wording of it: "names
// the same entity as a ('chengdu')".
std::string SameEntityMessage(std::string_view other_field, std::string_view slug);

}  // namespace twinline

#endif  // TWINLINE_CORE_KINDS_H_
