// One sampling tick of the host and the Candy-Cadence process, read straight from /proc: no
// process is spawned and nothing sleeps. CPU % and rates need two readings, so the sampler keeps the
// previous one; the first tick has levels (memory, filesystems, load) but no CPU % or rates yet.
//
// Cost per source, measured on this 2-core VM shared with other work (Linux 6.18, Node 20.20;
// `npm run bench resources`, medians over 600 ticks spaced like real ones, caches cold):
//   /proc/stat (total + 2 cores) 47 µs · meminfo 36 µs · loadavg 13 µs · diskstats 41 µs
//   net/dev 47 µs · filesystems (mountinfo every 10 s, statfs per mount) 26 µs
//   application (stat, status, uptime, fd count) 74 µs
//   whole tick: 0.31 ms wall (= event loop blocked), 0.40 ms CPU; back to back (warm) ~75 µs.
//   systeminformation's equivalent calls: 41 ms CPU a tick with their children, the loop blocked
//   23 ms (median) to 40 ms (worst). At 1 Hz: 0.04 % of a core against 4.1 %.
// A /proc file is kept open and re-read from offset 0 (ProcFile): 1.5–9 µs a read against 13–39 µs
// for readFileSync. Network filesystems are statfs'd asynchronously so a dead NFS server cannot
// freeze the screen; their figures are one tick old.
import { existsSync, readdirSync } from 'node:fs';
import { statfs as statfsAsync } from 'node:fs/promises';
import {
  type AppProcess,
  type AppProcessLookup,
  belongsToSite,
  findAppProcess,
  isZombie,
  looksLikeApp,
  readCmdline,
} from './app-process.js';
import { type CpuTimes, cpuUsage, parseProcStat } from './proc-cpu.js';
import {
  type DiskCounters,
  type DiskRates,
  diskRates,
  isShownDisk,
  parseDiskstats,
} from './proc-diskstats.js';
import { describeError, ProcFile } from './proc-file.js';
import { type LoadAverage, parseLoadavg } from './proc-loadavg.js';
import { type MemoryInfo, parseMeminfo } from './proc-meminfo.js';
import {
  defaultStatfs,
  type FilesystemUsage,
  filesystemUsage,
  isNetworkFs,
  type MarkedPath,
  type MountEntry,
  parseMountinfo,
  resolveExisting,
  type StatfsFn,
  selectFilesystems,
} from './proc-mounts.js';
import { type NetCounters, type NetRates, netRates, parseNetDev } from './proc-net-dev.js';
import {
  CLOCK_TICKS,
  describeState,
  openFileCount,
  type PidStat,
  parsePidStat,
  parsePidStatus,
  statSizeCountsFds,
} from './proc-pid.js';

export type SectionName = 'cpu' | 'load' | 'memory' | 'filesystems' | 'disks' | 'network' | 'app';

export interface CpuSection {
  /** Busy share of all cores, 0–100; null on the first tick. */
  percent: number | null;
  user: number | null;
  system: number | null;
  iowait: number | null;
  steal: number | null;
  /** Per core, by the kernel's CPU number; null on the first tick or for an offline core. */
  cores: (number | null)[];
  coreCount: number;
  contextSwitchesPerSec: number | null;
  processesRunning: number | null;
  processesBlocked: number | null;
}

export interface FilesystemSection extends Partial<FilesystemUsage> {
  mountPoint: string;
  device: string;
  source: string;
  fsType: string;
  readOnly: boolean;
  network: boolean;
  /** "site", "backups", "secondary backups": the marked folders this filesystem holds. */
  marks: string[];
  /** Why there is no usage (statfs failed, or a network filesystem that does not answer). */
  error: string | null;
}

export interface DiskSection extends DiskRates {
  inProgress: number;
}

export interface NetSection extends NetRates {
  loopback: boolean;
  /** Never carried a byte since it came up. */
  idle: boolean;
  rxBytesTotal: number;
  txBytesTotal: number;
}

