// What the database is and how it is doing: file and WAL size, pages and free pages, journal mode,
// versions, every table and index with rows and bytes, the recommended indexes that are missing,
// who holds the files open and whether a write lock can be had. Everything here reads only.
import { statSync } from 'node:fs';
import { type AppProcess, findAppProcess } from './app-process.js';
import { type Db, quoteIdent, withReadOnly } from './db-connection.js';
import { type FileLock, type LockProbe, probeWriteLock, readSqliteLocks, writersOf } from './db-locks.js';
import { RECOMMENDED_INDEXES } from './demo-site.js';
import { findOpenFileHolders, type OpenFileHolder, sqliteFileSet } from './open-files.js';

export interface DbInfo {
  file: string;
  fileBytes: number;
  walBytes: number | null;
  shmBytes: number | null;
  pageSize: number;
  pageCount: number;
  freePages: number;
  /** Free pages / page count, percent. */
  fragmentationPercent: number;
  journalMode: string;
  autoVacuum: 'none' | 'full' | 'incremental';
  userVersion: number;
  applicationId: number;
  encoding: string;
  sqliteVersion: string;
  compileOptions: string[];
  counts: { tables: number; indexes: number; views: number; triggers: number; virtualTables: number };
  /** ANALYZE has run (sqlite_stat1 exists) and STAT4 samples are present. */
  stats: { stat1: boolean; stat4: boolean };
  /** Frames in the WAL, from its size. */
  walFrames: number | null;
}

export type ObjectKind = 'table' | 'index' | 'virtual' | 'shadow' | 'view';

export interface DbObject {
  name: string;
  kind: ObjectKind;
  /** The table an index belongs to (the table itself for tables). */
  table: string;
  /** Index columns, in order (indexes only). */
  columns?: string[];
  unique?: boolean;
  /** Created by SQLite for a UNIQUE or PRIMARY KEY constraint. */
  auto?: boolean;
  rows: number | null;
  rowsSource: 'stat1' | 'dbstat' | 'count' | null;
  /** A WITHOUT ROWID table (its rows live in an index b-tree). */
  withoutRowid?: boolean;
  bytes: number | null;
  pages: number | null;
  /** Share of page bytes in use, percent (dbstat). */
  fillPercent: number | null;
}

const pragmaValue = (db: Db, name: string): unknown => db.pragma(name, { simple: true });

export function readDbInfo(db: Db, file: string): DbInfo {
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return null;
    }
  };
  const pageSize = Number(pragmaValue(db, 'page_size'));
  const pageCount = Number(pragmaValue(db, 'page_count'));
  const freePages = Number(pragmaValue(db, 'freelist_count'));
  const av = Number(pragmaValue(db, 'auto_vacuum'));
  const schema = db.prepare('SELECT type, name, sql FROM sqlite_schema').all() as Array<{
    type: string;
    name: string;
    sql: string | null;
  }>;
  const walBytes = size(`${file}-wal`);
  return {
    file,
    fileBytes: size(file) ?? 0,
    walBytes,
    shmBytes: size(`${file}-shm`),
    pageSize,
    pageCount,
    freePages,
    fragmentationPercent: pageCount ? (freePages / pageCount) * 100 : 0,
    journalMode: String(pragmaValue(db, 'journal_mode')),
    autoVacuum: av === 1 ? 'full' : av === 2 ? 'incremental' : 'none',
    userVersion: Number(pragmaValue(db, 'user_version')),
    applicationId: Number(pragmaValue(db, 'application_id')),
    encoding: String(pragmaValue(db, 'encoding')),
    sqliteVersion: String((db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v),
    compileOptions: (db.pragma('compile_options') as Array<{ compile_options: string }>).map(
      (r) => r.compile_options,
    ),
    counts: {
      tables: schema.filter((s) => s.type === 'table' && !s.name.startsWith('sqlite_')).length,
      indexes: schema.filter((s) => s.type === 'index').length,
      views: schema.filter((s) => s.type === 'view').length,
      triggers: schema.filter((s) => s.type === 'trigger').length,
      virtualTables: schema.filter((s) => s.type === 'table' && /^\s*CREATE\s+VIRTUAL/i.test(s.sql ?? ''))
        .length,
    },
    stats: {
      stat1: schema.some((s) => s.name === 'sqlite_stat1'),
      stat4: schema.some((s) => s.name === 'sqlite_stat4'),
    },
    walFrames:
      walBytes && walBytes > 32
        ? Math.floor((walBytes - 32) / (pageSize + 24))
        : walBytes === null
          ? null
          : 0,
  };
}

/** Row estimates from sqlite_stat1 (instant; as of the last ANALYZE). */
function stat1Rows(db: Db): Map<string, number> {
  const rows = new Map<string, number>();
  try {
    for (const r of db.prepare('SELECT tbl, idx, stat FROM sqlite_stat1').all() as Array<{
      tbl: string;
      idx: string | null;
      stat: string;
    }>) {
      const n = Number.parseInt(r.stat, 10);
      if (!Number.isFinite(n)) continue;
      if (!rows.has(r.tbl) || r.idx === null) rows.set(r.tbl, n);
      if (r.idx) rows.set(r.idx, n);
    }
  } catch {
    // No sqlite_stat1: ANALYZE never ran.
  }
  return rows;
}

