// Restores on real sites: every scope, both kinds of backup, the stale-WAL hazard, rollback, and
// every refusal leaving the site exactly as it was.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { BackupError } from '../services/backup-errors.js';
import { verifyBackup } from '../services/backup-verify.js';
import {
  checkApplication,
  planRestore,
  planRollbackOfLast,
  type RestoreSite,
  runRestore,
} from '../services/restore.js';
import { pendingRestore, readLastRestore, workDir } from '../services/restore-journal.js';
import { fixturesDir, makeSite, repoRoot, runCli, type TestSite } from './helpers/backup-site.js';
import {
  type Fingerprint,
  fingerprint,
  fingerprintDiff,
  leaveWalBehind,
  startFakeApp,
} from './helpers/restore-site.js';

let site: TestSite | null = null;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  site?.cleanup();
  site = null;
});

/** A site, a full and a database backup of it (NEW), then changes of every kind (OLD). */
async function prepared(config: Record<string, unknown> = {}) {
  const s = await makeSite({ models: 80, config });
  const rs: RestoreSite = { paths: s.paths, config: s.config, stateDb: s.stateDb };
  const full = await createBackup({ paths: s.paths, config: s.config, kind: 'full', inline: true });
  const db = await createBackup({ paths: s.paths, config: s.config, kind: 'database', inline: true });
  const fresh = fingerprint(s.root);
  writeFileSync(path.join(s.paths.models, 'new_part.stl'), 'solid new\nendsolid new\n');
  unlinkSync(path.join(s.paths.models, 'torus_768.obj'));
  appendFileSync(s.paths.configJson, '\n');
  rmSync(s.paths.cache, { recursive: true });
  mkdirSync(path.join(s.paths.thumbnails, 'extra'));
  writeFileSync(path.join(s.paths.thumbnails, 'extra/9999.png'), 'png');
  const conn = new Database(s.paths.database);
  conn.prepare("UPDATE models SET name = 'renamed' WHERE id <= 5").run();
  conn.close();
  leaveWalBehind(s.paths.database, 25);
  const old = fingerprint(s.root);
  expect(fingerprintDiff(old, fresh).length).toBeGreaterThan(5);
  return { s, rs, full, db, fresh, old };
}

function expectState(actual: Fingerprint, expected: Fingerprint, what: string): void {
  expect(fingerprintDiff(actual, expected), what).toEqual([]);
}

function onlyLast(root: string): void {
  expect(pendingRestore(root)).toBeNull();
  expect(readdirSync(workDir(root))).toEqual(['last.json']);
}

