// The loader process: real child processes of the built bundle (npm test builds it first), real
// timeouts and memory caps, and the `load` verb end to end.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiStl, binaryStl, torusMesh } from '../services/demo-models.js';
import {
  classifyExit,
  LoaderCancelled,
  type LoaderEvent,
  runLoader,
  watchRss,
} from '../services/model-loader.js';
import { cliEntryPath } from '../services/self-exec.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const real = path.join(here, '../fixtures/models/real');
const bad = path.join(here, '../fixtures/models/bad');
const limits = { timeoutMs: 30_000, memoryCapMb: 1024 };

let tmp: string;
let slowAscii: string;
let bigBinary: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cadence-loader-'));
  // ~12 MB of ASCII STL: far more than 1 ms of parsing, little to write.
  slowAscii = path.join(tmp, 'slow_ascii.stl');
  writeFileSync(slowAscii, asciiStl(torusMesh(240, 100)));
  // 48,000 triangles: 2.4 MB of file and 1.7 MB of vertex buffer, over a 64 MB cap once node's own ~50 MB count.
  bigBinary = path.join(tmp, 'big_binary.stl');
  writeFileSync(bigBinary, binaryStl(torusMesh(800, 200)));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('runLoader: files parsed in a child process', () => {
  it('reports each file in order, good or bad, with its code', async () => {
    const files = [
      path.join(real, 'trimesh--torus.STL'),
      path.join(bad, 'no-such-file.obj'),
      path.join(bad, 'truncated_binary.stl'),
      path.join(bad, 'directory.stl'),
      path.join(real, 'trimesh--pyramids.3mf'),
    ];
    const events: LoaderEvent[] = [];
    const out = await runLoader(
      files.map((file) => ({ file })),
      { ...limits, onEvent: (e) => events.push(e) },
    );
    expect(out.map((o) => o.report.error?.code ?? 'ok')).toEqual(['ok', 'ERR005', 'PAR004', 'PAR001', 'ok']);
    expect(out[0]!.report.triangles).toBe(8700);
    expect(out[4]!.report.triangles).toBe(3276);
    expect(out[0]!.report.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(out[0]!.samples).toHaveLength(1);
    expect(events.filter((e) => e.type === 'file-done')).toHaveLength(5);
  });

  it('warm-up and timed runs are reported one by one; the hash is taken outside the timings', async () => {
    const file = path.join(real, 'trimesh--cycloidal.ply');
    const runs: LoaderEvent[] = [];
    const [o] = await runLoader([{ file, runs: 3, warmup: 2, hash: true }], {
      ...limits,
      onEvent: (e) => e.type === 'run' && runs.push(e),
    });
    expect(runs.map((e) => (e.type === 'run' ? e.sample.warmup : null))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(o!.samples).toHaveLength(3);
    expect(o!.samples.every((s) => s.parseMs > 0 && !s.warmup)).toBe(true);
    expect(o!.sha1).toBe(createHash('sha1').update(readFileSync(file)).digest('hex'));
  });

  it('a parse over the timeout is killed (PAR002) and the next file goes to a fresh process', async () => {
    const out = await runLoader([{ file: slowAscii }, { file: path.join(real, 'trimesh--rabbit.obj') }], {
      timeoutMs: 1,
      memoryCapMb: 1024,
    });
    expect(out[0]!.report.error?.code).toBe('PAR002');
    expect(out[0]!.report.error?.message).toMatch(
      /did not finish within 0.001 s; the loader process was killed/,
    );
    // The rabbit is small, but 1 ms is short: it may time out too; what matters is that it was tried.
    expect(out).toHaveLength(2);
    const again = await runLoader([{ file: path.join(real, 'trimesh--rabbit.obj') }], limits);
    expect(again[0]!.report.triangles).toBe(1252);
  });

  it('a file that does not fit the memory cap is refused (PAR003), the console unharmed', async () => {
    const [o] = await runLoader([{ file: bigBinary }], { timeoutMs: 30_000, memoryCapMb: 64 });
    expect(o!.report.error?.code).toBe('PAR003');
  });

  it('cancelling kills the loader and rejects with what was done', async () => {
    const controller = new AbortController();
    const promise = runLoader([{ file: path.join(real, 'assimp--box.3mf') }, { file: slowAscii, runs: 50 }], {
      ...limits,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'run' && e.file === slowAscii) controller.abort();
      },
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoaderCancelled);
    expect((err as LoaderCancelled).completed.map((o) => o.report.triangles)).toEqual([12]);
  });
});

describe("the loader process's peak memory: within 3x the file plus a constant", () => {
  it('an OBJ whose one polygon makes 12 bytes of triangles per 2 bytes of text', async () => {
    // Kept, its triangle list alone would be 6 times the file: the loader counts and checks them.
    const file = path.join(tmp, 'polygon.obj');
    const face = ['f'];
    for (let i = 0; i < 3_000_000; i++) face.push(String((i % 4) + 1));
    writeFileSync(file, `v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\n${face.join(' ')}\n`);
    const bytes = statSync(file).size;
    const [out] = await runLoader([{ file }], limits);
    const r = out!.report;
    expect(r.error).toBeNull();
    expect(r.triangles).toBe(2_999_998);
    expect(r.bbox).toEqual({ min: [0, 0, 0], max: [1, 1, 1] });
    expect(r.peakOverBaseBytes).not.toBeNull();
    expect(r.peakOverBaseBytes!).toBeLessThanOrEqual(3 * bytes + 16 * 1024 * 1024);
  });
});

describe('the memory cap outside V8: resident memory is watched', () => {
  it('a real process that keeps allocating is caught past the cap', async () => {
    const child = spawn(process.execPath, [
      '-e',
      'const a = []; setInterval(() => a.push(Buffer.alloc(16 * 1024 * 1024, 1)), 10); setTimeout(() => {}, 20000);',
    ]);
    const seen = await new Promise<number>((resolve) => {
      const stop = watchRss(child.pid!, 200 * 1024 * 1024, 10, {
        exceeded: (rss) => {
          stop();
          child.kill('SIGKILL');
          resolve(rss);
        },
      });
    });
    expect(seen).toBeGreaterThan(200 * 1024 * 1024);
  });

  it('a V8 heap exhaustion is recognised as PAR003', () => {
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=16', '-e', 'const a = []; for (;;) a.push({ x: Math.random() });'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status === null || r.status !== 0).toBe(true);
    const e = classifyExit(r.status, r.signal, r.stderr, null, { timeoutMs: 1000, memoryCapMb: 16 }, 0);
    expect(e.code).toBe('PAR003');
    expect(e.message).toMatch(/ran out of memory/);
  });

  it('other deaths are reported as the loader failing, with the exit code', () => {
    const e = classifyExit(3, null, 'something broke\n', null, { timeoutMs: 1000, memoryCapMb: 64 }, 0);
    expect(e).toMatchObject({ code: 'LOADER' });
    expect(e.message).toMatch(/\(exit code 3\): something broke/);
  });
});

describe('cadence-ops load', () => {
  const env = () => ({ ...process.env, CADENCE_OPS_STATE_DIR: path.join(tmp, 'state'), NO_COLOR: '1' });
  const run = (args: string[]) =>
    spawnSync(process.execPath, [cliEntryPath(), 'load', ...args], {
      encoding: 'utf8',
      env: env(),
      cwd: tmp,
    });

  it('prints what is in each file; exit 0', () => {
    const r = run([path.join(real, 'trimesh--pyramids.3mf'), path.join(real, 'trimesh--featuretype.STEP')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/3,276 in the built scene \(9 build items\); 3,172 in the mesh resources/);
    expect(r.stdout).toMatch(/box {8}\[5\.0123, 5\.0236, 10\.025\] – \[351\.738, 168\.105, 35\.025\]/);
    expect(r.stdout).toMatch(/schema {5}AUTOMOTIVE_DESIGN \(AP214/);
    expect(r.stdout).toMatch(/triangles {2}none: STEP is exact B-rep geometry/);
  });

  it('--json, and exit 1 when a file fails', () => {
    const r = run(['--json', path.join(real, 'trimesh--torus.STL'), path.join(bad, 'zip_bomb_declared.3mf')]);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as { files: Array<Record<string, unknown>>; failed: number };
    expect(doc.failed).toBe(1);
    expect(doc.files[0]).toMatchObject({ format: 'stl-binary', triangles: 8700, error: null });
    expect(doc.files[1]).toMatchObject({ error: { code: 'PAR003', meaning: 'memory cap exceeded' } });
  });

  it('human errors name the file, the code and what is wrong', () => {
    const r = run([path.join(bad, 'out_of_range.obj')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/out_of_range\.obj: PAR005 invalid geometry: line 7: face refers to vertex 99/);
  });

  it('no file is a usage error (exit 2)', () => {
    const r = run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/load needs at least one FILE/);
  });
});
