// Follows a site's log files live, across the three rotation schemes of SITE.md, without losing or
// repeating a line:
//   - rename (RotatingFileHandler, the maintenance procedure): the live name gets a new inode; the
//     old file is still open here and is read to its end before the new file is read from its start,
//     and kept open until the writer has reopened (something was written under the name since the
//     rename) and the old file has been quiet for a grace period counted from the rename at the
//     earliest; a writer that never reopens is let go after detachedMaxMs. `tail -F` loses what was
//     written to the renamed file before it reopens; this does not, however long the writer stalls.
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
// Change notification: one inotify watch per folder (node's fs.watch), which names the file of every
// append, create, rename and delete in it. Events are coalesced per event-loop turn and read the
// files they name; nothing re-reads the folder on an append. (chokidar, used before, re-listed and
// lstat'ed the whole folder on every change event, throttled to once a second: ~1.2 % of a core
// while the demo writes, and a large share of the console's garbage under a flood. chokidar watching
// each followed file instead, not the folder, was tried and measured: on every append it stats the
// file asynchronously and arms two throttle timers, three wake-ups where this takes one; `logs tail`
// at a steady 10 appends/s took 1.20 % of a core against 0.70 % here, medians of three.) A slow backstop
// check reads every followed file and lists the folder, for anything an event did not tell, and
// renews the watch if the folder itself was replaced. logs.usePolling (filesystems without inotify)
// turns the watch off and makes the backstop the poll.
import {
  closeSync,
  type FSWatcher,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  watch,
} from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
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
  /** No inotify watch: read every file each backstopMs (default 1000 ms) instead. */
  usePolling?: boolean;
  maxLineBytes?: number;
  maxContinuationLines?: number;
  /**
   * How long a renamed or deleted file is still read after it stopped growing (counted from the
   * rename at the earliest), once the file now under its name has been written to.
   */
  detachedGraceMs?: number;
  /**
   * How long a renamed or deleted file is kept open, quiet, while nothing is written to the file
   * now under its name (the writer has not reopened: stalled, or stopped). Default 60 s.
   */
  detachedMaxMs?: number;
  backstopMs?: number;
  /**
   * Change events are gathered for this long before the files they name are read (default 0: until
   * the next turn of the event loop). A screen that shows a few frames a second reads once per
   * batch instead of once per write; `logs tail` reads at once.
   */
  coalesceMs?: number;
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
  /** Detached: the file under the name when this one was detached (inode -1: none there). */
  successorIno: number;
  successorSize: number;
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
  /** Emits a record held back while the writer was mid-write (see pumpOnce). */
  holdTimer: NodeJS.Timeout | null;
}

