import { createWriteStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { AlertService } from '../../services/alerts.js';
import { type AnalysisInput, type AnalysisReport, analyzeLogs } from '../../services/log-analysis.js';
import { discoverLogFiles } from '../../services/log-files.js';
import {
  LEVEL_RANK,
  type Level,
  LineFormatError,
  type LineParser,
  normalizeLevel,
  parseDuration,
  rawParser,
  regexParser,
} from '../../services/log-parse.js';
import { rotateLogs } from '../../services/log-rotate.js';
import { LogTailer, type TailRecord } from '../../services/log-tail.js';
import { openStateDb } from '../../services/state-db.js';
import { type CommandContext, printJson, UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops logs analyze [FILES...] [--since 24h] [--until TIME] [--json] [--assignments FILE]
                           [--line-format REGEX | --format raw] [--all-levels] [--top N]
  cadence-ops logs tail [FILES...] [--level L] [--json] [--lines N] [--line-format REGEX | --format raw]
  cadence-ops logs rotate [--dry-run] [--json]

analyze   Reads the site's log files (live, rotated .1….10 and gzipped history) or the FILES
          given (plain or .gz), and reports: records per level, the error timeline per hour, the
          error rate against thresholds.errorsPerHour, frequent errors (type + first 50 characters
          seen thresholds.errorRepeat times), critical exception types (MemoryError, DatabaseError,
          SystemError), clusters of messages by template (WARNING and above; --all-levels for all)
          with counts, first/last seen and samples, and clusters new within
          logs.newClusterWindowMinutes. A record written to several files is counted once.
          On the site, the conditions raise (and clear) the console's log alerts, as the screen
          does (not with FILES, --now or --no-record).
          Exit 0 when no alert condition holds, 1 when one does, 2 on a usage error or a missing file.
tail      Follows every log file (and new ones) across rotation by rename, copytruncate and
          gzip, printing each record with the time it was received; tracebacks stay with their
          record. Stops on Ctrl-C.
rotate    The maintenance procedure: every live log over logs.rotateMb becomes
          NAME_YYYYmmdd_HHMMSS.log.gz; compressed logs older than logs.compressedRetentionDays are
          deleted. --dry-run shows the plan and changes nothing.

Options
  --since DUR|TIME      only records at or after now-DUR (30m, 24h, 7d) or an ISO time
  --until TIME          only records before this ISO time
  --now TIME            the time "now" is taken to be (for reproducible reports)
  --assignments FILE    write one JSON line per record: {record, file, line, level, cluster}
  --line-format REGEX   the line layout, as a regular expression with named groups
                        (?<timestamp>…) (?<level>…) (?<logger>…) (?<message>…); message is required
  --format F            auto (default: the timestamp forms of SITE.md), python, or raw (each line a record)
  --all-levels          cluster every record, not only WARNING and above
  --top N               clusters shown in the human report (default 15)
  --level L             tail: show records of level L and above (DEBUG, INFO, WARNING, ERROR, CRITICAL)
  --lines N             tail: start with the last N lines of each file (default 0)
  --duration S          tail: stop after S seconds
  --dry-run             rotate: show what would be done
  --no-record           analyze: do not raise or clear the console's alerts`,
  flags: {
    since: { type: 'string' },
    until: { type: 'string' },
    now: { type: 'string' },
    assignments: { type: 'string' },
    lineFormat: { type: 'string' },
    format: { type: 'string' },
    allLevels: { type: 'boolean', default: false },
    top: { type: 'number', default: 15 },
    level: { type: 'string' },
    lines: { type: 'number', default: 0 },
    duration: { type: 'number' },
    dryRun: { type: 'boolean', default: false },
    record: { type: 'boolean', default: true },
  },
  async run(ctx) {
    const [sub, ...files] = ctx.args;
    if (sub === 'analyze') return analyze(ctx, files);
    if (sub === 'tail') return tail(ctx, files);
    if (sub === 'rotate') return rotate(ctx);
    throw new UsageError(
      sub
        ? `logs: unknown subcommand "${sub}" (expected analyze, tail or rotate)`
        : 'logs: expected analyze, tail or rotate',
    );
  },
};
export default verb;

function timeArg(text: string, now: number, name: string): number {
  if (/^\s*\d+(\.\d+)?\s*(ms|s|m|min|h|d|w)\s*$/i.test(text)) return now - parseDuration(text);
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new UsageError(`--${name}: expected a duration (30m, 24h, 7d) or an ISO time, got "${text}"`);
  return t;
}

function parserArg(
  ctx: CommandContext,
  fallback: { format: string; lineFormat: string | null },
): 'auto' | LineParser {
  const lineFormat = (ctx.flags.lineFormat as string | undefined) ?? fallback.lineFormat;
  const format = (ctx.flags.format as string | undefined) ?? fallback.format;
  if (!['auto', 'python', 'raw'].includes(format))
    throw new UsageError(`--format: expected auto, python or raw, got "${format}"`);
  try {
    if (lineFormat) return regexParser(lineFormat);
  } catch (err) {
    if (err instanceof LineFormatError) throw new UsageError(err.message);
    throw err;
  }
  return format === 'raw' ? rawParser : 'auto';
}

function inputsFrom(ctx: CommandContext, files: string[]): { inputs: AnalysisInput[]; missing: string[] } {
  if (files.length) {
    const missing = files.filter((f) => !existsSync(f) || !statSync(f).isFile());
    return {
      inputs: files.map((f) => ({
        path: path.resolve(f),
        name: path.basename(f),
        compressed: f.endsWith('.gz'),
      })),
      missing,
    };
  }
  const site = ctx.site();
  const found = discoverLogFiles(site.paths.logs);
  if (found.errors.length && !found.live.length && !found.history.length) {
    throw new UsageError(`no log files: ${found.errors.map((e) => `${e.path}: ${e.error}`).join('; ')}`);
  }
  return {
    inputs: [...found.history, ...found.live].map((f) => ({
      path: f.path,
      name: f.name,
      compressed: f.compressed,
    })),
    missing: [],
  };
}

async function analyze(ctx: CommandContext, files: string[]): Promise<number> {
  const { inputs, missing } = inputsFrom(ctx, files);
  if (missing.length) {
    ctx.stderr.write(`cadence-ops: no such file: ${missing.join(', ')}\n`);
    return 2;
  }
  const config = files.length ? null : ctx.site().loaded.config;
  const defaults = config ?? (await import('../../services/config.js')).defaultConfig();
  const now = ctx.flags.now ? timeArg(String(ctx.flags.now), Date.now(), 'now') : Date.now();
  const since = ctx.flags.since ? timeArg(String(ctx.flags.since), now, 'since') : null;
  const until = ctx.flags.until ? timeArg(String(ctx.flags.until), now, 'until') : null;
  const parser = parserArg(ctx, { format: defaults.logs.format, lineFormat: defaults.logs.lineFormat });
  let assignments: ReturnType<typeof createWriteStream> | null = null;
  let pendingWrite = '';
  if (ctx.flags.assignments) {
    assignments = createWriteStream(String(ctx.flags.assignments));
  }
  const report = await analyzeLogs({
    inputs,
    parser,
    since,
    until,
    now,
    clusterLevels: ctx.flags.allLevels ? 'all' : 'errors',
    thresholds: defaults.thresholds,
    logs: defaults.logs,
    onAssignment: assignments
      ? (a) => {
          pendingWrite += `${JSON.stringify(a)}\n`;
          if (pendingWrite.length > 1 << 16) {
            assignments!.write(pendingWrite);
            pendingWrite = '';
          }
        }
      : undefined,
  });
  if (assignments) {
    const stream = assignments;
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.end(pendingWrite, () => resolve());
    });
  }
  // On the site (not FILES given), the conditions raise and clear the console's log alerts, as the
  // screen does; --no-record leaves them alone.
  if (!files.length && ctx.flags.record !== false && !ctx.flags.now) recordAlerts(ctx, report);
  const unreadable = report.files.filter((f) => f.error);
  if (ctx.json) printJson(ctx, report);
  else printReport(ctx, report, Number(ctx.flags.top ?? 15));
  for (const f of unreadable) ctx.stderr.write(`cadence-ops: ${f.path}: ${f.error}\n`);
  return report.alerts.some((a) => a.severity !== 'info') ? 1 : 0;
}

