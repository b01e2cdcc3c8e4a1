// What the database tools remember, in the console's state database (schema "database"): every
// check and action with its outcome and duration (refusals too), and the size of every table and
// index at each check, from which growth between checks and its rate are computed.
import path from 'node:path';
import { ensureSchema, type StateDb } from './state-db.js';

const SCHEMA = [
  `CREATE TABLE db_runs (
     id INTEGER PRIMARY KEY,
     database TEXT NOT NULL,
     kind TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     duration_ms REAL,
     outcome TEXT NOT NULL,
     summary TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX db_runs_by_kind ON db_runs (database, kind, started_at);
   CREATE TABLE db_sizes (
     run_id INTEGER NOT NULL REFERENCES db_runs (id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     tbl TEXT,
     rows INTEGER,
     bytes INTEGER,
     PRIMARY KEY (run_id, name)
   );`,
];

export type RunKind =
  | 'integrity'
  | 'quick'
  | 'foreign_keys'
  | 'analyze'
  | 'optimize'
  | 'vacuum'
  | 'reindex'
  | 'checkpoint'
  | 'measure-index';

/** ok: done, nothing wrong; problems: done and found errors; failed: could not finish. */
export type RunOutcome = 'ok' | 'problems' | 'failed' | 'refused' | 'cancelled';

export interface RunRecord {
  id: number;
  database: string;
  kind: RunKind;
  startedAt: number;
  durationMs: number | null;
  outcome: RunOutcome;
  summary: string;
  detail: unknown;
}

export function ensureDatabaseSchema(state: StateDb): void {
  ensureSchema(state, 'database', SCHEMA);
}

export function recordRun(
  state: StateDb,
  run: Omit<RunRecord, 'id'>,
  sizes?: Array<{
    name: string;
    kind: string;
    table: string | null;
    rows: number | null;
    bytes: number | null;
  }>,
): number {
  ensureDatabaseSchema(state);
  return state
    .transaction(() => {
      const id = Number(
        state
          .prepare(
            'INSERT INTO db_runs (database, kind, started_at, duration_ms, outcome, summary, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            path.resolve(run.database),
            run.kind,
            run.startedAt,
            run.durationMs,
            run.outcome,
            run.summary,
            run.detail === undefined ? null : JSON.stringify(run.detail),
          ).lastInsertRowid,
      );
      if (sizes?.length) {
        const ins = state.prepare(
          'INSERT OR REPLACE INTO db_sizes (run_id, name, kind, tbl, rows, bytes) VALUES (?, ?, ?, ?, ?, ?)',
        );
        for (const s of sizes) ins.run(id, s.name, s.kind, s.table, s.rows, s.bytes);
      }
      return id;
    })
    .immediate();
}

type RunRow = {
  id: number;
  database: string;
  kind: RunKind;
  started_at: number;
  duration_ms: number | null;
  outcome: RunOutcome;
  summary: string;
  detail: string | null;
};

const toRecord = (r: RunRow): RunRecord => ({
  id: r.id,
  database: r.database,
  kind: r.kind,
  startedAt: r.started_at,
  durationMs: r.duration_ms,
  outcome: r.outcome,
  summary: r.summary,
  detail: r.detail ? JSON.parse(r.detail) : null,
});

export function recentRuns(
  state: StateDb,
  database: string,
  opts: { kind?: RunKind; limit?: number } = {},
): RunRecord[] {
  ensureDatabaseSchema(state);
  const rows = state
    .prepare(
      `SELECT * FROM db_runs WHERE database = ? ${opts.kind ? 'AND kind = ?' : ''} ORDER BY started_at DESC, id DESC LIMIT ?`,
    )
    .all(...[path.resolve(database), ...(opts.kind ? [opts.kind] : []), opts.limit ?? 20]) as RunRow[];
  return rows.map(toRecord);
}

/**
 * Milliseconds per MB that the last successful run of this kind took on this database: the basis of
 * the progress estimate of the next one. Null when never run.
 */
export function lastRate(state: StateDb, database: string, kind: RunKind): number | null {
  const last = recentRuns(state, database, { kind, limit: 5 }).find(
    (r) => (r.outcome === 'ok' || r.outcome === 'problems') && r.durationMs,
  );
  const bytes = (last?.detail as { databaseBytes?: number } | null)?.databaseBytes;
  if (!last?.durationMs || !bytes) return null;
  return last.durationMs / (bytes / 1048576);
}

