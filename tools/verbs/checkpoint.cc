// `twinline checkpoint`: (re)builds the projection checkpoints for everything
// recorded, at the default days (DefaultCheckpointDays: every 5th year-end),
// and stores them in place of the old ones; `--list` shows what is stored,
// `--drop` removes it. Checkpoints are derived data (docs/PROJECTIONS.md, 5):
// outside the hash chain, used only when still valid, rebuilt at will. They
// make `replay` and `diff` faster, never different.
#include <capnp/serialize.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <optional>

#include "core/edtf.h"
#include "schemas/checkpoint.capnp.h"
#include "tools/api/text_layout.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

struct CheckpointFlags {
  bool list = false;
  bool drop = false;
};

std::string Size(uint64_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " B";
  if (bytes < 10 * 1024 * 1024) return std::to_string((bytes + 512) / 1024) + " KiB";
  return std::to_string((bytes + (1 << 19)) >> 20) + " MiB";
}

// docs/FORMAT.md: a checkpoint's key is its valid day, biased
// (u64be(day XOR 2^63)).
bool DecodeDay(std::string_view key, int64_t* day) {
  if (key.size() != 8) return false;
  uint64_t v = 0;
  for (char c : key) v = (v << 8) | static_cast<unsigned char>(c);
  *day = static_cast<int64_t>(v ^ (uint64_t{1} << 63));
  return true;
}

// Cap'n Proto readers need word-aligned memory; LMDB values need not be.
kj::Array<capnp::word> Words(kj::ArrayPtr<const kj::byte> bytes) {
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.begin(), words.size() * sizeof(capnp::word));
  return words;
}

// What the listing says of a stored checkpoint (schemas/checkpoint.capnp):
// the seq it was built at, if its bytes decode that far, and whether its
// state decodes in the shape this build reads. Replay skips any other, and
// the listing shows it rather than failing.
struct Stored {
  enum class State { kUndecodable, kOtherVersion, kCurrent };
  std::optional<uint64_t> built_seq;
  State state = State::kUndecodable;
};

Stored Describe(std::string_view value) {
  Stored out;
  if (value.empty() || value.size() % sizeof(capnp::word) != 0) return out;
  auto words = Words(kj::arrayPtr(reinterpret_cast<const kj::byte*>(value.data()), value.size()));
  try {
    capnp::FlatArrayMessageReader reader(words);
    auto cp = reader.getRoot<schema::Checkpoint>();
    out.built_seq = cp.getBuiltSeq();
    auto state_words = Words(cp.getState());
    capnp::FlatArrayMessageReader state(state_words);
    out.state =
        state.getRoot<schema::CheckpointState>().getVersion() == schema::CHECKPOINT_STATE_VERSION
            ? Stored::State::kCurrent
            : Stored::State::kOtherVersion;
  } catch (const kj::Exception&) {
    out.state = Stored::State::kUndecodable;
  }
  return out;
}

Status List(Context& ctx) {
  std::unique_ptr<ReadTxn> txn;
  TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
  api::Table table({"DAY", "BUILT AT SEQ", "SIZE"});
  table.AlignRight(1);
  table.AlignRight(2);
  Status inner;
  TWINLINE_RETURN_IF_ERROR(txn->ScanCheckpoints([&](std::string_view key, std::string_view value) {
    int64_t day = 0;
    if (!DecodeDay(key, &day)) {
      inner = Status::Corruption("checkpoint key of " + std::to_string(key.size()) +
                                 " bytes; expected 8");
      return false;
    }
    const Stored stored = Describe(value);
    const char* note = stored.state == Stored::State::kCurrent ? ""
                       : stored.state == Stored::State::kOtherVersion
                           ? " (another format, not used; rebuild)"
                           : " (does not decode; rebuild)";
    table.AddRow({FormatDay(day), stored.built_seq ? std::to_string(*stored.built_seq) : "?",
                  Size(value.size()) + note});
    return true;
  }));
  TWINLINE_RETURN_IF_ERROR(inner);
  if (table.rows() == 0) {
    *ctx.out << "no checkpoints; build them with: twinline checkpoint\n";
    return Status::Ok();
  }
  table.Print(*ctx.out);
  return Status::Ok();
}

}  // namespace

Handler ConfigureCheckpoint(CLI::App& cmd) {
  auto f = std::make_shared<CheckpointFlags>();
  auto* list =
      cmd.add_flag("--list", f->list, "show the stored checkpoints (day, built seq, size)");
  auto* drop = cmd.add_flag("--drop", f->drop, "remove every stored checkpoint");
  list->excludes(drop);

  return [f](Context& ctx) -> Status {
    if (f->list) return List(ctx);
    if (f->drop) {
      size_t count = 0;
      {
        std::unique_ptr<ReadTxn> txn;
        TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
        TWINLINE_RETURN_IF_ERROR(txn->ScanCheckpoints([&](std::string_view, std::string_view) {
          ++count;
          return true;
        }));
      }  // the read transaction ends before the write transaction begins
      TWINLINE_RETURN_IF_ERROR(ctx.log->ReplaceCheckpoints({}));
      *ctx.out << "dropped " << count << (count == 1 ? " checkpoint" : " checkpoints") << '\n';
      return Status::Ok();
    }
    size_t count = 0;
    uint64_t bytes = 0;
    TWINLINE_RETURN_IF_ERROR(RefreshCheckpoints(*ctx.log, &count, &bytes));
    *ctx.out << "built " << count << (count == 1 ? " checkpoint" : " checkpoints") << " ("
             << Size(bytes) << "); list them with: twinline checkpoint --list\n";
    return Status::Ok();
  };
}

}  // namespace twinline::cli
