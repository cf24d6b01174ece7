# twinline event schema.
#
# Every fact twinline knows is one `Event`, stored as a single Cap'n Proto
# message (unpacked, flat segment table) in the LMDB log; see docs/FORMAT.md.
#
# Evolution rule: this schema only ever grows. New fields take the next free
# ordinal, new enumerants go at the end, new union members take new ordinals.
# Nothing is renumbered, renamed in a way that changes meaning, or reused.
# Readers must tolerate fields they do not know (Cap'n Proto does this for us).
#
# Entity references (`EntityRef`) are entity id slugs: lowercase ASCII letters,
# digits and '-', 1-64 characters ("chengdu", "eu", "qingdao-port"). The JSON
# codec accepts names too, and resolves them to slugs before encoding.
#
# A stored event is decoded by the stock tool with:
#   capnp decode schemas/twinline.capnp Event < event.bin

@0x917a2485e02bca83;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("twinline::schema");

# An EDTF (ISO 8601-2) date, interval or qualified date, with the range of
# days it can stand for. `earliest`/`latest` are derived from `edtf` by
# core/edtf.h and stored so that indexes and external readers need no parser.
struct Date {
  edtf @0 :Text;        # the expression, normalised ("2011-03", "../2023-10-06", "1981")
  earliest @1 :Int64;   # first possible day, days since 1970-01-01; minInt64 = open/unknown start
  latest @2 :Int64;     # last possible day, days since 1970-01-01; maxInt64 = open/unknown end
}

# Where a fact comes from. Every event carries at least one.
struct Source {
  title @0 :Text;       # headline or document title (required)
  publisher @1 :Text;   # outlet or issuing body (required)
  published @2 :Text;   # publication date, EDTF (required)
  language @3 :Text;    # BCP 47 tag of the text: "de", "en", "zh" (required)
  url @4 :Text;         # address, where known
  quote @5 :Text;       # optional short quote supporting the fact
}

struct GeoPoint {
  lat @0 :Float64;      # WGS 84 degrees, -90..90
  lon @1 :Float64;      # WGS 84 degrees, -180..180
}

# A name of an entity in one language.
struct Name {
  text @0 :Text;        # as written: "Düsseldorf", "重庆"
  lang @1 :Text;        # BCP 47 tag
}

enum EntityType {
  city @0;
  district @1;          # urban district, new area ("Tianfu New District")
  village @2;
  country @3;
  region @4;            # province, state, Land, county
  bloc @5;              # supranational bloc, e.g. the EU
  port @6;
  organisation @7;      # government office, company, association, chamber
  zone @8;              # economic or free-trade zone, industrial park
  continent @9;         # "Europe", where a source names no country or bloc
}

enum PartnershipKind {
  sisterCity @0;            # formal sister-city / twin-town relationship
  friendshipCity @1;        # "friendship city" (youhao chengshi)
  friendlyCooperation @2;   # friendly-cooperation relationship
  friendshipVillage @3;
  portCooperation @4;       # cooperation between ports
  other @5;
}

enum AgreementKind {
  memorandum @0;        # memorandum of understanding / of friendship and cooperation
  cooperation @1;       # cooperation agreement
  logistics @2;         # logistics cooperation agreement
  treaty @3;
  other @4;
}

enum RouteMode {
  rail @0;
  airCargo @1;
  airPassenger @2;
  sea @3;
  road @4;
}

enum TradeFlow {
  total @0;             # imports plus exports
  imports @1;
  exports @2;
}

# How exactly a reported figure was stated.
enum Qualifier {
  exact @0;             # "241"
  approximately @1;     # "about 100", "etwa 100"
  nearly @2;            # "nearly 200", "fast 30" (at most, close to)
  moreThan @3;          # "more than 700", "über 600"
  atLeast @4;
}

# A figure as published: "nearly 100 guests", "over 600 companies".
struct Figure {
  label @0 :Text;       # what is counted: "guests", "countries"
  value @1 :Float64;    # >= 0
  qualifier @2 :Qualifier;
}

struct EntityRegistered {
  entity @0 :Text;      # the new id slug
  type @1 :EntityType;
  names @2 :List(Name); # at least one
  country @3 :Text;     # ISO 3166-1 alpha-2 ("CN", "DE"); empty for blocs and continents
  location @4 :GeoPoint;
  hasLocation @5 :Bool;
  parent @6 :Text;      # optional containing entity (district -> city, port -> city)
}

