#include "core/identity.h"

#include <capnp/message.h>

#include <algorithm>

#include "core/kinds.h"

namespace twinline {
namespace {

using Which = schema::Payload::Which;

void AddIf(std::vector<std::string>* out, capnp::Text::Reader text) {
  if (text.size() > 0) out->emplace_back(text.cStr(), text.size());
}

}  // namespace

void NormalizePayload(schema::Payload::Builder payload) {
  const KindSpec* kind = FindKind(payload.which());
  if (kind == nullptr) return;
  capnp::AnyStruct::Builder fields = kind->edit(payload);
  switch (kind->symmetry) {
    case Symmetry::kNone:
      break;
    case Symmetry::kPair: {
      const FieldAccess& a = kind->fields[0].access;
      const FieldAccess& b = kind->fields[1].access;
      const std::string sa = Str(a.text(fields.asReader())), sb = Str(b.text(fields.asReader()));
      if (sb < sa) {
        a.set_text(fields, sb);
        b.set_text(fields, sa);
      }
      break;
    }
    case Symmetry::kSet:
      for (const FieldSpec& field : kind->fields) {
        if (!field.distinct_set) continue;
        std::vector<std::string> items;
        for (auto item : field.access.list(fields.asReader())) items.push_back(Str(item));
        std::sort(items.begin(), items.end());
        items.erase(std::unique(items.begin(), items.end()), items.end());
        auto list = field.access.init_list(fields, static_cast<unsigned>(items.size()));
        for (size_t i = 0; i < items.size(); ++i) list.set(static_cast<unsigned>(i), items[i]);
      }
      break;
  }
  if (payload.which() == Which::AMENDMENT) NormalizePayload(payload.getAmendment().getReplacement());
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
  const KindSpec* kind = FindKind(payload.which());
  if (kind == nullptr) return out;
  if (payload.which() == Which::AMENDMENT) return EntityRefs(payload.getAmendment().getReplacement());
  const capnp::AnyStruct::Reader fields = kind->get(payload);
  for (const FieldSpec& field : kind->fields) {
    if (!field.IsEntity()) continue;
    if (field.type == FieldType::kEntityList) {
      for (auto item : field.access.list(fields)) AddIf(&out, item);
    } else {
      AddIf(&out, field.access.text(fields));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool IsReference(schema::Payload::Which which) {
  const KindSpec* kind = FindKind(which);
  return kind != nullptr && kind->is_reference;
}

std::string_view ReferenceTarget(schema::Payload::Reader payload) {
  const KindSpec* kind = FindKind(payload.which());
  if (kind == nullptr || !kind->is_reference) return {};
  const FieldSpec* target = kind->Field("target");
  if (target == nullptr) return {};
  capnp::Text::Reader t = target->access.text(kind->get(payload));
  return std::string_view(t.cStr(), t.size());
}

}  // namespace twinline
