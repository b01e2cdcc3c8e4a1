// Verification that proves a backup could really be restored, streaming, without extracting
// anything into the site: gzip end to end (every member's CRC-32 and length), the tar structure
// (header checksums, end-of-archive marker), hostile entries refused and reported, every manifest
// checksum, the file count and total size, and the database inside: spooled to a private temp
// file (removed after), then PRAGMA integrity_check and row counts on models and metadata.
// gunzip runs on libuv's pool, sha256 on this thread, the SQLite check in a worker thread as soon
// as the database entry is complete, so the three overlap.
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BackupError } from './backup-errors.js';
import { GunzipCancelled, gunzipFile } from './backup-gunzip.js';
import { DATABASE_ARCHIVE_PATH, MANIFEST_NAME } from './backup-layout.js';
import { type BackupManifest, parseManifest } from './backup-manifest.js';
import { type BackupKind, parseBackupName } from './backup-names.js';
import { type ProgressListener, ProgressMeter } from './backup-progress.js';
import { type SqliteJobResult, sqliteJob, type TableCounts } from './backup-sqlite.js';
import { hostileReason, type TarEntry, TarFormatError, TarReader, type TarVisitor } from './backup-tar.js';
import type { Config } from './config.js';

export interface VerifyOptions {
  config: Config;
  /** The backup's name when the file is under a temporary name (verification before publishing). */
  name?: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Run the SQLite check on this thread (headless callers with nothing else to do). */
  inline?: boolean;
  /** Keep the list of entries with sizes and checksums (browse, diff). */
  collectEntries?: boolean;
  /**
   * Right after creation: the database snapshot the backup was made from, its sha256 and its
   * check (run while compressing). When the database inside hashes the same, that check stands
   * for it, instead of spooling and checking the same bytes again; when it differs, the backup fails.
   */
  trustedDatabase?: TrustedDatabase;
  now?: () => number;
}

export interface ArchiveEntryInfo {
  /** Relative to the top folder. */
  path: string;
  type: string;
  size: number;
  sha256: string | null;
  mode: number;
  mtime: number | null;
  linkpath?: string;
}

export interface ManifestSummary {
  backup_type: string;
  timestamp: string;
  version: string;
  file_count: number;
  total_size_bytes: number;
  [key: string]: unknown;
}

export interface HostileEntry {
  path: string;
  reason: string;
}

export interface DatabaseCheck {
  ok: boolean;
  integrity: string[];
  counts: TableCounts;
  error: string | null;
}

export interface TrustedDatabase {
  sha256: string;
  check: Promise<DatabaseCheck>;
}

const DIFFERS: DatabaseCheck = {
  ok: false,
  integrity: [],
  counts: {},
  error: 'the database inside differs from the snapshot it was made from',
};

export interface VerifyResult {
  ok: boolean;
  /** The first thing wrong, in words; null when ok. */
  reason: string | null;
  problems: string[];
  hostile: HostileEntry[];
  name: string;
  kind: BackupKind | null;
  file: string;
  compressedBytes: number;
  uncompressedBytes: number;
  durationMs: number;
  verifiedAt: number;
  /** The manifest without its checksums. */
  manifest: ManifestSummary | null;
  /** Files in the archive (manifest excluded) and their total size. */
  fileCount: number;
  totalSize: number;
  database: DatabaseCheck | null;
  entries?: ArchiveEntryInfo[];
}

const MAX_PROBLEMS = 50;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

class Problems {
  list: string[] = [];
  more = 0;
  add(p: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(p);
    else this.more++;
  }
  all(): string[] {
    return this.more ? [...this.list, `... and ${this.more} more`] : this.list;
  }
}

function gzipReason(err: unknown, startsLikeGzip: boolean, size: number): string {
  const e = err as NodeJS.ErrnoException;
  const msg = e.message ?? String(err);
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(msg))
    return `gzip: the file ends in the middle of the compressed data (truncated; the file is ${size} bytes)`;
  if (/incorrect data check/i.test(msg)) return 'gzip: CRC-32 mismatch: the compressed data is corrupt';
  if (/incorrect length check/i.test(msg))
    return 'gzip: length check mismatch: the compressed data is corrupt';
  if (/incorrect header check|unknown compression method|invalid.*header/i.test(msg))
    return startsLikeGzip
      ? 'gzip: data after the end of the gzip stream is not gzip (garbage appended, or a corrupt member header)'
      : 'gzip: not gzip data (bad header)';
  if (e.code?.startsWith('Z_')) return `gzip: corrupt compressed data (zlib: ${msg})`;
  return `cannot read the file: ${msg}`;
}