const TAIL_BYTES = 64;
/** Page size: a write becomes visible to a reader one page at a time. */
const PAGE = 4096;
/** Longest a record waits for the rest of a write that is being read half-done. */
const HOLD_MS = 50;
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
  /** The watched folders: their watch and the inode it was opened on. */
  private readonly watches = new Map<string, { watcher: FSWatcher | null; ino: number }>();
  private backstop: NodeJS.Timeout | null = null;
  private seq = 0;
  private stopped = false;
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private readonly buf = Buffer.allocUnsafe(READ_CHUNK);
  private readonly maxLine: number;
  private readonly maxCont: number;
  private readonly grace: number;
  private readonly detachedMax: number;

  constructor(private readonly opts: TailOptions) {
    if (!opts.logsDir && !opts.files?.length) throw new Error('LogTailer: give logsDir or files');
    this.maxLine = opts.maxLineBytes ?? 64 * 1024;
    this.maxCont = opts.maxContinuationLines ?? 500;
    this.grace = opts.detachedGraceMs ?? 2000;
    this.detachedMax = Math.max(this.grace, opts.detachedMaxMs ?? 60_000);
  }

  /** Names of the files followed now. */
  get files(): string[] {
    return [...this.followed.keys()];
  }

  async start(): Promise<void> {
    const initial = this.opts.files?.map((f) => path.resolve(f)) ?? this.liveFilesIn(this.opts.logsDir!);
    for (const p of initial) this.follow(p, true);
    // Watch folders, not files: a watch on a file follows its inode, so after a rename nothing
    // would tell that a new file took the name. Events for names not followed are ignored.
    const folders = this.opts.logsDir
      ? [path.resolve(this.opts.logsDir)]
      : [...new Set(initial.map((f) => path.dirname(f)))];
    for (const dir of folders) this.watchFolder(dir);
    // Anything written between the initial open and the watch being set.
    for (const f of this.followed.values()) this.pump(f);
    this.backstop = setInterval(() => {
      for (const dir of this.watches.keys()) this.watchFolder(dir);
      for (const f of this.followed.values()) this.pump(f);
      if (this.opts.logsDir) for (const p of this.liveFilesIn(this.opts.logsDir)) this.follow(p, false);
    }, this.opts.backstopMs ?? 1000);
    this.backstop.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.backstop) clearInterval(this.backstop);
    for (const w of this.watches.values()) w.watcher?.close();
    this.watches.clear();
    for (const f of this.followed.values()) {
      if (f.holdTimer) clearTimeout(f.holdTimer);
      f.holdTimer = null;
      this.drainAll(f);
      for (const h of [...f.detached, ...(f.cur ? [f.cur] : [])]) this.close(f, h, false);
      this.flush(f);
    }
  }

  /** (Re)opens the watch of a folder when it has none yet or the folder was replaced. */
  private watchFolder(dir: string): void {
    if (this.stopped) return;
    let ino = -1;
    try {
      ino = statSync(dir).ino;
    } catch {}
    const known = this.watches.get(dir);
    if (known && known.ino === ino) return;
    known?.watcher?.close();
    const entry = { watcher: null as FSWatcher | null, ino };
    if (!this.opts.usePolling && ino !== -1) {
      const fail = (err: Error) => {
        this.opts.onWarning?.(`watching ${dir}: ${err.message}; reading it every backstop tick instead`);
        entry.watcher?.close();
        entry.watcher = null;
      };
      try {
        entry.watcher = watch(dir, { persistent: true }, (_event, name) => this.onWatchEvent(dir, name));
        entry.watcher.on('error', fail);
      } catch (err) {
        fail(err as Error);
      }
    }
    this.watches.set(dir, entry);
    // The folder came back (or appeared): whatever is in it now.
    if (known && known.ino !== ino) this.poll();
  }

  /** One inotify event; the events of one event-loop turn are handled together. */
  private onWatchEvent(dir: string, name: string | Buffer | null): void {
    if (this.stopped) return;
    this.dirty.add(name ? path.join(dir, String(name)) : '*');
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const flush = () => {
      this.flushScheduled = false;
      if (this.stopped) return;
      const paths = [...this.dirty];
      this.dirty.clear();
      if (paths.includes('*')) {
        this.poll();
        if (this.opts.logsDir) for (const p of this.liveFilesIn(this.opts.logsDir)) this.follow(p, false);
      } else for (const p of paths) this.onFsEvent(p);
    };
    if (this.opts.coalesceMs) setTimeout(flush, this.opts.coalesceMs).unref();
    else setImmediate(flush);
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
      holdTimer: null,
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
      successorIno: -1,
      successorSize: 0,
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
  }

  private pumpOnce(f: Followed): void {
    // 1. Has the name moved to another file (rename, delete, recreate)?
    let st: { ino: number; dev: number; size: number } | null = null;
    try {
      st = statSync(f.path);
    } catch {
      st = null;
    }
    const now = Date.now();
    if (f.cur && (!st || st.ino !== f.cur.ino || st.dev !== f.cur.dev)) {
      // The grace counts from the rename at the earliest (the handle's last growth may be long ago:
      // a writer that has not reopened yet still appends to this file).
      f.cur.lastGrowth = now;
      f.cur.successorIno = st ? st.ino : -1;
      f.cur.successorSize = st ? st.size : 0;
      f.detached.push(f.cur);
      f.cur = null;
      this.stats.rotations++;
    }
    // 2. Drain detached files first: their lines were written before the new file's. One is closed
    // when it has been quiet for the grace period and the writer has moved on (the file now under
    // the name has grown since), or after detachedMaxMs quiet if the writer never does.
    for (const h of [...f.detached]) {
      if (this.readAvailable(f, h) > 0) h.lastGrowth = now;
      else {
        const quiet = now - h.lastGrowth;
        if (quiet > this.detachedMax || (quiet > this.grace && this.writerMovedOn(st, h)))
          this.close(f, h, true);
      }
    }
    // 3. The file now under the name.
    if (!f.cur && st) {
      const h = this.open(f.path);
      if (h) {
        f.cur = h;
        this.stats.reopened++;
      }
    }
    if (f.cur) {
      this.checkTruncation(f, f.cur);
      this.readAvailable(f, f.cur);
    }
    // The writer may be in the middle of a write: a line is incomplete, or reading stopped at a page
    // boundary (a write is visible to readers page by page, so a record and its traceback written
    // together can be seen in two parts). Then the record being assembled waits for the next read
    // (the rest of the write wakes us), or HOLD_MS at most, so its traceback lines stay with it.
    const h = f.cur;
    if (f.pending && h && (h.partialBytes + h.partialDropped > 0 || (h.pos > 0 && h.pos % PAGE === 0))) {
      f.holdTimer ??= setTimeout(() => {
        f.holdTimer = null;
        this.pump(f);
        this.flush(f);
      }, HOLD_MS);
      return;
    }
    this.flush(f);
  }

  /**
   * Something was written under the name since `h` was detached: the writer has reopened. (A new
   * empty file proves nothing: logrotate's `create` makes one before the application reopens.)
   */
  private writerMovedOn(st: { ino: number; size: number } | null, h: Handle): boolean {
    if (!st || st.size === 0) return false;
    return st.ino !== h.successorIno || st.size > h.successorSize;
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
