// Every health check in each of its states, on a real temporary site (makeTempSite): real files,
// the real SQLite database, real processes for the application, real backups for freshness.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { recordVerification } from '../services/backup-state.js';
import { verifyBackup } from '../services/backup-verify.js';
import { recordRun as recordBenchRun } from '../services/bench-run.js';
import { type Config, defaultConfig } from '../services/config.js';
import { recordRun as recordDbRun } from '../services/db-history.js';
import { pythonTimestamp } from '../services/demo-log-lines.js';
import { checkApplication, lastMarkedLineTime } from '../services/health-application.js';
import { checkBackups } from '../services/health-backups.js';
import { checkConfiguration } from '../services/health-configuration.js';
import { checkDatabase } from '../services/health-database.js';
import { checkDependencies, compareVersions } from '../services/health-dependencies.js';
import { checkLogs, lastHourCounts } from '../services/health-logs.js';
import { checkPerformance } from '../services/health-performance.js';
import { checkPermissions } from '../services/health-permissions.js';
import { checkResources } from '../services/health-resources.js';
import type { CheckContext } from '../services/health-types.js';
import { sitePaths } from '../services/site.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { copyProcRoot, writeProc } from './helpers/proc-root.js';
import { makeTempSite, type TempSite, tempDir } from './helpers/temp-site.js';

let site: TempSite;
let state: StateDb;
const config = (patch: (c: Config) => void = () => {}): Config => {
  const c = structuredClone(defaultConfig());
  patch(c);
  return c;
};
const ctxOf = (c: Config = config(), now = Date.now(), db: StateDb | null = state): CheckContext => ({
  paths: sitePaths(site.root, c),
  config: c,
  stateDb: db,
  now,
});
const line = (ms: number, level: string, message: string, logger = 'candy_cadence.main') =>
  `${pythonTimestamp(ms)} - ${logger} - ${level} - ${message}\n`;

beforeAll(async () => {
  site = await makeTempSite({ models: 50, thumbnails: 2, logHistoryHours: 1 });
  state = openStateDb(path.join(site.home, 'state.db'));
});
afterAll(() => {
  state.close();
  site.cleanup();
});

