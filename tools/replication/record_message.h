// RecordMessage: how one record of the log travels through JetStream
// (docs/REPLICATION.md, "Messages").
//
//   subject  twinline.<STREAM>
//   data     the event as a packed Cap'n Proto message (root schema::Event),
//            with its seq and recorded time: what ReadTxn::Get reads, not
//            the stored bytes (the storage format is the log's business;
//            a follower re-encodes canonically, as `import --restore` does)
//   headers  Nats-Msg-Id     "<seq>-<chain hash hex>" (JetStream's dedup)
//            Twinline-Seq    the record's seq = the stream sequence
//            Twinline-Chain  the chain hash after this record, hex: what the
//                            follower's log must end on once it is appended
//            Twinline-Format the primary's storage format version; chain
//                            hashes are over stored bytes, so a follower
//                            must store the same format
#ifndef TWINLINE_TOOLS_REPLICATION_RECORD_MESSAGE_H_
#define TWINLINE_TOOLS_REPLICATION_RECORD_MESSAGE_H_

#include <cstdint>
#include <string>

#include "core/event_log.h"
#include "core/status.h"
#include "tools/replication/jetstream.h"

namespace twinline::replication {

inline constexpr const char kSeqHeader[] = "Twinline-Seq";
inline constexpr const char kChainHeader[] = "Twinline-Chain";
inline constexpr const char kFormatHeader[] = "Twinline-Format";

// A record read from the log, ready to publish.
struct OutgoingRecord {
  uint64_t seq = 0;
  std::string chain_hex;  // the chain hash after this record
  std::string data;       // packed Cap'n Proto, root schema::Event
  std::string MsgId() const { return std::to_string(seq) + "-" + chain_hex; }
};

Status ReadRecord(const ReadTxn& txn, uint64_t seq, OutgoingRecord* out);

// The message for `record` on spec's subject, with its headers (but not
// Nats-Msg-Id, which the publish options carry). Owned by the caller.
Status MakeMessage(const StreamSpec& spec, const OutgoingRecord& record, Msg* msg);

// A record received from the stream, ready to append in restore mode.
struct IncomingRecord {
  uint64_t seq = 0;
  std::string chain;  // 32 raw bytes: what the log must end on after it
  PendingEvent event;
  int64_t recorded_at = 0;
};

// Checks the headers against the stream sequence the message came at and
// decodes the event; kCorruption names the seq and what is wrong.
Status DecodeRecord(const Msg& msg, uint64_t stream_seq, IncomingRecord* out);

// kOk when the stream's message at `seq` carries the chain hash the local
// log has at `seq`; kConflict (naming both hashes) when it does not.
Status CheckSameChain(const Msg& msg, uint64_t seq, const ReadTxn& txn, const std::string& what);

std::string Hex(std::string_view raw);

}  // namespace twinline::replication

#endif  // TWINLINE_TOOLS_REPLICATION_RECORD_MESSAGE_H_
