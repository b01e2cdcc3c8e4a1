// What `cadence-ops serve` runs: the console's monitors without the screen. The resource monitor
// samples at sampling.intervalMs (and raises resource alerts), the logs are followed (records
// counted by level, clustered by the live log service, log alerts), the health checks run in a
// worker every health.intervalSeconds (health alerts), backups, database and benchmark figures are
// refreshed on timers, the alert service polls the state database for what other processes raise,
// and the webhook notifier (when configured) sends every alert. /metrics reads all of it at scrape
// time without doing any of the work.
import { statSync } from 'node:fs';
import { AlertService } from './alerts.js';
import { type BackupInfo, listBackups } from './backup-list.js';
import { ensureBenchSchema } from './bench-baseline.js';
import type { Config } from './config.js';
import { withReadOnly } from './db-connection.js';
import { HealthMonitor } from './health-monitor.js';
import { LiveLogs } from './log-live.js';
import type { Level } from './log-parse.js';
import { LogTailer } from './log-tail.js';
import { type BenchFigures, CadenceMetrics, type DatabaseFigures } from './metrics.js';
import { type MetricsServer, startMetricsServer } from './metrics-server.js';
import { WebhookNotifier, webhookOptionsFrom } from './notify-webhook.js';
import { ResourceMonitor } from './resource-monitor.js';
import type { SitePaths } from './site.js';
import { openStateDb, type StateDb } from './state-db.js';

export interface ServeOptions {
  paths: SitePaths;
  config: Config;
  stateDbPath: string;
  host: string;
  port: number;
  /** Follow the logs (default true). */
  logs?: boolean;
  /** Run the health checks (default true). */
  health?: boolean;
  onWarning?: (message: string) => void;
}

export interface ServeRuntime {
  url: string;
  metrics: CadenceMetrics;
  server: MetricsServer;
  health: HealthMonitor | null;
  notifier: WebhookNotifier | null;
  stop(): Promise<void>;
}

export function readDatabaseFigures(file: string): DatabaseFigures | null {
  try {
    return withReadOnly(
      file,
      (db) => {
        let models: number | null = null;
        try {
          models = (db.prepare('SELECT COUNT(*) AS n FROM models').get() as { n: number }).n;
        } catch {}
        let walBytes = 0;
        try {
          walBytes = statSync(`${file}-wal`).size;
        } catch {}
        return {
          bytes: statSync(file).size,
          walBytes,
          pageSize: Number(db.pragma('page_size', { simple: true })),
          pageCount: Number(db.pragma('page_count', { simple: true })),
          freePages: Number(db.pragma('freelist_count', { simple: true })),
          models,
          at: Date.now(),
        };
      },
      { busyTimeoutMs: 0 },
    );
  } catch {
    return null;
  }
}

export function readBenchFigures(db: StateDb): BenchFigures | null {
  ensureBenchSchema(db);
  const run = db
    .prepare('SELECT id, finished_at, regressions, failures FROM bench_runs ORDER BY id DESC LIMIT 1')
    .get() as { id: number; finished_at: string; regressions: number; failures: number } | undefined;
  if (!run) return null;
  const files = db
    .prepare('SELECT key, mean_ms, status FROM bench_results WHERE run_id = ? ORDER BY key LIMIT 50')
    .all(run.id) as Array<{ key: string; mean_ms: number | null; status: string | null }>;
  return {
    runId: run.id,
    finishedAt: Date.parse(run.finished_at),
    regressions: run.regressions,
    failures: run.failures,
    files: files.map((f) => ({ key: f.key, meanMs: f.mean_ms, status: f.status })),
  };
}

