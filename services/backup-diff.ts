// How a backup differs from the live site: files added since, removed since and changed (by
// sha256), with sizes, and the database's row counts then and now. Also the inventory of the live
// site in archive terms, which the restore plan uses too.
import { createHash } from 'node:crypto';
import { type Dirent, readFileSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from './backup-errors.js';
import {
  backupLayout,
  DATABASE_ARCHIVE_PATH,
  displayPath,
  type LayoutItem,
  MANIFEST_NAME,
  type RestoreScope,
  scopeIncludes,
} from './backup-layout.js';
import { parseBackupName } from './backup-names.js';
import type { ProgressListener } from './backup-progress.js';
import { sqliteJob, type TableCounts } from './backup-sqlite.js';
import { recordVerification } from './backup-state.js';
import { type VerifyResult, verifyBackup } from './backup-verify.js';
import type { Config } from './config.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';

export interface LiveFile {
  archivePath: string;
  livePath: string;
  size: number;
  sha256: string | null;
  mode: number;
}

export interface LiveInventory {
  files: Map<string, LiveFile>;
  /** Folders (archive paths) present in the live site. */
  dirs: Set<string>;
  /** Symbolic links and special files, which backups leave out. */
  skipped: string[];
}

export async function sha256File(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

/** The live site's files in scope, named by their archive paths; the database is left out. */
export async function liveInventory(
  paths: SitePaths,
  opts: { scope?: RestoreScope; hash?: boolean; signal?: AbortSignal; layout?: LayoutItem[] } = {},
): Promise<LiveInventory> {
  const inv: LiveInventory = { files: new Map(), dirs: new Set(), skipped: [] };
  const layout = (opts.layout ?? backupLayout(paths)).filter((i) =>
    scopeIncludes(opts.scope ?? 'all', i.scope),
  );
  const add = async (archivePath: string, livePath: string, size: number, mode: number) => {
    let sha256: string | null = null;
    if (opts.hash) {
      try {
        sha256 =
          size <= 262_144
            ? createHash('sha256').update(readFileSync(livePath)).digest('hex')
            : await sha256File(livePath);
      } catch {
        return;
      }
    }
    inv.files.set(archivePath, { archivePath, livePath, size, sha256, mode });
  };
  const walk = async (dir: string, archiveDir: string) => {
    let list: Dirent[];
    try {
      list = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    inv.dirs.add(archiveDir);
    for (const d of list) {
      throwIfAborted(opts.signal);
      const full = path.join(dir, d.name);
      const ap = `${archiveDir}/${d.name}`;
      if (d.isDirectory()) await walk(full, ap);
      else if (d.isFile()) {
        const st = await stat(full).catch(() => null);
        if (st) await add(ap, full, st.size, st.mode & 0o7777);
      } else inv.skipped.push(full);
    }
  };
  for (const item of layout) {
    if (item.type === 'database') continue;
    if (item.type === 'file') {
      const st = await stat(item.sitePath).catch(() => null);
      if (st?.isFile()) await add(item.archivePath, item.sitePath, st.size, st.mode & 0o7777);
    } else {
      await walk(item.sitePath, item.archivePath);
    }
  }
  return inv;
}

export interface DiffFile {
  /** Where it is (or was) in the site, relative to the site root. */
  path: string;
  archivePath: string;
  sizeThen: number | null;
  sizeNow: number | null;
}

export interface BackupDiff {
  name: string;
  file: string;
  verification: VerifyResult;
  /** Null for database-only backups. */
  files: { added: DiffFile[]; removed: DiffFile[]; changed: DiffFile[]; unchanged: number } | null;
  database: { inBackup: TableCounts | null; live: TableCounts | null; error: string | null };
}

export async function liveDatabaseCounts(
  paths: SitePaths,
  opts: { inline?: boolean; signal?: AbortSignal } = {},
): Promise<{ counts: TableCounts | null; error: string | null }> {
  try {
    await stat(paths.database);
  } catch {
    return { counts: null, error: `${paths.database} does not exist` };
  }
  const r = await sqliteJob({ op: 'counts', file: paths.database }, opts);
  return r.ok ? { counts: r.counts ?? {}, error: null } : { counts: null, error: `${r.message} (${r.code})` };
}

export async function diffBackup(
  file: string,
  opts: {
    paths: SitePaths;
    config: Config;
    stateDb?: StateDb | null;
    inline?: boolean;
    signal?: AbortSignal;
    onProgress?: ProgressListener;
  },
): Promise<BackupDiff> {
  const name = path.basename(file);
  const verification = await verifyBackup(file, {
    config: opts.config,
    collectEntries: true,
    inline: opts.inline,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  if (opts.stateDb) recordVerification(opts.stateDb, file, verification);
  const live = await liveDatabaseCounts(opts.paths, opts);
  const result: BackupDiff = {
    name,
    file,
    verification,
    files: null,
    database: {
      inBackup: verification.database?.counts ?? null,
      live: live.counts,
      error:
        live.error ?? (verification.database?.error ? `in the backup: ${verification.database.error}` : null),
    },
  };
  const kind = parseBackupName(name)?.kind ?? (name.endsWith('.tar.gz') ? 'full' : 'database');
  if (kind === 'database') return result;

  const scope = (
    typeof verification.manifest?.scope === 'string' ? verification.manifest.scope : 'all'
  ) as RestoreScope;
  const layout = backupLayout(opts.paths);
  const inv = await liveInventory(opts.paths, { scope, hash: true, signal: opts.signal, layout });
  const files = {
    added: [] as DiffFile[],
    removed: [] as DiffFile[],
    changed: [] as DiffFile[],
    unchanged: 0,
  };
  const inBackup = new Set<string>();
  const shown = (archivePath: string, livePath?: string) => {
    if (livePath) return displayPath(opts.paths, livePath);
    for (const item of layout) {
      if (archivePath === item.archivePath) return displayPath(opts.paths, item.sitePath);
      if (archivePath.startsWith(`${item.archivePath}/`))
        return displayPath(
          opts.paths,
          path.join(item.sitePath, archivePath.slice(item.archivePath.length + 1)),
        );
    }
    return archivePath;
  };
  for (const e of verification.entries ?? []) {
    if (e.type !== 'File' && e.type !== 'OldFile' && e.type !== 'ContiguousFile') continue;
    if (e.path === MANIFEST_NAME || e.path === DATABASE_ARCHIVE_PATH) continue;
    inBackup.add(e.path);
    const now = inv.files.get(e.path);
    if (!now)
      files.removed.push({ path: shown(e.path), archivePath: e.path, sizeThen: e.size, sizeNow: null });
    else if (now.sha256 !== e.sha256)
      files.changed.push({
        path: shown(e.path, now.livePath),
        archivePath: e.path,
        sizeThen: e.size,
        sizeNow: now.size,
      });
    else files.unchanged++;
  }
  for (const f of inv.files.values()) {
    if (!inBackup.has(f.archivePath))
      files.added.push({
        path: shown(f.archivePath, f.livePath),
        archivePath: f.archivePath,
        sizeThen: null,
        sizeNow: f.size,
      });
  }
  for (const list of [files.added, files.removed, files.changed])
    list.sort((a, b) => a.path.localeCompare(b.path));
  result.files = files;
  return result;
}
