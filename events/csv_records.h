// RFC 4180 records read from a stream, one at a time (internal to events/:
// the partnership lists of csv_import.h and the fact tables of
// fact_table.h share it).
//
// Dialect: a separator (',' for CSV, TAB for TSV), '"' quoting with "" as an
// escaped quote, records ended by CRLF, LF or a lone CR; line breaks inside
// quoted fields are part of the value. Unquoted values are taken as written
// (RFC 4180: spaces are part of a field). A UTF-8 BOM is skipped. Blank
// lines (empty or only spaces/tabs) are skipped wherever they occur. A
// record may be at most kMaxRecordBytes long. Errors are
// kInvalidArgument with index() the 1-based line of the record and field()
// the column, when the header names one.
#ifndef TWINLINE_EVENTS_CSV_RECORDS_H_
#define TWINLINE_EVENTS_CSV_RECORDS_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace twinline::csv_internal {

inline constexpr size_t kMaxRecordBytes = size_t{1} << 20;

struct Record {
  int64_t line = 0;  // 1-based line the record starts on
  std::vector<std::string> fields;
};

inline Status ErrorAt(int64_t line, std::string message, std::string_view column = {}) {
  Status s = Status::InvalidArgument(std::move(message)).WithIndex(line);
  return column.empty() ? s : s.WithField(column);
}

inline std::string_view TrimBlanks(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// Splits a stream into RFC 4180 records, one call per record, reading it
// byte by byte through its streambuf (buffered) and holding one record.
class RecordReader {
 public:
  // `separator`: ',' (CSV) or '\t' (TSV).
  explicit RecordReader(std::istream& in, char separator = ',') : in_(in), buf_(in.rdbuf()), separator_(separator) {}

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
    if (++record_bytes_ > kMaxRecordBytes) {
      return ErrorAt(record_line, "record is longer than " + std::to_string(kMaxRecordBytes) + " bytes",
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
      if (Peek() == separator_) {
        Advance();
        continue;
      }
      ConsumeLineBreak();  // or end of input
      return Status::Ok();
    }
  }

  Status ReadUnquoted(int64_t record_line, std::string_view column, std::string* field) {
    for (int c = Peek(); c != kEof && c != separator_ && c != '\r' && c != '\n'; c = Peek()) {
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
        if (next != kEof && next != separator_ && next != '\r' && next != '\n') {
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
  char separator_;
};

}  // namespace twinline::csv_internal

#endif  // TWINLINE_EVENTS_CSV_RECORDS_H_
