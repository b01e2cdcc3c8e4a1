// What the resource figures mean: threshold levels (ok / warning / critical) from the
// configuration (defaults from SITE.md), a least-squares trend per metric (a slope above
// thresholds.trendSlope per sample is increasing, below its negative decreasing), leak suspicion for
// the application's RSS (a least-squares rise above thresholds.leakRiseMbPerReading per reading over
// the last thresholds.leakReadings readings, with the time to reach the RSS alert at that rate), and
// the alerts those conditions raise and clear.
import type { AlertInput, AlertSink } from './alert-sink.js';
import type { Config } from './config.js';
import type { MetricHistory } from './metric-history.js';
import { labelOf, METRIC, snapshotValues, unitOf } from './resource-metrics.js';
import type { ResourceSnapshot } from './sampler.js';

export type Level = 'ok' | 'warning' | 'critical' | 'unknown';
const RANK: Record<Level, number> = { unknown: -1, ok: 0, warning: 1, critical: 2 };

export function worst(levels: Level[]): Level {
  let out: Level = 'unknown';
  for (const l of levels) if (RANK[l] > RANK[out]) out = l;
  return out;
}

/** Level of a value that is bad when high. */
export function levelAbove(
  value: number | null | undefined,
  levels: { warning: number; critical: number },
): Level {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'unknown';
  if (value >= levels.critical) return 'critical';
  if (value >= levels.warning) return 'warning';
  return 'ok';
}

/** Least-squares slope of values against their index (per sample); null under two values. */
export function leastSquaresSlope(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const meanX = (n - 1) / 2;
  let meanY = 0;
  for (const v of values) meanY += v;
  meanY /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = i - meanX;
    num += dx * (values[i]! - meanY);
    den += dx * dx;
  }
  return num / den;
}

export interface Trend {
  direction: 'increasing' | 'decreasing' | 'stable' | 'unknown';
  /** Per sample. */
  slope: number | null;
  samples: number;
}

/** Trend of a series: needs at least three values. */
export function trendOf(values: readonly number[], slopeThreshold: number): Trend {
  const slope = values.length >= 3 ? leastSquaresSlope(values) : null;
  const direction =
    slope === null
      ? 'unknown'
      : slope > slopeThreshold
        ? 'increasing'
        : slope < -slopeThreshold
          ? 'decreasing'
          : 'stable';
  return { direction, slope, samples: values.length };
}

export interface LeakOptions {
  /** MB per reading above which the rise suggests a leak (thresholds.leakRiseMbPerReading). */
  riseMbPerReading: number;
  /** How many readings are judged (thresholds.leakReadings). */
  readings: number;
  /** Length of one reading (sampling.leakReadingSeconds). */
  readingSeconds: number;
  /** The RSS levels (thresholds.appRssMb). */
  warningMb: number;
  criticalMb: number;
}

export interface LeakVerdict {
  suspected: boolean;
  /** Readings available / needed. */
  readings: number;
  needed: number;
  slopeMbPerReading: number | null;
  slopeMbPerHour: number | null;
  /** Last reading minus the first judged. */
  riseMb: number | null;
  currentMb: number | null;
  /** At the current slope; 0 when already there; null when not rising. */
  secondsToWarning: number | null;
  secondsToCritical: number | null;
  /** One line for the screen and the alert. */
  summary: string;
}

/**
 * Leak suspicion over RSS readings (MB, oldest first): the least-squares slope over the last
 * `readings` readings is above riseMbPerReading, the last reading is above the first (a restart in
 * the window, which drops RSS, is not a leak) and most steps rise (the median step is positive: one
 * spike, e.g. loading a big model, is not a leak).
 */
