// A benchmark run: model files handed to the headless loader process with warm-up runs and timed
// repeats; per file the statistics of the load time (read + parse), MB/s and triangles/s, the
// load-time and memory targets of the procedures (SITE.md; PERF001 over 30 s, PERF002 over 2 GB),
// and the comparison with the saved baseline (bench-stats.ts decides what is a regression).
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BASELINE_FILE_NAME,
  type Baseline,
  ensureBenchSchema,
  exportBaselineJson,
  importBaselineJson,
  loadBaselines,
  saveBaselines,
} from './bench-baseline.js';
import { compareWithBaseline, describeSamples, type SampleStats, type Verdict } from './bench-stats.js';
import { MODEL_EXTENSIONS } from './model-detect.js';
import { type LoaderLimits, type LoadOutcome, runLoader } from './model-loader.js';
import type { StateDb } from './state-db.js';

export interface TargetCheck {
  /** The size class of SITE.md: under 100 MB, up to 500 MB, above. */
  sizeClass: string;
  timeLimitS: number;
  memoryLimitMb: number;
  timeOk: boolean;
  memoryOk: boolean | null;
  /** Procedure codes raised: PERF001 (load over 30 s), PERF002 (memory over 2 GB). */
  codes: string[];
}

export interface FileResult {
  file: string;
  /** The file's name in the baseline: relative to the site root when inside it. */
  key: string;
  format: string | null;
  bytes: number;
  triangles: number | null;
  sha1: string | null;
  /** Load time (read + parse) statistics, milliseconds; null when the file failed. */
  stats: SampleStats | null;
  /** Parse-only mean, milliseconds. */
  parseMeanMs: number | null;
  mbPerSec: number | null;
  trianglesPerSec: number | null;
  /** Highest peak memory of the loader over its resident size before the file, bytes. */
  peakMemoryBytes: number | null;
  target: TargetCheck | null;
  baseline: Baseline | null;
  /** True when the file's content differs from the baseline's (other SHA-1): not compared. */
  changedSinceBaseline: boolean;
  verdict: Verdict;
  error: { code: string; message: string } | null;
  warnings: string[];
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  runs: number;
  warmup: number;
  thresholdPercent: number;
  files: FileResult[];
  /** Paths given that were skipped (not a model file, unreadable folder). */
  skipped: string[];
  regressions: number;
  failures: number;
  /** Files over their SITE.md time target, and PERF001 (over 30 s). */
  targetsMissed: number;
  perf001: number;
  baselineSource: string | null;
  notes: string[];
  runId: number | null;
}

export type BenchProgress =
  | { type: 'file-start'; file: string; index: number; total: number }
  | {
      type: 'run';
      file: string;
      index: number;
      total: number;
      run: number;
      runs: number;
      warmup: boolean;
      ms: number;
    }
  | { type: 'file-done'; file: string; index: number; total: number; result: FileResult };

export interface BenchOptions {
  paths: string[];
  runs: number;
  warmup: number;
  limits: LoaderLimits;
  thresholdPercent: number;
  /** Site root: keys are relative to it, and performance_baseline.json lives there. */
  siteRoot: string | null;
  db: StateDb | null;
  onProgress?: (p: BenchProgress) => void;
  signal?: AbortSignal;
  now?: () => Date;
}

const MODEL_FILE = new RegExp(`\\.(${MODEL_EXTENSIONS.join('|')})$`, 'i');

/** Files to benchmark: files as given, folders walked for model files (sorted). */
export function expandPaths(paths: string[], maxFiles = 10_000): { files: string[]; skipped: string[] } {
  const files: string[] = [];
  const skipped: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      skipped.push(`${dir}: ${(err as Error).message}`);
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = path.join(dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory() && depth < 8) walk(p, depth + 1);
      else if (st.isFile() && MODEL_FILE.test(name) && files.length < maxFiles) files.push(p);
    }
  };
  for (const given of paths) {
    const p = path.resolve(given);
    let st: ReturnType<typeof statSync> | null = null;
    try {
      st = statSync(p);
    } catch {}
    if (st?.isDirectory()) walk(p, 0);
    else files.push(p); // a missing or odd file is loaded anyway, so the loader names the problem
  }
  return { files: [...new Set(files)], skipped };
}

