// What a replay or diff request (replay_view.h, diff_view.h) is made of
// besides its own dates: the shared parameters (known-at, date rule, entity,
// index; ProjectionParams) and how every parameter is named, since
// the same request comes from a command line (`twinline replay --as-of 2024`)
// or from a URL (`GET /v1/replay?as_of=2024`).
//
// Contract:
//  * A parameter has one key, its URL spelling ("as_of", "known_at"). In
//    ParamStyle::kFlags it is written as the CLI flag ("--as-of"), in
//    ParamStyle::kUrl as the key itself. Every error a request yields names
//    the parameter in the caller's spelling, both in Status::field() and in
//    the message, so a CLI user reads "--as-of" and an HTTP client "as_of".
//  * ResolveProjectionParams checks the shared parameters and resolves them
//    against one read snapshot: the known-at time to a seq (field known_at),
//    the entity to its slug (field entity; kNotFound for an unknown name,
//    with suggestions; kInvalidArgument for an ambiguous one), the date
//    rule by name (field dates). Nothing is read beyond `view`.
//  * ParseAsOfDay: a valid date stands for its LAST day ("2011" =
//    2011-12-31); one without a last day ("2011/..") is refused.
#ifndef TWINLINE_TOOLS_API_PROJECTION_REQUEST_H_
#define TWINLINE_TOOLS_API_PROJECTION_REQUEST_H_

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "projections/projection.h"
#include "tools/api/read_view.h"

namespace twinline::api {

// The parameters every projection request takes besides its dates (the CLI
// declares them as flags: cli::AddProjectionFlags).
struct ProjectionParams {
  std::string known_at;         // "@N", RFC 3339, EDTF; empty = everything
  std::string dates = "range";  // range | earliest | latest
  std::string entity;           // slug or any registered name; empty = all
  std::string edges;            // partnerships | routes: one kind only; empty or "all" = both
  bool no_index = false;  // answer by replaying the log, not from the temporal index
};

// Which edges an answer keeps (the `edges` parameter): partnerships and
// routes, or one kind alone.
struct EdgeFilter {
  std::optional<EdgeRow::Kind> only;  // none: both kinds
  bool Keeps(EdgeRow::Kind kind) const { return !only || *only == kind; }
  bool all() const { return !only; }
};

enum class ParamStyle : uint8_t {
  kFlags,  // command-line flags: "--as-of", "--format json"
  kUrl,    // URL query parameters: "as_of", "format=json"
};

// How the parameter `key` (URL spelling) is written: "--as-of" or "as_of".
std::string ParamName(ParamStyle style, std::string_view key);

// The parameter with a value, as the caller would write it: "--format
// graphml" or "format=graphml".
std::string ParamSetting(ParamStyle style, std::string_view key, std::string_view value);

// kInvalidArgument naming `key` unless `value` is one of `choices`:
// "'xml' is not one of table, json".
Status CheckChoice(ParamStyle style, std::string_view key, const std::string& value,
                   std::initializer_list<std::string_view> choices);

// Fills `query` (known_seq, rule, use_index; as_of_day is left alone)
// and `entity` (the resolved slug, or empty) from `params`, reading through
// `snap`. `params.dates` empty means "range".
Status ResolveProjectionParams(const ProjectionParams& params, ParamStyle style, ReadView& view,
                               Query* query, std::string* entity);

// The edge filter `params.edges` asks for; kInvalidArgument naming the
// parameter unless it is empty, all, partnerships or routes.
Status ParseEdgeFilter(const ProjectionParams& params, ParamStyle style, EdgeFilter* out);

// The valid day an as_of (or from, to) value stands for: the LAST day of the
// EDTF expression ("2011" = 2011-12-31). An expression without a last day
// ("2011/..") is refused; `field` names the parameter in the error.
Status ParseAsOfDay(std::string_view text, std::string_view field, int64_t* day);


// "as of 2024-12-31, known at seq 96, dates range": the heading of a table;
// and the same as JSON: {"as_of": "2024-12-31", "known_seq": 96, "dates": "range"}.
std::string DescribeSnapshot(const Snapshot& snapshot);
// The same, saying which day a date given as a longer period stands for:
// "as of 2019-12-31 (the end of 2019), known at seq 96, dates range"; as
// above when `as_given` is one day (or empty).
std::string DescribeSnapshot(const Snapshot& snapshot, std::string_view as_given);
nlohmann::ordered_json DescribeSnapshotJson(const Snapshot& snapshot);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_PROJECTION_REQUEST_H_
