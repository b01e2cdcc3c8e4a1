// STEP (ISO 10303-21) entity scan: header (description, file name, originating system, schema),
// then every `#id = TYPE(...);` instance of the DATA sections counted by type. STEP describes exact
// B-rep geometry (surfaces, edges), not triangles: turning it into a mesh takes a CAD kernel, which
// this scan does not include, and the result says so.
import { lineAt, ModelError, type ParsedModel } from './model-types.js';

export const STEP_NO_TESSELLATION =
  'no tessellation: STEP holds exact B-rep geometry; triangles and a bounding box need a CAD kernel';

const SCHEMA_NAMES: Array<[RegExp, string]> = [
  [/^AUTOMOTIVE_DESIGN/i, 'AP214 (automotive design)'],
  [/^CONFIG_CONTROL_DESIGN/i, 'AP203 (configuration controlled design)'],
  [/^AP203_CONFIGURATION_CONTROLLED/i, 'AP203 edition 2'],
  [/^AP242_MANAGED_MODEL_BASED/i, 'AP242 (managed model-based 3D engineering)'],
  [/^AP209/i, 'AP209 (analysis)'],
  [/^IFC/i, 'IFC (building information model)'],
];

type HeaderValue = string | number | null | HeaderValue[];

/** FNV-1a of a type name with letters upper-cased, as the scan computes it. */
function nameHash(name: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ (name.charCodeAt(i) & 0xdf), 16777619);
  return h;
}

const PRODUCT_HASH = nameHash('PRODUCT');

export function parseStep(b: Uint8Array): ParsedModel {
  const end = b.length;
  let p = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) p = 3;
  p = skipWsComments(b, p, end);
  if (!startsWith(b, p, 'ISO-10303-21')) {
    throw new ModelError(
      'PAR001',
      `not an ISO 10303-21 (STEP) file: it must start with "ISO-10303-21;", found "${printable(b, p, 30)}"`,
    );
  }
  p = skipWsComments(b, p + 12, end);
  if (b[p] !== 59) throw new ModelError('PAR001', 'missing ";" after ISO-10303-21');
  p = skipWsComments(b, p + 1, end);
  if (!startsWith(b, p, 'HEADER'))
    throw new ModelError('PAR001', 'missing HEADER section after ISO-10303-21;');
  p = skipWsComments(b, p + 6, end);
  if (b[p] !== 59) throw new ModelError('PAR001', 'missing ";" after HEADER');
  p++;
  // Header statements, up to ENDSEC.
  const header: Record<string, HeaderValue[]> = {};
  for (;;) {
    p = skipWsComments(b, p, end);
    if (p >= end) throw new ModelError('PAR001', 'file ends inside the HEADER section');
    if (startsWith(b, p, 'ENDSEC')) {
      p = skipWsComments(b, p + 6, end);
      if (b[p] !== 59) throw new ModelError('PAR001', 'missing ";" after ENDSEC of the header');
      p++;
      break;
    }
    const stop = statementEnd(b, p, end);
    if (stop < 0) throw new ModelError('PAR001', 'file ends inside a HEADER statement');
    const text = Buffer.from(b.buffer, b.byteOffset + p, stop - p).toString('latin1');
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(([\s\S]*)\)\s*$/.exec(text);
    if (!m)
      throw new ModelError(
        'PAR001',
        `line ${lineAt(b, p)}: malformed header statement "${text.slice(0, 40)}"`,
      );
    header[m[1]!.toUpperCase()] = parseParams(m[2]!);
    p = stop + 1;
  }
  if (!header.FILE_SCHEMA) throw new ModelError('PAR001', 'header has no FILE_SCHEMA');
  const schemas = flatStrings(header.FILE_SCHEMA[0]);
  // DATA sections, scanned by a function of their own: V8 optimises it apart from the rest.
  const table = new TypeTable();
  const products: string[] = [];
  const { entities, complex, maxId, sections, sawEnd } = scanData(b, p, end, table, products);
  if (sections === 0) throw new ModelError('PAR004', 'no DATA section');
  const warnings: string[] = [STEP_NO_TESSELLATION];
  if (!sawEnd) throw new ModelError('PAR004', 'missing END-ISO-10303-21; (truncated)');
  const byType = countsByType(table);
  const fileName = header.FILE_NAME ?? [];
  const description = header.FILE_DESCRIPTION ?? [];
  return {
    format: 'step',
    vertices: byType.CARTESIAN_POINT ?? 0,
    triangles: null,
    bbox: null,
    warnings,
    details: {
      tessellation: STEP_NO_TESSELLATION,
      schemas,
      protocol: schemas.map(describeSchema).join(', '),
      description: flatStrings(description[0]).join(' '),
      implementationLevel: typeof description[1] === 'string' ? description[1] : null,
      fileName: typeof fileName[0] === 'string' ? fileName[0] : null,
      timeStamp: typeof fileName[1] === 'string' ? fileName[1] : null,
      author: flatStrings(fileName[2]).filter(Boolean),
      organization: flatStrings(fileName[3]).filter(Boolean),
      preprocessor: typeof fileName[4] === 'string' ? fileName[4] : null,
      originatingSystem: typeof fileName[5] === 'string' ? fileName[5] : null,
      entities,
      complexInstances: complex,
      maxInstanceId: maxId,
      dataSections: sections,
      entityTypes: table.names.length,
      byType,
      products,
      verticesMeaning: 'CARTESIAN_POINT instances',
    },
  };
}

