// Runs the health checks again and again for a long-lived process (the console's Overview, `serve`):
// every health.intervalSeconds and on demand, in a worker thread (task "health") so quick_check and
// the log reads never hold up the screen or a scrape. Starts from the last recorded report, records
// each new one and turns it into alerts. Publishes through a store; no React here.
import type { AlertSink } from './alert-sink.js';
import type { Config } from './config.js';
import { applyHealthAlerts, latestHealthReport, recordHealthReport } from './health-run.js';
import type { HealthReport } from './health-types.js';
import type { HealthWorkerInput } from './health-worker.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';
import { createStore, type Store } from './store.js';

export interface HealthMonitorState {
  report: HealthReport | null;
  /** 'recorded': the last report from the state database, not yet re-run by this process. */
  source: 'recorded' | 'live' | null;
  running: boolean;
  /** Epoch ms the current run started. */
  runningSince: number | null;
  error: string | null;
  runs: number;
}

export interface HealthMonitorOptions {
  paths: SitePaths;
  config: Config;
  stateDbPath: string | null;
  /** Where reports are recorded and the last one is read from (null: neither). */
  db: StateDb | null;
  alerts: AlertSink | null;
  /** Default health.intervalSeconds. */
  intervalMs?: number;
  /** Delay of the first run after start (default 1500 ms: after the first frames). */
  firstDelayMs?: number;
  /** How a run happens (default: in a worker thread). */
  run?: (input: HealthWorkerInput, signal: AbortSignal) => Promise<HealthReport>;
  onError?: (err: Error) => void;
}

async function inWorker(input: HealthWorkerInput, signal: AbortSignal): Promise<HealthReport> {
  const { runInWorker } = await import('./worker-entry.js');
  return runInWorker<HealthReport>('health', input, { signal });
}

export class HealthMonitor {
  readonly store: Store<HealthMonitorState>;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly abort = new AbortController();

  constructor(private readonly opts: HealthMonitorOptions) {
    this.intervalMs = opts.intervalMs ?? opts.config.health.intervalSeconds * 1000;
    let recorded: HealthReport | null = null;
    try {
      recorded = opts.db ? latestHealthReport(opts.db) : null;
    } catch {}
    this.store = createStore<HealthMonitorState>({
      report: recorded,
      source: recorded ? 'recorded' : null,
      running: false,
      runningSince: null,
      error: null,
      runs: 0,
    });
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.schedule(this.opts.firstDelayMs ?? 1500);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh().finally(() => this.schedule(this.intervalMs));
    }, ms);
    this.timer.unref?.();
  }

  /** Runs the checks now (joins a run in progress). */
  refresh(): Promise<void> {
    if (this.current) return this.current;
    if (this.stopped) return Promise.resolve();
    const started = Date.now();
    this.store.set((s) => ({ ...s, running: true, runningSince: started }));
    const input: HealthWorkerInput = {
      paths: this.opts.paths,
      config: this.opts.config,
      stateDbPath: this.opts.stateDbPath,
    };
    this.current = (this.opts.run ?? inWorker)(input, this.abort.signal)
      .then((report) => {
        if (this.stopped) return;
        try {
          if (this.opts.db) recordHealthReport(this.opts.db, report);
          if (this.opts.alerts) applyHealthAlerts(this.opts.alerts, report);
        } catch (err) {
          this.opts.onError?.(err as Error);
        }
        this.store.set((s) => ({
          ...s,
          report,
          source: 'live',
          running: false,
          runningSince: null,
          error: null,
          runs: s.runs + 1,
        }));
      })
      .catch((err: Error) => {
        if (this.stopped) return;
        this.opts.onError?.(err);
        this.store.set((s) => ({ ...s, running: false, runningSince: null, error: err.message }));
      })
      .finally(() => {
        this.current = null;
      });
    return this.current;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
