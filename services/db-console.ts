// The database screen's state, kept outside React: the overview (refreshed every few seconds on the
// cheap path: pragmas, /proc scans, a lock probe), table and index sizes (DBSTAT, in a worker), one
// check or action at a time with live progress and cancel, the slow-query report (in a worker), the
// run history and the SQL prompt (a killable child process). Nothing here blocks the screen's
// thread for long: everything that reads the whole database runs elsewhere.
import type { Config } from './config.js';
import { type ActionPlan, planAction, runMaintenanceAction } from './db-actions.js';
import { runDatabaseCheck } from './db-checks.js';
import { type GrowthReport, latestGrowth, type RunRecord, recentRuns } from './db-history.js';
import { measureIndex, planIndexMeasurement } from './db-index-measure.js';
import { type DbObject, type DbOverview, readDbOverview } from './db-info.js';
import { defaultSlowQueryFiles, type SlowQueryReport } from './db-slow-queries.js';
import { runPromptSql } from './db-sql-prompt.js';
import type { ActionKind, CheckKind, MeasureResult, SqlResult } from './db-tasks.js';
import { reviveDbError } from './db-tasks.js';
import { DbWorker } from './db-worker.js';
import type { StateDb } from './state-db.js';
import { createStore, type Store } from './store.js';

export interface DbJob {
  kind: CheckKind | ActionKind | 'measure';
  label: string;
  phase: string;
  /** 0..1, or null when unknown. */
  fraction: number | null;
  estimated: boolean;
  elapsedMs: number;
  expectedMs: number | null;
  cancelling: boolean;
}

export interface DbJobResult {
  label: string;
  ok: boolean;
  summary: string;
  /** Problems found (check) or details (action, measurement). */
  lines: string[];
  at: number;
}

export interface DbConsoleState {
  database: string;
  overview: DbOverview | null;
  overviewError: string | null;
  overviewAt: number | null;
  /** Objects with sizes (from the worker) once measured, else the overview's estimates. */
  objects: DbObject[];
  sizesAt: number | null;
  sizesLoading: boolean;
  growth: GrowthReport | null;
  history: RunRecord[];
  job: DbJob | null;
  last: DbJobResult | null;
  slow: SlowQueryReport | null;
  slowError: string | null;
  slowLoading: boolean;
  sql: { text: string; result: SqlResult | null; error: string | null; running: boolean } | null;
}

export interface DbConsoleOptions {
  database: string;
  logsDir: string;
  tempDir: string;
  pidFile: string | null;
  processPattern: string | null;
  siteRoot?: string | null;
  config: Config;
  readOnly: boolean;
  stateDb: () => StateDb;
  refreshMs?: number;
  now?: () => number;
}

