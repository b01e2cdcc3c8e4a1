// Extraction of a backup into a staging folder, strictly: only files and folders under the
// archive's top folder, each under the entry cap, nothing else created (no links, no devices, no
// owners but ours or the archive's when root); every staged file hashed as it is written and
// checked against the manifest at the end; then one sync of the file system. Anything wrong throws
// and the caller removes the staging folder: nothing outside it has been touched.

import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { BackupError } from './backup-errors.js';
import { GunzipCancelled, gunzipFile } from './backup-gunzip.js';
import { DATABASE_ARCHIVE_PATH, MANIFEST_NAME } from './backup-layout.js';
import { type BackupManifest, parseManifest } from './backup-manifest.js';
import { parseBackupName } from './backup-names.js';
import { type ProgressListener, ProgressMeter } from './backup-progress.js';
import { hostileReason, type TarEntry, TarFormatError, TarReader, type TarVisitor } from './backup-tar.js';
import type { Config } from './config.js';

export interface StageOptions {
  file: string;
  config: Config;
  /** Where the archive's paths (under its top folder) are recreated. */
  stagingDir: string;
  /** Which archive paths (relative to the top folder) to stage. */
  include: (archivePath: string) => boolean;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Called between steps (fault-injection point for the tests; see restore.ts). */
  checkpoint?: (label: string) => void;
  /** The user accepted a backup that failed verification: manifest problems become warnings. */
  lenient?: boolean;
}

export interface StagedFile {
  size: number;
  sha256: string;
}

export interface StageResult {
  /** The flush of everything staged to disk, started when staging ended; await it before the swap. */
  synced: Promise<void>;
  files: Map<string, StagedFile>;
  dirs: string[];
  manifest: BackupManifest | null;
  bytes: number;
  /** Problems let through because the user accepted a failed backup. */
  warnings: string[];
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function pump(
  file: string,
  meter: ProgressMeter,
  signal: AbortSignal | undefined,
  onChunk: (chunk: Buffer) => void,
): Promise<void> {
  let last = 0;
  try {
    for await (const chunk of gunzipFile(file, {
      signal,
      onCompressed: (bytes) => {
        meter.add(bytes - last);
        last = bytes;
      },
    }))
      onChunk(chunk);
  } catch (err) {
    if (err instanceof GunzipCancelled) throw new BackupError('CANCELLED', 'cancelled');
    if (err instanceof BackupError || err instanceof TarFormatError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code?.startsWith('Z_'))
      throw new BackupError('VERIFY_FAILED', `gzip: ${e.message} while extracting ${file}`);
    throw new BackupError('IO', `extracting ${file}: ${e.message}`);
  }
  meter.finish();
}

class StageVisitor implements TarVisitor {
  readonly files = new Map<string, StagedFile>();
  readonly dirs: Array<{ rel: string; mode: number; mtime: Date | null; uid: number; gid: number }> = [];
  manifestText: string | null = null;
  bytes = 0;
  private fd: number | null = null;
  private hash: Hash | null = null;
  private rel: string | null = null;
  private manifestChunks: Buffer[] | null = null;
  private current: TarEntry | null = null;

  constructor(
    private readonly top: string,
    private readonly opts: StageOptions,
    private readonly maxEntryBytes: number,
  ) {}

  private target(rel: string): string {
    const t = path.join(this.opts.stagingDir, ...rel.split('/'));
    // Belt and braces: hostileReason already refused anything that could leave the folder.
    if (!t.startsWith(`${this.opts.stagingDir}${path.sep}`))
      throw new BackupError('REFUSED', `refused: ${rel} leaves the staging folder`);
    return t;
  }

  onEntry(entry: TarEntry): void {
    const reason = hostileReason(entry, this.top, this.maxEntryBytes);
    if (reason)
      throw new BackupError(
        'REFUSED',
        `refused: hostile entry ${entry.path}: ${reason}; nothing was restored`,
      );
    const rel = entry.path
      .replace(/^\.\//, '')
      .slice(this.top.length + 1)
      .replace(/\/+$/, '');
    this.current = entry;
    this.rel = null;
    this.hash = null;
    this.manifestChunks = null;
    const isFile = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
    if (rel === MANIFEST_NAME && isFile) {
      this.manifestChunks = [];
      return;
    }
    if (!rel) return;
    if (!this.opts.include(rel)) return;
    if (entry.type === 'Directory') {
      mkdirSync(this.target(rel), { recursive: true, mode: 0o700 });
      this.dirs.push({ rel, mode: entry.mode, mtime: entry.mtime, uid: entry.uid, gid: entry.gid });
      return;
    }
    if (!isFile) {
      throw new BackupError(
        'REFUSED',
        `refused: ${entry.path} is a ${entry.type}; a restore creates only files and folders, so nothing was restored`,
      );
    }
    if (this.files.has(rel)) throw new BackupError('REFUSED', `refused: ${rel} appears twice in the archive`);
    const target = this.target(rel);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    this.fd = openSync(target, 'wx', 0o600);
    this.hash = createHash('sha256');
    this.rel = rel;
  }

  onData(data: Buffer): void {
    if (this.manifestChunks) {
      this.manifestChunks.push(Buffer.from(data));
      return;
    }
    if (this.fd === null) return;
    this.hash!.update(data);
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    this.bytes += data.length;
  }

  onEntryEnd(entry: TarEntry): void {
    if (this.manifestChunks) {
      this.manifestText = Buffer.concat(this.manifestChunks).toString('utf8');
      this.manifestChunks = null;
      return;
    }
    if (this.fd === null || this.rel === null) return;
    closeSync(this.fd);
    this.fd = null;
    const target = this.target(this.rel);
    chmodSync(target, entry.mode & 0o777);
    if (entry.mtime) utimesSync(target, entry.mtime, entry.mtime);
    if (isRoot()) {
      try {
        chownSync(target, entry.uid, entry.gid);
      } catch {}
    }
    this.files.set(this.rel, { size: entry.size, sha256: this.hash!.digest('hex') });
    this.opts.checkpoint?.(`stage file ${this.rel}`);
    this.current = null;
  }

  abort(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {}
      this.fd = null;
    }
  }

