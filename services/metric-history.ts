// History of the resource metrics, at two levels:
// - an in-memory ring at full rate (sampling.intervalMs, sampling.ringMinutes; at most 14,400
//   samples, float32 values), for sparklines and the 1 h chart;
// - downsampled points in the console's state database: 1-minute points kept 24 hours and
//   10-minute points kept 30 days (avg, min, max and the sample count n), so a console opened again
//   shows the last 24 hours at once.
// Points are written when their minute is complete (and the partial minute on close) with an upsert
// that merges counts and weighted averages, so a second console or a headless `resources --watch`
// writing the same minute at the same time adds to it instead of overwriting or corrupting it
// (each write is one short IMMEDIATE transaction; WAL and the busy timeout do the rest).
// Old points are pruned per metric (a range delete on the primary key) every ten minutes.
import { ensureSchema, type StateDb } from './state-db.js';

export const HISTORY_SCHEMA = 'resource-history';
const MINUTE = 60_000;
const TEN_MINUTES = 600_000;
const MAX_RING = 14_400;

const SCHEMA_STEPS = [
  `CREATE TABLE resource_metrics (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     last_at INTEGER NOT NULL
   );
   CREATE TABLE resource_points (
     metric INTEGER NOT NULL REFERENCES resource_metrics(id),
     res INTEGER NOT NULL,
     bucket INTEGER NOT NULL,
     avg REAL NOT NULL,
     min REAL NOT NULL,
     max REAL NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (metric, res, bucket)
   ) WITHOUT ROWID;`,
];

export interface HistoryPoint {
  /** Start of the bucket (or the sample time, for ring points), epoch ms. */
  t: number;
  avg: number;
  min: number;
  max: number;
}

/** Metrics that stay at 1-minute resolution only (many of them on big hosts, little use after a day). */
const MINUTE_ONLY = /^cpu:core\d+:/;

/** Fixed-capacity columns of samples: one time column and one float32 column per metric. */
export class MetricRing {
  private readonly times: Float64Array;
  private readonly columns = new Map<string, Float32Array>();
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(at: number, values: Record<string, number | null>): void {
    const i = this.head;
    this.times[i] = at;
    for (const [name, column] of this.columns) {
      const v = values[name];
      column[i] = v === undefined || v === null ? Number.NaN : v;
    }
    for (const name in values) {
      if (this.columns.has(name)) continue;
      const column = new Float32Array(this.capacity).fill(Number.NaN);
      const v = values[name];
      column[i] = v === undefined || v === null ? Number.NaN : v;
      this.columns.set(name, column);
    }
    this.head = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  metrics(): string[] {
    return [...this.columns.keys()];
  }

  oldestTime(): number | null {
    return this.size === 0 ? null : this.times[(this.head - this.size + this.capacity) % this.capacity]!;
  }

  /** Samples of a metric from `since` (epoch ms) on, oldest first; missing samples are skipped. */
  series(metric: string, since = Number.NEGATIVE_INFINITY): { t: number; v: number }[] {
    const column = this.columns.get(metric);
    const out: { t: number; v: number }[] = [];
    if (!column) return out;
    for (let k = this.size; k > 0; k--) {
      const i = (this.head - k + this.capacity) % this.capacity;
      const t = this.times[i]!;
      const v = column[i]!;
      if (t >= since && !Number.isNaN(v)) out.push({ t, v });
    }
    return out;
  }

  /**
   * Calls fn for each sample of a metric from `since` on, newest first, stopping at the first older
   * one (times only grow): the cost is the samples asked for, not the ring's size.
   */
  eachNewest(metric: string, since: number, fn: (t: number, v: number) => void): void {
    const column = this.columns.get(metric);
    if (!column) return;
    for (let k = 1; k <= this.size; k++) {
      const i = (this.head - k + this.capacity) % this.capacity;
      const t = this.times[i]!;
      if (t < since) return;
      const v = column[i]!;
      if (!Number.isNaN(v)) fn(t, v);
    }
  }

  /** The last n values of a metric (missing samples skipped), oldest first. */
  last(metric: string, n: number): number[] {
    const column = this.columns.get(metric);
    if (!column) return [];
    const out: number[] = [];
    for (let k = 1; k <= this.size && out.length < n; k++) {
      const v = column[(this.head - k + this.capacity) % this.capacity]!;
      if (!Number.isNaN(v)) out.push(v);
    }
    return out.reverse();
  }
}

interface Accumulator {
  sum: number;
  n: number;
  min: number;
  max: number;
}

export interface MetricHistoryOptions {
  intervalMs: number;
  ringMinutes: number;
  now?: () => number;
  minuteRetentionHours?: number;
  tenMinuteRetentionDays?: number;
}

export type ChartRange = '1h' | '24h' | '30d';

export class MetricHistory {
  readonly ring: MetricRing;
  private readonly now: () => number;
  private readonly minuteKeepMs: number;
  private readonly tenKeepMs: number;
  private bucket: number | null = null;
  private acc = new Map<string, Accumulator>();
  private readonly metricIds = new Map<string, number>();
  /** Recent 1-minute points per metric (the last 90), kept in memory so ticks never query. */
  private readonly recentMinutes = new Map<string, HistoryPoint[]>();
  private lastPrune = Number.NEGATIVE_INFINITY;
  /** Stored points read for charts, until the next write (they change once a minute). */
  private readonly storedCache = new Map<string, HistoryPoint[]>();
  /**
   * The whole columns of each chart (all but the newest) and the complete periods of each readings
   * series: they change only when a column or period ends, or the stored points are re-read. Redoing
   * them every tick walked the whole ring (3,600 samples an hour in) per chart, each second.
   */
  private readonly chartCache = new Map<
    string,
    { column: number; stored: HistoryPoint[]; points: HistoryPoint[] }
  >();
  private readonly readingsCache = new Map<string, { period: number; points: { t: number; v: number }[] }>();
  private readonly stmt;