/** Entity counts by type, most frequent first (kept out of parseStep's hot function). */
function countsByType(table: TypeTable): Record<string, number> {
  const entries = table.names.map((name, k) => ({ name, count: table.counts[k]! }));
  entries.sort((a, z) => z.count - a.count || (a.name < z.name ? -1 : 1));
  const byType: Record<string, number> = {};
  for (const e of entries) byType[e.name] = e.count;
  return byType;
}

interface DataScan {
  entities: number;
  complex: number;
  maxId: number;
  sections: number;
  sawEnd: boolean;
}

/** The hot loop: every `#id = TYPE(...);` of the DATA sections, counted by type. */
function scanData(b: Uint8Array, p: number, end: number, table: TypeTable, products: string[]): DataScan {
  let entities = 0;
  let complex = 0;
  let maxId = 0;
  let sections = 0;
  let sawEnd = false;
  let productType = -1;
  for (;;) {
    p = skipWsComments(b, p, end);
    if (p >= end) break;
    if (startsWith(b, p, 'END-ISO-10303-21')) {
      sawEnd = true;
      break;
    }
    if (!startsWith(b, p, 'DATA')) {
      throw new ModelError(
        'PAR004',
        `line ${lineAt(b, p)}: expected DATA; or END-ISO-10303-21;, found "${printable(b, p, 30)}"`,
      );
    }
    p = skipWsComments(b, p + 4, end);
    if (b[p] === 40) {
      // DATA('name', ('schema')); (edition 3 named sections)
      const stop = statementEnd(b, p, end);
      if (stop < 0) break;
      p = stop;
    }
    if (b[p] !== 59) throw new ModelError('PAR004', `line ${lineAt(b, p)}: missing ";" after DATA`);
    p++;
    sections++;
    let closed = false;
    // The hot loop: `#id = TYPE ( ... ) ;` or `#id = ( TYPE(...) TYPE(...) ) ;`
    while (p < end) {
      let c = b[p]!;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = ++p < end ? b[p]! : 0;
      if (c === 35 /* # */) {
        let id = 0;
        let q = p + 1;
        let d = b[q]!;
        while (d >= 48 && d <= 57) {
          id = id * 10 + (d - 48);
          d = ++q < end ? b[q]! : 0;
        }
        if (q === p + 1)
          throw new ModelError('PAR004', `line ${lineAt(b, p)}: "#" without an instance number`);
        if (id > maxId) maxId = id;
        while (d === 32 || d === 10 || d === 13 || d === 9) d = ++q < end ? b[q]! : 0;
        if (d !== 61 /* = */)
          throw new ModelError('PAR004', `line ${lineAt(b, p)}: expected "=" after #${id}`);
        d = ++q < end ? b[q]! : 0;
        while (d === 32 || d === 10 || d === 13 || d === 9) d = ++q < end ? b[q]! : 0;
        entities++;
        if (d === 40 /* ( complex instance */) {
          complex++;
          q++;
          // Count each partial type at depth 1.
          for (;;) {
            while (q < end && ((d = b[q]!) === 32 || d === 10 || d === 13 || d === 9)) q++;
            if (q >= end) throw new ModelError('PAR004', `instance #${id} is not terminated (truncated)`);
            if (d === 41) {
              q++;
              break;
            }
            const start = q;
            let h = 0x811c9dc5 | 0;
            while (
              q < end &&
              (((d = b[q]!) >= 65 && d <= 90) || (d >= 48 && d <= 57) || d === 95 || (d >= 97 && d <= 122))
            ) {
              h = Math.imul(h ^ (d & 0xdf), 16777619) | 0;
              q++;
            }
            if (q === start)
              throw new ModelError('PAR004', `line ${lineAt(b, q)}: malformed complex instance #${id}`);
            table.count(h, b, start, q);
            q = skipGroup(b, q, end, id);
          }
        } else {
          const start = q;
          let h = 0x811c9dc5 | 0;
          while (
            ((d >= 65 && d <= 90) || (d >= 48 && d <= 57) || d === 95 || (d >= 97 && d <= 122)) &&
            q < end
          ) {
            h = Math.imul(h ^ (d & 0xdf), 16777619) | 0;
            d = ++q < end ? b[q]! : 0;
          }
          if (q === start)
            throw new ModelError('PAR004', `line ${lineAt(b, q)}: expected an entity type after #${id} =`);
          const k = table.count(h, b, start, q);
          if (productType < 0 && h === PRODUCT_HASH && table.names[k] === 'PRODUCT') productType = k;
          if (k === productType && products.length < 20) {
            const name = firstString(b, q, end);
            if (name !== null) products.push(name);
          }
        }
        // Skip to the terminating ";", past strings and comments.
        p = statementEnd(b, q, end);
        if (p < 0) throw new ModelError('PAR004', `instance #${id} is not terminated by ";" (truncated)`);
        p++;
        continue;
      }
      if (c === 47 && b[p + 1] === 42) {
        p = skipWsComments(b, p, end);
        continue;
      }
      if (startsWith(b, p, 'ENDSEC')) {
        p = skipWsComments(b, p + 6, end);
        if (b[p] !== 59) throw new ModelError('PAR004', `line ${lineAt(b, p)}: missing ";" after ENDSEC`);
        p++;
        closed = true;
        break;
      }
      if (p >= end) break;
      throw new ModelError(
        'PAR004',
        `line ${lineAt(b, p)}: expected an instance "#n = ...", found "${printable(b, p, 30)}"`,
      );
    }
    if (!closed) throw new ModelError('PAR004', 'file ends inside a DATA section (no ENDSEC; truncated)');
  }
  return { entities, complex, maxId, sections, sawEnd };
}