function recordAlerts(ctx: CommandContext, report: AnalysisReport): void {
  const site = ctx.site();
  const db = openStateDb(site.stateDbPath);
  try {
    const service = new AlertService(db, { cooldownSeconds: site.loaded.config.alerts.cooldownSeconds });
    const keys = new Set(report.alerts.map((a) => a.key));
    for (const a of report.alerts) service.raise(a);
    for (const a of service.active({ source: 'logs' })) if (!keys.has(a.key)) service.clear('logs', a.key);
  } finally {
    db.close();
  }
}

const iso = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
};

const SPARK = '▁▂▃▄▅▆▇█';
export function sparkline(values: number[]): string {
  const max = Math.max(...values, 0);
  return values.map((v) => (v === 0 ? ' ' : SPARK[Math.min(7, Math.floor((v / max) * 7.999))])).join('');
}

function printReport(ctx: CommandContext, r: AnalysisReport, top: number): void {
  const out: string[] = [];
  const t = r.totals;
  out.push(
    `Read ${r.files.length} file(s), ${(t.bytes / 1048576).toFixed(1)} MB, ${t.lines} lines, ${t.records} records in ${(r.elapsedMs / 1000).toFixed(1)} s` +
      (t.duplicates ? ` (${t.duplicates} duplicates across files counted once)` : '') +
      (t.outsideWindow ? ` (${t.outsideWindow} outside the window)` : ''),
  );
  out.push(
    `Levels: ${Object.entries(t.byLevel)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}` +
      (t.binaryLines ? `; ${t.binaryLines} binary lines` : '') +
      (t.truncatedLines ? `; ${t.truncatedLines} lines cut at 64 KB` : ''),
  );
  const e = r.errorRate;
  out.push(
    `Error rate: ${e.lastHour} errors in the last hour (threshold ${e.threshold}/h)` +
      (e.peak ? `, peak ${e.peak.errors} at ${iso(e.peak.hour)}` : '') +
      `, ${e.percent.toFixed(3)} % of records (KPI ${e.kpiPercent} %)`,
  );
  if (r.timeline.length) {
    out.push('', 'Hour              records  warnings  errors  critical');
    for (const b of r.timeline.slice(-24)) {
      out.push(
        `${iso(b.hour)}  ${String(b.records).padStart(8)}  ${String(b.warnings).padStart(8)}  ${String(b.errors).padStart(6)}${b.errors > e.threshold ? '!' : ' '} ${String(b.critical).padStart(8)}`,
      );
    }
  }
  if (r.criticalExceptions.length) {
    out.push('', 'Critical exceptions:');
    for (const c of r.criticalExceptions)
      out.push(`  ${c.type}: ${c.count} (first ${iso(c.firstSeen)}, last ${iso(c.lastSeen)})`);
  }
  if (r.frequentErrors.length) {
    out.push('', 'Frequent errors:');
    for (const f of r.frequentErrors.slice(0, 10))
      out.push(`  ${String(f.count).padStart(6)}  ${f.type}: ${f.message}`);
  }
  if (r.newClusters.length) {
    out.push('', 'New patterns:');
    for (const c of r.newClusters.slice(0, 10))
      out.push(`  #${c.id} since ${iso(c.firstSeen)} (${c.count}): ${c.template}`);
  }
  out.push(
    '',
    `Clusters (${r.clusters.length}${r.remainder.clusters ? `, ${r.remainder.clusters} evicted holding ${r.remainder.records} records` : ''}):`,
  );
  out.push(
    '     id    count  level     last seen         last 60 min                                                   template',
  );
  for (const c of r.clusters.slice(0, top)) {
    out.push(
      `  ${String(c.id).padStart(5)} ${String(c.count).padStart(8)}  ${(c.level ?? '-').padEnd(8)}  ${iso(c.lastSeen)}  ${sparkline(c.perMinute)}  ${c.template}`,
    );
  }
  if (r.alerts.length) {
    out.push('', 'Alerts:');
    for (const a of r.alerts) out.push(`  [${a.severity}] ${a.message}`);
  }
  ctx.stdout.write(`${out.join('\n')}\n`);
}

