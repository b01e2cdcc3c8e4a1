// Health check "performance": the application's recent model loads (`model_loaded ... load_time:`
// in performance.log, read by perf-log.ts) against the SITE.md targets (under 5 s for files under
// 100 MB, 15 s up to 500 MB, 30 s above; PERF001 over 30 s), their trend, and the last benchmark
// run's regressions and failures (bench history in the state database, bench-baseline.ts).
import { listRuns } from './bench-baseline.js';
import { checkTargets } from './bench-run.js';
import {
  type CheckContext,
  type CheckOutcome,
  type HealthState,
  outcome,
  worstState,
} from './health-types.js';
import { loadTimeTrend, readAppLoads } from './perf-log.js';

const DAY = 86_400_000;
const MB = 1024 * 1024;

/** Share of loads over their size class's target beyond which the check warns / is critical. */
export const OVER_TARGET_SHARE = { warning: 0.1, critical: 0.25 };

export function checkPerformance(ctx: CheckContext): CheckOutcome {
  const findings: string[] = [];
  const states: HealthState[] = [];
  const data: Record<string, unknown> = {};
  const { loads: all, errors } = readAppLoads(ctx.paths.logs, { limit: 5000 });
  for (const e of errors) findings.push(`performance log unreadable: ${e}`);
  const recent = all
    .filter((l) => l.time !== null && l.time >= ctx.now - DAY && l.time <= ctx.now + 60_000)
    .slice(-200);
  let judged = false;
  let benchBad = false;
  let loadsLevel: HealthState = 'ok';
  if (recent.length) {
    judged = true;
    let over = 0;
    let perf001 = 0;
    for (const l of recent) {
      // Size unknown: only the 30 s ceiling applies.
      const target = l.sizeMb === null ? null : checkTargets(l.sizeMb * MB, l.loadTime * 1000, null);
      if (target ? !target.timeOk : l.loadTime > 30) over++;
      if (l.loadTime > 30) perf001++;
    }
    const trend = loadTimeTrend(recent, ctx.config.thresholds.trendSlope);
    const share = over / recent.length;
    data.loads = {
      n: recent.length,
      overTarget: over,
      perf001,
      mean: trend?.mean ?? null,
      p95: trend?.p95 ?? null,
      max: trend?.max ?? null,
      direction: trend?.direction ?? null,
    };
    const level: HealthState =
      share > OVER_TARGET_SHARE.critical
        ? 'critical'
        : share > OVER_TARGET_SHARE.warning || perf001 > 0
          ? 'warning'
          : 'ok';
    states.push(level);
    loadsLevel = level;
    findings.push(
      `${over} of ${recent.length} loads in the last 24 h over their target (${(share * 100).toFixed(0)} %)` +
        (perf001 ? `, ${perf001} over 30 s (PERF001)` : '') +
        (trend ? `; mean ${trend.mean.toFixed(2)} s, p95 ${trend.p95.toFixed(2)} s, ${trend.direction}` : ''),
    );
  } else findings.push('no model_loaded records in performance.log in the last 24 h');

  if (ctx.stateDb) {
    const [last] = listRuns(ctx.stateDb, 1);
    if (last) {
      judged = true;
      const ageDays = (ctx.now - Date.parse(last.finishedAt)) / DAY;
      data.lastBenchmark = {
        id: last.id,
        finishedAt: last.finishedAt,
        files: last.files,
        regressions: last.regressions,
        failures: last.failures,
      };
      if (last.regressions || last.failures) {
        benchBad = true;
        states.push('warning');
        findings.push(
          `last benchmark (${ageDays.toFixed(0)} days ago): ${last.regressions} regression(s), ${last.failures} failure(s) of ${last.files} files`,
        );
      } else
        findings.push(
          `last benchmark (${ageDays.toFixed(0)} days ago): no regression in ${last.files} files`,
        );
      if (ageDays > 35)
        findings.push('the monthly benchmark is overdue (cadence-ops maintain monthly runs it)');
    } else findings.push('no benchmark recorded yet');
  }
  if (!judged)
    return outcome(
      'unknown',
      'no load timings: no model_loaded records in the last 24 h and no benchmark run',
      'run a benchmark (cadence-ops bench, or maintain monthly) to have a reference',
      findings,
      data,
    );
  const state = worstState(states);
  const worst =
    loadsLevel === 'ok' && benchBad ? findings.find((f) => f.startsWith('last benchmark'))! : findings[0]!;
  return outcome(
    state,
    state === 'ok' ? findings.join('; ') : worst,
    loadsLevel === 'ok' && benchBad
      ? 'compare with the baseline on the Bench screen (6): which files got slower, since which change'
      : 'find the slow files in performance.log (Logs screen, 3, search model_loaded); large or complex models may need simplifying',
    findings,
    data,
  );
}
