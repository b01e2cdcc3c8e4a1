import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../services/config.js';
import { ActionRefusedError, planAction, runMaintenanceAction } from '../services/db-actions.js';
import { runDatabaseCheck } from '../services/db-checks.js';
import { DbError, openReadOnly } from '../services/db-connection.js';
import { latestGrowth, recentRuns } from '../services/db-history.js';
import { readDbOverview } from '../services/db-info.js';
import { probeWriteLock, readSqliteLocks } from '../services/db-locks.js';
import type { ActionKind } from '../services/db-tasks.js';
import { DbWorker } from '../services/db-worker.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { makeCorruptDb, makeNotADatabase, makeRollbackDb, makeSiteDb } from './helpers/db-fixtures.js';
import { HOLD_DATABASE, type Holder, repoRoot, startHolder } from './helpers/holder-process.js';

const cfg = defaultConfig();
const settings = { ...cfg.database, busyTimeoutMs: 300, busyRetries: 1 };
let dir: string;
let siteDb: string;
let state: StateDb;
const holders: Holder[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-db-tools-'));
  siteDb = makeSiteDb(dir);
  state = openStateDb(path.join(dir, 'state', 'state.db'));
});
afterAll(async () => {
  await Promise.all(holders.map((h) => h.stop()));
  state.close();
  rmSync(dir, { recursive: true, force: true });
});

const fresh = (name: string, models = 2000) => {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  return makeSiteDb(d, models);
};

describe('db info', () => {
  it('reads pages, journal mode, exact rows and sizes, and names the missing recommended indexes', async () => {
    const o = await readDbOverview({ database: siteDb, thresholds: { fragmentationPercent: 30 } });
    expect(o.info.journalMode).toBe('wal');
    expect(o.info.pageSize).toBe(4096);
    expect(o.info.pageCount * o.info.pageSize).toBe(o.info.fileBytes);
    expect(o.info.sqliteVersion).toMatch(/^3\.\d+/);
    expect(o.info.compileOptions).toContain('ENABLE_DBSTAT_VTAB');
    const models = o.objects.find((x) => x.name === 'models')!;
    expect(models).toMatchObject({ kind: 'table', rows: 2000, rowsSource: 'dbstat' });
    expect(models.bytes).toBeGreaterThan(100_000);
    const meta = o.objects.find((x) => x.name === 'metadata')!;
    expect(meta.rows).toBe(10_000);
    expect(o.objects.find((x) => x.name === 'idx_models_name')).toMatchObject({
      kind: 'index',
      columns: ['name'],
      rows: 2000,
    });
    const missing = o.advice.filter((a) => /recommended index/.test(a.message)).map((a) => a.fix);
    expect(missing).toEqual([
      'CREATE INDEX idx_models_file_size ON models(file_size)',
      'CREATE INDEX idx_models_created_date ON models(created_date)',
    ]);
    expect(o.probe).toMatchObject({ writable: true, state: 'free' });
    expect(o.writers).toEqual([]);
  });

  it('shows the application holding the files and mid-transaction: busy lock, writer pid, no freeze', async () => {
    const db = fresh('busy');
    const h = await startHolder(HOLD_DATABASE, [db, 'write-transaction']);
    holders.push(h);
    const o = await readDbOverview({ database: db, thresholds: { fragmentationPercent: 30 } });
    expect(
      o.holders
        .filter((x) => x.pid === h.pid)
        .map((x) => path.basename(x.file))
        .sort(),
    ).toEqual(['candy_cadence.db', 'candy_cadence.db-shm', 'candy_cadence.db-wal']);
    expect(o.writers).toEqual([h.pid]);
    expect(readSqliteLocks(db).some((l) => l.pid === h.pid && l.meaning.startsWith('writing'))).toBe(true);
    expect(o.probe).toMatchObject({ writable: false, state: 'busy' });
    // Reads still work in WAL mode: a check is not blocked by the writer.
    const checked = await runDatabaseCheck({ database: db, kind: 'quick', settings, tableGrowthPercent: 10 });
    expect(checked.ok).toBe(true);
    // A write action waits busyTimeoutMs, retries once, then reports busy, while this thread keeps ticking.
    let maxGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const t = performance.now();
      maxGap = Math.max(maxGap, t - last);
      last = t;
    }, 10);
    const plan = await planAction({ database: db, action: 'analyze', readOnly: false, state });
    expect(plan.warnings.join(' ')).toContain(`pid ${h.pid}`);
    const started = performance.now();
    const err = await runMaintenanceAction({
      plan,
      confirmed: true,
      settings,
      tableGrowthPercent: 10,
      state,
    }).catch((e) => e);
    clearInterval(ticker);
    expect(err).toBeInstanceOf(DbError);
    expect(err.kind).toBe('busy');
    expect(err.message).toMatch(/locked.*gave up after 2 attempts/);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(maxGap).toBeLessThan(300); // the waiting happened in the worker, not here
    expect(recentRuns(state, db, { kind: 'analyze' })[0]).toMatchObject({ outcome: 'failed' });
    await h.stop();
    expect(probeWriteLock(db).writable).toBe(true);
  });

  it('a rollback-journal database locked EXCLUSIVE: reads report busy within the retry limit', async () => {
    const d = path.join(dir, 'exclusive');
    mkdirSync(d);
    const db = makeRollbackDb(d);
    const script = HOLD_DATABASE.replace("db.pragma('journal_mode = WAL');", '');
    const h = await startHolder(script, [db, 'exclusive']);
    holders.push(h);
    // The overview (on the screen's thread) does not wait for the lock: it says busy at once.
    const t0 = performance.now();
    await expect(
      readDbOverview({ database: db, thresholds: { fragmentationPercent: 30 } }),
    ).rejects.toMatchObject({
      kind: 'busy',
    });
    expect(performance.now() - t0).toBeLessThan(1000);
    const plan = await planAction({ database: db, action: 'analyze', readOnly: false });
    expect(plan.refusals).toEqual([]);
    expect(plan.warnings.join(' ')).toMatch(/locked right now|write lock is taken/);
    const started = performance.now();
    const err = await runDatabaseCheck({
      database: db,
      kind: 'integrity',
      settings,
      tableGrowthPercent: 10,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DbError);
    expect(err.kind).toBe('busy');
    expect(performance.now() - started).toBeLessThan(10_000);
    await h.stop();
  });
});

