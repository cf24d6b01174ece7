// Internal to core/: the checks an event passes before the log stores it,
// whoever built it (the JSON decoder, a library caller, a restore).
#ifndef TWINLINE_CORE_VALIDATION_H_
#define TWINLINE_CORE_VALIDATION_H_

#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace twinline::log_internal {

// Checks that do not need the log (a source, a valid date, a sane payload)
// and normalises the event in place: dates parsed and their earliest/latest
// days written back, the payload in its normal form (core/identity.h).
// kInvalidArgument names the field.
Status CheckAndNormalise(schema::Event::Builder ev);

}  // namespace twinline::log_internal

#endif  // TWINLINE_CORE_VALIDATION_H_
