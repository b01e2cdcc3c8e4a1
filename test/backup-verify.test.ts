import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  END_OF_ARCHIVE,
  encodeHeader,
  paddingFor,
  type TarEntry,
  TarReader,
} from '../services/backup-tar.js';
import { verifyBackup } from '../services/backup-verify.js';
import { configSchema } from '../services/config.js';
import { fixturesDir } from './helpers/backup-site.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cadence-verify-test-'));
const spoolDir = path.join(tmp, 'spool');
mkdirSync(spoolDir);
// Entries over 1 MB are refused in these tests (the hostile fixture has a 2 MiB one).
const config = configSchema.parse({ backups: { maxEntryMb: 1, tempDir: spoolDir } });
const fixture = (dir: string) => {
  const d = path.join(fixturesDir, dir);
  const name = readdirSync(d).find((f) => f.endsWith('.tar.gz'))!;
  return path.join(d, name);
};
const dbFixture = (dir: string) => {
  const d = path.join(fixturesDir, dir);
  return path.join(d, readdirSync(d).find((f) => f.endsWith('.db.gz'))!);
};
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

let before: Map<string, string>;
beforeAll(() => {
  before = new Map();
  for (const d of readdirSync(fixturesDir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(path.join(fixturesDir, d.name)))
      before.set(path.join(d.name, f), sha(path.join(fixturesDir, d.name, f)));
  }
});
afterAll(() => {
  // Verification never changes what it reads.
  for (const [rel, hash] of before) expect(sha(path.join(fixturesDir, rel)), rel).toBe(hash);
  rmSync(tmp, { recursive: true, force: true });
});

