import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertInput, AlertSink } from '../services/alert-sink.js';
import { defaultConfig } from '../services/config.js';
import { formatRecord, randomRecord, rng } from '../services/demo-log-lines.js';
import { type AnalysisOptions, analyzeLogs, LogAlertState } from '../services/log-analysis.js';
import { discoverLogFiles } from '../services/log-files.js';
import { regexParser } from '../services/log-parse.js';

const site = path.resolve(import.meta.dirname, '../fixtures/logs/site');
const expected = JSON.parse(readFileSync(path.join(site, 'EXPECTED.json'), 'utf8'));
const cfg = defaultConfig();
const base = { thresholds: cfg.thresholds, logs: cfg.logs } satisfies Partial<AnalysisOptions>;
const now = expected.end as number;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'cadence-analysis-'));
  dirs.push(d);
  return d;
}

function siteInputs() {
  const found = discoverLogFiles(site);
  return [...found.history, ...found.live].map((f) => ({
    path: f.path,
    name: f.name,
    base: f.base,
    compressed: f.compressed,
  }));
}

describe('analyzeLogs over the fixture site (rotated, gzipped, tracebacks, CRLF, garbage)', () => {
  it('finds every record once, by level, across all three rotation schemes', async () => {
    const inputs = siteInputs();
    expect(inputs.map((i) => i.name).sort()).toEqual(
      readdirSync(site)
        .filter((n) => n !== 'EXPECTED.json')
        .sort(),
    );
    const r = await analyzeLogs({ ...base, inputs, now });
    expect(r.totals.byLevel).toEqual(expected.byLevel);
    expect(r.totals.records).toBe(expected.records);
    expect(r.totals.duplicates).toBe(expected.duplicates);
    expect(r.totals.continuationLines).toBe(expected.continuationLines);
    expect(r.totals.binaryLines).toBe(expected.binaryLines);
    expect(r.files.every((f) => !f.error)).toBe(true);
  });

  it('reports the per-hour error timeline, the threshold breach and critical exception types', async () => {
    const r = await analyzeLogs({ ...base, inputs: siteInputs(), now });
    const errorsPerHour = new Map<number, number>(expected.errorsPerHour);
    // plugins.log adds one ERROR every 5 hours (i % 10 === 9, every 30 min)
    for (let i = 9; i < 40; i += 10) {
      const h = Math.floor((expected.start + i * 1_800_000 + 5000) / 3_600_000) * 3_600_000;
      errorsPerHour.set(h, (errorsPerHour.get(h) ?? 0) + 1);
    }
    expect(r.timeline.filter((b) => b.errors).map((b) => [b.hour, b.errors])).toEqual(
      [...errorsPerHour.entries()].sort((a, b) => a[0] - b[0]),
    );
    expect(r.errorRate.hoursOver.map((h) => h.hour)).toEqual([expected.burstHour]);
    expect(r.errorRate.peak!.errors).toBeGreaterThan(cfg.thresholds.errorsPerHour);
    const types = Object.fromEntries(r.criticalExceptions.map((c) => [c.type, c.count]));
    expect(types).toEqual({ MemoryError: expected.oom, DatabaseError: expected.databaseErrors });
    // the burst of PAR001 is a frequent error and an error-rate alert would fire in that hour
    const par001 = r.frequentErrors.find((f) => f.key === 'ParseError:PAR001 Invalid file header: <*>')!;
    expect(par001.count).toBe(r.clusters.find((c) => c.template.startsWith('PAR001'))!.count);
  });

  it('clusters WARNING and above into one cluster per template, with codes, exceptions, files and samples', async () => {
    const r = await analyzeLogs({ ...base, inputs: siteInputs(), now });
    const warnPlus = r.clusters.filter((c) => c.level !== null);
    expect(warnPlus.length).toBe(expected.templates.length + 2); // + plugins.log's ERROR and WARNING templates
    const par001 = r.clusters.find((c) => c.template.startsWith('PAR001'))!;
    expect(par001.template).toBe('PAR001 Invalid file header: <*>');
    expect(par001.codes).toEqual(['PAR001']);
    expect(par001.files.sort()).toEqual(['candy_cadence.log', 'error.log', 'parser.log']);
    expect(par001.samples.length).toBe(5);
    expect(par001.perMinute.length).toBe(60);
    const oom = r.clusters.find((c) => c.exceptions.some((e) => e.type === 'MemoryError'))!;
    expect(oom.level).toBe('CRITICAL');
    expect(oom.count).toBe(expected.oom);
    // the garbage lines are records of their own, never glued to a template
    expect(r.clusters.filter((c) => c.level === null).reduce((s, c) => s + c.count, 0)).toBe(3);
    for (const c of r.clusters) for (const s of c.samples) expect(s).not.toMatch(/[\x00-\x08\x1b]/);
  });

  it('honours a time window (--since/--until) and skips files last written before it', async () => {
    const since = expected.burstHour as number;
    const until = since + 3_600_000;
    const r = await analyzeLogs({ ...base, inputs: siteInputs(), now, since, until });
    expect(r.timeline.map((b) => b.hour)).toEqual([since]);
    expect(r.timeline[0]!.errors).toBe(new Map<number, number>(expected.errorsPerHour).get(since));
    expect(r.totals.outsideWindow).toBeGreaterThan(1000);
  });

  it('raises and clears alerts through an AlertSink', async () => {
    const raised: AlertInput[] = [];
    const cleared: string[] = [];
    const sink: AlertSink = { raise: (a) => raised.push(a), clear: (_s, k) => cleared.push(k) };
    const state = new LogAlertState(sink);
    // "now" right after the burst hour: error rate over the threshold, PAR001 frequent
    const r1 = await analyzeLogs({ ...base, inputs: siteInputs(), now: expected.burstHour + 3_600_000 - 1 });
    state.apply(r1.alerts);
    const keys = raised.map((a) => a.key);
    expect(keys).toContain('error-rate');
    // 64 errors against 50 an hour: a warning (critical from twice the threshold)
    expect(raised.find((a) => a.key === 'error-rate')!.severity).toBe('warning');
    expect(keys.some((k) => k.startsWith('frequent:ParseError:PAR001'))).toBe(true);
    expect(raised.every((a) => a.source === 'logs')).toBe(true);
    // later: nothing recent, so everything raised clears
    const r2 = await analyzeLogs({ ...base, inputs: siteInputs(), now: expected.end + 10 * 3_600_000 });
    state.apply(r2.alerts);
    expect(r2.alerts).toEqual([]);
    expect(cleared.sort()).toEqual([...new Set(keys)].sort());
  });

  it('finds new clusters within the window', async () => {
    const dir = tmp();
    const f = path.join(dir, 'x.log');
    writeFileSync(
      f,
      [
        '2026-11-23 08:00:00,000 - a - ERROR - ERR001 Database connection failed: timeout after 30 s',
        '2026-11-23 09:50:00,000 - a - ERROR - ERR004 OpenGL context creation failed: GLX 1.2 needed',
        '2026-11-23 09:55:00,000 - a - ERROR - ERR004 OpenGL context creation failed: GLX 1.3 needed',
      ].join('\n'),
    );
    const r = await analyzeLogs({
      ...base,
      inputs: [{ path: f, name: 'x.log' }],
      now: new Date(2026, 10, 23, 10).getTime(),
    });
    expect(r.newClusters.map((c) => c.template)).toEqual([
      'ERR004 OpenGL context creation failed: GLX <*> needed',
    ]);
    expect(r.alerts.some((a) => a.key.startsWith('new-cluster:ERR004'))).toBe(true);
  });

  it('reads --line-format and raw logs; a corrupt gzip is reported, not fatal', async () => {
    const dir = tmp();
    const custom = path.join(dir, 'app.log');
    writeFileSync(
      custom,
      '[2026-11-23 08:00:01] <error> db: connection lost\n[2026-11-23 08:00:02] <info> db: retry\n  detail line\n',
    );
    const parser = regexParser(
      '^\\[(?<timestamp>[^\\]]+)\\] <(?<level>\\w+)> (?<logger>\\w+): (?<message>.*)$',
    );
    const r = await analyzeLogs({ ...base, inputs: [{ path: custom, name: 'app.log' }], parser, now });
    expect(r.totals.byLevel.ERROR).toBe(1);
    expect(r.totals.byLevel.INFO).toBe(1);
    expect(r.totals.continuationLines).toBe(1);
    const bad = path.join(dir, 'bad.log.gz');
    writeFileSync(
      bad,
      Buffer.concat([
        gzipSync('2026-11-23 08:00:00,000 - a - ERROR - x\n').subarray(0, 20),
        Buffer.from('junk'),
      ]),
    );
    const r2 = await analyzeLogs({
      ...base,
      inputs: [
        { path: bad, name: 'bad.log.gz', compressed: true },
        { path: custom, name: 'app.log' },
      ],
      parser,
      now,
    });
    expect(r2.files[0]!.error).toMatch(/gzip|unexpected end|incorrect header|invalid/i);
    expect(r2.totals.byLevel.ERROR).toBe(1);
    const raw = await analyzeLogs({
      ...base,
      inputs: [{ path: custom, name: 'app.log' }],
      parser: 'raw',
      now,
    });
    expect(raw.totals.records).toBe(3);
  });

  it('a large file split over worker threads gives the same report as one pass', async () => {
    const dir = tmp();
    const f = path.join(dir, 'big.log');
    const r = rng(4);
    const parts: string[] = [];
    let t = new Date(2026, 10, 22, 0, 0, 0).getTime();
    for (let i = 0; i < 30_000; i++) parts.push(formatRecord(randomRecord(r, (t += 3000))));
    writeFileSync(f, `${parts.join('\n')}\n`);
    const opts = { ...base, inputs: [{ path: f, name: 'big.log' }], now: t };
    const one = await analyzeLogs({ ...opts, workers: 0 });
    const split = await analyzeLogs({ ...opts, workers: 3, splitMinBytes: 1024 * 1024 });
    expect(split.totals).toEqual(one.totals);
    expect(split.timeline).toEqual(one.timeline);
    expect(split.errorRate).toEqual(one.errorRate);
    expect(split.frequentErrors.map((e) => [e.key, e.count])).toEqual(
      one.frequentErrors.map((e) => [e.key, e.count]),
    );
    expect(split.criticalExceptions.map((e) => [e.type, e.count])).toEqual(
      one.criticalExceptions.map((e) => [e.type, e.count]),
    );
    const summary = (x: typeof one) => x.clusters.map((c) => `${c.level} ${c.count} ${c.template}`).sort();
    expect(summary(split)).toEqual(summary(one));
    expect(split.files).toEqual([{ ...one.files[0]!, bytes: one.files[0]!.bytes }]);
  });

  it('chunks taken by this thread and a scan thread merge into exactly the one-pass report', async () => {
    const dir = tmp();
    const f = path.join(dir, 'chunked.log');
    const r = rng(8);
    const parts: string[] = [];
    let t = new Date(2026, 10, 20, 0, 0, 0).getTime();
    for (let i = 0; i < 40_000; i++) parts.push(formatRecord(randomRecord(r, (t += 2000))));
    writeFileSync(f, `${parts.join('\n')}\n`);
    for (const clusterLevels of ['errors', 'all'] as const) {
      const opts = { ...base, inputs: [{ path: f, name: 'chunked.log' }], now: t, clusterLevels };
      const one = await analyzeLogs({ ...opts, workers: 0 });
      // ~1 MB chunks: several for each thread; once with this thread reading too, once only the two
      // scan threads (whose results come back serialised).
      const split = await analyzeLogs({ ...opts, workers: 2, splitMinBytes: 2 * 1024 * 1024 });
      const threads = await analyzeLogs({
        ...opts,
        workers: 2,
        splitMinBytes: 2 * 1024 * 1024,
        keepThisThreadFree: true,
      });
      // Cluster ids are the first chunk's; everything else is the same, samples in file order.
      const strip = (x: typeof one) => {
        const byId = new Map(x.clusters.map((c) => [c.id, c.template]));
        return {
          ...x,
          elapsedMs: 0,
          clusters: x.clusters.map((c) => ({ ...c, id: 0 })),
          newClusters: x.newClusters.map((c) => ({ ...c, id: 0 })),
          criticalExceptions: x.criticalExceptions.map((c) => ({
            ...c,
            clusters: c.clusters.map((id) => byId.get(id)),
          })),
          alerts: x.alerts.map((a) => ({ ...a, details: { ...a.details, cluster: 0, clusters: 0 } })),
        };
      };
      expect(split.clusters.length).toBeGreaterThan(10);
      expect(strip(split)).toEqual(strip(one));
      expect(strip(threads)).toEqual(strip(one));
    }
  });

  it('counts records per hour by their own time in a zone half an hour off UTC', async () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      const dir = tmp();
      const f = path.join(dir, 'ist.log');
      // 10:15 and 10:45 IST are 04:45 and 05:15 UTC: two epoch hours, for INFO lines as for errors.
      writeFileSync(
        f,
        [
          '2026-03-05 10:15:00,000 - a - INFO - one',
          '2026-03-05 10:15:01,000 - a - ERROR - two',
          '2026-03-05 10:45:00,000 - a - INFO - three',
          '2026-03-05 10:45:01,000 - a - ERROR - four',
        ].join('\n'),
      );
      const r = await analyzeLogs({
        ...base,
        inputs: [{ path: f, name: 'ist.log' }],
        now: Date.UTC(2026, 2, 5, 6),
      });
      expect(r.timeline.map((b) => [b.hour, b.records, b.errors])).toEqual([
        [Date.UTC(2026, 2, 5, 4), 2, 1],
        [Date.UTC(2026, 2, 5, 5), 2, 1],
      ]);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('keeps the cluster table bounded and counts what it evicted', async () => {
    const dir = tmp();
    const f = path.join(dir, 'many.log');
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const words = `alpha${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + (Math.floor(i / 26) % 26))}`;
      lines.push(
        `2026-11-23 08:00:00,000 - a - ERROR - ${words} unique template words here ${words}x ${words}y`,
      );
    }
    writeFileSync(f, lines.join('\n'));
    const r = await analyzeLogs({
      ...base,
      logs: { ...cfg.logs, maxClusters: 50 },
      inputs: [{ path: f, name: 'many.log' }],
      now,
    });
    expect(r.clusters.length).toBeLessThanOrEqual(50);
    expect(r.remainder.clusters).toBeGreaterThan(0);
    expect(r.clusters.reduce((s, c) => s + c.count, 0) + r.remainder.records).toBe(600);
  });
});
