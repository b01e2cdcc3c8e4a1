// The application's slow queries: `Slow query detected: <first 100 chars of SQL>... Execution time:
// <N>ms` lines of database.log (and its rotated and gzipped copies, SITE.md) grouped into patterns
// (literals as placeholders) with count, p50, p95, max and first/last seen; for each pattern the
// query plan (EXPLAIN QUERY PLAN on the read-only connection), what is wrong with it (full scans,
// temporary b-trees, automatic indexes, leading-wildcard LIKE) and the CREATE INDEX that fixes it,
// proven by the planner on a schema-only copy of the database with its statistics.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import Database from 'better-sqlite3';
import { type Db, quoteIdent, withReadOnly } from './db-connection.js';
import {
  dropLastClause,
  normalizeTokens,
  type Repair,
  repairTruncated,
  type SchemaInfo,
  type Token,
  tableAliases,
  tokenize,
  truncatedPatternKey,
} from './db-sql-text.js';
import { RECOMMENDED_INDEXES } from './demo-site.js';

/** The application logs the first 100 characters of a slow statement. */
export const LOGGED_SQL_LENGTH = 100;

export interface SlowQueryRecord {
  time: number | null;
  sql: string;
  ms: number;
  truncated: boolean;
  file: string;
}

const TIMESTAMP =
  /^(?:(\d{4})-(\d{2})-(\d{2})|(\d{2})\/(\d{2})\/(\d{4})|(\d{2})-(\d{2})-(\d{4}))[ T](\d{2}):(\d{2}):(\d{2})(?:[,.](\d{1,6}))?/;
const SLOW = /Slow query detected:\s?(.*?)(\.\.\.)?\s+Execution time:\s*([\d.]+)\s*ms/;

/** Local time of a log line's leading timestamp, in the forms SITE.md lists; null when it has none. */
export function lineTime(line: string): number | null {
  const m = TIMESTAMP.exec(line);
  if (!m) return null;
  const [y, mo, d] = m[1] ? [m[1], m[2], m[3]] : m[4] ? [m[6], m[4], m[5]] : [m[9], m[7], m[8]];
  const ms = m[13] ? Number(m[13].padEnd(3, '0').slice(0, 3)) : 0;
  return new Date(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(m[10]),
    Number(m[11]),
    Number(m[12]),
    ms,
  ).getTime();
}

/** One slow-query record from a log line, or null when the line is something else. */
export function parseSlowQueryLine(line: string, file = ''): SlowQueryRecord | null {
  const i = line.indexOf('Slow query detected:');
  if (i < 0) return null;
  const m = SLOW.exec(line.slice(i));
  if (!m) return null;
  const sql = m[1]!.trim();
  return {
    time: lineTime(line),
    sql,
    ms: Number(m[3]),
    // The application writes "..." after the SQL in any case; at 100 characters it was cut.
    truncated: m[1]!.length >= LOGGED_SQL_LENGTH,
    file,
  };
}

/** database.log and its rotated copies (database.log.N, database.YYYYmmdd.log.gz, database_*.log.gz), oldest first. */
export function slowQueryLogFiles(logsDir: string, base = 'database'): string[] {
  let names: string[];
  try {
    names = readdirSync(logsDir);
  } catch {
    return [];
  }
  const mine = names.filter(
    (n) =>
      n === `${base}.log` ||
      n.startsWith(`${base}.log.`) ||
      n.startsWith(`${base}.`) ||
      n.startsWith(`${base}_`),
  );
  const withTime = mine
    .filter((n) => /\.log(\.\d+)?$|\.log\.gz$|\.gz$/.test(n))
    .map((n) => {
      let mtime = 0;
      try {
        mtime = statSync(path.join(logsDir, n)).mtimeMs;
      } catch {}
      const rot = /\.log\.(\d+)$/.exec(n);
      // Rotated .N files: higher N is older; order by (mtime, N) so equal mtimes still sort right.
      return {
        file: path.join(logsDir, n),
        mtime,
        rank: n === `${base}.log` ? -1 : rot ? Number(rot[1]) : 1000,
      };
    });
  return withTime.sort((a, b) => a.mtime - b.mtime || b.rank - a.rank).map((x) => x.file);
}

