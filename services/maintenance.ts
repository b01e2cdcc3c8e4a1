// The maintenance cadence of the procedures (SITE.md), carried out through the other services:
//   daily      log rotation and cleanup (logs, temp/), a resources snapshot into the history, the
//              health checks, a database backup (verified), retention pruning
//   weekly     database optimisation (PRAGMA optimize) and a full integrity check, stale cache
//              cleanup, trend analysis (load times, table growth), the security log review
//              (ERR010 and PAR/security messages of the week), a full backup (verified), pruning
//   monthly    the benchmark against the baseline, database maintenance (VACUUM when fragmented),
//              the security audit (file permissions), verification of every backup
//   quarterly  the full health assessment (quick_check whatever the size), the disaster-recovery
//              drill (the newest full backup restored into a scratch folder and checked)
// Each task reports ok / warning (it ran and found something) / failed (it could not do its job) /
// skipped, with a summary; --dry-run plans without changing anything. Every run is recorded in the
// state database (schema "maintenance"). One run at a time per site (a lock in the state folder).
import { closeSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { AlertService } from './alerts.js';
import { pidAlive } from './app-process.js';
import { createBackup } from './backup-create.js';
import { listBackups } from './backup-list.js';
import type { BackupKind } from './backup-names.js';
import { executePrune, planPrune } from './backup-prune.js';
import { recordVerification } from './backup-state.js';
import { verifyBackup } from './backup-verify.js';
import { runBench } from './bench-run.js';
import type { Config } from './config.js';
import { planAction, runMaintenanceAction } from './db-actions.js';
import { runDatabaseCheck } from './db-checks.js';
import { withReadOnly } from './db-connection.js';
import { latestGrowth } from './db-history.js';
import { forEachFile } from './file-walk.js';
import { auditPermissions } from './health-permissions.js';
import { applyHealthAlerts, recordHealthReport, runHealthChecks } from './health-run.js';
import { analyzeLogs } from './log-analysis.js';
import { discoverLogFiles } from './log-files.js';
import { rotateLogs } from './log-rotate.js';
import { runDrill } from './maintenance-drill.js';
import { loadTimeTrend, readAppLoads } from './perf-log.js';
import { ResourceMonitor } from './resource-monitor.js';
import type { SitePaths } from './site.js';
import { ensureSchema, type StateDb } from './state-db.js';

export const CADENCES = ['daily', 'weekly', 'monthly', 'quarterly'] as const;
export type Cadence = (typeof CADENCES)[number];
export type TaskStatus = 'ok' | 'warning' | 'failed' | 'skipped';

export interface TaskResult {
  id: string;
  title: string;
  status: TaskStatus;
  summary: string;
  details: string[];
  durationMs: number;
}

export interface MaintenanceRun {
  id: number | null;
  cadence: Cadence;
  dryRun: boolean;
  startedAt: number;
  durationMs: number;
  status: 'ok' | 'warning' | 'failed';
  tasks: TaskResult[];
}

export interface MaintenanceContext {
  paths: SitePaths;
  config: Config;
  stateDb: StateDb;
  dryRun: boolean;
  now: () => number;
  onProgress?: (task: string, message: string) => void;
}

type TaskOutcome = Omit<TaskResult, 'id' | 'title' | 'durationMs'>;
interface Task {
  id: string;
  title: string;
  run(ctx: MaintenanceContext): Promise<TaskOutcome>;
}

const DAY = 86_400_000;
const MB = 1024 * 1024;
const done = (status: TaskStatus, summary: string, details: string[] = []): TaskOutcome => ({
  status,
  summary,
  details,
});

/** Files directly or deeply under dir whose mtime is older than the cutoff. */
function oldFiles(dir: string, cutoff: number): Array<{ file: string; bytes: number }> {
  const out: Array<{ file: string; bytes: number }> = [];
  forEachFile(dir, (file, st) => {
    if (st.mtimeMs < cutoff) out.push({ file, bytes: st.size });
  });
  return out;
}

function removeFiles(files: Array<{ file: string; bytes: number }>): {
  removed: number;
  bytes: number;
  errors: string[];
} {
  let removed = 0;
  let bytes = 0;
  const errors: string[] = [];
  for (const f of files) {
    try {
      unlinkSync(f.file);
      removed++;
      bytes += f.bytes;
    } catch (err) {
      errors.push(`${f.file}: ${(err as Error).message}`);
    }
  }
  return { removed, bytes, errors };
}

const mbText = (b: number) => `${(b / MB).toFixed(1)} MB`;

// ---- the tasks ----------------------------------------------------------------------------------

const rotate: Task = {
  id: 'rotate-logs',
  title: 'Log rotation and cleanup',
  async run(ctx) {
    const r = await rotateLogs({
      logsDir: ctx.paths.logs,
      rotateBytes: ctx.config.logs.rotateMb * MB,
      retentionDays: ctx.config.logs.compressedRetentionDays,
      dryRun: ctx.dryRun,
      now: ctx.now(),
    });
    const rotated = r.actions.filter((a) => a.action === 'rotate');
    const deleted = r.actions.filter((a) => a.action === 'delete');
    const verb = ctx.dryRun ? 'would rotate' : 'rotated';
    const details = r.actions.map((a) =>
      a.action === 'rotate'
        ? `${a.file} (${mbText(a.bytes)}) → ${a.to}${a.error ? `: ${a.error}` : ''}`
        : `delete ${a.file} (${a.ageDays.toFixed(0)} days old)${a.error ? `: ${a.error}` : ''}`,
    );
    return done(
      r.errors.length ? 'failed' : 'ok',
      `${verb} ${rotated.length} log(s) over ${ctx.config.logs.rotateMb} MB, ${ctx.dryRun ? 'would delete' : 'deleted'} ${deleted.length} compressed log(s) older than ${ctx.config.logs.compressedRetentionDays} days${r.errors.length ? `; ${r.errors.length} error(s)` : ''}`,
      [...details, ...r.errors],
    );
  },
};

const cleanTemp: Task = {
  id: 'clean-temp',
  title: 'Scratch cleanup (temp/)',
  async run(ctx) {
    const files = oldFiles(ctx.paths.temp, ctx.now() - DAY);
    const bytes = files.reduce((a, f) => a + f.bytes, 0);
    if (ctx.dryRun)
      return done('ok', `would delete ${files.length} file(s) older than a day in temp/ (${mbText(bytes)})`);
    const r = removeFiles(files);
    return done(
      r.errors.length ? 'failed' : 'ok',
      `deleted ${r.removed} file(s) older than a day in temp/ (${mbText(r.bytes)})`,
      r.errors,
    );
  },
};

const snapshot: Task = {
  id: 'metrics',
  title: 'Resources snapshot',
  async run(ctx) {
    if (ctx.dryRun) return done('ok', 'would record one resources snapshot in the history and judge it');
    const alerts = new AlertService(ctx.stateDb, { cooldownSeconds: ctx.config.alerts.cooldownSeconds });
    const monitor = new ResourceMonitor({ config: ctx.config, paths: ctx.paths, db: ctx.stateDb, alerts });
    try {
      monitor.tick();
      await new Promise((r) => setTimeout(r, 500));
      const s = monitor.tick();
      const a = s.analysis;
      const bad = a?.alerts ?? [];
      return done(
        a?.overall === 'critical' || a?.overall === 'warning' ? 'warning' : 'ok',
        `resources ${a?.overall ?? 'unknown'}: CPU ${s.snapshot?.cpu?.percent?.toFixed(0) ?? 'n/a'} %, memory ${s.snapshot?.memory?.usedPercent.toFixed(0) ?? 'n/a'} %; recorded in the history`,
        bad.map((x) => `${x.severity}: ${x.message}`),
      );
    } finally {
      monitor.stop();
    }
  },
};

function healthTask(id: string, title: string, full: boolean): Task {
  return {
    id,
    title,
    async run(ctx) {
      if (ctx.dryRun)
        return done(
          'ok',
          `would run the ${full ? 'nine checks with quick_check whatever the database size' : 'nine health checks'}, record them and raise their alerts`,
        );
      const config = full
        ? { ...ctx.config, health: { ...ctx.config.health, quickCheckMaxMb: Number.MAX_SAFE_INTEGER } }
        : ctx.config;
      const report = await runHealthChecks({ paths: ctx.paths, config, stateDb: ctx.stateDb, now: ctx.now });
      recordHealthReport(ctx.stateDb, report);
      applyHealthAlerts(
        new AlertService(ctx.stateDb, { cooldownSeconds: ctx.config.alerts.cooldownSeconds }),
        report,
      );
      return done(
        report.verdict === 'ok' ? 'ok' : 'warning',
        report.summary.split(' | ')[0]!.replace(/ checks: .*$/, ' checks'),
        report.checks
          .filter((c) => c.state !== 'ok')
          .map(
            (c) => `${c.state}: ${c.name}: ${c.message}${c.recommendation ? ` → ${c.recommendation}` : ''}`,
          ),
      );
    },
  };
}

function backupTask(kind: Exclude<BackupKind, 'pre_restore'>): Task {
  return {
    id: `backup-${kind}`,
    title: kind === 'database' ? 'Database backup and verification' : 'Full backup and verification',
    async run(ctx) {
      if (ctx.dryRun)
        return done(
          'ok',
          `would create a ${kind} backup in ${ctx.paths.backups}, verify it before publishing${ctx.paths.secondaryBackups ? ', copy it to the secondary location' : ''}`,
        );
      const r = await createBackup({
        paths: ctx.paths,
        config: ctx.config,
        kind,
        inline: true,
        verify: true,
        stateDb: ctx.stateDb,
        onProgress: (p) =>
          ctx.onProgress?.(
            `backup-${kind}`,
            `${p.phase} ${p.total ? Math.round((p.done / p.total) * 100) : 0} %`,
          ),
      });
      const v = r.verification;
      const problems = [
        ...r.warnings,
        ...(r.secondary?.error ? [`secondary copy: ${r.secondary.error}`] : []),
      ];
      if (v && !v.ok)
        return done('failed', `${r.name} was made but failed verification: ${v.reason}`, problems);
      return done(
        problems.length ? 'warning' : 'ok',
        `${r.name}: ${mbText(r.bytes)}, ${r.fileCount} file(s), ${v ? 'verified' : 'not verified (backups.verifyAfterCreate is off)'} in ${(r.durationMs / 1000).toFixed(1)} s`,
        problems,
      );
    },
  };
}

const prune: Task = {
  id: 'prune-backups',
  title: 'Backup retention',
  async run(ctx) {
    const plan = planPrune({ paths: ctx.paths, config: ctx.config, stateDb: ctx.stateDb, now: ctx.now() });
    const details = plan.remove.map((i) => `${i.backup.name}: ${i.why}`);
    if (ctx.dryRun)
      return done(
        plan.errors.length ? 'warning' : 'ok',
        `would delete ${plan.remove.length} backup(s) past retention and ${plan.staleTemp.length} leftover(s); keeps ${plan.keep.length}`,
        [...details, ...plan.errors],
      );
    const r = await executePrune(plan, { stateDb: ctx.stateDb });
    return done(
      r.errors.length ? 'failed' : plan.errors.length ? 'warning' : 'ok',
      `deleted ${r.removed.length} file(s) past retention; kept ${plan.keep.length} backup(s), the newest verified of each kind always`,
      [...details, ...r.errors, ...plan.errors],
    );
  },
};

function dbActionTask(
  id: string,
  title: string,
  action: 'optimize' | 'vacuum',
  onlyWhenFragmented: boolean,
): Task {
  return {
    id,
    title,
    async run(ctx) {
      if (onlyWhenFragmented) {
        const frag = withReadOnly(
          ctx.paths.database,
          (db) => {
            const pages = Number(db.pragma('page_count', { simple: true }));
            return pages ? (Number(db.pragma('freelist_count', { simple: true })) / pages) * 100 : 0;
          },
          { busyTimeoutMs: ctx.config.database.busyTimeoutMs },
        );
        if (frag < ctx.config.thresholds.fragmentationPercent)
          return done(
            'skipped',
            `fragmentation ${frag.toFixed(1)} % is under ${ctx.config.thresholds.fragmentationPercent} %: no VACUUM needed`,
          );
      }
      const plan = await planAction({
        database: ctx.paths.database,
        action,
        readOnly: ctx.dryRun,
        pidFile: ctx.paths.pidFile,
        processPattern: ctx.config.app.processPattern,
        state: ctx.stateDb,
      });
      if (ctx.dryRun)
        return done(
          'ok',
          `would run ${plan.title}: ${plan.does} (about ${(plan.facts.expectedMs / 1000).toFixed(1)} s)`,
          plan.warnings,
        );
      if (plan.refusals.length)
        return done('failed', `${plan.title} refused: ${plan.refusals.join('; ')}`, plan.warnings);
      const r = await runMaintenanceAction({
        plan,
        confirmed: true,
        settings: ctx.config.database,
        tableGrowthPercent: ctx.config.thresholds.tableGrowthPercent,
        state: ctx.stateDb,
        runner: 'inline',
      });
      return done('ok', `${plan.title} done in ${(r.durationMs / 1000).toFixed(1)} s`, plan.warnings);
    },
  };
}

const integrity: Task = {
  id: 'integrity-check',
  title: 'Database integrity check',
  async run(ctx) {
    if (ctx.dryRun)
      return done('ok', 'would run PRAGMA integrity_check on the database (read-only) and record it');
    const r = await runDatabaseCheck({
      database: ctx.paths.database,
      kind: 'integrity',
      settings: ctx.config.database,
      tableGrowthPercent: ctx.config.thresholds.tableGrowthPercent,
      state: ctx.stateDb,
      runner: 'inline',
    });
    if (r.ok) return done('ok', `integrity_check ok in ${(r.durationMs / 1000).toFixed(1)} s`);
    return done(
      'warning',
      `integrity_check found ${r.errors.length}${r.truncated ? '+' : ''} problem(s): restore from the newest verified backup`,
      r.errors.slice(0, 10),
    );
  },
};

const staleCache: Task = {
  id: 'clean-cache',
  title: 'Stale cache cleanup',
  async run(ctx) {
    const days = ctx.config.cache.staleDays;
    const files = oldFiles(ctx.paths.cache, ctx.now() - days * DAY);
    const bytes = files.reduce((a, f) => a + f.bytes, 0);
    if (ctx.dryRun)
      return done(
        'ok',
        `would delete ${files.length} cache entr${files.length === 1 ? 'y' : 'ies'} older than ${days} days (${mbText(bytes)})`,
      );
    const r = removeFiles(files);
    return done(
      r.errors.length ? 'failed' : 'ok',
      `deleted ${r.removed} cache entr${r.removed === 1 ? 'y' : 'ies'} older than ${days} days (${mbText(r.bytes)})`,
      r.errors,
    );
  },
};

const trends: Task = {
  id: 'trends',
  title: 'Trend analysis',
  async run(ctx) {
    const details: string[] = [];
    let status: TaskStatus = 'ok';
    const { loads } = readAppLoads(ctx.paths.logs, { limit: 5000 });
    const week = loads.filter((l) => l.time !== null && l.time >= ctx.now() - 7 * DAY);
    const trend = loadTimeTrend(week, ctx.config.thresholds.trendSlope);
    if (trend) {
      details.push(
        `model load times (7 days, ${trend.n}): mean ${trend.mean.toFixed(2)} s, p95 ${trend.p95.toFixed(2)} s, ${trend.direction} (${trend.slope.toFixed(3)} s per load)`,
      );
      if (trend.direction === 'increasing') status = 'warning';
    } else details.push('no model_loaded records this week');
    const growth = latestGrowth(ctx.stateDb, ctx.paths.database, ctx.config.thresholds.tableGrowthPercent);
    if (growth) {
      const fast = growth.warnings;
      details.push(
        `table sizes since ${new Date(growth.from).toISOString().slice(0, 10)}: ${fast.length ? fast.map((g) => `${g.name} +${(g.rowsPercent ?? g.bytesPercent ?? 0).toFixed(0)} %`).join(', ') : `no table grew over ${ctx.config.thresholds.tableGrowthPercent} %`}`,
      );
      if (fast.length) status = 'warning';
    } else
      details.push(
        'table growth: fewer than two size records yet (the weekly integrity check records sizes)',
      );
    return done(status, details[0]!, details.slice(1));
  },
};

const securityLogs: Task = {
  id: 'security-logs',
  title: 'Security log review',
  async run(ctx) {
    const found = discoverLogFiles(ctx.paths.logs);
    const since = ctx.now() - 7 * DAY;
    if (ctx.dryRun)
      return done(
        'ok',
        `would read the last 7 days of ${found.live.length + found.history.length} log file(s) for ERR010 (file security validation) and permission errors`,
      );
    const report = await analyzeLogs({
      inputs: [...found.history, ...found.live]
        .filter((f) => f.mtimeMs >= since)
        .map((f) => ({ path: f.path, name: f.name, base: f.base, compressed: f.compressed })),
      since,
      now: ctx.now(),
      thresholds: ctx.config.thresholds,
      logs: ctx.config.logs,
      workers: 0,
    });
    const hits = report.clusters.filter(
      (c) =>
        c.codes.includes('ERR010') ||
        /security|permission denied|unauthori[sz]ed|forbidden/i.test(c.template),
    );
    const total = hits.reduce((a, c) => a + c.count, 0);
    return done(
      hits.length ? 'warning' : 'ok',
      hits.length
        ? `${total} security-related record(s) in ${hits.length} cluster(s) this week`
        : `no security-related records in ${report.totals.records} records this week`,
      hits
        .slice(0, 10)
        .map((c) => `${c.count}× ${c.template} (last ${new Date(c.lastSeen).toISOString().slice(0, 16)})`),
    );
  },
};

const benchmark: Task = {
  id: 'benchmark',
  title: 'Benchmark against the baseline',
  async run(ctx) {
    if (ctx.dryRun)
      return done(
        'ok',
        `would benchmark ${ctx.paths.models} (${ctx.config.bench.runs} runs, ${ctx.config.bench.warmup} warm-up) in the loader process and compare with the baseline`,
      );
    const r = await runBench({
      paths: [ctx.paths.models],
      runs: ctx.config.bench.runs,
      warmup: ctx.config.bench.warmup,
      limits: {
        timeoutMs: ctx.config.bench.timeoutSeconds * 1000,
        memoryCapMb: ctx.config.bench.memoryCapMb,
        maxUncompressedMb: ctx.config.bench.maxUncompressedMb,
      },
      thresholdPercent: ctx.config.thresholds.benchRegressionPercent,
      siteRoot: ctx.paths.root,
      db: ctx.stateDb,
      onProgress: (p) => {
        if (p.type === 'file-start')
          ctx.onProgress?.('benchmark', `${p.index + 1}/${p.total} ${path.basename(p.file)}`);
      },
    });
    const loaded = r.files.filter((f) => f.stats);
    return done(
      r.regressions || r.perf001 ? 'warning' : 'ok',
      `${loaded.length} of ${r.files.length} file(s) loaded; ${r.regressions} regression(s), ${r.perf001} over 30 s (PERF001), ${r.failures} unreadable${r.baselineSource ? '' : '; no baseline yet (cadence-ops bench --save-baseline)'}`,
      r.files
        .filter((f) => f.error || f.verdict.status === 'regression')
        .map((f) => `${f.key}: ${f.error ? `${f.error.code} ${f.error.message}` : f.verdict.explanation}`),
    );
  },
};

const permissions: Task = {
  id: 'security-audit',
  title: 'Security audit (permissions)',
  async run(ctx) {
    const { findings, checked } = auditPermissions(ctx);
    const critical = findings.filter((f) => f.severity === 'critical');
    return done(
      findings.length ? 'warning' : 'ok',
      findings.length
        ? `${findings.length} permission problem(s), ${critical.length} critical, in ${checked} files and folders`
        : `permissions ok (${checked} files and folders)`,
      findings.map((f) => `${f.severity}: ${f.problem} (${f.mode}): ${f.fix}`),
    );
  },
};

const verifyAll: Task = {
  id: 'verify-backups',
  title: 'Verification of every backup',
  async run(ctx) {
    const all = listBackups({ paths: ctx.paths, stateDb: ctx.stateDb }).backups;
    if (ctx.dryRun)
      return done(
        'ok',
        `would verify ${all.length} backup(s) (every checksum, the database's integrity) and record the results`,
      );
    const failed: string[] = [];
    for (const [i, b] of all.entries()) {
      ctx.onProgress?.('verify-backups', `${i + 1}/${all.length} ${b.name}`);
      const v = await verifyBackup(b.file, { config: ctx.config, inline: true });
      recordVerification(ctx.stateDb, b.file, v);
      if (!v.ok) failed.push(`${b.location === 'secondary' ? 'secondary:' : ''}${b.name}: ${v.reason}`);
    }
    return done(
      failed.length ? 'warning' : 'ok',
      `${all.length - failed.length} of ${all.length} backup(s) verified${failed.length ? `; ${failed.length} FAILED (delete or replace them)` : ''}`,
      failed,
    );
  },
};

const drill: Task = {
  id: 'dr-drill',
  title: 'Disaster-recovery drill',
  async run(ctx) {
    const r = await runDrill({
      paths: ctx.paths,
      config: ctx.config,
      stateDb: ctx.stateDb,
      dryRun: ctx.dryRun,
    });
    const details = r.steps.map(
      (s) =>
        `${s.ok ? 'ok' : 'FAILED'} ${s.step}: ${s.detail}${s.ms ? ` (${(s.ms / 1000).toFixed(1)} s)` : ''}`,
    );
    if (ctx.dryRun) return done(r.backup ? 'ok' : 'failed', r.backup ? details[0]! : r.reason!, []);
    return done(
      r.ok ? 'ok' : 'failed',
      r.ok
        ? `restored ${r.backup} into a scratch folder: ${r.restoredFiles} files match the manifest, database intact (${r.counts?.models} models) in ${(r.durationMs / 1000).toFixed(1)} s`
        : `the drill failed${r.backup ? ` on ${r.backup}` : ''}: ${r.reason}`,
      details,
    );
  },
};

export const TASKS: Record<Cadence, Task[]> = {
  daily: [
    rotate,
    cleanTemp,
    snapshot,
    healthTask('health', 'Health checks', false),
    backupTask('database'),
    prune,
  ],
  weekly: [
    dbActionTask('optimize', 'Database optimisation (PRAGMA optimize)', 'optimize', false),
    integrity,
    staleCache,
    trends,
    securityLogs,
    backupTask('full'),
    prune,
  ],
  monthly: [
    benchmark,
    dbActionTask('vacuum', 'Database maintenance (VACUUM when fragmented)', 'vacuum', true),
    permissions,
    verifyAll,
  ],
  quarterly: [healthTask('full-health', 'Full health assessment', true), drill],
};

// ---- running and recording ----------------------------------------------------------------------

const SCHEMA = [
  `CREATE TABLE maintenance_runs (
     id INTEGER PRIMARY KEY,
     cadence TEXT NOT NULL,
     dry_run INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     duration_ms REAL NOT NULL,
     status TEXT NOT NULL,
     tasks TEXT NOT NULL,
     pid INTEGER
   );
   CREATE INDEX maintenance_runs_cadence ON maintenance_runs (cadence, started_at);`,
];

export function ensureMaintenanceSchema(db: StateDb): void {
  ensureSchema(db, 'maintenance', SCHEMA);
}

export function recentMaintenanceRuns(db: StateDb, limit = 20): MaintenanceRun[] {
  ensureMaintenanceSchema(db);
  const rows = db
    .prepare('SELECT * FROM maintenance_runs ORDER BY started_at DESC, id DESC LIMIT ?')
    .all(limit) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    id: r.id as number,
    cadence: r.cadence as Cadence,
    dryRun: r.dry_run === 1,
    startedAt: r.started_at as number,
    durationMs: r.duration_ms as number,
    status: r.status as MaintenanceRun['status'],
    tasks: JSON.parse(r.tasks as string) as TaskResult[],
  }));
}

