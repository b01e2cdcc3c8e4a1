import { createInterface } from 'node:readline/promises';
import { ACTIONS, ActionRefusedError, planAction, runMaintenanceAction } from '../../services/db-actions.js';
import { runDatabaseCheck } from '../../services/db-checks.js';
import { DbError } from '../../services/db-connection.js';
import { latestGrowth } from '../../services/db-history.js';
import { readDbOverview } from '../../services/db-info.js';
import type { ActionKind, CheckKind } from '../../services/db-tasks.js';
import { openStateDb } from '../../services/state-db.js';
import { type CommandContext, printJson, UsageError, type VerbSpec } from './types.js';

const SUBS = [
  'info',
  'check',
  'analyze',
  'optimize',
  'vacuum',
  'reindex',
  'checkpoint',
  'slow-queries',
  'sql',
];

export const fmtBytes = (b: number | null | undefined): string => {
  if (b === null || b === undefined) return '-';
  if (b < 1024) return `${b} B`;
  if (b < 1048576) return `${(b / 1024).toFixed(1)} KB`;
  if (b < 1073741824) return `${(b / 1048576).toFixed(1)} MB`;
  return `${(b / 1073741824).toFixed(2)} GB`;
};
const fmtInt = (n: number | null | undefined) =>
  n === null || n === undefined ? '-' : n.toLocaleString('en-US');

function table(rows: string[][], right: number[] = []): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function failure(ctx: CommandContext, err: unknown): number {
  if (err instanceof DbError || err instanceof ActionRefusedError) {
    if (ctx.json)
      printJson(ctx, {
        ok: false,
        error: err.message,
        kind: err instanceof DbError ? err.kind : 'refused',
        ...(err instanceof ActionRefusedError ? { reasons: err.reasons, plan: err.plan } : {}),
      });
    else ctx.stderr.write(`cadence-ops db: ${err.message}\n`);
    return 1;
  }
  throw err;
}