export interface AppSection {
  running: boolean;
  pid: number | null;
  via: 'pid file' | 'pattern' | null;
  cmdline: string | null;
  /** "S (sleeping)". */
  state: string | null;
  /** Of one core (200 % = two cores busy), as top shows it. */
  cpuPercent: number | null;
  rssBytes: number | null;
  rssPeakBytes: number | null;
  swapBytes: number | null;
  threads: number | null;
  openFiles: number | null;
  openFilesError: string | null;
  uptimeSeconds: number | null;
  startedAt: number | null;
  /** The pid file names no live application process; `reason` says why. */
  stalePidFile: { pid: number | null; reason: string } | null;
  /** Epoch ms the application was last seen running (this run, or from history). */
  lastSeenAt: number | null;
  /** Epoch ms of the first tick it was missing after having been seen. */
  notRunningSince: number | null;
  /** What could not be read about it (e.g. /proc/<pid>/status of another user). */
  error: string | null;
}

export interface ResourceSnapshot {
  /** Epoch ms. */
  at: number;
  /** Since the previous tick; null on the first. */
  elapsedMs: number | null;
  cpu: CpuSection | null;
  load: (LoadAverage & { perCore: number | null }) | null;
  memory: MemoryInfo | null;
  filesystems: FilesystemSection[] | null;
  disks: DiskSection[] | null;
  network: NetSection[] | null;
  app: AppSection;
  /** Why a section is null, or what part of it could not be read. */
  unavailable: Partial<Record<SectionName, string>>;
  /** Microseconds spent per source, when the sampler was created with measure: true. */
  costs?: Partial<Record<SectionName, number>>;
}

export interface SamplerOptions {
  procRoot?: string;
  sysRoot?: string;
  /** Folders whose filesystems are marked and always shown (site root, backups). */
  marks?: MarkedPath[];
  /** How to find the application; null to skip it. */
  /** siteRoot: a process found by the pattern must work on this site (app-process.ts belongsToSite). */
  app?: { pidFile: string | null; pattern: string | null; siteRoot?: string | null } | null;
  now?: () => number;
  /** While the application is not found, how often /proc is scanned for its pattern (default 5 s). */
  appScanIntervalMs?: number;
  /** How often the mount table is re-read (default 10 s). */
  mountRefreshMs?: number;
  statfs?: StatfsFn;
  statfsAsync?: (p: string) => Promise<ReturnType<StatfsFn>>;
  /** When the application was last seen running, from history: "not running since" survives a restart. */
  appLastSeenAt?: number | null;
  selfPid?: number;
  /** Record the microseconds spent per source in each snapshot. */
  measure?: boolean;
}

interface TrackedApp {
  pid: number;
  via: 'pid file' | 'pattern';
  cmdline: string;
  startTicks: number;
  stat: ProcFile;
  status: ProcFile;
  prevTicks: number | null;
  prevAt: number | null;
}

interface NetFsState {
  usage: FilesystemUsage | null;
  error: string | null;
  pendingSince: number | null;
}

const NETWORK_STATFS_TIMEOUT_MS = 5000;
/** Processes whose command line is read per tick while looking for the application by pattern. */
const SCAN_BATCH = 32;

export class Sampler {
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly now: () => number;
  private readonly files: Record<
    'stat' | 'meminfo' | 'loadavg' | 'diskstats' | 'netdev' | 'mountinfo' | 'uptime',
    ProcFile
  >;
  private readonly statfs: StatfsFn;
  private readonly statfsAsync: (p: string) => Promise<ReturnType<StatfsFn>>;
  private readonly appScanIntervalMs: number;
  private readonly mountRefreshMs: number;
  private readonly selfPid: number;
  private readonly measure: boolean;
  private marks: MarkedPath[];
  private appTarget: { pidFile: string | null; pattern: string | null; siteRoot?: string | null } | null;

  private prevAt: number | null = null;
  private prevCpu: { total: CpuTimes; cores: (CpuTimes | undefined)[]; ctxt: number | null } | null = null;
  private prevDisks = new Map<string, DiskCounters>();
  private prevNet = new Map<string, NetCounters>();
  private mounts: { at: number; selected: ReturnType<typeof selectFilesystems> } | null = null;
  private readonly netFs = new Map<string, NetFsState>();
  private readonly sysBlock = new Map<string, boolean>();
  private readonly hasSysBlock: boolean;
  private fdCountFromStat: boolean | null = null;
  private tracked: TrackedApp | null = null;
  private lastScanAt = Number.NEGATIVE_INFINITY;
  private lastPidFileCheckAt = Number.NEGATIVE_INFINITY;
  /** A pattern scan of /proc in progress, a batch of processes per tick. */
  private scan: { pids: string[]; next: number } | null = null;
  private stalePidFile: AppProcessLookup['stalePidFile'] = null;
  private lastSeenAt: number | null;
  private notRunningSince: number | null = null;
  private seenThisRun = false;

