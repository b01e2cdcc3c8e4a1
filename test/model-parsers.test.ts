// The parsers against independent loaders (fixtures/models/README.md: what three.js, assimp and
// fast_obj report for each real file), against generated meshes of known size, and on every bad
// input with its PAR code.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  asciiStl,
  binaryStl,
  malformedModels,
  objFile,
  stepFile,
  threeMf,
  torusMesh,
  zip,
} from '../services/demo-models.js';
import { composeTransforms, parseTransform } from '../services/model-3mf.js';
import { detectFormat } from '../services/model-detect.js';
import { loadModelFile, parseModelBuffer } from '../services/model-parse.js';
import { parseInteger, parseNumber, scan } from '../services/model-text.js';
import { type BBox, boxOfBlocks, ModelError } from '../services/model-types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const real = path.join(here, '../fixtures/models/real');
const bad = path.join(here, '../fixtures/models/bad');

type Box = [[number, number, number], [number, number, number]];
/** Triangles and box per real file: the figure the independent loaders agree on, or the right one. */
const MANIFEST: Record<string, { triangles: number; box?: Box; meshTriangles?: number; format: string }> = {
  '3mfsamples--sphere.3mf': {
    format: '3mf',
    triangles: 2880,
    meshTriangles: 2880,
    box: [
      [0, 0, 0],
      [20, 20, 20],
    ],
  },
  '3mfsamples--torus.3mf': {
    format: '3mf',
    triangles: 2200,
    meshTriangles: 2200,
    box: [
      [0, 0.00399911, 0.00999956],
      [24, 23.9566, 3.96929],
    ],
  },
  'assimp--Spider_ascii.stl': {
    format: 'stl-ascii',
    triangles: 1368,
    box: [
      [-3.1149, -4, -1.64933],
      [3.1149, 4, 1.64933],
    ],
  },
  'assimp--box.3mf': {
    format: '3mf',
    triangles: 12,
    meshTriangles: 12,
    box: [
      [0, 0, 0],
      [10, 20, 30],
    ],
  },
  'assimp--concave_polygon.obj': {
    format: 'obj',
    triangles: 64,
    box: [
      [-1.146, 1.6575, 1.6055],
      [-1.146, 3.1425, 3.0905],
    ],
  },
  'threejs--colored.stl': {
    format: 'stl-binary',
    triangles: 2156,
    box: [
      [-0.634779, -0.662873, -0.66908],
      [2.54, 0.605267, 0.599768],
    ],
  },
  'trimesh--cycloidal.ply': {
    format: 'ply-binary-le',
    triangles: 43368,
    box: [
      [0.239546, -0.33863, 0.810647],
      [2.11455, 1.53596, 1.91756],
    ],
  },
  'trimesh--featuretype.3MF': {
    format: '3mf',
    triangles: 2208,
    meshTriangles: 2208,
    box: [
      [-2.5, -1.25, -2.73185e-16],
      [2.5, 1.25, 1.375],
    ],
  },
  'trimesh--featuretype.ply': {
    format: 'ply-ascii',
    triangles: 3476,
    box: [
      [-2.5, -1.25, 0],
      [2.5, 1.25, 1.375],
    ],
  },
  // three.js reads 3 triangles here (it misreads the extra texcoord list); assimp's 1,000 is right.
  'trimesh--fuze_ascii.ply': {
    format: 'ply-ascii',
    triangles: 1000,
    box: [
      [-0.036391, -0.036711, 0.004016],
      [0.036221, 0.036803, 0.219144],
    ],
  },
  'trimesh--groups.obj': {
    format: 'obj',
    triangles: 2308,
    box: [
      [-4.71259, -2.55364, -1.51894e-16],
      [4.71259, 2.38197, 4],
    ],
  },
  'trimesh--multibody.stl': {
    format: 'stl-ascii',
    triangles: 32,
    box: [
      [-0.51079, -0.71881, -0.0519321],
      [0.125242, 0.369622, 0.287996],
    ],
  },
  'trimesh--negative_indices.obj': {
    format: 'obj',
    triangles: 12,
    box: [
      [-1, -1, -1],
      [1, 1, 1],
    ],
  },
  'trimesh--polygonfaces.obj': {
    format: 'obj',
    triangles: 3,
    box: [
      [-500, 0, -500],
      [500, 500, 500],
    ],
  },
  // 3,172 in the mesh resources, 3,276 in the built scene (three.js with a full DOM; linkedom reads 0).
  'trimesh--pyramids.3mf': {
    format: '3mf',
    triangles: 3276,
    meshTriangles: 3172,
    box: [
      [5.0123, 5.0236, 10.025],
      [351.738, 168.105, 35.025],
    ],
  },
  'trimesh--quadknot.obj': {
    format: 'obj',
    triangles: 2880,
    box: [
      [-149.291, -66.859, -167.229],
      [21.4438, 66.8602, 14.0946],
    ],
  },
  'trimesh--rabbit.obj': {
    format: 'obj',
    triangles: 1252,
    box: [
      [-1.00261, 5.72069e-17, -1.426],
      [1, 4.41361, 1.714],
    ],
  },
  // A binary STL whose header begins with "solid".
  'trimesh--torus.STL': {
    format: 'stl-binary',
    triangles: 8700,
    box: [
      [-1.5, -1.49976, -0.499013],
      [1.49902, 1.49976, 0.499013],
    ],
  },
  'trimesh--base_interface_AP203.STEP': { format: 'step', triangles: 0 },
  'trimesh--base_interface_AP214.STEP': { format: 'step', triangles: 0 },
  'trimesh--featuretype.STEP': { format: 'step', triangles: 0 },
};