describe('bad files', () => {
  it('missing, not a database, empty: clear errors naming the file', async () => {
    const missing = path.join(dir, 'nope.db');
    expect(() => openReadOnly(missing)).toThrow(DbError);
    expect(() => openReadOnly(missing)).toThrow(`${missing}: no such file`);
    const notDb = makeNotADatabase(dir);
    expect(() => openReadOnly(notDb)).toThrow(/not a SQLite database \(header "These are not th"\)/);
    const err = await runDatabaseCheck({
      database: notDb,
      kind: 'integrity',
      settings,
      tableGrowthPercent: 10,
      state,
    }).catch((e) => e);
    expect(err).toMatchObject({ kind: 'not-a-database' });
    expect(recentRuns(state, notDb)[0]).toMatchObject({ outcome: 'failed', kind: 'integrity' });
    await expect(
      readDbOverview({ database: missing, thresholds: { fragmentationPercent: 30 } }),
    ).rejects.toMatchObject({
      kind: 'missing',
    });
  });

  it('a corrupt database: the integrity check lists the damage and the console stays up', async () => {
    const d = path.join(dir, 'corrupt');
    mkdirSync(d);
    const db = makeCorruptDb(d);
    const r = await runDatabaseCheck({
      database: db,
      kind: 'integrity',
      settings,
      tableGrowthPercent: 10,
      state,
    });
    expect(r.ok).toBe(false);
    expect(r.errors.length).toBeGreaterThan(1);
    expect(r.errors.join('\n')).toMatch(/Tree \d+ page \d+|malformed|wrong # of entries|btreeInitPage/i);
    expect(recentRuns(state, db, { kind: 'integrity' })[0]).toMatchObject({ outcome: 'problems' });
    const q = await runDatabaseCheck({ database: db, kind: 'quick', settings, tableGrowthPercent: 10 });
    expect(q.ok).toBe(false);
    // Info still answers (the header and schema are intact).
    const o = await readDbOverview({ database: db, thresholds: { fragmentationPercent: 30 }, sizes: false });
    expect(o.info.pageCount).toBeGreaterThan(10);
    // VACUUM and REINDEX refuse to rebuild a damaged database.
    for (const action of ['vacuum', 'reindex'] as const) {
      const plan = await planAction({ database: db, action, readOnly: false });
      const err = await runMaintenanceAction({
        plan,
        confirmed: true,
        settings,
        tableGrowthPercent: 10,
        state,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(ActionRefusedError);
      expect(err.message).toMatch(/quick_check found problems/);
    }
  });

  it('no permission: the CLI run as an unprivileged user says so and exits 1', (t) => {
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) return t.skip();
    const d = path.join(dir, 'private');
    mkdirSync(d);
    mkdirSync(path.join(d, 'data'));
    copyFileSync(siteDb, path.join(d, 'data/candy_cadence.db'));
    chmodSync(path.join(d, 'data/candy_cadence.db'), 0o600);
    const stateDir = path.join(dir, 'nobody-state');
    mkdirSync(stateDir, { mode: 0o777 });
    chmodSync(stateDir, 0o777);
    chmodSync(dir, 0o755);
    chmodSync(d, 0o755);
    chmodSync(path.join(d, 'data'), 0o755);
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        process.execPath,
        path.join(repoRoot, 'dist/cadence-ops.js'),
        'db',
        'info',
        '--root',
        d,
      ],
      { encoding: 'utf8', env: { ...process.env, CADENCE_OPS_STATE_DIR: stateDir } },
    );
    expect(r.stderr).toContain('permission denied');
    expect(r.stderr).toContain('candy_cadence.db');
    expect(r.status).toBe(1);
  });
});

