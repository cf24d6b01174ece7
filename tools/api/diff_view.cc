#include "tools/api/diff_view.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "core/edtf.h"
#include "events/json_codec.h"
#include "projections/network.h"
#include "projections/window_events.h"
#include "tools/api/event_summary.h"
#include "tools/api/json_views.h"
#include "tools/api/text_layout.h"

namespace twinline::api {
namespace {

using Json = nlohmann::ordered_json;

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
  std::vector<SourceRef> sources;  // when asked: its own, and its corroborations'
};

struct Row {
  DiffRow diff;
  std::vector<Cause> causes;       // the events behind the change
  std::vector<Cause> corrections;  // recorded-time diff: corrections in (lo, hi] targeting them
};

// Recorded-time window whose corrections count as causes: (lo, hi]; empty
// (lo == hi) for a valid-date diff. Sources are those known at hi.
struct Window {
  uint64_t lo = 0, hi = 0;
};

// The sources behind each event of `row` (a cause or a correction), as
// known at the later side.
Status AddSources(const ReadTxn& txn, const Window& window, Row* row) {
  for (std::vector<Cause>* list : {&row->causes, &row->corrections}) {
    for (Cause& c : *list) {
      TWINLINE_RETURN_IF_ERROR(SourcesBehind(txn, c.seq, window.hi, &c.sources));
    }
  }
  return Status::Ok();
}

// How many rows differ, by change: all of them, whether listed or not.
struct Summary {
  size_t rows = 0, added = 0, removed = 0, changed = 0;
  void Add(DiffRow::Change change) {
    ++rows;
    added += change == DiffRow::Change::kAdded ? 1 : 0;
    removed += change == DiffRow::Change::kRemoved ? 1 : 0;
    changed += change == DiffRow::Change::kChanged ? 1 : 0;
  }
};

// What happened between two valid dates: the events of the valid-day
// window (after, last], those that certainly fall in it first, at most
// `limit` of them read.
struct Happened {
  int64_t after = 0, last = 0;
  size_t total = 0, certain = 0;
  struct Event {
    uint64_t seq = 0;
    std::string id, kind, date, summary;
    Tri in_window = Tri::kNo;
  };
  std::vector<Event> events;
};

// The window's events as `query` selects them (rows, entity, rule, K),
// the first `limit` read from the log.
Status FindHappened(const ReadTxn& txn, const Query& query, int64_t after, int64_t last,
                    const EdgeFilter& filter, size_t limit, Happened* out) {
  out->after = after;
  out->last = last;
  std::vector<WindowEvent> found;
  TWINLINE_RETURN_IF_ERROR(EventsInWindow(txn, query, after, last, filter.only, &found));
  // Those whose dates only overlap the window (an open start, a range
  // reaching past it) after the ones certainly in it, each part by day.
  std::stable_partition(found.begin(), found.end(),
                        [](const WindowEvent& e) { return e.in_window == Tri::kYes; });
  out->total = found.size();
  out->certain = static_cast<size_t>(std::count_if(
      found.begin(), found.end(), [](const WindowEvent& e) { return e.in_window == Tri::kYes; }));
  for (size_t i = 0; i < found.size() && i < limit; ++i) {
    Happened::Event e;
    e.seq = found[i].seq;
    e.in_window = found[i].in_window;
    TWINLINE_RETURN_IF_ERROR(txn.Get(e.seq, [&](schema::Event::Reader ev) {
      auto payload = ev.getPayload();
      e.id = ev.getId();
      e.kind = KindName(payload.which());
      e.date = payload.isAmendment() ? payload.getAmendment().getValidTime().getEdtf().cStr()
                                     : ev.getValidTime().getEdtf().cStr();
      e.summary = SummarizeEffective(ev);
    }));
    out->events.push_back(std::move(e));
  }
  return Status::Ok();
}

// "from 2020-01-01 to 2020-12-31": the days of the window, both included.
std::string WindowDays(const Happened& h) {
  return "from " + FormatDay(h.after + 1) + " to " + FormatDay(h.last);
}

// Fills `row` with `diff`, the id and kind of each event behind it and, for
// a recorded-time diff, the retractions and amendments recorded within the
// window that target those events (a retracted fact is a cause of the row
// that disappears; its retraction is why).
Status Explain(const ReadTxn& txn, DiffRow diff, const Window& window, Row* row) {
  row->diff = std::move(diff);
  for (uint64_t seq : row->diff.cause_seqs) {
    Cause c{seq, "", "", {}};
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
        row->corrections.push_back({ref.getSeq(), ref.getId(), std::string(KindName(which)), {}});
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
      // What it was, and that it is no more: a bare "yes" would read as
      // "still active". A count goes to 0, a figure to none.
      return d.before + (d.before == "yes" || d.before == "maybe" ? " → no"
                         : d.what == "count"                      ? " → 0"
                                                                  : " → none");
    case DiffRow::Change::kChanged:
      return d.before + " → " + d.after;
  }
  return "";
}

// A table row names at most this many events; --format json lists them all.
constexpr size_t kCausesShown = 5;

// How many events of the window are listed unless `events` says otherwise.
constexpr size_t kEventsListed = 100;

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

Json CausesJson(const std::vector<Cause>& causes, bool sources) {
  Json out = Json::array();
  for (const Cause& c : causes) {
    Json j{{"seq", c.seq}, {"id", c.id}, {"kind", c.kind}};
    if (sources) {
      Json list = Json::array();
      for (const SourceRef& s : c.sources) list.push_back(SourceJson(s));
      j["sources"] = std::move(list);
    }
    out.push_back(std::move(j));
  }
  return out;
}

// The events of the window, as a table under the diff.
void PrintHappened(const Happened& h, std::ostream& out) {
  const size_t maybe = h.total - h.certain;
  out << "\nwhat happened " << WindowDays(h) << ": "
      << (h.certain == 0 ? "no events"
                         : std::to_string(h.certain) + (h.certain == 1 ? " event" : " events"));
  if (maybe > 0) {
    out << ", and " << maybe << " that may have ("
        << (maybe == 1 ? "its dates overlap" : "their dates overlap") << " the window)";
  }
  out << '\n';
  if (h.events.empty()) {
    if (h.total > 0) out << "(none listed: the events limit is 0)\n";
    return;
  }
  Table table({"DATE", "KIND", "SUMMARY", "IN WINDOW", "ID"});
  for (const Happened::Event& e : h.events) {
    table.AddRow({e.date, e.kind, e.summary, std::string(TriName(e.in_window)), e.id});
  }
  table.Print(out);
  // The same words for the CLI and HTTP: an answer is the same bytes.
  if (h.total > h.events.size()) {
    out << "... and " << h.total - h.events.size() << " more, not listed (the events limit is "
        << h.events.size() << ")\n";
  }
}

void PrintTable(const DiffRequest& r, const twinline::Snapshot& from, const twinline::Snapshot& to,
                const std::vector<Row>& rows, const Summary& summary, const Happened* happened,
                std::ostream& out) {
  const bool by_known_at = !r.vs_known_at.empty();
  out << "--- " << DescribeSnapshot(from, by_known_at ? r.as_of : r.from) << '\n'
      << "+++ " << DescribeSnapshot(to, by_known_at ? r.as_of : r.to) << '\n';
  if (summary.rows == 0) {
    out << "no differences\n";
    if (happened != nullptr) PrintHappened(*happened, out);
    return;
  }
  // Columns padded by display width: "± key  what  value  causes".
  std::vector<std::array<std::string, 4>> cells;
  std::array<size_t, 3> widths{};
  for (const Row& row : rows) {
    cells.push_back({std::string(1, Sign(row.diff.change)) + " " + row.diff.key, row.diff.what,
                     ValueText(row.diff), CausesText(row)});
    for (size_t c = 0; c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(cells.back()[c]));
    }
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      line += cells[i][c] + std::string(widths[c] - DisplayWidth(cells[i][c]) + 2, ' ');
    }
    line += cells[i][3];
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
    if (!r.sources) continue;
    for (const std::vector<Cause>* list : {&rows[i].causes, &rows[i].corrections}) {
      for (const Cause& c : *list) {
        for (const SourceRef& s : c.sources) {
          out << "    " << c.id << " source: " << DescribeSource(s) << '\n';
        }
      }
    }
  }
  if (rows.size() < summary.rows) {
    out << "... and " << summary.rows - rows.size() << " more\n";
  }
  out << summary.rows << (summary.rows == 1 ? " difference: " : " differences: ")
      << summary.added << " added, " << summary.removed << " removed, " << summary.changed
      << " changed\n";
  if (happened != nullptr) PrintHappened(*happened, out);
}

