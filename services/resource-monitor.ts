// The resources pipeline behind screen 2, the header's alert counts and `resources --watch`: every
// sampling interval one tick samples (sampler.ts), records (metric-history.ts), judges
// (metric-analysis.ts) and raises or clears alerts, then publishes the result in a store once.
// Runs on a timer from console start, whichever screen is shown, so history and alerts keep up.
import type { AlertSink } from './alert-sink.js';
import type { Config } from './config.js';
import { analyzeResources, ResourceAlerter, type ResourceAnalysis } from './metric-analysis.js';
import { MetricHistory } from './metric-history.js';
import { METRIC, snapshotValues } from './resource-metrics.js';
import { type ResourceSnapshot, Sampler, type SamplerOptions } from './sampler.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';
import { createStore, type Store } from './store.js';
import { onceAligned } from './ticks.js';

export interface ResourceMonitorState {
  snapshot: ResourceSnapshot | null;
  analysis: ResourceAnalysis | null;
  intervalMs: number;
  /** Wall time of the last tick's synchronous work, µs (sample + record + analyse + alerts). */
  tickUs: number | null;
  /** A tick that failed as a whole (it should not; each source reports its own failures). */
  error: string | null;
  ticks: number;
}

export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 60_000;

/** The marked folders of a site: its root, its backups, the secondary backups. */
export function siteMarks(paths: SitePaths): SamplerOptions['marks'] {
  const marks = [
    { label: 'site', path: paths.root },
    { label: 'backups', path: paths.backups },
  ];
  if (paths.secondaryBackups) marks.push({ label: 'secondary backups', path: paths.secondaryBackups });
  return marks;
}

export interface ResourceMonitorOptions {
  config: Config;
  paths: SitePaths;
  /** The state database for history (null: memory only). */
  db: StateDb | null;
  /** Where alerts go (null: none). */
  alerts: (AlertSink & { active?: (f: { source?: string }) => { key: string; severity: string }[] }) | null;
  now?: () => number;
  /** Overrides for the sampler (tests: procRoot, statfs...). */
  sampler?: Partial<SamplerOptions>;
}

export class ResourceMonitor {
  readonly store: Store<ResourceMonitorState>;
  readonly history: MetricHistory;
  private readonly sampler: Sampler;
  private readonly alerter: ResourceAlerter | null;
  private readonly now: () => number;
  private timer: { cancel(): void } | null = null;
  private intervalMs: number;
  private stopped = false;

  constructor(private readonly opts: ResourceMonitorOptions) {
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.config.sampling.intervalMs;
    this.history = new MetricHistory(opts.db, {
      intervalMs: this.intervalMs,
      ringMinutes: opts.config.sampling.ringMinutes,
      now: this.now,
    });
    const appLastSeenAt = this.history.lastTimeAbove(METRIC.appUp, 0);
    this.history.preload([METRIC.appRss, METRIC.appUp, METRIC.cpu, METRIC.memory]);
    this.sampler = new Sampler({
      marks: siteMarks(opts.paths),
      app: {
        pidFile: opts.paths.pidFile,
        pattern: opts.config.app.processPattern,
        siteRoot: opts.paths.root,
      },
      now: this.now,
      appLastSeenAt,
      ...opts.sampler,
    });
    this.alerter = opts.alerts ? new ResourceAlerter(opts.alerts) : null;
    this.store = createStore<ResourceMonitorState>({
      snapshot: null,
      analysis: null,
      intervalMs: this.intervalMs,
      tickUs: null,
      error: null,
      ticks: 0,
    });
  }

  /** One tick, synchronously; returns what it published. */
  tick(): ResourceMonitorState {
    const t0 = process.hrtime.bigint();
    let next: ResourceMonitorState;
    const previous = this.store.get();
    try {
      const snapshot = this.sampler.sample();
      this.history.record(snapshot.at, snapshotValues(snapshot));
      const analysis = analyzeResources(snapshot, this.history, this.opts.config);
      // The first tick has no CPU % yet: judging it would clear a CPU alert left by the last run.
      if (snapshot.elapsedMs !== null) this.alerter?.apply(analysis.alerts, snapshot.at, analysis.undecided);
      next = {
        ...previous,
        snapshot,
        analysis,
        error: null,
        ticks: previous.ticks + 1,
        intervalMs: this.intervalMs,
      };
    } catch (err) {
      next = { ...previous, error: (err as Error).message, ticks: previous.ticks + 1 };
    }
    next.tickUs = Number(process.hrtime.bigint() - t0) / 1000;
    this.store.set(next);
    return next;
  }

  /** Starts ticking: the first tick right after the current task (not inside a render), then every interval. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.schedule(0);
  }

  private schedule(delay?: number): void {
    if (this.stopped) return;
    const run = () => {
      this.timer = null;
      this.tick();
      this.schedule();
    };
    if (delay === 0) {
      const t = setTimeout(run, 0);
      t.unref?.();
      this.timer = { cancel: () => clearTimeout(t) };
    } else {
      // On the wall-clock boundary, in the same timer callback as the header clock (services/ticks.ts).
      this.timer = { cancel: onceAligned(this.intervalMs, run) };
    }
  }

  /** Changes the sampling interval (clamped to 250 ms – 60 s); takes effect from the next tick. */
  setIntervalMs(ms: number): number {
    this.intervalMs = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(ms)));
    if (this.timer) {
      this.timer.cancel();
      this.timer = null;
      this.schedule();
    }
    this.store.set((s) => ({ ...s, intervalMs: this.intervalMs }));
    return this.intervalMs;
  }

  getIntervalMs(): number {
    return this.intervalMs;
  }

  /** Stops the timer and writes the partial minute. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    try {
      this.history.close();
    } finally {
      this.sampler.close();
    }
  }
}

/** The next interval for `+`/`-`: 250 ms, 500 ms, 1 s, 2 s, 5 s, 10 s, 30 s, 60 s. */
export function nextInterval(current: number, direction: 1 | -1): number {
  const steps = [250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000];
  if (direction > 0) return steps.find((s) => s > current) ?? steps[steps.length - 1]!;
  return [...steps].reverse().find((s) => s < current) ?? steps[0]!;
}
