// Error analysis over log files (live and rotated history, gzipped too), as the procedures ask:
// error rate per hour against thresholds.errorsPerHour, frequent errors (an error key, type + first
// 50 characters of the message, seen thresholds.errorRepeat times), the per-hour timeline, critical
// exception types (MemoryError, DatabaseError, SystemError), and new clusters (first seen within
// logs.newClusterWindowMinutes). Alerts go through an AlertSink (services/alert-sink.ts).
//
// The scan is the hot path of `logs analyze`: lines are found with Buffer.indexOf, Python-format
// heads are recognised and their time and level read from bytes, and only the records that are
// clustered (WARNING and above by default; every record with assignments) are decoded to strings.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createGunzip, gunzipSync, constants as zlibConstants } from 'node:zlib';
import type { AlertInput, AlertSink, Severity } from './alert-sink.js';
import type { Config } from './config.js';
import { type Cluster, type ClusterView, TemplateMiner, templateOf, viewOf } from './log-clusters.js';
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

const CHUNK = 4 * 1024 * 1024;
const LEVEL_INDEX: Record<Level, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3, CRITICAL: 4 };
const SEP = Buffer.from(' - ');

interface Pending {
  level: Level | null;
  time: number | null;
  message: string;
  first: () => string;
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

/** 53-bit hash of a string (for the cross-file duplicate check); never 0. */
function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
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
  let errorsLastHour = 0;
  let errorCount = 0;
  let recordNo = 0;

  const bytesTotal = opts.inputs.reduce((s, i) => {
    try {
      return s + statSync(i.path).size;
    } catch {
      return s;
    }
  }, 0);
  let bytesDone = 0;

  const finish = (p: Pending) => {
    const exception = p.exceptionLine
      ? exceptionTypeOf(p.message, [p.exceptionLine])
      : exceptionTypeOf(p.message, []);
    const code = errorCodeOf(p.message);
    const c = miner.add(
      { level: p.level, message: p.message, time: p.time, file: p.file, code, exception, sample: p.first },
      now,
    );
    if (dedupe && p.dedupeKey) dedupe.set(p.dedupeKey, c.id);
    if (opts.onAssignment)
      opts.onAssignment({ record: p.record, file: p.file, line: p.line, level: p.level, cluster: c.id });
    const rank = p.level ? LEVEL_RANK[p.level] : -1;
    if (rank >= 3) {
      const type = errorTypeOf(exception, code, p.message);
      const key = `${c.id}|${type}`;
      const t = p.time ?? now;
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
    let pending: Pending | null = null;
    let skipRecord = false; // current record is outside the window or a duplicate: its continuation goes too
    let lineNo = 0;
    let carry: Buffer | null = null;
    if (!parser) {
      parser = detectParserOf(peekLines(input));
      fast = parser === timestampParser;
    }

    let lastHour = -1;
    // A record without a time of its own (raw format, garbage) is placed at the time of the one before.
    let lastTime = fileMtime;
    let lastBucket: Float64Array | null = null;
    /**
     * Counts a record head. Returns true when the record is to be clustered: the caller then calls
     * cluster() with its text. Records outside the window or seen in another file are skipped.
     */
    const head = (level: Level | null, time: number | null, dupKey: number): boolean => {
      if (pending) {
        finish(pending);
        pending = null;
      }
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
          if (c) miner.noteFile(c, input.base ?? input.name);
          return false;
        }
        dedupe.set(dupKey, 0);
        if (dedupe.size > 4_000_000) dedupe.clear();
      }
      skipRecord = false;
      summary.records++;
      levelCounts[level ? LEVEL_INDEX[level] : 5]!++;
      if (time !== null) {
        const h = Math.floor(time / 3_600_000);
        let b: Float64Array | undefined = lastBucket ?? undefined;
        if (h !== lastHour || !b) {
          b = hours.get(h);
          if (!b) hours.set(h, (b = new Float64Array(4)));
          lastHour = h;
          lastBucket = b;
        }
        b[0]!++;
        if (rank === 2) b[1]!++;
        else if (rank >= 3) {
          b[2]!++;
          if (rank === 4) b[3]!++;
        }
      }
      if (rank >= 3) {
        errorCount++;
        const t = time ?? now;
        if (t >= lastHourFrom && t <= now) errorsLastHour++;
      }
      const clustered = clusterAll || rank >= 2 || level === null;
      if (!clustered) recordNo++;
      return clustered;
    };
    const cluster = (
      level: Level | null,
      time: number | null,
      message: string,
      sample: () => string,
      key: number,
    ) => {
      if (time !== null) lastTime = time;
      pending = {
        level,
        time: time ?? lastTime,
        message,
        first: sample,
        exceptionLine: null,
        file: input.base ?? input.name,
        line: lineNo,
        record: recordNo++,
        dedupeKey: key,
      };
    };

