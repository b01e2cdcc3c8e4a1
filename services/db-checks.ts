// integrity_check, quick_check and foreign_key_check with progress and cancel. The check runs in a
// worker thread (db-tasks.ts) so the screen keeps answering keys. Progress: foreign keys are
// checked table by table (real progress); SQLite's integrity and quick checks are one statement
// with no progress callback in this build, so their progress is elapsed time against the time the
// last check of this database took per MB (or a measured default), capped below 100 % until done.
import { statSync } from 'node:fs';
import type { Config } from './config.js';
import { DbError } from './db-connection.js';
import {
  ensureDatabaseSchema,
  type GrowthReport,
  lastRate,
  latestGrowth,
  type RunOutcome,
  recordRun,
} from './db-history.js';
import { type CheckKind, type CheckResult, reviveDbError } from './db-tasks.js';
import { type DbJobRunner, runDbJob } from './db-worker.js';
import type { StateDb } from './state-db.js';

/** Milliseconds per MB on a 2-core host like ours (100,000 models, BACKUP-NOTES.md and our bench). */
export const DEFAULT_MS_PER_MB: Record<CheckKind, number> = { integrity: 8, quick: 3, foreign_keys: 1 };

export interface CheckProgress {
  kind: CheckKind;
  phase: string;
  /** 0..1; for integrity and quick checks an estimate from elapsed time. */
  fraction: number;
  estimated: boolean;
  elapsedMs: number;
  expectedMs: number;
  table?: string;
  message?: string;
}

export interface CheckOutcome extends CheckResult {
  durationMs: number;
  runId: number | null;
  growth: GrowthReport | null;
}

export interface CheckOptions {
  database: string;
  kind: CheckKind;
  settings: Config['database'];
  tableGrowthPercent: number;
  state?: StateDb | null;
  onProgress?: (p: CheckProgress) => void;
  signal?: AbortSignal;
  /**
   * 'worker' (default: a fresh worker thread) or a warm DbWorker keep the caller's thread free;
   * 'inline' runs here (headless, no screen to keep answering).
   */
  runner?: 'worker' | 'inline' | DbJobRunner;
  now?: () => number;
}

export function expectedCheckMs(
  bytes: number,
  kind: CheckKind,
  state?: StateDb | null,
  database?: string,
): number {
  const rate = (state && database ? lastRate(state, database, kind) : null) ?? DEFAULT_MS_PER_MB[kind];
  return Math.max(50, (bytes / 1048576) * rate);
}

export async function runDatabaseCheck(opts: CheckOptions): Promise<CheckOutcome> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const started = performance.now();
  let bytes = 0;
  try {
    bytes = statSync(opts.database).size;
  } catch {}
  if (opts.state) ensureDatabaseSchema(opts.state);
  const expectedMs = expectedCheckMs(bytes, opts.kind, opts.state, opts.database);
  let phase = 'starting';
  let tableProgress: { done: number; total: number; table: string } | null = null;
  const emit = (message?: string) => {
    const elapsedMs = performance.now() - started;
    const fraction = tableProgress
      ? tableProgress.done / Math.max(1, tableProgress.total)
      : Math.min(0.99, elapsedMs / expectedMs);
    opts.onProgress?.({
      kind: opts.kind,
      phase,
      fraction,
      estimated: !tableProgress,
      elapsedMs,
      expectedMs,
      table: tableProgress?.table,
      message,
    });
  };
  const onMessage = (m: unknown) => {
    const msg = m as { phase?: string; table?: string; done?: number; total?: number; message?: string };
    if (msg.phase) phase = msg.phase;
    if (msg.table !== undefined && msg.total)
      tableProgress = { table: msg.table, done: msg.done ?? 0, total: msg.total };
    emit(msg.message);
  };
  const timer = opts.onProgress ? setInterval(() => emit(), 100) : null;
  const input = {
    op: 'check' as const,
    file: opts.database,
    kind: opts.kind,
    maxErrors: opts.settings.checkMaxErrors,
    busyTimeoutMs: opts.settings.busyTimeoutMs,
    busyRetries: opts.settings.busyRetries,
  };
  const record = (
    outcome: RunOutcome,
    summary: string,
    result?: CheckResult,
    error?: string,
  ): number | null => {
    if (!opts.state) return null;
    return recordRun(
      opts.state,
      {
        database: opts.database,
        kind: opts.kind,
        startedAt,
        durationMs: performance.now() - started,
        outcome,
        summary,
        detail: result
          ? {
              databaseBytes: result.databaseBytes,
              checkMs: result.checkMs,
              errors: result.errors.slice(0, 100),
              truncated: result.truncated,
              attempts: result.attempts,
            }
          : { databaseBytes: bytes, error },
      },
      result?.sizes,
    );
  };
  let result: CheckResult;
  try {
    emit();
    result = await runDbJob<CheckResult>(opts.runner, input, { onProgress: onMessage, signal: opts.signal });
  } catch (err) {
    if (timer) clearInterval(timer);
    if (opts.signal?.aborted) {
      record('cancelled', 'cancelled by the user');
      throw new DbError('other', opts.database, `${opts.kind} check cancelled`);
    }
    const e = reviveDbError(err, opts.database);
    record('failed', e.message, undefined, e.message);
    throw e;
  }
  if (timer) clearInterval(timer);
  phase = 'done';
  tableProgress = { done: 1, total: 1, table: '' };
  emit();
  const summary = result.ok
    ? `${opts.kind} check: ok`
    : `${opts.kind} check: ${result.errors.length}${result.truncated ? '+' : ''} problem${result.errors.length === 1 ? '' : 's'}`;
  const runId = record(result.ok ? 'ok' : 'problems', summary, result);
  const growth = opts.state ? latestGrowth(opts.state, opts.database, opts.tableGrowthPercent) : null;
  return { ...result, durationMs: performance.now() - started, runId, growth };
}
