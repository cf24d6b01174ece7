// EDTF levels 0 and 1 (see core/edtf.h for the contract).
//
// The parser is a hand-written cursor over the input: one pass, no regular
// expressions, no allocation beyond error messages, linear in the input
// length, so it is safe to fuzz and to run on every append. An expression is
// split at its single '/' (if any) into interval ends; each date is parsed
// component by component (year, month or season, day, time, qualifier), and
// every rejection names the offending component. Forms that belong to level 2
// are recognised where they start (a qualifier before or between components,
// X in other positions, seasons 25-41, E/S year suffixes, sets) so that the
// user is told "level 2 EDTF is not supported" rather than "bad syntax".
#include "core/edtf.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace twinline {

// ---------------------------------------------------------------------------
// Calendar helpers (proleptic Gregorian, astronomical years: 0 = 1 BCE).
// ---------------------------------------------------------------------------

bool IsLeapYear(int64_t year) {
  // C++ '%' keeps the dividend's sign, so "== 0" is right for negative years.
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

// Howard Hinnant's days_from_civil: counts in 400-year eras (146097 days) of
// years starting on March 1st, so that the leap day is the last day of a
// "year" and the day-of-year formula needs no leap-year branch.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                       // [0, 399]
  const int64_t mp = month > 2 ? int64_t{month} - 3 : int64_t{month} + 9;  // March = 0
  const int64_t doy = (153 * mp + 2) / 5 + int64_t{day} - 1;               // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               // [0, 146096]
  return era * 146097 + doe - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

// Inverse of DaysFromCivil (Hinnant's civil_from_days).
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  *day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2 ? 1 : 0);
}

std::string FormatDay(int64_t days) {
  if (days == kUnboundedStart || days == kUnboundedEnd) return "..";
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(days, &year, &month, &day);
  std::string out;
  if (year < 0) out += '-';
  const std::string digits = std::to_string(year < 0 ? -year : year);
  if (digits.size() < 4) out.append(4 - digits.size(), '0');
  out += digits;
  out += '-';
  out += static_cast<char>('0' + month / 10);
  out += static_cast<char>('0' + month % 10);
  out += '-';
  out += static_cast<char>('0' + day / 10);
  out += static_cast<char>('0' + day % 10);
  return out;
}

// ---------------------------------------------------------------------------
// Parser internals.
// ---------------------------------------------------------------------------

