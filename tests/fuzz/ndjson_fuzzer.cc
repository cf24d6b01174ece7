// libFuzzer target: the JSON/NDJSON event decoder, the way `twinline
// import` and `POST /v1/events` drive it (tools/batch_decode.h, over
// events/json_codec.h), and the log's validation of what it decodes.
//
// Each input is decoded as an NDJSON batch and, when it is one JSON array
// or object, as a JSON batch too, against a database holding the bundled
// dataset (so references can name real entities and events). A decoded
// batch is then written into a streaming BatchWriter that is never
// committed: the log validates every event (identity, references,
// corrections) and the write is thrown away, so every input meets the same
// log. Checked beyond "no crash, no sanitizer report":
//  * a failure is an expected kind (bad input, unknown, taken, conflict),
//    never corruption or I/O, and names a line / index within the batch;
//  * every decoded event encodes to JSON (export, HTTP) and decodes from
//    that again to the same encoding (docs/EVENTS.md: the export form
//    round-trips);
//  * nothing is written: the log's last seq is the seed's after each input.
#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "events/json_codec.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/batch_decode.h"

namespace {

using namespace twinline;  // NOLINT: a fuzz target, one function

bool ExpectedFailure(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict:
      return true;
    default:
      return false;
  }
}

// Encodes `ev`, decodes the encoding and encodes that again: the two
// encodings must agree, and both must be valid UTF-8 JSON text.
void CheckRoundTrip(schema::Event::Reader ev, LogEntityResolver& resolver) {
  nlohmann::ordered_json first = EncodeEvent(ev);
  std::string first_text;
  try {
    first_text = first.dump();  // strict: throws on invalid UTF-8
  } catch (const nlohmann::json::exception& e) {
    FUZZ_CHECK(false, "a decoded event does not encode as JSON: %s", e.what());
  }
  capnp::MallocMessageBuilder message;
  const Status s =
      DecodeEventText(first_text, resolver, DecodeOptions(), message.initRoot<schema::Event>());
  FUZZ_CHECK(s.ok(), "the encoding of a decoded event does not decode: %s\n  %s",
             s.ToString().c_str(), first_text.c_str());
  nlohmann::ordered_json second = EncodeEvent(message.getRoot<schema::Event>().asReader());
  // seq and recorded_at are the log's: not decoded without --restore.
  first.erase("seq");
  first.erase("recorded_at");
  second.erase("seq");
  second.erase("recorded_at");
  FUZZ_CHECK(first == second, "round trip changed the event:\n  %s\n  %s", first.dump().c_str(),
             second.dump().c_str());
}

void CheckBatch(const Status& decoded, int64_t failed_at, cli::DecodedBatch& batch,
                LogEntityResolver& resolver) {
  if (!decoded.ok()) {
    FUZZ_CHECK(ExpectedFailure(decoded), "decoding failed with %s", decoded.ToString().c_str());
    FUZZ_CHECK(!decoded.message().empty(), "an error without a message");
    (void)failed_at;  // -1 for a body of the wrong shape (not an array)
    return;
  }
  FUZZ_CHECK(batch.positions.size() == batch.events.size(), "positions do not match events");
  for (auto& message : batch.events) {
    CheckRoundTrip(message->getRoot<schema::Event>().asReader(), resolver);
  }

  EventLog& log = fuzz::Db().log();
  {
    std::unique_ptr<EventLog::BatchWriter> writer;
    fuzz::MustBeOk(log.BeginBatch(AppendOptions(), &writer), "BeginBatch");
    for (size_t i = 0; i < batch.events.size(); ++i) {
      const Status s = writer->Add(std::move(batch.events[i]), nullptr);
      if (!s.ok()) {
        FUZZ_CHECK(ExpectedFailure(s), "the log refused event %zu with %s", i,
                   s.ToString().c_str());
        FUZZ_CHECK(s.index() == static_cast<int64_t>(i), "error at %zu names index %lld", i,
                   static_cast<long long>(s.index()));
        break;
      }
    }
  }  // never committed: the write is aborted
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::SeedDatabase& db = fuzz::Db();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  for (int form = 0; form < 2; ++form) {
    std::unique_ptr<ReadTxn> txn;
    fuzz::MustBeOk(db.log().BeginRead(&txn), "BeginRead");
    FUZZ_CHECK(txn->LastSeq() == db.seed_last_seq(), "the log moved to seq %llu",
               static_cast<unsigned long long>(txn->LastSeq()));
    LogEntityResolver resolver(txn.get(), &db.folder());
    cli::DecodedBatch batch;
    int64_t failed_at = -1;
    Status s;
    if (form == 0) {
      s = cli::DecodeNdjsonBatch(text, resolver, DecodeOptions(), &batch, &failed_at);
    } else {
      // The JSON body of POST /v1/events: one array (or object).
      const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (json.is_discarded()) break;
      s = cli::DecodeJsonBatch(json, resolver, DecodeOptions(), &batch, &failed_at);
    }
    CheckBatch(s, failed_at, batch, resolver);
  }
  return 0;
}
