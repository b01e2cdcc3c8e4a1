// The live side of the Logs screen, with no React in it: follows every log file (LogTailer), keeps
// the newest records in a bounded ring buffer, clusters WARNING and above as they arrive on top of
// the clusters of the last 24 hours (scanned once in a worker thread), keeps the per-hour error
// timeline and the errors of the last 60 minutes, raises and clears the log alerts, and publishes a
// small state object at most every flushMs (the screen renders from the ring on that tick).
// A record that several files carry (an ERROR goes to candy_cadence.log, error.log and parser.log)
// is shown and counted once, with the names of the files it came from.
import type { AlertSink } from './alert-sink.js';
import type { Config } from './config.js';
import {
  type AnalysisInput,
  type AnalysisOptions,
  buildReport,
  deserializeScan,
  LogAlertState,
  type logAlerts,
  type ScanState,
  scanInThread,
} from './log-analysis.js';
import { type ClusterView, TemplateMiner, viewOf } from './log-clusters.js';
import { discoverLogFiles } from './log-files.js';
import { CRITICAL_EXCEPTIONS, errorTypeOf, LEVEL_RANK } from './log-parse.js';
import { LogTailer, type TailRecord, type TailStats } from './log-tail.js';
import { createStore, type Store } from './store.js';

/** Records between two full collections under a flood (see LiveLogs.flush). */
const COLLECT_EVERY = 20_000;
const collect = (globalThis as { gc?: () => void }).gc;

export interface LiveRecord extends TailRecord {
  /** Every file that carried this record. */
  files: string[];
  cluster: number | null;
}

/** A fixed-capacity ring: push is O(1), the oldest entries fall off. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  length = 0;
  /** Entries pushed in total (also those that fell off). */
  pushed = 0;

  constructor(readonly capacity: number) {
    this.items = new Array(capacity);
  }

  push(item: T): void {
    this.pushed++;
    if (this.length < this.capacity) {
      this.items[(this.start + this.length) % this.capacity] = item;
      this.length++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** i-th newest... i = 0 is the oldest kept. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.length) return undefined;
    return this.items[(this.start + i) % this.capacity];
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.at(i)!);
    return out;
  }
}

export interface LiveState {
  /** Bumped on every flush that saw new records. */
  version: number;
  files: string[];
  /** Records received live (after de-duplication). */
  received: number;
  /** Records per second over the last 10 seconds. */
  ratePerSecond: number;
  errorsLastHour: number;
  errorsPerHourThreshold: number;
  history: { status: 'off' | 'loading' | 'ready' | 'failed'; message?: string; records?: number };
  /** WARNING+ clusters, by count (the screen re-sorts), at most maxViews. */
  clusters: ClusterView[];
  clustersTotal: number;
  remainder: { clusters: number; records: number };
  /** Errors per hour for the last 24 hours, oldest first (hour start epoch ms). */
  timeline: Array<{ hour: number; errors: number; warnings: number; records: number }>;
  tail: TailStats | null;
  warnings: string[];
}

export interface LiveLogsOptions {
  logsDir: string;
  config: Config;
  /** Follow the files (default true). Off, records come only through feed() (tests). */
  follow?: boolean;
  /** Scan the last 24 hours in a worker (default true), historyDelayMs after start (default 1000). */
  history?: boolean;
  historyDelayMs?: number;
  alerts?: AlertSink;
  flushMs?: number;
  /** Change events gathered before the files are read (LogTailer's coalesceMs; default 250). */
  coalesceMs?: number;
  now?: () => number;
  maxViews?: number;
}

/** A cluster's view, and the count, last record and minute it was built for. */
interface CachedView {
  count: number;
  lastSeen: number;
  endMinute: number;
  view: ClusterView;
}

