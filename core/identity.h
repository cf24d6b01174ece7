// Event identity: when two events state the same fact, and which entities an
// event is about. The rules are specified in docs/EVENTS.md ("Identity") and
// the byte layouts in docs/FORMAT.md ("Fingerprints").
//
// Contract:
//  * NormalizePayload puts symmetric relations in one order (partnership
//    a < b; agreement parties sorted, duplicates removed) so that both
//    spellings of a fact fingerprint alike. Idempotent.
//  * FactFingerprint depends only on the normalised payload and the
//    normalised EDTF valid time; never on sources, id, note, seq or time.
//  * SourceFingerprint depends on title, publisher, published, language
//    and url (not the quote).
//  * EntityRefs lists every entity slug a payload names, sorted and unique
//    (an amendment's replacement included; a registration names its own slug).
#ifndef TWINLINE_CORE_IDENTITY_H_
#define TWINLINE_CORE_IDENTITY_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "schemas/twinline.capnp.h"

namespace twinline {

// Copies Cap'n Proto text into a std::string (Cap'n Proto 0.9 has no
// implicit conversion).
inline std::string Str(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

void NormalizePayload(schema::Payload::Builder payload);

Digest FactFingerprint(schema::Payload::Reader payload, std::string_view edtf);
Digest SourceFingerprint(schema::Source::Reader source);

// "ev-" followed by the first 16 hex digits of the fingerprint.
std::string DerivedEventId(const Digest& fact);

std::vector<std::string> EntityRefs(schema::Payload::Reader payload);

// True for corrections and corroborations, which refer to another event
// rather than state a fact of their own.
bool IsReference(schema::Payload::Which which);

// The target event id of a retraction, amendment or corroboration.
std::string_view ReferenceTarget(schema::Payload::Reader payload);

}  // namespace twinline

#endif  // TWINLINE_CORE_IDENTITY_H_
