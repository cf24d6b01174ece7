#include "core/identity.h"

#include <capnp/message.h>

#include <algorithm>

namespace twinline {
namespace {

using Which = schema::Payload::Which;

void AddIf(std::vector<std::string>* out, capnp::Text::Reader text) {
  if (text.size() > 0) out->emplace_back(text.cStr(), text.size());
}

}  // namespace

void NormalizePayload(schema::Payload::Builder payload) {
  auto sort_pair = [](auto p) {
    if (std::string_view(p.getB().cStr()) < std::string_view(p.getA().cStr())) {
      std::string a = Str(p.getA()), b = Str(p.getB());
      p.setA(b);
      p.setB(a);
    }
  };
  switch (payload.which()) {
    case Which::PARTNERSHIP_ESTABLISHED:
      sort_pair(payload.getPartnershipEstablished());
      break;
    case Which::PARTNERSHIP_ENDED:
      sort_pair(payload.getPartnershipEnded());
      break;
    case Which::AGREEMENT_SIGNED: {
      auto agreement = payload.getAgreementSigned();
      std::vector<std::string> parties;
      for (auto p : agreement.getParties()) parties.emplace_back(p.cStr(), p.size());
      std::sort(parties.begin(), parties.end());
      parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
      auto list = agreement.initParties(parties.size());
      for (size_t i = 0; i < parties.size(); ++i) list.set(i, parties[i]);
      break;
    }
    case Which::AMENDMENT:
      NormalizePayload(payload.getAmendment().getReplacement());
      break;
    default:
      break;
  }
}

Digest FactFingerprint(schema::Payload::Reader payload, std::string_view edtf) {
  // Canonical form makes the bytes independent of how the message was built
  // (segment layout, field order of construction, orphaned space).
  kj::Array<capnp::word> canonical = capnp::canonicalize(payload);
  Sha256 h;
  h.Update("twinline-fact-v1");
  h.Update(canonical.asBytes().begin(), canonical.asBytes().size());
  h.Update(edtf);
  return h.Finish();
}

Digest SourceFingerprint(schema::Source::Reader source) {
  Sha256 h;
  h.Update("twinline-source-v1");
  const char zero = '\0';
  for (capnp::Text::Reader field : {source.getTitle(), source.getPublisher(), source.getPublished(),
                                    source.getLanguage(), source.getUrl()}) {
    h.Update(field.cStr(), field.size());
    h.Update(&zero, 1);
  }
  return h.Finish();
}

std::string DerivedEventId(const Digest& fact) { return "ev-" + ToHex(fact).substr(0, 16); }

std::vector<std::string> EntityRefs(schema::Payload::Reader payload) {
  std::vector<std::string> out;
  switch (payload.which()) {
    case Which::ENTITY_REGISTERED: {
      auto e = payload.getEntityRegistered();
      AddIf(&out, e.getEntity());
      AddIf(&out, e.getParent());
      break;
    }
    case Which::PARTNERSHIP_ESTABLISHED:
    case Which::PARTNERSHIP_ENDED: {
      auto p = payload.which() == Which::PARTNERSHIP_ESTABLISHED ? payload.getPartnershipEstablished()
                                                                  : payload.getPartnershipEnded();
      AddIf(&out, p.getA());
      AddIf(&out, p.getB());
      break;
    }
    case Which::AGREEMENT_SIGNED:
      for (auto p : payload.getAgreementSigned().getParties()) AddIf(&out, p);
      break;
    case Which::FORUM_HELD: {
      auto f = payload.getForumHeld();
      AddIf(&out, f.getHost());
      AddIf(&out, f.getVenue());
      AddIf(&out, f.getOrganiser());
      break;
    }
    case Which::ROUTE_OPENED:
    case Which::ROUTE_CLOSED: {
      auto r = payload.which() == Which::ROUTE_OPENED ? payload.getRouteOpened() : payload.getRouteClosed();
      AddIf(&out, r.getFrom());
      AddIf(&out, r.getTo());
      AddIf(&out, r.getOperator());
      break;
    }
    case Which::OFFICE_OPENED:
      AddIf(&out, payload.getOfficeOpened().getOwner());
      AddIf(&out, payload.getOfficeOpened().getHost());
      break;
    case Which::ORGANISATION_FOUNDED:
      AddIf(&out, payload.getOrganisationFounded().getOrganisation());
      AddIf(&out, payload.getOrganisationFounded().getFounder());
      break;
    case Which::AWARD_GRANTED:
      AddIf(&out, payload.getAwardGranted().getRecipient());
      AddIf(&out, payload.getAwardGranted().getGrantor());
      break;
    case Which::TRADE_VOLUME_REPORTED:
      AddIf(&out, payload.getTradeVolumeReported().getReporter());
      AddIf(&out, payload.getTradeVolumeReported().getPartner());
      break;
    case Which::COUNT_REPORTED:
      AddIf(&out, payload.getCountReported().getEntity());
      AddIf(&out, payload.getCountReported().getScope());
      break;
    case Which::INITIATIVE_LAUNCHED:
      AddIf(&out, payload.getInitiativeLaunched().getOwner());
      for (auto p : payload.getInitiativeLaunched().getPartners()) AddIf(&out, p);
      break;
    case Which::AMENDMENT:
      out = EntityRefs(payload.getAmendment().getReplacement());
      break;
    case Which::RETRACTION:
    case Which::CORROBORATION:
      break;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool IsReference(schema::Payload::Which which) {
  return which == Which::RETRACTION || which == Which::AMENDMENT || which == Which::CORROBORATION;
}

std::string_view ReferenceTarget(schema::Payload::Reader payload) {
  switch (payload.which()) {
    case Which::RETRACTION: return payload.getRetraction().getTarget().cStr();
    case Which::AMENDMENT: return payload.getAmendment().getTarget().cStr();
    case Which::CORROBORATION: return payload.getCorroboration().getTarget().cStr();
    default: return {};
  }
}

}  // namespace twinline
