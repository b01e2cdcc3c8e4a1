// The database work that may take long: integrity checks, size measurement, maintenance actions,
// index measurements, SQL prompt queries. Runs in a worker thread (registered as "db" in
// worker-entry.ts) or a child process (db-child.ts), never on the screen's thread: better-sqlite3 has
// no progress handler, so a long statement cannot be interrupted from JavaScript.
import { rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import {
  classifyDbError,
  type Db,
  DbError,
  openReadOnly,
  preflightDatabaseFile,
  quoteIdent,
  withWriteConnection,
} from './db-connection.js';
import { listObjects, measureObjectSizes, withSizes } from './db-info.js';
import { type AnalyzeOptions, analyzeSlowQueries } from './db-slow-queries.js';

type Post = (message: unknown) => void;

export type CheckKind = 'integrity' | 'quick' | 'foreign_keys';
export type ActionKind = 'analyze' | 'optimize' | 'vacuum' | 'reindex' | 'checkpoint';

export interface SizedObject {
  name: string;
  kind: string;
  table: string;
  rows: number | null;
  bytes: number | null;
}

export type DbTaskInput =
  | {
      op: 'check';
      file: string;
      kind: CheckKind;
      maxErrors: number;
      busyTimeoutMs: number;
      busyRetries: number;
    }
  | { op: 'sizes'; file: string }
  | { op: 'count'; file: string; tables: string[] }
  | {
      op: 'action';
      file: string;
      action: ActionKind;
      target?: string | null;
      busyTimeoutMs: number;
      busyRetries: number;
    }
  | { op: 'measure'; file: string; copy: string; sql: string; createIndex: string; runs: number }
  | { op: 'sql'; file: string; sql: string; rowLimit: number }
  | { op: 'slow-queries'; options: AnalyzeOptions }
  | { op: 'serve' };

export interface CheckResult {
  kind: CheckKind;
  ok: boolean;
  errors: string[];
  /** SQLite stopped at maxErrors. */
  truncated: boolean;
  checkMs: number;
  sizes: SizedObject[];
  databaseBytes: number;
  attempts: number;
}

export interface ActionResult {
  action: ActionKind;
  ms: number;
  attempts: number;
  /** What the action reports (checkpoint frames, optimize statements, bytes before/after). */
  details: Record<string, unknown>;
  sizes: SizedObject[];
  databaseBytes: number;
}

export interface MeasureResult {
  beforeMs: number;
  afterMs: number;
  speedup: number;
  indexBuildMs: number;
  indexBytes: number | null;
  rows: number;
  planBefore: string[];
  planAfter: string[];
  copyMs: number;
  runs: number;
}

export interface SqlResult {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
  ms: number;
}

/** Sleeps the calling thread (a worker or child: never the screen's). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs fn again while SQLite says busy, up to `retries` more times; each try already waited busyTimeoutMs. */
function retryBusy<T>(
  file: string,
  retries: number,
  post: Post,
  fn: () => T,
): { value: T; attempts: number } {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: fn(), attempts: attempt };
    } catch (err) {
      const e = classifyDbError(err, file);
      if (e.kind !== 'busy' || attempt > retries) {
        if (e.kind === 'busy')
          throw new DbError(
            'busy',
            file,
            `database is locked by another connection; gave up after ${attempt} attempts`,
            e.code,
          );
        throw e;
      }
      post({ phase: 'busy', attempt, message: `database busy, retrying (${attempt} of ${retries})` });
      sleepSync(Math.min(250 * attempt, 1000));
    }
  }
}

/** integrity_check rows as one problem a line (newer SQLite joins them in one row), without the "*** in database" headers. */
function problemLines(rows: Array<Record<string, string>>): string[] {
  return rows
    .flatMap((r) => String(Object.values(r)[0]).split('\n'))
    .filter((l) => l.trim() && !/^\*\*\* in database \w+ \*\*\*$/.test(l));
}

