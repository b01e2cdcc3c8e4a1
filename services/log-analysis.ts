// Error analysis over log files (live and rotated history, gzipped too), as the procedures ask:
// error rate per hour against thresholds.errorsPerHour, frequent errors (an error key, type + first
// 50 characters of the message, seen thresholds.errorRepeat times), the per-hour timeline, critical
// exception types (MemoryError, DatabaseError, SystemError), and new clusters (first seen within
// logs.newClusterWindowMinutes). Alerts go through an AlertSink (services/alert-sink.ts).
//
// The scan is the hot path of `logs analyze`: lines are found with Buffer.indexOf, Python-format
// heads are recognised and their time and level read from bytes, and only the records that are
// clustered (WARNING and above by default; every record with assignments) are decoded to strings.
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AlertInput, AlertSink, Severity } from './alert-sink.js';
import type { Config } from './config.js';
import {
  byteKeyHash,
  type Cluster,
  type ClusterView,
  digitFreeHash,
  hash53,
  keyScan,
  type MinerSnapshot,
  TemplateMiner,
  templateOf,
  viewOf,
} from './log-clusters.js';
import {
  CRITICAL_EXCEPTIONS,
  errorCodeOf,
  errorTypeOf,
  exceptionTypeOf,
  LEVEL_RANK,
  LEVELS,
  type Level,
  type LineParser,
  localEpoch,
  looksBinary,
  rawParser,
  timestampParser,
} from './log-parse.js';
import { cliEntryPath } from './self-exec.js';

export interface AnalysisInput {
  path: string;
  /** Name shown in the file list (e.g. `error.log.1`). */
  name: string;
  /** The log it belongs to, recorded in clusters (e.g. `error.log` for `error.20261122.log.gz`). */
  base?: string;
  compressed?: boolean;
}

export interface AnalysisOptions {
  inputs: AnalysisInput[];
  /** 'auto' (the timestamp forms of SITE.md), 'raw' (each line a record), or a parser (--line-format). */
  parser?: 'auto' | 'raw' | LineParser;
  since?: number | null;
  until?: number | null;
  now?: number;
  /** Cluster WARNING and above (default), or every record. */
  clusterLevels?: 'errors' | 'all';
  /** Called for every record, in input order, with its cluster (every record is clustered then). */
  onAssignment?: (a: Assignment) => void;
  thresholds: Pick<Config['thresholds'], 'errorsPerHour' | 'errorRepeat' | 'errorRatePercent'>;
  logs: Pick<Config['logs'], 'newClusterWindowMinutes' | 'maxClusters'>;
  /** Longest line kept (bytes); longer lines are cut and counted. */
  maxLineBytes?: number;
  miner?: TemplateMiner;
  /** Worker threads for one large plain file (default: up to 4, the cores); 0 or 1 reads it here. */
  workers?: number;
  /** Split work goes to worker threads only, leaving this thread free (default: it reads chunks too). */
  keepThisThreadFree?: boolean;
  /** A file is split over workers from this size on (default 64 MB). */
  splitMinBytes?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface Assignment {
  record: number;
  file: string;
  /** 1-based line number of the record's first line in its file. */
  line: number;
  level: Level | null;
  cluster: number;
}

export interface HourBucket {
  /** Start of the hour, epoch ms. */
  hour: number;
  records: number;
  warnings: number;
  errors: number;
  critical: number;
}

export interface FileSummary {
  path: string;
  name: string;
  bytes: number;
  lines: number;
  records: number;
  skipped?: string;
  error?: string;
}

export interface AnalysisReport {
  window: { since: number | null; until: number | null; now: number };
  files: FileSummary[];
  totals: {
    bytes: number;
    lines: number;
    records: number;
    byLevel: Record<Level | 'none', number>;
    continuationLines: number;
    binaryLines: number;
    truncatedLines: number;
    /** Records also seen in another file (the same line in candy_cadence.log and error.log). */
    duplicates: number;
    outsideWindow: number;
  };
  timeline: HourBucket[];
  errorRate: {
    threshold: number;
    /** Errors (ERROR and CRITICAL) in the 60 minutes before `now`. */
    lastHour: number;
    peak: { hour: number; errors: number } | null;
    hoursOver: Array<{ hour: number; errors: number }>;
    /** Errors as a percentage of records, against the KPI. */
    percent: number;
    kpiPercent: number;
  };
  frequentErrors: Array<{ key: string; type: string; message: string; count: number; lastSeen: number }>;
  criticalExceptions: Array<{
    type: string;
    count: number;
    firstSeen: number;
    lastSeen: number;
    clusters: number[];
  }>;
  newClusters: Array<{ id: number; level: Level | null; template: string; firstSeen: number; count: number }>;
  clusters: ClusterView[];
  remainder: { clusters: number; records: number };
  alerts: AlertInput[];
  elapsedMs: number;
}

const CHUNK = 512 * 1024;
/** node:zlib, loaded for gzipped history only (a scan thread starts faster without it). */
const zlib = () => process.getBuiltinModule('node:zlib') as typeof import('node:zlib');
const LEVEL_INDEX: Record<Level, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3, CRITICAL: 4 };

/** The record being read (its continuation lines may still come); one object, reused. */
interface Pending {
  active: boolean;
  level: Level | null;
  time: number;
  cluster: Cluster | null;
  /** The message, when decoded (always on the string path; on the byte path when it is needed). */
  message: string | null;
  code: string | null;
  /** The message mentions `Error` or `Exception` (exceptionTypeOf() then reads it). */
  mentions: boolean;
  sample: string | null;
  exceptionLine: string | null;
  file: string;
  line: number;
  record: number;
  dedupeKey: number;
}

/** 53-bit hash of bytes (for the cross-file duplicate check); never 0. */
function hashBytes(b: Buffer, s: number, e: number): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0) || 1;
}

