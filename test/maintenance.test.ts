// Each maintenance task on a temporary site: what --dry-run leaves alone, what each cadence really
// does (rotation, cleanup, backups verified, pruning, optimise, integrity, stale cache, security
// review, benchmark, VACUUM, audit, verification, the DR drill), the record of each run, the verb's
// exit codes and lock, and the schedules (checked by systemd-analyze when it is there).
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { listBackups } from '../services/backup-list.js';
import { type Config, defaultConfig } from '../services/config.js';
import { pythonTimestamp } from '../services/demo-log-lines.js';
import { latestHealthReport } from '../services/health-run.js';
import { type Cadence, recentMaintenanceRuns, runMaintenance, TASKS } from '../services/maintenance.js';
import { cronText, systemdUnits } from '../services/maintenance-schedule.js';
import { siteStateDbPath } from '../services/paths.js';
import { sitePaths } from '../services/site.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { runCli } from './helpers/cli.js';
import { makeTempSite, type TempSite, tempDir } from './helpers/temp-site.js';

let site: TempSite;
let db: StateDb;
const DAY = 86_400_000;

beforeAll(async () => {
  site = await makeTempSite({ models: 60, thumbnails: 3, logHistoryHours: 2 });
  db = openStateDb(path.join(site.home, 'maint-state.db'));
});
afterAll(() => {
  db.close();
  site.cleanup();
});

const config = (patch: (c: Config) => void = () => {}) => {
  const c = structuredClone(defaultConfig());
  c.app.processPattern = `candy_maint_${process.pid}_none`;
  patch(c);
  return c;
};
const run = (cadence: Cadence, c: Config, dryRun = false, only?: string[]) =>
  runMaintenance(cadence, {
    paths: sitePaths(site.root, c),
    config: c,
    stateDb: db,
    dryRun,
    now: Date.now,
    only,
  });
const task = (r: Awaited<ReturnType<typeof run>>, id: string) => r.tasks.find((t) => t.id === id)!;
const listing = (dir: string) => readdirSync(dir).sort();