function describeSchema(s: string): string {
  for (const [re, name] of SCHEMA_NAMES) if (re.test(s)) return name;
  return s;
}

/**
 * Entity type counts keyed by the bytes of the type name: an open-addressing table on the name's
 * hash, so the hot loop neither makes a string nor hashes one per instance.
 */
class TypeTable {
  slots = new Int32Array(1024).fill(-1);
  // Typed arrays: hashes are full int32 values, which would turn a plain array's elements into
  // heap numbers half-way through a file (and make V8 drop the scanner's optimised code).
  hashes = new Int32Array(512);
  counts = new Float64Array(512);
  names: string[] = [];
  last = -1;
  lastHash = 0;

  count(h: number, b: Uint8Array, start: number, stop: number): number {
    // Consecutive instances often share a type.
    const last = this.last;
    if (last >= 0 && this.lastHash === h && sameName(this.names[last]!, b, start, stop)) {
      this.counts[last]!++;
      return last;
    }
    const mask = this.slots.length - 1;
    let i = h & mask;
    for (;;) {
      const k = this.slots[i]!;
      if (k < 0) break;
      if (this.hashes[k] === h && sameName(this.names[k]!, b, start, stop)) {
        this.counts[k]!++;
        this.last = k;
        this.lastHash = h;
        return k;
      }
      i = (i + 1) & mask;
    }
    const k = this.names.length;
    this.names.push(
      Buffer.from(b.buffer, b.byteOffset + start, stop - start)
        .toString('latin1')
        .toUpperCase(),
    );
    if (k >= this.hashes.length) {
      const hashes = new Int32Array(this.hashes.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const counts = new Float64Array(this.counts.length * 2);
      counts.set(this.counts);
      this.counts = counts;
    }
    this.hashes[k] = h;
    this.counts[k] = 1;
    this.slots[i] = k;
    this.last = k;
    this.lastHash = h;
    if (this.names.length * 2 > this.slots.length) this.rehash();
    return k;
  }

  rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let k = 0; k < this.names.length; k++) {
      let i = this.hashes[k]! & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = k;
    }
    this.slots = slots;
  }
}

