import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { BackupError } from '../services/backup-errors.js';
import { ParallelGzipWriter } from '../services/backup-gzip.js';
import { listBackups } from '../services/backup-list.js';
import type { BackupProgress } from '../services/backup-progress.js';
import { makeSite, type TestSite } from './helpers/backup-site.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const mode = (f: string) => statSync(f).mode & 0o777;
const dotFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.'));

let site: TestSite | null = null;
afterEach(() => {
  site?.cleanup();
  site = null;
});

/** Counts gzip members by walking them with zlib: each header parsed, each member inflated on its own. */
function gzipMembers(buf: Buffer): number {
  let count = 0;
  let off = 0;
  while (off < buf.length) {
    expect(buf[off]).toBe(0x1f);
    expect(buf[off + 1]).toBe(0x8b);
    const flags = buf[off + 3]!;
    let p = off + 10;
    if (flags & 0x04) p += 2 + buf.readUInt16LE(p);
    const { engine } = inflateRawSync(buf.subarray(p), { info: true }) as unknown as {
      engine: { bytesWritten: number };
    };
    const end = p + engine.bytesWritten + 8;
    // Our members announce their own size in the extra field.
    expect(buf.subarray(off + 12, off + 14).toString('latin1')).toBe('CO');
    expect(buf.readUInt32LE(off + 16)).toBe(end - off);
    off = end;
    count++;
  }
  return count;
}

describe('createBackup: database', () => {
  it('writes a consistent gzip snapshot, 0600 in a 0700 folder, verified and recorded', async () => {
    site = await makeSite();
    const r = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'database',
      stateDb: site.stateDb,
    });
    expect(r.name).toMatch(/^candy_cadence_backup_\d{8}_\d{6}\.db\.gz$/);
    expect(r.file).toBe(path.join(site.paths.backups, r.name));
    expect(mode(r.file)).toBe(0o600);
    expect(mode(site.paths.backups)).toBe(0o700);
    expect(r.verification?.ok).toBe(true);
    // GNU gzip agrees, and the database inside is the live one.
    execFileSync('gzip', ['-t', r.file]);
    const dbFile = path.join(site.dir, 'check.db');
    writeFileSync(dbFile, gunzipSync(readFileSync(r.file)));
    const db = new Database(dbFile, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT count(*) AS n FROM models').get() as { n: number }).n).toBe(300);
    db.close();
    const listed = listBackups({ paths: site.paths, stateDb: site.stateDb }).backups;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: r.name, kind: 'database', state: 'verified' });
    expect(dotFiles(site.paths.backups)).toEqual([]);
  });

  it('refuses with a clear error when the application holds the database locked, leaving nothing behind', async () => {
    site = await makeSite({ config: { backups: { busyTimeoutMs: 300 } } });
    const earlier = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'database',
      now: () => Date.now() - 3600_000,
    });
    const earlierHash = sha(readFileSync(earlier.file));
    // The application in exclusive locking mode: after its first write nobody else may read.
    const app = new Database(site.paths.database);
    app.pragma('locking_mode = EXCLUSIVE');
    app.prepare('UPDATE models SET load_time_ms = 1 WHERE id = 1').run();
    try {
      for (const kind of ['database', 'full'] as const) {
        const err = await createBackup({ paths: site.paths, config: site.config, kind, inline: true }).catch(
          (e) => e,
        );
        expect(err).toBeInstanceOf(BackupError);
        expect(err.code).toBe('LOCKED');
        expect(err.message).toMatch(
          /is locked by another process \(still busy after 300 ms, backups.busyTimeoutMs\)/,
        );
      }
    } finally {
      app.close();
    }
    expect(readdirSync(site.paths.backups)).toEqual([earlier.name]);
    expect(sha(readFileSync(earlier.file))).toBe(earlierHash);
  });

  it('never replaces an existing backup of the same name', async () => {
    site = await makeSite();
    const at = Date.now();
    const first = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'database',
      now: () => at,
    });
    const hash = sha(readFileSync(first.file));
    const err = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'database',
      now: () => at,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect(err.code).toBe('EXISTS');
    expect(sha(readFileSync(first.file))).toBe(hash);
    expect(dotFiles(site.paths.backups)).toEqual([]);
  });
});

