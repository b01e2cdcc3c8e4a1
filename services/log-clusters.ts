// Online clustering of log messages into templates with variable slots, in the spirit of Drain
// (He et al., ICWS 2017): a message is masked (numbers, hex, UUIDs, paths, URLs, IPs, durations,
// sizes, quoted strings, SQL text and key=value values become `<*>`), split into tokens, routed by
// level, token count and first token to a small set of candidate clusters, and joins the most
// similar one when at least half of its tokens agree; the positions that differ become `<*>`.
// Messages that differ only in variable parts share a template; messages that differ in several
// constant words do not. One general configuration, no per-file tuning.
//
// Memory is bounded: at most maxClusters clusters; past that the least recently seen tenth is
// evicted and counted in `remainder`. Each cluster keeps bounded samples, per-minute counts (the
// last maxMinutes minutes it was seen), per-hour counts, error codes, exception types and files.
import { findErrorCode, type Level, sanitizeForDisplay } from './log-parse.js';

export const WILDCARD = '<*>';
const LEVEL_SLOT: Record<Level, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3, CRITICAL: 4 };

export interface ClusterInput {
  level: Level | null;
  message: string;
  /** Record time (epoch ms); null when the line has none (raw format): receive time is used. */
  time: number | null;
  file?: string | null;
  code?: string | null;
  exception?: string | null;
  /** The line to keep as a sample (defaults to the message); a function is called only when kept. */
  sample?: string | (() => string);
}

export interface Cluster {
  id: number;
  level: Level | null;
  tokens: string[];
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** minute index (epoch ms / 60000) → records; bounded to the newest maxMinutes minutes seen. */
  minutes: Map<number, number>;
  /** hour index (epoch ms / 3600000) → records. */
  hours: Map<number, number>;
  samples: string[];
  codes: Map<string, number>;
  exceptions: Map<string, number>;
  files: Set<string>;
}

export interface ClusterView {
  id: number;
  level: Level | null;
  template: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** Records per minute over the last `minutes` minutes ending at lastSeen's minute (oldest first). */
  perMinute: number[];
  perHour: Array<{ hour: number; count: number }>;
  samples: string[];
  codes: string[];
  exceptions: Array<{ type: string; count: number }>;
  files: string[];
}

export interface MinerOptions {
  maxClusters?: number;
  /** Fraction of tokens that must agree for a message to join a cluster (Drain's st). */
  similarity?: number;
  maxSamples?: number;
  maxMinutes?: number;
  maxFilesPerCluster?: number;
  /** Longest message (characters) masked and clustered; the rest is cut. */
  maxMessageChars?: number;
}

const isDigitCode = (c: number) => c >= 48 && c <= 57;
const ANY_DIGIT = /[0-9]/g;

const SQL_TO_ELLIPSIS =
  /\b(?:SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|PRAGMA|CREATE|DROP|ALTER)\b[\s\S]*?\.\.\.(?=\s|$)/g;
const SQL_SHORT =
  /\b(?:INSERT (?:OR \w+ )?INTO|DELETE FROM|REPLACE INTO|UPDATE|SELECT [\w*, ().]+? FROM) (?!(?:on|in|of|to|for|at|by|from|with|the|a|an|and|or)\b)[A-Za-z_][\w.]*/g;
// SQL logged after a label (`statement: SELECT …`, `query: UPDATE …`) runs to the end of the message.
const SQL_LABELLED =
  /\b(statement|query|sql|execute|stmt)(:\s+)(?:SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|PRAGMA|CREATE|DROP|ALTER)\b.*$/gi;
// A quoted string that starts and ends at token boundaries ('don't' is left alone).
const QUOTED = /(^|[\s(=:[,{])(?:"[^"]{0,400}"|'[^'\s][^']{0,400}'|'')(?=$|[\s),:;\]}.!?])/g;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const ERROR_CODE_TOKEN = /^[([]?[A-Z]{2,6}\d{2,4}[)\]:,.]?$/;
const HEXISH = /^(?:0x)?[0-9a-fA-F]{8,}$/;

/** True when a token is a variable (a value) rather than a constant word of the template. */
function isVariableToken(token: string): boolean {
  let hasDigit = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isDigitCode(c)) {
      hasDigit = true;
      break;
    }
    if ((c === 47 /* / */ || c === 92) /* \ */ && token.length > 1) return true;
  }
  if (hasDigit) return !ERROR_CODE_TOKEN.test(token);
  return token.length >= 16 && HEXISH.test(token);
}

function maskToken(token: string): string {
  if (token === WILDCARD || !isVariableToken(token)) return token;
  // key=value and key:value keep their key: uid=<*>, load_time:<*>
  const eq = token.indexOf('=');
  const colon = token.indexOf(':');
  const cut = eq > 0 ? eq : colon > 0 ? colon : -1;
  if (cut > 0 && cut < token.length - 1 && /^[A-Za-z_][\w.-]*$/.test(token.slice(0, cut))) {
    const value = token.slice(cut + 1);
    if (isVariableToken(value)) return `${token.slice(0, cut + 1)}${WILDCARD}`;
  }
  return WILDCARD;
}

const SQL_VERBS_LIST = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'WITH',
  'REPLACE',
  'PRAGMA',
  'CREATE',
  'DROP',
  'ALTER',
];
const SQL_VERBS = new Set(SQL_VERBS_LIST);

