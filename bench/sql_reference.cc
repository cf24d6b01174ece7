#include "bench/sql_reference.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "core/sha256.h"

namespace twinline::bench {

// --- SQL ----------------------------------------------------------------------

// Entities, edges and trade keys get integer ids; an edge's events and a
// key's reports refer to them. kind: 0 partnership (a < b), 1 route (a = from).
const char* const SqlReference::kSchemaSql = R"sql(
CREATE TABLE entity(id INTEGER PRIMARY KEY, slug TEXT NOT NULL);
CREATE TABLE edge(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, a INTEGER NOT NULL,
                  b INTEGER NOT NULL, subkind INTEGER NOT NULL);
CREATE TABLE edge_event(edge INTEGER NOT NULL, e INTEGER NOT NULL, seq INTEGER NOT NULL,
                        establish INTEGER NOT NULL);
CREATE TABLE trade_key(id INTEGER PRIMARY KEY, reporter INTEGER NOT NULL,
                       partner INTEGER NOT NULL, period TEXT NOT NULL, flow TEXT NOT NULL);
CREATE TABLE trade_report(seq INTEGER PRIMARY KEY, key INTEGER NOT NULL, e INTEGER NOT NULL,
                          l INTEGER NOT NULL, amount REAL NOT NULL, currency TEXT NOT NULL);
)sql";

// Built after the rows. Both are covering for the "last event / greatest
// report on or before D" lookups: one backwards seek per edge or key.
const char* const SqlReference::kIndexSql = R"sql(
CREATE INDEX edge_event_by_edge ON edge_event(edge, e, seq, establish);
CREATE INDEX trade_report_by_key ON trade_report(key, e, l, seq);
ANALYZE;
)sql";

const char* const SqlReference::kAsOfCountsSql = R"sql(
WITH active(kind, a, b) AS (
  SELECT g.kind, g.a, g.b FROM edge AS g
  WHERE (SELECT x.establish FROM edge_event AS x
         WHERE x.edge = g.id AND x.e <= ?1
         ORDER BY x.e DESC, x.seq DESC LIMIT 1) = 1),
ends(entity, kind) AS (SELECT a, kind FROM active UNION ALL SELECT b, kind FROM active)
SELECT n.slug, SUM(ends.kind = 0), SUM(ends.kind = 1)
FROM ends JOIN entity AS n ON n.id = ends.entity
GROUP BY ends.entity
)sql";

const char* const SqlReference::kAsOfTradeSql = R"sql(
SELECT r.slug, p.slug, k.period, k.flow, t.amount, t.currency, t.seq
FROM trade_key AS k
JOIN trade_report AS t ON t.seq =
  (SELECT x.seq FROM trade_report AS x WHERE x.key = k.id AND x.e <= ?1
   ORDER BY x.e DESC, x.l DESC, x.seq DESC LIMIT 1)
JOIN entity AS r ON r.id = k.reporter
JOIN entity AS p ON p.id = k.partner
)sql";

const char* const SqlReference::kDiffCountsSql = R"sql(
WITH status(kind, a, b, s1, s2) AS (
  SELECT g.kind, g.a, g.b,
    COALESCE((SELECT x.establish FROM edge_event AS x WHERE x.edge = g.id AND x.e <= ?1
              ORDER BY x.e DESC, x.seq DESC LIMIT 1), 0),
    COALESCE((SELECT x.establish FROM edge_event AS x WHERE x.edge = g.id AND x.e <= ?2
              ORDER BY x.e DESC, x.seq DESC LIMIT 1), 0)
  FROM edge AS g),
ends(entity, kind, s1, s2) AS (
  SELECT a, kind, s1, s2 FROM status UNION ALL SELECT b, kind, s1, s2 FROM status)
SELECT n.slug, ends.kind, SUM(ends.s1), SUM(ends.s2)
FROM ends JOIN entity AS n ON n.id = ends.entity
GROUP BY ends.entity, ends.kind
HAVING SUM(ends.s1) <> SUM(ends.s2)
)sql";

const char* const SqlReference::kDiffTradeSql = R"sql(
WITH w(key, s1, s2) AS (
  SELECT k.id,
    (SELECT x.seq FROM trade_report AS x WHERE x.key = k.id AND x.e <= ?1
     ORDER BY x.e DESC, x.l DESC, x.seq DESC LIMIT 1),
    (SELECT x.seq FROM trade_report AS x WHERE x.key = k.id AND x.e <= ?2
     ORDER BY x.e DESC, x.l DESC, x.seq DESC LIMIT 1)
  FROM trade_key AS k)