/** Runs the analysis over the inputs and returns the report (alerts included, not yet raised). */
export async function analyzeLogs(opts: AnalysisOptions): Promise<AnalysisReport> {
  const started = Date.now();
  const plan = splitPlan(opts);
  if (plan) return buildReport(await scanChunks(opts, plan), opts, started);
  return buildReport(await scanInputs(opts), opts, started);
}

/**
 * One large plain file in chunks (cut at record starts) over this thread and `threads - 1` worker
 * threads: each thread takes the next chunk from a shared counter until none is left, so a thread
 * that starts late or runs on a busy core simply takes fewer. Each chunk is scanned on its own and
 * the results are merged in file order, so the report does not depend on who read what.
 */
async function scanChunks(opts: AnalysisOptions, plan: SplitPlan): Promise<ScanState> {
  const { chunks, threads } = plan;
  const next = new Int32Array(new SharedArrayBuffer(4));
  const results: Array<ScanState | undefined> = new Array(chunks.length);
  const input: ChunkTask = { opts: workerOptions(opts), chunks, next };
  const workers = Array.from({ length: opts.keepThisThreadFree ? threads : threads - 1 }, () =>
    startScanThread(input).then(
      (parts) => {
        for (const [i, part] of parts) results[i] = deserializeScan(part, opts);
      },
      () => {}, // its chunks are read again below
    ),
  );
  const local = { ...opts, onProgress: undefined };
  let done = 0;
  if (opts.keepThisThreadFree) await Promise.all(workers);
  for (let i = Atomics.add(next, 0, 1); i < chunks.length; i = Atomics.add(next, 0, 1)) {
    results[i] = await scanInputs(local, chunks[i]);
    done += chunks[i]!.end - chunks[i]!.start;
    opts.onProgress?.(done, plan.size);
  }
  await Promise.all(workers);
  // Chunks a failed worker had taken.
  for (let i = 0; i < chunks.length; i++) results[i] ??= await scanInputs(local, chunks[i]);
  opts.onProgress?.(plan.size, plan.size);
  const state = mergeScans(results as ScanState[]);
  state.files = [{ ...state.files[0]!, path: opts.inputs[0]!.path, name: opts.inputs[0]!.name }];
  return state;
}

/**
 * A thread of dist/log-analysis-thread.js (the scanner alone), or of the console's bundle without
 * it. The thread starts before this returns (nothing awaited first): the caller reads chunks
 * synchronously right after.
 */
function startScanThread(input: ChunkTask): Promise<Array<[number, SerializedScan]>> {
  const small = path.join(path.dirname(cliEntryPath()), 'log-analysis-thread.js');
  if (!existsSync(small))
    return import('./worker-entry.js').then(({ runInWorker }) =>
      runInWorker<Array<[number, SerializedScan]>>('log-analyze-range', input),
    );
  return new Promise((resolve, reject) => {
    const worker = new Worker(small, { workerData: input });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: { type: string; result?: unknown; message?: string }) => {
      if (m.type === 'done') settle(() => resolve(m.result as Array<[number, SerializedScan]>));
      else settle(() => reject(new Error(m.message)));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`log scan thread exited with code ${code}`))));
  });
}

/**
 * One scan task ({ opts, range }: the inputs, or one byte range of the first) in a thread of
 * dist/log-analysis-thread.js, the scanner alone (the console's history scan: a thread of the
 * whole bundle would load the screens, React and the rest, tens of MB, to read some logs), or of
 * the bundle when there is no such file (tests run from the sources). Aborting ends the thread.
 */
export async function scanInThread(
  input: { opts: AnalysisOptions; range: { start: number; end: number } | null },
  signal?: AbortSignal,
): Promise<SerializedScan> {
  const { runInWorker, workerOutcome } = await import('./worker-entry.js');
  const small = path.join(path.dirname(cliEntryPath()), 'log-analysis-thread.js');
  if (!existsSync(small)) return runInWorker<SerializedScan>('log-analyze-range', input, { signal });
  return workerOutcome<SerializedScan>(() => new Worker(small, { workerData: input }), 'log scan thread', {
    signal,
  });
}

interface ChunkTask {
  opts: AnalysisOptions;
  chunks: Array<{ start: number; end: number }>;
  /** Shared: the index of the next chunk to take (Atomics.add). */
  next: Int32Array;
}

export interface ScanState {
  totals: AnalysisReport['totals'];
  levelCounts: Float64Array;
  hours: Map<number, Float64Array>;
  frequent: Map<string, { cluster: number; type: string; count: number; lastSeen: number }>;
  critical: Map<string, { count: number; firstSeen: number; lastSeen: number; clusters: Set<number> }>;
  st: { errorsLastHour: number; errorCount: number; recordNo: number };
  files: FileSummary[];
  miner: TemplateMiner;
}