describe('application status', () => {
  let child: ChildProcess | null = null;
  const pattern = `candy_health_${randomUUID().slice(0, 8)}`;
  const logs = () => path.join(site.root, 'logs');
  const mainLog = () => path.join(logs(), 'candy_cadence.log');
  let saved: string;
  beforeAll(() => {
    saved = readFileSync(mainLog(), 'utf8');
  });
  afterEach(() => {
    child?.kill('SIGKILL');
    child = null;
    writeFileSync(mainLog(), saved);
    rmSync(path.join(site.root, 'candy_cadence.pid'), { force: true });
  });
  const start = async () => {
    child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', pattern], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(path.join(site.root, 'candy_cadence.pid'), `${child.pid}\n`);
  };
  const cfg = () => config((c) => (c.app.processPattern = pattern));

  it('critical when the application is not running, naming a stale pid file', () => {
    writeFileSync(path.join(site.root, 'candy_cadence.pid'), '999999\n');
    const r = checkApplication(ctxOf(cfg()));
    expect(r.state).toBe('critical');
    expect(r.message).toMatch(/not running/);
    expect(r.findings.join(' ')).toMatch(/999999, which is not running/);
    expect(r.recommendation).toMatch(/start/);
  });

  it('ok when up with a fresh heartbeat, found by pid file', async () => {
    await start();
    appendFileSync(mainLog(), line(Date.now() - 10_000, 'INFO', 'Heartbeat: 50 models in library'));
    appendFileSync(mainLog(), line(Date.now() - 5_000, 'INFO', 'Loading model data/models/a.stl'));
    const r = checkApplication(ctxOf(cfg()));
    expect(r.state).toBe('ok');
    expect(r.data.pid).toBe(child!.pid);
    expect(r.data.via).toBe('pid file');
    expect(r.data.heartbeatAgeSeconds as number).toBeGreaterThanOrEqual(9);
    expect(r.data.heartbeatAgeSeconds as number).toBeLessThan(60);
  });

  it('warning when up but the heartbeat is older than the limit, critical past twice the limit', async () => {
    await start();
    const c = cfg();
    appendFileSync(mainLog(), line(Date.now() - 400_000, 'INFO', 'Heartbeat: 50 models'));
    expect(checkApplication(ctxOf(c)).state).toBe('warning');
    writeFileSync(mainLog(), line(Date.now() - 700_000, 'INFO', 'Heartbeat: 50 models'));
    const r = checkApplication(ctxOf(c));
    expect(r.state).toBe('critical');
    expect(r.message).toMatch(/hung/);
  });

  it('no heartbeat: ok just after start, warning once it should have written one', async () => {
    await start();
    writeFileSync(mainLog(), line(Date.now(), 'INFO', 'Loading model x'));
    rmSync(`${mainLog()}.1`, { force: true });
    expect(checkApplication(ctxOf(cfg())).state).toBe('ok');
    const c = cfg();
    c.app.heartbeatMaxAgeSeconds = 1;
    await new Promise((r) => setTimeout(r, 1100));
    expect(checkApplication(ctxOf(c)).state).toBe('warning');
  });

  it('finds the newest heartbeat far back in a large file, across chunk boundaries', () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.log');
    const t = Date.now() - 60_000;
    writeFileSync(file, line(t - 1000, 'INFO', 'Heartbeat: old') + line(t, 'INFO', 'Heartbeat: newest'));
    appendFileSync(file, line(t + 1, 'INFO', 'x'.repeat(200)).repeat(2000));
    expect(lastMarkedLineTime(file, 'Heartbeat:')).toBe(t);
    expect(lastMarkedLineTime(file, 'Heartbeat:', 1000)).toBeNull();
    expect(lastMarkedLineTime(path.join(dir, 'missing.log'), 'Heartbeat:')).toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('database', () => {
  const db = () => path.join(site.root, 'data/candy_cadence.db');

  it('ok: opens, quick_check ok, counts the models', () => {
    const r = checkDatabase(ctxOf());
    expect(r.state).toBe('ok');
    expect(r.data.models).toBe(50);
    expect((r.data.quickCheck as { ok: boolean }).ok).toBe(true);
    expect(r.data.countMs).toBeTypeOf('number');
  });

  it('warning when the count is slower than thresholds.slowQueryMs, critical past responseSeconds', () => {
    expect(checkDatabase(ctxOf(config((c) => (c.thresholds.slowQueryMs = 0)))).state).toBe('warning');
    expect(
      checkDatabase(
        ctxOf(
          config((c) => {
            c.thresholds.slowQueryMs = 0;
            c.thresholds.responseSeconds = 0.000001;
          }),
        ),
      ).state,
    ).toBe('critical');
  });

  it('large database: quick_check skipped; warning without a recorded check, critical when the last found problems', () => {
    const c = config((x) => (x.health.quickCheckMaxMb = 0));
    const fresh = openStateDb(':memory:');
    const r = checkDatabase(ctxOf(c, Date.now(), fresh));
    expect(r.state).toBe('warning');
    expect(r.message).toMatch(/skipped/);
    recordDbRun(fresh, {
      database: db(),
      kind: 'integrity',
      startedAt: Date.now() - 3_600_000,
      durationMs: 100,
      outcome: 'ok',
      summary: 'integrity check: ok',
      detail: null,
    });
    expect(checkDatabase(ctxOf(c, Date.now(), fresh)).state).toBe('ok');
    recordDbRun(fresh, {
      database: db(),
      kind: 'integrity',
      startedAt: Date.now() - 60_000,
      durationMs: 100,
      outcome: 'problems',
      summary: 'integrity check: 2 problems',
      detail: null,
    });
    const bad = checkDatabase(ctxOf(c, Date.now(), fresh));
    expect(bad.state).toBe('critical');
    expect(bad.recommendation).toMatch(/integrity/);
    fresh.close();
  });

  it('critical when the file is missing or not a database, with what to do', () => {
    const saved = `${db()}.saved`;
    renameSync(db(), saved);
    try {
      const missing = checkDatabase(ctxOf());
      expect(missing.state).toBe('critical');
      expect(missing.message).toMatch(/no such file/);
      expect(missing.recommendation).toMatch(/restore/);
      writeFileSync(db(), 'this is not sqlite at all, just text');
      const garbage = checkDatabase(ctxOf());
      expect(garbage.state).toBe('critical');
      expect(garbage.message).toMatch(/not a SQLite database/);
    } finally {
      rmSync(db(), { force: true });
      renameSync(saved, db());
    }
  });

  it('critical when the models table is missing', () => {
    const dir = tempDir();
    const file = path.join(dir, 'x.db');
    const d = new Database(file);
    d.exec('CREATE TABLE other (id INTEGER)');
    d.close();
    const c = config((x) => (x.paths.database = file));
    const r = checkDatabase(ctxOf(c));
    expect(r.state).toBe('critical');
    expect(r.findings.join(' ')).toMatch(/no such table: models/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('warning when another connection holds the database exclusively', () => {
    const holder = new Database(db());
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const r = checkDatabase(ctxOf(config((c) => (c.database.busyTimeoutMs = 0))));
      expect(r.state).toBe('warning');
      expect(r.message).toMatch(/busy|locked/);
    } finally {
      holder.exec('COMMIT');
      holder.close();
    }
  });
});

describe('system resources', () => {
  const full = (usedFraction: number) => () => ({
    bsize: 4096,
    blocks: 1_000_000,
    bfree: Math.round(1_000_000 * (1 - usedFraction)),
    bavail: Math.round(1_000_000 * (1 - usedFraction)),
    files: 100,
    ffree: 50,
  });
  const meminfo = (totalKb: number, availableKb: number) =>
    `MemTotal: ${totalKb} kB\nMemFree: ${availableKb} kB\nMemAvailable: ${availableKb} kB\nBuffers: 0 kB\nCached: 0 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n`;
  const run = async (mem: string, used: number) => {
    const dir = tempDir();
    const root = copyProcRoot('host-t0', path.join(dir, 'proc'));
    writeProc(root, 'meminfo', mem);
    try {
      return await checkResources(ctxOf(), {
        sampleMs: 10,
        sampler: { procRoot: root, sysRoot: path.join(dir, 'sys'), statfs: full(used), selfPid: 1 },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('ok under the thresholds', async () => {
    const r = await run(meminfo(16_000_000, 12_000_000), 0.3);
    expect(r.state).toBe('ok');
    expect(r.message).toMatch(/memory 25 %/);
  });

  it('warning at 85 % memory, critical at 90 % memory or a site disk over 90 %', async () => {
    expect((await run(meminfo(16_000_000, 2_200_000), 0.3)).state).toBe('warning');
    const mem = await run(meminfo(16_000_000, 1_200_000), 0.3);
    expect(mem.state).toBe('critical');
    expect(mem.message).toMatch(/memory 9\d/);
    const disk = await run(meminfo(16_000_000, 12_000_000), 0.95);
    expect(disk.state).toBe('critical');
    expect(disk.recommendation).toMatch(/free disk space/);
  });

  it('unknown when /proc cannot be read', async () => {
    const dir = tempDir();
    const r = await checkResources(ctxOf(), {
      sampleMs: 5,
      sampler: { procRoot: path.join(dir, 'nothing'), sysRoot: path.join(dir, 'sys'), selfPid: 1 },
    });
    expect(r.state).toBe('unknown');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('file permissions', () => {
  const env = () => path.join(site.root, '.env');
  it('ok on a site built with safe modes', () => {
    const r = checkPermissions(ctxOf());
    expect(r.state).toBe('ok');
    expect(r.data.checked as number).toBeGreaterThan(4);
  });

  it('critical when .env is readable by others or the database writable by others, with the chmod', () => {
    chmodSync(env(), 0o644);
    try {
      const r = checkPermissions(ctxOf());
      expect(r.state).toBe('critical');
      expect(r.message).toMatch(/\.env/);
      expect(r.recommendation).toContain(`chmod 600 ${env()}`);
    } finally {
      chmodSync(env(), 0o600);
    }
    const db = path.join(site.root, 'data/candy_cadence.db');
    chmodSync(db, 0o666);
    try {
      const r = checkPermissions(ctxOf());
      expect(r.state).toBe('critical');
      expect(r.findings.join(' ')).toMatch(/database is writable by others \(0666\)/);
    } finally {
      chmodSync(db, 0o644);
    }
  });

  it('backups: warning for a readable file in a closed folder, critical when the folder lets others in', () => {
    const backups = path.join(site.root, 'backups');
    const file = path.join(backups, 'full_backup_20260101_000000.tar.gz');
    writeFileSync(file, 'x', { mode: 0o644 });
    chmodSync(file, 0o644);
    try {
      expect(checkPermissions(ctxOf()).state).toBe('warning');
      chmodSync(backups, 0o755);
      const r = checkPermissions(ctxOf());
      expect(r.state).toBe('critical');
      expect(r.findings.join(' ')).toMatch(/holds \.env/);
    } finally {
      chmodSync(backups, 0o700);
      unlinkSync(file);
    }
  });

  it('unknown when there is nothing to check', () => {
    const dir = tempDir();
    const c = config();
    const r = checkPermissions({ paths: sitePaths(dir, c), config: c, stateDb: null, now: Date.now() });
    expect(r.state).toBe('unknown');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('dependencies', () => {
  it('ok with the layout complete, naming the SQLite version', () => {
    const r = checkDependencies(ctxOf());
    expect(r.state).toBe('ok');
    expect(r.message).toMatch(/SQLite 3\.\d+/);
  });
  it('warning for a missing folder the application recreates, critical for a missing database or old SQLite', () => {
    const temp = path.join(site.root, 'temp');
    rmSync(temp, { recursive: true, force: true });
    try {
      const r = checkDependencies(ctxOf());
      expect(r.state).toBe('warning');
      expect(r.message).toMatch(/temp .* is missing/);
    } finally {
      mkdirSync(temp);
    }
    const c = config((x) => (x.paths.database = 'data/nothing.db'));
    expect(checkDependencies(ctxOf(c)).state).toBe('critical');
    const old = checkDependencies(ctxOf(config((x) => (x.health.minSqliteVersion = '99.0'))));
    expect(old.state).toBe('critical');
    expect(old.message).toMatch(/older than 99\.0/);
  });
  it('compares versions numerically', () => {
    expect(compareVersions('3.53.2', '3.35.0')).toBe(1);
    expect(compareVersions('3.9', '3.35')).toBe(-1);
    expect(compareVersions('3.35', '3.35.0')).toBe(0);
  });
});

describe('configuration', () => {
  const cfgFile = () => path.join(site.root, 'config.json');
  let saved: string;
  beforeAll(() => {
    saved = readFileSync(cfgFile(), 'utf8');
  });
  afterEach(() => writeFileSync(cfgFile(), saved));

  it('ok when both files parse with the expected keys', () => {
    expect(checkConfiguration(ctxOf()).state).toBe('ok');
  });
  it('warning when keys are missing or database.path points elsewhere', () => {
    const value = JSON.parse(saved);
    delete value.logging;
    writeFileSync(cfgFile(), JSON.stringify(value));
    const r = checkConfiguration(ctxOf());
    expect(r.state).toBe('warning');
    expect(r.message).toMatch(/config.json lacks "logging"/);
    value.logging = {};
    value.database.path = 'elsewhere/other.db';
    writeFileSync(cfgFile(), JSON.stringify(value));
    expect(checkConfiguration(ctxOf()).findings.join(' ')).toMatch(/database.path is elsewhere\/other.db/);
  });
  it('critical when config.json is not JSON or missing, with the parse error', () => {
    writeFileSync(cfgFile(), '{"version": "1.4.2",');
    const r = checkConfiguration(ctxOf());
    expect(r.state).toBe('critical');
    expect(r.message).toMatch(/config.json is not valid JSON/);
    expect(r.recommendation).toMatch(/ERR007/);
    unlinkSync(cfgFile());
    expect(checkConfiguration(ctxOf()).message).toMatch(/config.json missing/);
  });
});

describe('logs', () => {
  const logs = () => path.join(site.root, 'logs');
  let dir: string;
  const now = Date.now();
  beforeAll(() => {
    // A copy of the site's logs folder to write into freely.
    dir = tempDir();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const withLogs = (files: Record<string, string>, patch: (c: Config) => void = () => {}) => {
    const folder = path.join(dir, randomUUID());
    mkdirSync(folder);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(folder, name), text);
    return checkLogs(
      ctxOf(
        config((c) => {
          c.paths.logs = folder;
          patch(c);
        }),
        now,
      ),
    );
  };
  const records = (n: number, level: string, from: number, step: number, msg = (i: number) => `event ${i}`) =>
    Array.from({ length: n }, (_, i) => line(from + i * step, level, msg(i))).join('');

  it('ok: few errors, no critical, small folder (on the real site logs too)', async () => {
    const real = await checkLogs(ctxOf(config(), now));
    expect(['ok', 'warning', 'critical']).toContain(real.state);
    const r = await withLogs({
      'candy_cadence.log':
        records(100, 'INFO', now - 3_000_000, 20_000) + records(3, 'ERROR', now - 600_000, 1000),
    });
    expect(r.state).toBe('ok');
    expect(r.data.errorsLastHour).toBe(3);
  });

  it('warning over errorsPerHour, critical over twice; errors written to two files count once', async () => {
    const errors = records(
      60,
      'ERROR',
      now - 1_800_000,
      10_000,
      (i) => `PAR001 Invalid file header: data/models/m${i}.stl`,
    );
    const w = await withLogs({ 'candy_cadence.log': errors, 'error.log': errors });
    expect(w.data.errorsLastHour).toBe(60);
    expect(w.state).toBe('warning');
    expect(w.message).toMatch(/60 errors in the last hour/);
    const c = await withLogs({ 'candy_cadence.log': errors }, (x) => (x.thresholds.errorsPerHour = 20));
    expect(c.state).toBe('critical');
  });

  it('errors older than an hour do not count, even at the start of a large file', async () => {
    const old = records(5000, 'ERROR', now - 50 * 3_600_000, 30_000);
    const r = await withLogs({ 'candy_cadence.log': old + records(2, 'ERROR', now - 60_000, 1000) });
    expect(r.data.errorsLastHour).toBe(2);
    // Bisection: far less than the file was read.
    expect(r.data.bytesRead as number).toBeLessThan(200_000);
  });

  it('critical for a CRITICAL record or a MemoryError traceback in the last hour', async () => {
    const tb = `${line(now - 120_000, 'ERROR', 'ERR003 out of memory during processing').trimEnd()}\nTraceback (most recent call last):\n  File "x.py", line 1, in f\nMemoryError: cannot allocate\n`;
    const r = await withLogs({ 'candy_cadence.log': tb });
    expect(r.state).toBe('critical');
    expect(r.findings.join(' ')).toMatch(/MemoryError x1/);
    const crit = await withLogs({
      'candy_cadence.log': line(now - 1000, 'CRITICAL', 'ERR001 database connection failed'),
    });
    expect(crit.state).toBe('critical');
    expect(crit.data.criticalLastHour).toBe(1);
  });

  it('warning when the logs folder is over health.logsFolderMb', async () => {
    const r = await withLogs({ 'candy_cadence.log': 'x'.repeat(2 * 1024 * 1024) }, (c) => {
      c.health.logsFolderMb = { warning: 1, critical: 100 };
    });
    expect(r.state).toBe('warning');
    expect(r.findings.join(' ')).toMatch(/logs folder 2 MB/);
  });

  it('unknown when the logs folder cannot be read', async () => {
    const r = await checkLogs(ctxOf(config((c) => (c.paths.logs = path.join(dir, 'missing')))));
    expect(r.state).toBe('unknown');
  });

  it('reads at most maxBytesPerFile of a file and says that it did', () => {
    const folder = path.join(dir, randomUUID());
    mkdirSync(folder);
    const file = path.join(folder, 'candy_cadence.log');
    writeFileSync(file, records(2000, 'ERROR', now - 1_800_000, 500));
    const counts = lastHourCounts([file], { since: now - 3_600_000, until: now, maxBytesPerFile: 20_000 });
    expect(counts.capped).toEqual(['candy_cadence.log']);
    expect(counts.errors).toBeGreaterThan(50);
    expect(counts.errors).toBeLessThan(2000);
    expect(lastHourCounts([file], { since: now - 3_600_000, until: now }).errors).toBe(2000);
  });

  it('lastHourCounts reads a long last hour in pieces: records, tracebacks and UTF-8 across the piece boundaries, duplicates across files', () => {
    const folder = path.join(dir, randomUUID());
    mkdirSync(folder);
    // ~3 MB: several 1 MB pieces. Every 7th record is an ERROR with a traceback, every 50th a
    // CRITICAL MemoryError; messages carry multi-byte characters; the last line has no newline.
    const parts: string[] = [];
    let errors = 0;
    let critical = 0;
    let records = 0;
    for (let i = 0; i < 28_000; i++) {
      const t = now - 3_000_000 + i * 100;
      const level = i % 50 === 0 ? 'CRITICAL' : i % 7 === 0 ? 'ERROR' : 'INFO';
      records++;
      if (level === 'INFO') {
        parts.push(line(t, 'INFO', `Modèle ${i} chargé — ${'é'.repeat(i % 40)} ok`));
        continue;
      }
      if (level === 'CRITICAL') critical++;
      errors++;
      parts.push(line(t, level, `failure ${i} in ✓ step`));
      parts.push('Traceback (most recent call last):\n');
      parts.push(`  File "x.py", line ${i}, in run\n`);
      parts.push(level === 'CRITICAL' ? 'MemoryError: out of memory\n' : `ValueError: bad ${i}\n`);
    }
    const text = `${parts.join('')}${line(now - 1000, 'ERROR', 'the last one').trimEnd()}`;
    records++;
    errors++;
    expect(text.length).toBeGreaterThan(3_000_000);
    const a = path.join(folder, 'candy_cadence.log');
    const b = path.join(folder, 'error.log');
    writeFileSync(a, text);
    // error.log carries the same ERROR and CRITICAL records: counted once.
    writeFileSync(
      b,
      `${text
        .split('\n')
        .filter((l) => / - (ERROR|CRITICAL) - /.test(l))
        .join('\n')}\n`,
    );
    const counts = lastHourCounts([a, b], { since: now - 3_600_000, until: now });
    expect(counts.records).toBe(records);
    expect(counts.errors).toBe(errors);
    expect(counts.critical).toBe(critical);
    expect(counts.criticalTypes.get('MemoryError')?.count).toBe(critical);
    expect(counts.capped).toEqual([]);
    expect(counts.bytesRead).toBe(Buffer.byteLength(text) + statSync(b).size);
  });

  it('lastHourCounts agrees with a plain count on the site logs', () => {
    const file = path.join(logs(), 'candy_cadence.log');
    const text = readFileSync(file, 'utf8');
    const since = now - 3_600_000;
    let expected = 0;
    for (const l of text.split('\n')) {
      const m = / - (ERROR|CRITICAL) - /.exec(l);
      if (!m) continue;
      const t = new Date(l.slice(0, 19).replace(' ', 'T')).getTime();
      if (t >= since - 1000 && t <= now) expected++;
    }
    const counts = lastHourCounts([file], { since, until: now });
    expect(Math.abs(counts.errors - expected)).toBeLessThanOrEqual(1);
  });
});

describe('performance', () => {
  const now = Date.now();
  const perfLines = (n: number, slowEvery: number) =>
    Array.from({ length: n }, (_, i) =>
      line(
        now - (n - i) * 60_000,
        'INFO',
        `model_loaded file=data/models/m${i}.stl format=STL size_mb=10 triangles=1000 load_time:${i % slowEvery === 0 ? '7.5' : '1.2'}`,
        'candy_cadence.performance',
      ),
    ).join('');
  const withPerf = (text: string | null, db: StateDb | null = null) => {
    const folder = path.join(tempDir(), 'logs');
    mkdirSync(folder);
    if (text !== null) writeFileSync(path.join(folder, 'performance.log'), text);
    return checkPerformance(
      ctxOf(
        config((c) => (c.paths.logs = folder)),
        now,
        db,
      ),
    );
  };

  it('ok when loads meet their targets', () => {
    const r = withPerf(perfLines(50, 1000));
    expect(r.state).toBe('ok');
    expect((r.data.loads as { n: number }).n).toBe(50);
  });
  it('warning over 10 % of loads over target, critical over 25 %', () => {
    expect(withPerf(perfLines(50, 5)).state).toBe('warning');
    const r = withPerf(perfLines(50, 2));
    expect(r.state).toBe('critical');
    expect(r.message).toMatch(/25 of 50 loads/);
  });
  it('warning on the last benchmark regression; unknown with neither loads nor benchmark', () => {
    const fresh = openStateDb(':memory:');
    expect(withPerf(null, fresh).state).toBe('unknown');
    recordBenchRun(fresh, {
      startedAt: new Date(now - 3_600_000).toISOString(),
      finishedAt: new Date(now - 3_500_000).toISOString(),
      runs: 5,
      warmup: 1,
      thresholdPercent: 110,
      files: [],
      skipped: [],
      regressions: 2,
      failures: 0,
      targetsMissed: 0,
      perf001: 0,
      baselineSource: null,
      notes: [],
      runId: null,
    });
    const r = withPerf(null, fresh);
    expect(r.state).toBe('warning');
    expect(r.message).toMatch(/2 regression/);
    expect(r.recommendation).toMatch(/Bench screen/);
    fresh.close();
  });
});

describe('backup freshness', () => {
  let db: StateDb;
  beforeAll(() => {
    db = openStateDb(':memory:');
  });
  afterAll(() => db.close());

  it('critical with no backups; unknown without a state database', () => {
    const r = checkBackups(ctxOf(config(), Date.now(), db));
    expect(r.state).toBe('critical');
    expect(r.message).toMatch(/no database backup at all/);
    expect(checkBackups(ctxOf(config(), Date.now(), null)).state).toBe('unknown');
  });

  it('ok with fresh verified backups; warning and critical as they age; a failed newer one is named', async () => {
    const c = config();
    const paths = sitePaths(site.root, c);
    for (const kind of ['database', 'full'] as const)
      await createBackup({ paths, config: c, kind, inline: true, stateDb: db, secondary: false });
    const now = Date.now();
    const ok = checkBackups(ctxOf(c, now, db));
    expect(ok.state).toBe('ok');
    expect(ok.message).toMatch(/newest verified database backup \d+ min old/);
    expect(checkBackups(ctxOf(c, now + 30 * 3_600_000, db)).state).toBe('warning');
    const old = checkBackups(ctxOf(c, now + 60 * 3_600_000, db));
    expect(old.state).toBe('critical');
    expect(old.recommendation).toMatch(/backup create --type database/);

    // A newer database backup that fails verification (cut in half).
    await new Promise((r) => setTimeout(r, 1100));
    const bad = await createBackup({
      paths,
      config: c,
      kind: 'database',
      inline: true,
      stateDb: db,
      secondary: false,
    });
    truncateSync(bad.file, Math.floor(bad.bytes / 2));
    recordVerification(db, bad.file, await verifyBackup(bad.file, { config: c, inline: true }));
    const failed = checkBackups(ctxOf(c, Date.now(), db));
    expect(failed.state).toBe('warning');
    expect(failed.findings.join(' ')).toMatch(/FAILED verification/);
    for (const f of [bad.file]) rmSync(f);
    expect(existsSync(bad.file)).toBe(false);
  });
});
