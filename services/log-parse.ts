// Turns log lines into records: the Python logging format of SITE.md
// (`%(asctime)s - %(name)s - %(levelname)s - %(message)s`), the other timestamp forms the procedures
// accept, a user's --line-format REGEX with named groups, or raw (each line is a message). Lines that
// do not start a record (Python tracebacks) continue the previous one. Also extracts the error code
// (SITE.md's table: ERR001, DB002, PAR001, PERF003, ...) and the exception type of a record.

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export const LEVELS: readonly Level[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
export const LEVEL_RANK: Record<Level, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3, CRITICAL: 4 };

export type FormatName = 'auto' | 'python' | 'raw';

/** One line seen as the start of a record. */
export interface ParsedHead {
  /** Epoch ms (local time as the application writes it), or null when the line carries none. */
  time: number | null;
  level: Level | null;
  logger: string | null;
  message: string;
}

export interface LineParser {
  readonly name: string;
  /** The head of a record, or null when the line continues the previous record. */
  parse(line: string): ParsedHead | null;
}

const LEVEL_ALIASES: Record<string, Level> = {
  DEBUG: 'DEBUG',
  TRACE: 'DEBUG',
  INFO: 'INFO',
  NOTICE: 'INFO',
  WARNING: 'WARNING',
  WARN: 'WARNING',
  ERROR: 'ERROR',
  ERR: 'ERROR',
  CRITICAL: 'CRITICAL',
  FATAL: 'CRITICAL',
  CRIT: 'CRITICAL',
  EMERG: 'CRITICAL',
  ALERT: 'CRITICAL',
  SEVERE: 'ERROR',
};

/** A level name in any case (`warn`, `Warning`, `FATAL`), or null. */
export function normalizeLevel(text: string | undefined | null): Level | null {
  if (!text) return null;
  return LEVEL_ALIASES[text.toUpperCase()] ?? null;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

// Local-time epoch ms, cached per hour: new Date(y, m, d, h) is the slow part and changes rarely.
let hourKeyCache = -1;
let hourMsCache = 0;
export function localEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) {
  const key = ((y * 13 + mo) * 32 + d) * 24 + h;
  if (key !== hourKeyCache) {
    hourKeyCache = key;
    hourMsCache = new Date(y, mo - 1, d, h).getTime();
  }
  return hourMsCache + mi * 60_000 + s * 1000 + ms;
}

export interface TimestampMatch {
  time: number;
  /** Characters the timestamp takes at the start of the line. */
  length: number;
}

/**
 * The timestamp at the start of a line, in one of the forms of SITE.md: `YYYY-MM-DD HH:MM:SS[,mmm]`
 * (also `.mmm` and an ISO `T`), `MM/DD/YYYY HH:MM:SS`, `MM-DD-YYYY HH:MM:SS`. Null when the line
 * does not start with one.
 */
export function parseTimestamp(line: string): TimestampMatch | null {
  if (line.length < 19) return null;
  let y: number;
  let mo: number;
  let d: number;
  const c4 = line.charCodeAt(4);
  const c2 = line.charCodeAt(2);
  if (c4 === 45 /* - */ && line.charCodeAt(7) === 45) {
    y = digits(line, 0, 4);
    mo = digits(line, 5, 2);
    d = digits(line, 8, 2);
  } else if ((c2 === 47 /* / */ || c2 === 45) && line.charCodeAt(5) === c2) {
    mo = digits(line, 0, 2);
    d = digits(line, 3, 2);
    y = digits(line, 6, 4);
  } else return null;
  const sep = line.charCodeAt(10);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || (sep !== 32 && sep !== 84) /* T */) return null;
  if (line.charCodeAt(13) !== 58 || line.charCodeAt(16) !== 58) return null;
  const h = digits(line, 11, 2);
  const mi = digits(line, 14, 2);
  const s = digits(line, 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return null;
  let length = 19;
  let ms = 0;
  const frac = line.charCodeAt(19);
  if ((frac === 44 /* , */ || frac === 46) /* . */ && isDigit(line.charCodeAt(20))) {
    let i = 20;
    let scale = 100;
    while (i < line.length && isDigit(line.charCodeAt(i))) {
      if (scale >= 1) ms += (line.charCodeAt(i) - 48) * scale;
      scale /= 10;
      i++;
    }
    ms = Math.floor(ms);
    length = i;
  }
  let time = localEpoch(y, mo, d, h, mi, s, ms);
  // ISO zone suffix: Z or ±hh:mm makes the time absolute.
  const z = line.charCodeAt(length);
  if (z === 90 /* Z */) {
    time = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    length++;
  } else if ((z === 43 || z === 45) && sep === 84 && digits(line, length + 1, 2) >= 0) {
    const zh = digits(line, length + 1, 2);
    const zm = line.charCodeAt(length + 3) === 58 ? digits(line, length + 4, 2) : digits(line, length + 3, 2);
    const sign = z === 43 ? 1 : -1;
    time = Date.UTC(y, mo - 1, d, h, mi, s, ms) - sign * (zh * 60 + Math.max(0, zm)) * 60_000;
    length += line.charCodeAt(length + 3) === 58 ? 6 : 5;
  }
  return { time, length };
}

