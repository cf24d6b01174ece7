// Tests for the EDTF level 0/1 parser and the calendar helpers (core/edtf.h).
//
// Expected spans are written as FormatDay strings ("1985-04-01") so that a
// failure reads as a date, not a day number. The spec tables follow the
// Library of Congress EDTF specification (2019), levels 0 and 1, example by
// example.
#include "core/edtf.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace twinline {
namespace {

using namespace std::string_view_literals;

using End = EdtfDate::End;
using Form = EdtfDate::Form;
using P = EdtfPrecision;

// Parses `text`, failing the test (with the Status) if it is rejected.
EdtfDate MustParse(std::string_view text) {
  EdtfDate date;
  const Status status = ParseEdtf(text, &date);
  EXPECT_TRUE(status.ok()) << "'" << text << "': " << status.ToString();
  return date;
}

// The message for a rejected `text`; fails the test if it is accepted.
std::string ErrorOf(std::string_view text) {
  EdtfDate date;
  const Status status = ParseEdtf(text, &date);
  EXPECT_FALSE(status.ok()) << "'" << text << "' was accepted";
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << text;
  return status.message();
}

// One date (not an interval) and what it must resolve to.
struct DateCase {
  std::string_view text;
  std::string_view earliest;
  std::string_view latest;
  EdtfPrecision precision;
  char qualifier = '\0';  // '?', '~', '%' or none
  bool unspecified = false;
};

void ExpectFlags(const EdtfPoint& point, char qualifier, bool unspecified) {
  EXPECT_EQ(point.uncertain, qualifier == '?' || qualifier == '%');
  EXPECT_EQ(point.approximate, qualifier == '~' || qualifier == '%');
  EXPECT_EQ(point.unspecified, unspecified);
}

void ExpectDates(const std::vector<DateCase>& cases) {
  for (const DateCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    const EdtfDate date = MustParse(c.text);
    EXPECT_EQ(date.form, Form::kDate);
    EXPECT_EQ(date.Normalized(), c.text);
    EXPECT_EQ(FormatDay(date.earliest), c.earliest);
    EXPECT_EQ(FormatDay(date.latest), c.latest);
    EXPECT_EQ(date.start.earliest, date.earliest);
    EXPECT_EQ(date.start.latest, date.latest);
    EXPECT_EQ(date.start.precision, c.precision);
    EXPECT_EQ(date.start_kind, End::kDate);
    EXPECT_EQ(date.end_kind, End::kDate);
    ExpectFlags(date.start, c.qualifier, c.unspecified);
    ExpectFlags(date.end, c.qualifier, c.unspecified);
  }
}

// One interval and what it must resolve to. For an open/unknown end the
// precision and qualifier fields are ignored.
struct IntervalCase {
  std::string_view text;
  std::string_view earliest;  // ".." for unbounded
  std::string_view latest;
  End start_kind = End::kDate;
  End end_kind = End::kDate;
  EdtfPrecision start_precision = P::kYear;
  EdtfPrecision end_precision = P::kYear;
  char start_qualifier = '\0';
  char end_qualifier = '\0';
  bool start_unspecified = false;
  bool end_unspecified = false;
};

void ExpectIntervals(const std::vector<IntervalCase>& cases) {
  for (const IntervalCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    const EdtfDate date = MustParse(c.text);
    EXPECT_EQ(date.form, Form::kInterval);
    EXPECT_EQ(date.Normalized(), c.text);
    EXPECT_EQ(FormatDay(date.earliest), c.earliest);
    EXPECT_EQ(FormatDay(date.latest), c.latest);
    EXPECT_EQ(date.start_kind, c.start_kind);
    EXPECT_EQ(date.end_kind, c.end_kind);
    if (c.start_kind == End::kDate) {
      EXPECT_EQ(date.earliest, date.start.earliest);
      EXPECT_EQ(date.start.precision, c.start_precision);
      ExpectFlags(date.start, c.start_qualifier, c.start_unspecified);
    } else {
      EXPECT_EQ(date.earliest, kUnboundedStart);
      EXPECT_EQ(date.start.earliest, kUnboundedStart);
      EXPECT_EQ(date.start.latest, kUnboundedStart);
      ExpectFlags(date.start, '\0', false);
    }
    if (c.end_kind == End::kDate) {
      EXPECT_EQ(date.latest, date.end.latest);
      EXPECT_EQ(date.end.precision, c.end_precision);
      ExpectFlags(date.end, c.end_qualifier, c.end_unspecified);
    } else {
      EXPECT_EQ(date.latest, kUnboundedEnd);
      EXPECT_EQ(date.end.earliest, kUnboundedEnd);
      EXPECT_EQ(date.end.latest, kUnboundedEnd);
      ExpectFlags(date.end, '\0', false);
    }
  }
}

void ExpectSameDate(const EdtfDate& a, const EdtfDate& b) {
  EXPECT_EQ(a.form, b.form);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.start_kind, b.start_kind);
  EXPECT_EQ(a.end_kind, b.end_kind);
  EXPECT_EQ(a.earliest, b.earliest);
  EXPECT_EQ(a.latest, b.latest);
  for (const auto& [p, q] : {std::pair{a.start, b.start}, std::pair{a.end, b.end}}) {
    EXPECT_EQ(p.precision, q.precision);
    EXPECT_EQ(p.uncertain, q.uncertain);
    EXPECT_EQ(p.approximate, q.approximate);
    EXPECT_EQ(p.unspecified, q.unspecified);
    EXPECT_EQ(p.earliest, q.earliest);
    EXPECT_EQ(p.latest, q.latest);
  }
}

