// Creating backups. The database: a consistent snapshot taken while the application writes
// (`VACUUM INTO` in one step, see BACKUP-NOTES.md), then gzip. A full backup: the SITE.md layout
// under one top folder, streamed file by file into a tar stream compressed on every core (see
// backup-gzip.ts), so memory does not grow with the site; the database snapshot is taken in a worker
// while the rest is archived and goes in after it, then backup_manifest.json (sha256 of every file).
// Every backup is written under a dot-name,
// fsynced, verified, and only then renamed to its final name; a copy goes to the secondary location
// when one is configured, verified there too.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  constants as fsc,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { open, readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import pkg from '../package.json' with { type: 'json' };
import { type DatabaseBackupTuning, snapshotFailure, writeDatabaseBackup } from './backup-database.js';
import { BackupError, describeFsError, throwIfAborted } from './backup-errors.js';
import { ParallelGzipWriter } from './backup-gzip.js';
import {
  backupLayout,
  DATABASE_ARCHIVE_PATH,
  type LayoutItem,
  MANIFEST_NAME,
  type RestoreScope,
  scopeIncludes,
} from './backup-layout.js';
import type { BackupManifest } from './backup-manifest.js';
import { type BackupKind, backupName, parseBackupName, tempNameFor } from './backup-names.js';
import { AtomicOutput, ensurePrivateDir } from './backup-output.js';
import { type ProgressListener, ProgressMeter } from './backup-progress.js';
import { sqliteJob } from './backup-sqlite.js';
import { recordVerification } from './backup-state.js';
import { END_OF_ARCHIVE, encodeHeader, paddingFor } from './backup-tar.js';
import { type DatabaseCheck, dbCheckOf, type VerifyResult, verifyBackup } from './backup-verify.js';
import type { Config } from './config.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';

export interface CreateBackupOptions {
  paths: SitePaths;
  config: Config;
  kind: BackupKind;
  /** pre_restore only: what the safety snapshot holds (default all). */
  scope?: RestoreScope;
  /** Folder to write to (default paths.backups). */
  targetDir?: string;
  now?: () => number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Run SQLite work on this thread instead of a worker (no screen to keep alive). */
  inline?: boolean;
  /** Verify before publishing (default backups.verifyAfterCreate). */
  verify?: boolean;
  /** Copy to paths.secondaryBackups when configured (default true; never for pre_restore). */
  secondary?: boolean;
  /** Where verification results are recorded. */
  stateDb?: StateDb | null;
  /** Dates the published file (the demo's backups are dated in the past). */
  mtime?: number;
  /** When a backup of that name exists already (same second), take the next free second instead of failing. */
  uniqueName?: boolean;
  /** Called between steps (after the snapshot, after each file, before publishing): a restore's fault-injection points. */
  onStep?: (label: string) => void;
  /** Database backups: member size and how early compression starts (tests use small parts). */
  databaseTuning?: DatabaseBackupTuning;
}

export interface SecondaryCopy {
  file: string;
  verification: VerifyResult | null;
  error: string | null;
}

export interface CreateBackupResult {
  name: string;
  file: string;
  kind: BackupKind;
  /** Compressed size. */
  bytes: number;
  /** Bytes read from the site (the database snapshot included). */
  sourceBytes: number;
  fileCount: number;
  members: number;
  durationMs: number;
  verification: VerifyResult | null;
  secondary: SecondaryCopy | null;
  warnings: string[];
  /** Database backups: members compressed while the snapshot was being written, kept and redone. */
  early?: { kept: number; redone: number };
}

interface PlannedEntry {
  archivePath: string;
  type: 'File' | 'Directory';
  /** Source on disk; null for folders the layout invents. */
  source: string | null;
  size: number;
  mode: number;
  mtime: Date;
  uid: number;
  gid: number;
  /** Resolves when the source exists (the database snapshot, taken while the rest is archived). */
  ready?: () => Promise<void>;
}

const SMALL_FILE = 256 * 1024;
const READ_BUFFER = 1 << 20;