export interface SizeSnapshot {
  runId: number;
  takenAt: number;
  kind: RunKind;
  objects: Map<string, { kind: string; table: string | null; rows: number | null; bytes: number | null }>;
}

/** The newest size snapshots of a database, newest first. */
export function sizeSnapshots(state: StateDb, database: string, limit = 2): SizeSnapshot[] {
  ensureDatabaseSchema(state);
  const runs = state
    .prepare(
      'SELECT id, started_at, kind FROM db_runs WHERE database = ? AND id IN (SELECT DISTINCT run_id FROM db_sizes) ORDER BY started_at DESC, id DESC LIMIT ?',
    )
    .all(path.resolve(database), limit) as Array<{ id: number; started_at: number; kind: RunKind }>;
  const sel = state.prepare('SELECT name, kind, tbl, rows, bytes FROM db_sizes WHERE run_id = ?');
  return runs.map((r) => ({
    runId: r.id,
    takenAt: r.started_at,
    kind: r.kind,
    objects: new Map(
      (
        sel.all(r.id) as Array<{
          name: string;
          kind: string;
          tbl: string | null;
          rows: number | null;
          bytes: number | null;
        }>
      ).map((o) => [o.name, { kind: o.kind, table: o.tbl, rows: o.rows, bytes: o.bytes }]),
    ),
  }));
}

export interface Growth {
  name: string;
  kind: string;
  table: string | null;
  rowsBefore: number | null;
  rows: number | null;
  bytesBefore: number | null;
  bytes: number | null;
  /** Percent change between the two snapshots (null when either is unknown or the object is new). */
  rowsPercent: number | null;
  bytesPercent: number | null;
  /** Change per day at the rate seen between the two snapshots. */
  rowsPerDay: number | null;
  bytesPerDay: number | null;
  /** Over the threshold, on an object big enough to matter (100 rows or 64 KB before). */
  warn: boolean;
}

export interface GrowthReport {
  from: number;
  to: number;
  thresholdPercent: number;
  objects: Growth[];
  warnings: Growth[];
}

const pct = (a: number | null, b: number | null) =>
  a !== null && b !== null && a > 0 ? ((b - a) / a) * 100 : null;

/** Growth between an older and a newer snapshot. */
export function growthBetween(
  older: SizeSnapshot,
  newer: SizeSnapshot,
  thresholdPercent: number,
): GrowthReport {
  const days = Math.max((newer.takenAt - older.takenAt) / 86400_000, 1e-9);
  const objects: Growth[] = [];
  for (const [name, now] of newer.objects) {
    const before = older.objects.get(name);
    const rowsBefore = before?.rows ?? null;
    const bytesBefore = before?.bytes ?? null;
    const rowsPercent = pct(rowsBefore, now.rows);
    const bytesPercent = pct(bytesBefore, now.bytes);
    const bigEnough = (rowsBefore ?? 0) >= 100 || (bytesBefore ?? 0) >= 65536;
    objects.push({
      name,
      kind: now.kind,
      table: now.table,
      rowsBefore,
      rows: now.rows,
      bytesBefore,
      bytes: now.bytes,
      rowsPercent,
      bytesPercent,
      rowsPerDay: rowsBefore !== null && now.rows !== null ? (now.rows - rowsBefore) / days : null,
      bytesPerDay: bytesBefore !== null && now.bytes !== null ? (now.bytes - bytesBefore) / days : null,
      warn: bigEnough && Math.max(rowsPercent ?? 0, bytesPercent ?? 0) > thresholdPercent,
    });
  }
  objects.sort((a, b) => (b.bytesPercent ?? -1e9) - (a.bytesPercent ?? -1e9));
  return {
    from: older.takenAt,
    to: newer.takenAt,
    thresholdPercent,
    objects,
    warnings: objects.filter(
      (o) => o.warn && (o.kind === 'table' || o.kind === 'index' || o.kind === 'file'),
    ),
  };
}

/** Growth between the last two recorded snapshots, or null before the second check. */
export function latestGrowth(
  state: StateDb,
  database: string,
  thresholdPercent: number,
): GrowthReport | null {
  const [newer, older] = sizeSnapshots(state, database, 2);
  return newer && older ? growthBetween(older, newer, thresholdPercent) : null;
}
