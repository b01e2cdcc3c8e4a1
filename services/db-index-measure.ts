// Measuring an index recommendation for real, as an explicit action: a consistent copy of the
// database (VACUUM INTO, which never blocks the application) goes to the site's temp folder, the
// pattern's statement is timed there, the index is built, the statement is timed again, and the
// copy is deleted. The live database is never touched. Runs in a worker thread.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DbError } from './db-connection.js';
import { ensureDatabaseSchema, recordRun } from './db-history.js';
import { type MeasureResult, reviveDbError } from './db-tasks.js';
import { type DbJobRunner, freshWorker } from './db-worker.js';
import { freeSpaceOf } from './proc-mounts.js';
import type { StateDb } from './state-db.js';

export interface MeasurePlan {
  database: string;
  copy: string;
  sql: string;
  createIndex: string;
  refusals: string[];
  databaseBytes: number;
}

/** Where and whether a recommendation can be measured. */
export function planIndexMeasurement(opts: {
  database: string;
  tempDir: string;
  sql: string;
  createIndex: string;
  readOnly: boolean;
  freeBytesOf?: (dir: string) => number | null;
}): MeasurePlan {
  const refusals: string[] = [];
  if (opts.readOnly)
    refusals.push('read-only mode: measuring writes a copy of the database to the temp folder');
  let databaseBytes = 0;
  try {
    databaseBytes = statSync(opts.database).size;
    if (existsSync(`${opts.database}-wal`)) databaseBytes += statSync(`${opts.database}-wal`).size;
  } catch (err) {
    refusals.push(
      `${opts.database}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  if (!existsSync(opts.tempDir)) refusals.push(`the temp folder ${opts.tempDir} does not exist`);
  else {
    const free = (opts.freeBytesOf ?? freeSpaceOf)(opts.tempDir);
    if (free !== null && free < databaseBytes * 1.2)
      refusals.push(
        `not enough free disk in ${opts.tempDir} for a copy of the database (${databaseBytes} bytes)`,
      );
  }
  if (!/^\s*CREATE\s+(UNIQUE\s+)?INDEX\s/i.test(opts.createIndex))
    refusals.push('not a CREATE INDEX statement');
  if (!/^\s*(SELECT|WITH)\s/i.test(opts.sql)) refusals.push('only SELECT statements are timed');
  const copy = path.join(opts.tempDir, `cadence-ops-measure-${process.pid}-${Date.now()}.db`);
  return {
    database: opts.database,
    copy,
    sql: opts.sql,
    createIndex: opts.createIndex,
    refusals,
    databaseBytes,
  };
}

export class MeasureRefusedError extends Error {
  constructor(readonly reasons: string[]) {
    super(`index measurement refused: ${reasons.join('; ')}`);
    this.name = 'MeasureRefusedError';
  }
}

export async function measureIndex(opts: {
  plan: MeasurePlan;
  confirmed: boolean;
  runs?: number;
  state?: StateDb | null;
  onProgress?: (phase: string) => void;
  signal?: AbortSignal;
  runner?: DbJobRunner;
  now?: () => number;
}): Promise<MeasureResult> {
  const { plan } = opts;
  const startedAt = (opts.now ?? Date.now)();
  const started = performance.now();
  if (opts.state) ensureDatabaseSchema(opts.state);
  const record = (outcome: 'ok' | 'failed' | 'refused' | 'cancelled', summary: string, detail: unknown) =>
    opts.state &&
    recordRun(opts.state, {
      database: plan.database,
      kind: 'measure-index',
      startedAt,
      durationMs: performance.now() - started,
      outcome,
      summary,
      detail,
    });
  const reasons = [...plan.refusals];
  if (!reasons.length && !opts.confirmed) reasons.push('not confirmed');
  if (reasons.length) {
    record('refused', `measurement refused: ${reasons.join('; ')}`, {
      reasons,
      createIndex: plan.createIndex,
    });
    throw new MeasureRefusedError(reasons);
  }
  try {
    const r = await (opts.runner ?? freshWorker).run<MeasureResult>(
      {
        op: 'measure',
        file: plan.database,
        copy: plan.copy,
        sql: plan.sql,
        createIndex: plan.createIndex,
        runs: opts.runs ?? 5,
      },
      {
        onProgress: (m) => opts.onProgress?.(String((m as { phase?: string }).phase ?? '')),
        signal: opts.signal,
      },
    );
    record(
      'ok',
      `${plan.createIndex}: ${r.beforeMs.toFixed(1)} ms -> ${r.afterMs.toFixed(1)} ms (${r.speedup.toFixed(1)}x)`,
      { ...r, sql: plan.sql, createIndex: plan.createIndex, databaseBytes: plan.databaseBytes },
    );
    return r;
  } catch (err) {
    if (opts.signal?.aborted) {
      record('cancelled', 'measurement cancelled', { createIndex: plan.createIndex });
      throw new DbError('other', plan.database, 'index measurement cancelled');
    }
    const e = reviveDbError(err, plan.database);
    record('failed', e.message, { createIndex: plan.createIndex });
    throw e;
  }
}