function siteAppVersion(paths: SitePaths): string {
  try {
    const cfg = JSON.parse(readFileSync(paths.configJson, 'utf8')) as { version?: unknown };
    return typeof cfg.version === 'string' ? cfg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function syntheticDir(archivePath: string, mtime: Date): PlannedEntry {
  return { archivePath, type: 'Directory', source: null, size: 0, mode: 0o755, mtime, uid: 0, gid: 0 };
}

/** Lists what a full backup holds, in archive order; symbolic links and special files are skipped and reported. */
async function planArchive(
  layout: LayoutItem[],
  snapshot: { file: string; size: number; ready?: () => Promise<void> } | null,
  when: Date,
  warnings: string[],
): Promise<PlannedEntry[]> {
  const entries: PlannedEntry[] = [];
  const madeDirs = new Set<string>();
  const ensureParents = (archivePath: string) => {
    const parts = archivePath.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (madeDirs.has(dir)) continue;
      madeDirs.add(dir);
      entries.push(syntheticDir(dir, when));
    }
  };
  const addFile = (archivePath: string, source: string, st: import('node:fs').Stats) => {
    ensureParents(archivePath);
    entries.push({
      archivePath,
      type: 'File',
      source,
      size: st.size,
      mode: st.mode & 0o7777,
      mtime: st.mtime,
      uid: st.uid,
      gid: st.gid,
    });
  };
  const walkTree = async (dir: string, archiveDir: string) => {
    let list: import('node:fs').Dirent[];
    try {
      list = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      warnings.push(`cannot read ${dir}: ${(err as Error).message}; skipped`);
      return;
    }
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of list) {
      const full = path.join(dir, d.name);
      const ap = `${archiveDir}/${d.name}`;
      if (d.isDirectory()) {
        const st = await stat(full).catch(() => null);
        if (!st) continue;
        ensureParents(ap);
        madeDirs.add(ap);
        entries.push({
          archivePath: ap,
          type: 'Directory',
          source: full,
          size: 0,
          mode: st.mode & 0o7777,
          mtime: st.mtime,
          uid: st.uid,
          gid: st.gid,
        });
        await walkTree(full, ap);
      } else if (d.isFile()) {
        const st = await stat(full).catch(() => null);
        if (st) addFile(ap, full, st);
      } else if (d.isSymbolicLink()) {
        warnings.push(`${full} is a symbolic link; not backed up`);
      } else {
        warnings.push(`${full} is not a regular file; not backed up`);
      }
    }
  };

  // The database goes last: its snapshot is taken while everything else is archived.
  const ordered = [
    ...layout.filter((i) => i.type !== 'database'),
    ...layout.filter((i) => i.type === 'database'),
  ];
  for (const item of ordered) {
    if (item.type === 'database') {
      if (snapshot) {
        // The snapshot's bytes, with the live database's mode, owner and time.
        const live = await stat(item.sitePath).catch(() => null);
        ensureParents(DATABASE_ARCHIVE_PATH);
        entries.push({
          archivePath: DATABASE_ARCHIVE_PATH,
          type: 'File',
          source: snapshot.file,
          size: snapshot.size,
          mode: 0o644,
          mtime: when,
          uid: 0,
          gid: 0,
          ready: snapshot.ready,
        });
        if (live)
          Object.assign(entries[entries.length - 1]!, {
            mode: live.mode & 0o7777,
            uid: live.uid,
            gid: live.gid,
            mtime: live.mtime,
          });
      }
    } else if (item.type === 'file') {
      const st = await stat(item.sitePath).catch(() => null);
      if (st?.isFile()) addFile(item.archivePath, item.sitePath, st);
    } else {
      const st = await stat(item.sitePath).catch(() => null);
      if (!st?.isDirectory()) continue;
      ensureParents(item.archivePath);
      madeDirs.add(item.archivePath);
      entries.push({
        archivePath: item.archivePath,
        type: 'Directory',
        source: item.sitePath,
        size: 0,
        mode: st.mode & 0o7777,
        mtime: st.mtime,
        uid: st.uid,
        gid: st.gid,
      });
      await walkTree(item.sitePath, item.archivePath);
    }
  }
  return entries;
}

