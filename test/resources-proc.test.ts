// The /proc parsers against real snapshots captured on the development VM (fixtures/proc).
import { describe, expect, it } from 'vitest';
import { cpuUsage, parseProcStat } from '../services/proc-cpu.js';
import { isShownDisk, parseDiskstats } from '../services/proc-diskstats.js';
import { ProcParseError } from '../services/proc-file.js';
import { parseLoadavg } from '../services/proc-loadavg.js';
import { parseMeminfo } from '../services/proc-meminfo.js';
import { filesystemUsage, mountOf, parseMountinfo, selectFilesystems } from '../services/proc-mounts.js';
import { parseNetDev } from '../services/proc-net-dev.js';
import { describeState, parsePidStat, parsePidStatus } from '../services/proc-pid.js';
import { fixture } from './helpers/proc-root.js';

describe('/proc/stat', () => {
  const t0 = parseProcStat(fixture('host-t0/stat'));
  const t1 = parseProcStat(fixture('host-t1/stat'));

  it('reads the total and per-core times, boot time and task counts', () => {
    expect(t0.total).toEqual({
      user: 26049,
      nice: 0,
      system: 6687,
      idle: 240416,
      iowait: 506,
      irq: 0,
      softirq: 86,
      steal: 13,
    });
    expect(t0.cores).toHaveLength(2);
    expect(t0.cores[1]!.user).toBe(16472);
    expect(t0.bootTime).toBeGreaterThan(1_600_000_000);
    expect(t0.contextSwitches).toBeGreaterThan(0);
    expect(t0.processesRunning).toBeGreaterThanOrEqual(1);
  });

  it('CPU % between two readings is the busy share of the elapsed ticks', () => {
    const u = cpuUsage(t0.total, t1.total)!;
    // user +86, system +21, idle +182, iowait +3: busy 107 of 292 ticks.
    expect(u.percent).toBeCloseTo((107 * 100) / 292, 6);
    expect(u.iowait).toBeCloseTo((3 * 100) / 292, 6);
    const core0 = cpuUsage(t0.cores[0]!, t1.cores[0]!)!;
    expect(core0.percent).toBeCloseTo((61 * 100) / 146, 6);
  });

  it('no elapsed ticks gives null, and an iowait that steps back is clamped', () => {
    expect(cpuUsage(t0.total, t0.total)).toBeNull();
    const back = { ...t1.total, iowait: t0.total.iowait - 50 };
    const u = cpuUsage(t0.total, back)!;
    expect(u.iowait).toBe(0);
    expect(u.percent).toBeGreaterThan(0);
  });

  it('an offline core leaves a hole, not a shift', () => {
    const s = parseProcStat(
      'cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 5 0 5 40 0 0 0 0 0 0\ncpu2 5 0 5 40 0 0 0 0 0 0\n',
    );
    expect(s.cores[0]).toBeDefined();
    expect(s.cores[1]).toBeUndefined();
    expect(s.cores[2]!.user).toBe(5);
  });

  it('rejects a file without the cpu line, naming it', () => {
    expect(() => parseProcStat('intr 1 2 3\nctxt 5\n')).toThrow(ProcParseError);
    expect(() => parseProcStat('garbage')).toThrow(/\/proc\/stat: no "cpu" line/);
  });
});

describe('/proc/meminfo', () => {
  it('reads memory and swap in bytes, used = total - available', () => {
    const text = fixture('host-t0/meminfo');
    const m = parseMeminfo(text);
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)![1]) * 1024;
    expect(m.totalBytes).toBe(kb('MemTotal'));
    expect(m.availableBytes).toBe(kb('MemAvailable'));
    expect(m.usedBytes).toBe(kb('MemTotal') - kb('MemAvailable'));
    expect(m.usedPercent).toBeCloseTo((m.usedBytes * 100) / m.totalBytes, 9);
    expect(m.swapTotalBytes).toBe(kb('SwapTotal'));
    expect(m.swapPercent).toBeGreaterThanOrEqual(0);
    expect(m.availableEstimated).toBe(false);
  });

  it('estimates MemAvailable on kernels before 3.14', () => {
    const old =
      'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\nSReclaimable: 30 kB\nShmem: 20 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n';
    const m = parseMeminfo(old);
    expect(m.availableEstimated).toBe(true);
    expect(m.availableBytes).toBe((100 + 50 + 200 + 30 - 20) * 1024);
    expect(m.swapPercent).toBe(0);
  });

  it('rejects a file without MemTotal', () => {
    expect(() => parseMeminfo('Foo: 1 kB\n')).toThrow(/\/proc\/meminfo: no MemTotal/);
  });
});

