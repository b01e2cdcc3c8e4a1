// Screen 6 in the real shell (ink-testing-library) on a small site: pick files, run with progress,
// results against the baseline with a regression marked in words, save the baseline behind its
// confirmation, history, cancel, saved sets, read-only, 80x24.
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { benchSession } from '../screens/bench.js';
import { KEYS, type RenderedShell, renderShell, tick } from './helpers/shell.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const real = path.join(here, '../fixtures/models/real');
let root: string;
let shell: RenderedShell | null = null;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'cadence-bench-screen-'));
  mkdirSync(path.join(root, 'data/models'), { recursive: true });
  mkdirSync(path.join(root, 'logs'), { recursive: true });
  writeFileSync(path.join(root, 'cadence-ops.json'), JSON.stringify({ bench: { runs: 12, warmup: 2 } }));
  for (const f of ['trimesh--torus.STL', 'trimesh--rabbit.obj', 'assimp--box.3mf'])
    copyFileSync(path.join(real, f), path.join(root, 'data/models', f));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  await shell?.dispose();
  shell = null;
});

/** Waits (up to 5 s on a busy host) for the frame to match. */
async function waitFor(s: RenderedShell, pattern: RegExp | string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const frame = s.lastFrame() ?? '';
    if (typeof pattern === 'string' ? frame.includes(pattern) : pattern.test(frame)) return frame;
    await tick(25);
  }
  return s.lastFrame() ?? '';
}

async function finished(s: RenderedShell): Promise<string> {
  const session = benchSession(s.context);
  for (let i = 0; i < 600 && session.isRunning; i++) await tick(25);
  await session.idle();
  await tick(80);
  return s.lastFrame() ?? '';
}

