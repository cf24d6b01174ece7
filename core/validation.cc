#include "core/validation.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/edtf.h"
#include "core/identity.h"
#include "core/kinds.h"
#include "core/names.h"
#include "core/sha256.h"

namespace twinline::log_internal {
namespace {

using Which = schema::Payload::Which;

Status CheckText(capnp::Text::Reader text, const char* field) {
  if (text.size() == 0) return Status::InvalidArgument("must not be empty").WithField(field);
  return Status::Ok();
}

Status CheckAmount(double v, const char* field) {
  if (!std::isfinite(v) || v < 0) {
    return Status::InvalidArgument("must be a finite number >= 0").WithField(field);
  }
  return Status::Ok();
}

// Parses an event's date and writes the normalised text and day bounds back.
Status NormaliseDate(schema::Date::Builder date) {
  EdtfDate parsed;
  Status st = ParseEdtf(date.getEdtf().cStr(), &parsed);
  if (!st.ok()) return st;
  date.setEdtf(parsed.Normalized());
  date.setEarliest(parsed.earliest);
  date.setLatest(parsed.latest);
  return Status::Ok();
}

// Checks that do not need the log: a library caller that bypasses the JSON
// decoder still cannot store an event without a source, a valid date or a
// sane payload. What each kind's fields must be comes from the kind table
// (core/kinds.h), with the decoder's wording of each rule.
Status CheckPayload(schema::Payload::Reader p) {
  const KindSpec* kind = FindKind(p.which());
  if (kind == nullptr) return Status::Ok();  // a kind from a newer schema: stored as it is
  const capnp::AnyStruct::Reader fields = kind->get(p);
  for (const FieldSpec& field : kind->fields) {
    const char* name = field.name.data();  // the table's names are literals
    switch (field.type) {
      case FieldType::kSlug: {
        const capnp::Text::Reader slug = field.access.text(fields);
        if (!IsEntitySlug(slug.cStr())) return Status::InvalidArgument(NotASlugMessage(slug.cStr())).WithField(name);
        break;
      }
      case FieldType::kNames: {
        auto names = fields.as<schema::EntityRegistered>().getNames();
        if (names.size() == 0) return Status::InvalidArgument("must not be empty").WithField(name);
        for (auto n : names) TWINLINE_RETURN_IF_ERROR(CheckText(n.getText(), name));
        break;
      }
      case FieldType::kEntity:
        if (!field.distinct_from.empty()) {
          const capnp::Text::Reader self = field.access.text(fields);
          const capnp::Text::Reader other = kind->Field(field.distinct_from)->access.text(fields);
          if (self == other) return Status::InvalidArgument(SameEntityMessage(field.distinct_from, self.cStr())).WithField(name);
        }
        break;
      case FieldType::kEntityList:
        if (field.distinct_set && field.access.list(fields).size() < 2) {
          return Status::InvalidArgument(kTooFewDistinctEntities).WithField(name);
        }
        break;
      case FieldType::kFigures:
        for (auto f : fields.as<schema::ForumHeld>().getAttendance()) {
          TWINLINE_RETURN_IF_ERROR(CheckAmount(f.getValue(), name));
        }
        break;
      case FieldType::kNonNegative:
        TWINLINE_RETURN_IF_ERROR(CheckAmount(field.access.number(fields), name));
        break;
      case FieldType::kPeriod: {
        EdtfDate period;
        Status st = ParseEdtf(field.access.text(fields).cStr(), &period);
        if (!st.ok()) return st.WithField(name);
        break;
      }
      case FieldType::kMetric:
        TWINLINE_RETURN_IF_ERROR(CheckText(field.access.text(fields), name));
        break;
      case FieldType::kTarget:
        if (field.access.text(fields).size() == 0) {
          return Status::InvalidArgument("must name the event it refers to").WithField(name);
        }
        break;
      case FieldType::kReplacement: {
        auto replacement = fields.as<schema::Amendment>().getReplacement();
        if (IsReference(replacement.which())) {
          return Status::InvalidArgument("a replacement cannot itself be a correction").WithField("replacement.kind");
        }
        TWINLINE_RETURN_IF_ERROR(CheckPayload(replacement));
        break;
      }
      case FieldType::kText:
      case FieldType::kEnum:
      case FieldType::kEdition:
      case FieldType::kCountry:
      case FieldType::kCurrency:
      case FieldType::kLocation:
        break;  // what the decoder checks of these is not needed to store an event safely
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckAndNormalise(schema::Event::Builder ev) {
  auto sources = ev.getSources();
  if (sources.size() == 0) {
    return Status::InvalidArgument("every fact needs at least one source").WithField("sources");
  }
  std::vector<Digest> fingerprints;
  fingerprints.reserve(sources.size());
  for (uint32_t i = 0; i < sources.size(); ++i) {
    auto s = sources[i];
    fingerprints.push_back(SourceFingerprint(s));
    const auto field = [i] { return "sources[" + std::to_string(i) + "]"; };
    Status st = CheckText(s.getTitle(), "title");
    if (st.ok()) st = CheckText(s.getPublisher(), "publisher");
    if (st.ok()) st = CheckText(s.getLanguage(), "language");
    if (!st.ok()) return st.WithField(field());
    EdtfDate published;
    st = ParseEdtf(s.getPublished().cStr(), &published);
    if (!st.ok()) return st.WithField("published").WithField(field());
    for (uint32_t j = 0; j < i; ++j) {
      if (fingerprints[j] == fingerprints[i]) {
        return Status::InvalidArgument("repeats sources[" + std::to_string(j) + "]").WithField(field());
      }
    }
  }
  Status st = NormaliseDate(ev.getValidTime());
  if (!st.ok()) return st.WithField("date");
  auto payload = ev.getPayload();
  if (payload.which() == Which::AMENDMENT) {
    auto amendment = payload.getAmendment();
    st = NormaliseDate(amendment.getValidTime());
    if (!st.ok()) return st.WithField("replacement.date");
    if (amendment.getValidTime().getEdtf() != ev.getValidTime().getEdtf()) {
      return Status::InvalidArgument("an amendment's date must be its replacement's date").WithField("date");
    }
  }
  TWINLINE_RETURN_IF_ERROR(CheckPayload(payload.asReader()));
  NormalizePayload(payload);
  return Status::Ok();
}

}  // namespace twinline::log_internal
