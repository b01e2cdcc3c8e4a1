// Database backups, made while the application writes, with every step overlapping the others:
// - The snapshot: `VACUUM INTO` in a worker thread (one read transaction: consistent, never restarted
//   by a writer; see BACKUP-NOTES.md). The same worker then runs the snapshot's integrity_check and
//   row counts, while it is being compressed.
// - Compression starts while VACUUM INTO is still writing. It writes the new file mostly front to
//   back, so the parts far enough behind its end are compressed on the otherwise idle core, as
//   gzip members of their own. They are only a head start: once the snapshot is complete, every such
//   part is compared with the finished file (sha256) and compressed again when it changed after it
//   was read (VACUUM INTO rewrites page 1 and the tables' root pages at the start of the file last,
//   and fills in a few interior pages behind its end late). The first part is never taken early.
//   So the backup is exactly the finished snapshot, byte for byte, whatever the writes looked like.
// - Verification follows the writing: each member is read back from the new file as soon as it is
//   written, inflated (zlib checks its CRC-32 and length) and compared byte for byte with the
//   snapshot's bytes at that place; the file must be exactly the chain of members. With the
//   snapshot's integrity_check, that proves the backup restores to a sound database before it gets
//   its final name (the caller flushes and renames it).
// Memory stays bounded: a few 4 MiB parts in flight, and at most `speculateMaxBytes` taken early.
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { BackupError, throwIfAborted } from './backup-errors.js';
import { gunzipMember } from './backup-gunzip.js';
import { defaultThreads, gzipMember, MEMBER_HEADER_BYTES, memberSizeOf } from './backup-gzip.js';
import type { AtomicOutput } from './backup-output.js';
import { formatDuration, type ProgressListener, ProgressMeter } from './backup-progress.js';
import { type SqliteJobResult, snapshotInWorker } from './backup-sqlite.js';
import { dbCheckOf, type VerifyResult } from './backup-verify.js';
import type { Config } from './config.js';
import type { SitePaths } from './site.js';

export interface DatabaseBackupTuning {
  /** Uncompressed bytes per gzip member (default 4 MiB). */
  chunkBytes?: number;
  /** A part is taken early only once the snapshot is this far past its end (default 8 MiB). */
  lagBytes?: number;
  /** At most this much of the snapshot is taken early (default 64 MiB; 0 turns it off). */
  speculateMaxBytes?: number;
  /** Members compressed at once (default backups.threads, else cores + 1, at most 3). */
  threads?: number;
  /** Told each time a part is taken early (tests synchronise with it). */
  onEarly?: (part: number) => void;
}

export interface DatabaseBackupOptions {
  paths: SitePaths;
  config: Config;
  /** The new backup file, under its temporary name. */
  out: AtomicOutput;
  /** The backup's final name (for the verification result). */
  name: string;
  /** Where the snapshot goes: a new private file, created here; the caller removes it. */
  snapshotPath: string;
  verify: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  onStep?: (label: string) => void;
  now?: () => number;
  tuning?: DatabaseBackupTuning;
  /** The snapshot job (tests replace it to write the file the way they need). */
  snapshot?: typeof snapshotInWorker;
}

export interface DatabaseBackupResult {
  /** Bytes of the snapshot. */
  sourceBytes: number;
  members: number;
  verification: VerifyResult | null;
  /** Members compressed while the snapshot was being written: kept, and compressed again because the snapshot changed there. */
  early: { kept: number; redone: number };
}

const POLL_MS = 4;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function lockedMessage(database: string, config: Config): string {
  return (
    `the database ${database} is locked by another process (still busy after ${formatDuration(config.backups.busyTimeoutMs / 1000)}, ` +
    'backups.busyTimeoutMs): the application holds an exclusive lock; try again when it is idle'
  );
}