/** `2026-11-23 08:17:41,123 - candy_cadence.parsers.stl - ERROR - message` and its siblings. */
function parseAfterTimestamp(line: string, ts: TimestampMatch): ParsedHead {
  let rest = line.slice(ts.length);
  // Python logging: " - name - LEVEL - message"
  if (rest.startsWith(' - ')) {
    const a = rest.indexOf(' - ', 3);
    if (a > 0) {
      const b = rest.indexOf(' - ', a + 3);
      const levelText = b > 0 ? rest.slice(a + 3, b) : rest.slice(a + 3);
      const level = normalizeLevel(levelText);
      if (level) {
        return {
          time: ts.time,
          level,
          logger: rest.slice(3, a),
          message: b > 0 ? rest.slice(b + 3) : '',
        };
      }
      // " - LEVEL - message"
      const level2 = normalizeLevel(rest.slice(3, a));
      if (level2) return { time: ts.time, level: level2, logger: null, message: rest.slice(a + 3) };
    }
    rest = rest.slice(3);
  }
  // Other layouts: "[LEVEL] logger: message", "LEVEL message", "LEVEL: message", "name LEVEL message"
  rest = rest.replace(/^[\s\-|:]+/, '');
  const m = /^\[?([A-Za-z]{3,8})\]?:?\s+(.*)$/s.exec(rest);
  if (m) {
    const level = normalizeLevel(m[1]);
    if (level) return { time: ts.time, level, logger: null, message: m[2]! };
  }
  const m2 = /^(\S+)\s+\[?([A-Za-z]{3,8})\]?:?\s+(.*)$/s.exec(rest);
  if (m2) {
    const level = normalizeLevel(m2[2]);
    if (level) return { time: ts.time, level, logger: m2[1]!.replace(/[:\]]$/, ''), message: m2[3]! };
  }
  return { time: ts.time, level: null, logger: null, message: rest };
}

/** Auto: a line starting with a timestamp of SITE.md starts a record; anything else continues one. */
export const timestampParser: LineParser = {
  name: 'python',
  parse(line) {
    const ts = parseTimestamp(line);
    return ts ? parseAfterTimestamp(line, ts) : null;
  },
};

/** Raw: every line is a record of its own, the whole line its message. */
export const rawParser: LineParser = {
  name: 'raw',
  parse(line) {
    return { time: null, level: null, logger: null, message: line };
  },
};

export class LineFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineFormatError';
  }
}

const KNOWN_GROUPS = new Set(['timestamp', 'level', 'logger', 'message']);

/**
 * A user's format: a regular expression with named groups `timestamp`, `level`, `logger`,
 * `message` (message required). A line that does not match continues the previous record.
 */
