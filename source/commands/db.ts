import { ACTIONS, ActionRefusedError, planAction, runMaintenanceAction } from '../../services/db-actions.js';
import { runDatabaseCheck } from '../../services/db-checks.js';
import { DbError } from '../../services/db-connection.js';
import { latestGrowth } from '../../services/db-history.js';
import { MeasureRefusedError, measureIndex, planIndexMeasurement } from '../../services/db-index-measure.js';
import { readDbOverview } from '../../services/db-info.js';
import {
  analyzeSlowQueries,
  defaultSlowQueryFiles,
  type SlowQueryPattern,
} from '../../services/db-slow-queries.js';
import { runPromptSql } from '../../services/db-sql-prompt.js';
import { type ActionKind, type CheckKind, run as runDbTask } from '../../services/db-tasks.js';
import { openStateDb } from '../../services/state-db.js';
import { askYes } from './ask.js';
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
  if (err instanceof MeasureRefusedError) {
    if (ctx.json) printJson(ctx, { ok: false, error: err.message, kind: 'refused', reasons: err.reasons });
    else ctx.stderr.write(`cadence-ops db: ${err.message}\n`);
    return 1;
  }
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
  return askYes(ctx, question);
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
    siteRoot: site.paths.root,
    thresholds: { fragmentationPercent: cfg.thresholds.fragmentationPercent },
    sizes: !ctx.flags.fast,
    busyTimeoutMs: cfg.database.busyTimeoutMs,
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
    const e = byPid.get(h.pid) ?? {
      command: `${h.cmdline || h.command}${h.ppid === process.pid ? ' (this console)' : ''}`,
      files: [],
    };
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
    const plan = await planAction({
      database: site.paths.database,
      action: kind,
      target,
      readOnly: ctx.readOnly,
      pidFile: site.paths.pidFile,
      processPattern: cfg.app.processPattern,
      siteRoot: site.paths.root,
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

const fmtMs = (ms: number) =>
  ms >= 60_000
    ? `${(ms / 60_000).toFixed(1)} min`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${ms.toFixed(0)} ms`;
const fmtTime = (t: number | null) =>
  t === null ? '-' : new Date(t).toISOString().replace('T', ' ').slice(0, 19);

/** "24h", "7d", "90m" or an ISO date, to epoch ms. */
function parseSince(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d)$/.exec(value.trim());
  if (m) return now - Number(m[1]) * { m: 60_000, h: 3600_000, d: 86400_000 }[m[2] as 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`--since ${value}: expected e.g. 90m, 24h, 7d or a date`);
  return t;
}

export function describeProblems(p: SlowQueryPattern): string[] {
  const out: string[] = [];
  for (const t of p.flags?.fullScans ?? []) out.push(`full scan of ${t}`);
  for (const t of p.flags?.tempBtrees ?? []) out.push(`temporary b-tree for ${t}`);
  for (const t of p.flags?.automaticIndexes ?? []) out.push(`automatic index: ${t}`);
  return out;
}

async function slowQueries(ctx: CommandContext): Promise<number> {
  const site = ctx.site();
  const cfg = site.loaded.config;
  const files = ctx.flags.log ? [String(ctx.flags.log)] : defaultSlowQueryFiles(site.paths.logs);
  const report = await analyzeSlowQueries({
    database: site.paths.database,
    logFiles: files,
    slowQueryMs: cfg.thresholds.slowQueryMs,
    frequentSlowQuery: cfg.thresholds.frequentSlowQuery,
    since: parseSince(ctx.flags.since as string | undefined),
    limit: Number(ctx.flags.limit ?? 50),
  });
  const measureId = ctx.flags.measure as string | undefined;
  if (measureId) {
    const p = report.patterns.find((x) => x.id === measureId || x.id.startsWith(measureId));
    if (!p) throw new UsageError(`no slow-query pattern ${measureId}; run db slow-queries to see the ids`);
    const createIndex = (ctx.flags.index as string | undefined) ?? p.advice[0]?.createIndex;
    if (!createIndex)
      throw new UsageError(`pattern ${p.id} has no index recommendation; pass --index "CREATE INDEX ..."`);
    const timed = (ctx.flags.sql as string | undefined) ?? p.plannedSql;
    if (!timed)
      throw new UsageError(`pattern ${p.id} could not be planned: ${p.planError ?? 'unknown'}; pass --sql`);
    const plan = planIndexMeasurement({
      database: site.paths.database,
      tempDir: site.paths.temp,
      sql: timed,
      createIndex,
      readOnly: ctx.readOnly,
    });
    if (!ctx.json) {
      ctx.stderr.write(
        `measure ${createIndex}\n  on a copy of the database in ${site.paths.temp} (${fmtBytes(plan.databaseBytes)}), timing:\n  ${timed}\n`,
      );
      if (p.repair?.changed && !ctx.flags.sql)
        ctx.stderr.write('  (a repaired statement: the log cut it at 100 characters)\n');
    }
    const confirmed = !plan.refusals.length && (await confirm(ctx, 'Copy the database and measure?'));
    const state = openStateDb(site.stateDbPath);
    try {
      const r = await measureIndex({ plan, confirmed, state });
      if (ctx.json) printJson(ctx, { ok: true, pattern: p.id, sql: timed, createIndex, ...r });
      else
        ctx.stdout.write(
          `${createIndex}\n  before ${r.beforeMs.toFixed(2)} ms, after ${r.afterMs.toFixed(2)} ms: ${r.speedup.toFixed(1)}x (median of ${r.runs} runs, ${r.rows} rows)\n` +
            `  index built in ${fmtMs(r.indexBuildMs)}, ${fmtBytes(r.indexBytes)}\n  plan before: ${r.planBefore.join(' | ')}\n  plan after:  ${r.planAfter.join(' | ')}\n` +
            `  verdict: ${r.speedup >= 1.5 ? 'worth adding for this pattern' : r.speedup >= 0.9 ? 'no real gain for this pattern on this data' : 'SLOWER with the index on this data (the filter matches most rows): do not add it for this pattern'}\n`,
        );
      return 0;
    } finally {
      state.close();
    }
  }
  if (ctx.json) {
    printJson(ctx, report);
    return 0;
  }
  const out: string[] = [];
  out.push(
    `${report.files.length ? report.files.map((f) => f.slice(site.paths.logs.length + 1) || f).join(', ') : 'no database.log found'}: ` +
      `${report.records} slow queries in ${report.patterns.length} patterns (slow: over ${report.thresholds.slowQueryMs} ms; frequent: more than ${report.thresholds.frequentSlowQuery} times)`,
  );
  for (const e of report.errors) out.push(`  could not read ${e}`);
  report.patterns.forEach((p, i) => {
    out.push('');
    out.push(
      `#${i + 1} ${p.id}  ${p.count}x  p50 ${fmtMs(p.p50)}  p95 ${fmtMs(p.p95)}  max ${fmtMs(p.max)}  total ${fmtMs(p.totalMs)}${p.frequent ? '  FREQUENT' : ''}`,
    );
    out.push(`   seen ${fmtTime(p.firstSeen)} .. ${fmtTime(p.lastSeen)}`);
    out.push(`   ${p.pattern}${p.truncated ? '  (cut at 100 characters in the log)' : ''}`);
    if (p.truncated || p.repair?.changed) {
      out.push(`   planned as${p.repair?.changed ? ' (repaired)' : ''}: ${p.plannedSql ?? '-'}`);
      for (const n of p.repair?.notes ?? []) out.push(`     - ${n}`);
    }
    out.push(`   plan: ${p.plan ? p.plan.join(' | ') : `not available (${p.planError})`}`);
    const problems = describeProblems(p);
    out.push(
      `   wrong: ${problems.length ? problems.join('; ') : p.plan ? 'nothing in the plan: it uses an index, so the time went elsewhere (lock waits, I/O, a busy host)' : '-'}`,
    );
    for (const a of p.advice) {
      out.push(`   fix:  ${a.createIndex}${a.recommendedBySite ? '  (recommended by the procedures)' : ''}`);
      out.push(`         plan with it: ${a.planWith.join(' | ')}`);
    }
    for (const n of p.notes) out.push(`   note: ${n}`);
  });
  out.push('');
  out.push('recommended indexes (SITE.md):');
  for (const r of report.recommended)
    out.push(
      `  ${r.name}: ${r.status === 'covered' ? `covered by ${r.by}` : r.status === 'missing' ? `MISSING: ${r.sql}` : 'present'}`,
    );
  if (report.patterns.some((p) => p.advice.length))
    out.push('', 'measure a fix on a copy of the database: cadence-ops db slow-queries --measure ID');
  ctx.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

