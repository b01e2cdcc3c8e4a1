// The console's figures in Prometheus text format (prom-client): host and application gauges from
// the resource monitor, log records by level and the top error clusters (at most
// metrics.topClusters series: bounded cardinality), the last backup time and verification state per
// kind, database size and fragmentation, each health check's state, the last benchmark's means, and
// the active alerts. Values are read from sources (functions) at scrape time; the sources keep their
// own state up to date off the scrape path, so a scrape only formats numbers.
//
// Units follow Prometheus conventions: seconds, bytes, ratios 0..1, `_total` for counters.
import { Counter, Gauge, Registry } from 'prom-client';
import type { AlertCounts } from './alerts.js';
import type { BackupInfo } from './backup-list.js';
import type { HealthReport, HealthState } from './health-types.js';
import type { ClusterView } from './log-clusters.js';
import type { Level } from './log-parse.js';
import type { ResourceMonitorState } from './resource-monitor.js';

export interface DatabaseFigures {
  bytes: number;
  walBytes: number;
  pageSize: number;
  pageCount: number;
  freePages: number;
  models: number | null;
  at: number;
}

export interface BenchFigures {
  runId: number;
  finishedAt: number;
  regressions: number;
  failures: number;
  files: Array<{ key: string; meanMs: number | null; status: string | null }>;
}

export interface MetricsSources {
  resources?: () => ResourceMonitorState | null;
  /** Log records seen since the process started, by level. */
  logLevels?: () => Record<Level | 'none', number> | null;
  logClusters?: () => { clusters: ClusterView[]; errorsLastHour: number } | null;
  backups?: () => BackupInfo[] | null;
  database?: () => DatabaseFigures | null;
  health?: () => HealthReport | null;
  bench?: () => BenchFigures | null;
  alerts?: () => AlertCounts | null;
}

export const HEALTH_STATE_VALUE: Record<HealthState, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };
const LEVELS: Array<Level | 'none'> = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'none'];
const VERIFICATION_STATES = ['verified', 'failed', 'unverified', 'changed'] as const;

/** Label values: printable, bounded in length. */
function label(text: string, max = 120): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

export class CadenceMetrics {
  readonly registry = new Registry();