export function detectLeak(readingsMb: readonly number[], opts: LeakOptions): LeakVerdict {
  const window = readingsMb.slice(-opts.readings);
  const base: LeakVerdict = {
    suspected: false,
    readings: window.length,
    needed: opts.readings,
    slopeMbPerReading: null,
    slopeMbPerHour: null,
    riseMb: null,
    currentMb: window.length ? window[window.length - 1]! : null,
    secondsToWarning: null,
    secondsToCritical: null,
    summary: '',
  };
  if (window.length < opts.readings) {
    return { ...base, summary: `leak check needs ${opts.readings} readings, has ${window.length}` };
  }
  const slope = leastSquaresSlope(window)!;
  const current = window[window.length - 1]!;
  const rise = current - window[0]!;
  const perHour = (slope * 3600) / opts.readingSeconds;
  const eta = (target: number) =>
    current >= target ? 0 : slope > 0 ? ((target - current) / slope) * opts.readingSeconds : null;
  const steps = window.slice(1).map((v, i) => v - window[i]!);
  const medianStep = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!;
  const suspected = slope > opts.riseMbPerReading && rise > 0 && medianStep > 0;
  const verdict: LeakVerdict = {
    ...base,
    suspected,
    slopeMbPerReading: slope,
    slopeMbPerHour: perHour,
    riseMb: rise,
    secondsToWarning: eta(opts.warningMb),
    secondsToCritical: eta(opts.criticalMb),
  };
  const perReading = `${slope >= 0 ? '+' : ''}${slope.toFixed(1)} MB per ${formatSeconds(opts.readingSeconds)}`;
  verdict.summary = suspected
    ? `leak suspected: RSS ${perReading} over ${window.length} readings (+${rise.toFixed(0)} MB); ` +
      (verdict.secondsToCritical === 0
        ? `already past the ${opts.criticalMb} MB alert`
        : `reaches the ${opts.criticalMb} MB alert in ${formatSeconds(verdict.secondsToCritical!)}`)
    : `no leak: RSS ${perReading} over ${window.length} readings (suspect above +${opts.riseMbPerReading} MB)`;
  return verdict;
}

/** "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.round((s % 86_400) / 3600);
  return h ? `${d} d ${h} h` : `${d} d`;
}

export interface MetricState {
  metric: string;
  label: string;
  value: number | null;
  unit: ReturnType<typeof unitOf>;
  level: Level;
  trend: Trend;
}

export interface ResourceAnalysis {
  at: number;
  /** The worst level of the host and application figures that have thresholds. */
  overall: Level;
  /** Every recorded metric with its level (unknown when it has no threshold) and trend. */
  metrics: Record<string, MetricState>;
  leak: LeakVerdict | null;
  /** The conditions that hold now, as alerts of source "resources". */
  alerts: AlertInput[];
  /** Alert keys not judged this tick (too few samples yet): neither raised nor cleared. */
  undecided: string[];
}

const CPU_SUSTAIN_SAMPLES = 5;
const MB = 1024 * 1024;

