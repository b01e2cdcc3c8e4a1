// What the model parsers return and how they fail. Errors carry the PAR codes of the Candy-Cadence
// procedures (SITE.md), so an operator can match what the console says with what the app logs.

export type ParCode = 'PAR001' | 'PAR002' | 'PAR003' | 'PAR004' | 'PAR005';
/** PAR codes, plus ERR005 (file not found) and LOADER (the loader process died for another reason). */
export type ModelErrorCode = ParCode | 'ERR005' | 'LOADER';

export const MODEL_ERROR_MEANING: Record<ModelErrorCode, string> = {
  PAR001: 'invalid file header',
  PAR002: 'parse timeout',
  PAR003: 'memory cap exceeded',
  PAR004: 'format validation failed',
  PAR005: 'invalid geometry',
  ERR005: 'file not found',
  LOADER: 'loader process failed',
};

export class ModelError extends Error {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

export type ModelFormat =
  | 'stl-binary'
  | 'stl-ascii'
  | 'obj'
  | 'ply-ascii'
  | 'ply-binary-le'
  | 'ply-binary-be'
  | '3mf'
  | 'step';

export type Vec3 = [number, number, number];

export interface BBox {
  min: Vec3;
  max: Vec3;
}

/** The geometry a parser builds: float32 positions (x, y, z per vertex) and, for indexed formats, triangles. */
export interface Mesh {
  positions: Float32Array;
  /** Three vertex indices per triangle; absent for STL, whose triangles are three consecutive vertices. */
  indices?: Uint32Array;
}

/** What one parser found in one file. */
export interface ParsedModel {
  format: ModelFormat;
  /** Vertices as the format stores them (STL: three per triangle). */
  vertices: number;
  /** Triangles after polygons are triangulated; for 3MF, those of the built scene; null for STEP. */
  triangles: number | null;
  /** Bounding box of the triangles (3MF: of the built scene); null when there is no geometry. */
  bbox: BBox | null;
  warnings: string[];
  /** Format-specific facts (OBJ objects and materials, 3MF resources and build, STEP header and entities, ...). */
  details: Record<string, unknown>;
  mesh?: Mesh;
}

/** Limits one parse runs under; the loader process sets them from the configuration. */
export interface ParseLimits {
  /** Bytes the parser may allocate for its output and working buffers. */
  memoryBudgetBytes: number;
  /** Largest uncompressed size accepted for one zip entry (3MF), declared or actual. */
  maxUncompressedBytes: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  memoryBudgetBytes: 2048 * 1024 * 1024,
  maxUncompressedBytes: 2048 * 1024 * 1024,
};

export function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 2 : 0)} MB`;
}

/**
 * Accounts for the large buffers a parse allocates and refuses (PAR003) before an allocation
 * would pass the budget, so a hostile header declaring billions of triangles fails cleanly.
 */
export class MemoryBudget {
  used = 0;
  peak = 0;
  constructor(readonly capBytes: number) {}

  reserve(bytes: number, what: string): void {
    if (this.used + bytes > this.capBytes) {
      throw new ModelError(
        'PAR003',
        `${what} needs ${mb(bytes)}, over the memory cap (${mb(this.capBytes)}, ${mb(this.used)} already in use)`,
      );
    }
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

export function growFloat32(
  a: Float32Array,
  used: number,
  need: number,
  budget: MemoryBudget,
  what: string,
): Float32Array {
  const capacity = Math.max(Math.ceil(a.length * 1.75), used + need, 4096);
  budget.reserve(capacity * 4, what);
  const next = new Float32Array(capacity);
  next.set(a.subarray(0, used));
  budget.release(a.length * 4);
  return next;
}

export function growUint32(
  a: Uint32Array,
  used: number,
  need: number,
  budget: MemoryBudget,
  what: string,
): Uint32Array {
  const capacity = Math.max(Math.ceil(a.length * 1.75), used + need, 4096);
  budget.reserve(capacity * 4, what);
  const next = new Uint32Array(capacity);
  next.set(a.subarray(0, used));
  budget.release(a.length * 4);
  return next;
}

export function newFloat32(count: number, budget: MemoryBudget, what: string): Float32Array {
  budget.reserve(count * 4, what);
  return new Float32Array(count);
}

export function newUint32(count: number, budget: MemoryBudget, what: string): Uint32Array {
  budget.reserve(count * 4, what);
  return new Uint32Array(count);
}

/** 1-based line number of a byte offset (computed only when reporting an error). */
export function lineAt(b: Uint8Array, offset: number): number {
  let line = 1;
  let p = -1;
  const end = Math.min(offset, b.length);
  for (;;) {
    p = b.indexOf(10, p + 1);
    if (p < 0 || p >= end) return line;
    line++;
  }
}

/** A short printable excerpt of the bytes at an offset, for error messages. */
export function excerptAt(b: Uint8Array, offset: number, max = 40): string {
  let s = '';
  for (let i = offset; i < b.length && i < offset + max; i++) {
    const c = b[i]!;
    if (c === 10 || c === 13) break;
    s += c >= 32 && c < 127 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** Running bounding box over float32 coordinates; NaN or infinite coordinates are counted, not absorbed. */
export function emptyBox(): { min: Vec3; max: Vec3 } {
  return {
    min: [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
    max: [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
  };
}

export function finishBox(
  minX: number,
  minY: number,
  minZ: number,
  maxX: number,
  maxY: number,
  maxZ: number,
) {
  if (!(minX <= maxX)) return null;
  return {
    min: [Math.fround(minX), Math.fround(minY), Math.fround(minZ)] as Vec3,
    max: [Math.fround(maxX), Math.fround(maxY), Math.fround(maxZ)] as Vec3,
  };
}

/** Bounding box of the positions referenced by `indices` (all positions when indices is absent). */
export function boxOfPositions(positions: Float32Array, count: number, indices?: Uint32Array): BBox | null {
  let used: Uint8Array | undefined;
  if (indices) {
    used = new Uint8Array(count);
    for (let i = 0; i < indices.length; i++) used[indices[i]!] = 1;
  }
  return boxOfBlocks([positions], count, used);
}

/** An empty extent for widenBox: min x, y, z, max x, y, z. */
export function emptyExtent(): Float64Array {
  return Float64Array.of(
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  );
}

/** Widens `box` (min x, y, z, max x, y, z) by the xyz triples of P[from, to). */
export function widenBox(box: Float64Array, P: Float32Array, from: number, to: number): void {
  let minX = box[0]!;
  let minY = box[1]!;
  let minZ = box[2]!;
  let maxX = box[3]!;
  let maxY = box[4]!;
  let maxZ = box[5]!;
  for (let i = from; i < to; i += 3) {
    const x = P[i]!;
    const y = P[i + 1]!;
    const z = P[i + 2]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (z < minZ) minZ = z;
    if (z > maxZ) maxZ = z;
  }
  box[0] = minX;
  box[1] = minY;
  box[2] = minZ;
  box[3] = maxX;
  box[4] = maxY;
  box[5] = maxZ;
}

/**
 * Bounding box of `count` positions stored block after block (each block's length a multiple of 3);
 * with `used`, only of the vertices whose byte is 1.
 */
export function boxOfBlocks(blocks: Float32Array[], count: number, used?: Uint8Array): BBox | null {
  const box = emptyExtent();
  // v: the index of the block's first vertex; with `used`, each run of used vertices is one widening.
  let v = 0;
  for (const P of blocks) {
    const n = Math.min(P.length / 3, count - v);
    if (!used) widenBox(box, P, 0, n * 3);
    else
      for (let i = 0; i < n; ) {
        while (i < n && used[v + i] === 0) i++;
        const from = i;
        while (i < n && used[v + i] !== 0) i++;
        if (i > from) widenBox(box, P, from * 3, i * 3);
      }
    v += n;
    if (v >= count) break;
  }
  return finishBox(box[0]!, box[1]!, box[2]!, box[3]!, box[4]!, box[5]!);
}

/** `count` positions stored block after block, in one array (for a caller that keeps the mesh). */
export function joinBlocks(blocks: Float32Array[], count: number, budget: MemoryBudget): Float32Array {
  const out = newFloat32(count * 3, budget, 'vertex buffer');
  let o = 0;
  for (const P of blocks) {
    const n = Math.min(P.length, count * 3 - o);
    out.set(P.subarray(0, n), o);
    o += n;
    if (o >= count * 3) break;
  }
  return out;
}