const fmtS = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export class DbConsole {
  readonly store: Store<DbConsoleState>;
  private timer: NodeJS.Timeout | null = null;
  private controller: AbortController | null = null;
  private stopped = false;
  private refreshing = false;
  /** Warm from the start, so a check costs what SQLite costs. */
  private readonly worker = new DbWorker();

  constructor(private readonly opts: DbConsoleOptions) {
    this.store = createStore<DbConsoleState>({
      database: opts.database,
      overview: null,
      overviewError: null,
      overviewAt: null,
      objects: [],
      sizesAt: null,
      sizesLoading: false,
      growth: null,
      history: [],
      job: null,
      last: null,
      slow: null,
      slowError: null,
      slowLoading: false,
      sql: null,
    });
  }

  private patch(p: Partial<DbConsoleState>): void {
    if (!this.stopped) this.store.set((s) => ({ ...s, ...p }));
  }

  private get now(): number {
    return (this.opts.now ?? Date.now)();
  }

  start(): void {
    this.worker.warm();
    void this.refresh().then(() => this.refreshSizes());
    this.loadHistory();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.controller?.abort();
    void this.worker.stop();
  }

  /** The cheap overview: pragmas, holders, locks, probe. No DBSTAT here. */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const overview = await readDbOverview({
        database: this.opts.database,
        pidFile: this.opts.pidFile,
        processPattern: this.opts.processPattern,
        siteRoot: this.opts.siteRoot,
        thresholds: { fragmentationPercent: this.opts.config.thresholds.fragmentationPercent },
        sizes: false,
        // The probe takes the write lock for a moment: not while our own action holds it.
        probe: !this.store.get().job,
      });
      const s = this.store.get();
      // Keep measured sizes; take new objects (a table may have appeared) with the old sizes merged.
      const sized = new Map(s.objects.filter((o) => o.bytes !== null).map((o) => [o.name, o]));
      const objects = overview.objects.map((o) => sized.get(o.name) ?? o);
      this.patch({ overview, overviewError: null, overviewAt: this.now, objects });
    } catch (err) {
      this.patch({ overviewError: (err as Error).message, overviewAt: this.now });
    } finally {
      this.refreshing = false;
    }
  }

  /** Sizes, fill and exact rows of every table and index (DBSTAT), in a worker. */
  async refreshSizes(): Promise<void> {
    if (this.store.get().overviewError || this.store.get().sizesLoading) return;
    this.patch({ sizesLoading: true });
    try {
      const objects = await this.worker.run<DbObject[]>({ op: 'sizes', file: this.opts.database });
      this.patch({ objects, sizesAt: this.now, sizesLoading: false });
    } catch (err) {
      this.patch({ sizesLoading: false, overviewError: reviveDbError(err, this.opts.database).message });
    }
  }

  loadHistory(): void {
    try {
      const state = this.opts.stateDb();
      this.patch({
        history: recentRuns(state, this.opts.database, { limit: 50 }),
        growth: latestGrowth(state, this.opts.database, this.opts.config.thresholds.tableGrowthPercent),
      });
    } catch {
      // No state database (unwritable state folder): the screen works without history.
    }
  }

  private state(): StateDb | null {
    try {
      return this.opts.stateDb();
    } catch {
      return null;
    }
  }

  private begin(job: Omit<DbJob, 'elapsedMs' | 'cancelling'>): AbortSignal | null {
    if (this.store.get().job) return null;
    this.controller = new AbortController();
    this.patch({ job: { ...job, elapsedMs: 0, cancelling: false } });
    return this.controller.signal;
  }

  /** The running job's progress; a cancel asked for meanwhile stays shown. */
  private progress(job: Omit<DbJob, 'cancelling'>): void {
    this.patch({ job: { ...job, cancelling: this.store.get().job?.cancelling ?? false } });
  }

  /** What a check and an action are run with: settings, history, the cancel signal, the warm worker. */
  private jobOptions(signal: AbortSignal) {
    return {
      settings: this.opts.config.database,
      tableGrowthPercent: this.opts.config.thresholds.tableGrowthPercent,
      state: this.state(),
      signal,
      runner: this.worker,
    };
  }

  private end(result: Omit<DbJobResult, 'at'>): void {
    this.controller = null;
    this.patch({ job: null, last: { ...result, at: this.now } });
    this.loadHistory();
    void this.refresh();
  }

  /** Cancels the running check, action or measurement. */
  cancel(): boolean {
    const job = this.store.get().job;
    if (!job || !this.controller) return false;
    this.patch({ job: { ...job, cancelling: true } });
    this.controller.abort();
    return true;
  }

  async runCheck(kind: CheckKind): Promise<void> {
    const label = { integrity: 'integrity check', quick: 'quick check', foreign_keys: 'foreign-key check' }[
      kind
    ];
    const signal = this.begin({
      kind,
      label,
      phase: 'starting',
      fraction: 0,
      estimated: true,
      expectedMs: null,
    });
    if (!signal) return;
    try {
      const r = await runDatabaseCheck({
        database: this.opts.database,
        kind,
        ...this.jobOptions(signal),
        onProgress: (p) =>
          this.progress({
            kind,
            label,
            phase: p.phase,
            fraction: p.fraction,
            estimated: p.estimated,
            elapsedMs: p.elapsedMs,
            expectedMs: p.expectedMs,
          }),
      });
      const growthLines = (r.growth?.warnings ?? []).map(
        (g) =>
          `${g.name} grew ${Math.max(g.rowsPercent ?? 0, g.bytesPercent ?? 0).toFixed(1)} % since the previous check`,
      );
      this.end({
        label,
        ok: r.ok,
        summary: r.ok
          ? `${label}: ok in ${fmtS(r.durationMs)}`
          : `${label}: ${r.errors.length}${r.truncated ? '+' : ''} problem(s) in ${fmtS(r.durationMs)}`,
        lines: [...r.errors, ...growthLines],
      });
      if (r.sizes.length) void this.refreshSizes();
    } catch (err) {
      this.end({
        label,
        ok: false,
        summary: signal.aborted ? `${label}: cancelled` : `${label}: ${(err as Error).message}`,
        lines: [],
      });
    }
  }

  planAction(action: ActionKind, target: string | null = null): Promise<ActionPlan> {
    return planAction({
      database: this.opts.database,
      action,
      target,
      readOnly: this.opts.readOnly,
      pidFile: this.opts.pidFile,
      processPattern: this.opts.processPattern,
      siteRoot: this.opts.siteRoot,
      state: this.state(),
    });
  }

  /** Runs a planned action the user confirmed. */
  async runAction(plan: ActionPlan, confirmed: boolean): Promise<void> {
    const label = plan.title;
    const signal = this.begin({
      kind: plan.action,
      label,
      phase: 'starting',
      fraction: 0,
      estimated: true,
      expectedMs: plan.facts.expectedMs,
    });
    if (!signal) return;
    try {
      const r = await runMaintenanceAction({
        plan,
        confirmed,
        ...this.jobOptions(signal),
        onProgress: (p) =>
          this.progress({
            kind: plan.action,
            label,
            phase: p.phase,
            fraction: p.expectedMs > 0 ? Math.min(0.99, p.elapsedMs / p.expectedMs) : null,
            estimated: true,
            elapsedMs: p.elapsedMs,
            expectedMs: p.expectedMs,
          }),
      });
      this.end({ label, ok: true, summary: String(r.details.summary), lines: [] });
      void this.refreshSizes();
    } catch (err) {
      this.end({
        label,
        ok: false,
        summary: signal.aborted ? `${label}: cancelled` : (err as Error).message,
        lines: [],
      });
    }
  }

  async loadSlowQueries(): Promise<void> {
    if (this.store.get().slowLoading) return;
    this.patch({ slowLoading: true });
    try {
      const report = await this.worker.run<SlowQueryReport>({
        op: 'slow-queries',
        options: {
          database: this.opts.database,
          logFiles: defaultSlowQueryFiles(this.opts.logsDir),
          slowQueryMs: this.opts.config.thresholds.slowQueryMs,
          frequentSlowQuery: this.opts.config.thresholds.frequentSlowQuery,
        },
      });
      this.patch({ slow: report, slowError: null, slowLoading: false });
    } catch (err) {
      this.patch({ slowError: reviveDbError(err, this.opts.database).message, slowLoading: false });
    }
  }

  /** Plans measuring a pattern's first recommendation; a string says why it cannot be measured. */
  planMeasure(patternId: string): ReturnType<typeof planIndexMeasurement> | string {
    const p = this.store.get().slow?.patterns.find((x) => x.id === patternId);
    if (!p) return 'no such pattern';
    const advice = p.advice[0];
    if (!advice) return 'this pattern has no index recommendation to measure';
    if (!p.plannedSql) return 'this pattern could not be planned';
    return planIndexMeasurement({
      database: this.opts.database,
      tempDir: this.opts.tempDir,
      sql: p.plannedSql,
      createIndex: advice.createIndex,
      readOnly: this.opts.readOnly,
    });
  }

  async measure(
    plan: ReturnType<typeof planIndexMeasurement>,
    confirmed: boolean,
  ): Promise<MeasureResult | null> {
    const label = `measure ${plan.createIndex}`;
    const signal = this.begin({
      kind: 'measure',
      label,
      phase: 'starting',
      fraction: null,
      estimated: true,
      expectedMs: null,
    });
    if (!signal) return null;
    const started = performance.now();
    try {
      const r = await measureIndex({
        plan,
        confirmed,
        state: this.state(),
        signal,
        runner: this.worker,
        onProgress: (phase) =>
          this.progress({
            kind: 'measure',
            label,
            phase,
            fraction: null,
            estimated: true,
            elapsedMs: performance.now() - started,
            expectedMs: null,
          }),
      });
      this.end({
        label,
        ok: true,
        summary: `${plan.createIndex}: ${r.beforeMs.toFixed(1)} ms -> ${r.afterMs.toFixed(1)} ms (${r.speedup.toFixed(1)}x)`,
        lines: [`plan before: ${r.planBefore.join(' | ')}`, `plan after:  ${r.planAfter.join(' | ')}`],
      });
      return r;
    } catch (err) {
      this.end({ label, ok: false, summary: (err as Error).message, lines: [] });
      return null;
    }
  }

  async runSql(text: string): Promise<void> {
    this.patch({ sql: { text, result: null, error: null, running: true } });
    try {
      const result = await runPromptSql({
        database: this.opts.database,
        sql: text,
        rowLimit: this.opts.config.database.sqlRowLimit,
        timeoutMs: this.opts.config.database.sqlTimeoutMs,
      });
      this.patch({ sql: { text, result, error: null, running: false } });
    } catch (err) {
      this.patch({ sql: { text, result: null, error: (err as Error).message, running: false } });
    }
  }
}
