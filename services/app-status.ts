// Polls whether the Candy-Cadence process is up, for the header and the Overview. One lookup is
// a few /proc reads (well under a millisecond), so a 2 s poll costs nothing measurable.
import { findAppProcess, processUptimeSeconds } from './app-process.js';
import { createStore, type Store } from './store.js';
import { everyAligned } from './ticks.js';

export interface AppStatus {
  up: boolean;
  pid: number | null;
  via: 'pid file' | 'pattern' | null;
  /** When the process started (ms since epoch): stable, so the status changes only when the process does. */
  startedAt: number | null;
  /** Why the pid file was not trusted, when it was not. */
  stalePidFile: string | null;
  /** When the up/down state was last seen to change (ms since epoch), or when watching began. */
  since: number;
}

/** Seconds the application has been up at `now`, or null when it is down or its start is unknown. */
export function appUptimeSeconds(app: AppStatus, now = Date.now()): number | null {
  return app.up && app.startedAt !== null ? Math.max(0, (now - app.startedAt) / 1000) : null;
}

/**
 * The application's status now. Returns `previous` itself when nothing it reports has changed, so
 * a store holding it notifies nobody: the header and the Overview redraw on a change of the
 * process, not on every poll (uptime is shown from startedAt by whatever already ticks).
 */
export function readAppStatus(
  opts: { pidFile: string; pattern: string; siteRoot?: string | null },
  previous?: AppStatus,
  now = Date.now(),
): AppStatus {
  const found = findAppProcess({ pidFile: opts.pidFile, pattern: opts.pattern, siteRoot: opts.siteRoot });
  const up = found.process !== null;
  const pid = found.process?.pid ?? null;
  const samePid = previous !== undefined && previous.pid === pid && pid !== null;
  let startedAt = samePid ? previous.startedAt : null;
  if (pid !== null && startedAt === null) {
    const uptime = processUptimeSeconds(pid);
    startedAt = uptime !== null ? Math.round(now - uptime * 1000) : null;
  }
  const next: AppStatus = {
    up,
    pid,
    via: found.process?.via ?? null,
    startedAt,
    stalePidFile: found.stalePidFile?.reason ?? null,
    since: previous && previous.up === up ? previous.since : now,
  };
  if (
    previous &&
    previous.up === next.up &&
    previous.pid === next.pid &&
    previous.via === next.via &&
    previous.startedAt === next.startedAt &&
    previous.stalePidFile === next.stalePidFile &&
    previous.since === next.since
  )
    return previous;
  return next;
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
