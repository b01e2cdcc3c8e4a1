// The names of the resource metrics kept in history ("kind:object:measure", e.g. "cpu:total:pct",
// "fs:/srv:pct", "net:eth0:rx_bps", "app:rss:mb"), their labels and units, and how one snapshot
// becomes one row of values.
import type { ResourceSnapshot } from './sampler.js';

export type Unit = 'pct' | 'mb' | 'bps' | 'n' | 'load' | 'bool';

export interface MetricName {
  kind: string;
  object: string;
  measure: string;
}

export function metricName(kind: string, object: string, measure: string): string {
  return `${kind}:${object}:${measure}`;
}

/** Splits at the first and last colon: the object (a mount point) may hold colons itself. */
export function parseMetricName(name: string): MetricName | null {
  const first = name.indexOf(':');
  const last = name.lastIndexOf(':');
  if (first <= 0 || last <= first) return null;
  return { kind: name.slice(0, first), object: name.slice(first + 1, last), measure: name.slice(last + 1) };
}

const MEASURE_UNIT: Record<string, Unit> = {
  pct: 'pct',
  mb: 'mb',
  read_bps: 'bps',
  write_bps: 'bps',
  rx_bps: 'bps',
  tx_bps: 'bps',
  busy_pct: 'pct',
  n: 'n',
  '1m': 'load',
  up: 'bool',
};

export function unitOf(name: string): Unit {
  const m = parseMetricName(name);
  return (m && MEASURE_UNIT[m.measure]) ?? 'n';
}

/** "CPU total", "core 1", "memory used", "/srv used", "eth0 receive", "app RSS". */
export function labelOf(name: string): string {
  const m = parseMetricName(name);
  if (!m) return name;
  switch (m.kind) {
    case 'cpu':
      return m.object === 'total'
        ? 'CPU'
        : m.object === 'iowait'
          ? 'CPU iowait'
          : `CPU ${m.object.replace('core', 'core ')}`;
    case 'load':
      return 'load 1 min';
    case 'mem':
      return m.object === 'used' ? 'memory used' : 'memory available';
    case 'swap':
      return 'swap used';
    case 'fs':
      return `${m.object} used`;
    case 'disk':
      return `${m.object} ${m.measure === 'read_bps' ? 'read' : m.measure === 'write_bps' ? 'write' : 'busy'}`;
    case 'net':
      return `${m.object} ${m.measure === 'rx_bps' ? 'receive' : 'send'}`;
    case 'app':
      return (
        { cpu: 'app CPU', rss: 'app RSS', threads: 'app threads', fds: 'app open files', up: 'app up' }[
          m.object
        ] ?? `app ${m.object}`
      );
    default:
      return name;
  }
}

export const METRIC = {
  cpu: 'cpu:total:pct',
  iowait: 'cpu:iowait:pct',
  core: (i: number) => `cpu:core${i}:pct`,
  load: 'load:avg:1m',
  memory: 'mem:used:pct',
  available: 'mem:available:mb',
  swap: 'swap:used:pct',
  fs: (mount: string) => metricName('fs', mount, 'pct'),
  diskRead: (d: string) => metricName('disk', d, 'read_bps'),
  diskWrite: (d: string) => metricName('disk', d, 'write_bps'),
  diskBusy: (d: string) => metricName('disk', d, 'busy_pct'),
  netRx: (n: string) => metricName('net', n, 'rx_bps'),
  netTx: (n: string) => metricName('net', n, 'tx_bps'),
  appCpu: 'app:cpu:pct',
  appRss: 'app:rss:mb',
  appThreads: 'app:threads:n',
  appFds: 'app:fds:n',
  appUp: 'app:up:up',
} as const;

const MB = 1024 * 1024;

/** One row of metric values from a snapshot; null where nothing was measured this tick. */
export function snapshotValues(s: ResourceSnapshot): Record<string, number | null> {
  const v: Record<string, number | null> = {};
  if (s.cpu) {
    v[METRIC.cpu] = s.cpu.percent;
    v[METRIC.iowait] = s.cpu.iowait;
    s.cpu.cores.forEach((c, i) => {
      v[METRIC.core(i)] = c;
    });
  }
  if (s.load) v[METRIC.load] = s.load.one;
  if (s.memory) {
    v[METRIC.memory] = s.memory.usedPercent;
    v[METRIC.available] = s.memory.availableBytes / MB;
    v[METRIC.swap] = s.memory.swapTotalBytes > 0 ? s.memory.swapPercent : null;
  }
  for (const f of s.filesystems ?? []) v[METRIC.fs(f.mountPoint)] = f.usedPercent ?? null;
  for (const d of s.disks ?? []) {
    v[METRIC.diskRead(d.name)] = d.readBytesPerSec;
    v[METRIC.diskWrite(d.name)] = d.writeBytesPerSec;
    v[METRIC.diskBusy(d.name)] = d.busyPercent;
  }
  for (const n of s.network ?? []) {
    if (n.idle) continue;
    v[METRIC.netRx(n.name)] = n.rxBytesPerSec;
    v[METRIC.netTx(n.name)] = n.txBytesPerSec;
  }
  v[METRIC.appUp] = s.app.running ? 1 : 0;
  if (s.app.running) {
    v[METRIC.appCpu] = s.app.cpuPercent;
    v[METRIC.appRss] = s.app.rssBytes === null ? null : s.app.rssBytes / MB;
    v[METRIC.appThreads] = s.app.threads;
    v[METRIC.appFds] = s.app.openFiles;
  }
  return v;
}
