// Restoring a backup, crash-safe and reversible. The steps, in order:
//   1. verify the backup (refused when it fails; an override needs the name typed in full; hostile
//      archives are never restored);
//   2. the plan: what is replaced, added and removed, with sizes; row counts then and now; space;
//   3. the application stopped (the caller offers that) and no process holding the database open;
//   4. a safety snapshot of everything in scope, pre_restore_<stamp>.tar.gz, verified;
//   5. extraction into a staging folder on the site's file system, every file checked against the
//      manifest, the staged database checked (and put in the live one's journal mode);
//   6. the swap: unit by unit (the database with its -wal, -shm and -journal; each configuration
//      file; each user-data folder; the logs folder), the live one renamed aside and the staged one
//      renamed into place, each step written to the journal first;
//   7. post-checks: database integrity and row counts, every restored file against the manifest; a
//      failure swaps everything back;
//   8. done: the displaced originals and the staging go; the safety snapshot stays, and "roll back"
//      restores it.
// Every unit's state is readable from the file system (live / staged / old), so recovery after a
// crash at any point can complete the restore or roll it back, never leaving a mix.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { type AppProcess, findAppProcess, pidAlive, readCmdline } from './app-process.js';
import { createBackup } from './backup-create.js';
import { type DiffFile, liveDatabaseCounts, liveInventory, sha256File } from './backup-diff.js';
import { BackupError } from './backup-errors.js';
import {
  backupLayout,
  DATABASE_ARCHIVE_PATH,
  displayPath,
  type LayoutItem,
  type RestoreScope,
  scopeIncludes,
} from './backup-layout.js';
import { type BackupKind, formatStamp, parseBackupName } from './backup-names.js';
import type { BackupProgress } from './backup-progress.js';
import { sqliteJob, type TableCounts } from './backup-sqlite.js';
import { recordVerification } from './backup-state.js';
import { type VerifyResult, verifyBackup } from './backup-verify.js';
import type { Config } from './config.js';
import { findOpenFileHolders, type OpenFileHolder, sqliteFileSet } from './open-files.js';
import { freeSpaceOf } from './proc-mounts.js';
import {
  appendJournalLog,
  closeJournal,
  fsyncPath,
  journalFile,
  pendingRestore,
  type RestoreJournal,
  type RestoreUnit,
  readJournal,
  readLastRestore,
  runDir,
  workDir,
  writeJournal,
} from './restore-journal.js';
import { type StageResult, stageArchive, stageDatabase } from './restore-stage.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';

export interface RestoreSite {
  paths: SitePaths;
  config: Config;
  stateDb?: StateDb | null;
}

export type RestoreStep =
  | 'verify'
  | 'plan'
  | 'app'
  | 'safety'
  | 'stage'
  | 'swap'
  | 'post-check'
  | 'start'
  | 'done';
export const RESTORE_STEPS: RestoreStep[] = [
  'verify',
  'plan',
  'app',
  'safety',
  'stage',
  'swap',
  'post-check',
  'start',
  'done',
];

export interface RestoreProgress {
  step: RestoreStep;
  message: string;
  progress: BackupProgress | null;
}

export type RefusalCode =
  | 'verification'
  | 'hostile'
  | 'space'
  | 'scope'
  | 'device'
  | 'pending'
  | 'app-running'
  | 'db-held'
  | 'empty';

export interface RestoreRefusal {
  code: RefusalCode;
  message: string;
  /** Overridable by typing the backup's name in full (failed verification, database held open). */
  overridable: boolean;
}

export interface PlannedUnit {
  name: string;
  kind: 'database' | 'file' | 'dir';
  live: string;
  display: string;
  inBackup: boolean;
  liveExists: boolean;
}

export interface RestorePlan {
  backup: { file: string; name: string; kind: BackupKind };
  requestedScope: RestoreScope;
  scope: RestoreScope;
  verification: VerifyResult;
  units: PlannedUnit[];
  replaced: DiffFile[];
  added: DiffFile[];
  removed: DiffFile[];
  unchanged: number;
  database: {
    restored: boolean;
    inBackup: TableCounts | null;
    live: TableCounts | null;
    liveError: string | null;
  };
  space: {
    stagingBytes: number;
    safetyBytes: number;
    neededBytes: number;
    availableBytes: number;
    ok: boolean;
  };
  refusals: RestoreRefusal[];
}

export interface AppCheck {
  app: AppProcess | null;
  /** Processes holding the database (or its -wal/-shm/-journal) open, this console excluded. */
  holders: OpenFileHolder[];
  /** Processes whose descriptors could not be read: holders among them are unknown. */
  unreadable: number;
}

export interface RestoreOutcome {
  ok: boolean;
  id: string;
  message: string;
  safety: { file: string; name: string } | null;
  rolledBack: boolean;
  postCheck: { database: string | null; files: number; mismatches: string[] } | null;
  durationMs: number;
  /**
   * Milliseconds per step: safety (the snapshot), extract (staging: extraction, manifest check, sync),
   * stage (extract plus the staged database's check), swap, postCheck.
   */
  timings: Record<string, number>;
  /** The application was stopped by this restore (offer to start it). */
  appStopped: boolean;
}