export class LiveLogs {
  readonly store: Store<LiveState>;
  readonly ring: Ring<LiveRecord>;
  private readonly opts: LiveLogsOptions;
  private readonly now: () => number;
  private tailer: LogTailer | null = null;
  private miner: TemplateMiner;
  private hours = new Map<number, Float64Array>();
  /** Errors per minute for the last hour (minute index → count). */
  private errorMinutes = new Map<number, number>();
  private frequent = new Map<string, { cluster: number; type: string; count: number; lastSeen: number }>();
  private critical = new Map<
    string,
    { count: number; firstSeen: number; lastSeen: number; clusters: Set<number> }
  >();
  private readonly recent = new Map<string, LiveRecord>();
  private arrivals: number[] = [];
  private received = 0;
  private sinceCollect = 0;
  private dirty = false;
  private clustersDirty = true;
  /** The last view of each cluster: rebuilt only when the cluster or the minute has moved. */
  private views = new Map<number, CachedView>();
  private timer: NodeJS.Timeout | null = null;
  private alertTimer: NodeJS.Timeout | null = null;
  private alertState: LogAlertState | null;
  private warnings: string[] = [];
  private history: LiveState['history'];
  private historyAbort: AbortController | null = null;
  private historyTimer: NodeJS.Timeout | null = null;

