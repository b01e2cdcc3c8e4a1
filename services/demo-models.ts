// Generated model files for the demo site and for tests: a torus mesh of any size written as binary
// STL, ASCII STL, OBJ, 3MF (a real zip, deflated with Node's zlib) and STEP (a faceted B-rep), plus
// the deliberately malformed files operators meet in real libraries.
import { crc32, deflateRawSync } from 'node:zlib';

export interface Mesh {
  /** x, y, z per vertex. */
  positions: Float32Array;
  /** Three vertex indices per triangle. */
  indices: Uint32Array;
}

/** A torus of `rings` x `sides` quads (2 triangles each): 2*rings*sides triangles, rings*sides vertices. */
export function torusMesh(rings: number, sides: number, major = 40, minor = 12): Mesh {
  const positions = new Float32Array(rings * sides * 3);
  const indices = new Uint32Array(rings * sides * 6);
  let p = 0;
  for (let i = 0; i < rings; i++) {
    const u = (i / rings) * Math.PI * 2;
    for (let j = 0; j < sides; j++) {
      const v = (j / sides) * Math.PI * 2;
      positions[p++] = (major + minor * Math.cos(v)) * Math.cos(u);
      positions[p++] = (major + minor * Math.cos(v)) * Math.sin(u);
      positions[p++] = minor * Math.sin(v);
    }
  }
  let k = 0;
  for (let i = 0; i < rings; i++) {
    for (let j = 0; j < sides; j++) {
      const a = i * sides + j;
      const b = ((i + 1) % rings) * sides + j;
      const c = ((i + 1) % rings) * sides + ((j + 1) % sides);
      const d = i * sides + ((j + 1) % sides);
      indices[k++] = a;
      indices[k++] = b;
      indices[k++] = c;
      indices[k++] = a;
      indices[k++] = c;
      indices[k++] = d;
    }
  }
  return { positions, indices };
}

export function triangleCount(mesh: Mesh): number {
  return mesh.indices.length / 3;
}

function normalOf(mesh: Mesh, t: number): [number, number, number] {
  const P = mesh.positions;
  const i0 = mesh.indices[t * 3]! * 3;
  const i1 = mesh.indices[t * 3 + 1]! * 3;
  const i2 = mesh.indices[t * 3 + 2]! * 3;
  const ux = P[i1]! - P[i0]!;
  const uy = P[i1 + 1]! - P[i0 + 1]!;
  const uz = P[i1 + 2]! - P[i0 + 2]!;
  const vx = P[i2]! - P[i0]!;
  const vy = P[i2 + 1]! - P[i0 + 1]!;
  const vz = P[i2 + 2]! - P[i0 + 2]!;
  const nx = uy * vz - uz * vy;
  const ny = uz * vx - ux * vz;
  const nz = ux * vy - uy * vx;
  const len = Math.hypot(nx, ny, nz) || 1;
  return [nx / len, ny / len, nz / len];
}

/** Binary STL. `header` lets tests write the 80-byte header that starts with "solid". */
export function binaryStl(mesh: Mesh, header = 'binary STL written by cadence-ops demo'): Buffer {
  const n = triangleCount(mesh);
  const buf = Buffer.alloc(84 + n * 50);
  buf.write(header.slice(0, 80), 0, 'latin1');
  buf.writeUInt32LE(n, 80);
  let o = 84;
  const P = mesh.positions;
  for (let t = 0; t < n; t++) {
    const [nx, ny, nz] = normalOf(mesh, t);
    buf.writeFloatLE(nx, o);
    buf.writeFloatLE(ny, o + 4);
    buf.writeFloatLE(nz, o + 8);
    o += 12;
    for (let c = 0; c < 3; c++) {
      const v = mesh.indices[t * 3 + c]! * 3;
      buf.writeFloatLE(P[v]!, o);
      buf.writeFloatLE(P[v + 1]!, o + 4);
      buf.writeFloatLE(P[v + 2]!, o + 8);
      o += 12;
    }
    o += 2;
  }
  return buf;
}

const f = (x: number) => x.toPrecision(7);

export function asciiStl(mesh: Mesh, name = 'demo'): Buffer {
  const P = mesh.positions;
  const parts: string[] = [`solid ${name}\n`];
  for (let t = 0; t < triangleCount(mesh); t++) {
    const [nx, ny, nz] = normalOf(mesh, t);
    parts.push(`  facet normal ${f(nx)} ${f(ny)} ${f(nz)}\n    outer loop\n`);
    for (let c = 0; c < 3; c++) {
      const v = mesh.indices[t * 3 + c]! * 3;
      parts.push(`      vertex ${f(P[v]!)} ${f(P[v + 1]!)} ${f(P[v + 2]!)}\n`);
    }
    parts.push('    endloop\n  endfacet\n');
  }
  parts.push(`endsolid ${name}\n`);
  return Buffer.from(parts.join(''), 'latin1');
}

