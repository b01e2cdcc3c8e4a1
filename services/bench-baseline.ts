// Benchmark history and baselines in the console's state database (schema "bench"), and the
// `performance_baseline.json` file the procedures name, written beside the site (atomically) when a
// baseline is saved and read back when the database has none.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SampleStats } from './bench-stats.js';
import { ensureSchema, type StateDb } from './state-db.js';

export const BASELINE_FILE_NAME = 'performance_baseline.json';

const SCHEMA = [
  `CREATE TABLE bench_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    runs INTEGER NOT NULL,
    warmup INTEGER NOT NULL,
    threshold_percent REAL NOT NULL,
    files INTEGER NOT NULL,
    regressions INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    host TEXT,
    saved_as_baseline INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE bench_results (
    run_id INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    file TEXT NOT NULL,
    format TEXT,
    bytes INTEGER,
    sha1 TEXT,
    triangles INTEGER,
    n INTEGER,
    mean_ms REAL,
    median_ms REAL,
    min_ms REAL,
    max_ms REAL,
    stddev_ms REAL,
    mb_per_s REAL,
    triangles_per_s REAL,
    peak_memory_bytes INTEGER,
    samples_ms TEXT,
    outliers TEXT,
    status TEXT,
    p_value REAL,
    error_code TEXT,
    error TEXT,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE bench_baselines (
    key TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    run_id INTEGER,
    saved_at TEXT NOT NULL,
    format TEXT,
    bytes INTEGER,
    sha1 TEXT,
    triangles INTEGER,
    n INTEGER NOT NULL,
    mean_ms REAL NOT NULL,
    median_ms REAL,
    stddev_ms REAL NOT NULL,
    min_ms REAL,
    max_ms REAL,
    samples_ms TEXT
  );`,
  `CREATE TABLE bench_sets (
    name TEXT PRIMARY KEY,
    paths TEXT NOT NULL,
    saved_at TEXT NOT NULL
  );`,
];

export function ensureBenchSchema(db: StateDb): void {
  ensureSchema(db, 'bench', SCHEMA);
}

export interface Baseline {
  key: string;
  file: string;
  savedAt: string;
  runId: number | null;
  format: string | null;
  bytes: number | null;
  sha1: string | null;
  triangles: number | null;
  n: number;
  meanMs: number;
  medianMs: number | null;
  stddevMs: number;
  minMs: number | null;
  maxMs: number | null;
  samplesMs: number[];
  source: 'database' | 'file';
}

interface BaselineRow {
  key: string;
  file: string;
  run_id: number | null;
  saved_at: string;
  format: string | null;
  bytes: number | null;
  sha1: string | null;
  triangles: number | null;
  n: number;
  mean_ms: number;
  median_ms: number | null;
  stddev_ms: number;
  min_ms: number | null;
  max_ms: number | null;
  samples_ms: string | null;
}

function fromRow(r: BaselineRow): Baseline {
  return {
    key: r.key,
    file: r.file,
    savedAt: r.saved_at,
    runId: r.run_id,
    format: r.format,
    bytes: r.bytes,
    sha1: r.sha1,
    triangles: r.triangles,
    n: r.n,
    meanMs: r.mean_ms,
    medianMs: r.median_ms,
    stddevMs: r.stddev_ms,
    minMs: r.min_ms,
    maxMs: r.max_ms,
    samplesMs: r.samples_ms ? (JSON.parse(r.samples_ms) as number[]) : [],
    source: 'database',
  };
}

export function loadBaselines(db: StateDb): Map<string, Baseline> {
  ensureBenchSchema(db);
  const rows = db.prepare('SELECT * FROM bench_baselines').all() as BaselineRow[];
  return new Map(rows.map((r) => [r.key, fromRow(r)]));
}

export interface BaselineInput {
  key: string;
  file: string;
  format: string | null;
  bytes: number | null;
  sha1: string | null;
  triangles: number | null;
  stats: SampleStats;
}