/** Reads slow-query records from log files (plain or gzip), streaming. Unreadable files are reported, not fatal. */
export async function readSlowQueries(
  files: string[],
  opts: { since?: number | null; minMs?: number } = {},
): Promise<{ records: SlowQueryRecord[]; errors: string[]; lines: number }> {
  const records: SlowQueryRecord[] = [];
  const errors: string[] = [];
  let lines = 0;
  for (const file of files) {
    try {
      const raw = createReadStream(file);
      const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
      const failed = new Promise<never>((_, reject) => {
        raw.on('error', reject);
        input.on('error', reject);
      });
      const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      const reading = (async () => {
        for await (const line of rl) {
          lines++;
          if (!line.includes('Slow query detected:')) continue;
          const r = parseSlowQueryLine(line, file);
          if (!r) continue;
          if (opts.since && r.time !== null && r.time < opts.since) continue;
          if (opts.minMs && r.ms < opts.minMs) continue;
          records.push(r);
        }
      })();
      await Promise.race([reading, failed]);
    } catch (err) {
      errors.push(`${file}: ${(err as Error).message}`);
    }
  }
  return { records, errors, lines };
}

export function schemaInfo(db: Db): SchemaInfo {
  const tables = new Map<
    string,
    { columns: string[]; foreignKeys: Array<{ from: string; table: string; to: string }> }
  >();
  const list = db
    .prepare(
      "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual', 'view')",
    )
    .all() as Array<{
    name: string;
  }>;
  for (const { name } of list) {
    const columns = (
      db.prepare(`PRAGMA table_info(${quoteIdent(name)})`).all() as Array<{ name: string }>
    ).map((c) => c.name);
    const foreignKeys = (
      db.prepare(`PRAGMA foreign_key_list(${quoteIdent(name)})`).all() as Array<{
        from: string;
        table: string;
        to: string | null;
      }>
    ).map((f) => ({ from: f.from, table: f.table, to: f.to ?? 'rowid' }));
    tables.set(name, { columns, foreignKeys });
  }
  return { tables };
}

// ---------------------------------------------------------------------------------------------
// Plans and advice

export interface PlanFlags {
  /** Tables read in full (alias resolved to the table). */
  fullScans: string[];
  /** "ORDER BY", "GROUP BY", "DISTINCT", ... sorted through a temporary b-tree. */
  tempBtrees: string[];
  /** SQLite built a throw-away index for a join: a permanent one is missing. */
  automaticIndexes: string[];
}

export function planFlags(plan: string[], aliases: Map<string, string>): PlanFlags {
  const flags: PlanFlags = { fullScans: [], tempBtrees: [], automaticIndexes: [] };
  for (const line of plan) {
    const scan = /^SCAN (\S+)(?: USING (COVERING )?INDEX (\S+))?/.exec(line);
    if (scan && !/^SCAN (CONSTANT ROW|SUBQUERY)/.test(line)) {
      const table = aliases.get(scan[1]!) ?? scan[1]!;
      flags.fullScans.push(scan[3] ? `${table} (every entry of index ${scan[3]})` : table);
    }
    const temp = /USE TEMP B-TREE FOR (.+)$/.exec(line);
    if (temp) flags.tempBtrees.push(temp[1]!);
    if (/AUTOMATIC (PARTIAL )?(COVERING )?INDEX/.test(line)) flags.automaticIndexes.push(line);
  }
  return flags;
}