describe('restore', () => {
  it('restores everything from a full backup, moves the stale WAL aside, and rolls back to the safety snapshot', async () => {
    const { s, rs, full, fresh, old } = await prepared();
    site = s;
    const plan = await planRestore(rs, full.file, 'all', { inline: true });
    expect(plan.refusals).toEqual([]);
    expect(plan.added.map((f) => f.path)).toContain('data/models/torus_768.obj');
    expect(plan.removed.map((f) => f.path)).toEqual(
      expect.arrayContaining(['data/models/new_part.stl', 'data/thumbnails/extra/9999.png']),
    );
    expect(plan.replaced.map((f) => f.path)).toEqual(
      expect.arrayContaining(['data/candy_cadence.db', 'config.json']),
    );
    expect(plan.units.find((u) => u.name === 'user_data/cache')).toMatchObject({
      inBackup: true,
      liveExists: false,
    });
    expect(plan.database.live!.metadata).toBe(400 + 25);
    expect(plan.database.inBackup!.metadata).toBe(400);
    expect(plan.space.ok).toBe(true);
    // Planning changed nothing.
    expectState(fingerprint(s.root), old, 'after planning');

    const outcome = await runRestore(rs, plan);
    expect(outcome.ok).toBe(true);
    expect(outcome.postCheck).toMatchObject({ database: null, mismatches: [] });
    expect(outcome.postCheck!.files).toBeGreaterThan(50);
    expectState(fingerprint(s.root), fresh, 'after the restore');
    // The WAL with 25 rows the old database had is not beside the restored one.
    expect(existsSync(`${s.paths.database}-wal`)).toBe(false);
    onlyLast(s.root);
    // The safety snapshot holds the old state and verifies.
    expect(outcome.safety?.name).toMatch(/^pre_restore_\d{8}_\d{6}\.tar\.gz$/);
    const snap = await verifyBackup(outcome.safety!.file, { config: s.config, inline: true });
    expect(snap.ok).toBe(true);
    expect(snap.database?.counts.metadata).toBe(425);

    // One step back: the safety snapshot restored, the old state again (the database by content).
    const { plan: back, lastId } = await planRollbackOfLast(rs, { inline: true });
    expect(lastId).toBe(outcome.id);
    const undone = await runRestore(rs, back, { safety: false, rollbackOf: lastId });
    expect(undone.ok).toBe(true);
    expectState(fingerprint(s.root), old, 'after the rollback');
    expect(readLastRestore(s.root)).toMatchObject({ outcome: 'done', rollbackOf: outcome.id });
    await expect(planRollbackOfLast(rs)).rejects.toThrow(/itself a rollback/);
  });

  it('restores only the database from a database backup, and only the scope asked for from a full one', async () => {
    const { s, rs, full, db, fresh, old } = await prepared();
    site = s;
    const dbPlan = await planRestore(rs, db.file, 'all', { inline: true });
    expect(dbPlan.scope).toBe('database');
    expect(dbPlan.units.map((u) => u.name)).toEqual(['database/candy_cadence.db']);
    await runRestore(rs, dbPlan);
    const afterDb = fingerprint(s.root);
    expect(afterDb.db).toBe(fresh.db);
    expect(afterDb.files).toEqual(old.files);
    // The application runs in WAL mode: the restored database is put back in it.
    const header = Buffer.alloc(20);
    const fd = openSync(s.paths.database, 'r');
    readSync(fd, header, 0, 20, 0);
    closeSync(fd);
    expect([header[18], header[19]]).toEqual([2, 2]);

    const cfg = await planRestore(rs, full.file, 'config', { inline: true });
    expect(cfg.units.map((u) => u.name)).toEqual([
      'configuration/config.json',
      'configuration/settings.json',
      'configuration/.env',
      'configuration/pyinstaller.spec',
      'configuration/requirements.txt',
    ]);
    await runRestore(rs, cfg);
    const afterCfg = fingerprint(s.root);
    expect(afterCfg.files['config.json']).toBe(fresh.files['config.json']);
    expect(afterCfg.files['data/models/new_part.stl']).toBe(old.files['data/models/new_part.stl']);

    const user = await planRestore(rs, full.file, 'user-data', { inline: true });
    await runRestore(rs, user);
    const afterUser = fingerprint(s.root);
    for (const [k, v] of Object.entries(fresh.files))
      if (k.startsWith('data/') || k.startsWith('resources/')) expect(afterUser.files[k], k).toBe(v);
    expect(afterUser.files['data/models/new_part.stl']).toBeUndefined();
    expect(Object.keys(afterUser.files).filter((k) => k.startsWith('logs/'))).toEqual(
      Object.keys(old.files).filter((k) => k.startsWith('logs/')),
    );
    expect(afterUser.db).toBe(fresh.db);
    onlyLast(s.root);
  });
});

