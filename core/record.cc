#include "core/record.h"

#include <capnp/serialize-packed.h>
#include <kj/exception.h>
#include <kj/io.h>

#include <cstring>

namespace twinline::log_internal {
namespace {

// A record no real event comes near (an event is at most 1 MiB of JSON):
// a larger segment table is damage, and is not allocated.
constexpr uint64_t kMaxRecordWords = uint64_t{64} << 20;  // 512 MiB

Status Bad(uint64_t seq, const std::string& why) {
  return Status::Corruption("seq " + std::to_string(seq) + ": record " + why);
}

}  // namespace

std::string CanonicalRecord(schema::Event::Reader ev) {
  kj::Array<capnp::word> canonical = capnp::canonicalize(ev);
  std::string out(8, '\0');
  const uint32_t segment_words = static_cast<uint32_t>(canonical.size());
  // Segment table: (segment count - 1) = 0, then the segment's size in
  // words, both little-endian u32; 8 bytes keep the segment word-aligned.
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((segment_words >> (8 * i)) & 0xff);
  out.append(reinterpret_cast<const char*>(canonical.begin()),
             canonical.size() * sizeof(capnp::word));
  return out;
}

std::string PackRecord(std::string_view canonical) {
  // Packed as writePackedMessage writes a message: the segment table, then
  // the segment, each its own write (PackedInputStream reads them back in
  // the same pieces).
  kj::VectorOutputStream out(canonical.size());
  {
    capnp::_::PackedOutputStream packed(out);
    packed.write(canonical.data(), 8);
    if (canonical.size() > 8) packed.write(canonical.data() + 8, canonical.size() - 8);
  }
  auto bytes = out.getArray();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Status RecordReader::Open(std::string_view stored, uint64_t seq) {
  message_.reset();
  try {
    kj::ArrayInputStream in(
        kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(stored.data()), stored.size()));
    capnp::_::PackedInputStream packed(in);
    uint32_t table[2];
    packed.read(table, sizeof table);
    if (table[0] != 0) return Bad(seq, "is not a single-segment message");
    const uint64_t words = table[1];
    if (words == 0 || words > kMaxRecordWords) {
      return Bad(seq, "claims a segment of " + std::to_string(words) + " words");
    }
    if (words_.size() < words + 1) words_ = kj::heapArray<capnp::word>(words + 1);
    std::memcpy(words_.begin(), table, sizeof table);
    packed.read(words_.begin() + 1, words * sizeof(capnp::word));
    if (in.tryGetReadBuffer().size() != 0) return Bad(seq, "has bytes after its message");
    size_ = words + 1;
    message_.emplace(kj::ArrayPtr<const capnp::word>(words_.begin(), size_));
    root_ = message_->getRoot<schema::Event>();
  } catch (const kj::Exception& e) {
    message_.reset();
    return Bad(seq, std::string("does not decode: ") + e.getDescription().cStr());
  }
  return Status::Ok();
}

Status UnpackRecord(std::string_view stored, uint64_t seq, std::string* canonical) {
  RecordReader reader;
  TWINLINE_RETURN_IF_ERROR(reader.Open(stored, seq));
  canonical->assign(reader.canonical());
  return Status::Ok();
}

Status WithStoredEvent(std::string_view stored, uint64_t seq,
                       const std::function<void(schema::Event::Reader)>& fn) {
  RecordReader reader;
  TWINLINE_RETURN_IF_ERROR(reader.Open(stored, seq));
  try {
    fn(reader.root());
  } catch (const kj::Exception& e) {
    return Bad(seq, std::string("does not decode: ") + e.getDescription().cStr());
  }
  return Status::Ok();
}

}  // namespace twinline::log_internal
