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
#include <limits>
#include <set>

#include "core/edtf.h"
#include "events/json_codec.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

constexpr uint64_t kMaxSeq = std::numeric_limits<uint64_t>::max();

struct LogFlags {
  std::string entity;
  std::vector<std::string> kinds;
  std::string from, to;
  std::string seq_range;
  uint64_t limit = 0;
  uint64_t raw = 0;
  std::string format = "table";
  CLI::Option* raw_opt = nullptr;
};

// "10..20", "10..", "..20", "7" (just seq 7).
Status ParseSeqRange(const std::string& text, uint64_t* from, uint64_t* to) {
  auto number = [&](std::string_view s, uint64_t* out) -> bool {
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9' || v > (kMaxSeq - 9) / 10) return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
  };
  const Status bad = Status::InvalidArgument("'" + text + "' is not a seq range (A..B, A.., ..B)")
                         .WithField("--seq");
  const size_t dots = text.find("..");
  if (dots == std::string::npos) {
    if (!number(text, from)) return bad;
    *to = *from;
    return Status::Ok();
  }
  const std::string_view a = std::string_view(text).substr(0, dots);
  const std::string_view b = std::string_view(text).substr(dots + 2);
  *from = 1;
  *to = kMaxSeq;
  if (!a.empty() && !number(a, from)) return bad;
  if (!b.empty() && !number(b, to)) return bad;
  return Status::Ok();
}

// The filters, in the form the scan checks them.
struct Filter {
  uint64_t seq_from = 1, seq_to = kMaxSeq;
  int64_t day_from = kUnboundedStart, day_to = kUnboundedEnd;
  bool by_date = false;
  std::set<schema::Payload::Which> kinds;

  bool Matches(schema::Event::Reader ev) const {
    if (ev.getSeq() < seq_from || ev.getSeq() > seq_to) return false;
    if (!kinds.empty() && kinds.count(ev.getPayload().which()) == 0) return false;
    if (by_date) {
      auto vt = ev.getValidTime();
      if (vt.getLatest() < day_from || vt.getEarliest() > day_to) return false;
    }
    return true;
  }
};

Status BuildFilter(const LogFlags& f, Filter* filter) {
  if (!f.seq_range.empty()) {
    TWINLINE_RETURN_IF_ERROR(ParseSeqRange(f.seq_range, &filter->seq_from, &filter->seq_to));
  }
  for (const std::string& k : f.kinds) {
    auto which = ParseKind(k);
    if (!which) return Status::InvalidArgument("unknown kind '" + k + "'").WithField("--kind");
    filter->kinds.insert(*which);
  }
  if (!f.from.empty()) {
    EdtfDate d;
    Status s = ParseEdtf(f.from, &d);
    if (!s.ok()) return s.WithField("--from");
    filter->day_from = d.earliest;
    filter->by_date = true;
  }
  if (!f.to.empty()) {
    EdtfDate d;
    Status s = ParseEdtf(f.to, &d);
    if (!s.ok()) return s.WithField("--to");
    filter->day_to = d.latest;
    filter->by_date = true;
  }
  // An inverted range is a mistake, not a question with an empty answer.
  if (filter->seq_from > filter->seq_to) {
    return Status::InvalidArgument("empty range: " + std::to_string(filter->seq_from) + " is after " +
                                   std::to_string(filter->seq_to))
        .WithField("--seq");
  }
  if (filter->day_from > filter->day_to) {
    return Status::InvalidArgument("--from " + f.from + " is after --to " + f.to).WithField("--from");
  }
  return Status::Ok();
}

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
  cmd.add_option("--kind", f->kinds, "only this kind, snake_case (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  cmd.add_option("--from", f->from, "events that may have happened on or after this EDTF date");
  cmd.add_option("--to", f->to, "events that may have happened on or before this EDTF date");
  cmd.add_option("--seq", f->seq_range, "seq range A..B (either side optional: 10.., ..20)");
  cmd.add_option("--limit", f->limit, "print at most N events");
  cmd.add_option("--format", f->format, "output format (json = one array)")
      ->check(CLI::IsMember({"table", "json", "ndjson"}))
      ->capture_default_str();
  f->raw_opt = cmd.add_option("--raw", f->raw,
                              "write the stored bytes of record SEQ to stdout "
                              "(for: capnp decode schemas/twinline.capnp Event)");

  return [f](Context& ctx) -> Status {
    if (f->raw_opt->count() > 0) return WriteRaw(ctx, f->raw);
    Filter filter;
    TWINLINE_RETURN_IF_ERROR(BuildFilter(*f, &filter));

    Snapshot snap;
    TWINLINE_RETURN_IF_ERROR(BeginSnapshot(*ctx.log, &snap));
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
    Table table({"SEQ", "DATE", "KIND", "SUMMARY", "SOURCES", "ID"});
    table.AlignRight(0);
    table.AlignRight(4);
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    Status inner;
    for (uint64_t seq : seqs) {
      TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
        if (f->format == "ndjson") {
          *ctx.out << DumpJson(EncodeEvent(ev)) << '\n';
        } else if (f->format == "json") {
          array.push_back(EncodeEvent(ev));
        } else {
          uint64_t sources = 0;
          inner = CountSources(txn, ev, &sources);
          table.AddRow({std::to_string(seq), ev.getValidTime().getEdtf(),
                        std::string(KindName(ev.getPayload().which())), SummarizeEvent(ev),
                        std::to_string(sources), ev.getId()});
        }
      }));
      TWINLINE_RETURN_IF_ERROR(inner);
    }
    if (f->format == "json") {
      *ctx.out << DumpJson(array) << '\n';
    } else if (f->format == "table") {
      table.Print(*ctx.out);
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