// A diff row as JSON.
Json RowJson(const Row& r, bool sources) {
  Json j{{"change", ChangeName(r.diff.change)}, {"what", r.diff.what}, {"key", r.diff.key}};
  if (r.diff.change != DiffRow::Change::kAdded) j["before"] = r.diff.before;
  if (r.diff.change != DiffRow::Change::kRemoved) j["after"] = r.diff.after;
  j["events"] = CausesJson(r.causes, sources);
  j["corrections"] = CausesJson(r.corrections, sources);
  return j;
}

// The JSON answer, written as it goes: its head, then each row as
// JsonRows hands it over (no document of every row is built: a diff of
// 10^5 rows would hold them all), then the summary and the window. The
// bytes are those one compact dump of the whole document would give.
class JsonWriter {
 public:
  JsonWriter(const twinline::Snapshot& from, const twinline::Snapshot& to, bool sources,
             std::ostream& out)
      : sources_(sources), out_(out) {
    out_ << "{\"from\":" << DumpJson(DescribeSnapshotJson(from))
         << ",\"to\":" << DumpJson(DescribeSnapshotJson(to)) << ",\"differences\":[";
  }
  void Add(const Row& row) {
    out_ << (first_ ? "" : ",") << DumpJson(RowJson(row, sources_));
    first_ = false;
  }
  void Finish(const Summary& summary, const Happened* happened) {
    out_ << "],\"summary\":"
         << DumpJson(Json{{"differences", summary.rows},
                          {"added", summary.added},
                          {"removed", summary.removed},
                          {"changed", summary.changed}});
    if (happened != nullptr) {
      Json events = Json::array();
      for (const Happened::Event& e : happened->events) {
        events.push_back(Json{{"seq", e.seq},
                              {"id", e.id},
                              {"kind", e.kind},
                              {"date", e.date},
                              {"in_window", TriName(e.in_window)},
                              {"summary", e.summary}});
      }
      out_ << ",\"window\":"
           << DumpJson(Json{{"from", FormatDay(happened->after + 1)},
                            {"to", FormatDay(happened->last)},
                            {"total", happened->total},
                            {"certain", happened->certain},
                            {"events", std::move(events)}});
    }
    out_ << "}\n";
  }

