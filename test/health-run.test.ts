// The health runner (verdict, the monitoring-plugin line, a check that throws, alerts, the record)
// and `cadence-ops health` end to end: the exit codes 0/1/2/3 and --json, on a temporary site.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertService } from '../services/alerts.js';
import { defaultConfig } from '../services/config.js';
import {
  applyHealthAlerts,
  CHECKS,
  healthHistory,
  latestHealthReport,
  recordHealthReport,
  runHealthChecks,
  summaryLine,
} from '../services/health-run.js';
import { CHECK_IDS, type CheckResult, worstState } from '../services/health-types.js';
import { sitePaths } from '../services/site.js';
import { openStateDb } from '../services/state-db.js';
import { runCli } from './helpers/cli.js';
import { makeTempSite, type TempSite } from './helpers/temp-site.js';

let site: TempSite;
beforeAll(async () => {
  site = await makeTempSite({ models: 30, thumbnails: 1, logHistoryHours: 1 });
});
afterAll(() => site.cleanup());

const check = (
  id: CheckResult['id'],
  state: CheckResult['state'],
  message = `${id} says ${state}`,
): CheckResult => ({
  id,
  name: id,
  state,
  message,
  recommendation: state === 'ok' ? null : `fix ${id}`,
  durationMs: 1,
  findings: [],
  data: {},
});

describe('verdict and summary', () => {
  it('critical > warning > unknown > ok', () => {
    expect(worstState(['ok', 'unknown'])).toBe('unknown');
    expect(worstState(['unknown', 'warning', 'ok'])).toBe('warning');
    expect(worstState(['warning', 'critical', 'unknown'])).toBe('critical');
    expect(worstState([])).toBe('ok');
  });
  it('one line first, worst checks first, perfdata after a bar (and no bar inside the text)', () => {
    const line = summaryLine(
      'critical',
      [check('logs', 'warning', 'a | b'), check('database', 'critical'), check('application', 'ok')],
      123,
    );
    expect(line).toMatch(
      /^CADENCE HEALTH CRITICAL - 1 critical, 1 warning of 3 checks: database: database says critical; logs: a \/ b \| /,
    );
    expect(line.split('|')).toHaveLength(2);
    expect(line).toMatch(/checks=3 ok=1 warning=1 critical=1 unknown=0 time=0\.123s$/);
    expect(summaryLine('ok', [check('logs', 'ok')], 5)).toMatch(/^CADENCE HEALTH OK - all 1 checks ok \|/);
  });
});

describe('runner', () => {
  it('runs every check on a real site; a check that throws is unknown, the rest still run', async () => {
    const config = defaultConfig();
    const db = openStateDb(':memory:');
    const original = CHECKS.configuration;
    CHECKS.configuration = () => {
      throw new Error('boom in the check');
    };
    try {
      const report = await runHealthChecks({ paths: sitePaths(site.root, config), config, stateDb: db });
      expect(report.checks.map((c) => c.id)).toEqual([...CHECK_IDS]);
      const broken = report.checks.find((c) => c.id === 'configuration')!;
      expect(broken.state).toBe('unknown');
      expect(broken.message).toMatch(/the check failed: boom in the check/);
      expect(report.checks.find((c) => c.id === 'database')!.state).toBe('ok');
      expect(report.summary.startsWith(`CADENCE HEALTH ${report.verdict.toUpperCase()} - `)).toBe(true);
      for (const c of report.checks) expect(c.durationMs).toBeGreaterThanOrEqual(0);
    } finally {
      CHECKS.configuration = original;
      db.close();
    }
  });

  it('raises an alert per failing check, clears it when it passes, leaves it on unknown; records reports', () => {
    const db = openStateDb(':memory:');
    const alerts = new AlertService(db, { cooldownSeconds: 0 });
    const report = (states: Array<[CheckResult['id'], CheckResult['state']]>, at: number) => ({
      at,
      verdict: worstState(states.map((s) => s[1])),
      summary: '',
      checks: states.map(([id, s]) => check(id, s)),
      durationMs: 1,
    });
    const first = report(
      [
        ['logs', 'warning'],
        ['backups', 'critical'],
        ['database', 'ok'],
      ],
      1000,
    );
    applyHealthAlerts(alerts, first);
    recordHealthReport(db, first);
    expect(
      alerts
        .active({ source: 'health' })
        .map((a) => `${a.key}:${a.severity}`)
        .sort(),
    ).toEqual(['backups:critical', 'logs:warning']);
    expect(alerts.find('health', 'logs')!.details).toMatchObject({ recommendation: 'fix logs' });
    const second = report(
      [
        ['logs', 'ok'],
        ['backups', 'unknown'],
      ],
      2000,
    );
    applyHealthAlerts(alerts, second);
    recordHealthReport(db, second);
    expect(alerts.active({ source: 'health' }).map((a) => a.key)).toEqual(['backups']);
    expect(latestHealthReport(db)!.at).toBe(2000);
    expect(healthHistory(db).map((h) => h.verdict)).toEqual(['critical', 'unknown']);
    db.close();
  });
});

