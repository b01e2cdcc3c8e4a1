import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findOpenFileHolders,
  findOpenFileHoldersSync,
  sqliteFileSet,
  summariseHolders,
} from '../services/open-files.js';
import { HOLD_DATABASE, HOLD_FILES, type Holder, repoRoot, startHolder } from './helpers/holder-process.js';

let dir: string;
const holders: Holder[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-open-files-'));
});
afterAll(async () => {
  await Promise.all(holders.map((h) => h.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('open-files', () => {
  it('finds the process holding a database, its -wal and -shm, with pid, command line, fd and mode', async () => {
    const db = path.join(dir, 'app.db');
    const h = await startHolder(HOLD_DATABASE, [db]);
    holders.push(h);
    const scan = await findOpenFileHolders(sqliteFileSet(db));
    const mine = scan.holders.filter((x) => x.pid === h.pid);
    expect(mine.map((x) => path.basename(x.file)).sort()).toEqual(['app.db', 'app.db-shm', 'app.db-wal']);
    for (const x of mine) {
      expect(x.cmdline).toContain('cadence-test-holder');
      expect(x.command).toBe('node');
      expect(x.fd).toBeGreaterThan(2);
      expect(x.mode).toBe('rw');
      expect(x.deleted).toBe(false);
      expect(x.self).toBe(false);
      expect(x.ppid).toBe(process.pid);
    }
    const summary = summariseHolders(mine);
    expect(summary).toHaveLength(1);
    expect(summary[0]!.files).toHaveLength(3);
    expect(scan.scanned).toBeGreaterThan(1);
    await h.stop();
    const after = findOpenFileHoldersSync(sqliteFileSet(db));
    expect(after.holders.filter((x) => x.pid === h.pid)).toEqual([]);
  });

  it('reports read-only descriptors, files reached through a symlink, and a file replaced under a holder', async () => {
    const real = path.join(dir, 'real');
    mkdirSync(real);
    const a = path.join(real, 'a.txt');
    const b = path.join(real, 'b.txt');
    writeFileSync(a, 'a');
    writeFileSync(b, 'b');
    const link = path.join(dir, 'link');
    symlinkSync(real, link);
    const h = await startHolder(HOLD_FILES, ['r', path.join(link, 'a.txt'), b]);
    holders.push(h);
    // Asked by the symlinked name, found under the real one.
    const viaLink = findOpenFileHoldersSync([path.join(link, 'a.txt')]);
    const ha = viaLink.holders.find((x) => x.pid === h.pid);
    expect(ha?.mode).toBe('r');
    expect(ha?.path).toBe(a);
    expect(ha?.file).toBe(path.join(link, 'a.txt'));
    // b is replaced (as a restore would): the holder still has the old, deleted inode.
    rmSync(b);
    writeFileSync(b, 'new b');
    const replaced = findOpenFileHoldersSync([b]).holders.find((x) => x.pid === h.pid);
    expect(replaced?.deleted).toBe(true);
  });

  it('leaves itself out unless asked', async () => {
    const file = path.join(dir, 'self.txt');
    writeFileSync(file, 'x');
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(file, 'r');
    try {
      expect(findOpenFileHoldersSync([file]).holders).toEqual([]);
      const withSelf = findOpenFileHoldersSync([file], { includeSelf: true }).holders;
      expect(withSelf).toHaveLength(1);
      expect(withSelf[0]).toMatchObject({ pid: process.pid, fd, self: true });
    } finally {
      closeSync(fd);
    }
  });

  it('tolerates processes that vanish mid-scan and dangling descriptors (a fake /proc)', () => {
    const proc = path.join(dir, 'proc');
    const target = path.join(dir, 'target.db');
    writeFileSync(target, '');
    // 100: holds the file; 200: vanished (no fd folder); 300: a descriptor closed between list and readlink.
    mkdirSync(path.join(proc, '100/fd'), { recursive: true });
    mkdirSync(path.join(proc, '100/fdinfo'), { recursive: true });
    symlinkSync(target, path.join(proc, '100/fd/7'));
    writeFileSync(path.join(proc, '100/fdinfo/7'), 'pos:\t0\nflags:\t0100002\nmnt_id:\t1\n');
    writeFileSync(path.join(proc, '100/comm'), 'python3\n');
    writeFileSync(path.join(proc, '100/cmdline'), 'python3\0candy_cadence.py\0');
    writeFileSync(path.join(proc, '100/stat'), '100 (python3 app) S 1 100 100 0 -1 4194560 0 0 0 0');
    mkdirSync(path.join(proc, '200'));
    mkdirSync(path.join(proc, '300/fd'), { recursive: true });
    writeFileSync(path.join(proc, 'self'), '');
    const scan = findOpenFileHoldersSync([target], { procRoot: proc, selfPid: 1 });
    expect(scan.holders).toEqual([
      {
        pid: 100,
        command: 'python3',
        cmdline: 'python3 candy_cadence.py',
        fd: 7,
        path: target,
        file: target,
        deleted: false,
        mode: 'rw',
        self: false,
        ppid: 1,
      },
    ]);
    expect(scan).toMatchObject({ scanned: 3, vanished: 1, unreadable: 0 });
  });

  it('counts processes it may not read instead of failing (run as an unprivileged user)', async (t) => {
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) {
      t.skip();
      return;
    }
    const h = await startHolder(HOLD_FILES, ['r', path.join(repoRoot, 'package.json')]);
    holders.push(h);
    const out = path.join(dir, 'nobody');
    mkdirSync(out);
    await esbuild.build({
      entryPoints: [path.join(repoRoot, 'services/open-files.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: path.join(out, 'open-files.mjs'),
      logLevel: 'silent',
    });
    writeFileSync(
      path.join(out, 'run.mjs'),
      `import { findOpenFileHoldersSync } from './open-files.mjs';\n` +
        `console.log(JSON.stringify(findOpenFileHoldersSync([${JSON.stringify(path.join(repoRoot, 'package.json'))}])));\n`,
    );
    chmodSync(dir, 0o755);
    chmodSync(out, 0o755);
    const r = spawnSync(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, path.join(out, 'run.mjs')],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const scan = JSON.parse(r.stdout);
    // Root's holder is invisible to nobody: counted as unreadable, not an error.
    expect(scan.unreadable).toBeGreaterThan(0);
    expect(scan.holders.some((x: { pid: number }) => x.pid === h.pid)).toBe(false);
  });
});
