// CSV partnership lists (docs/EVENTS.md, "CSV"), read with a small RFC 4180
// state machine over the input stream (one record in memory at a time)
// rather than a library: the contract needs the line each
// record starts on and precise errors (unterminated quote, stray quote,
// short row) with their line, which a callback-style parser such as libcsv
// does not report.
//
// Dialect: comma separator, '"' quoting with "" as an escaped quote, records
// ended by CRLF, LF or a lone CR; line breaks inside quoted fields are part
// of the value. Unquoted values are taken as written (RFC 4180: spaces are
// part of a field); header names are trimmed. A UTF-8 BOM is skipped. Blank
// lines (empty or only spaces/tabs) are skipped wherever they occur: a
// record here always has several columns, so a blank line is never one.
//
// Values are not validated beyond presence: each row becomes the JSON form
// of a partnership_established event and DecodeEvent checks it like any
// NDJSON line, so both import paths share one set of checks.
#include "events/csv_import.h"

#include "events/csv_records.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace twinline {
namespace {

using json = nlohmann::json;
using csv_internal::ErrorAt;
using csv_internal::Record;
using csv_internal::RecordReader;
using csv_internal::TrimBlanks;

struct Column {
  std::string_view name;
  bool required;
};

// Every column the format knows, in the order docs/EVENTS.md lists them.
constexpr Column kColumns[] = {
    {"a", true},
    {"b", true},
    {"date", true},
    {"kind", false},
    {"source_title", true},
    {"source_publisher", true},
    {"source_published", true},
    {"source_language", true},
    {"source_url", false},
    {"source_quote", false},
    {"id", false},
    {"note", false},
};

constexpr std::string_view kDefaultPartnership = "sister_city";

const Column* FindColumn(std::string_view name) {
  for (const Column& c : kColumns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// Maps each known column to its position in the header row.
Status ReadHeader(const Record& record, std::vector<std::string>* names, std::map<std::string_view, size_t>* index) {
  for (const std::string& raw : record.fields) names->emplace_back(TrimBlanks(raw));
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    if (name.empty()) return ErrorAt(record.line, "empty column name in header (column " + std::to_string(i + 1) + ")");
    const Column* column = FindColumn(name);
    if (column == nullptr) {
      std::string known;
      for (const Column& c : kColumns) known += (known.empty() ? "" : ", ") + std::string(c.name);
      return ErrorAt(record.line, "unknown column '" + name + "'; known columns: " + known, name);
    }
    if (!index->emplace(column->name, i).second) {
      return ErrorAt(record.line, "duplicate column '" + name + "'", name);
    }
  }
  for (const Column& c : kColumns) {
    if (c.required && !index->contains(c.name)) {
      return ErrorAt(record.line, "required column '" + std::string(c.name) + "' is missing from the header", c.name);
    }
  }
  return Status::Ok();
}

// The JSON event for one data row.
Status RowToEvent(const Record& record, const std::vector<std::string>& names,
                  const std::map<std::string_view, size_t>& index, json* event) {
  if (record.fields.size() != names.size()) {
    std::string message = "expected " + std::to_string(names.size()) + " fields as in the header, found " +
                          std::to_string(record.fields.size());
    // A short row names the first column it lacks.
    std::string column = record.fields.size() < names.size() ? names[record.fields.size()] : std::string();
    return ErrorAt(record.line, message, column);
  }
  // Value of `column`, "" when the column is absent or the cell empty.
  auto value = [&](std::string_view column) -> const std::string* {
    auto it = index.find(column);
    return it == index.end() || record.fields[it->second].empty() ? nullptr : &record.fields[it->second];
  };
  for (const Column& c : kColumns) {
    if (c.required && (value(c.name) == nullptr || TrimBlanks(*value(c.name)).empty())) {
      return ErrorAt(record.line, "required value is empty", c.name);
    }
  }

  json source = {{"title", *value("source_title")},
                 {"publisher", *value("source_publisher")},
                 {"published", *value("source_published")},
                 {"language", *value("source_language")}};
  if (const std::string* url = value("source_url")) source["url"] = *url;
  if (const std::string* quote = value("source_quote")) source["quote"] = *quote;

  const std::string* kind = value("kind");
  *event = {{"kind", "partnership_established"},
            {"a", *value("a")},
            {"b", *value("b")},
            {"partnership", kind != nullptr ? *kind : std::string(kDefaultPartnership)},
            {"date", *value("date")},
            {"sources", json::array({std::move(source)})}};
  if (const std::string* id = value("id")) (*event)["id"] = *id;
  if (const std::string* note = value("note")) (*event)["note"] = *note;
  return Status::Ok();
}

}  // namespace

class PartnershipCsvReader::Impl {
 public:
  explicit Impl(std::istream& in) : reader_(in) {}

  Status Next(CsvRow* row, bool* done) {
    *done = false;
    if (!failure_.ok()) return failure_;
    Status st = ReadRow(row, done);
    if (!st.ok()) failure_ = st;
    return st;
  }

 private:
  Status ReadRow(CsvRow* row, bool* done) {
    if (!header_read_) {
      header_read_ = true;
      std::optional<Record> header;
      TWINLINE_RETURN_IF_ERROR(reader_.Next(nullptr, &header));
      if (!header) return ErrorAt(1, "empty input: expected a header row naming the columns");
      TWINLINE_RETURN_IF_ERROR(ReadHeader(*header, &names_, &index_));
    }
    std::optional<Record> record;
    TWINLINE_RETURN_IF_ERROR(reader_.Next(&names_, &record));
    if (!record) {
      *done = true;
      return Status::Ok();
    }
    row->line = record->line;
    return RowToEvent(*record, names_, index_, &row->event);
  }

  RecordReader reader_;
  bool header_read_ = false;
  std::vector<std::string> names_;             // the header, once read
  std::map<std::string_view, size_t> index_;  // column -> position; keys point into kColumns
  Status failure_;
};

PartnershipCsvReader::PartnershipCsvReader(std::istream& in) : impl_(std::make_unique<Impl>(in)) {}
PartnershipCsvReader::~PartnershipCsvReader() = default;

Status PartnershipCsvReader::Next(CsvRow* row, bool* done) { return impl_->Next(row, done); }

Status ReadPartnershipCsv(std::istream& in, std::vector<CsvRow>* rows) {
  rows->clear();
  PartnershipCsvReader reader(in);
  while (true) {
    CsvRow row;
    bool done = false;
    TWINLINE_RETURN_IF_ERROR(reader.Next(&row, &done));
    if (done) return Status::Ok();
    rows->push_back(std::move(row));
  }
}

}  // namespace twinline
