import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSite } from '../services/demo-site.js';
import { classifyLogName, discoverLogFiles } from '../services/log-files.js';

describe('log file discovery', () => {
  it('classifies the three rotation schemes and the demo site’s names', () => {
    expect(classifyLogName('candy_cadence.log')).toEqual({
      base: 'candy_cadence.log',
      scheme: 'live',
      compressed: false,
    });
    expect(classifyLogName('candy_cadence.log.10')).toMatchObject({
      base: 'candy_cadence.log',
      scheme: 'numbered',
      index: 10,
    });
    expect(classifyLogName('error.log.2.gz')).toMatchObject({
      base: 'error.log',
      scheme: 'numbered',
      compressed: true,
    });
    expect(classifyLogName('candy_cadence_20261122_101010.log.gz')).toMatchObject({
      base: 'candy_cadence.log',
      scheme: 'maintenance',
      compressed: true,
      stamp: new Date(2026, 10, 22, 10, 10, 10).getTime(),
    });
    expect(classifyLogName('candy_cadence_20261122_101010.log')).toMatchObject({
      scheme: 'maintenance',
      compressed: false,
    });
    expect(classifyLogName('error.20261122.log.gz')).toMatchObject({ base: 'error.log', scheme: 'daily' });
    expect(classifyLogName('plugins.log')).toMatchObject({ scheme: 'live' });
    expect(classifyLogName('notes.txt')).toBeNull();
    expect(classifyLogName('.hidden.log')).toBeNull();
  });

  const root = mkdtempSync(path.join(os.tmpdir(), 'cadence-files-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds every file of a built demo site', async () => {
    await buildSite(root, {
      models: 50,
      modelFiles: 'none',
      thumbnails: 2,
      backups: false,
      logHistoryHours: 4,
      seed: 3,
    });
    const d = discoverLogFiles(path.join(root, 'logs'));
    expect(d.live.map((f) => f.name)).toEqual([
      'candy_cadence.log',
      'error.log',
      'performance.log',
      'database.log',
      'parser.log',
    ]);
    expect(d.missing).toEqual([]);
    expect(d.history.length).toBe(15);
    expect(d.history.filter((f) => f.scheme === 'maintenance').map((f) => f.base)).toEqual([
      'candy_cadence.log',
    ]);
    expect(d.history.filter((f) => f.scheme === 'daily').length).toBe(4);
    expect(d.history.filter((f) => f.scheme === 'numbered').length).toBe(10);
  });

  it('reads a rotated file kept plain beside its .gz only once (the plain one)', () => {
    const dir = path.join(root, 'twin');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'candy_cadence_20261122_101010.log'), 'a\nb\n');
    writeFileSync(path.join(dir, 'candy_cadence_20261122_101010.log.gz'), gzipSync('a\n'));
    writeFileSync(path.join(dir, 'error.20261122.log.gz'), gzipSync('x\n'));
    const d = discoverLogFiles(dir);
    expect(d.history.map((f) => f.name).sort()).toEqual([
      'candy_cadence_20261122_101010.log',
      'error.20261122.log.gz',
    ]);
  });

  it('reports a missing folder without throwing', () => {
    const d = discoverLogFiles(path.join(root, 'nope'));
    expect(d.errors.length).toBe(1);
    expect(d.missing.length).toBe(5);
  });
});
