// `twinline diff`: what differs between two replays (docs/PROJECTIONS.md),
// printed like a diff tool: `+` rows that appear, `-` rows that go, `~` rows
// whose value changes (before → after). Every row names the events that
// caused it.
//
//   twinline diff FROM TO [--known-at T]       two valid dates, one recorded time
//   twinline diff --as-of D --known-at A --vs-known-at B
//                                              one valid date, two recorded times
//
// For a recorded-time diff the causes also include the corrections
// (retractions, amendments) recorded between A and B that target the events
// behind a row: a row that disappears because a fact was retracted names the
// retraction. An empty diff prints "no differences" and succeeds.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>

#include "events/json_codec.h"
#include "tools/cli.h"

namespace twinline::cli {
namespace {

using Json = nlohmann::ordered_json;

struct DiffFlags {
  ProjectionFlags common;
  std::string from, to;  // two valid dates
  std::string as_of, vs_known_at;
  std::string projection = "all";
  std::string format = "table";
};

// Which DiffRow::what values a --projection shows.
bool Shows(const std::string& projection, const std::string& what) {
  if (projection == "network") return what == "partnership" || what == "route";
  if (projection == "counts") return what == "count" || what == "reported";
  if (projection == "trade") return what == "trade";
  return true;
}

struct Cause {
  uint64_t seq = 0;
  std::string id, kind;
};

struct Row {
  DiffRow diff;
  std::vector<Cause> causes;       // the events behind the change
  std::vector<Cause> corrections;  // recorded-time diff: corrections in (lo, hi] targeting them
};

// Recorded-time window whose corrections count as causes: (lo, hi]; empty
// (lo == hi) for a valid-date diff.
struct Window {
  uint64_t lo = 0, hi = 0;
};

// Fills `row` with `diff`, the id and kind of each event behind it and, for
// a recorded-time diff, the retractions and amendments recorded within the
// window that target those events (a retracted fact is a cause of the row
// that disappears; its retraction is why).
Status Explain(const ReadTxn& txn, const DiffRow& diff, const Window& window, Row* row) {
  row->diff = diff;
  for (uint64_t seq : diff.cause_seqs) {
    Cause c{seq, "", ""};
    TWINLINE_RETURN_IF_ERROR(txn.Get(seq, [&](schema::Event::Reader ev) {
      c.id = ev.getId();
      c.kind = KindName(ev.getPayload().which());
    }));
    row->causes.push_back(std::move(c));
  }
  if (window.lo == window.hi) return Status::Ok();
  auto known = [&](uint64_t seq) {
    auto same = [&](const Cause& c) { return c.seq == seq; };
    return std::any_of(row->causes.begin(), row->causes.end(), same) ||
           std::any_of(row->corrections.begin(), row->corrections.end(), same);
  };
  for (const Cause& cause : row->causes) {
    TWINLINE_RETURN_IF_ERROR(txn.ScanReferences(cause.id, [&](schema::Event::Reader ref) {
      const auto which = ref.getPayload().which();
      const bool correction =
          which == schema::Payload::RETRACTION || which == schema::Payload::AMENDMENT;
      if (correction && ref.getSeq() > window.lo && ref.getSeq() <= window.hi &&
          !known(ref.getSeq())) {
        row->corrections.push_back({ref.getSeq(), ref.getId(), std::string(KindName(which))});
      }
      return true;
    }));
  }
  std::sort(row->corrections.begin(), row->corrections.end(),
            [](const Cause& a, const Cause& b) { return a.seq < b.seq; });
  return Status::Ok();
}

char Sign(DiffRow::Change change) {
  switch (change) {
    case DiffRow::Change::kAdded:
      return '+';
    case DiffRow::Change::kRemoved:
      return '-';
    case DiffRow::Change::kChanged:
      return '~';
  }
  return '~';
}

std::string_view ChangeName(DiffRow::Change change) {
  switch (change) {
    case DiffRow::Change::kAdded:
      return "added";
    case DiffRow::Change::kRemoved:
      return "removed";
    case DiffRow::Change::kChanged:
      return "changed";
  }
  return "changed";
}

std::string ValueText(const DiffRow& d) {
  switch (d.change) {
    case DiffRow::Change::kAdded:
      return d.after;
    case DiffRow::Change::kRemoved:
      return d.before;
    case DiffRow::Change::kChanged:
      return d.before + " → " + d.after;
  }
  return "";
}

// A table row names at most this many events; --format json lists them all.
constexpr size_t kCausesShown = 5;

// "ev-1, ev-2; corrected by ev-3 (retraction)".
std::string CausesText(const Row& row) {
  std::string out;
  for (size_t i = 0; i < row.causes.size() && i < kCausesShown; ++i) {
    out += (out.empty() ? "" : ", ") + row.causes[i].id;
  }
  if (row.causes.size() > kCausesShown) {
    out += " and " + std::to_string(row.causes.size() - kCausesShown) + " more";
  }
  std::string corrections;
  for (const Cause& c : row.corrections) {
    corrections += (corrections.empty() ? "" : ", ") + c.id + " (" + c.kind + ")";
  }
  if (!corrections.empty()) out += (out.empty() ? "" : "; ") + ("corrected by " + corrections);
  return out;
}

Json CausesJson(const std::vector<Cause>& causes) {
  Json out = Json::array();
  for (const Cause& c : causes) out.push_back(Json{{"seq", c.seq}, {"id", c.id}, {"kind", c.kind}});
  return out;
}

void PrintTable(const twinline::Snapshot& from, const twinline::Snapshot& to,
                const std::vector<Row>& rows, std::ostream& out) {
  out << "--- " << DescribeSnapshot(from) << '\n' << "+++ " << DescribeSnapshot(to) << '\n';
  if (rows.empty()) {
    out << "no differences\n";
    return;
  }
  // Columns padded by display width: "± key  what  value  causes".
  std::vector<std::array<std::string, 4>> cells;
  std::array<size_t, 3> widths{};
  size_t added = 0, removed = 0, changed = 0;
  for (const Row& r : rows) {
    cells.push_back({std::string(1, Sign(r.diff.change)) + " " + r.diff.key, r.diff.what,
                     ValueText(r.diff), CausesText(r)});
    for (size_t c = 0; c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(cells.back()[c]));
    }
    added += r.diff.change == DiffRow::Change::kAdded ? 1 : 0;
    removed += r.diff.change == DiffRow::Change::kRemoved ? 1 : 0;
    changed += r.diff.change == DiffRow::Change::kChanged ? 1 : 0;
  }
  for (const auto& row : cells) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      line += row[c] + std::string(widths[c] - DisplayWidth(row[c]) + 2, ' ');
    }
    line += row[3];
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  }
  out << rows.size() << (rows.size() == 1 ? " difference: " : " differences: ") << added
      << " added, " << removed << " removed, " << changed << " changed\n";
}