describe('createBackup: full', () => {
  it('writes exactly the SITE.md layout with a manifest that GNU tar and sha256 agree with', async () => {
    site = await makeSite();
    // A long and a non-ASCII name (pax headers), and a symbolic link (left out, reported).
    const longName = `${'very_long_model_name_'.repeat(9)}.stl`;
    writeFileSync(path.join(site.paths.models, longName), 'solid long\nendsolid long\n');
    writeFileSync(path.join(site.paths.models, 'modèle_été.obj'), 'v 0 0 0\n');
    mkdirSync(path.join(site.paths.models, 'empty-folder'));
    // Over two 4 MiB gzip members' worth.
    const big = Buffer.alloc(9 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(path.join(site.paths.models, 'big.stl'), big);
    symlinkSync('/etc/passwd', path.join(site.paths.models, 'passwd.stl'));
    const progress: BackupProgress[] = [];
    const r = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'full',
      stateDb: site.stateDb,
      onProgress: (p) => progress.push(p),
    });
    expect(r.name).toMatch(/^full_backup_\d{8}_\d{6}\.tar\.gz$/);
    const top = r.name.replace(/\.tar\.gz$/, '');
    expect(r.verification?.ok).toBe(true);
    expect(r.warnings).toEqual([
      `${path.join(site.paths.models, 'passwd.stl')} is a symbolic link; not backed up`,
    ]);
    expect(mode(r.file)).toBe(0o600);

    // Multi-member gzip, read by GNU gzip and tar like any other .tar.gz.
    const bytes = readFileSync(r.file);
    expect(gzipMembers(bytes)).toBe(r.members);
    expect(r.members).toBeGreaterThan(1);
    execFileSync('gzip', ['-t', r.file]);
    const out = path.join(site.dir, 'extracted');
    mkdirSync(out);
    execFileSync('tar', ['-xzf', r.file, '-C', out]);
    expect(readdirSync(out)).toEqual([top]);
    const t = path.join(out, top);
    expect(readdirSync(t).sort()).toEqual([
      'backup_manifest.json',
      'configuration',
      'database',
      'logs',
      'user_data',
    ]);
    expect(readdirSync(path.join(t, 'database'))).toEqual(['candy_cadence.db']);
    expect(readdirSync(path.join(t, 'configuration')).sort()).toEqual(
      ['.env', 'config.json', 'pyinstaller.spec', 'requirements.txt', 'settings.json'].sort(),
    );
    expect(readdirSync(path.join(t, 'user_data')).sort()).toEqual([
      'cache',
      'models',
      'themes',
      'thumbnails',
    ]);
    expect(readdirSync(path.join(t, 'logs'))).toEqual(['logs']);
    expect(readdirSync(path.join(t, 'logs/logs')).sort()).toEqual(readdirSync(site.paths.logs).sort());
    expect(existsSync(path.join(t, 'user_data/models/empty-folder'))).toBe(true);
    expect(existsSync(path.join(t, 'user_data/models/passwd.stl'))).toBe(false);
    expect(statSync(path.join(t, 'configuration/.env')).mode & 0o777).toBe(0o600);

    // The files are the live ones, byte for byte.
    expect(readFileSync(path.join(t, 'user_data/models', longName))).toEqual(
      readFileSync(path.join(site.paths.models, longName)),
    );
    expect(readFileSync(path.join(t, 'user_data/models/modèle_été.obj'))).toEqual(
      readFileSync(path.join(site.paths.models, 'modèle_été.obj')),
    );
    expect(readFileSync(path.join(t, 'configuration/.env'))).toEqual(readFileSync(site.paths.envFile));

    // The manifest: SITE.md keys, every file but itself, checksums that sha256sum confirms.
    const manifest = JSON.parse(readFileSync(path.join(t, 'backup_manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ backup_type: 'full', version: '1.4.2' });
    expect(new Date(manifest.timestamp).toISOString()).toBe(manifest.timestamp);
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: t })
      .toString()
      .trim()
      .split('\n')
      .map((f) => f.slice(2))
      .filter((f) => f !== 'backup_manifest.json')
      .sort();
    expect(Object.keys(manifest.checksums).sort()).toEqual(files);
    expect(manifest.file_count).toBe(files.length);
    const sums = execFileSync('sha256sum', files, { cwd: t, maxBuffer: 1 << 24 }).toString();
    for (const line of sums.trim().split('\n')) {
      const [hash, file] = line.split(/\s+/, 2) as [string, string];
      expect(manifest.checksums[file], file).toBe(hash);
    }
    const total = files.reduce((s, f) => s + statSync(path.join(t, f)).size, 0);
    expect(manifest.total_size_bytes).toBe(total);

    // Progress: phases in order, bytes per second, an ETA, the end reached.
    const phases = [...new Set(progress.map((p) => p.phase))];
    expect(phases).toEqual(['snapshot', 'archive', 'verify']);
    const lastArchive = progress.filter((p) => p.phase === 'archive').pop()!;
    expect(lastArchive.done).toBe(lastArchive.total);
    expect(lastArchive.bytesPerSecond).toBeGreaterThan(0);
    expect(lastArchive.etaSeconds).toBe(0);
    expect(dotFiles(site.paths.backups)).toEqual([]);
  });

  it('copies to the secondary location, verified there, private there too', async () => {
    site = await makeSite({ config: { paths: { secondaryBackups: '../mirror' } } });
    const r = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'full',
      stateDb: site.stateDb,
    });
    const mirror = path.join(site.dir, 'mirror');
    expect(r.secondary).toMatchObject({ file: path.join(mirror, r.name), error: null });
    expect(r.secondary?.verification?.ok).toBe(true);
    expect(readFileSync(path.join(mirror, r.name))).toEqual(readFileSync(r.file));
    expect(mode(mirror)).toBe(0o700);
    expect(mode(path.join(mirror, r.name))).toBe(0o600);
    const listed = listBackups({ paths: site.paths, stateDb: site.stateDb }).backups;
    expect(listed.map((b) => [b.location, b.state])).toEqual([
      ['primary', 'verified'],
      ['secondary', 'verified'],
    ]);
    expect(dotFiles(mirror)).toEqual([]);
  });

  it('stops when cancelled and leaves no file behind', async () => {
    site = await makeSite();
    const controller = new AbortController();
    const err = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'full',
      inline: true,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'archive') controller.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect(err.code).toBe('CANCELLED');
    expect(readdirSync(site.paths.backups)).toEqual([]);
  });

  it('a safety snapshot holds only its scope and says so in its manifest', async () => {
    site = await makeSite();
    const r = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'pre_restore',
      scope: 'config',
      inline: true,
    });
    expect(r.name).toMatch(/^pre_restore_\d{8}_\d{6}\.tar\.gz$/);
    expect(r.verification?.ok).toBe(true);
    expect(r.verification?.manifest).toMatchObject({
      backup_type: 'pre_restore',
      scope: 'config',
      file_count: 5,
    });
    const listing = execFileSync('tar', ['-tzf', r.file]).toString();
    expect(listing).not.toMatch(/database\/|user_data\/|logs\//);
  });
});