export function keyOf(file: string, siteRoot: string | null): string {
  if (siteRoot) {
    const rel = path.relative(siteRoot, file);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return file;
}

/** SITE.md: under 5 s below 100 MB, 15 s up to 500 MB, 30 s above; memory 100 MB, 500 MB, 1 GB. */
export function checkTargets(bytes: number, meanMs: number, peakMemoryBytes: number | null): TargetCheck {
  const mbSize = bytes / (1024 * 1024);
  const [sizeClass, timeLimitS, memoryLimitMb] =
    mbSize < 100
      ? ['under 100 MB', 5, 100]
      : mbSize <= 500
        ? ['100-500 MB', 15, 500]
        : ['over 500 MB', 30, 1024];
  const codes: string[] = [];
  if (meanMs > 30_000) codes.push('PERF001');
  if (peakMemoryBytes !== null && peakMemoryBytes > 2 * 1024 * 1024 * 1024) codes.push('PERF002');
  return {
    sizeClass,
    timeLimitS,
    memoryLimitMb,
    timeOk: meanMs <= timeLimitS * 1000,
    memoryOk: peakMemoryBytes === null ? null : peakMemoryBytes <= memoryLimitMb * 1024 * 1024,
    codes,
  };
}

/** The baselines to compare with: the database's, else performance_baseline.json of the site. */
export function currentBaselines(
  db: StateDb | null,
  siteRoot: string | null,
): { baselines: Map<string, Baseline>; source: string | null; note: string | null } {
  if (db) {
    const fromDb = loadBaselines(db);
    if (fromDb.size) return { baselines: fromDb, source: 'state database', note: null };
  }
  if (siteRoot) {
    const file = path.join(siteRoot, BASELINE_FILE_NAME);
    const { baselines, error } = importBaselineJson(file);
    if (baselines.size) return { baselines, source: file, note: null };
    if (error) return { baselines, source: null, note: `baseline file ignored: ${error}` };
  }
  return { baselines: new Map(), source: null, note: null };
}

function resultOf(
  o: LoadOutcome,
  key: string,
  baseline: Baseline | null,
  thresholdPercent: number,
): FileResult {
  const r = o.report;
  const base: FileResult = {
    file: o.file,
    key,
    format: r.format,
    bytes: r.bytes,
    triangles: r.triangles,
    sha1: o.sha1,
    stats: null,
    parseMeanMs: null,
    mbPerSec: null,
    trianglesPerSec: null,
    peakMemoryBytes: null,
    target: null,
    baseline,
    changedSinceBaseline: false,
    verdict: compareWithBaseline({ n: 0, mean: 0, stddev: 0 }, null, thresholdPercent),
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
    warnings: r.warnings,
  };
  if (r.error || o.samples.length === 0) {
    if (baseline) {
      base.verdict = {
        ...base.verdict,
        status: 'failed',
        explanation: `loaded at the baseline, fails now (${r.error?.code ?? 'no result'})`,
      };
    }
    return base;
  }
  const loads = o.samples.map((s) => s.readMs + s.parseMs);
  const stats = describeSamples(loads);
  base.stats = stats;
  const parse = o.samples.map((s) => s.parseMs);
  base.parseMeanMs = parse.reduce((a, b) => a + b, 0) / parse.length;
  base.mbPerSec = stats.mean > 0 ? r.bytes / 1e6 / (stats.mean / 1000) : null;
  base.trianglesPerSec = stats.mean > 0 && r.triangles !== null ? r.triangles / (stats.mean / 1000) : null;
  // The first load's peak (measured after a full collection); the timed runs' as a fallback.
  const peaks = o.samples.map((s) => s.peakOverBaseBytes).filter((x): x is number => x !== null);
  base.peakMemoryBytes = o.peakOverBaseBytes ?? (peaks.length ? Math.max(...peaks) : null);
  base.target = checkTargets(r.bytes, stats.mean, base.peakMemoryBytes);
  if (baseline?.sha1 && o.sha1 && baseline.sha1 !== o.sha1) {
    base.changedSinceBaseline = true;
    base.verdict = {
      ...compareWithBaseline(stats, null, thresholdPercent),
      explanation: 'the file changed since the baseline (other SHA-1): not compared',
    };
    return base;
  }
  base.verdict = compareWithBaseline(
    stats,
    baseline ? { n: baseline.n, mean: baseline.meanMs, stddev: baseline.stddevMs } : null,
    thresholdPercent,
  );
  return base;
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const { files, skipped } = expandPaths(opts.paths);
  const { baselines, source, note } = currentBaselines(opts.db, opts.siteRoot);
  const notes: string[] = [];
  if (note) notes.push(note);
  const results: FileResult[] = [];
  const outcomes = await runLoader(
    files.map((file) => ({ file, runs: opts.runs, warmup: opts.warmup, hash: true })),
    {
      ...opts.limits,
      signal: opts.signal,
      onEvent: (e) => {
        if (e.type === 'file-start')
          opts.onProgress?.({ type: 'file-start', file: e.file, index: e.index, total: e.total });
        else if (e.type === 'run') {
          opts.onProgress?.({
            type: 'run',
            file: e.file,
            index: e.index,
            total: e.total,
            run: e.sample.index,
            runs: opts.runs + opts.warmup,
            warmup: e.sample.warmup,
            ms: e.sample.readMs + e.sample.parseMs,
          });
        } else if (e.type === 'file-done') {
          const key = keyOf(e.file, opts.siteRoot);
          const result = resultOf(e.outcome, key, baselines.get(key) ?? null, opts.thresholdPercent);
          results.push(result);
          opts.onProgress?.({ type: 'file-done', file: e.file, index: e.index, total: e.total, result });
        }
      },
    },
  );
  if (outcomes.length !== results.length) throw new Error('benchmark: results out of step with the loader');
  const report: BenchReport = {
    startedAt,
    finishedAt: now().toISOString(),
    runs: opts.runs,
    warmup: opts.warmup,
    thresholdPercent: opts.thresholdPercent,
    files: results,
    skipped,
    regressions: results.filter((r) => r.verdict.status === 'regression' || r.verdict.status === 'failed')
      .length,
    failures: results.filter((r) => r.error).length,
    targetsMissed: results.filter((r) => r.target && !r.target.timeOk).length,
    perf001: results.filter((r) => r.target?.codes.includes('PERF001')).length,
    baselineSource: source,
    notes,
    runId: null,
  };
  if (opts.db) report.runId = recordRun(opts.db, report);
  return report;
}

/** Stores a run and its per-file results in the history; returns the run id. */
export function recordRun(db: StateDb, report: BenchReport): number {
  ensureBenchSchema(db);
  return db.transaction(() => {
    const info = db
      .prepare(
        `INSERT INTO bench_runs (started_at, finished_at, runs, warmup, threshold_percent, files, regressions, failures, host)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        report.startedAt,
        report.finishedAt,
        report.runs,
        report.warmup,
        report.thresholdPercent,
        report.files.length,
        report.regressions,
        report.failures,
        os.hostname(),
      );
    const runId = Number(info.lastInsertRowid);
    const put = db.prepare(
      `INSERT OR REPLACE INTO bench_results (run_id, key, file, format, bytes, sha1, triangles, n, mean_ms, median_ms, min_ms, max_ms,
        stddev_ms, mb_per_s, triangles_per_s, peak_memory_bytes, samples_ms, outliers, status, p_value, error_code, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const f of report.files) {
      const s = f.stats;
      put.run(
        runId,
        f.key,
        f.file,
        f.format,
        f.bytes,
        f.sha1,
        f.triangles,
        s?.n ?? null,
        s?.mean ?? null,
        s?.median ?? null,
        s?.min ?? null,
        s?.max ?? null,
        s?.stddev ?? null,
        f.mbPerSec,
        f.trianglesPerSec,
        f.peakMemoryBytes,
        s ? JSON.stringify(s.samples) : null,
        s ? JSON.stringify(s.outliers) : null,
        f.verdict.status,
        f.verdict.p,
        f.error?.code ?? null,
        f.error?.message ?? null,
      );
    }
    return runId;
  })();
}

/**
 * Saves the run's loaded files as the new baseline (the others keep theirs) and writes every
 * baseline to performance_baseline.json in the site root. Returns the file written and the count.
 */
export function saveReportAsBaseline(
  db: StateDb,
  report: BenchReport,
  opts: { siteRoot: string | null; version: string; now?: () => Date },
): { saved: number; file: string | null } {
  const savedAt = (opts.now ?? (() => new Date()))().toISOString();
  const items = report.files
    .filter((f) => f.stats && !f.error)
    .map((f) => ({
      key: f.key,
      file: f.file,
      format: f.format,
      bytes: f.bytes,
      sha1: f.sha1,
      triangles: f.triangles,
      stats: f.stats!,
    }));
  saveBaselines(db, report.runId, items, savedAt);
  let file: string | null = null;
  if (opts.siteRoot) {
    file = path.join(opts.siteRoot, BASELINE_FILE_NAME);
    exportBaselineJson(file, loadBaselines(db).values(), {
      version: opts.version,
      thresholdPercent: report.thresholdPercent,
      savedAt,
    });
  }
  return { saved: items.length, file };
}
