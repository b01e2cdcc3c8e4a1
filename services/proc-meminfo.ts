// /proc/meminfo: memory and swap. "Used" is total minus MemAvailable (the kernel's estimate of what
// can be given to programs without swapping), as free(1) and btop show it; before Linux 3.14 there
// is no MemAvailable and it is estimated from free + buffers + page cache + reclaimable slab.
import { ProcParseError } from './proc-file.js';

export interface MemoryInfo {
  totalBytes: number;
  availableBytes: number;
  usedBytes: number;
  usedPercent: number;
  freeBytes: number;
  buffersBytes: number;
  cachedBytes: number;
  dirtyBytes: number | null;
  swapTotalBytes: number;
  swapFreeBytes: number;
  swapUsedBytes: number;
  /** 0 when there is no swap. */
  swapPercent: number;
  /** True when MemAvailable was missing and estimated. */
  availableEstimated: boolean;
}

/** The raw fields, in bytes (the file says kB, meaning KiB). */
export function parseMeminfoFields(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rest = line.slice(colon + 1).trim();
    const space = rest.indexOf(' ');
    const value = Number(space < 0 ? rest : rest.slice(0, space));
    if (!Number.isFinite(value)) continue;
    out.set(line.slice(0, colon), rest.endsWith('kB') ? value * 1024 : value);
  }
  return out;
}

export function parseMeminfo(text: string): MemoryInfo {
  const f = parseMeminfoFields(text);
  const total = f.get('MemTotal');
  const free = f.get('MemFree');
  if (total === undefined || free === undefined || total <= 0)
    throw new ProcParseError('/proc/meminfo', 'no MemTotal/MemFree');
  const buffers = f.get('Buffers') ?? 0;
  const cached = f.get('Cached') ?? 0;
  let available = f.get('MemAvailable');
  const availableEstimated = available === undefined;
  if (available === undefined) {
    available = Math.min(
      total,
      free + buffers + cached + (f.get('SReclaimable') ?? 0) - (f.get('Shmem') ?? 0),
    );
  }
  const swapTotal = f.get('SwapTotal') ?? 0;
  const swapFree = f.get('SwapFree') ?? 0;
  const used = Math.max(0, total - available);
  const swapUsed = Math.max(0, swapTotal - swapFree);
  return {
    totalBytes: total,
    availableBytes: available,
    usedBytes: used,
    usedPercent: (used * 100) / total,
    freeBytes: free,
    buffersBytes: buffers,
    cachedBytes: cached,
    dirtyBytes: f.get('Dirty') ?? null,
    swapTotalBytes: swapTotal,
    swapFreeBytes: swapFree,
    swapUsedBytes: swapUsed,
    swapPercent: swapTotal > 0 ? (swapUsed * 100) / swapTotal : 0,
    availableEstimated,
  };
}
