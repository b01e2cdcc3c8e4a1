// Health check "logs": the error rate of the last hour against thresholds.errorsPerHour (warning
// above it, critical above twice it, as `logs analyze` judges it), CRITICAL records and critical
// exception types (MemoryError, DatabaseError, SystemError) in the last hour, and the size of the
// logs folder against health.logsFolderMb.
// Only the last hour is read: log files are in time order, so the first record of the hour is found
// by bisecting the file on its timestamps and only the bytes after it are parsed (with the parsers
// of log-parse.ts). A 100 MB live file costs a few reads plus the last hour. ERROR and CRITICAL
// records are counted once across files (the application writes an ERROR to three of them), by
// their exact first line, as `logs analyze` does. The full analysis (clusters, timeline) is the
// Logs screen's and `logs analyze`'s.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { forEachFile } from './file-walk.js';
import {
  type CheckContext,
  type CheckOutcome,
  type HealthState,
  levelOf,
  outcome,
  worstState,
} from './health-types.js';
import { hash53 } from './log-clusters.js';
import { discoverLogFiles } from './log-files.js';
import { CRITICAL_EXCEPTIONS, exceptionTypeOf, type LineParser, parserFor } from './log-parse.js';

const HOUR = 3_600_000;
const MB = 1024 * 1024;

/** Bytes of every file under a folder (not following links), and how many files. */
export function folderSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  forEachFile(dir, (_file, st) => {
    bytes += st.size;
    files++;
  });
  return { bytes, files };
}

export async function checkLogs(ctx: CheckContext): Promise<CheckOutcome> {
  const t = ctx.config.thresholds;
  const found = discoverLogFiles(ctx.paths.logs);
  if (found.errors.some((e) => e.path === ctx.paths.logs))
    return outcome(
      'unknown',
      `logs folder cannot be read: ${found.errors[0]!.error}`,
      'check paths.logs and that the console may read the logs folder',
      found.errors.map((e) => `${e.path}: ${e.error}`),
    );
  const since = ctx.now - HOUR;
  const files = [...found.history.filter((f) => !f.compressed && f.mtimeMs >= since), ...found.live].map(
    (f) => f.path,
  );
  const size = folderSize(ctx.paths.logs);
  const sizeLevel = levelOf(size.bytes / MB, ctx.config.health.logsFolderMb);
  const findings: string[] = [];
  const states: HealthState[] = [sizeLevel === 'unknown' ? 'ok' : sizeLevel];
  const window = lastHourCounts(files, {
    since,
    until: ctx.now,
    parser: parserFor({ format: ctx.config.logs.format, lineFormat: ctx.config.logs.lineFormat }),
  });
  const report = {
    errorRate: {
      lastHour: window.errors,
      percent: window.records ? (window.errors / window.records) * 100 : 0,
    },
    totals: { records: window.records, byLevel: { CRITICAL: window.critical } },
    criticalExceptions: [...window.criticalTypes.entries()].map(([type, v]) => ({ type, ...v })),
    files: window.errors_.map((e) => ({ name: e.file, error: e.error })),
    elapsedMs: window.ms,
  };
  const errors = report.errorRate.lastHour;
  const rateLevel: HealthState =
    errors > 2 * t.errorsPerHour ? 'critical' : errors > t.errorsPerHour ? 'warning' : 'ok';
  states.push(rateLevel);
  const criticalRecords = report.totals.byLevel.CRITICAL;
  const criticalTypes = report.criticalExceptions.filter((c) => c.lastSeen >= since);
  if (criticalRecords > 0 || criticalTypes.length > 0) states.push('critical');
  if (rateLevel !== 'ok')
    findings.push(`${errors} errors in the last hour (threshold ${t.errorsPerHour} an hour)`);
  if (criticalRecords)
    findings.push(`${criticalRecords} CRITICAL record${criticalRecords === 1 ? '' : 's'} in the last hour`);
  for (const c of criticalTypes) findings.push(`${c.type} x${c.count} in the last hour`);
  if (sizeLevel === 'warning' || sizeLevel === 'critical')
    findings.push(
      `logs folder ${(size.bytes / MB).toFixed(0)} MB (${sizeLevel} at ${sizeLevel === 'critical' ? ctx.config.health.logsFolderMb.critical : ctx.config.health.logsFolderMb.warning} MB)`,
    );
  for (const f of report.files) findings.push(`${f.name}: ${f.error}`);
  for (const f of window.capped)
    findings.push(`${f}: over 64 MB written in the last hour; only the newest 64 MB were counted`);
  const records = report.totals.records;
  const percent = report.errorRate.percent;
  if (records > 0 && percent > t.errorRatePercent)
    findings.push(`error rate ${percent.toFixed(2)} % of records (KPI ${t.errorRatePercent} %)`);
  const state = worstState(states);
  const data = {
    errorsLastHour: errors,
    errorsPerHourThreshold: t.errorsPerHour,
    recordsLastHour: records,
    errorRatePercent: percent,
    criticalLastHour: criticalRecords,
    criticalTypes: criticalTypes.map((c) => ({ type: c.type, count: c.count, lastSeen: c.lastSeen })),
    folderBytes: size.bytes,
    folderFiles: size.files,
    bytesRead: window.bytesRead,
    scanMs: report.elapsedMs,
  };
  const headline = `${errors} errors, ${criticalRecords} critical in the last hour; logs ${(size.bytes / MB).toFixed(0)} MB`;
  if (state === 'ok') return outcome('ok', headline, null, findings, data);
  const critical = criticalRecords > 0 || criticalTypes.length > 0;
  const recommendation = critical
    ? 'read the critical errors on the Logs screen (3, filter CRITICAL with f): MemoryError and DatabaseError need action now'
    : rateLevel !== 'ok'
      ? 'see which clusters grow on the Logs screen (3); the busiest is on the Overview'
      : 'rotate and compress logs (cadence-ops logs rotate) and delete old compressed logs (logs.compressedRetentionDays)';
  return outcome(state, `${findings[0]} (${headline})`, recommendation, findings, data);
}