// ---------------------------------------------------------------------------
// Level 0 (specification examples)
// ---------------------------------------------------------------------------

TEST(EdtfTest, ParsesLevel0SpecDates) {
  ExpectDates({
      {"1985-04-12", "1985-04-12", "1985-04-12", P::kDay},
      {"1985-04", "1985-04-01", "1985-04-30", P::kMonth},
      {"1985", "1985-01-01", "1985-12-31", P::kYear},
  });
}

TEST(EdtfTest, ParsesLevel0SpecDateTimesAsTheirCalendarDay) {
  ExpectDates({
      {"1985-04-12T23:20:30", "1985-04-12", "1985-04-12", P::kDateTime},
      {"1985-04-12T23:20:30Z", "1985-04-12", "1985-04-12", P::kDateTime},
      // Hour-only offset, as in the specification.
      {"1985-04-12T23:20:30-04", "1985-04-12", "1985-04-12", P::kDateTime},
      {"1985-04-12T23:20:30+04:30", "1985-04-12", "1985-04-12", P::kDateTime},
  });
}

TEST(EdtfTest, DoesNotApplyTheTimeZoneOffset) {
  // 23:20 at -04:00 is 03:20 UTC the next day; the contract keeps the day as written.
  ExpectDates({
      {"1985-04-12T23:20:30-04:00", "1985-04-12", "1985-04-12", P::kDateTime},
      {"1985-04-12T00:00:00+14:00", "1985-04-12", "1985-04-12", P::kDateTime},
      {"1985-04-12T00:00:00-12:00", "1985-04-12", "1985-04-12", P::kDateTime},
  });
}

TEST(EdtfTest, AcceptsTimeBoundaries) {
  ExpectDates({
      {"2000-01-01T00:00:00", "2000-01-01", "2000-01-01", P::kDateTime},
      {"1999-12-31T23:59:59Z", "1999-12-31", "1999-12-31", P::kDateTime},
      {"1999-12-31T23:59:59+00:00", "1999-12-31", "1999-12-31", P::kDateTime},
  });
}

TEST(EdtfTest, ParsesLevel0SpecIntervals) {
  ExpectIntervals({
      {.text = "1964/2008", .earliest = "1964-01-01", .latest = "2008-12-31"},
      {.text = "2004-06/2006-08",
       .earliest = "2004-06-01",
       .latest = "2006-08-31",
       .start_precision = P::kMonth,
       .end_precision = P::kMonth},
      {.text = "2004-02-01/2005-02-08",
       .earliest = "2004-02-01",
       .latest = "2005-02-08",
       .start_precision = P::kDay,
       .end_precision = P::kDay},
      {.text = "2004-02-01/2005-02",
       .earliest = "2004-02-01",
       .latest = "2005-02-28",
       .start_precision = P::kDay,
       .end_precision = P::kMonth},
      {.text = "2004-02-01/2005",
       .earliest = "2004-02-01",
       .latest = "2005-12-31",
       .start_precision = P::kDay,
       .end_precision = P::kYear},
      {.text = "2005/2006-02",
       .earliest = "2005-01-01",
       .latest = "2006-02-28",
       .start_precision = P::kYear,
       .end_precision = P::kMonth},
  });
}

TEST(EdtfTest, AcceptsYearZeroAsOneBce) {
  ExpectDates({
      {"0000", "0000-01-01", "0000-12-31", P::kYear},
      {"0000-02-29", "0000-02-29", "0000-02-29", P::kDay},  // year 0 is a leap year
      {"0001-01-01", "0001-01-01", "0001-01-01", P::kDay},
      {"9999-12-31", "9999-12-31", "9999-12-31", P::kDay},
  });
}

