// Follows a site's log files live, across the three rotation schemes of SITE.md, without losing or
// repeating a line:
//   - rename (RotatingFileHandler, the maintenance procedure): the live name gets a new inode; the
//     old file is still open here and is read to its end (and for a grace period after, in case the
//     writer had not reopened yet) before the new file is read from its start. `tail -F` loses what
//     was written to the renamed file before it reopens; this does not.
//   - copytruncate (the daily task): same inode, content shorter than what was read, or different
//     bytes where the last read ended (the writer refilled it). The bytes written after the last read
//     and before the truncation are in the copy (`<base>.YYYYmmdd.log[.gz]` or `<name>.1`): they
//     are taken from there when the copy matches what was read, else counted as lost.
//   - delete and recreate: the deleted file is drained through its open descriptor; the new one is
//     read from the start.
// A partial last line is kept until its newline arrives (or its file is closed for good). Lines
// that do not start a record (tracebacks) are attached to the record before them. Invalid UTF-8 is
// replaced, binary garbage becomes a flagged record of its own, CRLF is accepted, and lines longer
// than maxLineBytes are cut for display and counted.
//
// Change notification: chokidar (inotify; polling only with logs.usePolling) watches each followed
// file itself, not its folder: every append is an event naming the file (chokidar's `raw` event,
// which it does not throttle; events of one event-loop turn are read together), a truncation too,
// and chokidar moves its watch to the new file when a rename or a delete-and-recreate gives the name
// another inode. (chokidar watching the folder re-lists and lstats the whole folder on every change
// event, throttled to once a second: ~1.2 % of a core while the demo writes.) When a name goes away
// chokidar drops its watch and starts watching the folder for it to come back (that folder watch is
// the costly kind): the watcher is then renewed with the files that exist. A listing of the folder
// every discoverMs (500 ms) finds new logs and names that came back and adds them; a slow backstop
// reads every followed file for anything an event did not tell.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { type FSWatcher, watch } from 'chokidar';
import { classifyLogName } from './log-files.js';
import {
  detectParser,
  errorCodeOf,
  exceptionTypeOf,
  type Level,
  type LineParser,
  looksBinary,
  sanitizeForDisplay,
} from './log-parse.js';

export interface TailRecord {
  /** Increasing number of the record in this tail. */
  seq: number;
  /** File name (e.g. `error.log`). */
  file: string;
  /** When the record was read, epoch ms with sub-ms precision. */
  receivedAt: number;
  time: number | null;
  level: Level | null;
  logger: string | null;
  message: string;
  continuation: string[];
  /** Continuation lines that arrived after their record was emitted: the seq they belong to. */
  continuationOf?: number;
  /** Byte length of the first line when it was cut to maxLineBytes. */
  truncatedBytes?: number;
  binary?: boolean;
  code: string | null;
  exception: string | null;
}

export interface TailStats {
  lines: number;
  records: number;
  bytes: number;
  truncatedLines: number;
  binaryLines: number;
  droppedContinuationLines: number;
  rotations: number;
  truncations: number;
  /** Bytes taken from a copytruncate copy. */
  recoveredBytes: number;
  /** Truncations whose lost bytes could not be recovered (copy not found or not matching). */
  unrecoveredTruncations: number;
  reopened: number;
}

export interface TailOptions {
  /** Follow every live `*.log` in this folder (new ones too). */
  logsDir?: string;
  /** Or follow exactly these files. */
  files?: string[];
  /** Parser; default: auto-detected per file from its first lines. */
  parser?: LineParser;
  /** Where to start in files that exist at start: their end (default) or their beginning. */
  from?: 'end' | 'start';
  /** Lines of existing content to emit first, per file (with from: 'end'). */
  backfillLines?: number;
  /** No inotify: chokidar polls every followed file each backstopMs (default 1000 ms) instead. */
  usePolling?: boolean;
  maxLineBytes?: number;
  maxContinuationLines?: number;
  /** How long a renamed or deleted file is still read after it stopped growing. */
  detachedGraceMs?: number;
  backstopMs?: number;
  /** How often the folder is listed for new logs and for names that came back (default 500 ms). */
  discoverMs?: number;
  onRecord: (record: TailRecord) => void;
  onWarning?: (message: string) => void;
}