  constructor(
    private readonly db: StateDb | null,
    opts: MetricHistoryOptions,
  ) {
    this.now = opts.now ?? Date.now;
    const capacity = Math.min(
      MAX_RING,
      Math.max(10, Math.ceil((opts.ringMinutes * MINUTE) / opts.intervalMs)),
    );
    this.ring = new MetricRing(capacity);
    this.minuteKeepMs = (opts.minuteRetentionHours ?? 24) * 3_600_000;
    this.tenKeepMs = (opts.tenMinuteRetentionDays ?? 30) * 86_400_000;
    if (db) ensureSchema(db, HISTORY_SCHEMA, SCHEMA_STEPS);
    this.stmt = db
      ? {
          metricId: db.prepare<[string], { id: number }>('SELECT id FROM resource_metrics WHERE name = ?'),
          addMetric: db.prepare(
            'INSERT INTO resource_metrics (name, last_at) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET last_at = MAX(last_at, excluded.last_at)',
          ),
          touchMetric: db.prepare('UPDATE resource_metrics SET last_at = MAX(last_at, ?) WHERE id = ?'),
          upsert: db.prepare(
            `INSERT INTO resource_points (metric, res, bucket, avg, min, max, n) VALUES (@metric, @res, @bucket, @avg, @min, @max, @n)
             ON CONFLICT (metric, res, bucket) DO UPDATE SET
               avg = (avg * n + excluded.avg * excluded.n) / (n + excluded.n),
               min = MIN(min, excluded.min), max = MAX(max, excluded.max), n = n + excluded.n`,
          ),
          points: db.prepare<[string, number, number, number], HistoryPoint>(
            `SELECT p.bucket AS t, p.avg, p.min, p.max FROM resource_points p JOIN resource_metrics m ON m.id = p.metric
             WHERE m.name = ? AND p.res = ? AND p.bucket >= ? AND p.bucket < ? ORDER BY p.bucket`,
          ),
          lastAbove: db.prepare<[string, number], { t: number }>(
            `SELECT MAX(p.bucket) AS t FROM resource_points p JOIN resource_metrics m ON m.id = p.metric
             WHERE m.name = ? AND p.res = 60000 AND p.max > ?`,
          ),
          metrics: db.prepare<[], { id: number; name: string; last_at: number }>(
            'SELECT id, name, last_at FROM resource_metrics',
          ),
          pruneRes: db.prepare('DELETE FROM resource_points WHERE metric = ? AND res = ? AND bucket < ?'),
          dropPoints: db.prepare('DELETE FROM resource_points WHERE metric = ?'),
          dropMetric: db.prepare('DELETE FROM resource_metrics WHERE id = ?'),
        }
      : null;
  }

