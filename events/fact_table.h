// A researcher's fact table, as such tables are kept: one row per fact, a
// kind, the places it joins, a date and a source URL (docs/EVENTS.md,
// "Fact tables"). CSV or TSV.
//
//   kind,subject,subject_country,object,object_country,date,end_date,amount,currency,source_url,note
//   partnership_established,Xiangtan,CN,Lakeville,US,1987-05,,,,https://example.org/a,
//
// Contract:
//  * FactTableReader reads the header, then one row at a time, and hands out
//    the JSON form of each event a row stands for, one per Next(): the
//    registrations of places it registers (with register_missing), the fact,
//    and for a partnership or route with an end_date the event that ends or
//    closes it. Every event is then decoded and checked like an NDJSON line.
//  * Column names are matched case-insensitively; which columns a kind reads
//    is in the kind table (core/kinds.h, FieldSpec::column). A column a kind
//    needs but the table lacks takes its documented default (partnership
//    kind sister_city, route mode rail, ...), and notes() says so.
//  * Places (subject, object) are resolved by the resolver first, in any
//    registered language. An unknown one is an error listing near candidates
//    unless register_missing is set; then it is registered from the row
//    (name, country from subject_country/object_country, type city) once,
//    and notes() lists it.
//  * A source_url alone is a source: publisher its host, title the URL,
//    published unknown but not before the fact ("DATE/.."), language und; the source_title,
//    source_publisher, source_published and source_language columns are
//    used where present.
//  * Errors are kInvalidArgument/kNotFound with index() the 1-based line and
//    field() the column; the reader is then done.
#ifndef TWINLINE_EVENTS_FACT_TABLE_H_
#define TWINLINE_EVENTS_FACT_TABLE_H_

#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/entity_resolver.h"

namespace twinline {

struct FactTableOptions {
  char separator = ',';            // '\t' for TSV
  bool register_missing = false;   // register unknown places from their row
};

struct FactEvent {
  int64_t line = 0;      // the row's first line in the file
  nlohmann::json event;  // JSON form (docs/EVENTS.md)
};

// True when a header row (as read) is a fact table's: it has a `subject`
// column. A CSV without one is a plain partnership list (csv_import.h).
bool IsFactTableHeader(const std::string& first_line, char separator);

class FactTableReader {
 public:
  // `in` and `resolver` are borrowed and must outlive the reader.
  FactTableReader(std::istream& in, EntityResolver& resolver, const FactTableOptions& options);
  ~FactTableReader();
  FactTableReader(const FactTableReader&) = delete;
  FactTableReader& operator=(const FactTableReader&) = delete;

  // The next event; at the end of input OK with *done set.
  Status Next(FactEvent* out, bool* done);

  // What the summary should say: defaults applied, places registered.
  std::vector<std::string> notes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinline

#endif  // TWINLINE_EVENTS_FACT_TABLE_H_