describe('ParallelGzipWriter', () => {
  it('passes a full disk on as an error and writes nothing more', async () => {
    let writes = 0;
    const sink = {
      async write() {
        if (++writes === 2)
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    const gz = new ParallelGzipWriter(sink, { chunkBytes: 1024, threads: 2 });
    const err = await (async () => {
      for (let i = 0; i < 100; i++) await gz.write(Buffer.alloc(1000, i));
      await gz.end();
    })().catch((e) => e);
    expect(err?.code).toBe('ENOSPC');
    expect(writes).toBe(2);
  });

  it('produces one valid stream whatever the chunk size', async () => {
    const input = Buffer.from(Array.from({ length: 10_000 }, (_, i) => `line ${i}\n`).join(''));
    for (const chunkBytes of [1000, 65_536, 10_000_000]) {
      const parts: Buffer[] = [];
      const gz = new ParallelGzipWriter({ write: async (b) => void parts.push(b) }, { chunkBytes });
      for (let i = 0; i < input.length; i += 7777) await gz.write(input.subarray(i, i + 7777));
      await gz.end();
      expect(gunzipSync(Buffer.concat(parts))).toEqual(input);
    }
    const empty: Buffer[] = [];
    const gz = new ParallelGzipWriter({ write: async (b) => void empty.push(b) });
    await gz.end();
    expect(gunzipSync(Buffer.concat(empty))).toEqual(Buffer.alloc(0));
  });
});
