// --known-at: every recorded time is a seq bound, because recorded time
// never decreases along the log (core/event_log.h).
#include <cctype>
#include <charconv>
#include <limits>

#include "core/edtf.h"
#include "projections/projection.h"

namespace twinline {

namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* value) {
  if (pos + n > s.size()) return false;
  *value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    *value = *value * 10 + (s[i] - '0');
  }
  return true;
}

// RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), 't' and
// 'z' accepted as the RFC allows. Returns false if `s` is not one.
bool ParseRfc3339(std::string_view s, int64_t* micros) {
  int64_t year, month, mday, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &mday) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || mday < 1 ||
      mday > DaysInMonth(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  size_t pos = 19;
  int64_t fraction = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 6) fraction = fraction * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    for (; digits < 6; ++digits) fraction *= 10;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int64_t oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  const int64_t seconds =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(mday)) * 86400 +
      hour * 3600 + minute * 60 + std::min<int64_t>(second, 59) - offset_minutes * 60;
  *micros = seconds * 1000000 + fraction;
  return true;
}

}  // namespace

Status ResolveKnownAt(const ReadTxn& txn, std::string_view text, uint64_t* seq) {
  const uint64_t last = txn.LastSeq();
  if (!text.empty() && text[0] == '@') {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), n);
    if (text.size() == 1 || ec != std::errc() || end != text.data() + text.size()) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' is not @SEQ (a seq number after '@')");
    }
    if (n > last) {
      return Status::InvalidArgument("'" + std::string(text) + "' is beyond the log's head: it ends at seq " +
                                     std::to_string(last));
    }
    *seq = n;
    return Status::Ok();
  }
  int64_t cutoff = 0;  // the last microsecond that counts
  if (!ParseRfc3339(text, &cutoff)) {
    EdtfDate date;
    Status st = ParseEdtf(text, &date);
    if (!st.ok()) {
      return Status::InvalidArgument(
          "'" + std::string(text) +
          "' is not @SEQ, an RFC 3339 time (2025-04-17T08:45:00Z) or an EDTF date: " +
          st.message());
    }
    // The end of the expression's latest day, UTC; beyond the clock's range
    // it means everything (or nothing).
    constexpr int64_t kMaxDay = std::numeric_limits<int64_t>::max() / kMicrosPerDay - 1;
    if (date.latest >= kMaxDay) {
      *seq = last;
      return Status::Ok();
    }
    if (date.latest < -kMaxDay) {
      *seq = 0;
      return Status::Ok();
    }
    cutoff = (date.latest + 1) * kMicrosPerDay - 1;
  }
  // Binary search for the last seq recorded at or before the cutoff.
  uint64_t lo = 0, hi = last;  // invariant: seq lo qualifies (0 = none), seqs above hi do not
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    int64_t recorded = 0;
    TWINLINE_RETURN_IF_ERROR(
        txn.Get(mid, [&](schema::Event::Reader ev) { recorded = ev.getRecordedAt(); }));
    if (recorded <= cutoff) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  *seq = lo;
  return Status::Ok();
}

}  // namespace twinline
