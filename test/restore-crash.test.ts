// Proof by fault injection: the restore is killed with SIGKILL at seeded points spread over every
// phase (journal, safety snapshot, staging, the swap itself, post-checks, clean-up), the next
// start of cadence-ops says so, recovery (--resume or --rollback, seeded) runs, and the site must
// then be exactly the old state or exactly the new one: every file by sha256, the database by its
// rows (the old one with rows that were only in its -wal). A safety snapshot that was taken
// verifies. Seed: CADENCE_TEST_SEED (default 20261123); trials: CADENCE_TEST_CRASH_TRIALS (24).
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { verifyBackup } from '../services/backup-verify.js';
import { rng } from '../services/demo-log-lines.js';
import { pendingRestore, workDir } from '../services/restore-journal.js';
import { makeSite, runCli, type TestSite } from './helpers/backup-site.js';
import { type Fingerprint, fingerprint, fingerprintDiff, leaveWalBehind } from './helpers/restore-site.js';

const SEED = Number(process.env.CADENCE_TEST_SEED ?? 20261123);
const TRIALS = Number(process.env.CADENCE_TEST_CRASH_TRIALS ?? 22);

const GROUPS: Array<[string, RegExp]> = [
  ['journal', /^(start|journal created)$/],
  ['safety snapshot', /^safety/],
  ['staging', /^(phase staging|stage )/],
  ['staged', /^phase (staged|swapping)/],
  ['swap', /^swap /],
  ['swapped', /^phase swapped/],
  ['post-check', /^post-check/],
  ['done', /^(phase done|closed)/],
];

let site: TestSite;
let template: string;
let oldState: Fingerprint;
let newState: Fingerprint;
let backupName: string;
let labels: string[] = [];

beforeAll(async () => {
  site = await makeSite({ models: 40, thumbnails: 6 });
  const full = await createBackup({ paths: site.paths, config: site.config, kind: 'full', inline: true });
  backupName = full.name;
  newState = fingerprint(site.root);
  // The old state: files added, removed and changed, a folder gone, rows only in an un-checkpointed WAL.
  writeFileSync(path.join(site.paths.models, 'new_part.stl'), 'solid new\nendsolid new\n');
  unlinkSync(path.join(site.paths.models, 'torus_768.obj'));
  appendFileSync(site.paths.configJson, '\n');
  rmSync(site.paths.cache, { recursive: true });
  const db = new Database(site.paths.database);
  db.prepare("UPDATE models SET name = 'renamed' WHERE id <= 5").run();
  db.close();
  leaveWalBehind(site.paths.database, 10);
  oldState = fingerprint(site.root);
  expect(fingerprintDiff(oldState, newState).length).toBeGreaterThan(3);
  template = path.join(site.dir, 'template');
  cpSync(site.root, template, { recursive: true });

  // One uninterrupted run, traced: the checkpoints every trial picks from.
  const trial = path.join(site.dir, 'trace-run');
  cpSync(template, trial, { recursive: true });
  const trace = path.join(site.dir, 'trace.txt');
  const r = await runCli(['--root', trial, 'restore', backupName, '--yes'], {
    env: { CADENCE_OPS_STATE_DIR: path.join(site.dir, 'state-trace'), CADENCE_OPS_FAULT_TRACE: trace },
  });
  expect(r.code, r.stderr).toBe(0);
  expect(fingerprintDiff(fingerprint(trial), newState)).toEqual([]);
  labels = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.slice(l.indexOf(' ') + 1));
  rmSync(trial, { recursive: true, force: true });
}, 120_000);

afterAll(() => site?.cleanup());

/** Seeded kill points: at least two in every group, the rest anywhere. */
function pickKillPoints(
  random: () => number,
): Array<{ at: number; group: string; mode: '--resume' | '--rollback' }> {
  const byGroup = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const group = GROUPS.find(([, re]) => re.test(label))?.[0] ?? 'other';
    if (!byGroup.has(group)) byGroup.set(group, []);
    byGroup.get(group)!.push(i + 1);
  });
  for (const [g] of GROUPS) expect(byGroup.get(g)?.length, `checkpoints in ${g}`).toBeGreaterThan(0);
  // Two distinct points per group, one recovered by --resume and one by --rollback; the rest anywhere.
  const picks: Array<{ at: number; group: string; mode: '--resume' | '--rollback' }> = [];
  for (const [g] of GROUPS) {
    const points = [...byGroup.get(g)!];
    for (const mode of ['--resume', '--rollback'] as const) {
      const i = Math.floor(random() * points.length);
      picks.push({ at: points[i]!, group: g, mode });
      if (points.length > 1) points.splice(i, 1);
    }
  }
  while (picks.length < TRIALS) {
    const at = 1 + Math.floor(random() * labels.length);
    const group = GROUPS.find(([, re]) => re.test(labels[at - 1]!))?.[0] ?? 'other';
    picks.push({ at, group, mode: random() < 0.5 ? '--resume' : '--rollback' });
  }
  return picks;
}

