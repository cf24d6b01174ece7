// libFuzzer target: the JSON/NDJSON event decoder, the way `twinline
// import` and `POST /v1/events` drive it (tools/api/batch_decode.h, over
// events/json_codec.h), and the log's validation of what it decodes; and
// the decoder's simdjson fast path against its exact path, line by line.
//
// Each input is decoded three ways against a database holding the bundled
// dataset (so references can name real entities and events): as an NDJSON
// batch (import, POST application/x-ndjson); as `import --restore` reads an
// export (NDJSON keeping seq and recorded_at); and, when it is one JSON
// value, as the JSON body of POST /v1/events. A decoded batch is then
// written into a streaming BatchWriter that is never committed: the log
// validates every event (identity, references, corrections) and the write
// is thrown away, so every input meets the same log. Checked beyond "no
// crash, no sanitizer report":
//  * a failure is an expected kind (bad input, unknown, taken, conflict),
//    never corruption or I/O; a decoding failure names a line (1-based,
//    within the input) or array index (0-based, within the array), a
//    refusal by the log the batch index of the refused event;
//  * decoded events carry their lines / indexes, in increasing order;
//  * every decoded event encodes to strict JSON and decodes from it to the
//    same encoding (restored events: with the same seq and recorded_at);
//  * nothing is written: the log's last seq is the seed's after each input.
#include <capnp/message.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "events/json_codec.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/api/batch_decode.h"

namespace {

using namespace twinline;  // NOLINT: a fuzz target, one function

enum class Form { kNdjson, kRestore, kJsonBody };

// `limit`: the number of lines (NDJSON) or array elements (JSON) of the input.
void CheckBatch(const Status& decoded, int64_t failed_at, int64_t limit, Form form,
                api::DecodedBatch& batch, const DecodeOptions& options,
                LogEntityResolver& resolver) {
  const int64_t first = form == Form::kJsonBody ? 0 : 1;
  if (!decoded.ok()) {
    FUZZ_CHECK(fuzz::ExpectedFailure(decoded), "decoding failed with %s",
               decoded.ToString().c_str());
    FUZZ_CHECK(!decoded.message().empty(), "an error without a message");
    // -1: a JSON body of the wrong shape (not an array or object).
    FUZZ_CHECK((failed_at >= first && failed_at < first + limit) ||
                   (form == Form::kJsonBody && failed_at == -1),
               "the failure names position %lld of %lld", static_cast<long long>(failed_at),
               static_cast<long long>(limit));
    return;
  }
  FUZZ_CHECK(batch.positions.size() == batch.events.size(), "positions do not match events");
  FUZZ_CHECK(std::is_sorted(batch.positions.begin(), batch.positions.end()) &&
                 std::adjacent_find(batch.positions.begin(), batch.positions.end()) ==
                     batch.positions.end(),
             "positions out of order");
  for (auto& message : batch.events) {
    fuzz::CheckRoundTrip(message->getRoot<schema::Event>().asReader(), resolver, options);
  }
  if (form == Form::kRestore) return;  // --restore writes only to an empty log

  std::unique_ptr<EventLog::BatchWriter> writer;
  fuzz::MustBeOk(fuzz::Db().log().BeginBatch(AppendOptions(), &writer), "BeginBatch");
  for (size_t i = 0; i < batch.events.size(); ++i) {
    if (!fuzz::AddUncommitted(*writer, std::move(batch.events[i]), static_cast<int64_t>(i))) break;
  }
}  // never committed: the write is aborted with `writer`

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const int64_t lines =
      static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) +
      (text.empty() || text.back() == '\n' ? 0 : 1);

  // The decoder's fast path (EventDecoder, simdjson) must answer every line
  // exactly as its exact path (DecodeEventText, nlohmann) does: the same
  // status, field and message, and the same event.
  for (bool restore : {false, true}) {
    fuzz::SeedSnapshot snap;
    DecodeOptions options;
    options.restore = restore;
    EventDecoder fast(*snap.resolver, options);
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      capnp::MallocMessageBuilder a, b;
      const Status sa = fast.Decode(line, a.initRoot<schema::Event>());
      const Status sb = DecodeEventText(line, *snap.resolver, options, b.initRoot<schema::Event>());
      FUZZ_CHECK(sa.ToString() == sb.ToString(), "fast path says '%s', exact path '%s'", sa.ToString().c_str(),
                 sb.ToString().c_str());
      if (sa.ok() && sb.ok()) {
        const kj::Array<capnp::word> ca = capnp::canonicalize(a.getRoot<schema::Event>().asReader());
        const kj::Array<capnp::word> cb = capnp::canonicalize(b.getRoot<schema::Event>().asReader());
        FUZZ_CHECK(ca.asBytes() == cb.asBytes(), "fast and exact paths decode different events");
      }
    }
  }

  for (Form form : {Form::kNdjson, Form::kRestore, Form::kJsonBody}) {
    fuzz::SeedSnapshot snap;
    DecodeOptions options;
    options.restore = form == Form::kRestore;
    api::DecodedBatch batch;
    int64_t failed_at = -1;
    int64_t limit = lines;
    Status s;
    if (form != Form::kJsonBody) {
      s = api::DecodeNdjsonBatch(text, *snap.resolver, options, &batch, &failed_at);
    } else {
      // The JSON body of POST /v1/events: one array (or object). The server
      // answers a parse error itself (400 invalid_json), before decoding.
      const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (json.is_discarded()) break;
      limit = json.is_array() ? static_cast<int64_t>(json.size()) : 1;
      s = api::DecodeJsonBatch(json, *snap.resolver, options, &batch, &failed_at);
    }
    CheckBatch(s, failed_at, limit, form, batch, options, *snap.resolver);
  }
  return 0;
}
