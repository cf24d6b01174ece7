#include "tools/api/ndjson_stream.h"

#include <capnp/message.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>


namespace twinline::api {
namespace {

// A decoded event waits in memory until the writer takes it; most events
// fit their first segment (1 KiB).
constexpr unsigned kFirstSegmentWords = 128;

}  // namespace

LineReader::LineReader(std::istream& in, size_t max_line) : in_(in), max_line_(max_line) {}

bool LineReader::Next(std::string* line, size_t* length) {
  line->clear();
  *length = 0;
  bool any = false;
  char last = '\0';
  while (true) {
    if (pos_ == end_ && !Fill()) break;
    any = true;
    const char* start = buffer_.data() + pos_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    const size_t n = newline != nullptr ? static_cast<size_t>(newline - start) : end_ - pos_;
    if (line->size() < max_line_) line->append(start, std::min(n, max_line_ - line->size()));
    if (n > 0) last = start[n - 1];
    *length += n;
    pos_ += n;
    if (newline != nullptr) {
      ++pos_;
      break;
    }
  }
  if (last == '\r') {
    --*length;
    if (line->size() > *length) line->resize(*length);
  }
  return any;
}

bool LineReader::Fill() {
  in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  pos_ = 0;
  end_ = static_cast<size_t>(in_.gcount());
  filled_ += end_;
  return end_ > 0;
}

NdjsonStream::NdjsonStream(std::istream& in, LogEntityResolver& resolver,
                           const DecodeOptions& options)
    : in_(in), resolver_(resolver), options_(options) {}

NdjsonStream::~NdjsonStream() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NdjsonStream::Start() { thread_ = std::thread([this] { Run(); }); }

void NdjsonStream::Run() {
  EventDecoder decoder(resolver_, options_);
  LineReader reader(in_, kMaxEventBytes + 1);
  std::vector<StreamedEvent> chunk;
  chunk.reserve(kChunk);
  std::string text;
  size_t length = 0;
  int64_t line = 0;
  while (reader.Next(&text, &length)) {
    ++line;
    if (length > kMaxEventBytes) {
      Push(&chunk);
      return Finish(Status::InvalidArgument("line is " + std::to_string(length) +
                                            " bytes; an event may be at most " +
                                            std::to_string(kMaxEventBytes) + " bytes"),
                    line);
    }
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#') continue;
    auto message = std::make_unique<capnp::MallocMessageBuilder>(kFirstSegmentWords);
    Status s = decoder.Decode(text, message->initRoot<schema::Event>());
    if (s.ok()) {
      auto payload = message->getRoot<schema::Event>().asReader().getPayload();
      if (payload.isEntityRegistered()) {
        auto reg = payload.getEntityRegistered();
        std::vector<std::string> names;
        for (auto name : reg.getNames()) names.emplace_back(name.getText());
        s = resolver_.AddPending(reg.getEntity().cStr(), names);
      }
    }
    if (!s.ok()) {
      Push(&chunk);
      return Finish(s, line);
    }
    chunk.push_back({std::move(message), line, reader.bytes_read()});
    if (chunk.size() == kChunk && !Push(&chunk)) return Finish(Status::Ok(), 0);
  }
  Push(&chunk);
  if (reader.bad()) return Finish(Status::IOError("error reading the input"), 0);
  Finish(Status::Ok(), 0);
}

bool NdjsonStream::Push(std::vector<StreamedEvent>* chunk) {
  if (chunk->empty()) return true;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stop_ || in_flight_ < kMaxInFlight; });
  if (stop_) return false;
  in_flight_ += chunk->size();
  ready_.push_back(std::move(*chunk));
  chunk->clear();
  chunk->reserve(kChunk);
  lock.unlock();
  cv_.notify_all();
  return true;
}

void NdjsonStream::Finish(const Status& status, int64_t line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    end_status_ = status;
    end_line_ = line;
  }
  cv_.notify_all();
}

bool NdjsonStream::Next(StreamedEvent* out) {
  if (taken_ == taking_.size()) {
    taking_.clear();
    taken_ = 0;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty() || ended_; });
    if (ready_.empty()) {
      status_ = end_status_;
      failed_line_ = end_line_;
      return false;
    }
    taking_ = std::move(ready_.front());
    ready_.pop_front();
    in_flight_ -= taking_.size();
    lock.unlock();
    cv_.notify_all();
  }
  *out = std::move(taking_[taken_++]);
  return true;
}

}  // namespace twinline::api