/** Streams the planned entries into the writer as a tar archive and returns the manifest checksums. */
async function writeTar(
  gz: ParallelGzipWriter,
  top: string,
  entries: PlannedEntry[],
  manifestBase: { backup_type: string; timestamp: string; version: string; [key: string]: unknown },
  meter: ProgressMeter,
  signal: AbortSignal | undefined,
  warnings: string[],
  onStep?: (label: string) => void,
): Promise<{ fileCount: number; totalSize: number; databaseSha256: string | null }> {
  const checksums: Record<string, string> = {};
  let totalSize = 0;
  let fileCount = 0;
  const buffer = Buffer.allocUnsafe(READ_BUFFER);
  await gz.write(
    encodeHeader({ path: `${top}/`, type: 'Directory', size: 0, mode: 0o755, mtime: new Date() }),
  );
  for (const e of entries) {
    throwIfAborted(signal);
    if (e.type === 'Directory') {
      await gz.write(encodeHeader({ ...e, path: `${top}/${e.archivePath}/`, size: 0 }));
      continue;
    }
    if (e.ready) await e.ready();
    const source = e.source!;
    let fd: number;
    try {
      fd = openSync(source, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        warnings.push(`${source} disappeared during the backup; not included`);
        meter.total -= e.size;
        continue;
      }
      throw describeFsError(err, `cannot read ${source}`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        warnings.push(`${source} is no longer a regular file; not included`);
        continue;
      }
      // The size at open is what goes into the archive: a log that grows meanwhile is cut there.
      const size = st.size;
      meter.total += size - e.size;
      await gz.write(encodeHeader({ ...e, path: `${top}/${e.archivePath}`, size }));
      const hash = createHash('sha256');
      let remaining = size;
      if (size <= SMALL_FILE) {
        const data = Buffer.allocUnsafe(size);
        let got = 0;
        while (got < size) {
          const n = readSync(fd, data, got, size - got, got);
          if (n === 0) break;
          got += n;
        }
        if (got < size) {
          data.fill(0, got);
          warnings.push(`${source} shrank while it was read; padded with zeros as tar does`);
        }
        hash.update(data);
        await gz.write(data);
        meter.add(size, e.archivePath);
        remaining = 0;
      } else {
        const fh = await open(source, fsc.O_RDONLY | fsc.O_NOFOLLOW);
        try {
          let position = 0;
          while (remaining > 0) {
            throwIfAborted(signal);
            const want = Math.min(remaining, READ_BUFFER);
            const { bytesRead } = await fh.read(buffer, 0, want, position);
            if (bytesRead === 0) break;
            const slice = buffer.subarray(0, bytesRead);
            hash.update(slice);
            await gz.write(slice);
            remaining -= bytesRead;
            position += bytesRead;
            meter.add(bytesRead, e.archivePath);
          }
        } finally {
          await fh.close();
        }
        if (remaining > 0) {
          warnings.push(`${source} shrank while it was read; padded with zeros as tar does`);
          const zeros = Buffer.alloc(Math.min(remaining, READ_BUFFER));
          while (remaining > 0) {
            const n = Math.min(remaining, zeros.length);
            hash.update(zeros.subarray(0, n));
            await gz.write(zeros.subarray(0, n));
            remaining -= n;
          }
        }
      }
      const pad = paddingFor(size);
      if (pad) await gz.write(Buffer.alloc(pad));
      checksums[e.archivePath] = hash.digest('hex');
      totalSize += size;
      fileCount++;
      onStep?.(`archive ${e.archivePath}`);
    } catch (err) {
      throw err instanceof BackupError ? err : describeFsError(err, `reading ${source}`);
    } finally {
      closeSync(fd);
    }
  }
  const manifest: BackupManifest = {
    ...manifestBase,
    checksums,
    file_count: fileCount,
    total_size_bytes: totalSize,
  };
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  await gz.write(
    encodeHeader({
      path: `${top}/${MANIFEST_NAME}`,
      type: 'File',
      size: body.length,
      mode: 0o600,
      mtime: new Date(),
    }),
  );
  await gz.write(body);
  const pad = paddingFor(body.length);
  if (pad) await gz.write(Buffer.alloc(pad));
  await gz.write(END_OF_ARCHIVE);
  return { fileCount, totalSize, databaseSha256: checksums[DATABASE_ARCHIVE_PATH] ?? null };
}

/** A consistent snapshot of the live database into `target` (VACUUM INTO, in a worker thread). */
export async function snapshotDatabase(
  paths: SitePaths,
  config: Config,
  target: string,
  opts: { inline?: boolean; signal?: AbortSignal } = {},
): Promise<number> {
  try {
    await stat(paths.database);
  } catch {
    throw new BackupError('NOT_FOUND', `the database ${paths.database} does not exist`);
  }
  const r = await sqliteJob(
    { op: 'snapshot', source: paths.database, target, busyTimeoutMs: config.backups.busyTimeoutMs },
    opts,
  );
  if (!r.ok) {
    await rm(target, { force: true }).catch(() => {});
    throw snapshotFailure(r, paths, config, target);
  }
  return (await stat(target)).size;
}