  /** Adds one tick's values (null: not measured this tick). */
  record(at: number, values: Record<string, number | null>): void {
    this.ring.push(at, values);
    const bucket = Math.floor(at / MINUTE) * MINUTE;
    if (this.bucket !== null && bucket !== this.bucket) this.flush();
    this.bucket = bucket;
    for (const name in values) {
      const v = values[name];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      const a = this.acc.get(name);
      if (a) {
        a.sum += v;
        a.n++;
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
      } else this.acc.set(name, { sum: v, n: 1, min: v, max: v });
    }
  }

  /** Writes the current (possibly partial) minute; called at each minute boundary and on close. */
  flush(): void {
    const bucket = this.bucket;
    const acc = this.acc;
    this.acc = new Map();
    if (bucket === null || acc.size === 0) return;
    for (const [name, a] of acc) {
      const point = { t: bucket, avg: a.sum / a.n, min: a.min, max: a.max };
      const list = this.recentMinutes.get(name) ?? [];
      const last = list[list.length - 1];
      if (last && last.t === bucket) list[list.length - 1] = point;
      else list.push(point);
      if (list.length > 90) list.splice(0, list.length - 90);
      this.recentMinutes.set(name, list);
    }
    this.storedCache.clear();
    const stmt = this.stmt;
    if (!stmt || !this.db) return;
    const ten = Math.floor(bucket / TEN_MINUTES) * TEN_MINUTES;
    this.db
      .transaction(() => {
        for (const [name, a] of acc) {
          const metric = this.idOf(name, bucket);
          const row = { metric, bucket, avg: a.sum / a.n, min: a.min, max: a.max, n: a.n };
          stmt.upsert.run({ ...row, res: MINUTE });
          if (!MINUTE_ONLY.test(name)) stmt.upsert.run({ ...row, res: TEN_MINUTES, bucket: ten });
        }
      })
      .immediate();
    if (this.now() - this.lastPrune >= TEN_MINUTES) this.prune();
  }

  private idOf(name: string, at: number): number {
    const stmt = this.stmt!;
    let id = this.metricIds.get(name);
    if (id === undefined) {
      stmt.addMetric.run(name, at);
      id = stmt.metricId.get(name)!.id;
      this.metricIds.set(name, id);
    } else stmt.touchMetric.run(at, id);
    return id;
  }

  /** Deletes 1-minute points past their retention, 10-minute points past theirs, and metrics not seen in 30 days. */
  prune(): void {
    const stmt = this.stmt;
    if (!stmt || !this.db) return;
    const now = this.now();
    this.lastPrune = now;
    this.db
      .transaction(() => {
        for (const m of stmt.metrics.all()) {
          stmt.pruneRes.run(m.id, MINUTE, now - this.minuteKeepMs);
          stmt.pruneRes.run(m.id, TEN_MINUTES, now - this.tenKeepMs);
          if (m.last_at < now - this.tenKeepMs) {
            stmt.dropPoints.run(m.id);
            stmt.dropMetric.run(m.id);
            this.metricIds.delete(m.name);
          }
        }
      })
      .immediate();
  }

  /** Stored points of one metric at one resolution (60,000 or 600,000 ms) in [from, to). */
  stored(metric: string, res: 60_000 | 600_000, from: number, to = Number.MAX_SAFE_INTEGER): HistoryPoint[] {
    return this.stmt ? this.stmt.points.all(metric, res, from, to) : [];
  }

  /**
   * Loads the recent 1-minute points of the given metrics from the database (at open), so leak
   * readings and sparklines have a past before the ring fills.
   */
  preload(metrics: string[]): void {
    const since = this.now() - 90 * MINUTE;
    for (const name of metrics) {
      const stored = this.stored(name, MINUTE, since);
      if (stored.length) this.recentMinutes.set(name, stored);
    }
  }

  /** Recent 1-minute points (in memory) of a metric, oldest first. */
  minutes(metric: string): HistoryPoint[] {
    return this.recentMinutes.get(metric) ?? [];
  }

  /** Epoch ms of the end of the last minute in which `metric` was above `value` (e.g. app:up > 0). */
  lastTimeAbove(metric: string, value: number): number | null {
    const t = this.stmt?.lastAbove.get(metric, value)?.t;
    return t === null || t === undefined ? null : t + MINUTE;
  }

  /**
   * Consecutive readings of a metric: averages over periods of `periodMs`, oldest first, the last
   * `count` complete periods. Built from the ring where it reaches, and from 1-minute points before it.
   */
  readings(metric: string, periodMs: number, count: number): { t: number; v: number }[] {
    const key = `${metric}\0${periodMs}\0${count}`;
    const period = Math.floor(this.now() / periodMs);
    const cached = this.readingsCache.get(key);
    if (cached && cached.period === period) return cached.points;
    const points = this.completeReadings(metric, periodMs, count);
    this.readingsCache.set(key, { period, points });
    return points;
  }