namespace {

// Y-prefixed years are limited to 15 digits (|year| < 10^15) so that every day
// number stays far from int64 overflow and from the kUnbounded* sentinels.
constexpr size_t kMaxLongYearDigits = 15;

constexpr std::string_view kExpected = "expected YYYY, YYYY-MM or YYYY-MM-DD";
constexpr std::string_view kBadOffset =
    "a time zone offset is Z, +hh, -hh, +hh:mm or -hh:mm (e.g. -04 or +04:30)";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsDigitOrX(char c) { return IsDigit(c) || c == 'X'; }
bool IsQualifier(char c) { return c == '?' || c == '~' || c == '%'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Quotes `s` for an error message: printable ASCII as is, other bytes as
// \xNN, at most 40 characters, so fuzzed or binary input yields a short,
// printable message.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 40;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

Status Invalid(std::string message) { return Status::InvalidArgument(std::move(message)); }

Status Level2(std::string_view what) {
  return Invalid("level 2 EDTF is not supported: " + std::string(what));
}

Status NotADate(std::string_view text, std::string_view why) {
  return Invalid(Quote(text) + " is not an EDTF date: " + std::string(why));
}

// Value of a run of decimal digits (the caller bounds its length).
int64_t DigitsValue(std::string_view digits) {
  int64_t value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Read position in one date (not a whole interval).
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  // The current character, or '\0' at the end. A NUL byte in the input also
  // reads as '\0'; no rule accepts it, and end-of-input checks use AtEnd().
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  char PeekAt(size_t ahead) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void Advance() { ++pos_; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  // Reads the longest run of characters satisfying `pred`.
  template <typename Pred>
  std::string_view ReadWhile(Pred pred) {
    const size_t begin = pos_;
    while (!AtEnd() && pred(text_[pos_])) ++pos_;
    return text_.substr(begin, pos_ - begin);
  }
  std::string_view Rest() const { return text_.substr(pos_); }
  std::string_view Consumed() const { return text_.substr(0, pos_); }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// The components of one date as written.
struct DateParts {
  bool negative = false;
  std::string_view year_text;  // as written, without sign or 'Y'
  int64_t year_min = 0;        // years the (possibly X-widened) year can be
  int64_t year_max = 0;
  bool year_unspecified = false;

  bool has_month = false;
  bool month_unspecified = false;  // "XX"
  unsigned month = 0;              // 1-12, or 21-24 for a season
  std::string_view month_text;

  bool has_day = false;
  bool day_unspecified = false;  // "XX"
  unsigned day = 0;

  bool has_time = false;
  char qualifier = '\0';  // '?', '~', '%' or none
};

// "2021-02" / "-0044-03" for messages about a day that does not exist.
std::string YearMonthText(const DateParts& p) {
  std::string out = p.negative ? "-" : "";
  out += p.year_text;
  out += '-';
  out += p.month_text;
  return out;
}

// If a qualifier stands here, it must be the last character of the date;
// anywhere else it qualifies a single component, which is level 2.
Status CheckNoInnerQualifier(const Cursor& c, std::string_view component) {
  if (!IsQualifier(c.Peek()) || c.AtEnd()) return Status::Ok();
  if (c.PeekAt(1) == '-') {
    return Level2("qualifier '" + std::string(1, c.Peek()) + "' on the " + std::string(component) +
                  " alone in " + Quote(c.text()) +
                  " (at level 1 a single ?, ~ or % ends the date and qualifies all of it)");
  }
  return Status::Ok();
}

// Level 0 / level 1 year: [-]YYYY with X allowed in the last one or two digits.
Status ParseShortYear(Cursor& c, DateParts* p) {
  p->negative = c.Consume('-');
  if (!IsDigitOrX(c.Peek())) {
    if (p->negative && c.Peek() == 'Y') {
      return NotADate(c.text(), "a negative long year is written Y-170000002, not -Y170000002");
    }
    return NotADate(c.text(), kExpected);
  }
  const std::string_view year = c.ReadWhile(IsDigitOrX);
  // Common slips with the unspecified-digit character.
  if (c.Peek() == 'x') {
    return NotADate(c.text(), "an unspecified digit is an uppercase 'X' (e.g. 201X)");
  }
  if (c.Peek() == 'u') {
    return NotADate(c.text(),
                    "'u' for an unspecified digit is the 2012 draft syntax; write an uppercase "
                    "'X' (e.g. 201X)");
  }
  size_t x_count = 0;
  for (char ch : year) x_count += ch == 'X' ? 1 : 0;
  if (year.size() != 4) {
    if (x_count == 0 && year.size() == 8 && c.AtEnd()) {
      return NotADate(c.text(), "EDTF requires hyphens between year, month and day (" +
                                    std::string(year.substr(0, 4)) + "-" +
                                    std::string(year.substr(4, 2)) + "-" +
                                    std::string(year.substr(6, 2)) + ")");
    }
    if (x_count == 0 && year.size() > 4 && year.size() <= kMaxLongYearDigits) {
      return NotADate(c.text(), "year " + Quote(year) +
                                    " has more than 4 digits; such years take a Y prefix (Y" +
                                    (p->negative ? "-" : "") + std::string(year) + ")");
    }
    std::string why = "a year has exactly 4 digits";
    if (x_count == 0 && year.size() < 4) {
      why += " (e.g. " + std::string(4 - year.size(), '0') + std::string(year) + ")";
    } else if (year.size() > 4) {
      why +=
          " (or more than 4 after a Y prefix, at most " + std::to_string(kMaxLongYearDigits) + ")";
    }
    return NotADate(c.text(), why);
  }
  // Level 1 allows X only as the last one or two year digits.
  const size_t first_x = year.find('X');
  if (x_count > 0 && (x_count > 2 || first_x != 4 - x_count)) {
    return Level2("unspecified digits in the year " + Quote(year) +
                  " (level 1 allows X only as the last one or two digits: 201X, 20XX)");
  }
  p->year_text = year;
  p->year_unspecified = x_count > 0;
  // Widen: "19XX" is 1900..1999.
  int64_t low = 0;
  int64_t high = 0;
  for (char ch : year) {
    low = low * 10 + (ch == 'X' ? 0 : ch - '0');
    high = high * 10 + (ch == 'X' ? 9 : ch - '0');
  }
  if (p->negative) {
    if (high == 0) {
      return NotADate(c.text(), "there is no year -0000; year zero (1 BCE) is written 0000");
    }
    // "-000X" is -0009..-0001: the magnitude 0 would be year 0000, not negative.
    if (low == 0) low = 1;
    p->year_min = -high;
    p->year_max = -low;
  } else {
    p->year_min = low;
    p->year_max = high;
  }
  return CheckNoInnerQualifier(c, "year");
}

// Level 1 letter-prefixed year: Y[-]DDDDD..., only for more than 4 digits.
Status ParseLongYear(Cursor& c, DateParts* p) {
  c.Advance();  // 'Y'
  p->negative = c.Consume('-');
  const std::string_view digits = c.ReadWhile(IsDigit);
  if (digits.empty()) {
    return NotADate(c.text(), "'Y' must be followed by the year's digits (e.g. Y170000002)");
  }
  // Level 2 suffixes change what the digits mean, so they are checked first.
  if (c.Peek() == 'E') return Level2("exponential year " + Quote(c.text()));
  if (c.Peek() == 'S') return Level2("significant digits in " + Quote(c.text()));
  if (digits[0] == '0') {
    return NotADate(c.text(), "a Y-prefixed year must not start with 0");
  }
  if (digits.size() <= 4) {
    return NotADate(c.text(), "the Y prefix is only for years with more than 4 digits; write " +
                                  std::string(p->negative ? "-" : "") +
                                  std::string(4 - digits.size(), '0') + std::string(digits));
  }
  if (digits.size() > kMaxLongYearDigits) {
    return NotADate(c.text(), "year " + Quote(digits) + " has more than " +
                                  std::to_string(kMaxLongYearDigits) +
                                  " digits, beyond the supported range");
  }
  if (c.Peek() == 'X') {
    return NotADate(c.text(), "a Y-prefixed year cannot have unspecified (X) digits");
  }
  if (c.Peek() == '-' && !c.AtEnd()) {
    return NotADate(c.text(), "a Y-prefixed year stands alone: it cannot have a month or day");
  }
  p->year_text = digits;
  const int64_t value = DigitsValue(digits);
  p->year_min = p->year_max = p->negative ? -value : value;
  return CheckNoInnerQualifier(c, "year");
}

// "-MM": a month 01-12, a season 21-24, or XX.
Status ParseMonth(Cursor& c, DateParts* p) {
  if (IsQualifier(c.Peek())) {
    return Level2("qualifier '" + std::string(1, c.Peek()) + "' before the month in " +
                  Quote(c.text()) + " (at level 1 a single ?, ~ or % ends the date)");
  }
  const std::string_view month = c.ReadWhile(IsDigitOrX);
  if (month.empty()) {
    return NotADate(c.text(), "expected a 2-digit month after " + Quote(c.Consumed()));
  }
  if (p->year_unspecified) {
    return Level2("a month after unspecified year digits in " + Quote(c.text()) +
                  " (level 1 allows X in the year only for a year alone: 201X, 20XX)");
  }
  if (month.size() != 2) {
    std::string why = "month " + Quote(month) + " must have 2 digits";
    if (month.size() == 1 && IsDigit(month[0])) why += " (0" + std::string(month) + ")";
    return NotADate(c.text(), why);
  }
  p->has_month = true;
  p->month_text = month;
  if (month == "XX") {
    p->month_unspecified = true;
    return CheckNoInnerQualifier(c, "month");
  }
  if (month.find('X') != std::string_view::npos) {
    return Level2("partly unspecified month " + Quote(month) + " (level 1 allows XX only)");
  }
  const auto value = static_cast<unsigned>(DigitsValue(month));
  if (value >= 25 && value <= 41) {
    return Level2("sub-year grouping " + std::string(month) +
                  " (level 1 knows the seasons 21-24 only)");
  }
  if (value == 0 || (value > 12 && value < 21) || value > 24) {
    return Invalid("month " + std::string(month) +
                   " is out of range (01-12, or 21-24 for seasons) in " + Quote(c.text()));
  }
  p->month = value;
  return CheckNoInnerQualifier(c, value > 12 ? "season" : "month");
}

// "-DD": a day that exists in the month, or XX.
Status ParseDay(Cursor& c, DateParts* p) {
  if (p->month > 12) {
    return NotADate(c.text(), "a season (" + std::string(p->month_text) + ") cannot have a day");
  }
  if (IsQualifier(c.Peek())) {
    return Level2("qualifier '" + std::string(1, c.Peek()) + "' before the day in " +
                  Quote(c.text()) + " (at level 1 a single ?, ~ or % ends the date)");
  }
  const std::string_view day = c.ReadWhile(IsDigitOrX);
  if (day.empty()) {
    return NotADate(c.text(), "expected a 2-digit day after " + Quote(c.Consumed()));
  }
  if (day.size() != 2) {
    std::string why = "day " + Quote(day) + " must have 2 digits";
    if (day.size() == 1 && IsDigit(day[0])) why += " (0" + std::string(day) + ")";
    return NotADate(c.text(), why);
  }
  p->has_day = true;
  if (day == "XX") {
    p->day_unspecified = true;
    return Status::Ok();
  }
  if (day.find('X') != std::string_view::npos) {
    return Level2("partly unspecified day " + Quote(day) + " (level 1 allows XX only)");
  }
  if (p->month_unspecified) {
    return Level2("a known day in an unspecified month in " + Quote(c.text()) +
                  " (level 1 allows YYYY-XX-XX only)");
  }
  p->day = static_cast<unsigned>(DigitsValue(day));
  if (p->day == 0 || p->day > DaysInMonth(p->year_min, p->month)) {
    return Invalid("day " + std::string(day) + " does not exist in " + YearMonthText(*p));
  }
  return Status::Ok();
}

// Reads exactly two digits.
bool ReadTwoDigits(Cursor& c, unsigned* value) {
  if (!IsDigit(c.Peek()) || !IsDigit(c.PeekAt(1))) return false;
  *value = static_cast<unsigned>((c.Peek() - '0') * 10 + (c.PeekAt(1) - '0'));
  c.Advance();
  c.Advance();
  return !IsDigit(c.Peek());
}

// "Thh:mm:ss" then optional "Z", "±hh" or "±hh:mm". The offset is checked
// but not applied: the date-time stands for its calendar day as written.
Status ParseTime(Cursor& c, const DateParts& p) {
  if (!p.has_day || p.day_unspecified) {
    return NotADate(c.text(), "a time of day needs a complete date (YYYY-MM-DDThh:mm:ss)");
  }
  c.Advance();  // 'T'
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  if (!ReadTwoDigits(c, &hour) || !c.Consume(':') || !ReadTwoDigits(c, &minute) ||
      !c.Consume(':') || !ReadTwoDigits(c, &second)) {
    return NotADate(c.text(), "the time must be written hh:mm:ss (e.g. 1985-04-12T23:20:30)");
  }
  if (hour > 23) {
    return Invalid("hour " + std::to_string(hour) + " is out of range (00-23) in " +
                   Quote(c.text()));
  }
  if (minute > 59) {
    return Invalid("minute " + std::to_string(minute) + " is out of range (00-59) in " +
                   Quote(c.text()));
  }
  if (second > 59) {
    return Invalid("second " + std::to_string(second) +
                   " is out of range (00-59; leap seconds are not supported) in " +
                   Quote(c.text()));
  }
  if (c.Peek() == '.' || c.Peek() == ',') {
    return NotADate(c.text(), "fractional seconds are not part of EDTF");
  }
  if (c.Consume('Z')) return Status::Ok();
  if (c.Peek() == '+' || c.Peek() == '-') {
    const size_t offset_begin = c.Consumed().size();
    c.Advance();
    unsigned offset_hours = 0;
    unsigned offset_minutes = 0;
    if (!ReadTwoDigits(c, &offset_hours) ||
        (c.Consume(':') && !ReadTwoDigits(c, &offset_minutes))) {
      return NotADate(c.text(), kBadOffset);
    }
    if (offset_minutes > 59 || offset_hours * 60 + offset_minutes > 14 * 60) {
      return Invalid("time zone offset " + Quote(c.Consumed().substr(offset_begin)) +
                     " is out of range (-14:00 to +14:00) in " + Quote(c.text()));
    }
  }
  return Status::Ok();
}

// Days covered by the parsed components.
EdtfPoint Resolve(const DateParts& p) {
  EdtfPoint point;
  point.uncertain = p.qualifier == '?' || p.qualifier == '%';
  point.approximate = p.qualifier == '~' || p.qualifier == '%';
  point.unspecified = p.year_unspecified || p.month_unspecified || p.day_unspecified;
  if (p.has_time) {
    point.precision = EdtfPrecision::kDateTime;
  } else if (p.has_day) {
    point.precision = EdtfPrecision::kDay;
  } else if (p.has_month) {
    point.precision = p.month > 12 ? EdtfPrecision::kSeason : EdtfPrecision::kMonth;
  } else {
    point.precision = EdtfPrecision::kYear;
  }
  // Unspecified parts take every value, so the span widens to the enclosing
  // known unit: "1985-XX-XX" is the year, "2004-02-XX" the month.
  if (!p.has_month || p.month_unspecified) {
    point.earliest = DaysFromCivil(p.year_min, 1, 1);
    point.latest = DaysFromCivil(p.year_max, 12, 31);
  } else if (p.month > 12) {
    const int64_t y = p.year_min;
    switch (p.month) {
      case 21:  // spring
        point.earliest = DaysFromCivil(y, 3, 1);
        point.latest = DaysFromCivil(y, 5, 31);
        break;
      case 22:  // summer
        point.earliest = DaysFromCivil(y, 6, 1);
        point.latest = DaysFromCivil(y, 8, 31);
        break;
      case 23:  // autumn
        point.earliest = DaysFromCivil(y, 9, 1);
        point.latest = DaysFromCivil(y, 11, 30);
        break;
      default:  // 24, winter: December through the next February
        point.earliest = DaysFromCivil(y, 12, 1);
        point.latest = DaysFromCivil(y + 1, 2, DaysInMonth(y + 1, 2));
        break;
    }
  } else if (!p.has_day || p.day_unspecified) {
    point.earliest = DaysFromCivil(p.year_min, p.month, 1);
    point.latest = DaysFromCivil(p.year_min, p.month, DaysInMonth(p.year_min, p.month));
  } else {
    point.earliest = point.latest = DaysFromCivil(p.year_min, p.month, p.day);
  }
  return point;
}

// Parses one date (no '/'). `in_interval` forbids a time of day, which level 0
// excludes from intervals.
Status ParsePoint(std::string_view text, bool in_interval, EdtfPoint* out) {
  Cursor c(text);
  const char first = c.Peek();
  if (IsQualifier(first)) {
    return Level2("qualifier '" + std::string(1, first) + "' before the date in " + Quote(text) +
                  " (at level 1 a single ?, ~ or % ends the date)");
  }
  if (first == '[' || first == '{') return Level2("sets and lists such as " + Quote(text));
  if (text == "..") {
    return Invalid("'..' (an open end) is only allowed as one end of an interval (e.g. 1985/..)");
  }
  if (text == "unknown" || text == "open") {
    return Invalid(Quote(text) +
                   " is the 2012 draft syntax; an unknown interval end is now empty (1985/) and an "
                   "open one '..' (1985/..)");
  }

  DateParts p;
  if (first == 'Y') {
    TWINLINE_RETURN_IF_ERROR(ParseLongYear(c, &p));
  } else if (IsDigitOrX(first) || first == '-') {
    TWINLINE_RETURN_IF_ERROR(ParseShortYear(c, &p));
    if (c.Peek() == '-' && !c.AtEnd()) {
      c.Advance();
      TWINLINE_RETURN_IF_ERROR(ParseMonth(c, &p));
      if (c.Peek() == '-' && !c.AtEnd()) {
        c.Advance();
        TWINLINE_RETURN_IF_ERROR(ParseDay(c, &p));
        TWINLINE_RETURN_IF_ERROR(CheckNoInnerQualifier(c, "day"));
      }
    }
    if (c.Peek() == 'T' && !c.AtEnd()) {
      if (in_interval) {
        return NotADate(text, "a time of day is not allowed in an EDTF interval (use dates only)");
      }
      TWINLINE_RETURN_IF_ERROR(ParseTime(c, p));
      p.has_time = true;
      if (IsQualifier(c.Peek()) && !c.AtEnd()) {
        return NotADate(text, "a date-time cannot be qualified with ?, ~ or %");
      }
    }
  } else {
    return NotADate(text, kExpected);
  }

  if (IsQualifier(c.Peek()) && !c.AtEnd()) {
    p.qualifier = c.Peek();
    c.Advance();
    if (IsQualifier(c.Peek()) && !c.AtEnd()) {
      return NotADate(text, "a date takes one qualifier: ? uncertain, ~ approximate, % both");
    }
  }
  if (!c.AtEnd()) {
    const std::string_view rest = c.Rest();
    if (rest[0] == 'S' && rest.size() > 1 && IsDigit(rest[1])) {
      return Level2("significant digits in " + Quote(text));
    }
    if (rest[0] == 't' && !p.has_time) {
      return NotADate(text, "the time separator is an uppercase 'T'");
    }
    if (rest[0] == 'z' && p.has_time) {
      return NotADate(text, "UTC is written with an uppercase 'Z'");
    }
    if (p.has_time && (rest[0] == '+' || rest[0] == '-' || IsDigit(rest[0]) || rest[0] == ':')) {
      return NotADate(text, kBadOffset);
    }
    return NotADate(text, "unexpected " + Quote(rest) + " after " + Quote(c.Consumed()));
  }
  *out = Resolve(p);
  return Status::Ok();
}

// One end of an interval: a date, '..' (open) or empty (unknown).
Status ParseIntervalEnd(std::string_view text, bool is_start, EdtfDate::End* kind,
                        EdtfPoint* point) {
  const int64_t sentinel = is_start ? kUnboundedStart : kUnboundedEnd;
  if (text.empty() || text == "..") {
    *kind = text.empty() ? EdtfDate::End::kUnknown : EdtfDate::End::kOpen;
    *point = EdtfPoint{};
    point->earliest = point->latest = sentinel;
    return Status::Ok();
  }
  *kind = EdtfDate::End::kDate;
  Status status = ParsePoint(text, /*in_interval=*/true, point);
  if (!status.ok()) {
    return Invalid(std::string(is_start ? "interval start: " : "interval end: ") +
                   status.message());
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// ParseEdtf
// ---------------------------------------------------------------------------

Status ParseEdtf(std::string_view text, EdtfDate* out) {
  if (text.empty()) {
    return Invalid("an empty string is not an EDTF date: " + std::string(kExpected));
  }
  if (IsSpace(text.front()) || IsSpace(text.back())) {
    return Invalid("surrounding whitespace is not allowed in an EDTF date: " + Quote(text));
  }
  size_t slashes = 0;
  size_t slash = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsSpace(text[i])) {
      return Invalid("whitespace is not allowed inside an EDTF date: " + Quote(text) +
                     " has one at position " + std::to_string(i + 1));
    }
    if (text[i] == '/') {
      ++slashes;
      if (slash == std::string_view::npos) slash = i;
    }
  }
  if (slashes > 1) {
    return Invalid(Quote(text) + " is not an EDTF date: an interval has exactly one '/'");
  }

  EdtfDate date;
  date.text = std::string(text);
  if (slashes == 0) {
    TWINLINE_RETURN_IF_ERROR(ParsePoint(text, /*in_interval=*/false, &date.start));
    date.form = EdtfDate::Form::kDate;
    date.end = date.start;
    date.earliest = date.start.earliest;
    date.latest = date.start.latest;
    *out = std::move(date);
    return Status::Ok();
  }

  const std::string_view start_text = text.substr(0, slash);
  const std::string_view end_text = text.substr(slash + 1);
  date.form = EdtfDate::Form::kInterval;
  TWINLINE_RETURN_IF_ERROR(ParseIntervalEnd(start_text, true, &date.start_kind, &date.start));
  TWINLINE_RETURN_IF_ERROR(ParseIntervalEnd(end_text, false, &date.end_kind, &date.end));
  if (date.start_kind != EdtfDate::End::kDate && date.end_kind != EdtfDate::End::kDate) {
    return Invalid(Quote(text) +
                   " is not an EDTF interval: at least one end must be a date (e.g. 1985/.. or "
                   "/1985)");
  }
  // Ends may overlap ("2004-06/2004", "198X/1985"); only an end that cannot
  // reach the start is an error.
  if (date.start_kind == EdtfDate::End::kDate && date.end_kind == EdtfDate::End::kDate &&
      date.start.earliest > date.end.latest) {
    return Invalid("interval " + Quote(text) + " starts after it ends: " + Quote(start_text) +
                   " begins " + FormatDay(date.start.earliest) + ", after " + Quote(end_text) +
                   " ends " + FormatDay(date.end.latest));
  }
  date.earliest = date.start.earliest;  // kUnboundedStart for an open/unknown start
  date.latest = date.end.latest;        // kUnboundedEnd for an open/unknown end
  *out = std::move(date);
  return Status::Ok();
}

}  // namespace twinline
