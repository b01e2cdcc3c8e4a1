// Maintenance actions on the live database: ANALYZE, PRAGMA optimize, VACUUM, REINDEX and
// wal_checkpoint(TRUNCATE). Each is planned first (what it will do, what stands in the way, what to
// beware of), refused when unsafe, run only when confirmed, in a worker thread with a write
// connection held no longer than the action, and recorded in the console's state database with
// its result and duration, refusals included.
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findAppProcess } from './app-process.js';
import type { Config } from './config.js';
import { classifyDbError, DbError, preflightDatabaseFile, withReadOnly } from './db-connection.js';
import { ensureDatabaseSchema, type GrowthReport, lastRate, latestGrowth, recordRun } from './db-history.js';
import { probeWriteLock, readSqliteLocks, writersOf } from './db-locks.js';
import { type ActionKind, type ActionResult, reviveDbError } from './db-tasks.js';
import { type DbJobRunner, runDbJob } from './db-worker.js';
import { findOpenFileHolders, sqliteFileSet } from './open-files.js';
import { freeSpaceOf } from './proc-mounts.js';
import type { StateDb } from './state-db.js';

export const ACTIONS: Record<ActionKind, { title: string; does: string; msPerMb: number }> = {
  analyze: {
    title: 'ANALYZE',
    does: 'refreshes the query planner statistics (sqlite_stat1, sqlite_stat4)',
    msPerMb: 3,
  },
  optimize: {
    title: 'PRAGMA optimize',
    does: 'runs ANALYZE on the tables whose statistics are missing or stale',
    msPerMb: 3,
  },
  vacuum: {
    title: 'VACUUM',
    does: 'rebuilds the database file: frees unused pages and defragments; holds the write lock throughout',
    msPerMb: 14,
  },
  reindex: {
    title: 'REINDEX',
    does: 'rebuilds indexes from their tables; holds the write lock throughout',
    msPerMb: 6,
  },
  checkpoint: {
    title: 'wal_checkpoint(TRUNCATE)',
    does: 'copies the WAL into the database file and truncates the WAL to zero bytes',
    msPerMb: 1,
  },
};

export interface ActionPlan {
  action: ActionKind;
  target: string | null;
  database: string;
  title: string;
  does: string;
  /** Reasons the action will not run. */
  refusals: string[];
  /** Things to beware of; the action may still run when confirmed. */
  warnings: string[];
  facts: {
    databaseBytes: number;
    walBytes: number;
    journalMode: string | null;
    freeBytes: number | null;
    tempFreeBytes: number | null;
    appPid: number | null;
    /** Other processes with the database open. */
    holders: Array<{ pid: number; command: string }>;
    writers: number[];
    lockFree: boolean | null;
    expectedMs: number;
  };
}

export interface PlanOptions {
  database: string;
  action: ActionKind;
  target?: string | null;
  readOnly: boolean;
  pidFile?: string | null;
  processPattern?: string | null;
  /** A process found by the pattern must work on this site. */
  siteRoot?: string | null;
  state?: StateDb | null;
  /** Where VACUUM writes its temporary copy (SQLITE_TMPDIR or /var/tmp, /usr/tmp, /tmp). */
  tempDir?: string;
  /** Free bytes of the filesystem holding a folder (statfs); replaceable in tests. */
  freeBytesOf?: (dir: string) => number | null;
}

