// EDTF: the Extended Date/Time Format (ISO 8601-2:2019 / Library of Congress
// EDTF specification), levels 0 and 1, which is how twinline writes the date a
// fact occurred.
//
// Contract:
//  * ParseEdtf accepts exactly the level 0 and level 1 forms of the
//    specification (dates, date-times, intervals; letter-prefixed years,
//    seasons 21-24, qualifiers ? ~ %, unspecified digits X, open `..` and
//    unknown (empty) interval ends, negative years) and rejects everything else
//    with a Status whose message says what is wrong and where ("day 30 does
//    not exist in 2021-02", "month 13 is out of range", "'spring' is not an
//    EDTF date").
//  * Every accepted expression resolves to the earliest and the latest
//    proleptic-Gregorian day it can stand for, as days since 1970-01-01.
//    An open (`..`) or unknown (empty) start gives kUnboundedStart; an open or
//    unknown end gives kUnboundedEnd. Qualifiers do not widen the range: `2011?`
//    still spans 2011-01-01..2011-12-31; they are reported as flags.
//  * Unspecified digits widen to every value they can take that makes a valid
//    date: `198X` = 1980-01-01..1989-12-31, `1985-XX-XX` = the year 1985,
//    `2004-02-XX` = 2004-02-01..2004-02-29.
//  * Seasons: 21 spring = Mar-May, 22 summer = Jun-Aug, 23 autumn = Sep-Nov,
//    24 winter = Dec of that year..Feb of the next.
//  * A date-time (`1985-04-12T23:20:30`, with `Z` or `+04:00`) resolves to its
//    calendar day as written (the offset is not applied).
//  * Interval ends may be any level 0/1 date except a date-time; at least one
//    end must be a date, and the start's earliest day must not come after the
//    end's latest day (`2024/2016` is rejected; overlapping ends such as
//    `2004-06/2004` are accepted).
//  * `Normalized()` is a canonical text: the input with the same meaning
//    (e.g. `2004-07-22`), stable under re-parsing.
//
// Pure functions, no global state, thread-safe.
#ifndef TWINLINE_CORE_EDTF_H_
#define TWINLINE_CORE_EDTF_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/status.h"

namespace twinline {

inline constexpr int64_t kUnboundedStart = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kUnboundedEnd = std::numeric_limits<int64_t>::max();

// Finest unit written in a date.
enum class EdtfPrecision : uint8_t { kYear, kSeason, kMonth, kDay, kDateTime };

// One date (not an interval) as written.
struct EdtfPoint {
  EdtfPrecision precision = EdtfPrecision::kYear;
  bool uncertain = false;    // '?' or '%' somewhere in the date
  bool approximate = false;  // '~' or '%' somewhere in the date
  bool unspecified = false;  // at least one 'X' digit
  int64_t earliest = 0;      // days since 1970-01-01
  int64_t latest = 0;        // days since 1970-01-01
};

struct EdtfDate {
  enum class Form : uint8_t { kDate, kInterval };
  // How an interval end was written; kDate for an ordinary date.
  enum class End : uint8_t { kDate, kOpen /* .. */, kUnknown /* empty */ };

  Form form = Form::kDate;
  std::string text;  // normalised expression

  // For an open or unknown end the point carries no flags and has
  // earliest == latest == kUnboundedStart (start) or kUnboundedEnd (end).
  EdtfPoint start;   // the date itself, or an interval's start
  EdtfPoint end;     // an interval's end (equal to `start` for a kDate)
  End start_kind = End::kDate;
  End end_kind = End::kDate;

  int64_t earliest = 0;  // earliest possible day overall (kUnboundedStart if open/unknown)
  int64_t latest = 0;    // latest possible day overall (kUnboundedEnd if open/unknown)

  bool uncertain() const { return start.uncertain || end.uncertain; }
  bool approximate() const { return start.approximate || end.approximate; }
  const std::string& Normalized() const { return text; }
};

// Parses `text` (surrounding whitespace not allowed). On error, `*out` is
// unspecified and the returned Status is kInvalidArgument.
Status ParseEdtf(std::string_view text, EdtfDate* out);

// Calendar helpers, proleptic Gregorian, astronomical year numbering. Exact
// for |year| <= 10^16 and |days| < 2^62; parsed dates stay within
// |year| < 10^15.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);
// "2004-07-22", "-0044-03-15"; "..", for kUnboundedStart/kUnboundedEnd.
std::string FormatDay(int64_t days);
bool IsLeapYear(int64_t year);
unsigned DaysInMonth(int64_t year, unsigned month);

}  // namespace twinline

#endif  // TWINLINE_CORE_EDTF_H_
