// What the Backups screen drives, without React: the listing (re-read every few seconds), one job
// at a time (create, verify, prune) with live progress, and the detail of one backup (verify with
// its file list, then the diff against the live site). State is published through a store; SQLite
// work runs in worker threads, so the screen keeps answering keys.
import { createBackup } from './backup-create.js';
import { type BackupDiff, diffBackup } from './backup-diff.js';
import { BackupError } from './backup-errors.js';
import { type BackupInfo, type BackupListing, listBackups } from './backup-list.js';
import type { BackupKind } from './backup-names.js';
import { type BackupProgress, formatBytes, formatDuration } from './backup-progress.js';
import { executePrune, type PrunePlan, planPrune } from './backup-prune.js';
import { recordVerification } from './backup-state.js';
import { verifyBackup } from './backup-verify.js';
import type { Config } from './config.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';
import { createStore, type Store } from './store.js';

export interface JobState {
  label: string;
  started: number;
  progress: BackupProgress | null;
}

export interface JobOutcome {
  ok: boolean;
  message: string;
  at: number;
}

export interface DetailState {
  backup: BackupInfo;
  status: 'loading' | 'ready' | 'error';
  progress: BackupProgress | null;
  diff: BackupDiff | null;
  error: string | null;
}

export interface BackupsState {
  listing: BackupListing;
  job: JobState | null;
  outcome: JobOutcome | null;
  detail: DetailState | null;
}

export interface BackupJobsOptions {
  paths: SitePaths;
  config: Config;
  stateDb: () => StateDb;
  /** Re-read the folders this often (ms); 0 for never (tests). */
  refreshMs?: number;
  now?: () => number;
}

const messageOf = (err: unknown) => (err instanceof BackupError ? err.message : (err as Error).message);