  constructor(opts: SamplerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.now = opts.now ?? Date.now;
    this.statfs = opts.statfs ?? defaultStatfs;
    this.statfsAsync = opts.statfsAsync ?? ((p) => statfsAsync(p));
    this.appScanIntervalMs = opts.appScanIntervalMs ?? 5000;
    this.mountRefreshMs = opts.mountRefreshMs ?? 10_000;
    this.selfPid = opts.selfPid ?? process.pid;
    this.measure = opts.measure ?? false;
    this.marks = opts.marks ?? [];
    this.appTarget = opts.app ?? null;
    this.lastSeenAt = opts.appLastSeenAt ?? null;
    const p = this.procRoot;
    this.files = {
      stat: new ProcFile(`${p}/stat`),
      meminfo: new ProcFile(`${p}/meminfo`),
      loadavg: new ProcFile(`${p}/loadavg`, 256),
      diskstats: new ProcFile(`${p}/diskstats`),
      netdev: new ProcFile(`${p}/net/dev`),
      mountinfo: new ProcFile(`${p}/self/mountinfo`, 16384),
      uptime: new ProcFile(`${p}/uptime`, 256),
    };
    this.hasSysBlock = existsSync(`${this.sysRoot}/block`);
  }

  /** Changes the marked folders (the mount table is re-read on the next tick). */
  setMarks(marks: MarkedPath[]): void {
    this.marks = marks;
    this.mounts = null;
  }

  /** One tick. Never throws: what cannot be read is null with its reason in `unavailable`. */
  sample(): ResourceSnapshot {
    const at = this.now();
    const elapsedMs = this.prevAt === null ? null : at - this.prevAt;
    const unavailable: ResourceSnapshot['unavailable'] = {};
    const costs: NonNullable<ResourceSnapshot['costs']> = {};
    const run = <T>(name: SectionName, fn: () => T): T | null => {
      const t0 = this.measure ? process.hrtime.bigint() : 0n;
      try {
        return fn();
      } catch (err) {
        unavailable[name] = describeError(err);
        return null;
      } finally {
        if (this.measure) costs[name] = Number(process.hrtime.bigint() - t0) / 1000;
      }
    };
    const dt = elapsedMs !== null && elapsedMs > 0 ? elapsedMs : 0;
    const cpuAndBoot = run('cpu', () => this.sampleCpu(dt));
    const cpu = cpuAndBoot?.section ?? null;
    const loadRaw = run('load', () => parseLoadavg(this.files.loadavg.read()));
    const load = loadRaw
      ? { ...loadRaw, perCore: cpu && cpu.coreCount > 0 ? loadRaw.one / cpu.coreCount : null }
      : null;
    const memory = run('memory', () => parseMeminfo(this.files.meminfo.read()));
    const filesystems = run('filesystems', () => this.sampleFilesystems(at, unavailable));
    const disks = run('disks', () => this.sampleDisks(dt));
    const network = run('network', () => this.sampleNetwork(dt));
    const t0 = this.measure ? process.hrtime.bigint() : 0n;
    const app = this.sampleApp(at, unavailable);
    if (this.measure) costs.app = Number(process.hrtime.bigint() - t0) / 1000;
    this.prevAt = at;
    const snapshot: ResourceSnapshot = {
      at,
      elapsedMs,
      cpu,
      load,
      memory,
      filesystems,
      disks,
      network,
      app,
      unavailable,
    };
    if (this.measure) snapshot.costs = costs;
    return snapshot;
  }

