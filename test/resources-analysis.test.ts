// Threshold levels, trends and leak detection on synthetic series, and the whole pipeline
// (sampler → history → analysis → alerts) on a hand-made /proc whose figures we move.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertService } from '../services/alerts.js';
import { defaultConfig } from '../services/config.js';
import {
  detectLeak,
  formatSeconds,
  leastSquaresSlope,
  levelAbove,
  ResourceAlerter,
  trendOf,
  worst,
} from '../services/metric-analysis.js';
import { ResourceMonitor } from '../services/resource-monitor.js';
import { sitePaths } from '../services/site.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { bindToSite, writeProc } from './helpers/proc-root.js';

describe('threshold levels', () => {
  it('ok / warning / critical at the configured levels, unknown without a value', () => {
    const cpu = defaultConfig().thresholds.cpuPercent;
    expect([50, 80, 94.9, 95, 100].map((v) => levelAbove(v, cpu))).toEqual([
      'ok',
      'warning',
      'warning',
      'critical',
      'critical',
    ]);
    expect(levelAbove(null, cpu)).toBe('unknown');
    expect(levelAbove(Number.NaN, cpu)).toBe('unknown');
    expect(worst(['ok', 'unknown', 'warning'])).toBe('warning');
    expect(worst([])).toBe('unknown');
  });
});

describe('trend (least squares)', () => {
  it('slope per sample of exact lines, and the ±0.1 rule of the procedures', () => {
    expect(leastSquaresSlope([1, 3, 5, 7])).toBeCloseTo(2, 12);
    expect(leastSquaresSlope([5, 5, 5])).toBe(0);
    expect(leastSquaresSlope([1])).toBeNull();
    expect(trendOf([10, 10.2, 10.4, 10.6], 0.1)).toMatchObject({ direction: 'increasing', samples: 4 });
    expect(trendOf([10, 9.8, 9.6, 9.4], 0.1).direction).toBe('decreasing');
    expect(trendOf([10, 10.05, 10.1, 10.15], 0.1).direction).toBe('stable');
    expect(trendOf([1, 2], 0.1).direction).toBe('unknown');
  });

  it('noise around a rising line is still increasing; pure noise is stable', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    };
    const rising = Array.from({ length: 60 }, (_, i) => 40 + 0.5 * i + 4 * rand());
    const flat = Array.from({ length: 60 }, () => 40 + 4 * rand());
    expect(trendOf(rising, 0.1).direction).toBe('increasing');
    expect(trendOf(rising, 0.1).slope!).toBeCloseTo(0.5, 0);
    expect(trendOf(flat, 0.1).direction).toBe('stable');
  });
});

describe('leak detection', () => {
  const opts = { riseMbPerReading: 5, readings: 10, readingSeconds: 60, warningMb: 1200, criticalMb: 1500 };

  it('a steady rise of 6 MB a reading is a leak, with its slope and time to the alert', () => {
    const series = Array.from({ length: 12 }, (_, i) => 900 + 6 * i);
    const v = detectLeak(series, opts);
    expect(v.suspected).toBe(true);
    expect(v.readings).toBe(10);
    expect(v.slopeMbPerReading).toBeCloseTo(6, 9);
    expect(v.slopeMbPerHour).toBeCloseTo(360, 6);
    expect(v.currentMb).toBe(966);
    // (1500 - 966) / 6 readings of 60 s.
    expect(v.secondsToCritical).toBeCloseTo((534 / 6) * 60, 6);
    expect(v.secondsToWarning).toBeCloseTo((234 / 6) * 60, 6);
    expect(v.summary).toBe(
      'leak suspected: RSS +6.0 MB per 1 min over 10 readings (+54 MB); reaches the 1500 MB alert in 1 h 29 min',
    );
  });

  it('4 MB a reading is not; too few readings are not judged', () => {
    expect(
      detectLeak(
        Array.from({ length: 10 }, (_, i) => 900 + 4 * i),
        opts,
      ).suspected,
    ).toBe(false);
    const short = detectLeak([900, 920, 940], opts);
    expect(short).toMatchObject({ suspected: false, readings: 3, needed: 10 });
    expect(short.summary).toBe('leak check needs 10 readings, has 3');
  });

  it('one spike is not a leak, and a restart within the window (RSS drops back) is not one either', () => {
    const spike = [900, 900, 900, 900, 900, 900, 900, 900, 900, 1100];
    // The spike alone lifts the least-squares slope over 5, but most steps do not rise.
    expect(detectLeak(spike, opts).slopeMbPerReading!).toBeGreaterThan(5);
    expect(detectLeak(spike, opts).suspected).toBe(false);
    // A sawtooth that still climbs (GC) is a leak.
    const sawtooth = [900, 915, 910, 925, 920, 935, 930, 945, 940, 955].map((v, i) => v + 3 * i);
    expect(detectLeak(sawtooth, opts).suspected).toBe(true);
    const restart = [900, 920, 940, 960, 980, 1000, 1020, 1040, 1060, 890];
    expect(detectLeak(restart, opts).suspected).toBe(false);
  });

  it('already past the alert says so', () => {
    const v = detectLeak(
      Array.from({ length: 10 }, (_, i) => 1480 + 10 * i),
      opts,
    );
    expect(v.secondsToCritical).toBe(0);
    expect(v.summary).toMatch(/already past the 1500 MB alert/);
  });

  it('formats durations', () => {
    expect([45, 720, 3600, 12_000, 190_000].map(formatSeconds)).toEqual([
      '45 s',
      '12 min',
      '1 h',
      '3 h 20 min',
      '2 d 5 h',
    ]);
  });
});