/** A rough cost of a plan, to compare it with and without a candidate index: lower is better. */
export function planCost(
  plan: string[],
  aliases: Map<string, string>,
  rowsOf: (table: string) => number,
): number {
  let cost = 0;
  let biggest = 1;
  for (const line of plan) {
    const scan = /^SCAN (\S+)(?: USING (COVERING )?INDEX)?/.exec(line);
    if (scan && !/^SCAN (CONSTANT ROW|SUBQUERY)/.test(line)) {
      const rows = rowsOf(aliases.get(scan[1]!) ?? scan[1]!);
      biggest = Math.max(biggest, rows);
      cost += scan[2] ? rows / 2 : rows;
    } else if (/^SEARCH /.test(line)) cost += /AUTOMATIC/.test(line) ? 1000 : 10;
  }
  for (const line of plan) if (/USE TEMP B-TREE/.test(line)) cost += biggest / 2;
  return cost;
}

interface ColumnUse {
  table: string;
  column: string;
  use: 'eq' | 'range' | 'like' | 'join' | 'order' | 'group';
  /** For LIKE/GLOB: the pattern literal, when given. */
  pattern?: string;
}

function columnUses(tokens: Token[], aliases: Map<string, string>, schema: SchemaInfo): ColumnUse[] {
  const sig = tokens.filter((t) => t.type !== 'ws' && t.type !== 'comment');
  const uses: ColumnUse[] = [];
  const tablesInOrder = [...new Set(aliases.values())];
  const resolve = (i: number): { table: string; column: string; next: number } | null => {
    const t = sig[i];
    if (!t || (t.type !== 'ident' && t.type !== 'qident')) return null;
    const name = t.type === 'qident' ? t.text.slice(1, -1) : t.text;
    if (sig[i + 1]?.text === '.' && sig[i + 2]) {
      const table = aliases.get(name);
      const colTok = sig[i + 2]!;
      const col = colTok.type === 'qident' ? colTok.text.slice(1, -1) : colTok.text;
      if (!table) return null;
      const real = schema.tables.get(table)?.columns.find((c) => c.toLowerCase() === col.toLowerCase());
      return real ? { table, column: real, next: i + 3 } : null;
    }
    if (sig[i + 1]?.text === '(') return null; // a function
    for (const table of tablesInOrder) {
      const real = schema.tables.get(table)?.columns.find((c) => c.toLowerCase() === name.toLowerCase());
      if (real) return { table, column: real, next: i + 1 };
    }
    return null;
  };
  let clause = '';
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!;
    const up = t.type === 'ident' ? t.text.toUpperCase() : '';
    if (['SELECT', 'FROM', 'WHERE', 'ON', 'HAVING', 'LIMIT', 'SET', 'JOIN'].includes(up)) {
      clause = up;
      continue;
    }
    if ((up === 'ORDER' || up === 'GROUP') && sig[i + 1]?.text.toUpperCase() === 'BY') {
      clause = up;
      i++;
      continue;
    }
    const ref = resolve(i);
    if (!ref) continue;
    if (clause === 'ORDER' || clause === 'GROUP') {
      uses.push({ table: ref.table, column: ref.column, use: clause === 'ORDER' ? 'order' : 'group' });
      i = ref.next - 1;
      continue;
    }
    if (clause !== 'WHERE' && clause !== 'ON' && clause !== 'HAVING') continue;
    const op = sig[ref.next];
    const opText = op?.type === 'ident' ? op.text.toUpperCase() : (op?.text ?? '');
    if (['=', '==', 'IS', 'IN'].includes(opText)) {
      const other = resolve(ref.next + 1);
      if (other && other.table !== ref.table) {
        uses.push({ table: ref.table, column: ref.column, use: 'join' });
        uses.push({ table: other.table, column: other.column, use: 'join' });
        i = other.next - 1;
        continue;
      }
      uses.push({ table: ref.table, column: ref.column, use: 'eq' });
    } else if (['<', '>', '<=', '>=', 'BETWEEN'].includes(opText)) {
      uses.push({ table: ref.table, column: ref.column, use: 'range' });
    } else if (opText === 'LIKE' || opText === 'GLOB') {
      const lit = sig[ref.next + 1];
      uses.push({
        table: ref.table,
        column: ref.column,
        use: 'like',
        pattern: lit?.type === 'string' ? lit.text.slice(1, -1) : undefined,
      });
    }
    i = ref.next - 1;
  }
  return uses;
}

