import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, redactConfig } from '../services/config.js';
import { runCli } from './helpers/cli.js';
import { tempDir, testEnv } from './helpers/temp-site.js';

const dirs: string[] = [];
function siteWith(config: unknown | string): string {
  const dir = tempDir();
  dirs.push(dir);
  writeFileSync(
    path.join(dir, 'cadence-ops.json'),
    typeof config === 'string' ? config : JSON.stringify(config),
  );
  return dir;
}
afterAll(() => {
  for (const d of dirs) import('node:fs').then((fs) => fs.rmSync(d, { recursive: true, force: true }));
});

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('fills the defaults from the thresholds of the procedures', () => {
    const c = defaultConfig();
    expect(c.thresholds.cpuPercent.warning).toBe(80);
    expect(c.thresholds.memoryPercent).toEqual({ warning: 85, critical: 90 });
    expect(c.thresholds.appRssMb.critical).toBe(1500);
    expect(c.thresholds.leakRiseMbPerReading).toBe(5);
    expect(c.thresholds.errorsPerHour).toBe(50);
    expect(c.thresholds.slowQueryMs).toBe(1000);
    expect(c.thresholds.fragmentationPercent).toBe(30);
    expect(c.thresholds.benchRegressionPercent).toBe(110);
    expect(c.logs.rotateMb).toBe(100);
    expect(c.logs.keepRotated).toBe(10);
    expect(c.backups.retention).toEqual({
      databaseDays: 30,
      fullWeeks: 4,
      configurationWeeks: 12,
      userDataDays: 30,
      logsDays: 7,
      preRestoreDays: 30,
    });
    expect(c.metrics.listen).toBe('127.0.0.1:9464');
  });

  it('reads cadence-ops.json from the site root and merges it over the defaults', () => {
    const root = siteWith({ thresholds: { cpuPercent: { warning: 70 } }, app: { processPattern: 'candy' } });
    const { config, file } = loadConfig({ siteRoot: root, env: {} });
    expect(file).toBe(path.join(root, 'cadence-ops.json'));
    expect(config.thresholds.cpuPercent).toEqual({ warning: 70, critical: 95 });
    expect(config.app.processPattern).toBe('candy');
  });

  it('names the file, the key and a suggestion for a typo', () => {
    const root = siteWith({ thresholds: { cpuPercent: { warnig: 70 } } });
    const err = errorOf(() => loadConfig({ siteRoot: root, env: {} }));
    expect(err.source).toBe(path.join(root, 'cadence-ops.json'));
    expect(err.key).toBe('thresholds.cpuPercent.warnig');
    expect(err.message).toContain('did you mean "warning"');
  });

  it('names the key and the expected type for a wrong type', () => {
    const root = siteWith({ sampling: { intervalMs: 'fast' } });
    const err = errorOf(() => loadConfig({ siteRoot: root, env: {} }));
    expect(err.key).toBe('sampling.intervalMs');
    expect(err.message).toContain('expected number, got string');
  });

  it('reports invalid JSON and a missing --config file', () => {
    const root = siteWith('{ "logs": ');
    expect(errorOf(() => loadConfig({ siteRoot: root, env: {} })).message).toContain('not valid JSON');
    expect(
      errorOf(() => loadConfig({ siteRoot: root, file: path.join(root, 'nope.json'), env: {} })).message,
    ).toContain('file not found');
  });

  it('applies CADENCE_OPS__section__key overrides and validates them, naming the variable', () => {
    const root = siteWith({});
    const { config, envOverrides } = loadConfig({
      siteRoot: root,
      env: { CADENCE_OPS__thresholds__errorsPerHour: '10' },
    });
    expect(config.thresholds.errorsPerHour).toBe(10);
    expect(envOverrides).toEqual(['CADENCE_OPS__thresholds__errorsPerHour']);
    const err = errorOf(() => loadConfig({ siteRoot: root, env: { CADENCE_OPS__logs__format: 'xml' } }));
    expect(err.source).toBe('environment CADENCE_OPS__logs__format');
    expect(err.message).toContain('expected one of "auto", "python", "raw"');
  });

  it('redacts the webhook URL and headers', () => {
    const root = siteWith({
      alerts: {
        webhook: { url: 'https://hooks.example.com/T000/secret', headers: { Authorization: 'Bearer x' } },
      },
    });
    const redacted = JSON.stringify(redactConfig(loadConfig({ siteRoot: root, env: {} }).config));
    expect(redacted).not.toContain('secret');
    expect(redacted).not.toContain('Bearer');
    expect(redacted).toContain('<redacted>');
  });

  it('`cadence-ops config` exits 2 naming the file and key, and prints the redacted configuration when valid', async () => {
    const bad = siteWith({ backups: { retention: { fullWeek: 2 } } });
    const failed = await runCli(['config', '--root', bad], { env: testEnv(bad) });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(path.join(bad, 'cadence-ops.json'));
    expect(failed.stderr).toContain('backups.retention.fullWeek: unknown key (did you mean "fullWeeks"?)');

    const good = siteWith({ alerts: { webhook: { url: 'https://hooks.example.com/very-secret' } } });
    const ok = await runCli(['config', '--root', good, '--json'], { env: testEnv(good) });
    expect(ok.code).toBe(0);
    const printed = JSON.parse(ok.stdout);
    expect(printed.config.alerts.webhook.url).toBe('<redacted>');
    expect(printed.config.thresholds.cpuPercent.warning).toBe(80);
  });
});
