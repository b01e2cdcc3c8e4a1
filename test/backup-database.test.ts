// Database backups compressed while the snapshot is being written and verified while they are
// written (services/backup-database.ts): parts taken early are kept only when the finished snapshot
// still holds the same bytes there, so the backup is exactly the finished snapshot whatever order
// the snapshot was written in; a member that does not inflate to the snapshot's bytes fails the
// backup; cancelling and failures leave nothing behind.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { writeDatabaseBackup } from '../services/backup-database.js';
import { BackupError } from '../services/backup-errors.js';
import { AtomicOutput } from '../services/backup-output.js';
import { runSqliteJob, type SqliteJobResult } from '../services/backup-sqlite.js';
import { makeSite, type TestSite } from './helpers/backup-site.js';

let site: TestSite | null = null;
afterEach(() => {
  vi.restoreAllMocks();
  site?.cleanup();
  site = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real VACUUM INTO copy of the site's database: what the finished snapshot holds. */
function finishedSnapshot(s: TestSite): Buffer {
  const file = path.join(s.dir, 'reference.db');
  rmSync(file, { force: true });
  const db = new Database(s.paths.database, { readonly: true });
  db.prepare('VACUUM INTO ?').run(file);
  db.close();
  return readFileSync(file);
}

describe('writeDatabaseBackup', () => {
  it('keeps the parts taken early that did not change, redoes those written again, and holds exactly the finished snapshot', async () => {
    site = await makeSite({ models: 3000 });
    const finished = finishedSnapshot(site);
    const part = 32 * 1024;
    expect(finished.length).toBeGreaterThan(20 * part);
    const rewritten = 5;
    const taken = new Set<number>();
    let tookRewritten: () => void = () => {};
    const tookIt = new Promise<void>((r) => (tookRewritten = r));
    // Written the way VACUUM INTO writes: front to back in pieces, with part 0 (page 1 and the
    // root pages) last, and one part first written with other bytes and rewritten after the
    // follower has taken it.
    const snapshot = (job: { target: string }) => {
      const result = (async (): Promise<SqliteJobResult> => {
        const fd = openSync(job.target, 'r+');
        try {
          for (let off = part; off < finished.length; off += 8192) {
            const piece = Buffer.from(finished.subarray(off, Math.min(off + 8192, finished.length)));
            if (Math.floor(off / part) === rewritten) piece.fill(0x5a);
            writeSync(fd, piece, 0, piece.length, off);
            if (off % part === 0) await sleep(1);
          }
          await Promise.race([tookIt, sleep(10_000)]);
          writeSync(fd, finished, rewritten * part, part, rewritten * part);
          writeSync(fd, finished, 0, part, 0);
        } finally {
          closeSync(fd);
        }
        return { ok: true };
      })();
      return {
        snapshot: result,
        check: result.then(() => runSqliteJob({ op: 'check', file: job.target })),
      };
    };
    const out = await AtomicOutput.create(site.paths.backups, 'candy_cadence_backup_20250101_000000.db.gz');
    try {
      const r = await writeDatabaseBackup({
        paths: site.paths,
        config: site.config,
        out,
        name: 'candy_cadence_backup_20250101_000000.db.gz',
        snapshotPath: path.join(site.paths.backups, '.snapshot-test'),
        verify: true,
        snapshot,
        tuning: {
          chunkBytes: part,
          lagBytes: part,
          threads: 3,
          onEarly: (i) => {
            taken.add(i);
            if (i === rewritten) tookRewritten();
          },
        },
      });
      await out.sync();
      expect(taken.has(rewritten)).toBe(true);
      expect(taken.has(0)).toBe(false);
      expect(r.early.redone).toBeGreaterThanOrEqual(1);
      expect(r.early.kept).toBeGreaterThanOrEqual(3);
      expect(r.members).toBe(Math.ceil(finished.length / part));
      expect(r.sourceBytes).toBe(finished.length);
      expect(r.verification).toMatchObject({
        ok: true,
        reason: null,
        fileCount: 1,
        totalSize: finished.length,
      });
      expect(r.verification?.database?.counts.models).toBe(3000);
      // Exactly the finished snapshot, and an ordinary gzip file for GNU gzip.
      expect(gunzipSync(readFileSync(out.tempPath)).equals(finished)).toBe(true);
      execFileSync('gzip', ['-t', out.tempPath]);
    } finally {
      await out.discard();
    }
  });

  it('fails verification when a member does not inflate to the snapshot, and publishes nothing', async () => {
    site = await makeSite({ models: 2000 });
    const original = AtomicOutput.prototype.write;
    let writes = 0;
    // A bit flipped on the way to the disk, in the second member's compressed data.
    vi.spyOn(AtomicOutput.prototype, 'write').mockImplementation(async function (
      this: AtomicOutput,
      buf: Buffer,
    ) {
      if (++writes === 2) {
        const bad = Buffer.from(buf);
        bad[Math.floor(bad.length / 2)]! ^= 0x10;
        return original.call(this, bad);
      }
      return original.call(this, buf);
    });
    const err = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'database',
      databaseTuning: { chunkBytes: 64 * 1024 },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect(err.code).toBe('VERIFY_FAILED');
    expect(err.message).toMatch(
      /the new backup failed verification, so it was not kept: .*member at byte \d+/,
    );
    expect(readdirSync(site.paths.backups)).toEqual([]);
  });

  it('stops when cancelled while the snapshot is taken and leaves nothing behind', async () => {
    site = await makeSite();
    const controller = new AbortController();
    const err = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'database',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'snapshot') controller.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect(err.code).toBe('CANCELLED');
    expect(readdirSync(site.paths.backups)).toEqual([]);
  });

  it('reports a database that is not SQLite as such, leaving nothing behind', async () => {
    site = await makeSite();
    const fd = openSync(site.paths.database, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x41), 0, 4096, 0);
    closeSync(fd);
    rmSync(`${site.paths.database}-wal`, { force: true });
    rmSync(`${site.paths.database}-shm`, { force: true });
    const err = await createBackup({ paths: site.paths, config: site.config, kind: 'database' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(BackupError);
    expect(err.code).toBe('DATABASE');
    expect(err.message).toMatch(/is not an SQLite database|cannot snapshot/);
    expect(readdirSync(site.paths.backups)).toEqual([]);
    expect(statSync(site.paths.database).size).toBeGreaterThan(0);
  });
});