/** Every table, index and view, with rows estimated from sqlite_stat1 (sizes: measureObjectSizes). */
export function listObjects(db: Db): DbObject[] {
  const estimates = stat1Rows(db);
  const tables = db
    .prepare("SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'")
    .all() as Array<{ name: string; type: string; wr: number }>;
  const out: DbObject[] = [];
  for (const t of tables) {
    const kind: ObjectKind =
      t.type === 'view'
        ? 'view'
        : t.type === 'virtual'
          ? 'virtual'
          : t.type === 'shadow'
            ? 'shadow'
            : 'table';
    const rows = estimates.get(t.name) ?? null;
    out.push({
      name: t.name,
      kind,
      table: t.name,
      rows,
      rowsSource: rows === null ? null : 'stat1',
      withoutRowid: t.wr === 1,
      bytes: null,
      pages: null,
      fillPercent: null,
    });
    if (kind !== 'table' && kind !== 'shadow') continue;
    for (const ix of db.prepare(`PRAGMA index_list(${quoteIdent(t.name)})`).all() as Array<{
      name: string;
      unique: number;
      origin: string;
    }>) {
      // A WITHOUT ROWID table is its own primary-key b-tree: no separate index to list.
      if (t.wr === 1 && ix.origin === 'pk') continue;
      const columns = (
        db.prepare(`PRAGMA index_info(${quoteIdent(ix.name)})`).all() as Array<{ name: string | null }>
      ).map((c) => c.name ?? '<expr>');
      const irows = estimates.get(ix.name) ?? null;
      out.push({
        name: ix.name,
        kind: 'index',
        table: t.name,
        columns,
        unique: ix.unique === 1,
        auto: ix.origin !== 'c',
        rows: irows,
        rowsSource: irows === null ? null : 'stat1',
        bytes: null,
        pages: null,
        fillPercent: null,
      });
    }
  }
  return out;
}

export interface ObjectSize {
  bytes: number;
  pages: number;
  unused: number;
  /** Exact: rows of a table (leaf cells), entries of an index (all cells). */
  rows: number;
}

/**
 * Bytes, pages, fill and exact row counts of every b-tree, from DBSTAT: one pass over the database
 * (~40 ms at 100,000 models). Run it off the render path on big databases.
 */
export function measureObjectSizes(db: Db): Map<string, ObjectSize> {
  const out = new Map<string, ObjectSize>();
  const rows = db
    .prepare(
      "SELECT name, sum(pgsize) AS bytes, count(*) AS pages, sum(unused) AS unused, sum(CASE WHEN pagetype = 'leaf' THEN ncell ELSE 0 END) AS leafCells, sum(ncell) AS cells FROM dbstat GROUP BY name",
    )
    .all() as Array<{
    name: string;
    bytes: number;
    pages: number;
    unused: number;
    leafCells: number;
    cells: number;
  }>;
  // Index b-trees (indexes and WITHOUT ROWID tables) keep entries in interior cells too; table
  // b-trees only in leaves.
  const indexes = new Set(
    (
      db
        .prepare(
          "SELECT name FROM sqlite_schema WHERE type = 'index' UNION ALL SELECT name FROM pragma_table_list WHERE schema = 'main' AND wr = 1",
        )
        .all() as Array<{ name: string }>
    ).map((r) => r.name),
  );
  for (const r of rows)
    out.set(r.name, {
      bytes: r.bytes,
      pages: r.pages,
      unused: r.unused,
      rows: indexes.has(r.name) ? r.cells : r.leafCells,
    });
  return out;
}

/** Objects with sizes and exact counts merged in. */
export function withSizes(objects: DbObject[], sizes: Map<string, ObjectSize>): DbObject[] {
  return objects.map((o) => {
    const s = sizes.get(o.name);
    if (!s) return o;
    const exactRows = o.kind === 'table' || o.kind === 'index' || o.kind === 'shadow';
    return {
      ...o,
      bytes: s.bytes,
      pages: s.pages,
      fillPercent: s.bytes ? ((s.bytes - s.unused) / s.bytes) * 100 : null,
      rows: exactRows ? s.rows : o.rows,
      rowsSource: exactRows ? 'dbstat' : o.rowsSource,
    };
  });
}

/** Exact row count of one table (COUNT(*)), on demand. */
export function exactRowCount(db: Db, table: string): number {
  return Number((db.prepare(`SELECT count(*) AS n FROM ${quoteIdent(table)}`).get() as { n: number }).n);
}

export interface MissingIndex {
  name: string;
  sql: string;
  table: string;
  column: string;
}

