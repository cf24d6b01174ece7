// `twinline log`: the events, filtered by entity (slug or any registered
// name), kind, valid time (events whose possible days overlap
// [--from, --to]) and seq range, in seq order, as a table or JSON.
// `--raw SEQ` writes one record's stored bytes for `capnp decode`.
//
// The most selective index available does the scanning (by_entity, then
// by_date, then the seq order) and the other filters are applied to what it
// yields; matching seqs are gathered first and the events then printed in
// seq order.
#include <CLI/CLI.hpp>
#include <algorithm>

#include "events/json_codec.h"
#include "tools/api/event_query.h"
#include "tools/api/event_summary.h"
#include "tools/api/json_views.h"
#include "tools/api/read_view.h"
#include "tools/api/text_layout.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

struct LogFlags {
  std::string entity;
  api::EventQueryText query;  // --kind, --from, --to, --seq
  uint64_t limit = 0;
  uint64_t raw = 0;
  std::string format = "table";
  CLI::Option* raw_opt = nullptr;
};

Status WriteRaw(Context& ctx, uint64_t seq) {
  std::unique_ptr<ReadTxn> txn;
  TWINLINE_RETURN_IF_ERROR(ctx.log->BeginRead(&txn));
  std::string bytes;
  TWINLINE_RETURN_IF_ERROR(txn->GetRaw(seq, &bytes));
  ctx.out->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return Status::Ok();
}

}  // namespace

Handler ConfigureLog(CLI::App& cmd) {
  auto f = std::make_shared<LogFlags>();
  cmd.add_option("--entity", f->entity, "events touching this entity (slug or any name)");
  cmd.add_option("--kind", f->query.kinds, "only this kind, snake_case (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd.add_option("--from", f->query.from, "events that may have happened on or after this EDTF date");
  cmd.add_option("--to", f->query.to, "events that may have happened on or before this EDTF date");
  cmd.add_option("--seq", f->query.seq_range, "seq range A..B (either side optional: 10.., ..20)");
  cmd.add_option("--limit", f->limit, "print at most N events");
  cmd.add_option("--format", f->format, "output format (json = one array)")
      ->check(CLI::IsMember({"table", "json", "ndjson"}))
      ->capture_default_str();
  f->raw_opt = cmd.add_option("--raw", f->raw,
                              "write the stored bytes of record SEQ to stdout "
                              "(for: capnp decode schemas/twinline.capnp Event)");

  return [f](Context& ctx) -> Status {
    if (f->raw_opt->count() > 0) return WriteRaw(ctx, f->raw);
    api::EventFilter filter;
    TWINLINE_RETURN_IF_ERROR(api::BuildEventFilter(f->query, "--", &filter));

    api::ReadView snap;
    TWINLINE_RETURN_IF_ERROR(api::BeginReadView(*ctx.log, &snap));
    const ReadTxn& txn = *snap.txn;

    // 1. Gather matching seqs through the most selective index. Scans in seq
    //    order can stop at the limit; the date index yields another order.
    std::vector<uint64_t> seqs;
    bool seq_ordered = true;
    auto collect = [&](schema::Event::Reader ev) {
      if (filter.Matches(ev)) seqs.push_back(ev.getSeq());
      return !seq_ordered || f->limit == 0 || seqs.size() < f->limit;
    };
    if (!f->entity.empty()) {
      std::string slug;
      Status s = snap.resolver->Resolve(f->entity, &slug);
      if (!s.ok()) return s.WithField("--entity");
      TWINLINE_RETURN_IF_ERROR(txn.ScanEntity(slug, collect));
    } else if (filter.by_date) {
      seq_ordered = false;
      TWINLINE_RETURN_IF_ERROR(txn.ScanValidRange(filter.day_from, filter.day_to, collect));
      std::sort(seqs.begin(), seqs.end());
    } else if (filter.seq_from <= filter.seq_to) {
      TWINLINE_RETURN_IF_ERROR(txn.Scan(filter.seq_from, filter.seq_to, collect));
    }
    if (f->limit > 0 && seqs.size() > f->limit) seqs.resize(f->limit);

    // 2. Print them.
    api::Table table({"SEQ", "DATE", "KIND", "SUMMARY", "SOURCES", "ID"});
    table.AlignRight(0);
    table.AlignRight(4);
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    Status inner;
    for (uint64_t seq : seqs) {
      TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
        if (f->format == "ndjson") {
          *ctx.out << api::DumpJson(EncodeEvent(ev)) << '\n';
        } else if (f->format == "json") {
          array.push_back(EncodeEvent(ev));
        } else {
          uint64_t sources = 0;
          inner = api::CountSources(txn, ev, &sources);
          table.AddRow({std::to_string(seq), ev.getValidTime().getEdtf(),
                        std::string(KindName(ev.getPayload().which())), api::SummarizeEvent(ev),
                        std::to_string(sources), ev.getId()});
        }
      }));
      TWINLINE_RETURN_IF_ERROR(inner);
    }
    if (f->format == "json") {
      *ctx.out << api::DumpJson(array) << '\n';
    } else if (f->format == "table") {
      table.Print(*ctx.out);
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