interface Handle {
  fd: number;
  ino: number;
  dev: number;
  pos: number;
  /** Last bytes read before pos, to notice a truncate-and-refill. */
  tail: Buffer;
  partial: Buffer[];
  partialBytes: number;
  /** Bytes of the current partial line dropped past maxLineBytes. */
  partialDropped: number;
  lastGrowth: number;
}

interface Followed {
  name: string;
  path: string;
  cur: Handle | null;
  detached: Handle[];
  parser: LineParser | null;
  pending: TailRecord | null;
  lastSeq: number;
  busy: boolean;
  again: boolean;
  /** The name moved to another file or went away: chokidar's watch is to be moved. */
  moved: boolean;
  /** Looking for the name to come back (a rename or delete whose new file is not there yet). */
  seeking: NodeJS.Timeout | null;
}

const TAIL_BYTES = 64;
const READ_CHUNK = 256 * 1024;

const nowMs = () => performance.timeOrigin + performance.now();

export class LogTailer {
  readonly stats: TailStats = {
    lines: 0,
    records: 0,
    bytes: 0,
    truncatedLines: 0,
    binaryLines: 0,
    droppedContinuationLines: 0,
    rotations: 0,
    truncations: 0,
    recoveredBytes: 0,
    unrecoveredTruncations: 0,
    reopened: 0,
  };
  private readonly followed = new Map<string, Followed>();
  private watcher: FSWatcher | null = null;
  /** Paths chokidar watches now (it drops a file whose name went away). */
  private readonly watched = new Set<string>();
  /** Paths given to chokidar and not yet confirmed. */
  private readonly adding = new Set<string>();
  private renewing: Promise<void> | null = null;
  private renewAgain = false;
  private backstop: NodeJS.Timeout | null = null;
  private discover: NodeJS.Timeout | null = null;
  private seq = 0;
  private stopped = false;
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private readonly buf = Buffer.allocUnsafe(READ_CHUNK);
  private readonly maxLine: number;
  private readonly maxCont: number;
  private readonly grace: number;

  constructor(private readonly opts: TailOptions) {
    if (!opts.logsDir && !opts.files?.length) throw new Error('LogTailer: give logsDir or files');
    this.maxLine = opts.maxLineBytes ?? 64 * 1024;
    this.maxCont = opts.maxContinuationLines ?? 500;
    this.grace = opts.detachedGraceMs ?? 2000;
  }

  /** Names of the files followed now. */
  get files(): string[] {
    return [...this.followed.keys()];
  }