 private:
  bool sources_;
  bool first_ = true;
  std::ostream& out_;
};

// The two queries a request asks for.
Status BuildQueries(const DiffRequest& r, ReadView& read_view, Query* from, Query* to,
                    std::string* entity) {
  const ParamStyle style = r.style;
  const bool flags = style == ParamStyle::kFlags;
  // On a command line the two valid dates are positional: FROM TO.
  const std::string from_name = flags ? "FROM" : "from", to_name = flags ? "TO" : "to";
  const std::string two_dates = flags ? "FROM TO" : "from and to";
  const std::string as_of = ParamName(style, "as_of"),
                    vs_known_at = ParamName(style, "vs_known_at");
  const bool by_known_at = !r.vs_known_at.empty();
  if (by_known_at) {
    if (!r.from.empty() || !r.to.empty()) {
      return Status::InvalidArgument("give either " + two_dates + " (two valid dates) or " + as_of +
                                     " with " + vs_known_at + " (two recorded times), not both");
    }
    if (r.as_of.empty()) {
      return Status::InvalidArgument(vs_known_at + " compares one valid date: give " + as_of)
          .WithField(as_of);
    }
  } else {
    if (!r.as_of.empty()) {
      return Status::InvalidArgument(as_of + " goes with " + vs_known_at +
                                     "; to compare two valid dates give " + two_dates)
          .WithField(as_of);
    }
    if (r.from.empty() || r.to.empty()) {
      return Status::InvalidArgument("give two valid dates (" + two_dates + "), or " +
                                     ParamSetting(style, "as_of", "D") + (flags ? " " : "&") +
                                     ParamSetting(style, "known_at", "A") + (flags ? " " : "&") +
                                     ParamSetting(style, "vs_known_at", "B"));
    }
  }
  if (!r.projection.empty()) {
    TWINLINE_RETURN_IF_ERROR(
        CheckChoice(style, "projection", r.projection, {"all", "counts", "trade", "network"}));
  }
  if (!r.format.empty()) {
    TWINLINE_RETURN_IF_ERROR(CheckChoice(style, "format", r.format, {"table", "json"}));
  }
  if (by_known_at && !r.events.empty()) {
    return Status::InvalidArgument(ParamName(style, "events") +
                                   " lists what happened between two valid dates; " + vs_known_at +
                                   " compares one")
        .WithField(ParamName(style, "events"));
  }
  EdgeFilter filter;
  TWINLINE_RETURN_IF_ERROR(ParseEdgeFilter(r.common, style, &filter));
  if (!filter.all() && r.projection == "trade") {
    return Status::InvalidArgument(ParamName(style, "edges") +
                                   " keeps partnerships or routes; trade figures are neither")
        .WithField(ParamName(style, "edges"));
  }
  TWINLINE_RETURN_IF_ERROR(ResolveProjectionParams(r.common, style, read_view, from, entity));
  *to = *from;
  if (by_known_at) {
    TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(r.as_of, as_of, &from->as_of_day));
    to->as_of_day = from->as_of_day;
    Status s = ResolveKnownAt(*read_view.txn, r.vs_known_at, &to->known_seq);
    if (!s.ok()) return s.WithField(vs_known_at);
  } else {
    TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(r.from, from_name, &from->as_of_day));
    TWINLINE_RETURN_IF_ERROR(ParseAsOfDay(r.to, to_name, &to->as_of_day));
  }
  return Status::Ok();
}

