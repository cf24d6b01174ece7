// twinline-decode-bench: how fast NDJSON text becomes filled schema::Event
// builders, single-threaded, the first half of `twinline import` (what
// follows, the log's append, is measured by bench/run).
//
//   twinline-gen --events 1000000 > history.ndjson
//   twinline-decode-bench history.ndjson [--runs 3]
//
// The file is read into memory first; each run then decodes every line
// into a builder on one reused first segment, as an importer driving
// EventDecoder line by line does. Entity references are resolved by a
// LogEntityResolver over no log: the file's own registrations, made
// resolvable as they are decoded (AddPending, as import does), so every
// reference is a slug found in memory. Two decoders are measured on the same
// lines in the same run:
//   * simdjson  EventDecoder (events/json_codec.h), the fast path;
//   * nlohmann  nlohmann::json::parse + DecodeEvent, the exact path's cost.
// The best of --runs runs is reported (lines/s and MB/s of NDJSON text).
#include <capnp/message.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.h"
#include "events/entity_resolver.h"
#include "events/json_codec.h"

namespace twinline::bench {
namespace {

constexpr size_t kSegmentWords = 1024;

struct RunResult {
  double seconds = 0;
  size_t events = 0;
};

// Registrations become resolvable for the lines after them, as in import.
Status AfterDecode(schema::Event::Reader ev, LogEntityResolver& resolver,
                   std::vector<std::string>* names) {
  auto payload = ev.getPayload();
  if (!payload.isEntityRegistered()) return Status::Ok();
  auto reg = payload.getEntityRegistered();
  names->clear();
  for (auto name : reg.getNames())
    names->emplace_back(name.getText().cStr(), name.getText().size());
  return resolver.AddPending(reg.getEntity().cStr(), *names);
}

// `make(resolver)` gives the run's decoder: a callable (line, builder).
template <typename MakeDecoder>
Status Run(const std::vector<std::string_view>& lines, const NameFolder& folder, MakeDecoder make,
           RunResult* result) {
  LogEntityResolver resolver(nullptr, &folder);
  auto decode_line = make(resolver);
  std::vector<capnp::word> segment(kSegmentWords);
  std::vector<std::string> names;
  const auto start = std::chrono::steady_clock::now();
  size_t events = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    capnp::MallocMessageBuilder message(kj::arrayPtr(segment.data(), segment.size()));
    auto ev = message.initRoot<schema::Event>();
    Status s = decode_line(lines[i], ev);
    if (!s.ok())
      return Status::InvalidArgument("line " + std::to_string(i + 1) + ": " + s.ToString());
    TWINLINE_RETURN_IF_ERROR(AfterDecode(ev.asReader(), resolver, &names));
    ++events;
  }
  result->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result->events = events;
  return Status::Ok();
}

int Main(int argc, char** argv) {
  CLI::App app{"decode NDJSON into Cap'n Proto builders, simdjson against nlohmann"};
  std::string path;
  int runs = 3;
  app.add_option("FILE", path, "NDJSON file (twinline-gen output)")->required();
  std::string only;
  app.add_option("--only", only, "measure one decoder alone (for a profile)")
      ->check(CLI::IsMember({"simdjson", "nlohmann"}));
  app.add_option("--runs", runs, "runs of each decoder; the best is reported")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "twinline-decode-bench: cannot read %s\n", path.c_str());
    return 2;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string data = std::move(buffer).str();
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < data.size();) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    if (end > pos) lines.emplace_back(data.data() + pos, end - pos);
    pos = end + 1;
  }

  Status s;
  std::unique_ptr<NameFolder> folder = NameFolder::Create(&s);
  if (folder == nullptr) {
    std::fprintf(stderr, "twinline-decode-bench: %s\n", s.ToString().c_str());
    return 5;
  }

  // One EventDecoder per run, as an importer holds one for a file.
  auto simd = [](LogEntityResolver& resolver) {
    return
        [decoder = std::make_shared<EventDecoder>(resolver)](
            std::string_view line, schema::Event::Builder ev) { return decoder->Decode(line, ev); };
  };
  auto exact = [](LogEntityResolver& resolver) {
    return [&resolver](std::string_view line, schema::Event::Builder ev) {
      nlohmann::json j =
          nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
      return DecodeEvent(j, resolver, DecodeOptions(), ev);
    };
  };

  RunResult best_simd, best_exact;
  for (int r = 0; r < runs; ++r) {
    RunResult a, b;
    if (Status st = only == "nlohmann" ? Status() : Run(lines, *folder, simd, &a); !st.ok()) {
      std::fprintf(stderr, "twinline-decode-bench: simdjson: %s\n", st.ToString().c_str());
      return 2;
    }
    if (Status st = only == "simdjson" ? Status() : Run(lines, *folder, exact, &b); !st.ok()) {
      std::fprintf(stderr, "twinline-decode-bench: nlohmann: %s\n", st.ToString().c_str());
      return 2;
    }
    if (r == 0 || a.seconds < best_simd.seconds) best_simd = a;
    if (r == 0 || b.seconds < best_exact.seconds) best_exact = b;
  }
  const double mb = static_cast<double>(data.size()) / 1e6;
  std::printf("%zu lines, %.1f MB (%.0f bytes a line), best of %d runs\n", lines.size(), mb,
              static_cast<double>(data.size()) / static_cast<double>(lines.size()), runs);
  std::printf("%-10s %12s %14s %10s\n", "decoder", "seconds", "lines/s", "MB/s");
  for (const auto& [name, r] :
       {std::pair<const char*, RunResult>{"simdjson", best_simd}, {"nlohmann", best_exact}}) {
    std::printf("%-10s %12.3f %14.0f %10.1f\n", name, r.seconds,
                static_cast<double>(r.events) / r.seconds, mb / r.seconds);
  }
  std::printf("speed-up   %.2fx\n", best_exact.seconds / best_simd.seconds);
  return 0;
}

}  // namespace
}  // namespace twinline::bench

int main(int argc, char** argv) { return twinline::bench::Main(argc, argv); }