describe('checks', () => {
  it('reports progress, records the result and sizes, and warns about growth over 10 % between checks', async () => {
    const db = fresh('growth');
    const progress: number[] = [];
    let t = Date.parse('2026-11-20T08:00:00Z');
    const first = await runDatabaseCheck({
      database: db,
      kind: 'integrity',
      settings,
      tableGrowthPercent: 10,
      state,
      onProgress: (p) => progress.push(p.fraction),
      now: () => t,
    });
    expect(first.ok).toBe(true);
    expect(first.growth).toBeNull();
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((f, i) => i === 0 || f >= progress[i - 1]!)).toBe(true);
    // The application adds 25 % more models (and their metadata) over two days.
    const w = new Database(db);
    const insert = w.prepare(
      "INSERT INTO models (name, file_path, format, file_size, created_date, modified_date) VALUES (?, ?, 'stl', 1000, '2026-11-21', '2026-11-21')",
    );
    w.transaction(() => {
      for (let i = 0; i < 500; i++) insert.run(`new ${i}`, `data/models/new_${i}.stl`);
    })();
    w.close();
    t += 2 * 86400_000;
    const second = await runDatabaseCheck({
      database: db,
      kind: 'quick',
      settings,
      tableGrowthPercent: 10,
      state,
      now: () => t,
    });
    const g = second.growth!;
    expect(g).not.toBeNull();
    const models = g.objects.find((o) => o.name === 'models')!;
    expect(models.rowsBefore).toBe(2000);
    expect(models.rows).toBe(2500);
    expect(models.rowsPercent).toBeCloseTo(25);
    expect(models.rowsPerDay).toBeCloseTo(250);
    expect(models.warn).toBe(true);
    expect(g.warnings.map((x) => x.name)).toContain('models');
    // metadata did not change: no warning for it.
    expect(g.objects.find((o) => o.name === 'metadata')).toMatchObject({ rowsPercent: 0, warn: false });
    expect(latestGrowth(state, db, 30)!.warnings.map((x) => x.name)).not.toContain('metadata');
  });

  it('foreign-key check goes table by table and finds orphans', async () => {
    const db = fresh('fk');
    const w = new Database(db);
    w.pragma('foreign_keys = OFF');
    w.prepare("INSERT INTO metadata (model_id, key, value) VALUES (999999, 'author', 'ghost')").run();
    w.close();
    const tables: string[] = [];
    const r = await runDatabaseCheck({
      database: db,
      kind: 'foreign_keys',
      settings,
      tableGrowthPercent: 10,
      onProgress: (p) => p.table && tables.push(p.table),
    });
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual([expect.stringMatching(/^metadata row \d+: no matching row in models/)]);
    expect(tables).toContain('metadata');
  });

  it('a warm worker runs jobs one after another, survives a cancel by starting afresh', async () => {
    const db = fresh('warm');
    const worker = new DbWorker();
    try {
      worker.warm();
      const [a, b] = await Promise.all([
        runDatabaseCheck({ database: db, kind: 'quick', settings, tableGrowthPercent: 10, runner: worker }),
        runDatabaseCheck({
          database: db,
          kind: 'foreign_keys',
          settings,
          tableGrowthPercent: 10,
          runner: worker,
        }),
      ]);
      expect([a.ok, b.ok]).toEqual([true, true]);
      const controller = new AbortController();
      const p = runDatabaseCheck({
        database: db,
        kind: 'integrity',
        settings,
        tableGrowthPercent: 10,
        runner: worker,
        signal: controller.signal,
      });
      controller.abort();
      await expect(p).rejects.toThrow(/cancelled/);
      const again = await runDatabaseCheck({
        database: db,
        kind: 'integrity',
        settings,
        tableGrowthPercent: 10,
        runner: worker,
      });
      expect(again.ok).toBe(true);
      const bad = (await worker
        .run({ op: 'count', file: db, tables: ['no_such_table'] })
        .catch((e) => e)) as Error;
      expect(String(bad.message)).toMatch(/no such table: no_such_table/);
    } finally {
      await worker.stop();
    }
  });

  it('cancel ends the check and records it as cancelled', async () => {
    const db = fresh('cancel');
    const controller = new AbortController();
    const p = runDatabaseCheck({
      database: db,
      kind: 'integrity',
      settings,
      tableGrowthPercent: 10,
      state,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 5);
    await expect(p).rejects.toThrow(/cancelled/);
    expect(recentRuns(state, db, { kind: 'integrity' })[0]).toMatchObject({ outcome: 'cancelled' });
  });
});

