// 3MF streaming: the model XML is inflated chunk by chunk into one reused buffer and scanned as it
// arrives, a tag cut by a chunk's end carried over to the next chunk. Whatever the chunk size (so
// wherever the cuts fall) and whichever inflate path (zlib's handle on this thread or on the worker
// thread, zlib's stream, a stored entry), the result is the same; the loader process's peak memory stays within 3x the file plus a constant
// although the XML is ~8 times the file; allocation caps (PAR003) and size/CRC checks still hold.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threeMf, torusMesh, zip } from '../services/demo-models.js';
import { type Parse3mfOptions, parse3mf } from '../services/model-3mf.js';
import { runLoader } from '../services/model-loader.js';
import { loadModelFile, parseModelBuffer } from '../services/model-parse.js';
import { DEFAULT_LIMITS, MemoryBudget, ModelError, type ParsedModel } from '../services/model-types.js';
import { readZipDirectory, streamEntry } from '../services/model-zip.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bad = path.join(here, '../fixtures/models/bad');
const MB = 1024 * 1024;

const RELS =
  '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" Id="r" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>';

/** A zip whose entries are stored (method 0) rather than deflated. */
function storedZip(entries: Array<{ name: string; data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, e.data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const size = centrals.reduce((s, b) => s + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

const pkg = (model: string, stored = false) =>
  (stored ? storedZip : zip)([
    { name: '_rels/.rels', data: Buffer.from(RELS) },
    { name: '3D/3dmodel.model', data: Buffer.from(model) },
  ]);

/** The three inflate paths: zlib's handle here, zlib's handle on the worker thread, zlib's stream. */
const PATHS: Parse3mfOptions[] = [{ threaded: false }, { threaded: true }, { forceStream: true }];

const parse = (b: Buffer, opts: Parse3mfOptions = {}) =>
  parse3mf(b, new MemoryBudget(DEFAULT_LIMITS.memoryBudgetBytes), DEFAULT_LIMITS, {
    keepMesh: true,
    ...opts,
  });

/** What must not depend on where the chunks end. */
function outcome(r: ParsedModel) {
  return {
    triangles: r.triangles,
    vertices: r.vertices,
    bbox: r.bbox,
    warnings: r.warnings,
    details: r.details,
    positions: Array.from(r.mesh!.positions),
    indices: Array.from(r.mesh!.indices!),
  };
}

// Every spelling the scanner reads: the writers' form (its fast path), exponents, "+", blanks around
// numbers and between attributes, single quotes, line breaks inside tags, other attribute orders and
// extra attributes, a `<triangle></triangle>` pair, comments, CDATA, processing instructions,
// metadata text, an extension element, a second object placed by components and a rotated item.
const VARIED = `<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand: ${'padding '.repeat(8)}-->
<model unit="millimeter" xml:lang="en-US" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02" xmlns:m="http://schemas.microsoft.com/3dmanufacturing/material/2015/02">
  <metadata name="Title">A &amp; B &lt;tetra&gt;</metadata>
  <metadata name="Designer">someone</metadata>
  <resources>
    <m:colorgroup id="9"><m:color color="#9e9e9e"/></m:colorgroup>
    <object id="1" type="model" name="tetra">
      <mesh>
        <vertices>
          <vertex x="0" y="0" z="0"/><vertex x="10.5" y="-0.25" z="1e1"/>
          <vertex x = "+2.5" y=' 3 ' z="-7.125" />
          <vertex
             z="4" y="5.0000001" x="6"/>
          <vertex x="1.5E-3" y="123456.789" z="-0.000001"></vertex>
          <?pi inside?>
          <vertex x="-3" y="2" z="1" />
        </vertices>
        <triangles>
          <triangle v1="0" v2="1" v3="2"/><triangle v1="0" v2="1" v3="3" />
          <triangle v3="4" v1="2" v2="3" pid="9" p1="0"/>
          <triangle  v1='3'   v2="4"
            v3="5"/>
          <triangle v1="5" v2="0" v3="1"></triangle>
          <![CDATA[ <triangle v1="0" v2="0" v3="0"/> is not read ]]>
          <triangle v1="1" v2="2" v3="5"/>
        </triangles>
      </mesh>
    </object>
    <object id="2"><components><component objectid="1" transform="0 1 0 -1 0 0 0 0 1 100 0 0"/><component objectid="1"/></components></object>
  </resources>
  <build>
    <item objectid="2" transform="1 0 0 0 1 0 0 0 1 10 20 30"/>
    <item objectid="1" transform="0.5 0 0 0 -2 0 0 0 1 0 0 0"/>
  </build>
</model>
`;

describe('3MF model XML cut at every place by the inflate chunks', () => {
  it('the hand-written model with every spelling: the same result for every chunk size', async () => {
    const whole = await parse(pkg(VARIED));
    // Sanity of the reference itself: the counts and the values of the odd spellings.
    expect(whole.details).toMatchObject({ meshTriangles: 6, meshVertices: 6, buildItems: 2 });
    expect(whole.triangles).toBe(18);
    expect(Array.from(whole.mesh!.positions.subarray(3, 9))).toEqual(
      [10.5, -0.25, 10, 2.5, 3, -7.125].map(Math.fround),
    );
    expect(whole.mesh!.positions[11]).toBe(Math.fround(4));
    expect(whole.mesh!.positions[12]).toBe(Math.fround(0.0015));
    expect(Array.from(whole.mesh!.indices!)).toEqual([0, 1, 2, 0, 1, 3, 2, 3, 4, 3, 4, 5, 5, 0, 1, 1, 2, 5]);
    expect((whole.details.metadata as Record<string, string>).Title).toBe('A & B <tetra>');
    const ref = outcome(whole);
    // Chunks of 64 to 500 bytes put a cut at almost every offset of the ~2.3 KB document at least once.
    const data = pkg(VARIED);
    for (let size = 64; size <= 500; size++) {
      expect(outcome(await parse(data, { chunkSize: size })), `chunk ${size}`).toEqual(ref);
    }
    for (const size of [64, 97, 211, 333, 1000]) {
      expect(outcome(await parse(data, { chunkSize: size, forceStream: true })), `stream ${size}`).toEqual(
        ref,
      );
      expect(outcome(await parse(data, { chunkSize: size, threaded: true })), `thread ${size}`).toEqual(ref);
      // Stored: the same but for the compressed sizes the details list.
      const stored = outcome(await parse(pkg(VARIED, true), { chunkSize: size }));
      expect({ ...stored, details: { ...stored.details, entries: null } }, `stored ${size}`).toEqual({
        ...ref,
        details: { ...ref.details, entries: null },
      });
    }
  });

  it('a generated torus: identical at odd chunk sizes, sync or stream, and equal to its source', async () => {
    const mesh = torusMesh(320, 240);
    const data = threeMf(mesh, 2);
    const model = readZipDirectory(data).find((e) => e.name === '3D/3dmodel.model')!;
    expect(model.uncompressedSize).toBeGreaterThan(8 * MB);
    // Over 8 MB of XML: inflated on the worker thread unless told otherwise.
    const ref = await parse(data, { threaded: false });
    expect(ref.details).toMatchObject({ meshVertices: 76_800, meshTriangles: 153_600 });
    expect(ref.triangles).toBe(307_200);
    // The triangles as written, and the vertices within the 7 digits the writer prints.
    const bytes = (a: Float32Array | Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bytes(ref.mesh!.indices!).equals(bytes(mesh.indices))).toBe(true);
    const P = ref.mesh!.positions;
    expect(P.length).toBe(mesh.positions.length);
    let worst = 0;
    for (let i = 0; i < P.length; i++) worst = Math.max(worst, Math.abs(P[i]! - mesh.positions[i]!));
    expect(worst).toBeLessThan(1e-4);
    for (const opts of [
      {},
      { chunkSize: 4096 + 7 },
      { chunkSize: 65_536 + 13, threaded: false },
      { chunkSize: 65_536 + 13, forceStream: true },
    ]) {
      const r = await parse(data, opts);
      const what = JSON.stringify(opts);
      expect({ ...r, mesh: null }, what).toEqual({ ...ref, mesh: null });
      expect(bytes(r.mesh!.positions).equals(bytes(P)), what).toBe(true);
      expect(bytes(r.mesh!.indices!).equals(bytes(ref.mesh!.indices!)), what).toBe(true);
    }
  });

  it('kept positions stay right when a part has far more vertices than its length suggests', async () => {
    // 70,000 short vertices and one triangle: more than the kept block's estimate (xml/120) and more
    // than one block of 65,536, so the positions are joined from several blocks.
    const parts = [
      '<?xml version="1.0"?><model xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources><object id="1"><mesh><vertices>',
    ];
    for (let v = 0; v < 70_000; v++) parts.push(`<vertex x="${v % 10}" y="${v % 7}" z="${v % 3}"/>`);
    parts.push(
      '</vertices><triangles><triangle v1="0" v2="1" v3="69999"/></triangles></mesh></object></resources><build><item objectid="1"/></build></model>',
    );
    for (const threaded of [false, true]) {
      const r = await parse(pkg(parts.join('')), { threaded, chunkSize: 4096 });
      const P = r.mesh!.positions;
      expect(P.length).toBe(210_000);
      let wrong = 0;
      for (let v = 0; v < 70_000; v++)
        if (P[v * 3] !== v % 10 || P[v * 3 + 1] !== v % 7 || P[v * 3 + 2] !== v % 3) wrong++;
      expect(wrong).toBe(0);
      expect(Array.from(r.mesh!.indices!)).toEqual([0, 1, 69_999]);
      expect(r.bbox).toEqual({ min: [0, 0, 0], max: [9, 6, 2] });
    }
  });

  it('the loader keeps no triangle list unless asked: counts and box are the same', async () => {
    const data = threeMf(torusMesh(60, 40), 3);
    const counted = await parseModelBuffer(data, 'x.3mf');
    const kept = await parseModelBuffer(data, 'x.3mf', DEFAULT_LIMITS, { keepMesh: true });
    expect(counted.mesh).toBeUndefined();
    expect(kept.mesh!.indices!.length).toBe(60 * 40 * 6);
    expect({ ...counted, mesh: undefined }).toEqual({ ...kept, mesh: undefined });
  });
});

describe('3MF streaming: checks and caps still hold', () => {
  let tmp: string;
  let big: string;
  let bigXml: number;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'cadence-3mf-'));
    big = path.join(tmp, 'big.3mf');
    const data = threeMf(torusMesh(600, 400), 1);
    writeFileSync(big, data);
    bigXml = readZipDirectory(data).find((e) => e.name === '3D/3dmodel.model')!.uncompressedSize;
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("the loader process's peak memory stays within 3x the file + 20 MB, with ~8x the file in XML", async () => {
    // The constant: code, V8's optimising compiler (~7 MB while it works) and the inflate thread (~4-8 MB).
    const bytes = readFileSync(big).length;
    const bound = 3 * bytes + 20 * MB;
    // Holding the XML whole (or the triangle list plus a pile of spent inflate buffers) breaks it.
    expect(bigXml).toBeGreaterThan(bound);
    const [out] = await runLoader([{ file: big }], { timeoutMs: 60_000, memoryCapMb: 1024 });
    const r = out!.report;
    expect(r.error).toBeNull();
    expect(r.triangles).toBe(480_000);
    expect(r.peakOverBaseBytes).not.toBeNull();
    expect(r.peakOverBaseBytes!).toBeLessThanOrEqual(bound);
    // ...and it measured something real: at least the file and the vertex positions.
    expect(r.peakOverBaseBytes!).toBeGreaterThan(bytes + 240_000 * 12);
  });

  it('vertex blocks are allocated against the budget as the XML streams: PAR003 past it', async () => {
    // 240,000 vertices need four blocks of 65,536 (768 KB each); a 2 MB budget holds two.
    const r = await loadModelFile(big, { limits: { memoryBudgetBytes: 2 * MB } });
    expect(r.error?.code).toBe('PAR003');
    expect(r.error?.message).toMatch(/vertex buffer needs 0\.75 MB, over the memory cap/);
  });

  it('an entry inflating past its declared size is refused on every inflate path (PAR004)', async () => {
    const bomb = readFileSync(path.join(bad, 'zip_bomb_lying.3mf'));
    for (const opts of PATHS) {
      await expect(parse(bomb, opts)).rejects.toMatchObject({
        code: 'PAR004',
        message: expect.stringMatching(/inflates beyond its declared 2,048 bytes/),
      });
    }
  });

  it('corrupt deflate data and a wrong CRC are PAR004 on every path', async () => {
    const data = threeMf(torusMesh(40, 20), 1);
    const entry = readZipDirectory(data).find((e) => e.name === '3D/3dmodel.model')!;
    const start = entry.localHeaderOffset + 30 + entry.name.length;
    const garbled = Buffer.from(data);
    garbled.fill(0xff, start + 100, start + 140);
    const badCrc = Buffer.from(data);
    // The model's CRC in the central directory (the one read) off by one.
    let central = -1;
    do central = badCrc.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), central + 1);
    while (badCrc.toString('latin1', central + 46, central + 46 + entry.name.length) !== entry.name);
    badCrc.writeUInt32LE((badCrc.readUInt32LE(central + 16) + 1) >>> 0, central + 16);
    for (const opts of PATHS) {
      await expect(parse(garbled, opts)).rejects.toMatchObject({
        code: 'PAR004',
        // Garbage may still decode: then it ends early, too long, or with the wrong CRC.
        message: expect.stringMatching(
          /corrupt deflate data|CRC mismatch|inflated to \d+ bytes|inflates beyond/,
        ),
      });
      await expect(parse(badCrc, opts)).rejects.toMatchObject({
        code: 'PAR004',
        message: expect.stringMatching(/CRC mismatch/),
      });
    }
  });

  it('deflate data cut short is PAR004 (truncated), however the chunks fall', async () => {
    const xml = Buffer.from(VARIED);
    const compressed = deflateRawSync(xml);
    const entry = {
      name: 'm.model',
      method: 8,
      flags: 0,
      crc32: crc32(xml),
      compressedSize: compressed.length - 20,
      uncompressedSize: xml.length,
      localHeaderOffset: 0,
    };
    const header = Buffer.alloc(30 + entry.name.length);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(entry.name.length, 26);
    header.write(entry.name, 30);
    const b = Buffer.concat([header, compressed.subarray(0, compressed.length - 20)]);
    for (const opts of PATHS) {
      for (const chunkSize of [64, 1000]) {
        const err = await streamEntry(b, entry, 1 << 30, (_buf, _start, end) => end, {
          chunkSize,
          ...opts,
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ModelError);
        expect((err as ModelError).code).toBe('PAR004');
        expect((err as ModelError).message).toMatch(/truncated|unexpected end/);
      }
    }
  });

  it('the sink sees every byte once, in order, with zero padding after the data', async () => {
    const xml = Buffer.from(VARIED.repeat(60));
    const data = zip([{ name: 'a.xml', data: xml }]);
    const [entry] = readZipDirectory(data);
    // Keeps back the last 10 bytes each time (they come back in front of the next chunk), or
    // everything until the end (a tail longer than the worker's slot prefix).
    for (const holdAll of [false, true]) {
      for (const opts of PATHS) {
        const seen: Buffer[] = [];
        let padded = true;
        const rest = await streamEntry(
          data,
          entry!,
          1 << 30,
          (buf, start, end, final) => {
            for (let i = end; i < end + 64; i++) if (buf[i] !== 0) padded = false;
            const used = final ? end : holdAll ? start : Math.max(start, end - 10);
            seen.push(Buffer.from(buf.subarray(start, used)));
            return used;
          },
          { chunkSize: 1000, ...opts },
        );
        const what = `${JSON.stringify(opts)} hold all: ${holdAll}`;
        expect(rest.length, what).toBe(0);
        expect(Buffer.concat(seen).equals(xml), what).toBe(true);
        expect(padded, what).toBe(true);
      }
    }
  });

  it('a parse that fails half way on the worker thread leaves it ready for the next one', async () => {
    // Triangle 100 of 40,000 refers to a vertex that does not exist: the scan throws while the
    // worker still has hundreds of slots to fill. The next parses on the thread must be whole.
    const mesh = torusMesh(200, 100);
    const model = (bad: boolean) => {
      const parts = [
        '<?xml version="1.0"?><model xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources><object id="1"><mesh><vertices>',
      ];
      for (let v = 0; v < mesh.positions.length; v += 3)
        parts.push(
          `<vertex x="${mesh.positions[v]}" y="${mesh.positions[v + 1]}" z="${mesh.positions[v + 2]}"/>`,
        );
      parts.push('</vertices><triangles>');
      for (let t = 0; t < mesh.indices.length; t += 3) {
        const v3 = bad && t === 300 ? 999_999 : mesh.indices[t + 2];
        parts.push(`<triangle v1="${mesh.indices[t]}" v2="${mesh.indices[t + 1]}" v3="${v3}"/>`);
      }
      parts.push('</triangles></mesh></object></resources><build><item objectid="1"/></build></model>');
      return pkg(parts.join(''));
    };
    const bad = model(true);
    const good = model(false);
    for (let i = 0; i < 3; i++) {
      await expect(parse(bad, { threaded: true, chunkSize: 4096 })).rejects.toMatchObject({
        code: 'PAR005',
        message: expect.stringMatching(/triangle 100 refers to vertex 999999/),
      });
      const r = await parse(good, { threaded: true, chunkSize: 4096 });
      expect(r.triangles).toBe(40_000);
      expect(
        Buffer.from(r.mesh!.indices!.buffer, r.mesh!.indices!.byteOffset, 480_000).equals(
          Buffer.from(mesh.indices.buffer),
        ),
      ).toBe(true);
    }
  });
});