export class BackupJobs {
  readonly store: Store<BackupsState>;
  private jobAbort: AbortController | null = null;
  private detailAbort: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: BackupJobsOptions) {
    this.store = createStore<BackupsState>({
      listing: this.read(),
      job: null,
      outcome: null,
      detail: null,
    });
    if (opts.refreshMs !== 0) {
      this.timer = setInterval(() => this.refresh(), opts.refreshMs ?? 5000);
      this.timer.unref();
    }
  }

  private read(): BackupListing {
    try {
      return listBackups({ paths: this.opts.paths, stateDb: this.opts.stateDb() });
    } catch (err) {
      return { backups: [], incomplete: [], errors: [messageOf(err)] };
    }
  }

  refresh(): void {
    this.store.set((s) => ({ ...s, listing: this.read() }));
  }

  get busy(): boolean {
    return this.store.get().job !== null;
  }

  /** Resolves when the running job (if any) has finished; for tests and orderly exits. */
  async idle(): Promise<void> {
    await this.running;
  }

  private run(
    label: string,
    work: (signal: AbortSignal, progress: (p: BackupProgress) => void) => Promise<JobOutcome>,
  ): boolean {
    if (this.busy) return false;
    const abort = new AbortController();
    this.jobAbort = abort;
    this.store.set((s) => ({ ...s, job: { label, started: Date.now(), progress: null } }));
    const progress = (p: BackupProgress) =>
      this.store.set((s) => (s.job ? { ...s, job: { ...s.job, progress: p } } : s));
    this.running = (async () => {
      let outcome: JobOutcome;
      try {
        outcome = await work(abort.signal, progress);
      } catch (err) {
        outcome = { ok: false, message: `${label}: ${messageOf(err)}`, at: Date.now() };
      }
      this.jobAbort = null;
      this.store.set((s) => ({ ...s, job: null, outcome, listing: this.read() }));
    })();
    return true;
  }

  /** Starts a backup; false when another job runs. */
  create(kind: Exclude<BackupKind, 'pre_restore'>): boolean {
    return this.run(`${kind} backup`, async (signal, onProgress) => {
      const r = await createBackup({
        paths: this.opts.paths,
        config: this.opts.config,
        kind,
        stateDb: this.opts.stateDb(),
        signal,
        onProgress,
        now: this.opts.now,
      });
      const copy = r.secondary
        ? r.secondary.error
          ? `; the copy to the secondary location FAILED: ${r.secondary.error}`
          : '; copied and verified in the secondary location'
        : '';
      return {
        ok: !r.secondary?.error,
        message: `created ${r.name}: ${formatBytes(r.bytes)} in ${formatDuration(r.durationMs / 1000)}${r.verification ? ', verified' : ''}${copy}${r.warnings.length ? ` (${r.warnings.length} warning${r.warnings.length > 1 ? 's' : ''})` : ''}`,
        at: Date.now(),
      };
    });
  }

  /** Verifies the given backups one after the other; false when another job runs. */
  verify(backups: BackupInfo[]): boolean {
    const label = backups.length === 1 ? `verify ${backups[0]!.name}` : `verify ${backups.length} backups`;
    return this.run(label, async (signal, onProgress) => {
      const failed: string[] = [];
      for (const [i, b] of backups.entries()) {
        const r = await verifyBackup(b.file, {
          config: this.opts.config,
          signal,
          onProgress: (p) =>
            onProgress({
              ...p,
              current: backups.length > 1 ? `${i + 1}/${backups.length} ${b.name}` : b.name,
            }),
        });
        recordVerification(this.opts.stateDb(), b.file, r);
        if (!r.ok) failed.push(`${b.name}: ${r.reason}`);
        this.refresh();
      }
      if (failed.length === 0)
        return {
          ok: true,
          message:
            backups.length === 1 ? `${backups[0]!.name} verified` : `all ${backups.length} backups verified`,
          at: Date.now(),
        };
      return {
        ok: false,
        message: `${failed.length} of ${backups.length} FAILED verification: ${failed[0]}${failed.length > 1 ? ' ...' : ''}`,
        at: Date.now(),
      };
    });
  }

  planPrune(): PrunePlan {
    return planPrune({
      paths: this.opts.paths,
      config: this.opts.config,
      stateDb: this.opts.stateDb(),
      now: this.opts.now?.(),
    });
  }

  prune(plan: PrunePlan): boolean {
    return this.run('prune', async () => {
      const done = await executePrune(plan, { stateDb: this.opts.stateDb() });
      return done.errors.length
        ? {
            ok: false,
            message: `pruned ${done.removed.length}; could not delete: ${done.errors.join('; ')}`,
            at: Date.now(),
          }
        : {
            ok: true,
            message: `pruned ${done.removed.length} file${done.removed.length === 1 ? '' : 's'}`,
            at: Date.now(),
          };
    });
  }

  cancel(): boolean {
    if (!this.jobAbort) return false;
    this.jobAbort.abort();
    return true;
  }

  /** Opens one backup: verification with its file list, then the diff against the live site. */
  openDetail(backup: BackupInfo): void {
    this.detailAbort?.abort();
    const abort = new AbortController();
    this.detailAbort = abort;
    this.store.set((s) => ({
      ...s,
      detail: { backup, status: 'loading', progress: null, diff: null, error: null },
    }));
    const update = (d: Partial<DetailState>) =>
      this.store.set((s) =>
        s.detail && s.detail.backup.file === backup.file && !abort.signal.aborted
          ? { ...s, detail: { ...s.detail, ...d } }
          : s,
      );
    void (async () => {
      try {
        const diff = await diffBackup(backup.file, {
          paths: this.opts.paths,
          config: this.opts.config,
          stateDb: this.opts.stateDb(),
          signal: abort.signal,
          onProgress: (p) => update({ progress: p }),
        });
        update({ status: 'ready', diff, progress: null });
        if (!abort.signal.aborted) this.refresh();
      } catch (err) {
        update({ status: 'error', error: messageOf(err), progress: null });
      }
    })();
  }

  closeDetail(): void {
    this.detailAbort?.abort();
    this.detailAbort = null;
    this.store.set((s) => ({ ...s, detail: null }));
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.jobAbort?.abort();
    this.detailAbort?.abort();
  }
}
