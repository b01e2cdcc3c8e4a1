// Finds the running Candy-Cadence process: the pid file first (checked against /proc, so a stale
// file is reported, not trusted), then a command-line pattern over /proc/*/cmdline. Reads /proc
// directly: no process is spawned, each lookup costs well under a millisecond on a quiet host.
// A pid file older than the process it names is stale too: the application died and its pid was
// reused by something that started after the file was written.
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';

export interface AppProcess {
  pid: number;
  /** How it was found. */
  via: 'pid file' | 'pattern';
  cmdline: string;
}

export interface AppProcessLookup {
  process: AppProcess | null;
  /** Set when the pid file names a process that does not exist (or is not the application). */
  stalePidFile: { pid: number | null; reason: string } | null;
}

/** Whether a process with this pid exists (one of another user's counts: kill(0) says EPERM). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readCmdline(pid: number, procRoot = '/proc'): string | null {
  try {
    return readFileSync(`${procRoot}/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/**
 * Whether a command line is the application's: it holds the pattern, and it is not a tool that
 * mentions the pattern in its arguments (`grep candy_cadence`, another cadence-ops run with
 * --root .../candy_cadence). The simulator rewrites its command line to "candy_cadence (simulated
 * by cadence-ops)", so it still matches.
 */
export function looksLikeApp(cmdline: string, pattern: string, siteRoot?: string | null): boolean {
  if (!cmdline.includes(pattern)) return false;
  if (/\b(grep|pgrep|tail|less|vi|vim|tmux)\b/.test(cmdline.split(' ')[0] ?? '')) return false;
  if (cmdline.includes('cadence-ops.js') || /(^|\/)cadence-ops( |$)/.test(cmdline)) return false;
  // A tool given a path inside the site (sqlite3 /srv/candy_cadence/data/x.db) mentions the pattern
  // only through that path: it is not the application.
  if (siteRoot) {
    const outside = cmdline.split(' ').filter((arg) => !isInside(arg, siteRoot));
    if (!outside.join(' ').includes(pattern)) return false;
  }
  return true;
}

function isInside(p: string, root: string): boolean {
  return p === root || p.startsWith(`${root}/`);
}

/**
 * True when a process works on this site: its working folder, an argument or an open file is
 * inside the root. Another site's application (or its simulator) matches the pattern too; only
 * this check tells them apart.
 */
export function belongsToSite(pid: number, siteRoot: string, procRoot = '/proc'): boolean {
  const roots = [siteRoot];
  try {
    const real = realpathSync(siteRoot);
    if (real !== siteRoot) roots.push(real);
  } catch {}
  const inside = (p: string) => roots.some((r) => isInside(p, r));
  try {
    if (inside(readlinkSync(`${procRoot}/${pid}/cwd`))) return true;
  } catch {}
  if ((readCmdline(pid, procRoot) ?? '').split(' ').some(inside)) return true;
  try {
    for (const fd of readdirSync(`${procRoot}/${pid}/fd`)) {
      try {
        if (inside(readlinkSync(`${procRoot}/${pid}/fd/${fd}`))) return true;
      } catch {}
    }
  } catch {}
  return false;
}

export function isZombie(pid: number, procRoot: string): boolean {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

export function findAppProcess(opts: {
  pidFile: string | null;
  pattern: string | null;
  procRoot?: string;
  selfPid?: number;
  /** When set, a process found by the pattern must work on this site (see belongsToSite). */
  siteRoot?: string | null;
}): AppProcessLookup {
  const procRoot = opts.procRoot ?? '/proc';
  const self = opts.selfPid ?? process.pid;
  let stalePidFile: AppProcessLookup['stalePidFile'] = null;
  if (opts.pidFile) {
    let text: string | null = null;
    try {
      text = readFileSync(opts.pidFile, 'utf8').trim();
    } catch {}
    if (text !== null) {
      const pid = Number.parseInt(text, 10);
      if (!Number.isInteger(pid) || pid <= 0) {
        stalePidFile = { pid: null, reason: `pid file ${opts.pidFile} does not hold a pid` };
      } else {
        const cmdline = readCmdline(pid, procRoot);
        if (cmdline === null || isZombie(pid, procRoot)) {
          stalePidFile = { pid, reason: `pid file names ${pid}, which is not running` };
        } else {
          const reused = pidReusedAfter(opts.pidFile, pid, procRoot);
          if (reused) stalePidFile = { pid, reason: reused };
          else return { process: { pid, via: 'pid file', cmdline }, stalePidFile: null };
        }
      }
    }
  }
  if (opts.pattern) {
    let entries: string[] = [];
    try {
      entries = readdirSync(procRoot);
    } catch {}
    for (const entry of entries) {
      const first = entry.charCodeAt(0);
      if (first < 48 || first > 57) continue;
      const pid = Number(entry);
      if (pid === self) continue;
      const cmdline = readCmdline(pid, procRoot);
      if (!cmdline || !looksLikeApp(cmdline, opts.pattern, opts.siteRoot)) continue;
      if (isZombie(pid, procRoot)) continue;
      if (opts.siteRoot && !belongsToSite(pid, opts.siteRoot, procRoot)) continue;
      return { process: { pid, via: 'pattern', cmdline }, stalePidFile };
    }
  }
  return { process: null, stalePidFile };
}

/** Epoch ms when a process started, from its start ticks and the boot time in /proc/stat. */
export function processStartedAt(pid: number, procRoot = '/proc', clockTicks = 100): number | null {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync(`${procRoot}/stat`, 'latin1'));
    if (!btime || !Number.isFinite(startTicks)) return null;
    return Number(btime[1]) * 1000 + (startTicks * 1000) / clockTicks;
  } catch {
    return null;
  }
}

/** The reason the pid file cannot be about `pid` (the process started after the file was written), or null. */
function pidReusedAfter(pidFile: string, pid: number, procRoot: string): string | null {
  let written: number;
  try {
    written = statSync(pidFile).mtimeMs;
  } catch {
    return null;
  }
  const started = processStartedAt(pid, procRoot);
  // Two seconds of slack: btime is whole seconds and clocks drift.
  if (started === null || started <= written + 2000) return null;
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  return `pid file names ${pid}, but that process started at ${iso(started)}, after the file was written (${iso(written)}): the pid was reused`;
}

/** Seconds since the process started, from /proc/<pid>/stat field 22 and /proc/uptime. */
export function processUptimeSeconds(pid: number, procRoot = '/proc', clockTicks = 100): number | null {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const uptime = Number(readFileSync(`${procRoot}/uptime`, 'latin1').split(' ')[0]);
    if (!Number.isFinite(startTicks) || !Number.isFinite(uptime)) return null;
    return Math.max(0, uptime - startTicks / clockTicks);
  } catch {
    return null;
  }
}
