// PLY (Stanford polygon format), ASCII and binary of either byte order. The header declares
// elements with scalar and list properties; the `vertex` element's x, y, z and the `face` element's
// `vertex_indices` (or `vertex_index`) list are loaded, polygons triangulated as fans; every other
// element and property is read past by its declared type, so extra lists (texture coordinates per
// face, as in fuze_ascii.ply) cannot shift what follows.
import { badNumber, parseNumber, scan } from './model-text.js';
import {
  boxOfPositions,
  excerptAt,
  growUint32,
  lineAt,
  type MemoryBudget,
  ModelError,
  newFloat32,
  newUint32,
  type ParsedModel,
} from './model-types.js';

type ScalarType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

const TYPE_ALIASES: Record<string, ScalarType> = {
  char: 'int8',
  int8: 'int8',
  uchar: 'uint8',
  uint8: 'uint8',
  short: 'int16',
  int16: 'int16',
  ushort: 'uint16',
  uint16: 'uint16',
  int: 'int32',
  int32: 'int32',
  uint: 'uint32',
  uint32: 'uint32',
  float: 'float32',
  float32: 'float32',
  double: 'float64',
  float64: 'float64',
};

const SIZE: Record<ScalarType, number> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  float64: 8,
};

interface Property {
  name: string;
  type: ScalarType;
  /** For list properties: the type of the count; the items have `type`. */
  countType: ScalarType | null;
}

interface Element {
  name: string;
  count: number;
  props: Property[];
}

export interface PlyHeader {
  format: 'ascii' | 'binary_little_endian' | 'binary_big_endian';
  version: string;
  elements: Element[];
  comments: string[];
  /** Offset of the first byte after `end_header\n`. */
  bodyStart: number;
}

export function parsePlyHeader(b: Uint8Array): PlyHeader {
  const limit = Math.min(b.length, 1 << 20);
  let headerEnd = -1;
  const marker = Buffer.from('end_header');
  const buf = Buffer.from(b.buffer, b.byteOffset, limit);
  const at = buf.indexOf(marker);
  if (at >= 0) {
    let q = at + marker.length;
    while (q < limit && (b[q] === 32 || b[q] === 9 || b[q] === 13)) q++;
    if (b[q] === 10) headerEnd = q + 1;
    else if (q >= b.length) headerEnd = q;
  }
  if (headerEnd < 0)
    throw new ModelError('PAR001', 'PLY header has no end_header line (within the first MB)');
  const text = buf.subarray(0, at).toString('latin1');
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== 'ply') throw new ModelError('PAR001', 'PLY file must start with the line "ply"');
  let format: PlyHeader['format'] | null = null;
  let version = '';
  const elements: Element[] = [];
  const comments: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const words = line.split(/\s+/);
    const bad = (what: string): never => {
      throw new ModelError('PAR001', `PLY header line ${i + 1}: ${what}: "${line.slice(0, 60)}"`);
    };
    switch (words[0]) {
      case 'format':
        if (words[1] !== 'ascii' && words[1] !== 'binary_little_endian' && words[1] !== 'binary_big_endian')
          bad('unknown format');
        format = words[1] as PlyHeader['format'];
        version = words[2] ?? '';
        break;
      case 'comment':
      case 'obj_info':
        if (comments.length < 20) comments.push(line.slice(words[0].length).trim());
        break;
      case 'element': {
        const count = Number(words[2]);
        if (words.length !== 3 || !Number.isSafeInteger(count) || count < 0) bad('malformed element');
        elements.push({ name: words[1]!, count, props: [] });
        break;
      }
      case 'property': {
        const el = elements[elements.length - 1];
        if (!el) bad('property before any element');
        if (words[1] === 'list') {
          const countType = TYPE_ALIASES[words[2] ?? ''];
          const itemType = TYPE_ALIASES[words[3] ?? ''];
          if (!countType || !itemType || !words[4]) bad('malformed list property');
          if (countType === 'float32' || countType === 'float64') bad('list count must be an integer type');
          el!.props.push({ name: words[4]!, type: itemType!, countType: countType! });
        } else {
          const type = TYPE_ALIASES[words[1] ?? ''];
          if (!type || !words[2]) bad('malformed property');
          el!.props.push({ name: words[2]!, type: type!, countType: null });
        }
        break;
      }
      default:
        bad('unknown header keyword');
    }
  }
  if (!format) throw new ModelError('PAR001', 'PLY header has no format line');
  return { format, version, elements, comments, bodyStart: headerEnd };
}