/**
 * The masked tokens of a message joined by single spaces, in one pass, or null when the message
 * needs the pre-passes of tokenize() (quoted strings, SQL, UUIDs). Equal to tokenize().join(' ').
 */
export function fastKey(message: string): string | null {
  const n = message.length;
  let out = '';
  let start = -1;
  let upper = true;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? message.charCodeAt(i) : 32;
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      if (start >= 0) {
        const tok = message.slice(start, i);
        if (upper && i - start >= 4 && i - start <= 7 && SQL_VERBS.has(tok)) return null;
        out = out.length ? `${out} ${maskToken(tok)}` : maskToken(tok);
        start = -1;
      }
    } else {
      if (c === 34 || c === 39) return null; // quotes
      if (start < 0) {
        start = i;
        upper = true;
      }
      if (c < 65 || c > 90) upper = false;
    }
  }
  if (n >= 36 && message.indexOf('-') >= 0) {
    UUID.lastIndex = 0;
    if (UUID.test(message)) return null;
  }
  return out;
}

/** 53-bit hash of a string's UTF-16 code units (never 0). */
export function hash53(s: string): number {
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

// Byte classes for byteKeyHash (one table lookup per byte).
const K_SEP = 1; // space, tab, CR, LF
const K_DIGIT = 2;
const K_SLASH = 4; // / and \
const K_UPPER = 8; // A-Z
const K_HEXLETTER = 16; // a-f A-F
const K_QUOTE = 32; // " and ': fastKey() does not apply
const K_DASH = 64;
const K_KEYSEP = 128; // = and :
const K_E = 256; // E: where `Error` / `Exception` may start
const K_NONASCII = 512; // the text must be decoded
const K_ZERO = 1024; // 0: errorCodeOf() finds codes only in messages with a 0
const K_NOTE = K_DIGIT | K_SLASH | K_QUOTE | K_DASH | K_KEYSEP | K_E | K_NONASCII;
const BYTE_CLASS = (() => {
  const t = new Uint16Array(256);
  for (const c of [32, 9, 13, 10]) t[c] = K_SEP;
  for (let c = 48; c <= 57; c++) t[c] = K_DIGIT;
  t[47] = K_SLASH;
  t[92] = K_SLASH;
  for (let c = 65; c <= 90; c++) t[c] = K_UPPER;
  for (let c = 65; c <= 70; c++) t[c]! |= K_HEXLETTER;
  for (let c = 97; c <= 102; c++) t[c] = K_HEXLETTER;
  t[34] = K_QUOTE;
  t[39] = K_QUOTE;
  for (let c = 128; c < 256; c++) t[c] = K_NONASCII;
  t[45] = K_DASH;
  t[61] = K_KEYSEP;
  t[58] = K_KEYSEP;
  t[69]! |= K_E;
  t[48]! |= K_ZERO;
  return t;
})();

const isWordByte = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isHexByte = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** ERROR_CODE_TOKEN on bytes: `^[([]?[A-Z]{2,6}\d{2,4}[)\]:,.]?$`. */
function errorCodeTokenBytes(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  if (b[i] === 40 || b[i] === 91) i++;
  const u = i;
  while (i < e && b[i]! >= 65 && b[i]! <= 90) i++;
  if (i - u < 2 || i - u > 6) return false;
  const d = i;
  while (i < e && b[i]! >= 48 && b[i]! <= 57) i++;
  if (i - d < 2 || i - d > 4) return false;
  if (i < e) {
    const c = b[i]!;
    if (c === 41 || c === 93 || c === 58 || c === 44 || c === 46) i++;
  }
  return i === e;
}

/** isVariableToken() on the bytes b[s, e) (ASCII). */
function isVariableBytes(b: Uint8Array, s: number, e: number): boolean {
  const len = e - s;
  let digit = false;
  let hexOnly = true;
  for (let i = s; i < e; i++) {
    const k = BYTE_CLASS[b[i]!]!;
    if (k & K_DIGIT) {
      digit = true;
      break;
    }
    if (k & K_SLASH && len > 1) return true;
    if (!(k & K_HEXLETTER)) hexOnly = false;
  }
  if (digit) return !errorCodeTokenBytes(b, s, e);
  return len >= 16 && hexOnly;
}

/** A UUID (as the UUID pattern finds it, word boundaries included) inside the token b[s, e). */
function hasUuidBytes(b: Uint8Array, s: number, e: number): boolean {
  for (let p = s; p + 36 <= e; p++) {
    if (p > s && isWordByte(b[p - 1]!)) continue;
    if (p + 36 < e && isWordByte(b[p + 36]!)) continue;
    let ok = true;
    for (let j = 0; j < 36 && ok; j++) {
      const c = b[p + j]!;
      ok = j === 8 || j === 13 || j === 18 || j === 23 ? c === 45 : isHexByte(c);
    }
    if (ok) return true;
  }
  return false;
}

const SQL_VERB_BYTES = [...SQL_VERBS].map((v) => Buffer.from(v));
function isSqlVerbBytes(b: Uint8Array, s: number, len: number): boolean {
  for (const v of SQL_VERB_BYTES) {
    if (v.length !== len) continue;
    let i = 0;
    while (i < len && b[s + i] === v[i]) i++;
    if (i === len) return true;
  }
  return false;
}

/**
 * What the last byteKeyHash() that returned a hash (> 0) found on the way: the message's error code
 * (errorCodeOf()) and whether it mentions `Error` or `Exception` (exceptionTypeOf() reads it then).
 */
export const keyScan: { code: string | null; mentions: boolean } = { code: null, mentions: false };

/** `Error` or `Exception` in b[s, e). */
function hasExceptionWord(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i + 5 <= e; i++) {
    if (b[i] !== 69) continue; // E
    const c = b[i + 1];
    if (c === 114 && b[i + 2] === 114 && b[i + 3] === 111 && b[i + 4] === 114) return true; // rror
    if (
      c === 120 && // xception
      i + 9 <= e &&
      b[i + 2] === 99 &&
      b[i + 3] === 101 &&
      b[i + 4] === 112 &&
      b[i + 5] === 116 &&
      b[i + 6] === 105 &&
      b[i + 7] === 111 &&
      b[i + 8] === 110
    )
      return true;
  }
  return false;
}