/** Replaces the baselines of the given files (others keep theirs). */
export function saveBaselines(
  db: StateDb,
  runId: number | null,
  items: BaselineInput[],
  savedAt: string,
): void {
  ensureBenchSchema(db);
  const put = db.prepare(
    `INSERT INTO bench_baselines (key, file, run_id, saved_at, format, bytes, sha1, triangles, n, mean_ms, median_ms, stddev_ms, min_ms, max_ms, samples_ms)
     VALUES (@key, @file, @runId, @savedAt, @format, @bytes, @sha1, @triangles, @n, @mean, @median, @stddev, @min, @max, @samples)
     ON CONFLICT(key) DO UPDATE SET file = excluded.file, run_id = excluded.run_id, saved_at = excluded.saved_at,
       format = excluded.format, bytes = excluded.bytes, sha1 = excluded.sha1, triangles = excluded.triangles, n = excluded.n,
       mean_ms = excluded.mean_ms, median_ms = excluded.median_ms, stddev_ms = excluded.stddev_ms, min_ms = excluded.min_ms,
       max_ms = excluded.max_ms, samples_ms = excluded.samples_ms`,
  );
  db.transaction(() => {
    for (const it of items) {
      put.run({
        key: it.key,
        file: it.file,
        runId,
        savedAt,
        format: it.format,
        bytes: it.bytes,
        sha1: it.sha1,
        triangles: it.triangles,
        n: it.stats.n,
        mean: it.stats.mean,
        median: it.stats.median,
        stddev: it.stats.stddev,
        min: it.stats.min,
        max: it.stats.max,
        samples: JSON.stringify(it.stats.samples.filter((_, i) => !it.stats.outliers.includes(i))),
      });
    }
    if (runId !== null) db.prepare('UPDATE bench_runs SET saved_as_baseline = 1 WHERE id = ?').run(runId);
  })();
}

export interface BaselineDocument {
  generated_by: string;
  saved_at: string;
  host: string;
  metric: string;
  threshold_percent: number;
  files: Record<
    string,
    {
      file: string;
      format: string | null;
      bytes: number | null;
      sha1: string | null;
      triangles: number | null;
      runs: number;
      mean_ms: number;
      median_ms: number | null;
      stddev_ms: number;
      min_ms: number | null;
      max_ms: number | null;
      samples_ms: number[];
    }
  >;
}

/** Writes performance_baseline.json (temp file + rename). */
export function exportBaselineJson(
  file: string,
  baselines: Iterable<Baseline>,
  meta: { version: string; thresholdPercent: number; savedAt: string },
): void {
  const doc: BaselineDocument = {
    generated_by: `cadence-ops ${meta.version}`,
    saved_at: meta.savedAt,
    host: os.hostname(),
    metric: 'model load time (read + parse) in the headless loader, milliseconds',
    threshold_percent: meta.thresholdPercent,
    files: {},
  };
  for (const b of [...baselines].sort((x, y) => x.key.localeCompare(y.key))) {
    doc.files[b.key] = {
      file: b.file,
      format: b.format,
      bytes: b.bytes,
      sha1: b.sha1,
      triangles: b.triangles,
      runs: b.n,
      mean_ms: round(b.meanMs),
      median_ms: b.medianMs === null ? null : round(b.medianMs),
      stddev_ms: round(b.stddevMs),
      min_ms: b.minMs === null ? null : round(b.minMs),
      max_ms: b.maxMs === null ? null : round(b.maxMs),
      samples_ms: b.samplesMs.map(round),
    };
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, file);
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Baselines from a performance_baseline.json; an unreadable or malformed file gives none and a reason. */
export function importBaselineJson(file: string): { baselines: Map<string, Baseline>; error: string | null } {
  const out = new Map<string, Baseline>();
  let doc: BaselineDocument;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as BaselineDocument;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { baselines: out, error: code === 'ENOENT' ? null : `${file}: ${(err as Error).message}` };
  }
  if (!doc || typeof doc !== 'object' || typeof doc.files !== 'object' || doc.files === null)
    return { baselines: out, error: `${file}: no "files" object` };
  for (const [key, f] of Object.entries(doc.files)) {
    if (typeof f?.mean_ms !== 'number' || typeof f.runs !== 'number') continue;
    out.set(key, {
      key,
      file: f.file ?? key,
      savedAt: doc.saved_at ?? '',
      runId: null,
      format: f.format ?? null,
      bytes: f.bytes ?? null,
      sha1: f.sha1 ?? null,
      triangles: f.triangles ?? null,
      n: f.runs,
      meanMs: f.mean_ms,
      medianMs: f.median_ms ?? null,
      stddevMs: f.stddev_ms ?? 0,
      minMs: f.min_ms ?? null,
      maxMs: f.max_ms ?? null,
      samplesMs: Array.isArray(f.samples_ms) ? f.samples_ms : [],
      source: 'file',
    });
  }
  return { baselines: out, error: null };
}

