import { AlertService } from '../../services/alerts.js';
import { ConfigError } from '../../services/config.js';
import { applyHealthAlerts, recordHealthReport, runHealthChecks } from '../../services/health-run.js';
import {
  CHECK_IDS,
  type CheckId,
  EXIT_CODE,
  type HealthReport,
  type HealthState,
} from '../../services/health-types.js';
import { SiteNotFoundError } from '../../services/site.js';
import { openStateDb, type StateDb } from '../../services/state-db.js';
import { type CommandContext, printJson, type SiteContext, UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops health [--json] [--only CHECK,...] [--verbose] [--no-record]

Runs the health checks of the procedures and prints one line first, as monitoring plugins do
("CADENCE HEALTH WARNING - ... | perfdata"), then one line per check with what to do about it.

Checks: application (process up, log heartbeat fresh), database (opens, quick_check, time of
SELECT COUNT(*) FROM models), resources (SITE.md thresholds), permissions (database and
configuration not writable by others, backups and .env not readable by others), dependencies
(site files and folders, SQLite version), configuration (config.json and settings.json parse,
expected keys), logs (error rate, critical errors in the last hour, logs folder size),
performance (recent model_loaded times against the targets, the last benchmark's regressions),
backups (age of the newest verified backup of each kind against the schedule).

The result is recorded in the console's state database (the Overview and \`serve\` show it) and
failing checks raise alerts of source "health" (passing ones clear theirs), unless --no-record.

Options
  --only CHECK,...  run only these checks (${CHECK_IDS.join(', ')})
  --verbose         every finding of every check
  --no-record       neither record the result nor touch alerts

Exit codes (monitoring plugins): 0 ok, 1 warning, 2 critical, 3 unknown (also: no site, invalid
configuration, bad option).`,
  flags: {
    only: { type: 'string' },
    verbose: { type: 'boolean', shortFlag: 'v', default: false },
    record: { type: 'boolean', default: true },
  },
  async run(ctx) {
    const f = ctx.flags as { only?: string; verbose?: boolean; record?: boolean };
    let only: CheckId[] | undefined;
    if (f.only) {
      const ids = f.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = ids.filter((id) => !(CHECK_IDS as readonly string[]).includes(id));
      if (bad.length || !ids.length)
        return unknown(
          ctx,
          `--only: unknown check ${bad.join(', ') || '(none)'}; expected ${CHECK_IDS.join(', ')}`,
        );
      only = ids as CheckId[];
    }
    let site: SiteContext;
    try {
      site = ctx.site();
    } catch (err) {
      if (err instanceof SiteNotFoundError || err instanceof ConfigError || err instanceof UsageError)
        return unknown(ctx, err.message.split('\n')[0]!);
      throw err;
    }
    let db: StateDb | null = null;
    try {
      db = openStateDb(site.stateDbPath);
    } catch (err) {
      ctx.log.warn({ err }, 'health: state database unavailable');
    }
    try {
      const report = await runHealthChecks({
        paths: site.paths,
        config: site.loaded.config,
        stateDb: db,
        only,
      });
      if (db && f.record !== false) {
        try {
          recordHealthReport(db, report);
          applyHealthAlerts(
            new AlertService(db, { cooldownSeconds: site.loaded.config.alerts.cooldownSeconds }),
            report,
          );
        } catch (err) {
          ctx.log.warn({ err }, 'health: could not record the result');
        }
      }
      if (ctx.json) printJson(ctx, { ...report, exitCode: EXIT_CODE[report.verdict] });
      else ctx.stdout.write(describeHealth(report, { verbose: Boolean(f.verbose), color: ctx.color }));
      ctx.log.info({ verdict: report.verdict, ms: Math.round(report.durationMs) }, 'health done');
      return EXIT_CODE[report.verdict];
    } finally {
      db?.close();
    }
  },
};
export default verb;

function unknown(ctx: CommandContext, why: string): number {
  const summary = `CADENCE HEALTH UNKNOWN - ${why}`;
  if (ctx.json) printJson(ctx, { verdict: 'unknown', summary, checks: [], exitCode: 3 });
  else ctx.stdout.write(`${summary}\n`);
  return 3;
}

const BADGE: Record<HealthState, { text: string; color: string }> = {
  ok: { text: '● OK  ', color: '\x1b[32m' },
  warning: { text: '▲ WARN', color: '\x1b[33m' },
  critical: { text: '✖ CRIT', color: '\x1b[31;1m' },
  unknown: { text: '? N/A ', color: '\x1b[90m' },
};

export function describeHealth(report: HealthReport, opts: { verbose: boolean; color: boolean }): string {
  const paint = (s: HealthState, text: string) => (opts.color ? `${BADGE[s].color}${text}\x1b[0m` : text);
  const lines = [report.summary, ''];
  const nameWidth = Math.max(...report.checks.map((c) => c.name.length));
  for (const c of report.checks) {
    lines.push(
      `${paint(c.state, BADGE[c.state].text)}  ${c.name.padEnd(nameWidth)}  ${c.message}  (${c.durationMs.toFixed(0)} ms)`,
    );
    if (c.recommendation) lines.push(`        ${' '.repeat(nameWidth)}→ ${c.recommendation}`);
    const extra = opts.verbose ? c.findings : c.state === 'ok' ? [] : c.findings.slice(1, 4);
    for (const finding of extra) lines.push(`        ${' '.repeat(nameWidth)}  ${finding}`);
  }
  lines.push('', `${report.checks.length} checks in ${(report.durationMs / 1000).toFixed(2)} s`);
  return `${lines.join('\n')}\n`;
}