/**
 * hash53(fastKey(message)) for the message held in the bytes b[s, e), computed on the bytes without
 * decoding them. -1 when fastKey() returns null (quotes, SQL verbs, UUIDs: assign() goes straight to
 * tokenize()); 0 when the bytes are not all ASCII (decode them and use the string path). Equal keys
 * give equal hashes, so a cache of hash → cluster sends a message where fastKey()'s cache would.
 */
export function byteKeyHash(b: Uint8Array, s: number, e: number): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let code: string | null = null;
  let mentions = false;
  let seen = 0;
  let first = true;
  let i = s;
  while (i < e) {
    let k = BYTE_CLASS[b[i]!]!;
    if (k & K_SEP) {
      i++;
      continue;
    }
    const ts = i;
    if (!first) {
      h1 = Math.imul(h1 ^ 32, 2654435761);
      h2 = Math.imul(h2 ^ 32, 1597334677);
    }
    first = false;
    // The state after the separator: a variable token's mask is hashed from here.
    const s1 = h1;
    const s2 = h2;
    let any = 0;
    let all = 0xffff;
    // Hashed as a constant word until a digit or a slash shows it is (most likely) a variable.
    for (; i < e; i++) {
      const c = b[i]!;
      k = BYTE_CLASS[c]!;
      if (k & (K_SEP | K_DIGIT | K_SLASH)) break;
      any |= k;
      all &= k;
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    const hashedTo = i;
    for (; i < e; i++) {
      k = BYTE_CLASS[b[i]!]!;
      if (k & K_SEP) break;
      any |= k;
      all &= k;
    }
    const len = i - ts;
    // A plain word (no digit, slash, dash, key separator, quote, E, non-ASCII byte; not all
    // capitals; short of the hex length): a constant, hashed already.
    if ((any & K_NOTE) === 0 && (all & K_UPPER) === 0 && len < 16) continue;
    if (any & K_QUOTE) return -1;
    if (any & K_NONASCII) return 0;
    seen |= any;
    // A code and `Error`/`Exception` lie within one token (they hold no separator).
    if (code === null && (any & (K_UPPER | K_DIGIT)) === (K_UPPER | K_DIGIT)) code = findErrorCode(b, ts, i);
    if (!mentions && any & K_E) mentions = hasExceptionWord(b, ts, i);
    if (all & K_UPPER && len >= 4 && len <= 7 && isSqlVerbBytes(b, ts, len)) return -1;
    if (any & K_DASH && len >= 36 && hasUuidBytes(b, ts, i)) return -1;
    let variable: boolean;
    if (any & K_SLASH && len > 1) variable = true;
    else if (any & K_DIGIT) variable = !errorCodeTokenBytes(b, ts, i);
    else variable = len >= 16 && (all & K_HEXLETTER) !== 0;
    if (!variable) {
      // A constant with a digit or slash in it (an error code such as PAR001, a lone `/`): the rest.
      for (let j = hashedTo; j < i; j++) {
        h1 = Math.imul(h1 ^ b[j]!, 2654435761);
        h2 = Math.imul(h2 ^ b[j]!, 1597334677);
      }
      continue;
    }
    // maskToken(): `key=<*>` / `key:<*>` when the value is a variable, else `<*>`.
    h1 = s1;
    h2 = s2;
    let keep = 0;
    if (any & K_KEYSEP) {
      let eq = -1;
      let colon = -1;
      for (let j = ts; j < i; j++) {
        const c = b[j]!;
        if (c === 61 && eq < 0) eq = j - ts;
        else if (c === 58 && colon < 0) colon = j - ts;
      }
      const cut = eq > 0 ? eq : colon > 0 ? colon : -1;
      if (cut > 0 && cut < len - 1) {
        const c0 = b[ts]!;
        let keyOk = (c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122) || c0 === 95;
        for (let j = ts + 1; keyOk && j < ts + cut; j++) {
          const c = b[j]!;
          keyOk = isWordByte(c) || c === 46 || c === 45;
        }
        if (keyOk && isVariableBytes(b, ts + cut + 1, i)) keep = cut + 1;
      }
    }
    for (let j = ts; j < ts + keep; j++) {
      h1 = Math.imul(h1 ^ b[j]!, 2654435761);
      h2 = Math.imul(h2 ^ b[j]!, 1597334677);
    }
    // '<', '*', '>'
    h1 = Math.imul(Math.imul(Math.imul(h1 ^ 60, 2654435761) ^ 42, 2654435761) ^ 62, 2654435761);
    h2 = Math.imul(Math.imul(Math.imul(h2 ^ 60, 1597334677) ^ 42, 1597334677) ^ 62, 1597334677);
  }
  keyScan.code = seen & K_ZERO ? code : null;
  keyScan.mentions = mentions;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0) || 1;
}

