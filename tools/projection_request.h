// What a replay or diff request (replay_view.h, diff_view.h) is made of
// besides its own dates: the shared parameters (known-at, date rule, entity,
// checkpoints; cli::ProjectionFlags) and how every parameter is named, since
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
//    rule by name (field dates). Nothing is read beyond `snap`.
#ifndef TWINLINE_TOOLS_PROJECTION_REQUEST_H_
#define TWINLINE_TOOLS_PROJECTION_REQUEST_H_

#include <initializer_list>
#include <string>
#include <string_view>

#include "core/status.h"
#include "projections/projection.h"
#include "tools/cli.h"

namespace twinline::cli {

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

// Fills `query` (known_seq, rule, use_checkpoints; as_of_day is left alone)
// and `entity` (the resolved slug, or empty) from `params`, reading through
// `snap`. `params.dates` empty means "range".
Status ResolveProjectionParams(const ProjectionFlags& params, ParamStyle style, Snapshot& snap,
                               Query* query, std::string* entity);

}  // namespace twinline::cli

#endif  // TWINLINE_TOOLS_PROJECTION_REQUEST_H_
