// Runs the health checks of the procedures (one file each: health-application.ts, -database,
// -resources, -permissions, -dependencies, -configuration, -logs, -performance, -backups) and adds
// them up to one verdict: critical > warning > unknown > ok. A check that throws is "unknown" with
// the reason, never a crash. The report is kept in the state database (schema "health") so the
// Overview and `serve` have the last one at once, and turned into alerts (source "health").
import type { AlertSink } from './alert-sink.js';
import type { Config } from './config.js';
import { checkApplication } from './health-application.js';
import { checkBackups } from './health-backups.js';
import { checkConfiguration } from './health-configuration.js';
import { checkDatabase } from './health-database.js';
import { checkDependencies } from './health-dependencies.js';
import { checkLogs } from './health-logs.js';
import { checkPerformance } from './health-performance.js';
import { checkPermissions } from './health-permissions.js';
import { checkResources, type ResourceCheckOptions } from './health-resources.js';
import {
  CHECK_IDS,
  CHECK_NAMES,
  type CheckContext,
  type CheckId,
  type CheckOutcome,
  type CheckResult,
  type HealthReport,
  type HealthState,
  worstState,
} from './health-types.js';
import type { SitePaths } from './site.js';
import { ensureSchema, type StateDb } from './state-db.js';

export interface HealthRunOptions {
  paths: SitePaths;
  config: Config;
  stateDb: StateDb | null;
  now?: () => number;
  /** Run only these checks (default all). */
  only?: CheckId[];
  resources?: ResourceCheckOptions;
}

type CheckFn = (ctx: CheckContext, opts: HealthRunOptions) => CheckOutcome | Promise<CheckOutcome>;

export const CHECKS: Record<CheckId, CheckFn> = {
  application: (ctx) => checkApplication(ctx),
  database: (ctx) => checkDatabase(ctx),
  resources: (ctx, opts) => checkResources(ctx, opts.resources),
  permissions: (ctx) => checkPermissions(ctx),
  dependencies: (ctx) => checkDependencies(ctx),
  configuration: (ctx) => checkConfiguration(ctx),
  logs: (ctx) => checkLogs(ctx),
  performance: (ctx) => checkPerformance(ctx),
  backups: (ctx) => checkBackups(ctx),
};