void PrintJson(const twinline::Snapshot& from, const twinline::Snapshot& to,
               const std::vector<Row>& rows, std::ostream& out) {
  Json list = Json::array();
  for (const Row& r : rows) {
    Json j{{"change", ChangeName(r.diff.change)}, {"what", r.diff.what}, {"key", r.diff.key}};
    if (r.diff.change != DiffRow::Change::kAdded) j["before"] = r.diff.before;
    if (r.diff.change != DiffRow::Change::kRemoved) j["after"] = r.diff.after;
    j["events"] = CausesJson(r.causes);
    j["corrections"] = CausesJson(r.corrections);
    list.push_back(std::move(j));
  }
  out << DumpJson(Json{{"from", DescribeSnapshotJson(from)},
                       {"to", DescribeSnapshotJson(to)},
                       {"differences", std::move(list)}})
      << '\n';
}

// The two queries a command line asks for.
Status BuildQueries(const DiffFlags& f, Snapshot& snap, Query* from, Query* to,
                    std::string* entity) {
  const bool by_known_at = !f.vs_known_at.empty();
  if (by_known_at) {
    if (!f.from.empty()) {
      return Status::InvalidArgument(
          "give either FROM TO (two valid dates) or --as-of with --vs-known-at (two recorded "
          "times), not both");
    }
    if (f.as_of.empty()) {
      return Status::InvalidArgument("--vs-known-at compares one valid date: give --as-of")
          .WithField("--as-of");
    }
  } else {
    if (!f.as_of.empty()) {
      return Status::InvalidArgument(
                 "--as-of goes with --vs-known-at; to compare two valid dates give FROM TO")
          .WithField("--as-of");
    }
    if (f.to.empty()) {
      return Status::InvalidArgument(
          "give two valid dates (FROM TO), or --as-of D --known-at A --vs-known-at B");
    }
  }
  TWINLINE_RETURN_IF_ERROR(ResolveProjectionFlags(f.common, snap, from, entity));
  *to = *from;
  if (by_known_at) {
    TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(f.as_of, "--as-of", &from->as_of_day));
    to->as_of_day = from->as_of_day;
    Status s = ResolveKnownAt(*snap.txn, f.vs_known_at, &to->known_seq);
    if (!s.ok()) return s.WithField("--vs-known-at");
  } else {
    TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(f.from, "FROM", &from->as_of_day));
    TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(f.to, "TO", &to->as_of_day));
  }
  return Status::Ok();
}

}  // namespace