export interface IndexAdvice {
  name: string;
  createIndex: string;
  table: string;
  columns: string[];
  /** One of the indexes the procedures recommend (SITE.md). */
  recommendedBySite: boolean;
  /** The plan with this index, as the planner chose it on a schema-only copy with the real statistics. */
  planWith: string[];
  costBefore: number;
  costWith: number;
  reason: string;
}

/** A schema-only in-memory copy of the database with its planner statistics, for hypothetical indexes. */
export function hypotheticalDb(src: Db): Database.Database {
  const mem = new Database(':memory:');
  const shadow = new Set(
    (
      src
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")
        .all() as Array<{ name: string }>
    ).map((r) => r.name),
  );
  const objects = src
    .prepare(
      "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND type IN ('table', 'index', 'view')",
    )
    .all() as Array<{ type: string; name: string; sql: string }>;
  const order = { table: 0, index: 1, view: 2 } as Record<string, number>;
  for (const o of objects.sort((a, b) => order[a.type]! - order[b.type]!)) {
    if (shadow.has(o.name)) continue;
    try {
      mem.exec(o.sql);
    } catch {
      // An object the copy cannot hold (an extension's virtual table): plans involving it are not verified.
    }
  }
  try {
    mem.exec('ANALYZE');
    const stat1 = src.prepare('SELECT tbl, idx, stat FROM sqlite_stat1').all() as Array<{
      tbl: string;
      idx: string | null;
      stat: string;
    }>;
    const ins = mem.prepare('INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)');
    mem.exec('DELETE FROM sqlite_stat1');
    for (const r of stat1) ins.run(r.tbl, r.idx, r.stat);
    try {
      const stat4 = src.prepare('SELECT tbl, idx, neq, nlt, ndlt, sample FROM sqlite_stat4').all() as Array<
        Record<string, unknown>
      >;
      mem.exec('DELETE FROM sqlite_stat4');
      const ins4 = mem.prepare(
        'INSERT INTO sqlite_stat4 (tbl, idx, neq, nlt, ndlt, sample) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const r of stat4) ins4.run(r.tbl, r.idx, r.neq, r.nlt, r.ndlt, r.sample);
    } catch {}
    // Makes the planner load the copied statistics.
    mem.exec('ANALYZE sqlite_schema');
  } catch {
    // No statistics in the source (ANALYZE never ran): the planner uses its defaults, as on the site.
  }
  return mem;
}

function explain(db: Database.Database, sql: string): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail);
}

function recommendedFor(table: string, columns: string[]): { name: string; sql: string } | null {
  if (columns.length !== 1) return null;
  for (const [name, sql] of Object.entries(RECOMMENDED_INDEXES)) {
    const m = /ON\s+(\w+)\s*\((\w+)\)/i.exec(sql);
    if (m && m[1] === table && m[2] === columns[0]) return { name, sql };
  }
  return null;
}

