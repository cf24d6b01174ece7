#include "tools/replication/jetstream.h"

#include <cstring>

namespace twinline::replication {

Status ParseServers(std::string_view text, std::string_view field, std::vector<std::string>* urls) {
  urls->clear();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view url = text.substr(start, comma - start);
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (url.empty()) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' is not a list of NATS servers (nats://HOST:PORT[,...])")
          .WithField(field);
    }
    urls->emplace_back(url.find("://") == std::string_view::npos ? "nats://" + std::string(url)
                                                                  : std::string(url));
    start = comma + 1;
  }
  return Status::Ok();
}

Msg& Msg::operator=(Msg&& other) noexcept {
  if (this != &other) {
    natsMsg_Destroy(msg_);
    msg_ = other.msg_;
    other.msg_ = nullptr;
  }
  return *this;
}

std::string_view Msg::Data() const {
  if (msg_ == nullptr) return {};
  return {natsMsg_GetData(msg_), static_cast<size_t>(natsMsg_GetDataLength(msg_))};
}

std::string Msg::Header(const char* key) const {
  const char* value = nullptr;
  if (msg_ == nullptr || natsMsgHeader_Get(msg_, key, &value) != NATS_OK || value == nullptr) return "";
  return value;
}

Status NatsStatus(natsStatus s, jsErrCode code, const std::string& what) {
  std::string text = what + ": " + natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == s && std::strstr(text.c_str(), detail) == nullptr) {
    text += std::string(" (") + detail + ")";
  }
  if (code != 0) text += " [JetStream error " + std::to_string(static_cast<int>(code)) + "]";
  if (code == JSStreamNotFoundErr || code == JSNoMessageFoundErr || s == NATS_NOT_FOUND) {
    return Status::NotFound(text);
  }
  if (code == JSStreamWrongLastSequenceErr) return Status::Conflict(text);
  return Status::IOError(text);
}

Status Link::Connect(const std::vector<std::string>& urls, const std::string& name,
                     int64_t connect_timeout_ms, int64_t request_timeout_ms,
                     const jsOptions* publish_async, std::unique_ptr<Link>* out) {
  std::unique_ptr<Link> link(new Link());
  link->request_timeout_ms_ = request_timeout_ms;
  for (const auto& u : urls) link->servers_ += (link->servers_.empty() ? "" : ",") + u;
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // forever
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 2000);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(opts, 64 << 20);
  if (s == NATS_OK) s = natsConnection_Connect(&link->nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return NatsStatus(s, static_cast<jsErrCode>(0), "cannot connect to NATS at " + link->servers_);
  jsOptions jo;
  if (publish_async != nullptr) {
    jo = *publish_async;
  } else {
    jsOptions_Init(&jo);
  }
  jo.Wait = request_timeout_ms;
  s = natsConnection_JetStream(&link->js_, link->nc_, &jo);
  if (s != NATS_OK) return NatsStatus(s, static_cast<jsErrCode>(0), "cannot use JetStream at " + link->servers_);
  *out = std::move(link);
  return Status::Ok();
}

Link::~Link() {
  jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

namespace {

void Fill(const jsStreamInfo* si, StreamState* state) {
  *state = StreamState();
  state->messages = si->State.Msgs;
  state->first_seq = si->State.FirstSeq;
  state->last_seq = si->State.LastSeq;
  if (si->Config != nullptr) {
    state->replicas = si->Config->Replicas;
    for (int i = 0; i < si->Config->SubjectsLen; ++i) state->subjects.emplace_back(si->Config->Subjects[i]);
  }
  if (si->Cluster != nullptr && si->Cluster->Leader != nullptr) state->leader = si->Cluster->Leader;
}

}  // namespace

Status Link::Info(const StreamSpec& spec, StreamState* state) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, spec.name.c_str(), nullptr, &code);
  if (s != NATS_OK) return NatsStatus(s, code, "cannot read stream " + spec.name + " at " + servers_);
  Fill(si, state);
  jsStreamInfo_Destroy(si);
  return Status::Ok();
}

Status Link::Ensure(const StreamSpec& spec, StreamState* state) {
  Status st = Info(spec, state);
  if (st.code() == Status::Code::kNotFound) {
    const std::string subject = spec.Subject();
    const char* subjects[] = {subject.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = spec.name.c_str();
    cfg.Description = "twinline event log records, one per message, stream sequence = record seq";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = spec.replicas;
    cfg.DenyDelete = true;
    cfg.DenyPurge = true;
    cfg.Duplicates = int64_t{120} * 1000 * 1000 * 1000;  // ns
    jsStreamInfo* si = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &code);
    if (s != NATS_OK && code == JSStreamNameExistErr) return Info(spec, state);  // another process made it
    if (s != NATS_OK) {
      return NatsStatus(s, code,
                        "cannot create stream " + spec.name + " with " + std::to_string(spec.replicas) +
                            " replicas at " + servers_ +
                            " (a cluster of at least that many JetStream servers is needed)");
    }
    Fill(si, state);
    jsStreamInfo_Destroy(si);
    return Status::Ok();
  }
  TWINLINE_RETURN_IF_ERROR(st);
  if (state->subjects.size() != 1 || state->subjects[0] != spec.Subject()) {
    std::string has;
    for (const auto& s : state->subjects) has += (has.empty() ? "" : ", ") + s;
    return Status::Conflict("stream " + spec.name + " at " + servers_ + " has subjects [" + has +
                            "], not just " + spec.Subject() + ": it is not a twinline stream");
  }
  return Status::Ok();
}

Status Link::Get(const StreamSpec& spec, uint64_t seq, Msg* msg) {
  Msg got;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(got.out(), js_, spec.name.c_str(), seq, nullptr, &code);
  if (s != NATS_OK) {
    return NatsStatus(s, code, "cannot read message " + std::to_string(seq) + " of stream " + spec.name);
  }
  *msg = std::move(got);
  return Status::Ok();
}

Status Link::Subscribe(const StreamSpec& spec, uint64_t start_seq, natsSubscription** sub) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = spec.name.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = start_seq;
  so.Config.Heartbeat = int64_t{1000} * 1000 * 1000;  // 1 s, in ns: a silent consumer is noticed
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string subject = spec.Subject();
  natsStatus s = js_SubscribeSync(sub, js_, subject.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) {
    return NatsStatus(s, code, "cannot subscribe to stream " + spec.name + " from seq " +
                                   std::to_string(start_seq) + " at " + servers_);
  }
  return Status::Ok();
}

}  // namespace twinline::replication