// ---------------------------------------------------------------------------------------------
// Fault injection for the crash tests: CADENCE_OPS_FAULT_KILL_AT=N kills this process with SIGKILL
// at the N-th checkpoint of a restore; CADENCE_OPS_FAULT_TRACE=FILE appends every checkpoint's
// number and label. Without them a checkpoint costs a counter increment.
let checkpoints = 0;
function checkpoint(label: string): void {
  checkpoints++;
  const trace = process.env.CADENCE_OPS_FAULT_TRACE;
  if (trace) appendFileSync(trace, `${checkpoints} ${label}\n`);
  const killAt = process.env.CADENCE_OPS_FAULT_KILL_AT;
  if (killAt && Number(killAt) === checkpoints) process.kill(process.pid, 'SIGKILL');
}

const lexists = (p: string): boolean => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

const DB_COMPANIONS = ['-wal', '-shm', '-journal'];

function isFileType(type: string): boolean {
  return type === 'File' || type === 'OldFile' || type === 'ContiguousFile';
}

/** The layout items a restore of this backup in this scope swaps. */
function unitsFor(paths: SitePaths, kind: BackupKind, scope: RestoreScope): LayoutItem[] {
  const layout = backupLayout(paths);
  if (kind === 'database') return layout.filter((i) => i.type === 'database');
  return layout.filter((i) => scopeIncludes(scope, i.scope));
}

function effectiveScope(
  kind: BackupKind,
  requested: RestoreScope,
  snapshotScope: string | null,
): { scope: RestoreScope; refusal: string | null } {
  if (kind === 'database') {
    if (requested === 'all' || requested === 'database') return { scope: 'database', refusal: null };
    return {
      scope: requested,
      refusal: `a database backup holds only the database; it cannot restore ${requested}`,
    };
  }
  if (kind === 'pre_restore' && snapshotScope && snapshotScope !== 'all') {
    if (requested === 'all' || requested === snapshotScope)
      return { scope: snapshotScope as RestoreScope, refusal: null };
    return {
      scope: requested,
      refusal: `this safety snapshot holds only ${snapshotScope}; it cannot restore ${requested}`,
    };
  }
  return { scope: requested, refusal: null };
}

function inScope(units: LayoutItem[], archivePath: string): boolean {
  return units.some((u) => archivePath === u.archivePath || archivePath.startsWith(`${u.archivePath}/`));
}

function freeBytes(dir: string): number {
  let d = dir;
  for (;;) {
    const bytes = freeSpaceOf(d);
    if (bytes !== null) return bytes;
    const up = path.dirname(d);
    if (up === d) return 0;
    d = up;
  }
}

function deviceOf(p: string): number | null {
  let d = p;
  for (;;) {
    try {
      return statSync(d).dev;
    } catch {
      const up = path.dirname(d);
      if (up === d) return null;
      d = up;
    }
  }
}

