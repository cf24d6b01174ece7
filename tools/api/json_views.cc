#include "tools/api/json_views.h"

#include "core/edtf.h"
#include "events/json_codec.h"

namespace twinline::api {

using Json = nlohmann::ordered_json;

std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

Json RangeJson(const Range& r) { return Json{{"certain", r.certain}, {"possible", r.possible}}; }

Json EntityJson(schema::Event::Reader registration) {
  const Json ev = EncodeEvent(registration);
  Json j;
  j["slug"] = ev.value("entity", "");
  for (const char* key : {"type", "country", "names", "location", "parent"}) {
    if (auto it = ev.find(key); it != ev.end()) j[key] = *it;
  }
  j["seq"] = registration.getSeq();
  j["id"] = ev.value("id", "");
  return j;
}

Status EntitiesJson(const ReadTxn& txn, Json* array) {
  *array = Json::array();
  Status inner;
  TWINLINE_RETURN_IF_ERROR(txn.ListEntities([&](std::string_view, uint64_t seq) {
    inner = txn.Get(seq, [&](schema::Event::Reader ev) { array->push_back(EntityJson(ev)); });
    return inner.ok();
  }));
  return inner;
}

Status EntityDetailJson(const ReadTxn& txn, std::string_view slug, Json* out) {
  uint64_t seq = 0;
  TWINLINE_RETURN_IF_ERROR(txn.FindEntity(slug, &seq));
  TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) { *out = EntityJson(ev); }));
  uint64_t events = 0;
  TWINLINE_RETURN_IF_ERROR(txn.ScanEntity(slug, [&](schema::Event::Reader) {
    ++events;
    return true;
  }));
  (*out)["events"] = events;
  return Status::Ok();
}

Json StatsJson(const LogStats& st) {
  const bool empty = st.events == 0;
  Json j;
  j["events"] = st.events;
  j["entities"] = st.entities;
  j["sources"] = st.sources;
  Json kinds = Json::object();
  for (const auto& [kind, n] : st.by_kind) kinds[kind] = n;
  j["by_kind"] = kinds;
  j["valid_time"] = empty ? Json(nullptr)
                          : Json{{"earliest", FormatDay(st.min_valid_day)},
                                 {"latest", FormatDay(st.max_valid_day)}};
  j["recorded_time"] = empty ? Json(nullptr)
                             : Json{{"first", FormatTimestamp(st.first_recorded_at)},
                                    {"last", FormatTimestamp(st.last_recorded_at)}};
  j["file_bytes"] = st.file_bytes;
  j["head"] = st.head;
  return j;
}

const char* DispositionName(AppendOutcome::Disposition d) {
  switch (d) {
    case AppendOutcome::Disposition::kAppended:
      return "appended";
    case AppendOutcome::Disposition::kCorroborated:
      return "corroborated";
    case AppendOutcome::Disposition::kDuplicate:
      return "duplicate";
  }
  return "?";
}

Json OutcomeJson(const AppendOutcome& o) {
  return Json{{"outcome", DispositionName(o.disposition)}, {"id", o.event_id}, {"seq", o.seq}};
}

Json SourceJson(const SourceRef& s) {
  Json j{{"title", s.title},
         {"publisher", s.publisher},
         {"published", s.published},
         {"language", s.language}};
  if (!s.url.empty()) j["url"] = s.url;
  if (!s.quote.empty()) j["quote"] = s.quote;
  j["event"] = s.event_id;
  return j;
}

}  // namespace twinline::api
