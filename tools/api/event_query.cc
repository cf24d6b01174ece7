#include "tools/api/event_query.h"

#include "events/json_codec.h"

namespace twinline::api {

bool EventFilter::Matches(schema::Event::Reader ev) const {
  if (ev.getSeq() < seq_from || ev.getSeq() > seq_to) return false;
  if (!kinds.empty() && kinds.count(ev.getPayload().which()) == 0) return false;
  if (by_date) {
    auto vt = ev.getValidTime();
    if (vt.getLatest() < day_from || vt.getEarliest() > day_to) return false;
  }
  return true;
}

Status ParseSeqRange(const std::string& text, std::string_view field, uint64_t* from,
                     uint64_t* to) {
  auto number = [&](std::string_view s, uint64_t* out) -> bool {
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9' || v > (kMaxSeq - 9) / 10) return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
  };
  const Status bad = Status::InvalidArgument("'" + text + "' is not a seq range (A..B, A.., ..B)")
                         .WithField(field);
  const size_t dots = text.find("..");
  if (dots == std::string::npos) {
    if (!number(text, from)) return bad;
    *to = *from;
    return Status::Ok();
  }
  const std::string_view a = std::string_view(text).substr(0, dots);
  const std::string_view b = std::string_view(text).substr(dots + 2);
  *from = 1;
  *to = kMaxSeq;
  if (!a.empty() && !number(a, from)) return bad;
  if (!b.empty() && !number(b, to)) return bad;
  return Status::Ok();
}

Status BuildEventFilter(const EventQueryText& text, std::string_view field_prefix,
                        EventFilter* filter) {
  const std::string prefix(field_prefix);
  if (!text.seq_range.empty()) {
    TWINLINE_RETURN_IF_ERROR(
        ParseSeqRange(text.seq_range, prefix + "seq", &filter->seq_from, &filter->seq_to));
  }
  for (const std::string& k : text.kinds) {
    auto which = ParseKind(k);
    if (!which) return Status::InvalidArgument("unknown kind '" + k + "'").WithField(prefix + "kind");
    filter->kinds.insert(*which);
  }
  if (!text.from.empty()) {
    EdtfDate d;
    Status s = ParseEdtf(text.from, &d);
    if (!s.ok()) return s.WithField(prefix + "from");
    filter->day_from = d.earliest;
    filter->by_date = true;
  }
  if (!text.to.empty()) {
    EdtfDate d;
    Status s = ParseEdtf(text.to, &d);
    if (!s.ok()) return s.WithField(prefix + "to");
    filter->day_to = d.latest;
    filter->by_date = true;
  }
  // An inverted range is a mistake, not a question with an empty answer.
  if (filter->seq_from > filter->seq_to) {
    return Status::InvalidArgument("empty range: " + std::to_string(filter->seq_from) +
                                   " is after " + std::to_string(filter->seq_to))
        .WithField(prefix + "seq");
  }
  if (filter->day_from > filter->day_to) {
    return Status::InvalidArgument(prefix + "from " + text.from + " is after " + prefix + "to " +
                                   text.to)
        .WithField(prefix + "from");
  }
  return Status::Ok();
}

}  // namespace twinline::api