describe('/proc/loadavg', () => {
  it('reads the three averages and the task counts', () => {
    const l = parseLoadavg(fixture('host-t0/loadavg'));
    const [a, b, c, tasks] = fixture('host-t0/loadavg').trim().split(' ');
    expect(l).toEqual({
      one: Number(a),
      five: Number(b),
      fifteen: Number(c),
      runnable: Number(tasks!.split('/')[0]),
      tasks: Number(tasks!.split('/')[1]),
    });
    expect(() => parseLoadavg('')).toThrow(/\/proc\/loadavg/);
  });
});

describe('/proc/diskstats', () => {
  it('reads the counters of every device and shows only used whole disks', () => {
    const disks = parseDiskstats(fixture('host-t0/diskstats'));
    const vda = disks.find((d) => d.name === 'vda')!;
    expect(vda).toMatchObject({ major: 254, minor: 0, readsCompleted: 64753, sectorsRead: 5226282 });
    expect(vda.sectorsWritten).toBe(6755392);
    expect(vda.ioMs).toBe(9252);
    const shown = disks.filter((d) => isShownDisk(d, (n) => ['vda', 'zram0', 'loop0'].includes(n)));
    expect(shown.map((d) => d.name)).toEqual(['vda']);
  });

  it('without /sys, partitions are recognised by name', () => {
    const line = (name: string) => `   8 1 ${name} 5 0 10 0 5 0 10 0 0 0 0`;
    const disks = parseDiskstats(
      ['sda', 'sda1', 'nvme0n1', 'nvme0n1p2', 'mmcblk0p1', 'dm-0'].map(line).join('\n'),
    );
    expect(disks.filter((d) => isShownDisk(d, null)).map((d) => d.name)).toEqual(['sda', 'nvme0n1', 'dm-0']);
  });

  it('rejects a short line, quoting it', () => {
    expect(() => parseDiskstats('8 0 sda 1 2 3')).toThrow(/\/proc\/diskstats: short line "8 0 sda 1 2 3"/);
  });
});

describe('/proc/net/dev', () => {
  it('reads receive and transmit counters per interface', () => {
    const nets = parseNetDev(fixture('host-t0/net/dev'));
    expect(nets.map((n) => n.name)).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(nets[3]).toMatchObject({ rxBytes: 261776717, rxPackets: 8276, txBytes: 592512, txPackets: 5224 });
  });

  it('reads numbers glued to the colon (old kernels)', () => {
    const text = 'Inter-|\n face |\n  eth1:4294967290 10 1 2 0 0 0 0 77 3 0 0 0 0 0 0\n';
    expect(parseNetDev(text)[0]).toMatchObject({
      name: 'eth1',
      rxBytes: 4294967290,
      rxErrors: 1,
      rxDropped: 2,
      txBytes: 77,
    });
    expect(() => parseNetDev('  eth1: 1 2 3\n')).toThrow(/\/proc\/net\/dev: malformed line for eth1/);
  });
});