describe('maintenance tasks', () => {
  it('--dry-run plans every task of every cadence and changes nothing', async () => {
    const c = config((x) => (x.logs.rotateMb = 0.01));
    const before = {
      logs: listing(path.join(site.root, 'logs')),
      backups: listing(path.join(site.root, 'backups')),
      cache: listing(path.join(site.root, 'data/cache')),
    };
    for (const cadence of ['daily', 'weekly', 'monthly', 'quarterly'] as const) {
      const r = await run(cadence, c, true);
      expect(r.dryRun).toBe(true);
      expect(r.tasks.map((t) => t.id)).toEqual(TASKS[cadence].map((t) => t.id));
      for (const t of r.tasks)
        expect(t.summary, t.id).toMatch(
          /would|no full backup|fragmentation|permissions|problem|no model_loaded|load times/,
        );
    }
    const daily = await run('daily', c, true);
    expect(task(daily, 'rotate-logs').summary).toMatch(/would rotate [1-9]\d* log/);
    expect(listing(path.join(site.root, 'logs'))).toEqual(before.logs);
    expect(listing(path.join(site.root, 'backups'))).toEqual(before.backups);
    expect(listing(path.join(site.root, 'data/cache'))).toEqual(before.cache);
  });

  it('daily: rotates, cleans temp, snapshots, checks health, backs up the database verified, prunes', async () => {
    const c = config((x) => (x.logs.rotateMb = 0.01));
    const temp = path.join(site.root, 'temp');
    writeFileSync(path.join(temp, 'old.tmp'), 'x');
    utimesSync(path.join(temp, 'old.tmp'), new Date(Date.now() - 3 * DAY), new Date(Date.now() - 3 * DAY));
    writeFileSync(path.join(temp, 'fresh.tmp'), 'y');
    // A database backup from 40 days ago, past the 30-day retention.
    const paths = sitePaths(site.root, c);
    const old = await createBackup({
      paths,
      config: c,
      kind: 'database',
      inline: true,
      now: () => Date.now() - 40 * DAY,
      mtime: Date.now() - 40 * DAY,
      verify: false,
      secondary: false,
    });
    const r = await run('daily', c);
    expect(r.status).not.toBe('failed');
    expect(task(r, 'rotate-logs')).toMatchObject({ status: 'ok' });
    expect(task(r, 'rotate-logs').summary).toMatch(/rotated [1-9]/);
    expect(
      readdirSync(path.join(site.root, 'logs')).some((f) => /^candy_cadence_\d{8}_\d{6}\.log\.gz$/.test(f)),
    ).toBe(true);
    expect(existsSync(path.join(temp, 'old.tmp'))).toBe(false);
    expect(existsSync(path.join(temp, 'fresh.tmp'))).toBe(true);
    expect(task(r, 'metrics').summary).toMatch(/recorded in the history/);
    expect(latestHealthReport(db)!.checks).toHaveLength(9);
    expect(task(r, 'backup-database')).toMatchObject({ status: 'ok' });
    expect(task(r, 'backup-database').summary).toMatch(
      /candy_cadence_backup_\d{8}_\d{6}\.db\.gz: .* verified/,
    );
    expect(existsSync(old.file)).toBe(false);
    expect(task(r, 'prune-backups').details.join(' ')).toMatch(/40 days old, retention 30 days/);
    const newest = listBackups({ paths, stateDb: db }).backups.find((b) => b.kind === 'database')!;
    expect(newest.state).toBe('verified');
    const [recorded] = recentMaintenanceRuns(db, 1);
    expect(recorded).toMatchObject({ id: r.id, cadence: 'daily', status: r.status });
    expect(recorded!.tasks).toHaveLength(6);
  });

  it('weekly: optimises, checks integrity, deletes stale cache only, reviews security logs, full backup', async () => {
    const c = config();
    const cache = path.join(site.root, 'data/cache');
    const stale = readdirSync(cache).filter(
      (f) => statSync(path.join(cache, f)).mtimeMs < Date.now() - 7 * DAY,
    );
    const fresh = readdirSync(cache).filter((f) => !stale.includes(f));
    expect(stale.length).toBeGreaterThan(0);
    appendFileSync(
      path.join(site.root, 'logs/candy_cadence.log'),
      `${pythonTimestamp(Date.now() - 60_000)} - candy_cadence.security - ERROR - ERR010 File security validation failed: data/models/evil.stl\n`,
    );
    const r = await run('weekly', c);
    expect(task(r, 'optimize')).toMatchObject({ status: 'ok' });
    expect(task(r, 'integrity-check')).toMatchObject({ status: 'ok' });
    expect(task(r, 'clean-cache').summary).toContain(`deleted ${stale.length} cache`);
    expect(readdirSync(cache).sort()).toEqual(fresh.sort());
    expect(task(r, 'trends').status).not.toBe('failed');
    expect(task(r, 'security-logs')).toMatchObject({ status: 'warning' });
    expect(task(r, 'security-logs').details.join(' ')).toMatch(/ERR010 File security validation failed/);
    expect(task(r, 'backup-full').summary).toMatch(/full_backup_\d{8}_\d{6}\.tar\.gz: .* verified/);
    expect(r.status).toBe('warning');
  });

  it('monthly: benchmark, VACUUM only when fragmented (forced here), audit, every backup verified', async () => {
    const skip = await run('monthly', config(), false, ['vacuum']);
    expect(task(skip, 'vacuum')).toMatchObject({ status: 'skipped' });
    const c = config((x) => {
      x.bench.runs = 1;
      x.bench.warmup = 0;
      x.thresholds.fragmentationPercent = 0;
    });
    const r = await run('monthly', c);
    const bench = task(r, 'benchmark');
    expect(bench.status).not.toBe('failed');
    expect(bench.summary).toMatch(/\d+ of \d+ file\(s\) loaded/);
    // The site's malformed models are named with their PAR codes.
    expect(bench.details.join(' ')).toMatch(/PAR00\d/);
    expect(task(r, 'vacuum')).toMatchObject({ status: 'ok' });
    expect(task(r, 'vacuum').summary).toMatch(/VACUUM done/);
    expect(task(r, 'security-audit')).toMatchObject({ status: 'ok' });
    expect(task(r, 'verify-backups').summary).toMatch(/^(\d+) of \1 backup\(s\) verified$/);
  });

  it('quarterly: full health assessment and the DR drill restore the newest full backup and check it', async () => {
    const r = await run('quarterly', config());
    const drill = task(r, 'dr-drill');
    expect(drill).toMatchObject({ status: 'ok' });
    expect(drill.summary).toMatch(
      /restored full_backup_\d{8}_\d{6}\.tar\.gz into a scratch folder: \d+ files match the manifest, database intact \(60 models\)/,
    );
    expect(drill.details.join('\n')).toMatch(/ok remove the scratch folder/);
    expect(task(r, 'full-health').summary).toMatch(/^CADENCE HEALTH \w+ - /);
  });
});