function sizeOr0(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

/** What the action will do and whether it may: every check that is cheap, nothing changed. */
export async function planAction(opts: PlanOptions): Promise<ActionPlan> {
  const meta = ACTIONS[opts.action];
  const refusals: string[] = [];
  const warnings: string[] = [];
  const target = opts.target ?? null;
  if (opts.readOnly) refusals.push('read-only mode: actions that change the database are disabled');
  let journalMode: string | null = null;
  let databaseBytes = 0;
  try {
    databaseBytes = preflightDatabaseFile(opts.database).size;
    // No waiting here (this may run on the screen's thread): a held lock is the action's to wait for.
    withReadOnly(
      opts.database,
      (db) => {
        journalMode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
        if (target) {
          const found = db
            .prepare('SELECT type FROM sqlite_schema WHERE name = ? COLLATE NOCASE')
            .get(target) as { type: string } | undefined;
          if (!found) refusals.push(`no table or index named ${target}`);
          else if (opts.action === 'reindex' && found.type !== 'index' && found.type !== 'table')
            refusals.push(`${target} is a ${found.type}: REINDEX takes a table or an index`);
          else if (opts.action === 'analyze' && found.type !== 'index' && found.type !== 'table')
            refusals.push(`${target} is a ${found.type}: ANALYZE takes a table or an index`);
        }
      },
      { busyTimeoutMs: 0 },
    );
  } catch (err) {
    if (classifyDbError(err, opts.database).kind === 'busy')
      warnings.push('the database is locked right now: the action waits for it, then retries');
    else refusals.push((err as Error).message);
  }
  if (target && opts.action !== 'analyze' && opts.action !== 'reindex')
    refusals.push(`${meta.title} does not take a table or index name`);
  const walBytes = sizeOr0(`${opts.database}-wal`);
  if (opts.action === 'checkpoint' && journalMode && journalMode !== 'wal')
    refusals.push(`journal mode is ${journalMode}: there is no WAL to checkpoint`);

  const dir = path.dirname(path.resolve(opts.database));
  const freeOf = opts.freeBytesOf ?? freeSpaceOf;
  const free = freeOf(dir);
  const tempDir = opts.tempDir ?? process.env.SQLITE_TMPDIR ?? os.tmpdir();
  const tempFree = freeOf(tempDir);
  if (opts.action === 'vacuum' && databaseBytes > 0) {
    // VACUUM writes a full copy to a temporary file and, in WAL mode, the whole database through the WAL.
    if (free !== null && free < 2 * databaseBytes)
      refusals.push(
        `not enough free disk for VACUUM: ${mb(free)} free in ${dir}, needs at least ${mb(2 * databaseBytes)} (2x the database)`,
      );
    let sameFs = false;
    try {
      sameFs = statSync(dir).dev === statSync(tempDir).dev;
    } catch {}
    if (!sameFs && tempFree !== null && tempFree < databaseBytes)
      refusals.push(`not enough free disk in ${tempDir} for VACUUM's temporary copy: ${mb(tempFree)} free`);
  }

  const app = findAppProcess({
    pidFile: opts.pidFile ?? null,
    pattern: opts.processPattern ?? null,
    siteRoot: opts.siteRoot ?? null,
  }).process;
  const scan = await findOpenFileHolders(sqliteFileSet(opts.database));
  const holders = [...new Map(scan.holders.map((h) => [h.pid, { pid: h.pid, command: h.command }])).values()];
  const writers = writersOf(readSqliteLocks(opts.database));
  let lockFree: boolean | null = null;
  if (!refusals.length)
    lockFree = holders.length || scan.unreadable ? probeWriteLock(opts.database).writable : true;
  const rate = (opts.state ? lastRate(opts.state, opts.database, opts.action) : null) ?? meta.msPerMb;
  const expectedMs = (databaseBytes / 1048576) * rate;

  const exclusive = opts.action === 'vacuum' || opts.action === 'reindex';
  if (app)
    warnings.push(
      exclusive
        ? `the application is running (pid ${app.pid}): ${meta.title} holds the write lock for about ${(expectedMs / 1000).toFixed(1)} s; its writes wait or fail with "database is locked" meanwhile`
        : `the application is running (pid ${app.pid})`,
    );
  else if (holders.length)
    warnings.push(
      `${holders.length} process(es) have the database open: ${holders.map((h) => `${h.pid} ${h.command}`).join(', ')}`,
    );
  if (writers.length)
    warnings.push(
      `a write transaction is open now (pid ${writers.join(', ')}): the action waits for it, then retries`,
    );
  else if (lockFree === false)
    warnings.push('the write lock is taken right now: the action waits for it, then retries');
  if (opts.action === 'checkpoint' && holders.length)
    warnings.push(
      'readers with an open snapshot can keep the checkpoint from completing (it then reports busy)',
    );
  if (exclusive) warnings.push('a quick_check runs first; the action is refused if it finds problems');

  return {
    action: opts.action,
    target,
    database: opts.database,
    title: meta.title + (target ? ` ${target}` : ''),
    does: meta.does,
    refusals,
    warnings,
    facts: {
      databaseBytes,
      walBytes,
      journalMode,
      freeBytes: free,
      tempFreeBytes: tempFree,
      appPid: app?.pid ?? null,
      holders,
      writers,
      lockFree,
      expectedMs,
    },
  };
}

export class ActionRefusedError extends Error {
  constructor(
    readonly plan: ActionPlan,
    readonly reasons: string[],
  ) {
    super(`${plan.title} refused: ${reasons.join('; ')}`);
    this.name = 'ActionRefusedError';
  }
}

export interface ActionOutcome extends ActionResult {
  durationMs: number;
  runId: number | null;
  growth: GrowthReport | null;
  plan: ActionPlan;
}

export interface RunActionOptions {
  plan: ActionPlan;
  /** The user said yes (a dialog, or --yes). Without it the action is refused. */
  confirmed: boolean;
  settings: Config['database'];
  tableGrowthPercent: number;
  state?: StateDb | null;
  onProgress?: (p: { phase: string; elapsedMs: number; expectedMs: number; message?: string }) => void;
  signal?: AbortSignal;
  runner?: 'worker' | 'inline' | DbJobRunner;
  now?: () => number;
}

export async function runMaintenanceAction(opts: RunActionOptions): Promise<ActionOutcome> {
  const { plan } = opts;
  const startedAt = (opts.now ?? Date.now)();
  const started = performance.now();
  if (opts.state) ensureDatabaseSchema(opts.state);
  const reasons = [...plan.refusals];
  if (!reasons.length && !opts.confirmed) reasons.push('not confirmed');
  const record = (
    outcome: 'ok' | 'failed' | 'refused' | 'cancelled' | 'problems',
    summary: string,
    detail: unknown,
    sizes?: ActionResult['sizes'],
  ) =>
    opts.state
      ? recordRun(
          opts.state,
          {
            database: plan.database,
            kind: plan.action,
            startedAt,
            durationMs: performance.now() - started,
            outcome,
            summary,
            detail,
          },
          sizes,
        )
      : null;
  if (reasons.length) {
    record('refused', `${plan.title} refused: ${reasons.join('; ')}`, {
      reasons,
      databaseBytes: plan.facts.databaseBytes,
    });
    throw new ActionRefusedError(plan, reasons);
  }
  const input = {
    op: 'action' as const,
    file: plan.database,
    action: plan.action,
    target: plan.target,
    busyTimeoutMs: opts.settings.busyTimeoutMs,
    busyRetries: opts.settings.busyRetries,
  };
  let phase = 'starting';
  const emit = (message?: string) =>
    opts.onProgress?.({
      phase,
      elapsedMs: performance.now() - started,
      expectedMs: plan.facts.expectedMs,
      message,
    });
  const onMessage = (m: unknown) => {
    const msg = m as { phase?: string; message?: string };
    if (msg.phase) phase = msg.phase;
    emit(msg.message);
  };
  const timer = opts.onProgress ? setInterval(() => emit(), 100) : null;
  let result: ActionResult;
  try {
    emit();
    result = await runDbJob<ActionResult>(opts.runner, input, { onProgress: onMessage, signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted) {
      record('cancelled', `${plan.title} cancelled`, { databaseBytes: plan.facts.databaseBytes });
      throw new DbError(
        'other',
        plan.database,
        `${plan.title} cancelled (SQLite rolls back an unfinished action)`,
      );
    }
    const e = reviveDbError(err, plan.database);
    const refused = e instanceof DbError && e.kind === 'corrupt' && /refused/.test(e.message);
    record(refused ? 'refused' : 'failed', e.message, {
      error: e.message,
      databaseBytes: plan.facts.databaseBytes,
    });
    if (refused) throw new ActionRefusedError(plan, [e.message]);
    throw e;
  } finally {
    if (timer) clearInterval(timer);
  }
  const d = result.details as {
    checkpoint?: { busy: number; log: number; checkpointed: number };
    statements?: string[];
  };
  let summary = `${plan.title}: done in ${(result.ms / 1000).toFixed(2)} s`;
  if (plan.action === 'vacuum' || plan.action === 'reindex')
    summary += `, ${mb(Number(result.details.bytesBefore))} -> ${mb(Number(result.details.bytesAfter))}`;
  if (plan.action === 'checkpoint' && d.checkpoint)
    summary += d.checkpoint.busy
      ? `, incomplete: ${d.checkpoint.checkpointed} of ${d.checkpoint.log} frames (readers held it back)`
      : `, WAL ${mb(Number(result.details.walBytesBefore))} -> ${mb(Number(result.details.walBytesAfter))}`;
  if (plan.action === 'optimize')
    summary += d.statements?.length
      ? `, ran ${d.statements.join('; ')}`
      : ', statistics were current: nothing to do';
  const outcome = plan.action === 'checkpoint' && d.checkpoint?.busy ? 'problems' : 'ok';
  const runId = record(
    outcome,
    summary,
    { ...result.details, databaseBytes: result.databaseBytes, attempts: result.attempts },
    result.sizes,
  );
  const growth = opts.state ? latestGrowth(opts.state, plan.database, opts.tableGrowthPercent) : null;
  return {
    ...result,
    durationMs: performance.now() - started,
    runId,
    growth,
    plan,
    details: { ...result.details, summary },
  };
}
