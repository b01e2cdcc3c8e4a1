// The state behind screen 6, without React: which model files are picked (a folder's files, or a
// saved set), a benchmark run in the headless loader process with live progress and cancel, its
// results, saving them as the baseline, and the history of runs. Published through a store.
import { statSync } from 'node:fs';
import { listFileSets, listRuns, loadFileSet, type RunRow, saveFileSet } from './bench-baseline.js';
import {
  type BenchReport,
  currentBaselines,
  expandPaths,
  type FileResult,
  keyOf,
  runBench,
  saveReportAsBaseline,
} from './bench-run.js';
import type { Config } from './config.js';
import { LoaderCancelled } from './model-loader.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';
import { createStore, type Store } from './store.js';

export interface Candidate {
  file: string;
  key: string;
  bytes: number;
  /** Mean load time of the saved baseline, when there is one. */
  baselineMs: number | null;
}

export interface BenchProgressView {
  index: number;
  total: number;
  file: string;
  run: number;
  runs: number;
  warmup: boolean;
  lastMs: number | null;
}

export interface BenchSessionState {
  /** Where the candidates come from: a folder, or a saved set. */
  source: { kind: 'folder'; path: string } | { kind: 'set'; name: string };
  candidates: Candidate[];
  /** Files picked for the run. */
  picked: string[];
  runs: number;
  warmup: number;
  phase: 'idle' | 'running' | 'done' | 'cancelled' | 'failed';
  progress: BenchProgressView | null;
  /** Results so far (live while running). */
  results: FileResult[];
  report: BenchReport | null;
  baselineSaved: { count: number; file: string | null } | null;
  history: RunRow[];
  sets: Array<{ name: string; count: number; savedAt: string }>;
  error: string | null;
}

export interface BenchSessionOptions {
  paths: SitePaths;
  config: Config;
  stateDb: () => StateDb;
  version: string;
}

export class BenchSession {
  readonly store: Store<BenchSessionState>;
  private controller: AbortController | null = null;
  private running: Promise<void> = Promise.resolve();
  private pendingProgress: BenchProgressView | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  /** A new source picks all its files. */
  private pickAll = true;

  constructor(private readonly opts: BenchSessionOptions) {
    this.store = createStore<BenchSessionState>({
      source: { kind: 'folder', path: opts.paths.models },
      candidates: [],
      picked: [],
      runs: opts.config.bench.runs,
      warmup: opts.config.bench.warmup,
      phase: 'idle',
      progress: null,
      results: [],
      report: null,
      baselineSaved: null,
      history: [],
      sets: [],
      error: null,
    });
    this.refresh();
  }

  private set(patch: Partial<BenchSessionState>): void {
    this.store.set((s) => ({ ...s, ...patch }));
  }

  private db(): StateDb | null {
    try {
      return this.opts.stateDb();
    } catch {
      return null;
    }
  }

  /** Re-reads the candidate files, the baselines, the history and the saved sets. */
  refresh(): void {
    const s = this.store.get();
    const db = this.db();
    let files: string[];
    let error: string | null = null;
    if (s.source.kind === 'folder') {
      const found = expandPaths([s.source.path]);
      files = found.files;
      if (found.skipped.length) error = found.skipped[0]!;
    } else {
      files = (db && loadFileSet(db, s.source.name)) ?? [];
    }
    const { baselines } = currentBaselines(db, this.opts.paths.root);
    const candidates = files.map((file) => {
      let bytes = 0;
      try {
        bytes = statSync(file).size;
      } catch {}
      const key = keyOf(file, this.opts.paths.root);
      return { file, key, bytes, baselineMs: baselines.get(key)?.meanMs ?? null };
    });
    const known = new Set(files);
    const picked = s.picked.filter((f) => known.has(f));
    const pickAll = this.pickAll;
    this.pickAll = false;
    this.set({
      candidates,
      picked: pickAll ? files : picked,
      history: db ? listRuns(db, 100) : [],
      sets: db ? listFileSets(db) : [],
      error,
    });
  }

  /** Lists the model files of a folder (recursively); false when it is not a folder. */
  openFolder(path: string): boolean {
    try {
      if (!statSync(path).isDirectory()) return false;
    } catch {
      return false;
    }
    this.set({ source: { kind: 'folder', path }, picked: [], ...this.idlePhase() });
    this.pickAll = true;
    this.refresh();
    return true;
  }

  openSet(name: string): boolean {
    const db = this.db();
    const files = db ? loadFileSet(db, name) : null;
    if (!files) return false;
    this.set({ source: { kind: 'set', name }, picked: files, ...this.idlePhase() });
    this.refresh();
    return true;
  }

