#include "core/schema_names.h"

namespace twinline {

std::string SnakeCase(std::string_view camel) {
  std::string out;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

std::string PayloadKindName(schema::Payload::Which which) {
  KJ_IF_MAYBE (field, capnp::Schema::from<schema::Payload>().getFieldByDiscriminant(
                          static_cast<uint16_t>(which))) {
    return SnakeCase(field->getProto().getName().cStr());
  }
  return std::to_string(static_cast<uint16_t>(which));
}

std::string EnumerantName(capnp::EnumSchema schema, uint16_t ordinal) {
  for (auto enumerant : schema.getEnumerants()) {
    if (enumerant.getOrdinal() == ordinal) return SnakeCase(enumerant.getProto().getName().cStr());
  }
  return std::to_string(ordinal);
}

}  // namespace twinline
