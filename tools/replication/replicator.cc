#include "tools/replication/replicator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "tools/replication/record_message.h"

namespace twinline::replication {

// Filled by cnats's ack handler (its own thread), read by Run's thread.
struct Replicator::Acks {
  std::mutex mu;
  uint64_t acked = 0;     // highest record seq the stream acknowledged
  bool failed = false;    // a publish failed: stop publishing, resync
  Status failure;         // the first failure since the last resync
  bool fatal = false;     // the stream answered something that cannot be retried

  void Fail(Status s, bool is_fatal) {
    std::lock_guard<std::mutex> lock(mu);
    if (!failed) failure = std::move(s);
    failed = true;
    fatal = fatal || is_fatal;
  }
};

namespace {

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* acks = static_cast<Replicator::Acks*>(closure);
  const char* seq_text = nullptr;
  natsMsgHeader_Get(msg, kSeqHeader, &seq_text);
  const uint64_t seq = seq_text != nullptr ? std::strtoull(seq_text, nullptr, 10) : 0;
  if (pa != nullptr) {
    if (pa->Sequence != seq) {
      // Only possible if something else publishes to the stream's subject
      // without the expected-sequence check.
      acks->Fail(Status::Conflict("record " + std::to_string(seq) + " was stored as stream message " +
                                  std::to_string(pa->Sequence) +
                                  ": something else publishes to the stream"),
                 true);
    } else {
      std::lock_guard<std::mutex> lock(acks->mu);
      acks->acked = std::max(acks->acked, seq);
    }
  } else if (pae != nullptr) {
    acks->Fail(NatsStatus(pae->Err, pae->ErrCode,
                          "publishing seq " + std::to_string(seq) +
                              (pae->ErrText != nullptr ? std::string(" (") + pae->ErrText + ")" : "")),
               false);
  }
  natsMsg_Destroy(msg);
}

bool Transient(const Status& s) {
  return s.code() == Status::Code::kIOError;
}

}  // namespace

Replicator::Replicator(const EventLog* log, ReplicatorOptions options,
                       std::shared_ptr<spdlog::logger> logger)
    : log_(log), options_(std::move(options)), logger_(std::move(logger)), acks_(std::make_unique<Acks>()) {}

Replicator::~Replicator() = default;

ReplicatorProgress Replicator::progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  ReplicatorProgress p = progress_;
  std::lock_guard<std::mutex> acks_lock(acks_->mu);
  p.stream_seq = std::max(p.stream_seq, acks_->acked);
  return p;
}

void Replicator::SetState(std::string state) {
  std::lock_guard<std::mutex> lock(mu_);
  progress_.state = std::move(state);
}

Status Replicator::Run(const std::atomic<bool>& stop) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = static_cast<int64_t>(options_.window);
  jo.PublishAsync.AckHandler = OnAck;
  jo.PublishAsync.AckHandlerClosure = acks_.get();
  jo.PublishAsync.StallWait = options_.ack_timeout.count();

  const auto backoff = std::chrono::milliseconds(250);
  std::string last_warning;
  auto warn = [&](const Status& s) {
    SetState("retrying: " + s.message());
    if (logger_ && s.message() != last_warning) logger_->warn("replicate: {}; retrying", s.message());
    last_warning = s.message();
  };
  std::unique_ptr<Link> link;
  while (!stop.load()) {
    if (link == nullptr) {
      SetState("connecting");
      Status s = Link::Connect(options_.servers, "twinline replicate", 2000, options_.ack_timeout.count(), &jo,
                               &link);
      if (!s.ok()) {
        if (options_.once || !Transient(s)) return s;
        warn(s);
        std::this_thread::sleep_for(backoff);
        continue;
      }
    }
    Status s = Session(*link, stop);
    Drain(*link);
    if (s.ok()) break;
    if (!Transient(s)) {
      SetState("stopped: " + s.message());
      return s;
    }
    warn(s);
    std::this_thread::sleep_for(backoff);
  }
  SetState("stopped");
  return Status::Ok();
}

// Waits for the publishes in flight to be answered (or given up on) and
// forgets any that were not: the stream will be asked what it holds.
void Replicator::Drain(Link& link) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = options_.ack_timeout.count();
  if (js_PublishAsyncComplete(link.js(), &po) != NATS_OK) {
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, link.js()) == NATS_OK) natsMsgList_Destroy(&pending);
  }
}