describe('cadence-ops health', () => {
  const run = (...args: string[]) => runCli(['health', '--root', site.root, ...args], { env: site.env });
  const cfg = () => path.join(site.root, 'config.json');

  it('exit 0 when ok, 1 on a warning, 2 on critical, with the summary line first', async () => {
    const ok = await run('--only', 'configuration,dependencies');
    expect(ok.stdout.split('\n')[0]).toMatch(/^CADENCE HEALTH OK - all 2 checks ok \| checks=2/);
    expect(ok.code).toBe(0);

    const saved = readFileSync(cfg(), 'utf8');
    try {
      const value = JSON.parse(saved);
      delete value.models;
      writeFileSync(cfg(), JSON.stringify(value));
      const warn = await run('--only', 'configuration');
      expect(warn.stdout.split('\n')[0]).toMatch(
        /^CADENCE HEALTH WARNING - 1 warning of 1 checks: configuration: config.json lacks "models"/,
      );
      expect(warn.stdout).toMatch(/→ add the missing keys/);
      expect(warn.code).toBe(1);

      writeFileSync(cfg(), '{not json');
      const crit = await run('--only', 'configuration', '--json');
      expect(crit.code).toBe(2);
      const doc = JSON.parse(crit.stdout);
      expect(doc.verdict).toBe('critical');
      expect(doc.exitCode).toBe(2);
      expect(doc.checks[0].message).toMatch(/not valid JSON/);
    } finally {
      writeFileSync(cfg(), saved);
    }
  });

  it('exit 3 when unknown: a check that cannot judge, no site, a bad --only', async () => {
    // No performance log at all (live, rotated, gzipped): set aside, put back after.
    const logs = path.join(site.root, 'logs');
    const aside = path.join(site.home, 'perf-aside');
    mkdirSync(aside, { recursive: true });
    const moved = readdirSync(logs).filter((f) => f.startsWith('performance'));
    for (const f of moved) renameSync(path.join(logs, f), path.join(aside, f));
    try {
      const unknown = await run('--only', 'performance');
      expect(unknown.stdout).toMatch(
        /^CADENCE HEALTH UNKNOWN - 1 unknown of 1 checks: performance: no load timings/,
      );
      expect(unknown.code).toBe(3);
    } finally {
      for (const f of moved) renameSync(path.join(aside, f), path.join(logs, f));
    }
    const nosite = await runCli(['health', '--root', path.join(site.home, 'nowhere')], { env: site.env });
    expect(nosite.code).toBe(3);
    expect(nosite.stdout).toMatch(/^CADENCE HEALTH UNKNOWN - --root .*nowhere: no such folder/);
    const bad = await run('--only', 'nonsense');
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/unknown check nonsense/);
  });

  it('records the run and raises health alerts unless --no-record', async () => {
    const full = await run('--json');
    const doc = JSON.parse(full.stdout);
    expect([0, 1, 2, 3]).toContain(full.code);
    expect(doc.checks).toHaveLength(9);
    const stateDir = path.join(site.home, 'state');
    const { siteStateDbPath } = await import('../services/paths.js');
    const db = openStateDb(siteStateDbPath(site.root, { CADENCE_OPS_STATE_DIR: stateDir }));
    try {
      expect(latestHealthReport(db)!.at).toBe(doc.at);
      const failing = doc.checks.filter((c: CheckResult) => c.state === 'warning' || c.state === 'critical');
      const alerts = new AlertService(db, { cooldownSeconds: 0 }).active({ source: 'health' });
      expect(alerts.map((a) => a.key).sort()).toEqual(failing.map((c: CheckResult) => c.id).sort());
    } finally {
      db.close();
    }
    const again = await run('--json', '--no-record', '--only', 'dependencies');
    expect(JSON.parse(again.stdout).checks).toHaveLength(1);
  });
});
