// libFuzzer target: the CSV partnership-list importer (events/csv_import.h)
// the way `twinline import FILE.csv` drives it: each row read by
// PartnershipCsvReader, decoded with the shared event decoder
// (api::DecodeIntoBatch) against a database holding the bundled dataset, and
// written into a streaming BatchWriter that is never committed.
//
// Checked beyond "no crash, no sanitizer report":
//  * rows come in order of their starting line; a reader error is
//    kInvalidArgument naming a line of the input no earlier than the last
//    row's;
//  * every decoded row encodes to JSON as export and the server write it
//    (strict: valid UTF-8), and that JSON decodes again to the same event;
//  * the log refuses only with expected kinds of error, and nothing is
//    written (the last seq stays the seed's).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "events/csv_import.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/api/batch_decode.h"

using namespace twinline;  // NOLINT: a fuzz target, one function

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // At most this many lines, whichever of LF, CRLF or a lone CR ends them.
  const int64_t max_line =
      static_cast<int64_t>(std::count(text.begin(), text.end(), '\n') +
                           std::count(text.begin(), text.end(), '\r')) + 1;
  std::istringstream in(text);
  fuzz::SeedSnapshot snap;
  std::unique_ptr<EventLog::BatchWriter> writer;
  fuzz::MustBeOk(fuzz::Db().log().BeginBatch(AppendOptions(), &writer), "BeginBatch");

  PartnershipCsvReader reader(in);
  api::DecodedBatch one;
  int64_t last_line = 0;
  bool writable = true;  // false once the log refused a row: the batch is dead
  for (int64_t index = 0;; ++index) {
    CsvRow row;
    bool done = false;
    const Status s = reader.Next(&row, &done);
    if (!s.ok()) {
      FUZZ_CHECK(s.code() == Status::Code::kInvalidArgument && !s.message().empty(),
                 "the reader failed with %s", s.ToString().c_str());
      FUZZ_CHECK(s.index() >= last_line && s.index() >= 1 && s.index() <= max_line,
                 "error names line %lld after line %lld, of at most %lld",
                 static_cast<long long>(s.index()), static_cast<long long>(last_line),
                 static_cast<long long>(max_line));
      break;
    }
    if (done) break;
    FUZZ_CHECK(row.line > last_line && row.line <= max_line, "row at line %lld after line %lld",
               static_cast<long long>(row.line), static_cast<long long>(last_line));
    last_line = row.line;

    one.events.clear();
    one.positions.clear();
    const Status d =
        api::DecodeIntoBatch(&row.event, "", *snap.resolver, DecodeOptions(), row.line, &one);
    if (!d.ok()) {
      FUZZ_CHECK(fuzz::ExpectedFailure(d), "decoding row %lld failed with %s",
                 static_cast<long long>(row.line), d.ToString().c_str());
      break;  // import stops at the first bad row
    }
    fuzz::CheckRoundTrip(one.events.front()->getRoot<schema::Event>().asReader(),
                         *snap.resolver, DecodeOptions());
    if (writable) writable = fuzz::AddUncommitted(*writer, std::move(one.events.front()), index);
  }
  writer.reset();  // never committed
  return 0;
}