export class MaintenanceBusyError extends Error {
  constructor(readonly pid: number) {
    super(`another maintenance run (pid ${pid}) is in progress on this site`);
    this.name = 'MaintenanceBusyError';
  }
}

/** Takes the site's maintenance lock (a file holding our pid); a lock of a dead process is taken over. */
export function takeLock(file: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (pid > 0 && pid !== process.pid && pidAlive(pid)) throw new MaintenanceBusyError(pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot take the maintenance lock ${file}`);
}

export async function runMaintenance(
  cadence: Cadence,
  ctx: MaintenanceContext & { lockFile?: string; only?: string[] },
): Promise<MaintenanceRun> {
  const release = ctx.lockFile ? takeLock(ctx.lockFile) : () => {};
  const startedAt = ctx.now();
  const started = performance.now();
  const tasks: TaskResult[] = [];
  try {
    for (const task of TASKS[cadence]) {
      if (ctx.only && !ctx.only.includes(task.id)) continue;
      ctx.onProgress?.(task.id, task.title);
      const t = performance.now();
      let outcome: TaskOutcome;
      try {
        outcome = await task.run(ctx);
      } catch (err) {
        outcome = done('failed', (err as Error).message);
      }
      tasks.push({ id: task.id, title: task.title, ...outcome, durationMs: performance.now() - t });
    }
  } finally {
    release();
  }
  const status = tasks.some((t) => t.status === 'failed')
    ? 'failed'
    : tasks.some((t) => t.status === 'warning')
      ? 'warning'
      : 'ok';
  const run: MaintenanceRun = {
    id: null,
    cadence,
    dryRun: ctx.dryRun,
    startedAt,
    durationMs: performance.now() - started,
    status,
    tasks,
  };
  ensureMaintenanceSchema(ctx.stateDb);
  run.id = Number(
    ctx.stateDb
      .prepare(
        'INSERT INTO maintenance_runs (cadence, dry_run, started_at, duration_ms, status, tasks, pid) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(cadence, ctx.dryRun ? 1 : 0, startedAt, run.durationMs, status, JSON.stringify(tasks), process.pid)
      .lastInsertRowid,
  );
  return run;
}