export function parsePly(b: Uint8Array, budget: MemoryBudget, keepMesh = false): ParsedModel {
  const header = parsePlyHeader(b);
  const vertexEl = header.elements.find((e) => e.name === 'vertex');
  const faceEl = header.elements.find((e) => e.name === 'face');
  const warnings: string[] = [];
  const xi = vertexEl ? vertexEl.props.findIndex((p) => p.name === 'x' && !p.countType) : -1;
  const yi = vertexEl ? vertexEl.props.findIndex((p) => p.name === 'y' && !p.countType) : -1;
  const zi = vertexEl ? vertexEl.props.findIndex((p) => p.name === 'z' && !p.countType) : -1;
  if (vertexEl && (xi < 0 || yi < 0 || zi < 0))
    throw new ModelError('PAR004', 'PLY vertex element lacks an x, y or z property');
  const fi = faceEl
    ? faceEl.props.findIndex((p) => (p.name === 'vertex_indices' || p.name === 'vertex_index') && p.countType)
    : -1;
  if (faceEl && faceEl.count > 0 && fi < 0)
    throw new ModelError('PAR004', 'PLY face element has no vertex_indices list');
  if (!vertexEl) warnings.push('no vertex element');
  const nv = vertexEl?.count ?? 0;
  // Refuse counts the file cannot hold before allocating for them (a hostile header is PAR004, not an
  // allocation failure): every record takes at least its fixed bytes (binary) or 2 bytes a value (ASCII).
  let minimum = 0;
  for (const el of header.elements) {
    const per = el.props.reduce(
      (s, q) => s + (header.format === 'ascii' ? 2 : SIZE[q.countType ?? q.type]),
      0,
    );
    minimum += per * el.count;
  }
  if (minimum > b.length - header.bodyStart) {
    throw new ModelError(
      'PAR004',
      `header declares ${header.elements.map((e) => `${e.count.toLocaleString('en-US')} ${e.name}`).join(', ')}: at least ${minimum.toLocaleString('en-US')} bytes, but the body has ${(b.length - header.bodyStart).toLocaleString('en-US')} (truncated)`,
    );
  }
  const positions = newFloat32(nv * 3, budget, `${nv.toLocaleString('en-US')} vertices`);
  // The triangle list only when the caller keeps the mesh (otherwise triangles are checked and
  // counted): faces are mostly triangles, so one a face to start with, grown for polygons.
  let indices = keepMesh
    ? newUint32(Math.max(3, (faceEl?.count ?? 0) * 3), budget, 'index buffer')
    : new Uint32Array(0);
  const state: BodyState = {
    positions,
    indices,
    keep: keepMesh,
    ti: 0,
    triangles: 0,
    polygons: 0,
    degenerate: 0,
    budget,
  };
  const skipped = header.elements.filter((e) => e !== vertexEl && e !== faceEl && e.count > 0);
  if (skipped.length)
    warnings.push(`elements not loaded: ${skipped.map((e) => `${e.name} (${e.count})`).join(', ')}`);
  const extra = [
    ...(vertexEl?.props.filter((_, i) => i !== xi && i !== yi && i !== zi).map((p) => `vertex.${p.name}`) ??
      []),
    ...(faceEl?.props.filter((_, i) => i !== fi).map((p) => `face.${p.name}`) ?? []),
  ];
  if (extra.length) warnings.push(`properties not loaded: ${extra.join(', ')}`);
  let end: number;
  if (header.format === 'ascii')
    end = readAscii(b, header, vertexEl, faceEl, xi, yi, zi, fi, state, warnings);
  else end = readBinary(b, header, vertexEl, faceEl, xi, yi, zi, fi, state);
  if (end < b.length) {
    let trailing = 0;
    for (let i = end; i < b.length; i++) {
      const c = b[i]!;
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9 && c !== 0) trailing++;
    }
    if (trailing) warnings.push(`${b.length - end} bytes after the last element ignored`);
  }
  indices = state.indices.subarray(0, state.ti);
  if (state.polygons) warnings.push(`${state.polygons} polygon(s) triangulated`);
  if (state.degenerate) warnings.push(`${state.degenerate} face(s) with fewer than 3 vertices skipped`);
  for (let i = 0; i < nv * 3; i++) {
    if (!Number.isFinite(positions[i]!))
      throw new ModelError(
        'PAR005',
        `vertex ${Math.floor(i / 3)} has a non-finite coordinate (${positions[i]})`,
      );
  }
  const triangles = state.triangles;
  return {
    format:
      header.format === 'ascii'
        ? 'ply-ascii'
        : header.format === 'binary_little_endian'
          ? 'ply-binary-le'
          : 'ply-binary-be',
    vertices: nv,
    triangles,
    // PLY vertices are the mesh's vertices (three.js and assimp box all of them, used or not).
    bbox: nv > 0 ? boxOfPositions(positions, nv) : null,
    warnings,
    details: {
      version: header.version,
      elements: header.elements.map((e) => ({
        name: e.name,
        count: e.count,
        properties: e.props.map((p) =>
          p.countType ? `list ${p.countType} ${p.type} ${p.name}` : `${p.type} ${p.name}`,
        ),
      })),
      comments: header.comments,
      faces: faceEl?.count ?? 0,
    },
    ...(keepMesh ? { mesh: { positions, indices } } : {}),
  };
}