async function tail(ctx: CommandContext, files: string[]): Promise<number> {
  const minLevel = ctx.flags.level ? normalizeLevel(String(ctx.flags.level)) : null;
  if (ctx.flags.level && !minLevel)
    throw new UsageError(
      `--level: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got "${ctx.flags.level}"`,
    );
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    ctx.stderr.write(`cadence-ops: no such file: ${missing.join(', ')}\n`);
    return 2;
  }
  const config = files.length ? null : ctx.site().loaded.config;
  const defaults = config ?? (await import('../../services/config.js')).defaultConfig();
  const parser = parserArg(ctx, { format: defaults.logs.format, lineFormat: defaults.logs.lineFormat });
  const show = (r: TailRecord) => {
    if (minLevel && !(r.level && LEVEL_RANK[r.level as Level] >= LEVEL_RANK[minLevel])) {
      if (!(r.continuationOf && !r.level)) return;
    }
    if (ctx.json) {
      ctx.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    const when = new Date(r.receivedAt);
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const hhmmss = `${p(when.getHours())}:${p(when.getMinutes())}:${p(when.getSeconds())}.${p(when.getMilliseconds(), 3)}`;
    const head = r.continuationOf
      ? ''
      : `${hhmmss} ${r.file.padEnd(18)} ${(r.level ?? (r.binary ? 'BINARY' : '-')).padEnd(8)} ${r.logger ? `${r.logger}: ` : ''}${r.message}${r.truncatedBytes ? ` [cut: ${r.truncatedBytes} bytes]` : ''}\n`;
    ctx.stdout.write(head + r.continuation.map((l) => `    ${l}\n`).join(''));
  };
  const tailer = new LogTailer({
    logsDir: files.length ? undefined : ctx.site().paths.logs,
    files: files.length ? files : undefined,
    parser: parser === 'auto' ? undefined : parser,
    backfillLines: Number(ctx.flags.lines ?? 0),
    usePolling: defaults.logs.usePolling,
    onRecord: show,
    onWarning: (m) => ctx.stderr.write(`cadence-ops: ${m}\n`),
  });
  await tailer.start();
  if (!ctx.json)
    ctx.stderr.write(`following ${tailer.files.join(', ') || '(no files yet)'}; Ctrl-C to stop\n`);
  else ctx.stderr.write(`ready ${JSON.stringify({ files: tailer.files })}\n`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve());
    if (ctx.flags.duration) setTimeout(resolve, Number(ctx.flags.duration) * 1000);
  });
  await tailer.stop();
  ctx.log.info({ stats: tailer.stats }, 'logs tail stopped');
  return 0;
}