/** Verifies the backup and works out exactly what a restore would change. Changes nothing. */
export async function planRestore(
  site: RestoreSite,
  backupFile: string,
  requestedScope: RestoreScope,
  opts: {
    onProgress?: (p: BackupProgress) => void;
    signal?: AbortSignal;
    inline?: boolean;
    safety?: boolean;
    /** Free bytes of the file system holding a folder (default: statfs). */
    freeBytes?: (dir: string) => number;
  } = {},
): Promise<RestorePlan> {
  const free = opts.freeBytes ?? freeBytes;
  const { paths, config } = site;
  const name = path.basename(backupFile);
  const parsed = parseBackupName(name);
  const kind: BackupKind = parsed?.kind ?? (name.endsWith('.db.gz') ? 'database' : 'full');
  const verification = await verifyBackup(backupFile, {
    config,
    collectEntries: true,
    inline: opts.inline,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  if (site.stateDb) recordVerification(site.stateDb, backupFile, verification);
  const refusals: RestoreRefusal[] = [];
  const snapshotScope = typeof verification.manifest?.scope === 'string' ? verification.manifest.scope : null;
  const eff = effectiveScope(kind, requestedScope, snapshotScope);
  if (eff.refusal) refusals.push({ code: 'scope', message: eff.refusal, overridable: false });
  if (!verification.ok) {
    if (verification.hostile.length)
      refusals.push({
        code: 'hostile',
        message: `${verification.reason}; a hostile archive is never restored`,
        overridable: false,
      });
    else
      refusals.push({
        code: 'verification',
        message: `the backup failed verification: ${verification.reason}`,
        overridable: true,
      });
  }
  const pending = pendingRestore(paths.root);
  if (pending)
    refusals.push({
      code: 'pending',
      message: `an unfinished restore of ${pending.backup.name} (phase ${pending.phase}) must be completed or rolled back first`,
      overridable: false,
    });

  const items = unitsFor(paths, kind, eff.scope);
  const entries = verification.entries ?? [];
  const backupFiles = new Map<string, number>();
  if (kind === 'database') backupFiles.set(DATABASE_ARCHIVE_PATH, verification.uncompressedBytes);
  for (const e of entries) if (isFileType(e.type)) backupFiles.set(e.path, e.size);
  const has = (item: LayoutItem) =>
    kind === 'database'
      ? item.type === 'database'
      : entries.some((e) => e.path === item.archivePath || e.path.startsWith(`${item.archivePath}/`));
  const units: PlannedUnit[] = items.map((i) => ({
    name: i.archivePath,
    kind: i.type === 'tree' ? 'dir' : i.type,
    live: i.sitePath,
    display: displayPath(paths, i.sitePath),
    inBackup: has(i),
    liveExists: lexists(i.sitePath),
  }));
  if (!units.some((u) => u.inBackup || u.liveExists))
    refusals.push({ code: 'empty', message: `nothing to restore in scope ${eff.scope}`, overridable: false });

  // Files: what goes, what comes, what changes (the database is compared by its rows).
  const replaced: DiffFile[] = [];
  const added: DiffFile[] = [];
  const removed: DiffFile[] = [];
  let unchanged = 0;
  const shown = (archivePath: string) => {
    const item = items.find(
      (i) => archivePath === i.archivePath || archivePath.startsWith(`${i.archivePath}/`),
    );
    if (!item) return archivePath;
    const rest = archivePath.slice(item.archivePath.length + 1);
    return displayPath(paths, rest ? path.join(item.sitePath, ...rest.split('/')) : item.sitePath);
  };
  if (kind !== 'database') {
    const inv = await liveInventory(paths, { scope: eff.scope, hash: true, signal: opts.signal });
    const fileEntries = entries.filter(
      (e) => isFileType(e.type) && inScope(items, e.path) && e.path !== DATABASE_ARCHIVE_PATH,
    );
    const seen = new Set<string>();
    for (const e of fileEntries) {
      seen.add(e.path);
      const live = inv.files.get(e.path);
      if (!live) added.push({ path: shown(e.path), archivePath: e.path, sizeThen: e.size, sizeNow: null });
      else if (live.sha256 !== e.sha256)
        replaced.push({ path: shown(e.path), archivePath: e.path, sizeThen: e.size, sizeNow: live.size });
      else unchanged++;
    }
    for (const f of inv.files.values()) {
      if (!seen.has(f.archivePath))
        removed.push({
          path: shown(f.archivePath),
          archivePath: f.archivePath,
          sizeThen: null,
          sizeNow: f.size,
        });
    }
  }
  const dbItem = items.find((i) => i.type === 'database');
  const dbRestored = Boolean(dbItem && units.find((u) => u.kind === 'database')?.inBackup);
  const live = dbItem
    ? await liveDatabaseCounts(paths, { inline: opts.inline, signal: opts.signal })
    : { counts: null, error: null };
  if (dbItem && dbRestored) {
    const size = backupFiles.get(DATABASE_ARCHIVE_PATH) ?? 0;
    const liveSize = existsSync(paths.database) ? statSync(paths.database).size : null;
    replaced.unshift({
      path: displayPath(paths, paths.database),
      archivePath: DATABASE_ARCHIVE_PATH,
      sizeThen: size,
      sizeNow: liveSize,
    });
  } else if (dbItem && !dbRestored && existsSync(paths.database)) {
    removed.unshift({
      path: displayPath(paths, paths.database),
      archivePath: DATABASE_ARCHIVE_PATH,
      sizeThen: null,
      sizeNow: statSync(paths.database).size,
    });
  }
  for (const list of [replaced, added, removed])
    list.sort((a, b) =>
      a.archivePath === DATABASE_ARCHIVE_PATH
        ? -1
        : b.archivePath === DATABASE_ARCHIVE_PATH
          ? 1
          : a.path.localeCompare(b.path),
    );

  // Space: the staged copy, plus the safety snapshot (estimated at this backup's compression ratio).
  let stagingBytes = 0;
  for (const [p, size] of backupFiles) if (kind === 'database' || inScope(items, p)) stagingBytes += size;
  let liveBytes = 0;
  for (const u of units) {
    if (!u.liveExists) continue;
    if (u.kind === 'dir') {
      const inv = await liveInventory(paths, {
        scope: 'all',
        layout: [items.find((i) => i.archivePath === u.name)!],
      });
      for (const f of inv.files.values()) liveBytes += f.size;
    } else liveBytes += statSync(u.live).size;
  }
  const ratio =
    verification.uncompressedBytes > 0
      ? Math.min(1, Math.max(0.05, verification.compressedBytes / verification.uncompressedBytes))
      : 1;
  const safetyBytes = opts.safety === false ? 0 : Math.ceil(liveBytes * ratio);
  const margin = 16 * 1024 * 1024;
  const sameFs = deviceOf(paths.backups) === deviceOf(paths.root);
  const availableBytes = free(paths.root);
  const neededBytes = stagingBytes + (sameFs ? safetyBytes : 0) + margin;
  let spaceOk = neededBytes <= availableBytes;
  if (!spaceOk)
    refusals.push({
      code: 'space',
      message: `not enough free space on the site's file system: ${fmtMb(neededBytes)} needed (${fmtMb(stagingBytes)} staging${sameFs && safetyBytes ? ` + ~${fmtMb(safetyBytes)} safety snapshot` : ''}), ${fmtMb(availableBytes)} available`,
      overridable: false,
    });
  if (!sameFs && safetyBytes) {
    const backupFree = free(paths.backups);
    if (safetyBytes + margin > backupFree) {
      spaceOk = false;
      refusals.push({
        code: 'space',
        message: `not enough free space for the safety snapshot in ${paths.backups}: ~${fmtMb(safetyBytes)} needed, ${fmtMb(backupFree)} available`,
        overridable: false,
      });
    }
  }
  const rootDev = deviceOf(paths.root);
  for (const u of units) {
    if (deviceOf(path.dirname(u.live)) !== rootDev)
      refusals.push({
        code: 'device',
        message: `${u.display} is on another file system than the site root; a restore swaps by rename and cannot cross file systems`,
        overridable: false,
      });
  }
  return {
    backup: { file: backupFile, name, kind },
    requestedScope,
    scope: eff.scope,
    verification,
    units,
    replaced,
    added,
    removed,
    unchanged,
    database: {
      restored: dbRestored,
      inBackup: verification.database?.counts ?? null,
      live: live.counts,
      liveError: live.error,
    },
    space: { stagingBytes, safetyBytes, neededBytes, availableBytes, ok: spaceOk },
    refusals,
  };
}

function fmtMb(n: number): string {
  return n >= 1024 * 1024 * 1024 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${(n / 1024 ** 2).toFixed(1)} MB`;
}

/**
 * This site's Candy-Cadence process: the pid file first; else a process matching
 * app.processPattern that works on this site (another site's application, or a tool that merely
 * mentions the pattern, is never stopped by a restore here).
 */
export function findSiteApp(site: RestoreSite): AppProcess | null {
  return findAppProcess({
    pidFile: site.paths.pidFile,
    pattern: site.config.app.processPattern,
    siteRoot: site.paths.root,
  }).process;
}

/** Is Candy-Cadence running, and who holds the database open? */
export async function checkApplication(site: RestoreSite): Promise<AppCheck> {
  const app = findSiteApp(site);
  const scan = await findOpenFileHolders(sqliteFileSet(site.paths.database));
  return { app, holders: scan.holders.filter((h) => !h.self), unreadable: scan.unreadable };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gone(pid: number): boolean {
  if (!pidAlive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Stops the application: app.stopCommand, else SIGTERM to its pid; waits up to app.stopTimeoutSeconds. */
export async function stopApplication(
  site: RestoreSite,
  app: AppProcess,
): Promise<{ stopped: boolean; how: string; error: string | null }> {
  const { config, paths } = site;
  let how: string;
  if (config.app.stopCommand) {
    how = `ran app.stopCommand (${config.app.stopCommand})`;
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('sh', ['-c', config.app.stopCommand!], { cwd: paths.root, stdio: 'ignore' });
      child.on('error', () => resolve(-1));
      child.on('exit', (c) => resolve(c));
    });
    if (code !== 0) return { stopped: false, how, error: `the stop command exited with ${code}` };
  } else {
    how = `sent SIGTERM to pid ${app.pid}`;
    try {
      process.kill(app.pid, 'SIGTERM');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH')
        return { stopped: false, how, error: `cannot signal pid ${app.pid}: ${(err as Error).message}` };
    }
  }
  const deadline = Date.now() + config.app.stopTimeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if (gone(app.pid)) return { stopped: true, how, error: null };
    await sleep(100);
  }
  return {
    stopped: false,
    how,
    error: `pid ${app.pid} is still running after ${config.app.stopTimeoutSeconds} s (app.stopTimeoutSeconds)`,
  };
}

/** Starts the application with app.startCommand, and waits a few seconds to see it running. */
export async function startApplication(site: RestoreSite): Promise<{ started: boolean; message: string }> {
  const { config, paths } = site;
  if (!config.app.startCommand)
    return { started: false, message: 'no app.startCommand is configured: start Candy-Cadence yourself' };
  const child = spawn('sh', ['-c', config.app.startCommand], {
    cwd: paths.root,
    stdio: 'ignore',
    detached: true,
  });
  child.on('error', () => {});
  child.unref();
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const found = findSiteApp(site);
    if (found) return { started: true, message: `started (pid ${found.pid}) with app.startCommand` };
  }
  return {
    started: false,
    message: `ran app.startCommand, but no Candy-Cadence process appeared within 5 s`,
  };
}

// ---------------------------------------------------------------------------------------------
// The swap, unit by unit. A unit's state is read from the file system, so each function can run
// again after a crash at any point and finish its job.

function forwardUnit(j: RestoreJournal, u: RestoreUnit): void {
  if (u.staged !== null && !lexists(u.staged)) return; // the backup's version is already in place
  for (const suffix of ['', ...u.companions]) {
    const p = u.live + suffix;
    const o = u.old + suffix;
    if (!lexists(p)) continue;
    if (lexists(o))
      throw new BackupError('IO', `both ${p} and ${o} exist; cannot tell which is the original`);
    appendJournalLog(j.root, 'move aside', { unit: u.name, from: p, to: o });
    checkpoint(`swap ${u.name}${suffix}: move aside`);
    mkdirSync(path.dirname(o), { recursive: true, mode: 0o700 });
    renameSync(p, o);
    checkpoint(`swap ${u.name}${suffix}: moved aside`);
  }
  if (u.staged !== null) {
    appendJournalLog(j.root, 'move in', { unit: u.name, from: u.staged, to: u.live });
    checkpoint(`swap ${u.name}: move in`);
    mkdirSync(path.dirname(u.live), { recursive: true });
    renameSync(u.staged, u.live);
    checkpoint(`swap ${u.name}: moved in`);
  }
}

function backwardUnit(j: RestoreJournal, u: RestoreUnit): void {
  if (u.staged !== null && !lexists(u.staged) && lexists(u.live)) {
    // The backup's version is in place: take it out, with any -wal/-shm made since (never the old ones,
    // which were moved aside before it came in).
    appendJournalLog(j.root, 'take out', { unit: u.name, from: u.live, to: u.staged });
    checkpoint(`rollback ${u.name}: take out`);
    mkdirSync(path.dirname(u.staged), { recursive: true, mode: 0o700 });
    renameSync(u.live, u.staged);
    for (const suffix of u.companions) if (lexists(u.live + suffix)) unlinkSync(u.live + suffix);
    checkpoint(`rollback ${u.name}: taken out`);
  }
  for (const suffix of ['', ...u.companions]) {
    const p = u.live + suffix;
    const o = u.old + suffix;
    if (!lexists(o)) continue;
    if (lexists(p)) {
      if (suffix) unlinkSync(p);
      else throw new BackupError('IO', `both ${p} and ${o} exist; cannot tell which is the original`);
    }
    appendJournalLog(j.root, 'put back', { unit: u.name, from: o, to: p });
    checkpoint(`rollback ${u.name}${suffix}: put back`);
    renameSync(o, p);
    checkpoint(`rollback ${u.name}${suffix}: put back done`);
  }
}

function syncParents(units: RestoreUnit[]): void {
  const dirs = new Set<string>();
  for (const u of units) {
    dirs.add(path.dirname(u.live));
    dirs.add(path.dirname(u.old));
  }
  for (const d of dirs) if (existsSync(d)) fsyncPath(d);
}

function setPhase(j: RestoreJournal, phase: RestoreJournal['phase']): void {
  checkpoint(`phase ${phase}: write`);
  j.phase = phase;
  writeJournal(j);
  appendJournalLog(j.root, `phase ${phase}`);
  checkpoint(`phase ${phase}: written`);
}

function rollbackAll(j: RestoreJournal, error: string | null): void {
  if (j.phase !== 'rolling-back') {
    j.error = error;
    setPhase(j, 'rolling-back');
  }
  for (const u of [...j.units].reverse()) backwardUnit(j, u);
  syncParents(j.units);
  setPhase(j, 'rolled-back');
  closeJournal(j);
}

/** The restored site checked: the database (integrity, counts) and every restored file (manifest). */
async function postCheck(
  j: RestoreJournal,
  site: RestoreSite,
  report: (p: RestoreProgress) => void,
): Promise<{ database: string | null; files: number; mismatches: string[] }> {
  const mismatches: string[] = [];
  let database: string | null = null;
  const dbUnit = j.units.find((u) => u.kind === 'database' && u.staged !== null);
  if (dbUnit) {
    report({ step: 'post-check', message: 'checking the restored database', progress: null });
    checkpoint('post-check database');
    const r = await sqliteJob({ op: 'check', file: dbUnit.live });
    checkpoint('post-check database done');
    if (!r.ok) database = `cannot open the restored database: ${r.message}`;
    else if (r.integrity?.[0] !== 'ok' || (r.integrity?.length ?? 0) !== 1)
      database = `integrity_check: ${(r.integrity ?? []).slice(0, 3).join('; ')}`;
    else if (j.expectedCounts) {
      for (const [t, n] of Object.entries(j.expectedCounts)) {
        if (r.counts?.[t] !== n)
          mismatches.push(`table ${t}: ${r.counts?.[t] ?? 'missing'} rows, the backup has ${n}`);
      }
    }
  }
  let files = 0;
  const manifestFile = path.join(runDir(j.root, j.id), 'manifest.json');
  if (existsSync(manifestFile)) {
    const checksums = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>;
    const entries = Object.entries(checksums);
    let done = 0;
    for (const [rel, sha] of entries) {
      const unit = j.units.find((u) => rel === u.name || rel.startsWith(`${u.name}/`));
      if (!unit || unit.staged === null) continue;
      const rest = rel.slice(unit.name.length + 1);
      const live = rest ? path.join(unit.live, ...rest.split('/')) : unit.live;
      if (unit.kind === 'database') continue; // checked above, and put in the live journal mode
      try {
        if ((await sha256File(live)) !== sha)
          mismatches.push(`${displayPath(site.paths, live)} does not match the manifest`);
      } catch (err) {
        mismatches.push(`${displayPath(site.paths, live)}: ${(err as Error).message}`);
      }
      files++;
      checkpoint(`post-check ${rel}`);
      if (++done % 200 === 0)
        report({ step: 'post-check', message: `checked ${done} of ${entries.length} files`, progress: null });
    }
  }
  return { database, files, mismatches };
}

function newJournalId(now: number): string {
  return `${formatStamp(now)}-${process.pid}`;
}

/** Creates the journal exclusively: a second restore of the same site is refused. */
function createJournal(j: RestoreJournal): void {
  mkdirSync(workDir(j.root), { recursive: true, mode: 0o700 });
  const existing = readJournal(j.root);
  if (existing && existing.phase !== 'done' && existing.phase !== 'rolled-back')
    throw new BackupError(
      'REFUSED',
      `refused: an unfinished restore of ${existing.backup.name} exists (phase ${existing.phase})`,
    );
  if (existing) {
    // A finished journal whose clean-up was cut short.
    closeJournal(existing);
  }
  const tmp = `${journalFile(j.root)}.new-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(j, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, journalFile(j.root));
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new BackupError('REFUSED', 'refused: another restore of this site just started');
    throw err;
  }
  rmSync(tmp, { force: true });
  fsyncPath(workDir(j.root));
  appendJournalLog(j.root, 'start', { id: j.id, backup: j.backup.name, scope: j.scope });
}

export interface RunRestoreOptions {
  /** The backup failed verification and the user typed its name to go ahead anyway. */
  acceptUnverified?: boolean;
  /** Processes hold the database open and the user typed the backup's name to go ahead anyway. */
  ignoreHolders?: boolean;
  /** Take the safety snapshot (default true; false only when rolling back to one). */
  safety?: boolean;
  rollbackOf?: string | null;
  /** This restore stopped the application. */
  appStopped?: boolean;
  onProgress?: (p: RestoreProgress) => void;
  /** Cancels before the swap begins (afterwards the restore completes or rolls back on its own). */
  signal?: AbortSignal;
  now?: () => number;
}

/** Runs a planned restore. Throws BackupError('REFUSED') before changing anything when unsafe. */
export async function runRestore(
  site: RestoreSite,
  plan: RestorePlan,
  opts: RunRestoreOptions = {},
): Promise<RestoreOutcome> {
  const started = performance.now();
  const { paths, config } = site;
  const report = (p: RestoreProgress) => opts.onProgress?.(p);
  const timings: Record<string, number> = {};
  for (const r of plan.refusals) {
    if (r.code === 'verification' && opts.acceptUnverified) continue;
    throw new BackupError('REFUSED', `refused: ${r.message}`);
  }
  report({ step: 'app', message: 'checking that Candy-Cadence is stopped', progress: null });
  const check = await checkApplication(site);
  if (check.app)
    throw new BackupError(
      'REFUSED',
      `refused: Candy-Cadence is running (pid ${check.app.pid}, found by ${check.app.via}); stop it first`,
    );
  if (plan.database.restored || plan.units.some((u) => u.kind === 'database')) {
    if (check.holders.length && !opts.ignoreHolders) {
      const who = [...new Set(check.holders.map((h) => `${h.command} (pid ${h.pid})`))].join(', ');
      throw new BackupError(
        'REFUSED',
        `refused: the database is held open by ${who}; close it, or type the backup's name to go ahead anyway`,
      );
    }
  }

  const now = opts.now ?? Date.now;
  const id = newJournalId(now());
  const run = runDir(paths.root, id);
  const items = unitsFor(paths, plan.backup.kind, plan.scope);
  const j: RestoreJournal = {
    version: 1,
    id,
    pid: process.pid,
    startedAt: now(),
    updatedAt: now(),
    root: paths.root,
    backup: plan.backup,
    scope: plan.scope,
    safety: null,
    phase: 'safety',
    units: items.map((i) => ({
      name: i.archivePath,
      kind: i.type === 'tree' ? 'dir' : i.type,
      live: i.sitePath,
      staged: path.join(run, 'staging', ...i.archivePath.split('/')),
      old: path.join(run, 'old', ...i.archivePath.split('/')),
      companions: i.type === 'database' ? DB_COMPANIONS : [],
    })),
    expectedCounts: plan.database.restored ? plan.database.inBackup : null,
    appStopped: Boolean(opts.appStopped),
    rollbackOf: opts.rollbackOf ?? null,
    error: null,
    acceptUnverified: Boolean(opts.acceptUnverified && !plan.verification.ok),
    warnings: [],
  };
  checkpoints = 0;
  checkpoint('start');
  createJournal(j);
  checkpoint('journal created');

  const abandon = (error: string) => {
    // Nothing live has changed yet: the journal ends as rolled back.
    j.error = error;
    j.phase = 'rolled-back';
    writeJournal(j);
    closeJournal(j);
  };

  // The safety snapshot.
  if (opts.safety !== false) {
    report({ step: 'safety', message: `taking a safety snapshot of ${plan.scope}`, progress: null });
    const t0 = performance.now();
    try {
      const snap = await createBackup({
        paths,
        config,
        kind: 'pre_restore',
        uniqueName: true,
        onStep: (label) => checkpoint(`safety: ${label}`),
        scope: plan.scope,
        verify: true,
        stateDb: site.stateDb,
        signal: opts.signal,
        now,
        onProgress: (p) => report({ step: 'safety', message: 'safety snapshot', progress: p }),
      });
      j.safety = { file: snap.file, name: snap.name };
      writeJournal(j);
      appendJournalLog(j.root, 'safety snapshot verified', { file: snap.file });
      checkpoint('safety snapshot verified');
      timings.safety = Math.round(performance.now() - t0);
    } catch (err) {
      abandon(`safety snapshot: ${(err as Error).message}`);
      throw err instanceof BackupError ? err : new BackupError('IO', (err as Error).message);
    }
  }
  return continueRestore(site, j, { ...opts, report, started, timings });
}

async function stageInto(
  site: RestoreSite,
  j: RestoreJournal,
  report: (p: RestoreProgress) => void,
  signal: AbortSignal | undefined,
): Promise<StageResult> {
  const stagingDir = path.join(runDir(j.root, j.id), 'staging');
  rmSync(stagingDir, { recursive: true, force: true });
  const size = statSync(j.backup.file).size;
  const names = j.units.map((u) => u.name);
  const include = (p: string) => names.some((n) => p === n || p.startsWith(`${n}/`));
  const common = {
    file: j.backup.file,
    config: site.config,
    stagingDir,
    include,
    signal,
    checkpoint,
    lenient: j.acceptUnverified,
    onProgress: (p: BackupProgress) =>
      report({ step: 'stage', message: 'extracting into the staging folder', progress: p }),
  };
  return j.backup.kind === 'database' ? stageDatabase(common, size) : stageArchive(common, size);
}

async function continueRestore(
  site: RestoreSite,
  j: RestoreJournal,
  opts: RunRestoreOptions & {
    report: (p: RestoreProgress) => void;
    started: number;
    timings: Record<string, number>;
  },
): Promise<RestoreOutcome> {
  const { report } = opts;
  const outcome = (
    ok: boolean,
    message: string,
    rolledBack: boolean,
    postCheckResult: RestoreOutcome['postCheck'],
  ): RestoreOutcome => ({
    ok,
    id: j.id,
    message,
    safety: j.safety,
    rolledBack,
    postCheck: postCheckResult,
    durationMs: Math.round(performance.now() - opts.started),
    timings: opts.timings,
    appStopped: j.appStopped,
  });

  if (j.phase === 'safety' || j.phase === 'staging') {
    setPhase(j, 'staging');
    const t0 = performance.now();
    report({ step: 'stage', message: 'extracting into the staging folder', progress: null });
    let staged: StageResult;
    try {
      staged = await stageInto(site, j, report, opts.signal);
      opts.timings.extract = Math.round(performance.now() - t0);
      // The staged database: sound, the counts the backup promised, the live one's journal mode.
      const dbUnit = j.units.find((u) => u.kind === 'database');
      if (dbUnit?.staged && existsSync(dbUnit.staged)) {
        const liveWal = walMode(dbUnit.live) || walMode(dbUnit.old);
        const r = await sqliteJob({ op: 'prepare-restore', file: dbUnit.staged, wal: liveWal });
        const bad = !r.ok
          ? `the staged database cannot be opened: ${r.message}`
          : r.integrity?.[0] !== 'ok'
            ? `the staged database fails integrity_check: ${r.integrity?.slice(0, 2).join('; ')}`
            : null;
        if (bad && !j.acceptUnverified) throw new BackupError('VERIFY_FAILED', bad);
        if (bad) staged.warnings.push(bad);
        j.expectedCounts = bad ? null : (r.counts ?? j.expectedCounts);
        copyOwnership(dbUnit.live, dbUnit.staged);
      }
      // The flush of the staging ran meanwhile; the database changed after it started (journal mode).
      await staged.synced;
      if (dbUnit?.staged && existsSync(dbUnit.staged)) {
        fsyncPath(dbUnit.staged);
        fsyncPath(path.dirname(dbUnit.staged));
      }
      if (staged.manifest) {
        const checksums: Record<string, string> = {};
        for (const [rel] of staged.files) checksums[rel] = staged.manifest.checksums[rel]!;
        writeJsonFile(path.join(runDir(j.root, j.id), 'manifest.json'), checksums);
      }
    } catch (err) {
      const message = (err as Error).message;
      rmSync(path.join(runDir(j.root, j.id), 'staging'), { recursive: true, force: true });
      j.error = `staging: ${message}`;
      j.phase = 'rolled-back';
      writeJournal(j);
      closeJournal(j);
      throw err instanceof BackupError ? err : new BackupError('IO', message);
    }
    // Units the backup does not hold are removed by the restore: nothing staged for them.
    for (const u of j.units) if (u.staged && !lexists(u.staged)) u.staged = null;
    j.warnings.push(...staged.warnings);
    opts.timings.stage = Math.round(performance.now() - t0);
    setPhase(j, 'staged');
  }

  if (j.phase === 'staged' || j.phase === 'swapping') {
    const t0 = performance.now();
    if (j.phase === 'staged') setPhase(j, 'swapping');
    report({ step: 'swap', message: 'swapping the restored files into place', progress: null });
    try {
      for (const u of j.units) forwardUnit(j, u);
      syncParents(j.units);
    } catch (err) {
      rollbackAll(j, `swap: ${(err as Error).message}`);
      return outcome(false, `the swap failed and was rolled back: ${(err as Error).message}`, true, null);
    }
    setPhase(j, 'swapped');
    opts.timings.swap = Math.round(performance.now() - t0);
  }

  if (j.phase === 'swapped') {
    report({ step: 'post-check', message: 'checking the restored site', progress: null });
    const t0 = performance.now();
    const pc = await postCheck(j, site, report);
    opts.timings.postCheck = Math.round(performance.now() - t0);
    checkpoint('post-check done');
    if (j.acceptUnverified && (pc.database || pc.mismatches.length)) {
      // The user restored a backup known to be damaged: report, do not undo.
      j.warnings.push(...(pc.database ? [pc.database] : []), ...pc.mismatches);
    } else if (pc.database || pc.mismatches.length) {
      const why = pc.database ?? pc.mismatches[0]!;
      rollbackAll(j, `post-check: ${why}`);
      return outcome(
        false,
        `the restored site failed its checks (${why}); everything was put back`,
        true,
        pc,
      );
    }
    setPhase(j, 'done');
    closeJournal(j);
    checkpoint('closed');
    return outcome(
      true,
      `restored ${j.backup.name} (${j.scope})${j.safety ? `; the previous state is kept in ${j.safety.name}` : ''}` +
        (j.warnings.length
          ? `; ${j.warnings.length} problem${j.warnings.length > 1 ? 's' : ''} accepted: ${j.warnings[0]}`
          : ''),
      false,
      pc,
    );
  }
  if (j.phase === 'rolling-back') {
    rollbackAll(j, j.error);
    return outcome(false, `rolled back: ${j.error ?? 'interrupted'}`, true, null);
  }
  throw new BackupError('IO', `unexpected journal phase ${j.phase}`);
}

function walMode(dbFile: string): boolean {
  try {
    const fd = openSync(dbFile, 'r');
    try {
      const head = Buffer.alloc(20);
      const n = readSync(fd, head, 0, head.length, 0);
      return n >= 20 && head[18] === 2 && head[19] === 2;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function copyOwnership(from: string, to: string): void {
  try {
    const st = statSync(from);
    chmodSync(to, st.mode & 0o777);
    if (typeof process.getuid === 'function' && process.getuid() === 0) chownSync(to, st.uid, st.gid);
  } catch {
    // No live database: the backup's mode stands.
  }
}

function writeJsonFile(file: string, value: unknown): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(value));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Finishes (mode 'complete') or undoes (mode 'rollback') an interrupted restore found in the journal. */
export async function recoverRestore(
  site: RestoreSite,
  mode: 'complete' | 'rollback',
  opts: { onProgress?: (p: RestoreProgress) => void } = {},
): Promise<RestoreOutcome> {
  const started = performance.now();
  const j = pendingRestore(site.paths.root);
  if (!j) throw new BackupError('NOT_FOUND', 'no interrupted restore to recover');
  if (j.pid !== process.pid && pidAlive(j.pid) && (readCmdline(j.pid) ?? '').includes('cadence-ops'))
    throw new BackupError('REFUSED', `refused: the restore is still running (pid ${j.pid})`);
  const report = (p: RestoreProgress) => opts.onProgress?.(p);
  checkpoints = 0;
  appendJournalLog(j.root, `recover: ${mode}`, { pid: process.pid });
  j.pid = process.pid;
  if (mode === 'rollback' || j.phase === 'rolling-back' || j.phase === 'safety') {
    if (j.phase === 'safety' || j.phase === 'staging') {
      // Nothing live was touched.
      j.error = j.error ?? 'rolled back after an interruption';
      j.phase = 'rolled-back';
      writeJournal(j);
      closeJournal(j);
    } else {
      report({ step: 'swap', message: 'putting the previous files back', progress: null });
      rollbackAll(j, j.error ?? 'rolled back after an interruption');
    }
    return {
      ok: true,
      id: j.id,
      message: `rolled back the interrupted restore of ${j.backup.name}: the site is as it was before`,
      safety: j.safety,
      rolledBack: true,
      postCheck: null,
      durationMs: Math.round(performance.now() - started),
      timings: {},
      appStopped: j.appStopped,
    };
  }
  writeJournal(j);
  return continueRestore(site, j, { report, started, timings: {} });
}

/** Rolls back the last completed restore by restoring the safety snapshot it took. */
export async function planRollbackOfLast(
  site: RestoreSite,
  opts: { onProgress?: (p: BackupProgress) => void; inline?: boolean } = {},
): Promise<{ plan: RestorePlan; lastId: string }> {
  const last = readLastRestore(site.paths.root);
  if (last?.outcome !== 'done') throw new BackupError('NOT_FOUND', 'no completed restore to roll back');
  if (last.rollbackOf)
    throw new BackupError(
      'NOT_FOUND',
      `the last restore was itself a rollback (of ${last.rollbackOf}); nothing to undo`,
    );
  if (!last.safety)
    throw new BackupError('NOT_FOUND', `the last restore (${last.backup.name}) kept no safety snapshot`);
  if (!existsSync(last.safety.file))
    throw new BackupError('NOT_FOUND', `the safety snapshot ${last.safety.file} is gone`);
  const plan = await planRestore(site, last.safety.file, last.scope, { ...opts, safety: false });
  return { plan, lastId: last.id };
}

export { pendingRestore, readLastRestore };