export function sizesOf(db: Db, file: string): SizedObject[] {
  const objects = withSizes(listObjects(db), measureObjectSizes(db));
  const out: SizedObject[] = objects
    .filter((o) => o.kind !== 'view' && o.kind !== 'virtual')
    .map((o) => ({ name: o.name, kind: o.kind, table: o.table, rows: o.rows, bytes: o.bytes }));
  let total = 0;
  try {
    total = statSync(file).size;
  } catch {}
  out.push({ name: '(database file)', kind: 'file', table: '', rows: null, bytes: total });
  return out;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function runCheck(input: Extract<DbTaskInput, { op: 'check' }>, post: Post): CheckResult {
  const { value: db, attempts } = retryBusy(input.file, input.busyRetries, post, () =>
    openReadOnly(input.file, { busyTimeoutMs: input.busyTimeoutMs }),
  );
  try {
    // Memory-mapped reads make the full walk of the file faster; the connection is read-only.
    db.pragma('mmap_size = 2147418112');
    db.pragma('cache_size = -65536');
    post({ phase: 'checking' });
    const started = performance.now();
    let errors: string[] = [];
    let truncated = false;
    if (input.kind === 'foreign_keys') {
      const tables = (
        db
          .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")
          .all() as Array<{
          name: string;
        }>
      ).map((t) => t.name);
      for (const [i, t] of tables.entries()) {
        post({ phase: 'checking', table: t, done: i, total: tables.length });
        const rows = db.prepare(`PRAGMA foreign_key_check(${quoteIdent(t)})`).all() as Array<{
          table: string;
          rowid: number | null;
          parent: string;
          fkid: number;
        }>;
        for (const r of rows) {
          if (errors.length >= input.maxErrors) {
            truncated = true;
            break;
          }
          errors.push(
            `${r.table} row ${r.rowid ?? '?'}: no matching row in ${r.parent} (foreign key ${r.fkid})`,
          );
        }
      }
    } else {
      const pragma = input.kind === 'integrity' ? 'integrity_check' : 'quick_check';
      const rows = retryBusy(input.file, input.busyRetries, post, () =>
        db.prepare(`PRAGMA ${pragma}(${Math.floor(input.maxErrors)})`).all(),
      ).value as Array<Record<string, string>>;
      const lines = problemLines(rows);
      if (!(lines.length === 1 && lines[0] === 'ok')) errors = lines.slice(0, input.maxErrors);
      truncated = lines.length >= input.maxErrors;
    }
    const checkMs = performance.now() - started;
    post({ phase: 'measuring sizes' });
    let sizes: SizedObject[] = [];
    try {
      sizes = sizesOf(db, input.file);
    } catch {
      // A damaged database may not survive a walk of every page: the check result still stands.
    }
    return {
      kind: input.kind,
      ok: errors.length === 0,
      errors,
      truncated,
      checkMs,
      sizes,
      databaseBytes: fileSize(input.file),
      attempts,
    };
  } catch (err) {
    const e = classifyDbError(err, input.file);
    // Corruption found while checking is a result, not a failure of the check.
    if (e.kind === 'corrupt')
      return {
        kind: input.kind,
        ok: false,
        errors: [e.message],
        truncated: false,
        checkMs: 0,
        sizes: [],
        databaseBytes: fileSize(input.file),
        attempts,
      };
    throw e;
  } finally {
    db.close();
  }
}

function runAction(input: Extract<DbTaskInput, { op: 'action' }>, post: Post): ActionResult {
  const before = fileSize(input.file);
  const walBefore = fileSize(`${input.file}-wal`);
  const started = performance.now();
  const details: Record<string, unknown> = {};
  let attempts = 1;
  withWriteConnection(
    input.file,
    (db) => {
      const run = <T>(fn: () => T): T => {
        const r = retryBusy(input.file, input.busyRetries, post, fn);
        attempts = Math.max(attempts, r.attempts);
        return r.value;
      };
      if (input.action === 'vacuum' || input.action === 'reindex') {
        // Never rebuild a damaged database: a quick check first.
        post({ phase: 'quick check before the action' });
        const lines = problemLines(
          run(() => db.prepare('PRAGMA quick_check(20)').all()) as Array<Record<string, string>>,
        );
        if (!(lines.length === 1 && lines[0] === 'ok'))
          throw new DbError(
            'corrupt',
            input.file,
            `quick_check found problems, ${input.action} refused: ${lines.slice(0, 5).join('; ')}`,
          );
      }
      post({ phase: input.action });
      switch (input.action) {
        case 'analyze':
          run(() => db.exec(input.target ? `ANALYZE ${quoteIdent(input.target)}` : 'ANALYZE'));
          break;
        case 'optimize': {
          // 0x10000: consider every table, not only those this connection used; 0x01: list only.
          const planned = run(() => db.prepare('PRAGMA optimize(0x10003)').all()) as Array<
            Record<string, string>
          >;
          details.statements = planned.map((r) => String(Object.values(r)[0]));
          run(() => db.exec('PRAGMA optimize(0x10002)'));
          break;
        }
        case 'vacuum': {
          run(() => db.exec('VACUUM'));
          if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal') {
            const cp = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{
              busy: number;
              log: number;
              checkpointed: number;
            }>;
            details.checkpoint = cp[0];
          }
          break;
        }
        case 'reindex':
          run(() => db.exec(input.target ? `REINDEX ${quoteIdent(input.target)}` : 'REINDEX'));
          break;
        case 'checkpoint': {
          const mode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
          if (mode !== 'wal')
            throw new DbError('other', input.file, `journal mode is ${mode}: no WAL to checkpoint`);
          const cp = run(() => db.pragma('wal_checkpoint(TRUNCATE)')) as Array<{
            busy: number;
            log: number;
            checkpointed: number;
          }>;
          details.checkpoint = cp[0];
          details.complete = cp[0]?.busy === 0;
          break;
        }
      }
    },
    { busyTimeoutMs: input.busyTimeoutMs },
  );
  const ms = performance.now() - started;
  details.bytesBefore = before;
  details.bytesAfter = fileSize(input.file);
  details.walBytesBefore = walBefore;
  details.walBytesAfter = fileSize(`${input.file}-wal`);
  post({ phase: 'measuring sizes' });
  let sizes: SizedObject[] = [];
  try {
    const db = openReadOnly(input.file);
    try {
      sizes = sizesOf(db, input.file);
    } finally {
      db.close();
    }
  } catch {}
  return { action: input.action, ms, attempts, details, sizes, databaseBytes: fileSize(input.file) };
}

