import os from 'node:os';
import { formatBytes, padEnd, padStart } from '../../screens/components/text.js';
import { type Alert, AlertService } from '../../services/alerts.js';
import { formatDuration } from '../../services/app-status.js';
import type { Config } from '../../services/config.js';
import type { Level } from '../../services/metric-analysis.js';
import { METRIC } from '../../services/resource-metrics.js';
import { ResourceMonitor, type ResourceMonitorState } from '../../services/resource-monitor.js';
import type { ResourceSnapshot } from '../../services/sampler.js';
import { openStateDb, type StateDb } from '../../services/state-db.js';
import { UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops resources [--json] [--watch SECONDS] [--sample-ms MS] [--no-record]

Prints one snapshot of the host and the Candy-Cadence process, read from /proc: CPU (total and
per core), load, memory and swap, every real filesystem (the site's and the backups' marked),
disk I/O and network rates, and the application's CPU, RSS, threads, open files and uptime; each
figure with its threshold level (ok / warning / critical) and trend, the leak check of the
application's RSS, the thresholds, and the active resource alerts.

The snapshot is recorded in the site's history (state database) and raises or clears the
resource alerts, as the console does, unless --no-record is given.

Options
  --json            one JSON document (with --watch: one JSON document per line)
  --watch SECONDS   print a snapshot every SECONDS seconds until interrupted
  --sample-ms MS    how long the first measurement lasts (CPU % and rates need two readings;
                    default 500)
  --no-record       neither write history nor touch alerts

Exit codes: 0 printed; 1 /proc could not be read (no CPU and no memory figures); 2 usage.`,
  flags: {
    watch: { type: 'number' },
    sampleMs: { type: 'number', default: 500 },
    record: { type: 'boolean', default: true },
  },
  async run(ctx) {
    const f = ctx.flags as { watch?: number; sampleMs?: number; record?: boolean };
    if (f.watch !== undefined && !(f.watch >= 0.25 && f.watch <= 3600))
      throw new UsageError('--watch: expected a number of seconds between 0.25 and 3600');
    const sampleMs = f.sampleMs ?? 500;
    if (!(sampleMs >= 50 && sampleMs <= 10_000)) throw new UsageError('--sample-ms: expected 50 to 10000');
    const site = ctx.site();
    const config = site.loaded.config;
    const record = f.record !== false;
    let db: StateDb | null = null;
    let alerts: AlertService | null = null;
    if (record) {
      db = openStateDb(site.stateDbPath);
      alerts = new AlertService(db, { cooldownSeconds: config.alerts.cooldownSeconds });
    }
    const monitor = new ResourceMonitor({ config, paths: site.paths, db, alerts });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let stop = false;
    const onSignal = () => {
      stop = true;
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, onSignal);
    // `resources --watch 1 | head`: the reader went away; stop quietly.
    const onOutputError = () => {
      stop = true;
    };
    ctx.stdout.on('error', onOutputError);
    let code = 0;
    try {
      monitor.tick();
      await sleep(sampleMs);
      for (;;) {
        const state = monitor.tick();
        if (!state.snapshot?.cpu && !state.snapshot?.memory) code = 1;
        const activeAlerts = alerts?.active({ source: 'resources' }) ?? [];
        if (ctx.json) {
          const doc = jsonDocument(state, config, activeAlerts, record);
          ctx.stdout.write(
            f.watch !== undefined ? `${JSON.stringify(doc)}\n` : `${JSON.stringify(doc, null, 2)}\n`,
          );
        } else {
          ctx.stdout.write(humanReport(state, config, activeAlerts));
        }
        if (f.watch === undefined || stop) break;
        const until = Date.now() + f.watch * 1000;
        while (!stop && Date.now() < until) await sleep(Math.min(200, until - Date.now()));
        if (stop) break;
        if (!ctx.json) ctx.stdout.write('\n');
      }
    } finally {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
      ctx.stdout.off('error', onOutputError);
      monitor.stop();
      db?.close();
    }
    if (code === 1) {
      const why = monitor.store.get().snapshot?.unavailable;
      ctx.stderr.write(
        `cadence-ops resources: /proc could not be read: ${why?.cpu ?? why?.memory ?? 'unknown reason'}\n`,
      );
    }
    return code;
  },
};
export default verb;

function jsonDocument(state: ResourceMonitorState, config: Config, alerts: Alert[], recorded: boolean) {
  const a = state.analysis;
  return {
    at: state.snapshot ? new Date(state.snapshot.at).toISOString() : null,
    host: os.hostname(),
    overall: a?.overall ?? 'unknown',
    snapshot: state.snapshot,
    levels: a
      ? Object.fromEntries(
          Object.values(a.metrics).map((m) => [
            m.metric,
            {
              label: m.label,
              value: m.value,
              unit: m.unit,
              level: m.level,
              trend: m.trend.direction,
              slope: m.trend.slope,
            },
          ]),
        )
      : {},
    leak: a?.leak ?? null,
    thresholds: {
      cpuPercent: config.thresholds.cpuPercent,
      memoryPercent: config.thresholds.memoryPercent,
      swapPercent: config.thresholds.swapPercent,
      diskPercent: config.thresholds.diskPercent,
      freeMemoryMinMb: config.thresholds.freeMemoryMinMb,
      freeDiskMinMb: config.thresholds.freeDiskMinMb,
      appRssMb: config.thresholds.appRssMb,
      leakRiseMbPerReading: config.thresholds.leakRiseMbPerReading,
      leakReadings: config.thresholds.leakReadings,
      leakReadingSeconds: config.sampling.leakReadingSeconds,
      trendSlope: config.thresholds.trendSlope,
      trendSamples: config.sampling.trendSamples,
    },
    alerts: alerts.map((x) => ({
      key: x.key,
      severity: x.severity,
      message: x.message,
      firstSeen: new Date(x.firstSeen).toISOString(),
      lastSeen: new Date(x.lastSeen).toISOString(),
      count: x.count,
      acknowledged: x.acknowledgedAt !== null,
    })),
    recorded,
    tickMicroseconds: state.tickUs,
  };
}

const WORD: Record<Level, string> = { ok: 'ok', warning: 'WARNING', critical: 'CRITICAL', unknown: '' };
const ARROW = { increasing: '↑', decreasing: '↓', stable: '→', unknown: ' ' } as const;
const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(1)} %`);
const rate = (v: number | null | undefined) =>
  v === null || v === undefined ? 'n/a' : `${formatBytes(v)}/s`;