  async start(): Promise<void> {
    const initial = this.opts.files?.map((f) => path.resolve(f)) ?? this.liveFilesIn(this.opts.logsDir!);
    for (const p of initial) this.follow(p, true);
    await this.renewWatcher();
    this.backstop = setInterval(() => {
      for (const f of this.followed.values()) this.pump(f);
    }, this.opts.backstopMs ?? 1000);
    this.backstop.unref?.();
    this.discover = setInterval(() => this.discoverFiles(), this.opts.discoverMs ?? 500);
    this.discover.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.backstop) clearInterval(this.backstop);
    if (this.discover) clearInterval(this.discover);
    for (const f of this.followed.values()) if (f.seeking) clearTimeout(f.seeking);
    await this.renewing;
    await this.watcher?.close();
    this.watcher = null;
    for (const f of this.followed.values()) {
      this.drainAll(f);
      for (const h of [...f.detached, ...(f.cur ? [f.cur] : [])]) this.close(f, h, false);
      this.flush(f);
    }
  }

  /**
   * A new chokidar watcher over the followed files that exist now (the old one closed first, with
   * any folder watch it had started), then a read of every file for what came meanwhile.
   */
  private renewWatcher(): Promise<void> {
    if (this.renewing) {
      this.renewAgain = true;
      return this.renewing;
    }
    this.renewing = (async () => {
      do {
        this.renewAgain = false;
        const old = this.watcher;
        this.watcher = null;
        this.watched.clear();
        this.adding.clear();
        await old?.close();
        if (this.stopped) return;
        const paths = [...this.followed.values()].map((f) => f.path).filter((p) => exists(p));
        const w = watch(paths, {
          persistent: true,
          ignoreInitial: true,
          usePolling: this.opts.usePolling ?? false,
          interval: this.opts.backstopMs ?? 1000,
          atomic: false,
          followSymlinks: false,
        });
        this.watcher = w;
        // Every inotify event of a watched file (with polling: every change the poll saw).
        w.on('raw', (_event, name, details) => {
          const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
          const p = watched ?? (typeof name === 'string' && path.isAbsolute(name) ? name : null);
          if (p) this.onWatchEvent(p);
        });
        w.on('add', (p) => {
          this.adding.delete(p);
          this.watched.add(p);
          this.onWatchEvent(p);
        });
        w.on('unlink', (p) => {
          // chokidar dropped the file and may be watching the folder for it now: renew.
          this.watched.delete(p);
          this.onWatchEvent(p);
          if (w === this.watcher) void this.renewWatcher();
        });
        w.on('error', (err) => this.opts.onWarning?.(`watching: ${(err as Error).message}`));
        // (chokidar says nothing for an empty list; a slow 'ready' does not hold up a stop.)
        if (paths.length)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 2000);
            w.once('ready', () => {
              clearTimeout(timer);
              resolve();
            });
          });
        for (const p of paths) this.watched.add(p);
        // Anything written before the watch was set.
        for (const f of this.followed.values()) this.pump(f);
      } while (this.renewAgain && !this.stopped);
    })().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  /** New live logs in the folder, and followed names that came back, are given to chokidar. */
  private discoverFiles(): void {
    if (this.stopped || this.renewing || !this.watcher) return;
    // (Files given one by one: only those chokidar does not watch now are looked for.)
    const present = this.opts.logsDir
      ? new Set(this.liveFilesIn(this.opts.logsDir))
      : new Set(
          [...this.followed.values()]
            .map((f) => f.path)
            .filter((p) => !this.watched.has(p) && !this.adding.has(p) && exists(p)),
        );
    for (const p of present) {
      const f = this.follow(p, false);
      if (this.watched.has(f.path) || this.adding.has(f.path) || !present.has(f.path)) continue;
      this.adding.add(f.path);
      this.watcher.add(f.path);
      this.pump(f);
    }
  }

  /** A chokidar event for a followed file; the events of one event-loop turn are handled together. */
  private onWatchEvent(p: string): void {
    if (this.stopped) return;
    this.dirty.add(p);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const paths = [...this.dirty];
      this.dirty.clear();
      for (const q of paths) this.onFsEvent(q);
    });
  }

  /** What chokidar watches now, as paths (a folder it watched would be listed too). */
  watchedPaths(): string[] {
    const w = this.watcher?.getWatched() ?? {};
    return Object.entries(w).flatMap(([dir, names]) => names.map((n) => path.join(dir, n)));
  }

  /** Reads whatever is available now in every followed file (tests and the screen use it on demand). */
  poll(): void {
    for (const f of this.followed.values()) this.pump(f);
  }

  private liveFilesIn(dir: string): string[] {
    try {
      if (!statSync(dir).isDirectory()) return [];
      return listDir(dir)
        .filter((n) => classifyLogName(n)?.scheme === 'live')
        .map((n) => path.join(dir, n));
    } catch {
      return [];
    }
  }

  private follow(p: string, initial: boolean): Followed {
    const name = path.basename(p);
    let f = this.followed.get(name);
    if (f) return f;
    f = {
      name,
      path: p,
      cur: null,
      detached: [],
      parser: this.opts.parser ?? null,
      pending: null,
      lastSeq: 0,
      busy: false,
      again: false,
      moved: false,
      seeking: null,
    };
    this.followed.set(name, f);
    const h = this.open(p);
    if (h) {
      if (initial && (this.opts.from ?? 'end') === 'end') {
        const size = fstatSync(h.fd).size;
        h.pos = this.backfillStart(h.fd, size, this.opts.backfillLines ?? 0);
        if (h.pos > 0) h.tail = readTail(h.fd, h.pos);
      }
      f.cur = h;
    }
    if (!initial) this.pump(f);
    return f;
  }

  /** Byte offset where the last n lines of a file start (0 lines: the end). */
  private backfillStart(fd: number, size: number, n: number): number {
    if (n <= 0 || size === 0) return size;
    const want = Math.min(size, n * 512 + 1);
    const b = Buffer.allocUnsafe(want);
    const got = readSync(fd, b, 0, want, size - want);
    let count = 0;
    let i = got - 1;
    if (b[i] === 10) i--;
    for (; i >= 0; i--) {
      if (b[i] === 10 && ++count >= n) return size - want + i + 1;
    }
    return want === size ? 0 : size - want + (b.indexOf(10) + 1);
  }

  private open(p: string): Handle | null {
    let fd: number;
    try {
      fd = openSync(p, 'r');
    } catch {
      return null;
    }
    const st = fstatSync(fd);
    return {
      fd,
      ino: st.ino,
      dev: st.dev,
      pos: 0,
      tail: Buffer.alloc(0),
      partial: [],
      partialBytes: 0,
      partialDropped: 0,
      lastGrowth: Date.now(),
    };
  }

  private onFsEvent(p: string): void {
    if (this.stopped) return;
    const name = path.basename(p);
    let f = this.followed.get(name);
    if (!f) {
      const kind = classifyLogName(name);
      // Written to under a rotated name (the writer had not reopened yet): read the file it was.
      const base = kind && kind.scheme !== 'live' ? this.followed.get(kind.base) : undefined;
      if (base && path.dirname(p) === path.dirname(base.path)) {
        this.pump(base);
        return;
      }
      if (!this.opts.logsDir || kind?.scheme !== 'live') return;
      // A new live log, unless it is a file we already hold open under another name (a rotated copy).
      try {
        const st = statSync(p);
        for (const g of this.followed.values()) {
          for (const h of [g.cur, ...g.detached]) if (h && h.ino === st.ino && h.dev === st.dev) return;
        }
      } catch {
        return;
      }
      f = this.follow(p, false);
      return;
    }
    // A followed name in another folder (files given one by one) is not this file.
    if (path.dirname(p) !== path.dirname(f.path)) return;
    this.pump(f);
  }

  /** Reads everything available from one followed file. Re-entrant calls are merged. */
  private pump(f: Followed): void {
    if (this.stopped) return;
    if (f.busy) {
      f.again = true;
      return;
    }
    f.busy = true;
    try {
      do {
        f.again = false;
        this.pumpOnce(f);
      } while (f.again);
    } catch (err) {
      this.opts.onWarning?.(`${f.name}: ${(err as Error).message}`);
    } finally {
      f.busy = false;
    }
    if (f.moved) this.rewatch(f);
  }

  /**
   * The name now belongs to another file (or to none yet): chokidar's watch may still be on the old
   * file (it checks the inode only for events 5 ms apart), so it is moved to the file under the name
   * now. A name that is not back yet is looked for every 10 ms for a while (a writer reopens at
   * once), so that a short-lived file is read before it is renamed in turn.
   */
  private rewatch(f: Followed): void {
    f.moved = false;
    if (this.stopped) return;
    if (exists(f.path)) {
      if (f.seeking) clearTimeout(f.seeking);
      f.seeking = null;
      // (A renewal under way watches what exists when it starts, and reads everything after.)
      if (this.watcher && !this.renewing) {
        this.watcher.unwatch(f.path);
        this.watcher.add(f.path);
        this.watched.add(f.path);
      }
      return;
    }
    this.watched.delete(f.path);
    if (f.seeking) return;
    const until = Date.now() + Math.max(this.grace, 1000);
    const seek = () => {
      f.seeking = null;
      if (this.stopped) return;
      // pump() opens the new file and moves the watch to it (f.moved).
      if (exists(f.path)) this.pump(f);
      else if (Date.now() < until) f.seeking = setTimeout(seek, 10);
    };
    f.seeking = setTimeout(seek, 10);
  }

  private pumpOnce(f: Followed): void {
    // 1. Has the name moved to another file (rename, delete, recreate)?
    let st: { ino: number; dev: number } | null = null;
    try {
      st = statSync(f.path);
    } catch {
      st = null;
    }
    if (f.cur && (!st || st.ino !== f.cur.ino || st.dev !== f.cur.dev)) {
      f.detached.push(f.cur);
      f.cur = null;
      this.stats.rotations++;
      f.moved = true;
    }
    // 2. Drain detached files first: their lines were written before the new file's.
    const now = Date.now();
    for (const h of [...f.detached]) {
      if (this.readAvailable(f, h) > 0) h.lastGrowth = now;
      else if (now - h.lastGrowth > this.grace) this.close(f, h, true);
    }
    // 3. The file now under the name.
    if (!f.cur && st) {
      const h = this.open(f.path);
      if (h) {
        f.cur = h;
        this.stats.reopened++;
        if (!this.watched.has(f.path)) f.moved = true;
      }
    }
    if (f.cur) {
      this.checkTruncation(f, f.cur);
      this.readAvailable(f, f.cur);
    }
    this.flush(f);
  }

  private drainAll(f: Followed): void {
    for (const h of f.detached) this.readAvailable(f, h);
    if (f.cur) this.readAvailable(f, f.cur);
  }

  private close(f: Followed, h: Handle, flushPartial: boolean): void {
    if (flushPartial && h.partialBytes + h.partialDropped > 0) this.finishLine(f, h);
    try {
      closeSync(h.fd);
    } catch {}
    f.detached = f.detached.filter((x) => x !== h);
  }

  /** copytruncate: the file is shorter than what was read, or holds other bytes where reading stopped. */
  private checkTruncation(f: Followed, h: Handle): void {
    if (h.pos === 0) return;
    const size = fstatSync(h.fd).size;
    let truncated = size < h.pos;
    if (!truncated && h.tail.length) {
      const probe = Buffer.allocUnsafe(h.tail.length);
      const got = readSync(h.fd, probe, 0, probe.length, h.pos - h.tail.length);
      truncated = got !== probe.length || !probe.equals(h.tail);
    }
    if (!truncated) return;
    this.stats.truncations++;
    this.recoverFromCopy(f, h);
    h.pos = 0;
    h.tail = Buffer.alloc(0);
  }

  /** Emits what was written after the last read and before the truncation, from the rotated copy. */
  private recoverFromCopy(f: Followed, h: Handle): void {
    const dir = path.dirname(f.path);
    const candidates: Array<{ p: string; mtime: number; compressed: boolean }> = [];
    for (const n of listDir(dir)) {
      const kind = classifyLogName(n);
      if (!kind || kind.base !== f.name || kind.scheme === 'live') continue;
      if (kind.scheme === 'numbered' && kind.index !== 1) continue;
      try {
        candidates.push({
          p: path.join(dir, n),
          mtime: statSync(path.join(dir, n)).mtimeMs,
          compressed: kind.compressed,
        });
      } catch {}
    }
    candidates.sort((a, b) => b.mtime - a.mtime);
    for (const c of candidates.slice(0, 3)) {
      let data: Buffer;
      try {
        data = readFileSync(c.p);
        if (c.compressed) data = gunzipSync(data);
      } catch {
        continue;
      }
      if (data.length < h.pos) continue;
      const at = h.pos - h.tail.length;
      if (!data.subarray(at, h.pos).equals(h.tail)) continue;
      if (data.length > h.pos) {
        this.stats.recoveredBytes += data.length - h.pos;
        this.consume(f, h, data, h.pos, data.length);
      }
      return;
    }
    this.stats.unrecoveredTruncations++;
    this.opts.onWarning?.(
      `${f.name}: truncated in place (copytruncate); lines written after the last read could not be recovered from a copy`,
    );
  }

  /** Reads a handle to its current end; returns the bytes read. */
  private readAvailable(f: Followed, h: Handle): number {
    let total = 0;
    for (;;) {
      const got = readSync(h.fd, this.buf, 0, READ_CHUNK, h.pos);
      if (got <= 0) break;
      this.consume(f, h, this.buf, 0, got);
      h.pos += got;
      total += got;
      if (got < READ_CHUNK) break;
    }
    if (total > 0) h.tail = readTail(h.fd, h.pos);
    return total;
  }

  /** Splits bytes into lines, keeping the partial last line. */
  private consume(f: Followed, h: Handle, data: Buffer, start: number, end: number): void {
    this.stats.bytes += end - start;
    let s = start;
    while (s < end) {
      const nl = data.indexOf(10, s);
      if (nl < 0 || nl >= end) {
        this.appendPartial(h, data, s, end);
        return;
      }
      if (h.partialBytes + h.partialDropped > 0) {
        this.appendPartial(h, data, s, nl);
        this.finishLine(f, h);
      } else {
        const len = nl - s;
        if (len > this.maxLine) this.line(f, decode(data, s, s + this.maxLine), len);
        else this.line(f, decode(data, s, nl), 0);
      }
      s = nl + 1;
    }
  }

  private appendPartial(h: Handle, data: Buffer, s: number, e: number): void {
    const room = this.maxLine - h.partialBytes;
    const take = Math.max(0, Math.min(room, e - s));
    if (take > 0) {
      h.partial.push(Buffer.from(data.subarray(s, s + take)));
      h.partialBytes += take;
    }
    h.partialDropped += e - s - take;
  }

  private finishLine(f: Followed, h: Handle): void {
    const whole = Buffer.concat(h.partial, h.partialBytes);
    const total = h.partialBytes + h.partialDropped;
    h.partial = [];
    h.partialBytes = 0;
    h.partialDropped = 0;
    this.line(f, decode(whole, 0, whole.length), total > this.maxLine ? total : 0);
  }

  private line(f: Followed, text: string, cutFrom: number): void {
    this.stats.lines++;
    if (text.length && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (cutFrom) this.stats.truncatedLines++;
    f.parser ??= detectParser([text]);
    const binary = looksBinary(text);
    if (binary) {
      this.stats.binaryLines++;
      this.flush(f);
      this.startRecord(f, {
        time: null,
        level: null,
        logger: null,
        message: sanitizeForDisplay(text),
        binary: true,
        truncatedBytes: cutFrom || undefined,
      });
      this.flush(f);
      return;
    }
    const head = f.parser.parse(text);
    if (!head) {
      if (!f.pending) {
        f.pending = this.newRecord(f, { time: null, level: null, logger: null, message: '' });
        f.pending.continuationOf = f.lastSeq || undefined;
        f.pending.message = '';
      }
      if (f.pending.continuation.length < this.maxCont) f.pending.continuation.push(sanitizeForDisplay(text));
      else this.stats.droppedContinuationLines++;
      return;
    }
    this.flush(f);
    this.startRecord(f, {
      ...head,
      message: sanitizeForDisplay(head.message),
      truncatedBytes: cutFrom || undefined,
    });
  }

  private newRecord(
    f: Followed,
    r: Pick<TailRecord, 'time' | 'level' | 'logger' | 'message'> & Partial<TailRecord>,
  ): TailRecord {
    return {
      seq: 0,
      file: f.name,
      receivedAt: nowMs(),
      time: r.time,
      level: r.level,
      logger: r.logger,
      message: r.message,
      continuation: [],
      code: null,
      exception: null,
      ...(r.truncatedBytes ? { truncatedBytes: r.truncatedBytes } : {}),
      ...(r.binary ? { binary: true } : {}),
    };
  }

  private startRecord(
    f: Followed,
    r: Pick<TailRecord, 'time' | 'level' | 'logger' | 'message'> & Partial<TailRecord>,
  ): void {
    f.pending = this.newRecord(f, r);
  }

  /** Emits the record being assembled (its traceback lines came in the same read). */
  private flush(f: Followed): void {
    const r = f.pending;
    if (!r) return;
    f.pending = null;
    r.seq = ++this.seq;
    if (r.continuationOf === undefined) f.lastSeq = r.seq;
    r.code = errorCodeOf(r.message);
    r.exception =
      r.level && r.level !== 'DEBUG' && r.level !== 'INFO'
        ? exceptionTypeOf(r.message, r.continuation)
        : null;
    this.stats.records++;
    this.opts.onRecord(r);
  }
}

function decode(b: Buffer, s: number, e: number): string {
  return b.toString('utf8', s, e);
}

function readTail(fd: number, pos: number): Buffer {
  const n = Math.min(TAIL_BYTES, pos);
  const b = Buffer.allocUnsafe(n);
  const got = readSync(fd, b, 0, n, pos - n);
  return got === n ? b : b.subarray(0, got);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
