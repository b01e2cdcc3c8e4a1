// The sampler on captured and hand-made /proc roots: rates across wrap and restart, the
// application found, stale, gone, and what happens when /proc cannot be read.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { counterDelta, counterRate } from '../services/proc-counters.js';
import { Sampler, type SamplerOptions } from '../services/sampler.js';
import { advanceProcRoot, copyProcRoot, fixture, writeProc } from './helpers/proc-root.js';

let dir: string;
const fakeStatfs = () => ({ bsize: 4096, blocks: 1000, bfree: 400, bavail: 350, files: 100, ffree: 50 });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-sampler-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('counters', () => {
  it('plain growth, a 32-bit wrap, and a restart', () => {
    expect(counterDelta(100, 250)).toEqual({ delta: 150, kind: 'normal' });
    expect(counterDelta(2 ** 32 - 100, 50)).toEqual({ delta: 150, kind: 'wrap32' });
    // Backwards from a value that is not near the 32-bit top: the device restarted.
    expect(counterDelta(123_456, 10)).toEqual({ delta: null, kind: 'reset' });
    // 64-bit counters past 2^32 that go back: restart, not wrap.
    expect(counterDelta(2 ** 40, 5)).toEqual({ delta: null, kind: 'reset' });
    expect(counterRate(0, 5000, 500)).toBe(10_000);
    expect(counterRate(0, 10, 2000, 512)).toBe(2560);
    expect(counterRate(5, 10, 0)).toBeNull();
    expect(counterRate(2 ** 40, 5, 1000)).toBeNull();
  });
});

describe('sampler on captured snapshots', () => {
  it('computes CPU, disk and application figures between two real captures', () => {
    const root = copyProcRoot('host-t0', path.join(dir, 'proc'));
    // The real interval between the captures, from /proc/uptime.
    const elapsedMs = Math.round(
      (Number(fixture('host-t1/uptime').split(' ')[0]) - Number(fixture('host-t0/uptime').split(' ')[0])) *
        1000,
    );
    let clock = 1_000_000;
    const sampler = new Sampler({
      procRoot: root,
      sysRoot: path.join(dir, 'no-sys'),
      now: () => clock,
      statfs: fakeStatfs,
      app: { pidFile: null, pattern: 'candy_cadence' },
      selfPid: 1,
    });
    const first = sampler.sample();
    expect(first.elapsedMs).toBeNull();
    expect(first.cpu!.percent).toBeNull();
    expect(first.cpu!.coreCount).toBe(2);
    expect(first.memory!.totalBytes).toBeGreaterThan(0);
    expect(first.filesystems!.map((f) => f.mountPoint)).toEqual(['/']);
    expect(first.filesystems![0]!.usedPercent).toBeCloseTo((600 * 100) / 950, 6);
    expect(first.disks!.map((d) => d.name)).toEqual(['vda']);
    expect(first.disks![0]!.readBytesPerSec).toBeNull();
    expect(first.app).toMatchObject({
      running: true,
      pid: 12664,
      via: 'pattern',
      threads: 7,
      cpuPercent: null,
    });
    expect(first.app.openFiles).toBe(19);
    expect(first.unavailable).toEqual({});

    advanceProcRoot('host-t1', root);
    clock += elapsedMs;
    const second = sampler.sample();
    expect(second.elapsedMs).toBe(elapsedMs);
    expect(second.cpu!.percent).toBeCloseTo((107 * 100) / 292, 6);
    expect(second.cpu!.cores[1]).toBeCloseTo((46 * 100) / 146, 6);
    const vda = second.disks![0]!;
    expect(vda.writeBytesPerSec).toBeCloseTo(((6886504 - 6755392) * 512 * 1000) / elapsedMs, 3);
    expect(vda.writesPerSec).toBeCloseTo(((9412 - 9343) * 1000) / elapsedMs, 6);
    expect(vda.busyPercent).toBeCloseTo(((9308 - 9252) * 100) / elapsedMs, 6);
    // 41+6 - (23+4) = 20 ticks of CPU in elapsedMs.
    expect(second.app.cpuPercent).toBeCloseTo((20 * 10 * 100) / elapsedMs, 6);
    expect(second.app.rssBytes).toBe(115176 * 1024);
    expect(second.app.uptimeSeconds).toBeCloseTo(1376.81 - 1373.29, 6);
    sampler.close();
  });
});

