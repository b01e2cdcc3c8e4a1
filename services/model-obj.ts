// Wavefront OBJ: `v x y z [w] [r g b]`, `vt`, `vn`, `f` with `v`, `v/vt`, `v//vn` or `v/vt/vn` and
// negative (relative) indices, polygons triangulated as fans, `o` objects and `g` groups.
// Materials (`mtllib`, `usemtl`) are noted, not loaded; curves and free-form surfaces are counted
// and skipped. The mesh keeps one position per `v` statement and indexes it.
//
// Memory: positions go into fixed-size blocks (growing never copies them), and the triangle list is
// kept only when the caller asks for the mesh; otherwise each triangle is range-checked, counted and
// its vertices marked as used (one byte a vertex, for the box and the unused count). A polygon of n
// indices makes n - 2 triangles from about 2n bytes of text, so a kept triangle list can be several
// times the file.
import { badNumber, parseInteger, parseNumber, restOfLine, scan } from './model-text.js';
import {
  boxOfBlocks,
  excerptAt,
  growUint32,
  joinBlocks,
  lineAt,
  type MemoryBudget,
  ModelError,
  newFloat32,
  newUint32,
  type ParsedModel,
} from './model-types.js';

const MAX_NAMES = 50;
/** Vertices per block of positions (768 KiB). */
const BLOCK_VERTICES = 1 << 16;
/** The shortest vertex statement, `v 0 0 0` and its line end: bounds a small file's vertex count. */
const MIN_VERTEX_LINE = 8;

interface Part {
  name: string;
  firstTriangle: number;
  triangles: number;
}