TEST(EdtfTest, AcceptsLeapDays) {
  ExpectDates({
      {"2024-02-29", "2024-02-29", "2024-02-29", P::kDay},
      {"2000-02-29", "2000-02-29", "2000-02-29", P::kDay},
      {"2024-02", "2024-02-01", "2024-02-29", P::kMonth},
      {"1900-02", "1900-02-01", "1900-02-28", P::kMonth},
  });
}

// ---------------------------------------------------------------------------
// Level 1 (specification examples)
// ---------------------------------------------------------------------------

TEST(EdtfTest, ParsesLetterPrefixedYears) {
  ExpectDates({
      {"Y170000002", "170000002-01-01", "170000002-12-31", P::kYear},
      {"Y-170000002", "-170000002-01-01", "-170000002-12-31", P::kYear},
      {"Y10000", "10000-01-01", "10000-12-31", P::kYear},
      {"Y-10000", "-10000-01-01", "-10000-12-31", P::kYear},
      {"Y999999999999999", "999999999999999-01-01", "999999999999999-12-31", P::kYear},
      {"Y170000002?", "170000002-01-01", "170000002-12-31", P::kYear, '?'},
  });
}

TEST(EdtfTest, ParsesSeasons) {
  ExpectDates({
      {"2001-21", "2001-03-01", "2001-05-31", P::kSeason},  // spring (spec example)
      {"2001-22", "2001-06-01", "2001-08-31", P::kSeason},  // summer
      {"2001-23", "2001-09-01", "2001-11-30", P::kSeason},  // autumn
      {"2001-24", "2001-12-01", "2002-02-28", P::kSeason},  // winter runs into next year
      {"2003-24", "2003-12-01", "2004-02-29", P::kSeason},  // ... and its leap day
      {"2001-21~", "2001-03-01", "2001-05-31", P::kSeason, '~'},
  });
}

TEST(EdtfTest, ParsesQualifiedDatesWithoutWideningThem) {
  ExpectDates({
      {"1984?", "1984-01-01", "1984-12-31", P::kYear, '?'},
      {"2004-06~", "2004-06-01", "2004-06-30", P::kMonth, '~'},
      {"2004-06-11%", "2004-06-11", "2004-06-11", P::kDay, '%'},
      {"2004-06-11?", "2004-06-11", "2004-06-11", P::kDay, '?'},
  });
  const EdtfDate date = MustParse("2004-06-11%");
  EXPECT_TRUE(date.uncertain());
  EXPECT_TRUE(date.approximate());
}

TEST(EdtfTest, WidensUnspecifiedDigitsToEveryValidValue) {
  ExpectDates({
      {"201X", "2010-01-01", "2019-12-31", P::kYear, '\0', true},
      {"20XX", "2000-01-01", "2099-12-31", P::kYear, '\0', true},
      {"2004-XX", "2004-01-01", "2004-12-31", P::kMonth, '\0', true},
      {"1985-04-XX", "1985-04-01", "1985-04-30", P::kDay, '\0', true},
      {"1985-XX-XX", "1985-01-01", "1985-12-31", P::kDay, '\0', true},
      {"2004-02-XX", "2004-02-01", "2004-02-29", P::kDay, '\0', true},
      {"2003-02-XX", "2003-02-01", "2003-02-28", P::kDay, '\0', true},
      {"201X?", "2010-01-01", "2019-12-31", P::kYear, '?', true},
      {"-201X", "-2019-01-01", "-2010-12-31", P::kYear, '\0', true},
      {"-000X", "-0009-01-01", "-0001-12-31", P::kYear, '\0', true},
  });
}

TEST(EdtfTest, ParsesOpenAndUnknownIntervalEnds) {
  ExpectIntervals({
      {.text = "1985-04-12/..",
       .earliest = "1985-04-12",
       .latest = "..",
       .end_kind = End::kOpen,
       .start_precision = P::kDay},
      {.text = "1985-04/..",
       .earliest = "1985-04-01",
       .latest = "..",
       .end_kind = End::kOpen,
       .start_precision = P::kMonth},
      {.text = "1985/..", .earliest = "1985-01-01", .latest = "..", .end_kind = End::kOpen},
      {.text = "../1985-04-12",
       .earliest = "..",
       .latest = "1985-04-12",
       .start_kind = End::kOpen,
       .end_precision = P::kDay},
      {.text = "../1985-04",
       .earliest = "..",
       .latest = "1985-04-30",
       .start_kind = End::kOpen,
       .end_precision = P::kMonth},
      {.text = "../1985", .earliest = "..", .latest = "1985-12-31", .start_kind = End::kOpen},
      {.text = "1985-04-12/",
       .earliest = "1985-04-12",
       .latest = "..",
       .end_kind = End::kUnknown,
       .start_precision = P::kDay},
      {.text = "1985-04/",
       .earliest = "1985-04-01",
       .latest = "..",
       .end_kind = End::kUnknown,
       .start_precision = P::kMonth},
      {.text = "1985/", .earliest = "1985-01-01", .latest = "..", .end_kind = End::kUnknown},
      {.text = "/1985-04-12",
       .earliest = "..",
       .latest = "1985-04-12",
       .start_kind = End::kUnknown,
       .end_precision = P::kDay},
      {.text = "/1985-04",
       .earliest = "..",
       .latest = "1985-04-30",
       .start_kind = End::kUnknown,
       .end_precision = P::kMonth},
      {.text = "/1985", .earliest = "..", .latest = "1985-12-31", .start_kind = End::kUnknown},
  });
}

