// The DuckDB reference of bench/run (bench/README.md, "The question SQLite
// and DuckDB answer"): one DuckDB instance, driven over stdin/stdout by
// twinline-bench (bench/duckdb_reference.h), which asks the questions, reads
// the rows and compares them with twinline's and SQLite's.
//
//   node bench/duckdb/reference.mjs      (twinline-bench starts it)
//
// Protocol: one JSON request per line on stdin; each answer is one JSON line
// on stdout, {"ok":true, ...} or {"ok":false,"error":"..."}, followed by
// `rows` lines of tab-separated fields (\\, \t, \n escaped with a backslash;
// an empty field is SQL NULL where a column may be null).
//
//   {"op":"load","facts":DIR,"db":FILE,"threads":N}
//       a new database FILE with N threads; the five CSV files of DIR
//       (twinline-bench's export of the effective facts) loaded into tables;
//       CHECKPOINT. Answers wall_s, cpu_s, bytes (the file), version.
//   Each answer: wall_s, cpu_s (in engine) and js_s (the rows made JS values).
//   {"op":"asof_counts","day":D}   rows: slug, partnerships, routes
//   {"op":"asof_trade","day":D}    rows: reporter, partner, period, flow, amount, currency, seq
//   {"op":"diff","from":D1,"to":D2}
//       rows: c, slug, kind (0 partnership, 1 route), before, after
//             t, reporter, partner, period, flow, amount1, currency1, seq1,
//               amount2, currency2, seq2 (empty: no report in force)
//   {"op":"stats"}                 max_rss_kb: this process's peak resident memory (VmHWM)
//   {"op":"quit"}
//
// Timing (wall_s, cpu_s of each answer): from binding the prepared
// statement's parameters to the whole result materialized in DuckDB's own
// chunks (runAndReadAll), inside this process: DuckDB's execution, in
// engine. Not included: starting node and DuckDB, preparing the statements
// (once, at load), converting the result into JS values (js_s, reported
// apart), writing the rows to twinline-bench. cpu_s is this process's user +
// system time over the same span (every DuckDB thread).
import { DuckDBInstance, version } from '@duckdb/node-api';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Days are days since 1970-01-01 (twinline's valid days); -inf/+inf are the
// BIGINT extremes, as in the log. kind 0: partnership (a < b), 1: route.
const TABLES = {
  entity: { id: 'BIGINT', slug: 'VARCHAR' },
  edge: { id: 'BIGINT', kind: 'INTEGER', a: 'BIGINT', b: 'BIGINT', subkind: 'INTEGER' },
  edge_event: { edge: 'BIGINT', e: 'BIGINT', seq: 'BIGINT', establish: 'INTEGER' },
  trade_key: { id: 'BIGINT', reporter: 'BIGINT', partner: 'BIGINT', period: 'VARCHAR', flow: 'VARCHAR' },
  trade_report: { seq: 'BIGINT', key: 'BIGINT', e: 'BIGINT', l: 'BIGINT', amount: 'DOUBLE', currency: 'VARCHAR' },
};

// The same question as bench/sql_reference.cc's SQL, written the way DuckDB
// evaluates it well: one pass per table with max_by over the events on or
// before the day, instead of one index seek per edge or key.
const SQL = {
  asof_counts: `
WITH last AS (
  SELECT edge, max_by(establish, (e, seq)) AS establish
  FROM edge_event WHERE e <= $1 GROUP BY edge),
active AS (
  SELECT g.kind, g.a, g.b FROM last JOIN edge AS g ON g.id = last.edge WHERE last.establish = 1),
ends AS (SELECT a AS entity, kind FROM active UNION ALL SELECT b, kind FROM active)
SELECT n.slug, count(*) FILTER (WHERE ends.kind = 0), count(*) FILTER (WHERE ends.kind = 1)
FROM ends JOIN entity AS n ON n.id = ends.entity
GROUP BY n.slug`,
  asof_trade: `
WITH w AS (
  SELECT key, max_by(amount, (e, l, seq)) AS amount, max_by(currency, (e, l, seq)) AS currency,
         max_by(seq, (e, l, seq)) AS seq
  FROM trade_report WHERE e <= $1 GROUP BY key)
SELECT r.slug, p.slug, k.period, k.flow, w.amount, w.currency, w.seq
FROM w JOIN trade_key AS k ON k.id = w.key
JOIN entity AS r ON r.id = k.reporter
JOIN entity AS p ON p.id = k.partner`,
  diff_counts: `
WITH s AS (
  SELECT edge,
    coalesce(max_by(establish, (e, seq)) FILTER (WHERE e <= $1), 0) AS s1,
    coalesce(max_by(establish, (e, seq)) FILTER (WHERE e <= $2), 0) AS s2
  FROM edge_event WHERE e <= greatest($1, $2) GROUP BY edge),
status AS (SELECT g.kind, g.a, g.b, s.s1, s.s2 FROM s JOIN edge AS g ON g.id = s.edge),
ends AS (
  SELECT a AS entity, kind, s1, s2 FROM status UNION ALL SELECT b, kind, s1, s2 FROM status)
SELECT n.slug, ends.kind, sum(ends.s1)::BIGINT, sum(ends.s2)::BIGINT
FROM ends JOIN entity AS n ON n.id = ends.entity
GROUP BY n.slug, ends.kind
HAVING sum(ends.s1) <> sum(ends.s2)`,
  diff_trade: `
WITH w AS (
  SELECT key,
    max_by(seq, (e, l, seq)) FILTER (WHERE e <= $1) AS s1,
    max_by(seq, (e, l, seq)) FILTER (WHERE e <= $2) AS s2
  FROM trade_report WHERE e <= greatest($1, $2) GROUP BY key)
SELECT r.slug, p.slug, k.period, k.flow,
       t1.amount, t1.currency, t1.seq, t2.amount, t2.currency, t2.seq
FROM w JOIN trade_key AS k ON k.id = w.key
JOIN entity AS r ON r.id = k.reporter
JOIN entity AS p ON p.id = k.partner
LEFT JOIN trade_report AS t1 ON t1.seq = w.s1
LEFT JOIN trade_report AS t2 ON t2.seq = w.s2
WHERE w.s1 IS DISTINCT FROM w.s2`,
};

let instance = null;
let connection = null;
let prepared = null;

function field(v) {
  if (v === null || v === undefined) return '';
  return String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

function reply(head, rows = []) {
  const lines = [JSON.stringify({ ok: true, ...head, rows: rows.length })];
  for (const r of rows) lines.push(r.map(field).join('\t'));
  process.stdout.write(lines.join('\n') + '\n');
}

// Runs run() and measures it: DuckDB's execution, the result materialized
// in its own chunks. Then convert(result) turns it into JS values, timed
// apart (js_s): that cost is node's, not DuckDB's, and grows with the rows.
async function timed(run, convert = (r) => r) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await run();
  const wall_s = (performance.now() - t0) / 1e3;
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  const rows = convert(result);
  const js_s = (performance.now() - t1) / 1e3;
  return { wall_s, cpu_s: (cpu.user + cpu.system) / 1e6, js_s, rows };
}

// Binds the day(s) and runs the prepared statement to its last row.
async function execute(name, params) {
  const stmt = prepared[name];
  stmt.clearBindings();
  params.forEach((p, i) => stmt.bindBigInt(i + 1, BigInt(p)));
  return stmt.runAndReadAll();
}

async function load(req) {
  if (connection !== null) throw new Error('a database is already loaded');
  for (const t of Object.keys(TABLES)) {
    if (!existsSync(join(req.facts, `${t}.csv`))) throw new Error(`no ${t}.csv in ${req.facts}`);
  }
  const t = await timed(async () => {
    instance = await DuckDBInstance.create(req.db, { threads: String(req.threads) });
    connection = await instance.connect();
    for (const [table, columns] of Object.entries(TABLES)) {
      const cols = Object.entries(columns).map(([c, type]) => `'${c}': '${type}'`).join(', ');
      const path = join(req.facts, `${table}.csv`).replace(/'/g, "''");
      await connection.run(
        `CREATE TABLE ${table} AS SELECT * FROM read_csv('${path}', header = true, ` +
          `delim = ',', quote = '"', escape = '"', columns = {${cols}})`);
    }
    await connection.run('CHECKPOINT');
    return [];
  });
  prepared = {};
  for (const [name, sql] of Object.entries(SQL)) prepared[name] = await connection.prepare(sql);
  let bytes = statSync(req.db).size;
  if (existsSync(req.db + '.wal')) bytes += statSync(req.db + '.wal').size;
  reply({ wall_s: t.wall_s, cpu_s: t.cpu_s, bytes, version: version(), threads: req.threads });
}

// VmHWM of this process: the peak of its own address space. (getrusage's
// maxRSS would not do: a process started by posix_spawn inherits the
// high-water mark of its parent's memory at exec.)
function peakRssKb() {
  const m = /^VmHWM:\s*(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : null;
}

function need() {
  if (connection === null) throw new Error('no database loaded (op "load" first)');
}

async function handle(req) {
  switch (req.op) {
    case 'load':
      return load(req);
    case 'asof_counts':
    case 'asof_trade': {
      need();
      const t = await timed(() => execute(req.op, [req.day]), (r) => r.getRows());
      return reply({ wall_s: t.wall_s, cpu_s: t.cpu_s, js_s: t.js_s }, t.rows);
    }
    case 'diff': {
      need();
      const t = await timed(
        async () => [
          await execute('diff_counts', [req.from, req.to]),
          await execute('diff_trade', [req.from, req.to]),
        ],
        ([counts, trade]) =>
          counts.getRows().map((r) => ['c', ...r]).concat(trade.getRows().map((r) => ['t', ...r])));
      return reply({ wall_s: t.wall_s, cpu_s: t.cpu_s, js_s: t.js_s }, t.rows);
    }
    case 'stats':
      return reply({ max_rss_kb: peakRssKb(), version: version() });
    case 'quit':
      if (connection !== null) connection.closeSync();
      process.exit(0);
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of input) {
  if (line.trim() === '') continue;
  try {
    await handle(JSON.parse(line));
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e?.message ?? e) }) + '\n');
  }
}