async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  if (ctx.flags.yes) return true;
  if (!process.stdin.isTTY || ctx.json) return false;
  const rl = createInterface({ input: process.stdin, output: ctx.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function progressPrinter(ctx: CommandContext): ((line: string) => void) | undefined {
  if (ctx.json || !ctx.stderr.isTTY) return undefined;
  return (line) => ctx.stderr.write(`\r\x1b[2K${line}`);
}

async function info(ctx: CommandContext): Promise<number> {
  const site = ctx.site();
  const cfg = site.loaded.config;
  const overview = await readDbOverview({
    database: site.paths.database,
    pidFile: site.paths.pidFile,
    processPattern: cfg.app.processPattern,
    thresholds: { fragmentationPercent: cfg.thresholds.fragmentationPercent },
    sizes: !ctx.flags.fast,
  });
  let growth = null;
  try {
    const state = openStateDb(site.stateDbPath);
    try {
      growth = latestGrowth(state, site.paths.database, cfg.thresholds.tableGrowthPercent);
    } finally {
      state.close();
    }
  } catch {}
  if (ctx.json) {
    printJson(ctx, { ...overview, growth });
    return 0;
  }
  const i = overview.info;
  const out: string[] = [];
  out.push(`database   ${i.file}`);
  out.push(
    `size       ${fmtBytes(i.fileBytes)}, WAL ${fmtBytes(i.walBytes)} (${fmtInt(i.walFrames)} frames), shm ${fmtBytes(i.shmBytes)}`,
  );
  out.push(
    `pages      ${fmtInt(i.pageCount)} x ${i.pageSize} B, ${fmtInt(i.freePages)} free (fragmentation ${i.fragmentationPercent.toFixed(1)} %)`,
  );
  out.push(
    `settings   journal ${i.journalMode}, auto_vacuum ${i.autoVacuum}, user_version ${i.userVersion}, encoding ${i.encoding}`,
  );
  out.push(
    `sqlite     ${i.sqliteVersion} (${i.compileOptions.length} compile options; --json lists them), statistics ${i.stats.stat1 ? (i.stats.stat4 ? 'stat1+stat4' : 'stat1') : 'none'}`,
  );
  out.push(
    `schema     ${i.counts.tables} tables (${i.counts.virtualTables} virtual), ${i.counts.indexes} indexes, ${i.counts.views} views, ${i.counts.triggers} triggers`,
  );
  out.push(
    `app        ${overview.app ? `running, pid ${overview.app.pid} (${overview.app.via})` : 'not running'}`,
  );
  const byPid = new Map<number, { command: string; files: string[] }>();
  for (const h of overview.holders) {
    const e = byPid.get(h.pid) ?? { command: h.cmdline || h.command, files: [] };
    e.files.push(
      `${h.file.slice(i.file.length) || 'db'}${h.mode ? ` ${h.mode}` : ''}${h.deleted ? ' (deleted)' : ''}`,
    );
    byPid.set(h.pid, e);
  }
  out.push(
    `open by    ${byPid.size ? '' : 'no other process'}${overview.holdersUnreadable ? ` (${overview.holdersUnreadable} processes not readable)` : ''}`,
  );
  for (const [pid, e] of byPid)
    out.push(`             ${pid}  ${e.command.slice(0, 60)}  [${e.files.join(', ')}]`);
  const lockLines = overview.locks.filter((l) => !l.meaning.startsWith('connected'));
  out.push(
    `lock       ${overview.probe ? (overview.probe.writable ? 'write lock available' : `write lock NOT available (${overview.probe.state})`) : 'not probed'}${overview.writers.length ? `; writing now: pid ${overview.writers.join(', ')}` : ''}`,
  );
  for (const l of lockLines)
    out.push(`             pid ${l.pid}: ${l.meaning}${l.waiting ? ' (waiting)' : ''}`);
  out.push('');
  const rows: string[][] = [['name', 'kind', 'table', 'rows', 'bytes', 'fill', 'growth']];
  const shown = overview.objects.filter((o) => o.kind !== 'shadow' || ctx.flags.all);
  for (const o of shown.sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0))) {
    const g = growth?.objects.find((x) => x.name === o.name);
    rows.push([
      o.name,
      o.kind,
      o.kind === 'index' ? o.table : '',
      `${fmtInt(o.rows)}${o.rowsSource === 'stat1' ? '~' : ''}`,
      fmtBytes(o.bytes),
      o.fillPercent === null ? '-' : `${o.fillPercent.toFixed(0)}%`,
      g?.bytesPercent !== null && g?.bytesPercent !== undefined
        ? `${g.bytesPercent >= 0 ? '+' : ''}${g.bytesPercent.toFixed(1)}%${g.warn ? ' !' : ''}`
        : '',
    ]);
  }
  out.push(table(rows, [3, 4, 5, 6]));
  if (!overview.sized)
    out.push('(rows marked ~ are estimates from the last ANALYZE; sizes skipped with --fast)');
  if (growth) {
    out.push('');
    out.push(
      `growth between the last two checks (${new Date(growth.from).toISOString()} -> ${new Date(growth.to).toISOString()}):`,
    );
    if (!growth.warnings.length) out.push(`  nothing grew more than ${growth.thresholdPercent} %`);
    for (const g of growth.warnings)
      out.push(
        `  WARNING ${g.name} grew ${Math.max(g.rowsPercent ?? 0, g.bytesPercent ?? 0).toFixed(1)} % (${fmtInt(g.rowsBefore)} -> ${fmtInt(g.rows)} rows, ${fmtBytes(g.bytesBefore)} -> ${fmtBytes(g.bytes)}; ${fmtBytes(g.bytesPerDay)}/day)`,
      );
  }
  if (overview.advice.length) {
    out.push('');
    out.push('advice:');
    for (const a of overview.advice)
      out.push(`  ${a.level === 'warning' ? 'WARNING ' : ''}${a.message}${a.fix ? `: ${a.fix}` : ''}`);
  }
  ctx.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

const CHECK_KINDS: Record<string, CheckKind> = {
  integrity: 'integrity',
  quick: 'quick',
  'foreign-keys': 'foreign_keys',
  fk: 'foreign_keys',
};

async function check(ctx: CommandContext): Promise<number> {
  const which = ctx.args[1] ?? 'integrity';
  const kind = CHECK_KINDS[which];
  if (!kind) throw new UsageError(`unknown check "${which}": expected integrity, quick or foreign-keys`);
  const site = ctx.site();
  const cfg = site.loaded.config;
  const state = openStateDb(site.stateDbPath);
  const show = progressPrinter(ctx);
  try {
    const r = await runDatabaseCheck({
      database: site.paths.database,
      kind,
      settings: cfg.database,
      tableGrowthPercent: cfg.thresholds.tableGrowthPercent,
      state,
      // With a terminal to show progress on, the worker keeps this thread free to draw it.
      runner: show ? 'worker' : 'inline',
      onProgress: show
        ? (p) =>
            show(
              `${kind} check: ${(p.fraction * 100).toFixed(0)} %${p.estimated ? ' (estimated)' : ''} ${p.table ?? ''} ${(p.elapsedMs / 1000).toFixed(1)} s`,
            )
        : undefined,
    });
    if (show) ctx.stderr.write('\r\x1b[2K');
    if (ctx.json) {
      printJson(ctx, {
        ok: r.ok,
        kind: r.kind,
        errors: r.errors,
        truncated: r.truncated,
        durationMs: r.durationMs,
        checkMs: r.checkMs,
        databaseBytes: r.databaseBytes,
        growth: r.growth,
      });
    } else {
      const lines = [
        `${kind} check of ${site.paths.database}: ${r.ok ? 'ok' : `${r.errors.length}${r.truncated ? '+' : ''} problem(s)`} in ${(r.durationMs / 1000).toFixed(2)} s`,
      ];
      for (const e of r.errors) lines.push(`  ${e}`);
      if (r.truncated)
        lines.push(`  (stopped at ${cfg.database.checkMaxErrors} errors: database.checkMaxErrors)`);
      if (r.growth?.warnings.length) {
        lines.push('growth since the previous check:');
        for (const g of r.growth.warnings)
          lines.push(
            `  WARNING ${g.name} grew ${Math.max(g.rowsPercent ?? 0, g.bytesPercent ?? 0).toFixed(1)} % (over ${r.growth.thresholdPercent} %)`,
          );
      }
      ctx.stdout.write(`${lines.join('\n')}\n`);
    }
    return r.ok ? 0 : 1;
  } catch (err) {
    if (show) ctx.stderr.write('\r\x1b[2K');
    return failure(ctx, err);
  } finally {
    state.close();
  }
}

async function action(ctx: CommandContext, kind: ActionKind): Promise<number> {
  const site = ctx.site();
  const cfg = site.loaded.config;
  const target = ctx.args[1] ?? null;
  const state = openStateDb(site.stateDbPath);
  try {
    const plan = planAction({
      database: site.paths.database,
      action: kind,
      target,
      readOnly: ctx.readOnly,
      pidFile: site.paths.pidFile,
      processPattern: cfg.app.processPattern,
      state,
    });
    if (!ctx.json) {
      ctx.stderr.write(`${plan.title}: ${plan.does}\n`);
      for (const w of plan.warnings) ctx.stderr.write(`  warning: ${w}\n`);
    }
    const confirmed =
      plan.refusals.length === 0 &&
      (await confirm(
        ctx,
        `Run ${plan.title} on ${site.paths.database} (about ${(plan.facts.expectedMs / 1000).toFixed(1)} s)?`,
      ));
    if (!plan.refusals.length && !confirmed && !ctx.json && !ctx.flags.yes)
      ctx.stderr.write('not confirmed: answer y, or pass --yes to run without asking\n');
    const show = progressPrinter(ctx);
    const r = await runMaintenanceAction({
      plan,
      confirmed,
      settings: cfg.database,
      tableGrowthPercent: cfg.thresholds.tableGrowthPercent,
      state,
      runner: show ? 'worker' : 'inline',
      onProgress: show
        ? (p) => show(`${plan.title}: ${p.phase} ${(p.elapsedMs / 1000).toFixed(1)} s`)
        : undefined,
    });
    if (show) ctx.stderr.write('\r\x1b[2K');
    if (ctx.json)
      printJson(ctx, {
        ok: true,
        action: kind,
        target,
        ms: r.ms,
        attempts: r.attempts,
        details: r.details,
        warnings: plan.warnings,
      });
    else ctx.stdout.write(`${String(r.details.summary)}\n`);
    return 0;
  } catch (err) {
    return failure(ctx, err);
  } finally {
    state.close();
  }
}

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops db info [--fast] [--all]
  cadence-ops db check [integrity|quick|foreign-keys]
  cadence-ops db analyze [TABLE|INDEX] [--yes]
  cadence-ops db optimize [--yes]
  cadence-ops db vacuum [--yes]
  cadence-ops db reindex [TABLE|INDEX] [--yes]
  cadence-ops db checkpoint [--yes]

The site's SQLite database, read-only unless an action is asked for. Actions show what they will do
and what to beware of, ask (unless --yes), refuse under --read-only, wait for the application's
lock (database.busyTimeoutMs, retried database.busyRetries times) and record their result and
duration in the console's state database, as do checks (with table and index sizes, for growth).

Options
  --yes     run an action without asking
  --fast    info: skip sizes (rows are then estimates from the last ANALYZE)
  --all     info: list FTS5 shadow tables too

Exit codes: 0 ok; 1 problems found (check), action refused or failed, database missing, locked,
not a database or unreadable; 2 usage error.`,
  flags: {
    yes: { type: 'boolean', default: false },
    fast: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
  },
  async run(ctx) {
    const sub = ctx.args[0] ?? 'info';
    try {
      switch (sub) {
        case 'info':
          return await info(ctx);
        case 'check':
          return await check(ctx);
        case 'analyze':
        case 'optimize':
        case 'vacuum':
        case 'reindex':
        case 'checkpoint':
          if (!(sub in ACTIONS)) break;
          return await action(ctx, sub);
      }
    } catch (err) {
      return failure(ctx, err);
    }
    throw new UsageError(`unknown db command "${sub}": expected one of ${SUBS.join(', ')}`);
  },
};
export default verb;