SELECT r.slug, p.slug, k.period, k.flow,
       t1.amount, t1.currency, t1.seq, t2.amount, t2.currency, t2.seq
FROM w JOIN trade_key AS k ON k.id = w.key
JOIN entity AS r ON r.id = k.reporter
JOIN entity AS p ON p.id = k.partner
LEFT JOIN trade_report AS t1 ON t1.seq = w.s1
LEFT JOIN trade_report AS t2 ON t2.seq = w.s2
WHERE w.s1 IS NOT w.s2
)sql";

namespace {

Status SqlError(sqlite3* db, std::string_view what) {
  return Status::IOError("sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("sqlite: " + msg);
  }
  return Status::Ok();
}

// A prepared statement that finalizes itself (the loader's inserts).
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Status Prepare(sqlite3* db, const char* sql) {
    db_ = db;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) return SqlError(db, sql);
    return Status::Ok();
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Status Run() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    return rc == SQLITE_DONE ? Status::Ok() : SqlError(db_, "insert");
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string Column(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p != nullptr ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i)))
                      : std::string();
}

// Steps `s` to its end, calling row() for each row.
template <typename RowFn>
Status Rows(sqlite3* db, sqlite3_stmt* s, RowFn row) {
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) row();
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? Status::Ok() : SqlError(db, "query");
}

// The effective facts (effective_facts.h), inserted as they are read.
class Loader final : public FactSink {
 public:
  explicit Loader(sqlite3* db) : db_(db) {}

