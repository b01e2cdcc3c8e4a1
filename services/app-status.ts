// Polls whether the Candy-Cadence process is up, for the header and the Overview. One lookup is
// a few /proc reads (well under a millisecond), so a 2 s poll costs nothing measurable.
import { findAppProcess, processUptimeSeconds } from './app-process.js';
import { createStore, type Store } from './store.js';
import { everyAligned } from './ticks.js';

export interface AppStatus {
  up: boolean;
  pid: number | null;
  via: 'pid file' | 'pattern' | null;
  uptimeSeconds: number | null;
  /** Why the pid file was not trusted, when it was not. */
  stalePidFile: string | null;
  /** When the up/down state was last seen to change (ms since epoch), or when watching began. */
  since: number;
  checkedAt: number;
}

export function readAppStatus(
  opts: { pidFile: string; pattern: string; siteRoot?: string | null },
  previous?: AppStatus,
  now = Date.now(),
): AppStatus {
  const found = findAppProcess({ pidFile: opts.pidFile, pattern: opts.pattern, siteRoot: opts.siteRoot });
  const up = found.process !== null;
  return {
    up,
    pid: found.process?.pid ?? null,
    via: found.process?.via ?? null,
    uptimeSeconds: found.process ? processUptimeSeconds(found.process.pid) : null,
    stalePidFile: found.stalePidFile?.reason ?? null,
    since: previous && previous.up === up ? previous.since : now,
    checkedAt: now,
  };
}

export function watchAppStatus(opts: {
  pidFile: string;
  pattern: string;
  siteRoot?: string | null;
  intervalMs?: number;
}): {
  store: Store<AppStatus>;
  stop(): void;
} {
  const store = createStore(readAppStatus(opts));
  const stop = everyAligned(opts.intervalMs ?? 1000, () => store.set((prev) => readAppStatus(opts, prev)));
  return { store, stop };
}

/** "3d 4h", "2h 05m", "4m 10s", "12s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
