// Lock state of a SQLite database, two ways:
// - passively, from /proc/locks: the POSIX locks SQLite sets on the database file (rollback
//   journal mode) or on its -shm file (WAL mode) tell which process is writing or reading, without
//   touching the database at all;
// - actively, by a probe: can a write lock be had right now? BEGIN IMMEDIATE then ROLLBACK at once,
//   so the lock is held for well under a millisecond and nothing is written.
import { readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { classifyDbError, preflightDatabaseFile } from './db-connection.js';

export interface FileLock {
  pid: number;
  file: 'db' | 'wal' | 'shm';
  kind: 'read' | 'write';
  start: number;
  end: number | null;
  /** Waiting for the lock rather than holding it. */
  waiting: boolean;
  /** What SQLite means by it. */
  meaning: string;
}

const PENDING = 0x40000000;
const RESERVED = PENDING + 1;
const SHARED_FIRST = PENDING + 2;
const SHM_BASE = 120;
const SHM_DMS = 128;

function devMajorMinor(dev: number): string {
  // Linux new_encode_dev: major in bits 8-19 (and 32+), minor in 0-7 and 12-31.
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & ~0xff & 0xfffff00);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function meaningOf(
  file: FileLock['file'],
  kind: FileLock['kind'],
  start: number,
  end: number | null,
  walMode: boolean,
): string {
  if (file === 'shm') {
    if (start === SHM_DMS) return 'connected (WAL)';
    const slot = start - SHM_BASE;
    if (slot === 0) return kind === 'write' ? 'writing: a write transaction is open' : 'WAL write slot';
    if (slot === 1) return kind === 'write' ? 'checkpointing' : 'checkpoint slot';
    if (slot === 2) return 'recovering the WAL index';
    if (slot >= 3 && slot <= 7) return kind === 'write' ? 'resetting a read mark' : 'reading (snapshot open)';
    return 'WAL index lock';
  }
  if (file === 'db') {
    if (start === RESERVED) return 'writing: a write transaction is open (RESERVED)';
    if (start === PENDING) return 'about to commit (PENDING)';
    if (start >= SHARED_FIRST && (end === null || end > start))
      // In WAL mode every connection keeps a SHARED lock on the file for as long as it is open.
      return kind === 'write'
        ? 'committing (EXCLUSIVE)'
        : walMode
          ? 'connected (SHARED)'
          : 'reading (SHARED)';
    return 'database file lock';
  }
  return 'lock';
}

/** The POSIX locks on the database and its -wal/-shm, from /proc/locks. Empty when none or unreadable. */
export function readSqliteLocks(dbFile: string, locksFile = '/proc/locks'): FileLock[] {
  const ids = new Map<string, FileLock['file']>();
  for (const [suffix, which] of [
    ['', 'db'],
    ['-wal', 'wal'],
    ['-shm', 'shm'],
  ] as const) {
    try {
      const st = statSync(dbFile + suffix);
      ids.set(`${devMajorMinor(st.dev)}:${st.ino}`, which);
    } catch {}
  }
  if (!ids.size) return [];
  let text: string;
  try {
    text = readFileSync(locksFile, 'latin1');
  } catch {
    return [];
  }
  const out: FileLock[] = [];
  const re =
    /^\d+:\s+(->\s+)?(POSIX|OFDLCK|FLOCK)\s+\S+\s+(READ|WRITE)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s+(\d+)\s+(\d+|EOF)/gm;
  for (const m of text.matchAll(re)) {
    const key = `${m[5]!.padStart(2, '0')}:${m[6]!.padStart(2, '0')}:${m[7]}`;
    const which = ids.get(key);
    if (!which) continue;
    const kind = m[3] === 'WRITE' ? 'write' : 'read';
    const start = Number(m[8]);
    const end = m[9] === 'EOF' ? null : Number(m[9]);
    out.push({
      pid: Number(m[4]),
      file: which,
      kind,
      start,
      end,
      waiting: Boolean(m[1]),
      meaning: meaningOf(which, kind, start, end, [...ids.values()].includes('shm')),
    });
  }
  return out;
}

/** Pids that hold a write transaction open, by the locks they hold. */
export function writersOf(locks: FileLock[]): number[] {
  return [...new Set(locks.filter((l) => !l.waiting && l.meaning.startsWith('writing')).map((l) => l.pid))];
}

export interface LockProbe {
  /** A write lock could be had at the time of the probe. */
  writable: boolean;
  state: 'free' | 'busy' | 'unknown';
  /** How long the lock was held (free) or waited for (busy), ms. */
  ms: number;
  error?: string;
  /** Set when the probe was not needed (nobody else has the database open). */
  note?: string;
}

/**
 * Tries to take the write lock (BEGIN IMMEDIATE) and gives it back at once. Writes nothing; waits at
 * most `waitMs` for another writer.
 */
export function probeWriteLock(dbFile: string, opts: { waitMs?: number } = {}): LockProbe {
  const started = performance.now();
  let db: Database.Database | null = null;
  try {
    preflightDatabaseFile(dbFile);
    db = new Database(dbFile, { fileMustExist: true, timeout: opts.waitMs ?? 0 });
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return { writable: true, state: 'free', ms: performance.now() - started };
  } catch (err) {
    const e = classifyDbError(err, dbFile);
    if (e.kind === 'busy') return { writable: false, state: 'busy', ms: performance.now() - started };
    return { writable: false, state: 'unknown', ms: performance.now() - started, error: e.message };
  } finally {
    db?.close();
  }
}