interface BodyState {
  positions: Float32Array;
  /** The triangle list when `keep` (else empty) and its length. */
  indices: Uint32Array;
  keep: boolean;
  ti: number;
  triangles: number;
  polygons: number;
  degenerate: number;
  budget: MemoryBudget;
}

function pushFace(state: BodyState, poly: Uint32Array, k: number, nv: number, face: number): void {
  if (k < 3) {
    state.degenerate++;
    return;
  }
  if (k > 3) state.polygons++;
  for (let i = 0; i < k; i++) {
    if (poly[i]! >= nv)
      throw new ModelError(
        'PAR005',
        `face ${face.toLocaleString('en-US')} refers to vertex ${poly[i]}, out of range (${nv.toLocaleString('en-US')} vertices)`,
      );
  }
  state.triangles += k - 2;
  if (!state.keep) return;
  const need = (k - 2) * 3;
  if (state.ti + need > state.indices.length)
    state.indices = growUint32(state.indices, state.ti, need, state.budget, 'index buffer');
  const idx = state.indices;
  let ti = state.ti;
  for (let i = 2; i < k; i++) {
    idx[ti] = poly[0]!;
    idx[ti + 1] = poly[i - 1]!;
    idx[ti + 2] = poly[i]!;
    ti += 3;
  }
  state.ti = ti;
}