describe('cadence-ops maintain and schedule', () => {
  it('exit 1 when a task fails (the drill on a damaged backup), 2 for --read-only without --dry-run or a bad cadence', async () => {
    const other = await makeTempSite({ models: 20, thumbnails: 1, logHistoryHours: 1 });
    try {
      const c = config();
      const b = await createBackup({
        paths: sitePaths(other.root, c),
        config: c,
        kind: 'full',
        inline: true,
        verify: false,
        secondary: false,
      });
      truncateSync(b.file, Math.floor(b.bytes / 2));
      const r = await runCli(['maintain', 'quarterly', '--root', other.root, '--only', 'dr-drill'], {
        env: other.env,
      });
      expect(r.stdout).toMatch(/quarterly maintenance: FAILED/);
      expect(r.stdout).toMatch(/✖ FAIL {2}Disaster-recovery drill +the drill failed on full_backup_/);
      expect(r.code).toBe(1);
      const ro = await runCli(['maintain', 'daily', '--root', other.root, '--read-only'], { env: other.env });
      expect(ro.code).toBe(2);
      expect(ro.stderr).toMatch(/--dry-run/);
      expect((await runCli(['maintain', 'hourly', '--root', other.root], { env: other.env })).code).toBe(2);
      const dry = await runCli(
        ['maintain', 'daily', '--root', other.root, '--read-only', '--dry-run', '--json'],
        { env: other.env },
      );
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ cadence: 'daily', dryRun: true, status: 'ok' });
      // The run was recorded in the site's state database.
      const state = openStateDb(siteStateDbPath(other.root, other.env));
      expect(recentMaintenanceRuns(state).map((x) => `${x.cadence}:${x.status}`)).toEqual([
        'daily:ok',
        'quarterly:failed',
      ]);
      state.close();
      // A run in progress holds the lock (this test process stands in for it).
      const lockDir = path.join(other.home, 'state');
      mkdirSync(lockDir, { recursive: true });
      const lock = path.join(
        lockDir,
        `${path.basename(siteStateDbPath(other.root, other.env), '.db')}.maintain.lock`,
      );
      writeFileSync(lock, `${process.pid}\n`);
      const busy = await runCli(['maintain', 'daily', '--root', other.root, '--dry-run'], { env: other.env });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(
        new RegExp(`another maintenance run \\(pid ${process.pid}\\) is in progress`),
      );
    } finally {
      other.cleanup();
    }
  });

  it('schedule prints crontab lines and systemd units (valid for systemd-analyze)', async () => {
    const cron = await runCli(['schedule', '--cron', '--root', site.root], { env: site.env });
    expect(cron.code).toBe(0);
    const jobs = cron.stdout.split('\n').filter((l) => l && !l.startsWith('#') && !l.includes('='));
    expect(jobs.map((l) => l.split(' ').slice(0, 5).join(' '))).toEqual([
      '30 2 * * *',
      '30 3 * * 0',
      '30 4 1 * *',
      '30 5 1 1,4,7,10 *',
    ]);
    expect(jobs[0]).toContain(`maintain daily --root ${site.root}`);
    expect(cron.stdout).toMatch(/^CADENCE_OPS_STATE_DIR=/m);
    expect((await runCli(['schedule', '--root', site.root], { env: site.env })).code).toBe(2);

    const sd = await runCli(['schedule', '--systemd', '--root', site.root], { env: site.env });
    expect(sd.code).toBe(0);
    const dir = tempDir();
    let current: string | null = null;
    const files: string[] = [];
    for (const l of sd.stdout.split('\n')) {
      const m = /^==> (\S+) <==$/.exec(l);
      if (m) {
        current = path.join(dir, m[1]!);
        files.push(current);
        writeFileSync(current, '');
      } else if (current) appendFileSync(current, `${l}\n`);
    }
    expect(files.map((f) => path.basename(f))).toHaveLength(9);
    const timer = systemdUnits({ root: site.root, node: process.execPath, cli: '/x/cadence-ops.js' }).find(
      (u) => u.name.endsWith('quarterly.timer'),
    )!;
    expect(timer.text).toContain('OnCalendar=*-01,04,07,10-01 05:30:00');
    if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0) {
      const verify = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
      expect(verify.status).toBe(0);
    }
  });

  it('quotes paths with spaces for sh and systemd', () => {
    const opts = { root: '/srv/my site', node: '/usr/bin/node', cli: "/opt/it's/cadence-ops.js" };
    expect(cronText(opts)).toContain(`'/opt/it'\\''s/cadence-ops.js' maintain daily --root '/srv/my site'`);
    const unit = systemdUnits(opts)[0]!.text;
    expect(unit).toContain(
      `ExecStart=/usr/bin/node "/opt/it's/cadence-ops.js" maintain daily --root "/srv/my site"`,
    );
  });
});
