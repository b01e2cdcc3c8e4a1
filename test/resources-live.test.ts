// Live smoke test on this machine: the real /proc, a real application process (a child titled
// like Candy-Cadence, with a pid file), its death, and a stale pid file afterwards.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sampler } from '../services/sampler.js';

let dir: string;
let child: ChildProcess | null = null;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-live-'));
});
afterEach(() => {
  child?.kill('SIGKILL');
  child = null;
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live sampling on this machine', () => {
  it('reads the host and the application, then notices it is gone and its pid file is stale', async () => {
    const marker = `candy_cadence_live_${process.pid}_${Date.now()}`;
    // A busy child holding a few files open, titled with the pattern.
    child = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const fds = [0,1,2,3].map(() => fs.openSync(${JSON.stringify(dir)}, 'r'));
         const keep = []; setInterval(() => { keep.push(Buffer.alloc(1 << 20, 1)); let x = 0; for (let i = 0; i < 2e6; i++) x += i; }, 20);`,
        marker,
      ],
      { stdio: 'ignore' },
    );
    const pidFile = path.join(dir, 'candy_cadence.pid');
    writeFileSync(pidFile, `${child.pid}\n`);
    await sleep(300);
    const sampler = new Sampler({
      marks: [
        { label: 'site', path: dir },
        { label: 'backups', path: path.join(dir, 'backups-not-yet-created') },
      ],
      app: { pidFile, pattern: marker },
    });
    sampler.sample();
    await sleep(400);
    const snap = sampler.sample();
    expect(snap.unavailable).toEqual({});
    expect(snap.cpu!.percent).toBeGreaterThanOrEqual(0);
    expect(snap.cpu!.percent).toBeLessThanOrEqual(100);
    expect(snap.cpu!.coreCount).toBe(os.cpus().length);
    expect(snap.cpu!.cores).toHaveLength(os.cpus().length);
    expect(Math.abs(snap.memory!.totalBytes - os.totalmem())).toBeLessThan(1024 * 1024);
    expect(Math.abs(snap.load!.one - os.loadavg()[0]!)).toBeLessThan(0.5);
    const site = snap.filesystems!.find((f) => f.marks.includes('site'))!;
    expect(site).toBeDefined();
    // The backup folder does not exist yet: it is on its nearest existing parent's filesystem, the same here.
    expect(site.marks).toEqual(['site', 'backups']);
    expect(site.totalBytes).toBe(statfsSync(dir).blocks * statfsSync(dir).bsize);
    expect(snap.filesystems!.some((f) => f.mountPoint === '/')).toBe(true);
    expect(snap.network!.some((n) => n.name === 'lo')).toBe(true);
    expect(snap.app).toMatchObject({ running: true, pid: child.pid, via: 'pid file', stalePidFile: null });
    expect(snap.app.cpuPercent!).toBeGreaterThan(0);
    expect(snap.app.rssBytes!).toBeGreaterThan(20 * 1024 * 1024);
    expect(snap.app.threads!).toBeGreaterThanOrEqual(4);
    expect(snap.app.openFiles!).toBeGreaterThanOrEqual(7);
    expect(snap.app.uptimeSeconds!).toBeGreaterThan(0.2);
    expect(snap.app.uptimeSeconds!).toBeLessThan(30);
    expect(snap.app.cmdline).toContain(marker);

    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const gone = sampler.sample();
    expect(gone.app.running).toBe(false);
    expect(gone.app.notRunningSince).toBe(gone.at);
    expect(gone.app.stalePidFile!.reason).toMatch(/which is not running/);
    sampler.close();
  });
});
