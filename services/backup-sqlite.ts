// The SQLite work of backups, in one place: a consistent snapshot of the live database
// (`VACUUM INTO`, one step, so a writer never makes it restart), and the checks on a database
// taken out of a backup (integrity_check, row counts). better-sqlite3 has no progress handler, so
// these block their thread: they run in a worker thread (task 'backup-sqlite' in worker-entry.ts)
// unless the caller has no screen to keep alive and asks for `inline`.
import { closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { cliEntryPath } from './self-exec.js';
import { runInWorker } from './worker-entry.js';

export type SqliteJob =
  | { op: 'snapshot'; source: string; target: string; busyTimeoutMs: number }
  | { op: 'check'; file: string; maxErrors?: number; waitForFile?: boolean }
  | { op: 'counts'; file: string; busyTimeoutMs?: number }
  /** A staged database before a restore swaps it in: integrity, counts, and the live one's journal mode. */
  | { op: 'prepare-restore'; file: string; wal: boolean };

export interface TableCounts {
  [table: string]: number;
}

export interface SqliteJobResult {
  ok: boolean;
  /** SQLite's error code (SQLITE_BUSY, SQLITE_NOTADB, ...) when not ok. */
  code?: string;
  message?: string;
  /** 'check': the messages of integrity_check ("ok" alone when sound). */
  integrity?: string[];
  /** 'check' and 'counts': rows per table; a table whose count failed is missing here. */
  counts?: TableCounts;
  /** Tables the procedures count that are absent. */
  missingTables?: string[];
  /** 'snapshot': bytes written. */
  bytes?: number;
  ms?: number;
}

/** Tables the procedures' verification counts (SITE.md). */
export const REQUIRED_TABLES = ['models', 'metadata'];

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Row counts of every ordinary and virtual table, leaving out SQLite's own and FTS shadow tables. */
export function countRows(db: Database.Database): { counts: TableCounts; missingTables: string[] } {
  const tables = db
    .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as Array<{ name: string; sql: string | null }>;
  const virtual = tables.filter((t) => /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(t.sql ?? '')).map((t) => t.name);
  const shadow = (name: string) => virtual.some((v) => name.startsWith(`${v}_`));
  const counts: TableCounts = {};
  for (const t of tables) {
    if (shadow(t.name)) continue;
    try {
      const row = db.prepare(`SELECT COUNT(*) AS n FROM ${quoteIdent(t.name)}`).get() as { n: number };
      counts[t.name] = row.n;
    } catch {
      // A virtual table whose module is unavailable; reported by its absence.
    }
  }
  const missingTables = REQUIRED_TABLES.filter((t) => counts[t] === undefined);
  return { counts, missingTables };
}

function fail(err: unknown, started: number): SqliteJobResult {
  const e = err as { code?: string; message?: string };
  return { ok: false, code: e.code ?? 'ERROR', message: e.message ?? String(err), ms: Date.now() - started };
}

export function runSqliteJob(job: SqliteJob): SqliteJobResult {
  const started = Date.now();
  try {
    if (job.op === 'snapshot') {
      const db = new Database(job.source, {
        readonly: true,
        fileMustExist: true,
        timeout: job.busyTimeoutMs,
      });
      try {
        // VACUUM INTO needs an empty target; creating it first gives it our mode (0600).
        closeSync(openSync(job.target, 'w', 0o600));
        db.prepare('VACUUM INTO ?').run(job.target);
      } finally {
        db.close();
      }
      return { ok: true, ms: Date.now() - started };
    }
    if (job.op === 'check') {
      const db = new Database(job.file, { fileMustExist: true });
      try {
        const rows = db.pragma(`integrity_check(${job.maxErrors ?? 20})`) as Array<{
          integrity_check: string;
        }>;
        const integrity = rows.map((r) => r.integrity_check);
        const { counts, missingTables } = countRows(db);
        return { ok: true, integrity, counts, missingTables, ms: Date.now() - started };
      } finally {
        db.close();
      }
    }
    if (job.op === 'prepare-restore') {
      const db = new Database(job.file, { fileMustExist: true });
      try {
        const rows = db.pragma('integrity_check(20)') as Array<{ integrity_check: string }>;
        const integrity = rows.map((r) => r.integrity_check);
        const { counts, missingTables } = countRows(db);
        // A backup made with VACUUM INTO is in rollback-journal mode; the application runs in WAL.
        if (job.wal && integrity[0] === 'ok') db.pragma('journal_mode = WAL');
        return { ok: true, integrity, counts, missingTables, ms: Date.now() - started };
      } finally {
        db.close();
      }
    }
    const db = new Database(job.file, {
      readonly: true,
      fileMustExist: true,
      timeout: job.busyTimeoutMs ?? 5000,
    });
    try {
      return { ok: true, ...countRows(db), ms: Date.now() - started };
    } finally {
      db.close();
    }
  } catch (err) {
    return fail(err, started);
  }
}

/** Worker-thread entry (see worker-entry.ts). A check may be started before its file exists. */
export async function run(input: unknown): Promise<SqliteJobResult> {
  const job = input as SqliteJob;
  if (job.op === 'check' && job.waitForFile) {
    while (!existsSync(job.file)) await new Promise((r) => setTimeout(r, 10));
  }
  return runSqliteJob(job);
}

/** Worker threads run the bundle (dist/cadence-ops.js): false where it is not built (unit tests of the site builder). */
export function workersAvailable(): boolean {
  try {
    cliEntryPath();
    return true;
  } catch {
    return false;
  }
}

/** Runs a job in a worker thread, or on this thread when `inline` (no screen to keep responsive). */
export async function sqliteJob(
  job: SqliteJob,
  opts: { inline?: boolean; signal?: AbortSignal } = {},
): Promise<SqliteJobResult> {
  if (opts.inline && !(job.op === 'check' && job.waitForFile)) return runSqliteJob(job);
  return runInWorker<SqliteJobResult>('backup-sqlite', job, { signal: opts.signal });
}
