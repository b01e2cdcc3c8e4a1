import path from 'node:path';
import {
  CADENCES,
  type Cadence,
  MaintenanceBusyError,
  type MaintenanceRun,
  runMaintenance,
  TASKS,
} from '../../services/maintenance.js';
import { stateDir } from '../../services/paths.js';
import { openStateDb } from '../../services/state-db.js';
import { printJson, UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops maintain daily|weekly|monthly|quarterly [--dry-run] [--only TASK,...] [--json]

Runs the maintenance cadence of the procedures through the console's services, records the run in
the state database and prints a summary. --dry-run says what each task would do and changes
nothing.

${CADENCES.map((c) => `${c.padEnd(10)} ${TASKS[c].map((t) => `${t.id} (${t.title.toLowerCase()})`).join(', ')}`).join('\n')}

Schedule it with \`cadence-ops schedule --systemd\` or \`--cron\`. One run at a time per site.

Options
  --dry-run        plan only: nothing is rotated, deleted, backed up or optimised
  --only TASK,...  run only these tasks of the cadence

Exit codes: 0 every task ok (or with findings, shown as warnings); 1 a task failed, or another
maintenance run is in progress; 2 usage (also --read-only without --dry-run).`,
  flags: {
    dryRun: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
  async run(ctx) {
    const cadence = ctx.args[0] as Cadence | undefined;
    if (!cadence || !CADENCES.includes(cadence))
      throw new UsageError(`maintain: say which cadence: ${CADENCES.join(', ')} (see maintain --help)`);
    if (ctx.args.length > 1) throw new UsageError(`maintain: unexpected ${ctx.args.slice(1).join(' ')}`);
    const f = ctx.flags as { dryRun?: boolean; only?: string };
    if (ctx.readOnly && !f.dryRun)
      throw new UsageError(
        'maintain changes the site (rotation, backups, VACUUM): not in read-only mode; use --dry-run',
      );
    let only: string[] | undefined;
    if (f.only) {
      only = f.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const known = TASKS[cadence].map((t) => t.id);
      const bad = only.filter((t) => !known.includes(t));
      if (bad.length)
        throw new UsageError(
          `--only: ${bad.join(', ')} is not a ${cadence} task; expected ${known.join(', ')}`,
        );
    }
    const site = ctx.site();
    const db = openStateDb(site.stateDbPath);
    const tty = Boolean(ctx.stderr.isTTY) && !ctx.json;
    let run: MaintenanceRun;
    try {
      run = await runMaintenance(cadence, {
        paths: site.paths,
        config: site.loaded.config,
        stateDb: db,
        dryRun: Boolean(f.dryRun),
        now: Date.now,
        only,
        lockFile: path.join(stateDir(ctx.env), `${path.basename(site.stateDbPath, '.db')}.maintain.lock`),
        onProgress: (task, message) => {
          if (tty)
            ctx.stderr.write(`\r\x1b[2K${task}: ${message}`.slice(0, (process.stderr.columns || 80) + 8));
          ctx.log.info({ task, message }, 'maintain');
        },
      });
    } catch (err) {
      if (err instanceof MaintenanceBusyError) {
        ctx.stderr.write(`cadence-ops maintain: ${err.message}\n`);
        return 1;
      }
      throw err;
    } finally {
      if (tty) ctx.stderr.write('\r\x1b[2K');
      db.close();
    }
    if (ctx.json) printJson(ctx, run);
    else ctx.stdout.write(describeRun(run));
    ctx.log.info({ cadence, status: run.status, ms: Math.round(run.durationMs) }, 'maintain done');
    return run.status === 'failed' ? 1 : 0;
  },
};
export default verb;

const MARK = { ok: '● ok  ', warning: '▲ warn', failed: '✖ FAIL', skipped: '- skip' } as const;

export function describeRun(run: MaintenanceRun): string {
  const lines = [
    `${run.dryRun ? 'DRY RUN: ' : ''}${run.cadence} maintenance: ${run.status.toUpperCase()} (${run.tasks.length} task(s) in ${(run.durationMs / 1000).toFixed(1)} s, run ${run.id})`,
    '',
  ];
  const width = Math.max(...run.tasks.map((t) => t.title.length), 10);
  for (const t of run.tasks) {
    lines.push(
      `${MARK[t.status]}  ${t.title.padEnd(width)}  ${t.summary}  (${(t.durationMs / 1000).toFixed(1)} s)`,
    );
    const limit = t.status === 'ok' ? 3 : 10;
    for (const d of t.details.slice(0, limit)) lines.push(`        ${' '.repeat(width)}  ${d}`);
    if (t.details.length > limit)
      lines.push(`        ${' '.repeat(width)}  … ${t.details.length - limit} more (--json)`);
  }
  return `${lines.join('\n')}\n`;
}