export async function startServe(opts: ServeOptions): Promise<ServeRuntime> {
  const { paths, config } = opts;
  const warn = opts.onWarning ?? (() => {});
  const db = openStateDb(opts.stateDbPath);
  const alerts = new AlertService(db, { cooldownSeconds: config.alerts.cooldownSeconds });
  const notifierOpts = webhookOptionsFrom(config, { db, site: paths.root, onError: warn });
  const notifier = notifierOpts ? new WebhookNotifier(notifierOpts) : null;
  const detachNotifier = notifier?.attach(alerts) ?? null;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void) => {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        warn((err as Error).message);
      }
    }, ms);
    t.unref();
    timers.push(t);
  };
  every(2000, () => alerts.poll());

  const resources = new ResourceMonitor({ config, paths, db, alerts });
  resources.start();

  // Logs: our own follower counts levels and hands every record to the live log service.
  const levels: Record<Level | 'none', number> = {
    DEBUG: 0,
    INFO: 0,
    WARNING: 0,
    ERROR: 0,
    CRITICAL: 0,
    none: 0,
  };
  let live: LiveLogs | null = null;
  let tailer: LogTailer | null = null;
  if (opts.logs !== false) {
    live = new LiveLogs({ logsDir: paths.logs, config, alerts, follow: false, flushMs: 1000 });
    await live.start();
    tailer = new LogTailer({
      logsDir: paths.logs,
      usePolling: config.logs.usePolling,
      onRecord: (r) => {
        levels[r.level ?? 'none']++;
        live!.feed(r);
      },
      onWarning: warn,
    });
    await tailer.start();
  }

  const health =
    opts.health === false
      ? null
      : new HealthMonitor({
          paths,
          config,
          stateDbPath: opts.stateDbPath,
          db,
          alerts,
          firstDelayMs: 500,
          onError: (err) => warn(`health run failed: ${err.message}`),
        });
  health?.start();

  let backups: BackupInfo[] | null = null;
  const refreshBackups = () => {
    backups = listBackups({ paths, stateDb: db }).backups;
  };
  let database: DatabaseFigures | null = null;
  const refreshDatabase = () => {
    database = readDatabaseFigures(paths.database) ?? database;
  };
  let bench: BenchFigures | null = null;
  const refreshBench = () => {
    bench = readBenchFigures(db);
  };
  for (const fn of [refreshBackups, refreshDatabase, refreshBench]) {
    try {
      fn();
    } catch (err) {
      warn((err as Error).message);
    }
  }
  every(15_000, refreshBackups);
  every(30_000, refreshDatabase);
  every(60_000, refreshBench);

  const metrics = new CadenceMetrics(
    {
      resources: () => resources.store.get(),
      logLevels: () => (live ? levels : null),
      logClusters: () => {
        if (!live) return null;
        const s = live.store.get();
        return { clusters: s.clusters, errorsLastHour: s.errorsLastHour };
      },
      backups: () => backups,
      database: () => database,
      health: () => health?.store.get().report ?? null,
      bench: () => bench,
      alerts: () => alerts.counts(),
    },
    { topClusters: config.metrics.topClusters },
  );
  let server: MetricsServer;
  try {
    server = await startMetricsServer({
      host: opts.host,
      port: opts.port,
      metrics,
      healthz: () => {
        const h = health?.store.get();
        return {
          site: paths.root,
          verdict: h?.report?.verdict ?? null,
          healthAt: h?.report ? new Date(h.report.at).toISOString() : null,
          samples: resources.store.get().ticks,
        };
      },
      onError: (err) => warn(err.message),
    });
  } catch (err) {
    await stopAll();
    throw err;
  }

  async function stopAll(): Promise<void> {
    for (const t of timers) clearInterval(t);
    health?.stop();
    resources.stop();
    await tailer?.stop();
    await live?.stop();
    detachNotifier?.();
    if (notifier) {
      await notifier.flush(Math.min(5000, config.alerts.webhook.timeoutMs));
      notifier.stop();
    }
    db.close();
  }

  return {
    url: server.url,
    metrics,
    server,
    health,
    notifier,
    async stop() {
      await server.close();
      await stopAll();
    },
  };
}