Handler ConfigureDiff(CLI::App& cmd) {
  auto f = std::make_shared<DiffFlags>();
  cmd.add_option("FROM", f->from, "earlier valid date, EDTF (its last day counts)");
  cmd.add_option("TO", f->to, "later valid date, EDTF (its last day counts)");
  cmd.add_option("--as-of", f->as_of, "with --vs-known-at: the one valid date to compare");
  cmd.add_option("--vs-known-at", f->vs_known_at,
                 "compare what the log knew at --known-at (default: everything) with what it "
                 "knew at this time: @SEQ, RFC 3339 or EDTF");
  cmd.add_option("--projection", f->projection, "which rows to compare")
      ->check(CLI::IsMember({"all", "counts", "trade", "network"}))
      ->capture_default_str();
  cmd.add_option("--format", f->format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  AddProjectionFlags(cmd, &f->common);
  cmd.footer(
      "Examples:\n"
      "  twinline diff 2003 2005\n"
      "  twinline diff 2020 2025 --entity Qingdao --projection network\n"
      "  twinline diff --as-of 2024 --known-at @96 --vs-known-at @97");

  return [f](Context& ctx) -> Status {
    Snapshot snap;
    TWINLINE_RETURN_IF_ERROR(BeginSnapshot(*ctx.log, &snap));
    Query from_query, to_query;
    std::string entity;
    TWINLINE_RETURN_IF_ERROR(BuildQueries(*f, snap, &from_query, &to_query, &entity));

    twinline::Snapshot from, to;
    TWINLINE_RETURN_IF_ERROR(Replay(*snap.txn, from_query, &from));
    TWINLINE_RETURN_IF_ERROR(Replay(*snap.txn, to_query, &to));
    if (!entity.empty()) {
      RestrictToEntity(entity, &from);
      RestrictToEntity(entity, &to);
    }

    const Window window{std::min(from.known_seq, to.known_seq),
                        std::max(from.known_seq, to.known_seq)};
    std::vector<Row> rows;
    std::vector<DiffRow> diff;
    TWINLINE_RETURN_IF_ERROR(twinline::Diff(*snap.txn, from, to, &diff));
    for (const DiffRow& d : diff) {
      if (!Shows(f->projection, d.what)) continue;
      TWINLINE_RETURN_IF_ERROR(Explain(*snap.txn, d, window, &rows.emplace_back()));
    }
    if (f->format == "json") {
      PrintJson(from, to, rows, *ctx.out);
    } else {
      PrintTable(from, to, rows, *ctx.out);
    }
    return Status::Ok();
  };
}

}  // namespace twinline::cli
