// Health check "database": the site database opens read-only, `PRAGMA quick_check` says ok (on
// databases up to health.quickCheckMaxMb; larger ones report the last integrity or quick check the
// console recorded, which the weekly maintenance runs), and `SELECT COUNT(*) FROM models` answers
// within the response targets (warning over thresholds.slowQueryMs, critical over
// thresholds.responseSeconds). Read-only: nothing here writes to the site database.
import { statSync } from 'node:fs';
import { type Db, DbError, openReadOnly } from './db-connection.js';
import { recentRuns } from './db-history.js';
import {
  type CheckContext,
  type CheckOutcome,
  formatHours,
  type HealthState,
  outcome,
  worstState,
} from './health-types.js';

const MB = 1024 * 1024;

export function checkDatabase(ctx: CheckContext): CheckOutcome {
  const file = ctx.paths.database;
  const t = ctx.config.thresholds;
  const findings: string[] = [];
  const data: Record<string, unknown> = { file };
  let db: Db;
  try {
    db = openReadOnly(file, { busyTimeoutMs: Math.min(1000, ctx.config.database.busyTimeoutMs) });
  } catch (err) {
    const e = err instanceof DbError ? err : new DbError('other', file, (err as Error).message);
    data.error = e.kind;
    if (e.kind === 'busy')
      return outcome(
        'warning',
        `database busy: ${e.message}`,
        'another process holds an exclusive lock (VACUUM, a restore?): see the Database screen (5) for who holds it',
        [e.message],
        data,
      );
    const what: Record<string, string> = {
      missing: 'restore the database from the newest verified backup (Backups screen, 4)',
      'not-a-database': 'the file is not a SQLite database: restore it from the newest verified backup',
      corrupt: 'the database is corrupt: stop the application and restore from the newest verified backup',
      permission: 'give the application user read and write access to the database file and its folder',
    };
    return outcome(
      'critical',
      `database cannot be opened: ${e.message}`,
      what[e.kind] ?? 'see the Database screen (5) for details',
      [e.message],
      data,
    );
  }
  const states: HealthState[] = [];
  try {
    const bytes = statSync(file).size;
    data.bytes = bytes;
    const pageCount = Number(db.pragma('page_count', { simple: true }));
    const freePages = Number(db.pragma('freelist_count', { simple: true }));
    data.fragmentationPercent = pageCount ? (freePages / pageCount) * 100 : 0;
    data.journalMode = String(db.pragma('journal_mode', { simple: true }));

    // Integrity: quick_check on a database small enough, else the last recorded check.
    if (bytes <= ctx.config.health.quickCheckMaxMb * MB) {
      const started = performance.now();
      const rows = db.pragma('quick_check(20)') as Array<{ quick_check: string }>;
      const ms = performance.now() - started;
      const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
      data.quickCheck = { ok: problems.length === 0, ms, problems };
      if (problems.length) {
        states.push('critical');
        findings.push(
          `quick_check: ${problems.length}${problems.length >= 20 ? '+' : ''} problem(s): ${problems[0]}`,
        );
      } else findings.push(`quick_check ok in ${ms.toFixed(0)} ms`);
    } else {
      const last = ctx.stateDb
        ? [
            ...recentRuns(ctx.stateDb, file, { kind: 'integrity', limit: 1 }),
            ...recentRuns(ctx.stateDb, file, { kind: 'quick', limit: 1 }),
          ]
            .filter((r) => r.outcome === 'ok' || r.outcome === 'problems')
            .sort((a, b) => b.startedAt - a.startedAt)[0]
        : undefined;
      data.quickCheck = { skipped: true, limitMb: ctx.config.health.quickCheckMaxMb };
      const size = `${(bytes / MB).toFixed(0)} MB`;
      if (!last) {
        states.push('warning');
        findings.push(`quick_check skipped (${size} > health.quickCheckMaxMb) and no check recorded yet`);
      } else {
        const ageH = (ctx.now - last.startedAt) / 3_600_000;
        data.lastCheck = { kind: last.kind, outcome: last.outcome, at: last.startedAt };
        if (last.outcome === 'problems') {
          states.push('critical');
          findings.push(`last ${last.kind} check (${formatHours(ageH)} ago) found problems: ${last.summary}`);
        } else if (ageH > 8 * 24) {
          states.push('warning');
          findings.push(
            `quick_check skipped (${size}); last ${last.kind} check ok but ${formatHours(ageH)} ago`,
          );
        } else
          findings.push(`quick_check skipped (${size}); last ${last.kind} check ok ${formatHours(ageH)} ago`);
      }
    }

    // Response: the time of a COUNT(*) over models.
    try {
      const started = performance.now();
      const row = db.prepare('SELECT COUNT(*) AS n FROM models').get() as { n: number };
      const ms = performance.now() - started;
      data.models = row.n;
      data.countMs = ms;
      const level: HealthState =
        ms >= t.responseSeconds * 1000 ? 'critical' : ms >= t.slowQueryMs ? 'warning' : 'ok';
      states.push(level);
      findings.push(`SELECT COUNT(*) FROM models: ${row.n} rows in ${ms.toFixed(1)} ms`);
    } catch (err) {
      states.push('critical');
      findings.push(`SELECT COUNT(*) FROM models failed: ${(err as Error).message}`);
    }
  } catch (err) {
    states.push('critical');
    findings.push((err as Error).message);
  } finally {
    db.close();
  }
  const state = worstState(states);
  const countText =
    typeof data.countMs === 'number' ? `, count ${(data.countMs as number).toFixed(0)} ms` : '';
  const message =
    state === 'ok'
      ? `database ok: ${data.models} models${countText}`
      : `database: ${findings.find((f) => /problem|failed|skipped|no such|ago/.test(f)) ?? findings[0]}`;
  const recommendation = findings.some((f) => /problem/.test(f))
    ? 'run a full integrity check (cadence-ops db check integrity); if it fails, restore from the newest verified backup'
    : findings.some((f) => /failed/.test(f))
      ? 'the models table is missing or unreadable: check the schema (Database screen, 5) or restore from backup'
      : findings.some((f) => /skipped/.test(f))
        ? 'run cadence-ops db check integrity (the weekly maintenance does)'
        : 'the database answers slowly: see slow queries on the Database screen (5); ANALYZE, VACUUM if fragmented';
  return outcome(state, message, recommendation, findings, data);
}