function sameName(name: string, b: Uint8Array, start: number, stop: number): boolean {
  if (name.length !== stop - start) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) !== toUpper(b[start + i]!)) return false;
  return true;
}

const toUpper = (c: number) => (c >= 97 && c <= 122 ? c - 32 : c);

/** Offset of the ";" ending the statement at p, skipping strings ('it''s') and comments; -1 at EOF. */
function statementEnd(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = b[p]!;
    if (c === 59) return p;
    if (c === 39) {
      p++;
      for (;;) {
        while (p < end && b[p] !== 39) p++;
        if (p >= end) return -1;
        if (b[p + 1] === 39) p += 2;
        else break;
      }
    } else if (c === 47 && b[p + 1] === 42) {
      p += 2;
      while (p < end && !(b[p] === 42 && b[p + 1] === 47)) p++;
      p++;
    }
    p++;
  }
  return -1;
}

/** Skips a parenthesised group starting at or after p (whitespace allowed before it). */
function skipGroup(b: Uint8Array, p: number, end: number, id: number): number {
  while (p < end && (b[p] === 32 || b[p] === 10 || b[p] === 13 || b[p] === 9)) p++;
  if (b[p] !== 40) throw new ModelError('PAR004', `line ${lineAt(b, p)}: malformed complex instance #${id}`);
  let depth = 0;
  while (p < end) {
    const c = b[p]!;
    if (c === 40) depth++;
    else if (c === 41) {
      depth--;
      if (depth === 0) return p + 1;
    } else if (c === 39) {
      p++;
      for (;;) {
        while (p < end && b[p] !== 39) p++;
        if (b[p + 1] === 39) p += 2;
        else break;
      }
    }
    p++;
  }
  throw new ModelError('PAR004', `instance #${id} is not terminated (truncated)`);
}

function firstString(b: Uint8Array, p: number, end: number): string | null {
  const limit = Math.min(end, p + 400);
  while (p < limit && b[p] !== 39 && b[p] !== 59) p++;
  if (b[p] !== 39) return null;
  const start = p + 1;
  p = start;
  while (p < limit && b[p] !== 39) p++;
  return Buffer.from(b.buffer, b.byteOffset + start, p - start).toString('latin1');
}

function skipWsComments(b: Uint8Array, p: number, end: number): number {
  for (;;) {
    while (p < end && (b[p] === 32 || b[p] === 10 || b[p] === 13 || b[p] === 9)) p++;
    if (b[p] === 47 && b[p + 1] === 42) {
      p += 2;
      while (p < end && !(b[p] === 42 && b[p + 1] === 47)) p++;
      p += 2;
      continue;
    }
    return p;
  }
}

function startsWith(b: Uint8Array, p: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
  return true;
}

function printable(b: Uint8Array, p: number, n: number): string {
  let s = '';
  for (let i = p; i < b.length && i < p + n; i++) {
    const c = b[i]!;
    if (c === 10 || c === 13) break;
    s += c >= 32 && c < 127 ? String.fromCharCode(c) : '?';
  }
  return s;
}

/** Parses a header parameter list: strings, numbers, $, *, .ENUM., nested lists, typed values. */
export function parseParams(text: string): HeaderValue[] {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): HeaderValue => {
    ws();
    const c = text[i];
    if (c === "'") {
      let s = '';
      i++;
      while (i < text.length) {
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += text[i++];
      }
      return s;
    }
    if (c === '(') {
      i++;
      const list: HeaderValue[] = [];
      ws();
      if (text[i] === ')') {
        i++;
        return list;
      }
      for (;;) {
        list.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ')') i++;
        break;
      }
      return list;
    }
    const m = /^[^,()]+/.exec(text.slice(i));
    const token = m ? m[0].trim() : '';
    i += m ? m[0].length : 1;
    if (text[i] === '(') return [token, value()];
    if (token === '$' || token === '*') return null;
    const n = Number(token);
    return Number.isFinite(n) && token !== '' ? n : token;
  };
  const out: HeaderValue[] = [];
  for (;;) {
    ws();
    if (i >= text.length) break;
    out.push(value());
    ws();
    if (text[i] === ',') i++;
    else break;
  }
  return out;
}

function flatStrings(v: HeaderValue | undefined): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.flatMap(flatStrings);
  return [String(v)];
}