  private completeReadings(metric: string, periodMs: number, count: number): { t: number; v: number }[] {
    const ringOldest = this.ring.oldestTime() ?? Number.POSITIVE_INFINITY;
    const samples: { t: number; v: number }[] = [];
    for (const p of this.minutes(metric))
      if (p.t + MINUTE <= ringOldest) samples.push({ t: p.t + MINUTE / 2, v: p.avg });
    samples.push(...this.ring.series(metric));
    if (samples.length === 0) return [];
    const current = Math.floor(this.now() / periodMs);
    const buckets = new Map<number, { sum: number; n: number }>();
    for (const s of samples) {
      const b = Math.floor(s.t / periodMs);
      if (b >= current) continue;
      const acc = buckets.get(b) ?? { sum: 0, n: 0 };
      acc.sum += s.v;
      acc.n++;
      buckets.set(b, acc);
    }
    return [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .slice(-count)
      .map(([b, acc]) => ({ t: b * periodMs, v: acc.sum / acc.n }));
  }

  /**
   * Points for a chart: '1h' from the ring (averaged down to `width` columns) and 1-minute points
   * before the ring; '24h' from 1-minute points; '30d' from 10-minute points. The current, not yet
   * written minute is included from the ring.
   */
  chart(metric: string, range: ChartRange, width = 120): HistoryPoint[] {
    const now = this.now();
    const span = range === '1h' ? 3_600_000 : range === '24h' ? 86_400_000 : 30 * 86_400_000;
    const from = now - span;
    const res = range === '30d' ? TEN_MINUTES : MINUTE;
    // Stored points change once a minute: keep them between writes (another process's writes show
    // at our next minute; charts redraw every tick).
    const storedKey = `${metric}\0${res}\0${Math.floor(from / res)}`;
    let stored = this.storedCache.get(storedKey);
    if (!stored) {
      stored = this.stored(metric, res, from);
      if (this.storedCache.size > 200) this.storedCache.clear();
      this.storedCache.set(storedKey, stored);
    }
    // `width` columns of span/width ms, on multiples of that width in epoch time, so that a column
    // once whole stays the same: those are cached, and each tick adds only the newest column.
    const step = span / width;
    const column = Math.floor(now / step);
    const chartKey = `${metric}\0${range}\0${width}`;
    let whole = this.chartCache.get(chartKey);
    if (!whole || whole.column !== column || whole.stored !== stored) {
      whole = { column, stored, points: this.columns(metric, stored, res, column - width + 1, column, step) };
      if (this.chartCache.size > 200) this.chartCache.clear();
      this.chartCache.set(chartKey, whole);
    }
    const newest = this.columns(metric, stored, res, column, column + 1, step);
    return newest.length ? [...whole.points, ...newest] : whole.points;
  }

  /** Averages of the columns first..end-1 (step ms each): stored points before the ring, then the ring. */
  private columns(
    metric: string,
    stored: HistoryPoint[],
    res: number,
    first: number,
    end: number,
    step: number,
  ): HistoryPoint[] {
    const ringOldest = this.ring.oldestTime() ?? this.now();
    const since = first * step;
    const until = end * step;
    const acc = new Map<number, { sum: number; n: number; min: number; max: number }>();
    const add = (t: number, avg: number, min: number, max: number) => {
      if (t < since || t >= until) return;
      const c = Math.floor(t / step);
      const a = acc.get(c);
      if (a) {
        a.sum += avg;
        a.n++;
        a.min = Math.min(a.min, min);
        a.max = Math.max(a.max, max);
      } else acc.set(c, { sum: avg, n: 1, min, max });
    };
    for (let i = stored.length - 1; i >= 0 && stored[i]!.t >= since; i--) {
      const p = stored[i]!;
      if (p.t + res <= ringOldest) add(p.t, p.avg, p.min, p.max);
    }
    this.ring.eachNewest(metric, Math.max(since, ringOldest), (t, v) => add(t, v, v, v));
    return [...acc.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([c, a]) => ({ t: c * step, avg: a.sum / a.n, min: a.min, max: a.max }));
  }

  close(): void {
    this.flush();
  }
}
