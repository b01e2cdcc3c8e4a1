// Metric history: the ring, 1-minute and 10-minute points in the real state database, pruning,
// reopening, and two processes writing the same minutes at once.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricHistory, MetricRing } from '../services/metric-history.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { bundleScript } from './helpers/bundle-script.js';

let dir: string;
let dbFile: string;
const dbs: StateDb[] = [];
const T0 = Date.parse('2026-11-23T08:00:00Z');

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-history-'));
  process.env.CADENCE_OPS_STATE_DIR = dir;
  dbFile = path.join(dir, 'state.db');
});
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(clock: { t: number }, intervalMs = 1000, ringMinutes = 60) {
  const db = openStateDb(dbFile);
  dbs.push(db);
  return new MetricHistory(db, { intervalMs, ringMinutes, now: () => clock.t });
}

describe('ring', () => {
  it('keeps the last `capacity` samples per metric, with holes for missing values', () => {
    const ring = new MetricRing(4);
    for (let i = 0; i < 6; i++) ring.push(i * 1000, { a: i, b: i % 2 ? null : i * 10 });
    ring.push(6000, { a: 6, c: 1 });
    expect(ring.length).toBe(4);
    expect(ring.last('a', 10)).toEqual([3, 4, 5, 6]);
    expect(ring.last('b', 10)).toEqual([40]);
    expect(ring.last('c', 10)).toEqual([1]);
    expect(ring.series('a', 4500)).toEqual([
      { t: 5000, v: 5 },
      { t: 6000, v: 6 },
    ]);
    expect(ring.oldestTime()).toBe(3000);
  });
});

