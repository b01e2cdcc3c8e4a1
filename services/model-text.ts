// Number scanning over raw bytes for the text formats (ASCII STL, OBJ, ASCII PLY, 3MF XML). Parsing
// straight from the file's bytes avoids making a string per token, which is what makes JavaScript
// loaders slow. The end of the last number read is left in `scan.end` (a shared cursor rather than
// a returned pair, so the hot loops allocate nothing).
import { excerptAt, lineAt, ModelError } from './model-types.js';

/** Exact powers of ten up to 1e22: a correctly rounded product or quotient with a mantissa below 2^53. */
const POW10 = new Float64Array(23);
for (let i = 0; i < POW10.length; i++) POW10[i] = 10 ** i;

export const scan = {
  /** Offset just after the last number parsed; equal to the start offset when no number was there. */
  end: 0,
};

/**
 * Parses a decimal number (sign, digits, fraction, exponent) at `p`. Returns NaN with
 * `scan.end === p` when there is no number. Identical to parseFloat for up to 15 significant digits
 * and exponents within ±22 (every float32 written as text); within a few units in the last place of
 * a double beyond that, which float32 storage cannot tell apart.
 */
export function parseNumber(b: Uint8Array, p: number, end: number): number {
  const start = p;
  let neg = false;
  let c = p < end ? b[p]! : 0;
  if (c === 45) {
    neg = true;
    c = ++p < end ? b[p]! : 0;
  } else if (c === 43) {
    c = ++p < end ? b[p]! : 0;
  }
  let m = 0;
  let digits = 0;
  let exp = 0;
  while (c >= 48 && c <= 57) {
    m = m * 10 + (c - 48);
    digits++;
    c = ++p < end ? b[p]! : 0;
  }
  if (c === 46) {
    c = ++p < end ? b[p]! : 0;
    while (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      exp--;
      c = ++p < end ? b[p]! : 0;
    }
  }
  if (digits === 0) {
    scan.end = start;
    return Number.NaN;
  }
  if (c === 101 || c === 69) {
    let q = p + 1;
    let d = q < end ? b[q]! : 0;
    let eneg = false;
    if (d === 45) {
      eneg = true;
      d = ++q < end ? b[q]! : 0;
    } else if (d === 43) {
      d = ++q < end ? b[q]! : 0;
    }
    if (d >= 48 && d <= 57) {
      let e = 0;
      while (d >= 48 && d <= 57) {
        if (e < 100000) e = e * 10 + (d - 48);
        d = ++q < end ? b[q]! : 0;
      }
      exp += eneg ? -e : e;
      p = q;
    }
  }
  scan.end = p;
  let v: number;
  if (exp === 0) v = m;
  else if (exp < 0) v = exp >= -22 ? m / POW10[-exp]! : slowScale(m, exp);
  else v = exp <= 22 ? m * POW10[exp]! : slowScale(m, exp);
  return neg ? -v : v;
}

function slowScale(m: number, exp: number): number {
  if (m === 0) return 0;
  // Split the scaling so that neither step overflows or underflows on its own.
  if (exp < 0) return exp < -300 ? m / 10 ** -(exp + 300) / 1e300 : m / 10 ** -exp;
  return exp > 300 ? m * 10 ** (exp - 300) * 1e300 : m * 10 ** exp;
}

/**
 * Parses an optionally signed decimal integer at `p`; `scan.end === p` when there is none.
 * Values are exact up to 2^53.
 */
export function parseInteger(b: Uint8Array, p: number, end: number): number {
  const start = p;
  let neg = false;
  let c = p < end ? b[p]! : 0;
  if (c === 45) {
    neg = true;
    c = ++p < end ? b[p]! : 0;
  } else if (c === 43) {
    c = ++p < end ? b[p]! : 0;
  }
  let n = 0;
  const first = p;
  while (c >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    c = ++p < end ? b[p]! : 0;
  }
  if (p === first) {
    scan.end = start;
    return 0;
  }
  scan.end = p;
  return neg ? -n : n;
}

/** Skips spaces and tabs (not line ends). */
export function skipBlanks(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = b[p]!;
    if (c !== 32 && c !== 9) break;
    p++;
  }
  return p;
}

/** Skips any whitespace, line ends included. */
export function skipSpace(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = b[p]!;
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9 && c !== 12 && c !== 11) break;
    p++;
  }
  return p;
}

/** Offset just past the next line feed (or `end`). */
export function nextLine(b: Uint8Array, p: number, end: number): number {
  const nl = b.indexOf(10, p);
  return nl < 0 || nl >= end ? end : nl + 1;
}

/** The text of the rest of the line at `p`, trimmed (latin1; for names and keywords, not hot paths). */
export function restOfLine(b: Uint8Array, p: number, end: number, max = 200): string {
  let e = p;
  while (e < end && b[e] !== 10 && b[e] !== 13 && e - p < max) e++;
  return Buffer.from(b.buffer, b.byteOffset + p, e - p)
    .toString('latin1')
    .trim();
}

/** True when bytes at p spell `word` (ASCII, case-sensitive). */
export function matchesAt(b: Uint8Array, p: number, word: string): boolean {
  if (p + word.length > b.length) return false;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** True when bytes at p spell `word` ignoring ASCII case. */
export function matchesAtIgnoreCase(b: Uint8Array, p: number, word: string): boolean {
  if (p + word.length > b.length) return false;
  for (let i = 0; i < word.length; i++) if ((b[p + i]! | 0x20) !== (word.charCodeAt(i) | 0x20)) return false;
  return true;
}

/** True when the token at p spells nan or inf/infinity (optionally signed), as some exporters write. */
export function isNonFiniteWord(b: Uint8Array, p: number): boolean {
  if (b[p] === 45 || b[p] === 43) p++;
  return matchesAtIgnoreCase(b, p, 'nan') || matchesAtIgnoreCase(b, p, 'inf');
}

/** Throws for a missing number: PAR005 when the text is nan/inf (invalid geometry), else PAR004. */
export function badNumber(b: Uint8Array, p: number): never {
  if (isNonFiniteWord(b, p))
    throw new ModelError('PAR005', `line ${lineAt(b, p)}: non-finite coordinate "${excerptAt(b, p, 12)}"`);
  throw new ModelError('PAR004', `line ${lineAt(b, p)}: expected a number, found "${excerptAt(b, p)}"`);
}
