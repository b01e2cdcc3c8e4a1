// Health check "system resources": two /proc readings sampleMs apart (CPU % needs two), judged by
// the same analysis as the Resources screen (metric-analysis.ts) against the SITE.md thresholds of
// the configuration: CPU, memory (critical at 90 % or under 1 GB available), swap, the filesystems
// of the site and its backups (critical at 90 % or under 1 GB free), the application's RSS. Whether
// the application runs is the application check's business, not this one's.
import type { AlertInput } from './alert-sink.js';
import {
  type CheckContext,
  type CheckOutcome,
  type HealthState,
  outcome,
  worstState,
} from './health-types.js';
import { analyzeResources } from './metric-analysis.js';
import { MetricHistory } from './metric-history.js';
import { METRIC, snapshotValues } from './resource-metrics.js';
import { siteMarks } from './resource-monitor.js';
import { Sampler, type SamplerOptions } from './sampler.js';

export interface ResourceCheckOptions {
  /** Time between the two readings (default 200 ms). */
  sampleMs?: number;
  /** Sampler overrides (tests: procRoot, statfs). */
  sampler?: Partial<SamplerOptions>;
}

const RECOMMEND: Record<string, string> = {
  cpu: 'find what is busy on the Resources screen (2); a long benchmark or backup may be running',
  memory:
    'see the application RSS and leak trend on the Resources screen (2); restart the application if it leaks',
  swap: 'memory is short: see the Resources screen (2)',
  fs: 'free disk space: prune old backups (cadence-ops backup prune), rotate logs (cadence-ops logs rotate), empty temp/',
  'app-rss':
    'the application uses much memory: check the leak trend on the Resources screen (2); restart it if it keeps rising',
};

export async function checkResources(
  ctx: CheckContext,
  opts: ResourceCheckOptions = {},
): Promise<CheckOutcome> {
  const sampleMs = opts.sampleMs ?? 200;
  const sampler = new Sampler({
    marks: siteMarks(ctx.paths),
    app: { pidFile: ctx.paths.pidFile, pattern: ctx.config.app.processPattern, siteRoot: ctx.paths.root },
    ...opts.sampler,
  });
  const history = new MetricHistory(null, { intervalMs: Math.max(50, sampleMs), ringMinutes: 1 });
  try {
    const first = sampler.sample();
    history.record(first.at, snapshotValues(first));
    await new Promise((r) => setTimeout(r, sampleMs));
    const snapshot = sampler.sample();
    history.record(snapshot.at, snapshotValues(snapshot));
    const analysis = analyzeResources(snapshot, history, ctx.config);
    if (!snapshot.cpu && !snapshot.memory) {
      return outcome(
        'unknown',
        `resources cannot be read: ${snapshot.unavailable.cpu ?? snapshot.unavailable.memory ?? '/proc unreadable'}`,
        'the health check reads /proc (Linux); run it on the Candy-Cadence host',
        Object.entries(snapshot.unavailable).map(([k, v]) => `${k}: ${v}`),
      );
    }
    // The CPU alert needs a sustained window; here the one interval is judged directly.
    const alerts: AlertInput[] = analysis.alerts.filter((a) => a.key !== 'app-down' && a.key !== 'app-leak');
    const cpu = snapshot.cpu?.percent ?? null;
    const cpuLevel = analysis.metrics[METRIC.cpu]?.level ?? 'unknown';
    const findings = alerts.map((a) => `${a.severity}: ${a.message}`);
    const states: HealthState[] = alerts.map((a) => a.severity as HealthState);
    if (!alerts.some((a) => a.key === 'cpu') && (cpuLevel === 'warning' || cpuLevel === 'critical')) {
      states.push(cpuLevel);
      findings.push(`${cpuLevel}: CPU ${cpu?.toFixed(0)} %`);
    }
    for (const [section, why] of Object.entries(snapshot.unavailable))
      findings.push(`${section} not read: ${why}`);
    const state = worstState(states);
    const mem = snapshot.memory;
    const fss = (snapshot.filesystems ?? []).filter((f) => f.marks.length && f.usedPercent !== undefined);
    const headline = [
      cpu !== null ? `CPU ${cpu.toFixed(0)} %` : null,
      mem ? `memory ${mem.usedPercent.toFixed(0)} %` : null,
      ...fss.map((f) => `${f.marks.join('+')} disk ${f.usedPercent!.toFixed(0)} %`),
      snapshot.app.running && snapshot.app.rssBytes !== null
        ? `app RSS ${(snapshot.app.rssBytes / 1048576).toFixed(0)} MB`
        : null,
    ]
      .filter(Boolean)
      .join(', ');
    const worst = alerts.find((a) => a.severity === state) ?? alerts[0];
    const key = worst ? (worst.key.startsWith('fs:') ? 'fs' : worst.key) : 'cpu';
    return outcome(
      state,
      state === 'ok' ? headline : `${worst?.message ?? findings[0]} (${headline})`,
      RECOMMEND[key] ?? RECOMMEND.cpu!,
      findings,
      {
        cpuPercent: cpu,
        memoryPercent: mem?.usedPercent ?? null,
        memoryAvailableBytes: mem?.availableBytes ?? null,
        swapPercent: mem && mem.swapTotalBytes > 0 ? mem.swapPercent : null,
        load1: snapshot.load?.one ?? null,
        filesystems: fss.map((f) => ({
          mountPoint: f.mountPoint,
          marks: f.marks,
          usedPercent: f.usedPercent,
          availableBytes: f.availableBytes,
        })),
        appRssBytes: snapshot.app.rssBytes,
      },
    );
  } finally {
    sampler.close();
    history.close();
  }
}