const pct = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} %`;
const mb = (bytes: number) =>
  bytes >= 10 * 1024 * MB
    ? `${(bytes / 1024 / MB).toFixed(0)} GB`
    : bytes >= 1024 * MB
      ? `${(bytes / 1024 / MB).toFixed(1)} GB`
      : `${(bytes / MB).toFixed(0)} MB`;

export function analyzeResources(
  snapshot: ResourceSnapshot,
  history: MetricHistory,
  config: Config,
): ResourceAnalysis {
  const t = config.thresholds;
  const values = snapshotValues(snapshot);
  const metrics: Record<string, MetricState> = {};
  const state = (metric: string, level: Level): MetricState => {
    const s: MetricState = {
      metric,
      label: labelOf(metric),
      value: values[metric] ?? null,
      unit: unitOf(metric),
      level,
      trend: trendOf(history.ring.last(metric, config.sampling.trendSamples), t.trendSlope),
    };
    metrics[metric] = s;
    return s;
  };
  const alerts: AlertInput[] = [];
  const alert = (key: string, level: Level, message: string, details?: Record<string, unknown>) => {
    if (level === 'warning' || level === 'critical')
      alerts.push({ source: 'resources', key, severity: level, message, details });
  };
  const levels: Level[] = [];
  const undecided: string[] = [];

  // CPU: colour by the current value, alert on the mean of the last few samples (one busy second is not an incident).
  const cpuNow = state(METRIC.cpu, levelAbove(values[METRIC.cpu], t.cpuPercent));
  const recentCpu = history.ring.last(METRIC.cpu, CPU_SUSTAIN_SAMPLES);
  const cpuMean = recentCpu.length ? recentCpu.reduce((a, b) => a + b, 0) / recentCpu.length : cpuNow.value;
  const cpuLevel = levelAbove(cpuMean, t.cpuPercent);
  levels.push(cpuLevel);
  // Not before the sustain window is full (a console just started sees one busy second).
  if (recentCpu.length < CPU_SUSTAIN_SAMPLES) undecided.push('cpu');
  else if (cpuMean !== null)
    alert(
      'cpu',
      cpuLevel,
      `CPU ${pct(cpuMean)} over the last ${recentCpu.length} samples (${cpuLevel} at ${cpuLevel === 'critical' ? t.cpuPercent.critical : t.cpuPercent.warning} %)`,
      { percent: cpuMean },
    );
  for (let i = 0; i < (snapshot.cpu?.cores.length ?? 0); i++)
    state(METRIC.core(i), levelAbove(values[METRIC.core(i)], t.cpuPercent));
  state(METRIC.iowait, 'unknown');
  state(METRIC.load, 'unknown');

  const mem = snapshot.memory;
  if (mem) {
    let memLevel = levelAbove(mem.usedPercent, t.memoryPercent);
    state(METRIC.memory, memLevel);
    const availableMb = mem.availableBytes / MB;
    // The free-memory floor makes sense only on a host that can have that much free.
    const floorApplies = mem.totalBytes / MB >= 2 * t.freeMemoryMinMb;
    const lowLevel: Level = floorApplies && availableMb < t.freeMemoryMinMb ? 'critical' : 'ok';
    state(METRIC.available, lowLevel);
    memLevel = worst([memLevel, lowLevel]);
    levels.push(memLevel);
    alert(
      'memory',
      memLevel,
      `memory ${pct(mem.usedPercent)} used, ${mb(mem.availableBytes)} available` +
        (lowLevel === 'critical'
          ? ` (critical under ${t.freeMemoryMinMb} MB available)`
          : ` (${memLevel} at ${memLevel === 'critical' ? t.memoryPercent.critical : t.memoryPercent.warning} %)`),
      { usedPercent: mem.usedPercent, availableMb },
    );
    if (mem.swapTotalBytes > 0) {
      const swapLevel = levelAbove(mem.swapPercent, t.swapPercent);
      state(METRIC.swap, swapLevel);
      levels.push(swapLevel);
      alert('swap', swapLevel, `swap ${pct(mem.swapPercent)} used of ${mb(mem.swapTotalBytes)}`, {
        usedPercent: mem.swapPercent,
      });
    }
  }

  for (const fs of snapshot.filesystems ?? []) {
    const metric = METRIC.fs(fs.mountPoint);
    if (fs.usedPercent === undefined) {
      state(metric, 'unknown');
      continue;
    }
    // A read-only filesystem (an image, a snap) is full by design.
    let level = fs.readOnly ? 'ok' : levelAbove(fs.usedPercent, t.diskPercent);
    const availMb = (fs.availableBytes ?? 0) / MB;
    const lowFree = fs.marks.length > 0 && !fs.readOnly && availMb < t.freeDiskMinMb;
    if (lowFree) level = 'critical';
    state(metric, level);
    levels.push(level);
    const marks = fs.marks.length ? ` [${fs.marks.join(', ')}]` : '';
    alert(
      `fs:${fs.mountPoint}`,
      level,
      `${fs.mountPoint}${marks} ${pct(fs.usedPercent)} full, ${mb(fs.availableBytes ?? 0)} free` +
        (lowFree
          ? ` (critical under ${t.freeDiskMinMb} MB free)`
          : ` (${level} at ${level === 'critical' ? t.diskPercent.critical : t.diskPercent.warning} %)`),
      { mountPoint: fs.mountPoint, usedPercent: fs.usedPercent, availableMb: availMb, marks: fs.marks },
    );
  }
  for (const d of snapshot.disks ?? []) {
    state(METRIC.diskRead(d.name), 'unknown');
    state(METRIC.diskWrite(d.name), 'unknown');
    state(METRIC.diskBusy(d.name), 'unknown');
  }
  for (const n of snapshot.network ?? []) {
    if (n.idle) continue;
    state(METRIC.netRx(n.name), 'unknown');
    state(METRIC.netTx(n.name), 'unknown');
  }

  // The application.
  const app = snapshot.app;
  let leak: LeakVerdict | null = null;
  state(METRIC.appUp, app.running ? 'ok' : app.notRunningSince !== null ? 'warning' : 'unknown');
  if (app.running) {
    const rssMb = app.rssBytes === null ? null : app.rssBytes / MB;
    const rssLevel = levelAbove(rssMb, t.appRssMb);
    state(METRIC.appRss, rssLevel);
    state(METRIC.appCpu, 'unknown');
    state(METRIC.appThreads, 'unknown');
    state(METRIC.appFds, 'unknown');
    levels.push(rssLevel);
    if (rssMb !== null)
      alert(
        'app-rss',
        rssLevel,
        `application RSS ${rssMb.toFixed(0)} MB (${rssLevel} at ${rssLevel === 'critical' ? t.appRssMb.critical : t.appRssMb.warning} MB)`,
        { rssMb, pid: app.pid },
      );
    const readings = history
      .readings(METRIC.appRss, config.sampling.leakReadingSeconds * 1000, t.leakReadings)
      .map((r) => r.v);
    leak = detectLeak(readings, {
      riseMbPerReading: t.leakRiseMbPerReading,
      readings: t.leakReadings,
      readingSeconds: config.sampling.leakReadingSeconds,
      warningMb: t.appRssMb.warning,
      criticalMb: t.appRssMb.critical,
    });
    if (leak.suspected) {
      levels.push('warning');
      alert('app-leak', 'warning', `application ${leak.summary}`, {
        slopeMbPerReading: leak.slopeMbPerReading,
        secondsToCritical: leak.secondsToCritical,
        pid: app.pid,
      });
    }
  } else if (app.notRunningSince !== null) {
    levels.push('warning');
    const since = new Date(app.notRunningSince).toISOString().replace('T', ' ').slice(0, 19);
    alert('app-down', 'warning', `application not running since ${since} UTC`, {
      since: app.notRunningSince,
      stalePidFile: app.stalePidFile?.reason ?? null,
    });
  }
  // Metrics recorded but not judged above (none today) still get a trend.
  for (const metric in values) if (!metrics[metric]) state(metric, 'unknown');
  return { at: snapshot.at, overall: worst(levels), metrics, leak, alerts, undecided };
}

/**
 * Turns the analysis into alert raises and clears: a condition that holds is raised (again at most
 * every `refreshMs`, or at once when its severity changes, so the database is not written every
 * tick), a condition that no longer holds is cleared. On the first apply, active "resources" alerts
 * left by an earlier run are cleared if their condition is gone.
 */
export class ResourceAlerter {
  private readonly raisedAt = new Map<string, { at: number; severity: string }>();
  private first = true;

  constructor(
    private readonly sink: AlertSink & {
      active?: (filter: { source?: string }) => { key: string; severity: string }[];
    },
    private readonly refreshMs = 15_000,
  ) {}

  apply(alerts: AlertInput[], now: number, undecided: readonly string[] = []): void {
    if (this.first) {
      this.first = false;
      for (const a of this.sink.active?.({ source: 'resources' }) ?? [])
        this.raisedAt.set(a.key, { at: Number.NEGATIVE_INFINITY, severity: a.severity });
    }
    const wanted = new Set<string>();
    for (const a of alerts) {
      wanted.add(a.key);
      const last = this.raisedAt.get(a.key);
      if (!last || last.severity !== a.severity || now - last.at >= this.refreshMs) {
        this.sink.raise(a);
        this.raisedAt.set(a.key, { at: now, severity: a.severity });
      }
    }
    for (const key of [...this.raisedAt.keys()]) {
      if (wanted.has(key) || undecided.includes(key)) continue;
      this.sink.clear('resources', key);
      this.raisedAt.delete(key);
    }
  }
}