  private sampleCpu(dt: number): { section: CpuSection } {
    const stat = parseProcStat(this.files.stat.read());
    const prev = this.prevCpu;
    const usage = prev && dt > 0 ? cpuUsage(prev.total, stat.total) : null;
    const cores = stat.cores.map((core, i) => {
      const before = prev?.cores[i];
      if (!core || !before || dt <= 0) return null;
      return cpuUsage(before, core)?.percent ?? null;
    });
    const ctxt =
      prev?.ctxt != null && stat.contextSwitches !== null && dt > 0 && stat.contextSwitches >= prev.ctxt
        ? ((stat.contextSwitches - prev.ctxt) * 1000) / dt
        : null;
    this.prevCpu = { total: stat.total, cores: stat.cores, ctxt: stat.contextSwitches };
    return {
      section: {
        percent: usage?.percent ?? null,
        user: usage?.user ?? null,
        system: usage?.system ?? null,
        iowait: usage?.iowait ?? null,
        steal: usage?.steal ?? null,
        cores,
        coreCount: stat.cores.filter(Boolean).length,
        contextSwitchesPerSec: ctxt,
        processesRunning: stat.processesRunning,
        processesBlocked: stat.processesBlocked,
      },
    };
  }

  private sampleFilesystems(at: number, unavailable: ResourceSnapshot['unavailable']): FilesystemSection[] {
    if (!this.mounts || at - this.mounts.at >= this.mountRefreshMs || at < this.mounts.at) {
      const mounts: MountEntry[] = parseMountinfo(this.files.mountinfo.read());
      const marked = this.marks.map((m) => ({ label: m.label, resolved: resolveExisting(m.path) }));
      this.mounts = { at, selected: selectFilesystems(mounts, marked) };
    }
    const out: FilesystemSection[] = [];
    const failed: string[] = [];
    for (const { mount, marks } of this.mounts.selected) {
      const network = isNetworkFs(mount.fsType);
      const base = {
        mountPoint: mount.mountPoint,
        device: mount.device,
        source: mount.source,
        fsType: mount.fsType,
        readOnly: mount.readOnly,
        network,
        marks,
      };
      if (network) {
        const state = this.networkStatfs(mount.mountPoint, at);
        out.push({ ...base, ...(state.usage ?? {}), error: state.error });
        if (state.error) failed.push(`${mount.mountPoint}: ${state.error}`);
        continue;
      }
      try {
        out.push({ ...base, ...filesystemUsage(this.statfs(mount.mountPoint)), error: null });
      } catch (err) {
        const error = describeError(err);
        failed.push(`${mount.mountPoint}: ${error}`);
        out.push({ ...base, error });
      }
    }
    if (failed.length) unavailable.filesystems = failed.join('; ');
    return out;
  }

  /** statfs of a network filesystem off the event loop; the figures shown are the last answer. */
  private networkStatfs(mountPoint: string, at: number): NetFsState {
    let state = this.netFs.get(mountPoint);
    if (!state) {
      state = { usage: null, error: 'waiting for the first answer', pendingSince: null };
      this.netFs.set(mountPoint, state);
    }
    const s = state;
    if (s.pendingSince === null) {
      s.pendingSince = at;
      this.statfsAsync(mountPoint).then(
        (stat) => {
          s.usage = filesystemUsage(stat);
          s.error = null;
          s.pendingSince = null;
        },
        (err) => {
          s.usage = null;
          s.error = describeError(err);
          s.pendingSince = null;
        },
      );
    } else if (at - s.pendingSince > NETWORK_STATFS_TIMEOUT_MS) {
      s.error = `statfs has not answered for ${Math.round((at - s.pendingSince) / 1000)} s (server down?)`;
    }
    return s;
  }

  private inSysBlock = (name: string): boolean => {
    let known = this.sysBlock.get(name);
    if (known === undefined) {
      known = existsSync(`${this.sysRoot}/block/${name}`);
      this.sysBlock.set(name, known);
    }
    return known;
  };

  private sampleDisks(dt: number): DiskSection[] {
    const all = parseDiskstats(this.files.diskstats.read());
    const next = new Map<string, DiskCounters>();
    const out: DiskSection[] = [];
    for (const d of all) {
      if (!isShownDisk(d, this.hasSysBlock ? this.inSysBlock : null)) continue;
      next.set(d.name, d);
      const prev = this.prevDisks.get(d.name);
      // Same name, other device numbers: a different disk took the name; start over.
      const same = prev && prev.major === d.major && prev.minor === d.minor ? prev : undefined;
      const rates = diskRates(same, d, dt);
      out.push({ ...rates, reset: rates.reset || (prev !== undefined && !same), inProgress: d.inProgress });
    }
    this.prevDisks = next;
    return out;
  }

