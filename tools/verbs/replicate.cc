// `twinline replicate --nats URL[,URL...]`: publishes the log, record by
// record in seq order, to a JetStream stream with 3 replicas, and keeps
// publishing what is appended until SIGINT/SIGTERM (tools/replication/
// replicator.h; docs/REPLICATION.md). Resumes from what the stream holds
// after a crash or a restart; `--once` returns when the stream holds the
// whole log. The log is only read: appends (the CLI, `serve`) go on meanwhile.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "tools/cli.h"
#include "tools/replication/replicator.h"
#include "tools/replication/stop_signal.h"

namespace twinline::cli {
namespace {

struct ReplicateFlags {
  std::string nats;
  replication::StreamSpec stream;
  size_t window = 1024;
  bool once = false;
  CLI::Option* log_level = nullptr;
};

}  // namespace

Handler ConfigureReplicate(CLI::App& cmd) {
  auto f = std::make_shared<ReplicateFlags>();
  cmd.add_option("--nats", f->nats, "NATS servers of the JetStream cluster: nats://HOST:PORT[,...]")
      ->required();
  cmd.add_option("--stream", f->stream.name, "the stream's name (its subject is twinline.NAME)")
      ->capture_default_str();
  cmd.add_option("--replicas", f->stream.replicas,
                 "replicas of the stream when this creates it (the cluster needs that many servers)")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  cmd.add_option("--window", f->window, "publishes in flight at most")
      ->check(CLI::Range(size_t{1}, size_t{65536}))
      ->capture_default_str();
  cmd.add_flag("--once", f->once, "return once the stream holds the whole log, instead of tailing it");
  if (cmd.get_parent() != nullptr) f->log_level = cmd.get_parent()->get_option_no_throw("--log-level");

  return [f](Context& ctx) -> Status {
    if (ctx.logger && (f->log_level == nullptr || f->log_level->count() == 0)) {
      ctx.logger->set_level(spdlog::level::info);  // a long-running verb says what it does
    }
    replication::ReplicatorOptions options;
    TWINLINE_RETURN_IF_ERROR(replication::ParseServers(f->nats, "--nats", &options.servers));
    options.stream = f->stream;
    options.window = f->window;
    options.once = f->once;
    replication::StopSignal stop;
    replication::Replicator replicator(ctx.log, options, ctx.logger);
    Status s = replicator.Run(stop.flag());
    const replication::ReplicatorProgress p = replicator.progress();
    if (!s.ok()) {
      ctx.error_hint = s.code() == Status::Code::kIOError
                           ? "is the NATS cluster up, with JetStream? (docs/REPLICATION.md)"
                           : "the stream holds " + std::to_string(p.stream_seq) + " records; this log " +
                                 std::to_string(p.local_seq);
      return s;
    }
    *ctx.out << "stream " << options.stream.name << " holds seqs 1.." << p.stream_seq << "; this log is at seq "
             << p.local_seq << '\n';  // (--once: the same seq)
    return Status::Ok();
  };
}

}  // namespace twinline::cli