export function regexParser(source: string): LineParser {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    throw new LineFormatError(`--line-format: not a valid regular expression: ${(err as Error).message}`);
  }
  const groups = [...source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
  if (!groups.includes('message')) {
    throw new LineFormatError(
      '--line-format: the expression needs a named group (?<message>...); optional: timestamp, level, logger',
    );
  }
  const unknown = groups.filter((g) => !KNOWN_GROUPS.has(g));
  if (unknown.length) {
    throw new LineFormatError(
      `--line-format: unknown group ${unknown.map((g) => `(?<${g}>)`).join(', ')}; known: ${[...KNOWN_GROUPS].join(', ')}`,
    );
  }
  return {
    name: 'line-format',
    parse(line) {
      const m = re.exec(line);
      if (!m?.groups) return null;
      const g = m.groups;
      let time: number | null = null;
      if (g.timestamp) {
        const ts = parseTimestamp(g.timestamp);
        if (ts) time = ts.time;
        else {
          const t = Date.parse(g.timestamp);
          time = Number.isNaN(t) ? null : t;
        }
      }
      return { time, level: normalizeLevel(g.level), logger: g.logger ?? null, message: g.message ?? '' };
    },
  };
}

export function parserFor(opts: { format?: FormatName; lineFormat?: string | null }): LineParser {
  if (opts.lineFormat) return regexParser(opts.lineFormat);
  if (opts.format === 'raw') return rawParser;
  return timestampParser;
}

/**
 * Auto-detection over a sample of lines: the timestamp forms of SITE.md when most non-blank lines
 * that do not look like traceback lines start with one, raw otherwise (another program's log).
 */
export function detectParser(sample: string[]): LineParser {
  let heads = 0;
  let candidates = 0;
  for (const line of sample) {
    if (!line.trim() || /^\s/.test(line) || line.startsWith('Traceback')) continue;
    candidates++;
    if (parseTimestamp(line)) heads++;
  }
  if (candidates === 0 || heads / candidates >= 0.5) return timestampParser;
  return rawParser;
}

// ---- error codes and exception types -------------------------------------------------------

const ERROR_CODE = /\b(ERR|DB|PAR|PERF)\d{3}\b/;

/** The first error code of SITE.md's table in a message (ERR001…, DB001…, PAR001…, PERF001…). */
export function errorCodeOf(message: string): string | null {
  if (message.indexOf('0') < 0) return null;
  const m = ERROR_CODE.exec(message);
  return m ? m[0] : null;
}

const isWordByte = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const CODE_PREFIXES = ['ERR', 'DB', 'PAR', 'PERF'].map((p) => Buffer.from(p));

/** errorCodeOf() on the bytes b[s, e) of a message (any bytes; non-ASCII ones are not word characters). */
export function errorCodeBytes(b: Uint8Array, s: number, e: number): string | null {
  let zero = false;
  for (let i = s; i < e && !zero; i++) zero = b[i] === 48;
  return zero ? findErrorCode(b, s, e) : null;
}

const codeStrings: string[] = [];

/**
 * The leftmost match of errorCodeOf()'s expression `\b(ERR|DB|PAR|PERF)\d{3}\b` in b[s, e) (the
 * bytes before s and from e on count as non-word), without errorCodeOf()'s rule that the message
 * holds a `0`; null when there is none.
 */
export function findErrorCode(b: Uint8Array, s: number, e: number): string | null {
  for (let i = s; i + 5 <= e; i++) {
    const c = b[i];
    if (c !== 69 && c !== 68 && c !== 80) continue; // E D P
    if (i > s && isWordByte(b[i - 1]!)) continue;
    for (let k = 0; k < CODE_PREFIXES.length; k++) {
      const p = CODE_PREFIXES[k]!;
      const n = p.length;
      if (i + n + 3 > e) continue;
      let j = 0;
      while (j < n && b[i + j] === p[j]) j++;
      if (j < n) continue;
      const d = i + n;
      if (!(isDigitByte(b[d]!) && isDigitByte(b[d + 1]!) && isDigitByte(b[d + 2]!))) continue;
      if (d + 3 < e && isWordByte(b[d + 3]!)) continue;
      const id = k * 1000 + (b[d]! - 48) * 100 + (b[d + 1]! - 48) * 10 + (b[d + 2]! - 48);
      let code = codeStrings[id];
      if (code === undefined) {
        code = Buffer.from(b.buffer, b.byteOffset + i, n + 3).toString('latin1');
        codeStrings[id] = code;
      }
      return code;
    }
  }
  return null;
}
const isDigitByte = (c: number) => c >= 48 && c <= 57;