export function parseObj(b: Uint8Array, budget: MemoryBudget, keepMesh = false): ParsedModel {
  const end = b.length;
  // A small file's vertices fit the first block; large files add full blocks.
  const blocks: Float32Array[] = [];
  const newBlock = (vertices: number): Float32Array => {
    const block = newFloat32(vertices * 3, budget, 'vertex buffer');
    blocks.push(block);
    if (used.length < nv + vertices) {
      const next = new Uint8Array(Math.max(used.length * 2, nv + vertices));
      budget.reserve(next.length, 'vertex map');
      next.set(used.subarray(0, nv));
      budget.release(used.length);
      used = next;
    }
    return block;
  };
  /** 1 for each vertex a triangle uses. */
  let used = new Uint8Array(0);
  let nv = 0;
  let block = newBlock(Math.min(BLOCK_VERTICES, Math.ceil(end / MIN_VERTEX_LINE) + 1));
  let bw = 0;
  // The triangle list, when kept: typical OBJ has ~25 bytes per `f` line; grown when the guess is short.
  let indices = keepMesh
    ? newUint32(Math.max(3 * 1024, Math.ceil(end / 40) * 3), budget, 'index buffer')
    : new Uint32Array(0);
  let ti = 0;
  let ntri = 0;
  let nvt = 0;
  let nvn = 0;
  let faces = 0;
  let polygons = 0;
  let degenerate = 0;
  let lines = 0;
  let points = 0;
  let unknownLines = 0;
  const unknownKeywords = new Set<string>();
  const objects: Part[] = [];
  const groups: Part[] = [];
  let objectCount = 0;
  let groupCount = 0;
  const mtllibs = new Set<string>();
  const materials = new Set<string>();
  let p = 0;
  const fail = (code: 'PAR004' | 'PAR005', at: number, what: string): never => {
    throw new ModelError(code, `line ${lineAt(b, at)}: ${what}`);
  };
  while (p < end) {
    let c = b[p]!;
    while ((c === 32 || c === 9) && p + 1 < end) c = b[++p]!;
    if (c === 118 /* v */) {
      const c2 = p + 1 < end ? b[p + 1]! : 10;
      if (c2 === 32 || c2 === 9) {
        p += 2;
        while (p < end && ((c = b[p]!) === 32 || c === 9)) p++;
        const x = parseNumber(b, p, end);
        if (scan.end === p) badNumber(b, p);
        p = scan.end;
        while (p < end && ((c = b[p]!) === 32 || c === 9)) p++;
        const y = parseNumber(b, p, end);
        if (scan.end === p) badNumber(b, p);
        p = scan.end;
        while (p < end && ((c = b[p]!) === 32 || c === 9)) p++;
        const z = parseNumber(b, p, end);
        if (scan.end === p) badNumber(b, p);
        p = scan.end;
        if (!Number.isFinite(x + y + z)) fail('PAR005', p, 'non-finite vertex coordinate');
        if (bw === block.length) {
          block = newBlock(BLOCK_VERTICES);
          bw = 0;
        }
        block[bw] = x;
        block[bw + 1] = y;
        block[bw + 2] = z;
        bw += 3;
        nv++;
        // An optional w and vertex colours may follow: the rest of the line is skipped.
        if (p < end && b[p] !== 10) {
          const nl = b.indexOf(10, p);
          p = nl < 0 ? end : nl + 1;
        } else p++;
        continue;
      }
      if (c2 === 116 /* t */) nvt++;
      else if (c2 === 110 /* n */) nvn++;
      else if (c2 !== 112 /* vp */) {
        unknownLines++;
        if (unknownKeywords.size < 10) unknownKeywords.add(restOfLine(b, p, end, 12).split(/\s/)[0]!);
      }
      const nl = b.indexOf(10, p);
      p = nl < 0 ? end : nl + 1;
      continue;
    }
    if (c === 102 /* f */ && p + 1 < end && ((c = b[p + 1]!) === 32 || c === 9)) {
      p += 2;
      let k = 0;
      let first = 0;
      let prev = 0;
      for (;;) {
        while (p < end && ((c = b[p]!) === 32 || c === 9)) p++;
        if (p >= end) break;
        c = b[p]!;
        if (c === 10 || c === 13 || c === 35) break;
        if (c === 92 /* \ line continuation */) {
          let q = p + 1;
          if (b[q] === 13) q++;
          if (b[q] === 10) {
            p = q + 1;
            continue;
          }
        }
        const v = parseInteger(b, p, end);
        if (scan.end === p) fail('PAR004', p, `expected a vertex index, found "${excerptAt(b, p)}"`);
        const idx = v > 0 ? v - 1 : nv + v;
        if (v === 0 || idx < 0 || idx >= nv) {
          fail(
            'PAR005',
            p,
            `face refers to vertex ${v}, out of range (${nv.toLocaleString('en-US')} vertices defined so far)`,
          );
        }
        p = scan.end;
        if (p < end && b[p] === 47 /* / */) {
          p++;
          if (p < end && b[p] !== 47) {
            const t = parseInteger(b, p, end);
            if (scan.end !== p) {
              const ti2 = t > 0 ? t - 1 : nvt + t;
              if (t === 0 || ti2 < 0 || ti2 >= nvt)
                fail('PAR005', p, `face refers to texture coordinate ${t}, out of range (${nvt} defined)`);
              p = scan.end;
            }
          }
          if (p < end && b[p] === 47) {
            p++;
            const n = parseInteger(b, p, end);
            if (scan.end !== p) {
              const ni = n > 0 ? n - 1 : nvn + n;
              if (n === 0 || ni < 0 || ni >= nvn)
                fail('PAR005', p, `face refers to normal ${n}, out of range (${nvn} defined)`);
              p = scan.end;
            }
          }
        }
        if (p < end && (c = b[p]!) !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 35 && c !== 92)
          fail('PAR004', p, `unexpected "${excerptAt(b, p)}" in a face`);
        if (k === 0) first = idx;
        else if (k >= 2) {
          if (keepMesh) {
            if (ti + 3 > indices.length) indices = growUint32(indices, ti, 3, budget, 'index buffer');
            indices[ti] = first;
            indices[ti + 1] = prev;
            indices[ti + 2] = idx;
            ti += 3;
          }
          used[first] = 1;
          used[prev] = 1;
          used[idx] = 1;
          ntri++;
        }
        prev = idx;
        k++;
      }
      faces++;
      if (k < 3) degenerate++;
      else if (k > 3) polygons++;
      const nl = b.indexOf(10, p);
      p = nl < 0 ? end : nl + 1;
      continue;
    }
    const nl0 = b.indexOf(10, p);
    const lineEnd = nl0 < 0 ? end : nl0;
    if (c === 35 /* # */ || c === 10 || c === 13) {
      // comment or blank line
    } else if (
      (c === 111 /* o */ || c === 103) /* g */ &&
      (b[p + 1] === 32 || b[p + 1] === 9 || p + 1 >= lineEnd)
    ) {
      const name = restOfLine(b, p + 1, lineEnd);
      const list = c === 111 ? objects : groups;
      if (c === 111) objectCount++;
      else groupCount++;
      const last = list[list.length - 1];
      if (last) last.triangles = ntri - last.firstTriangle;
      if (list.length < MAX_NAMES) list.push({ name, firstTriangle: ntri, triangles: 0 });
    } else if (c === 117 /* u */ && keyword(b, p, 'usemtl')) {
      if (materials.size < MAX_NAMES) materials.add(restOfLine(b, p + 6, lineEnd));
    } else if (c === 109 /* m */ && keyword(b, p, 'mtllib')) {
      if (mtllibs.size < MAX_NAMES) mtllibs.add(restOfLine(b, p + 6, lineEnd));
    } else if (c === 115 /* s */ && (b[p + 1] === 32 || b[p + 1] === 9)) {
      // smoothing group
    } else if (c === 108 /* l */ && (b[p + 1] === 32 || b[p + 1] === 9)) {
      lines++;
    } else if (c === 112 /* p */ && (b[p + 1] === 32 || b[p + 1] === 9)) {
      points++;
    } else if (c < 32 || c > 126) {
      fail('PAR004', p, `binary data where an OBJ statement should start (byte 0x${c.toString(16)})`);
    } else {
      unknownLines++;
      if (unknownKeywords.size < 10) unknownKeywords.add(restOfLine(b, p, lineEnd, 12).split(/\s/)[0]!);
    }
    p = lineEnd + 1;
  }
  for (const list of [objects, groups]) {
    const last = list[list.length - 1];
    if (last && last.triangles === 0) last.triangles = ntri - last.firstTriangle;
  }
  const warnings: string[] = [];
  if (mtllibs.size || materials.size)
    warnings.push(
      `materials referenced, not loaded: ${[...mtllibs].join(', ') || '(no mtllib)'}${materials.size ? ` (${materials.size} material${materials.size === 1 ? '' : 's'} used)` : ''}`,
    );
  if (degenerate) warnings.push(`${degenerate} face(s) with fewer than 3 vertices skipped`);
  if (lines || points) warnings.push(`${lines} line and ${points} point element(s) ignored`);
  if (unknownLines)
    warnings.push(`${unknownLines} unsupported statement(s) skipped: ${[...unknownKeywords].join(', ')}`);
  if (faces === 0) warnings.push('no faces');
  let usedCount = 0;
  for (let v = 0; v < nv; v++) usedCount += used[v]!;
  const unused = nv > 0 && ntri > 0 ? nv - usedCount : 0;
  if (unused)
    warnings.push(
      `${unused.toLocaleString('en-US')} vertices not used by any face (left out of the bounding box)`,
    );
  return {
    format: 'obj',
    vertices: nv,
    triangles: ntri,
    bbox: ntri > 0 ? boxOfBlocks(blocks, nv, unused ? used : undefined) : null,
    warnings,
    details: {
      faces,
      polygonsTriangulated: polygons,
      textureCoordinates: nvt,
      normals: nvn,
      objects: objectCount,
      groups: groupCount,
      objectNames: objects.map((o) => ({ name: o.name, triangles: o.triangles })),
      groupNames: groups.map((g) => ({ name: g.name, triangles: g.triangles })),
      mtllibs: [...mtllibs],
      materials: [...materials],
    },
    ...(keepMesh
      ? { mesh: { positions: joinBlocks(blocks, nv, budget), indices: indices.subarray(0, ti) } }
      : {}),
  };
}

function keyword(b: Uint8Array, p: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
  const c = b[p + word.length];
  return c === 32 || c === 9 || c === 10 || c === 13 || c === undefined;
}