  get currentEntry(): TarEntry | null {
    return this.current;
  }
}

/** Flushes everything written under `dir` to the disk: one syncfs for the file system, else fsync file by file. */
export async function syncTree(dir: string): Promise<void> {
  // A child process, so the flush (seconds for a big restore) never blocks the screen.
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn('sync', ['-f', dir], { stdio: 'ignore' });
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code));
  });
  if (status === 0) return;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      const fd = openSync(p, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  };
  await walk(dir);
}

/** Extracts an archive's in-scope paths into stagingDir and checks them against its manifest. */
export async function stageArchive(opts: StageOptions, size: number): Promise<StageResult> {
  const name = path.basename(opts.file);
  const top = parseBackupName(name)?.topFolder;
  if (!top) throw new BackupError('USAGE', `${name} is not named like an archive backup`);
  mkdirSync(opts.stagingDir, { recursive: true, mode: 0o700 });
  const visitor = new StageVisitor(top, opts, opts.config.backups.maxEntryMb * 1024 * 1024);
  const reader = new TarReader(visitor);
  const meter = new ProgressMeter('stage', size, opts.onProgress);
  try {
    await pump(opts.file, meter, opts.signal, (chunk) => reader.write(chunk));
    reader.end();
  } catch (err) {
    visitor.abort();
    if (err instanceof TarFormatError) throw new BackupError('VERIFY_FAILED', `tar: ${err.message}`);
    throw err;
  }
  const warnings: string[] = [];
  const problem = (message: string) => {
    if (!opts.lenient) throw new BackupError('VERIFY_FAILED', `${message}; nothing was restored`);
    warnings.push(message);
  };
  let manifest: BackupManifest | null = null;
  if (visitor.manifestText === null) problem(`${name}: ${MANIFEST_NAME} is missing`);
  else {
    const parsed = parseManifest(visitor.manifestText);
    if ('error' in parsed) problem(`${name}: ${MANIFEST_NAME}: ${parsed.error}`);
    else manifest = parsed.manifest;
  }
  if (manifest) {
    // Every staged file is what the manifest promises, and every promised file in scope is staged.
    for (const [rel, f] of visitor.files) {
      const want = manifest.checksums[rel];
      if (!want) problem(`${rel} is not in the manifest`);
      else if (want.toLowerCase() !== f.sha256) problem(`staged ${rel} does not match its manifest checksum`);
    }
    for (const rel of Object.keys(manifest.checksums)) {
      if (opts.include(rel) && !visitor.files.has(rel))
        problem(`the manifest lists ${rel} but the archive does not hold it`);
    }
  }
  // Folder modes and times last (writing into a folder changes its time), deepest first.
  for (const d of [...visitor.dirs].sort((a, b) => b.rel.length - a.rel.length)) {
    const target = path.join(opts.stagingDir, ...d.rel.split('/'));
    chmodSync(target, d.mode & 0o777);
    if (d.mtime) utimesSync(target, d.mtime, d.mtime);
    if (isRoot()) {
      try {
        chownSync(target, d.uid, d.gid);
      } catch {}
    }
  }
  opts.checkpoint?.('stage sync');
  const synced = syncTree(opts.stagingDir);
  synced.catch(() => {});
  return {
    synced,
    files: visitor.files,
    dirs: visitor.dirs.map((d) => d.rel),
    manifest,
    bytes: visitor.bytes,
    warnings,
  };
}

/** Decompresses a database backup into stagingDir/database/candy_cadence.db. */
export async function stageDatabase(opts: StageOptions, size: number): Promise<StageResult> {
  const target = path.join(opts.stagingDir, ...DATABASE_ARCHIVE_PATH.split('/'));
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const fd = openSync(target, 'wx', 0o600);
  const hash = createHash('sha256');
  const max = opts.config.backups.maxEntryMb * 1024 * 1024;
  let bytes = 0;
  const meter = new ProgressMeter('stage', size, opts.onProgress);
  try {
    await pump(opts.file, meter, opts.signal, (chunk) => {
      bytes += chunk.length;
      if (bytes > max)
        throw new BackupError(
          'REFUSED',
          `refused: the database is over the cap of ${opts.config.backups.maxEntryMb} MB (backups.maxEntryMb)`,
        );
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    });
  } finally {
    closeSync(fd);
  }
  chmodSync(target, 0o644);
  opts.checkpoint?.('stage sync');
  const synced = syncTree(opts.stagingDir);
  synced.catch(() => {});
  return {
    synced,
    files: new Map([[DATABASE_ARCHIVE_PATH, { size: bytes, sha256: hash.digest('hex') }]]),
    dirs: ['database'],
    manifest: null,
    bytes,
    warnings: [],
  };
}