TEST(EdtfTest, UsesTheSentinelsForOpenAndUnknownEnds) {
  const EdtfDate open_end = MustParse("1985-04-12/..");
  EXPECT_EQ(open_end.latest, kUnboundedEnd);
  const EdtfDate unknown_start = MustParse("/1985-04-12");
  EXPECT_EQ(unknown_start.earliest, kUnboundedStart);
  EXPECT_EQ(unknown_start.latest, DaysFromCivil(1985, 4, 12));
}

TEST(EdtfTest, ParsesNegativeCalendarYear) {
  ExpectDates({
      {"-1985", "-1985-01-01", "-1985-12-31", P::kYear},
      {"-0044-03-15", "-0044-03-15", "-0044-03-15", P::kDay},
      {"-0001", "-0001-01-01", "-0001-12-31", P::kYear},
      {"-0004-02-29", "-0004-02-29", "-0004-02-29", P::kDay},
  });
}

TEST(EdtfTest, ParsesQualifiedAndUnspecifiedDatesInsideIntervals) {
  ExpectIntervals({
      {.text = "2004-06~/2004-06",
       .earliest = "2004-06-01",
       .latest = "2004-06-30",
       .start_precision = P::kMonth,
       .end_precision = P::kMonth,
       .start_qualifier = '~'},
      {.text = "1984~/2004-06",
       .earliest = "1984-01-01",
       .latest = "2004-06-30",
       .end_precision = P::kMonth,
       .start_qualifier = '~'},
      {.text = "1984/2004-06~",
       .earliest = "1984-01-01",
       .latest = "2004-06-30",
       .end_precision = P::kMonth,
       .end_qualifier = '~'},
      {.text = "1984~/2004~",
       .earliest = "1984-01-01",
       .latest = "2004-12-31",
       .start_qualifier = '~',
       .end_qualifier = '~'},
      {.text = "1984?/2004%",
       .earliest = "1984-01-01",
       .latest = "2004-12-31",
       .start_qualifier = '?',
       .end_qualifier = '%'},
      {.text = "1984-06?/2004-08?",
       .earliest = "1984-06-01",
       .latest = "2004-08-31",
       .start_precision = P::kMonth,
       .end_precision = P::kMonth,
       .start_qualifier = '?',
       .end_qualifier = '?'},
      {.text = "1984-06-02?/2004-08-08~",
       .earliest = "1984-06-02",
       .latest = "2004-08-08",
       .start_precision = P::kDay,
       .end_precision = P::kDay,
       .start_qualifier = '?',
       .end_qualifier = '~'},
      {.text = "1984-06-02?/",
       .earliest = "1984-06-02",
       .latest = "..",
       .end_kind = End::kUnknown,
       .start_precision = P::kDay,
       .start_qualifier = '?'},
      {.text = "198X/1985",
       .earliest = "1980-01-01",
       .latest = "1985-12-31",
       .start_unspecified = true},
      {.text = "2001-21/2001-24",
       .earliest = "2001-03-01",
       .latest = "2002-02-28",
       .start_precision = P::kSeason,
       .end_precision = P::kSeason},
      {.text = "Y-170000002/-1985", .earliest = "-170000002-01-01", .latest = "-1985-12-31"},
  });
  const EdtfDate date = MustParse("1984?/2004-06");
  EXPECT_TRUE(date.uncertain());
  EXPECT_FALSE(date.approximate());
}

TEST(EdtfTest, AcceptsIntervalsWhoseEndsOverlap) {
  ExpectIntervals({
      {.text = "2004-06/2004",
       .earliest = "2004-06-01",
       .latest = "2004-12-31",
       .start_precision = P::kMonth},
      {.text = "2004/2004-06",
       .earliest = "2004-01-01",
       .latest = "2004-06-30",
       .end_precision = P::kMonth},
      {.text = "1985-04-12/1985-04-12",
       .earliest = "1985-04-12",
       .latest = "1985-04-12",
       .start_precision = P::kDay,
       .end_precision = P::kDay},
  });
}