function readAscii(
  b: Uint8Array,
  header: PlyHeader,
  vertexEl: Element | undefined,
  faceEl: Element | undefined,
  xi: number,
  yi: number,
  zi: number,
  fi: number,
  state: BodyState,
  warnings: string[],
): number {
  // One element instance per line, as every writer does it and as assimp reads it: values past the
  // declared properties are ignored (with a warning), missing ones are an error.
  const end = b.length;
  let p = header.bodyStart;
  const positions = state.positions;
  const nv = vertexEl?.count ?? 0;
  const poly = new Uint32Array(256);
  let longer = 0;
  let c = 0;
  const number = (what: string): number => {
    while (p < end && ((c = b[p]!) === 32 || c === 9)) p++;
    if (p >= end) throw new ModelError('PAR004', `file ends while reading ${what} (truncated)`);
    if (c === 10 || c === 13)
      throw new ModelError(
        'PAR004',
        `line ${lineAt(b, p)}: ${what} missing (fewer values than the header declares)`,
      );
    const v = parseNumber(b, p, end);
    if (scan.end === p) badNumber(b, p);
    p = scan.end;
    return v;
  };
  const endOfInstance = () => {
    while (p < end && ((c = b[p]!) === 32 || c === 9 || c === 13)) p++;
    if (p < end && c !== 10) {
      longer++;
      const nl = b.indexOf(10, p);
      p = nl < 0 ? end : nl + 1;
    } else p++;
    // Blank lines between instances are tolerated.
    while (p < end && ((c = b[p]!) === 10 || c === 13 || c === 32 || c === 9)) p++;
  };
  while (p < end && ((c = b[p]!) === 10 || c === 13 || c === 32 || c === 9)) p++;
  for (const el of header.elements) {
    const props = el.props;
    if (el === vertexEl) {
      for (let v = 0; v < el.count; v++) {
        for (let j = 0; j < props.length; j++) {
          const prop = props[j]!;
          if (prop.countType) {
            const n = number('a vertex list count');
            for (let k = 0; k < n; k++) number('a vertex list item');
            continue;
          }
          const x = number('a vertex value');
          if (j === xi) positions[v * 3] = x;
          else if (j === yi) positions[v * 3 + 1] = x;
          else if (j === zi) positions[v * 3 + 2] = x;
        }
        endOfInstance();
      }
    } else if (el === faceEl) {
      for (let f = 0; f < el.count; f++) {
        for (let j = 0; j < props.length; j++) {
          const prop = props[j]!;
          if (!prop.countType) {
            number('a face value');
            continue;
          }
          const at = p;
          const n = number('a face list count');
          if (!Number.isInteger(n) || n < 0 || n > 65535)
            throw new ModelError(
              'PAR004',
              `line ${lineAt(b, at)}: bad list count "${excerptAt(b, at, 12).trim()}"`,
            );
          if (j !== fi) {
            for (let k = 0; k < n; k++) number('a face list item');
            continue;
          }
          const list = n > poly.length ? new Uint32Array(n) : poly;
          for (let k = 0; k < n; k++) {
            const v = number('a face index');
            if (!Number.isInteger(v) || v < 0)
              throw new ModelError('PAR005', `face ${f}: vertex index ${v} is not a valid index`);
            list[k] = Math.min(v, 0xffffffff);
          }
          pushFace(state, list, n, nv, f);
        }
        endOfInstance();
      }
    } else {
      for (let i = 0; i < el.count; i++) {
        for (const prop of props) {
          if (prop.countType) {
            const n = number(`a ${el.name} list count`);
            for (let k = 0; k < n; k++) number(`a ${el.name} list item`);
          } else number(`a ${el.name} value`);
        }
        endOfInstance();
      }
    }
  }
  if (longer)
    warnings.push(
      `${longer.toLocaleString('en-US')} line(s) carry more values than the header declares (extra values ignored)`,
    );
  return p;
}

