#include "tools/replication/record_message.h"

#include <capnp/serialize-packed.h>
#include <kj/io.h>

#include "core/sha256.h"

namespace twinline::replication {

std::string Hex(std::string_view raw) {
  return ToHex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
}

namespace {

bool FromHex(std::string_view hex, std::string* raw) {
  if (hex.size() % 2 != 0) return false;
  raw->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    raw->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

bool ParseSeq(const std::string& text, uint64_t* seq) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *seq = v;
  return true;
}

}  // namespace

Status ReadRecord(const ReadTxn& txn, uint64_t seq, OutgoingRecord* out) {
  out->seq = seq;
  Digest chain{};
  TWINLINE_RETURN_IF_ERROR(txn.ChainHash(seq, &chain));
  out->chain_hex = ToHex(chain);
  Status encoded;
  TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
    try {
      capnp::MallocMessageBuilder builder;
      builder.setRoot(ev);
      kj::VectorOutputStream stream;
      capnp::writePackedMessage(stream, builder);
      auto bytes = stream.getArray();
      out->data.assign(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
    } catch (const kj::Exception& e) {
      encoded = Status::Corruption("seq " + std::to_string(seq) + " cannot be encoded: " +
                                   e.getDescription().cStr());
    }
  }));
  return encoded;
}

Status MakeMessage(const StreamSpec& spec, const OutgoingRecord& record, Msg* msg) {
  Msg m;
  const std::string subject = spec.Subject();
  natsStatus s = natsMsg_Create(m.out(), subject.c_str(), nullptr, record.data.data(),
                                static_cast<int>(record.data.size()));
  const std::string seq = std::to_string(record.seq), format = std::to_string(kFormatVersion);
  if (s == NATS_OK) s = natsMsgHeader_Set(m.get(), kSeqHeader, seq.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(m.get(), kChainHeader, record.chain_hex.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(m.get(), kFormatHeader, format.c_str());
  if (s != NATS_OK) return NatsStatus(s, static_cast<jsErrCode>(0), "cannot build the message for seq " + seq);
  *msg = std::move(m);
  return Status::Ok();
}

Status DecodeRecord(const Msg& msg, uint64_t stream_seq, IncomingRecord* out) {
  const std::string where = "stream message " + std::to_string(stream_seq);
  auto bad = [&](const std::string& what) { return Status::Corruption(where + ": " + what); };
  const std::string format = msg.Header(kFormatHeader);
  if (format != std::to_string(kFormatVersion)) {
    return Status::Version(where + " was published by a twinline whose log is in format " +
                           (format.empty() ? "(none)" : format) + "; this one stores format " +
                           std::to_string(kFormatVersion) +
                           ": a follower must store the primary's format (chain hashes cover stored bytes)");
  }
  uint64_t seq = 0;
  if (!ParseSeq(msg.Header(kSeqHeader), &seq)) return bad("no valid " + std::string(kSeqHeader) + " header");
  if (seq != stream_seq) {
    return bad("carries seq " + std::to_string(seq) + ": the stream must hold record N at sequence N");
  }
  if (!FromHex(msg.Header(kChainHeader), &out->chain) || out->chain.size() != 32) {
    return bad("no valid " + std::string(kChainHeader) + " header (64 hex digits)");
  }
  out->seq = seq;
  const std::string_view data = msg.Data();
  try {
    kj::ArrayInputStream in(kj::arrayPtr(reinterpret_cast<const kj::byte*>(data.data()), data.size()));
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 64 << 20;
    capnp::PackedMessageReader reader(in, options);
    auto ev = reader.getRoot<schema::Event>();
    if (ev.getSeq() != seq) {
      return bad("its event says seq " + std::to_string(ev.getSeq()) + ", its header seq " + std::to_string(seq));
    }
    out->recorded_at = ev.getRecordedAt();
    auto event = std::make_unique<capnp::MallocMessageBuilder>();
    event->setRoot(ev);
    out->event = std::move(event);
  } catch (const kj::Exception& e) {
    return bad(std::string("its event cannot be decoded: ") + e.getDescription().cStr());
  }
  return Status::Ok();
}

Status CheckSameChain(const Msg& msg, uint64_t seq, const ReadTxn& txn, const std::string& what) {
  Digest local{};
  TWINLINE_RETURN_IF_ERROR(txn.ChainHash(seq, &local));
  const std::string theirs = msg.Header(kChainHeader);
  if (theirs != ToHex(local)) {
    return Status::Conflict(what + ": at seq " + std::to_string(seq) + " the stream's chain hash is " +
                            (theirs.empty() ? "(none)" : theirs) + " but this log's is " + ToHex(local));
  }
  return Status::Ok();
}

}  // namespace twinline::replication