describe('actions', () => {
  const actions: ActionKind[] = ['analyze', 'optimize', 'vacuum', 'reindex', 'checkpoint'];

  it('each action refuses under read-only and without confirmation, and records the refusal', async () => {
    const db = fresh('refusals');
    for (const action of actions) {
      const ro = await planAction({ database: db, action, readOnly: true });
      expect(ro.refusals).toEqual(['read-only mode: actions that change the database are disabled']);
      await expect(
        runMaintenanceAction({ plan: ro, confirmed: true, settings, tableGrowthPercent: 10, state }),
      ).rejects.toBeInstanceOf(ActionRefusedError);
      const plan = await planAction({ database: db, action, readOnly: false });
      expect(plan.refusals).toEqual([]);
      await expect(
        runMaintenanceAction({ plan, confirmed: false, settings, tableGrowthPercent: 10, state }),
      ).rejects.toThrow(/refused: not confirmed/);
      const runs = recentRuns(state, db, { kind: action });
      expect(runs.map((r) => r.outcome)).toEqual(['refused', 'refused']);
    }
    // Nothing changed: no statistics were rebuilt, the file is as it was.
    const before = Database(db, { readonly: true });
    expect(before.prepare('SELECT count(*) AS n FROM models').get()).toEqual({ n: 2000 });
    before.close();
  });

  it('specific refusals: not enough disk for VACUUM, checkpoint without WAL, unknown target', async () => {
    const db = fresh('specific');
    const vac = await planAction({
      database: db,
      action: 'vacuum',
      readOnly: false,
      freeBytesOf: () => 1000,
    });
    expect(vac.refusals[0]).toMatch(/not enough free disk for VACUUM: 0\.0 MB free .* needs at least/);
    const d = path.join(dir, 'rollback');
    mkdirSync(d);
    const rb = makeRollbackDb(d);
    expect((await planAction({ database: rb, action: 'checkpoint', readOnly: false })).refusals).toEqual([
      'journal mode is delete: there is no WAL to checkpoint',
    ]);
    expect(
      (await planAction({ database: db, action: 'reindex', target: 'no_such', readOnly: false })).refusals,
    ).toEqual(['no table or index named no_such']);
    expect(
      (await planAction({ database: db, action: 'vacuum', target: 'models', readOnly: false })).refusals,
    ).toEqual(['VACUUM does not take a table or index name']);
    expect(
      (await planAction({ database: path.join(dir, 'gone.db'), action: 'analyze', readOnly: false }))
        .refusals[0],
    ).toMatch(/gone\.db: no such file/);
  });

  it('runs every action when confirmed, with results and durations recorded', async () => {
    const db = fresh('run');
    // Make free pages so VACUUM has something to do.
    const w = new Database(db);
    w.exec('DELETE FROM metadata WHERE model_id > 1000');
    w.pragma('wal_checkpoint(TRUNCATE)');
    w.close();
    const infoBefore = await readDbOverview({
      database: db,
      thresholds: { fragmentationPercent: 5 },
      sizes: false,
    });
    expect(infoBefore.info.freePages).toBeGreaterThan(0);
    for (const action of actions) {
      const plan = await planAction({
        database: db,
        action,
        target: action === 'reindex' ? 'idx_models_name' : null,
        readOnly: false,
      });
      const r = await runMaintenanceAction({
        plan,
        confirmed: true,
        settings,
        tableGrowthPercent: 10,
        state,
      });
      expect(r.action).toBe(action);
      const run = recentRuns(state, db, { kind: action })[0]!;
      expect(run.outcome).toBe('ok');
      expect(run.durationMs).toBeGreaterThan(0);
      expect(run.summary).toContain('done in');
    }
    const after = await readDbOverview({
      database: db,
      thresholds: { fragmentationPercent: 5 },
      sizes: false,
    });
    expect(after.info.freePages).toBe(0);
    expect(after.info.fileBytes).toBeLessThan(infoBefore.info.fileBytes);
    expect(after.info.walBytes ?? 0).toBe(0);
  });
});

