// Which processes hold a file open: the SQLite counterpart of "active connections" (a database,
// its -wal, -shm and -journal), and what a restore must know before it swaps files. Reads
// /proc/*/fd symlinks directly (no lsof), tolerating processes that exit mid-scan and processes
// whose descriptors we may not read (other users' processes when not root).
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

export interface OpenFileHolder {
  pid: number;
  /** Short process name (/proc/PID/comm). */
  command: string;
  /** Full command line, arguments separated by spaces ('' for kernel threads). */
  cmdline: string;
  fd: number;
  /** The path as the kernel reports it, without a " (deleted)" suffix. */
  path: string;
  /** The requested file this descriptor matched. */
  file: string;
  /** The process holds a file that has since been deleted or replaced at that path. */
  deleted: boolean;
  /** Access mode of the descriptor (from /proc/PID/fdinfo), null when unreadable. */
  mode: 'r' | 'w' | 'rw' | null;
  /** The scanning process itself. */
  self: boolean;
  /** Parent pid (0 when unknown): a child of the scanning process is one of its own helpers. */
  ppid: number;
}

export interface OpenFilesScan {
  holders: OpenFileHolder[];
  /** Processes looked at. */
  scanned: number;
  /** Processes whose descriptors could not be read (EACCES/EPERM): holders among them are unknown. */
  unreadable: number;
  /** Processes that exited while we looked at them. */
  vanished: number;
  ms: number;
}

export interface OpenFilesOptions {
  procRoot?: string;
  /** Include the scanning process (default false: the console's own connection is not news). */
  includeSelf?: boolean;
  selfPid?: number;
}

/** The files that make up a SQLite database on disk: the main file, -wal, -shm and -journal. */
export function sqliteFileSet(dbFile: string): string[] {
  const abs = path.resolve(dbFile);
  return [abs, `${abs}-wal`, `${abs}-shm`, `${abs}-journal`];
}

/** Every spelling under which the kernel may report a file: as given and with symlinks resolved. */
function candidateNames(files: string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const file of files) {
    const abs = path.resolve(file);
    names.set(abs, abs);
    try {
      names.set(realpathSync(abs), abs);
    } catch {
      // The file may not exist (yet): resolve its folder instead (a -wal appears later).
      try {
        names.set(path.join(realpathSync(path.dirname(abs)), path.basename(abs)), abs);
      } catch {}
    }
  }
  return names;
}

const DELETED = ' (deleted)';

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}

function accessMode(procRoot: string, pid: number, fd: number): OpenFileHolder['mode'] {
  const info = readOrNull(`${procRoot}/${pid}/fdinfo/${fd}`);
  const m = info && /^flags:\s*([0-7]+)/m.exec(info);
  if (!m) return null;
  const acc = Number.parseInt(m[1]!, 8) & 3;
  return acc === 0 ? 'r' : acc === 1 ? 'w' : 'rw';
}

type ProcessResult =
  | { kind: 'ok'; holders: OpenFileHolder[] }
  | { kind: 'unreadable' }
  | { kind: 'vanished' };

function scanProcess(
  procRoot: string,
  pid: number,
  names: Map<string, string>,
  self: boolean,
): ProcessResult {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch (err) {
    const code = errCode(err);
    if (code === 'EACCES' || code === 'EPERM') return { kind: 'unreadable' };
    return { kind: 'vanished' };
  }
  const holders: OpenFileHolder[] = [];
  for (const entry of fds) {
    let target: string;
    try {
      target = readlinkSync(`${procRoot}/${pid}/fd/${entry}`);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EACCES' || code === 'EPERM') return { kind: 'unreadable' };
      continue; // the descriptor was closed meanwhile
    }
    if (target.charCodeAt(0) !== 47) continue; // sockets, pipes, anon inodes
    const deleted = target.endsWith(DELETED);
    const clean = deleted ? target.slice(0, -DELETED.length) : target;
    const file = names.get(clean);
    if (!file) continue;
    const fd = Number(entry);
    holders.push({
      pid,
      command: '',
      cmdline: '',
      fd,
      path: clean,
      file,
      deleted,
      mode: accessMode(procRoot, pid, fd),
      self,
      ppid: 0,
    });
  }
  if (holders.length) {
    const command = (readOrNull(`${procRoot}/${pid}/comm`) ?? '').trim();
    const cmdline = (readOrNull(`${procRoot}/${pid}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
    const stat = readOrNull(`${procRoot}/${pid}/stat`);
    if (!command && !cmdline && stat === null) return { kind: 'vanished' };
    // Field 4 of stat, after the parenthesised command name (which may contain spaces).
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) || 0 : 0;
    for (const h of holders) {
      h.command = command;
      h.cmdline = cmdline;
      h.ppid = ppid;
    }
  }
  return { kind: 'ok', holders };
}

function listPids(procRoot: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch (err) {
    throw new Error(`cannot list ${procRoot}: ${(err as Error).message}`);
  }
  const pids: number[] = [];
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(e));
  }
  return pids.sort((a, b) => a - b);
}

function* scanSteps(
  files: string[],
  opts: OpenFilesOptions,
): Generator<void, Omit<OpenFilesScan, 'ms'>, undefined> {
  const procRoot = opts.procRoot ?? '/proc';
  const selfPid = opts.selfPid ?? process.pid;
  const names = candidateNames(files);
  const result: Omit<OpenFilesScan, 'ms'> = { holders: [], scanned: 0, unreadable: 0, vanished: 0 };
  for (const pid of listPids(procRoot)) {
    const self = pid === selfPid;
    if (self && !opts.includeSelf) continue;
    result.scanned++;
    const r = scanProcess(procRoot, pid, names, self);
    if (r.kind === 'ok') result.holders.push(...r.holders);
    else if (r.kind === 'unreadable') result.unreadable++;
    else result.vanished++;
    yield;
  }
  return result;
}

/** Synchronous scan; a few milliseconds on a normal host. Prefer the async form on a render path. */
export function findOpenFileHoldersSync(files: string[], opts: OpenFilesOptions = {}): OpenFilesScan {
  const started = performance.now();
  const steps = scanSteps(files, opts);
  let next = steps.next();
  while (!next.done) next = steps.next();
  return { ...next.value, ms: performance.now() - started };
}

/** Same scan, yielding to the event loop every few milliseconds so a busy host never freezes the screen. */
export async function findOpenFileHolders(
  files: string[],
  opts: OpenFilesOptions = {},
): Promise<OpenFilesScan> {
  const started = performance.now();
  const steps = scanSteps(files, opts);
  let sliceStart = performance.now();
  let next = steps.next();
  while (!next.done) {
    if (performance.now() - sliceStart > 8) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
    next = steps.next();
  }
  return { ...next.value, ms: performance.now() - started };
}

/** One line per holding process: "1234 python3 candy_cadence.py (db rw, wal rw, shm rw)". */
export function summariseHolders(holders: OpenFileHolder[]): Array<{
  pid: number;
  command: string;
  cmdline: string;
  files: Array<{ file: string; fd: number; mode: OpenFileHolder['mode']; deleted: boolean }>;
}> {
  const byPid = new Map<number, ReturnType<typeof summariseHolders>[number]>();
  for (const h of holders) {
    let p = byPid.get(h.pid);
    if (!p) {
      p = { pid: h.pid, command: h.command, cmdline: h.cmdline, files: [] };
      byPid.set(h.pid, p);
    }
    p.files.push({ file: h.file, fd: h.fd, mode: h.mode, deleted: h.deleted });
  }
  return [...byPid.values()];
}
