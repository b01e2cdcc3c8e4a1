// The restore walkthrough of screen 4 as a state machine, without React: choose the scope, verify,
// plan, make sure the application is stopped, restore (safety snapshot, staging, swap, checks),
// finish (start the application, keep "roll back" available). Also the recovery of an interrupted
// restore and the rollback of the last one. Published through a store; the screen renders it and
// turns keys into the calls below.
import type { RestoreScope } from './backup-layout.js';
import type { BackupKind } from './backup-names.js';
import type { BackupProgress } from './backup-progress.js';
import {
  type AppCheck,
  checkApplication,
  planRestore,
  planRollbackOfLast,
  type RestoreOutcome,
  type RestorePlan,
  type RestoreProgress,
  type RestoreSite,
  type RestoreStep,
  recoverRestore,
  runRestore,
  startApplication,
  stopApplication,
} from './restore.js';
import { pendingRestore, type RestoreJournal } from './restore-journal.js';
import { createStore, type Store } from './store.js';

export type WalkStep = 'scope' | 'verify' | 'plan' | 'app' | 'restore' | 'finish' | 'recover';

export interface SessionBackup {
  file: string;
  name: string;
  kind: BackupKind;
}

export interface RestoreSessionState {
  active: boolean;
  mode: 'restore' | 'rollback' | 'recover';
  backup: SessionBackup | null;
  step: WalkStep;
  scopes: RestoreScope[];
  scopeIndex: number;
  /** What is running now, in words; null when waiting for the user. */
  busy: string | null;
  progress: BackupProgress | null;
  /** The engine's step while the restore runs (drives the rail). */
  runStep: RestoreStep | null;
  plan: RestorePlan | null;
  app: AppCheck | null;
  appMessage: string | null;
  acceptUnverified: boolean;
  ignoreHolders: boolean;
  appStopped: boolean;
  rollbackOf: string | null;
  outcome: RestoreOutcome | null;
  error: string | null;
  pending: RestoreJournal | null;
  startMessage: string | null;
}

const IDLE: RestoreSessionState = {
  active: false,
  mode: 'restore',
  backup: null,
  step: 'scope',
  scopes: ['all', 'database', 'config', 'user-data'],
  scopeIndex: 0,
  busy: null,
  progress: null,
  runStep: null,
  plan: null,
  app: null,
  appMessage: null,
  acceptUnverified: false,
  ignoreHolders: false,
  appStopped: false,
  rollbackOf: null,
  outcome: null,
  error: null,
  pending: null,
  startMessage: null,
};

export const SCOPE_HELP: Record<RestoreScope, string> = {
  all: 'everything the backup holds: database, configuration, user data, logs',
  database: 'the database alone (with its -wal and -shm)',
  config: 'config.json, settings.json, .env, pyinstaller.spec, requirements.txt',
  'user-data': 'models, thumbnails, cache and themes',
};

const messageOf = (err: unknown) => (err as Error).message;

export class RestoreSession {
  readonly store: Store<RestoreSessionState> = createStore<RestoreSessionState>(IDLE);

  constructor(private readonly site: RestoreSite) {}

  private set(patch: Partial<RestoreSessionState>): void {
    this.store.set((s) => ({ ...s, ...patch }));
  }

  /** A restore's or a recovery's progress: the step it is at, in words, and how far. */
  private readonly showRunProgress = (p: RestoreProgress) =>
    this.set({ runStep: p.step, busy: p.message, progress: p.progress });

  get state(): RestoreSessionState {
    return this.store.get();
  }

  /** An interrupted restore found at start: the walkthrough opens on it. */
  checkPending(): boolean {
    const pending = pendingRestore(this.site.paths.root);
    if (!pending) return false;
    this.store.set({
      ...IDLE,
      active: true,
      mode: 'recover',
      step: 'recover',
      pending,
      backup: pending.backup,
    });
    return true;
  }

  begin(backup: SessionBackup): void {
    if (this.checkPending()) return;
    const scopes: RestoreScope[] =
      backup.kind === 'database' ? ['database'] : ['all', 'database', 'config', 'user-data'];
    this.store.set({ ...IDLE, active: true, backup, scopes });
  }

  moveScope(delta: number): void {
    const s = this.state;
    if (s.step !== 'scope') return;
    this.set({ scopeIndex: Math.max(0, Math.min(s.scopes.length - 1, s.scopeIndex + delta)) });
  }

