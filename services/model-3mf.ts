// 3MF: a zip (OPC package) whose relationships name the root model part, an XML document of
// resources (objects holding a mesh of vertices and triangles, or components: other objects placed
// with a transform) and a build (items: objects placed on the build plate with a transform).
//
// The model XML is inflated chunk by chunk into one reused buffer and scanned as it arrives (a tag cut
// by a chunk's end is carried over to the next), so memory never holds the (typically 7-8 times
// larger) XML text: only the vertex positions, in fixed-size blocks that are never copied as the mesh
// grows. Triangles are range-checked and counted as they go by, and kept only when the caller asks for
// the mesh (the loader's report needs counts and boxes, not the triangle list). The scanner is written for 3MF, not general XML: it reads
// the core elements and their attributes, skips the rest, and refuses DOCTYPEs (entity declarations
// are how XML bombs and external entity attacks work; 3MF forbids DTDs).
//
// Two triangle counts: those of the mesh resources (each object once), and those of the built scene
// (every build item instantiated, components expanded, transforms applied), which is what a printer
// or a viewer shows. The bounding box is the built scene's.
import { parseNumber, scan } from './model-text.js';
import {
  type BBox,
  emptyExtent,
  growUint32,
  type MemoryBudget,
  ModelError,
  newFloat32,
  newUint32,
  type ParsedModel,
  type ParseLimits,
  widenBox,
} from './model-types.js';
import { inflateSmall, readZipDirectory, streamEntry, type ZipEntry } from './model-zip.js';

const CORE_NS = 'http://schemas.microsoft.com/3dmanufacturing/core/2015/02';
const PRODUCTION_NS = 'http://schemas.microsoft.com/3dmanufacturing/production/2015/06';
const MODEL_REL = 'http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel';
/** Past this many instanced vertices, built-scene boxes come from transformed object boxes. */
const MAX_EXACT_INSTANCED_VERTICES = 50_000_000;
const MAX_COMPONENT_DEPTH = 32;
/** XML bytes inflated per step. */
const CHUNK = 256 << 10;
/** Zero bytes after each chunk: the scanner looks a few bytes ahead without bounds checks. */
const PAD = 64;
/** Longest piece of markup carried from one chunk to the next. */
const MAX_TAG = 16 << 20;
/** Vertices per block of positions (768 KiB of float32). */
const BLOCK_VERTICES = 1 << 16;
/** The shortest vertex element, `<vertex x="0" y="0" z="0"/>`: bounds a part's vertex count. */
const MIN_VERTEX_XML = 27;
/** Past this many object instances in the built scene, no box is computed. */
const MAX_INSTANCES = 1_000_000;

/** A 3MF transform "m00 m01 m02 m10 m11 m12 m20 m21 m22 m30 m31 m32": p' = p * M (row vectors). */
export type Transform = Float64Array;

/** Exact powers of ten, as parseNumber scales by them. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Where plainNumber stopped. */
const cursor = { end: 0 };

/**
 * `[-]digits[.digits]` at i, with parseNumber's arithmetic (the same value); NaN when the number is
 * written another way (exponent, "+", no digits, over 22 decimals): the caller then reads it in full.
 * Stops at the first other byte (a zero byte past the chunk's end stops it too).
 */
function plainNumber(b: Uint8Array, i: number): number {
  let d = b[i]!;
  const neg = d === 45;
  if (neg) d = b[++i]!;
  let m = 0;
  let nd = 0;
  while (d >= 48 && d <= 57) {
    m = m * 10 + (d - 48);
    nd++;
    d = b[++i]!;
  }
  let fd = 0;
  if (d === 46) {
    d = b[++i]!;
    while (d >= 48 && d <= 57) {
      m = m * 10 + (d - 48);
      fd++;
      d = b[++i]!;
    }
  }
  cursor.end = i;
  if (nd + fd === 0 || fd > 22 || d === 101 || d === 69) return Number.NaN;
  const v = fd === 0 ? m : m / POW10[fd]!;
  return neg ? -v : v;
}

const IDENTITY: Transform = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0);

interface Component {
  objectId: string;
  path: string | null;
  transform: Transform;
}

interface ModelObject {
  id: string;
  part: string;
  type: string;
  name: string | null;
  /** The part whose vertex blocks hold this object's mesh; null for an object without a mesh. */
  mesh: ModelScanner | null;
  /** First vertex of the mesh in its part's blocks. */
  firstVertex: number;
  vertexCount: number;
  triangleCount: number;
  components: Component[];
  /** Box of the mesh's vertices (min x, y, z, max x, y, z), computed once when first needed. */
  box: Float64Array | null;
}

export interface Parse3mfOptions {
  /** Keep the triangle list (and one array of positions) in the result; otherwise only counted. */
  keepMesh?: boolean;
  /** XML bytes inflated per step (tests cut tags at other places with other sizes). */
  chunkSize?: number;
  /** Inflate with Node's zlib stream instead of the synchronous path (tests). */
  forceStream?: boolean;
  /** Inflate on a worker thread (default: parts of 8 MB of XML and more); false keeps it here. */
  threaded?: boolean;
}

interface BuildItem {
  objectId: string;
  path: string | null;
  transform: Transform;
}

/** Multiplies 3MF transforms: the result applies `a` first, then `b`. */
export function composeTransforms(a: Transform, b: Transform): Transform {
  const r = new Float64Array(12);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      r[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
    }
  }
  for (let j = 0; j < 3; j++) r[9 + j] = a[9]! * b[j]! + a[10]! * b[3 + j]! + a[11]! * b[6 + j]! + b[9 + j]!;
  return r;
}

export function parseTransform(text: string | undefined, where: string): Transform {
  if (text === undefined) return IDENTITY;
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 12)
    throw new ModelError('PAR004', `${where}: transform needs 12 numbers, has ${parts.length}`);
  const t = new Float64Array(12);
  for (let i = 0; i < 12; i++) {
    const v = Number(parts[i]);
    if (!Number.isFinite(v))
      throw new ModelError('PAR005', `${where}: transform value "${parts[i]}" is not a finite number`);
    t[i] = v;
  }
  return t;
}