function humanReport(state: ResourceMonitorState, config: Config, alerts: Alert[]): string {
  const s = state.snapshot;
  const a = state.analysis;
  if (!s || !a) return `no snapshot: ${state.error ?? 'unknown error'}\n`;
  const t = config.thresholds;
  const out: string[] = [];
  const na = (section: keyof ResourceSnapshot['unavailable']) =>
    `n/a (${s.unavailable[section] ?? 'not read'})`;
  const lv = (metric: string) => {
    const m = a.metrics[metric];
    if (!m) return '';
    return [m.trend.direction === 'unknown' ? '' : ARROW[m.trend.direction], WORD[m.level]]
      .filter(Boolean)
      .join(' ');
  };
  const when = new Date(s.at).toISOString().replace('T', ' ').slice(0, 19);
  out.push(
    `${os.hostname()}  ${when} UTC  overall: ${a.overall === 'unknown' ? 'n/a' : a.overall.toUpperCase()}`,
  );
  if (s.cpu) {
    out.push(
      `${padEnd('CPU', 10)}${padStart(pct(s.cpu.percent), 8)} ${padEnd(lv(METRIC.cpu), 11)}` +
        `user ${pct(s.cpu.user)}  system ${pct(s.cpu.system)}  iowait ${pct(s.cpu.iowait)}  steal ${pct(s.cpu.steal)}` +
        `  [warn ${t.cpuPercent.warning} %, crit ${t.cpuPercent.critical} %]`,
    );
    out.push(
      `${padEnd('  cores', 10)}${s.cpu.cores.map((c, i) => `cpu${i} ${c === null ? 'n/a' : `${c.toFixed(0)} %`}`).join('  ')}`,
    );
  } else out.push(`${padEnd('CPU', 10)}${na('cpu')}`);
  out.push(
    s.load
      ? `${padEnd('load', 10)}${s.load.one.toFixed(2)} ${s.load.five.toFixed(2)} ${s.load.fifteen.toFixed(2)}` +
          (s.load.perCore !== null ? `  (${s.load.perCore.toFixed(2)} per core)` : '') +
          (s.load.tasks !== null ? `  ${s.load.runnable}/${s.load.tasks} tasks runnable` : '')
      : `${padEnd('load', 10)}${na('load')}`,
  );
  const m = s.memory;
  if (m) {
    out.push(
      `${padEnd('memory', 10)}${padStart(pct(m.usedPercent), 8)} ${padEnd(lv(METRIC.memory), 11)}` +
        `${formatBytes(m.usedBytes)} used of ${formatBytes(m.totalBytes)}, ${formatBytes(m.availableBytes)} available` +
        `  [warn ${t.memoryPercent.warning} %, crit ${t.memoryPercent.critical} %, crit under ${t.freeMemoryMinMb} MB available]`,
    );
    out.push(
      m.swapTotalBytes > 0
        ? `${padEnd('swap', 10)}${padStart(pct(m.swapPercent), 8)} ${padEnd(lv(METRIC.swap), 11)}${formatBytes(m.swapUsedBytes)} used of ${formatBytes(m.swapTotalBytes)}`
        : `${padEnd('swap', 10)}none`,
    );
  } else out.push(`${padEnd('memory', 10)}${na('memory')}`);
  out.push('filesystems');
  if (s.filesystems) {
    out.push(
      `  ${padEnd('mount', 24)}${padEnd('type', 8)}${padStart('size', 8)}${padStart('used', 8)}${padStart('free', 8)}${padStart('use', 8)}  state      marks`,
    );
    for (const fs of s.filesystems) {
      if (fs.error) {
        out.push(`  ${padEnd(fs.mountPoint, 24)}${padEnd(fs.fsType, 8)} n/a (${fs.error})`);
        continue;
      }
      out.push(
        `  ${padEnd(fs.mountPoint, 24)}${padEnd(fs.fsType, 8)}${padStart(formatBytes(fs.totalBytes), 8)}${padStart(formatBytes(fs.usedBytes), 8)}` +
          `${padStart(formatBytes(fs.availableBytes), 8)}${padStart(pct(fs.usedPercent), 8)}  ${padEnd(lv(METRIC.fs(fs.mountPoint)), 11)}${fs.marks.join(', ')}`,
      );
    }
  } else out.push(`  ${na('filesystems')}`);
  out.push(
    s.disks
      ? `${padEnd('disks', 10)}${s.disks.map((d) => `${d.name} read ${rate(d.readBytesPerSec)} write ${rate(d.writeBytesPerSec)} busy ${pct(d.busyPercent)}${d.reset ? ' (counters restarted)' : ''}`).join('; ') || 'none'}`
      : `${padEnd('disks', 10)}${na('disks')}`,
  );
  out.push(
    s.network
      ? `${padEnd('network', 10)}${
          s.network
            .filter((n) => !n.idle && !n.loopback)
            .map(
              (n) =>
                `${n.name} in ${rate(n.rxBytesPerSec)} out ${rate(n.txBytesPerSec)}${n.reset ? ' (counters restarted)' : ''}`,
            )
            .join('; ') || 'no active interface'
        }`
      : `${padEnd('network', 10)}${na('network')}`,
  );
  const app = s.app;
  if (app.running) {
    out.push(
      `application  pid ${app.pid} (${app.via})  ${app.state ?? ''}  up ${app.uptimeSeconds !== null ? formatDuration(app.uptimeSeconds) : 'n/a'}`,
    );
    out.push(
      `  CPU ${pct(app.cpuPercent)}  RSS ${formatBytes(app.rssBytes)} ${lv(METRIC.appRss)}  [warn ${t.appRssMb.warning} MB, crit ${t.appRssMb.critical} MB]` +
        `  threads ${app.threads ?? 'n/a'}  open files ${app.openFiles ?? `n/a (${app.openFilesError})`}`,
    );
    if (a.leak) out.push(`  ${a.leak.summary}`);
  } else {
    const since = app.notRunningSince ?? app.lastSeenAt;
    out.push(
      `application  not running${since ? ` since ${new Date(since).toISOString().replace('T', ' ').slice(0, 19)} UTC` : ' (never seen on this site)'}` +
        ` (pid file ${config.app.pidFile}, pattern "${config.app.processPattern}")`,
    );
  }
  if (app.stalePidFile) out.push(`  stale pid file: ${app.stalePidFile.reason}`);
  if (app.error) out.push(`  n/a: ${app.error}`);
  if (alerts.length) {
    out.push('alerts');
    for (const x of alerts) out.push(`  ${x.severity.toUpperCase()} ${x.key}: ${x.message} (x${x.count})`);
  }
  return `${out.join('\n')}\n`;
}