export interface WindowCounts {
  records: number;
  errors: number;
  critical: number;
  criticalTypes: Map<string, { count: number; lastSeen: number }>;
  bytesRead: number;
  /** Files whose last hour is longer than the cap: only their newest maxBytesPerFile were read. */
  capped: string[];
  errors_: Array<{ file: string; error: string }>;
  ms: number;
}

const PROBE = 64 * 1024;

/**
 * A set of 53-bit hashes (never 0) in one Float64Array, open addressing: 8-16 bytes an entry where
 * a Set of numbers takes ~100 (each a boxed double plus its table slot).
 */
class HashSet53 {
  private table = new Float64Array(1024);
  private size = 0;

  /** Adds h; false when it was there already. */
  add(h: number): boolean {
    if ((this.size + 1) * 4 > this.table.length * 3) this.grow();
    const t = this.table;
    const mask = t.length - 1;
    for (let i = (h >>> 0) & mask; ; i = (i + 1) & mask) {
      const v = t[i]!;
      if (v === h) return false;
      if (v === 0) {
        t[i] = h;
        this.size++;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Float64Array(old.length * 2);
    this.size = 0;
    for (const v of old) if (v !== 0) this.add(v);
  }
}
/** Bytes read at a time from the last hour of a file. */
const READ_CHUNK = 64 * 1024;

/** The first record time at or after `offset` (searching up to 64 KB on), or null. */
function timeAt(fd: number, offset: number, size: number, parser: LineParser): number | null {
  const buf = Buffer.alloc(Math.min(PROBE, size - offset));
  const n = readSync(fd, buf, 0, buf.length, offset);
  const lines = buf.subarray(0, n).toString('utf8').split('\n');
  // The first piece is a partial line unless we are at the start of the file.
  for (let i = offset === 0 ? 0 : 1; i < lines.length - 1; i++) {
    const head = parser.parse(lines[i]!);
    if (head?.time != null) return head.time;
  }
  return null;
}

/** Byte offset from which every record is at or after `since` (bisection on the file's timestamps). */
export function offsetOfTime(fd: number, size: number, since: number, parser: LineParser): number {
  let lo = 0;
  let hi = size;
  // Invariant: records before lo are older than since; the answer is in [lo, hi].
  for (let i = 0; i < 40 && hi - lo > PROBE; i++) {
    const mid = Math.floor((lo + hi) / 2);
    const t = timeAt(fd, mid, size, parser);
    if (t === null || t >= since) hi = mid;
    else lo = mid;
  }
  return lo;
}

/**
 * Counts the records of the last hour in the given plain log files: all records, ERROR+ (once
 * across files), CRITICAL, and critical exception types.
 */
export function lastHourCounts(
  files: string[],
  opts: { since: number; until: number; parser?: LineParser; maxBytesPerFile?: number },
): WindowCounts {
  const started = performance.now();
  const parser = opts.parser ?? parserFor({ format: 'auto' });
  const cap = opts.maxBytesPerFile ?? 64 * 1024 * 1024;
  const out: WindowCounts = {
    records: 0,
    errors: 0,
    critical: 0,
    criticalTypes: new Map(),
    bytesRead: 0,
    capped: [],
    errors_: [],
    ms: 0,
  };
  // ERROR and CRITICAL heads already counted (in another file): a 53-bit hash of the line, not the
  // line (a flood's last hour holds hundreds of thousands).
  const seen = new HashSet53();
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  for (const file of files) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      out.errors_.push({ file: path.basename(file), error: (err as Error).message });
      continue;
    }
    try {
      const size = fstatSync(fd).size;
      const start = offsetOfTime(fd, size, opts.since, parser);
      const from = Math.max(start, size - cap);
      if (from > start) out.capped.push(path.basename(file));
      let current: {
        head: string;
        level: string | null;
        time: number | null;
        message: string;
        cont: string[];
      } | null = null;
      const finish = () => {
        const r = current;
        current = null;
        if (!r || r.time === null || r.time < opts.since || r.time > opts.until) return;
        out.records++;
        if (r.level !== 'ERROR' && r.level !== 'CRITICAL') return;
        const key = hash53(r.head);
        if (!seen.add(key)) {
          out.records--;
          return;
        }
        out.errors++;
        if (r.level === 'CRITICAL') out.critical++;
        const type = exceptionTypeOf(r.message, r.cont);
        if (type && CRITICAL_EXCEPTIONS.has(type)) {
          const e = out.criticalTypes.get(type);
          if (e) {
            e.count++;
            e.lastSeen = Math.max(e.lastSeen, r.time);
          } else out.criticalTypes.set(type, { count: 1, lastSeen: r.time });
        }
      };
      // The first line is a partial one unless reading starts at the beginning of the file.
      let skip = from !== 0;
      const onLine = (line: string) => {
        if (skip) {
          skip = false;
          return;
        }
        const head = parser.parse(line);
        if (head) {
          finish();
          current = { head: line, level: head.level, time: head.time, message: head.message, cont: [] };
        } else if (current && current.cont.length < 200) current.cont.push(line);
      };
      // Read in bounded pieces, each decoded up to its last newline (a newline never falls inside a
      // UTF-8 sequence); the rest of a piece is carried to the next one.
      let carry: Buffer | null = null;
      for (let pos = from; pos < size; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
        if (n <= 0) break;
        pos += n;
        out.bytesRead += n;
        const piece = buf.subarray(0, n);
        const nl = piece.lastIndexOf(10);
        if (nl < 0) {
          carry = carry ? Buffer.concat([carry, piece]) : Buffer.from(piece);
          continue;
        }
        const text = carry
          ? Buffer.concat([carry, piece.subarray(0, nl)]).toString('utf8')
          : piece.toString('utf8', 0, nl);
        carry = nl + 1 < n ? Buffer.from(piece.subarray(nl + 1)) : null;
        for (const line of text.split('\n')) onLine(line);
      }
      if (carry?.length) onLine(carry.toString('utf8'));
      finish();
    } catch (err) {
      out.errors_.push({ file: path.basename(file), error: (err as Error).message });
    } finally {
      closeSync(fd);
    }
  }
  out.ms = performance.now() - started;
  return out;
}