Status Replicator::Resync(Link& link, uint64_t* next) {
  StreamState state;
  TWINLINE_RETURN_IF_ERROR(link.Ensure(options_.stream, &state));
  const std::string& name = options_.stream.name;
  if (state.messages != state.last_seq || (state.messages > 0 && state.first_seq != 1)) {
    return Status::Conflict("stream " + name + " holds " + std::to_string(state.messages) + " messages " +
                            std::to_string(state.first_seq) + ".." + std::to_string(state.last_seq) +
                            ": a twinline stream holds records 1..N without gaps");
  }
  std::unique_ptr<ReadTxn> txn;
  TWINLINE_RETURN_IF_ERROR(log_->BeginRead(&txn));
  const uint64_t local = txn->LastSeq();
  if (state.last_seq > local) {
    return Status::Conflict("stream " + name + " holds " + std::to_string(state.last_seq) +
                            " records but this log only " + std::to_string(local) +
                            ": another primary publishes to it, or this log is behind it "
                            "(catch up with `twinline follow --once` first)");
  }
  if (state.last_seq > 0) {
    Msg last;
    TWINLINE_RETURN_IF_ERROR(link.Get(options_.stream, state.last_seq, &last));
    const std::string what = "stream " + name + " does not hold this log's history";
    TWINLINE_RETURN_IF_ERROR(CheckSameChain(last, state.last_seq, *txn, what));
    // The header could be copied onto other data: the record must be ours too.
    OutgoingRecord ours;
    TWINLINE_RETURN_IF_ERROR(ReadRecord(*txn, state.last_seq, &ours));
    if (last.Data() != ours.data) {
      return Status::Conflict(what + ": its message " + std::to_string(state.last_seq) +
                              " carries this log's chain hash but another record (altered?)");
    }
  }
  {
    std::lock_guard<std::mutex> lock(acks_->mu);
    acks_->acked = state.last_seq;
    acks_->failed = false;
    acks_->failure = Status::Ok();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.stream_seq = state.last_seq;
    progress_.local_seq = local;
  }
  if (logger_) {
    logger_->info("replicate: stream {} ({} replicas{}) holds {} records, this log {}; publishing from seq {}",
                  name, state.replicas, state.leader.empty() ? "" : ", leader " + state.leader, state.last_seq,
                  local, state.last_seq + 1);
  }
  *next = state.last_seq + 1;
  return Status::Ok();
}

Status Replicator::Session(Link& link, const std::atomic<bool>& stop) {
  uint64_t next = 0;
  TWINLINE_RETURN_IF_ERROR(Resync(link, &next));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++progress_.resyncs;
  }
  OutgoingRecord record;
  while (!stop.load()) {
    {
      std::lock_guard<std::mutex> lock(acks_->mu);
      if (acks_->failed) return acks_->fatal ? acks_->failure : Status::IOError(acks_->failure.message());
    }
    std::unique_ptr<ReadTxn> txn;
    TWINLINE_RETURN_IF_ERROR(log_->BeginRead(&txn));
    const uint64_t local = txn->LastSeq();
    {
      std::lock_guard<std::mutex> lock(mu_);
      progress_.local_seq = local;
    }
    if (next > local) {
      txn.reset();
      if (options_.once) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = options_.ack_timeout.count();
        natsStatus s = js_PublishAsyncComplete(link.js(), &po);
        std::lock_guard<std::mutex> lock(acks_->mu);
        if (acks_->failed) continue;  // reported at the top of the loop
        if (s != NATS_OK) return NatsStatus(s, static_cast<jsErrCode>(0), "waiting for the stream's acknowledgements");
        if (acks_->acked >= local) return Status::Ok();
      }
      SetState("idle");
      std::this_thread::sleep_for(options_.poll_interval);
      continue;
    }
    SetState("publishing");
    // A bounded run per read snapshot, so a long catch-up does not pin old pages.
    const uint64_t end = std::min(local, next + 4095);
    for (; next <= end && !stop.load(); ++next) {
      TWINLINE_RETURN_IF_ERROR(ReadRecord(*txn, next, &record));
      Msg msg;
      TWINLINE_RETURN_IF_ERROR(MakeMessage(options_.stream, record, &msg));
      jsPubOptions po;
      jsPubOptions_Init(&po);
      const std::string id = record.MsgId();
      po.MsgId = id.c_str();
      po.MaxWait = options_.ack_timeout.count();
      if (next > 1) {
        po.ExpectLastSeq = next - 1;
      } else {
        // cnats cannot express "expect 0" through ExpectLastSeq (0 = unset);
        // the header means the same to the server: the stream must be empty.
        natsMsgHeader_Set(msg.get(), "Nats-Expected-Last-Sequence", "0");
      }
      natsStatus s = js_PublishMsgAsync(link.js(), msg.out(), &po);
      if (s != NATS_OK) {
        return NatsStatus(s, static_cast<jsErrCode>(0), "publishing seq " + std::to_string(next));
      }
      std::lock_guard<std::mutex> lock(acks_->mu);
      if (acks_->failed) break;
    }
  }
  return Status::Ok();
}

}  // namespace twinline::replication
