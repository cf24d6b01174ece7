// The names users see for schema things: the snake_case form of a Payload
// union member ("partnership_established") or an enumerant ("sister_city"),
// read from the compiled schema itself so they can never drift from
// schemas/twinline.capnp.
#ifndef TWINLINE_CORE_SCHEMA_NAMES_H_
#define TWINLINE_CORE_SCHEMA_NAMES_H_

#include <capnp/schema.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "schemas/twinline.capnp.h"

namespace twinline {

// "friendshipCity" -> "friendship_city".
std::string SnakeCase(std::string_view camel);

// The snake_case kind of a payload ("partnership_established"); the number
// itself for a member this build does not know.
std::string PayloadKindName(schema::Payload::Which which);

// The snake_case name of `schema`'s enumerant with that ordinal; the number
// itself for one this build does not know.
std::string EnumerantName(capnp::EnumSchema schema, uint16_t ordinal);

}  // namespace twinline

#endif  // TWINLINE_CORE_SCHEMA_NAMES_H_