  private sampleNetwork(dt: number): NetSection[] {
    const all = parseNetDev(this.files.netdev.read());
    const next = new Map<string, NetCounters>();
    const out: NetSection[] = [];
    for (const n of all) {
      next.set(n.name, n);
      out.push({
        ...netRates(this.prevNet.get(n.name), n, dt),
        loopback: n.name === 'lo',
        idle: n.rxBytes === 0 && n.txBytes === 0,
        rxBytesTotal: n.rxBytes,
        txBytesTotal: n.txBytes,
      });
    }
    this.prevNet = next;
    return out;
  }

  private untrack(): void {
    if (!this.tracked) return;
    this.tracked.stat.close();
    this.tracked.status.close();
    this.tracked = null;
  }

  private readTrackedStat(): PidStat | null {
    const t = this.tracked;
    if (!t) return null;
    try {
      // On /proc a read of an exited process fails (ESRCH); the folder check (~1 µs) also covers
      // a procRoot of plain files, as in tests.
      if (!existsSync(`${this.procRoot}/${t.pid}`)) return null;
      const stat = parsePidStat(t.stat.read());
      // Another process under the same pid (the application died and the pid was reused), or a zombie.
      if (stat.startTicks !== t.startTicks || stat.state === 'Z' || stat.state === 'X') return null;
      return stat;
    } catch {
      return null;
    }
  }

  private discover(at: number): void {
    const target = this.appTarget;
    if (!target) return;
    // The pid file, every tick: one small read and a look at the process it names.
    const byFile = findAppProcess({
      pidFile: target.pidFile,
      pattern: null,
      procRoot: this.procRoot,
      selfPid: this.selfPid,
    });
    this.stalePidFile = byFile.stalePidFile;
    const found =
      byFile.process ?? (target.pattern ? this.scanStep(at, target.pattern, target.siteRoot ?? null) : null);
    if (found) this.track(found, at);
  }

  /**
   * The command-line pattern over /proc/PID/cmdline, SCAN_BATCH processes per tick, so a host with
   * hundreds of processes never blocks the loop for long (a full scan of 100 processes costs 3–25 ms
   * here); a new pass starts at most every appScanIntervalMs.
   */
  private scanStep(at: number, pattern: string, siteRoot: string | null): AppProcess | null {
    if (!this.scan) {
      if (at - this.lastScanAt < this.appScanIntervalMs && at >= this.lastScanAt) return null;
      this.lastScanAt = at;
      let entries: string[] = [];
      try {
        entries = readdirSync(this.procRoot);
      } catch {}
      this.scan = { pids: entries.filter((e) => e.charCodeAt(0) >= 48 && e.charCodeAt(0) <= 57), next: 0 };
    }
    const s = this.scan;
    const end = Math.min(s.pids.length, s.next + SCAN_BATCH);
    for (; s.next < end; s.next++) {
      const pid = Number(s.pids[s.next]);
      if (pid === this.selfPid) continue;
      const cmdline = readCmdline(pid, this.procRoot);
      if (!cmdline || !looksLikeApp(cmdline, pattern, siteRoot) || isZombie(pid, this.procRoot)) continue;
      if (siteRoot && !belongsToSite(pid, siteRoot, this.procRoot)) continue;
      this.scan = null;
      return { pid, via: 'pattern', cmdline };
    }
    if (s.next >= s.pids.length) this.scan = null;
    return null;
  }

  private track(found: AppProcess, at: number): void {
    this.scan = null;
    // discover() has just read the pid file: the next re-check is an interval away.
    this.lastPidFileCheckAt = at;
    const stat = new ProcFile(`${this.procRoot}/${found.pid}/stat`, 1024);
    try {
      const parsed = parsePidStat(stat.read());
      this.tracked = {
        pid: found.pid,
        via: found.via,
        cmdline: found.cmdline,
        startTicks: parsed.startTicks,
        stat,
        status: new ProcFile(`${this.procRoot}/${found.pid}/status`, 2048),
        prevTicks: null,
        prevAt: null,
      };
    } catch {
      stat.close();
    }
  }

