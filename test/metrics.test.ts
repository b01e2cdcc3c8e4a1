// Prometheus metrics: the text output from real sources on a temporary site, checked by
// `promtool check metrics`; bounded cluster cardinality; absent series rather than false zeros; and
// `cadence-ops serve` end to end, scraped by a real Prometheus server on loopback for a few seconds.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { listBackups } from '../services/backup-list.js';
import { recordRun } from '../services/bench-run.js';
import { defaultConfig } from '../services/config.js';
import type { HealthReport } from '../services/health-types.js';
import type { ClusterView } from '../services/log-clusters.js';
import { CadenceMetrics } from '../services/metrics.js';
import { parseListen } from '../services/metrics-server.js';
import { ResourceMonitor } from '../services/resource-monitor.js';
import { cliEntryPath } from '../services/self-exec.js';
import { readBenchFigures, readDatabaseFigures } from '../services/serve-runtime.js';
import { sitePaths } from '../services/site.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { makeTempSite, type TempSite, tempDir } from './helpers/temp-site.js';

const hasPromtool = spawnSync('sh', ['-c', 'command -v promtool']).status === 0;
const hasPrometheus = spawnSync('sh', ['-c', 'command -v prometheus']).status === 0;

function promtool(text: string): { ok: boolean; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Sample lines without comments: `name{labels} value`. */
const samples = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));
const value = (text: string, series: string) => {
  const line = samples(text).find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

let site: TempSite;
let db: StateDb;
beforeAll(async () => {
  site = await makeTempSite({ models: 40, thumbnails: 1, logHistoryHours: 1 });
  db = openStateDb(path.join(site.home, 'state.db'));
});
afterAll(() => {
  db.close();
  site.cleanup();
});

const cluster = (id: number, count: number, level: 'ERROR' | 'WARNING' = 'ERROR'): ClusterView => ({
  id,
  level,
  template: `PAR00${id % 5} failure number ${id} with a "quote" and a \\ backslash\nand a newline`,
  count,
  firstSeen: 0,
  lastSeen: 0,
  perMinute: [],
  perHour: [],
  samples: [],
  codes: [],
  exceptions: [],
  files: [],
});

describe('metrics text', () => {
  it.runIf(Boolean(process.env.CI))(
    "CI has promtool and prometheus (.ci/run installs Debian's prometheus)",
    () => {
      expect(hasPromtool && hasPrometheus).toBe(true);
    },
  );

  it('says nothing rather than a false zero when a source has no data, and promtool accepts it', async () => {
    const text = await new CadenceMetrics({}, { topClusters: 5 }).render();
    expect(samples(text)).toEqual([]);
    expect(text).toContain('# TYPE cadence_health_verdict gauge');
    if (hasPromtool) expect(promtool(text)).toMatchObject({ ok: true });
  });

  it('exports host, app, logs, backups, database, health, bench and alerts from real sources', async () => {
    const config = defaultConfig();
    // No application on this site (another site's simulator must not be taken for it).
    config.app.processPattern = `candy_metrics_${process.pid}_none`;
    const paths = sitePaths(site.root, config);
    const monitor = new ResourceMonitor({ config, paths, db: null, alerts: null });
    monitor.tick();
    await new Promise((r) => setTimeout(r, 100));
    monitor.tick();
    await createBackup({ paths, config, kind: 'database', inline: true, stateDb: db, secondary: false });
    recordRun(db, {
      startedAt: '2026-11-01T10:00:00.000Z',
      finishedAt: '2026-11-01T10:01:00.000Z',
      runs: 5,
      warmup: 1,
      thresholdPercent: 110,
      files: [],
      skipped: [],
      regressions: 1,
      failures: 0,
      targetsMissed: 0,
      perf001: 0,
      baselineSource: null,
      notes: [],
      runId: null,
    });
    const health: HealthReport = {
      at: 1_795_000_000_000,
      verdict: 'warning',
      summary: '',
      durationMs: 10,
      checks: [
        {
          id: 'logs',
          name: 'Logs',
          state: 'warning',
          message: '',
          recommendation: null,
          durationMs: 20,
          findings: [],
          data: {},
        },
        {
          id: 'backups',
          name: 'Backups',
          state: 'ok',
          message: '',
          recommendation: null,
          durationMs: 2,
          findings: [],
          data: {},
        },
      ],
    };
    const clusters = Array.from({ length: 30 }, (_, i) =>
      cluster(i + 1, 100 - i, i % 7 === 0 ? 'WARNING' : 'ERROR'),
    );
    const metrics = new CadenceMetrics(
      {
        resources: () => monitor.store.get(),
        logLevels: () => ({ DEBUG: 1, INFO: 50, WARNING: 7, ERROR: 3, CRITICAL: 1, none: 0 }),
        logClusters: () => ({ clusters, errorsLastHour: 4 }),
        backups: () => listBackups({ paths, stateDb: db }).backups,
        database: () => readDatabaseFigures(paths.database),
        health: () => health,
        bench: () => readBenchFigures(db),
        alerts: () => ({
          info: 0,
          warning: 2,
          critical: 1,
          total: 3,
          unacknowledged: { info: 0, warning: 1, critical: 1, total: 2 },
        }),
      },
      { topClusters: 5 },
    );
    const text = await metrics.render();
    monitor.stop();
    if (hasPromtool) {
      const check = promtool(text);
      expect(check.output).toBe('');
      expect(check.ok).toBe(true);
    }
    expect(value(text, 'cadence_host_memory_used_ratio')).toBeGreaterThan(0);
    expect(value(text, 'cadence_host_memory_used_ratio')).toBeLessThan(1);
    expect(value(text, 'cadence_host_cpu_usage_ratio')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(
      /cadence_host_filesystem_used_ratio\{mountpoint="[^"]+",mark="site\+backups"\} 0\.\d+/,
    );
    expect(value(text, 'cadence_app_up')).toBe(0);
    expect(value(text, 'cadence_log_records_total{level="info"}')).toBe(50);
    expect(value(text, 'cadence_log_errors_last_hour')).toBe(4);
    // Bounded: the top 5 ERROR clusters, labels escaped.
    const clusterLines = samples(text).filter((l) => l.startsWith('cadence_log_cluster_records{'));
    expect(clusterLines).toHaveLength(5);
    expect(clusterLines[0]).toContain('cluster="2"');
    expect(clusterLines[0]).toContain('\\"quote\\"');
    // Control characters become spaces; quotes and backslashes are escaped.
    expect(clusterLines[0]).toContain('\\\\ backslash and a newline"');
    expect(value(text, 'cadence_backup_files{kind="database"}')).toBe(1);
    expect(value(text, 'cadence_backup_verification_state{kind="database",state="verified"}')).toBe(1);
    expect(value(text, 'cadence_backup_last_verified_timestamp_seconds{kind="database"}')).toBeGreaterThan(
      1.7e9,
    );
    expect(value(text, 'cadence_backup_last_timestamp_seconds{kind="full"}')).toBeUndefined();
    expect(value(text, 'cadence_database_models')).toBe(40);
    expect(value(text, 'cadence_database_size_bytes')).toBeGreaterThan(4096);
    expect(value(text, 'cadence_database_fragmentation_ratio')).toBeGreaterThanOrEqual(0);
    expect(value(text, 'cadence_health_check_state{check="logs"}')).toBe(1);
    expect(value(text, 'cadence_health_check_state{check="backups"}')).toBe(0);
    expect(value(text, 'cadence_health_verdict')).toBe(1);
    expect(value(text, 'cadence_health_last_run_timestamp_seconds')).toBe(1_795_000_000);
    expect(value(text, 'cadence_bench_regressions')).toBe(1);
    expect(value(text, 'cadence_bench_last_run_timestamp_seconds')).toBe(
      Date.parse('2026-11-01T10:01:00Z') / 1000,
    );
    expect(value(text, 'cadence_alerts_active{severity="critical"}')).toBe(1);
  });

  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('9464')).toThrow(/HOST:PORT/);
    expect(() => parseListen('host:99999')).toThrow(/HOST:PORT/);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(fn: () => Promise<T | null>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function stop(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

describe('cadence-ops serve', () => {
  it('serves /metrics and /healthz, and a real Prometheus scrapes it', { timeout: 60_000 }, async () => {
    let serve: ChildProcess | null = null;
    let prom: ChildProcess | null = null;
    try {
      serve = spawn(
        process.execPath,
        [cliEntryPath(), 'serve', '--root', site.root, '--listen', '127.0.0.1:0'],
        {
          env: site.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let err = '';
      serve.stderr!.on('data', (d) => (err += d));
      const base = await waitFor(
        async () => /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(err)?.[1] ?? null,
        15_000,
        'serve to listen',
      );
      const healthz = await waitFor(
        async () => {
          const r = await fetch(`${base}/healthz`);
          const doc = (await r.json()) as { status: string; verdict: string | null; samples: number };
          return doc.verdict ? { code: r.status, doc } : null;
        },
        20_000,
        'a health verdict',
      );
      expect(healthz.code).toBe(200);
      expect(healthz.doc.status).toBe('ok');
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(samples(text).some((l) => l.startsWith('cadence_health_check_state{check="database"}'))).toBe(
        true,
      );
      expect(value(text, 'cadence_database_models')).toBe(40);
      if (hasPromtool) expect(promtool(text)).toMatchObject({ ok: true });
      expect((await fetch(`${base}/nope`)).status).toBe(404);

      if (!hasPrometheus) return;
      const dir = tempDir();
      const port = await freePort();
      const target = base.replace('http://', '');
      writeFileSync(
        path.join(dir, 'prometheus.yml'),
        `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: cadence\n    static_configs:\n      - targets: ['${target}']\n`,
      );
      expect(
        execFileSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' }),
      ).toMatch(/SUCCESS/);
      prom = spawn(
        'prometheus',
        [
          `--config.file=${path.join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
      const api = `http://127.0.0.1:${port}/api/v1`;
      const up = await waitFor(
        async () => {
          const r = (await (
            await fetch(`${api}/query?query=${encodeURIComponent('up{job="cadence"}')}`)
          ).json()) as {
            data: { result: Array<{ value: [number, string] }> };
          };
          return r.data.result[0]?.value[1] === '1' ? r : null;
        },
        30_000,
        'Prometheus to scrape the target',
      );
      expect(up.data.result).toHaveLength(1);
      const verdict = (await (await fetch(`${api}/query?query=cadence_health_verdict`)).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      expect(['0', '1', '2', '3']).toContain(verdict.data.result[0]!.value[1]);
      const targets = (await (await fetch(`${api}/targets`)).json()) as {
        data: { activeTargets: Array<{ health: string; lastError: string }> };
      };
      expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
    } finally {
      await stop(prom);
      await stop(serve);
    }
  });
});
