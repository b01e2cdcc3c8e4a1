// Finds a site's log files (SITE.md): the five live files and any other `*.log` in logs/, and their
// rotated history in the three schemes:
//   - Python RotatingFileHandler: `candy_cadence.log.1` … `.10` (also logrotate's `.N.gz`);
//   - the maintenance procedure: `candy_cadence_YYYYmmdd_HHMMSS.log`, then `.log.gz`;
//   - the daily copytruncate task: `<base>.YYYYmmdd.log.gz` (e.g. `error.20261122.log.gz`).
import { type Dirent, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const SITE_LOG_FILES = [
  'candy_cadence.log',
  'error.log',
  'performance.log',
  'database.log',
  'parser.log',
] as const;

export type LogScheme = 'live' | 'numbered' | 'maintenance' | 'daily' | 'compressed';

export interface LogName {
  /** The live file this one belongs to, e.g. `candy_cadence.log`. */
  base: string;
  scheme: LogScheme;
  compressed: boolean;
  /** RotatingFileHandler index (1 = newest). */
  index?: number;
  /** Time encoded in the name (local time), epoch ms. */
  stamp?: number;
}

export interface LogFileEntry extends LogName {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

const MAINTENANCE = /^(.+)_(\d{8})_(\d{6})\.log(\.gz)?$/;
const DAILY = /^(.+)\.(\d{8})\.log(\.gz)?$/;
const NUMBERED = /^(.+\.log)\.(\d{1,3})(\.gz)?$/;
const COMPRESSED = /^(.+\.log)\.gz$/;

function stampOf(day: string, time = '000000'): number | undefined {
  const y = Number(day.slice(0, 4));
  const mo = Number(day.slice(4, 6));
  const d = Number(day.slice(6, 8));
  const h = Number(time.slice(0, 2));
  const mi = Number(time.slice(2, 4));
  const s = Number(time.slice(4, 6));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  return new Date(y, mo - 1, d, h, mi, s).getTime();
}

/** What a file name in logs/ is: a live log, a rotated one (and of which scheme), or null. */
export function classifyLogName(name: string): LogName | null {
  let m = MAINTENANCE.exec(name);
  if (m) {
    const stamp = stampOf(m[2]!, m[3]!);
    if (stamp !== undefined)
      return { base: `${m[1]}.log`, scheme: 'maintenance', compressed: Boolean(m[4]), stamp };
  }
  m = DAILY.exec(name);
  if (m) {
    const stamp = stampOf(m[2]!);
    if (stamp !== undefined)
      return { base: `${m[1]}.log`, scheme: 'daily', compressed: Boolean(m[3]), stamp };
  }
  m = NUMBERED.exec(name);
  if (m) return { base: m[1]!, scheme: 'numbered', compressed: Boolean(m[3]), index: Number(m[2]) };
  m = COMPRESSED.exec(name);
  if (m) return { base: m[1]!, scheme: 'compressed', compressed: true };
  if (name.endsWith('.log') && !name.startsWith('.'))
    return { base: name, scheme: 'live', compressed: false };
  return null;
}

export interface Discovery {
  logsDir: string;
  live: LogFileEntry[];
  /** Rotated files, oldest first. */
  history: LogFileEntry[];
  /** SITE.md files that are not there. */
  missing: string[];
  /** Files that could not be examined, with the reason. */
  errors: Array<{ path: string; error: string }>;
}

/** Lists logs/ (not recursively). A missing folder gives an empty discovery with an error. */
export function discoverLogFiles(logsDir: string): Discovery {
  const out: Discovery = { logsDir, live: [], history: [], missing: [], errors: [] };
  let entries: Dirent[];
  try {
    entries = readdirSync(logsDir, { withFileTypes: true });
  } catch (err) {
    out.errors.push({ path: logsDir, error: (err as Error).message });
    out.missing.push(...SITE_LOG_FILES);
    return out;
  }
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const kind = classifyLogName(e.name);
    if (!kind) continue;
    const p = path.join(logsDir, e.name);
    try {
      const st = statSync(p);
      if (!st.isFile()) continue;
      const entry: LogFileEntry = {
        ...kind,
        path: p,
        name: e.name,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
      };
      (kind.scheme === 'live' ? out.live : out.history).push(entry);
    } catch (err) {
      out.errors.push({ path: p, error: (err as Error).message });
    }
  }
  const known = new Set<string>(SITE_LOG_FILES);
  out.live.sort((a, b) => {
    const ka = known.has(a.name) ? SITE_LOG_FILES.indexOf(a.name as never) : 99;
    const kb = known.has(b.name) ? SITE_LOG_FILES.indexOf(b.name as never) : 99;
    return ka - kb || a.name.localeCompare(b.name);
  });
  // A rotated file kept plain next to its .gz (the application wrote to it while it was compressed,
  // see log-rotate.ts) holds everything the .gz holds and more: read only the plain one.
  const plain = new Set(out.history.filter((f) => !f.compressed).map((f) => f.name));
  out.history = out.history.filter((f) => !(f.compressed && plain.has(f.name.replace(/\.gz$/, ''))));
  out.history.sort((a, b) => historyTime(a) - historyTime(b) || a.name.localeCompare(b.name));
  const have = new Set(out.live.map((f) => f.name));
  out.missing = SITE_LOG_FILES.filter((f) => !have.has(f));
  return out;
}

/** When a rotated file's content ends, as best known: its mtime (names only give the rotation day). */
function historyTime(f: LogFileEntry): number {
  return f.mtimeMs;
}