// ---------------------------------------------------------------------------
// The dates twinline's own documentation uses.
// ---------------------------------------------------------------------------

TEST(EdtfTest, ParsesTwinlineDocumentationExamples) {
  ExpectDates({
      {"2004-07-22", "2004-07-22", "2004-07-22", P::kDay},
      {"2011-03", "2011-03-01", "2011-03-31", P::kMonth},
      {"1981", "1981-01-01", "1981-12-31", P::kYear},
      {"2014-11~", "2014-11-01", "2014-11-30", P::kMonth, '~'},
      {"2011?", "2011-01-01", "2011-12-31", P::kYear, '?'},
      {"2011%", "2011-01-01", "2011-12-31", P::kYear, '%'},
      {"198X", "1980-01-01", "1989-12-31", P::kYear, '\0', true},
  });
  ExpectIntervals({
      {.text = "../2023-10-06",
       .earliest = "..",
       .latest = "2023-10-06",
       .start_kind = End::kOpen,
       .end_precision = P::kDay},
      {.text = "2016/2024", .earliest = "2016-01-01", .latest = "2024-12-31"},
  });
}

// ---------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------

struct InvalidCase {
  std::string_view text;
  std::string_view message_part;  // must occur in the error message
};

void ExpectRejected(const std::vector<InvalidCase>& cases) {
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    const std::string message = ErrorOf(c.text);
    EXPECT_NE(message.find(c.message_part), std::string::npos)
        << "message: " << message << "\nexpected to contain: " << c.message_part;
  }
}

TEST(EdtfTest, RejectsFebruaryThirtieth) {
  ExpectRejected({{"2021-02-30", "day 30 does not exist in 2021-02"}});
}

TEST(EdtfTest, RejectsLeapDayInCommonYears) {
  ExpectRejected({
      {"2021-02-29", "day 29 does not exist in 2021-02"},
      {"1900-02-29", "day 29 does not exist in 1900-02"},
      {"-0001-02-29", "day 29 does not exist in -0001-02"},
  });
}

TEST(EdtfTest, RejectsDaysAndMonthsOutOfRange) {
  ExpectRejected({
      {"2021-13", "month 13 is out of range (01-12, or 21-24 for seasons)"},
      {"2021-00", "month 00 is out of range (01-12, or 21-24 for seasons)"},
      {"2021-20", "month 20 is out of range"},
      {"2021-99", "month 99 is out of range"},
      {"2021-13-01", "month 13 is out of range"},
      {"2021-04-31", "day 31 does not exist in 2021-04"},
      {"2021-01-00", "day 00 does not exist in 2021-01"},
      {"2021-01-32", "day 32 does not exist in 2021-01"},
      {"2021-04-XX/2021-04-31", "interval end: day 31 does not exist in 2021-04"},
  });
}

TEST(EdtfTest, RejectsTextThatIsNotADate) {
  ExpectRejected({
      {"spring", "'spring' is not an EDTF date: expected YYYY, YYYY-MM or YYYY-MM-DD"},
      {"", "an empty string is not an EDTF date"},
      {"21", "'21' is not an EDTF date: a year has exactly 4 digits (e.g. 0021)"},
      {"985", "a year has exactly 4 digits (e.g. 0985)"},
      {"+2006", "'+2006' is not an EDTF date"},
      {"2021/13", "interval end: '13' is not an EDTF date: a year has exactly 4 digits"},
      {"2021-1-5", "month '1' must have 2 digits (01)"},
      {"2021-01-5", "day '5' must have 2 digits (05)"},
      {"2021-001", "month '001' must have 2 digits"},
      {"2021-", "expected a 2-digit month after '2021-'"},
      {"2021-01-", "expected a 2-digit day after '2021-01-'"},
      {"19850", "has more than 4 digits; such years take a Y prefix (Y19850)"},
      {"-19850", "such years take a Y prefix (Y-19850)"},
      {"1234567890123456", "a year has exactly 4 digits (or more than 4 after a Y prefix"},
      {"20210405", "EDTF requires hyphens between year, month and day (2021-04-05)"},
      {"2001-21-05", "a season (21) cannot have a day"},
      {"-0000", "there is no year -0000"},
      {"..", "'..' (an open end) is only allowed as one end of an interval"},
  });
}

TEST(EdtfTest, RejectsWhitespace) {
  ExpectRejected({
      {" 2021", "surrounding whitespace is not allowed"},
      {"2021 ", "surrounding whitespace is not allowed"},
      {"2021-01-01\n", "surrounding whitespace is not allowed"},
      {"\t2021", "surrounding whitespace is not allowed"},
      {"2021 /2022", "whitespace is not allowed inside an EDTF date"},
      {"2021- 01", "whitespace is not allowed inside an EDTF date"},
  });
}

