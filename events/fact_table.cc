// Fact tables (see fact_table.h): rows become JSON events through the kind
// table's column mapping (core/kinds.h, FieldSpec::column), so a kind a
// fact table can express needs no code here.
#include "events/fact_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/kinds.h"
#include "core/names.h"
#include "events/csv_records.h"

namespace twinline {
namespace {

using json = nlohmann::json;
using csv_internal::ErrorAt;
using csv_internal::Record;
using csv_internal::RecordReader;
using csv_internal::TrimBlanks;

// Columns that are not a kind's field but the row's own (docs/EVENTS.md).
constexpr std::string_view kRowColumns[] = {
    "kind",           "subject",          "subject_country",  "object",          "object_country",
    "date",           "end_date",         "source_url",       "source_title",    "source_publisher",
    "source_published", "source_language", "source_quote",    "note",            "id",
};

// Kind names a table may use besides the kinds' own.
struct KindAlias {
  std::string_view alias, kind;
};
constexpr KindAlias kKindAliases[] = {
    {"trade_reported", "trade_volume_reported"},
    {"trade", "trade_volume_reported"},
    {"count", "count_reported"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Every column some kind reads, plus the row's own.
std::set<std::string, std::less<>> KnownColumns() {
  std::set<std::string, std::less<>> known(std::begin(kRowColumns), std::end(kRowColumns));
  for (const KindSpec& kind : Kinds()) {
    for (const FieldSpec& field : kind.fields) {
      if (field.column.empty() || field.column == "subject+object" || field.column == "period") continue;
      known.emplace(field.column);
    }
  }
  return known;
}

// A kind a fact table can express: every required field has a column.
bool Expressible(const KindSpec& kind) {
  if (kind.is_reference || kind.which == schema::Payload::Which::ENTITY_REGISTERED) return false;
  return std::all_of(kind.fields.begin(), kind.fields.end(),
                     [](const FieldSpec& f) { return f.need != Need::kRequired || !f.column.empty(); });
}

// "https://www.example.org/a/b" -> "www.example.org"; empty when `url` has
// no scheme://host.
std::string HostOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos && rest.find(']') == std::string_view::npos) {
    rest = rest.substr(0, colon);
  }
  return Lower(rest);
}

// A slug for a new place: its folded name in [a-z0-9-]; "place" for a name
// with no Latin letters or digits.
std::string SlugFor(const NameFolder& folder, std::string_view name) {
  std::string key;
  if (!folder.QueryKey(name, &key).ok()) key.clear();
  std::string slug;
  for (char c : key) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) {
      slug += c;
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.size() > 56) slug.resize(56);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "place" : slug;
}

}  // namespace

bool IsFactTableHeader(const std::string& first_line, char separator) {
  std::istringstream in(first_line);
  RecordReader reader(in, separator);
  std::optional<Record> header;
  if (!reader.Next(nullptr, &header).ok() || !header) return false;
  return std::any_of(header->fields.begin(), header->fields.end(),
                     [](const std::string& f) { return Lower(TrimBlanks(f)) == "subject"; });
}

class FactTableReader::Impl {
 public:
  Impl(std::istream& in, EntityResolver& resolver, const FactTableOptions& options)
      : reader_(in, options.separator), resolver_(resolver), options_(options) {
    Status s;
    folder_ = NameFolder::Create(&s);
    folder_status_ = s;
  }

  Status Next(FactEvent* out, bool* done) {
    *done = false;
    if (!failure_.ok()) return failure_;
    while (queue_.empty()) {
      Status st = ReadRow(done);
      if (!st.ok()) {
        failure_ = st;
        return st;
      }
      if (*done) return Status::Ok();
    }
    *out = std::move(queue_.front());
    queue_.erase(queue_.begin());
    return Status::Ok();
  }

