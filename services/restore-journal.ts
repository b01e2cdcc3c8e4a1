// The restore journal: what a restore is doing, kept in the site itself
// (`<root>/.cadence-ops-restore/journal.json`, plus an append-only `journal.log` of every step), so
// that after a crash, a SIGKILL or a reboot the next start of the console or of any verb finds it
// and can complete or roll back the restore. Written before each step, atomically (temp file,
// fsync, rename, fsync of the folder). The work folder also holds the staging and the displaced
// originals of the restore in progress, on the site's file system so that every swap is a rename.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { pidAlive } from './app-process.js';
import type { RestoreScope } from './backup-layout.js';
import type { BackupKind } from './backup-names.js';
import type { TableCounts } from './backup-sqlite.js';

export const WORK_DIR_NAME = '.cadence-ops-restore';

export type JournalPhase =
  | 'safety'
  | 'staging'
  | 'staged'
  | 'swapping'
  | 'swapped'
  | 'done'
  | 'rolling-back'
  | 'rolled-back';

/** One thing swapped by rename: the database (with its -wal, -shm, -journal), a file, or a folder. */
export interface RestoreUnit {
  /** Archive path, e.g. user_data/models, configuration/.env, database/candy_cadence.db. */
  name: string;
  kind: 'database' | 'file' | 'dir';
  /** The live path. */
  live: string;
  /** Where the backup's version waits; null when the backup lacks it (the live one is removed). */
  staged: string | null;
  /** Where the live version goes while the restore runs. */
  old: string;
  /** Suffixes that travel with the live path (the database's -wal, -shm, -journal). */
  companions: string[];
}

export interface RestoreJournal {
  version: 1;
  id: string;
  pid: number;
  startedAt: number;
  updatedAt: number;
  root: string;
  backup: { file: string; name: string; kind: BackupKind };
  scope: RestoreScope;
  /** The safety snapshot, once verified. */
  safety: { file: string; name: string } | null;
  phase: JournalPhase;
  units: RestoreUnit[];
  /** Row counts of the backup's database, for the post-checks. */
  expectedCounts: TableCounts | null;
  /** Whether this restore stopped the application (so it offers to start it again). */
  appStopped: boolean;
  /** Set when this restore is itself the rollback of an earlier one (no new safety snapshot). */
  rollbackOf: string | null;
  /** Why it ended in rolled-back, when it did. */
  error: string | null;
  /** The user typed the name to restore a backup that failed verification: checks warn instead of refusing. */
  acceptUnverified: boolean;
  /** Problems let through under acceptUnverified. */
  warnings: string[];
}

export interface LastRestore {
  id: string;
  backup: RestoreJournal['backup'];
  scope: RestoreScope;
  safety: RestoreJournal['safety'];
  finishedAt: number;
  outcome: 'done' | 'rolled-back';
  error: string | null;
  rollbackOf: string | null;
}

export const workDir = (root: string) => path.join(root, WORK_DIR_NAME);
export const journalFile = (root: string) => path.join(workDir(root), 'journal.json');
export const journalLogFile = (root: string) => path.join(workDir(root), 'journal.log');
export const lastRestoreFile = (root: string) => path.join(workDir(root), 'last.json');
export const runDir = (root: string, id: string) => path.join(workDir(root), id);

export function fsyncPath(p: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(p, 'r');
    fsyncSync(fd);
  } catch {
    // A folder on a file system that refuses fsync: the rename still stands.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Writes JSON so that the file is either the old or the new version after a crash. */
export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncPath(path.dirname(file));
}

export function readJournal(root: string): RestoreJournal | null {
  try {
    const j = JSON.parse(readFileSync(journalFile(root), 'utf8')) as RestoreJournal;
    return j && j.version === 1 ? j : null;
  } catch {
    return null;
  }
}

export function writeJournal(j: RestoreJournal): void {
  j.updatedAt = Date.now();
  writeJsonAtomic(journalFile(j.root), j);
}

/** Appends one step to journal.log, fsynced: the record of what was about to happen. */
export function appendJournalLog(root: string, step: string, extra: Record<string, unknown> = {}): void {
  const file = journalLogFile(root);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ at: new Date().toISOString(), pid: process.pid, step, ...extra })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readJournalLog(root: string): Array<{ at: string; step: string; [key: string]: unknown }> {
  try {
    return readFileSync(journalLogFile(root), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/**
 * An unfinished restore of this site (any phase but done / rolled-back), or null. A finished one
 * whose clean-up was cut short (killed right after it ended) is cleaned up on the way.
 */
export function pendingRestore(root: string): RestoreJournal | null {
  const j = readJournal(root);
  if (!j) return null;
  if (j.phase === 'done' || j.phase === 'rolled-back') {
    if (j.pid === process.pid || !pidAlive(j.pid)) {
      try {
        closeJournal(j);
      } catch {}
    }
    return null;
  }
  return j;
}

export function readLastRestore(root: string): LastRestore | null {
  try {
    return JSON.parse(readFileSync(lastRestoreFile(root), 'utf8')) as LastRestore;
  } catch {
    return null;
  }
}

/** Ends a restore: records it as the last one, then removes its journal and work folders. */
export function closeJournal(j: RestoreJournal): void {
  const last: LastRestore = {
    id: j.id,
    backup: j.backup,
    scope: j.scope,
    safety: j.safety,
    finishedAt: Date.now(),
    outcome: j.phase === 'done' ? 'done' : 'rolled-back',
    error: j.error,
    rollbackOf: j.rollbackOf,
  };
  writeJsonAtomic(lastRestoreFile(j.root), last);
  rmSync(runDir(j.root, j.id), { recursive: true, force: true });
  rmSync(journalFile(j.root), { force: true });
  rmSync(journalLogFile(j.root), { force: true });
  fsyncPath(workDir(j.root));
}

/** One line for the start of a verb or the console: what was found and what to do. */
export function pendingRestoreNotice(root: string): string | null {
  const j = pendingRestore(root);
  if (!j) return null;
  const running = j.pid !== process.pid && pidAlive(j.pid) && existsSync(`/proc/${j.pid}`);
  if (running) return `a restore of ${j.backup.name} is running (pid ${j.pid}, phase ${j.phase})`;
  return (
    `an interrupted restore of ${j.backup.name} was found (phase ${j.phase}, started ${new Date(j.startedAt).toLocaleString()}): ` +
    `finish it with \`cadence-ops restore --resume\` or undo it with \`cadence-ops restore --rollback\` (or in the console, screen 4)`
  );
}
