// libFuzzer target: the CSV partnership-list importer (events/csv_import.h)
// the way `twinline import FILE.csv` drives it: each row read by
// PartnershipCsvReader, decoded with the shared event decoder
// (cli::DecodeIntoBatch) against a database holding the bundled dataset, and
// written into a streaming BatchWriter that is never committed.
//
// Checked beyond "no crash, no sanitizer report":
//  * rows come in order of their starting line; a reader error is
//    kInvalidArgument naming a line no earlier than the last row's;
//  * every decoded row encodes to JSON as export and the server write it
//    (strict: valid UTF-8), and that JSON decodes again to the same event;
//  * the log refuses only with expected kinds of error, and nothing is
//    written (the last seq stays the seed's).
#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "events/csv_import.h"
#include "events/json_codec.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/batch_decode.h"

namespace {

using namespace twinline;  // NOLINT: a fuzz target, one function

bool ExpectedFailure(const Status& s) {
  return s.code() == Status::Code::kInvalidArgument || s.code() == Status::Code::kNotFound ||
         s.code() == Status::Code::kAlreadyExists || s.code() == Status::Code::kConflict;
}

void CheckRoundTrip(schema::Event::Reader ev, LogEntityResolver& resolver) {
  nlohmann::ordered_json first = EncodeEvent(ev);
  std::string first_text;
  try {
    first_text = first.dump();  // strict: throws on invalid UTF-8
  } catch (const nlohmann::json::exception& e) {
    FUZZ_CHECK(false, "a decoded row does not encode as JSON: %s", e.what());
  }
  capnp::MallocMessageBuilder message;
  const Status s =
      DecodeEventText(first_text, resolver, DecodeOptions(), message.initRoot<schema::Event>());
  FUZZ_CHECK(s.ok(), "the encoding of a decoded row does not decode: %s\n  %s",
             s.ToString().c_str(), first_text.c_str());
  nlohmann::ordered_json second = EncodeEvent(message.getRoot<schema::Event>().asReader());
  FUZZ_CHECK(first == second, "round trip changed the row's event:\n  %s\n  %s",
             first.dump().c_str(), second.dump().c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::SeedDatabase& db = fuzz::Db();
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));

  std::unique_ptr<ReadTxn> txn;
  fuzz::MustBeOk(db.log().BeginRead(&txn), "BeginRead");
  FUZZ_CHECK(txn->LastSeq() == db.seed_last_seq(), "the log moved to seq %llu",
             static_cast<unsigned long long>(txn->LastSeq()));
  LogEntityResolver resolver(txn.get(), &db.folder());
  std::unique_ptr<EventLog::BatchWriter> writer;
  fuzz::MustBeOk(db.log().BeginBatch(AppendOptions(), &writer), "BeginBatch");

  PartnershipCsvReader reader(in);
  cli::DecodedBatch one;
  int64_t last_line = 0;
  bool writable = true;  // false once the log refused a row: the batch is dead
  for (int64_t index = 0;; ++index) {
    CsvRow row;
    bool done = false;
    const Status s = reader.Next(&row, &done);
    if (!s.ok()) {
      FUZZ_CHECK(s.code() == Status::Code::kInvalidArgument && !s.message().empty(),
                 "the reader failed with %s", s.ToString().c_str());
      FUZZ_CHECK(s.index() >= last_line && s.index() >= 1, "error names line %lld after line %lld",
                 static_cast<long long>(s.index()), static_cast<long long>(last_line));
      break;
    }
    if (done) break;
    FUZZ_CHECK(row.line > last_line, "row at line %lld after line %lld",
               static_cast<long long>(row.line), static_cast<long long>(last_line));
    last_line = row.line;

    one.events.clear();
    one.positions.clear();
    const Status d = cli::DecodeIntoBatch(&row.event, "", resolver, DecodeOptions(), row.line, &one);
    if (!d.ok()) {
      FUZZ_CHECK(ExpectedFailure(d), "decoding row %lld failed with %s",
                 static_cast<long long>(row.line), d.ToString().c_str());
      break;  // import stops at the first bad row
    }
    CheckRoundTrip(one.events.front()->getRoot<schema::Event>().asReader(), resolver);
    if (writable) {
      const Status a = writer->Add(std::move(one.events.front()), nullptr);
      if (!a.ok()) {
        FUZZ_CHECK(ExpectedFailure(a), "the log refused row %lld with %s",
                   static_cast<long long>(row.line), a.ToString().c_str());
        FUZZ_CHECK(a.index() == index, "error at row %lld names index %lld",
                   static_cast<long long>(index), static_cast<long long>(a.index()));
        writable = false;
      }
    }
  }
  writer.reset();  // never committed
  return 0;
}
