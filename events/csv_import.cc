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

struct Record {
  int64_t line = 0;  // 1-based line the record starts on
  std::vector<std::string> fields;
};

Status ErrorAt(int64_t line, std::string message, std::string_view column = {}) {
  Status s = Status::InvalidArgument(std::move(message)).WithIndex(line);
  return column.empty() ? s : s.WithField(column);
}

std::string_view TrimBlanks(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// Splits a stream into RFC 4180 records, one call per record, reading it
// byte by byte through its streambuf (buffered) and holding one record.
class RecordReader {
 public:
  explicit RecordReader(std::istream& in) : in_(in), buf_(in.rdbuf()) {}

  // Reads the next non-blank record into *out, leaving it empty at the end
  // of input. `header` (null while reading the header itself) names the
  // columns in error messages.
  Status Next(const std::vector<std::string>* header, std::optional<Record>* out) {
    out->reset();
    if (!started_) {
      started_ = true;
      SkipBom();
    }
    while (Peek() != kEof) {
      Record record;
      record.line = line_;
      record_bytes_ = 0;
      TWINLINE_RETURN_IF_ERROR(ReadRecord(header, &record));
      bool blank = record.fields.size() == 1 && !last_field_quoted_ && TrimBlanks(record.fields[0]).empty();
      if (!blank) {
        *out = std::move(record);
        return Status::Ok();
      }
    }
    if (in_.bad()) return Status::IOError("reading CSV input failed");
    return Status::Ok();
  }

 private:
  static constexpr int kEof = std::char_traits<char>::eof();

  int Peek() {
    if (pushed_pos_ < pushed_.size()) return static_cast<unsigned char>(pushed_[pushed_pos_]);
    return buf_ == nullptr ? kEof : buf_->sgetc();
  }
  void Advance() {
    if (pushed_pos_ < pushed_.size()) {
      ++pushed_pos_;
    } else if (buf_ != nullptr) {
      buf_->sbumpc();
    }
  }

  // A UTF-8 byte order mark is skipped; any other start is put back.
  void SkipBom() {
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    for (char c : kBom) {
      if (buf_ == nullptr || buf_->sgetc() != static_cast<unsigned char>(c)) break;
      pushed_.push_back(static_cast<char>(buf_->sbumpc()));
    }
    if (pushed_ == kBom) pushed_.clear();
  }

  // Consumes a line break (CRLF, LF or CR), if there is one.
  bool ConsumeLineBreak() {
    const int c = Peek();
    if (c == '\r') {
      Advance();
      if (Peek() == '\n') Advance();
    } else if (c == '\n') {
      Advance();
    } else {
      return false;
    }
    ++line_;
    return true;
  }

  static std::string_view ColumnName(const std::vector<std::string>* header, size_t index) {
    return header != nullptr && index < header->size() ? std::string_view((*header)[index]) : std::string_view();
  }

  // Appends one byte of the record, refusing records beyond the limit.
  Status Take(int64_t record_line, std::string_view column, std::string* field, char c) {
    if (++record_bytes_ > kMaxCsvRecordBytes) {
      return ErrorAt(record_line, "record is longer than " + std::to_string(kMaxCsvRecordBytes) + " bytes",
                     column);
    }
    field->push_back(c);
    return Status::Ok();
  }

  Status ReadRecord(const std::vector<std::string>* header, Record* record) {
    while (true) {
      std::string field;
      const size_t index = record->fields.size();
      last_field_quoted_ = Peek() == '"';
      if (last_field_quoted_) {
        TWINLINE_RETURN_IF_ERROR(ReadQuoted(record->line, ColumnName(header, index), &field));
      } else {
        TWINLINE_RETURN_IF_ERROR(ReadUnquoted(record->line, ColumnName(header, index), &field));
      }
      record->fields.push_back(std::move(field));
      if (Peek() == ',') {
        Advance();
        continue;
      }
      ConsumeLineBreak();  // or end of input
      return Status::Ok();
    }
  }

  Status ReadUnquoted(int64_t record_line, std::string_view column, std::string* field) {
    for (int c = Peek(); c != kEof && c != ',' && c != '\r' && c != '\n'; c = Peek()) {
      if (c == '"') {
        return ErrorAt(record_line,
                       "quote inside an unquoted field; quote the whole field and double the quote (\"\")", column);
      }
      TWINLINE_RETURN_IF_ERROR(Take(record_line, column, field, static_cast<char>(c)));
      Advance();
    }
    return Status::Ok();
  }

  // At an opening quote: reads to the closing one, unescaping "".
  Status ReadQuoted(int64_t record_line, std::string_view column, std::string* field) {
    const int64_t opened_on = line_;
    Advance();
    while (true) {
      const int c = Peek();
      if (c == kEof) {
        return ErrorAt(record_line, "unterminated quoted field (opened on line " + std::to_string(opened_on) + ")",
                       column);
      }
      Advance();
      if (c == '"') {
        if (Peek() == '"') {  // "" is one literal quote
          Advance();
          TWINLINE_RETURN_IF_ERROR(Take(record_line, column, field, '"'));
          continue;
        }
        const int next = Peek();
        if (next != kEof && next != ',' && next != '\r' && next != '\n') {
          return ErrorAt(record_line, "unexpected text after a closing quote", column);
        }
        return Status::Ok();
      }
      // Line breaks inside the value still advance the file's line count.
      if (c == '\n' || (c == '\r' && Peek() != '\n')) ++line_;
      TWINLINE_RETURN_IF_ERROR(Take(record_line, column, field, static_cast<char>(c)));
    }
  }

  std::istream& in_;
  std::streambuf* buf_;
  std::string pushed_;  // bytes read ahead at the start (a partial BOM)
  size_t pushed_pos_ = 0;
  bool started_ = false;
  int64_t line_ = 1;
  size_t record_bytes_ = 0;
  bool last_field_quoted_ = false;
};

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
