// STL, binary and ASCII. Binary: an 80-byte header, a little-endian triangle count, 50 bytes per
// triangle (normal, three vertices, attribute word). ASCII: `solid name`, then `facet normal` /
// `outer loop` / three `vertex x y z` / `endloop` / `endfacet`, possibly several solids.

import { badNumber, parseNumber, scan } from './model-text.js';
import {
  excerptAt,
  finishBox,
  growFloat32,
  lineAt,
  type MemoryBudget,
  ModelError,
  newFloat32,
  type ParsedModel,
} from './model-types.js';

const FACET_BYTES = 50;

/** Text of the 80-byte header, printable characters only. */
function headerText(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 80 && i < b.length; i++) {
    const c = b[i]!;
    if (c === 0) break;
    s += c >= 32 && c < 127 ? String.fromCharCode(c) : ' ';
  }
  return s.trim();
}

export function parseBinaryStl(b: Uint8Array, budget: MemoryBudget): ParsedModel {
  if (b.length < 84) {
    throw new ModelError(
      'PAR001',
      `binary STL needs at least 84 bytes (header and count), file has ${b.length}`,
    );
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = view.getUint32(80, true);
  const expected = 84 + n * FACET_BYTES;
  const warnings: string[] = [];
  if (b.length < expected) {
    const whole = Math.floor((b.length - 84) / FACET_BYTES);
    throw new ModelError(
      'PAR004',
      `binary STL declares ${n.toLocaleString('en-US')} triangles (${expected.toLocaleString('en-US')} bytes) but the file has ${b.length.toLocaleString('en-US')} bytes (room for ${whole.toLocaleString('en-US')}): truncated or not a binary STL`,
    );
  }
  if (b.length > expected) warnings.push(`${b.length - expected} bytes after the last triangle ignored`);
  const header = headerText(b);
  const colours = /COLOR=/.test(header);
  if (colours) warnings.push('per-triangle colours (COLOR= header) present; not loaded');
  const positions = newFloat32(n * 9, budget, `${n.toLocaleString('en-US')} triangles`);
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let minZ = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  let maxZ = Number.NEGATIVE_INFINITY;
  let finite = 0;
  let o = 84 + 12;
  let w = 0;
  // Unrolled per triangle: 9 reads, 9 stores, the box from each triangle's own min/max.
  for (let t = 0; t < n; t++, o += FACET_BYTES, w += 9) {
    const x0 = view.getFloat32(o, true);
    const y0 = view.getFloat32(o + 4, true);
    const z0 = view.getFloat32(o + 8, true);
    const x1 = view.getFloat32(o + 12, true);
    const y1 = view.getFloat32(o + 16, true);
    const z1 = view.getFloat32(o + 20, true);
    const x2 = view.getFloat32(o + 24, true);
    const y2 = view.getFloat32(o + 28, true);
    const z2 = view.getFloat32(o + 32, true);
    positions[w] = x0;
    positions[w + 1] = y0;
    positions[w + 2] = z0;
    positions[w + 3] = x1;
    positions[w + 4] = y1;
    positions[w + 5] = z1;
    positions[w + 6] = x2;
    positions[w + 7] = y2;
    positions[w + 8] = z2;
    let lx = x0;
    if (x1 < lx) lx = x1;
    if (x2 < lx) lx = x2;
    let hx = x0;
    if (x1 > hx) hx = x1;
    if (x2 > hx) hx = x2;
    let ly = y0;
    if (y1 < ly) ly = y1;
    if (y2 < ly) ly = y2;
    let hy = y0;
    if (y1 > hy) hy = y1;
    if (y2 > hy) hy = y2;
    let lz = z0;
    if (z1 < lz) lz = z1;
    if (z2 < lz) lz = z2;
    let hz = z0;
    if (z1 > hz) hz = z1;
    if (z2 > hz) hz = z2;
    if (lx < minX) minX = lx;
    if (hx > maxX) maxX = hx;
    if (ly < minY) minY = ly;
    if (hy > maxY) maxY = hy;
    if (lz < minZ) minZ = lz;
    if (hz > maxZ) maxZ = hz;
    // NaN or an infinity anywhere makes this NaN: one check per file (a finite overflow of the sum
    // only costs the exact search below).
    finite += (x0 + y0 + z0 + x1 + y1 + z1 + x2 + y2 + z2) * 0;
  }
  const bad = finite !== 0 ? firstNonFinite(positions) : -1;
  if (bad >= 0) {
    const t = Math.floor(bad / 9);
    throw new ModelError(
      'PAR005',
      `triangle ${t.toLocaleString('en-US')} (byte ${84 + t * FACET_BYTES}) has a non-finite coordinate (${positions[bad]})`,
    );
  }
  return {
    format: 'stl-binary',
    vertices: n * 3,
    triangles: n,
    bbox: n > 0 ? finishBox(minX, minY, minZ, maxX, maxY, maxZ) : null,
    warnings,
    details: { header, headerStartsWithSolid: /^\s*solid/i.test(header), colours },
    mesh: { positions },
  };
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9 || c === 12 || c === 11;

export function parseAsciiStl(b: Uint8Array, budget: MemoryBudget): ParsedModel {
  const end = b.length;
  let p = 0;
  // Estimated capacity: the shortest facet is ~86 bytes for 9 floats; grown if the file is denser.
  let positions = newFloat32(Math.max(4096, Math.ceil(end / 86) * 9), budget, 'vertex buffer');
  let w = 0;
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let minZ = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  let maxZ = Number.NEGATIVE_INFINITY;
  let solids = 0;
  let endsolids = 0;
  const names: string[] = [];
  let inFacet = false;
  let loopVerts = 0;
  let facets = 0;
  const fail = (code: 'PAR004' | 'PAR005', at: number, what: string): never => {
    throw new ModelError(code, `line ${lineAt(b, at)}: ${what}`);
  };
  for (;;) {
    // Skip whitespace.
    let c = 0;
    while (p < end && isSpace((c = b[p]!))) p++;
    if (p >= end) break;
    if (c === 118 /* v */) {
      if (b[p + 1] !== 101 || b[p + 2] !== 114 || b[p + 5] !== 120 || !isSpace(b[p + 6] ?? 0))
        fail('PAR004', p, `unexpected "${excerptAt(b, p)}"`);
      if (!inFacet) fail('PAR004', p, 'vertex outside a facet');
      p += 7;
      while (p < end && isSpace(b[p]!)) p++;
      const x = parseNumber(b, p, end);
      if (scan.end === p) badNumber(b, p);
      p = scan.end;
      while (p < end && isSpace(b[p]!)) p++;
      const y = parseNumber(b, p, end);
      if (scan.end === p) badNumber(b, p);
      p = scan.end;
      while (p < end && isSpace(b[p]!)) p++;
      const z = parseNumber(b, p, end);
      if (scan.end === p) badNumber(b, p);
      p = scan.end;
      if (p < end && !isSpace(b[p]!)) fail('PAR004', p, `unexpected "${excerptAt(b, p)}" after a vertex`);
      if (w + 3 > positions.length) positions = growFloat32(positions, w, 9, budget, 'vertex buffer');
      positions[w] = x;
      positions[w + 1] = y;
      positions[w + 2] = z;
      w += 3;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      if (z < minZ) minZ = z;
      if (z > maxZ) maxZ = z;
      if (!Number.isFinite(x + y + z)) fail('PAR005', p, 'non-finite vertex coordinate');
      loopVerts++;
      continue;
    }
    // Other keywords: read the word, then skip the rest of its line.
    const start = p;
    while (p < end && !isSpace(b[p]!)) p++;
    const len = p - start;
    if (c === 102 /* f */ && len === 5 && b[start + 4] === 116) {
      // facet [normal nx ny nz]: the normal is recomputed by any viewer; not stored.
      if (inFacet) fail('PAR004', start, 'facet inside a facet (missing endfacet)');
      inFacet = true;
      loopVerts = 0;
    } else if (c === 111 /* o */ && len === 5) {
      // outer loop
    } else if (c === 101 /* e */ && len === 7 && b[start + 3] === 108) {
      // endloop
    } else if (c === 101 && len === 8 && b[start + 3] === 102) {
      if (!inFacet) fail('PAR004', start, 'endfacet without facet');
      if (loopVerts !== 3) fail('PAR004', start, `facet with ${loopVerts} vertices (expected 3)`);
      inFacet = false;
      facets++;
    } else if (c === 115 /* s */ && len === 5 && b[start + 4] === 100) {
      solids++;
      if (names.length < 20) names.push(restLine(b, p, end));
    } else if (c === 101 && len === 8 && b[start + 3] === 115) {
      endsolids++;
    } else {
      fail('PAR004', start, `unexpected "${excerptAt(b, start)}" in ASCII STL`);
    }
    const nl = b.indexOf(10, p);
    p = nl < 0 ? end : nl + 1;
  }
  if (inFacet) throw new ModelError('PAR004', 'file ends inside a facet (truncated)');
  const warnings: string[] = [];
  if (solids === 0) warnings.push('no "solid" line');
  if (endsolids < solids) warnings.push(`${solids - endsolids} solid(s) without "endsolid" (truncated?)`);
  if (facets === 0) warnings.push('no facets');
  positions = positions.subarray(0, w);
  return {
    format: 'stl-ascii',
    vertices: w / 3,
    triangles: facets,
    bbox: facets > 0 ? finishBox(minX, minY, minZ, maxX, maxY, maxZ) : null,
    warnings,
    details: { solids, solidNames: names },
    mesh: { positions },
  };
}

function restLine(b: Uint8Array, p: number, end: number): string {
  let e = p;
  while (e < end && b[e] !== 10 && b[e] !== 13 && e - p < 120) e++;
  return Buffer.from(b.buffer, b.byteOffset + p, e - p)
    .toString('latin1')
    .trim();
}
