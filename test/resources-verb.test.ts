// `cadence-ops resources` through the real bundle, on a temporary site with a real application process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { siteStateDbPath } from '../services/paths.js';
import { cliCommand } from '../services/self-exec.js';

let dir: string;
let site: string;
let env: NodeJS.ProcessEnv;
let app: ChildProcess | null = null;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-rverb-'));
  site = path.join(dir, 'site');
  mkdirSync(path.join(site, 'logs'), { recursive: true });
  writeFileSync(path.join(site, 'config.json'), '{}');
  // A pattern no other process on this machine has.
  writeFileSync(
    path.join(site, 'cadence-ops.json'),
    JSON.stringify({ app: { processPattern: `cc_verb_${process.pid}` } }),
  );
  env = { ...process.env, CADENCE_OPS_STATE_DIR: path.join(dir, 'state'), NO_COLOR: '1' };
});
afterEach(() => {
  app?.kill('SIGKILL');
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], opts: { interruptWhen?: (stdout: string) => boolean } = {}) {
  const { command, args: full } = cliCommand(args);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, full, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!interrupted && opts.interruptWhen?.(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function startApp(): number {
  app = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', `cc_verb_${process.pid}`], {
    stdio: 'ignore',
  });
  writeFileSync(path.join(site, 'candy_cadence.pid'), `${app.pid}\n`);
  return app.pid!;
}

describe('cadence-ops resources', () => {
  it('--json prints the snapshot, levels, thresholds and the application, and records history', async () => {
    const pid = startApp();
    const r = await run(['resources', '--root', site, '--json', '--sample-ms', '200']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.snapshot.cpu.percent).toBeGreaterThanOrEqual(0);
    expect(doc.snapshot.cpu.cores).toHaveLength(os.cpus().length);
    expect(doc.snapshot.memory.totalBytes).toBeGreaterThan(0);
    expect(doc.snapshot.filesystems.some((f: { marks: string[] }) => f.marks.includes('site'))).toBe(true);
    expect(doc.snapshot.app).toMatchObject({ running: true, pid, via: 'pid file' });
    expect(doc.levels['cpu:total:pct']).toMatchObject({ unit: 'pct' });
    expect(['ok', 'warning', 'critical']).toContain(doc.levels['mem:used:pct'].level);
    expect(doc.thresholds.cpuPercent).toEqual({ warning: 80, critical: 95 });
    expect(doc.thresholds.appRssMb).toEqual({ warning: 1200, critical: 1500 });
    expect(doc.leak.summary).toMatch(/leak check needs 10 readings/);
    expect(doc.recorded).toBe(true);
    const db = new Database(siteStateDbPath(site, env), { readonly: true });
    const names = db.prepare('SELECT name FROM resource_metrics').all() as { name: string }[];
    db.close();
    expect(names.map((n) => n.name)).toEqual(
      expect.arrayContaining(['cpu:total:pct', 'mem:used:pct', 'app:rss:mb', 'app:up:up']),
    );
  });

  it('human output; a stale pid file is named and the application reported not running', async () => {
    writeFileSync(path.join(site, 'candy_cadence.pid'), '999999\n');
    const r = await run(['resources', '--root', site, '--sample-ms', '100', '--no-record']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CPU +\d+\.\d %/m);
    expect(r.stdout).toMatch(/^memory +\d+\.\d %/m);
    expect(r.stdout).toContain('application  not running (never seen on this site)');
    expect(r.stdout).toContain('stale pid file: pid file names 999999, which is not running');
    expect(r.stdout).toMatch(/^ {2}\/\S* .*site/m);
  });

  it('--watch prints one JSON line per interval until interrupted', async () => {
    startApp();
    const r = await run(
      ['resources', '--root', site, '--json', '--watch', '0.3', '--sample-ms', '100', '--no-record'],
      // Interrupted once three snapshots are out, however slow the machine is to start the process.
      { interruptWhen: (out) => out.split('\n').length > 3 },
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const docs = lines.map((l) => JSON.parse(l));
    expect(docs.every((d) => d.snapshot.app.running)).toBe(true);
    expect(docs[1].snapshot.at).toBeGreaterThan(docs[0].snapshot.at);
  });

  it('rejects bad flags with exit 2 and a clear message', async () => {
    const r = await run(['resources', '--root', site, '--watch', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--watch: expected a number of seconds between 0.25 and 3600');
    const bad = await run(['resources', '--root', site, '--frobnicate']);
    expect(bad.code).toBe(2);
  });
});
