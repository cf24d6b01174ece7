// JSON forms that the CLI's `--format json` and the HTTP server both write,
// built in one place so `twinline entities X --format json` and
// `GET /v1/entities?name=X` (and stats, and append outcomes) stay the same
// bytes:
//  * EntityJson: an entity from its registration event: slug, type,
//    country, names, location, parent (those it has), seq and id.
//  * EntitiesJson: every registered entity as an EntityJson array, in slug
//    order.
//  * EntityDetailJson: EntityJson plus "events", the number of events that
//    touch it. kNotFound if `slug` is not registered in `txn`.
//  * StatsJson: LogStats with times and days formatted (RFC 3339, ISO days);
//    "valid_time" and "recorded_time" are null for an empty log.
//  * OutcomeJson: one appended event's fate: {"outcome": "appended" |
//    "corroborated" | "duplicate", "id", "seq"}.
//  * SourceJson: a source as the timeline and the network exports list it.
//  * RangeJson: a certain–possible range as {"certain", "possible"}.
//  * DumpJson: the one way these are written: compact, one line, UTF-8
//    unescaped.
#ifndef TWINLINE_TOOLS_API_JSON_VIEWS_H_
#define TWINLINE_TOOLS_API_JSON_VIEWS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"
#include "schemas/twinline.capnp.h"
#include "tools/api/event_summary.h"

namespace twinline::api {

// Compact one-line JSON, UTF-8 unescaped; throws on invalid UTF-8 (a bug:
// everything stored was validated on the way in).
std::string DumpJson(const nlohmann::ordered_json& j);
std::string DumpJson(const nlohmann::json& j);

nlohmann::ordered_json RangeJson(const Range& range);

nlohmann::ordered_json EntityJson(schema::Event::Reader registration);
Status EntitiesJson(const ReadTxn& txn, nlohmann::ordered_json* array);
Status EntityDetailJson(const ReadTxn& txn, std::string_view slug, nlohmann::ordered_json* out);

nlohmann::ordered_json StatsJson(const LogStats& stats);

// One source: {"title", "publisher", "published", "language", "url"?,
// "quote"?, "event"} (the event that carries it).
nlohmann::ordered_json SourceJson(const SourceRef& source);

const char* DispositionName(AppendOutcome::Disposition disposition);
nlohmann::ordered_json OutcomeJson(const AppendOutcome& outcome);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_JSON_VIEWS_H_