/** Reads the inputs (or one byte range of the first) into counts and clusters. */
export async function scanInputs(
  opts: AnalysisOptions,
  range?: { start: number; end: number },
): Promise<ScanState> {
  const now = opts.now ?? Date.now();
  const since = opts.since ?? null;
  const until = opts.until ?? null;
  const miner = opts.miner ?? new TemplateMiner({ maxClusters: opts.logs.maxClusters });
  const clusterAll = opts.clusterLevels === 'all' || Boolean(opts.onAssignment);
  const maxLine = opts.maxLineBytes ?? 64 * 1024;
  const dedupe = opts.inputs.length > 1 ? new Map<number, number>() : null;
  const lastHourFrom = now - 3_600_000;

  const totals: AnalysisReport['totals'] = {
    bytes: 0,
    lines: 0,
    records: 0,
    byLevel: { DEBUG: 0, INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0, none: 0 },
    continuationLines: 0,
    binaryLines: 0,
    truncatedLines: 0,
    duplicates: 0,
    outsideWindow: 0,
  };
  const levelCounts = new Float64Array(6);
  const hours = new Map<number, Float64Array>(); // hour index → [records, warnings, errors, critical]
  // (cluster, error type) → count; turned into the procedures' error keys at the end.
  const frequent = new Map<string, { cluster: number; type: string; count: number; lastSeen: number }>();
  const critical = new Map<
    string,
    { count: number; firstSeen: number; lastSeen: number; clusters: Set<number> }
  >();
  const st = { errorsLastHour: 0, errorCount: 0, recordNo: 0 };

  const bytesTotal = opts.inputs.reduce((s, i) => {
    try {
      return s + statSync(i.path).size;
    } catch {
      return s;
    }
  }, 0);
  let bytesDone = 0;

  const plainTypes = new WeakMap<Cluster, string>();
  const pending: Pending = {
    active: false,
    level: null,
    time: 0,
    cluster: null,
    message: null,
    code: null,
    mentions: false,
    sample: null,
    exceptionLine: null,
    file: '',
    line: 0,
    record: 0,
    dedupeKey: 0,
  };
  const finish = (p: Pending) => {
    p.active = false;
    const c = p.cluster!;
    const message = p.message ?? '';
    const exception = p.exceptionLine
      ? exceptionTypeOf(p.mentions ? message : '', [p.exceptionLine])
      : p.mentions
        ? exceptionTypeOf(message, [])
        : null;
    miner.count(c, p.time, p.file, p.code, exception, p.sample);
    p.sample = null;
    p.exceptionLine = null;
    p.message = null;
    if (dedupe && p.dedupeKey) dedupe.set(p.dedupeKey, c.id);
    if (opts.onAssignment)
      opts.onAssignment({ record: p.record, file: p.file, line: p.line, level: p.level, cluster: c.id });
    const rank = p.level ? LEVEL_RANK[p.level] : -1;
    if (rank >= 3) {
      // Without an exception or a code the type comes from the template's words: once per cluster.
      let type: string;
      if (exception === null && p.code === null) {
        type = plainTypes.get(c) ?? errorTypeOf(null, null, message);
        plainTypes.set(c, type);
      } else type = errorTypeOf(exception, p.code, message);
      const key = `${c.id}|${type}`;
      const t = p.time;
      const f = frequent.get(key);
      if (f) {
        f.count++;
        if (t > f.lastSeen) f.lastSeen = t;
      } else if (frequent.size < 50_000) frequent.set(key, { cluster: c.id, type, count: 1, lastSeen: t });
      if (exception && CRITICAL_EXCEPTIONS.has(exception)) {
        const e = critical.get(exception);
        if (e) {
          e.count++;
          e.firstSeen = Math.min(e.firstSeen, t);
          e.lastSeen = Math.max(e.lastSeen, t);
          e.clusters.add(c.id);
        } else critical.set(exception, { count: 1, firstSeen: t, lastSeen: t, clusters: new Set([c.id]) });
      }
    }
  };

  const files: FileSummary[] = [];
  for (const input of opts.inputs) {
    const summary: FileSummary = { path: input.path, name: input.name, bytes: 0, lines: 0, records: 0 };
    files.push(summary);
    let size = 0;
    let fileMtime = now;
    try {
      const st = statSync(input.path);
      fileMtime = st.mtimeMs;
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
      if (since !== null && st.mtimeMs < since) {
        summary.skipped = 'last written before the window';
        bytesDone += size;
        continue;
      }
    } catch (err) {
      summary.error =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
      continue;
    }

    // Per-file scanner state.
    let parser: LineParser | null =
      opts.parser === 'raw' ? rawParser : opts.parser && opts.parser !== 'auto' ? opts.parser : null;
    let fast = opts.parser === undefined || opts.parser === 'auto';
    let skipRecord = false; // current record is outside the window or a duplicate: its continuation goes too
    let lineNo = 0;
    let carry: Buffer | null = null;
    const fileName = input.base ?? input.name;
    const hourBytes = new Uint8Array(9);
    let hourStart = 0;
    // The bucket of hourStart's hour, while the zone's offset is whole hours (so every line of the
    // local hour is in the same epoch hour): INFO/DEBUG lines are then counted without their minutes.
    let hourBucket: Float64Array | null = null;
    let hourAligned = true;
    // Exact times are needed for the window and for every clustered record; INFO/DEBUG lines only
    // need their hour otherwise.
    const exactTimes = since !== null || until !== null || clusterAll;
    // INFO/DEBUG lines are only counted (no window, no duplicates, not clustered).
    const countOnly = !exactTimes && !dedupe;
    if (!parser) {
      parser = detectParserOf(peekLines(input));
      fast = parser === timestampParser;
    }

    let lastHour = -1;
    // A record without a time of its own (raw format, garbage) is placed at the time of the one before.
    let lastTime = fileMtime;
    let lastBucket: Float64Array | null = null;
    const bucketOf = (h: number): Float64Array => {
      if (h === lastHour && lastBucket) return lastBucket;
      let b = hours.get(h);
      if (!b) hours.set(h, (b = new Float64Array(4)));
      lastHour = h;
      lastBucket = b;
      return b;
    };
    /**
     * Counts a record head. Returns true when the record is to be clustered: the caller then sets
     * up `pending` with open(). Records outside the window or seen in another file are skipped.
     */
    const head = (level: Level | null, time: number | null, dupKey: number): boolean => {
      if (pending.active) finish(pending);
      if (time !== null && ((since !== null && time < since) || (until !== null && time >= until))) {
        totals.outsideWindow++;
        skipRecord = true;
        return false;
      }
      const rank = level ? LEVEL_RANK[level] : -1;
      if (dupKey !== 0 && dedupe) {
        const seen = dedupe.get(dupKey);
        if (seen !== undefined) {
          totals.duplicates++;
          skipRecord = true;
          const c = miner.get(seen);
          if (c) miner.noteFile(c, fileName);
          return false;
        }
        dedupe.set(dupKey, 0);
        if (dedupe.size > 4_000_000) dedupe.clear();
      }
      skipRecord = false;
      summary.records++;
      levelCounts[level ? LEVEL_INDEX[level] : 5]!++;
      if (time !== null) {
        const b = bucketOf(Math.floor(time / 3_600_000));
        b[0]!++;
        if (rank === 2) b[1]!++;
        else if (rank >= 3) {
          b[2]!++;
          if (rank === 4) b[3]!++;
        }
      }
      if (rank >= 3) {
        st.errorCount++;
        const t = time ?? now;
        if (t >= lastHourFrom && t <= now) st.errorsLastHour++;
      }
      const clustered = clusterAll || rank >= 2 || level === null;
      if (!clustered) st.recordNo++;
      return clustered;
    };
    /** The record just counted by head() is clustered: it becomes `pending`. */
    const open = (level: Level | null, time: number | null, key: number) => {
      if (time !== null) lastTime = time;
      const p = pending;
      p.active = true;
      p.level = level;
      p.time = time ?? lastTime;
      p.exceptionLine = null;
      p.file = fileName;
      p.line = lineNo;
      p.record = st.recordNo++;
      p.dedupeKey = key;
    };
    /** A decoded message: its cluster, code and sample. */
    const openString = (
      level: Level | null,
      time: number | null,
      message: string,
      line: string,
      key: number,
    ) => {
      open(level, time, key);
      const p = pending;
      const c = miner.assign(level, message);
      p.cluster = c;
      p.message = message;
      p.code = errorCodeOf(message);
      p.mentions = true;
      p.sample = miner.wantsSample(c) ? line : null;
    };

    const handleString = (text: string) => {
      lineNo++;
      if (looksBinary(text)) {
        totals.binaryLines++;
        if (head(null, null, 0)) openString(null, null, text, text, 0);
        return;
      }
      const h = (parser as LineParser).parse(text);
      if (!h) {
        totals.continuationLines++;
        if (
          pending.active &&
          !skipRecord &&
          text.length &&
          text.charCodeAt(0) !== 32 &&
          text.charCodeAt(0) !== 9
        )
          pending.exceptionLine = text;
        return;
      }
      const rank = h.level ? LEVEL_RANK[h.level] : -1;
      const key = dedupe && rank >= 2 ? hash53(text) : 0;
      if (head(h.level, h.time, key)) openString(h.level, h.time, h.message, text, key);
    };

    // The byte-level path for `YYYY-MM-DD HH:MM:SS,mmm - name - LEVEL - message` lines.
    const handleBytes = (b: Buffer, s: number, e: number) => {
      if (e > s && b[e - 1] === 13) e--;
      if (e - s > maxLine) {
        totals.truncatedLines++;
        e = s + maxLine;
      }
      const c0 = b[s]!;
      if (
        fast &&
        e - s >= 26 &&
        c0 >= 48 &&
        c0 <= 57 &&
        b[s + 4] === 45 &&
        b[s + 7] === 45 &&
        b[s + 10] === 32 &&
        b[s + 13] === 58 &&
        b[s + 16] === 58 &&
        b[s + 19] === 44 &&
        b[s + 23] === 32 &&
        b[s + 24] === 45 &&
        b[s + 25] === 32
      ) {
        // The " - " after the logger name.
        let a = s + 26;
        const lim = e - 3;
        while (a <= lim && !(b[a] === 32 && b[a + 1] === 45 && b[a + 2] === 32)) a++;
        if (a <= lim) {
          const q = a + 3;
          const l = levelAt(b, q, e);
          if (l) {
            lineNo++;
            const rank = LEVEL_RANK[l];
            // The start of the hour, recomputed only when the date or hour bytes change.
            if (
              b[s + 12] !== hourBytes[7] ||
              b[s + 11] !== hourBytes[6] ||
              b[s + 9] !== hourBytes[4] ||
              b[s + 8] !== hourBytes[3] ||
              b[s + 6] !== hourBytes[1] ||
              b[s + 5] !== hourBytes[0] ||
              b[s + 3] !== hourBytes[8]
            ) {
              for (let i = 0; i < 8; i++) hourBytes[i] = b[s + 5 + i]!;
              hourBytes[8] = b[s + 3]!;
              const d2 = (i: number) => (b[i]! - 48) * 10 + (b[i + 1]! - 48);
              hourStart = localEpoch(d2(s) * 100 + d2(s + 2), d2(s + 5), d2(s + 8), d2(s + 11), 0, 0, 0);
              hourAligned = hourStart % 3_600_000 === 0;
              // (Made only when every record of the hour is counted: no window.)
              hourBucket = countOnly && hourAligned ? bucketOf(hourStart / 3_600_000) : null;
            }
            if (rank < 2 && countOnly && hourBucket !== null) {
              // INFO/DEBUG, counted per hour.
              if (pending.active) finish(pending);
              skipRecord = false;
              summary.records++;
              levelCounts[rank]!++;
              hourBucket[0]!++;
              st.recordNo++;
              return;
            }
            let time = hourStart;
            if (rank >= 2 || exactTimes || !hourAligned) {
              time +=
                ((b[s + 14]! - 48) * 10 + (b[s + 15]! - 48)) * 60_000 +
                ((b[s + 17]! - 48) * 10 + (b[s + 18]! - 48)) * 1000 +
                (b[s + 20]! - 48) * 100 +
                (b[s + 21]! - 48) * 10 +
                (b[s + 22]! - 48);
            }
            const key = dedupe && rank >= 2 ? hashBytes(b, s, e) : 0;
            if (head(l, time, key)) {
              open(l, time, key);
              const p = pending;
              const ms = Math.min(q + l.length + 3, e);
              // The message's masked key hashed on its bytes: a known key needs no decoding.
              const hash = e - ms <= miner.messageLimit ? byteKeyHash(b, ms, e) : 0;
              let c = hash > 0 ? miner.lookupHash(l, hash) : undefined;
              let message: string | null = null;
              if (c === undefined) {
                message = b.toString(hash > 0 ? 'latin1' : 'utf8', ms, e);
                c = miner.assign(l, message, hash === -1, hash === -1 ? digitFreeHash(b, ms, e) : 0);
                if (hash > 0) miner.rememberHash(l, hash, c);
              }
              p.cluster = c;
              if (hash <= 0) {
                p.code = errorCodeOf(message!);
                p.mentions = true;
              } else {
                p.code = keyScan.code;
                p.mentions = keyScan.mentions;
                if (p.mentions || rank >= 3) message ??= b.toString('latin1', ms, e);
              }
              p.message = message;
              p.sample = miner.wantsSample(c) ? b.toString('utf8', s, e) : null;
            }
            return;
          }
        }
      }
      if (fast && !(c0 >= 48 && c0 <= 57) && (c0 >= 32 || c0 === 9) && c0 < 128) {
        // Cannot be a head in the timestamp formats: a continuation line (traceback).
        lineNo++;
        totals.continuationLines++;
        if (pending.active && !skipRecord && c0 !== 32 && c0 !== 9)
          pending.exceptionLine = b.toString('utf8', s, e);
        return;
      }
      handleString(b.toString('utf8', s, e));
    };

    const run = new Int32Array(3);
    const consume = (b: Buffer) => {
      let s = 0;
      const n = b.length;
      let lines = 0;
      let nl = b.indexOf(10, 0);
      if (carry) {
        // Only the line that spans two chunks is copied.
        if (nl < 0) {
          carry = appendBounded(carry, b, 0, n, maxLine);
          return;
        }
        const whole = appendBounded(carry, b, 0, nl, maxLine);
        carry = null;
        handleBytes(whole, 0, whole.length);
        lines++;
        s = nl + 1;
        nl = b.indexOf(10, s);
      }
      const counted = countOnly && fast;
      while (nl >= 0) {
        if (counted && hourBucket !== null) {
          // The common lines (INFO/DEBUG of the hour already seen, only counted) in one tight loop.
          s = countRun(b, s, nl, hourBytes, maxLine, run);
          const k = run[0]! + run[1]!;
          if (k > 0) {
            lines += k;
            lineNo += k;
            if (pending.active) finish(pending);
            skipRecord = false;
            summary.records += k;
            levelCounts[0]! += run[0]!;
            levelCounts[1]! += run[1]!;
            hourBucket[0]! += k;
            st.recordNo += k;
          }
          nl = run[2]!;
          if (nl < 0) break;
        }
        lines++;
        handleBytes(b, s, nl);
        s = nl + 1;
        nl = b.indexOf(10, s);
      }
      totals.lines += lines;
      summary.lines += lines;
      if (s < n) carry = appendBounded(null, b, s, n, maxLine);
    };

    try {
      if (input.compressed) {
        await new Promise<void>((resolve, reject) => {
          const src = createReadStream(input.path);
          const gunzip = zlib().createGunzip();
          src.on('data', (d) => {
            summary.bytes += (d as Buffer).length;
          });
          src.on('error', reject);
          gunzip.on('error', (err) => reject(new Error(`not a valid gzip file: ${err.message}`)));
          gunzip.on('data', (d: Buffer) => consume(d));
          gunzip.on('end', () => resolve());
          src.pipe(gunzip);
        });
      } else {
        const fd = openSync(input.path, 'r');
        try {
          const buf = Buffer.allocUnsafe(CHUNK);
          let pos = range?.start ?? 0;
          const stop = range?.end ?? Number.POSITIVE_INFINITY;
          for (;;) {
            const want = Math.min(CHUNK, stop - pos);
            if (want <= 0) break;
            const got = readSync(fd, buf, 0, want, pos);
            if (got <= 0) break;
            pos += got;
            summary.bytes += got;
            consume(buf.subarray(0, got));
            if (opts.onProgress) opts.onProgress(bytesDone + pos, bytesTotal);
          }
        } finally {
          closeSync(fd);
        }
      }
    } catch (err) {
      summary.error = (err as Error).message;
    }
    if (carry) {
      const c = carry as Buffer;
      carry = null;
      handleBytes(c, 0, c.length);
      totals.lines++;
      summary.lines++;
    }
    if (pending.active) finish(pending);
    totals.bytes += summary.bytes;
    bytesDone += size;
  }

  return { totals, levelCounts, hours, frequent, critical, st, files, miner };
}

