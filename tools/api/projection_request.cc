#include "tools/api/projection_request.h"

#include <algorithm>

#include "core/edtf.h"
#include "projections/network.h"

namespace twinline::api {

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

Status ResolveProjectionParams(const ProjectionParams& params, ParamStyle style, ReadView& view,
                               Query* query, std::string* entity) {
  const std::string dates = params.dates.empty() ? "range" : params.dates;
  TWINLINE_RETURN_IF_ERROR(CheckChoice(style, "dates", dates, {"range", "earliest", "latest"}));
  if (!params.known_at.empty()) {
    Status s = ResolveKnownAt(*view.txn, params.known_at, &query->known_seq);
    if (!s.ok()) return s.WithField(ParamName(style, "known_at"));
  }
  query->rule = dates == "earliest" ? DateRule::kEarliest
                : dates == "latest" ? DateRule::kLatest
                                    : DateRule::kRange;
  query->use_index = !params.no_index;
  entity->clear();
  if (!params.entity.empty()) {
    Status s = view.resolver->Resolve(params.entity, entity);
    if (!s.ok()) return s.WithField(ParamName(style, "entity"));
  }
  return Status::Ok();
}

Status ParseEdgeFilter(const ProjectionParams& params, ParamStyle style, EdgeFilter* out) {
  const std::string edges = params.edges.empty() ? "all" : params.edges;
  TWINLINE_RETURN_IF_ERROR(CheckChoice(style, "edges", edges, {"all", "partnerships", "routes"}));
  out->only.reset();
  if (edges == "partnerships") out->only = EdgeRow::Kind::kPartnership;
  if (edges == "routes") out->only = EdgeRow::Kind::kRoute;
  return Status::Ok();
}

Status ParseAsOfDay(std::string_view text, std::string_view field, int64_t* day) {
  EdtfDate date;
  Status s = ParseEdtf(text, &date);
  if (!s.ok()) return s.WithField(field);
  if (date.latest == kUnboundedEnd) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' has an open or unknown end, so no last day to replay to; "
                                   "give one (e.g. 2024 or 2024-06-30)")
        .WithField(field);
  }
  *day = date.latest;
  return Status::Ok();
}

std::string DescribeSnapshot(const Snapshot& snapshot) { return DescribeSnapshot(snapshot, {}); }

std::string DescribeSnapshot(const Snapshot& snapshot, std::string_view as_given) {
  EdtfDate date;
  const bool period =
      !as_given.empty() && ParseEdtf(as_given, &date).ok() && date.earliest != date.latest;
  return "as of " + FormatDay(snapshot.query.as_of_day) +
         (period ? " (the end of " + std::string(as_given) + ")" : "") + ", known at seq " +
         std::to_string(snapshot.known_seq) + ", dates " +
         std::string(DateRuleName(snapshot.query.rule));
}

nlohmann::ordered_json DescribeSnapshotJson(const Snapshot& snapshot) {
  return nlohmann::ordered_json{{"as_of", FormatDay(snapshot.query.as_of_day)},
                                {"known_seq", snapshot.known_seq},
                                {"dates", DateRuleName(snapshot.query.rule)}};
}

}  // namespace twinline::api
