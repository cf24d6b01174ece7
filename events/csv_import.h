// CSV import of plain partnership lists (docs/EVENTS.md, "CSV"): each data
// row becomes the JSON form of a `partnership_established` event, so CSV
// and NDJSON share one decoder and one set of checks.
//
// Contract: ReadPartnershipCsv reads a header row and RFC 4180 records
// (quoted fields, doubled quotes, embedded commas and newlines, CRLF or LF).
// On error it returns kInvalidArgument with index() set to the 1-based line
// number of the offending record and field() to the column ("line 7: column
// 'date' is missing", "unknown column 'colour'", "unterminated quoted field").
// `rows[i].line` is the file line each event starts on.
#ifndef TWINLINE_EVENTS_CSV_IMPORT_H_
#define TWINLINE_EVENTS_CSV_IMPORT_H_

#include <istream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/status.h"

namespace twinline {

struct CsvRow {
  int64_t line = 0;      // 1-based line number where the record starts
  nlohmann::json event;  // JSON form of the partnership_established event
};

Status ReadPartnershipCsv(std::istream& in, std::vector<CsvRow>* rows);

}  // namespace twinline

#endif  // TWINLINE_EVENTS_CSV_IMPORT_H_
