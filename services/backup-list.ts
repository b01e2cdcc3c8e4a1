// Every backup in the primary folder and the secondary location, newest first, with its kind, date,
// age, size and verification state; plus the temporary files an interrupted create left behind.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pidAlive } from './app-process.js';
import { BackupError } from './backup-errors.js';
import { type BackupKind, parseBackupName, TEMP_NAME_RE } from './backup-names.js';
import { latestVerification, type VerificationRecord } from './backup-state.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';

export type BackupLocation = 'primary' | 'secondary';
export type VerificationState = 'verified' | 'failed' | 'unverified' | 'changed';

export interface BackupInfo {
  name: string;
  kind: BackupKind;
  location: BackupLocation;
  dir: string;
  file: string;
  /** When it was taken, from its name. */
  time: number;
  size: number;
  mtimeMs: number;
  verification: VerificationRecord | null;
  state: VerificationState;
}

export interface IncompleteFile {
  file: string;
  size: number;
  mtimeMs: number;
  pid: number;
  /** The process that writes it still runs: not stale. */
  alive: boolean;
}

export interface BackupListing {
  backups: BackupInfo[];
  incomplete: IncompleteFile[];
  /** A location that could not be read (an unmounted share), in words. */
  errors: string[];
}

export function stateOf(v: VerificationRecord | null): VerificationState {
  if (!v) return 'unverified';
  if (!v.current) return 'changed';
  return v.ok ? 'verified' : 'failed';
}

function scan(dir: string, location: BackupLocation, stateDb: StateDb | null, out: BackupListing): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && location === 'primary') return;
    out.errors.push(
      `${location} location ${dir}: ${code === 'ENOENT' ? 'no such folder' : (err as Error).message}`,
    );
    return;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const temp = TEMP_NAME_RE.exec(name);
    if (temp) {
      try {
        const st = statSync(file);
        const pid = Number(temp[3]);
        out.incomplete.push({ file, size: st.size, mtimeMs: st.mtimeMs, pid, alive: pidAlive(pid) });
      } catch {}
      continue;
    }
    const parsed = parseBackupName(name);
    if (!parsed) continue;
    let st: import('node:fs').Stats;
    try {
      st = statSync(file);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const verification = stateDb ? latestVerification(stateDb, file, st) : null;
    out.backups.push({
      name,
      kind: parsed.kind,
      location,
      dir,
      file,
      time: parsed.time,
      size: st.size,
      mtimeMs: st.mtimeMs,
      verification,
      state: stateOf(verification),
    });
  }
}

export function listBackups(opts: { paths: SitePaths; stateDb?: StateDb | null }): BackupListing {
  const out: BackupListing = { backups: [], incomplete: [], errors: [] };
  scan(opts.paths.backups, 'primary', opts.stateDb ?? null, out);
  if (
    opts.paths.secondaryBackups &&
    path.resolve(opts.paths.secondaryBackups) !== path.resolve(opts.paths.backups)
  )
    scan(opts.paths.secondaryBackups, 'secondary', opts.stateDb ?? null, out);
  out.backups.sort(
    (a, b) => b.time - a.time || a.name.localeCompare(b.name) || (a.location === 'primary' ? -1 : 1),
  );
  return out;
}

/**
 * Finds a backup by name (primary first, then secondary; `secondary:NAME` picks the copy), or by
 * path to a file named like a backup.
 */
export function findBackup(opts: { paths: SitePaths; stateDb?: StateDb | null }, ref: string): BackupInfo {
  const listing = listBackups(opts);
  let wanted = ref;
  let location: BackupLocation | null = null;
  const m = /^(primary|secondary):(.+)$/.exec(ref);
  if (m) {
    location = m[1] as BackupLocation;
    wanted = m[2]!;
  }
  if (wanted.includes('/')) {
    const abs = path.resolve(wanted);
    const hit = listing.backups.find((b) => b.file === abs);
    if (hit) return hit;
    const parsed = parseBackupName(path.basename(abs));
    if (!parsed) throw new BackupError('NOT_FOUND', `${abs} is not named like a backup`);
    let st: import('node:fs').Stats;
    try {
      st = statSync(abs);
    } catch {
      throw new BackupError('NOT_FOUND', `${abs}: no such file`);
    }
    const verification = opts.stateDb ? latestVerification(opts.stateDb, abs, st) : null;
    return {
      name: parsed.name,
      kind: parsed.kind,
      location: 'primary',
      dir: path.dirname(abs),
      file: abs,
      time: parsed.time,
      size: st.size,
      mtimeMs: st.mtimeMs,
      verification,
      state: stateOf(verification),
    };
  }
  const hits = listing.backups.filter((b) => b.name === wanted && (!location || b.location === location));
  if (hits.length) return hits.find((b) => b.location === 'primary') ?? hits[0]!;
  const near = listing.backups
    .filter((b) => b.name.includes(wanted))
    .map((b) => b.name)
    .slice(0, 5);
  throw new BackupError(
    'NOT_FOUND',
    `no backup named ${wanted} in ${opts.paths.backups}${opts.paths.secondaryBackups ? ` or ${opts.paths.secondaryBackups}` : ''}` +
      (near.length ? ` (did you mean ${near.join(', ')}?)` : ''),
  );
}
