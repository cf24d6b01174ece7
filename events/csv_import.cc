// CSV partnership lists (docs/EVENTS.md, "CSV"), read with a small RFC 4180
// state machine rather than a library: the contract needs the line each
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
#include <iterator>
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

// Splits `text` into RFC 4180 records, one call per record.
class RecordReader {
 public:
  explicit RecordReader(std::string_view text) : text_(text) {}

  // Reads the next non-blank record into *out, leaving it empty at the end
  // of input. `header` (null while reading the header itself) names the
  // columns in error messages.
  Status Next(const std::vector<std::string>* header, std::optional<Record>* out) {
    out->reset();
    while (pos_ < text_.size()) {
      Record record;
      record.line = line_;
      TWINLINE_RETURN_IF_ERROR(ReadRecord(header, &record));
      bool blank = record.fields.size() == 1 && !last_field_quoted_ && TrimBlanks(record.fields[0]).empty();
      if (!blank) {
        *out = std::move(record);
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

 private:
  // Consumes a line break at pos_ (CRLF, LF or CR), if there is one.
  bool ConsumeLineBreak() {
    if (pos_ >= text_.size()) return false;
    if (text_[pos_] == '\r') {
      pos_ += (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ? 2 : 1;
    } else if (text_[pos_] == '\n') {
      ++pos_;
    } else {
      return false;
    }
    ++line_;
    return true;
  }

  static std::string_view ColumnName(const std::vector<std::string>* header, size_t index) {
    return header != nullptr && index < header->size() ? std::string_view((*header)[index]) : std::string_view();
  }

  Status ReadRecord(const std::vector<std::string>* header, Record* record) {
    while (true) {
      std::string field;
      const size_t index = record->fields.size();
      last_field_quoted_ = pos_ < text_.size() && text_[pos_] == '"';
      if (last_field_quoted_) {
        TWINLINE_RETURN_IF_ERROR(ReadQuoted(record->line, ColumnName(header, index), &field));
      } else {
        TWINLINE_RETURN_IF_ERROR(ReadUnquoted(record->line, ColumnName(header, index), &field));
      }
      record->fields.push_back(std::move(field));
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      ConsumeLineBreak();  // or end of input
      return Status::Ok();
    }
  }

  Status ReadUnquoted(int64_t record_line, std::string_view column, std::string* field) {
    size_t end = text_.find_first_of(",\r\n\"", pos_);
    if (end == std::string_view::npos) end = text_.size();
    if (end < text_.size() && text_[end] == '"') {
      return ErrorAt(record_line, "quote inside an unquoted field; quote the whole field and double the quote (\"\")",
                     column);
    }
    field->assign(text_.substr(pos_, end - pos_));
    pos_ = end;
    return Status::Ok();
  }

  // At an opening quote: reads to the closing one, unescaping "".
  Status ReadQuoted(int64_t record_line, std::string_view column, std::string* field) {
    const int64_t opened_on = line_;
    ++pos_;
    while (true) {
      size_t quote = text_.find('"', pos_);
      if (quote == std::string_view::npos) {
        return ErrorAt(record_line, "unterminated quoted field (opened on line " + std::to_string(opened_on) + ")",
                       column);
      }
      std::string_view chunk = text_.substr(pos_, quote - pos_);
      // Line breaks inside the value still advance the file's line count.
      for (size_t i = 0; i < chunk.size(); ++i) {
        if (chunk[i] == '\n' || (chunk[i] == '\r' && (i + 1 == chunk.size() || chunk[i + 1] != '\n'))) ++line_;
      }
      field->append(chunk);
      pos_ = quote + 1;
      if (pos_ < text_.size() && text_[pos_] == '"') {  // "" is one literal quote
        field->push_back('"');
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\r' && text_[pos_] != '\n') {
        return ErrorAt(record_line, "unexpected text after a closing quote", column);
      }
      return Status::Ok();
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
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

Status ReadPartnershipCsv(std::istream& in, std::vector<CsvRow>* rows) {
  rows->clear();
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError("reading CSV input failed");
  std::string_view body = text;
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());

  RecordReader reader(body);
  std::optional<Record> header;
  TWINLINE_RETURN_IF_ERROR(reader.Next(nullptr, &header));
  if (!header) return ErrorAt(1, "empty input: expected a header row naming the columns");
  std::vector<std::string> names;
  std::map<std::string_view, size_t> index;
  TWINLINE_RETURN_IF_ERROR(ReadHeader(*header, &names, &index));

  while (true) {
    std::optional<Record> record;
    TWINLINE_RETURN_IF_ERROR(reader.Next(&names, &record));
    if (!record) return Status::Ok();
    CsvRow row;
    row.line = record->line;
    TWINLINE_RETURN_IF_ERROR(RowToEvent(*record, names, index, &row.event));
    rows->push_back(std::move(row));
  }
}

}  // namespace twinline