    const handleString = (text: string) => {
      lineNo++;
      if (looksBinary(text)) {
        totals.binaryLines++;
        if (head(null, null, 0)) cluster(null, null, text, () => text, 0);
        return;
      }
      const h = (parser as LineParser).parse(text);
      if (!h) {
        totals.continuationLines++;
        if (pending && !skipRecord && text.length && text.charCodeAt(0) !== 32 && text.charCodeAt(0) !== 9)
          (pending as Pending).exceptionLine = text;
        return;
      }
      const rank = h.level ? LEVEL_RANK[h.level] : -1;
      const key = dedupe && rank >= 2 ? hash53(text) : 0;
      if (head(h.level, h.time, key)) cluster(h.level, h.time, h.message, () => text, key);
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
        b[s + 24] === 45
      ) {
        const a = b.indexOf(SEP, s + 26);
        if (a > 0 && a < e) {
          const q = a + 3;
          const l = levelAt(b, q, e);
          if (l) {
            lineNo++;
            const d2 = (i: number) => (b[i]! - 48) * 10 + (b[i + 1]! - 48);
            const y = d2(s) * 100 + d2(s + 2);
            const time = localEpoch(
              y,
              d2(s + 5),
              d2(s + 8),
              d2(s + 11),
              d2(s + 14),
              d2(s + 17),
              d2(s + 20) * 10 + (b[s + 22]! - 48),
            );
            const rank = LEVEL_RANK[l];
            const key = dedupe && rank >= 2 ? hashBytes(b, s, e) : 0;
            if (head(l, time, key)) {
              const msgStart = q + l.length + 3;
              const line = b.toString('utf8', Math.min(msgStart, e), e);
              cluster(l, time, line, () => b.toString('utf8', s, e), key);
            }
            return;
          }
        }
      }
      if (fast && !(c0 >= 48 && c0 <= 57) && (c0 >= 32 || c0 === 9) && c0 < 128) {
        // Cannot be a head in the timestamp formats: a continuation line (traceback).
        lineNo++;
        totals.continuationLines++;
        if (pending && !skipRecord && c0 !== 32 && c0 !== 9)
          (pending as Pending).exceptionLine = b.toString('utf8', s, e);
        return;
      }
      handleString(b.toString('utf8', s, e));
    };

    const consume = (chunk: Buffer) => {
      let b = chunk;
      if (carry) {
        b = Buffer.concat([carry, chunk]);
        carry = null;
      }
      let s = 0;
      const n = b.length;
      let nl = b.indexOf(10, s);
      while (nl >= 0) {
        handleBytes(b, s, nl);
        totals.lines++;
        summary.lines++;
        s = nl + 1;
        nl = b.indexOf(10, s);
      }
      if (s < n) {
        // Keep the partial line, bounded: a line of megabytes is cut at maxLine.
        carry = Buffer.from(b.subarray(s, Math.min(n, s + maxLine + 1)));
        if (n - s > maxLine + 1) carry = Buffer.concat([carry.subarray(0, maxLine), Buffer.from('\u2026')]);
      }
    };

    try {
      if (input.compressed) {
        await new Promise<void>((resolve, reject) => {
          const src = createReadStream(input.path);
          const gunzip = createGunzip();
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
          let pos = 0;
          for (;;) {
            const got = readSync(fd, buf, 0, CHUNK, pos);
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
    if (pending) {
      finish(pending);
      pending = null;
    }
    totals.bytes += summary.bytes;
    bytesDone += size;
  }

  totals.records = recordNo;
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
      lastHour: errorsLastHour,
      peak,
      hoursOver: timeline
        .filter((b) => b.errors > threshold)
        .map((b) => ({ hour: b.hour, errors: b.errors })),
      percent: (errorCount / recordsInWindow) * 100,
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
    if (input.compressed) data = gunzipSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
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
