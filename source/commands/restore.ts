import { BackupError } from '../../services/backup-errors.js';
import { RESTORE_SCOPES, type RestoreScope } from '../../services/backup-layout.js';
import { findBackup } from '../../services/backup-list.js';
import { type BackupProgress, formatBytes, formatDuration } from '../../services/backup-progress.js';
import {
  checkApplication,
  planRestore,
  planRollbackOfLast,
  type RestoreOutcome,
  type RestorePlan,
  type RestoreProgress,
  type RestoreSite,
  recoverRestore,
  runRestore,
  startApplication,
  stopApplication,
} from '../../services/restore.js';
import { pendingRestore } from '../../services/restore-journal.js';
import { openStateDb } from '../../services/state-db.js';
import { ask, askYes } from './ask.js';
import { type CommandContext, printJson, UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops restore NAME [--scope all|database|config|user-data] [--dry-run] [--yes]
                           [--accept-unverified NAME] [--ignore-holders NAME] [--no-stop-app] [--no-start-app]
  cadence-ops restore --resume [--yes]      finish an interrupted restore
  cadence-ops restore --rollback [--yes]    undo an interrupted restore, or the last completed one
                                            (by restoring the safety snapshot it took)

Restores a backup into the site: verifies it, shows the plan (files replaced, added and removed
with sizes, database rows then and now, free space needed and available), stops Candy-Cadence
(app.stopCommand, else SIGTERM to its pid) and checks that nothing holds the database open,
keeps a verified safety snapshot pre_restore_<stamp>.tar.gz of everything in scope, extracts into
a staging folder on the site's file system, checks every staged file against the manifest, swaps
everything in by rename with a journal written first, checks the result (database integrity and
counts, every file against the manifest) and puts everything back if a check fails. If the restore
is interrupted (even by SIGKILL or a reboot), the next start of cadence-ops says so, and --resume
or --rollback finish or undo it: the site is never left a mix of old and new.

Options
  --scope S                 all (default), database, config or user-data. A database backup
                            restores the database.
  --dry-run                 show the plan and the application's state; change nothing
                            (exit 1 when the restore would be refused)
  --yes                     do not ask (needed without a terminal): stops the application if it
                            runs, restores, starts it again when app.startCommand is set
  --accept-unverified NAME  restore a backup that failed verification (NAME typed in full);
                            hostile archives are refused regardless
  --ignore-holders NAME     restore the database although a process holds it open
  --no-stop-app             refuse instead of stopping a running application
  --no-start-app            do not start the application afterwards

Exit codes: 0 restored (or the dry run would proceed); 1 refused, failed or rolled back (the
reason on stderr); 2 usage.`,
  flags: {
    scope: { type: 'string', choices: [...RESTORE_SCOPES], default: 'all' },
    dryRun: { type: 'boolean', default: false },
    yes: { type: 'boolean', shortFlag: 'y', default: false },
    resume: { type: 'boolean', default: false },
    rollback: { type: 'boolean', default: false },
    acceptUnverified: { type: 'string' },
    ignoreHolders: { type: 'string' },
    stopApp: { type: 'boolean', default: true },
    startApp: { type: 'boolean', default: true },
  },
  async run(ctx) {
    const names = ctx.args;
    const f = ctx.flags as Record<string, unknown>;
    const modes = [names.length > 0, Boolean(f.resume), Boolean(f.rollback)].filter(Boolean).length;
    if (modes !== 1) throw new UsageError('restore: name one backup, or --resume, or --rollback');
    if (names.length > 1) throw new UsageError('restore: name one backup');
    if (ctx.readOnly && !f.dryRun)
      throw new UsageError('restore changes the site; refused in read-only mode (try --dry-run)');
    const site = ctx.site();
    const stateDb = openStateDb(site.stateDbPath);
    const rs: RestoreSite = { paths: site.paths, config: site.loaded.config, stateDb };
    try {
      if (f.resume || (f.rollback && pendingRestore(site.paths.root)))
        return await recover(ctx, rs, f.resume ? 'complete' : 'rollback');
      if (f.rollback) {
        let planned: { plan: RestorePlan; lastId: string };
        try {
          planned = await planRollbackOfLast(rs, {
            inline: true,
            onProgress: progressPrinter(ctx, 'verify'),
          });
        } catch (err) {
          if (err instanceof BackupError) return fail(ctx, err.message);
          throw err;
        }
        clear(ctx);
        return await proceed(ctx, rs, planned.plan, { safety: false, rollbackOf: planned.lastId });
      }
      let backup: { file: string; name: string };
      try {
        backup = findBackup({ paths: site.paths, stateDb }, names[0]!);
      } catch (err) {
        if (err instanceof BackupError) return fail(ctx, err.message);
        throw err;
      }
      const pending = pendingRestore(site.paths.root);
      if (pending && !f.dryRun)
        return fail(
          ctx,
          `an interrupted restore of ${pending.backup.name} (phase ${pending.phase}) must be finished first: ` +
            'cadence-ops restore --resume, or --rollback',
        );
      const plan = await planRestore(rs, backup.file, f.scope as RestoreScope, {
        inline: true,
        onProgress: progressPrinter(ctx, 'verify'),
      });
      clear(ctx);
      return await proceed(ctx, rs, plan, { safety: true, rollbackOf: null });
    } finally {
      stateDb.close();
    }
  },
};
export default verb;

const interactive = (ctx: CommandContext) => Boolean(process.stdin.isTTY && ctx.stderr.isTTY);

function progressPrinter(ctx: CommandContext, fallback: string): ((p: BackupProgress) => void) | undefined {
  if (ctx.json || !ctx.stderr.isTTY) return undefined;
  return (p) => {
    const pct = p.total > 0 ? `${Math.min(100, Math.floor((p.done / p.total) * 100))}%` : '';
    const rate = p.bytesPerSecond > 0 ? `${formatBytes(p.bytesPerSecond)}/s` : '';
    const eta = p.etaSeconds !== null && p.total > 0 ? `ETA ${formatDuration(p.etaSeconds)}` : '';
    const line = [p.phase || fallback, pct, rate, eta, p.current ?? ''].filter(Boolean).join('  ');
    ctx.stderr.write(`\r\x1b[2K${line.slice(0, (ctx.stderr.columns || 100) - 1)}`);
  };
}

function stepPrinter(ctx: CommandContext): (p: RestoreProgress) => void {
  let last = '';
  const bar = progressPrinter(ctx, '');
  return (p) => {
    if (p.message !== last) {
      last = p.message;
      clear(ctx);
      if (!ctx.json) ctx.stderr.write(`[${p.step}] ${p.message}\n`);
    }
    if (p.progress) bar?.(p.progress);
  };
}

function clear(ctx: CommandContext): void {
  if (!ctx.json && ctx.stderr.isTTY) ctx.stderr.write('\r\x1b[2K');
}

function fail(ctx: CommandContext, message: string): number {
  clear(ctx);
  ctx.stderr.write(`cadence-ops restore: ${message}\n`);
  return 1;
}

function printPlan(ctx: CommandContext, plan: RestorePlan, root: string): void {
  const v = plan.verification;
  const out = (s = '') => ctx.stdout.write(`${s}\n`);
  out(`restore ${plan.backup.name} into ${root}, scope ${plan.scope}`);
  out(
    v.ok
      ? `  verified in ${formatDuration(v.durationMs / 1000)}: ${v.fileCount} files, ${formatBytes(v.totalSize)}`
      : `  FAILED verification: ${v.reason}`,
  );
  out('what changes:');
  for (const u of plan.units) {
    const what = u.inBackup
      ? u.liveExists
        ? 'replaced'
        : 'created'
      : u.liveExists
        ? 'removed'
        : 'absent in both';
    out(`  ${u.display.padEnd(28)} ${what}`);
  }
  const size = (x: number | null) => (x === null ? '-' : formatBytes(x));
  const list = (
    label: string,
    items: RestorePlan['replaced'],
    show: (x: RestorePlan['replaced'][number]) => string,
  ) => {
    const bytes = items.reduce((s, x) => s + (x.sizeThen ?? x.sizeNow ?? 0), 0);
    out(`${label}: ${items.length} file${items.length === 1 ? '' : 's'}, ${formatBytes(bytes)}`);
    for (const x of items.slice(0, 40)) out(`  ${x.path}  ${show(x)}`);
    if (items.length > 40) out(`  ... and ${items.length - 40} more`);
  };
  list('replaced', plan.replaced, (x) => `${size(x.sizeNow)} -> ${size(x.sizeThen)}`);
  list('added (in the backup, not in the site)', plan.added, (x) => size(x.sizeThen));
  list('removed (in the site, not in the backup)', plan.removed, (x) => size(x.sizeNow));
  out(`unchanged: ${plan.unchanged} file${plan.unchanged === 1 ? '' : 's'}`);
  if (plan.database.restored || plan.database.live) {
    out('database rows (now -> after the restore):');
    const tables = [
      ...new Set([...Object.keys(plan.database.live ?? {}), ...Object.keys(plan.database.inBackup ?? {})]),
    ];
    for (const t of tables) {
      const now = plan.database.live?.[t];
      const then = plan.database.restored ? plan.database.inBackup?.[t] : now;
      out(`  ${t.padEnd(14)} ${String(now ?? '-').padStart(9)} -> ${String(then ?? '-').padStart(9)}`);
    }
    if (plan.database.liveError) out(`  live database: ${plan.database.liveError}`);
  }
  const s = plan.space;
  out(
    `space: ${formatBytes(s.neededBytes)} needed (${formatBytes(s.stagingBytes)} staging` +
      `${s.safetyBytes ? ` + ~${formatBytes(s.safetyBytes)} safety snapshot` : ''} + margin), ${formatBytes(s.availableBytes)} available${s.ok ? '' : ': NOT ENOUGH'}`,
  );
  for (const r of plan.refusals)
    out(`REFUSED: ${r.message}${r.overridable ? ' (--accept-unverified NAME overrides)' : ''}`);
}

async function proceed(
  ctx: CommandContext,
  rs: RestoreSite,
  plan: RestorePlan,
  how: { safety: boolean; rollbackOf: string | null },
): Promise<number> {
  const f = ctx.flags as Record<string, unknown>;
  const name = plan.backup.name;
  if (ctx.json && f.dryRun) {
    const app = await checkApplication(rs);
    printJson(ctx, { plan: { ...plan, verification: { ...plan.verification, entries: undefined } }, app });
    return plan.refusals.length ? 1 : 0;
  }
  if (!ctx.json) printPlan(ctx, plan, rs.paths.root);
  const app = await checkApplication(rs);
  if (!ctx.json) {
    ctx.stdout.write(
      app.app
        ? `application: Candy-Cadence is running (pid ${app.app.pid}); it will be stopped first\n`
        : 'application: not running\n',
    );
    const others = app.holders.filter((h) => !app.app || h.pid !== app.app.pid);
    if (others.length)
      ctx.stdout.write(
        `database held open by: ${[...new Set(others.map((h) => `${h.command} (pid ${h.pid})`))].join(', ')}\n`,
      );
  }
  const blocking = plan.refusals.filter((r) => !(r.code === 'verification' && f.acceptUnverified === name));
  if (f.dryRun) {
    ctx.stdout.write(
      blocking.length ? 'dry run: the restore would be refused\n' : 'dry run: nothing was changed\n',
    );
    return blocking.length ? 1 : 0;
  }
  let acceptUnverified = f.acceptUnverified === name;
  if (f.acceptUnverified !== undefined && !acceptUnverified)
    return fail(ctx, `--accept-unverified must be followed by the backup's full name, ${name}`);
  for (const r of plan.refusals) {
    if (r.code === 'verification' && !acceptUnverified && interactive(ctx) && !f.yes) {
      const typed = await ask(
        ctx,
        `${name} failed verification. Type its name to restore it anyway (Enter cancels): `,
      );
      if (typed === name) {
        acceptUnverified = true;
        continue;
      }
      return fail(ctx, `refused: ${r.message}`);
    }
    if (r.code === 'verification' && acceptUnverified) continue;
    return fail(ctx, `refused: ${r.message}`);
  }
  if (!f.yes) {
    if (!interactive(ctx))
      return fail(ctx, 'refused: without a terminal, pass --yes to restore (or --dry-run to look)');
    if (!(await askYes(ctx, `Restore ${name} (${plan.scope}) into ${rs.paths.root}?`))) {
      ctx.stdout.write('nothing was changed\n');
      return 1;
    }
  }
  // The application: stopped, and nothing else holding the database.
  let appStopped = false;
  if (app.app) {
    if (f.stopApp === false)
      return fail(ctx, `refused: Candy-Cadence is running (pid ${app.app.pid}) and --no-stop-app was given`);
    if (!f.yes && !(await askYes(ctx, `Candy-Cadence is running (pid ${app.app.pid}). Stop it?`)))
      return fail(ctx, 'refused: Candy-Cadence is still running');
    ctx.stderr.write(`[app] stopping Candy-Cadence (pid ${app.app.pid})\n`);
    const stop = await stopApplication(rs, app.app);
    if (!stop.stopped) return fail(ctx, `refused: could not stop Candy-Cadence: ${stop.error} (${stop.how})`);
    ctx.stderr.write(`[app] stopped: ${stop.how}\n`);
    appStopped = true;
  }
  const after = await checkApplication(rs);
  let ignoreHolders = f.ignoreHolders === name;
  if (f.ignoreHolders !== undefined && !ignoreHolders)
    return fail(ctx, `--ignore-holders must be followed by the backup's full name, ${name}`);
  if (after.holders.length && !ignoreHolders && plan.units.some((u) => u.kind === 'database')) {
    const who = [...new Set(after.holders.map((h) => `${h.command} (pid ${h.pid})`))].join(', ');
    if (interactive(ctx) && !f.yes) {
      const typed = await ask(
        ctx,
        `The database is held open by ${who}. Type ${name} to restore anyway (Enter cancels): `,
      );
      ignoreHolders = typed === name;
    }
    if (!ignoreHolders) return fail(ctx, `refused: the database is held open by ${who}`);
  }
  let outcome: RestoreOutcome;
  try {
    outcome = await runRestore(rs, plan, {
      acceptUnverified,
      ignoreHolders,
      safety: how.safety,
      rollbackOf: how.rollbackOf,
      appStopped,
      onProgress: stepPrinter(ctx),
    });
  } catch (err) {
    if (err instanceof BackupError) {
      await maybeStart(ctx, rs, appStopped);
      return fail(ctx, err.message);
    }
    throw err;
  }
  return report(ctx, rs, outcome, appStopped);
}

async function maybeStart(ctx: CommandContext, rs: RestoreSite, appStopped: boolean): Promise<void> {
  const f = ctx.flags as Record<string, unknown>;
  if (!appStopped || f.startApp === false) return;
  if (!rs.config.app.startCommand) {
    ctx.stderr.write(
      '[start] Candy-Cadence was stopped; no app.startCommand is configured, so start it yourself\n',
    );
    return;
  }
  if (!f.yes && !(interactive(ctx) && (await askYes(ctx, 'Start Candy-Cadence again?')))) return;
  const r = await startApplication(rs);
  ctx.stderr.write(`[start] ${r.message}\n`);
}

async function report(
  ctx: CommandContext,
  rs: RestoreSite,
  outcome: RestoreOutcome,
  appStopped: boolean,
): Promise<number> {
  clear(ctx);
  if (ctx.json) printJson(ctx, outcome);
  else {
    ctx.stdout.write(
      `${outcome.ok ? 'done' : 'FAILED'}: ${outcome.message} (${formatDuration(outcome.durationMs / 1000)})\n`,
    );
    if (outcome.postCheck)
      ctx.stdout.write(
        `post-checks: database ${outcome.postCheck.database ?? 'sound, row counts as in the backup'}` +
          (outcome.postCheck.files ? `; ${outcome.postCheck.files} files match the manifest` : '') +
          `${outcome.postCheck.mismatches.length ? `; ${outcome.postCheck.mismatches.length} problems: ${outcome.postCheck.mismatches.slice(0, 3).join('; ')}` : ''}\n`,
      );
    if (outcome.ok && outcome.safety)
      ctx.stdout.write(`to undo it: cadence-ops restore --rollback (restores ${outcome.safety.name})\n`);
  }
  await maybeStart(ctx, rs, appStopped || outcome.appStopped);
  return outcome.ok ? 0 : 1;
}

async function recover(ctx: CommandContext, rs: RestoreSite, mode: 'complete' | 'rollback'): Promise<number> {
  const f = ctx.flags as Record<string, unknown>;
  const j = pendingRestore(rs.paths.root);
  if (!j) return fail(ctx, 'no interrupted restore to resume');
  const what = mode === 'complete' ? 'finish' : 'roll back';
  if (!ctx.json)
    ctx.stdout.write(
      `interrupted restore of ${j.backup.name} (scope ${j.scope}), phase ${j.phase}, started ${new Date(j.startedAt).toLocaleString()}\n`,
    );
  if (!f.yes) {
    if (!interactive(ctx)) return fail(ctx, `refused: without a terminal, pass --yes to ${what} it`);
    if (!(await askYes(ctx, `${what[0]!.toUpperCase()}${what.slice(1)} it?`))) return 1;
  }
  try {
    const outcome = await recoverRestore(rs, mode, { onProgress: stepPrinter(ctx) });
    return await report(ctx, rs, outcome, false);
  } catch (err) {
    if (err instanceof BackupError) return fail(ctx, err.message);
    throw err;
  }
}