/** Copies a published backup to another folder the same crash-safe way, then verifies the copy. */
export async function copyBackup(
  file: string,
  dir: string,
  opts: {
    config: Config;
    verify: boolean;
    inline?: boolean;
    signal?: AbortSignal;
    onProgress?: ProgressListener;
    stateDb?: StateDb | null;
  },
): Promise<SecondaryCopy> {
  const name = path.basename(file);
  await ensurePrivateDir(dir);
  const out = await AtomicOutput.create(dir, name, 'copy');
  try {
    const size = (await stat(file)).size;
    const meter = new ProgressMeter('copy', size, opts.onProgress);
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(READ_BUFFER);
      for (;;) {
        throwIfAborted(opts.signal);
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        await out.write(buf.subarray(0, bytesRead));
        meter.add(bytesRead);
      }
    } finally {
      await fh.close();
    }
    meter.finish();
    await out.sync();
    let verification: VerifyResult | null = null;
    if (opts.verify) {
      verification = await verifyBackup(out.tempPath, {
        config: opts.config,
        name,
        inline: opts.inline,
        signal: opts.signal,
        onProgress: opts.onProgress ? (p) => opts.onProgress!({ ...p, phase: 'verify copy' }) : undefined,
      });
      if (!verification.ok)
        throw new BackupError(
          'VERIFY_FAILED',
          `the copy in ${dir} failed verification: ${verification.reason}`,
        );
    }
    const st = await stat(file);
    await utimes(out.tempPath, st.atime, st.mtime);
    await out.publish();
    if (verification && opts.stateDb) recordVerification(opts.stateDb, out.finalPath, verification);
    return { file: out.finalPath, verification, error: null };
  } catch (err) {
    await out.discard();
    throw err;
  }
}