describe('db verb', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'dist/cadence-ops.js'), ...args], {
        env: { ...process.env, CADENCE_OPS_STATE_DIR: path.join(dir, 'cli-state'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('info --json, check, and refusals with exit codes', async () => {
    const root = path.join(dir, 'site');
    mkdirSync(path.join(root, 'data'), { recursive: true });
    copyFileSync(siteDb, path.join(root, 'data/candy_cadence.db'));
    const info = await cli(['db', 'info', '--json', '--root', root]);
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout);
    expect(j.info.journalMode).toBe('wal');
    expect(j.objects.find((o: { name: string }) => o.name === 'models').rows).toBe(2000);
    const check = await cli(['db', 'check', 'quick', '--root', root]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/quick check of .*: ok/);
    const ro = await cli(['db', 'vacuum', '--yes', '--read-only', '--root', root]);
    expect(ro.code).toBe(1);
    expect(ro.stderr).toContain('VACUUM refused: read-only mode');
    const unconfirmed = await cli(['db', 'analyze', '--json', '--root', root]);
    expect(unconfirmed.code).toBe(1);
    expect(JSON.parse(unconfirmed.stdout)).toMatchObject({
      ok: false,
      kind: 'refused',
      reasons: ['not confirmed'],
    });
    const done = await cli(['db', 'checkpoint', '--yes', '--json', '--root', root]);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ ok: true, action: 'checkpoint' });
    const usage = await cli(['db', 'frobnicate', '--root', root]);
    expect(usage.code).toBe(2);
    const missing = await cli(['db', 'info', '--root', path.join(dir, 'empty-site')], {});
    expect(missing.code).toBe(2); // no such folder: a usage error
  });
});