  constructor(opts: LiveLogsOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.ring = new Ring(opts.config.logs.tailBufferLines);
    this.miner = new TemplateMiner({ maxClusters: opts.config.logs.maxClusters });
    this.alertState = opts.alerts ? new LogAlertState(opts.alerts) : null;
    this.history = { status: opts.history === false ? 'off' : 'loading' };
    this.store = createStore<LiveState>(this.snapshot(0));
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => this.flush(), this.opts.flushMs ?? 100);
    this.timer.unref?.();
    this.alertTimer = setInterval(() => this.evaluateAlerts(), 10_000);
    this.alertTimer.unref?.();
    if (this.opts.history !== false) {
      // After the first frames: the worker's start-up competes for the CPU with the screen.
      this.historyTimer = setTimeout(() => void this.loadHistory(), this.opts.historyDelayMs ?? 1000);
    }
    if (this.opts.follow !== false) {
      this.tailer = new LogTailer({
        logsDir: this.opts.logsDir,
        usePolling: this.opts.config.logs.usePolling,
        // Reads in batches of a quarter second: the screen looks as live, and with the demo's
        // application writing every 100 ms there are about half as many reads.
        coalesceMs: this.opts.coalesceMs ?? 250,
        onRecord: (r) => this.feed(r),
        onWarning: (w) => {
          this.warnings = [...this.warnings.slice(-4), w];
          this.dirty = true;
        },
      });
      await this.tailer.start();
    }
    this.dirty = true;
    this.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.alertTimer) clearInterval(this.alertTimer);
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.historyAbort?.abort();
    await this.tailer?.stop();
  }

  /** One record from the follower (or a test). */
  feed(r: TailRecord): void {
    // Late traceback lines: attach to the record they continue.
    if (r.continuationOf !== undefined && !r.message && !r.level) {
      for (let i = this.ring.length - 1, n = 0; i >= 0 && n < 200; i--, n++) {
        const x = this.ring.at(i)!;
        if (x.seq === r.continuationOf) {
          x.continuation.push(...r.continuation);
          this.dirty = true;
          return;
        }
      }
    }
    const rank = r.level ? LEVEL_RANK[r.level] : -1;
    // The same record in several files: only WARNING and above are written to several files, so
    // only they are looked up (a flood of INFO costs no key strings).
    const key =
      rank >= 2 && r.time !== null ? `${r.time}\u0001${r.level}\u0001${r.logger}\u0001${r.message}` : null;
    const seen = key !== null ? this.recent.get(key) : undefined;
    if (seen && !seen.files.includes(r.file)) {
      seen.files.push(r.file);
      if (r.continuation.length > seen.continuation.length) seen.continuation = r.continuation;
      this.dirty = true;
      return;
    }
    // The record itself becomes the ring entry (no copy per line).
    const rec = r as LiveRecord;
    rec.files = [r.file];
    rec.cluster = null;
    if (key !== null) {
      this.recent.set(key, rec);
      if (this.recent.size > 2000) this.recent.delete(this.recent.keys().next().value!);
    }
    const now = this.now();
    const time = r.time ?? now;
    const h = Math.floor(time / 3_600_000);
    let b = this.hours.get(h);
    if (!b) this.hours.set(h, (b = new Float64Array(4)));
    b[0]!++;
    if (rank === 2) b[1]!++;
    if (rank >= 3) {
      b[2]!++;
      if (rank === 4) b[3]!++;
      const m = Math.floor(time / 60_000);
      this.errorMinutes.set(m, (this.errorMinutes.get(m) ?? 0) + 1);
    }
    if (rank >= 2 || r.binary) {
      const c = this.miner.add(
        { level: r.level, message: r.message, time, file: r.file, code: r.code, exception: r.exception },
        now,
      );
      rec.cluster = c.id;
      this.clustersDirty = true;
      if (rank >= 3) {
        const type = errorTypeOf(r.exception, r.code, r.message);
        const fk = `${c.id}|${type}`;
        const f = this.frequent.get(fk);
        if (f) {
          f.count++;
          f.lastSeen = Math.max(f.lastSeen, time);
        } else this.frequent.set(fk, { cluster: c.id, type, count: 1, lastSeen: time });
        if (r.exception && CRITICAL_EXCEPTIONS.has(r.exception)) {
          const e = this.critical.get(r.exception);
          if (e) {
            e.count++;
            e.lastSeen = Math.max(e.lastSeen, time);
            e.clusters.add(c.id);
          } else
            this.critical.set(r.exception, {
              count: 1,
              firstSeen: time,
              lastSeen: time,
              clusters: new Set([c.id]),
            });
        }
      }
    }
    this.ring.push(rec);
    this.received++;
    this.sinceCollect++;
    this.arrivals.push(now);
    this.dirty = true;
  }

  /** Publishes the state if anything changed (at most every flushMs). */
  flush(): void {
    // Under a flood every record goes through the old generation (the ring keeps it past two young
    // collections) and V8 lets that garbage grow to a multiple of the live heap before collecting it
    // (25 → 67 MB every ~8 s at 5,000 lines/s). A full collection every COLLECT_EVERY records, when
    // the runtime offers one (the bundle runs with --expose-gc), bounds it to what those records
    // take: ~15 ms of the main thread every ~4 s of such a flood, nothing when logs are quiet.
    if (this.sinceCollect >= COLLECT_EVERY && collect) {
      this.sinceCollect = 0;
      collect();
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.store.set(this.snapshot(this.store.get().version + 1));
  }

  private snapshot(version: number): LiveState {
    const now = this.now();
    const cutoff = now - 10_000;
    while (this.arrivals.length && this.arrivals[0]! < cutoff) this.arrivals.shift();
    let views = this.store?.get().clusters ?? [];
    if (this.clustersDirty) {
      this.clustersDirty = false;
      const endMinute = Math.floor(now / 60_000);
      const shown = this.miner
        .clusters()
        .filter((c) => c.level === null || LEVEL_RANK[c.level] >= 2)
        .sort((a, b) => b.count - a.count)
        .slice(0, this.opts.maxViews ?? 300);
      // A view copies its cluster's minutes, samples and counters: each WARNING+ record used to
      // rebuild all of them (~200 KB/s of garbage while the demo idles); now only what moved.
      const next = new Map<number, CachedView>();
      views = shown.map((c) => {
        let v = this.views.get(c.id);
        if (!v || v.count !== c.count || v.lastSeen !== c.lastSeen || v.endMinute !== endMinute)
          v = {
            count: c.count,
            lastSeen: c.lastSeen,
            endMinute,
            view: viewOf(c, { endMinute, minutes: 30 }),
          };
        next.set(c.id, v);
        return v.view;
      });
      this.views = next;
    }
    const firstHour = Math.floor(now / 3_600_000) - 23;
    const timeline = [];
    for (let h = firstHour; h < firstHour + 24; h++) {
      const b = this.hours.get(h);
      timeline.push({
        hour: h * 3_600_000,
        records: b?.[0] ?? 0,
        warnings: b?.[1] ?? 0,
        errors: b?.[2] ?? 0,
      });
    }
    return {
      version,
      files: this.tailer?.files ?? [],
      received: this.received,
      ratePerSecond: this.arrivals.length / 10,
      errorsLastHour: this.errorsLastHour(now),
      errorsPerHourThreshold: this.opts.config.thresholds.errorsPerHour,
      history: this.history,
      clusters: views,
      clustersTotal: this.miner.size,
      remainder: { ...this.miner.remainder },
      timeline,
      tail: this.tailer ? { ...this.tailer.stats } : null,
      warnings: this.warnings,
    };
  }

  private errorsLastHour(now: number): number {
    const from = Math.floor((now - 3_600_000) / 60_000);
    let n = 0;
    for (const [m, c] of this.errorMinutes) {
      if (m < from) this.errorMinutes.delete(m);
      else n += c;
    }
    return n;
  }

  /** The conditions of the log alerts, raised and cleared through the sink. */
  evaluateAlerts(): ReturnType<typeof logAlerts> {
    const now = this.now();
    const state: ScanState = {
      totals: {
        bytes: 0,
        lines: 0,
        records: this.received,
        byLevel: { DEBUG: 0, INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0, none: 0 },
        continuationLines: 0,
        binaryLines: 0,
        truncatedLines: 0,
        duplicates: 0,
        outsideWindow: 0,
      },
      levelCounts: new Float64Array(6),
      hours: this.hours,
      frequent: this.frequent,
      critical: this.critical,
      st: { errorsLastHour: this.errorsLastHour(now), errorCount: 0, recordNo: this.received },
      files: [],
      miner: this.miner,
    };
    const report = buildReport(state, this.reportOptions(now), now);
    this.alertState?.apply(report.alerts);
    return report.alerts;
  }

  private reportOptions(now: number): AnalysisOptions {
    return { inputs: [], now, thresholds: this.opts.config.thresholds, logs: this.opts.config.logs };
  }

  /** Scans the last 24 hours of every log file in a worker, then merges it under the live data. */
  private async loadHistory(): Promise<void> {
    const now = this.now();
    const found = discoverLogFiles(this.opts.logsDir);
    const inputs: AnalysisInput[] = [...found.history, ...found.live].map((f) => ({
      path: f.path,
      name: f.name,
      base: f.base,
      compressed: f.compressed,
    }));
    const opts: AnalysisOptions = {
      ...this.reportOptions(now),
      inputs,
      since: now - 24 * 3_600_000,
      until: now,
    };
    this.historyAbort = new AbortController();
    try {
      const scan = await scanInThread(
        { opts: { ...opts, workers: 0 }, range: null },
        this.historyAbort.signal,
      );
      const past = deserializeScan(scan, opts);
      // Live records arrived meanwhile: put the past under them.
      const ids = past.miner.absorb(this.miner);
      this.miner = past.miner;
      for (const r of this.ring.toArray())
        if (r.cluster !== null) r.cluster = ids.get(r.cluster) ?? r.cluster;
      for (const [h, v] of this.hours) {
        const b = past.hours.get(h);
        if (!b) past.hours.set(h, v);
        else for (let i = 0; i < 4; i++) b[i]! += v[i]!;
      }
      this.hours = past.hours;
      for (const v of this.frequent.values()) {
        const cluster = ids.get(v.cluster) ?? v.cluster;
        const key = `${cluster}|${v.type}`;
        const f = past.frequent.get(key);
        if (f) f.count += v.count;
        else past.frequent.set(key, { ...v, cluster });
      }
      this.frequent = past.frequent;
      for (const [t, v] of this.critical) {
        const e = past.critical.get(t);
        if (!e) past.critical.set(t, v);
        else e.count += v.count;
      }
      this.critical = past.critical;
      // Errors of the last hour from the history, per minute, for the sliding error rate.
      for (const c of past.miner.clusters()) {
        if (!c.level || LEVEL_RANK[c.level] < 3) continue;
        for (const [m, n] of c.minutes) {
          if (m * 60_000 >= now - 3_600_000 && m * 60_000 < now)
            this.errorMinutes.set(m, (this.errorMinutes.get(m) ?? 0) + n);
        }
      }
      this.history = { status: 'ready', records: scan.st.recordNo };
    } catch (err) {
      this.history = { status: 'failed', message: (err as Error).message };
    }
    this.clustersDirty = true;
    this.dirty = true;
    this.evaluateAlerts();
  }
}
