// What a health check returns and how the checks add up to one verdict. The checks themselves live
// one per file (services/health-*.ts); services/health-run.ts runs them all.
import type { Config } from './config.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';

export type HealthState = 'ok' | 'warning' | 'critical' | 'unknown';

export const HEALTH_STATES: readonly HealthState[] = ['ok', 'warning', 'critical', 'unknown'];

/** The nine checks, in the order they are shown. */
export const CHECK_IDS = [
  'application',
  'database',
  'resources',
  'permissions',
  'dependencies',
  'configuration',
  'logs',
  'performance',
  'backups',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const CHECK_NAMES: Record<CheckId, string> = {
  application: 'Application status',
  database: 'Database',
  resources: 'System resources',
  permissions: 'File permissions',
  dependencies: 'Dependencies',
  configuration: 'Configuration',
  logs: 'Logs',
  performance: 'Performance',
  backups: 'Backup freshness',
};

export interface CheckResult {
  id: CheckId;
  name: string;
  state: HealthState;
  /** What was found, in one line. */
  message: string;
  /** What to do about it (null when ok). */
  recommendation: string | null;
  durationMs: number;
  /** Findings, one line each (every problem, not only the worst). */
  findings: string[];
  /** Figures for --json, metrics and the Overview. */
  data: Record<string, unknown>;
}

export interface HealthReport {
  /** Epoch ms when the run started. */
  at: number;
  verdict: HealthState;
  /** The monitoring-plugin line: `HEALTH WARNING - 2 of 9 checks failing: ...`. */
  summary: string;
  checks: CheckResult[];
  durationMs: number;
}

/** Everything a check may read. Services and paths come in as arguments; nothing is global. */
export interface CheckContext {
  paths: SitePaths;
  config: Config;
  /** The console's state database (backup verifications, benchmark runs, database checks), if any. */
  stateDb: StateDb | null;
  now: number;
  /** The process environment (SQLITE_TMPDIR and the like). */
  env?: NodeJS.ProcessEnv;
}

/** What a check function produces; the runner adds id, name and duration. */
export type CheckOutcome = Omit<CheckResult, 'id' | 'name' | 'durationMs'>;

const RANK: Record<HealthState, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };

/** The worst of the states: critical > warning > unknown > ok. */
export function worstState(states: Iterable<HealthState>): HealthState {
  let out: HealthState = 'ok';
  for (const s of states) if (RANK[s] > RANK[out]) out = s;
  return out;
}

/** Monitoring-plugin exit codes: 0 ok, 1 warning, 2 critical, 3 unknown. */
export const EXIT_CODE: Record<HealthState, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/** `critical` at or above critical, `warning` at or above warning (null value: unknown). */
export function levelOf(value: number | null, levels: { warning: number; critical: number }): HealthState {
  if (value === null || !Number.isFinite(value)) return 'unknown';
  if (value >= levels.critical) return 'critical';
  if (value >= levels.warning) return 'warning';
  return 'ok';
}

/** A result whose worst finding decides the state. */
export function outcome(
  state: HealthState,
  message: string,
  recommendation: string | null,
  findings: string[] = [],
  data: Record<string, unknown> = {},
): CheckOutcome {
  return { state, message, recommendation: state === 'ok' ? null : recommendation, findings, data };
}

export function formatHours(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} min`;
  if (hours < 48) return `${hours.toFixed(hours < 10 ? 1 : 0)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}