function planLines(db: Db, sql: string): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail);
}

function timeQuery(db: Db, sql: string, runs: number): { ms: number; rows: number } {
  const stmt = db.prepare(sql);
  let rows = stmt.all().length; // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    rows = stmt.all().length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, rows };
}

function runMeasure(input: Extract<DbTaskInput, { op: 'measure' }>, post: Post): MeasureResult {
  const cleanup = () => {
    for (const s of ['', '-wal', '-shm', '-journal']) rmSync(input.copy + s, { force: true });
  };
  cleanup();
  try {
    post({ phase: 'copying the database' });
    let t = performance.now();
    preflightDatabaseFile(input.file);
    // Read-only, but not query_only: VACUUM INTO writes only the copy.
    const src = new Database(input.file, { readonly: true, fileMustExist: true });
    try {
      // A consistent snapshot that never blocks the application's writer (BACKUP-NOTES.md).
      src.prepare('VACUUM INTO ?').run(input.copy);
    } finally {
      src.close();
    }
    const copyMs = performance.now() - t;
    const db = new Database(input.copy);
    try {
      post({ phase: 'timing before' });
      const planBefore = planLines(db, input.sql);
      const before = timeQuery(db, input.sql, input.runs);
      post({ phase: 'building the index' });
      t = performance.now();
      db.exec(input.createIndex);
      const indexBuildMs = performance.now() - t;
      const name = /CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?("[^"]+"|\w+)/i.exec(
        input.createIndex,
      )?.[1];
      let indexBytes: number | null = null;
      if (name) {
        const r = db
          .prepare('SELECT sum(pgsize) AS b FROM dbstat WHERE name = ?')
          .get(name.replace(/"/g, '')) as {
          b: number | null;
        };
        indexBytes = r.b;
      }
      post({ phase: 'timing after' });
      const planAfter = planLines(db, input.sql);
      const after = timeQuery(db, input.sql, input.runs);
      return {
        beforeMs: before.ms,
        afterMs: after.ms,
        speedup: after.ms > 0 ? before.ms / after.ms : Number.POSITIVE_INFINITY,
        indexBuildMs,
        indexBytes,
        rows: after.rows,
        planBefore,
        planAfter,
        copyMs,
        runs: input.runs,
      };
    } finally {
      db.close();
    }
  } finally {
    cleanup();
  }
}

