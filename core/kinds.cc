// The kind table (see kinds.h). Layout: the accessor templates that turn a
// generated getter/setter pair into a FieldAccess, the summary helpers, then
// one block per kind: its fields, its summary and its row.
#include "core/kinds.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "core/schema_names.h"

namespace twinline {
namespace {

using Which = schema::Payload::Which;
using AnyReader = capnp::AnyStruct::Reader;
using AnyBuilder = capnp::AnyStruct::Builder;
using P = schema::Payload::Reader;

// ---------------------------------------------------------------------------
// Accessors: a generated getter (S::Reader::getX) and setter (S::Builder::setX
// or initX) become plain functions over AnyStruct.

template <typename M>
struct Member;
template <typename C, typename R>
struct Member<R (C::*)() const> {
  using Class = C;
  using Result = R;
};
template <typename C, typename R, typename A>
struct Member<R (C::*)(A)> {
  using Class = C;
  using Arg = A;
};

template <auto Get>
using StructOf = typename Member<decltype(Get)>::Class::Reads;

template <auto Get, auto Set>
constexpr FieldAccess TextAccess() {
  using S = StructOf<Get>;
  FieldAccess a;
  a.text = [](AnyReader r) -> capnp::Text::Reader { return (r.as<S>().*Get)(); };
  a.set_text = [](AnyBuilder b, capnp::Text::Reader v) { (b.as<S>().*Set)(v); };
  return a;
}

template <auto Get, auto Init>
constexpr FieldAccess ListAccess() {
  using S = StructOf<Get>;
  FieldAccess a;
  a.list = [](AnyReader r) -> capnp::List<capnp::Text>::Reader { return (r.as<S>().*Get)(); };
  a.init_list = [](AnyBuilder b, unsigned n) -> capnp::List<capnp::Text>::Builder {
    return (b.as<S>().*Init)(n);
  };
  return a;
}

template <auto Get, auto Set>
constexpr FieldAccess EnumAccess() {
  using S = StructOf<Get>;
  using E = typename Member<decltype(Get)>::Result;
  FieldAccess a;
  a.enum_value = [](AnyReader r) -> uint16_t { return static_cast<uint16_t>((r.as<S>().*Get)()); };
  a.set_enum_value = [](AnyBuilder b, uint16_t v) { (b.as<S>().*Set)(static_cast<E>(v)); };
  a.enum_schema = [] { return capnp::Schema::from<E>(); };
  return a;
}

template <auto Get, auto Set>
constexpr FieldAccess NumberAccess() {
  using S = StructOf<Get>;
  using T = typename Member<decltype(Get)>::Result;
  FieldAccess a;
  a.number = [](AnyReader r) -> double { return static_cast<double>((r.as<S>().*Get)()); };
  a.set_number = [](AnyBuilder b, double v) { (b.as<S>().*Set)(static_cast<T>(v)); };
  return a;
}

#define TL_TEXT(S, F) TextAccess<&schema::S::Reader::get##F, &schema::S::Builder::set##F>()
#define TL_LIST(S, F) ListAccess<&schema::S::Reader::get##F, &schema::S::Builder::init##F>()
#define TL_ENUM(S, F) EnumAccess<&schema::S::Reader::get##F, &schema::S::Builder::set##F>()
#define TL_NUMBER(S, F) NumberAccess<&schema::S::Reader::get##F, &schema::S::Builder::set##F>()

constexpr FieldAccess kNoAccess{};

constexpr FieldSpec F(std::string_view name, FieldType type, Need need, FieldAccess access) {
  FieldSpec f{};
  f.name = name;
  f.type = type;
  f.need = need;
  f.access = access;
  return f;
}

// ---------------------------------------------------------------------------
// Summary helpers.

std::string S(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// "sister_city" -> "sister city".
std::string Words(std::string s) {
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

template <typename E>
std::string EnumText(E value) {
  return EnumerantName(capnp::Schema::from<E>(), static_cast<uint16_t>(value));
}

std::string WithPrefix(const std::string& prefix, const std::string& value) {
  return value.empty() ? "" : prefix + value;
}

std::string Joined(capnp::List<capnp::Text>::Reader list) {
  std::string out;
  for (auto item : list) {
    if (!out.empty()) out += ", ";
    out += S(item);
  }
  return out;
}

std::string Ordinal(uint64_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

}  // namespace

std::string QualifierWord(schema::Qualifier q) {
  switch (q) {
    case schema::Qualifier::EXACT:
      return "=";
    case schema::Qualifier::APPROXIMATELY:
      return "≈";
    case schema::Qualifier::NEARLY:
      return "nearly";
    case schema::Qualifier::MORE_THAN:
      return ">";
    case schema::Qualifier::AT_LEAST:
      return "≥";
  }
  return "=";  // a qualifier from a newer schema
}

namespace {

// ---------------------------------------------------------------------------
// The kinds.

constexpr FieldSpec kEntityRegisteredFields[] = {
    F("entity", FieldType::kSlug, Need::kRequired, TL_TEXT(EntityRegistered, Entity)),
    F("type", FieldType::kEnum, Need::kRequired, TL_ENUM(EntityRegistered, Type)),
    F("names", FieldType::kNames, Need::kRequired, kNoAccess),
    F("country", FieldType::kCountry, Need::kUnlessSpansCountries,
      TL_TEXT(EntityRegistered, Country)),
    F("location", FieldType::kLocation, Need::kOptional, kNoAccess),
    F("parent", FieldType::kEntity, Need::kOptional, TL_TEXT(EntityRegistered, Parent)),
};

std::string EntityRegisteredSummary(P p) {
  auto e = p.getEntityRegistered();
  std::string name = e.getNames().size() > 0 ? S(e.getNames()[0].getText()) : "";
  return S(e.getEntity()) + ": " + EnumText(e.getType()) + " " + name +
         WithPrefix(" (", S(e.getCountry())) + (e.getCountry().size() > 0 ? ")" : "");
}

// Shared by partnership_established and partnership_ended.
constexpr FieldSpec kPartnershipFields[] = {
    F("a", FieldType::kEntity, Need::kRequired, TL_TEXT(Partnership, A)).Col("subject").As(Role::kEdgeFrom),
    F("b", FieldType::kEntity, Need::kRequired, TL_TEXT(Partnership, B)).Col("object")
        .DistinctFrom("a")
        .As(Role::kEdgeTo),
    F("partnership", FieldType::kEnum, Need::kRequired, TL_ENUM(Partnership, Kind)).Col("partnership_kind", "sister_city")
        .As(Role::kSubkind),
    F("detail", FieldType::kText, Need::kOptional, TL_TEXT(Partnership, Detail)),
};

std::string PartnershipSummary(schema::Partnership::Reader x, bool ended) {
  return S(x.getA()) + " — " + S(x.getB()) + " (" + Words(EnumText(x.getKind())) + ")" +
         (ended ? " ended" : "") + WithPrefix(": ", S(x.getDetail()));
}

constexpr FieldSpec kAgreementFields[] = {
    F("parties", FieldType::kEntityList, Need::kRequired, TL_LIST(AgreementSigned, Parties)).Col("subject+object")
        .DistinctSet()
        .As(Role::kCounted, "agreements"),
    F("title", FieldType::kText, Need::kRequired, TL_TEXT(AgreementSigned, Title)).Col("name"),
    F("agreement", FieldType::kEnum, Need::kRequired, TL_ENUM(AgreementSigned, Kind)).Col("agreement_kind", "cooperation"),
};

std::string AgreementSummary(P p) {
  auto a = p.getAgreementSigned();
  return Joined(a.getParties()) + ": " + S(a.getTitle()) + " (" + Words(EnumText(a.getKind())) +
         ")";
}

constexpr FieldSpec kForumFields[] = {
    F("host", FieldType::kEntity, Need::kRequired, TL_TEXT(ForumHeld, Host)).Col("subject")
        .As(Role::kCounted, "forums"),
    F("name", FieldType::kText, Need::kRequired, TL_TEXT(ForumHeld, Name)).Col("name"),
    F("edition", FieldType::kEdition, Need::kOptional, TL_NUMBER(ForumHeld, Edition)),
    F("venue", FieldType::kEntity, Need::kOptional, TL_TEXT(ForumHeld, Venue)).Col("object"),
    F("organiser", FieldType::kEntity, Need::kOptional, TL_TEXT(ForumHeld, Organiser)),
    F("attendance", FieldType::kFigures, Need::kOptional, kNoAccess),
};

std::string ForumSummary(P p) {
  auto f = p.getForumHeld();
  return S(f.getHost()) + ": " + (f.getEdition() > 0 ? Ordinal(f.getEdition()) + " " : "") +
         S(f.getName()) + WithPrefix(" in ", S(f.getVenue()));
}

// Shared by route_opened and route_closed.
constexpr FieldSpec kRouteFields[] = {
    F("from", FieldType::kEntity, Need::kRequired, TL_TEXT(Route, From)).Col("subject").As(Role::kEdgeFrom),
    F("to", FieldType::kEntity, Need::kRequired, TL_TEXT(Route, To)).Col("object")
        .DistinctFrom("from")
        .As(Role::kEdgeTo),
    F("mode", FieldType::kEnum, Need::kRequired, TL_ENUM(Route, Mode)).Col("route_mode", "rail").As(Role::kSubkind),
    F("operator", FieldType::kEntity, Need::kOptional, TL_TEXT(Route, Operator)),
    F("name", FieldType::kText, Need::kOptional, TL_TEXT(Route, Name)).Col("name"),
};

std::string RouteSummary(schema::Route::Reader r, bool closed) {
  return S(r.getFrom()) + " → " + S(r.getTo()) + " (" + Words(EnumText(r.getMode())) + ")" +
         WithPrefix(": ", S(r.getName())) + (closed ? " closed" : "");
}

constexpr FieldSpec kOfficeFields[] = {
    F("owner", FieldType::kEntity, Need::kRequired, TL_TEXT(OfficeOpened, Owner)).Col("subject")
        .As(Role::kCounted, "offices"),
    F("host", FieldType::kEntity, Need::kRequired, TL_TEXT(OfficeOpened, Host)).Col("object")
        .As(Role::kCounted, "offices_hosted"),
    F("name", FieldType::kText, Need::kRequired, TL_TEXT(OfficeOpened, Name)).Col("name"),
};

std::string OfficeSummary(P p) {
  auto o = p.getOfficeOpened();
  return S(o.getOwner()) + ": " + S(o.getName()) + " in " + S(o.getHost());
}

constexpr FieldSpec kOrganisationFields[] = {
    F("organisation", FieldType::kEntity, Need::kRequired,
      TL_TEXT(OrganisationFounded, Organisation)).Col("object"),
    F("founder", FieldType::kEntity, Need::kRequired, TL_TEXT(OrganisationFounded, Founder)).Col("subject")
        .As(Role::kCounted, "organisations"),
    F("purpose", FieldType::kText, Need::kOptional, TL_TEXT(OrganisationFounded, Purpose)),
};

std::string OrganisationSummary(P p) {
  auto o = p.getOrganisationFounded();
  return S(o.getFounder()) + " founded " + S(o.getOrganisation()) +
         WithPrefix(": ", S(o.getPurpose()));
}

constexpr FieldSpec kAwardFields[] = {
    F("recipient", FieldType::kEntity, Need::kRequired, TL_TEXT(AwardGranted, Recipient)).Col("subject")
        .As(Role::kCounted, "awards"),
    F("grantor", FieldType::kEntity, Need::kRequired, TL_TEXT(AwardGranted, Grantor)).Col("object"),
    F("name", FieldType::kText, Need::kRequired, TL_TEXT(AwardGranted, Name)).Col("name"),
};

std::string AwardSummary(P p) {
  auto a = p.getAwardGranted();
  return S(a.getGrantor()) + " → " + S(a.getRecipient()) + ": " + S(a.getName());
}

constexpr FieldSpec kTradeFields[] = {
    F("reporter", FieldType::kEntity, Need::kRequired, TL_TEXT(TradeVolumeReported, Reporter)).Col("subject")
        .As(Role::kReporter),
    F("partner", FieldType::kEntity, Need::kRequired, TL_TEXT(TradeVolumeReported, Partner)).Col("object")
        .As(Role::kCounterpart),
    F("period", FieldType::kPeriod, Need::kRequired, TL_TEXT(TradeVolumeReported, Period)).Col("period")
        .As(Role::kPeriod),
    F("amount", FieldType::kNonNegative, Need::kRequired, TL_NUMBER(TradeVolumeReported, Amount)).Col("amount")
        .As(Role::kFigure),
    F("currency", FieldType::kCurrency, Need::kRequired, TL_TEXT(TradeVolumeReported, Currency)).Col("currency")
        .As(Role::kCurrency),
    F("flow", FieldType::kEnum, Need::kRequired, TL_ENUM(TradeVolumeReported, Flow)).Col("flow", "total")
        .As(Role::kFlow),
};

std::string TradeSummary(P p) {
  auto t = p.getTradeVolumeReported();
  return S(t.getReporter()) + " → " + S(t.getPartner()) + " trade " + S(t.getPeriod()) + ": " +
         FormatGroupedNumber(t.getAmount()) + " " + S(t.getCurrency()) + " " +
         EnumText(t.getFlow());
}

constexpr FieldSpec kCountFields[] = {
    F("entity", FieldType::kEntity, Need::kRequired, TL_TEXT(CountReported, Entity)).Col("subject")
        .As(Role::kReporter),
    F("metric", FieldType::kMetric, Need::kRequired, TL_TEXT(CountReported, Metric)).Col("metric")
        .As(Role::kMetric),
    F("value", FieldType::kNonNegative, Need::kRequired, TL_NUMBER(CountReported, Value)).Col("value")
        .As(Role::kFigure),
    F("qualifier", FieldType::kEnum, Need::kOptional, TL_ENUM(CountReported, Qualifier))
        .Default(static_cast<int>(schema::Qualifier::EXACT))
        .As(Role::kQualifier),
    F("scope", FieldType::kEntity, Need::kOptional, TL_TEXT(CountReported, Scope)).Col("object")
        .As(Role::kCounterpart),
    F("wording", FieldType::kText, Need::kOptional, TL_TEXT(CountReported, Wording)),
};

std::string CountSummary(P p) {
  auto c = p.getCountReported();
  return S(c.getEntity()) + " reports " + S(c.getMetric()) + " " + QualifierWord(c.getQualifier()) +
         " " + FormatGroupedNumber(c.getValue()) + WithPrefix(" in ", S(c.getScope()));
}

constexpr FieldSpec kInitiativeFields[] = {
    F("owner", FieldType::kEntity, Need::kRequired, TL_TEXT(InitiativeLaunched, Owner)).Col("subject")
        .As(Role::kCounted, "initiatives"),
    F("name", FieldType::kText, Need::kRequired, TL_TEXT(InitiativeLaunched, Name)).Col("name"),
    F("partners", FieldType::kEntityList, Need::kOptional, TL_LIST(InitiativeLaunched, Partners)),
};

std::string InitiativeSummary(P p) {
  auto i = p.getInitiativeLaunched();
  return S(i.getOwner()) + " launched " + S(i.getName()) +
         WithPrefix(" with ", Joined(i.getPartners()));
}

constexpr FieldSpec kRetractionFields[] = {
    F("target", FieldType::kTarget, Need::kRequired, TL_TEXT(Retraction, Target)),
    F("reason", FieldType::kText, Need::kRequired, TL_TEXT(Retraction, Reason)),
};

constexpr FieldSpec kAmendmentFields[] = {
    F("target", FieldType::kTarget, Need::kRequired, TL_TEXT(Amendment, Target)),
    F("reason", FieldType::kText, Need::kRequired, TL_TEXT(Amendment, Reason)),
    F("replacement", FieldType::kReplacement, Need::kRequired, kNoAccess),
};

constexpr FieldSpec kCorroborationFields[] = {
    F("target", FieldType::kTarget, Need::kRequired, TL_TEXT(Corroboration, Target)),
};

// The row of each union member: AnyStruct views of the member.
#define TL_MEMBER(Getter, Init)                                                         \
  [](schema::Payload::Reader p) -> capnp::AnyStruct::Reader { return p.Getter(); },     \
      [](schema::Payload::Builder p) -> capnp::AnyStruct::Builder { return p.Init(); }, \
      [](schema::Payload::Builder p) -> capnp::AnyStruct::Builder { return p.Getter(); }

const KindSpec kKinds[] = {
    {Which::ENTITY_REGISTERED, "entity_registered", kEntityRegisteredFields,
     TL_MEMBER(getEntityRegistered, initEntityRegistered), Symmetry::kNone, false, Feed::kNothing,
     false, EntityRegisteredSummary},
    {Which::PARTNERSHIP_ESTABLISHED, "partnership_established", kPartnershipFields,
     TL_MEMBER(getPartnershipEstablished, initPartnershipEstablished), Symmetry::kPair, false,
     Feed::kPartnershipEdge, true,
     [](P p) { return PartnershipSummary(p.getPartnershipEstablished(), false); }},
    {Which::PARTNERSHIP_ENDED, "partnership_ended", kPartnershipFields,
     TL_MEMBER(getPartnershipEnded, initPartnershipEnded), Symmetry::kPair, false,
     Feed::kPartnershipEdge, false,
     [](P p) { return PartnershipSummary(p.getPartnershipEnded(), true); }},
    {Which::AGREEMENT_SIGNED, "agreement_signed", kAgreementFields,
     TL_MEMBER(getAgreementSigned, initAgreementSigned), Symmetry::kSet, false, Feed::kCounters,
     false, AgreementSummary},
    {Which::FORUM_HELD, "forum_held", kForumFields, TL_MEMBER(getForumHeld, initForumHeld),
     Symmetry::kNone, false, Feed::kCounters, false, ForumSummary},
    {Which::ROUTE_OPENED, "route_opened", kRouteFields, TL_MEMBER(getRouteOpened, initRouteOpened),
     Symmetry::kNone, false, Feed::kRouteEdge, true,
     [](P p) { return RouteSummary(p.getRouteOpened(), false); }},
    {Which::ROUTE_CLOSED, "route_closed", kRouteFields, TL_MEMBER(getRouteClosed, initRouteClosed),
     Symmetry::kNone, false, Feed::kRouteEdge, false,
     [](P p) { return RouteSummary(p.getRouteClosed(), true); }},
    {Which::OFFICE_OPENED, "office_opened", kOfficeFields,
     TL_MEMBER(getOfficeOpened, initOfficeOpened), Symmetry::kNone, false, Feed::kCounters, false,
     OfficeSummary},
    {Which::ORGANISATION_FOUNDED, "organisation_founded", kOrganisationFields,
     TL_MEMBER(getOrganisationFounded, initOrganisationFounded), Symmetry::kNone, false,
     Feed::kCounters, false, OrganisationSummary},
    {Which::AWARD_GRANTED, "award_granted", kAwardFields,
     TL_MEMBER(getAwardGranted, initAwardGranted), Symmetry::kNone, false, Feed::kCounters, false,
     AwardSummary},
    {Which::TRADE_VOLUME_REPORTED, "trade_volume_reported", kTradeFields,
     TL_MEMBER(getTradeVolumeReported, initTradeVolumeReported), Symmetry::kNone, false,
     Feed::kTrade, false, TradeSummary},
    {Which::COUNT_REPORTED, "count_reported", kCountFields,
     TL_MEMBER(getCountReported, initCountReported), Symmetry::kNone, false, Feed::kReport, false,
     CountSummary},
    {Which::INITIATIVE_LAUNCHED, "initiative_launched", kInitiativeFields,
     TL_MEMBER(getInitiativeLaunched, initInitiativeLaunched), Symmetry::kNone, false,
     Feed::kCounters, false, InitiativeSummary},
    {Which::RETRACTION, "retraction", kRetractionFields, TL_MEMBER(getRetraction, initRetraction),
     Symmetry::kNone, true, Feed::kNothing, false,
     [](P p) {
       auto r = p.getRetraction();
       return "retracts " + S(r.getTarget()) + WithPrefix(": ", S(r.getReason()));
     }},
    {Which::AMENDMENT, "amendment", kAmendmentFields, TL_MEMBER(getAmendment, initAmendment),
     Symmetry::kNone, true, Feed::kNothing, false,
     [](P p) {
       auto a = p.getAmendment();
       return "amends " + S(a.getTarget()) + WithPrefix(": ", S(a.getReason()));
     }},
    {Which::CORROBORATION, "corroboration", kCorroborationFields,
     TL_MEMBER(getCorroboration, initCorroboration), Symmetry::kNone, true, Feed::kNothing, false,
     [](P p) { return "corroborates " + S(p.getCorroboration().getTarget()); }},
};

// The row index of each kind. No default: a new union member is a compiler
// warning here until it has a row.
constexpr size_t KindIndex(Which which) {
  switch (which) {
    case Which::ENTITY_REGISTERED:
      return 0;
    case Which::PARTNERSHIP_ESTABLISHED:
      return 1;
    case Which::PARTNERSHIP_ENDED:
      return 2;
    case Which::AGREEMENT_SIGNED:
      return 3;
    case Which::FORUM_HELD:
      return 4;
    case Which::ROUTE_OPENED:
      return 5;
    case Which::ROUTE_CLOSED:
      return 6;
    case Which::OFFICE_OPENED:
      return 7;
    case Which::ORGANISATION_FOUNDED:
      return 8;
    case Which::AWARD_GRANTED:
      return 9;
    case Which::TRADE_VOLUME_REPORTED:
      return 10;
    case Which::COUNT_REPORTED:
      return 11;
    case Which::INITIATIVE_LAUNCHED:
      return 12;
    case Which::RETRACTION:
      return 13;
    case Which::AMENDMENT:
      return 14;
    case Which::CORROBORATION:
      return 15;
  }
  return static_cast<size_t>(which);
}

constexpr bool RowsInDiscriminantOrder() {
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    if (KindIndex(kKinds[i].which) != i || static_cast<size_t>(kKinds[i].which) != i) return false;
  }
  return true;
}

}  // namespace

const FieldSpec* KindSpec::Field(std::string_view field_name) const {
  for (const FieldSpec& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

std::span<const KindSpec> Kinds() {
  static_assert(std::size(kKinds) == KindIndex(Which::CORROBORATION) + 1, "one row per kind");
  return kKinds;
}

const KindSpec* FindKind(schema::Payload::Which which) {
  const auto index = static_cast<size_t>(which);
  return index < std::size(kKinds) ? &kKinds[index] : nullptr;
}

const KindSpec& Kind(schema::Payload::Which which) {
  static const bool ordered = RowsInDiscriminantOrder();
  if (!ordered) throw std::logic_error("core/kinds.cc: rows out of discriminant order");
  const KindSpec* kind = FindKind(which);
  if (kind == nullptr)
    throw std::out_of_range("no kind row for payload member " +
                            std::to_string(static_cast<int>(which)));
  return *kind;
}

const KindSpec* FindKind(std::string_view name) {
  for (const KindSpec& kind : kKinds) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

std::string Summary(schema::Payload::Reader payload) {
  const KindSpec* kind = FindKind(payload.which());
  if (kind == nullptr) return PayloadKindName(payload.which());
  return kind->summary(payload);
}

std::string FormatGroupedNumber(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  std::string text = ec == std::errc() ? std::string(buf, end) : std::to_string(value);
  if (!std::isfinite(value)) return text;
  const size_t sign = text[0] == '-' ? 1 : 0;
  size_t int_end = text.find('.');
  if (int_end == std::string::npos) int_end = text.size();
  for (size_t i = int_end; i > sign + 3; i -= 3) text.insert(i - 3, ",");
  return text;
}

std::string NotASlugMessage(std::string_view text) {
  return "'" + std::string(text) + "' is not an entity id: 1-64 of a-z, 0-9 and '-', not starting or ending with '-'";
}

std::string SameEntityMessage(std::string_view other_field, std::string_view slug) {
  return "names the same entity as " + std::string(other_field) + " ('" + std::string(slug) + "')";
}

}  // namespace twinline
