// `npm run bench`: runs named cases, each timing the console's path and a standard tool on the same
// generated input, and prints medians and ratios. Cases live in ./cases/*.mjs and default-export
// { name, description, run(h) }; `node test/bench/run.mjs NAME...` runs only those.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cli = path.join(root, 'dist/cadence-ops.js');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs a command to completion; resolves with wall time in ms, stdout and the exit code. */
export function runCommand(command, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, stdout, stderr }),
    );
  });
}

function makeHelpers(caseName, results) {
  const dirs = [];
  return {
    cli,
    root,
    node: process.execPath,
    /** A scratch folder, removed after the case. */
    tmpDir() {
      const d = mkdtempSync(path.join(os.tmpdir(), `cadence-bench-${caseName}-`));
      dirs.push(d);
      return d;
    },
    has(tool) {
      return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
    },
    runCommand,
    /** Times fn() `runs` times after `warmup` runs; returns the median in ms. Alternate ours/theirs in callers. */
    async time(fn, { runs = 5, warmup = 1 } = {}) {
      for (let i = 0; i < warmup; i++) await fn();
      const xs = [];
      for (let i = 0; i < runs; i++) {
        const t = process.hrtime.bigint();
        await fn();
        xs.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      return median(xs);
    },
    /** Records one comparison: ours vs the standard tool; ratio = ours / theirs (lower is better for times). */
    compare({ label, ours, theirs, oursName = 'cadence-ops', theirsName, unit = 'ms', target }) {
      const ratio = theirs ? ours / theirs : null;
      results.push({ case: caseName, label, ours, theirs, oursName, theirsName, unit, ratio, target });
    },
    /** Records a plain figure (no reference tool). */
    figure({ label, value, unit, target }) {
      results.push({ case: caseName, label, ours: value, unit, target });
    },
    cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

const fmt = (x) => (x === undefined || x === null ? '' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

async function main() {
  const only = process.argv.slice(2);
  const files = readdirSync(path.join(here, 'cases'))
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  const results = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(here, 'cases', file)).href)).default;
    if (only.length && !only.includes(mod.name)) continue;
    process.stderr.write(`\n== ${mod.name}: ${mod.description}\n`);
    const h = makeHelpers(mod.name, results);
    try {
      await mod.run(h);
    } catch (err) {
      results.push({ case: mod.name, label: `FAILED: ${err.message}`, ours: null, unit: '' });
    } finally {
      h.cleanup();
    }
  }
  const lines = [
    '',
    'case                 | measurement                                   | ours        | standard tool        | ratio  | target',
  ];
  lines.push('-'.repeat(lines[1].length));
  for (const r of results) {
    const theirs = r.theirs !== undefined ? `${fmt(r.theirs)} ${r.unit} (${r.theirsName ?? ''})` : '';
    lines.push(
      `${r.case.padEnd(20)} | ${r.label.padEnd(45).slice(0, 45)} | ${`${fmt(r.ours)} ${r.unit}`.padEnd(11)} | ${theirs.padEnd(20)} | ${r.ratio !== undefined && r.ratio !== null ? `${r.ratio.toFixed(2)}x`.padEnd(6) : '      '} | ${r.target ?? ''}`,
    );
  }
  console.log(lines.join('\n'));
  mkdirSync(path.join(root, '.tmp'), { recursive: true });
  writeFileSync(path.join(root, '.tmp/bench-results.json'), JSON.stringify(results, null, 2));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