TEST(EdtfTest, RejectsTrailingGarbage) {
  ExpectRejected({
      {"2021-01-01x", "unexpected 'x' after '2021-01-01'"},
      {"2021-01-01-01", "unexpected '-01' after '2021-01-01'"},
      {"1984?x", "unexpected 'x' after '1984?'"},
      {"2021abc", "unexpected 'abc' after '2021'"},
      {"2021-01-01\0"sv, "unexpected '\\x00' after '2021-01-01'"},
      {"2021-01-01\xC3\xA9", "unexpected '\\xC3\\xA9'"},
  });
}

TEST(EdtfTest, RejectsBadTimes) {
  ExpectRejected({
      {"1985-04-12T25:00:00", "hour 25 is out of range (00-23)"},
      {"1985-04-12T24:00:00", "hour 24 is out of range (00-23)"},
      {"1985-04-12T23:60:00", "minute 60 is out of range (00-59)"},
      {"1985-04-12T23:59:60", "second 60 is out of range (00-59"},
      {"1985-04-12T23:20", "the time must be written hh:mm:ss"},
      {"1985-04-12T2:20:30", "the time must be written hh:mm:ss"},
      {"1985-04-12T", "the time must be written hh:mm:ss"},
      {"1985-04-12T23:20:30.5", "fractional seconds are not part of EDTF"},
      {"1985-04-12t23:20:30", "the time separator is an uppercase 'T'"},
      {"1985-04-12T23:20:30z", "UTC is written with an uppercase 'Z'"},
      {"1985-04-12T23:20:30+15:00", "time zone offset '+15:00' is out of range (-14:00 to +14:00)"},
      {"1985-04-12T23:20:30+14:01", "is out of range (-14:00 to +14:00)"},
      {"1985-04-12T23:20:30+04:60", "time zone offset '+04:60' is out of range"},
      {"1985-04-12T23:20:30+0430", "a time zone offset is Z, +hh, -hh, +hh:mm or -hh:mm"},
      {"1985-04-12T23:20:30+4", "a time zone offset is Z, +hh, -hh, +hh:mm or -hh:mm"},
      {"1985-04-12T23:20:30+04:", "a time zone offset is Z, +hh, -hh, +hh:mm or -hh:mm"},
      {"1985-04-12T23:20:30Z+01", "a time zone offset is Z, +hh, -hh, +hh:mm or -hh:mm"},
      {"1985-04T23:20:30", "a time of day needs a complete date"},
      {"1985-04-XXT23:20:30", "a time of day needs a complete date"},
      {"1985-04-12T23:20:30?", "a date-time cannot be qualified"},
      {"1985-04-12T23:20:30/1986", "a time of day is not allowed in an EDTF interval"},
  });
}

TEST(EdtfTest, RejectsIntervalThatEndsBeforeItStarts) {
  ExpectRejected({
      {"2024/2016", "starts after it ends: '2024' begins 2024-01-01, after '2016' ends 2016-12-31"},
      {"2004-06-11/2004-06-10", "starts after it ends"},
      {"2012-24/2012-21", "starts after it ends"},
      {"-1000/-2000", "starts after it ends"},
      {"0001/0000", "starts after it ends"},
  });
}

TEST(EdtfTest, RejectsIntervalsWithoutAnyDate) {
  ExpectRejected({
      {"../..", "at least one end must be a date"},
      {"/", "at least one end must be a date"},
      {"../", "at least one end must be a date"},
      {"/..", "at least one end must be a date"},
      {"2012///4444", "an interval has exactly one '/'"},
      {"1985/1986/1987", "an interval has exactly one '/'"},
      {".../1985", "interval start: '...' is not an EDTF date"},
  });
}