export function objFile(mesh: Mesh, name = 'demo'): Buffer {
  const P = mesh.positions;
  const parts: string[] = [`# written by cadence-ops demo\nmtllib ${name}.mtl\no ${name}\n`];
  for (let v = 0; v < P.length; v += 3) parts.push(`v ${f(P[v]!)} ${f(P[v + 1]!)} ${f(P[v + 2]!)}\n`);
  parts.push('usemtl default\n');
  for (let t = 0; t < mesh.indices.length; t += 3) {
    parts.push(`f ${mesh.indices[t]! + 1} ${mesh.indices[t + 1]! + 1} ${mesh.indices[t + 2]! + 1}\n`);
  }
  return Buffer.from(parts.join(''), 'latin1');
}

/** A minimal zip writer (deflate, one central directory), enough for 3MF containers. */
export function zip(entries: Array<{ name: string; data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 6 });
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, compressed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((s, b) => s + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** A 3MF package: one mesh object and `copies` build items, each translated along x. */
export function threeMf(mesh: Mesh, copies = 1): Buffer {
  const P = mesh.positions;
  const vertices: string[] = [];
  for (let v = 0; v < P.length; v += 3)
    vertices.push(`<vertex x="${f(P[v]!)}" y="${f(P[v + 1]!)}" z="${f(P[v + 2]!)}"/>`);
  const triangles: string[] = [];
  for (let t = 0; t < mesh.indices.length; t += 3) {
    triangles.push(
      `<triangle v1="${mesh.indices[t]}" v2="${mesh.indices[t + 1]}" v3="${mesh.indices[t + 2]}"/>`,
    );
  }
  const items = Array.from(
    { length: copies },
    (_, i) => `<item objectid="1" transform="1 0 0 0 1 0 0 0 1 ${i * 120} 0 0"/>`,
  );
  const model = `<?xml version="1.0" encoding="UTF-8"?>
<model unit="millimeter" xml:lang="en-US" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">
 <metadata name="Application">cadence-ops demo</metadata>
 <resources>
  <object id="1" type="model"><mesh><vertices>${vertices.join('')}</vertices><triangles>${triangles.join('')}</triangles></mesh></object>
 </resources>
 <build>${items.join('')}</build>
</model>
`;
  return zip([
    {
      name: '[Content_Types].xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>',
      ),
    },
    {
      name: '_rels/.rels',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>',
      ),
    },
    { name: '3D/3dmodel.model', data: Buffer.from(model, 'utf8') },
  ]);
}

/** An ISO 10303-21 (AP214) file describing the mesh as a faceted B-rep. */
export function stepFile(mesh: Mesh, name = 'demo'): Buffer {
  const P = mesh.positions;
  const out: string[] = [
    'ISO-10303-21;\nHEADER;\n',
    `FILE_DESCRIPTION(('cadence-ops demo model'),'2;1');\n`,
    `FILE_NAME('${name}.step','2026-11-23T08:00:00',('cadence-ops'),(''),'cadence-ops demo','cadence-ops','');\n`,
    "FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));\nENDSEC;\nDATA;\n",
  ];
  let id = 1;
  const pointIds: number[] = [];
  for (let v = 0; v < P.length; v += 3) {
    out.push(`#${id}=CARTESIAN_POINT('',(${f(P[v]!)},${f(P[v + 1]!)},${f(P[v + 2]!)}));\n`);
    pointIds.push(id++);
  }
  const faceIds: number[] = [];
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const loop = id++;
    out.push(
      `#${loop}=POLY_LOOP('',(#${pointIds[mesh.indices[t]!]},#${pointIds[mesh.indices[t + 1]!]},#${pointIds[mesh.indices[t + 2]!]}));\n`,
    );
    const bound = id++;
    out.push(`#${bound}=FACE_OUTER_BOUND('',#${loop},.T.);\n`);
    const face = id++;
    out.push(`#${face}=FACE('',(#${bound}));\n`);
    faceIds.push(face);
  }
  const shell = id++;
  out.push(`#${shell}=CLOSED_SHELL('',(${faceIds.map((x) => `#${x}`).join(',')}));\n`);
  const brep = id++;
  out.push(`#${brep}=FACETED_BREP('${name}',#${shell});\n`);
  out.push(`#${id++}=PRODUCT('${name}','${name}','',());\n`);
  out.push('ENDSEC;\nEND-ISO-10303-21;\n');
  return Buffer.from(out.join(''), 'latin1');
}

/** Malformed files of every kind the loader must diagnose, keyed by file name. */
export function malformedModels(): Record<string, Buffer> {
  const good = binaryStl(torusMesh(12, 8));
  return {
    // Header declares 192 triangles; the file stops half-way through them (PAR004).
    'broken_truncated.stl': good.subarray(0, 84 + 50 * 90),
    // Neither ASCII STL nor a plausible binary STL (PAR001).
    'broken_header.stl': Buffer.from('this is not an STL file at all\n\x00\x01garbage', 'latin1'),
    // Face index 99 with only 4 vertices (PAR005).
    'broken_indices.obj': Buffer.from('v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 99\n'),
    'broken_empty.stl': Buffer.alloc(0),
    // The ISO 10303-21 magic is missing (PAR001).
    'broken_header.step': Buffer.from("HEADER;\nFILE_DESCRIPTION(('x'),'2;1');\nENDSEC;\nDATA;\nENDSEC;\n"),
    // Not a zip container (PAR001).
    'broken_container.3mf': Buffer.from('PK but not really a zip archive'),
  };
}