describe('downsampled history in the state database', () => {
  it('writes 1-minute and 10-minute points with avg, min and max, and reads them back after reopening', () => {
    const clock = { t: T0 };
    const h = open(clock);
    // Three minutes at 1 Hz: minute k holds values k*100 + 0..59.
    for (let s = 0; s < 180; s++) {
      clock.t = T0 + s * 1000;
      h.record(clock.t, { 'cpu:total:pct': Math.floor(s / 60) * 100 + (s % 60), 'mem:used:pct': null });
    }
    h.close();
    const again = open(clock);
    const minutes = again.stored('cpu:total:pct', 60_000, 0);
    expect(minutes).toEqual(
      [0, 1, 2].map((k) => ({ t: T0 + k * 60_000, avg: k * 100 + 29.5, min: k * 100, max: k * 100 + 59 })),
    );
    const tens = again.stored('cpu:total:pct', 600_000, 0);
    expect(tens).toHaveLength(1);
    expect(tens[0]!.avg).toBeCloseTo(129.5, 9);
    expect(tens[0]).toMatchObject({ t: T0, min: 0, max: 259 });
    // Nothing stored for a metric that was never measured.
    expect(again.stored('mem:used:pct', 60_000, 0)).toEqual([]);
  });

  it('the 24 h chart is full after reopening, the 1 h chart mixes stored minutes and the ring', () => {
    const clock = { t: T0 };
    const h = open(clock, 60_000);
    for (let m = 0; m < 24 * 60; m++) {
      clock.t = T0 + m * 60_000;
      h.record(clock.t, { 'app:rss:mb': 100 + m });
    }
    h.close();
    clock.t = T0 + 24 * 3_600_000;
    const again = open(clock);
    const day = again.chart('app:rss:mb', '24h', 144);
    expect(day.length).toBeGreaterThanOrEqual(143);
    expect(day[day.length - 1]!.avg).toBeGreaterThan(day[0]!.avg);
    for (let s = 0; s < 30; s++) again.record(clock.t + s * 1000, { 'app:rss:mb': 5000 });
    clock.t += 30_000;
    const hour = again.chart('app:rss:mb', '1h', 60);
    // The chart starts at now - 1 h: the first whole stored minute after it.
    expect(hour[0]!.avg).toBe(100 + 23 * 60 + 1);
    expect(hour[hour.length - 1]!.avg).toBe(5000);
  });

  it('a chart drawn every tick (whole columns kept between ticks) equals one drawn from scratch', () => {
    const clock = { t: T0 };
    const live = open(clock);
    const value = (s: number) => 50 + 40 * Math.sin(s / 300) + (s % 7);
    // 90 minutes at 1 Hz: the ring (60 minutes) wraps, and minutes are written to the database.
    for (let s = 0; s < 90 * 60; s++) {
      clock.t = T0 + s * 1000;
      live.record(clock.t, { x: value(s) });
      if (s % 7 === 0) live.chart('x', '1h', 40);
      if (s % 600 === 0) {
        live.readings('x', 60_000, 10);
        live.chart('x', '24h', 144);
      }
    }
    clock.t += 500;
    // A second instance on the same database and clock, asked once, has no cached columns.
    const freshDb = openStateDb(dbFile);
    dbs.push(freshDb);
    const fresh = new MetricHistory(freshDb, {
      intervalMs: 1000,
      ringMinutes: 60,
      now: () => clock.t,
    });
    for (let s = 30 * 60; s < 90 * 60; s++) fresh.ring.push(T0 + s * 1000, { x: value(s) });
    // 1 h in 40 columns of 90 s: all of them; 24 h in 144 columns of 10 min: the 90 minutes there are.
    for (const [range, width, columns] of [
      ['1h', 40, 40],
      ['24h', 144, 10],
    ] as const) {
      const a = live.chart('x', range, width);
      const b = fresh.chart('x', range, width);
      expect(a.length).toBeGreaterThanOrEqual(columns - 1);
      expect(a).toEqual(b);
    }
    // The 1 h chart's newest column averages the samples of the last 90 s column.
    const step = 3_600_000 / 40;
    const newest = live.chart('x', '1h', 40).at(-1)!;
    const col = Math.floor(clock.t / step) * step;
    const inColumn = [];
    for (let s = 0; s < 90 * 60; s++) if (T0 + s * 1000 >= col) inColumn.push(value(s));
    expect(newest.t).toBe(col);
    expect(newest.avg).toBeCloseTo(inColumn.reduce((x, y) => x + y, 0) / inColumn.length, 3);
    expect(live.readings('x', 60_000, 10)).toEqual(fresh.readings('x', 60_000, 10));
    expect(live.readings('x', 60_000, 10)).toHaveLength(10);
  });

  it('prunes 1-minute points after 24 h and 10-minute points after 30 days', () => {
    const clock = { t: T0 };
    const h = open(clock, 60_000);
    h.record(T0, { x: 1 });
    h.record(T0 + 60_000, { x: 2 });
    h.flush();
    expect(h.stored('x', 60_000, 0)).toHaveLength(2);
    clock.t = T0 + 25 * 3_600_000;
    h.prune();
    expect(h.stored('x', 60_000, 0)).toHaveLength(0);
    expect(h.stored('x', 600_000, 0)).toHaveLength(1);
    clock.t = T0 + 31 * 86_400_000;
    h.prune();
    expect(h.stored('x', 600_000, 0)).toHaveLength(0);
  });

  it('readings average consecutive periods, from stored minutes before the ring and the ring after', () => {
    const clock = { t: T0 };
    const h = open(clock, 1000, 1); // a ring of one minute
    for (let s = 0; s < 5 * 60; s++) {
      clock.t = T0 + s * 1000;
      h.record(clock.t, { 'app:rss:mb': 100 + 10 * Math.floor(s / 60) });
    }
    clock.t = T0 + 5 * 60_000 + 5000;
    h.record(clock.t, { 'app:rss:mb': 999 }); // the current, incomplete minute is not a reading
    const r = h.readings('app:rss:mb', 60_000, 10);
    expect(r.map((x) => x.v)).toEqual([100, 110, 120, 130, 140]);
    expect(h.readings('app:rss:mb', 60_000, 2).map((x) => x.v)).toEqual([130, 140]);
    expect(h.readings('nothing', 60_000, 3)).toEqual([]);
  });

  it('lastTimeAbove tells when the application was last up', () => {
    const clock = { t: T0 };
    const h = open(clock);
    h.record(T0, { 'app:up:up': 1 });
    h.record(T0 + 61_000, { 'app:up:up': 0 });
    h.close();
    expect(open(clock).lastTimeAbove('app:up:up', 0)).toBe(T0 + 60_000);
  });

  it('two processes writing the same minutes at once merge counts and averages', async () => {
    const script = await bundleScript(
      'history-writer',
      `import { MetricHistory } from './services/metric-history.ts';
       import { openStateDb } from './services/state-db.ts';
       const [file, value] = [process.argv[2]!, Number(process.argv[3])];
       const db = openStateDb(file);
       const T0 = ${T0};
       let now = T0;
       const h = new MetricHistory(db, { intervalMs: 1000, ringMinutes: 5, now: () => now });
       for (let s = 0; s < 600; s++) { now = T0 + s * 100; h.record(now, { 'cpu:total:pct': value, ['only:' + value + ':n']: 1 }); }
       h.close();
       db.close();`,
    );
    const run = (value: number) =>
      new Promise<number>((resolve, reject) => {
        const child = fork(script, [dbFile, String(value)], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code ?? -1));
      });
    expect(await Promise.all([run(10), run(30)])).toEqual([0, 0]);
    const clock = { t: T0 };
    const h = open(clock);
    const points = h.stored('cpu:total:pct', 60_000, 0);
    expect(points.map((p) => p.t)).toEqual([T0]);
    expect(points[0]).toMatchObject({ avg: 20, min: 10, max: 30 });
    const db = dbs[dbs.length - 1]!;
    expect(db.prepare('SELECT SUM(n) AS n FROM resource_points WHERE res = 60000').get()).toEqual({
      n: 600 * 4,
    });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