const STAT = (user: number, idle: number) =>
  `cpu  ${user} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${user} 0 0 ${idle} 0 0 0 0 0 0\nbtime 1700000000\n`;
const NETDEV = (rows: [string, number, number][]) =>
  `Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n${rows
    .map(([n, rx, tx]) => `  ${n}: ${rx} 1 0 0 0 0 0 0 ${tx} 1 0 0 0 0 0 0`)
    .join('\n')}\n`;
const DISK = (name: string, sectors: number, minor = 0) =>
  ` 8 ${minor} ${name} 10 0 ${sectors} 0 10 0 ${sectors} 0 0 100 0`;

function handMadeRoot(): string {
  const root = path.join(dir, 'proc');
  writeProc(root, 'stat', STAT(100, 900));
  writeProc(
    root,
    'meminfo',
    'MemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n',
  );
  writeProc(root, 'loadavg', '0.50 0.40 0.30 1/100 123\n');
  writeProc(root, 'diskstats', `${DISK('sda', 1000)}\n${DISK('sdb', 1000, 16)}\n`);
  writeProc(
    root,
    'net/dev',
    NETDEV([
      ['eth0', 2 ** 32 - 1000, 5000],
      ['eth1', 10_000_000, 10],
    ]),
  );
  writeProc(root, 'self/mountinfo', '20 1 8:1 / / rw - ext4 /dev/sda1 rw\n');
  writeProc(root, 'uptime', '1000.00 1500.00\n');
  return root;
}

/** A sampler on a hand-made /proc root: no /sys, the fake statfs, and what the test adds. */
function handMadeSampler(root: string, opts: Partial<SamplerOptions> = {}): Sampler {
  return new Sampler({ procRoot: root, sysRoot: path.join(dir, 'none'), statfs: fakeStatfs, ...opts });
}

describe('rates across counter wrap and restarts', () => {
  it('a 32-bit wrap gives the right rate; a restart gives none for one tick, then resumes', () => {
    const root = handMadeRoot();
    let clock = 0;
    const s = handMadeSampler(root, { now: () => clock });
    s.sample();
    clock += 1000;
    // eth0 wraps at 2^32 (+3000 bytes); eth1 restarts (interface re-created); sda restarts; sdb grows.
    writeProc(
      root,
      'net/dev',
      NETDEV([
        ['eth0', 2000, 6000],
        ['eth1', 4096, 20],
      ]),
    );
    writeProc(root, 'diskstats', `${DISK('sda', 8)}\n${DISK('sdb', 3000, 16)}\n`);
    writeProc(root, 'stat', STAT(150, 1850));
    const t1 = s.sample();
    const eth0 = t1.network!.find((n) => n.name === 'eth0')!;
    expect(eth0.rxBytesPerSec).toBe(3000);
    expect(eth0.txBytesPerSec).toBe(1000);
    expect(eth0.reset).toBe(false);
    const eth1 = t1.network!.find((n) => n.name === 'eth1')!;
    expect(eth1.rxBytesPerSec).toBeNull();
    expect(eth1.reset).toBe(true);
    expect(t1.disks!.find((d) => d.name === 'sda')).toMatchObject({ readBytesPerSec: null, reset: true });
    expect(t1.disks!.find((d) => d.name === 'sdb')!.readBytesPerSec).toBe(2000 * 512);
    expect(t1.cpu!.percent).toBeCloseTo(5, 9);

    clock += 2000;
    writeProc(root, 'net/dev', NETDEV([['eth1', 8192, 20]]));
    writeProc(root, 'diskstats', `${DISK('sda', 1032)}\n${DISK('sdc', 50, 32)}\n`);
    const t2 = s.sample();
    expect(t2.network!.map((n) => n.name)).toEqual(['eth1']);
    expect(t2.network![0]!.rxBytesPerSec).toBe(2048);
    expect(t2.disks!.find((d) => d.name === 'sda')!.readBytesPerSec).toBe(512 * 512);
    // A disk that appeared has no rate until its second reading.
    expect(t2.disks!.find((d) => d.name === 'sdc')!.readBytesPerSec).toBeNull();
    s.close();
  });

  it('a clock that did not move gives no rates rather than infinities', () => {
    const root = handMadeRoot();
    const s = handMadeSampler(root, { now: () => 5 });
    s.sample();
    const t = s.sample();
    expect(t.cpu!.percent).toBeNull();
    expect(t.network!.every((n) => n.rxBytesPerSec === null)).toBe(true);
    s.close();
  });
});