async function sql(ctx: CommandContext): Promise<number> {
  const text = ctx.args.slice(1).join(' ').trim();
  if (!text) throw new UsageError('db sql needs a statement, e.g. db sql "SELECT count(*) FROM models"');
  const site = ctx.site();
  const cfg = site.loaded.config;
  const r = await runPromptSql({
    database: site.paths.database,
    sql: text,
    rowLimit: Number(ctx.flags.limit ?? cfg.database.sqlRowLimit),
    timeoutMs: Number(ctx.flags.timeout ?? cfg.database.sqlTimeoutMs),
  });
  if (ctx.json) {
    printJson(ctx, r);
    return 0;
  }
  const cell = (v: unknown) => (v === null ? 'NULL' : String(v)).replace(/\s+/g, ' ').slice(0, 60);
  const rows = [r.columns, ...r.rows.map((row) => row.map(cell))];
  if (r.columns.length) ctx.stdout.write(`${table(rows)}\n`);
  ctx.stdout.write(
    `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.truncated ? `, stopped at the row limit of ${r.rows.length}` : ''}; ${r.ms.toFixed(1)} ms)\n`,
  );
  return 0;
}

/** Internal: runs one database task for a parent process (the SQL prompt's killable runner). */
async function childTask(): Promise<number> {
  const send = (m: unknown) =>
    new Promise<void>((res) => (process.send ? process.send(m, undefined, {}, () => res()) : res()));
  if (!process.send) throw new UsageError('db __task is internal');
  const input = await new Promise<unknown>((res) => process.once('message', res));
  try {
    const result = await runDbTask(input, (m) => void send({ type: 'progress', result: m }));
    await send({ type: 'done', result });
  } catch (err) {
    await send({ type: 'error', message: (err as Error).message });
  }
  return 0;
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
  cadence-ops db slow-queries [--since 24h] [--limit N] [--log FILE]
  cadence-ops db slow-queries --measure ID [--index "CREATE INDEX ..."] [--sql "SELECT ..."] [--yes]
  cadence-ops db sql "SELECT ..." [--limit N] [--timeout MS]

The site's SQLite database, read-only unless an action is asked for. Actions show what they will do
and what to beware of, ask (unless --yes), refuse under --read-only, wait for the application's
lock (database.busyTimeoutMs, retried database.busyRetries times) and record their result and
duration in the console's state database, as do checks (with table and index sizes, for growth).

Options
  --yes     run an action without asking
  --fast    info: skip sizes (rows are then estimates from the last ANALYZE)
  --all     info: list FTS5 shadow tables too
  --since   slow-queries: only records newer than 90m, 24h, 7d or a date
  --limit   slow-queries: at most N patterns (default 50); sql: at most N rows (database.sqlRowLimit)
  --log     slow-queries: read this log file instead of the site's database.log and its rotations
  --measure slow-queries: time the pattern ID on a copy of the database before and after its index
  --index   slow-queries --measure: the CREATE INDEX to measure (default: the recommendation)
  --sql     slow-queries --measure: time this complete statement instead of the (repaired) logged one
  --timeout sql: stop the statement after MS milliseconds (database.sqlTimeoutMs)

Exit codes: 0 ok; 1 problems found (check), action refused or failed, database missing, locked,
not a database or unreadable; 2 usage error.`,
  flags: {
    yes: { type: 'boolean', default: false },
    fast: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    since: { type: 'string' },
    limit: { type: 'number' },
    log: { type: 'string' },
    measure: { type: 'string' },
    index: { type: 'string' },
    sql: { type: 'string' },
    timeout: { type: 'number' },
  },
  async run(ctx) {
    const sub = ctx.args[0] ?? 'info';
    try {
      switch (sub) {
        case 'info':
          return await info(ctx);
        case 'check':
          return await check(ctx);
        case 'slow-queries':
          return await slowQueries(ctx);
        case 'sql':
          return await sql(ctx);
        case '__task':
          return await childTask();
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
