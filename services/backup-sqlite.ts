// The SQLite work of backups, in one place: a consistent snapshot of the live database
// (`VACUUM INTO`, one step, so a writer never makes it restart), and the checks on a database
// taken out of a backup (integrity_check, row counts). better-sqlite3 has no progress handler, so
// these block their thread: they run in a worker thread unless the caller has no screen to keep
// alive and asks for `inline`.
//
// The worker is a small one: it loads better-sqlite3 and the job code below, not the whole bundle
// (a worker that loads dist/cadence-ops.js spends ~0.15-0.2 s of a core compiling it before it
// starts, which is on the critical path of every backup). So the job code is one self-contained
// function, `sqliteJobs(Database, fs)`, that uses nothing but its arguments: this module calls it
// directly, and the worker evaluates its source text.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type WorkerRunOptions, workerOutcome } from './worker-entry.js';

export type SqliteJob =
  /** With `thenCheck` (in a worker): posts { snapshot: result } when the snapshot is complete, then checks it. */
  | { op: 'snapshot'; source: string; target: string; busyTimeoutMs: number; thenCheck?: boolean }
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
  /** 'snapshot' with `thenCheck`: the snapshot's own result (the check's fields are the job's). */
  snapshot?: SqliteJobResult;
  ms?: number;
}

/** Tables the procedures' verification counts (SITE.md). */
export const REQUIRED_TABLES = ['models', 'metadata'];

/**
 * The jobs. Self-contained on purpose (see the top of this file): no reference to anything outside
 * this function but its arguments and JavaScript's own globals.
 */
function sqliteJobs(Sqlite: typeof Database, files: typeof fs, requiredTables: string[]) {
  const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

  function countRows(db: Database.Database): { counts: TableCounts; missingTables: string[] } {
    const tables = db
      .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string; sql: string | null }>;
    const virtual = tables
      .filter((t) => /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(t.sql ?? ''))
      .map((t) => t.name);
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
    const missingTables = requiredTables.filter((t) => counts[t] === undefined);
    return { counts, missingTables };
  }

  function fail(err: unknown, started: number): SqliteJobResult {
    const e = err as { code?: string; message?: string };
    return {
      ok: false,
      code: e.code ?? 'ERROR',
      message: e.message ?? String(err),
      ms: Date.now() - started,
    };
  }

  function runSqliteJob(job: SqliteJob): SqliteJobResult {
    const started = Date.now();
    try {
      if (job.op === 'snapshot') {
        const db = new Sqlite(job.source, {
          readonly: true,
          fileMustExist: true,
          timeout: job.busyTimeoutMs,
        });
        try {
          // VACUUM INTO needs an empty target; creating it first gives it our mode (0600).
          files.closeSync(files.openSync(job.target, 'w', 0o600));
          db.prepare('VACUUM INTO ?').run(job.target);
        } finally {
          db.close();
        }
        return { ok: true, ms: Date.now() - started };
      }
      if (job.op === 'check') {
        const db = new Sqlite(job.file, { fileMustExist: true });
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
        const db = new Sqlite(job.file, { fileMustExist: true });
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
      const db = new Sqlite(job.file, {
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

  /** A job in a worker: a check may be started before its file exists; a snapshot may be followed by its check. */
  async function runInThread(job: SqliteJob, post: (message: unknown) => void): Promise<SqliteJobResult> {
    if (job.op === 'check' && job.waitForFile) {
      while (!files.existsSync(job.file)) await new Promise((r) => setTimeout(r, 10));
    }
    if (job.op === 'snapshot' && job.thenCheck) {
      const snapshot = runSqliteJob({ ...job, thenCheck: false });
      post({ snapshot });
      if (!snapshot.ok) return { ...snapshot, snapshot };
      return { ...runSqliteJob({ op: 'check', file: job.target }), snapshot };
    }
    return runSqliteJob(job);
  }

  return { countRows, runSqliteJob, runInThread };
}

const jobs = sqliteJobs(Database, fs, REQUIRED_TABLES);

/** Row counts of every ordinary and virtual table, leaving out SQLite's own and FTS shadow tables. */
export const countRows = jobs.countRows;
export const runSqliteJob = jobs.runSqliteJob;

/** Worker-thread entry for the bundle's worker (task 'backup-sqlite' in worker-entry.ts). */
export function run(input: unknown, post?: (message: unknown) => void): Promise<SqliteJobResult> {
  return jobs.runInThread(input as SqliteJob, post ?? (() => {}));
}

// The small worker: better-sqlite3 and the job code, evaluated from source (CommonJS).
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const jobs = (${sqliteJobs.toString()})(require(workerData.sqlite), require('node:fs'), workerData.required);
jobs.runInThread(workerData.job, (message) => parentPort.postMessage({ type: 'progress', message })).then(
  (result) => parentPort.postMessage({ type: 'done', result }),
  (err) => parentPort.postMessage({ type: 'error', message: String((err && err.message) || err) }),
);
`;

let sqlitePath: string | null = null;

/** Runs a job in a small worker thread; aborting terminates it. */
export function runSqliteWorker(job: SqliteJob, opts: WorkerRunOptions = {}): Promise<SqliteJobResult> {
  sqlitePath ??= createRequire(import.meta.url).resolve('better-sqlite3');
  if (opts.signal?.aborted) return Promise.reject(new Error('cancelled'));
  const workerData = { sqlite: sqlitePath, required: REQUIRED_TABLES, job };
  // A cancelled job settles only once the thread has stopped: a statement already running (a
  // VACUUM INTO) finishes first, so nothing writes the target after the caller removed it.
  return workerOutcome<SqliteJobResult>(
    () => new Worker(WORKER_SOURCE, { eval: true, workerData }),
    'the SQLite worker',
    { ...opts, cancelWhenStopped: true },
  );
}

/** Runs a job in a worker thread, or on this thread when `inline` (no screen to keep responsive). */
export async function sqliteJob(
  job: SqliteJob,
  opts: { inline?: boolean; signal?: AbortSignal } = {},
): Promise<SqliteJobResult> {
  if (opts.inline && !(job.op === 'check' && job.waitForFile)) return runSqliteJob(job);
  return runSqliteWorker(job, { signal: opts.signal });
}

/**
 * A snapshot (and then, with `check`, its integrity check and row counts) in one worker thread, so
 * this thread stays free to follow the file while it is written: `snapshot` settles as soon as the
 * snapshot is complete, `check` once the check is done (without `check`: the snapshot's result again).
 */
export function snapshotInWorker(
  job: { source: string; target: string; busyTimeoutMs: number },
  opts: { check: boolean; signal?: AbortSignal },
): { snapshot: Promise<SqliteJobResult>; check: Promise<SqliteJobResult> } {
  let settle: (r: SqliteJobResult) => void = () => {};
  const snapshot = new Promise<SqliteJobResult>((resolve) => (settle = resolve));
  const check = runSqliteWorker(
    { op: 'snapshot', ...job, thenCheck: opts.check },
    {
      signal: opts.signal,
      onProgress: (m) => {
        const r = (m as { snapshot?: SqliteJobResult }).snapshot;
        if (r) settle(r);
      },
    },
  );
  // A worker that ends (or is cancelled) before the snapshot is complete fails the snapshot too.
  check.then(
    (r) => settle(r.snapshot ?? r),
    (err: Error) => settle({ ok: false, code: 'WORKER', message: err.message }),
  );
  return { snapshot, check };
}