function fakeProcess(
  root: string,
  pid: number,
  cmdline: string,
  opts: { startTicks?: number; state?: string } = {},
) {
  writeProc(root, `${pid}/cmdline`, `${cmdline.split(' ').join('\0')}\0`);
  writeProc(
    root,
    `${pid}/stat`,
    `${pid} (python3) ${opts.state ?? 'S'} 1 ${pid} ${pid} 0 -1 0 0 0 0 0 50 10 0 0 20 0 4 0 ${opts.startTicks ?? 50_000} 100000 2000`,
  );
  writeProc(
    root,
    `${pid}/status`,
    'Name:\tpython3\nState:\tS (sleeping)\nVmHWM:\t 90000 kB\nVmRSS:\t 81920 kB\nThreads:\t4\n',
  );
  for (const fd of ['0', '1', '2', '3']) writeProc(root, `${pid}/fd/${fd}`, '');
}

describe('the application process', () => {
  it('not running: says so; seen then gone: says since when', () => {
    const root = handMadeRoot();
    let clock = 10_000;
    const s = handMadeSampler(root, {
      now: () => clock,
      app: { pidFile: path.join(dir, 'app.pid'), pattern: 'candy_cadence' },
      appScanIntervalMs: 0,
    });
    const none = s.sample().app;
    expect(none).toMatchObject({
      running: false,
      pid: null,
      notRunningSince: null,
      lastSeenAt: null,
      stalePidFile: null,
    });

    fakeProcess(root, 4242, 'python3 -m candy_cadence');
    clock += 1000;
    const up = s.sample().app;
    expect(up).toMatchObject({
      running: true,
      pid: 4242,
      via: 'pattern',
      rssBytes: 81920 * 1024,
      threads: 4,
      openFiles: 4,
    });
    expect(up.uptimeSeconds).toBeCloseTo(1000 - 500, 6);
    expect(up.state).toBe('S (sleeping)');

    rmSync(path.join(root, '4242'), { recursive: true });
    clock += 1000;
    const gone = s.sample().app;
    expect(gone).toMatchObject({ running: false, notRunningSince: 12_000, lastSeenAt: 11_000 });
    clock += 5000;
    expect(s.sample().app.notRunningSince).toBe(12_000);
    s.close();
  });

  it('not running at start: "since" comes from history (appLastSeenAt)', () => {
    const root = handMadeRoot();
    const s = handMadeSampler(root, {
      now: () => 50_000,
      app: { pidFile: null, pattern: 'candy_cadence' },
      appLastSeenAt: 20_000,
    });
    expect(s.sample().app).toMatchObject({ running: false, notRunningSince: 20_000, lastSeenAt: 20_000 });
    s.close();
  });

  it('a stale pid file is reported and the pattern finds the application', () => {
    const root = handMadeRoot();
    const pidFile = path.join(dir, 'candy_cadence.pid');
    writeFileSync(pidFile, '999999\n');
    fakeProcess(root, 777, 'python3 /opt/candy_cadence/main.py');
    const s = handMadeSampler(root, { app: { pidFile, pattern: 'candy_cadence' } });
    const app = s.sample().app;
    expect(app).toMatchObject({ running: true, pid: 777, via: 'pattern' });
    expect(app.stalePidFile).toEqual({ pid: 999999, reason: 'pid file names 999999, which is not running' });
    s.close();
  });

  it('a pid file written before its process started names a reused pid: stale', () => {
    const root = handMadeRoot();
    const pidFile = path.join(dir, 'candy_cadence.pid');
    writeFileSync(pidFile, '888\n');
    // btime 1700000000 + 50,000 ticks (500 s): started 2023-11-14 22:21:40 UTC; the file is from a day before.
    const written = (1_700_000_000 - 86_400) * 1000;
    utimesSync(pidFile, written / 1000, written / 1000);
    fakeProcess(root, 888, 'sshd: someone');
    const s = handMadeSampler(root, { app: { pidFile, pattern: 'candy_cadence' } });
    const app = s.sample().app;
    expect(app.running).toBe(false);
    expect(app.stalePidFile!.reason).toMatch(
      /pid file names 888, but that process started at .* after the file was written .*: the pid was reused/,
    );
    s.close();
  });

  it('follows the application through a restart (same pid number reused is noticed by its start time)', () => {
    const root = handMadeRoot();
    let clock = 0;
    const pidFile = path.join(dir, 'candy_cadence.pid');
    writeFileSync(pidFile, '500\n');
    fakeProcess(root, 500, 'candy_cadence', { startTicks: 1000 });
    const s = handMadeSampler(root, {
      now: () => clock,
      app: { pidFile, pattern: null },
    });
    expect(s.sample().app).toMatchObject({ running: true, pid: 500, via: 'pid file' });
    clock += 1000;
    // Restarted under the same pid: other start ticks; CPU % must not be computed across the two.
    fakeProcess(root, 500, 'candy_cadence', { startTicks: 90_000 });
    const after = s.sample().app;
    expect(after).toMatchObject({ running: true, pid: 500, cpuPercent: null });
    expect(after.uptimeSeconds).toBeCloseTo(100, 6);
    // A zombie is not running.
    clock += 1000;
    fakeProcess(root, 500, 'candy_cadence', { startTicks: 90_000, state: 'Z' });
    expect(s.sample().app.running).toBe(false);
    s.close();
  });

  it('the pid file wins over a process found earlier by pattern once it names a live process', () => {
    const root = handMadeRoot();
    let clock = 0;
    const pidFile = path.join(dir, 'candy_cadence.pid');
    fakeProcess(root, 600, 'python3 other/candy_cadence_tool.py');
    const s = handMadeSampler(root, {
      now: () => clock,
      app: { pidFile, pattern: 'candy_cadence' },
      appScanIntervalMs: 5000,
    });
    expect(s.sample().app).toMatchObject({ pid: 600, via: 'pattern' });
    fakeProcess(root, 700, 'python3 main.py');
    writeFileSync(pidFile, '700\n');
    clock += 1000;
    expect(s.sample().app.pid).toBe(600); // not before the next check
    clock += 5000;
    expect(s.sample().app).toMatchObject({ running: true, pid: 700, via: 'pid file', cpuPercent: null });
    s.close();
  });

  it('the pattern scan reads a batch of processes per tick and finds the application within a pass', () => {
    const root = handMadeRoot();
    for (let pid = 1000; pid < 1080; pid++)
      writeProc(root, `${pid}/cmdline`, `/usr/bin/worker\0--id\0${pid}\0`);
    fakeProcess(root, 4321, 'python3 -m candy_cadence');
    let clock = 0;
    const s = handMadeSampler(root, {
      now: () => clock,
      app: { pidFile: null, pattern: 'candy_cadence' },
      appScanIntervalMs: 60_000,
    });
    // 81 processes, 32 a tick: found on the first, second or third tick of the pass.
    let found = -1;
    for (let t = 0; t < 3 && found < 0; t++) {
      if (s.sample().app.running) found = t;
      clock += 1000;
    }
    expect(found).toBeGreaterThanOrEqual(0);
    expect(s.sample().app.pid).toBe(4321);
    s.close();
  });

  it('unreadable fd folder: n/a with the reason, the rest still shown', () => {
    const root = handMadeRoot();
    fakeProcess(root, 321, 'candy_cadence');
    rmSync(path.join(root, '321/fd'), { recursive: true });
    writeFileSync(path.join(root, '321/fd'), 'not a folder');
    const s = handMadeSampler(root, { app: { pidFile: null, pattern: 'candy_cadence' } });
    const app = s.sample().app;
    expect(app.running).toBe(true);
    expect(app.openFiles).toBeNull();
    expect(app.openFilesError).toMatch(/ENOTDIR/);
    expect(app.rssBytes).toBe(81920 * 1024);
    s.close();
  });
});