// `SomeError: message`, `sqlite3.DatabaseError: ...`, `MemoryError`, `KeyboardInterrupt`
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Fault))(?::|$)/;
const EXCEPTION_WORD = /\b([A-Z][A-Za-z]*(?:Error|Exception))\b/;

/**
 * The exception type of a record: the last line of its traceback (`sqlite3.DatabaseError: …` gives
 * `DatabaseError`), else an exception name mentioned in the message. Null when there is none.
 */
export function exceptionTypeOf(message: string, continuation: readonly string[]): string | null {
  for (let i = continuation.length - 1; i >= 0; i--) {
    const line = continuation[i]!;
    if (!line || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) continue;
    const m = EXCEPTION_LINE.exec(line);
    if (m) return m[1]!.slice(m[1]!.lastIndexOf('.') + 1);
  }
  if (message.indexOf('Error') < 0 && message.indexOf('Exception') < 0) return null;
  const m = EXCEPTION_WORD.exec(message);
  return m ? m[1]! : null;
}

/** The procedures' error types: ParseError, FileNotFoundError, DatabaseError, MemoryError, TimeoutError, else UnknownError. */
export const PROCEDURE_ERROR_TYPES = [
  'ParseError',
  'FileNotFoundError',
  'DatabaseError',
  'MemoryError',
  'TimeoutError',
] as const;
export const CRITICAL_EXCEPTIONS = new Set(['MemoryError', 'DatabaseError', 'SystemError']);

const CODE_TYPES: Record<string, string> = {
  ERR001: 'DatabaseError',
  ERR003: 'MemoryError',
  ERR005: 'FileNotFoundError',
  DB001: 'DatabaseError',
  DB002: 'DatabaseError',
  DB003: 'DatabaseError',
  DB004: 'DatabaseError',
  DB005: 'DatabaseError',
  PAR001: 'ParseError',
  PAR002: 'TimeoutError',
  PAR003: 'MemoryError',
  PAR004: 'ParseError',
  PAR005: 'ParseError',
};

/** The procedures' classification of an error record (its "error type" in the error key). */
export function errorTypeOf(exception: string | null, code: string | null, message: string): string {
  if (exception) {
    if ((PROCEDURE_ERROR_TYPES as readonly string[]).includes(exception) || exception === 'SystemError')
      return exception;
    if (/Timeout/i.test(exception)) return 'TimeoutError';
    if (/^(sqlite|Operational|Integrity)/i.test(exception)) return 'DatabaseError';
  }
  if (code && CODE_TYPES[code]) return CODE_TYPES[code]!;
  if (/\bparse\b|\bparsing\b/i.test(message)) return 'ParseError';
  if (/not found|no such file/i.test(message)) return 'FileNotFoundError';
  if (/database|sqlite/i.test(message)) return 'DatabaseError';
  if (/out of memory|memory allocation/i.test(message)) return 'MemoryError';
  if (/time(d)? ?out/i.test(message)) return 'TimeoutError';
  return 'UnknownError';
}

// ---- display safety ------------------------------------------------------------------------

/** Control characters (other than tab) and NULs replaced, so a line cannot drive the terminal. */
export function sanitizeForDisplay(text: string): string {
  return /[\x00-\x08\x0b-\x1f\x7f]/.test(text) ? text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '\ufffd') : text;
}

/** A line that is mostly not text (NULs, control bytes, invalid UTF-8). */
export function looksBinary(line: string): boolean {
  if (line.length === 0) return false;
  let bad = 0;
  const n = Math.min(line.length, 512);
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 0 || c === 0xfffd || (c < 32 && c !== 9)) bad++;
  }
  return bad > 0 && (bad >= 4 || bad / n > 0.1);
}

/** Parse a duration such as `24h`, `30m`, `7d`, `90s`, `2w` into ms. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$/i.exec(text);
  if (!m) throw new LineFormatError(`not a duration: "${text}" (expected e.g. 30m, 24h, 7d)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'h').toLowerCase();
  const mult: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    min: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
  };
  return n * mult[unit]!;
}