function runSql(input: Extract<DbTaskInput, { op: 'sql' }>): SqlResult {
  const db = openReadOnly(input.file);
  try {
    let stmt: Database.Statement;
    try {
      stmt = db.prepare(input.sql);
    } catch (err) {
      throw new DbError('other', input.file, (err as Error).message, (err as { code?: string }).code);
    }
    if (!stmt.readonly)
      throw new DbError('readonly', input.file, 'only read-only statements are allowed here');
    const started = performance.now();
    if (!stmt.reader) {
      stmt.run();
      return { columns: [], rows: [], truncated: false, ms: performance.now() - started };
    }
    stmt.raw(true);
    const columns = stmt.columns().map((c) => c.name);
    const rows: unknown[][] = [];
    let truncated = false;
    for (const row of stmt.iterate() as IterableIterator<unknown[]>) {
      if (rows.length >= input.rowLimit) {
        truncated = true;
        break;
      }
      rows.push(
        row.map((v) =>
          Buffer.isBuffer(v) ? `<blob ${v.length} bytes>` : typeof v === 'bigint' ? String(v) : v,
        ),
      );
    }
    return { columns, rows, truncated, ms: performance.now() - started };
  } finally {
    db.close();
  }
}

/**
 * A warm worker (db-worker.ts): takes jobs from the parent one after another until told to stop,
 * so a check starts without loading the bundle first.
 */
async function serve(): Promise<null> {
  const { parentPort } = await import('node:worker_threads');
  const port = parentPort;
  if (!port) throw new Error('serve runs in a worker thread');
  return new Promise<null>((resolve) => {
    let queue = Promise.resolve();
    port.on('message', (m: { id: number; input?: DbTaskInput; stop?: boolean }) => {
      if (m.stop) {
        port.removeAllListeners('message');
        resolve(null);
        return;
      }
      queue = queue.then(async () => {
        try {
          const result = await run(m.input, (message) =>
            port.postMessage({ type: 'job-progress', id: m.id, message }),
          );
          port.postMessage({ type: 'job-done', id: m.id, result });
        } catch (err) {
          port.postMessage({ type: 'job-error', id: m.id, message: (err as Error).message });
        }
      });
    });
    port.postMessage({ type: 'job-ready' });
  });
}

export async function run(raw: unknown, post: Post): Promise<unknown> {
  const input = raw as DbTaskInput;
  try {
    switch (input.op) {
      case 'check':
        return runCheck(input, post);
      case 'sizes': {
        const db = openReadOnly(input.file);
        try {
          return withSizes(listObjects(db), measureObjectSizes(db));
        } finally {
          db.close();
        }
      }
      case 'count': {
        const db = openReadOnly(input.file);
        try {
          const out: Record<string, number> = {};
          for (const t of input.tables)
            out[t] = Number(
              (db.prepare(`SELECT count(*) AS n FROM ${quoteIdent(t)}`).get() as { n: number }).n,
            );
          return out;
        } finally {
          db.close();
        }
      }
      case 'action':
        preflightDatabaseFile(input.file);
        return runAction(input, post);
      case 'measure':
        return runMeasure(input, post);
      case 'sql':
        return runSql(input);
      case 'slow-queries':
        return await analyzeSlowQueries(input.options);
      case 'serve':
        return await serve();
    }
  } catch (err) {
    const e = classifyDbError(
      err,
      (input as { file?: string }).file ??
        (input as { options?: { database?: string } }).options?.database ??
        '?',
    );
    // Carry the kind across the thread boundary in the message: "[busy] file: ...".
    throw new Error(`[${e.kind}] ${e.message}`);
  }
  throw new Error(`unknown database task ${(input as { op?: string }).op}`);
}

/** Rebuilds a DbError from a worker's "[kind] message" error. */
export function reviveDbError(err: unknown, file: string): Error {
  const msg = (err as Error).message ?? String(err);
  const m = /^\[(missing|permission|not-a-database|corrupt|busy|readonly|full|other)\] (.*)$/s.exec(msg);
  if (!m) return err as Error;
  const text = m[2]!.startsWith(`${file}: `) ? m[2]!.slice(file.length + 2) : m[2]!;
  return new DbError(m[1] as DbError['kind'], file, text);
}
