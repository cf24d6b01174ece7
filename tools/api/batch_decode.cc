#include "tools/api/batch_decode.h"

#include <capnp/message.h>

#include <memory>
#include <string>

namespace twinline::api {
namespace {

// A batch is held in memory until its transaction commits, so each message
// starts small (Cap'n Proto's default first segment is 8 KiB) and grows as
// needed; typical events need a few hundred bytes.
constexpr unsigned kFirstSegmentWords = 64;

}  // namespace

Status DecodeIntoBatch(const nlohmann::json* j, std::string_view text,
                       LogEntityResolver& resolver, const DecodeOptions& options,
                       int64_t position, DecodedBatch* batch) {
  auto message = std::make_unique<capnp::MallocMessageBuilder>(kFirstSegmentWords);
  auto ev = message->initRoot<schema::Event>();
  TWINLINE_RETURN_IF_ERROR(j != nullptr ? DecodeEvent(*j, resolver, options, ev)
                                        : DecodeEventText(text, resolver, options, ev));
  auto payload = ev.asReader().getPayload();
  if (payload.isEntityRegistered()) {
    auto reg = payload.getEntityRegistered();
    std::vector<std::string> names;
    for (auto name : reg.getNames()) names.emplace_back(name.getText());
    TWINLINE_RETURN_IF_ERROR(resolver.AddPending(reg.getEntity().cStr(), names));
  }
  batch->events.push_back(std::move(message));
  batch->positions.push_back(position);
  return Status::Ok();
}

Status DecodeNdjsonBatch(std::string_view data, LogEntityResolver& resolver,
                         const DecodeOptions& options, DecodedBatch* batch, int64_t* failed_at) {
  size_t pos = 0;
  int64_t line = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    std::string_view text = data.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > kMaxEventBytes) {
      *failed_at = line;
      return Status::InvalidArgument("line is " + std::to_string(text.size()) +
                                     " bytes; an event may be at most " +
                                     std::to_string(kMaxEventBytes) + " bytes");
    }
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos || text[first] == '#') continue;
    Status s = DecodeIntoBatch(nullptr, text, resolver, options, line, batch);
    if (!s.ok()) {
      *failed_at = line;
      return s;
    }
  }
  return Status::Ok();
}

Status DecodeJsonBatch(const nlohmann::json& json, LogEntityResolver& resolver,
                       const DecodeOptions& options, DecodedBatch* batch, int64_t* failed_at) {
  if (json.is_object()) {
    Status s = DecodeIntoBatch(&json, "", resolver, options, 0, batch);
    if (!s.ok()) *failed_at = 0;
    return s;
  }
  if (!json.is_array()) {
    return Status::InvalidArgument("expected an array of event objects (or one event object), got " +
                                   std::string(json.type_name()));
  }
  for (size_t i = 0; i < json.size(); ++i) {
    Status s = DecodeIntoBatch(&json[i], "", resolver, options, static_cast<int64_t>(i), batch);
    if (!s.ok()) {
      *failed_at = static_cast<int64_t>(i);
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace twinline::api