describe('when /proc cannot be read', () => {
  it('a missing /proc: every section n/a with its reason, no exception', () => {
    const s = new Sampler({
      procRoot: path.join(dir, 'nothing'),
      app: { pidFile: null, pattern: 'candy_cadence' },
    });
    const snap = s.sample();
    expect(snap.cpu).toBeNull();
    expect(snap.memory).toBeNull();
    expect(snap.load).toBeNull();
    expect(snap.disks).toBeNull();
    expect(snap.network).toBeNull();
    expect(snap.filesystems).toBeNull();
    expect(snap.app.running).toBe(false);
    expect(snap.unavailable.cpu).toMatch(/ENOENT.*nothing\/stat/);
    expect(snap.unavailable.memory).toMatch(/ENOENT.*meminfo/);
    s.close();
  });

  it('one unreadable or garbled file costs only its own section', () => {
    const root = handMadeRoot();
    rmSync(path.join(root, 'meminfo'));
    mkdirSync(path.join(root, 'meminfo'));
    writeProc(root, 'loadavg', 'garbage\n');
    const failing = () => {
      throw Object.assign(new Error("EACCES: permission denied, statfs '/'"), { code: 'EACCES' });
    };
    const s = handMadeSampler(root, { statfs: failing });
    const snap = s.sample();
    expect(snap.memory).toBeNull();
    expect(snap.unavailable.memory).toMatch(/EISDIR/);
    expect(snap.load).toBeNull();
    expect(snap.unavailable.load).toMatch(/\/proc\/loadavg: unexpected content "garbage"/);
    expect(snap.filesystems![0]).toMatchObject({
      mountPoint: '/',
      error: "EACCES: permission denied, statfs '/'",
    });
    expect(snap.unavailable.filesystems).toMatch(/EACCES/);
    expect(snap.cpu!.coreCount).toBe(1);
    s.close();
  });

  it('a network filesystem is read off the loop and reported when it stops answering', async () => {
    const root = handMadeRoot();
    writeProc(
      root,
      'self/mountinfo',
      '20 1 8:1 / / rw - ext4 /dev/sda1 rw\n21 20 0:60 / /mnt/share rw - nfs4 srv:/x rw\n',
    );
    let clock = 0;
    let answer: (() => void) | null = null;
    const s = handMadeSampler(root, {
      now: () => clock,
      statfsAsync: () =>
        new Promise((resolve) => {
          answer = () => resolve(fakeStatfs());
        }),
    });
    const first = s.sample().filesystems!.find((f) => f.mountPoint === '/mnt/share')!;
    expect(first).toMatchObject({ network: true, error: 'waiting for the first answer' });
    clock += 6000;
    expect(s.sample().filesystems!.find((f) => f.mountPoint === '/mnt/share')!.error).toMatch(
      /has not answered for 6 s/,
    );
    answer!();
    await new Promise((r) => setImmediate(r));
    clock += 1000;
    const later = s.sample().filesystems!.find((f) => f.mountPoint === '/mnt/share')!;
    expect(later.error).toBeNull();
    expect(later.totalBytes).toBe(4096 * 1000);
    s.close();
  });
});