describe('restore killed with SIGKILL at any point', () => {
  it(`ends exactly old or exactly new after recovery (${TRIALS} seeded trials, seed ${SEED})`, async () => {
    const random = rng(SEED); // mulberry32: the same trials for the same seed
    const picks = pickKillPoints(random);
    const safetyAt = labels.indexOf('safety snapshot verified') + 1;
    const stagedAt = labels.indexOf('phase staged: written') + 1;
    expect(safetyAt).toBeGreaterThan(0);
    expect(stagedAt).toBeGreaterThan(safetyAt);
    const results: string[] = [];
    for (const [n, pick] of picks.entries()) {
      const dir = path.join(site.dir, `trial-${n}`);
      const root = path.join(dir, 'site');
      mkdirSync(dir);
      cpSync(template, root, { recursive: true });
      const env = { CADENCE_OPS_STATE_DIR: path.join(dir, 'state') };
      const label = `trial ${n} (seed ${SEED}): kill at ${pick.at} "${labels[pick.at - 1]}" [${pick.group}]`;

      const killed = await runCli(['--root', root, 'restore', backupName, '--yes'], {
        env: { ...env, CADENCE_OPS_FAULT_KILL_AT: String(pick.at) },
      });
      expect(killed.code, `${label}: ${killed.stderr}`).toBeNull();
      const pending = pendingRestore(root);
      if (pending) {
        // The next start of any verb says so.
        const list = await runCli(['--root', root, 'backup', 'list'], { env });
        expect(list.stderr, label).toMatch(/an interrupted restore of .* was found/);
      }
      const mode = pick.mode;
      const recovered = await runCli(['--root', root, 'restore', mode, '--yes'], { env });
      if (pending) expect(recovered.code, `${label} ${mode}: ${recovered.stderr}`).toBe(0);

      const state = fingerprint(root);
      const isOld = fingerprintDiff(state, oldState).length === 0;
      const isNew = fingerprintDiff(state, newState).length === 0;
      expect(
        isOld || isNew,
        `${label} ${mode}: a mix of old and new:\n${fingerprintDiff(state, oldState).slice(0, 8).join('\n')}`,
      ).toBe(true);
      if (pending && mode === '--rollback') expect(isOld, `${label} ${mode}`).toBe(true);
      if (pending && mode === '--resume' && pick.at >= stagedAt) expect(isNew, `${label} ${mode}`).toBe(true);
      // Nothing left half-done: no journal, no staging, no displaced originals.
      expect(pendingRestore(root), label).toBeNull();
      if (existsSync(workDir(root)))
        expect(
          readdirSync(workDir(root)).filter((f) => f !== 'last.json'),
          label,
        ).toEqual([]);
      // A safety snapshot, once taken, is there and verifies; none exists under a final name half-written.
      const snaps = readdirSync(path.join(root, 'backups')).filter((f) =>
        /^pre_restore_\d{8}_\d{6}\.tar\.gz$/.test(f),
      );
      if (pick.at >= safetyAt) expect(snaps.length, label).toBeGreaterThan(0);
      for (const snap of snaps) {
        const v = await verifyBackup(path.join(root, 'backups', snap), { config: site.config, inline: true });
        expect(v.ok, `${label}: ${snap}: ${v.reason}`).toBe(true);
      }
      results.push(
        `${pick.group.padEnd(15)} kill@${String(pick.at).padStart(3)} ${mode.padEnd(10)} -> ${isNew ? 'new' : 'old'}`,
      );
      rmSync(dir, { recursive: true, force: true });
    }
    // Every phase was hit, and both endings happened.
    expect(new Set(picks.map((p) => p.group)).size).toBeGreaterThanOrEqual(GROUPS.length);
    expect(results.some((r) => r.endsWith('new'))).toBe(true);
    expect(results.some((r) => r.endsWith('old'))).toBe(true);
    process.stderr.write(`restore crash trials (seed ${SEED}):\n  ${results.join('\n  ')}\n`);
  }, 600_000);
});