// The `events` limit: a count, 100 when not given.
Status EventLimit(const DiffRequest& r, size_t* limit) {
  *limit = kEventsListed;
  if (r.events.empty()) return Status::Ok();
  const std::string& text = r.events;
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument("'" + text + "' is not a number of events (0 or more)")
        .WithField(ParamName(r.style, "events"));
  }
  *limit = value;
  return Status::Ok();
}

// The rows a diff lists: a count, or every one (0).
Status RowLimit(const DiffRequest& r, size_t* limit) {
  *limit = 0;
  if (r.limit.empty()) return Status::Ok();
  const char* end = r.limit.data() + r.limit.size();
  auto [ptr, ec] = std::from_chars(r.limit.data(), end, *limit);
  if (ec != std::errc() || ptr != end || *limit == 0) {
    return Status::InvalidArgument("'" + r.limit + "' is not a number of rows (1 or more)")
        .WithField(ParamName(r.style, "limit"));
  }
  return Status::Ok();
}

}  // namespace

Status RenderDiff(ReadView& read_view, const DiffRequest& r, std::ostream& out) {
  Query from_query, to_query;
  std::string entity;
  TWINLINE_RETURN_IF_ERROR(BuildQueries(r, read_view, &from_query, &to_query, &entity));
  EdgeFilter filter;
  TWINLINE_RETURN_IF_ERROR(ParseEdgeFilter(r.common, r.style, &filter));
  size_t limit = 0;
  TWINLINE_RETURN_IF_ERROR(EventLimit(r, &limit));
  size_t row_limit = 0;
  TWINLINE_RETURN_IF_ERROR(RowLimit(r, &row_limit));

  // Only the row sets the projection shows (counts need the edges, whose
  // statuses they count), for the entity alone when one is given.
  const std::string projection = r.projection.empty() ? "all" : r.projection;
  from_query.rows = to_query.rows = projection == "network"  ? kEdgeRows
                                    : projection == "counts" ? kEdgeRows | kCountRows
                                    : projection == "trade"  ? kTradeRows
                                    : !filter.all()          ? kEdgeRows | kCountRows
                                                             : kAllRows;
  from_query.entity = to_query.entity = entity;
  twinline::Snapshot from, to;
  std::vector<DiffRow> diff;
  TWINLINE_RETURN_IF_ERROR(DiffAt(*read_view.txn, from_query, to_query, &from, &to, &diff));

  const Window window{std::min(from.known_seq, to.known_seq),
                      std::max(from.known_seq, to.known_seq)};
  // Two valid dates (at one known-at time): what happened in between, of
  // the rows' selection. Found before anything is written, as every error
  // short of a damaged log is.
  std::optional<Happened> happened;
  if (r.vs_known_at.empty()) {
    TWINLINE_RETURN_IF_ERROR(FindHappened(
        *read_view.txn, to_query, std::min(from_query.as_of_day, to_query.as_of_day),
        std::max(from_query.as_of_day, to_query.as_of_day), filter, limit, &happened.emplace()));
  }
  const Happened* window_events = happened ? &*happened : nullptr;
  const bool json = r.format == "json";
  std::optional<JsonWriter> writer;
  if (json) writer.emplace(from, to, r.sources, out);
  // Only the rows listed are explained (their events read); all are
  // counted. JSON rows are written as they are explained; a table's
  // columns need every row first.
  std::vector<Row> rows;
  Summary summary;
  size_t listed = 0;
  for (DiffRow& d : diff) {
    if (!Shows(projection, d.what)) continue;
    if (!filter.all() && d.edge_kind != filter.only) continue;
    summary.Add(d.change);
    if (row_limit != 0 && listed == row_limit) continue;
    ++listed;
    Row explained;
    TWINLINE_RETURN_IF_ERROR(Explain(*read_view.txn, std::move(d), window, &explained));
    if (r.sources) TWINLINE_RETURN_IF_ERROR(AddSources(*read_view.txn, window, &explained));
    if (json) {
      writer->Add(explained);
    } else {
      rows.push_back(std::move(explained));
    }
  }
  if (json) {
    writer->Finish(summary, window_events);
  } else {
    PrintTable(r, from, to, rows, summary, window_events, out);
  }
  return Status::Ok();
}

}  // namespace twinline::api