TEST(EdtfTest, RejectsLevel2FormsAsUnsupported) {
  // Every example of the specification's level 2 tables, and a few more.
  for (std::string_view text : {
           "?2004-06-11"sv,
           "2004?-06-11"sv,
           "2004-06~-11"sv,
           "?2004-06-~11"sv,
           "2004-%06-11"sv,
           "2004-06-~11"sv,
           "2004-06-~01/2004-06-~20"sv,
           "156X-12-25"sv,
           "15XX-12-25"sv,
           "XXXX-12-XX"sv,
           "1XXX-XX"sv,
           "1XXX-12"sv,
           "1984-1X"sv,
           "1XXX"sv,
           "XXXX"sv,
           "1X8X"sv,
           "201X-05"sv,
           "1985-XX-12"sv,
           "2004-06-1X"sv,
           "2001-25"sv,
           "2001-34"sv,
           "2001-41"sv,
           "Y-17E7"sv,
           "1950S2"sv,
           "Y171010000S3"sv,
           "Y3388E2S3"sv,
           "[1667,1668,1670..1672]"sv,
           "[..1760-12-03]"sv,
           "[1760-12..]"sv,
           "[1760-01,1760-02,1760-12..]"sv,
           "[1667,1760-12]"sv,
           "[..1984]"sv,
           "{1667,1668,1670..1672}"sv,
           "{1960,1961-12}"sv,
           "{..1984}"sv,
       }) {
    SCOPED_TRACE(std::string(text));
    EXPECT_NE(ErrorOf(text).find("level 2 EDTF is not supported"), std::string::npos)
        << ErrorOf(text);
  }
}

TEST(EdtfTest, RejectsMisusedQualifiersAndUnspecifiedDigits) {
  ExpectRejected({
      {"1984?~", "a date takes one qualifier: ? uncertain, ~ approximate, % both"},
      {"1984??", "a date takes one qualifier"},
      {"201x", "an unspecified digit is an uppercase 'X'"},
      {"201u", "'u' for an unspecified digit is the 2012 draft syntax"},
      {"2004-06-11?/2004-06-1?", "day '1' must have 2 digits (01)"},
  });
}

TEST(EdtfTest, RejectsMalformedLetterPrefixedYears) {
  ExpectRejected({
      {"Y2006", "the Y prefix is only for years with more than 4 digits; write 2006"},
      {"Y-44", "the Y prefix is only for years with more than 4 digits; write -0044"},
      {"Y017000", "a Y-prefixed year must not start with 0"},
      {"Y", "'Y' must be followed by the year's digits"},
      {"Y1000000000000000", "has more than 15 digits, beyond the supported range"},
      {"Y170000002-01", "a Y-prefixed year stands alone: it cannot have a month or day"},
      {"Y17000000X", "a Y-prefixed year cannot have unspecified (X) digits"},
      {"-Y170000002", "a negative long year is written Y-170000002"},
  });
}

TEST(EdtfTest, RejectsTheDraftKeywordsForIntervalEnds) {
  ExpectRejected({
      {"1985/open", "interval end: 'open' is the 2012 draft syntax"},
      {"unknown/2006", "interval start: 'unknown' is the 2012 draft syntax"},
  });
}

TEST(EdtfTest, KeepsErrorMessagesShortForHugeInput) {
  const std::string huge(100000, '9');
  const std::string message = ErrorOf(huge);
  EXPECT_LT(message.size(), 400u) << message;
  const std::string long_year = "Y" + std::string(100000, '1');
  EXPECT_LT(ErrorOf(long_year).size(), 400u);
  const std::string many_x(100000, 'X');
  EXPECT_LT(ErrorOf(many_x).size(), 400u);
  const std::string long_garbage = "2021" + std::string(100000, '#');
  EXPECT_LT(ErrorOf(long_garbage).size(), 400u);
}

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

TEST(EdtfTest, NormalizedTextReparsesToTheSameResult) {
  for (std::string_view text : {
           "1985-04-12"sv,
           "1985-04"sv,
           "1985"sv,
           "1985-04-12T23:20:30"sv,
           "1985-04-12T23:20:30Z"sv,
           "1985-04-12T23:20:30-04"sv,
           "1985-04-12T23:20:30+04:30"sv,
           "1964/2008"sv,
           "2004-06/2006-08"sv,
           "2004-02-01/2005-02-08"sv,
           "2004-02-01/2005-02"sv,
           "2004-02-01/2005"sv,
           "2005/2006-02"sv,
           "Y170000002"sv,
           "Y-170000002"sv,
           "2001-21"sv,
           "2001-24"sv,
           "1984?"sv,
           "2004-06~"sv,
           "2004-06-11%"sv,
           "201X"sv,
           "20XX"sv,
           "2004-XX"sv,
           "1985-04-XX"sv,
           "1985-XX-XX"sv,
           "1985-04-12/.."sv,
           "1985-04/.."sv,
           "1985/.."sv,
           "../1985-04-12"sv,
           "../1985-04"sv,
           "../1985"sv,
           "1985-04-12/"sv,
           "1985-04/"sv,
           "1985/"sv,
           "/1985-04-12"sv,
           "/1985-04"sv,
           "/1985"sv,
           "-1985"sv,
           "2004-06~/2004-06"sv,
           "1984~/2004-06"sv,
           "0000"sv,
       }) {
    SCOPED_TRACE(std::string(text));
    const EdtfDate first = MustParse(text);
    EXPECT_EQ(first.Normalized(), text);
    const EdtfDate second = MustParse(first.Normalized());
    ExpectSameDate(first, second);
  }
}

