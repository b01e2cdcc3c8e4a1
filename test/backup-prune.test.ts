import { copyFileSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { type BackupKind, backupName } from '../services/backup-names.js';
import { executePrune, planPrune } from '../services/backup-prune.js';
import { latestVerification, recordVerification } from '../services/backup-state.js';
import { verifyBackup } from '../services/backup-verify.js';
import { fixturesDir, makeSite, runCli, type TestSite } from './helpers/backup-site.js';

const DAY = 86_400_000;
const NOW = new Date(2026, 10, 23, 12, 0, 0).getTime();
let site: TestSite | null = null;
afterEach(() => {
  site?.cleanup();
  site = null;
});

/** Real backups under dated names: one made, the rest copies (prune only reads names and states). */
async function seed(
  s: TestSite,
  spec: Array<{ kind: BackupKind; days: number; verified?: boolean | 'failed'; dir?: string }>,
): Promise<Map<string, string>> {
  const made = new Map<BackupKind, string>();
  const files = new Map<string, string>();
  for (const item of spec) {
    if (!made.has(item.kind)) {
      if (item.kind === 'pre_restore') throw new Error('not needed');
      const r = await createBackup({
        paths: s.paths,
        config: s.config,
        kind: item.kind,
        inline: true,
        verify: false,
        secondary: false,
        now: () => NOW - 1000 * 3600 * 24 * 1000,
        targetDir: path.join(s.dir, 'made'),
      });
      made.set(item.kind, r.file);
    }
    const dir = item.dir ?? s.paths.backups;
    mkdirSync(dir, { recursive: true });
    const when = NOW - item.days * DAY;
    const file = path.join(dir, backupName(item.kind, when));
    if (item.verified === 'failed') {
      copyFileSync(path.join(fixturesDir, 'truncated-gzip/candy_cadence_backup_20260102_000000.db.gz'), file);
    } else copyFileSync(made.get(item.kind)!, file);
    utimesSync(file, new Date(when), new Date(when));
    if (item.verified) {
      const v = await verifyBackup(file, { config: s.config, inline: true });
      expect(v.ok).toBe(item.verified === true);
      recordVerification(s.stateDb, file, v);
    }
    files.set(`${item.dir ? 'secondary:' : ''}${item.kind}:${item.days}`, file);
  }
  return files;
}

const names = (items: Array<{ backup: { file: string } }>) =>
  items.map((i) => path.basename(i.backup.file)).sort();

describe('planPrune', () => {
  it('removes what retention allows and never the newest verified backup of a kind', async () => {
    site = await makeSite({ models: 50 });
    const f = await seed(site, [
      { kind: 'database', days: 1, verified: true },
      { kind: 'database', days: 10 },
      { kind: 'database', days: 29 },
      { kind: 'database', days: 31 },
      { kind: 'database', days: 45, verified: true },
      { kind: 'full', days: 2 },
      { kind: 'full', days: 27 },
      { kind: 'full', days: 29 },
      { kind: 'full', days: 40 },
    ]);
    const plan = planPrune({ paths: site.paths, config: site.config, stateDb: site.stateDb, now: NOW });
    const base = (k: string) => path.basename(f.get(k)!);
    expect(names(plan.remove)).toEqual(
      [base('database:31'), base('database:45'), base('full:29'), base('full:40')].sort(),
    );
    const why = Object.fromEntries(plan.keep.map((k) => [path.basename(k.backup.file), k.why]));
    expect(why[base('database:1')]).toBe('newest verified database backup: never pruned');
    expect(why[base('database:29')]).toBe('within the 30-day retention');
    expect(why[base('full:2')]).toBe('no full backup here is verified: the newest is kept');
    expect(plan.remove.find((r) => r.backup.file === f.get('database:45'))!.why).toBe(
      '45 days old, retention 30 days',
    );
  });

  it('keeps an old verified backup when it is the newest verified, and a failed one does not count', async () => {
    site = await makeSite({ models: 50 });
    const f = await seed(site, [
      { kind: 'database', days: 35, verified: 'failed' },
      { kind: 'database', days: 40 },
      { kind: 'database', days: 60, verified: true },
    ]);
    const plan = planPrune({ paths: site.paths, config: site.config, stateDb: site.stateDb, now: NOW });
    expect(names(plan.keep)).toEqual([path.basename(f.get('database:60')!)]);
    expect(names(plan.remove)).toEqual(
      [path.basename(f.get('database:35')!), path.basename(f.get('database:40')!)].sort(),
    );
  });

  it('treats the secondary location on its own, honours configured retention, and clears stale temp files', async () => {
    site = await makeSite({
      models: 50,
      config: { paths: { secondaryBackups: '../mirror' }, backups: { retention: { databaseDays: 5 } } },
    });
    const mirror = path.join(site.dir, 'mirror');
    const f = await seed(site, [
      { kind: 'database', days: 1, verified: true },
      { kind: 'database', days: 6 },
      { kind: 'database', days: 6, dir: mirror, verified: true },
      { kind: 'database', days: 8, dir: mirror },
    ]);
    const dead = path.join(
      site.paths.backups,
      '.candy_cadence_backup_20261101_000000.db.gz.tmp-4000000-abcdef',
    );
    const live = path.join(
      site.paths.backups,
      `.candy_cadence_backup_20261102_000000.db.gz.tmp-${process.pid}-abcdef`,
    );
    writeFileSync(dead, 'half');
    writeFileSync(live, 'half');
    const plan = planPrune({ paths: site.paths, config: site.config, stateDb: site.stateDb, now: NOW });
    expect(names(plan.remove)).toEqual(
      [path.basename(f.get('database:6')!), path.basename(f.get('secondary:database:8')!)].sort(),
    );
    expect(plan.keep.find((k) => k.backup.file === f.get('secondary:database:6'))!.why).toBe(
      'newest verified database backup in the secondary location: never pruned',
    );
    expect(plan.staleTemp.map((t) => t.file)).toEqual([dead]);
    const done = await executePrune(plan, { stateDb: site.stateDb });
    expect(done.errors).toEqual([]);
    expect(existsSync(f.get('database:6')!)).toBe(false);
    expect(existsSync(f.get('secondary:database:8')!)).toBe(false);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(f.get('database:1')!)).toBe(true);
    expect(latestVerification(site.stateDb, f.get('database:1')!)?.ok).toBe(true);
  });
});

