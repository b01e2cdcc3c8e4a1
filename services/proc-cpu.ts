// /proc/stat: CPU time per state since boot, for the whole host and per core; CPU % is the share of
// non-idle time between two readings (what top and btop do). No sleeping: systeminformation's
// currentLoad() waits 500 ms on its first call, we keep the previous reading instead.
import { ProcParseError } from './proc-file.js';
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  total: CpuTimes;
  /** Per core, indexed by the kernel's CPU number; a hole is an offline core. */
  cores: (CpuTimes | undefined)[];
  contextSwitches: number | null;
  /** Boot time, epoch seconds. */
  bootTime: number | null;
  processesRunning: number | null;
  processesBlocked: number | null;
}

function times(fields: string[]): CpuTimes {
  const n = (i: number) => {
    const v = Number(fields[i]);
    return Number.isFinite(v) ? v : 0;
  };
  // guest and guest_nice (fields 9, 10) are already counted in user and nice.
  return {
    user: n(1),
    nice: n(2),
    system: n(3),
    idle: n(4),
    iowait: n(5),
    irq: n(6),
    softirq: n(7),
    steal: n(8),
  };
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | null = null;
  const cores: (CpuTimes | undefined)[] = [];
  let contextSwitches: number | null = null;
  let bootTime: number | null = null;
  let processesRunning: number | null = null;
  let processesBlocked: number | null = null;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // Only the short lines matter; skip the long `intr` and `softirq` lines without splitting them.
    if (text.startsWith('cpu', start)) {
      const fields = text.slice(start, end).split(/\s+/);
      if (fields.length < 5) throw new ProcParseError('/proc/stat', `malformed line "${fields.join(' ')}"`);
      const name = fields[0]!;
      if (name === 'cpu') total = times(fields);
      else {
        const index = Number(name.slice(3));
        if (Number.isInteger(index) && index >= 0 && index < 4096) cores[index] = times(fields);
      }
    } else if (text.startsWith('ctxt ', start)) contextSwitches = Number(text.slice(start + 5, end));
    else if (text.startsWith('btime ', start)) bootTime = Number(text.slice(start + 6, end));
    else if (text.startsWith('procs_running ', start)) processesRunning = Number(text.slice(start + 14, end));
    else if (text.startsWith('procs_blocked ', start)) processesBlocked = Number(text.slice(start + 14, end));
    start = end + 1;
  }
  if (!total) throw new ProcParseError('/proc/stat', 'no "cpu" line');
  return { total, cores, contextSwitches, bootTime, processesRunning, processesBlocked };
}

export interface CpuUsage {
  /** Busy share of the interval, 0–100. */
  percent: number;
  user: number;
  system: number;
  iowait: number;
  steal: number;
}

/**
 * CPU use between two readings, or null when no time passed for this CPU. Each state's delta is
 * clamped at zero: iowait is known to step backwards on tickless kernels.
 */
export function cpuUsage(prev: CpuTimes, cur: CpuTimes): CpuUsage | null {
  const d = (k: keyof CpuTimes) => Math.max(0, cur[k] - prev[k]);
  const user = d('user') + d('nice');
  const system = d('system') + d('irq') + d('softirq');
  const idle = d('idle');
  const iowait = d('iowait');
  const steal = d('steal');
  const total = user + system + idle + iowait + steal;
  if (total <= 0) return null;
  const pct = (x: number) => (x * 100) / total;
  return {
    percent: pct(user + system + steal),
    user: pct(user),
    system: pct(system),
    iowait: pct(iowait),
    steal: pct(steal),
  };
}