  /** A new pick of files: the status line shows the pick again (results stay in their pane). */
  private idlePhase(): Partial<BenchSessionState> {
    return this.store.get().phase === 'running' ? {} : { phase: 'idle' };
  }

  saveSet(name: string): number {
    const db = this.db();
    const picked = this.store.get().picked;
    if (!db) throw new Error('no state database');
    saveFileSet(db, name, picked, new Date().toISOString());
    this.set({ sets: listFileSets(db) });
    return picked.length;
  }

  toggle(file: string): void {
    this.store.set((s) => ({
      ...s,
      picked: s.picked.includes(file) ? s.picked.filter((f) => f !== file) : [...s.picked, file],
    }));
  }

  toggleAll(): void {
    this.store.set((s) => ({
      ...s,
      picked: s.picked.length === s.candidates.length ? [] : s.candidates.map((c) => c.file),
    }));
  }

  setRuns(runs: number): void {
    this.set({ runs: Math.max(1, Math.min(100, runs)) });
  }

  get isRunning(): boolean {
    return this.store.get().phase === 'running';
  }

  /** Starts a run of the picked files (in candidate order); false when already running or nothing is picked. */
  start(): boolean {
    const s = this.store.get();
    if (s.phase === 'running') return false;
    const picked = new Set(s.picked);
    const files = s.candidates.filter((c) => picked.has(c.file)).map((c) => c.file);
    if (files.length === 0) return false;
    const controller = new AbortController();
    this.controller = controller;
    this.set({
      phase: 'running',
      results: [],
      report: null,
      progress: null,
      error: null,
      baselineSaved: null,
    });
    this.flushTimer = setInterval(() => this.flushProgress(), 100);
    this.running = runBench({
      paths: files,
      runs: s.runs,
      warmup: s.warmup,
      limits: {
        timeoutMs: this.opts.config.bench.timeoutSeconds * 1000,
        memoryCapMb: this.opts.config.bench.memoryCapMb,
        maxUncompressedMb: this.opts.config.bench.maxUncompressedMb,
      },
      thresholdPercent: this.opts.config.thresholds.benchRegressionPercent,
      siteRoot: this.opts.paths.root,
      db: this.db(),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.type === 'run') {
          this.pendingProgress = {
            index: p.index,
            total: p.total,
            file: p.file,
            run: p.run,
            runs: p.runs,
            warmup: p.warmup,
            lastMs: p.ms,
          };
        } else if (p.type === 'file-start') {
          this.pendingProgress = {
            index: p.index,
            total: p.total,
            file: p.file,
            run: 0,
            runs: s.runs + s.warmup,
            warmup: s.warmup > 0,
            lastMs: null,
          };
        } else if (p.type === 'file-done') {
          this.store.set((st) => ({ ...st, results: [...st.results, p.result] }));
        }
      },
    }).then(
      (report) => this.finish({ phase: 'done', report, results: report.files }),
      (err: unknown) => {
        if (err instanceof LoaderCancelled) this.finish({ phase: 'cancelled' });
        else this.finish({ phase: 'failed', error: (err as Error).message });
      },
    );
    return true;
  }

  private flushProgress(): void {
    if (!this.pendingProgress) return;
    const progress = this.pendingProgress;
    this.pendingProgress = null;
    this.set({ progress });
  }

  private finish(patch: Partial<BenchSessionState>): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    this.pendingProgress = null;
    this.controller = null;
    const db = this.db();
    this.set({ ...patch, progress: null, history: db ? listRuns(db, 100) : this.store.get().history });
  }

  cancel(): boolean {
    if (!this.controller) return false;
    this.controller.abort();
    return true;
  }

  /** Saves the last completed run as the baseline (database and performance_baseline.json). */
  saveBaseline(): { count: number; file: string | null } {
    const s = this.store.get();
    const db = this.db();
    if (!s.report || s.phase !== 'done') throw new Error('no completed run to save');
    if (!db) throw new Error('no state database');
    const r = saveReportAsBaseline(db, s.report, {
      siteRoot: this.opts.paths.root,
      version: this.opts.version,
    });
    const saved = { count: r.saved, file: r.file };
    this.set({ baselineSaved: saved });
    this.refresh();
    return saved;
  }

  /** Resolves when no run is in progress (tests). */
  async idle(): Promise<void> {
    await this.running;
  }

  async dispose(): Promise<void> {
    this.cancel();
    await this.running.catch(() => {});
  }
}