describe('restore refuses, and the site stays exactly as it was', () => {
  async function expectRefused(
    rs: RestoreSite,
    plan: Awaited<ReturnType<typeof planRestore>>,
    before: Fingerprint,
    message: RegExp,
    opts: Parameters<typeof runRestore>[2] = {},
  ) {
    const err = await runRestore(rs, plan, opts).catch((e) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect(err.message).toMatch(message);
    expectState(fingerprint(rs.paths.root), before, `after refusing (${message})`);
    expect(pendingRestore(rs.paths.root)).toBeNull();
  }

  it('a backup that fails verification (the override then still stops at the damage), a hostile one, a scope it lacks', async () => {
    const { s, rs, old } = await prepared({ backups: { maxEntryMb: 1 } });
    site = s;
    const mismatch = path.join(s.paths.backups, 'full_backup_20260105_000000.tar.gz');
    copyFileSync(path.join(fixturesDir, 'checksum-mismatch/full_backup_20260105_000000.tar.gz'), mismatch);
    const plan = await planRestore(rs, mismatch, 'all', { inline: true });
    expect(plan.refusals.map((r) => [r.code, r.overridable])).toContainEqual(['verification', true]);
    await expectRefused(
      rs,
      plan,
      old,
      /refused: the backup failed verification: checksum mismatch for configuration\/config.json/,
    );

    const hostile = path.join(s.paths.backups, 'full_backup_20260106_000000.tar.gz');
    copyFileSync(path.join(fixturesDir, 'hostile/full_backup_20260106_000000.tar.gz'), hostile);
    const hplan = await planRestore(rs, hostile, 'all', { inline: true });
    expect(hplan.refusals.map((r) => [r.code, r.overridable])).toContainEqual(['hostile', false]);
    await expectRefused(rs, hplan, old, /hostile entries.*never restored/, { acceptUnverified: true });
    expect(existsSync('/tmp/cadence-ops-fixture-absolute.txt')).toBe(false);

    const truncGz = path.join(s.paths.backups, 'candy_cadence_backup_20260102_000000.db.gz');
    copyFileSync(
      path.join(fixturesDir, 'truncated-gzip/candy_cadence_backup_20260102_000000.db.gz'),
      truncGz,
    );
    const tplan = await planRestore(rs, truncGz, 'database', { inline: true });
    await expectRefused(rs, tplan, old, /refused: the backup failed verification: gzip: the file ends/);
    // Typed override: the restore tries, stops at the damage while staging, and changes nothing live.
    await expectRefused(rs, tplan, old, /gzip: unexpected end of file/, { acceptUnverified: true });

    const dbOnly = (await planRestore(rs, truncGz, 'config', { inline: true })).refusals.map((r) => r.code);
    expect(dbOnly).toContain('scope');
  });

  it('while Candy-Cadence runs, and while another process holds the database open (unless the name was typed)', async () => {
    const { s, rs, db, old } = await prepared();
    site = s;
    const plan = await planRestore(rs, db.file, 'database', { inline: true });
    const app = await startFakeApp(s.root);
    cleanups.push(() => app.stop());
    const check = await checkApplication(rs);
    expect(check.app?.pid).toBe(app.pid);
    await expectRefused(
      rs,
      plan,
      fingerprintOf(s.root, old),
      /refused: Candy-Cadence is running \(pid \d+, found by pid file\)/,
    );
    app.stop();
    await app.exited;
    unlinkSync(path.join(s.root, 'candy_cadence.pid'));

    const held = await holdDatabase(s.paths.database);
    cleanups.push(() => held.kill('SIGKILL'));
    const before = fingerprint(s.root);
    const hcheck = await checkApplication(rs);
    expect(hcheck.app).toBeNull();
    expect(hcheck.holders.map((h) => h.pid)).toContain(held.pid);
    await expectRefused(rs, plan, before, /refused: the database is held open by node \(pid \d+\)/);
    const forced = await runRestore(rs, plan, { ignoreHolders: true });
    expect(forced.ok).toBe(true);
  });

  it('without the free space it needs', async () => {
    const { s, rs, full } = await prepared();
    site = s;
    const before = fingerprint(s.root);
    const plan = await planRestore(rs, full.file, 'all', { inline: true, freeBytes: () => 4 * 1024 * 1024 });
    const space = plan.refusals.find((r) => r.code === 'space');
    expect(space?.message).toMatch(
      /^not enough free space on the site's file system: [\d.]+ MB needed \([\d.]+ MB staging \+ ~[\d.]+ MB safety snapshot\), 4\.0 MB available$/,
    );
    await expectRefused(rs, plan, before, /refused: not enough free space/);
  });

  it('a second restore while one is unfinished', async () => {
    const { s, rs, db } = await prepared();
    site = s;
    // An interrupted restore: the process killed in the middle of the swap.
    const r = await runCli(['--root', s.root, 'restore', db.name, '--yes'], {
      env: { CADENCE_OPS_STATE_DIR: s.stateDir, CADENCE_OPS_FAULT_KILL_AT: '3' },
    });
    expect(r.code).toBeNull();
    expect(pendingRestore(s.root)).not.toBeNull();
    const plan = await planRestore(rs, db.file, 'all', { inline: true });
    expect(plan.refusals.map((x) => x.code)).toContain('pending');
    const list = await runCli(['--root', s.root, 'backup', 'list'], {
      env: { CADENCE_OPS_STATE_DIR: s.stateDir },
    });
    expect(list.stderr).toMatch(
      /an interrupted restore of candy_cadence_backup_\d{8}_\d{6}\.db\.gz was found \(phase \w+/,
    );
    expect(list.stderr).toMatch(/cadence-ops restore --resume.*cadence-ops restore --rollback/);
  });
});

function fingerprintOf(root: string, fallback: Fingerprint): Fingerprint {
  // The fake app's pid file is part of the site while it runs.
  const fp = fingerprint(root);
  return { ...fallback, files: { ...fallback.files, 'candy_cadence.pid': fp.files['candy_cadence.pid']! } };
}

async function holdDatabase(dbFile: string) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const D=require('better-sqlite3'); const db=new D(process.argv[1]); db.prepare('SELECT 1').get(); process.stdout.write('ready\\n'); setInterval(()=>{},1000);",
      dbFile,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => child.stdout!.on('data', () => r()));
  return child;
}