  /** While tracking by pattern (or with a stale pid file), see now and then whether the pid file was fixed. */
  private recheckPidFile(at: number): void {
    const t = this.tracked;
    const target = this.appTarget;
    if (!t || !target?.pidFile || (t.via === 'pid file' && !this.stalePidFile)) return;
    if (at - this.lastPidFileCheckAt < this.appScanIntervalMs && at >= this.lastPidFileCheckAt) return;
    this.lastPidFileCheckAt = at;
    const lookup = findAppProcess({ pidFile: target.pidFile, pattern: null, procRoot: this.procRoot });
    this.stalePidFile = lookup.stalePidFile;
    if (!lookup.process) return;
    if (lookup.process.pid === t.pid) {
      t.via = 'pid file';
      return;
    }
    // The pid file now names another live process (the application started after we found some
    // other process by pattern): the pid file is the authority, follow it.
    this.untrack();
    this.discover(at);
  }

  private sampleApp(at: number, unavailable: ResourceSnapshot['unavailable']): AppSection {
    const empty: AppSection = {
      running: false,
      pid: null,
      via: null,
      cmdline: null,
      state: null,
      cpuPercent: null,
      rssBytes: null,
      rssPeakBytes: null,
      swapBytes: null,
      threads: null,
      openFiles: null,
      openFilesError: null,
      uptimeSeconds: null,
      startedAt: null,
      stalePidFile: null,
      lastSeenAt: this.lastSeenAt,
      notRunningSince: null,
      error: null,
    };
    if (!this.appTarget) return empty;
    let stat = this.readTrackedStat();
    if (!stat) {
      this.untrack();
      this.discover(at);
      stat = this.readTrackedStat();
      if (!stat) this.untrack();
    } else {
      const before = this.tracked;
      this.recheckPidFile(at);
      if (this.tracked !== before) {
        stat = this.readTrackedStat();
        if (!stat) this.untrack();
      }
    }
    const t = this.tracked;
    if (!t || !stat) {
      // Seen earlier in this run: missing since the first tick that did not find it. Otherwise the
      // best we know is the last time history saw it (or nothing, for a site never seen running).
      if (this.notRunningSince === null && this.seenThisRun) this.notRunningSince = at;
      return {
        ...empty,
        stalePidFile: this.stalePidFile,
        lastSeenAt: this.lastSeenAt,
        notRunningSince: this.seenThisRun ? this.notRunningSince : this.lastSeenAt,
      };
    }
    this.notRunningSince = null;
    this.seenThisRun = true;
    this.lastSeenAt = at;
    const ticks = stat.utimeTicks + stat.stimeTicks;
    const cpuPercent =
      t.prevTicks !== null && t.prevAt !== null && at > t.prevAt && ticks >= t.prevTicks
        ? ((ticks - t.prevTicks) * 1000 * 100) / CLOCK_TICKS / (at - t.prevAt)
        : null;
    t.prevTicks = ticks;
    t.prevAt = at;
    const errors: string[] = [];
    let status: ReturnType<typeof parsePidStatus> | null = null;
    try {
      status = parsePidStatus(t.status.read());
    } catch (err) {
      errors.push(`status: ${describeError(err)}`);
    }
    let openFiles: number | null = null;
    let openFilesError: string | null = null;
    try {
      this.fdCountFromStat ??= statSizeCountsFds(this.procRoot);
      openFiles = openFileCount(t.pid, this.procRoot, this.fdCountFromStat);
    } catch (err) {
      openFilesError = describeError(err);
    }
    let uptimeSeconds: number | null = null;
    try {
      const up = Number(this.files.uptime.read().split(' ')[0]);
      if (Number.isFinite(up)) uptimeSeconds = Math.max(0, up - stat.startTicks / CLOCK_TICKS);
    } catch (err) {
      errors.push(`uptime: ${describeError(err)}`);
    }
    const error = errors.length ? errors.join('; ') : null;
    if (error) unavailable.app = error;
    return {
      running: true,
      pid: t.pid,
      via: t.via,
      cmdline: t.cmdline,
      state: status?.state ?? describeState(stat.state),
      cpuPercent,
      rssBytes: status?.rssBytes ?? null,
      rssPeakBytes: status?.rssPeakBytes ?? null,
      swapBytes: status?.swapBytes ?? null,
      threads: stat.threads,
      openFiles,
      openFilesError,
      uptimeSeconds,
      startedAt: uptimeSeconds !== null ? at - uptimeSeconds * 1000 : null,
      stalePidFile: this.stalePidFile,
      lastSeenAt: at,
      notRunningSince: null,
      error,
    };
  }

  close(): void {
    for (const f of Object.values(this.files)) f.close();
    this.untrack();
  }
}
