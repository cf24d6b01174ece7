// Reading an NDJSON stream of events the way `twinline import` does, with
// the decoding on a thread of its own so that it runs beside the log's
// writer (2 cores: one decodes, one writes).
//
// Contract:
//  * LineReader gives one line at a time without its line break (LF or
//    CRLF); a line longer than kMaxEventBytes is measured but only a prefix
//    kept, so memory stays bounded whatever the input.
//  * NdjsonStream reads and decodes every line of `in` on its own thread
//    (EventDecoder: simdjson, with the exact path's answer for anything it
//    does not accept) and hands the events back in file order through
//    Next(). Blank lines and lines starting with '#' are skipped; a line
//    longer than kMaxEventBytes is refused before parsing. An entity
//    registered on one line resolves on the lines after it
//    (LogEntityResolver::AddPending), exactly as a batch decoded in one go.
//  * At most kMaxInFlight decoded events wait for the consumer: memory is
//    bounded (a few MB) whatever the size of the file.
//  * The first line that does not decode ends the stream: Next() returns
//    every event before it, then false; status() then names the field and
//    failed_line() the line. An I/O error ends it the same way (line 0).
//  * The resolver (and the read transaction behind it) is used by the
//    stream's thread alone from Start() until the stream is destroyed or
//    has ended; the destructor stops the thread (the consumer may stop
//    early, e.g. when the writer refuses an event).
#ifndef TWINLINE_TOOLS_API_NDJSON_STREAM_H_
#define TWINLINE_TOOLS_API_NDJSON_STREAM_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <istream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/event_log.h"
#include "core/status.h"
#include "events/entity_resolver.h"
#include "events/json_codec.h"
#include "tools/api/batch_decode.h"  // kMaxEventBytes

namespace twinline::api {

class LineReader {
 public:
  // `max_line` bytes of a line are kept at most (kMaxEventBytes + 1 by
  // default: enough to tell that a line is too long).
  explicit LineReader(std::istream& in, size_t max_line);

  // The next line in *line; its whole length in *length (when it exceeds
  // the maximum, *line holds only a prefix). False at the end of input.
  bool Next(std::string* line, size_t* length);

  bool bad() const { return in_.bad(); }
  // Bytes of input read so far (for progress).
  uint64_t bytes_read() const { return filled_ - (end_ - pos_); }

 private:
  bool Fill();

  std::istream& in_;
  const size_t max_line_;
  std::vector<char> buffer_ = std::vector<char>(size_t{1} << 16);
  size_t pos_ = 0, end_ = 0;
  uint64_t filled_ = 0;
};

struct StreamedEvent {
  PendingEvent event;
  int64_t line = 0;     // 1-based
  uint64_t bytes = 0;   // of the input read up to the end of this line
};

class NdjsonStream {
 public:
  // All borrowed for the stream's life.
  NdjsonStream(std::istream& in, LogEntityResolver& resolver, const DecodeOptions& options);
  ~NdjsonStream();
  NdjsonStream(const NdjsonStream&) = delete;
  NdjsonStream& operator=(const NdjsonStream&) = delete;

  void Start();

  // The next event in file order; false when the stream has ended (at the
  // end of input, or at a failure: see status()).
  bool Next(StreamedEvent* out);

  // After Next() returned false: Ok at the end of input, else why it ended.
  const Status& status() const { return status_; }
  int64_t failed_line() const { return failed_line_; }

  static constexpr size_t kChunk = 256;         // events handed over at once
  static constexpr size_t kMaxInFlight = 8192;  // decoded events waiting, at most

 private:
  void Run();
  // Hands `chunk` to the consumer (waiting while kMaxInFlight wait); false
  // when the consumer has gone.
  bool Push(std::vector<StreamedEvent>* chunk);
  void Finish(const Status& status, int64_t line);

  std::istream& in_;
  LogEntityResolver& resolver_;
  const DecodeOptions options_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<StreamedEvent>> ready_;  // guarded by mu_
  size_t in_flight_ = 0;                           // guarded by mu_
  bool ended_ = false;                             // guarded by mu_: the thread is done
  bool stop_ = false;                              // guarded by mu_: the consumer is gone
  Status end_status_;                              // guarded by mu_ until ended_
  int64_t end_line_ = 0;

  std::vector<StreamedEvent> taking_;  // the consumer's current chunk
  size_t taken_ = 0;
  Status status_;
  int64_t failed_line_ = 0;
};

}  // namespace twinline::api

#endif  // TWINLINE_TOOLS_API_NDJSON_STREAM_H_