describe('cadence-ops backup prune', () => {
  it('shows the plan, asks (refusing without a terminal), deletes only with --yes', async () => {
    site = await makeSite({ models: 50 });
    const now = Date.now();
    const made = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'database',
      inline: true,
      stateDb: site.stateDb,
    });
    const old = path.join(site.paths.backups, backupName('database', now - 40 * DAY));
    copyFileSync(made.file, old);
    const env = { CADENCE_OPS_STATE_DIR: site.stateDir };
    // The verb keeps its state in the per-site state database: record the new one there too.
    const verified = await runCli(['--root', site.root, 'backup', 'verify', made.name], { env });
    expect(verified.code).toBe(0);
    const before = readdirSync(site.paths.backups).sort();

    const dry = await runCli(['--root', site.root, 'backup', 'prune', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`delete  ${old}`);
    expect(dry.stdout).toMatch(
      new RegExp(`keep    ${made.file}  \\(newest verified database backup: never pruned\\)`),
    );
    expect(dry.stdout).toMatch(/dry run: would delete 1 file/);
    expect(readdirSync(site.paths.backups).sort()).toEqual(before);

    const asked = await runCli(['--root', site.root, 'backup', 'prune'], { env });
    expect(asked.code).toBe(1);
    expect(asked.stderr).toMatch(/without a terminal, pass --yes/);
    expect(readdirSync(site.paths.backups).sort()).toEqual(before);

    const readOnly = await runCli(['--root', site.root, '--read-only', 'backup', 'prune', '--yes'], { env });
    expect(readOnly.code).toBe(2);
    expect(readdirSync(site.paths.backups).sort()).toEqual(before);

    const yes = await runCli(['--root', site.root, 'backup', 'prune', '--yes'], { env });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/deleted 1 file/);
    expect(readdirSync(site.paths.backups)).toEqual([made.name]);
  });
});