/** Streams the file through gunzip (in parallel when it is ours), handing each uncompressed chunk to `onChunk`. */
async function pumpGunzip(
  file: string,
  meter: ProgressMeter,
  signal: AbortSignal | undefined,
  onChunk: (chunk: Buffer) => void | Promise<void>,
): Promise<{ compressed: number; uncompressed: number }> {
  let compressed = 0;
  let uncompressed = 0;
  try {
    for await (const chunk of gunzipFile(file, {
      signal,
      onCompressed: (bytes) => {
        meter.add(bytes - compressed);
        compressed = bytes;
      },
    })) {
      uncompressed += chunk.length;
      const r = onChunk(chunk);
      if (r) await r;
    }
  } catch (err) {
    if (err instanceof GunzipCancelled) throw new BackupError('CANCELLED', 'cancelled');
    throw err;
  }
  return { compressed, uncompressed };
}

/** Writes chunks to a private file in order, without blocking the stream more than needed. */
class Spool {
  bytes = 0;
  head: Buffer | null = null;
  used = false;
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
  ) {}
  /** Writes to FILE.part; complete() renames it to FILE (a worker may be waiting for that name). */
  static async open(file: string): Promise<Spool> {
    return new Spool(file, await open(`${file}.part`, 'wx', 0o600));
  }
  write(data: Buffer): void {
    if (!this.head) this.head = Buffer.from(data.subarray(0, 16));
    this.bytes += data.length;
    this.queued += data.length;
    this.tail = this.tail.then(async () => {
      this.queued -= data.length;
      if (this.failure) return;
      try {
        await this.fh.write(data);
      } catch (err) {
        this.failure = err;
      }
    });
  }
  /** Waits for the disk when more than 16 MB are queued (bounded memory). */
  backpressure(): Promise<void> | undefined {
    return this.queued > 16 << 20 || this.failure ? this.drain() : undefined;
  }
  async drain(): Promise<void> {
    await this.tail;
    if (this.failure) throw this.failure;
  }
  async close(): Promise<void> {
    await this.drain();
    await this.fh.close();
  }
  async complete(): Promise<void> {
    await this.close();
    await rename(`${this.file}.part`, this.file);
  }
}

export function dbCheckOf(r: SqliteJobResult): DatabaseCheck {
  if (!r.ok) {
    const friendly =
      r.code === 'SQLITE_NOTADB'
        ? 'not an SQLite database'
        : r.code === 'SQLITE_CORRUPT'
          ? `corrupt (${r.message})`
          : `${r.message} (${r.code})`;
    return { ok: false, integrity: [], counts: {}, error: friendly };
  }
  const integrity = r.integrity ?? [];
  const sound = integrity.length === 1 && integrity[0] === 'ok';
  const missing = r.missingTables ?? [];
  return {
    ok: sound && missing.length === 0,
    integrity,
    counts: r.counts ?? {},
    error: !sound
      ? `integrity_check: ${integrity.slice(0, 3).join('; ')}${integrity.length > 3 ? ` (+${integrity.length - 3} more)` : ''}`
      : missing.length
        ? `table${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing`
        : null,
  };
}

class ArchiveVisitor implements TarVisitor {
  readonly files = new Map<string, { size: number; sha256: string }>();
  readonly entries: ArchiveEntryInfo[] = [];
  readonly hostile: HostileEntry[] = [];
  manifestText: string | null = null;
  dbCheck: Promise<DatabaseCheck> | null = null;
  /** The spool while the database entry streams in. */
  writing: Spool | null = null;
  top: string | null;
  private hash: Hash | null = null;
  private rel: string | null = null;
  private manifestChunks: Buffer[] | null = null;

  constructor(
    top: string | null,
    private readonly maxEntryBytes: number,
    private readonly spool: Spool,
    private readonly problems: Problems,
    private readonly collect: boolean,
    /** The integrity check, started in a worker before the database entry arrives (it waits for the file). */
    private readonly check: () => Promise<SqliteJobResult>,
    private readonly cancelCheck: () => void,
    private readonly trusted: TrustedDatabase | null = null,
  ) {
    this.top = top;
  }

