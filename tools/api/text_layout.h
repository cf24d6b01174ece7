// Text for people: the aligned tables and "key: value" lists that the
// `table` format of the CLI and of GET /v1/replay, /v1/diff prints, and the
// number forms they use. Widths count terminal columns, so a table of
// Chinese and German names lines up.
#ifndef TWINLINE_TOOLS_API_TEXT_LAYOUT_H_
#define TWINLINE_TOOLS_API_TEXT_LAYOUT_H_

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "projections/projection.h"

namespace twinline::api {

// Columns printed one space-padded table; widths count terminal columns
// (code points, East Asian wide characters as 2).
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // Right-aligns column `column` (numbers).
  void AlignRight(size_t column);
  void AddRow(std::vector<std::string> row);
  // A free line printed under the last row added so far, indented by four
  // spaces and outside the columns (it does not widen them): details such as
  // the sources of an event. Ignored before the first row.
  void AddNote(std::string note);
  size_t rows() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::vector<std::string>> notes_;  // notes_[i]: printed after rows_[i]
};

// "key:   value" lines with values aligned (details of one thing).
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

// Terminal columns `s` occupies.
size_t DisplayWidth(std::string_view s);

// "142,160,000,000"; fractions kept ("2.5").
std::string FormatNumber(double value);

// A CSV field (RFC 4180): quoted, its quotes doubled, when it holds a comma,
// quote or line break.
std::string CsvField(std::string_view s);

// "3" when certain == possible, else "1–3" (certain–possible).
std::string FormatRange(const Range& range);

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_TEXT_LAYOUT_H_