export interface RunRow {
  id: number;
  startedAt: string;
  finishedAt: string;
  runs: number;
  warmup: number;
  files: number;
  regressions: number;
  failures: number;
  savedAsBaseline: boolean;
}

export function listRuns(db: StateDb, limit = 50): RunRow[] {
  ensureBenchSchema(db);
  const rows = db
    .prepare(
      'SELECT id, started_at, finished_at, runs, warmup, files, regressions, failures, saved_as_baseline FROM bench_runs ORDER BY id DESC LIMIT ?',
    )
    .all(limit) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    id: r.id as number,
    startedAt: r.started_at as string,
    finishedAt: r.finished_at as string,
    runs: r.runs as number,
    warmup: r.warmup as number,
    files: r.files as number,
    regressions: r.regressions as number,
    failures: r.failures as number,
    savedAsBaseline: Boolean(r.saved_as_baseline),
  }));
}

/** Mean load time of one file over the recorded runs, oldest first (for trends). */
export function fileHistory(
  db: StateDb,
  key: string,
  limit = 30,
): Array<{ runId: number; at: string; meanMs: number }> {
  ensureBenchSchema(db);
  const rows = db
    .prepare(
      `SELECT r.id AS runId, r.started_at AS at, x.mean_ms AS meanMs FROM bench_results x JOIN bench_runs r ON r.id = x.run_id
       WHERE x.key = ? AND x.mean_ms IS NOT NULL ORDER BY r.id DESC LIMIT ?`,
    )
    .all(key, limit) as Array<{ runId: number; at: string; meanMs: number }>;
  return rows.reverse();
}

/** Named selections of model files for screen 6 (a "saved set"). */
export function saveFileSet(db: StateDb, name: string, paths: string[], savedAt: string): void {
  ensureBenchSchema(db);
  db.prepare(
    'INSERT INTO bench_sets (name, paths, saved_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET paths = excluded.paths, saved_at = excluded.saved_at',
  ).run(name, JSON.stringify(paths), savedAt);
}

export function loadFileSet(db: StateDb, name: string): string[] | null {
  ensureBenchSchema(db);
  const row = db.prepare('SELECT paths FROM bench_sets WHERE name = ?').get(name) as
    | { paths: string }
    | undefined;
  return row ? (JSON.parse(row.paths) as string[]) : null;
}

export function listFileSets(db: StateDb): Array<{ name: string; count: number; savedAt: string }> {
  ensureBenchSchema(db);
  const rows = db.prepare('SELECT name, paths, saved_at FROM bench_sets ORDER BY name').all() as Array<{
    name: string;
    paths: string;
    saved_at: string;
  }>;
  return rows.map((r) => ({
    name: r.name,
    count: (JSON.parse(r.paths) as string[]).length,
    savedAt: r.saved_at,
  }));
}
