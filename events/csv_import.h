// CSV import of plain partnership lists (docs/EVENTS.md, "CSV"): each data
// row becomes the JSON form of a `partnership_established` event, so CSV
// and NDJSON share one decoder and one set of checks.
//
// Contract: PartnershipCsvReader reads a header row and then RFC 4180
// records (quoted fields, doubled quotes, embedded commas and newlines, CRLF
// or LF) from a stream, one row per Next(), holding one record at a time, so
// a file of any length streams through bounded memory. A record may be at
// most kMaxCsvRecordBytes long. On error it returns kInvalidArgument with
// index() set to the 1-based line number of the offending record and field()
// to the column ("line 7: column 'date' is missing", "unknown column
// 'colour'", "unterminated quoted field"); the reader is then done.
// `row.line` is the file line each event starts on.
//
// ReadPartnershipCsv reads a whole stream into `rows` (small inputs, tests).
#ifndef TWINLINE_EVENTS_CSV_IMPORT_H_
#define TWINLINE_EVENTS_CSV_IMPORT_H_

#include <cstddef>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/status.h"

namespace twinline {

inline constexpr size_t kMaxCsvRecordBytes = size_t{1} << 20;

struct CsvRow {
  int64_t line = 0;      // 1-based line number where the record starts
  nlohmann::json event;  // JSON form of the partnership_established event
};

class PartnershipCsvReader {
 public:
  // `in` is borrowed and must outlive the reader.
  explicit PartnershipCsvReader(std::istream& in);
  ~PartnershipCsvReader();
  PartnershipCsvReader(const PartnershipCsvReader&) = delete;
  PartnershipCsvReader& operator=(const PartnershipCsvReader&) = delete;

  // Reads the next data row into *row (the first call reads the header
  // first). At the end of input returns OK with *done set and *row untouched.
  Status Next(CsvRow* row, bool* done);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

Status ReadPartnershipCsv(std::istream& in, std::vector<CsvRow>* rows);

}  // namespace twinline

#endif  // TWINLINE_EVENTS_CSV_IMPORT_H_
