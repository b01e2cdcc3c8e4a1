// The application's own model load timings: `model_loaded ... load_time:<seconds>` lines of
// performance.log (and its rotated history), as records and as a trend. Small and reusable: the
// benchmark shows it beside its own figures, the health checks use it for PERF001.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { discoverLogFiles } from './log-files.js';
import { parseTimestamp } from './log-parse.js';

export interface AppLoad {
  /** Epoch ms of the record, or null when the line has no timestamp. */
  time: number | null;
  /** `file=` of the record (the model path), when present. */
  file: string | null;
  format: string | null;
  sizeMb: number | null;
  triangles: number | null;
  /** Seconds. */
  loadTime: number;
}

const LOAD_TIME = /load_time[:=]\s*(\d+(?:\.\d+)?)/;
const FIELD = /\b(file|format|size_mb|triangles)=(\S+)/g;

/** The record of one `model_loaded` line, or null for any other line. */
export function parsePerfLine(line: string): AppLoad | null {
  if (!line.includes('model_loaded')) return null;
  const m = LOAD_TIME.exec(line);
  if (!m) return null;
  const ts = parseTimestamp(line);
  const out: AppLoad = {
    time: ts ? ts.time : null,
    file: null,
    format: null,
    sizeMb: null,
    triangles: null,
    loadTime: Number(m[1]),
  };
  for (const f of line.matchAll(FIELD)) {
    const v = f[2]!;
    if (f[1] === 'file') out.file = v;
    else if (f[1] === 'format') out.format = v;
    else if (f[1] === 'size_mb') out.sizeMb = Number(v);
    else if (f[1] === 'triangles') out.triangles = Number(v);
  }
  return out;
}

/**
 * Every `model_loaded` record of performance.log and its rotated copies (plain and gzipped), oldest
 * first; at most `limit` newest. Unreadable files are skipped and named in `errors`.
 */
export function readAppLoads(
  logsDir: string,
  opts: { limit?: number; base?: string } = {},
): { loads: AppLoad[]; files: string[]; errors: string[] } {
  const base = opts.base ?? 'performance.log';
  const found = discoverLogFiles(logsDir);
  const files = [
    ...found.history.filter((f) => f.base === base),
    ...found.live.filter((f) => f.name === base),
  ];
  const loads: AppLoad[] = [];
  const errors: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      const raw = readFileSync(f.path);
      text = (f.compressed ? gunzipSync(raw) : raw).toString('utf8');
    } catch (err) {
      errors.push(`${f.name}: ${(err as Error).message}`);
      continue;
    }
    for (const line of text.split('\n')) {
      const r = parsePerfLine(line);
      if (r) loads.push(r);
    }
  }
  // Files are oldest first; a stable sort by time keeps the file order for lines without one.
  loads.sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  const limit = opts.limit ?? 10_000;
  return {
    loads: loads.length > limit ? loads.slice(-limit) : loads,
    files: files.map((f) => f.name),
    errors,
  };
}

/** Least-squares slope of ys against their index (units of y per sample). */
export function leastSquaresSlope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  let my = 0;
  for (const y of ys) my += y;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - mx) * (ys[i]! - my);
    sxx += (i - mx) ** 2;
  }
  return sxy / sxx;
}

export interface LoadTimeTrend {
  n: number;
  mean: number;
  median: number;
  p95: number;
  max: number;
  /** Seconds per sample, least squares. */
  slope: number;
  /** SITE.md: a slope over +threshold is increasing, under -threshold decreasing. */
  direction: 'increasing' | 'decreasing' | 'stable';
  /** Loads over 30 s (PERF001). */
  over30s: number;
  /** Newest first, for sparklines. */
  recent: number[];
}

export function loadTimeTrend(
  loads: readonly AppLoad[],
  slopeThreshold = 0.1,
  window = 100,
): LoadTimeTrend | null {
  if (loads.length === 0) return null;
  const values = loads.map((l) => l.loadTime);
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]!;
  const slope = leastSquaresSlope(values.slice(-window));
  return {
    n: values.length,
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    median: at(0.5),
    p95: at(0.95),
    max: sorted[sorted.length - 1]!,
    slope,
    direction: slope > slopeThreshold ? 'increasing' : slope < -slopeThreshold ? 'decreasing' : 'stable',
    over30s: values.filter((v) => v > 30).length,
    recent: values.slice(-60).reverse(),
  };
}