  onEntry(entry: TarEntry): void {
    if (this.top === null) {
      // Not named like a backup: the first entry decides the top folder.
      const first = entry.path.replace(/^\.\//, '').split('/')[0] ?? '';
      if (first && first !== '..' && !entry.path.startsWith('/')) this.top = first;
    }
    const reason = hostileReason(entry, this.top, this.maxEntryBytes);
    this.hash = null;
    this.rel = null;
    this.manifestChunks = null;
    this.writing = null;
    if (reason) {
      this.hostile.push({ path: entry.path, reason });
      if (entry.size > this.maxEntryBytes) {
        throw new BackupError('VERIFY_FAILED', `verification stopped at ${entry.path} (${reason})`);
      }
      return;
    }
    const rel = entry.path
      .replace(/^\.\//, '')
      .slice((this.top?.length ?? -1) + 1)
      .replace(/\/+$/, '');
    if (this.collect && rel) {
      this.entries.push({
        path: rel,
        type: entry.type,
        size: entry.size,
        sha256: null,
        mode: entry.mode,
        mtime: entry.mtime ? entry.mtime.getTime() : null,
        linkpath: entry.linkpath || undefined,
      });
    }
    if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') return;
    if (this.files.has(rel) || (rel === MANIFEST_NAME && this.manifestText !== null)) {
      this.problems.add(`${rel} appears twice in the archive (a later copy would silently win)`);
    }
    this.rel = rel;
    if (rel === MANIFEST_NAME) {
      this.manifestChunks = [];
      return;
    }
    this.hash = createHash('sha256');
    if (rel === DATABASE_ARCHIVE_PATH && !this.spool.used) {
      this.spool.used = true;
      if (this.trusted) this.trustedEntry = true;
      else this.writing = this.spool;
    }
  }

  private trustedEntry = false;

  onData(data: Buffer): void {
    if (this.manifestChunks) {
      this.manifestChunks.push(Buffer.from(data));
      return;
    }
    this.hash?.update(data);
    this.writing?.write(data);
  }

  onEntryEnd(entry: TarEntry): void {
    if (this.manifestChunks) {
      if (this.manifestText === null) this.manifestText = Buffer.concat(this.manifestChunks).toString('utf8');
      this.manifestChunks = null;
      return;
    }
    if (!this.hash || this.rel === null) return;
    const sha256 = this.hash.digest('hex');
    this.files.set(this.rel, { size: entry.size, sha256 });
    if (this.collect) {
      const last = this.entries[this.entries.length - 1];
      if (last && last.path === this.rel) last.sha256 = sha256;
    }
    if (this.trustedEntry) {
      this.trustedEntry = false;
      const t = this.trusted!;
      this.dbCheck = sha256 === t.sha256 ? t.check : Promise.resolve(DIFFERS);
    }
    if (this.writing) {
      const s = this.writing;
      this.writing = null;
      this.dbCheck = (async () => {
        if (!s.head || s.bytes < 100 || !s.head.equals(SQLITE_MAGIC)) {
          await s.close();
          this.cancelCheck();
          return { ok: false, integrity: [], counts: {}, error: 'not an SQLite database (bad header)' };
        }
        await s.complete();
        return dbCheckOf(await this.check());
      })();
      // Reported through dbCheck; avoid an unhandled rejection if the stream fails first.
      this.dbCheck.catch(() => {});
    }
    this.hash = null;
    this.rel = null;
  }
}

export async function verifyBackup(file: string, opts: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now();
  const now = opts.now ?? Date.now;
  const name = opts.name ?? path.basename(file);
  const parsed = parseBackupName(name);
  const kind: BackupKind | null =
    parsed?.kind ?? (name.endsWith('.db.gz') ? 'database' : name.endsWith('.tar.gz') ? 'full' : null);
  const problems = new Problems();
  const result: VerifyResult = {
    ok: false,
    reason: null,
    problems: [],
    hostile: [],
    name,
    kind,
    file,
    compressedBytes: 0,
    uncompressedBytes: 0,
    durationMs: 0,
    verifiedAt: now(),
    manifest: null,
    fileCount: 0,
    totalSize: 0,
    database: null,
  };
  const finish = (fatal: string | null): VerifyResult => {
    const h = result.hostile;
    const hostileReason = h.length
      ? `refused: ${h.length} hostile entr${h.length === 1 ? 'y' : 'ies'} (first: ${h[0]!.path}: ${h[0]!.reason})`
      : null;
    result.problems = [
      ...(fatal ? [fatal] : []),
      ...h.map((e) => `hostile entry ${e.path}: ${e.reason}`),
      ...problems.all(),
    ];
    result.reason = hostileReason ?? fatal ?? result.problems[0] ?? null;
    result.ok = result.reason === null;
    result.durationMs = Math.round(performance.now() - started);
    return result;
  };

  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) return finish(`${file} is not a regular file`);
    size = st.size;
  } catch (err) {
    return finish(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  if (size === 0) return finish('the file is empty');
  let startsLikeGzip = false;
  try {
    const fh = await open(file, 'r');
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    await fh.close();
    startsLikeGzip = head[0] === 0x1f && head[1] === 0x8b;
  } catch {}
  if (kind === null) return finish(`${name} is not named like a backup (.db.gz or .tar.gz)`);

  const maxEntryBytes = opts.config.backups.maxEntryMb * 1024 * 1024;
  const tmpBase = opts.config.backups.tempDir ?? os.tmpdir();
  const tmpDir = await mkdtemp(path.join(tmpBase, 'cadence-verify-'));
  const meter = new ProgressMeter('verify', size, opts.onProgress);
  let stopCheck: (() => void) | null = null;
  try {
    if (kind === 'database' && opts.trustedDatabase) {
      const trusted = opts.trustedDatabase;
      const hash = createHash('sha256');
      let bytes = 0;
      let head: Buffer | null = null;
      try {
        const counts = await pumpGunzip(file, meter, opts.signal, (chunk) => {
          if (!head) head = Buffer.from(chunk.subarray(0, 16));
          bytes += chunk.length;
          hash.update(chunk);
        });
        result.compressedBytes = counts.compressed;
        result.uncompressedBytes = counts.uncompressed;
      } catch (err) {
        if (err instanceof BackupError && err.code === 'CANCELLED') throw err;
        return finish(gzipReason(err, startsLikeGzip, size));
      }
      meter.finish();
      const h = head as Buffer | null;
      result.database =
        !h || bytes < 100 || !h.equals(SQLITE_MAGIC)
          ? { ok: false, integrity: [], counts: {}, error: 'not an SQLite database (bad header)' }
          : hash.digest('hex') === trusted.sha256
            ? await trusted.check
            : DIFFERS;
      result.fileCount = 1;
      result.totalSize = bytes;
      if (!result.database.ok) problems.add(`database: ${result.database.error}`);
      return finish(null);
    }
    if (kind === 'database') {
      const spool = await Spool.open(path.join(tmpDir, 'candy_cadence.db'));
      try {
        const counts = await pumpGunzip(file, meter, opts.signal, (chunk) => {
          if (spool.bytes + chunk.length > maxEntryBytes) {
            throw new BackupError(
              'VERIFY_FAILED',
              `refused: the database inside is over the cap of ${opts.config.backups.maxEntryMb} MB (backups.maxEntryMb)`,
            );
          }
          spool.write(chunk);
          return spool.backpressure();
        });
        result.compressedBytes = counts.compressed;
        result.uncompressedBytes = counts.uncompressed;
        await spool.complete();
      } catch (err) {
        if (err instanceof BackupError) {
          if (err.code === 'CANCELLED') throw err;
          return finish(err.message);
        }
        return finish(gzipReason(err, startsLikeGzip, size));
      } finally {
        await spool.close().catch(() => {});
      }
      meter.finish();
      if (!spool.head || spool.bytes < 100 || !spool.head.equals(SQLITE_MAGIC)) {
        result.database = {
          ok: false,
          integrity: [],
          counts: {},
          error: 'not an SQLite database (bad header)',
        };
      } else {
        result.database = dbCheckOf(
          await sqliteJob({ op: 'check', file: spool.file }, { inline: opts.inline, signal: opts.signal }),
        );
      }
      result.fileCount = 1;
      result.totalSize = spool.bytes;
      if (!result.database.ok) problems.add(`database: ${result.database.error}`);
      return finish(null);
    }

    // An archive. The worker for the database check starts now and waits for the spooled file, so
    // its start-up and the check itself overlap the rest of the stream.
    const spool = await Spool.open(path.join(tmpDir, 'candy_cadence.db'));
    const checkAbort = new AbortController();
    const onAbort = () => checkAbort.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const prestarted: Promise<SqliteJobResult> = opts.trustedDatabase
      ? Promise.resolve({ ok: false, code: 'UNUSED', message: 'not used' })
      : sqliteJob({ op: 'check', file: spool.file, waitForFile: true }, { signal: checkAbort.signal });
    prestarted.catch(() => {});
    stopCheck = () => {
      opts.signal?.removeEventListener('abort', onAbort);
      checkAbort.abort();
    };
    const visitor = new ArchiveVisitor(
      parsed?.topFolder ?? null,
      maxEntryBytes,
      spool,
      problems,
      Boolean(opts.collectEntries),
      () => prestarted,
      () => checkAbort.abort(),
      opts.trustedDatabase ?? null,
    );
    const reader = new TarReader(visitor);
    try {
      const counts = await pumpGunzip(file, meter, opts.signal, (chunk) => {
        reader.write(chunk);
        return visitor.writing?.backpressure();
      });
      result.compressedBytes = counts.compressed;
      result.uncompressedBytes = counts.uncompressed;
      reader.end();
    } catch (err) {
      result.hostile = visitor.hostile;
      if (err instanceof BackupError) {
        if (err.code === 'CANCELLED') throw err;
        return finish(err.message);
      }
      if (err instanceof TarFormatError) return finish(`tar: ${err.message}`);
      return finish(gzipReason(err, startsLikeGzip, size));
    } finally {
      if (!spool.used) await spool.close().catch(() => {});
      else if (!visitor.dbCheck) await spool.close().catch(() => {});
    }
    meter.finish();
    result.hostile = visitor.hostile;
    if (opts.collectEntries) result.entries = visitor.entries;

    // The manifest.
    let manifest: BackupManifest | null = null;
    if (visitor.manifestText === null) {
      problems.add(`manifest ${MANIFEST_NAME} is missing`);
    } else {
      const parsedManifest = parseManifest(visitor.manifestText);
      if ('error' in parsedManifest) problems.add(`manifest ${MANIFEST_NAME}: ${parsedManifest.error}`);
      else manifest = parsedManifest.manifest;
    }
    let listedSize = 0;
    for (const f of visitor.files.values()) result.totalSize += f.size;
    result.fileCount = visitor.files.size;
    if (manifest) {
      const { checksums, ...rest } = manifest;
      result.manifest = rest;
      const listed = Object.keys(checksums);
      for (const rel of listed) {
        const actual = visitor.files.get(rel);
        if (!actual) problems.add(`manifest lists ${rel}, which is not in the archive`);
        else {
          listedSize += actual.size;
          if (actual.sha256 !== checksums[rel]!.toLowerCase()) problems.add(`checksum mismatch for ${rel}`);
        }
      }
      for (const rel of visitor.files.keys()) {
        if (!(rel in checksums)) problems.add(`${rel} is in the archive but not in the manifest`);
      }
      if (manifest.file_count !== listed.length)
        problems.add(`manifest file_count is ${manifest.file_count} but it lists ${listed.length} files`);
      if (manifest.file_count !== visitor.files.size)
        problems.add(
          `manifest file_count is ${manifest.file_count} but the archive holds ${visitor.files.size} files`,
        );
      if (manifest.total_size_bytes !== listedSize)
        problems.add(
          `manifest total_size_bytes is ${manifest.total_size_bytes} but the listed files add up to ${listedSize}`,
        );
    }

    // The database inside.
    const scope = manifest && typeof manifest.scope === 'string' ? manifest.scope : 'all';
    const needsDatabase = scope === 'all' || scope === 'database';
    if (visitor.dbCheck) {
      result.database = await visitor.dbCheck;
      if (!result.database.ok) problems.add(`database: ${result.database.error}`);
    } else if (needsDatabase) {
      problems.add(`${DATABASE_ARCHIVE_PATH} is missing`);
    }
    return finish(null);
  } finally {
    stopCheck?.();
    await rm(tmpDir, { recursive: true, force: true }).catch(() => {});
  }
}