describe('the alerter', () => {
  it('raises what holds, refreshes at most every refreshMs, clears what stopped, and clears leftovers of an earlier run', () => {
    const calls: string[] = [];
    const sink = {
      raise: (a: { key: string; severity: string }) => calls.push(`raise ${a.key} ${a.severity}`),
      clear: (_s: string, key: string) => calls.push(`clear ${key}`),
      active: () => [{ key: 'swap', severity: 'warning' }],
    };
    const alerter = new ResourceAlerter(sink as never, 15_000);
    const cpu = (severity: 'warning' | 'critical') => ({
      source: 'resources',
      key: 'cpu',
      severity,
      message: 'x',
    });
    alerter.apply([cpu('warning')], 0);
    alerter.apply([cpu('warning')], 1000);
    alerter.apply([cpu('critical')], 2000);
    alerter.apply([cpu('critical')], 17_000);
    alerter.apply([], 18_000, ['cpu']); // not judged this tick: kept
    alerter.apply([], 19_000);
    alerter.apply([], 20_000);
    expect(calls).toEqual([
      'raise cpu warning',
      'clear swap',
      'raise cpu critical',
      'raise cpu critical',
      'clear cpu',
    ]);
  });
});

describe('the pipeline on a hand-made /proc', () => {
  let dir: string;
  let db: StateDb;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-monitor-'));
    process.env.CADENCE_OPS_STATE_DIR = dir;
    db = openStateDb(path.join(dir, 'state.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CPU and memory alerts rise and clear, a leaking application is called out, and its death is an alert', () => {
    const proc = path.join(dir, 'proc');
    const site = path.join(dir, 'site');
    const stat = (busy: number, idle: number) =>
      `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0\nbtime 1700000000\n`;
    const meminfo = (availableKb: number) =>
      `MemTotal: 8388608 kB\nMemFree: ${availableKb} kB\nMemAvailable: ${availableKb} kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n`;
    const app = (rssMb: number) => {
      writeProc(proc, '4000/cmdline', 'python3\0-m\0candy_cadence\0');
      writeProc(proc, '4000/stat', '4000 (python3) S 1 1 1 0 -1 0 0 0 0 0 10 10 0 0 20 0 9 0 100 1 1');
      writeProc(
        proc,
        '4000/status',
        `Name:\tpython3\nState:\tS (sleeping)\nVmRSS:\t${rssMb * 1024} kB\nThreads:\t9\n`,
      );
    };
    writeProc(proc, 'stat', stat(0, 0));
    writeProc(proc, 'meminfo', meminfo(6_000_000));
    writeProc(proc, 'loadavg', '0.1 0.1 0.1 1/10 1\n');
    writeProc(proc, 'diskstats', '');
    writeProc(proc, 'net/dev', 'Inter-|\n face |\n');
    writeProc(proc, 'self/mountinfo', '20 1 8:1 / / rw - ext4 /dev/sda1 rw\n');
    writeProc(proc, 'uptime', '500.00 100.00\n');
    writeProc(proc, '4000/fd/0', '');
    bindToSite(proc, 4000, site);
    app(800);

    const config = defaultConfig();
    config.sampling.leakReadingSeconds = 10;
    const paths = sitePaths(site, config);
    let now = Date.parse('2026-11-23T08:00:00Z');
    const alerts = new AlertService(db, { cooldownSeconds: 300, now: () => now });
    const monitor = new ResourceMonitor({
      config,
      paths,
      db,
      alerts,
      now: () => now,
      sampler: {
        procRoot: proc,
        sysRoot: path.join(dir, 'no-sys'),
        statfs: () => ({
          bsize: 4096,
          blocks: 1_000_000,
          bfree: 500_000,
          bavail: 500_000,
          files: 0,
          ffree: 0,
        }),
      },
    });
    // 2 minutes at 1 Hz: CPU 97 % busy, RSS +1 MB a second (10 MB per 10 s reading).
    let busy = 0;
    let idle = 0;
    for (let s = 0; s < 120; s++) {
      busy += 97;
      idle += 3;
      writeProc(proc, 'stat', stat(busy, idle));
      app(800 + s);
      monitor.tick();
      now += 1000;
    }
    const state = monitor.store.get();
    expect(state.analysis!.metrics['cpu:total:pct']).toMatchObject({ value: 97, level: 'critical' });
    expect(state.analysis!.metrics['app:rss:mb']!.trend.direction).toBe('increasing');
    expect(state.analysis!.leak!.suspected).toBe(true);
    expect(state.analysis!.leak!.slopeMbPerReading!).toBeCloseTo(10, 6);
    expect(state.analysis!.overall).toBe('critical');
    const keys = () => alerts.active().map((a) => `${a.severity} ${a.key}`);
    expect(keys()).toEqual(['critical cpu', 'warning app-leak']);
    expect(alerts.find('resources', 'app-leak')!.message).toMatch(
      /^application leak suspected: RSS \+10\.0 MB per 10 s over 10 readings .* reaches the 1500 MB alert in \d+ min$/,
    );
    expect(alerts.find('resources', 'cpu')!.message).toBe(
      'CPU 97 % over the last 5 samples (critical at 95 %)',
    );

    // CPU calms down, memory runs out (500 MB available of 8 GB: 94 %), the application dies.
    for (let s = 0; s < 6; s++) {
      busy += 10;
      idle += 90;
      writeProc(proc, 'stat', stat(busy, idle));
      writeProc(proc, 'meminfo', meminfo(500 * 1024));
      rmSync(path.join(proc, '4000'), { recursive: true, force: true });
      monitor.tick();
      now += 1000;
    }
    expect(keys()).toEqual(['critical memory', 'warning app-down']);
    expect(alerts.find('resources', 'memory')!.message).toBe(
      'memory 94 % used, 500 MB available (critical under 1024 MB available)',
    );
    expect(alerts.find('resources', 'app-down')!.message).toMatch(
      /^application not running since 2026-11-23 08:02:00 UTC$/,
    );
    monitor.stop();

    // A new console: the history says when the application was last up, alerts are still there.
    const again = new ResourceMonitor({
      config,
      paths,
      db,
      alerts: new AlertService(db, { cooldownSeconds: 300, now: () => now }),
      now: () => now,
      sampler: {
        procRoot: proc,
        sysRoot: path.join(dir, 'no-sys'),
        statfs: () => ({ bsize: 1, blocks: 1, bfree: 1, bavail: 1, files: 0, ffree: 0 }),
      },
    });
    const first = again.tick();
    expect(first.snapshot!.app.notRunningSince).toBe(Date.parse('2026-11-23T08:02:00Z'));
    expect(alerts.active().map((a) => a.key)).toEqual(['memory', 'app-down']);
    again.stop();
    writeFileSync(path.join(dir, 'done'), '');
  });
});
