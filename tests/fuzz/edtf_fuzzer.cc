// libFuzzer target: the EDTF parser (core/edtf.h) on arbitrary bytes.
//
// Beyond "no crash, no sanitizer report", it checks the parser's contract
// on every accepted expression:
//  * earliest <= latest, and an unbounded day only where an end is open or
//    unknown;
//  * Normalized() is stable under re-parsing: it parses again, to the same
//    text, days, form and qualifier flags (the same meaning);
//  * every bounded day survives the calendar round trip
//    DaysFromCivil(CivilFromDays(d)) == d, and FormatDay names it.
// A rejection must be kInvalidArgument with a message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/edtf.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using twinline::EdtfDate;

void CheckDay(int64_t day) {
  if (day == twinline::kUnboundedStart || day == twinline::kUnboundedEnd) return;
  int64_t year = 0;
  unsigned month = 0, dom = 0;
  twinline::CivilFromDays(day, &year, &month, &dom);
  FUZZ_CHECK(month >= 1 && month <= 12 && dom >= 1 && dom <= twinline::DaysInMonth(year, month),
             "day %lld -> %lld-%u-%u", static_cast<long long>(day),
             static_cast<long long>(year), month, dom);
  FUZZ_CHECK(twinline::DaysFromCivil(year, month, dom) == day, "calendar round trip of day %lld",
             static_cast<long long>(day));
  FUZZ_CHECK(!twinline::FormatDay(day).empty(), "FormatDay(%lld)", static_cast<long long>(day));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  EdtfDate date;
  const twinline::Status s = twinline::ParseEdtf(text, &date);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == twinline::Status::Code::kInvalidArgument && !s.message().empty(),
               "rejection is %s", s.ToString().c_str());
    return 0;
  }
  const char* normalized = date.Normalized().c_str();
  FUZZ_CHECK(date.earliest <= date.latest, "'%s': earliest after latest", normalized);
  FUZZ_CHECK((date.earliest == twinline::kUnboundedStart) ==
                 (date.start_kind != EdtfDate::End::kDate),
             "'%s': unbounded start without an open or unknown start", normalized);
  FUZZ_CHECK((date.latest == twinline::kUnboundedEnd) == (date.end_kind != EdtfDate::End::kDate),
             "'%s': unbounded end without an open or unknown end", normalized);
  CheckDay(date.earliest);
  CheckDay(date.latest);
  CheckDay(date.start.earliest);
  CheckDay(date.start.latest);
  CheckDay(date.end.earliest);
  CheckDay(date.end.latest);

  EdtfDate again;
  const twinline::Status s2 = twinline::ParseEdtf(date.Normalized(), &again);
  FUZZ_CHECK(s2.ok(), "normalised '%s' does not parse: %s", normalized, s2.ToString().c_str());
  FUZZ_CHECK(again.Normalized() == date.Normalized(), "'%s' normalises again to '%s'", normalized,
             again.Normalized().c_str());
  FUZZ_CHECK(again.earliest == date.earliest && again.latest == date.latest,
             "'%s' re-parsed spans other days", normalized);
  FUZZ_CHECK(again.form == date.form && again.start_kind == date.start_kind &&
                 again.end_kind == date.end_kind,
             "'%s' re-parsed has another form", normalized);
  FUZZ_CHECK(again.uncertain() == date.uncertain() && again.approximate() == date.approximate(),
             "'%s' re-parsed has other qualifiers", normalized);
  return 0;
}
