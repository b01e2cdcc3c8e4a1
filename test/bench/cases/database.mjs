// Database tools on a 100,000-model database (the scale the application is optimised for):
// - info ready time: the overview the screen shows first (pragmas, holders, locks, probe), and with
//   DBSTAT sizes; against the sqlite3 shell running the same pragmas and DBSTAT query;
// - integrity_check through the console (worker thread, as the screen runs it; and the CLI verb,
//   process start included) against `sqlite3 FILE 'PRAGMA integrity_check'`; also on a copy without
//   the FTS5 table, because SQLite 3.53 (ours) verifies FTS5 indexes in integrity_check and the
//   Debian shell (3.40) does not;
// - the longest event-loop block of the console process while a check, VACUUM, the slow-query
//   analysis and the overview run (the screen's key handling waits that long at most).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const DRIVER = `
export { createSiteDatabase } from './services/demo-site.ts';
export { readDbOverview } from './services/db-info.ts';
export { runDatabaseCheck } from './services/db-checks.ts';
export { planAction, runMaintenanceAction } from './services/db-actions.ts';
export { DbWorker } from './services/db-worker.ts';
export { defaultConfig } from './services/config.ts';
export { rng, slowQueryMessage } from './services/demo-log-lines.ts';
`;

/** Longest gap between 1 ms timer ticks while fn runs: how long the event loop was blocked. */
async function maxBlock(fn) {
  let max = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 5));
  } finally {
    clearInterval(timer);
  }
  return Math.max(max, performance.now() - last);
}

export default {
  name: 'database',
  description:
    'db info ready time, integrity_check vs the sqlite3 shell, event-loop block during checks and actions',
  async run(h) {
    if (!h.has('sqlite3')) throw new Error('the sqlite3 shell is missing: apt-get install sqlite3');
    const outDir = path.join(h.root, '.tmp');
    mkdirSync(outDir, { recursive: true });
    const driver = path.join(outDir, 'bench-database-driver.mjs');
    await esbuild.build({
      stdin: { contents: DRIVER, resolveDir: h.root, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['better-sqlite3'],
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      outfile: driver,
      logLevel: 'warning',
    });
    const m = await import(pathToFileURL(driver).href);

    const dir = h.tmpDir();
    const root = path.join(dir, 'site');
    for (const d of ['data', 'logs', 'temp']) mkdirSync(path.join(root, d), { recursive: true });
    const db = path.join(root, 'data/candy_cadence.db');
    let t = performance.now();
    m.createSiteDatabase(db, {
      models: 100_000,
      seed: 1,
      now: Date.now(),
      omitIndexes: ['idx_models_file_size', 'idx_metadata_model_id', 'idx_models_created_date'],
    });
    process.stderr.write(`  generated 100,000 models in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    const r = m.rng(3);
    const lines = [];
    for (let i = 0; i < 5000; i++)
      lines.push(
        `2026-11-23 08:${String(i % 60).padStart(2, '0')}:00,000 - candy_cadence.database - WARNING - ${m.slowQueryMessage(r)}`,
      );
    writeFileSync(path.join(root, 'logs/database.log'), `${lines.join('\n')}\n`);
    const cfg = m.defaultConfig();
    const env = { ...process.env, CADENCE_OPS_STATE_DIR: path.join(dir, 'state') };

    // Info: the overview as the screen reads it (no DBSTAT), and with DBSTAT sizes.
    const overview = (sizes) =>
      m.readDbOverview({
        database: db,
        thresholds: { fragmentationPercent: 30 },
        sizes,
        processPattern: 'candy_cadence',
      });
    const shellInfo = [
      'PRAGMA page_size;',
      'PRAGMA page_count;',
      'PRAGMA freelist_count;',
      'PRAGMA journal_mode;',
      'PRAGMA auto_vacuum;',
      'PRAGMA user_version;',
      'PRAGMA compile_options;',
      'SELECT name, sum(pgsize), sum(unused), sum(ncell) FROM dbstat GROUP BY name;',
    ].join(' ');
    const infoFast = await h.time(() => overview(false), { runs: 7 });
    const infoSized = [];
    const shellInfoTimes = [];
    for (let i = 0; i < 7; i++) {
      t = performance.now();
      await overview(true);
      infoSized.push(performance.now() - t);
      const s = await h.runCommand('sqlite3', ['-readonly', db, shellInfo]);
      shellInfoTimes.push(s.ms);
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    h.figure({
      label: 'info panel ready (overview, in console)',
      value: infoFast,
      unit: 'ms',
      target: '<= 300 ms',
    });
    h.compare({
      label: 'info with DBSTAT sizes vs sqlite3 same queries',
      ours: med(infoSized),
      theirs: med(shellInfoTimes),
      theirsName: 'sqlite3 pragmas+dbstat',
    });
    const cliInfo = [];
    for (let i = 0; i < 5; i++)
      cliInfo.push((await h.runCommand(h.node, [h.cli, 'db', 'info', '--json', '--root', root], { env })).ms);
    h.figure({ label: 'db info --json (CLI, process start incl.)', value: med(cliInfo), unit: 'ms' });

    // integrity_check: the console's path (the screen's warm worker; a fresh worker; the CLI),
    // alternated with the shell.
    const worker = new m.DbWorker();
    worker.warm();
    const shell = () => h.runCommand('sqlite3', ['-readonly', db, 'PRAGMA integrity_check']);
    const console = () =>
      m.runDatabaseCheck({
        database: db,
        kind: 'integrity',
        settings: cfg.database,
        tableGrowthPercent: 10,
        runner: worker,
      });
    const fresh = () =>
      m.runDatabaseCheck({ database: db, kind: 'integrity', settings: cfg.database, tableGrowthPercent: 10 });
    const cli = () => h.runCommand(h.node, [h.cli, 'db', 'check', 'integrity', '--root', root], { env });
    await shell();
    await console();
    const ours = [];
    const oursFresh = [];
    const oursCli = [];
    const theirs = [];
    for (let i = 0; i < 5; i++) {
      t = performance.now();
      const res = await console();
      if (!res.ok) throw new Error('integrity check failed on a fresh database');
      ours.push(performance.now() - t);
      t = performance.now();
      await fresh();
      oursFresh.push(performance.now() - t);
      const s = await shell();
      if (s.stdout.trim() !== 'ok') throw new Error(`sqlite3 integrity_check: ${s.stdout}`);
      theirs.push(s.ms);
      const c = await cli();
      if (c.code !== 0) throw new Error(`db check exited ${c.code}: ${c.stderr}`);
      oursCli.push(c.ms);
    }
    h.compare({
      label: 'integrity_check, console (warm worker) vs shell',
      ours: med(ours),
      theirs: med(theirs),
      theirsName: 'sqlite3 3.40 shell',
      target: '<= 1.2x',
    });
    h.compare({
      label: 'integrity_check, fresh worker vs shell',
      ours: med(oursFresh),
      theirs: med(theirs),
      theirsName: 'sqlite3 3.40 shell',
    });
    h.compare({
      label: 'integrity_check, CLI db check vs shell',
      ours: med(oursCli),
      theirs: med(theirs),
      theirsName: 'sqlite3 3.40 shell',
    });
    // The same engine work on both sides: a copy without the FTS5 table.
    const plain = path.join(dir, 'nofts.db');
    copyFileSync(db, plain);
    spawnSync('sqlite3', [plain, 'DROP TABLE models_fts; VACUUM;']);
    const oursPlain = [];
    const theirsPlain = [];
    for (let i = 0; i < 5; i++) {
      t = performance.now();
      await m.runDatabaseCheck({
        database: plain,
        kind: 'integrity',
        settings: cfg.database,
        tableGrowthPercent: 10,
        runner: worker,
      });
      oursPlain.push(performance.now() - t);
      theirsPlain.push((await h.runCommand('sqlite3', ['-readonly', plain, 'PRAGMA integrity_check'])).ms);
    }
    h.compare({
      label: 'integrity_check without FTS5, console vs shell',
      ours: med(oursPlain),
      theirs: med(theirsPlain),
      theirsName: 'sqlite3 3.40 shell',
    });

    // Event-loop blocks of the console process.
    const blocks = {
      'overview refresh (main thread)': await maxBlock(() => overview(false)),
      'integrity_check (warm worker)': await maxBlock(() => console()),
      'quick_check (fresh worker)': await maxBlock(() =>
        m.runDatabaseCheck({ database: db, kind: 'quick', settings: cfg.database, tableGrowthPercent: 10 }),
      ),
      'VACUUM, plan + run (worker)': await maxBlock(async () => {
        const plan = await m.planAction({ database: plain, action: 'vacuum', readOnly: false });
        await m.runMaintenanceAction({
          plan,
          confirmed: true,
          settings: cfg.database,
          tableGrowthPercent: 10,
          runner: worker,
        });
      }),
      'slow-query analysis, 5,000 lines (worker)': await maxBlock(() =>
        worker.run({
          op: 'slow-queries',
          options: {
            database: db,
            logFiles: [path.join(root, 'logs/database.log')],
            slowQueryMs: 1000,
            frequentSlowQuery: 5,
          },
        }),
      ),
    };
    await worker.stop();
    for (const [label, value] of Object.entries(blocks))
      h.figure({ label: `max event-loop block: ${label}`, value, unit: 'ms', target: '<= 50 ms' });
  },
};
