import pkg from '../../package.json' with { type: 'json' };
import {
  type BenchReport,
  type FileResult,
  runBench,
  saveReportAsBaseline,
} from '../../services/bench-run.js';
import { formatP, SIGNIFICANCE_TEST } from '../../services/bench-stats.js';
import { type Config, defaultConfig } from '../../services/config.js';
import { formatBytes, formatCount, formatMs } from '../../services/model-format.js';
import { type LoadTimeTrend, loadTimeTrend, readAppLoads } from '../../services/perf-log.js';
import { SiteNotFoundError } from '../../services/site.js';
import { openStateDb, type StateDb } from '../../services/state-db.js';
import { type CommandContext, printJson, type SiteContext, UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops bench [PATHS...] [--runs N] [--warmup N] [--save-baseline] [--json]

Benchmarks model loading: each file (PATHS are files or folders; default: the site's data/models)
goes to the headless loader process for warm-up runs and timed repeats. Per file: mean, median,
min, max and standard deviation of the load time (read + parse; outliers outside 1.5 x IQR are
identified and left out), MB/s, triangles/s, peak memory, the targets of the procedures (under 5 s
below 100 MB, 15 s up to 500 MB, 30 s above; PERF001 over 30 s), and the comparison with the saved
baseline. A regression is a mean over bench regression threshold (thresholds.benchRegressionPercent,
110 % of the baseline mean) that is also statistically significant (${SIGNIFICANCE_TEST}); a file
that loaded at the baseline and fails now is a regression too. The application's own timings
(model_loaded ... load_time: in performance.log) are shown as a trend.

Runs are recorded in the console's state database; --save-baseline makes this run the baseline
(per file) and writes performance_baseline.json in the site root.

Options
  --runs N          timed runs per file (default: bench.runs, 5)
  --warmup N        untimed runs first (default: bench.warmup, 1)
  --save-baseline   save this run as the baseline
  --timeout S       longest one load may take (default: bench.timeoutSeconds, 60)
  --memory-cap MB   resident memory cap of the loader process (default: bench.memoryCapMb, 2048)

Exit codes: 0 no regression, 1 a regression or a load over 30 s (PERF001), 2 usage error.`,
  flags: {
    runs: { type: 'number' },
    warmup: { type: 'number' },
    saveBaseline: { type: 'boolean', default: false },
    timeout: { type: 'number' },
    memoryCap: { type: 'number' },
  },
  async run(ctx) {
    const f = ctx.flags as {
      runs?: number;
      warmup?: number;
      saveBaseline?: boolean;
      timeout?: number;
      memoryCap?: number;
    };
    const site = siteOrNull(ctx);
    if (!site && ctx.args.length === 0)
      throw new UsageError(
        'no site and no PATHS: pass model files or folders, or --root DIR (see cadence-ops bench --help)',
      );
    if (f.saveBaseline && !site)
      throw new UsageError('--save-baseline needs a site (--root DIR): baselines live with it');
    if (f.saveBaseline && ctx.readOnly)
      throw new UsageError('--save-baseline changes the baseline: not in read-only mode');
    const config: Config = site?.loaded.config ?? defaultConfig();
    const runs = f.runs ?? config.bench.runs;
    const warmup = f.warmup ?? config.bench.warmup;
    if (!Number.isInteger(runs) || runs < 1 || runs > 1000)
      throw new UsageError('--runs must be an integer from 1 to 1000');
    if (!Number.isInteger(warmup) || warmup < 0 || warmup > 100)
      throw new UsageError('--warmup must be an integer from 0 to 100');
    if (f.timeout !== undefined && !(f.timeout > 0))
      throw new UsageError('--timeout must be a positive number of seconds');
    if (f.memoryCap !== undefined && !(f.memoryCap >= 64))
      throw new UsageError('--memory-cap must be at least 64 (MB)');
    const db: StateDb | null = site ? openStateDb(site.stateDbPath) : null;
    try {
      const paths = ctx.args.length ? ctx.args : [site!.paths.models];
      const tty = Boolean(ctx.stderr.isTTY) && !ctx.json;
      const report = await runBench({
        paths,
        runs,
        warmup,
        limits: {
          timeoutMs: (f.timeout ?? config.bench.timeoutSeconds) * 1000,
          memoryCapMb: Math.round(f.memoryCap ?? config.bench.memoryCapMb),
          maxUncompressedMb: config.bench.maxUncompressedMb,
        },
        thresholdPercent: config.thresholds.benchRegressionPercent,
        siteRoot: site?.paths.root ?? null,
        db,
        onProgress: (p) => {
          if (!tty) return;
          if (p.type === 'run')
            ctx.stderr.write(
              `\r\x1b[2K[${p.index + 1}/${p.total}] ${p.file.split('/').pop()} ${p.warmup ? 'warm-up' : 'run'} ${p.run + 1}/${p.runs}`,
            );
          if (p.type === 'file-done' && p.index + 1 === p.total) ctx.stderr.write('\r\x1b[2K');
        },
      });
      let saved: { saved: number; file: string | null } | null = null;
      if (f.saveBaseline && db)
        saved = saveReportAsBaseline(db, report, { siteRoot: site!.paths.root, version: pkg.version });
      const app = site ? appTimings(site, config) : null;
      if (ctx.json) printJson(ctx, { ...report, baselineSaved: saved, applicationLoads: app });
      else ctx.stdout.write(describeBench(report, saved, app));
      ctx.log.info(
        {
          files: report.files.length,
          regressions: report.regressions,
          failures: report.failures,
          runId: report.runId,
        },
        'bench done',
      );
      return report.regressions > 0 || report.perf001 > 0 ? 1 : 0;
    } finally {
      db?.close();
    }
  },
};
export default verb;

function siteOrNull(ctx: CommandContext): SiteContext | null {
  try {
    return ctx.site();
  } catch (err) {
    if (err instanceof SiteNotFoundError && !ctx.flags.root && ctx.args.length > 0) return null;
    throw err;
  }
}

function appTimings(site: SiteContext, config: Config): (LoadTimeTrend & { files: string[] }) | null {
  const { loads, files } = readAppLoads(site.paths.logs);
  const trend = loadTimeTrend(loads, config.thresholds.trendSlope);
  return trend ? { ...trend, files } : null;
}

const STATUS_TEXT: Record<string, string> = {
  regression: 'REGRESSION',
  failed: 'REGRESSION (fails now)',
  'slower-not-significant': 'slower',
  'slower-untested': 'slower, untested',
  'within-threshold': 'ok',
  faster: 'faster',
  'no-baseline': 'no baseline',
};

function describeFile(r: FileResult): string {
  const lines: string[] = [];
  if (r.error) {
    lines.push(`${r.key}: ${r.error.code} ${r.error.message}`);
    if (r.verdict.status === 'failed') lines.push(`  REGRESSION: ${r.verdict.explanation}`);
    return `${lines.join('\n')}\n`;
  }
  const s = r.stats!;
  lines.push(
    `${r.key}: ${r.format}, ${formatBytes(r.bytes)}${r.triangles !== null ? `, ${formatCount(r.triangles)} triangles` : ''}`,
  );
  lines.push(
    `  load   mean ${formatMs(s.mean)} ± ${formatMs(s.stddev)}, median ${formatMs(s.median)}, min ${formatMs(s.min)}, max ${formatMs(s.max)} (${s.n} runs${s.outliers.length ? `, ${s.outliers.length} outlier${s.outliers.length > 1 ? 's' : ''} left out` : ''})`,
  );
  const speed = [
    r.mbPerSec !== null ? `${r.mbPerSec.toFixed(r.mbPerSec < 10 ? 2 : 0)} MB/s` : null,
    r.trianglesPerSec !== null ? `${formatCount(Math.round(r.trianglesPerSec))} triangles/s` : null,
    r.peakMemoryBytes !== null ? `peak memory +${formatBytes(r.peakMemoryBytes)}` : null,
  ].filter(Boolean);
  lines.push(`  speed  ${speed.join(', ')}`);
  if (r.target) {
    const t = r.target;
    lines.push(
      `  target under ${t.timeLimitS} s and ${t.memoryLimitMb} MB (${t.sizeClass}): ${t.timeOk ? 'time ok' : 'TIME MISSED'}${t.memoryOk === null ? '' : t.memoryOk ? ', memory ok' : ', MEMORY MISSED'}${t.codes.length ? ` ${t.codes.join(' ')}` : ''}`,
    );
  }
  const b = r.baseline;
  const status = STATUS_TEXT[r.verdict.status] ?? r.verdict.status;
  lines.push(
    b
      ? `  base   ${formatMs(b.meanMs)} ± ${formatMs(b.stddevMs)} (${b.n} runs, ${b.savedAt.slice(0, 16).replace('T', ' ')}): ${status}: ${r.verdict.explanation}`
      : `  base   ${status}`,
  );
  return `${lines.join('\n')}\n`;
}

export function describeBench(
  report: BenchReport,
  saved: { saved: number; file: string | null } | null,
  app: (LoadTimeTrend & { files: string[] }) | null,
): string {
  const out: string[] = [];
  out.push(
    `Benchmark of ${report.files.length} file${report.files.length === 1 ? '' : 's'}: ${report.warmup} warm-up + ${report.runs} timed run${report.runs === 1 ? '' : 's'} each; load time = read + parse in the loader process`,
  );
  out.push(
    `Regression: mean over ${report.thresholdPercent} % of the baseline AND significant (${SIGNIFICANCE_TEST}); baseline: ${report.baselineSource ?? 'none saved'}`,
  );
  out.push('');
  for (const r of report.files) out.push(describeFile(r));
  for (const s of report.skipped) out.push(`skipped: ${s}\n`);
  for (const n of report.notes) out.push(`note: ${n}\n`);
  if (app) {
    out.push(
      `Application timings (${app.files.join(', ')}): ${formatCount(app.n)} loads, mean ${app.mean.toFixed(2)} s, median ${app.median.toFixed(2)} s, p95 ${app.p95.toFixed(2)} s, max ${app.max.toFixed(2)} s; trend ${app.direction} (${app.slope >= 0 ? '+' : ''}${app.slope.toFixed(3)} s per load); ${app.over30s} over 30 s (PERF001)\n`,
    );
  }
  const regressions = report.files.filter(
    (r) => r.verdict.status === 'regression' || r.verdict.status === 'failed',
  );
  const summary = [
    `${report.regressions} regression${report.regressions === 1 ? '' : 's'}`,
    `${report.failures} failed to load`,
    `${report.targetsMissed} over the time target`,
    `${report.perf001} PERF001`,
  ];
  out.push(`Result: ${summary.join(', ')}${report.runId !== null ? ` (run #${report.runId} recorded)` : ''}`);
  for (const r of regressions)
    out.push(
      `  regression: ${r.key}: ${r.verdict.explanation}${r.verdict.p !== null ? ` (t = ${r.verdict.t?.toFixed(2)}, df = ${r.verdict.df?.toFixed(1)}, p = ${formatP(r.verdict.p)})` : ''}`,
    );
  if (saved)
    out.push(`Baseline saved for ${saved.saved} file(s)${saved.file ? `; exported to ${saved.file}` : ''}`);
  return `${out.join('\n')}\n`;
}