describe('the Bench screen', () => {
  it('keys that arrive in one read (typed fast, over SSH) each see the state the previous one left', async () => {
    // A site of its own: picks and runs are remembered per site.
    const own = mkdtempSync(path.join(os.tmpdir(), 'cadence-bench-burst-'));
    cpSync(root, own, { recursive: true });
    shell = renderShell({ root: own, initialScreen: 'bench', columns: 100, rows: 30 });
    await waitFor(shell, '3 of 3 files picked');
    // "a" unpicks all; then two moves down and a pick, all in one read: the third file is picked.
    await shell.press('a');
    await waitFor(shell, '0 of 3 files picked');
    shell.stdin.write('jj ');
    const frame = await waitFor(shell, '1 of 3 files picked');
    expect(frame).toMatch(/\[x\] data\/models\/trimesh--torus\.STL/);
    expect(frame).toMatch(/\[ \] data\/models\/assimp--box\.3mf/);
    expect(frame).toMatch(/\[ \] data\/models\/trimesh--rabbit\.obj/);
    // Three decrements in one read are three decrements.
    shell.stdin.write('---');
    expect(await waitFor(shell, '+ 9 runs each')).toContain('2 warm-up + 9 runs each');
    await shell.dispose();
    shell = null;
    rmSync(own, { recursive: true, force: true });
  });

  it('picks, runs, compares, saves the baseline and shows a regression', async () => {
    shell = renderShell({ root, initialScreen: 'bench', columns: 100, rows: 30 });
    await tick(80);
    let frame = shell.lastFrame()!;
    expect(frame).toContain('Bench: how fast do models load?');
    expect(frame).toContain('3 of 3 files picked · 2 warm-up + 12 runs each');
    expect(frame).toMatch(/\[x\] data\/models\/assimp--box\.3mf/);
    expect(frame).toMatch(/r run\s+x cancel\s+Space pick/);

    // Unpick the first file, then run the other two.
    frame = await shell.press(' ');
    expect(frame).toMatch(/\[ \] data\/models\/assimp--box\.3mf/);
    expect(frame).toContain('2 of 3 files picked');
    await shell.press('r');
    frame = await finished(shell);
    expect(frame).toContain('done: 2 files, 0 regressions, 0 failed, 0 PERF001 · b saves as baseline');
    expect(frame).toMatch(/trimesh--torus\.STL .*· no baseline/);
    expect(frame).not.toContain('assimp--box.3mf');
    // The selected file explained under the table.
    expect(frame).toMatch(/trimesh--rabbit\.obj: median [\d.]+ ms, min [\d.]+ ms, max [\d.]+ ms, \d+ runs/);
    expect(frame).toContain('no baseline for this file');
    frame = await shell.press('?');
    expect(frame).toContain("Welch's t-test (one-sided, α = 0.05)");
    await shell.press(KEYS.escape);

    // Save it as the baseline, behind a confirmation.
    frame = await shell.press('b');
    expect(frame).toContain('Save this run as the baseline?');
    expect(frame).toContain('performance_baseline.json');
    await shell.press('y');
    expect(await waitFor(shell, 'baseline saved')).toContain('baseline saved');
    expect(existsSync(path.join(root, 'performance_baseline.json'))).toBe(true);

    // A baseline of 1 µs (faster than reading the file): the next run is a regression, in words.
    const db = shell.context.stateDb();
    db.prepare(
      "UPDATE bench_baselines SET mean_ms = 0.001, stddev_ms = 0.0001, n = 5 WHERE key LIKE '%torus%'",
    ).run();
    await shell.press('r');
    frame = await finished(shell);
    expect(frame, frame).toMatch(/trimesh--torus\.STL .*(\+\d+%|\d+x) ✖ REGRESSION/);
    expect(frame).toMatch(/done: 2 files, [12] regressions?/);
    // The selected row's explanation: the first row is the rabbit (faster than its baseline or noise).
    frame = await shell.press(KEYS.down);
    expect(frame).toMatch(/over 110 % and significant \(p = [\d.<> ]+\)/);

    // History: the three runs, the first saved as baseline.
    frame = await shell.press('l');
    expect(frame).toMatch(/#1 .*saved as baseline/);
    expect(frame).toMatch(/#2 .* [12] +0 *$/m);
  });

  it('cancels a run; saved sets; read-only hides the baseline', async () => {
    shell = renderShell({ root, initialScreen: 'bench', columns: 100, rows: 30, readOnly: true });
    await tick(80);
    // Many runs, then cancel at once.
    await shell.press(...Array(30).fill('+'));
    expect(shell.lastFrame()).toContain('+ 42 runs each');
    await shell.press('r');
    await tick(150);
    await shell.press('x');
    let frame = await finished(shell);
    expect(frame).toContain('cancelled; r runs again');
    // Save the picked files as a set, open the folder elsewhere, then the set again.
    await shell.press('h', KEYS.down, ' ', 'w');
    await waitFor(shell, 'save picked files as set:');
    await tick(100);
    await shell.press(...'two', KEYS.enter);
    frame = await waitFor(shell, 'saved set two');
    expect(frame, frame).toContain('saved set two (2 files)');
    await shell.press('f');
    await waitFor(shell, 'folder:');
    await tick(100);
    await shell.press(...'/nonexistent', KEYS.enter);
    expect(await waitFor(shell, /nonexistent is not a folder/)).toMatch(/nonexistent is not a folder/);
    await shell.press('o');
    await waitFor(shell, 'set (two)');
    await tick(100);
    await shell.press(...'two', KEYS.enter);
    frame = await waitFor(shell, '2 of 2 files picked');
    expect(frame, frame).toContain('set "two"');
    expect(frame).toContain('2 of 2 files picked');
    // Read-only: b is neither offered nor accepted.
    expect(frame).not.toMatch(/b baseline/);
    frame = await shell.press('b');
    expect(frame).toContain('read-only');
  });

  it('fits 80x24', async () => {
    shell = renderShell({ root, initialScreen: 'bench', columns: 80, rows: 24 });
    await tick(80);
    const frame = shell.lastFrame()!;
    expect(frame).toContain('Bench: how fast do models load?');
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(frame.split('\n').length).toBeLessThanOrEqual(24);
  });
});