async function rotate(ctx: CommandContext): Promise<number> {
  const site = ctx.site();
  const cfg = site.loaded.config.logs;
  if (ctx.readOnly && !ctx.flags.dryRun)
    throw new UsageError('logs rotate changes files: not allowed with --read-only (use --dry-run)');
  const result = await rotateLogs({
    logsDir: site.paths.logs,
    rotateBytes: cfg.rotateMb * 1024 * 1024,
    retentionDays: cfg.compressedRetentionDays,
    dryRun: Boolean(ctx.flags.dryRun),
  });
  if (ctx.json) printJson(ctx, result);
  else {
    const lines: string[] = [];
    if (!result.actions.length)
      lines.push(
        `Nothing to do: no log over ${cfg.rotateMb} MB, no compressed log older than ${cfg.compressedRetentionDays} days.`,
      );
    for (const a of result.actions) {
      const verbText = result.dryRun ? 'would' : a.error ? 'FAILED to' : '';
      if (a.action === 'rotate')
        lines.push(
          `${verbText} rotate ${a.file} (${(a.bytes / 1048576).toFixed(1)} MB) to ${a.to}${a.keptPlain ? ' (the application is still writing to it: plain copy kept)' : ''}${a.error ? `: ${a.error}` : ''}`.trim(),
        );
      else
        lines.push(
          `${verbText} delete ${a.file} (${a.ageDays.toFixed(0)} days old)${a.error ? `: ${a.error}` : ''}`.trim(),
        );
    }
    ctx.stdout.write(`${lines.join('\n')}\n`);
  }
  return result.errors.length ? 1 : 0;
}