/**
 * 53-bit hash of the bytes b[s, e) with every digit taken as 0 (never 0): the key under which
 * TemplateMiner.assign() remembers the tokens of a message fastKey() cannot key. Decoding commutes
 * with it (a digit byte is never part of a multi-byte sequence, valid or not).
 */
export function digitFreeHash(b: Uint8Array, s: number, e: number): number {
  let h1 = 0x9e3779b9;
  let h2 = 0x85ebca6b;
  for (let i = s; i < e; i++) {
    let c = b[i]!;
    if ((c - 48) >>> 0 < 10) c = 48;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0) || 1;
}

const isWordCode = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const SQL_SHORT_VERBS = ['INSERT', 'DELETE', 'REPLACE', 'UPDATE', 'SELECT'];
const SQL_LABELS = ['statement', 'query', 'sql', 'execute', 'stmt'];

/** One of `words` standing as a whole word (`\bWORD\b`, ASCII word characters) in text. */
function hasWord(text: string, words: readonly string[]): boolean {
  for (const w of words) {
    for (let i = text.indexOf(w); i >= 0; i = text.indexOf(w, i + 1)) {
      if (i > 0 && isWordCode(text.charCodeAt(i - 1))) continue;
      const after = i + w.length;
      if (after < text.length && isWordCode(text.charCodeAt(after))) continue;
      return true;
    }
  }
  return false;
}

/** A `:` right after one of SQL_LABELLED's labels (any case): without one it cannot match. */
function hasSqlLabel(text: string): boolean {
  for (let i = text.indexOf(':'); i >= 0; i = text.indexOf(':', i + 1)) {
    for (const label of SQL_LABELS) {
      const from = i - label.length;
      if (from < 0) continue;
      let j = 0;
      while (j < label.length && (text.charCodeAt(from + j) | 32) === label.charCodeAt(j)) j++;
      if (j === label.length) return true;
    }
  }
  return false;
}

