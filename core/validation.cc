#include "core/validation.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/edtf.h"
#include "core/identity.h"
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
// sane payload.
Status CheckPayload(schema::Payload::Reader p) {
  switch (p.which()) {
    case Which::ENTITY_REGISTERED: {
      auto e = p.getEntityRegistered();
      if (!IsEntitySlug(e.getEntity().cStr())) {
        return Status::InvalidArgument("'" + std::string(e.getEntity().cStr()) +
                                       "' is not an entity id (1-64 of a-z, 0-9, '-')")
            .WithField("entity");
      }
      if (e.getNames().size() == 0) return Status::InvalidArgument("at least one name is required").WithField("names");
      for (auto n : e.getNames()) TWINLINE_RETURN_IF_ERROR(CheckText(n.getText(), "names"));
      break;
    }
    case Which::PARTNERSHIP_ESTABLISHED:
    case Which::PARTNERSHIP_ENDED: {
      auto x = p.which() == Which::PARTNERSHIP_ESTABLISHED ? p.getPartnershipEstablished() : p.getPartnershipEnded();
      if (x.getA() == x.getB()) return Status::InvalidArgument("an entity cannot partner with itself").WithField("b");
      break;
    }
    case Which::AGREEMENT_SIGNED:
      if (p.getAgreementSigned().getParties().size() < 2) {
        return Status::InvalidArgument("at least two distinct parties are required").WithField("parties");
      }
      break;
    case Which::ROUTE_OPENED:
    case Which::ROUTE_CLOSED: {
      auto r = p.which() == Which::ROUTE_OPENED ? p.getRouteOpened() : p.getRouteClosed();
      if (r.getFrom() == r.getTo()) return Status::InvalidArgument("a route must join two entities").WithField("to");
      break;
    }
    case Which::FORUM_HELD:
      for (auto f : p.getForumHeld().getAttendance()) TWINLINE_RETURN_IF_ERROR(CheckAmount(f.getValue(), "attendance"));
      break;
    case Which::TRADE_VOLUME_REPORTED: {
      auto t = p.getTradeVolumeReported();
      TWINLINE_RETURN_IF_ERROR(CheckAmount(t.getAmount(), "amount"));
      EdtfDate period;
      Status st = ParseEdtf(t.getPeriod().cStr(), &period);
      if (!st.ok()) return st.WithField("period");
      break;
    }
    case Which::COUNT_REPORTED:
      TWINLINE_RETURN_IF_ERROR(CheckAmount(p.getCountReported().getValue(), "value"));
      TWINLINE_RETURN_IF_ERROR(CheckText(p.getCountReported().getMetric(), "metric"));
      break;
    case Which::AMENDMENT:
      if (IsReference(p.getAmendment().getReplacement().which())) {
        return Status::InvalidArgument("a replacement cannot itself be a correction").WithField("replacement.kind");
      }
      TWINLINE_RETURN_IF_ERROR(CheckPayload(p.getAmendment().getReplacement()));
      break;
    default:
      break;
  }
  if (IsReference(p.which()) && ReferenceTarget(p).empty()) {
    return Status::InvalidArgument("must name the event it refers to").WithField("target");
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