struct Partnership {
  a @0 :Text;           # entity; stored with a < b (a partnership is symmetric)
  b @1 :Text;
  kind @2 :PartnershipKind;
  detail @3 :Text;      # optional free text ("ended by council vote")
}

struct AgreementSigned {
  parties @0 :List(Text);   # entities, at least two; stored sorted
  title @1 :Text;
  kind @2 :AgreementKind;
}

struct ForumHeld {
  host @0 :Text;        # entity that hosted / organised
  name @1 :Text;        # "Wuxi International Sister Cities Forum"
  edition @2 :UInt32;   # 0 = not stated
  venue @3 :Text;       # optional entity where it took place ("yixing")
  attendance @4 :List(Figure);
  organiser @5 :Text;   # optional entity that organised it on the host's behalf
}

struct Route {
  from @0 :Text;        # entity
  to @1 :Text;          # entity
  mode @2 :RouteMode;
  operator @3 :Text;    # optional operator entity
  name @4 :Text;        # optional ("China-Europe Railway Express")
}

struct OfficeOpened {
  owner @0 :Text;       # entity that runs the office
  host @1 :Text;        # city where it opened
  name @2 :Text;        # "European liaison office"
}

struct OrganisationFounded {
  organisation @0 :Text;    # the organisation's own entity
  founder @1 :Text;         # entity that founded it
  purpose @2 :Text;         # optional
}

struct AwardGranted {
  recipient @0 :Text;
  grantor @1 :Text;
  name @2 :Text;        # "Friendship Cities Exchange and Cooperation Award"
}

struct TradeVolumeReported {
  reporter @0 :Text;    # entity whose trade it is
  partner @1 :Text;     # counterpart entity (country, bloc, city)
  period @2 :Text;      # EDTF period the figure covers ("2024")
  amount @3 :Float64;   # in whole currency units, finite and >= 0
  currency @4 :Text;    # ISO 4217 ("CNY", "EUR", "USD")
  flow @5 :TradeFlow;
}

# An entity's own published figure about itself.
struct CountReported {
  entity @0 :Text;      # who reports / is counted
  metric @1 :Text;      # snake_case: "partner_cities", "partner_countries", "routes", ...
  value @2 :Float64;    # >= 0
  qualifier @3 :Qualifier;
  scope @4 :Text;       # optional entity the count is restricted to ("eu")
  wording @5 :Text;     # optional wording as published ("international friendship cities")
}

# A scheme, brand, platform or project launched by an entity.
struct InitiativeLaunched {
  owner @0 :Text;
  name @1 :Text;
  partners @2 :List(Text);  # optional entities taking part
}

# Withdraws an earlier event. The original record is never altered.
struct Retraction {
  target @0 :Text;      # event id
  reason @1 :Text;
}

# Replaces an earlier event with a corrected one. The original is kept.
struct Amendment {
  target @0 :Text;      # event id of the event being replaced
  reason @1 :Text;
  validTime @2 :Date;   # corrected date
  replacement @3 :Payload;  # corrected payload; not itself a correction
}

# Attaches further sources to an existing fact: written by the log when the
# same fact is appended again from a source it does not yet carry.
struct Corroboration {
  target @0 :Text;      # event id of the fact; the sources are in the envelope
}

struct Payload {
  union {
    entityRegistered @0 :EntityRegistered;
    partnershipEstablished @1 :Partnership;
    partnershipEnded @2 :Partnership;
    agreementSigned @3 :AgreementSigned;
    forumHeld @4 :ForumHeld;
    routeOpened @5 :Route;
    routeClosed @6 :Route;
    officeOpened @7 :OfficeOpened;
    organisationFounded @8 :OrganisationFounded;
    awardGranted @9 :AwardGranted;
    tradeVolumeReported @10 :TradeVolumeReported;
    countReported @11 :CountReported;
    initiativeLaunched @12 :InitiativeLaunched;
    retraction @13 :Retraction;
    amendment @14 :Amendment;
    corroboration @15 :Corroboration;
  }
}

# The envelope: one immutable record in the log.
struct Event {
  seq @0 :UInt64;           # log position, 1-based, assigned on append
  recordedAt @1 :Int64;     # transaction time, microseconds since Unix epoch UTC, assigned by the log
  validTime @2 :Date;       # when the fact occurred
  id @3 :Text;              # event id; given, or derived from the fact's fingerprint ("ev-" + 16 hex)
  sources @4 :List(Source); # at least one
  payload @5 :Payload;
  note @6 :Text;            # optional editor's note; not part of the fact's identity
}