  /** Step 1 → 2 → 3: verify the backup and plan the restore. */
  async chooseScope(): Promise<void> {
    const s = this.state;
    if (s.step !== 'scope' || !s.backup || s.busy) return;
    const scope = s.scopes[s.scopeIndex]!;
    this.set({ step: 'verify', busy: 'verifying the backup', progress: null, error: null });
    try {
      const plan = await planRestore(this.site, s.backup.file, scope, {
        onProgress: (p) => this.set({ progress: p }),
      });
      this.set({ step: 'plan', plan, busy: null, progress: null });
    } catch (err) {
      this.set({ busy: null, error: messageOf(err) });
    }
  }

  /** Rolling back the last completed restore: its safety snapshot, planned like any backup. */
  async beginRollbackOfLast(): Promise<void> {
    if (this.checkPending()) return;
    this.store.set({
      ...IDLE,
      active: true,
      mode: 'rollback',
      step: 'verify',
      busy: 'verifying the safety snapshot',
    });
    try {
      const { plan, lastId } = await planRollbackOfLast(this.site, {
        onProgress: (p) => this.set({ progress: p }),
      });
      this.set({ step: 'plan', plan, backup: plan.backup, rollbackOf: lastId, busy: null, progress: null });
    } catch (err) {
      this.set({ busy: null, error: messageOf(err) });
    }
  }

  /** The typed name was right: go ahead with a backup that failed verification. */
  acceptFailedVerification(): void {
    this.set({ acceptUnverified: true });
  }

  /** Step 3 → 4: is Candy-Cadence running, does anything hold the database? */
  async checkApp(): Promise<void> {
    this.set({
      step: 'app',
      busy: 'looking for Candy-Cadence and for processes holding the database',
      error: null,
    });
    try {
      const app = await checkApplication(this.site);
      this.set({ app, busy: null });
    } catch (err) {
      this.set({ busy: null, error: messageOf(err) });
    }
  }

  async stopApp(): Promise<void> {
    const app = this.state.app?.app;
    if (!app) return;
    this.set({ busy: `stopping Candy-Cadence (pid ${app.pid})`, error: null });
    const r = await stopApplication(this.site, app);
    const again = await checkApplication(this.site);
    this.set({
      busy: null,
      app: again,
      appStopped: this.state.appStopped || r.stopped,
      appMessage: r.stopped ? `stopped: ${r.how}` : `could not stop it: ${r.error} (${r.how})`,
      error: r.stopped ? null : `could not stop Candy-Cadence: ${r.error}`,
    });
  }

  forceHolders(): void {
    this.set({ ignoreHolders: true });
  }

  /** Steps 5–7: safety snapshot, staging, swap, post-checks. */
  async restore(): Promise<void> {
    const s = this.state;
    if (!s.plan || s.busy) return;
    this.set({ step: 'restore', busy: 'restoring', runStep: 'app', error: null, progress: null });
    try {
      const outcome = await runRestore(this.site, s.plan, {
        acceptUnverified: s.acceptUnverified,
        ignoreHolders: s.ignoreHolders,
        safety: s.mode !== 'rollback',
        rollbackOf: s.rollbackOf,
        appStopped: s.appStopped,
        onProgress: this.showRunProgress,
      });
      this.set({
        step: 'finish',
        outcome,
        busy: null,
        progress: null,
        runStep: outcome.ok ? 'done' : s.runStep,
      });
    } catch (err) {
      this.set({ step: 'finish', busy: null, progress: null, error: messageOf(err) });
    }
  }

  async recover(mode: 'complete' | 'rollback'): Promise<void> {
    if (this.state.busy) return;
    this.set({
      step: 'restore',
      busy: mode === 'complete' ? 'finishing the restore' : 'rolling back',
      error: null,
    });
    try {
      const outcome = await recoverRestore(this.site, mode, {
        onProgress: this.showRunProgress,
      });
      this.set({
        step: 'finish',
        outcome,
        busy: null,
        progress: null,
        pending: null,
        appStopped: outcome.appStopped,
      });
    } catch (err) {
      this.set({ step: 'finish', busy: null, error: messageOf(err) });
    }
  }

  async startApp(): Promise<void> {
    this.set({ busy: 'starting Candy-Cadence' });
    const r = await startApplication(this.site);
    this.set({ busy: null, startMessage: r.message, appStopped: !r.started && this.state.appStopped });
  }

  /** Esc: one step back where that is safe, else out of the walkthrough. */
  back(): 'closed' | 'back' | 'busy' {
    const s = this.state;
    if (s.busy) return 'busy';
    if (s.step === 'plan' && s.mode === 'restore') {
      this.set({ step: 'scope', plan: null, acceptUnverified: false, error: null });
      return 'back';
    }
    if (s.step === 'app') {
      this.set({ step: 'plan', error: null });
      return 'back';
    }
    this.close();
    return 'closed';
  }

  close(): void {
    this.store.set(IDLE);
  }
}
