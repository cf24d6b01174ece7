// `twinline follow --nats URL[,URL...] --db DIR`: builds a read replica of a
// replicated log (`twinline replicate`) from its JetStream stream —
// byte-identical records, the same chain and indexes — and keeps it up to
// date until SIGINT/SIGTERM (tools/replication/follower.h;
// docs/REPLICATION.md). Creates the database when missing. `--once` returns
// when the log holds what the stream held. Its writer keeps the temporal
// index, as every writer does. Exit 4 when the stream does not continue
// this log, 3 when a message was tampered with (the log is kept up to the
// record before it).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "tools/cli.h"
#include "tools/replication/follower.h"
#include "tools/replication/stop_signal.h"

namespace twinline::cli {
namespace {

struct FollowFlags {
  std::string nats;
  replication::StreamSpec stream;
  size_t batch = 2000;
  bool once = false;
  CLI::Option* log_level = nullptr;
};

}  // namespace

Handler ConfigureFollow(CLI::App& cmd) {
  auto f = std::make_shared<FollowFlags>();
  cmd.add_option("--nats", f->nats, "NATS servers of the JetStream cluster: nats://HOST:PORT[,...]")
      ->required();
  cmd.add_option("--stream", f->stream.name, "the stream's name")->capture_default_str();
  cmd.add_option("--batch", f->batch, "records appended per transaction at most")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  cmd.add_flag("--once", f->once, "return once the log holds what the stream holds, instead of following it");
  if (cmd.get_parent() != nullptr) f->log_level = cmd.get_parent()->get_option_no_throw("--log-level");

  return [f](Context& ctx) -> Status {
    if (ctx.logger && (f->log_level == nullptr || f->log_level->count() == 0)) {
      ctx.logger->set_level(spdlog::level::info);
    }
    replication::FollowerOptions options;
    TWINLINE_RETURN_IF_ERROR(replication::ParseServers(f->nats, "--nats", &options.servers));
    options.stream = f->stream;
    options.batch = f->batch;
    options.once = f->once;
    replication::StopSignal stop;
    replication::Follower follower(ctx.log, options, ctx.logger);
    Status s = follower.Run(stop.flag());
    const replication::FollowerProgress p = follower.progress();
    if (!s.ok()) return s;
    *ctx.out << "this log is at seq " << p.applied_seq << "; stream " << options.stream.name << " at seq "
             << p.stream_seq << '\n';
    return Status::Ok();
  };
}

}  // namespace twinline::cli