  constructor(sources: MetricsSources, opts: { topClusters: number; site?: string }) {
    const r = [this.registry];
    if (opts.site) this.registry.setDefaultLabels({ site: opts.site });
    const s = sources;
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge<string>) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: r,
        collect(this: Gauge<string>) {
          this.reset();
          let wrote = false;
          collect({
            set: ((...args: Parameters<Gauge<string>['set']>) => {
              wrote = true;
              this.set(...args);
            }) as Gauge<string>['set'],
          } as Gauge<string>);
          // prom-client gives a gauge without labels a value of 0 after reset: with nothing to say,
          // say nothing (an absent series, not a false zero).
          if (!wrote && labelNames.length === 0) (this as unknown as { hashMap: object }).hashMap = {};
        },
      });

    // --- host ---------------------------------------------------------------------------------
    const snapshot = () => s.resources?.()?.snapshot ?? null;
    gauge('cadence_host_cpu_usage_ratio', 'Busy share of all CPU cores (0-1)', [], (g) => {
      const v = snapshot()?.cpu?.percent;
      if (v != null) g.set(v / 100);
    });
    gauge('cadence_host_cpu_core_usage_ratio', 'Busy share of one CPU core (0-1)', ['core'], (g) => {
      snapshot()?.cpu?.cores.forEach((v, i) => {
        if (v !== null) g.set({ core: String(i) }, v / 100);
      });
    });
    gauge('cadence_host_load_average', 'Load average', ['period'], (g) => {
      const l = snapshot()?.load;
      if (!l) return;
      g.set({ period: '1m' }, l.one);
      g.set({ period: '5m' }, l.five);
      g.set({ period: '15m' }, l.fifteen);
    });
    gauge('cadence_host_memory_used_ratio', 'Memory in use (0-1)', [], (g) => {
      const m = snapshot()?.memory;
      if (m) g.set(m.usedPercent / 100);
    });
    gauge('cadence_host_memory_available_bytes', 'Memory available to start new work', [], (g) => {
      const m = snapshot()?.memory;
      if (m) g.set(m.availableBytes);
    });
    gauge('cadence_host_memory_total_bytes', 'Installed memory', [], (g) => {
      const m = snapshot()?.memory;
      if (m) g.set(m.totalBytes);
    });
    gauge('cadence_host_swap_used_ratio', 'Swap in use (0-1)', [], (g) => {
      const m = snapshot()?.memory;
      if (m && m.swapTotalBytes > 0) g.set(m.swapPercent / 100);
    });
    gauge(
      'cadence_host_filesystem_used_ratio',
      'Filesystem space in use (0-1); mark: site, backups, secondary backups, or none',
      ['mountpoint', 'mark'],
      (g) => {
        for (const f of snapshot()?.filesystems ?? [])
          if (f.usedPercent !== undefined)
            g.set(
              { mountpoint: label(f.mountPoint), mark: f.marks.join('+') || 'none' },
              f.usedPercent / 100,
            );
      },
    );
    gauge(
      'cadence_host_filesystem_available_bytes',
      'Filesystem space available',
      ['mountpoint', 'mark'],
      (g) => {
        for (const f of snapshot()?.filesystems ?? [])
          if (f.availableBytes !== undefined)
            g.set({ mountpoint: label(f.mountPoint), mark: f.marks.join('+') || 'none' }, f.availableBytes);
      },
    );

    // --- application --------------------------------------------------------------------------
    gauge('cadence_app_up', 'The Candy-Cadence process is running (1) or not (0)', [], (g) => {
      const snap = snapshot();
      if (snap) g.set(snap.app.running ? 1 : 0);
    });
    gauge('cadence_app_cpu_usage_ratio', 'CPU of the application, in cores (1 = one core busy)', [], (g) => {
      const v = snapshot()?.app.cpuPercent;
      if (v != null) g.set(v / 100);
    });
    gauge('cadence_app_resident_memory_bytes', 'Resident memory (RSS) of the application', [], (g) => {
      const v = snapshot()?.app.rssBytes;
      if (v != null) g.set(v);
    });
    gauge('cadence_app_threads', 'Threads of the application', [], (g) => {
      const v = snapshot()?.app.threads;
      if (v != null) g.set(v);
    });
    gauge('cadence_app_open_fds', 'Open file descriptors of the application', [], (g) => {
      const v = snapshot()?.app.openFiles;
      if (v != null) g.set(v);
    });
    gauge('cadence_app_uptime_seconds', 'Seconds since the application started', [], (g) => {
      const v = snapshot()?.app.uptimeSeconds;
      if (v != null) g.set(v);
    });

    // --- logs ---------------------------------------------------------------------------------
    new Counter({
      name: 'cadence_log_records_total',
      help: 'Log records read since this exporter started, by level (none: lines without a level)',
      labelNames: ['level'],
      registers: r,
      collect(this: Counter<string>) {
        const counts = s.logLevels?.();
        if (!counts) return;
        this.reset();
        for (const level of LEVELS) this.inc({ level: level.toLowerCase() }, counts[level] ?? 0);
      },
    });
    gauge('cadence_log_errors_last_hour', 'ERROR and CRITICAL records in the last 60 minutes', [], (g) => {
      const c = s.logClusters?.();
      if (c) g.set(c.errorsLastHour);
    });
    gauge(
      'cadence_log_cluster_records',
      `Records of the busiest error clusters (the top ${opts.topClusters}, last 24 hours and live)`,
      ['cluster', 'level', 'template'],
      (g) => {
        const c = s.logClusters?.();
        if (!c) return;
        const top = c.clusters
          .filter((x) => x.level === 'ERROR' || x.level === 'CRITICAL')
          .sort((a, b) => b.count - a.count)
          .slice(0, opts.topClusters);
        for (const x of top)
          g.set(
            { cluster: String(x.id), level: (x.level ?? 'none').toLowerCase(), template: label(x.template) },
            x.count,
          );
      },
    );

    // --- backups ------------------------------------------------------------------------------
    const newestOf = (kind: string) =>
      (s.backups?.() ?? []).filter((b) => b.kind === kind && b.location === 'primary');
    const kinds = ['database', 'full'] as const;
    gauge(
      'cadence_backup_last_timestamp_seconds',
      'When the newest backup of a kind was taken (Unix time)',
      ['kind'],
      (g) => {
        for (const kind of kinds) {
          const b = newestOf(kind)[0];
          if (b) g.set({ kind }, b.time / 1000);
        }
      },
    );
    gauge(
      'cadence_backup_last_verified_timestamp_seconds',
      'When the newest verified backup of a kind was taken (Unix time)',
      ['kind'],
      (g) => {
        for (const kind of kinds) {
          const b = newestOf(kind).find((x) => x.state === 'verified');
          if (b) g.set({ kind }, b.time / 1000);
        }
      },
    );
    gauge(
      'cadence_backup_verification_state',
      'Verification state of the newest backup of a kind (1 for its state, 0 for the others)',
      ['kind', 'state'],
      (g) => {
        for (const kind of kinds) {
          const b = newestOf(kind)[0];
          if (!b) continue;
          for (const state of VERIFICATION_STATES) g.set({ kind, state }, b.state === state ? 1 : 0);
        }
      },
    );
    gauge('cadence_backup_files', 'Backups of a kind in the primary location', ['kind'], (g) => {
      const all = s.backups?.();
      if (!all) return;
      for (const kind of kinds)
        g.set({ kind }, all.filter((b) => b.kind === kind && b.location === 'primary').length);
    });

    // --- database -----------------------------------------------------------------------------
    const db = () => s.database?.() ?? null;
    gauge('cadence_database_size_bytes', 'Size of the database file', [], (g) => {
      const d = db();
      if (d) g.set(d.bytes);
    });
    gauge('cadence_database_wal_size_bytes', 'Size of the write-ahead log', [], (g) => {
      const d = db();
      if (d) g.set(d.walBytes);
    });
    gauge('cadence_database_pages', 'Pages in the database', [], (g) => {
      const d = db();
      if (d) g.set(d.pageCount);
    });
    gauge('cadence_database_free_pages', 'Free pages (freelist) in the database', [], (g) => {
      const d = db();
      if (d) g.set(d.freePages);
    });
    gauge(
      'cadence_database_fragmentation_ratio',
      'Free pages / pages (VACUUM recommended over 0.3)',
      [],
      (g) => {
        const d = db();
        if (d) g.set(d.pageCount ? d.freePages / d.pageCount : 0);
      },
    );
    gauge('cadence_database_models', 'Rows in the models table', [], (g) => {
      const d = db();
      if (d && d.models !== null) g.set(d.models);
    });

    // --- health -------------------------------------------------------------------------------
    gauge(
      'cadence_health_check_state',
      'State of each health check: 0 ok, 1 warning, 2 critical, 3 unknown',
      ['check'],
      (g) => {
        for (const c of s.health?.()?.checks ?? []) g.set({ check: c.id }, HEALTH_STATE_VALUE[c.state]);
      },
    );
    gauge('cadence_health_check_duration_seconds', 'How long each health check took', ['check'], (g) => {
      for (const c of s.health?.()?.checks ?? []) g.set({ check: c.id }, c.durationMs / 1000);
    });
    gauge('cadence_health_verdict', 'Overall health: 0 ok, 1 warning, 2 critical, 3 unknown', [], (g) => {
      const h = s.health?.();
      if (h) g.set(HEALTH_STATE_VALUE[h.verdict]);
    });
    gauge(
      'cadence_health_last_run_timestamp_seconds',
      'When the health checks last ran (Unix time)',
      [],
      (g) => {
        const h = s.health?.();
        if (h) g.set(h.at / 1000);
      },
    );

    // --- benchmark ----------------------------------------------------------------------------
    gauge(
      'cadence_bench_mean_seconds',
      'Mean load time per file in the last benchmark run',
      ['file'],
      (g) => {
        for (const f of (s.bench?.()?.files ?? []).slice(0, 50))
          if (f.meanMs !== null) g.set({ file: label(f.key) }, f.meanMs / 1000);
      },
    );
    gauge('cadence_bench_regressions', 'Regressions in the last benchmark run', [], (g) => {
      const b = s.bench?.();
      if (b) g.set(b.regressions);
    });
    gauge(
      'cadence_bench_last_run_timestamp_seconds',
      'When the last benchmark run finished (Unix time)',
      [],
      (g) => {
        const b = s.bench?.();
        if (b) g.set(b.finishedAt / 1000);
      },
    );

    // --- alerts -------------------------------------------------------------------------------
    gauge('cadence_alerts_active', 'Active alerts by severity', ['severity'], (g) => {
      const a = s.alerts?.();
      if (!a) return;
      for (const severity of ['info', 'warning', 'critical'] as const) g.set({ severity }, a[severity]);
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
