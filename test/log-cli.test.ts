import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { groupingAccuracy } from '../services/log-clusters.js';
import { cliEntryPath } from '../services/self-exec.js';

const exec = promisify(execFile);
const cli = cliEntryPath();
const work = mkdtempSync(path.join(os.tmpdir(), 'cadence-logs-cli-'));
const env = { ...process.env, CADENCE_OPS_STATE_DIR: path.join(work, 'state'), NO_COLOR: '1' };
const fixtures = path.resolve(import.meta.dirname, '../fixtures/logs');
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { env, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function makeSite(name: string): string {
  const root = path.join(work, name);
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'config.json'), '{}');
  cpSync(path.join(fixtures, 'site'), path.join(root, 'logs'), { recursive: true });
  rmSync(path.join(root, 'logs/EXPECTED.json'));
  return root;
}

describe('cadence-ops logs (the built binary)', () => {
  it('analyze --json over a site: exit 1 when an alert condition holds, the report in JSON', async () => {
    const root = makeSite('a');
    const expected = JSON.parse(readFileSync(path.join(fixtures, 'site/EXPECTED.json'), 'utf8'));
    const now = new Date(expected.burstHour + 3_599_000).toISOString();
    const r = await run(['logs', 'analyze', '--root', root, '--json', '--now', now]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.totals.records).toBe(expected.records);
    expect(report.alerts.map((a: { key: string }) => a.key)).toContain('error-rate');
    // a quiet moment: exit 0
    const later = new Date(expected.end + 20 * 3_600_000).toISOString();
    expect((await run(['logs', 'analyze', '--root', root, '--now', later])).code).toBe(0);
  });

  it('analyze prints a human report with the timeline and clusters', async () => {
    const root = makeSite('b');
    const r = await run([
      'logs',
      'analyze',
      '--root',
      root,
      '--since',
      '2026-11-23T00:00:00',
      '--now',
      '2026-11-23T10:00:00',
    ]);
    expect(r.stdout).toMatch(/Error rate: \d+ errors in the last hour \(threshold 50\/h\)/);
    expect(r.stdout).toMatch(/PAR001 Invalid file header: <\*>/);
    expect(r.stdout).toMatch(/Critical exceptions:\n( {2}\w+: \d+.*\n)* {2}MemoryError: \d+/);
    expect(r.stdout).toMatch(/2026-11-23 08:00 +\d+ +\d+ +6\d!/);
  });

  it('--assignments gives one line per record; accuracy ≥ 0.95 on the generator’s labelled log', async () => {
    const file = path.join(fixtures, 'accuracy/candy-generated.log');
    const labels = readFileSync(path.join(fixtures, 'accuracy/candy-generated.labels'), 'utf8')
      .trim()
      .split('\n');
    const out = path.join(work, 'assign.jsonl');
    const res = await run(['logs', 'analyze', file, '--assignments', out, '--json']);
    expect(res.code).toBeLessThan(2);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.length).toBe(labels.length);
    expect(rows.map((x) => x.record)).toEqual(rows.map((_, i) => i));
    expect(
      groupingAccuracy(
        labels,
        rows.map((x) => x.cluster),
      ),
    ).toBeGreaterThanOrEqual(0.95);
  });

  it('--format raw with --assignments on another program’s hand-labelled log', async () => {
    const tsv = readFileSync(path.join(fixtures, 'accuracy/mixed-handlabelled.tsv'), 'utf8')
      .trim()
      .split('\n');
    const file = path.join(work, 'mixed.log');
    writeFileSync(file, `${tsv.map((l) => l.slice(l.indexOf('\t') + 1)).join('\n')}\n`);
    const out = path.join(work, 'mixed.jsonl');
    const res = await run(['logs', 'analyze', file, '--format', 'raw', '--assignments', out]);
    expect(res.code).toBeLessThan(2);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.length).toBe(tsv.length);
    expect(
      groupingAccuracy(
        tsv.map((l) => l.split('\t')[0]!),
        rows.map((x) => x.cluster),
      ),
    ).toBeGreaterThanOrEqual(0.95);
  });

  it('analyze on a site raises the log alerts in the console state, and clears them when the condition is gone', async () => {
    const root = path.join(work, 'alerts-site');
    mkdirSync(path.join(root, 'logs'), { recursive: true });
    writeFileSync(path.join(root, 'config.json'), '{}');
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const stamp = (ms: number) => {
      const d = new Date(ms);
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
    };
    const now = Date.now();
    const lines = Array.from(
      { length: 60 },
      (_, i) =>
        `${stamp(now - 50 * 60_000 + i * 30_000)} - candy_cadence.db - ERROR - DB002 SQLITE_CORRUPT on page ${i}`,
    );
    writeFileSync(path.join(root, 'logs/candy_cadence.log'), `${lines.join('\n')}\n`);
    const r1 = await run(['logs', 'analyze', '--root', root]);
    expect(r1.code).toBe(1);
    const { openStateDb } = await import('../services/state-db.js');
    const { AlertService } = await import('../services/alerts.js');
    const { siteStateDbPath } = await import('../services/paths.js');
    const active = () => {
      const db = openStateDb(siteStateDbPath(root, env));
      try {
        return new AlertService(db, { cooldownSeconds: 0 })
          .active({ source: 'logs' })
          .map((a) => a.key)
          .sort();
      } finally {
        db.close();
      }
    };
    expect(active()).toContain('error-rate');
    expect(active()).toContain('frequent:DatabaseError:DB002 SQLITE_CORRUPT on page <*>');
    writeFileSync(
      path.join(root, 'logs/candy_cadence.log'),
      `${stamp(now)} - candy_cadence.main - INFO - all quiet\n`,
    );
    const r2 = await run(['logs', 'analyze', '--root', root]);
    expect(r2.code).toBe(0);
    expect(active()).toEqual([]);
  });

  it('usage errors exit 2 with a clear message', async () => {
    const r1 = await run(['logs', 'analyze', path.join(work, 'nope.log')]);
    expect([r1.code, r1.stderr]).toEqual([2, expect.stringMatching(/no such file: .*nope\.log/)]);
    const r2 = await run([
      'logs',
      'analyze',
      path.join(fixtures, 'site/error.log'),
      '--line-format',
      '(?<lvl>x)',
    ]);
    expect([r2.code, r2.stderr]).toEqual([2, expect.stringMatching(/needs a named group \(\?<message>/)]);
    const r3 = await run(['logs', 'frobnicate', '--root', work]);
    expect([r3.code, r3.stderr]).toEqual([2, expect.stringMatching(/unknown subcommand "frobnicate"/)]);
    const r4 = await run([
      'logs',
      'analyze',
      '--since',
      'yesterday-ish',
      path.join(fixtures, 'site/error.log'),
    ]);
    expect([r4.code, r4.stderr]).toEqual([2, expect.stringMatching(/--since: expected a duration/)]);
  });

  it('tail --json: each appended record arrives with its receive time, across a rotation', async () => {
    const root = makeSite('t');
    const logs = path.join(root, 'logs');
    const child: ChildProcess = spawn(
      process.execPath,
      [cli, 'logs', 'tail', '--root', root, '--json', '--level', 'WARNING'],
      { env },
    );
    const got: Array<Record<string, unknown>> = [];
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        got.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    });
    await new Promise<void>((resolve) =>
      child.stderr!.on('data', (d) => String(d).includes('ready') && resolve()),
    );
    const main = path.join(logs, 'candy_cadence.log');
    appendFileSync(main, '2026-11-23 10:00:00,000 - t - INFO - hidden by --level\n');
    appendFileSync(
      main,
      '2026-11-23 10:00:01,000 - t - ERROR - first\nTraceback (most recent call last):\nValueError: v\n',
    );
    await new Promise((r) => setTimeout(r, 300));
    cpSync(main, `${main}.1`);
    rmSync(main);
    appendFileSync(main, '2026-11-23 10:00:02,000 - t - WARNING - second\n');
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(got.map((g) => g.message)).toEqual(['first', 'second']);
    expect(got[0]!.continuation).toEqual(['Traceback (most recent call last):', 'ValueError: v']);
    expect(got[0]!.exception).toBe('ValueError');
    expect(typeof got[0]!.receivedAt).toBe('number');
    expect(Math.abs((got[0]!.receivedAt as number) - Date.now())).toBeLessThan(10_000);
  });

  it('rotate --dry-run changes nothing; rotate gzips files over the limit and deletes old compressed logs', async () => {
    const root = makeSite('r');
    const logs = path.join(root, 'logs');
    writeFileSync(
      path.join(root, 'cadence-ops.json'),
      JSON.stringify({ logs: { rotateMb: 0.04, compressedRetentionDays: 30 } }),
    );
    const old = path.join(logs, 'database.20201001.log.gz');
    cpSync(path.join(logs, 'error.20261122.log.gz'), old);
    const before = readdirSync(logs).sort();
    const mainBytes = readFileSync(path.join(logs, 'candy_cadence.log'));
    const dry = await run(['logs', 'rotate', '--root', root, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /would rotate candy_cadence\.log \(0\.1 MB\) to candy_cadence_\d{8}_\d{6}\.log\.gz/,
    );
    expect(dry.stdout).toMatch(/would delete database\.20201001\.log\.gz/);
    expect(readdirSync(logs).sort()).toEqual(before);
    const ro = await run(['logs', 'rotate', '--root', root, '--read-only']);
    expect(ro.code).toBe(2);
    const real = await run(['logs', 'rotate', '--root', root, '--json']);
    expect(real.code).toBe(0);
    const result = JSON.parse(real.stdout);
    const rotated = result.actions.find((a: { file: string }) => a.file === 'candy_cadence.log');
    expect(rotated.done).toBe(true);
    expect(existsSync(path.join(logs, 'candy_cadence.log'))).toBe(false);
    expect(gunzipSync(readFileSync(path.join(logs, rotated.to))).equals(mainBytes)).toBe(true);
    expect(existsSync(old)).toBe(false);
    expect(readdirSync(logs).some((n) => n.endsWith('.tmp') || n.includes('.tmp-'))).toBe(false);
    expect(statSync(path.join(logs, 'plugins.log')).size).toBeGreaterThan(0); // under the limit: untouched
  });
});