/** Index candidates for a statement, each verified by the planner on the hypothetical copy. */
export function adviseIndexes(
  sql: string,
  schema: SchemaInfo,
  mem: Database.Database,
  rowsOf: (table: string) => number,
): { advice: IndexAdvice[]; notes: string[] } {
  const tokens = tokenize(sql);
  const aliases = tableAliases(tokens, schema);
  const uses = columnUses(tokens, aliases, schema);
  const notes: string[] = [];
  for (const u of uses.filter((x) => x.use === 'like' && x.pattern !== undefined && /^[%_]/.test(x.pattern!)))
    notes.push(
      `${u.table}.${u.column} LIKE '${u.pattern}' starts with a wildcard: no index can serve it${
        schema.tables.has(`${u.table}_fts`)
          ? `; the full-text index ${u.table}_fts can (WHERE id IN (SELECT rowid FROM ${u.table}_fts WHERE ${u.table}_fts MATCH ?))`
          : ''
      }`,
    );
  let before: string[];
  try {
    before = explain(mem, sql);
  } catch (err) {
    return { advice: [], notes: [...notes, `advice not verified: ${(err as Error).message}`] };
  }
  const costBefore = planCost(before, aliases, rowsOf);
  const candidates = new Map<string, { table: string; columns: string[]; reason: string }>();
  const add = (table: string, columns: string[], reason: string) => {
    const cols = [...new Set(columns)];
    if (!cols.length || cols.every((c) => /^(rowid|oid|_rowid_)$/i.test(c))) return;
    const key = `${table}(${cols.join(',')})`;
    if (!candidates.has(key)) candidates.set(key, { table, columns: cols, reason });
  };
  const orderTables = new Set(uses.filter((u) => u.use === 'order').map((u) => u.table));
  for (const table of new Set(aliases.values())) {
    const of = (use: ColumnUse['use']) =>
      uses.filter((u) => u.table === table && u.use === use).map((u) => u.column);
    const eq = of('eq');
    const range = of('range').slice(0, 1);
    const order = orderTables.size === 1 && orderTables.has(table) ? of('order') : [];
    if (eq.length || range.length)
      add(table, [...eq, ...range], `filters on ${[...eq, ...range].join(', ')}`);
    if (order.length)
      add(
        table,
        [...eq, ...order],
        eq.length
          ? `filters on ${eq.join(', ')} and sorts by ${order.join(', ')}`
          : `sorts by ${order.join(', ')}`,
      );
    if (range.length && order.length && range[0] === order[0])
      add(table, [...eq, ...order], `filters and sorts on ${order[0]}`);
    const group = of('group');
    if (group.length) add(table, group, `groups by ${group.join(', ')}`);
    const join = of('join');
    if (join.length) add(table, [...eq, join[0]!], `joins on ${join[0]}`);
    for (const u of uses.filter(
      (x) => x.table === table && x.use === 'like' && x.pattern && !/^[%_]/.test(x.pattern),
    ))
      add(
        table,
        [`${u.column} COLLATE NOCASE`],
        `prefix LIKE on ${u.column} (LIKE is case-insensitive: the index must be NOCASE)`,
      );
  }
  const advice: IndexAdvice[] = [];
  for (const c of candidates.values()) {
    const rec = recommendedFor(c.table, c.columns);
    const name =
      rec?.name ??
      `idx_${c.table}_${c.columns.map((x) => x.replace(/ COLLATE NOCASE$/, '_nocase')).join('_')}`.replace(
        /\W/g,
        '_',
      );
    const createIndex = rec?.sql ?? `CREATE INDEX ${name} ON ${c.table}(${c.columns.join(', ')})`;
    const exists = mem.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?").get(name);
    if (exists) continue;
    let planWith: string[];
    try {
      mem.exec('SAVEPOINT hypothetical');
      mem.exec(createIndex);
      planWith = explain(mem, sql);
    } catch {
      continue;
    } finally {
      try {
        mem.exec('ROLLBACK TO hypothetical');
        mem.exec('RELEASE hypothetical');
      } catch {}
    }
    if (!planWith.some((l) => l.includes(name))) continue;
    const costWith = planCost(planWith, aliases, rowsOf);
    if (costWith >= costBefore * 0.9) continue;
    advice.push({
      name,
      createIndex,
      table: c.table,
      columns: c.columns,
      recommendedBySite: Boolean(rec),
      planWith,
      costBefore,
      costWith,
      reason: c.reason,
    });
  }
  advice.sort((a, b) => a.costWith - b.costWith || a.columns.length - b.columns.length);
  // Keep the best, plus any other that helps as much (e.g. the recommended single-column one).
  const best = advice[0];
  const kept = best
    ? advice.filter((a) => a === best || (a.costWith <= best.costWith * 1.01 && a.recommendedBySite))
    : [];
  return { advice: kept, notes };
}

// ---------------------------------------------------------------------------------------------
// Patterns

