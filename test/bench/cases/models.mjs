// Model parsers: cadence-ops against three.js's loaders (in this process, from memory) and assimp
// (Debian assimp-utils; `assimp info FILE -r -s` prints the time of its import alone, without
// post-processing or start-up) on the same large generated meshes and on the real public files of
// fixtures/models/real. Ours and theirs alternate, medians are reported in MB/s of file size.
// Also: the loader process's peak memory against the file size (target: 3x + a constant).
// BENCH_MODELS_SCALE=0.25 makes the generated files smaller (default 1: ~40-100 MB each).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';

const scale = Number(process.env.BENCH_MODELS_SCALE ?? 1);
const ROUNDS = Number(process.env.BENCH_MODELS_ROUNDS ?? 5);

async function bundleOurs(h, dir) {
  const outfile = path.join(dir, 'ours.mjs');
  await build({
    stdin: {
      contents:
        "export * from './services/model-parse.ts'; export * from './services/demo-models.ts'; export { parseModelBuffer } from './services/model-parse.ts';",
      resolveDir: h.root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}

function plyBinary(mesh) {
  const n = mesh.positions.length / 3;
  const t = mesh.indices.length / 3;
  const head = Buffer.from(
    `ply\nformat binary_little_endian 1.0\ncomment cadence-ops bench\nelement vertex ${n}\nproperty float x\nproperty float y\nproperty float z\nelement face ${t}\nproperty list uchar int vertex_indices\nend_header\n`,
  );
  const body = Buffer.alloc(n * 12 + t * 13);
  Buffer.from(mesh.positions.buffer, mesh.positions.byteOffset, n * 12).copy(body, 0);
  let o = n * 12;
  for (let i = 0; i < t; i++) {
    body[o++] = 3;
    for (let k = 0; k < 3; k++) {
      body.writeInt32LE(mesh.indices[i * 3 + k], o);
      o += 4;
    }
  }
  return Buffer.concat([head, body]);
}

function plyAscii(mesh) {
  const parts = [
    `ply\nformat ascii 1.0\nelement vertex ${mesh.positions.length / 3}\nproperty float x\nproperty float y\nproperty float z\nelement face ${mesh.indices.length / 3}\nproperty list uchar int vertex_indices\nend_header\n`,
  ];
  const P = mesh.positions;
  for (let i = 0; i < P.length; i += 3)
    parts.push(`${P[i].toPrecision(7)} ${P[i + 1].toPrecision(7)} ${P[i + 2].toPrecision(7)}\n`);
  const I = mesh.indices;
  for (let i = 0; i < I.length; i += 3) parts.push(`3 ${I[i]} ${I[i + 1]} ${I[i + 2]}\n`);
  return Buffer.from(parts.join(''), 'latin1');
}

// Both sides share this process: a young-generation collection before each timed run, so neither
// pays for the other's short-lived garbage. (A full gc() is worse than none: V8 flushes compiled
// code in a forced full collection, and every run after it starts cold.)
v8.setFlagsFromString('--expose-gc');
const fullGc = vm.runInNewContext('gc');
const gc = () => fullGc({ type: 'minor' });

/** Alternates ours and theirs, one run each per round, after one warm-up each; medians in ms. */
async function duel(ours, theirs, rounds = ROUNDS) {
  await ours();
  if (theirs) await theirs();
  const a = [];
  const b = [];
  for (let r = 0; r < rounds; r++) {
    gc();
    let t = performance.now();
    await ours();
    a.push(performance.now() - t);
    if (theirs) {
      gc();
      t = performance.now();
      const reported = await theirs();
      b.push(typeof reported === 'number' ? reported : performance.now() - t);
    }
  }
  return [median(a), theirs ? median(b) : null];
}

async function assimpImportMs(h, file) {
  const r = await h.runCommand('assimp', ['info', file, '-r', '-s']);
  const m = /import took approx\. ([\d.]+) seconds/.exec(r.stdout + r.stderr);
  if (!m)
    throw new Error(`assimp could not import ${path.basename(file)}: ${(r.stderr || r.stdout).slice(-200)}`);
  return Number(m[1]) * 1000;
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** three.js in a worker thread (its own heap); `prepare(kind, files)` returns a timed run. */
async function threeWorker() {
  const worker = new Worker(new URL('../three-worker.mjs', import.meta.url));
  worker.unref();
  let waiting = null;
  worker.on('message', (m) => waiting?.(m));
  worker.on('error', (err) => waiting?.({ type: 'error', err }));
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      waiting = (m) => (m.type === 'error' ? reject(m.err) : resolve(m));
      if (msg) worker.postMessage(msg);
    });
  await ask(null);
  return {
    async prepare(kind, files) {
      await ask({ type: 'load', kind, files });
      return async () => (await ask({ type: 'run' })).ms;
    },
    stop: () => worker.terminate(),
  };
}

const mbs = (bytes, ms) => bytes / 1e6 / (ms / 1000);
/** Parse options that keep the whole mesh, as the loaders compared with do. */
const KEEP = { keepMesh: true };

export default {
  name: 'models',
  description:
    'model parsers vs three.js loaders and assimp (MB/s of file size, medians), loader peak memory',
  async run(h) {
    const dir = h.tmpDir();
    const ours = await bundleOurs(h, dir);
    const hasAssimp = h.has('assimp');
    if (!hasAssimp)
      process.stderr.write('assimp not found (apt-get install assimp-utils): assimp columns skipped\n');
    const three = await threeWorker();

    // Large generated meshes (the same torus writers as the demo site).
    const s = (n) => Math.max(8, Math.round(n * Math.sqrt(scale)));
    process.stderr.write('generating large model files...\n');
    const big = ours.torusMesh(s(1000), s(1000));
    const mid = ours.torusMesh(s(600), s(400));
    const small3mf = ours.torusMesh(s(300), s(200));
    const inputs = [
      {
        label: 'binary STL',
        kind: 'stl',
        name: 'big_binary.stl',
        data: ours.binaryStl(big),
        target: '>= 1.2x three.js (~1 GB/s)',
      },
      {
        label: 'ASCII STL',
        kind: 'stl',
        name: 'big_ascii.stl',
        data: ours.asciiStl(mid),
        target: '>= 2x three.js (~230 MB/s)',
      },
      {
        label: 'OBJ',
        kind: 'obj',
        name: 'big.obj',
        data: ours.objFile(big),
        target: '>= 150 MB/s, ~5x three.js, 2x assimp',
      },
      {
        label: 'binary PLY',
        kind: 'ply',
        name: 'big_binary.ply',
        data: plyBinary(big),
        target: '>= 3x three.js',
      },
      {
        label: 'ASCII PLY',
        kind: 'ply',
        name: 'big_ascii.ply',
        data: plyAscii(mid),
        target: '>= 3x three.js',
      },
      {
        label: '3MF',
        kind: '3mf',
        name: 'big.3mf',
        data: ours.threeMf(ours.torusMesh(s(1000), s(500)), 2),
        target: '>= 3x assimp',
      },
      // three.js's 3MF loader builds a DOM: a smaller package keeps its runs within minutes.
      {
        label: '3MF (small, vs three.js)',
        kind: '3mf',
        name: 'small.3mf',
        data: ours.threeMf(small3mf, 2),
        target: '>= 3x assimp',
      },
      {
        label: 'STEP entity scan',
        kind: 'step',
        name: 'big.step',
        data: ours.stepFile(ours.torusMesh(s(600), s(300))),
        target: '>= 300 MB/s',
      },
    ];
    for (const input of inputs) {
      input.file = path.join(dir, input.name);
      writeFileSync(input.file, input.data);
    }

    for (const input of inputs) {
      const b = readFileSync(input.file);
      const size = `${(b.length / 1e6).toFixed(0)} MB`;
      // Like for like with three.js and assimp, which build the whole mesh: ours keeps it too.
      const oursFn = () => ours.parseModelBuffer(b, input.name, undefined, KEEP);
      const check = await oursFn();
      process.stderr.write(
        `${input.label} (${size}): ${check.triangles ?? check.details.entities} ${check.triangles !== null ? 'triangles' : 'entities'}\n`,
      );
      if (input.kind === 'step') {
        // The reference: a plain regular-expression entity scan of the text.
        const text = () => {
          const counts = new Map();
          for (const m of b.toString('latin1').matchAll(/#\d+\s*=\s*([A-Z_0-9]+)/g))
            counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
          return counts;
        };
        const [o, t] = await duel(oursFn, text);
        h.compare({
          label: `${input.label} ${size}`,
          ours: mbs(b.length, o),
          theirs: mbs(b.length, t),
          unit: 'MB/s',
          theirsName: 'regex scan',
          target: input.target,
        });
        continue;
      }
      const skipThree = input.kind === '3mf' && b.length > 3e6;
      if (!skipThree) {
        const [o, t] = await duel(oursFn, await three.prepare(input.kind, [input.file]));
        h.compare({
          label: `${input.label} ${size}`,
          ours: mbs(b.length, o),
          theirs: mbs(b.length, t),
          unit: 'MB/s',
          theirsName: 'three.js',
          target: input.target,
        });
      }
      if (hasAssimp && !input.label.includes('vs three.js')) {
        const [o, t] = await duel(oursFn, () => assimpImportMs(h, input.file));
        h.compare({
          label: `${input.label} ${size}`,
          ours: mbs(b.length, o),
          theirs: mbs(b.length, t),
          unit: 'MB/s',
          theirsName: 'assimp',
          target: input.target,
        });
      }
      if (['obj', 'ply', '3mf'].includes(input.kind) && !input.label.includes('vs three.js')) {
        // What the loader process runs: OBJ, PLY and 3MF triangles checked and counted, not kept.
        const [l] = await duel(() => ours.parseModelBuffer(b, input.name), null);
        h.figure({
          label: `${input.label} ${size}, loader (no triangle list)`,
          value: mbs(b.length, l),
          unit: 'MB/s',
        });
      }
    }

    // read() of the file, the ceiling for any parser that reads it whole.
    {
      const f = inputs[0].file;
      const bytes = statSync(f).size;
      const [o] = await duel(() => readFileSync(f), null);
      h.figure({
        label: `read() ${(bytes / 1e6).toFixed(0)} MB (page cache)`,
        value: mbs(bytes, o),
        unit: 'MB/s',
      });
    }

    // The real public files, all of a format together: total bytes over total median time.
    const realDir = path.join(h.root, 'fixtures/models/real');
    const byKind = {};
    for (const name of readdirSync(realDir)) {
      const ext = name.split('.').pop().toLowerCase();
      const kind = ext === 'step' ? 'step' : ext;
      (byKind[kind] ??= []).push(path.join(realDir, name));
    }
    for (const [kind, files] of Object.entries(byKind)) {
      const bufs = files.map((f) => readFileSync(f));
      const bytes = bufs.reduce((a, b) => a + b.length, 0);
      const oursAll = async () => {
        for (let i = 0; i < bufs.length; i++)
          await ours.parseModelBuffer(bufs[i], path.basename(files[i]), undefined, KEEP);
      };
      const label = `real ${kind.toUpperCase()} (${files.length} files, ${(bytes / 1e3).toFixed(0)} KB)`;
      if (['stl', 'obj', 'ply', '3mf'].includes(kind)) {
        const threeAll = await three.prepare(kind, files);
        const [o, t] = await duel(oursAll, threeAll, 9);
        h.compare({
          label,
          ours: mbs(bytes, o),
          theirs: mbs(bytes, t),
          unit: 'MB/s',
          theirsName: 'three.js',
        });
      } else {
        const [o] = await duel(oursAll, null, 9);
        h.figure({ label, value: mbs(bytes, o), unit: 'MB/s' });
      }
      if (hasAssimp && kind !== 'step') {
        // Only the files assimp imports (it refuses some, e.g. pyramids.3mf), ours on the same ones.
        const ok = [];
        for (let i = 0; i < files.length; i++) {
          try {
            await assimpImportMs(h, files[i]);
            ok.push(i);
          } catch {
            process.stderr.write(
              `assimp cannot import ${path.basename(files[i])}: left out of its comparison\n`,
            );
          }
        }
        const okBytes = ok.reduce((a, i) => a + bufs[i].length, 0);
        const [o, t] = await duel(
          async () => {
            for (const i of ok)
              await ours.parseModelBuffer(bufs[i], path.basename(files[i]), undefined, KEEP);
          },
          async () => {
            let total = 0;
            for (const i of ok) total += await assimpImportMs(h, files[i]);
            return total;
          },
          3,
        );
        h.compare({
          label: `real ${kind.toUpperCase()} (${ok.length} files assimp imports)`,
          ours: mbs(okBytes, o),
          theirs: mbs(okBytes, t),
          unit: 'MB/s',
          theirsName: 'assimp',
        });
      }
    }

    await three.stop();

    // Peak memory of the loader process (what `cadence-ops load` reports), per large file.
    const peaks = {};
    for (const input of inputs) {
      const r = await h.runCommand(h.node, [h.cli, 'load', '--json', input.file]);
      const f = JSON.parse(r.stdout).files[0];
      if (f.error) throw new Error(`${input.name}: ${f.error.code} ${f.error.message}`);
      peaks[input.label] = f;
      h.figure({
        label: `peak memory / size: ${input.label}`,
        value: f.peakOverBaseBytes / f.bytes,
        unit: 'x',
        target: '<= 3x + constant',
      });
      h.figure({
        label: `one-shot load (cold process): ${input.label}`,
        value: mbs(f.bytes, f.parseMs),
        unit: 'MB/s',
      });
    }
    // 3MF memory as a straight line through two packages whose model parts both go to the inflate
    // thread: bytes of memory per byte of file, and the constant (code, the thread, the compiler).
    {
      const mid = path.join(dir, 'mid.3mf');
      writeFileSync(mid, ours.threeMf(ours.torusMesh(s(600), s(400)), 1));
      const r = await h.runCommand(h.node, [h.cli, 'load', '--json', mid]);
      const a = JSON.parse(r.stdout).files[0];
      const b = peaks['3MF'];
      const slope = (b.peakOverBaseBytes - a.peakOverBaseBytes) / (b.bytes - a.bytes);
      h.figure({
        label: `3MF memory, line ${(a.bytes / 1e6).toFixed(1)}-${(b.bytes / 1e6).toFixed(1)} MB: slope`,
        value: slope,
        unit: 'x',
        target: '<= 3x',
      });
      h.figure({
        label: '3MF memory, that line: constant',
        value: (a.peakOverBaseBytes - slope * a.bytes) / 1e6,
        unit: 'MB',
      });
    }
  },
};
