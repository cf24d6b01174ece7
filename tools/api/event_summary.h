// One event told in a line, and what backs it: the summary `twinline log`,
// the timeline projection and the page show for an event, and the count of
// its sources.
#ifndef TWINLINE_TOOLS_API_EVENT_SUMMARY_H_
#define TWINLINE_TOOLS_API_EVENT_SUMMARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "projections/projection.h"
#include "schemas/twinline.capnp.h"

namespace twinline::api {

// A short human line for an event, by kind: "chengdu — montpellier (sister
// city)", "chengdu → eu trade 2024: 142,160,000,000 CNY total". Enumerations
// read as users write them in files ("sister_city" as "sister city").
std::string SummarizeEvent(schema::Event::Reader ev);

// SummarizeEvent of the fact an event stands for: an amendment stands for
// its replacement (docs/PROJECTIONS.md, 1), told with " (as amended)".
std::string SummarizeEffective(schema::Event::Reader ev);

// The kind of edge an event is about, from the kind table: a partnership's
// or route's establishing or ending event (an amendment: its
// replacement's); none for every other event.
std::optional<EdgeRow::Kind> EdgeKindOf(schema::Payload::Reader payload);

// How a count_reported qualifier reads before its value: "=", "≈", "nearly",
// ">", "≥" (as in SummarizeEvent).
std::string QualifierSymbol(std::string_view qualifier);

// Sources backing an event: its own plus those of the corroborations that
// target it later.
Status CountSources(const ReadTxn& txn, schema::Event::Reader ev, uint64_t* count);

// One source of an event, and the event that carries it (the event itself
// or a corroboration of it).
struct SourceRef {
  std::string title, publisher, published, language, url, quote, event_id;
};

// The sources of the events at `seqs`, in that order, each event's own.
Status CollectSources(const ReadTxn& txn, const std::vector<uint64_t>& seqs,
                      std::vector<SourceRef>* out);

// The sources behind the event at `seq` as known at `known_seq`: its own,
// then those of the corroborations of it recorded by then.
Status SourcesBehind(const ReadTxn& txn, uint64_t seq, uint64_t known_seq,
                     std::vector<SourceRef>* out);

// "title — publisher, published (language) url": one line of a table note.
std::string DescribeSource(const SourceRef& source);

// The id of the event at `seq` ("ev-658f2256f99761dd").
Status EventIdAt(const ReadTxn& txn, uint64_t seq, std::string* id);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_EVENT_SUMMARY_H_
