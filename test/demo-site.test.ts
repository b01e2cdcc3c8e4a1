import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempSite, type TempSite } from './helpers/temp-site.js';

describe('demo site builder', () => {
  let site: TempSite;
  beforeAll(async () => {
    site = await makeTempSite({ models: 500, backups: true, demo: true });
  });
  afterAll(() => site.cleanup());

  it('lays out a site as SITE.md describes', () => {
    for (const p of [
      'config.json',
      'settings.json',
      '.env',
      'requirements.txt',
      'pyinstaller.spec',
      'data/candy_cadence.db',
      'data/models',
      'data/thumbnails',
      'data/cache',
      'resources/themes',
      'logs',
      'backups',
      'temp',
      '.cadence-ops-demo',
    ]) {
      expect(existsSync(path.join(site.root, p)), p).toBe(true);
    }
    expect(statSync(path.join(site.root, '.env')).mode & 0o077).toBe(0);
    expect(statSync(path.join(site.root, 'backups')).mode & 0o777).toBe(0o700);
  });

  it('creates the database in WAL mode with models, metadata, tags, FTS5, and without some recommended indexes', () => {
    const db = new Database(path.join(site.root, 'data/candy_cadence.db'), { readonly: true });
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(count('SELECT count(*) AS n FROM models')).toBe(500);
    expect(count('SELECT count(*) AS n FROM metadata')).toBe(2500);
    expect(count('SELECT count(*) AS n FROM tags')).toBe(20);
    expect(count("SELECT count(*) AS n FROM models_fts WHERE models_fts MATCH 'gear'")).toBeGreaterThan(0);
    const indexes = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%'").all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
    expect(indexes).toEqual(['idx_models_name']);
    db.close();
  });

  it('writes model files of every format and the malformed ones', () => {
    const models = readdirSync(path.join(site.root, 'data/models'));
    for (const ext of ['.stl', '.obj', '.3mf', '.step'])
      expect(
        models.some((m) => m.endsWith(ext)),
        ext,
      ).toBe(true);
    const stl = readFileSync(
      path.join(site.root, 'data/models', models.find((m) => m.endsWith('_binary.stl'))!),
    );
    expect(stl.length).toBe(84 + stl.readUInt32LE(80) * 50);
    expect(readdirSync(path.join(site.root, 'data/models/broken')).sort()).toEqual([
      'broken_container.3mf',
      'broken_empty.stl',
      'broken_header.step',
      'broken_header.stl',
      'broken_indices.obj',
      'broken_truncated.stl',
    ]);
  });

  it('has thumbnails as real PNGs and a cache with stale entries', () => {
    const png = readFileSync(path.join(site.root, 'data/thumbnails/1.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const weekAgo = Date.now() - 7 * 86400_000;
    const cache = readdirSync(path.join(site.root, 'data/cache')).map(
      (f) => statSync(path.join(site.root, 'data/cache', f)).mtimeMs,
    );
    expect(cache.filter((t) => t < weekAgo).length).toBeGreaterThan(5);
    expect(cache.filter((t) => t >= weekAgo).length).toBeGreaterThan(5);
  });

  it('writes log history with RotatingFileHandler copies and gzipped ones', () => {
    const logs = readdirSync(path.join(site.root, 'logs'));
    for (const f of ['candy_cadence.log', 'error.log', 'performance.log', 'database.log', 'parser.log']) {
      expect(logs).toContain(f);
      expect(logs).toContain(`${f}.1`);
    }
    const gz = logs.filter((f) => f.endsWith('.log.gz'));
    expect(gz.some((f) => /^candy_cadence_\d{8}_\d{6}\.log\.gz$/.test(f))).toBe(true);
    expect(gz.some((f) => /^error\.\d{8}\.log\.gz$/.test(f))).toBe(true);
    const text = gunzipSync(readFileSync(path.join(site.root, 'logs', gz[0]!))).toString();
    expect(text).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - /);
  });

  it('writes backups of both kinds in the SITE.md formats, one of them corrupt', async () => {
    const names = readdirSync(path.join(site.root, 'backups'));
    const dbBackups = names.filter((n) => /^candy_cadence_backup_\d{8}_\d{6}\.db\.gz$/.test(n));
    const full = names.filter((n) => /^full_backup_\d{8}_\d{6}\.tar\.gz$/.test(n));
    expect(dbBackups.length).toBeGreaterThanOrEqual(4);
    expect(full.length).toBeGreaterThanOrEqual(2);
    const broken = dbBackups.filter((n) => {
      try {
        gunzipSync(readFileSync(path.join(site.root, 'backups', n)));
        return false;
      } catch {
        return true;
      }
    });
    expect(broken.length).toBe(1);
    const entries: string[] = [];
    await tar.t({
      file: path.join(site.root, 'backups', full[0]!),
      onReadEntry: (e) => void entries.push(e.path),
    });
    const top = full[0]!.replace('.tar.gz', '');
    expect(entries).toContain(`${top}/backup_manifest.json`);
    expect(entries).toContain(`${top}/database/candy_cadence.db`);
    expect(entries).toContain(`${top}/configuration/config.json`);
    expect(entries.some((e) => e.startsWith(`${top}/user_data/models/`))).toBe(true);
    expect(entries.some((e) => e.startsWith(`${top}/logs/logs/`))).toBe(true);
  });
});