/** Attribute values of a tag (for the few, rare elements read in full). */
function readAttributes(b: Uint8Array, p: number, end: number, into: Map<string, string>): number {
  for (;;) {
    while (p < end && isWs(b[p]!)) p++;
    if (p >= end) return -1;
    const c = b[p]!;
    if (c === 47 /* / */ || c === 62 /* > */) return p;
    const ns = p;
    while (p < end && b[p] !== 61 && !isWs(b[p]!) && b[p] !== 62 && b[p] !== 47) p++;
    const name = latin1(b, ns, p);
    while (p < end && isWs(b[p]!)) p++;
    if (p >= end) return -1;
    if (b[p] !== 61) throw new ModelError('PAR004', `XML: attribute ${name} without a value`);
    p++;
    while (p < end && isWs(b[p]!)) p++;
    if (p >= end) return -1;
    const q = b[p]!;
    if (q !== 34 && q !== 39) throw new ModelError('PAR004', `XML: attribute ${name} value is not quoted`);
    const vs = p + 1;
    p = vs;
    while (p < end && b[p] !== q) p++;
    if (p >= end) return -1;
    into.set(name, decodeEntities(Buffer.from(b.buffer, b.byteOffset + vs, p - vs).toString('utf8')));
    p++;
  }
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const code = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

const isWs = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

/** Scanner state for one model part, kept across chunks. */
export class ModelScanner {
  objects: ModelObject[] = [];
  items: BuildItem[] = [];
  metadata: Record<string, string> = {};
  unit = 'millimeter';
  sawModel = false;
  closedModel = false;
  /** Element prefix ("" for the default namespace) of the core namespace; null until <model>. */
  corePrefix: string | null = null;
  productionPrefix = 'p';
  ignored = new Map<string, number>();
  // Context.
  inResources = false;
  inBuild = false;
  current: ModelObject | null = null;
  inMesh = false;
  inVertices = false;
  inTriangles = false;
  inComponents = false;
  /** Vertex positions in blocks (the last is the one being filled) and the first vertex of each. */
  blocks: Float32Array[] = [];
  blockFirst: number[] = [];
  block: Float32Array;
  /** Floats written into the current block. */
  bw = 0;
  /** Vertices and triangles of the part so far. */
  vertexCount = 0;
  triangleCount = 0;
  /** Part-wide vertex indices, three per triangle, when the caller keeps the mesh (else empty). */
  indices: Uint32Array;
  ti = 0;
  pendingMetadata: string | null = null;
  degenerate = 0;

  constructor(
    readonly part: string,
    readonly budget: MemoryBudget,
    readonly keepIndices: boolean,
    xmlBytes: number,
  ) {
    // A small part's vertices all fit a block sized from its length; large parts add full blocks.
    const maxVertices = Math.max(64, Math.ceil(xmlBytes / MIN_VERTEX_XML));
    if (keepIndices) {
      // Keeping the mesh: one block and one triangle list sized for a typical closed mesh (about
      // twice as many triangles as vertices, ~50 and ~45 bytes of XML each: xml/140 vertices and
      // xml/70 triangles), a little high, so that they rarely grow or need joining. (Not for the
      // most the XML could hold: the allocator may hand out reused memory it must clear first.)
      this.block = this.nextBlock(Math.min(maxVertices, Math.max(1024, Math.ceil(xmlBytes / 120))));
      this.indices = newUint32(Math.max(1024, Math.ceil(xmlBytes / 60)) * 3, budget, 'index buffer');
    } else {
      this.block = this.nextBlock(Math.min(BLOCK_VERTICES, maxVertices));
      this.indices = new Uint32Array(0);
    }
  }

  /** A new block of positions (its pages become resident only as vertices are written). */
  nextBlock(vertices = BLOCK_VERTICES): Float32Array {
    const block = newFloat32(vertices * 3, this.budget, 'vertex buffer');
    this.blockFirst.push(this.vertexCount);
    this.blocks.push(block);
    return block;
  }

  /** Calls fn over the pieces of the blocks that hold vertices [first, first + count). */
  forEachRange(
    first: number,
    count: number,
    fn: (block: Float32Array, from: number, to: number) => void,
  ): void {
    let v = first;
    const last = first + count;
    let k = 0;
    while (v < last) {
      while (this.blockFirst[k + 1] !== undefined && this.blockFirst[k + 1]! <= v) k++;
      const block = this.blocks[k]!;
      const inBlock = v - this.blockFirst[k]!;
      const n = Math.min(last - v, block.length / 3 - inBlock);
      fn(block, inBlock * 3, (inBlock + n) * 3);
      v += n;
    }
  }

  /** All positions of the part in one array (only when the caller keeps the mesh). */
  joinedPositions(): Float32Array {
    if (this.blocks.length === 1) return this.block.subarray(0, this.vertexCount * 3);
    const out = newFloat32(this.vertexCount * 3, this.budget, 'vertex buffer');
    let o = 0;
    this.forEachRange(0, this.vertexCount, (block, from, to) => {
      out.set(block.subarray(from, to), o);
      o += to - from;
    });
    return out;
  }

  fail(code: 'PAR004' | 'PAR005', what: string): never {
    throw new ModelError(code, `${this.part}: ${what}`);
  }

  /** Set by vertexRun/triangleRun when the element at the offset they return is cut by the chunk's end. */
  stalled = false;

  /**
   * Scans complete markup in b[start..end); returns the offset of the first byte not consumed. Runs of
   * <vertex> and <triangle> elements go to their own small loops (quick to optimise, and a path seen
   * late costs V8 only a small recompilation); everything else to the generic markup reader.
   */
  scan(b: Uint8Array, start: number, end: number, final: boolean): number {
    let p = start;
    for (;;) {
      // Text between tags is not needed (metadata text is read with its start tag).
      while (p < end && b[p] !== 60) p++;
      if (p >= end) return end;
      if (p + 1 >= end) return p;
      const c1 = b[p + 1];
      if (c1 === 118 && this.inVertices) {
        if (this.bw === this.block.length) {
          this.block = this.nextBlock();
          this.bw = 0;
        }
        const q = this.vertexRun(b, p, end);
        if (this.stalled) return q;
        if (q !== p) {
          p = q;
          continue;
        }
      } else if (c1 === 116 && this.inTriangles) {
        if (this.keepIndices && this.ti + 3 > this.indices.length)
          this.indices = growUint32(this.indices, this.ti, 3, this.budget, 'index buffer');
        const q = this.triangleRun(b, p, end);
        if (this.stalled) return q;
        if (q !== p) {
          p = q;
          continue;
        }
      }
      // Everything else: the generic path (rare elements, comments, declarations, odd spellings).
      const next = this.markup(b, p, end, final);
      if (next < 0) return p;
      p = next;
    }
  }

  /**
   * Reads consecutive `<vertex x=".." y=".." z=".."/>` elements from p (a "<") into the current
   * block; returns where it stopped: at an element that is not one (the dispatcher reads it), when
   * the block is full, or at an element cut by the chunk's end (stalled).
   */
  vertexRun(b: Uint8Array, p: number, end: number): number {
    const block = this.block;
    const cap = block.length;
    let bw = this.bw;
    let nvert = this.vertexCount;
    let stalled = false;
    for (;;) {
      if (bw === cap || b[p + 1] !== 118 || b[p + 2] !== 101 || b[p + 6] !== 120 || !isWs(b[p + 7]!)) break;
      // The spelling writers use, ` x="a" y="b" z="c"/>` with plain decimals, read in one go; any
      // other (exponents, more blanks, other attributes, the chunk's end) takes vertexAttributes.
      let x = Number.NaN;
      let y = Number.NaN;
      let z = Number.NaN;
      let next = -1;
      let e = p + 7;
      if (b[e] === 32 && b[e + 1] === 120 && b[e + 2] === 61 && b[e + 3] === 34) {
        x = plainNumber(b, e + 4);
        e = cursor.end;
        if (b[e] === 34 && b[e + 1] === 32 && b[e + 2] === 121 && b[e + 3] === 61 && b[e + 4] === 34) {
          y = plainNumber(b, e + 5);
          e = cursor.end;
          if (b[e] === 34 && b[e + 1] === 32 && b[e + 2] === 122 && b[e + 3] === 61 && b[e + 4] === 34) {
            z = plainNumber(b, e + 5);
            e = cursor.end;
            if (b[e] === 34) {
              e++;
              while (b[e] === 32) e++;
              if (b[e] === 47 && b[e + 1] === 62 && e + 1 < end) next = e + 2;
            }
          }
        }
      }
      if (next < 0 || Number.isNaN(x + y + z)) {
        next = this.vertexAttributes(b, p + 7, end, nvert);
        if (next < 0) {
          stalled = true;
          break;
        }
        x = this.vx;
        y = this.vy;
        z = this.vz;
      }
      if (!Number.isFinite(x + y + z)) this.fail('PAR005', `vertex ${nvert} has a non-finite coordinate`);
      block[bw] = x;
      block[bw + 1] = y;
      block[bw + 2] = z;
      bw += 3;
      nvert++;
      p = next;
      // Blanks up to the next tag.
      let c = b[p]!;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++p]!;
      if (c !== 60 || p >= end) break;
    }
    this.bw = bw;
    this.vertexCount = nvert;
    this.stalled = stalled;
    return p;
  }

  /** The coordinates read by vertexAttributes. */
  vx = 0;
  vy = 0;
  vz = 0;

  /**
   * The attributes of a vertex in any spelling, from p (after "<vertex"), into vx..vz; returns the
   * offset after the tag, or -1 when the tag is cut by the chunk's end.
   */
  vertexAttributes(b: Uint8Array, p: number, end: number, vertex: number): number {
    let x = Number.NaN;
    let y = Number.NaN;
    let z = Number.NaN;
    for (;;) {
      let c = b[p]!;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++p]!;
      if (p >= end) return -1;
      if (c === 47 || c === 62) break;
      let name = -1;
      let q: number;
      let vs: number;
      if (b[p + 1] === 61 && ((q = b[p + 2]!) === 34 || q === 39)) {
        name = c;
        vs = p + 3;
      } else {
        const a = this.attributeValue(b, p, end);
        if (a < 0) return -1;
        name = this.attrNameLen === 1 ? c : -1;
        vs = a;
        q = b[a - 1]!;
      }
      let ve = vs;
      while (ve < end && b[ve] !== q) ve++;
      if (ve >= end) return -1;
      if (name === 120 || name === 121 || name === 122) {
        // Blanks around the number are allowed; anything else is not a number.
        let s2 = vs;
        while (s2 < ve && isWs(b[s2]!)) s2++;
        const v = parseNumber(b, s2, ve);
        let e = scan.end;
        while (e < ve && isWs(b[e]!)) e++;
        if (scan.end === s2 || e !== ve) this.badNumber(b, vs, ve, 'vertex', vertex);
        if (name === 120) x = v;
        else if (name === 121) y = v;
        else z = v;
      }
      p = ve + 1;
    }
    if (b[p] === 47) {
      if (p + 1 >= end) return -1;
      if (b[p + 1] !== 62) this.fail('PAR004', `vertex ${vertex}: malformed tag end`);
      p += 2;
    } else p++;
    if (Number.isNaN(x) || Number.isNaN(y) || Number.isNaN(z))
      this.fail('PAR004', `vertex ${vertex} lacks an x, y or z attribute`);
    this.vx = x;
    this.vy = y;
    this.vz = z;
    return p;
  }

  /**
   * Reads consecutive `<triangle v1=".." v2=".." v3=".."/>` elements from p (a "<"): checks each index
   * against the current mesh's vertices, counts them, and keeps them when asked. Stops like vertexRun.
   */
  triangleRun(b: Uint8Array, p: number, end: number): number {
    const keep = this.keepIndices;
    const indices = this.indices;
    const cap = keep ? indices.length : 0;
    let ti = this.ti;
    let ntri = this.triangleCount;
    let degenerate = this.degenerate;
    const base = this.vertexBase;
    const nv = this.vertexCount - base;
    let stalled = false;
    for (;;) {
      if (
        (keep && ti + 3 > cap) ||
        b[p + 1] !== 116 ||
        b[p + 2] !== 114 ||
        b[p + 8] !== 101 ||
        !isWs(b[p + 9]!)
      )
        break;
      const start = p;
      let v1 = -1;
      let v2 = -1;
      let v3 = -1;
      p += 9;
      // The spelling writers use, ` v1="a" v2="b" v3="c"/>`, read in one go; any other (more
      // blanks, other attributes or quotes, another order) takes the general loop.
      let i = p;
      let attr = 49;
      for (; attr <= 51; attr++) {
        if (b[i] !== 32 || b[i + 1] !== 118 || b[i + 2] !== attr || b[i + 3] !== 61 || b[i + 4] !== 34) break;
        i += 5;
        const s = i;
        let n = 0;
        let d = b[i]!;
        while (d >= 48 && d <= 57) {
          n = n * 10 + (d - 48);
          d = b[++i]!;
        }
        if (d !== 34 || i === s || i - s > 9) break;
        i++;
        if (attr === 49) v1 = n;
        else if (attr === 50) v2 = n;
        else v3 = n;
      }
      if (attr === 52) while (b[i] === 32) i++;
      if (attr === 52 && b[i] === 47 && b[i + 1] === 62 && i + 1 < end) p = i + 2;
      else {
        p = this.triangleAttributes(b, p, end, ntri - this.triangleBase);
        if (p < 0) {
          p = start;
          stalled = true;
          break;
        }
        v1 = this.tv1;
        v2 = this.tv2;
        v3 = this.tv3;
      }
      if (v1 >= nv || v2 >= nv || v3 >= nv) {
        this.fail(
          'PAR005',
          `object ${this.current?.id}: triangle ${(ntri - this.triangleBase).toLocaleString('en-US')} refers to vertex ${Math.max(v1, v2, v3)}, out of range (${nv.toLocaleString('en-US')} vertices)`,
        );
      }
      if (v1 === v2 || v2 === v3 || v1 === v3) degenerate++;
      if (keep) {
        indices[ti] = v1 + base;
        indices[ti + 1] = v2 + base;
        indices[ti + 2] = v3 + base;
        ti += 3;
      }
      ntri++;
      let c = b[p]!;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++p]!;
      if (c !== 60 || p >= end) break;
    }
    this.ti = ti;
    this.triangleCount = ntri;
    this.degenerate = degenerate;
    this.stalled = stalled;
    return p;
  }

  /** The indices read by triangleAttributes. */
  tv1 = -1;
  tv2 = -1;
  tv3 = -1;

  /**
   * The attributes of a triangle in any spelling, from p (after "<triangle"), into tv1..tv3; returns
   * the offset after the tag, or -1 when the tag is cut by the chunk's end.
   */
  triangleAttributes(b: Uint8Array, p: number, end: number, triangle: number): number {
    let v1 = -1;
    let v2 = -1;
    let v3 = -1;
    for (;;) {
      let c = b[p]!;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++p]!;
      if (p >= end) return -1;
      if (c === 47 || c === 62) break;
      let k = -1;
      let q: number;
      let vs: number;
      if (c === 118 && b[p + 2] === 61 && ((q = b[p + 3]!) === 34 || q === 39)) {
        k = b[p + 1]!;
        vs = p + 4;
      } else {
        const a = this.attributeValue(b, p, end);
        if (a < 0) return -1;
        if (this.attrNameLen === 2 && c === 118) k = b[p + 1]!;
        vs = a;
        q = b[a - 1]!;
      }
      let ve = vs;
      let n = 0;
      let d = b[ve]!;
      while (d >= 48 && d <= 57) {
        n = n * 10 + (d - 48);
        d = b[++ve]!;
      }
      if (d !== q) {
        while (ve < end && b[ve] !== q) ve++;
        if (ve >= end) return -1;
        if (k === 49 || k === 50 || k === 51) {
          const text = latin1(b, vs, ve).trim();
          if (!/^\d+$/.test(text))
            this.fail('PAR004', `triangle ${triangle}: index "${text}" is not a non-negative integer`);
          n = Number(text);
        }
      } else if (ve === vs && (k === 49 || k === 50 || k === 51)) {
        this.fail('PAR004', `triangle ${triangle}: empty vertex index`);
      }
      if (k === 49) v1 = n;
      else if (k === 50) v2 = n;
      else if (k === 51) v3 = n;
      p = ve + 1;
    }
    if (b[p] === 47) {
      if (p + 1 >= end) return -1;
      if (b[p + 1] !== 62) this.fail('PAR004', `triangle ${triangle}: malformed tag end`);
      p += 2;
    } else p++;
    if (v1 < 0 || v2 < 0 || v3 < 0)
      this.fail('PAR004', `triangle ${triangle} lacks a v1, v2 or v3 attribute`);
    this.tv1 = v1;
    this.tv2 = v2;
    this.tv3 = v3;
    return p;
  }

  /** First vertex/triangle of the current object in the part-wide buffers. */
  vertexBase = 0;
  triangleBase = 0;

  /** Length of the name read by attributeValue. */
  attrNameLen = 0;

  /** Reads `name = "` at p; returns the offset of the value (after the quote), or -1 if incomplete. */
  attributeValue(b: Uint8Array, p: number, end: number): number {
    const ns = p;
    while (p < end && b[p] !== 61) {
      if (b[p] === 62 || b[p] === 47)
        this.fail('PAR004', `attribute without a value near "${latin1(b, ns, p + 1)}"`);
      p++;
    }
    let ne = p;
    while (ne > ns && isWs(b[ne - 1]!)) ne--;
    this.attrNameLen = ne - ns;
    p++;
    while (p < end && isWs(b[p]!)) p++;
    if (p >= end) return -1;
    const q = b[p]!;
    if (q !== 34 && q !== 39)
      this.fail('PAR004', `attribute value not quoted near "${latin1(b, ns, p + 1)}"`);
    return p + 1;
  }

  badNumber(b: Uint8Array, vs: number, ve: number, what: string, index: number): never {
    const text = latin1(b, vs, ve);
    if (/^\s*[+-]?(nan|inf)/i.test(text))
      this.fail('PAR005', `${what} ${index}: non-finite coordinate "${text}"`);
    this.fail('PAR004', `${what} ${index}: "${text.slice(0, 30)}" is not a number`);
  }

  /** Handles one piece of markup at p (b[p] === '<'); returns the offset after it, or -1 if incomplete. */
  markup(b: Uint8Array, p: number, end: number, final: boolean): number {
    const c1 = b[p + 1]!;
    const find = (pattern: string, from: number): number => {
      const at = Buffer.from(b.buffer, b.byteOffset, end).indexOf(pattern, from, 'latin1');
      return at < 0 ? -1 : at + pattern.length;
    };
    if (c1 === 63 /* ? */) return find('?>', p + 2);
    if (c1 === 33 /* ! */) {
      if (b[p + 2] === 45 && b[p + 3] === 45) return find('-->', p + 4);
      if (b[p + 2] === 91) return find(']]>', p + 3);
      // <!DOCTYPE ...> or any other declaration: refused.
      const chunk = latin1(b, p, Math.min(end, p + 4096));
      if (/<!ENTITY/i.test(chunk)) {
        this.fail(
          'PAR004',
          'XML entity declarations (<!ENTITY) refused: entity expansion and external entities are attacks, and 3MF forbids DTDs',
        );
      }
      if (!final && end - p < 4096) return -1;
      this.fail('PAR004', `XML declaration "${chunk.slice(0, 20)}" refused: 3MF forbids DTDs`);
    }
    if (c1 === 47 /* / */) {
      const gt = b.indexOf(62, p);
      if (gt < 0 || gt >= end) return -1;
      this.endElement(this.localName(latin1(b, p + 2, gt).trim()));
      return gt + 1;
    }
    // Start tag: name, attributes, then "/>" or ">".
    let q = p + 1;
    while (q < end && !isWs(b[q]!) && b[q] !== 47 && b[q] !== 62) q++;
    if (q >= end) return -1;
    const qname = latin1(b, p + 1, q);
    const attrs = new Map<string, string>();
    const at = readAttributes(b, q, end, attrs);
    if (at < 0) return -1;
    let selfClosing = false;
    let after: number;
    if (b[at] === 47) {
      if (at + 1 >= end) return -1;
      if (b[at + 1] !== 62) this.fail('PAR004', `XML: malformed tag <${qname}`);
      selfClosing = true;
      after = at + 2;
    } else after = at + 1;
    const name = this.startElement(qname, attrs);
    if (name === 'metadata' && !selfClosing) {
      // Read the text up to the next tag now, so it is never split across chunks.
      const lt = b.indexOf(60, after);
      if (lt < 0 || lt >= end) {
        if (!final) {
          this.unwindStart(name);
          return -1;
        }
      } else if (this.pendingMetadata && Object.keys(this.metadata).length < 30) {
        this.metadata[this.pendingMetadata] = decodeEntities(
          Buffer.from(b.buffer, b.byteOffset + after, lt - after)
            .toString('utf8')
            .trim()
            .slice(0, 200),
        );
      }
    }
    if (selfClosing && name !== null) this.endElement(name);
    return after;
  }

  /** Local name of a core element, or null for another namespace. */
  localName(qname: string): string | null {
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    const local = colon < 0 ? qname : qname.slice(colon + 1);
    if (this.corePrefix === null) return prefix === '' ? local : null;
    return prefix === this.corePrefix ? local : null;
  }

  /** Metadata start was handled but its text is incomplete: undo, the tag is re-read with more data. */
  unwindStart(name: string): void {
    if (name === 'metadata') this.pendingMetadata = null;
  }

  startElement(qname: string, attrs: Map<string, string>): string | null {
    if (!this.sawModel) {
      const colon = qname.indexOf(':');
      const local = colon < 0 ? qname : qname.slice(colon + 1);
      if (local !== 'model') this.fail('PAR004', `root element is <${qname}>, expected <model>`);
      this.sawModel = true;
      this.corePrefix = colon < 0 ? '' : qname.slice(0, colon);
      const declared = attrs.get(this.corePrefix ? `xmlns:${this.corePrefix}` : 'xmlns');
      if (declared !== undefined && declared !== CORE_NS) this.ignored.set(`namespace ${declared}`, 1);
      for (const [k, v] of attrs)
        if (v === PRODUCTION_NS && k.startsWith('xmlns:')) this.productionPrefix = k.slice(6);
      this.unit = attrs.get('unit') ?? 'millimeter';
      const required = attrs.get('requiredextensions')?.trim();
      if (required) this.ignored.set(`required extensions: ${required}`, 1);
      return 'model';
    }
    const name = this.localName(qname);
    if (name === null) {
      if (this.current) {
        const colon = qname.indexOf(':');
        const local = qname.slice(colon + 1);
        if (
          local === 'beamlattice' ||
          local === 'slicestack' ||
          local === 'volumetricstack' ||
          local === 'displacementmesh'
        )
          this.ignored.set(`${local} (extension geometry not loaded)`, (this.ignored.get(local) ?? 0) + 1);
      }
      return null;
    }
    switch (name) {
      case 'resources':
        this.inResources = true;
        break;
      case 'build':
        this.inBuild = true;
        break;
      case 'metadata':
        this.pendingMetadata = attrs.get('name') ?? null;
        break;
      case 'object': {
        if (!this.inResources) this.fail('PAR004', '<object> outside <resources>');
        const id = attrs.get('id');
        if (!id) this.fail('PAR004', '<object> without an id');
        this.current = {
          id,
          part: this.part,
          type: attrs.get('type') ?? 'model',
          name: attrs.get('name') ?? null,
          mesh: null,
          firstVertex: 0,
          vertexCount: 0,
          triangleCount: 0,
          components: [],
          box: null,
        };
        break;
      }
      case 'mesh':
        if (!this.current) this.fail('PAR004', '<mesh> outside an <object>');
        this.inMesh = true;
        this.vertexBase = this.vertexCount;
        this.triangleBase = this.triangleCount;
        break;
      case 'vertices':
        if (!this.inMesh) this.fail('PAR004', '<vertices> outside a <mesh>');
        this.inVertices = true;
        break;
      case 'triangles':
        if (!this.inMesh) this.fail('PAR004', '<triangles> outside a <mesh>');
        this.inTriangles = true;
        break;
      case 'vertex':
      case 'triangle':
        // Prefixed core elements, or ones outside their list: rare, handled here.
        if (name === 'vertex' && this.inVertices) this.slowVertex(attrs);
        else if (name === 'triangle' && this.inTriangles) this.slowTriangle(attrs);
        else this.fail('PAR004', `<${name}> outside <${name === 'vertex' ? 'vertices' : 'triangles'}>`);
        break;
      case 'components':
        if (!this.current) this.fail('PAR004', '<components> outside an <object>');
        this.inComponents = true;
        break;
      case 'component': {
        if (!this.current || !this.inComponents) this.fail('PAR004', '<component> outside <components>');
        const objectId = attrs.get('objectid');
        if (!objectId) this.fail('PAR004', `object ${this.current.id}: <component> without objectid`);
        this.current.components.push({
          objectId,
          path: attrs.get(`${this.productionPrefix}:path`) ?? null,
          transform: parseTransform(attrs.get('transform'), `object ${this.current.id} component`),
        });
        break;
      }
      case 'item': {
        if (!this.inBuild) this.fail('PAR004', '<item> outside <build>');
        const objectId = attrs.get('objectid');
        if (!objectId) this.fail('PAR004', 'build <item> without objectid');
        this.items.push({
          objectId,
          path: attrs.get(`${this.productionPrefix}:path`) ?? null,
          transform: parseTransform(attrs.get('transform'), `build item ${this.items.length}`),
        });
        break;
      }
      default:
        if (this.current && name !== 'metadatagroup')
          this.ignored.set(`<${name}>`, (this.ignored.get(`<${name}>`) ?? 0) + 1);
    }
    return name;
  }

  slowVertex(attrs: Map<string, string>): void {
    const x = Number(attrs.get('x'));
    const y = Number(attrs.get('y'));
    const z = Number(attrs.get('z'));
    if (attrs.get('x') === undefined || attrs.get('y') === undefined || attrs.get('z') === undefined)
      this.fail('PAR004', `vertex ${this.vertexCount} lacks an x, y or z attribute`);
    if (!Number.isFinite(x + y + z))
      this.fail('PAR005', `vertex ${this.vertexCount} has a non-finite or invalid coordinate`);
    if (this.bw === this.block.length) {
      this.block = this.nextBlock();
      this.bw = 0;
    }
    this.block[this.bw++] = x;
    this.block[this.bw++] = y;
    this.block[this.bw++] = z;
    this.vertexCount++;
  }

  slowTriangle(attrs: Map<string, string>): void {
    const v = ['v1', 'v2', 'v3'].map((k) => Number(attrs.get(k)));
    const nv = this.vertexCount - this.vertexBase;
    for (const x of v) {
      if (!Number.isInteger(x) || x < 0)
        this.fail('PAR004', `triangle ${this.triangleCount - this.triangleBase}: bad vertex index`);
      if (x >= nv)
        this.fail('PAR005', `object ${this.current?.id}: triangle refers to vertex ${x}, out of range`);
    }
    if (v[0] === v[1] || v[1] === v[2] || v[0] === v[2]) this.degenerate++;
    if (this.keepIndices) {
      if (this.ti + 3 > this.indices.length)
        this.indices = growUint32(this.indices, this.ti, 3, this.budget, 'index buffer');
      for (const x of v) this.indices[this.ti++] = x + this.vertexBase;
    }
    this.triangleCount++;
  }

  endElement(name: string | null): void {
    switch (name) {
      case 'model':
        this.closedModel = true;
        break;
      case 'resources':
        this.inResources = false;
        break;
      case 'build':
        this.inBuild = false;
        break;
      case 'metadata':
        this.pendingMetadata = null;
        break;
      case 'vertices':
        this.inVertices = false;
        break;
      case 'triangles':
        this.inTriangles = false;
        break;
      case 'components':
        this.inComponents = false;
        break;
      case 'mesh': {
        this.inMesh = false;
        const o = this.current!;
        o.mesh = this;
        o.firstVertex = this.vertexBase;
        o.vertexCount = this.vertexCount - this.vertexBase;
        o.triangleCount = this.triangleCount - this.triangleBase;
        break;
      }
      case 'object':
        if (this.current) this.objects.push(this.current);
        this.current = null;
        break;
    }
  }
}