  Status Prepare() {
    TWINLINE_RETURN_IF_ERROR(insert_entity_.Prepare(db_, "INSERT INTO entity VALUES(?1, ?2)"));
    TWINLINE_RETURN_IF_ERROR(
        insert_edge_.Prepare(db_, "INSERT INTO edge VALUES(?1, ?2, ?3, ?4, ?5)"));
    TWINLINE_RETURN_IF_ERROR(
        insert_edge_event_.Prepare(db_, "INSERT INTO edge_event VALUES(?1, ?2, ?3, ?4)"));
    TWINLINE_RETURN_IF_ERROR(
        insert_trade_key_.Prepare(db_, "INSERT INTO trade_key VALUES(?1, ?2, ?3, ?4, ?5)"));
    return insert_trade_report_.Prepare(db_,
                                        "INSERT INTO trade_report VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  }

  Status Entity(int64_t id, std::string_view slug) override {
    return insert_entity_.Int(1, id).Text(2, slug).Run();
  }
  Status Edge(int64_t id, int kind, int64_t a, int64_t b, int64_t subkind) override {
    return insert_edge_.Int(1, id).Int(2, kind).Int(3, a).Int(4, b).Int(5, subkind).Run();
  }
  Status EdgeEvent(int64_t edge, int64_t e, int64_t seq, bool establish) override {
    return insert_edge_event_.Int(1, edge).Int(2, e).Int(3, seq).Int(4, establish ? 1 : 0).Run();
  }
  Status TradeKey(int64_t id, int64_t reporter, int64_t partner, std::string_view period,
                  std::string_view flow) override {
    return insert_trade_key_.Int(1, id).Int(2, reporter).Int(3, partner).Text(4, period).Text(5, flow).Run();
  }
  Status TradeReport(int64_t seq, int64_t key, int64_t e, int64_t l, double amount,
                     std::string_view currency) override {
    return insert_trade_report_.Int(1, seq)
        .Int(2, key)
        .Int(3, e)
        .Int(4, l)
        .Real(5, amount)
        .Text(6, currency)
        .Run();
  }

 private:
  sqlite3* db_;  // borrowed
  Stmt insert_entity_, insert_edge_, insert_edge_event_, insert_trade_key_, insert_trade_report_;
};

std::string Figure(const std::optional<TradeInForce>& t) {
  return t ? AmountText(t->amount) + " " + t->currency : "none";
}

std::vector<std::string> Sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace

// --- SqlReference ----------------------------------------------------------------

Status SqlReference::Load(const ReadTxn& txn, const std::string& path, LoadStats* stats,
                          std::unique_ptr<SqlReference>* out) {
  *stats = LoadStats();
  struct stat st;
  if (stat(path.c_str(), &st) == 0) return Status::AlreadyExists(path + " already exists");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status s = SqlError(db, "opening " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<SqlReference> ref(new SqlReference(db));
  // Loading: no journal, no syncs. Querying: a page cache large enough for
  // the whole file at 10^6 events, and the file memory-mapped (as LMDB is).
  TWINLINE_RETURN_IF_ERROR(Exec(db,
                                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                                "PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY; "
                                "PRAGMA mmap_size = 68719476736;"));
  TWINLINE_RETURN_IF_ERROR(Exec(db, kSchemaSql));
  Loader loader(db);
  TWINLINE_RETURN_IF_ERROR(loader.Prepare());
  TWINLINE_RETURN_IF_ERROR(Exec(db, "BEGIN"));
  TWINLINE_RETURN_IF_ERROR(ReadEffectiveFacts(txn, &loader, stats));
  TWINLINE_RETURN_IF_ERROR(Exec(db, "COMMIT"));
  TWINLINE_RETURN_IF_ERROR(Exec(db, kIndexSql));
  TWINLINE_RETURN_IF_ERROR(ref->Prepare());
  if (stat(path.c_str(), &st) == 0) stats->file_bytes = static_cast<uint64_t>(st.st_size);
  *out = std::move(ref);
  return Status::Ok();
}

SqlReference::~SqlReference() {
  for (sqlite3_stmt* s : {asof_counts_, asof_trade_, diff_counts_, diff_trade_})
    sqlite3_finalize(s);
  sqlite3_close(db_);
}

Status SqlReference::Prepare() {
  for (auto [stmt, sql] :
       {std::pair(&asof_counts_, kAsOfCountsSql), std::pair(&asof_trade_, kAsOfTradeSql),
        std::pair(&diff_counts_, kDiffCountsSql), std::pair(&diff_trade_, kDiffTradeSql)}) {
    if (sqlite3_prepare_v2(db_, sql, -1, stmt, nullptr) != SQLITE_OK) return SqlError(db_, sql);
  }
  return Status::Ok();
}

Status SqlReference::AsOf(int64_t day, AsOfAnswer* out) {
  *out = AsOfAnswer();
  TWINLINE_RETURN_IF_ERROR(AsOfCounts(day, out));
  return AsOfTrade(day, out);
}

Status SqlReference::AsOfCounts(int64_t day, AsOfAnswer* out) {
  out->counts.clear();
  sqlite3_bind_int64(asof_counts_, 1, day);
  return Rows(db_, asof_counts_, [&] {
    out->counts.push_back({Column(asof_counts_, 0), sqlite3_column_int64(asof_counts_, 1),
                           sqlite3_column_int64(asof_counts_, 2)});
  });
}

Status SqlReference::AsOfTrade(int64_t day, AsOfAnswer* out) {
  out->trade.clear();
  sqlite3_bind_int64(asof_trade_, 1, day);
  return Rows(db_, asof_trade_, [&] {
    sqlite3_stmt* s = asof_trade_;
    out->trade.push_back({Column(s, 0), Column(s, 1), Column(s, 2), Column(s, 3),
                          sqlite3_column_double(s, 4), Column(s, 5), sqlite3_column_int64(s, 6)});
  });
}

Status SqlReference::Diff(int64_t day_from, int64_t day_to, DiffAnswer* out) {
  *out = DiffAnswer();
  sqlite3_bind_int64(diff_counts_, 1, day_from);
  sqlite3_bind_int64(diff_counts_, 2, day_to);
  TWINLINE_RETURN_IF_ERROR(Rows(db_, diff_counts_, [&] {
    sqlite3_stmt* s = diff_counts_;
    out->counts.push_back({Column(s, 0), sqlite3_column_int64(s, 1) == 1,
                           sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3)});
  }));
  sqlite3_bind_int64(diff_trade_, 1, day_from);
  sqlite3_bind_int64(diff_trade_, 2, day_to);
  return Rows(db_, diff_trade_, [&] {
    sqlite3_stmt* s = diff_trade_;
    TradeChange c;
    c.reporter = Column(s, 0);
    c.partner = Column(s, 1);
    c.period = Column(s, 2);
    c.flow = Column(s, 3);
    for (auto [side, col] : {std::pair(&c.before, 4), std::pair(&c.after, 7)}) {
      if (sqlite3_column_type(s, col + 2) == SQLITE_NULL) continue;
      TradeInForce t;
      t.amount = sqlite3_column_double(s, col);
      t.currency = Column(s, col + 1);
      t.seq = sqlite3_column_int64(s, col + 2);
      *side = std::move(t);
    }
    out->trade.push_back(std::move(c));
  });
}

// --- Canonical lines ------------------------------------------------------------

namespace {

std::string TradeLine(const std::string& reporter, const std::string& partner,
                      const std::string& period, const std::string& flow, double amount,
                      const std::string& currency, int64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", amount);
  return "trade " + reporter + " " + partner + " " + period + " " + flow + " " + buf + " " +
         currency + " " + std::to_string(seq);
}

}  // namespace

std::vector<std::string> AsOfLines(const AsOfAnswer& a) {
  std::vector<std::string> lines;
  lines.reserve(a.counts.size() + a.trade.size());
  for (const EdgeCounts& c : a.counts) {
    lines.push_back("counts " + c.entity + " " + std::to_string(c.partnerships) + " " +
                    std::to_string(c.routes));
  }
  for (const TradeInForce& t : a.trade) {
    lines.push_back(
        TradeLine(t.reporter, t.partner, t.period, t.flow, t.amount, t.currency, t.seq));
  }
  return Sorted(std::move(lines));
}

std::vector<std::string> AsOfLines(const Snapshot& s) {
  std::vector<std::string> lines;
  for (const auto& [slug, c] : s.counts) {
    if (c.partnerships.possible == 0 && c.routes.possible == 0) continue;
    if (c.partnerships.certain != c.partnerships.possible ||
        c.routes.certain != c.routes.possible) {
      lines.push_back("counts " + slug + " not two-valued");
      continue;
    }
    lines.push_back("counts " + slug + " " + std::to_string(c.partnerships.certain) + " " +
                    std::to_string(c.routes.certain));
  }
  for (const TradeRow& t : s.trade) {
    if (t.status != Tri::kYes) {
      lines.push_back("trade " + t.reporter + " " + t.partner + " " + t.period + " " + t.flow +
                      " not two-valued");
      continue;
    }
    lines.push_back(TradeLine(t.reporter, t.partner, t.period, t.flow, t.amount, t.currency,
                              static_cast<int64_t>(t.seq)));
  }
  return Sorted(std::move(lines));
}

std::vector<std::string> DiffLines(const DiffAnswer& d) {
  std::vector<std::string> lines;
  for (const CountChange& c : d.counts) {
    lines.push_back("count " + c.entity + (c.routes ? " routes " : " partnerships ") +
                    std::to_string(c.before) + " " + std::to_string(c.after));
  }
  for (const TradeChange& t : d.trade) {
    lines.push_back("trade " + t.reporter + " → " + t.partner + " " + t.period + " " + t.flow +
                    " | " + Figure(t.before) + " | " + Figure(t.after));
  }
  return Sorted(std::move(lines));
}

std::vector<std::string> DiffLines(const std::vector<DiffRow>& rows) {
  std::vector<std::string> lines;
  for (const DiffRow& r : rows) {
    if (r.what == "count") {
      const size_t space = r.key.find(' ');
      const std::string label = space == std::string::npos ? "" : r.key.substr(space + 1);
      if (label != "partnerships" && label != "routes") continue;
      lines.push_back("count " + r.key + " " + r.before + " " + r.after);
    } else if (r.what == "trade") {
      lines.push_back("trade " + r.key + " | " + r.before + " | " + r.after);
    }
  }
  return Sorted(std::move(lines));
}

std::string LinesHash(const std::vector<std::string>& lines) {
  Sha256 sha;
  for (const std::string& line : lines) {
    sha.Update(line);
    sha.Update("\n");
  }
  return ToHex(sha.Finish());
}

std::string DescribeDifference(const std::string& a_name, const std::vector<std::string>& a,
                               const std::string& b_name, const std::vector<std::string>& b) {
  if (a == b) return "";
  std::vector<std::string> only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
  std::string out = std::to_string(a.size()) + " lines from " + a_name + ", " +
                    std::to_string(b.size()) + " from " + b_name + "; " +
                    std::to_string(only_a.size()) + " only in " + a_name + "'s, " +
                    std::to_string(only_b.size()) + " only in " + b_name + "'s";
  constexpr size_t kShown = 5;
  for (size_t i = 0; i < std::min(kShown, only_a.size()); ++i)
    out += "\n    " + a_name + ": " + only_a[i];
  for (size_t i = 0; i < std::min(kShown, only_b.size()); ++i)
    out += "\n    " + b_name + ": " + only_b[i];
  return out;
}

}  // namespace twinline::bench