/** The masked tokens of a message: variables become `<*>`. */
export function tokenize(message: string): string[] {
  return splitTokens(maskSpans(message));
}

/** Quoted strings and SQL text, which span several tokens, become `<*>`. */
export function maskSpans(message: string): string {
  let text = message;
  if (text.indexOf('"') >= 0 || text.indexOf("'") >= 0) text = text.replace(QUOTED, `$1${WILDCARD}`);
  // SQL only where a verb stands as a word; each expression only where it can match (the checks
  // are exact necessary conditions; the expressions decide).
  if (hasWord(text, SQL_VERBS_LIST)) {
    if (hasSqlLabel(text)) text = text.replace(SQL_LABELLED, `$1$2${WILDCARD}`);
    if (text.indexOf('...') >= 0) text = text.replace(SQL_TO_ELLIPSIS, WILDCARD);
    if (hasWord(text, SQL_SHORT_VERBS)) text = text.replace(SQL_SHORT, WILDCARD);
  }
  return text;
}

/** UUIDs masked, then the text split at white space and each token masked. */
function splitTokens(spansMasked: string): string[] {
  let text = spansMasked;
  if (text.indexOf('-') >= 0 && text.length >= 36) text = text.replace(UUID, WILDCARD);
  const out: string[] = [];
  let start = -1;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 32;
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      if (start >= 0) {
        const tok = maskToken(text.slice(start, i));
        out.push(tok);
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  return out;
}

/** The token that covers both: `key=<*>` when they share a key, else `<*>`. */
function generalize(a: string, b: string): string {
  const cut = keyLength(a);
  if (cut > 0 && b.length > cut && a.slice(0, cut) === b.slice(0, cut))
    return `${a.slice(0, cut)}${WILDCARD}`;
  return WILDCARD;
}

/** Length of a `key=` or `key:` prefix (with its separator), or 0. */
function keyLength(token: string): number {
  const eq = token.indexOf('=');
  const colon = token.indexOf(':');
  const cut = eq > 0 ? eq : colon > 0 ? colon : -1;
  if (cut <= 0 || !/^[A-Za-z_][\w.-]*$/.test(token.slice(0, cut))) return 0;
  return cut + 1;
}

/**
 * tokenize() of messages fastKey() cannot key (quoted text, SQL, UUIDs), remembered by the message
 * with every digit made 0. Exact: a digit and a 0 are in the same classes of every pattern and check
 * tokenize() uses (\d, \w, hex, not a space, not a letter, no literal digit) and the length is
 * kept, so spans and tokens fall at the same places and are masked alike; the results differ only
 * where a digit survives unmasked (an error code, a `key2=` key). Tokens without any digit are
 * therefore the tokens of every message with the same digit-free form, and only those are
 * remembered. The arrays returned are shared: never change them.
 */
export class SpanTokens {
  private readonly known = new Map<string | number, string[]>();
  constructor(private readonly max = 10_000) {}

  /** tokenize(message); `hash`: digitFreeHash() of the message's bytes when the caller has them. */
  get(message: string, hash = 0): string[] {
    const norm = hash > 0 ? hash : message.replace(ANY_DIGIT, '0');
    const known = this.known.get(norm);
    if (known !== undefined) return known;
    const tokens = tokenize(message);
    let digit = false;
    for (let i = 0; i < tokens.length && !digit; i++) {
      const t = tokens[i]!;
      for (let j = 0; j < t.length; j++) {
        if (isDigitCode(t.charCodeAt(j))) {
          digit = true;
          break;
        }
      }
    }
    if (!digit) {
      if (this.known.size >= this.max) this.known.clear();
      this.known.set(norm, tokens);
    }
    return tokens;
  }
}

interface Leaf {
  clusters: Cluster[];
}

export class TemplateMiner {
  private readonly maxClusters: number;
  private readonly similarity: number;
  private readonly maxSamples: number;
  private readonly maxMinutes: number;
  private readonly maxFiles: number;
  private readonly maxMessageChars: number;
  private readonly leaves = new Map<string, Leaf>();
  private readonly byId = new Map<number, Cluster>();
  /** Masked message → its cluster (cleared when it grows past 100,000 or clusters are evicted). */
  private readonly cache = new Map<string, Cluster>();
  /** byteKeyHash() → cluster, per level (DEBUG..CRITICAL, then none); cleared with `cache`. */
  private readonly hashCache: Array<Map<number, Cluster>> = [0, 1, 2, 3, 4, 5].map(() => new Map());
  private readonly spanTokens = new SpanTokens();
  private nextId = 1;
  /** Clusters and records dropped by eviction. */
  readonly remainder = { clusters: 0, records: 0 };
  /** Records added, in total. */
  records = 0;

  constructor(opts: MinerOptions = {}) {
    this.maxClusters = Math.max(10, opts.maxClusters ?? 2000);
    this.similarity = opts.similarity ?? 0.5;
    this.maxSamples = opts.maxSamples ?? 5;
    this.maxMinutes = opts.maxMinutes ?? 1440;
    this.maxFiles = opts.maxFilesPerCluster ?? 16;
    this.maxMessageChars = opts.maxMessageChars ?? 4096;
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: number): Cluster | undefined {
    return this.byId.get(id);
  }

  /** Longest message (characters) that is masked; longer ones are cut first. */
  get messageLimit(): number {
    return this.maxMessageChars;
  }

  /** Assigns a record to a cluster (creating or generalising one) and returns it. */
  add(input: ClusterInput, now = Date.now()): Cluster {
    const cluster = this.assign(input.level, input.message);
    this.record(cluster, input, input.time ?? now);
    return cluster;
  }

  /**
   * The cluster a message goes to (created or generalised as needed); nothing is counted.
   * `noFastKey`: the caller knows fastKey() returns null for it (byteKeyHash() gave -1).
   */
  assign(level: Level | null, text: string, noFastKey = false, spanHash = 0): Cluster {
    const message = text.length > this.maxMessageChars ? text.slice(0, this.maxMessageChars) : text;
    let cluster: Cluster | undefined;
    const key = noFastKey ? null : fastKey(message);
    if (key !== null) {
      // Messages that mask to the same tokens go to the same cluster: skip the search.
      const ck = level === null ? key : `${level}\u0001${key}`;
      cluster = this.cache.get(ck);
      if (cluster === undefined || !this.byId.has(cluster.id)) {
        cluster = this.match(level, key === '' ? [] : key.split(' '));
        if (this.cache.size >= 100_000) this.clearCaches();
        this.cache.set(ck, cluster);
      }
    } else cluster = this.match(level, this.spanTokens.get(message, message === text ? spanHash : 0));
    return cluster;
  }

  /**
   * The cluster a message whose byteKeyHash() is `hash` went to, while the key cache holds it (the
   * same cluster assign() would give from its own cache); undefined otherwise: then assign() the
   * decoded message and rememberHash() the result.
   */
  lookupHash(level: Level | null, hash: number): Cluster | undefined {
    const c = this.hashCache[level === null ? 5 : LEVEL_SLOT[level]]!.get(hash);
    return c !== undefined && this.byId.has(c.id) ? c : undefined;
  }

  rememberHash(level: Level | null, hash: number, c: Cluster): void {
    this.hashCache[level === null ? 5 : LEVEL_SLOT[level]]!.set(hash, c);
  }

  private clearCaches(): void {
    this.cache.clear();
    for (const m of this.hashCache) m.clear();
  }

  /** Counts a record in the cluster assign() gave it. */
  count(
    c: Cluster,
    time: number,
    file: string | null,
    code: string | null,
    exception: string | null,
    sample: string | null,
  ): void {
    this.records++;
    c.count++;
    if (time < c.firstSeen) c.firstSeen = time;
    if (time > c.lastSeen) c.lastSeen = time;
    const minute = Math.floor(time / 60_000);
    const m = c.minutes.get(minute);
    if (m === undefined) {
      c.minutes.set(minute, 1);
      if (c.minutes.size > this.maxMinutes) {
        // Drop the oldest minute.
        let oldest = minute;
        for (const k of c.minutes.keys()) if (k < oldest) oldest = k;
        c.minutes.delete(oldest);
      }
    } else c.minutes.set(minute, m + 1);
    const hour = Math.floor(minute / 60);
    c.hours.set(hour, (c.hours.get(hour) ?? 0) + 1);
    if (sample !== null && c.samples.length < this.maxSamples) c.samples.push(sample);
    if (code) c.codes.set(code, (c.codes.get(code) ?? 0) + 1);
    if (exception) c.exceptions.set(exception, (c.exceptions.get(exception) ?? 0) + 1);
    if (file && c.files.size < this.maxFiles) c.files.add(file);
  }

  /** True while the cluster keeps more samples (so the caller knows whether to make one). */
  wantsSample(c: Cluster): boolean {
    return c.samples.length < this.maxSamples;
  }

  /** Assigns already-masked tokens (used when merging miners) without touching counts. */
  /** The leaf a token sequence routes to: level, token count, first constant token and its position. */
  private leafFor(level: Level | null, tokens: string[]): Leaf {
    let at = 0;
    while (at < tokens.length && tokens[at] === WILDCARD) at++;
    const key = `${level ?? ''}\u0001${tokens.length}\u0001${at}\u0001${tokens[at] ?? ''}`;
    let leaf = this.leaves.get(key);
    if (!leaf) {
      leaf = { clusters: [] };
      this.leaves.set(key, leaf);
    }
    return leaf;
  }

  private match(level: Level | null, tokens: string[]): Cluster {
    const leaf = this.leafFor(level, tokens);
    let best: Cluster | null = null;
    let bestScore = -1;
    let bestParams = -1;
    const n = tokens.length;
    for (const c of leaf.clusters) {
      let same = 0;
      let params = 0;
      const t = c.tokens;
      for (let i = 0; i < n; i++) {
        const a = t[i]!;
        if (a === tokens[i]) same++;
        else if (a === WILDCARD || (a.endsWith(WILDCARD) && tokens[i]!.startsWith(a.slice(0, -3)))) params++;
      }
      const score = n === 0 ? 1 : same / n;
      if (score > bestScore || (score === bestScore && params > bestParams)) {
        best = c;
        bestScore = score;
        bestParams = params;
      }
    }
    if (best && (bestScore >= this.similarity || n === 0)) {
      const t = best.tokens;
      for (let i = 0; i < n; i++) {
        const a = t[i]!;
        if (a !== tokens[i] && a !== WILDCARD) t[i] = generalize(a, tokens[i]!);
      }
      return best;
    }
    if (this.byId.size >= this.maxClusters) this.evict();
    const cluster: Cluster = {
      id: this.nextId++,
      level,
      tokens: tokens.slice(),
      count: 0,
      firstSeen: Number.POSITIVE_INFINITY,
      lastSeen: Number.NEGATIVE_INFINITY,
      minutes: new Map(),
      hours: new Map(),
      samples: [],
      codes: new Map(),
      exceptions: new Map(),
      files: new Set(),
    };
    leaf.clusters.push(cluster);
    this.byId.set(cluster.id, cluster);
    return cluster;
  }

  private record(c: Cluster, input: ClusterInput, time: number): void {
    const sample =
      c.samples.length < this.maxSamples
        ? typeof input.sample === 'function'
          ? input.sample()
          : (input.sample ?? input.message)
        : null;
    this.count(c, time, input.file ?? null, input.code ?? null, input.exception ?? null, sample);
  }

  /** Adds a file name to a cluster's files (a duplicate record seen in another file). */
  noteFile(c: Cluster, file: string): void {
    if (c.files.size < this.maxFiles) c.files.add(file);
  }

  /** Drops the least recently seen tenth of the clusters, counting what they held. */
  private evict(): void {
    const all = [...this.byId.values()].sort((a, b) => a.lastSeen - b.lastSeen || a.count - b.count);
    const drop = new Set(all.slice(0, Math.max(1, Math.floor(all.length / 10))));
    for (const c of drop) {
      this.byId.delete(c.id);
      this.remainder.clusters++;
      this.remainder.records += c.count;
    }
    for (const [key, leaf] of this.leaves) {
      leaf.clusters = leaf.clusters.filter((c) => !drop.has(c));
      if (leaf.clusters.length === 0) this.leaves.delete(key);
    }
    this.clearCaches();
  }

  clusters(): Cluster[] {
    return [...this.byId.values()];
  }

  /** A plain copy (for a worker thread to send back). */
  snapshot(): MinerSnapshot {
    return {
      clusters: this.clusters().map((c) => ({
        ...c,
        minutes: [...c.minutes],
        hours: [...c.hours],
        codes: [...c.codes],
        exceptions: [...c.exceptions],
        files: [...c.files],
      })),
      remainder: { ...this.remainder },
      records: this.records,
    };
  }

  static fromSnapshot(s: MinerSnapshot, opts: MinerOptions = {}): TemplateMiner {
    const m = new TemplateMiner(opts);
    for (const c of s.clusters) {
      const cluster: Cluster = {
        id: c.id,
        level: c.level,
        tokens: [...c.tokens],
        count: c.count,
        firstSeen: c.firstSeen,
        lastSeen: c.lastSeen,
        minutes: new Map(c.minutes),
        hours: new Map(c.hours),
        samples: [...c.samples],
        codes: new Map(c.codes),
        exceptions: new Map(c.exceptions),
        files: new Set(c.files),
      };
      // Placed as it was (not matched again), keeping the worker's ids.
      m.leafFor(c.level, cluster.tokens).clusters.push(cluster);
      m.byId.set(c.id, cluster);
      m.nextId = Math.max(m.nextId, c.id + 1);
    }
    m.remainder.clusters = s.remainder.clusters;
    m.remainder.records = s.remainder.records;
    m.records = s.records;
    return m;
  }

  /** Merges the clusters of another miner (e.g. one that read another part of the input). */
  absorb(other: TemplateMiner): Map<number, number> {
    const mapping = new Map<number, number>();
    for (const src of other.clusters()) {
      const dst = this.match(src.level, src.tokens);
      mapping.set(src.id, dst.id);
      dst.count += src.count;
      this.records += src.count;
      dst.firstSeen = Math.min(dst.firstSeen, src.firstSeen);
      dst.lastSeen = Math.max(dst.lastSeen, src.lastSeen);
      for (const [k, v] of src.minutes) dst.minutes.set(k, (dst.minutes.get(k) ?? 0) + v);
      for (const [k, v] of src.hours) dst.hours.set(k, (dst.hours.get(k) ?? 0) + v);
      for (const s of src.samples) if (dst.samples.length < this.maxSamples) dst.samples.push(s);
      for (const [k, v] of src.codes) dst.codes.set(k, (dst.codes.get(k) ?? 0) + v);
      for (const [k, v] of src.exceptions) dst.exceptions.set(k, (dst.exceptions.get(k) ?? 0) + v);
      for (const f of src.files) this.noteFile(dst, f);
    }
    this.remainder.clusters += other.remainder.clusters;
    this.remainder.records += other.remainder.records;
    return mapping;
  }
}

export interface MinerSnapshot {
  clusters: Array<
    Omit<Cluster, 'minutes' | 'hours' | 'codes' | 'exceptions' | 'files'> & {
      minutes: Array<[number, number]>;
      hours: Array<[number, number]>;
      codes: Array<[string, number]>;
      exceptions: Array<[string, number]>;
      files: string[];
    }
  >;
  remainder: { clusters: number; records: number };
  records: number;
}

export function templateOf(c: Cluster): string {
  return c.tokens.join(' ');
}

/** Records per minute for the `minutes` minutes ending at `endMinute` (oldest first). */
export function perMinuteSeries(c: Cluster, endMinute: number, minutes: number): number[] {
  const out = new Array<number>(minutes).fill(0);
  for (const [k, v] of c.minutes) {
    const i = minutes - 1 - (endMinute - k);
    if (i >= 0 && i < minutes) out[i] = v;
  }
  return out;
}

export function viewOf(c: Cluster, opts: { endMinute?: number; minutes?: number } = {}): ClusterView {
  const minutes = opts.minutes ?? 60;
  const endMinute = opts.endMinute ?? Math.floor(c.lastSeen / 60_000);
  return {
    id: c.id,
    level: c.level,
    template: sanitizeForDisplay(templateOf(c)),
    count: c.count,
    firstSeen: c.firstSeen,
    lastSeen: c.lastSeen,
    perMinute: perMinuteSeries(c, endMinute, minutes),
    perHour: [...c.hours.entries()].sort((a, b) => a[0] - b[0]).map(([hour, count]) => ({ hour, count })),
    samples: c.samples.map(sanitizeForDisplay),
    codes: [...c.codes.keys()],
    exceptions: [...c.exceptions.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([type, count]) => ({ type, count })),
    files: [...c.files],
  };
}

/**
 * Grouping accuracy as the issue defines it: a line is correct when its predicted group holds
 * exactly the lines of its true group. Returns the fraction of correct lines.
 */
export function groupingAccuracy(truth: readonly string[], predicted: readonly (string | number)[]): number {
  if (truth.length !== predicted.length) throw new Error('truth and predictions differ in length');
  if (truth.length === 0) return 1;
  const trueGroups = new Map<string, number[]>();
  const predSizes = new Map<string | number, number>();
  truth.forEach((t, i) => {
    let g = trueGroups.get(t);
    if (!g) trueGroups.set(t, (g = []));
    g.push(i);
  });
  for (const p of predicted) predSizes.set(p, (predSizes.get(p) ?? 0) + 1);
  let correct = 0;
  for (const lines of trueGroups.values()) {
    const p = predicted[lines[0]!]!;
    if (lines.every((i) => predicted[i] === p) && predSizes.get(p) === lines.length) correct += lines.length;
  }
  return correct / truth.length;
}