export async function createBackup(opts: CreateBackupOptions): Promise<CreateBackupResult> {
  const started = performance.now();
  const now = opts.now ?? Date.now;
  const { paths, config, kind } = opts;
  const dir = opts.targetDir ?? paths.backups;
  const warnings: string[] = [];
  let when = now();
  if (opts.uniqueName) {
    for (
      let i = 0;
      i < 120 && existsSync(path.join(opts.targetDir ?? paths.backups, backupName(kind, when)));
      i++
    )
      when += 1000;
  }
  const name = backupName(kind, when);
  const parsed = parseBackupName(name)!;
  const verify = opts.verify ?? config.backups.verifyAfterCreate;
  const scope: RestoreScope = kind === 'pre_restore' ? (opts.scope ?? 'all') : 'all';

  const tightened = await ensurePrivateDir(dir);
  if (tightened) warnings.push(tightened);
  const finalPath = path.join(dir, name);
  if (
    await stat(finalPath).then(
      () => true,
      () => false,
    )
  ) {
    throw new BackupError('EXISTS', `${finalPath} already exists`);
  }
  throwIfAborted(opts.signal);

  const includeDatabase = kind === 'database' || scopeIncludes(scope, 'database');
  const snapshotPath = path.join(dir, tempNameFor(name, 'snapshot'));
  let snapshotCheck: Promise<DatabaseCheck> | null = null;
  let snapshotPending: Promise<number> | null = null;
  let databaseSha256: string | null = null;
  let out: AtomicOutput | null = null;
  let sourceBytes = 0;
  let fileCount = 0;
  let members = 0;
  let verification: VerifyResult | null = null;
  let early: { kept: number; redone: number } | undefined;
  try {
    if (includeDatabase) {
      opts.onProgress?.({
        phase: 'snapshot',
        done: 0,
        total: 0,
        bytesPerSecond: 0,
        etaSeconds: null,
        current: paths.database,
      });
    }
    if (kind === 'database') {
      // Snapshot, compression, the snapshot's check and verification overlap (backup-database.ts).
      out = await AtomicOutput.create(dir, name);
      const r = await writeDatabaseBackup({
        paths,
        config,
        out,
        name,
        snapshotPath,
        verify,
        signal: opts.signal,
        onProgress: opts.onProgress,
        onStep: opts.onStep,
        now,
        tuning: opts.databaseTuning,
      });
      early = r.early;
      sourceBytes = r.sourceBytes;
      members = r.members;
      fileCount = 1;
      verification = r.verification;
      await rm(snapshotPath, { force: true });
      const flushed = out.sync();
      flushed.catch(() => {});
      if (verification && !verification.ok) {
        await flushed.catch(() => {});
        throw new BackupError(
          'VERIFY_FAILED',
          `the new backup failed verification, so it was not kept: ${verification.reason}`,
        );
      }
      await flushed;
    } else {
      let snapshot: { file: string; size: number; ready?: () => Promise<void> } | null = null;
      const startCheck = () => {
        // The snapshot's own check runs in a worker while it is compressed; verification then proves
        // the backup holds exactly these bytes instead of spooling and checking them a second time.
        if (verify) {
          snapshotCheck = sqliteJob({ op: 'check', file: snapshotPath }, { signal: opts.signal }).then(
            dbCheckOf,
          );
          snapshotCheck.catch(() => {});
        }
        opts.onStep?.('snapshot taken');
      };
      if (includeDatabase) {
        // In a worker, while the configuration, user data and logs are archived.
        const pending = snapshotDatabase(paths, config, snapshotPath, { signal: opts.signal });
        snapshotPending = pending;
        pending.catch(() => {});
        let estimate = 0;
        try {
          estimate = (await stat(paths.database)).size;
        } catch {}
        snapshot = {
          file: snapshotPath,
          size: estimate,
          ready: async () => {
            await pending;
            startCheck();
          },
        };
      }
      throwIfAborted(opts.signal);
      out = await AtomicOutput.create(dir, name);
      const gz = new ParallelGzipWriter(out, {
        level: config.backups.compressionLevel,
        threads: config.backups.threads,
      });
      const layout = backupLayout(paths).filter((item) => scopeIncludes(scope, item.scope));
      const entries = await planArchive(layout, snapshot, new Date(when), warnings);
      const total = entries.reduce((s, e) => s + e.size, 0);
      const meter = new ProgressMeter('archive', total, opts.onProgress);
      const manifestBase = {
        backup_type: kind,
        timestamp: new Date(when).toISOString(),
        version: siteAppVersion(paths),
        created_by: `cadence-ops ${pkg.version}`,
        ...(kind === 'pre_restore' ? { scope } : {}),
      };
      const written = await writeTar(
        gz,
        parsed.topFolder!,
        entries,
        manifestBase,
        meter,
        opts.signal,
        warnings,
        opts.onStep,
      );
      await gz.end();
      meter.finish();
      sourceBytes = written.totalSize;
      databaseSha256 = written.databaseSha256;
      fileCount = written.fileCount;
      members = gz.members;
      // The check reads the snapshot: it must finish before the snapshot goes.
      const check = snapshotCheck as Promise<DatabaseCheck> | null;
      if (check) await check.catch(() => null);
      await rm(snapshotPath, { force: true });
      // The flush to disk runs while the new file is verified (read back from the page cache); both
      // finish before the rename.
      const flushed = out.sync();
      flushed.catch(() => {});
      if (verify) {
        verification = await verifyBackup(out.tempPath, {
          config,
          name,
          inline: opts.inline,
          signal: opts.signal,
          onProgress: opts.onProgress,
          now,
          trustedDatabase: check && databaseSha256 ? { sha256: databaseSha256, check } : undefined,
        });
        if (!verification.ok) {
          await flushed.catch(() => {});
          throw new BackupError(
            'VERIFY_FAILED',
            `the new backup failed verification, so it was not kept: ${verification.reason}`,
          );
        }
      }
      await flushed;
    }
    opts.onStep?.('verified, not yet published');
    if (opts.mtime !== undefined) {
      const t = new Date(opts.mtime);
      await utimes(out.tempPath, t, t);
    }
    await out.publish();
    const bytes = out.bytes;
    out = null;
    if (verification && opts.stateDb) recordVerification(opts.stateDb, finalPath, verification);

    let secondary: SecondaryCopy | null = null;
    const wantSecondary = (opts.secondary ?? true) && kind !== 'pre_restore' && paths.secondaryBackups;
    if (wantSecondary && path.resolve(paths.secondaryBackups!) !== path.resolve(dir)) {
      try {
        secondary = await copyBackup(finalPath, paths.secondaryBackups!, {
          config,
          verify,
          inline: opts.inline,
          signal: opts.signal,
          onProgress: opts.onProgress,
          stateDb: opts.stateDb,
        });
      } catch (err) {
        secondary = {
          file: path.join(paths.secondaryBackups!, name),
          verification: null,
          error: (err as Error).message,
        };
      }
    }
    return {
      name,
      file: finalPath,
      kind,
      bytes,
      sourceBytes,
      fileCount,
      members,
      durationMs: Math.round(performance.now() - started),
      verification,
      secondary,
      warnings,
      ...(early ? { early } : {}),
    };
  } catch (err) {
    if (out) await out.discard();
    await (snapshotPending as Promise<number> | null)?.catch(() => {});
    await (snapshotCheck as Promise<DatabaseCheck> | null)?.catch(() => {});
    await rm(snapshotPath, { force: true }).catch(() => {});
    throw err instanceof BackupError ? err : describeFsError(err, `creating ${finalPath}`);
  }
}
