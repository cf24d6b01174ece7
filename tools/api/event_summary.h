// One event told in a line, and what backs it: the summary `twinline log`,
// the timeline projection and the page show for an event, and the count of
// its sources.
#ifndef TWINLINE_TOOLS_API_EVENT_SUMMARY_H_
#define TWINLINE_TOOLS_API_EVENT_SUMMARY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event_log.h"
#include "core/status.h"
#include "schemas/twinline.capnp.h"

namespace twinline::api {

// A short human line for an event, by kind: "chengdu — montpellier (sister
// city)", "chengdu → eu trade 2024: 142,160,000,000 CNY total". Enumerations
// read as users write them in files ("sister_city" as "sister city").
std::string SummarizeEvent(schema::Event::Reader ev);

// How a count_reported qualifier reads before its value: "=", "≈", "nearly",
// ">", "≥" (as in SummarizeEvent).
std::string QualifierSymbol(std::string_view qualifier);

// Sources backing an event: its own plus those of the corroborations that
// target it later.
Status CountSources(const ReadTxn& txn, schema::Event::Reader ev, uint64_t* count);

// The id of the event at `seq` ("ev-658f2256f99761dd").
Status EventIdAt(const ReadTxn& txn, uint64_t seq, std::string* id);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_EVENT_SUMMARY_H_