/** Turns scanned counts and clusters into the report. */
export function buildReport(state: ScanState, opts: AnalysisOptions, started: number): AnalysisReport {
  const now = opts.now ?? Date.now();
  const { totals, levelCounts, hours, frequent, critical, st, files, miner } = state;
  const since = opts.since ?? null;
  const until = opts.until ?? null;
  totals.records = st.recordNo;
  LEVELS.forEach((l, i) => {
    totals.byLevel[l] = levelCounts[i]!;
  });
  totals.byLevel.none = levelCounts[5]!;

  const timeline: HourBucket[] = [...hours.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([h, v]) => ({
      hour: h * 3_600_000,
      records: v[0]!,
      warnings: v[1]!,
      errors: v[2]!,
      critical: v[3]!,
    }));
  const threshold = opts.thresholds.errorsPerHour;
  let peak: { hour: number; errors: number } | null = null;
  for (const b of timeline) if (!peak || b.errors > peak.errors) peak = { hour: b.hour, errors: b.errors };
  const recordsInWindow = totals.records || 1;

  const windowStart = now - opts.logs.newClusterWindowMinutes * 60_000;
  const clusterList = miner.clusters();
  const report: AnalysisReport = {
    window: { since, until, now },
    files,
    totals,
    timeline,
    errorRate: {
      threshold,
      lastHour: st.errorsLastHour,
      peak,
      hoursOver: timeline
        .filter((b) => b.errors > threshold)
        .map((b) => ({ hour: b.hour, errors: b.errors })),
      percent: (st.errorCount / recordsInWindow) * 100,
      kpiPercent: opts.thresholds.errorRatePercent,
    },
    frequentErrors: frequentErrors(frequent, miner, opts.thresholds.errorRepeat),
    criticalExceptions: [...critical.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .map(([type, v]) => ({
        type,
        count: v.count,
        firstSeen: v.firstSeen,
        lastSeen: v.lastSeen,
        clusters: [...v.clusters],
      })),
    newClusters: clusterList
      .filter(
        (c) =>
          c.firstSeen >= windowStart && c.firstSeen <= now && c.level !== null && LEVEL_RANK[c.level] >= 2,
      )
      .sort((a, b) => b.firstSeen - a.firstSeen)
      .map((c) => ({
        id: c.id,
        level: c.level,
        template: templateOf(c),
        firstSeen: c.firstSeen,
        count: c.count,
      })),
    clusters: clusterList
      .sort((a, b) => b.count - a.count)
      .map((c) => viewOf(c, { endMinute: Math.floor(now / 60_000), minutes: 60 })),
    remainder: { ...miner.remainder },
    alerts: [],
    elapsedMs: 0,
  };
  report.alerts = logAlerts(report, now);
  report.elapsedMs = Date.now() - started;
  return report;
}

/** The first lines of a file (decompressing only its start when gzipped), for format detection. */
function peekLines(input: AnalysisInput): string[] {
  try {
    const fd = openSync(input.path, 'r');
    const b = Buffer.allocUnsafe(64 * 1024);
    const got = readSync(fd, b, 0, b.length, 0);
    closeSync(fd);
    let data = b.subarray(0, got);
    if (input.compressed) data = zlib().gunzipSync(data, { finishFlush: zlib().constants.Z_SYNC_FLUSH });
    return data.toString('utf8').split('\n').slice(0, 40);
  } catch {
    return [];
  }
}

/**
 * The procedures' error key is the error type and the first 50 characters of the message. Here the
 * message's variable parts are masked first (the cluster's template), so the same error about
 * another file counts as the same error.
 */
function frequentErrors(
  counts: Map<string, { cluster: number; type: string; count: number; lastSeen: number }>,
  miner: TemplateMiner,
  repeat: number,
): AnalysisReport['frequentErrors'] {
  const byKey = new Map<
    string,
    { key: string; type: string; message: string; count: number; lastSeen: number }
  >();
  for (const v of counts.values()) {
    const c = miner.get(v.cluster);
    if (!c) continue;
    const message = templateOf(c).slice(0, 50);
    const key = `${v.type}:${message}`;
    const e = byKey.get(key);
    if (e) {
      e.count += v.count;
      e.lastSeen = Math.max(e.lastSeen, v.lastSeen);
    } else byKey.set(key, { key, type: v.type, message, count: v.count, lastSeen: v.lastSeen });
  }
  return [...byKey.values()].filter((e) => e.count >= repeat).sort((a, b) => b.count - a.count);
}

/** prefix + b[s, e), keeping at most max + 1 bytes (a longer line is cut later and counted). */
function appendBounded(prefix: Buffer | null, b: Buffer, s: number, e: number, max: number): Buffer {
  const have = prefix?.length ?? 0;
  const take = Math.max(0, Math.min(e - s, max + 1 - have));
  const out = Buffer.allocUnsafe(have + take);
  if (prefix) prefix.copy(out, 0);
  b.copy(out, have, s, s + take);
  return out;
}

/**
 * Counts the lines from s on (nl: the end of the first) while they are
 * `YYYY-MM-DD HH:MM:SS,mmm - name - INFO|DEBUG - …` of the hour whose date and hour bytes are in
 * hourBytes, at most maxLine long: out[1] the INFO lines, out[0] the DEBUG ones. Returns the start
 * of the first line it did not count, with that line's end in out[2] (-1 when it is not complete).
 */
function countRun(
  b: Buffer,
  s: number,
  nl: number,
  hourBytes: Uint8Array,
  maxLine: number,
  out: Int32Array,
): number {
  let info = 0;
  let debug = 0;
  const h0 = hourBytes[0];
  const h1 = hourBytes[1];
  const h3 = hourBytes[3];
  const h4 = hourBytes[4];
  const h6 = hourBytes[6];
  const h7 = hourBytes[7];
  const h8 = hourBytes[8];
  while (nl >= 0) {
    if (
      nl - s < 32 ||
      nl - s > maxLine ||
      b[s + 25] !== 32 ||
      b[s + 24] !== 45 ||
      b[s + 23] !== 32 ||
      b[s + 19] !== 44 ||
      b[s + 16] !== 58 ||
      b[s + 13] !== 58 ||
      b[s + 12] !== h7 ||
      b[s + 11] !== h6 ||
      b[s + 10] !== 32 ||
      b[s + 9] !== h4 ||
      b[s + 8] !== h3 ||
      b[s + 7] !== 45 ||
      b[s + 6] !== h1 ||
      b[s + 5] !== h0 ||
      b[s + 4] !== 45 ||
      b[s + 3] !== h8
    )
      break;
    // The logger ends at the first space, which must start " - ".
    let a = s + 26;
    const lim = nl - 8;
    while (a < lim && b[a] !== 32) a++;
    if (b[a] !== 32 || b[a + 1] !== 45 || b[a + 2] !== 32) break;
    let q = a + 3;
    const c = b[q];
    let debugLine = false;
    if (c === 73 && b[q + 1] === 78 && b[q + 2] === 70 && b[q + 3] === 79) q += 4;
    else if (c === 68 && b[q + 1] === 69 && b[q + 2] === 66 && b[q + 3] === 85 && b[q + 4] === 71) {
      q += 5;
      debugLine = true;
    } else break;
    // " - " after the level, or the line ends there (a CR before the LF counts as the end).
    if (!((b[q] === 32 && b[q + 1] === 45 && b[q + 2] === 32) || q === nl || (q === nl - 1 && b[q] === 13)))
      break;
    if (debugLine) debug++;
    else info++;
    s = nl + 1;
    nl = b.indexOf(10, s);
  }
  out[0] = debug;
  out[1] = info;
  out[2] = nl;
  return s;
}

function detectParserOf(sample: string[]): LineParser {
  let heads = 0;
  let candidates = 0;
  for (const line of sample) {
    if (!line.trim() || /^\s/.test(line) || line.startsWith('Traceback')) continue;
    candidates++;
    if (timestampParser.parse(line)) heads++;
  }
  return candidates === 0 || heads / candidates >= 0.5 ? timestampParser : rawParser;
}

function levelAt(b: Buffer, q: number, e: number): Level | null {
  const c = b[q];
  let l: Level | null = null;
  if (c === 73 /* I */ && b[q + 1] === 78 && b[q + 2] === 70 && b[q + 3] === 79) l = 'INFO';
  else if (c === 68 /* D */ && b[q + 1] === 69 && b[q + 2] === 66) l = 'DEBUG';
  else if (c === 69 /* E */ && b[q + 1] === 82 && b[q + 2] === 82 && b[q + 4] === 82) l = 'ERROR';
  else if (c === 87 /* W */ && b[q + 1] === 65 && b[q + 6] === 71) l = 'WARNING';
  else if (c === 67 /* C */ && b[q + 1] === 82 && b[q + 7] === 76) l = 'CRITICAL';
  if (!l) return null;
  const after = q + l.length;
  // " - message" follows (or the line ends right after the level).
  if (after === e || (b[after] === 32 && b[after + 1] === 45 && b[after + 2] === 32)) return l;
  return null;
}

// ---- alerts ------------------------------------------------------------------------------------

/** The alert conditions of a report: error rate, frequent errors, critical exceptions, new error clusters. */
export function logAlerts(report: AnalysisReport, now: number): AlertInput[] {
  const out: AlertInput[] = [];
  const rate = report.errorRate;
  if (rate.lastHour > rate.threshold) {
    out.push({
      source: 'logs',
      key: 'error-rate',
      severity: rate.lastHour > rate.threshold * 2 ? 'critical' : 'warning',
      message: `${rate.lastHour} errors in the last hour (threshold ${rate.threshold})`,
      details: { errors: rate.lastHour, threshold: rate.threshold },
    });
  }
  for (const f of report.frequentErrors) {
    if (f.lastSeen < now - 3_600_000) continue;
    out.push({
      source: 'logs',
      key: `frequent:${f.key}`,
      severity: 'warning',
      message: `${f.type} seen ${f.count} times: ${f.message}`,
      details: { count: f.count, type: f.type },
    });
  }
  for (const e of report.criticalExceptions) {
    if (e.lastSeen < now - 3_600_000) continue;
    out.push({
      source: 'logs',
      key: `critical:${e.type}`,
      severity: 'critical',
      message: `${e.type} logged ${e.count} times (last ${new Date(e.lastSeen).toISOString()})`,
      details: { count: e.count, clusters: e.clusters },
    });
  }
  for (const c of report.newClusters) {
    const severity: Severity = c.level === 'ERROR' || c.level === 'CRITICAL' ? 'warning' : 'info';
    out.push({
      source: 'logs',
      key: `new-cluster:${c.template}`,
      severity,
      message:
        `new ${c.level ?? ''} pattern since ${new Date(c.firstSeen).toISOString()}: ${c.template}`.replace(
          '  ',
          ' ',
        ),
      details: { count: c.count, cluster: c.id },
    });
  }
  return out;
}

/**
 * Raises the current conditions through a sink and clears the ones raised before that are gone.
 * Keep one per consumer (the screen, a long-running watcher).
 */
export class LogAlertState {
  private active = new Set<string>();
  constructor(private readonly sink: AlertSink) {}

  apply(alerts: AlertInput[]): void {
    const now = new Set<string>();
    for (const a of alerts) {
      this.sink.raise(a);
      now.add(a.key);
    }
    for (const key of this.active) if (!now.has(key)) this.sink.clear('logs', key);
    this.active = now;
  }
}

export type { Cluster };

// ---- splitting one large file over worker threads ---------------------------------------------

export interface SerializedScan {
  totals: AnalysisReport['totals'];
  levelCounts: number[];
  hours: Array<[number, number[]]>;
  frequent: Array<[string, { cluster: number; type: string; count: number; lastSeen: number }]>;
  critical: Array<[string, { count: number; firstSeen: number; lastSeen: number; clusters: number[] }]>;
  st: ScanState['st'];
  files: FileSummary[];
  miner: MinerSnapshot;
}

interface SplitPlan {
  size: number;
  threads: number;
  chunks: Array<{ start: number; end: number }>;
}

/** Chunks of a single large plain file to analyse in parallel, or null to read it in one go. */
function splitPlan(opts: AnalysisOptions): SplitPlan | null {
  const threads = opts.workers ?? Math.min(4, availableParallelism());
  if (threads < 2 || opts.inputs.length !== 1 || opts.onAssignment || opts.miner) return null;
  if (opts.parser !== undefined && opts.parser !== 'auto' && opts.parser !== 'raw') return null;
  const input = opts.inputs[0]!;
  if (input.compressed) return null;
  let size: number;
  try {
    size = statSync(input.path).size;
  } catch {
    return null;
  }
  const minBytes = opts.splitMinBytes ?? 64 * 1024 * 1024;
  if (size < minBytes) return null;
  // About eight chunks a thread (so the last one to finish is not far behind), 1-32 MB each.
  const chunkBytes = Math.max(
    Math.min(minBytes / 2, 1024 * 1024),
    Math.min(32 * 1024 * 1024, Math.ceil(size / (threads * 8))),
  );
  const n = Math.ceil(size / chunkBytes);
  const cuts = [0];
  const fd = openSync(input.path, 'r');
  try {
    const probe = Buffer.allocUnsafe(64 * 1024);
    for (let i = 1; i < n; i++) {
      // Cut before a line that starts a record (a digit: a timestamp), so no traceback is split.
      let at = Math.max(Math.floor((size * i) / n), cuts[cuts.length - 1]!);
      let cut = -1;
      while (cut < 0 && at < size) {
        const got = readSync(fd, probe, 0, probe.length, at);
        if (got <= 0) break;
        let nl = probe.indexOf(10, 0);
        while (nl >= 0 && nl + 1 < got) {
          const c = probe[nl + 1]!;
          if (c >= 48 && c <= 57) {
            cut = at + nl + 1;
            break;
          }
          nl = probe.indexOf(10, nl + 1);
        }
        // Keep the last byte: a newline there is seen with the next read.
        at += Math.max(1, got - 1);
      }
      if (cut > cuts[cuts.length - 1]! && cut < size) cuts.push(cut);
    }
  } finally {
    closeSync(fd);
  }
  if (cuts.length < 2) return null;
  cuts.push(size);
  return {
    size,
    threads,
    chunks: cuts.slice(0, -1).map((start, i) => ({ start, end: cuts[i + 1]! })),
  };
}

/** The options a worker needs (serialisable: no callbacks, no parser objects). */
function workerOptions(opts: AnalysisOptions): AnalysisOptions {
  return {
    inputs: opts.inputs,
    parser: opts.parser,
    since: opts.since ?? null,
    until: opts.until ?? null,
    now: opts.now ?? Date.now(),
    clusterLevels: opts.clusterLevels,
    thresholds: opts.thresholds,
    logs: opts.logs,
    maxLineBytes: opts.maxLineBytes,
  };
}

/**
 * The worker task: scan one range (or all of the inputs) and send back the counts and clusters; or,
 * given chunks and a shared counter, take chunks until none is left and send back each one's scan.
 */
export async function scanRange(
  input: { opts: AnalysisOptions; range: { start: number; end: number } | null } | ChunkTask,
): Promise<SerializedScan | Array<[number, SerializedScan]>> {
  if ('chunks' in input) {
    const out: Array<[number, SerializedScan]> = [];
    const { chunks, next } = input;
    for (let i = Atomics.add(next, 0, 1); i < chunks.length; i = Atomics.add(next, 0, 1))
      out.push([i, serializeScan(await scanInputs(input.opts, chunks[i]))]);
    return out;
  }
  return serializeScan(await scanInputs(input.opts, input.range ?? undefined));
}

export function serializeScan(s: ScanState): SerializedScan {
  return {
    totals: s.totals,
    levelCounts: [...s.levelCounts],
    hours: [...s.hours.entries()].map(([k, v]) => [k, [...v]]),
    frequent: [...s.frequent.entries()],
    critical: [...s.critical.entries()].map(([k, v]) => [k, { ...v, clusters: [...v.clusters] }]),
    st: s.st,
    files: s.files,
    miner: s.miner.snapshot(),
  };
}

export function deserializeScan(s: SerializedScan, opts: AnalysisOptions): ScanState {
  return {
    totals: s.totals,
    levelCounts: Float64Array.from(s.levelCounts),
    hours: new Map(s.hours.map(([k, v]) => [k, Float64Array.from(v)])),
    frequent: new Map(s.frequent),
    critical: new Map(s.critical.map(([k, v]) => [k, { ...v, clusters: new Set(v.clusters) }])),
    st: s.st,
    files: s.files,
    miner: TemplateMiner.fromSnapshot(s.miner, { maxClusters: opts.logs.maxClusters }),
  };
}

/** Adds the later scans into the first (in input order). */
export function mergeScans(parts: ScanState[]): ScanState {
  const into = parts[0]!;
  for (const p of parts.slice(1)) {
    const ids = into.miner.absorb(p.miner);
    const t = into.totals;
    for (const k of Object.keys(t) as Array<keyof typeof t>) {
      if (k === 'byLevel') continue;
      (t[k] as number) += p.totals[k] as number;
    }
    for (let i = 0; i < into.levelCounts.length; i++) into.levelCounts[i]! += p.levelCounts[i]!;
    for (const [h, v] of p.hours) {
      const b = into.hours.get(h);
      if (!b) into.hours.set(h, v);
      else for (let i = 0; i < b.length; i++) b[i]! += v[i]!;
    }
    for (const v of p.frequent.values()) {
      const cluster = ids.get(v.cluster) ?? v.cluster;
      const key = `${cluster}|${v.type}`;
      const f = into.frequent.get(key);
      if (f) {
        f.count += v.count;
        f.lastSeen = Math.max(f.lastSeen, v.lastSeen);
      } else into.frequent.set(key, { ...v, cluster });
    }
    for (const [type, v] of p.critical) {
      const e = into.critical.get(type);
      const clusters = [...v.clusters].map((c) => ids.get(c) ?? c);
      if (!e) into.critical.set(type, { ...v, clusters: new Set(clusters) });
      else {
        e.count += v.count;
        e.firstSeen = Math.min(e.firstSeen, v.firstSeen);
        e.lastSeen = Math.max(e.lastSeen, v.lastSeen);
        for (const c of clusters) e.clusters.add(c);
      }
    }
    into.st.errorsLastHour += p.st.errorsLastHour;
    into.st.errorCount += p.st.errorCount;
    into.st.recordNo += p.st.recordNo;
    const f0 = into.files[0]!;
    const f1 = p.files[0]!;
    f0.bytes += f1.bytes;
    f0.lines += f1.lines;
    f0.records += f1.records;
    f0.error ??= f1.error;
  }
  return into;
}