/** The manifest prints 6 significant digits. */
function expectBox(actual: BBox | null, expected: Box): void {
  expect(actual).not.toBeNull();
  for (const [i, corner] of [actual!.min, actual!.max].entries()) {
    for (let k = 0; k < 3; k++) {
      const e = expected[i]![k]!;
      const tolerance = Math.max(Math.abs(e) * 2e-5, 1e-6);
      expect(
        Math.abs(corner[k]! - e),
        `${i ? 'max' : 'min'}[${k}] = ${corner[k]} vs ${e}`,
      ).toBeLessThanOrEqual(tolerance);
    }
  }
}

describe('real files: counts and boxes match the independent loaders', () => {
  it('covers every file of fixtures/models/real', () => {
    expect(readdirSync(real).sort()).toEqual(Object.keys(MANIFEST).sort());
  });
  for (const [name, want] of Object.entries(MANIFEST)) {
    it(name, async () => {
      const r = await loadModelFile(path.join(real, name));
      expect(r.error).toBeNull();
      expect(r.format).toBe(want.format);
      expect(r.bytes).toBe(readFileSync(path.join(real, name)).length);
      if (want.format === 'step') {
        expect(r.triangles).toBeNull();
        expect(r.bbox).toBeNull();
        return;
      }
      expect(r.triangles).toBe(want.triangles);
      if (want.meshTriangles !== undefined) expect(r.details.meshTriangles).toBe(want.meshTriangles);
      if (want.box) expectBox(r.bbox, want.box);
      expect(r.parseMs).toBeGreaterThan(0);
    });
  }

  it('pyramids.3mf: components and build items are instantiated with their transforms', async () => {
    const r = await loadModelFile(path.join(real, 'trimesh--pyramids.3mf'));
    expect(r.details).toMatchObject({ buildItems: 9, objects: 7, componentObjects: 1, meshTriangles: 3172 });
    // Object 7 is composed of objects 5 and 6 and is built three times.
    const list = r.details.objectList as Array<{
      id: string;
      components: number;
      expandedTriangles?: number;
    }>;
    expect(list.find((o) => o.id === '7')).toMatchObject({ components: 2 });
  });

  it('STEP: header, schema and entity counts match an independent line count', async () => {
    for (const name of ['trimesh--base_interface_AP203.STEP', 'trimesh--featuretype.STEP']) {
      const text = readFileSync(path.join(real, name), 'latin1');
      const r = await loadModelFile(path.join(real, name));
      // Independent count: instance lines `#n = TYPE (` (these files put one instance per line).
      const counts: Record<string, number> = {};
      for (const m of text.matchAll(/^#\d+\s*=\s*([A-Z_0-9]+)\s*\(/gm))
        counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
      const complex = [...text.matchAll(/^#\d+\s*=\s*\(/gm)].length;
      const byType = r.details.byType as Record<string, number>;
      for (const [type, n] of Object.entries(counts)) expect(byType[type], type).toBe(n);
      expect(r.details.entities).toBe(Object.values(counts).reduce((a, b) => a + b, 0) + complex);
      expect(r.details.tessellation).toMatch(/no tessellation/);
      expect(r.warnings.join(' ')).toMatch(/no tessellation/);
    }
    const ap203 = await loadModelFile(path.join(real, 'trimesh--base_interface_AP203.STEP'));
    expect(ap203.details.protocol).toMatch(/AP203/);
    const ap214 = await loadModelFile(path.join(real, 'trimesh--featuretype.STEP'));
    expect(ap214.details).toMatchObject({
      schemas: ['AUTOMOTIVE_DESIGN'],
      originatingSystem: 'SolidWorks 2013',
      products: ['featuretype'],
    });
  });

  it('OBJ: objects, groups and material references are noted', async () => {
    const r = await loadModelFile(path.join(real, 'trimesh--quadknot.obj'));
    expect(r.details.mtllibs).toEqual(['./quadknot.obj.mtl']);
    expect(r.warnings.join(' ')).toMatch(/materials referenced, not loaded/);
    const g = await loadModelFile(path.join(real, 'trimesh--groups.obj'));
    expect((g.details.groups as number) + (g.details.objects as number)).toBeGreaterThan(0);
  });
});

describe('generated meshes of known size', () => {
  const mesh = torusMesh(24, 16, 40, 12);
  const tri = 24 * 16 * 2;
  const box: Box = [
    [-52, -52, -12],
    [52, 52, 12],
  ];
  it.each([
    ['binary.stl', binaryStl(mesh), 'stl-binary'],
    ['solid_header.stl', binaryStl(mesh, 'solid but actually binary'), 'stl-binary'],
    ['ascii.stl', asciiStl(mesh), 'stl-ascii'],
    ['mesh.obj', objFile(mesh), 'obj'],
  ])('%s', async (name, data, format) => {
    const r = await parseModelBuffer(data, name);
    expect(r.format).toBe(format);
    expect(r.triangles).toBe(tri);
    // The torus's extremes are sampled points: within 0.5 % of the analytic box.
    for (let k = 0; k < 3; k++) {
      expect(r.bbox!.min[k]).toBeGreaterThanOrEqual(box[0][k]! - 1e-3);
      expect(r.bbox!.max[k]).toBeLessThanOrEqual(box[1][k]! + 1e-3);
      expect(r.bbox!.max[k]! - r.bbox!.min[k]!).toBeGreaterThan((box[1][k]! - box[0][k]!) * 0.99);
    }
  });

  it('a binary STL whose header begins with "solid" is detected as binary', () => {
    const d = detectFormat(binaryStl(mesh, 'solid but actually binary'), 'x.stl');
    expect(d.format).toBe('stl-binary');
    expect(d.reason).toMatch(/although the header begins with "solid"/);
  });

  it('3MF: both counts, and the box of the built scene with its translated copies', async () => {
    const r = await parseModelBuffer(threeMf(mesh, 3), 'x.3mf');
    expect(r.triangles).toBe(tri * 3);
    expect(r.details.meshTriangles).toBe(tri);
    expect(r.details.buildItems).toBe(3);
    expect(r.bbox!.max[0]).toBeCloseTo(52 + 240, 3);
    expect(r.bbox!.min[0]).toBeCloseTo(-52, 3);
  });

  it('STEP: the faceted B-rep is scanned, entity counts exact', async () => {
    const small = torusMesh(6, 4);
    const r = await parseModelBuffer(stepFile(small), 'x.step');
    expect(r.format).toBe('step');
    expect(r.details.byType).toMatchObject({ CARTESIAN_POINT: 24, POLY_LOOP: 48, FACE: 48, CLOSED_SHELL: 1 });
    expect(r.details.products).toEqual(['demo']);
  });

  it('the content decides, not the extension (with a warning)', async () => {
    const r = await parseModelBuffer(objFile(mesh), 'misnamed.stl');
    expect(r.format).toBe('obj');
    expect(r.warnings.join(' ')).toMatch(/extension .stl does not match/);
  });
});

describe('the triangle list is kept only when asked, and nothing reported depends on it', () => {
  // Without keepMesh (what the loader runs) OBJ, PLY and 3MF check, count and mark triangles
  // without storing them; the counts, boxes, warnings and details must be the same either way.
  const same = async (data: Buffer, name: string) => {
    const counted = await parseModelBuffer(data, name);
    const kept = await parseModelBuffer(data, name, undefined, { keepMesh: true });
    expect({ ...counted, mesh: undefined }, name).toEqual({ ...kept, mesh: undefined });
    return { counted, kept };
  };
  it('every real file', async () => {
    for (const name of readdirSync(real)) {
      const { counted, kept } = await same(readFileSync(path.join(real, name)), name);
      if (/\.(obj|ply|3mf)$/i.test(name)) {
        expect(counted.mesh, name).toBeUndefined();
        expect(kept.mesh!.indices!.length / 3, name).toBe(
          name.endsWith('.3mf') || name.endsWith('.3MF') ? kept.details.meshTriangles : kept.triangles,
        );
      }
    }
  });
  it('an OBJ whose vertices span several blocks, some unused, and polygons', async () => {
    const mesh = torusMesh(400, 200); // 80,000 vertices: two blocks of positions
    const lines = [objFile(mesh).toString('latin1'), 'v 1000 1000 1000\n', 'f 1 2 3 4 5 6\n'];
    const { counted, kept } = await same(Buffer.from(lines.join('')), 'x.obj');
    expect(counted.vertices).toBe(80_001);
    expect(counted.triangles).toBe(160_000 + 4);
    expect(counted.warnings.join(' ')).toMatch(/1 vertices not used/);
    // The box is the torus's: the unused far vertex (in the second block) stays out.
    expect(counted.bbox!.max[0]).toBeLessThan(60);
    // The kept positions are the torus's, across the block boundary.
    const P = kept.mesh!.positions;
    expect(P.length).toBe(80_001 * 3);
    let worst = 0;
    for (let i = 0; i < mesh.positions.length; i++)
      worst = Math.max(worst, Math.abs(P[i]! - mesh.positions[i]!));
    expect(worst).toBeLessThan(1e-4);
    expect(P[80_000 * 3]).toBe(1000);
  });
  it('PLY with quads, ASCII and binary', async () => {
    const n = 60;
    const head = (format: string) =>
      `ply\nformat ${format} 1.0\nelement vertex ${(n + 1) ** 2}\nproperty float x\nproperty float y\nproperty float z\nelement face ${n * n}\nproperty list uchar int vertex_indices\nend_header\n`;
    const text: string[] = [head('ascii')];
    const body = Buffer.alloc((n + 1) ** 2 * 12 + n * n * 17);
    let o = 0;
    for (let i = 0; i <= n; i++)
      for (let j = 0; j <= n; j++) {
        text.push(`${i} ${j} ${(i * j) % 7}\n`);
        for (const v of [i, j, (i * j) % 7]) o = body.writeFloatLE(v, o);
      }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const a = i * (n + 1) + j;
        const quad = [a, a + 1, a + n + 2, a + n + 1];
        text.push(`4 ${quad.join(' ')}\n`);
        o = body.writeUInt8(4, o);
        for (const v of quad) o = body.writeInt32LE(v, o);
      }
    for (const data of [
      Buffer.from(text.join('')),
      Buffer.concat([Buffer.from(head('binary_little_endian')), body]),
    ]) {
      const { counted, kept } = await same(data, 'q.ply');
      expect(counted.triangles).toBe(n * n * 2);
      expect(kept.mesh!.indices!.length).toBe(n * n * 6);
      expect(counted.bbox).toEqual({ min: [0, 0, 0], max: [n, n, 6] });
    }
  });
});

describe('bounding boxes of positions in blocks', () => {
  it('with a used mask, only used vertices count, across blocks and runs; without, all of them', () => {
    // 10 vertices in blocks of 4, 4 and 2; vertex v is at (v, 10 - v, 2v), 9 is far out.
    const at = (v: number) => (v === 9 ? [1000, 1000, 1000] : [v, 10 - v, 2 * v]);
    const blocks = [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ].map((vs) => new Float32Array(vs.flatMap(at)));
    const used = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
    expect(boxOfBlocks(blocks, 10, used)).toEqual({ min: [1, 3, 2], max: [7, 9, 14] });
    expect(boxOfBlocks(blocks, 10)).toEqual({ min: [0, 2, 0], max: [1000, 1000, 1000] });
    // count stops before the far vertex; nothing used is no box
    expect(boxOfBlocks(blocks, 9)).toEqual({ min: [0, 2, 0], max: [8, 10, 16] });
    expect(boxOfBlocks(blocks, 10, new Uint8Array(10))).toBeNull();
  });
});

describe('OBJ details', () => {
  const obj = (text: string, keepMesh = false) =>
    parseModelBuffer(Buffer.from(text), 'x.obj', undefined, { keepMesh });
  it('polygons become fans; v/vt/vn, v//vn and negative indices', async () => {
    const r = await obj(
      'v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 5\nvt 0 0\nvt 1 0\nvt 1 1\nvn 0 0 1\n' +
        'g quads\nf 1/1/1 2/2/1 3/3/1 4/1/1\no neg\nf -5//1 -4//1 -1//1\nf 1 2 \\\n 5\n',
      true,
    );
    expect(r.triangles).toBe(4);
    expect(Array.from(r.mesh!.indices!)).toEqual([0, 1, 2, 0, 2, 3, 0, 1, 4, 0, 1, 4]);
    expect(r.details).toMatchObject({
      objects: 1,
      groups: 1,
      polygonsTriangulated: 1,
      textureCoordinates: 3,
      normals: 1,
    });
    expectBox(r.bbox, [
      [0, 0, 0],
      [1, 1, 5],
    ]);
  });
  it('texture and normal indices are range-checked too (PAR005)', async () => {
    await expect(obj('v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/2 2/1 3/1\n')).rejects.toMatchObject({
      code: 'PAR005',
    });
    await expect(obj('v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1//1 2//1 3//1\n')).rejects.toMatchObject({
      code: 'PAR005',
    });
  });
  it('vertices no face uses stay out of the box', async () => {
    const r = await obj('v 0 0 0\nv 1 0 0\nv 0 1 0\nv 100 100 100\nf 1 2 3\n');
    expect(r.bbox!.max).toEqual([1, 1, 0]);
    expect(r.warnings.join(' ')).toMatch(/1 vertices not used/);
  });
  it('CRLF line ends, comments, w components and vertex colours', async () => {
    const r = await obj('# c\r\nv 0 0 0 1\r\nv 1 0 0 0.5 0.5 0.5\r\nv 0 1 0\r\nf 1 2 3 # tail\r\n');
    expect(r.triangles).toBe(1);
    expect(r.vertices).toBe(3);
  });
});

describe('PLY details', () => {
  it('binary big-endian with double coordinates and a quad', async () => {
    const head = Buffer.from(
      'ply\nformat binary_big_endian 1.0\nelement vertex 4\nproperty double x\nproperty double y\nproperty double z\nproperty uchar red\n' +
        'element face 1\nproperty list uchar uint vertex_indices\nend_header\n',
    );
    const body = Buffer.alloc(4 * 25 + 1 + 16);
    const pts = [0, 0, 0, 2, 0, 0, 2, 3, 0, 0, 3, -1];
    for (let v = 0; v < 4; v++) {
      for (let k = 0; k < 3; k++) body.writeDoubleBE(pts[v * 3 + k]!, v * 25 + k * 8);
      body[v * 25 + 24] = 255;
    }
    body[100] = 4;
    for (let k = 0; k < 4; k++) body.writeUInt32BE(k, 101 + k * 4);
    const r = await parseModelBuffer(Buffer.concat([head, body]), 'q.ply');
    expect(r.format).toBe('ply-binary-be');
    expect(r.triangles).toBe(2);
    expect(r.bbox).toEqual({ min: [0, 0, -1], max: [2, 3, 0] });
  });
  it('a header declaring more than the file holds is refused before allocating (PAR004)', async () => {
    const text =
      'ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n';
    await expect(parseModelBuffer(Buffer.from(text), 'h.ply')).rejects.toMatchObject({ code: 'PAR004' });
  });
  it('a face index past the vertices is PAR005', async () => {
    const text =
      'ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 3\n';
    await expect(parseModelBuffer(Buffer.from(text), 'i.ply')).rejects.toMatchObject({ code: 'PAR005' });
  });
});

describe('3MF details', () => {
  const rels =
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" Id="r" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>';
  const pkg = (model: string) =>
    zip([
      { name: '_rels/.rels', data: Buffer.from(rels) },
      { name: '3D/3dmodel.model', data: Buffer.from(model) },
    ]);
  const tetra =
    '<mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/><vertex x="0" y="0" z="1"/></vertices>' +
    '<triangles><triangle v1="0" v2="1" v3="2"/><triangle v1="0" v2="1" v3="3"/><triangle v1="0" v2="2" v3="3"/><triangle v1="1" v2="2" v3="3"/></triangles></mesh>';

  it('components nest, transforms compose (rotation, then translation)', async () => {
    // Object 2 = object 1 rotated 90° about z; built once moved by (10, 0, 0).
    const model = `<?xml version="1.0" encoding="UTF-8"?>
<model unit="inch" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">
<resources><object id="1" type="model">${tetra}</object>
<object id="2"><components><component objectid="1" transform="0 1 0 -1 0 0 0 0 1 0 0 0"/><component objectid="1"/></components></object></resources>
<build><item objectid="2" transform="1 0 0 0 1 0 0 0 1 10 0 0"/><item objectid="1"/></build></model>`;
    const r = await parseModelBuffer(pkg(model), 'c.3mf');
    expect(r.details).toMatchObject({ meshTriangles: 4, builtTriangles: 12, unit: 'inch', buildItems: 2 });
    expect(r.triangles).toBe(12);
    // Rotated copy spans x in [9, 10], the plain copy [10, 11], the item without transform [0, 1].
    expect(r.bbox).toEqual({ min: [0, 0, 0], max: [11, 1, 1] });
  });

  it('transforms: 12 numbers, composed in 3MF row-vector order', () => {
    const rot = parseTransform('0 1 0 -1 0 0 0 0 1 0 0 0', 't');
    const move = parseTransform('1 0 0 0 1 0 0 0 1 5 6 7', 't');
    expect(Array.from(composeTransforms(rot, move))).toEqual([0, 1, 0, -1, 0, 0, 0, 0, 1, 5, 6, 7]);
    expect(() => parseTransform('1 0 0', 't')).toThrow(/12 numbers/);
  });

  it('a prefixed core namespace and attributes with blanks still parse', async () => {
    const model = `<?xml version="1.0"?><c:model xmlns:c="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><c:resources><c:object id="1"><c:mesh><c:vertices><c:vertex x = "0" y="0" z="0"/><c:vertex x="2" y="0" z="0"/><c:vertex x="0" y=' 3 ' z="0"/></c:vertices><c:triangles><c:triangle v1="0" v2="1" v3="2"/></c:triangles></c:mesh></c:object></c:resources><c:build><c:item objectid="1"/></c:build></c:model>`;
    const r = await parseModelBuffer(pkg(model), 'p.3mf');
    expect(r.triangles).toBe(1);
    expect(r.bbox).toEqual({ min: [0, 0, 0], max: [2, 3, 0] });
  });

  it('a model split over chunk boundaries parses the same (large generated package)', async () => {
    const big = torusMesh(300, 100);
    const r = await parseModelBuffer(threeMf(big, 1), 'big.3mf');
    expect(r.triangles).toBe(60000);
  });
});

describe('numbers are parsed as parseFloat (exactly up to 15 digits; the same float32 always)', () => {
  it('random float32 values printed every way', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (let i = 0; i < 20000; i++) {
      const v = Math.fround(rand() * 10 ** Math.floor(rand() * 12));
      for (const text of [String(v), v.toPrecision(7), v.toExponential(6), v.toFixed(4), `+${Math.abs(v)}`]) {
        const b = Buffer.from(` ${text} `);
        const got = parseNumber(b, 1, b.length);
        const want = Number.parseFloat(text);
        // Exact when the digits fit a double's integer range and the power of ten is exact (<= 22).
        const [mant = '', exp = '0'] = text.replace(/^[-+]/, '').toLowerCase().split('e');
        const fraction = mant.includes('.') ? mant.split('.')[1]!.length : 0;
        const digits = mant.replace('.', '').replace(/^0+/, '').length;
        if (digits <= 15 && Math.abs(Number(exp) - fraction) <= 22) expect(got, text).toBe(want);
        else expect(Math.abs(got - want), text).toBeLessThanOrEqual(Math.abs(want) * 4e-16);
        // What the parsers store: float32, always identical.
        expect(Math.fround(got), text).toBe(Math.fround(want));
        expect(scan.end).toBe(1 + text.length);
      }
    }
  });
  it('edge cases', () => {
    for (const text of [
      '0',
      '-0',
      '.5',
      '5.',
      '1e5',
      '1E-5',
      '-2.5e+3',
      '123456789012345678',
      '1e-30',
      '7e30',
    ]) {
      const b = Buffer.from(text);
      const want = Number.parseFloat(text);
      expect(Math.abs(parseNumber(b, 0, b.length) - want), text).toBeLessThanOrEqual(Math.abs(want) * 4e-16);
    }
    const none = Buffer.from('abc');
    expect(Number.isNaN(parseNumber(none, 0, 3))).toBe(true);
    expect(scan.end).toBe(0);
    const e = Buffer.from('3e'); // an "e" without digits is not part of the number
    expect(parseNumber(e, 0, 2)).toBe(3);
    expect(scan.end).toBe(1);
    const i = Buffer.from('-42/7');
    expect(parseInteger(i, 0, i.length)).toBe(-42);
    expect(scan.end).toBe(3);
  });
});

describe('bad input: every file gives its PAR code and a clear message', () => {
  const expected: Record<string, [string, RegExp]> = {
    'truncated_binary.stl': ['PAR004', /declares 192 triangles.*room for 90/],
    'declares_billions.stl': ['PAR004', /declares 4,000,000,000 triangles/],
    'ascii_garbage.stl': ['PAR004', /line 13: unexpected "vortex/],
    'nan_vertex_ascii.stl': ['PAR005', /line 5: non-finite coordinate/],
    'nan_vertex_binary.stl': ['PAR005', /triangle 5 .* non-finite/],
    'out_of_range.obj': ['PAR005', /line 7: face refers to vertex 99, out of range \(4 vertices/],
    'zero_index.obj': ['PAR005', /vertex 0, out of range/],
    'truncated.ply': ['PAR004', /truncated/],
    'truncated.step': ['PAR004', /instance #2 is not terminated/],
    'wrong_header.step': ['PAR001', /must start with "ISO-10303-21;", found "ISO-10303-22;"/],
    'empty.stl': ['PAR001', /empty file \(0 bytes\)/],
    'directory.stl': ['PAR001', /is a directory/],
    'zip_bomb_declared.3mf': ['PAR003', /declares 4,000,000,000 bytes uncompressed.*zip bomb/],
    'zip_bomb_lying.3mf': ['PAR004', /inflates beyond its declared 2,048 bytes/],
    'xml_entities.3mf': ['PAR004', /entity declarations/],
    'bad_index.3mf': ['PAR005', /refers to vertex 7, out of range \(3 vertices\)/],
    'component_cycle.3mf': ['PAR004', /contains itself/],
    'truncated.3mf': ['PAR004', /truncated/],
  };
  it('covers every file of fixtures/models/bad', () => {
    expect(readdirSync(bad).sort()).toEqual(Object.keys(expected).sort());
  });
  for (const [name, [code, message]] of Object.entries(expected)) {
    it(`${name}: ${code}`, async () => {
      const r = await loadModelFile(path.join(bad, name));
      expect(r.error?.code).toBe(code);
      expect(r.error?.message).toMatch(message);
      expect(r.triangles).toBeNull();
    });
  }
  it('the malformed files of the demo site (services/demo-models.ts)', async () => {
    const codes: Record<string, string> = {};
    for (const [name, data] of Object.entries(malformedModels())) {
      try {
        await parseModelBuffer(data, name);
        codes[name] = 'ok';
      } catch (err) {
        codes[name] = (err as ModelError).code;
      }
    }
    expect(codes).toEqual({
      'broken_truncated.stl': 'PAR004',
      'broken_header.stl': 'PAR001',
      'broken_indices.obj': 'PAR005',
      'broken_empty.stl': 'PAR001',
      'broken_header.step': 'PAR001',
      'broken_container.3mf': 'PAR001',
    });
  });
  it('a missing file is ERR005', async () => {
    const r = await loadModelFile(path.join(bad, 'no-such-file.stl'));
    expect(r.error?.code).toBe('ERR005');
  });
  it('an allocation past the memory budget is refused with PAR003, before it is made', async () => {
    const r = await loadModelFile(path.join(real, 'trimesh--torus.STL'), {
      limits: { memoryBudgetBytes: 100_000 },
    });
    expect(r.error?.code).toBe('PAR003');
    expect(r.error?.message).toMatch(/8,700 triangles needs .* over the memory cap/);
  });
  it('a zip entry over the uncompressed cap is refused (PAR003)', async () => {
    const r = await loadModelFile(path.join(real, '3mfsamples--sphere.3mf'), {
      limits: { maxUncompressedBytes: 10_000 },
    });
    expect(r.error?.code).toBe('PAR003');
  });
  it('garbage after a valid start never crashes a parser (random corruption)', async () => {
    const sources = [
      'trimesh--torus.STL',
      'assimp--Spider_ascii.stl',
      'trimesh--rabbit.obj',
      'trimesh--fuze_ascii.ply',
      'trimesh--cycloidal.ply',
      'assimp--box.3mf',
      'trimesh--featuretype.STEP',
    ];
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (const name of sources) {
      const data = readFileSync(path.join(real, name));
      for (let i = 0; i < 15; i++) {
        const copy = Buffer.from(data);
        for (let k = 0; k < 20; k++) copy[rand(copy.length)] = rand(256);
        const cut = copy.subarray(0, rand(2) ? copy.length : rand(copy.length));
        try {
          const r = await parseModelBuffer(cut, name);
          expect(r.format).toBeTruthy();
        } catch (err) {
          expect(err, `${name} #${i}: ${(err as Error).stack}`).toBeInstanceOf(ModelError);
        }
      }
    }
  });
});