async function scanPart(
  b: Uint8Array,
  entry: ZipEntry,
  limits: ParseLimits,
  budget: MemoryBudget,
  opts: Parse3mfOptions,
): Promise<ModelScanner> {
  const scanner = new ModelScanner(entry.name, budget, opts.keepMesh ?? false, entry.uncompressedSize);
  const rest = await streamEntry(
    b,
    entry,
    limits.maxUncompressedBytes,
    (buf, start, end, final) => {
      const used = scanner.scan(buf, start, end, final);
      if (end - used > MAX_TAG) scanner.fail('PAR004', 'a single XML tag longer than 16 MB');
      return used;
    },
    { chunkSize: opts.chunkSize ?? CHUNK, pad: PAD, forceStream: opts.forceStream, threaded: opts.threaded },
  );
  const text = rest.toString('latin1').trim();
  if (text) scanner.fail('PAR004', `XML ends inside a tag (truncated): "${text.slice(0, 30)}"`);
  return finishPart(scanner);
}

function finishPart(scanner: ModelScanner): ModelScanner {
  if (!scanner.sawModel) scanner.fail('PAR004', 'no <model> element');
  if (!scanner.closedModel) scanner.fail('PAR004', 'XML ends before </model> (truncated)');
  return scanner;
}

/** The root model part named by _rels/.rels (falling back to the first .model entry). */
function rootModelPath(b: Uint8Array, entries: ZipEntry[], limits: ParseLimits, warnings: string[]): string {
  const rels = entries.find((e) => e.name === '_rels/.rels');
  if (rels) {
    const text = inflateSmall(b, rels, Math.min(limits.maxUncompressedBytes, 16 << 20)).toString('utf8');
    if (/<!DOCTYPE|<!ENTITY/i.test(text))
      throw new ModelError('PAR004', '_rels/.rels: XML entity declarations / DOCTYPE refused');
    for (const m of text.matchAll(/<Relationship\b[^>]*>/g)) {
      const type = /\bType\s*=\s*["']([^"']*)["']/.exec(m[0])?.[1];
      const target = /\bTarget\s*=\s*["']([^"']*)["']/.exec(m[0])?.[1];
      if (type === MODEL_REL && target) return target.replace(/^\//, '');
    }
    warnings.push('_rels/.rels names no 3D model part; using the first .model entry');
  } else warnings.push('no _rels/.rels; using the first .model entry');
  const model = entries.find((e) => /\.model$/i.test(e.name));
  if (!model) throw new ModelError('PAR004', 'the package has no 3D model part (.model)');
  return model.name;
}

export async function parse3mf(
  b: Uint8Array,
  budget: MemoryBudget,
  limits: ParseLimits,
  opts: Parse3mfOptions = {},
): Promise<ParsedModel> {
  const entries = readZipDirectory(b);
  const warnings: string[] = [];
  let declared = 0;
  for (const e of entries) {
    declared += e.uncompressedSize;
    if (e.uncompressedSize > limits.maxUncompressedBytes) {
      throw new ModelError(
        'PAR003',
        `${e.name} declares ${e.uncompressedSize.toLocaleString('en-US')} bytes uncompressed (from ${e.compressedSize.toLocaleString('en-US')}), over the cap of ${limits.maxUncompressedBytes.toLocaleString('en-US')}: refused as a zip bomb`,
      );
    }
  }
  if (declared > limits.maxUncompressedBytes) {
    throw new ModelError(
      'PAR003',
      `the package declares ${declared.toLocaleString('en-US')} bytes uncompressed in total, over the cap of ${limits.maxUncompressedBytes.toLocaleString('en-US')}: refused as a zip bomb`,
    );
  }
  const rootPath = rootModelPath(b, entries, limits, warnings);
  const byName = new Map(entries.map((e) => [e.name.replace(/^\//, ''), e]));
  const rootEntry = byName.get(rootPath) ?? byName.get(decodeURIComponent(rootPath));
  if (!rootEntry) throw new ModelError('PAR004', `the root model part ${rootPath} is not in the package`);
  const parts = new Map<string, ModelScanner>();
  const root = await scanPart(b, rootEntry, limits, budget, opts);
  parts.set(rootPath, root);
  // Production extension: components and items may live in other model parts.
  const referenced = new Set<string>();
  for (const item of root.items) if (item.path) referenced.add(item.path.replace(/^\//, ''));
  for (const o of root.objects)
    for (const c of o.components) if (c.path) referenced.add(c.path.replace(/^\//, ''));
  for (const path of referenced) {
    if (parts.has(path)) continue;
    const entry = byName.get(path);
    if (!entry) throw new ModelError('PAR004', `model part ${path} is referenced but not in the package`);
    parts.set(path, await scanPart(b, entry, limits, budget, opts));
  }
  const objects = new Map<string, ModelObject>();
  for (const [path, part] of parts) for (const o of part.objects) objects.set(`${path}#${o.id}`, o);
  for (const part of parts.values()) {
    for (const [what, n] of part.ignored)
      warnings.push(`${part.part}: ${what}${n > 1 ? ` x${n}` : ''} ignored`);
    if (part.degenerate)
      warnings.push(`${part.part}: ${part.degenerate} degenerate triangle(s) (repeated vertex)`);
  }
  const lookup = (id: string, path: string | null, from: string): ModelObject => {
    const key = `${path ? path.replace(/^\//, '') : from}#${id}`;
    const o = objects.get(key);
    if (!o)
      throw new ModelError(
        'PAR004',
        `reference to object ${id}${path ? ` in ${path}` : ''}, which does not exist`,
      );
    return o;
  };
  // Triangles and vertices per object with components expanded (memoised; cycles refused).
  type Expanded = { triangles: number; vertices: number; instances: number };
  const expanded = new Map<ModelObject, Expanded>();
  const visiting = new Set<ModelObject>();
  const expand = (o: ModelObject, depth: number): Expanded => {
    const known = expanded.get(o);
    if (known) return known;
    if (visiting.has(o))
      throw new ModelError('PAR004', `object ${o.id} contains itself through its components`);
    if (depth > MAX_COMPONENT_DEPTH)
      throw new ModelError('PAR004', `components nested deeper than ${MAX_COMPONENT_DEPTH}`);
    visiting.add(o);
    let triangles = o.triangleCount;
    let vertices = o.vertexCount;
    let instances = 1;
    for (const c of o.components) {
      const sub = expand(lookup(c.objectId, c.path, o.part), depth + 1);
      triangles += sub.triangles;
      vertices += sub.vertices;
      instances += sub.instances;
    }
    visiting.delete(o);
    const r = { triangles, vertices, instances };
    expanded.set(o, r);
    return r;
  };
  let builtTriangles = 0;
  let builtVertices = 0;
  let builtInstances = 0;
  const itemsFound: Array<{ item: BuildItem; object: ModelObject }> = [];
  for (const item of root.items) {
    const o = lookup(item.objectId, item.path, rootPath);
    if (o.type === 'other')
      warnings.push(`build item refers to object ${o.id} of type "other" (not printed)`);
    const e = expand(o, 0);
    builtTriangles += e.triangles;
    builtVertices += e.vertices;
    builtInstances += e.instances;
    itemsFound.push({ item, object: o });
  }
  for (const o of objects.values()) expand(o, 0);
  const exact = builtVertices <= MAX_EXACT_INSTANCED_VERTICES;
  const box = {
    minX: Infinity,
    minY: Infinity,
    minZ: Infinity,
    maxX: -Infinity,
    maxY: -Infinity,
    maxZ: -Infinity,
  };
  if (builtInstances > MAX_INSTANCES) {
    warnings.push(
      `the built scene has ${builtInstances.toLocaleString('en-US')} object instances: too many to place, no bounding box`,
    );
  } else {
    if (!exact)
      warnings.push(
        `the built scene instantiates ${builtVertices.toLocaleString('en-US')} vertices: its box is made of transformed object boxes`,
      );
    const place = (o: ModelObject, t: Transform) => {
      if (o.mesh && o.vertexCount > 0) {
        // A transform without rotation or shear moves each axis on its own, monotonically: the
        // transformed box of the object is exactly the box of its transformed vertices.
        if (exact && !axisAligned(t)) addTransformedVertices(box, o, t);
        else addTransformedBox(box, objectBox(o), t);
      }
      for (const c of o.components)
        place(lookup(c.objectId, c.path, o.part), composeTransforms(c.transform, t));
    };
    for (const { item, object } of itemsFound) place(object, item.transform);
  }
  let meshTriangles = 0;
  let meshVertices = 0;
  let meshObjects = 0;
  let componentObjects = 0;
  const resourceBox = {
    minX: Infinity,
    minY: Infinity,
    minZ: Infinity,
    maxX: -Infinity,
    maxY: -Infinity,
    maxZ: -Infinity,
  };
  for (const o of objects.values()) {
    meshTriangles += o.triangleCount;
    meshVertices += o.vertexCount;
    if (o.mesh) {
      meshObjects++;
      if (o.vertexCount) addTransformedBox(resourceBox, objectBox(o), IDENTITY);
    }
    if (o.components.length) componentObjects++;
  }
  if (root.items.length === 0) warnings.push('the build has no items: nothing would be printed');
  const toBox = (x: typeof box): BBox | null =>
    x.minX <= x.maxX ? { min: [x.minX, x.minY, x.minZ], max: [x.maxX, x.maxY, x.maxZ] } : null;
  return {
    format: '3mf',
    vertices: builtVertices,
    triangles: builtTriangles,
    bbox: toBox(box),
    warnings,
    details: {
      unit: root.unit,
      meshTriangles,
      meshVertices,
      builtTriangles,
      builtVertices,
      objects: objects.size,
      meshObjects,
      componentObjects,
      buildItems: root.items.length,
      modelParts: [...parts.keys()],
      resourcesBox: toBox(resourceBox),
      metadata: root.metadata,
      entries: entries.map((e) => ({
        name: e.name,
        compressed: e.compressedSize,
        uncompressed: e.uncompressedSize,
      })),
      objectList: [...objects.values()].slice(0, 50).map((o) => ({
        id: o.id,
        name: o.name,
        type: o.type,
        vertices: o.vertexCount,
        triangles: o.triangleCount,
        components: o.components.length,
        ...(o.components.length ? { expandedTriangles: expanded.get(o)?.triangles ?? 0 } : {}),
      })),
    },
    ...(opts.keepMesh
      ? { mesh: { positions: root.joinedPositions(), indices: root.indices.subarray(0, root.ti) } }
      : {}),
  };
}

type Box = { minX: number; minY: number; minZ: number; maxX: number; maxY: number; maxZ: number };

/** True when the transform neither rotates nor shears (its 3x3 part is diagonal). */
function axisAligned(t: Transform): boolean {
  return t[1] === 0 && t[2] === 0 && t[3] === 0 && t[5] === 0 && t[6] === 0 && t[7] === 0;
}

/** The box of an object's own vertices (min x, y, z, max x, y, z), computed once. */
function objectBox(o: ModelObject): Float64Array {
  if (o.box) return o.box;
  const box = emptyExtent();
  o.mesh!.forEachRange(o.firstVertex, o.vertexCount, (P, from, to) => widenBox(box, P, from, to));
  o.box = box;
  return box;
}

/** Adds the 8 transformed corners of a box (exact for axis-aligned transforms, a bound otherwise). */
function addTransformedBox(box: Box, ob: Float64Array, t: Transform): void {
  for (let corner = 0; corner < 8; corner++) {
    const x = ob[corner & 1 ? 3 : 0]!;
    const y = ob[corner & 2 ? 4 : 1]!;
    const z = ob[corner & 4 ? 5 : 2]!;
    const X = x * t[0]! + y * t[3]! + z * t[6]! + t[9]!;
    const Y = x * t[1]! + y * t[4]! + z * t[7]! + t[10]!;
    const Z = x * t[2]! + y * t[5]! + z * t[8]! + t[11]!;
    if (X < box.minX) box.minX = X;
    if (X > box.maxX) box.maxX = X;
    if (Y < box.minY) box.minY = Y;
    if (Y > box.maxY) box.maxY = Y;
    if (Z < box.minZ) box.minZ = Z;
    if (Z > box.maxZ) box.maxZ = Z;
  }
}

/** Adds every vertex of an object, transformed (rotations: the exact box). */
function addTransformedVertices(box: Box, o: ModelObject, t: Transform): void {
  const a = t[0]!;
  const b = t[1]!;
  const c = t[2]!;
  const d = t[3]!;
  const e = t[4]!;
  const f = t[5]!;
  const g = t[6]!;
  const h = t[7]!;
  const i = t[8]!;
  const tx = t[9]!;
  const ty = t[10]!;
  const tz = t[11]!;
  let { minX, minY, minZ, maxX, maxY, maxZ } = box;
  o.mesh!.forEachRange(o.firstVertex, o.vertexCount, (P, from, to) => {
    for (let k = from; k < to; k += 3) {
      const x = P[k]!;
      const y = P[k + 1]!;
      const z = P[k + 2]!;
      const X = x * a + y * d + z * g + tx;
      const Y = x * b + y * e + z * h + ty;
      const Z = x * c + y * f + z * i + tz;
      if (X < minX) minX = X;
      if (X > maxX) maxX = X;
      if (Y < minY) minY = Y;
      if (Y > maxY) maxY = Y;
      if (Z < minZ) minZ = Z;
      if (Z > maxZ) maxZ = Z;
    }
  });
  Object.assign(box, { minX, minY, minZ, maxX, maxY, maxZ });
}
