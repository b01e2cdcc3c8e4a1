// One process from /proc/<pid>: stat (state, CPU ticks, threads, start time), status (RSS, peak,
// swap) and the number of open files. On Linux 6.2+ stat(2) of /proc/<pid>/fd reports the count in
// st_size (4 µs); before that, or when it says 0, the folder is listed (22 µs for a handful of fds).
import { readdirSync, statSync } from 'node:fs';
import { ProcParseError } from './proc-file.js';

/** USER_HZ: the unit of the tick counts in /proc; 100 on every mainstream Linux architecture. */
export const CLOCK_TICKS = 100;

export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utimeTicks: number;
  stimeTicks: number;
  threads: number;
  /** Ticks after boot. */
  startTicks: number;
  vsizeBytes: number;
  rssPages: number;
}

export function parsePidStat(text: string): PidStat {
  // comm may hold spaces and parentheses: it runs from the first "(" to the last ")".
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new ProcParseError('/proc/<pid>/stat', 'no (comm)');
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  if (f.length < 22) throw new ProcParseError('/proc/<pid>/stat', `only ${f.length + 2} fields`);
  // f[0] is field 3 (state) of proc(5).
  const n = (field: number) => Number(f[field - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: n(4),
    utimeTicks: n(14),
    stimeTicks: n(15),
    threads: n(20),
    startTicks: n(22),
    vsizeBytes: n(23),
    rssPages: n(24),
  };
}

export interface PidStatus {
  name: string | null;
  /** "S (sleeping)". */
  state: string | null;
  rssBytes: number | null;
  rssPeakBytes: number | null;
  swapBytes: number | null;
  threads: number | null;
  uid: number | null;
}

export function parsePidStatus(text: string): PidStatus {
  const out: PidStatus = {
    name: null,
    state: null,
    rssBytes: null,
    rssPeakBytes: null,
    swapBytes: null,
    threads: null,
    uid: null,
  };
  const kb = (v: string) => Number(v.trim().split(/\s+/)[0]) * 1024;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    switch (key) {
      case 'Name':
        out.name = value.trim();
        break;
      case 'State':
        out.state = value.trim();
        break;
      case 'VmRSS':
        out.rssBytes = kb(value);
        break;
      case 'VmHWM':
        out.rssPeakBytes = kb(value);
        break;
      case 'VmSwap':
        out.swapBytes = kb(value);
        break;
      case 'Threads':
        out.threads = Number(value.trim());
        break;
      case 'Uid':
        out.uid = Number(value.trim().split(/\s+/)[0]);
        break;
    }
  }
  return out;
}

const STATE_NAMES: Record<string, string> = {
  R: 'running',
  S: 'sleeping',
  D: 'disk sleep',
  Z: 'zombie',
  T: 'stopped',
  t: 'tracing stop',
  X: 'dead',
  I: 'idle',
  P: 'parked',
  W: 'paging',
};

export function describeState(letter: string): string {
  return STATE_NAMES[letter] ? `${letter} (${STATE_NAMES[letter]})` : letter;
}

/** Open file descriptors of a process; throws EACCES for another user's process when not root. */
export function openFileCount(pid: number, procRoot = '/proc', useStatSize = true): number {
  const dir = `${procRoot}/${pid}/fd`;
  if (useStatSize) {
    const size = statSync(dir).size;
    if (size > 0) return size;
  }
  return readdirSync(dir).length;
}

/**
 * Whether stat(2) of <procRoot>/<pid>/fd gives the open-file count (Linux 6.2+), checked once on our
 * own process: its size must match a listing of the folder (give or take the listing's own fd).
 */
export function statSizeCountsFds(procRoot = '/proc'): boolean {
  try {
    const size = statSync(`${procRoot}/self/fd`).size;
    const listed = readdirSync(`${procRoot}/self/fd`).length;
    return size > 0 && Math.abs(size - listed) <= 2;
  } catch {
    return false;
  }
}