describe('verifyBackup on the fixtures', () => {
  it('passes a sound full backup: every checksum, the count, the size, the database', async () => {
    const r = await verifyBackup(fixture('good'), { config, inline: true, collectEntries: true });
    expect(r.reason).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.fileCount).toBe(7);
    expect(r.manifest).toMatchObject({ backup_type: 'full', version: '1.4.2', file_count: 7 });
    expect(r.database).toMatchObject({ ok: true, integrity: ['ok'] });
    expect(r.database!.counts).toMatchObject({ models: 40, metadata: 40 });
    expect(r.entries!.map((e) => e.path)).toContain('user_data/models/box.3mf');
    const box = r.entries!.find((e) => e.path === 'user_data/models/box.3mf')!;
    expect(box.sha256).toBe(sha(path.join(fixturesDir, 'source/assimp--box.3mf')));
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('passes a sound database backup', async () => {
    const r = await verifyBackup(dbFixture('good'), { config, inline: true });
    expect(r.ok).toBe(true);
    expect(r.kind).toBe('database');
    expect(r.database!.counts).toMatchObject({ models: 40, metadata: 40 });
  });

  const bad: Array<[string, 'tar' | 'db', RegExp]> = [
    ['truncated-gzip', 'tar', /^gzip: the file ends in the middle of the compressed data/],
    ['truncated-gzip', 'db', /^gzip: the file ends in the middle of the compressed data/],
    ['flipped-bits', 'tar', /^gzip: (corrupt compressed data|CRC-32 mismatch)/],
    ['flipped-bits', 'db', /^gzip: (corrupt compressed data|CRC-32 mismatch)/],
    ['missing-manifest', 'tar', /^manifest backup_manifest.json is missing$/],
    ['checksum-mismatch', 'tar', /^checksum mismatch for configuration\/config.json$/],
    ['corrupt-database', 'tar', /^database: (corrupt|integrity_check)/],
    ['corrupt-database', 'db', /^database: (corrupt|integrity_check)/],
    ['not-gzip', 'db', /^gzip: not gzip data/],
    ['not-sqlite', 'db', /^database: not an SQLite database/],
    ['bad-tar-header', 'tar', /^tar: bad header checksum at byte \d+$/],
    ['garbage-after', 'tar', /^gzip: data after the end of the gzip stream is not gzip/],
    ['missing-table', 'tar', /^database: table metadata missing$/],
    [
      'truncated-tar',
      'tar',
      /^tar: truncated inside full_backup_20260113_000000\/user_data\/models\/box.3mf/,
    ],
  ];
  for (const [dir, kind, reason] of bad) {
    it(`fails ${dir} (${kind}) with a clear reason and leaves no temp file`, async () => {
      const r = await verifyBackup(kind === 'tar' ? fixture(dir) : dbFixture(dir), { config, inline: true });
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(reason);
      expect(r.problems[0]).toBe(r.reason);
      expect(readdirSync(spoolDir)).toEqual([]);
    });
  }

  it('refuses and reports every hostile entry, and stops at the oversized one', async () => {
    const r = await verifyBackup(fixture('hostile'), { config, inline: true });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(
      /^refused: 9 hostile entries \(first: \/tmp\/cadence-ops-fixture-absolute.txt: absolute path\)/,
    );
    const reasons = Object.fromEntries(r.hostile.map((h) => [path.posix.basename(h.path), h.reason]));
    expect(reasons).toEqual({
      'cadence-ops-fixture-absolute.txt': 'absolute path',
      'cadence-ops-fixture-dotdot.txt': 'path contains ".."',
      'passwd.stl': 'symbolic link pointing outside the archive (../../../../../etc/passwd)',
      'abs-link.stl': 'symbolic link to an absolute path (/etc/shadow)',
      'hard.stl': 'hard link pointing outside the archive (../etc/hostname)',
      null: 'device file',
      sda: 'device file',
      pipe: 'named pipe (FIFO)',
      'huge.stl': '2 MB, over the cap of 1 MB (backups.maxEntryMb)',
    });
    expect(r.problems[0]).toMatch(/^verification stopped at .*huge.stl/);
    // Nothing was written where the entries point.
    expect(() => readFileSync('/tmp/cadence-ops-fixture-absolute.txt')).toThrow();
  });

  it('with the default entry cap, reads the hostile archive to the end and still refuses it', async () => {
    const r = await verifyBackup(fixture('hostile'), {
      config: configSchema.parse({ backups: { tempDir: spoolDir } }),
      inline: true,
    });
    expect(r.ok).toBe(false);
    expect(r.hostile).toHaveLength(8);
    expect(r.reason).toMatch(/^refused: 8 hostile entries/);
    // The rest of the archive was still checked: the manifest does not list the extra entry.
    expect(r.problems).toContain('user_data/models/huge.stl is in the archive but not in the manifest');
  });

  it('takes a trusted database check only for the very bytes it was made for', async () => {
    const good = { ok: true, integrity: ['ok'], counts: { models: 40, metadata: 40 }, error: null };
    const wrong = { sha256: '0'.repeat(64), check: Promise.resolve(good) };
    for (const file of [fixture('good'), dbFixture('good')]) {
      const r = await verifyBackup(file, { config, inline: true, trustedDatabase: wrong });
      expect(r.ok).toBe(false);
      expect(r.reason).toBe('database: the database inside differs from the snapshot it was made from');
    }
    // The right sha256: the trusted result stands (no spool, no second check).
    const dbBytes = gunzipSync(readFileSync(dbFixture('good')));
    const right = {
      sha256: createHash('sha256').update(dbBytes).digest('hex'),
      check: Promise.resolve(good),
    };
    const r = await verifyBackup(dbFixture('good'), { config, inline: true, trustedDatabase: right });
    expect(r.ok).toBe(true);
    expect(r.database).toEqual(good);
  });

  it('says so for a missing file, an empty file and a file not named like a backup', async () => {
    const missing = await verifyBackup(path.join(tmp, 'full_backup_20260101_000000.tar.gz'), {
      config,
      inline: true,
    });
    expect(missing.reason).toMatch(/no such file/);
    const empty = path.join(tmp, 'candy_cadence_backup_20260101_000000.db.gz');
    writeFileSync(empty, '');
    expect((await verifyBackup(empty, { config, inline: true })).reason).toBe('the file is empty');
    const odd = path.join(tmp, 'notes.txt');
    writeFileSync(odd, 'x');
    expect((await verifyBackup(odd, { config, inline: true })).reason).toMatch(/not named like a backup/);
  });

  it('refuses an archive whose entries are not under the folder its name promises', async () => {
    const renamed = path.join(tmp, 'full_backup_20300101_000000.tar.gz');
    writeFileSync(renamed, readFileSync(fixture('good')));
    const r = await verifyBackup(renamed, { config, inline: true });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/hostile.*outside the top folder full_backup_20300101_000000\//);
  });
});

describe('TarReader', () => {
  const collect = (chunks: Buffer[]) => {
    const seen: Array<{ entry: TarEntry; sha: string }> = [];
    let hash = createHash('sha256');
    const reader = new TarReader({
      onEntry: () => {
        hash = createHash('sha256');
      },
      onData: (d) => hash.update(d),
      onEntryEnd: (entry) => seen.push({ entry, sha: hash.digest('hex') }),
    });
    for (const c of chunks) reader.write(c);
    reader.end();
    return seen.map((s) => ({
      path: s.entry.path,
      type: s.entry.type,
      size: s.entry.size,
      sha: s.sha,
      linkpath: s.entry.linkpath,
    }));
  };
  const split = (buf: Buffer, size: number) => {
    const out: Buffer[] = [];
    for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
    return out;
  };

  it('reads GNU tar output (long names, symlinks, empty files) the same at every chunk size', () => {
    const src = path.join(tmp, 'gnu');
    const long = `${'a'.repeat(120)}/${'b'.repeat(130)}.stl`;
    mkdirSync(path.join(src, 'top', path.dirname(long)), { recursive: true });
    writeFileSync(path.join(src, 'top', long), 'long name\n');
    writeFileSync(path.join(src, 'top/empty.txt'), '');
    writeFileSync(path.join(src, 'top/模型.obj'), Buffer.alloc(70_000, 7));
    symlinkSync('empty.txt', path.join(src, 'top/link'));
    const archives = [
      execFileSync('tar', ['-C', src, '-cf', '-', 'top']),
      execFileSync('tar', ['--format=pax', '-C', src, '-cf', '-', 'top']),
    ];
    for (const tarBytes of archives) {
      const whole = collect([tarBytes]);
      expect(whole.map((e) => e.path)).toContain(`top/${long}`);
      expect(whole.find((e) => e.path === 'top/link')).toMatchObject({
        type: 'SymbolicLink',
        linkpath: 'empty.txt',
      });
      expect(whole.find((e) => e.path === 'top/模型.obj')).toMatchObject({
        size: 70_000,
        sha: createHash('sha256').update(Buffer.alloc(70_000, 7)).digest('hex'),
      });
      for (const size of [1, 7, 511, 513, 4096]) expect(collect(split(tarBytes, size))).toEqual(whole);
    }
  });

  it('reads back what encodeHeader writes, pax headers included, and GNU tar agrees', () => {
    const long = `top/${'x'.repeat(180)}/${'y'.repeat(150)}.3mf`;
    const data = Buffer.from('payload');
    const tarBytes = Buffer.concat([
      encodeHeader({ path: 'top/', type: 'Directory', size: 0, mode: 0o755, mtime: new Date() }),
      encodeHeader({ path: long, type: 'File', size: data.length, mode: 0o644, mtime: new Date() }),
      data,
      Buffer.alloc(paddingFor(data.length)),
      END_OF_ARCHIVE,
    ]);
    expect(collect([tarBytes]).map((e) => e.path)).toEqual(['top/', long]);
    const listed = execFileSync('tar', ['-tf', '-'], { input: tarBytes }).toString().trim().split('\n');
    expect(listed).toEqual(['top/', long]);
  });

  it('requires the end-of-archive marker and rejects data after it', () => {
    const data = Buffer.from('abc');
    const body = Buffer.concat([
      encodeHeader({ path: 'top/a', type: 'File', size: 3, mode: 0o644, mtime: new Date() }),
      data,
      Buffer.alloc(paddingFor(3)),
    ]);
    expect(() => collect([body])).toThrow(/no end-of-archive marker after 1 entries/);
    expect(() => collect([Buffer.concat([body, Buffer.alloc(512)])])).toThrow(
      /one of the two end-of-archive blocks/,
    );
    expect(collect([Buffer.concat([body, END_OF_ARCHIVE, Buffer.alloc(9216)])])).toHaveLength(1);
    expect(() => collect([Buffer.concat([body, END_OF_ARCHIVE, Buffer.from('hidden')])])).toThrow(
      /data after the end-of-archive marker/,
    );
    expect(() => collect([Buffer.concat([body, Buffer.alloc(512), body, END_OF_ARCHIVE])])).toThrow(
      /lone zero block/,
    );
  });

  it('refuses a directory entry that declares data (tools read it differently)', () => {
    const block = encodeHeader({
      path: 'top/d/',
      type: 'Directory',
      size: 0,
      mode: 0o755,
      mtime: new Date(),
    });
    // Forge a size of 512 into the header and fix its checksum, as a hostile archive would.
    block.write('00000001000\0', 124, 'latin1');
    block.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of block) sum += b;
    block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(() => collect([Buffer.concat([block, Buffer.alloc(512, 1), END_OF_ARCHIVE])])).toThrow(
      /Directory entry top\/d\/ .* declares 512 data bytes/,
    );
  });
});
