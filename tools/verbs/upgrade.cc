// `twinline upgrade OLD NEW`: copies a database written by an earlier
// twinline (on-disk format 1) into a new one of the current format. Every
// record is re-stored in order with its own seq and recorded time (as
// `import --restore` does), so the copy holds the same history with the
// same chain head, which is checked before the verb succeeds. OLD is only
// read; NEW must not exist or be empty, and is removed again if anything
// fails.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/format1.h"
#include "projections/projection.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

struct UpgradeFlags {
  std::string from, to;
};

Status Copy(const UpgradeFlags& f, Context& ctx, Format1Log* old_log, VerifyReport* copied) {
  OpenOptions options;
  options.create_if_missing = true;
  options.logger = ctx.logger;
  options.maintainer = NewIndexMaintainer();
  std::unique_ptr<EventLog> log;
  TWINLINE_RETURN_IF_ERROR(EventLog::Open(f.to, options, &log));
  AppendOptions append;
  append.restore = true;
  append.expected_last_seq = 0;
  std::unique_ptr<EventLog::BatchWriter> writer;
  TWINLINE_RETURN_IF_ERROR(log->BeginBatch(append, &writer));
  TWINLINE_RETURN_IF_ERROR(ScanFormat1(
      f.from,
      [&](uint64_t seq, std::string_view canonical) -> Status {
        if (canonical.size() % sizeof(capnp::word) != 0) {
          return Status::Corruption("seq " + std::to_string(seq) +
                                    ": its record is not a whole number of words");
        }
        // An aligned copy: capnp reads words, and a word cannot live in a
        // std::vector (it is neither copyable nor movable).
        auto words = kj::heapArray<capnp::word>(canonical.size() / sizeof(capnp::word));
        std::memcpy(words.begin(), canonical.data(), canonical.size());
        auto event = std::make_unique<capnp::MallocMessageBuilder>();
        try {
          capnp::FlatArrayMessageReader reader(kj::ArrayPtr<const capnp::word>(words.begin(), words.size()));
          event->setRoot(reader.getRoot<schema::Event>());
        } catch (const kj::Exception& e) {
          return Status::Corruption("seq " + std::to_string(seq) + ": its record does not decode: " +
                                    e.getDescription().cStr());
        }
        return writer->Add(std::move(event), nullptr).WithField("seq " + std::to_string(seq));
      },
      old_log));
  AppendResult result;
  TWINLINE_RETURN_IF_ERROR(writer->Commit(&result));
  writer.reset();
  return log->Verify(copied);
}

}  // namespace

Handler ConfigureUpgrade(CLI::App& cmd) {
  auto f = std::make_shared<UpgradeFlags>();
  cmd.add_option("OLD", f->from, "the database of an earlier format (only read)")->required();
  cmd.add_option("NEW", f->to, "directory for the copy (must not exist, or be empty)")->required();
  return [f](Context& ctx) -> Status {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(f->to, ec) && (!fs::is_directory(f->to, ec) || !fs::is_empty(f->to, ec))) {
      return Status::AlreadyExists("'" + f->to + "' exists and is not an empty directory; "
                                   "upgrade never overwrites");
    }
    const bool made = !fs::exists(f->to, ec);
    Format1Log old_log;
    VerifyReport copied;
    Status st = Copy(*f, ctx, &old_log, &copied);
    if (st.ok() && copied.head != ToHex(old_log.head)) {
      st = Status::Corruption("the copy's chain head " + copied.head + " is not the original's " +
                              ToHex(old_log.head));
    }
    if (!st.ok()) {
      // Nothing half-made is left: the directory goes (or is emptied again).
      if (made) {
        fs::remove_all(f->to, ec);
      } else {
        for (const auto& entry : fs::directory_iterator(f->to, ec)) fs::remove_all(entry.path(), ec);
      }
      ctx.error_hint = "'" + f->from + "' was not modified";
      return st;
    }
    *ctx.out << "upgraded " << f->from << " (format 1) into " << f->to << " (format "
             << kFormatVersion << "): " << copied.last_seq << " events, chain head " << copied.head
             << " (unchanged)\n";
    return Status::Ok();
  };
}

}  // namespace twinline::cli