async function timed(id: CheckId, fn: () => CheckOutcome | Promise<CheckOutcome>): Promise<CheckResult> {
  const started = performance.now();
  let result: CheckOutcome;
  try {
    result = await fn();
  } catch (err) {
    result = {
      state: 'unknown',
      message: `the check failed: ${(err as Error).message}`,
      recommendation: 'this is a bug or an unreadable site file: see the console log (--log-level debug)',
      findings: [(err as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(err)],
      data: {},
    };
  }
  return { id, name: CHECK_NAMES[id], ...result, durationMs: performance.now() - started };
}

export async function runHealthChecks(opts: HealthRunOptions): Promise<HealthReport> {
  const now = opts.now ?? Date.now;
  const at = now();
  const started = performance.now();
  const ctx: CheckContext = { paths: opts.paths, config: opts.config, stateDb: opts.stateDb, now: at };
  const ids = CHECK_IDS.filter((id) => !opts.only || opts.only.includes(id));
  // The resources check waits between its two readings: start it first, the others run meanwhile.
  const order = [...ids].sort((a, b) => (a === 'resources' ? -1 : b === 'resources' ? 1 : 0));
  const pending = new Map<CheckId, Promise<CheckResult>>();
  for (const id of order) {
    pending.set(
      id,
      timed(id, () => CHECKS[id](ctx, opts)),
    );
    // Let a started async check reach its first wait before the next synchronous one runs.
    await Promise.resolve();
  }
  const checks = await Promise.all(ids.map((id) => pending.get(id)!));
  const verdict = worstState(checks.map((c) => c.state));
  const durationMs = performance.now() - started;
  return { at, verdict, summary: summaryLine(verdict, checks, durationMs), checks, durationMs };
}

const WORD: Record<HealthState, string> = {
  ok: 'OK',
  warning: 'WARNING',
  critical: 'CRITICAL',
  unknown: 'UNKNOWN',
};

/** The monitoring-plugin line: `CADENCE HEALTH WARNING - 1 warning of 9 checks: logs: ... | perfdata`. */
export function summaryLine(verdict: HealthState, checks: CheckResult[], durationMs: number): string {
  const count = (s: HealthState) => checks.filter((c) => c.state === s).length;
  const failing = checks
    .filter((c) => c.state !== 'ok')
    .sort((a, b) => rank(b.state) - rank(a.state))
    .map((c) => `${c.id}: ${c.message}`);
  const parts = (['critical', 'warning', 'unknown'] as const)
    .filter((s) => count(s) > 0)
    .map((s) => `${count(s)} ${s}`);
  const text =
    verdict === 'ok'
      ? `all ${checks.length} checks ok`
      : `${parts.join(', ')} of ${checks.length} checks: ${failing.join('; ')}`;
  const perf = `checks=${checks.length} ok=${count('ok')} warning=${count('warning')} critical=${count('critical')} unknown=${count('unknown')} time=${(durationMs / 1000).toFixed(3)}s`;
  return `CADENCE HEALTH ${WORD[verdict]} - ${text.replace(/\|/g, '/')} | ${perf}`;
}

function rank(s: HealthState): number {
  return s === 'critical' ? 3 : s === 'warning' ? 2 : s === 'unknown' ? 1 : 0;
}

/** Raises an alert (source "health", key = check id) per failing check and clears the ones that pass. */
export function applyHealthAlerts(sink: AlertSink, report: HealthReport): void {
  for (const c of report.checks) {
    if (c.state === 'warning' || c.state === 'critical')
      sink.raise({
        source: 'health',
        key: c.id,
        severity: c.state,
        message: `${c.name}: ${c.message}`,
        details: { recommendation: c.recommendation, findings: c.findings.slice(0, 10) },
      });
    else if (c.state === 'ok') sink.clear('health', c.id);
    // unknown: the condition could not be judged; an alert raised earlier stays as it is.
  }
}

const SCHEMA = [
  `CREATE TABLE health_runs (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     verdict TEXT NOT NULL,
     duration_ms REAL NOT NULL,
     report TEXT NOT NULL
   );
   CREATE INDEX health_runs_at ON health_runs (at);`,
];

const KEEP_RUNS = 500;

export function ensureHealthSchema(db: StateDb): void {
  ensureSchema(db, 'health', SCHEMA);
}

export function recordHealthReport(db: StateDb, report: HealthReport): number {
  ensureHealthSchema(db);
  return db.transaction(() => {
    const id = Number(
      db
        .prepare('INSERT INTO health_runs (at, verdict, duration_ms, report) VALUES (?, ?, ?, ?)')
        .run(report.at, report.verdict, report.durationMs, JSON.stringify(report)).lastInsertRowid,
    );
    db.prepare('DELETE FROM health_runs WHERE id <= ?').run(id - KEEP_RUNS);
    return id;
  })();
}

export function latestHealthReport(db: StateDb): HealthReport | null {
  ensureHealthSchema(db);
  const row = db.prepare('SELECT report FROM health_runs ORDER BY at DESC, id DESC LIMIT 1').get() as
    | { report: string }
    | undefined;
  return row ? (JSON.parse(row.report) as HealthReport) : null;
}

/** Verdicts of the last runs, oldest first (for a trend on the Overview). */
export function healthHistory(db: StateDb, limit = 50): Array<{ at: number; verdict: HealthState }> {
  ensureHealthSchema(db);
  const rows = db
    .prepare('SELECT at, verdict FROM health_runs ORDER BY at DESC, id DESC LIMIT ?')
    .all(limit) as Array<{
    at: number;
    verdict: HealthState;
  }>;
  return rows.reverse();
}