export interface SlowQueryPattern {
  id: string;
  /** Normalised SQL of the (repaired) statement: literals as ?. */
  pattern: string;
  /** One logged statement of the pattern, as logged (maybe cut at 100 characters). */
  example: string;
  truncated: boolean;
  /** What was done to make the cut statement plannable (null when it was complete). */
  repair: Repair | null;
  /** The statement that was planned and would be measured. */
  plannedSql: string | null;
  count: number;
  p50: number;
  p95: number;
  max: number;
  totalMs: number;
  firstSeen: number | null;
  lastSeen: number | null;
  /** Slow more than thresholds.frequentSlowQuery times. */
  frequent: boolean;
  plan: string[] | null;
  planError: string | null;
  flags: PlanFlags | null;
  advice: IndexAdvice[];
  notes: string[];
}

export interface SlowQueryReport {
  files: string[];
  errors: string[];
  linesRead: number;
  records: number;
  patterns: SlowQueryPattern[];
  /** Recommended indexes of SITE.md the database lacks (or that an existing index already covers). */
  recommended: Array<{ name: string; sql: string; status: 'present' | 'covered' | 'missing'; by?: string }>;
  thresholds: { slowQueryMs: number; frequentSlowQuery: number };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface GroupOptions {
  schema: SchemaInfo;
  frequentSlowQuery: number;
}

interface Group {
  key: string;
  records: SlowQueryRecord[];
  repair: Repair | null;
  planned: string;
}

/** Groups records by the normalised shape of their (repaired) statement. */
export function groupSlowQueries(records: SlowQueryRecord[], schema: SchemaInfo): Map<string, Group> {
  const groups = new Map<string, Group>();
  // Logs repeat the same statements: repair and normalise each distinct text once.
  const seen = new Map<string, { repair: Repair | null; planned: string; key: string }>();
  for (const r of records) {
    let done = seen.get(r.sql);
    if (!done) {
      const repair = r.truncated ? repairTruncated(r.sql, schema, true) : null;
      const planned = repair ? repair.sql : r.sql;
      done = {
        repair,
        planned,
        key: repair ? truncatedPatternKey(planned) : normalizeTokens(tokenize(planned)),
      };
      if (seen.size < 100_000) seen.set(r.sql, done);
    }
    const { repair, planned, key } = done;
    let g = groups.get(key);
    if (!g) {
      g = { key, records: [], repair, planned };
      groups.set(key, g);
    } else if (planned.length > g.planned.length) {
      // Plan the cut example that kept the most of the statement (e.g. its LIMIT).
      g.repair = repair;
      g.planned = planned;
    }
    g.records.push(r);
  }
  return groups;
}

export interface AnalyzeOptions {
  database: string;
  logFiles: string[];
  slowQueryMs: number;
  frequentSlowQuery: number;
  since?: number | null;
  /** Plans and advice (default true); off, only the grouping. */
  explain?: boolean;
  /** At most this many patterns, most total time first (default 50). */
  limit?: number;
}

/** Reads the logs, groups, plans and advises. Throws DbError when the database cannot be opened. */
export async function analyzeSlowQueries(opts: AnalyzeOptions): Promise<SlowQueryReport> {
  const read = await readSlowQueries(opts.logFiles, { since: opts.since });
  return withReadOnly(opts.database, (db) => {
    const schema = schemaInfo(db);
    const groups = groupSlowQueries(read.records, schema);
    const rows = new Map<string, number>();
    try {
      for (const r of db.prepare('SELECT tbl, stat FROM sqlite_stat1').all() as Array<{
        tbl: string;
        stat: string;
      }>)
        rows.set(r.tbl, Math.max(rows.get(r.tbl) ?? 0, Number.parseInt(r.stat, 10) || 0));
    } catch {}
    const rowsOf = (t: string) => rows.get(t) ?? 100_000;
    const mem = opts.explain === false ? null : hypotheticalDb(db);
    try {
      const patterns: SlowQueryPattern[] = [];
      for (const g of groups.values()) {
        const times = g.records.map((r) => r.ms).sort((a, b) => a - b);
        const seen = g.records.map((r) => r.time).filter((t): t is number => t !== null);
        const example =
          g.records.find(
            (r) => g.repair && r.sql && repairTruncated(r.sql, schema, true).sql === g.planned,
          ) ?? g.records[0]!;
        const p: SlowQueryPattern = {
          id: createHash('sha1').update(g.key).digest('hex').slice(0, 8),
          pattern: g.key,
          example: example.sql,
          truncated: example.truncated,
          repair: g.repair,
          plannedSql: null,
          count: g.records.length,
          p50: percentile(times, 50),
          p95: percentile(times, 95),
          max: times.at(-1) ?? 0,
          totalMs: times.reduce((a, b) => a + b, 0),
          firstSeen: seen.length ? Math.min(...seen) : null,
          lastSeen: seen.length ? Math.max(...seen) : null,
          frequent: g.records.length > opts.frequentSlowQuery,
          plan: null,
          planError: null,
          flags: null,
          advice: [],
          notes: [],
        };
        if (mem) explainPattern(db, mem, schema, g.planned, p, rowsOf);
        patterns.push(p);
      }
      patterns.sort((a, b) => b.totalMs - a.totalMs);
      return {
        files: opts.logFiles,
        errors: read.errors,
        linesRead: read.lines,
        records: read.records.length,
        patterns: patterns.slice(0, opts.limit ?? 50),
        recommended: recommendedStatus(db),
        thresholds: { slowQueryMs: opts.slowQueryMs, frequentSlowQuery: opts.frequentSlowQuery },
      };
    } finally {
      mem?.close();
    }
  });
}

function explainPattern(
  db: Db,
  mem: Database.Database,
  schema: SchemaInfo,
  planned: string,
  p: SlowQueryPattern,
  rowsOf: (t: string) => number,
): void {
  let sql: string | null = planned;
  const extraNotes: string[] = [];
  for (let attempt = 0; sql && attempt < 4; attempt++) {
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map(
        (r) => r.detail,
      );
      p.plan = plan;
      p.plannedSql = sql;
      const aliases = tableAliases(tokenize(sql), schema);
      p.flags = planFlags(plan, aliases);
      const { advice, notes } = adviseIndexes(sql, schema, mem, rowsOf);
      p.advice = advice;
      p.notes.push(...notes);
      if (p.flags.fullScans.length && !advice.length)
        p.notes.push(
          'no single index avoids the full scan: the statement reads every row (no selective filter on an indexable column)',
        );
      if (p.repair) p.repair = { ...p.repair, notes: [...p.repair.notes, ...extraNotes] };
      return;
    } catch (err) {
      if (attempt === 0) p.planError = (err as Error).message;
      const shorter = dropLastClause(sql);
      if (shorter)
        extraNotes.push(`dropped the clause SQLite could not plan: ${sql.slice(shorter.length).trim()}`);
      sql = shorter;
      if (sql && !p.repair) p.repair = { sql, notes: [], changed: true };
    }
  }
  p.plan = null;
}

function recommendedStatus(db: Db): SlowQueryReport['recommended'] {
  const out: SlowQueryReport['recommended'] = [];
  for (const [name, sql] of Object.entries(RECOMMENDED_INDEXES)) {
    const m = /ON\s+(\w+)\s*\((\w+)\)/i.exec(sql);
    if (!m) continue;
    const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?").get(name);
    if (exists) {
      out.push({ name, sql, status: 'present' });
      continue;
    }
    let by: string | undefined;
    try {
      for (const ix of db.prepare(`PRAGMA index_list(${quoteIdent(m[1]!)})`).all() as Array<{
        name: string;
      }>) {
        const first = (
          db.prepare(`PRAGMA index_info(${quoteIdent(ix.name)})`).all() as Array<{ name: string | null }>
        )[0];
        if (first?.name === m[2]) {
          by = ix.name;
          break;
        }
      }
    } catch {
      continue; // the table is not there
    }
    out.push(by ? { name, sql, status: 'covered', by } : { name, sql, status: 'missing' });
  }
  return out;
}

export function defaultSlowQueryFiles(logsDir: string): string[] {
  return existsSync(logsDir) ? slowQueryLogFiles(logsDir) : [];
}