// ---------------------------------------------------------------------------
// Calendar helpers
// ---------------------------------------------------------------------------

TEST(CalendarTest, KnowsLeapYears) {
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_FALSE(IsLeapYear(2023));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_TRUE(IsLeapYear(0));
  EXPECT_TRUE(IsLeapYear(-4));
  EXPECT_FALSE(IsLeapYear(-1));
  EXPECT_FALSE(IsLeapYear(-100));
  EXPECT_TRUE(IsLeapYear(-400));
}

TEST(CalendarTest, KnowsMonthLengths) {
  EXPECT_EQ(DaysInMonth(2024, 2), 29u);
  EXPECT_EQ(DaysInMonth(2023, 2), 28u);
  EXPECT_EQ(DaysInMonth(1900, 2), 28u);
  EXPECT_EQ(DaysInMonth(2000, 2), 29u);
  EXPECT_EQ(DaysInMonth(2021, 1), 31u);
  EXPECT_EQ(DaysInMonth(2021, 4), 30u);
  EXPECT_EQ(DaysInMonth(2021, 12), 31u);
  EXPECT_EQ(DaysInMonth(2021, 0), 0u);
  EXPECT_EQ(DaysInMonth(2021, 13), 0u);
}

TEST(CalendarTest, CountsDaysFromTheUnixEpoch) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1970, 1, 2), 1);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2004, 7, 22), 12621);
  EXPECT_EQ(DaysFromCivil(0, 1, 1), -719528);
  EXPECT_EQ(DaysFromCivil(2000, 1, 1) - DaysFromCivil(1600, 1, 1), 146097);  // one era
}

TEST(CalendarTest, RoundTripsEveryDayOverThousandsOfYears) {
  // About 5,500 years either side of the epoch, day by day: each day maps to
  // a valid date, consecutive days to consecutive dates, and back.
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  CivilFromDays(-2000000, &year, &month, &day);
  for (int64_t days = -2000000; days <= 2000000; ++days) {
    int64_t y = 0;
    unsigned m = 0;
    unsigned d = 0;
    CivilFromDays(days, &y, &m, &d);
    ASSERT_GE(m, 1u) << days;
    ASSERT_LE(m, 12u) << days;
    ASSERT_GE(d, 1u) << days;
    ASSERT_LE(d, DaysInMonth(y, m)) << days;
    ASSERT_EQ(DaysFromCivil(y, m, d), days);
    if (days > -2000000) {
      const bool next_day = y == year && m == month && d == day + 1;
      const bool next_month =
          y == year && m == month + 1 && d == 1 && day == DaysInMonth(year, month);
      const bool next_year = y == year + 1 && m == 1 && d == 1 && month == 12 && day == 31;
      ASSERT_TRUE(next_day || next_month || next_year) << days;
    }
    year = y;
    month = m;
    day = d;
  }
}

TEST(CalendarTest, RoundTripsFarYears) {
  for (int64_t y : {int64_t{-999999999999999}, int64_t{-170000002}, int64_t{-10000}, int64_t{-1},
                    int64_t{170000002}, int64_t{999999999999999}}) {
    for (unsigned m = 1; m <= 12; ++m) {
      for (unsigned d : {1u, DaysInMonth(y, m)}) {
        int64_t y2 = 0;
        unsigned m2 = 0;
        unsigned d2 = 0;
        CivilFromDays(DaysFromCivil(y, m, d), &y2, &m2, &d2);
        EXPECT_EQ(y2, y);
        EXPECT_EQ(m2, m);
        EXPECT_EQ(d2, d);
      }
    }
  }
}

TEST(CalendarTest, FormatsDays) {
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_EQ(FormatDay(DaysFromCivil(2004, 7, 22)), "2004-07-22");
  EXPECT_EQ(FormatDay(DaysFromCivil(-44, 3, 15)), "-0044-03-15");
  EXPECT_EQ(FormatDay(DaysFromCivil(0, 1, 1)), "0000-01-01");
  EXPECT_EQ(FormatDay(DaysFromCivil(5, 12, 31)), "0005-12-31");
  EXPECT_EQ(FormatDay(DaysFromCivil(170000002, 1, 1)), "170000002-01-01");
  EXPECT_EQ(FormatDay(DaysFromCivil(-170000002, 12, 31)), "-170000002-12-31");
  EXPECT_EQ(FormatDay(kUnboundedStart), "..");
  EXPECT_EQ(FormatDay(kUnboundedEnd), "..");
}

}  // namespace
}  // namespace twinline