function readBinary(
  b: Uint8Array,
  header: PlyHeader,
  vertexEl: Element | undefined,
  faceEl: Element | undefined,
  xi: number,
  yi: number,
  zi: number,
  fi: number,
  state: BodyState,
): number {
  const le = header.format === 'binary_little_endian';
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = b.length;
  let p = header.bodyStart;
  const positions = state.positions;
  const nv = vertexEl?.count ?? 0;
  const truncated = (what: string): never => {
    throw new ModelError(
      'PAR004',
      `file ends inside the ${what} (truncated: ${end.toLocaleString('en-US')} bytes, header promises more)`,
    );
  };
  const read = (type: ScalarType, at: number): number => {
    switch (type) {
      case 'int8':
        return view.getInt8(at);
      case 'uint8':
        return view.getUint8(at);
      case 'int16':
        return view.getInt16(at, le);
      case 'uint16':
        return view.getUint16(at, le);
      case 'int32':
        return view.getInt32(at, le);
      case 'uint32':
        return view.getUint32(at, le);
      case 'float32':
        return view.getFloat32(at, le);
      default:
        return view.getFloat64(at, le);
    }
  };
  const poly = new Uint32Array(256);
  for (const el of header.elements) {
    const props = el.props;
    const fixed = props.every((q) => !q.countType);
    if (el === vertexEl && fixed) {
      // Fixed-size records: one stride, x/y/z at known offsets.
      let stride = 0;
      const offsets: number[] = [];
      for (const q of props) {
        offsets.push(stride);
        stride += SIZE[q.type];
      }
      if (p + stride * el.count > end) truncated('vertex list');
      const ox = offsets[xi]!;
      const oy = offsets[yi]!;
      const oz = offsets[zi]!;
      const tx = props[xi]!.type;
      if (tx === 'float32' && props[yi]!.type === 'float32' && props[zi]!.type === 'float32') {
        for (let v = 0, o = p, w = 0; v < el.count; v++, o += stride, w += 3) {
          positions[w] = view.getFloat32(o + ox, le);
          positions[w + 1] = view.getFloat32(o + oy, le);
          positions[w + 2] = view.getFloat32(o + oz, le);
        }
      } else {
        for (let v = 0, o = p, w = 0; v < el.count; v++, o += stride, w += 3) {
          positions[w] = read(tx, o + ox);
          positions[w + 1] = read(props[yi]!.type, o + oy);
          positions[w + 2] = read(props[zi]!.type, o + oz);
        }
      }
      p += stride * el.count;
      continue;
    }
    if (el === faceEl && props.length === 1 && fi === 0) {
      // The common face layout: one list (count, then indices) per face.
      const ct = props[0]!.countType!;
      const it = props[0]!.type;
      const cs = SIZE[ct];
      const is = SIZE[it];
      if (it === 'float32' || it === 'float64')
        throw new ModelError('PAR004', 'face indices must be integers');
      const fast = ct === 'uint8' && (it === 'int32' || it === 'uint32');
      const keep = state.keep;
      let idx = state.indices;
      let ti = state.ti;
      let triangles = state.triangles;
      for (let f = 0; f < el.count; f++) {
        if (p + cs > end) truncated('face list');
        const n = fast ? b[p]! : read(ct, p);
        p += cs;
        if (p + n * is > end) truncated('face list');
        if (fast && n === 3) {
          const a = view.getUint32(p, le);
          const c1 = view.getUint32(p + 4, le);
          const c2 = view.getUint32(p + 8, le);
          p += 12;
          if (a >= nv || c1 >= nv || c2 >= nv) {
            const badIndex = a >= nv ? a : c1 >= nv ? c1 : c2;
            throw new ModelError(
              'PAR005',
              `face ${f.toLocaleString('en-US')} refers to vertex ${it === 'int32' ? badIndex | 0 : badIndex}, out of range (${nv.toLocaleString('en-US')} vertices)`,
            );
          }
          triangles++;
          if (!keep) continue;
          if (ti + 3 > idx.length) {
            state.ti = ti;
            idx = state.indices = growUint32(idx, ti, 3, state.budget, 'index buffer');
          }
          idx[ti] = a;
          idx[ti + 1] = c1;
          idx[ti + 2] = c2;
          ti += 3;
          continue;
        }
        const list = n > poly.length ? new Uint32Array(n) : poly;
        for (let k = 0; k < n; k++, p += is) {
          const v = read(it, p);
          list[k] = v < 0 ? 0xffffffff : v;
        }
        state.ti = ti;
        state.triangles = triangles;
        pushFace(state, list, n, nv, f);
        idx = state.indices;
        ti = state.ti;
        triangles = state.triangles;
      }
      state.ti = ti;
      state.triangles = triangles;
      continue;
    }
    // General case: walk every property of every record.
    for (let i = 0; i < el.count; i++) {
      for (let j = 0; j < props.length; j++) {
        const q = props[j]!;
        if (!q.countType) {
          const s = SIZE[q.type];
          if (p + s > end) truncated(`${el.name} list`);
          if (el === vertexEl) {
            if (j === xi) positions[i * 3] = read(q.type, p);
            else if (j === yi) positions[i * 3 + 1] = read(q.type, p);
            else if (j === zi) positions[i * 3 + 2] = read(q.type, p);
          }
          p += s;
          continue;
        }
        const cs = SIZE[q.countType];
        if (p + cs > end) truncated(`${el.name} list`);
        const n = read(q.countType, p);
        p += cs;
        if (n < 0) throw new ModelError('PAR004', `${el.name} ${i}: negative list count ${n}`);
        const is = SIZE[q.type];
        if (p + n * is > end) truncated(`${el.name} list`);
        if (el === faceEl && j === fi) {
          const list = n > poly.length ? new Uint32Array(n) : poly;
          for (let k = 0; k < n; k++) {
            const v = read(q.type, p + k * is);
            list[k] = v < 0 || !Number.isInteger(v) ? 0xffffffff : v;
          }
          pushFace(state, list, n, nv, i);
        }
        p += n * is;
      }
    }
  }
  return p;
}