  std::vector<std::string> notes() const {
    std::vector<std::string> out;
    for (const auto& [column, use] : defaults_) {
      out.push_back("default " + column + " '" + use.value + "' applied to " + std::to_string(use.rows) +
                    (use.rows == 1 ? " row" : " rows") +
                    (index_.contains(column) ? " (empty cells)" : " (no " + column + " column)"));
    }
    if (!registered_.empty()) {
      std::string line = "registered " + std::to_string(registered_.size()) +
                         (registered_.size() == 1 ? " place: " : " places: ");
      for (size_t i = 0; i < registered_.size(); ++i) line += (i > 0 ? ", " : "") + registered_[i];
      out.push_back(line);
    }
    return out;
  }

 private:
  struct DefaultUse {
    std::string value;
    size_t rows = 0;
  };

  Status ReadHeader() {
    std::optional<Record> header;
    TWINLINE_RETURN_IF_ERROR(reader_.Next(nullptr, &header));
    if (!header) return ErrorAt(1, "empty input: expected a header row naming the columns");
    const auto known = KnownColumns();
    for (size_t i = 0; i < header->fields.size(); ++i) {
      const std::string name = Lower(TrimBlanks(header->fields[i]));
      if (name.empty()) {
        return ErrorAt(header->line, "empty column name in header (column " + std::to_string(i + 1) + ")");
      }
      if (!known.contains(name)) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        return ErrorAt(header->line, "unknown column '" + std::string(TrimBlanks(header->fields[i])) +
                                         "'; known columns: " + list,
                       name);
      }
      if (!index_.emplace(name, i).second) return ErrorAt(header->line, "duplicate column '" + name + "'", name);
      names_.push_back(name);
    }
    for (std::string_view required : {"kind", "subject", "date"}) {
      if (!index_.contains(required)) {
        return ErrorAt(header->line, "required column '" + std::string(required) + "' is missing from the header",
                       required);
      }
    }
    if (!index_.contains("source_url") && !index_.contains("source_title")) {
      return ErrorAt(header->line, "a fact table needs a source_url (or source_title) column: every fact has a source",
                     "source_url");
    }
    return Status::Ok();
  }

  // The trimmed cell of `column`, empty when the column is absent.
  std::string Cell(const Record& r, std::string_view column) const {
    auto it = index_.find(column);
    if (it == index_.end() || it->second >= r.fields.size()) return "";
    return std::string(TrimBlanks(r.fields[it->second]));
  }

  Status ReadRow(bool* done) {
    if (!header_read_) {
      header_read_ = true;
      TWINLINE_RETURN_IF_ERROR(ReadHeader());
    }
    std::optional<Record> record;
    TWINLINE_RETURN_IF_ERROR(reader_.Next(&names_, &record));
    if (!record) {
      *done = true;
      return Status::Ok();
    }
    const Record& r = *record;
    if (r.fields.size() != names_.size()) {
      return ErrorAt(r.line, "expected " + std::to_string(names_.size()) + " fields as in the header, found " +
                                 std::to_string(r.fields.size()),
                     r.fields.size() < names_.size() ? names_[r.fields.size()] : std::string());
    }
    return RowEvents(r);
  }

  Status Source(const Record& r, json* source) {
    const std::string url = Cell(r, "source_url");
    std::string title = Cell(r, "source_title");
    std::string publisher = Cell(r, "source_publisher");
    std::string published = Cell(r, "source_published");
    std::string language = Cell(r, "source_language");
    if (url.empty() && title.empty()) {
      return ErrorAt(r.line, "every fact needs a source: give source_url (or source_title)", "source_url");
    }
    if (publisher.empty()) {
      publisher = HostOf(url);
      if (publisher.empty()) {
        return ErrorAt(r.line,
                       url.empty() ? "give source_publisher, or a source_url whose host names the publisher"
                                   : "'" + url + "' has no host to take the publisher from; give source_publisher",
                       url.empty() ? "source_publisher" : "source_url");
      }
    }
    if (title.empty()) title = url;
    if (published.empty()) {
      // Unknown: on or after the fact's day, as far as the row tells
      // ("2019-10-09/..").
      std::string date = Cell(r, "date");
      if (const size_t slash = date.find('/'); slash != std::string::npos) date = date.substr(slash + 1);
      published = date.empty() || date == ".." ? "../.." : date + "/..";
    }
    if (language.empty()) language = "und";     // BCP 47: undetermined
    *source = {{"title", title}, {"publisher", publisher}, {"published", published}, {"language", language}};
    if (!url.empty()) (*source)["url"] = url;
    if (const std::string quote = Cell(r, "source_quote"); !quote.empty()) (*source)["quote"] = quote;
    return Status::Ok();
  }

  // Resolves the place in `column` to a slug, registering it (a queued
  // entity_registered event) when asked to.
  Status Place(const Record& r, std::string_view column, const json& source, std::string* slug) {
    const std::string name = Cell(r, column);
    if (auto it = registered_slugs_.find(name); it != registered_slugs_.end()) {
      *slug = it->second;
      return Status::Ok();
    }
    Status s = resolver_.Resolve(name, slug);
    if (s.ok()) return s;
    if (s.code() != Status::Code::kNotFound || !options_.register_missing) {
      if (s.code() == Status::Code::kNotFound) {
        return ErrorAt(r.line, s.message() + " (or import with --register-missing to register it from this row)",
                       column);
      }
      return ErrorAt(r.line, s.message(), column);
    }
    if (!folder_) return folder_status_;
    const std::string country_column = std::string(column) + "_country";
    const std::string country = Cell(r, country_column);
    if (country.empty()) {
      return ErrorAt(r.line, "'" + name + "' is not registered; to register it give its country (ISO 3166-1 alpha-2)",
                     country_column);
    }
    // A slug no entity has yet.
    const std::string base = SlugFor(*folder_, name);
    std::string candidate = base;
    for (int n = 2;; ++n) {
      std::string found;
      const bool taken = taken_slugs_.contains(candidate) || resolver_.Resolve(candidate, &found).ok();
      if (!taken) break;
      candidate = base + "-" + std::to_string(n);
    }
    json registration = {{"kind", "entity_registered"},
                         {"date", Cell(r, "date")},
                         {"entity", candidate},
                         {"type", "city"},
                         {"names", json::array({{{"text", name}, {"lang", "und"}}})},
                         {"country", country},
                         {"sources", json::array({source})}};
    queue_.push_back({r.line, std::move(registration)});
    taken_slugs_.insert(candidate);
    registered_slugs_.emplace(name, candidate);
    registered_.push_back(candidate + " (" + name + ", " + country + ")");
    *slug = candidate;
    return Status::Ok();
  }

  Status RowEvents(const Record& r) {
    const std::string kind_text = Lower(Cell(r, "kind"));
    std::string_view kind_name = kind_text;
    for (const KindAlias& a : kKindAliases) {
      if (kind_text == a.alias) kind_name = a.kind;
    }
    const KindSpec* kind = FindKind(kind_name);
    if (kind == nullptr || !Expressible(*kind)) {
      std::string list;
      for (const KindSpec& k : Kinds()) {
        if (Expressible(k)) list += (list.empty() ? "" : ", ") + std::string(k.name);
      }
      return ErrorAt(r.line,
                     (kind_text.empty() ? std::string("no kind given") : "'" + kind_text + "' is not a kind a fact table can hold") +
                         "; one of: " + list,
                     "kind");
    }
    json source;
    TWINLINE_RETURN_IF_ERROR(Source(r, &source));
    const std::string date = Cell(r, "date");
    const std::string end_date = Cell(r, "end_date");

    json event = {{"kind", std::string(kind->name)}, {"date", date}};
    const bool ends = kind->feed == Feed::kPartnershipEdge || kind->feed == Feed::kRouteEdge;
    bool period_used = false;
    for (const FieldSpec& field : kind->fields) {
      const std::string key(field.name);
      if (field.column.empty()) continue;
      if (field.column == "subject" || field.column == "object") {
        if (Cell(r, field.column).empty()) {
          if (field.need == Need::kRequired) return ErrorAt(r.line, "a " + std::string(kind->name) + " needs one", field.column);
          continue;
        }
        std::string slug;
        TWINLINE_RETURN_IF_ERROR(Place(r, field.column, source, &slug));
        event[key] = slug;
      } else if (field.column == "subject+object") {
        json parties = json::array();
        for (std::string_view column : {"subject", "object"}) {
          if (Cell(r, column).empty()) return ErrorAt(r.line, "a " + std::string(kind->name) + " needs one", column);
          std::string slug;
          TWINLINE_RETURN_IF_ERROR(Place(r, column, source, &slug));
          parties.push_back(slug);
        }
        event[key] = std::move(parties);
      } else if (field.column == "period") {
        event[key] = end_date.empty() ? date : date + "/" + end_date;
        period_used = !end_date.empty();
      } else {
        std::string value = Cell(r, field.column);
        if (value.empty() && !field.column_default.empty()) {
          value = std::string(field.column_default);
          DefaultUse& use = defaults_[std::string(field.column)];
          use.value = value;
          ++use.rows;
        }
        if (value.empty()) {
          if (field.need == Need::kRequired) {
            return ErrorAt(r.line, "a " + std::string(kind->name) + " needs one", field.column);
          }
          continue;
        }
        if (field.type == FieldType::kNonNegative) {
          double number = 0;
          auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
          if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(number)) {
            return ErrorAt(r.line, "'" + value + "' is not a number (write 95890000000, not 95.89bn or 95,890,000,000)",
                           field.column);
          }
          event[key] = number;
        } else if (field.type == FieldType::kEnum) {
          event[key] = Lower(value);
        } else {
          event[key] = value;
        }
      }
    }
    if (!end_date.empty() && !ends && !period_used) {
      return ErrorAt(r.line, "only partnerships, routes and trade figures take an end_date", "end_date");
    }
    if (const std::string note = Cell(r, "note"); !note.empty()) event["note"] = note;
    if (const std::string id = Cell(r, "id"); !id.empty()) event["id"] = id;
    event["sources"] = json::array({source});

    if (ends && !end_date.empty()) {
      // One row, a whole relation: established (opened) on `date`, ended
      // (closed) on `end_date`.
      const schema::Payload::Which end_kind = kind->which == schema::Payload::Which::PARTNERSHIP_ESTABLISHED
                                                  ? schema::Payload::Which::PARTNERSHIP_ENDED
                                              : kind->which == schema::Payload::Which::ROUTE_OPENED
                                                  ? schema::Payload::Which::ROUTE_CLOSED
                                                  : kind->which;
      if (end_kind == kind->which) {
        return ErrorAt(r.line, "end_date belongs on the row that establishes or opens it", "end_date");
      }
      json end = event;
      end["kind"] = std::string(Kind(end_kind).name);
      end["date"] = end_date;
      end.erase("id");
      queue_.push_back({r.line, std::move(event)});
      queue_.push_back({r.line, std::move(end)});
    } else {
      queue_.push_back({r.line, std::move(event)});
    }
    return Status::Ok();
  }

  RecordReader reader_;
  EntityResolver& resolver_;
  FactTableOptions options_;
  std::unique_ptr<NameFolder> folder_;
  Status folder_status_;
  bool header_read_ = false;
  std::vector<std::string> names_;                      // lower-cased header
  std::map<std::string, size_t, std::less<>> index_;    // column -> position
  std::vector<FactEvent> queue_;                        // events of the current row not yet handed out
  std::map<std::string, DefaultUse> defaults_;          // column -> default applied
  std::map<std::string, std::string> registered_slugs_;  // name as written -> slug registered here
  std::set<std::string> taken_slugs_;
  std::vector<std::string> registered_;                 // "xiangtan (Xiangtan, CN)"
  Status failure_;
};

FactTableReader::FactTableReader(std::istream& in, EntityResolver& resolver, const FactTableOptions& options)
    : impl_(std::make_unique<Impl>(in, resolver, options)) {}
FactTableReader::~FactTableReader() = default;

Status FactTableReader::Next(FactEvent* out, bool* done) { return impl_->Next(out, done); }

std::vector<std::string> FactTableReader::notes() const { return impl_->notes(); }

}  // namespace twinline