describe('/proc/self/mountinfo and statfs', () => {
  const mounts = parseMountinfo(fixture('host-t0/self/mountinfo'));

  it('reads mount point, device, type and source', () => {
    const root = mounts.find((m) => m.mountPoint === '/')!;
    expect(root).toMatchObject({
      device: '254:0',
      fsType: 'ext4',
      source: '/dev/vda',
      root: '/',
      readOnly: false,
    });
    expect(mounts.find((m) => m.mountPoint === '/mnt/sandboxing/model_tools_env/v1/python')!.readOnly).toBe(
      true,
    );
  });

  it('selects real filesystems only, and marks the ones holding the site and backups', () => {
    const none = selectFilesystems(mounts, []);
    expect(none.map((s) => s.mount.mountPoint)).toEqual(['/']);
    const marked = selectFilesystems(mounts, [
      { label: 'site', resolved: '/srv/candy' },
      { label: 'backups', resolved: '/dev/shm/backups' },
    ]);
    expect(marked.map((s) => [s.mount.mountPoint, s.marks])).toEqual([
      ['/', ['site']],
      ['/dev/shm', ['backups']],
    ]);
  });

  it('shows a bind-mounted filesystem once, unescapes spaces', () => {
    const text = [
      '20 1 8:1 / / rw - ext4 /dev/sda1 rw',
      '21 20 8:1 /srv/data /mnt/bind rw - ext4 /dev/sda1 rw',
      '22 20 8:2 / /mnt/my\\040disk rw - xfs /dev/sda2 rw',
      '23 20 0:50 / /mnt/nfs rw - nfs4 server:/export rw',
      '24 20 0:5 / /proc rw - proc proc rw',
    ].join('\n');
    const parsed = parseMountinfo(text);
    expect(parsed[2]!.mountPoint).toBe('/mnt/my disk');
    const sel = selectFilesystems(parsed, [{ label: 'site', resolved: '/mnt/bind/site' }]);
    expect(sel.map((s) => [s.mount.mountPoint, s.marks])).toEqual([
      ['/', ['site']],
      ['/mnt/my disk', []],
      ['/mnt/nfs', []],
    ]);
    expect(mountOf(parsed, '/mnt/my disk/x')!.device).toBe('8:2');
    expect(mountOf(parsed, '/mnt/my diskette')!.device).toBe('8:1');
  });

  it('computes usage as df does', () => {
    const u = filesystemUsage({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250, files: 100, ffree: 40 });
    expect(u.totalBytes).toBe(4096 * 1000);
    expect(u.usedBytes).toBe(4096 * 700);
    expect(u.availableBytes).toBe(4096 * 250);
    expect(u.usedPercent).toBeCloseTo((700 * 100) / 950, 9);
    expect(u.inodesUsedPercent).toBe(60);
  });

  it('rejects a malformed line', () => {
    expect(() => parseMountinfo('1 2 3')).toThrow(/mountinfo: malformed line/);
  });
});

describe('/proc/<pid>', () => {
  it('reads stat: state, CPU ticks, threads, start, even with spaces in comm', () => {
    const s = parsePidStat(fixture('host-t0/12664/stat'));
    expect(s).toMatchObject({
      pid: 12664,
      comm: 'candy_cadence -',
      state: 'S',
      ppid: 12657,
      utimeTicks: 23,
      stimeTicks: 4,
      threads: 7,
      startTicks: 137329,
    });
    const odd = parsePidStat('42 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 2 0 99 1000 10');
    expect(odd).toMatchObject({
      pid: 42,
      comm: 'a) b (c)',
      state: 'R',
      utimeTicks: 7,
      threads: 2,
      startTicks: 99,
    });
    expect(() => parsePidStat('42 (x) S 1')).toThrow(/only/);
  });

  it('reads status: RSS, peak, swap, threads', () => {
    const s = parsePidStatus(fixture('host-t1/12664/status'));
    expect(s.rssBytes).toBe(115176 * 1024);
    expect(s.rssPeakBytes).toBeGreaterThanOrEqual(s.rssBytes!);
    expect(s.threads).toBe(7);
    expect(s.state).toMatch(/^[RS] \(/);
    expect(s.uid).toBe(0);
    expect(describeState('D')).toBe('D (disk sleep)');
  });
});

describe('host facts', () => {
  it('reads the distribution from os-release and the CPU model and physical cores from cpuinfo', async () => {
    const { parseCpuinfo, parseOsRelease } = await import('../services/host-facts.js');
    expect(
      parseOsRelease(
        'NAME="Debian GNU/Linux"\nVERSION="12 (bookworm)"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
      ),
    ).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(parseOsRelease('NAME=Alpine\nVERSION=3.19\n')).toBe('Alpine 3.19');
    expect(parseOsRelease('')).toBeNull();
    const two =
      'processor\t: 0\nmodel name\t: AMD EPYC\nphysical id\t: 0\ncore id\t\t: 0\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\nphysical id\t: 0\ncore id\t\t: 1\n';
    expect(parseCpuinfo(two)).toEqual({ model: 'AMD EPYC', physicalCores: 2 });
    const smt = 'model name: X\nphysical id: 0\ncore id: 0\nmodel name: X\nphysical id: 0\ncore id: 0\n';
    expect(parseCpuinfo(smt).physicalCores).toBe(1);
    expect(parseCpuinfo('')).toEqual({ model: null, physicalCores: null });
  });
});