/** A failed snapshot in words. */
export function snapshotFailure(
  r: SqliteJobResult,
  paths: SitePaths,
  config: Config,
  target: string,
): BackupError {
  if (r.code === 'SQLITE_BUSY' || r.code === 'SQLITE_LOCKED')
    return new BackupError('LOCKED', lockedMessage(paths.database, config));
  if (r.code === 'SQLITE_FULL' || /disk is full|database or disk is full/i.test(r.message ?? ''))
    return new BackupError(
      'NO_SPACE',
      `snapshot of ${paths.database} into ${target}: no space left on the device`,
    );
  if (r.code === 'SQLITE_NOTADB')
    return new BackupError('DATABASE', `${paths.database} is not an SQLite database`);
  if (r.code === 'SQLITE_CORRUPT')
    return new BackupError('DATABASE', `${paths.database} is corrupt: ${r.message}`);
  return new BackupError('DATABASE', `cannot snapshot ${paths.database}: ${r.message} (${r.code})`);
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** Reads each member back from the new file once written and proves it holds the snapshot's bytes. */
class MemberProof {
  readonly problems: string[] = [];
  started = 0;
  private constructor(private readonly fh: FileHandle) {}

  static async open(file: string): Promise<MemberProof> {
    return new MemberProof(await open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW));
  }

  /** Never throws: what is wrong goes into `problems`. */
  async prove(offset: number, length: number, raw: Buffer, rawOffset: number): Promise<void> {
    if (this.problems.length) return;
    if (!this.started) this.started = performance.now();
    let member: Buffer;
    try {
      member = await readAt(this.fh, offset, length);
    } catch (err) {
      this.problems.push(`cannot read the new file back: ${(err as Error).message}`);
      return;
    }
    if (member.length !== length) {
      this.problems.push(
        `gzip: the file ends at byte ${offset + member.length}, inside the member at byte ${offset}`,
      );
      return;
    }
    const announced = memberSizeOf(member.subarray(0, MEMBER_HEADER_BYTES));
    if (announced !== length) {
      this.problems.push(`gzip: the member header at byte ${offset} is damaged`);
      return;
    }
    let inflated: Buffer;
    try {
      inflated = await gunzipMember(member);
    } catch (err) {
      const msg = (err as Error).message;
      this.problems.push(
        /incorrect data check/i.test(msg)
          ? `gzip: CRC-32 mismatch in the member at byte ${offset}: the compressed data is corrupt`
          : `gzip: the member at byte ${offset} is corrupt (zlib: ${msg})`,
      );
      return;
    }
    if (!inflated.equals(raw)) {
      this.problems.push(
        `the member at byte ${offset} does not hold the snapshot's bytes ${rawOffset}-${rawOffset + raw.length - 1}`,
      );
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * Takes the snapshot and writes it, compressed, into `out` (not flushed, not renamed), verified when
 * `verify`. Throws a BackupError (LOCKED, NO_SPACE, DATABASE, CANCELLED, IO) on failure; a failed
 * verification is returned in `verification`, not thrown.
 */
export async function writeDatabaseBackup(o: DatabaseBackupOptions): Promise<DatabaseBackupResult> {
  const now = o.now ?? Date.now;
  const level = o.config.backups.compressionLevel;
  const threads = Math.max(1, o.tuning?.threads ?? o.config.backups.threads ?? defaultThreads());
  const chunkBytes = o.tuning?.chunkBytes ?? 4 * 1024 * 1024;
  const lagBytes = o.tuning?.lagBytes ?? 8 * 1024 * 1024;
  const speculateMax = o.tuning?.speculateMaxBytes ?? 64 * 1024 * 1024;

  try {
    await stat(o.paths.database);
  } catch {
    throw new BackupError('NOT_FOUND', `the database ${o.paths.database} does not exist`);
  }
  throwIfAborted(o.signal);
  // The snapshot's file exists, private, before VACUUM INTO starts, so it can be followed from its first byte.
  const snapFh = await open(
    o.snapshotPath,
    fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW,
    0o600,
  ).catch((err) => {
    throw new BackupError('IO', `cannot create ${o.snapshotPath}: ${(err as Error).message}`);
  });
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const job = (o.snapshot ?? snapshotInWorker)(
    { source: o.paths.database, target: o.snapshotPath, busyTimeoutMs: o.config.backups.busyTimeoutMs },
    { check: o.verify, signal: stop.signal },
  );
  job.check.catch(() => {});
  let snapshotResult: SqliteJobResult | null = null;
  void job.snapshot.then((r) => {
    snapshotResult = r;
  });
  let proof: MemberProof | null = null;
  try {
    // 1. While VACUUM INTO writes: members for the parts well behind its end, on the core it leaves idle.
    const early = new Map<number, { sha: string; bytes: number; member: Promise<Buffer> }>();
    let earlyBytes = 0;
    let compressing = 0;
    let next = 1; // part 0 holds page 1 and the root pages: rewritten last
    const earlyWidth = Math.max(1, threads - 1);
    while (snapshotResult === null && !o.signal?.aborted) {
      if (earlyBytes + chunkBytes <= speculateMax && compressing < earlyWidth) {
        const { size } = await snapFh.stat();
        if (size >= (next + 1) * chunkBytes + lagBytes) {
          const raw = await readAt(snapFh, next * chunkBytes, chunkBytes);
          if (raw.length === chunkBytes) {
            compressing++;
            const member = gzipMember(raw, level);
            member.then(
              () => compressing--,
              () => compressing--,
            );
            early.set(next, { sha: sha256(raw), bytes: raw.length, member });
            o.tuning?.onEarly?.(next);
            earlyBytes += chunkBytes;
            next++;
            continue;
          }
        }
      }
      await Promise.race([job.snapshot, sleep(POLL_MS)]);
    }
    const snap = await job.snapshot;
    throwIfAborted(o.signal);
    if (!snap.ok) throw snapshotFailure(snap, o.paths, o.config, o.snapshotPath);
    o.onStep?.('snapshot taken');

    // 2. The finished snapshot in order: a part taken early is kept when its bytes did not change
    //    since, else compressed now. Members are written in order as they are ready, each one read
    //    back and proven while the next are compressed.
    const size = (await snapFh.stat()).size;
    const meter = new ProgressMeter('compress', size, o.onProgress);
    proof = o.verify ? await MemberProof.open(o.out.tempPath) : null;
    const parts = Math.max(1, Math.ceil(size / chunkBytes));
    let failure: unknown = null;
    let tail: Promise<void> = Promise.resolve();
    const window: Array<Promise<void>> = [];
    let kept = 0;
    let redone = 0;
    for (let i = 0; i < parts; i++) {
      throwIfAborted(o.signal);
      if (failure) break;
      const rawOffset = i * chunkBytes;
      const raw = await readAt(snapFh, rawOffset, Math.min(chunkBytes, size - rawOffset));
      const taken = early.get(i);
      early.delete(i);
      let member: Promise<Buffer>;
      if (taken && taken.bytes === raw.length && taken.sha === sha256(raw)) {
        member = taken.member;
        kept++;
      } else {
        if (taken) redone++;
        member = gzipMember(raw, level);
      }
      member.catch(() => {});
      let offset = -1;
      let length = 0;
      const written = tail.then(async () => {
        if (failure) return;
        try {
          const m = await member;
          offset = o.out.bytes;
          length = m.length;
          await o.out.write(m);
          meter.add(raw.length);
        } catch (err) {
          failure ??= err;
        }
      });
      tail = written;
      const proven = proof
        ? written.then(() =>
            offset >= 0 && !failure ? proof!.prove(offset, length, raw, rawOffset) : undefined,
          )
        : written;
      window.push(proven);
      // At most `threads` parts between reading and proof: the pool keeps a thread for file I/O.
      while (window.length >= threads) await window.shift();
    }
    await Promise.all(window);
    if (failure) throw failure;
    throwIfAborted(o.signal);
    meter.finish();
    if (early.size) redone += early.size; // parts past the end of the finished file (it never shrinks in practice)

    let verification: VerifyResult | null = null;
    if (proof) {
      const problems = [...proof.problems];
      const onDisk = (await stat(o.out.tempPath)).size;
      if (onDisk !== o.out.bytes)
        problems.push(`the file is ${onDisk} bytes where ${o.out.bytes} were written`);
      const database = dbCheckOf(
        await job.check.catch((err: Error) => ({ ok: false, code: 'WORKER', message: err.message })),
      );
      throwIfAborted(o.signal);
      if (!database.ok) problems.push(`database: ${database.error}`);
      const started = proof.started || performance.now();
      new ProgressMeter('verify', o.out.bytes, o.onProgress).finish();
      verification = {
        ok: problems.length === 0,
        reason: problems[0] ?? null,
        problems,
        hostile: [],
        name: o.name,
        kind: 'database',
        file: o.out.tempPath,
        compressedBytes: o.out.bytes,
        uncompressedBytes: size,
        durationMs: Math.round(performance.now() - started),
        verifiedAt: now(),
        manifest: null,
        fileCount: 1,
        totalSize: size,
        database,
      };
    }
    return { sourceBytes: size, members: parts, verification, early: { kept, redone } };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    // Nothing may still read or write the snapshot once this returns: the caller removes it.
    stop.abort();
    await job.check.catch(() => {});
    await snapFh.close().catch(() => {});
    await proof?.close().catch(() => {});
  }
}