/** The indexes the procedures recommend (SITE.md) that the database lacks, by name or by leading column. */
export function missingRecommendedIndexes(objects: DbObject[]): MissingIndex[] {
  const out: MissingIndex[] = [];
  for (const [name, sql] of Object.entries(RECOMMENDED_INDEXES)) {
    const m = /ON\s+(\w+)\s*\((\w+)\)/i.exec(sql);
    if (!m) continue;
    const [, table, column] = m as unknown as [string, string, string];
    if (!objects.some((o) => o.kind === 'table' && o.name === table)) continue;
    const present = objects.some(
      (o) => o.kind === 'index' && (o.name === name || (o.table === table && o.columns?.[0] === column)),
    );
    if (!present) out.push({ name, sql, table, column });
  }
  return out;
}

export interface Advice {
  level: 'info' | 'warning';
  message: string;
  /** The action or statement that would fix it. */
  fix?: string;
}

export interface AdviceThresholds {
  fragmentationPercent: number;
}

export function adviseOn(info: DbInfo, objects: DbObject[], t: AdviceThresholds): Advice[] {
  const out: Advice[] = [];
  if (info.fragmentationPercent > t.fragmentationPercent)
    out.push({
      level: 'warning',
      message: `${info.fragmentationPercent.toFixed(1)} % of pages are free (over ${t.fragmentationPercent} %)`,
      fix: 'db vacuum',
    });
  for (const o of objects) {
    if (o.kind !== 'index' || o.fillPercent === null || (o.pages ?? 0) < 8) continue;
    if (100 - o.fillPercent > t.fragmentationPercent)
      out.push({
        level: 'warning',
        message: `index ${o.name} is ${o.fillPercent.toFixed(0)} % full`,
        fix: `db reindex ${o.name}`,
      });
  }
  if (info.journalMode.toLowerCase() !== 'wal')
    out.push({
      level: 'warning',
      message: `journal mode is ${info.journalMode}; the application expects WAL`,
    });
  if (info.walBytes && info.walBytes > Math.max(64 * 1024 * 1024, info.fileBytes / 2))
    out.push({
      level: 'warning',
      message: `the WAL is large (${info.walBytes} bytes)`,
      fix: 'db checkpoint',
    });
  if (!info.stats.stat1)
    out.push({ level: 'info', message: 'no planner statistics (ANALYZE never ran)', fix: 'db analyze' });
  for (const m of missingRecommendedIndexes(objects))
    out.push({ level: 'info', message: `recommended index ${m.name} is missing`, fix: m.sql });
  return out;
}

export interface DbOverview {
  info: DbInfo;
  objects: DbObject[];
  /** Sizes were measured (dbstat) in this read; otherwise bytes are null and rows are estimates. */
  sized: boolean;
  holders: OpenFileHolder[];
  holdersUnreadable: number;
  locks: FileLock[];
  /** Pids with a write transaction open right now (from the locks). */
  writers: number[];
  probe: LockProbe | null;
  app: AppProcess | null;
  advice: Advice[];
  ms: number;
}

export interface OverviewOptions {
  database: string;
  pidFile?: string | null;
  processPattern?: string | null;
  /** A process found by the pattern must work on this site. */
  siteRoot?: string | null;
  thresholds: AdviceThresholds;
  /** Measure sizes with dbstat here (default true; the screen does it in a worker instead). */
  sizes?: boolean;
  /** Probe the write lock (default true). */
  probe?: boolean;
  /**
   * How long to wait for a lock held exclusively by another connection (default 0: this runs on
   * the screen's thread, which must never wait; the CLI passes a little).
   */
  busyTimeoutMs?: number;
}

/** Info, objects, holders, locks and the probe in one read. Throws DbError when the file cannot be read. */
export async function readDbOverview(opts: OverviewOptions): Promise<DbOverview> {
  const started = performance.now();
  const { info, objects, sized } = withReadOnly(
    opts.database,
    (db) => {
      const info = readDbInfo(db, opts.database);
      let objects = listObjects(db);
      const sized = opts.sizes ?? true;
      if (sized) objects = withSizes(objects, measureObjectSizes(db));
      return { info, objects, sized };
    },
    { busyTimeoutMs: opts.busyTimeoutMs ?? 0 },
  );
  const scan = await findOpenFileHolders(sqliteFileSet(opts.database));
  const locks = readSqliteLocks(opts.database);
  // With nobody else holding the files there is no lock to find, and our write connection would be
  // the last one to close, which checkpoints the WAL into the file: a write. So probe only when needed.
  const others = scan.holders.filter((h) => !h.self);
  const probe =
    opts.probe === false
      ? null
      : others.length === 0 && scan.unreadable === 0
        ? { writable: true, state: 'free' as const, ms: 0, note: 'no other process has the database open' }
        : probeWriteLock(opts.database, { waitMs: 0 });
  const app = findAppProcess({
    pidFile: opts.pidFile ?? null,
    pattern: opts.processPattern ?? null,
    siteRoot: opts.siteRoot ?? null,
  }).process;
  return {
    info,
    objects,
    sized,
    holders: scan.holders,
    holdersUnreadable: scan.unreadable,
    locks,
    writers: writersOf(locks),
    probe,
    app,
    advice: adviseOn(info, objects, opts.thresholds),
    ms: performance.now() - started,
  };
}
