#include "tools/replication/follower.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "tools/replication/record_message.h"

namespace twinline::replication {

// Records received but not yet appended, in seq order.
struct Follower::Pending {
  std::vector<PendingEvent> events;
  std::vector<std::string> chains;  // chains[i]: the chain hash after events[i]
  uint64_t first_seq = 0;
  int64_t last_recorded_at = 0;
};

namespace {

constexpr auto kBackoff = std::chrono::milliseconds(250);
// A subscription that delivers nothing for this long while the stream holds
// more than the log is replaced (the consumer was lost with a NATS node).
constexpr auto kStallTimeout = std::chrono::seconds(3);

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `s` with another message (a Status's code is kept; its constructor is private).
Status Restate(const Status& s, std::string message) {
  using Code = Status::Code;
  switch (s.code()) {
    case Code::kOk: return Status::Ok();
    case Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Code::kNotFound: return Status::NotFound(std::move(message));
    case Code::kAlreadyExists: return Status::AlreadyExists(std::move(message));
    case Code::kConflict: return Status::Conflict(std::move(message));
    case Code::kCorruption: return Status::Corruption(std::move(message));
    case Code::kIOError: return Status::IOError(std::move(message));
    case Code::kReadOnly: return Status::ReadOnly(std::move(message));
    case Code::kFull: return Status::Full(std::move(message));
    case Code::kVersion: return Status::Version(std::move(message));
  }
  return Status::IOError(std::move(message));
}

struct Subscription {
  natsSubscription* sub = nullptr;
  ~Subscription() {
    if (sub != nullptr) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
  }
};

}  // namespace

Follower::Follower(EventLog* log, FollowerOptions options, std::shared_ptr<spdlog::logger> logger)
    : log_(log), options_(std::move(options)), logger_(std::move(logger)) {}

Follower::~Follower() = default;

FollowerProgress Follower::progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return progress_;
}

void Follower::Update(const std::function<void(FollowerProgress*)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(&progress_);
}

Status Follower::Run(const std::atomic<bool>& stop) {
  {
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(log_->BeginRead(&txn));
    const uint64_t last = txn->LastSeq();
    Update([&](FollowerProgress* p) { p->applied_seq = last; });
  }
  std::string last_warning;
  std::unique_ptr<Link> link;
  while (!stop.load()) {
    if (link == nullptr) {
      Update([](FollowerProgress* p) { p->state = "connecting"; });
      Status s = Link::Connect(options_.servers, "twinline follow", 2000, 5000, nullptr, &link);
      if (!s.ok()) {
        if (options_.once) return s;
        if (logger_ && s.message() != last_warning) logger_->warn("follow: {}; retrying", s.message());
        last_warning = s.message();
        Update([&](FollowerProgress* p) { p->state = "retrying: " + s.message(); });
        std::this_thread::sleep_for(kBackoff);
        continue;
      }
    }
    Status s = Session(*link, stop);
    if (s.ok()) break;
    if (s.code() != Status::Code::kIOError) {
      Update([&](FollowerProgress* p) { p->state = "stopped: " + s.message(); });
      return s;
    }
    if (logger_ && s.message() != last_warning) logger_->warn("follow: {}; retrying", s.message());
    last_warning = s.message();
    Update([&](FollowerProgress* p) { p->state = "retrying: " + s.message(); });
    std::this_thread::sleep_for(kBackoff);
  }
  Update([](FollowerProgress* p) { p->state = "stopped"; });
  return Status::Ok();
}

// Checks that the stream continues this log; *next is the first seq to ask
// for, *done set when options.once and there is nothing to ask for.
Status Follower::Start(Link& link, uint64_t* next, bool* done) {
  *done = false;
  const std::string& name = options_.stream.name;
  StreamState state;
  TWINLINE_RETURN_IF_ERROR(link.Info(options_.stream, &state));
  std::unique_ptr<ReadTxn> txn;
  TWINLINE_RETURN_IF_ERROR(log_->BeginRead(&txn));
  const uint64_t local = txn->LastSeq();
  if (state.messages > 0 && state.first_seq != 1) {
    return Status::Conflict("stream " + name + " starts at message " + std::to_string(state.first_seq) +
                            ": a twinline stream holds records 1..N");
  }
  if (local > state.last_seq) {
    return Status::Conflict("this log holds " + std::to_string(local) + " records but stream " + name +
                            " only " + std::to_string(state.last_seq) +
                            ": it is not this log's stream (or the stream was recreated); "
                            "follow it into a new directory");
  }
  if (local > 0) {
    Msg msg;
    TWINLINE_RETURN_IF_ERROR(link.Get(options_.stream, local, &msg));
    TWINLINE_RETURN_IF_ERROR(CheckSameChain(msg, local, *txn, "stream " + name + " does not continue this log"));
  }
  Update([&](FollowerProgress* p) {
    p->applied_seq = local;
    p->stream_seq = state.last_seq;
    p->state = "following";
  });
  if (logger_) {
    logger_->info("follow: stream {} holds {} records, this log {}; following from seq {}", name, state.last_seq,
                  local, local + 1);
  }
  *next = local + 1;
  *done = options_.once && local == state.last_seq;
  return Status::Ok();
}

Status Follower::Flush(Pending* pending) {
  if (pending->events.empty()) return Status::Ok();
  AppendOptions options;
  options.restore = true;
  options.expected_chain_head = pending->chains.back();
  AppendResult result;
  Status s = log_->Append(pending->events, options, &result);
  if (s.code() == Status::Code::kCorruption && pending->events.size() > 1) {
    // Some record of the batch does not hash to its chain hash: append them
    // one by one, keeping those before it, to name it.
    for (size_t i = 0; i < pending->events.size() && s.code() == Status::Code::kCorruption; ++i) {
      std::vector<PendingEvent> one;
      one.push_back(std::move(pending->events[i]));
      options.expected_chain_head = pending->chains[i];
      Status single = log_->Append(one, options, &result);
      if (!single.ok()) {
        s = single;
        break;
      }
    }
  }
  const uint64_t first = pending->first_seq;
  const uint64_t last = first + pending->events.size() - 1;
  const int64_t recorded = pending->last_recorded_at;
  pending->events.clear();
  pending->chains.clear();
  if (!s.ok()) {
    std::unique_ptr<ReadTxn> txn;
    uint64_t kept = 0;
    if (log_->BeginRead(&txn).ok()) kept = txn->LastSeq();
    Update([&](FollowerProgress* p) { p->applied_seq = kept; });
    const std::string where = "stream " + options_.stream.name + ", seq " + std::to_string(kept + 1);
    if (s.code() == Status::Code::kCorruption) {
      return Status::Corruption(where +
                                ": the record does not hash to the chain hash its message carries — the message "
                                "was altered (tampered with or damaged); following stopped, this log is intact "
                                "at seq " + std::to_string(kept) + " (" + s.message() + ")");
    }
    return Restate(s, where + ": cannot append the record (" + s.message() + "); this log is at seq " +
                          std::to_string(kept));
  }
  const int64_t lag = (NowMicros() - recorded) / 1000;
  Update([&](FollowerProgress* p) {
    p->applied_seq = last;
    p->stream_seq = std::max(p->stream_seq, last);
    p->lag_ms = lag;
  });
  if (logger_) logger_->debug("follow: appended seqs {}..{}", first, last);
  return Status::Ok();
}

Status Follower::Session(Link& link, const std::atomic<bool>& stop) {
  uint64_t next = 0;
  bool done = false;
  Status st = Start(link, &next, &done);
  if (st.code() == Status::Code::kNotFound) {
    Update([](FollowerProgress* p) { p->state = "waiting for stream"; });
    return Status::IOError(st.message() + " (waiting for the primary to create it)");
  }
  TWINLINE_RETURN_IF_ERROR(st);
  if (done) return Status::Ok();

  Subscription sub;
  TWINLINE_RETURN_IF_ERROR(link.Subscribe(options_.stream, next, &sub.sub));
  Pending pending;
  auto last_message = std::chrono::steady_clock::now();
  auto last_info = last_message;
  while (!stop.load()) {
    natsMsg* raw = nullptr;
    const int64_t wait_ms = pending.events.empty() ? 200 : 2;
    natsStatus ns = natsSubscription_NextMsg(&raw, sub.sub, wait_ms);
    Msg msg(raw);
    const auto now = std::chrono::steady_clock::now();
    if (ns == NATS_TIMEOUT) {
      TWINLINE_RETURN_IF_ERROR(Flush(&pending));
      if (now - last_info < std::chrono::seconds(1)) continue;
      last_info = now;
      StreamState state;
      TWINLINE_RETURN_IF_ERROR(link.Info(options_.stream, &state));
      const uint64_t applied = next - 1;
      Update([&](FollowerProgress* p) { p->stream_seq = state.last_seq; });
      if (options_.once && applied >= state.last_seq) return Status::Ok();
      if (state.last_seq > applied && now - last_message > kStallTimeout) {
        return Status::IOError("no message from stream " + options_.stream.name + " for " +
                               std::to_string(kStallTimeout.count()) + " s while it holds seq " +
                               std::to_string(state.last_seq) + " and this log " + std::to_string(applied) +
                               "; subscribing again");
      }
      continue;
    }
    if (ns != NATS_OK) {
      TWINLINE_RETURN_IF_ERROR(Flush(&pending));
      return NatsStatus(ns, static_cast<jsErrCode>(0), "receiving from stream " + options_.stream.name);
    }
    last_message = now;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg.get()) != NATS_OK) continue;  // not a stream message
    const uint64_t stream_seq = meta->Sequence.Stream;
    const uint64_t num_pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    if (stream_seq < next) continue;  // delivered again after a consumer reset
    if (stream_seq > next) {
      TWINLINE_RETURN_IF_ERROR(Flush(&pending));
      return Status::IOError("stream " + options_.stream.name + " delivered message " + std::to_string(stream_seq) +
                             " where " + std::to_string(next) + " was due; subscribing again");
    }
    IncomingRecord record;
    Status decoded = DecodeRecord(msg, stream_seq, &record);
    if (!decoded.ok()) {
      TWINLINE_RETURN_IF_ERROR(Flush(&pending));  // the records before it are good
      return Restate(decoded, decoded.message() + "; following stopped, this log is intact at seq " +
                                  std::to_string(next - 1));
    }
    if (pending.events.empty()) pending.first_seq = record.seq;
    pending.events.push_back(std::move(record.event));
    pending.chains.push_back(std::move(record.chain));
    pending.last_recorded_at = record.recorded_at;
    ++next;
    // Messages already here but not yet read (the server counts them as
    // delivered): under load the backlog is there, and waiting for them
    // makes one transaction of many.
    int queued = 0;
    int queued_bytes = 0;
    if (natsSubscription_GetPending(sub.sub, &queued, &queued_bytes) != NATS_OK || queued < 0) queued = 0;
    // (The queued messages are among num_pending, counted when this one was sent.)
    const uint64_t stream_last = stream_seq + num_pending;
    Update([&](FollowerProgress* p) { p->stream_seq = std::max(p->stream_seq, stream_last); });
    if (pending.events.size() >= options_.batch || (num_pending == 0 && queued == 0)) {
      TWINLINE_RETURN_IF_ERROR(Flush(&pending));
      if (options_.once && num_pending == 0) {
        StreamState state;
        TWINLINE_RETURN_IF_ERROR(link.Info(options_.stream, &state));
        if (state.last_seq <= next - 1) return Status::Ok();
      }
    }
  }
  return Flush(&pending);
}

}  // namespace twinline::replication
