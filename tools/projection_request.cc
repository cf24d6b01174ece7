#include "tools/projection_request.h"

#include <algorithm>

namespace twinline::cli {

std::string ParamName(ParamStyle style, std::string_view key) {
  if (style == ParamStyle::kUrl) return std::string(key);
  std::string flag = "--" + std::string(key);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

std::string ParamSetting(ParamStyle style, std::string_view key, std::string_view value) {
  return ParamName(style, key) + (style == ParamStyle::kUrl ? "=" : " ") + std::string(value);
}

Status CheckChoice(ParamStyle style, std::string_view key, const std::string& value,
                   std::initializer_list<std::string_view> choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return Status::Ok();
  std::string list;
  for (std::string_view c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  return Status::InvalidArgument("'" + value + "' is not one of " + list)
      .WithField(ParamName(style, key));
}

Status ResolveProjectionParams(const ProjectionFlags& params, ParamStyle style, Snapshot& snap,
                               Query* query, std::string* entity) {
  const std::string dates = params.dates.empty() ? "range" : params.dates;
  TWINLINE_RETURN_IF_ERROR(CheckChoice(style, "dates", dates, {"range", "earliest", "latest"}));
  if (!params.known_at.empty()) {
    Status s = ResolveKnownAt(*snap.txn, params.known_at, &query->known_seq);
    if (!s.ok()) return s.WithField(ParamName(style, "known_at"));
  }
  query->rule = dates == "earliest" ? DateRule::kEarliest
                : dates == "latest" ? DateRule::kLatest
                                    : DateRule::kRange;
  query->use_checkpoints = !params.no_checkpoints;
  entity->clear();
  if (!params.entity.empty()) {
    Status s = snap.resolver->Resolve(params.entity, entity);
    if (!s.ok()) return s.WithField(ParamName(style, "entity"));
  }
  return Status::Ok();
}

}  // namespace twinline::cli
