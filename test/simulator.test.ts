import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRecord, LOG_FILES, recordOf, rng } from '../services/demo-log-lines.js';
import { RotatingLog, runSimulator, type SimulatorStats } from '../services/simulator.js';
import { runCli } from './helpers/cli.js';
import { makeTempSite, type TempSite, tempDir } from './helpers/temp-site.js';

// SITE.md: `%(asctime)s - %(name)s - %(levelname)s - %(message)s` with a ,mmm suffix; lines that do
// not start with a timestamp continue the previous record (tracebacks).
const RECORD =
  /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) - ([\w.]+) - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - (.+)$/;
const CONTINUATION =
  /^(Traceback \(most recent call last\):| {2}File ".+", line \d+, in \w+| {4}.+|\w+(\.\w+)*Error: .+)$/;

function linesOf(logsDir: string, base: string): string[] {
  const files = readdirSync(logsDir).filter(
    (f) => f === base || (/^\d+$/.test(f.slice(base.length + 1)) && f.startsWith(`${base}.`)),
  );
  return files.flatMap((f) => readFileSync(path.join(logsDir, f), 'utf8').split('\n').filter(Boolean));
}

describe('simulated application', () => {
  let site: TempSite;
  let stats: SimulatorStats;
  let rowsBefore: number;

  beforeAll(async () => {
    site = await makeTempSite({ logHistoryHours: 0 });
    const logs = path.join(site.root, 'logs');
    // Start from empty live files so every line in them is the simulator's.
    for (const f of readdirSync(logs)) (await import('node:fs')).rmSync(path.join(logs, f));
    const db = new Database(path.join(site.root, 'data/candy_cadence.db'), { readonly: true });
    rowsBefore = (db.prepare('SELECT count(*) AS n FROM models').get() as { n: number }).n;
    db.close();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 2500);
    stats = await runSimulator({
      logsDir: logs,
      database: path.join(site.root, 'data/candy_cadence.db'),
      pidFile: path.join(site.root, 'candy_cadence.pid'),
      recordsPerSecond: 400,
      rotateBytes: 16 * 1024,
      keepRotated: 50,
      burstEverySeconds: 1,
      commitsPerSecond: 40,
      leakKbPerSecond: 0,
      seed: 42,
      signal: controller.signal,
    });
  });
  afterAll(() => site.cleanup());

  it('writes records in the Python logging format of SITE.md, tracebacks as continuation lines', () => {
    const lines = linesOf(path.join(site.root, 'logs'), 'candy_cadence.log');
    expect(lines.length).toBeGreaterThan(200);
    for (const line of lines) expect(RECORD.test(line) || CONTINUATION.test(line), line).toBe(true);
    const errors = linesOf(path.join(site.root, 'logs'), 'error.log');
    expect(errors.filter((l) => RECORD.test(l)).length).toBeGreaterThan(0);
    expect(errors.filter((l) => RECORD.test(l)).every((l) => / - (ERROR|CRITICAL) - /.test(l))).toBe(true);
    // Tracebacks: a record's continuation lines, as Python's logging writes exc_info.
    const traced = formatRecord(recordOf('parse-traceback', rng(1), Date.now())).split('\n');
    expect(RECORD.test(traced[0]!)).toBe(true);
    expect(traced[1]).toBe('Traceback (most recent call last):');
    for (const line of traced.slice(1)) expect(CONTINUATION.test(line), line).toBe(true);
  });

  it('writes the model_loaded and slow-query shapes the procedures parse', () => {
    const perf = linesOf(path.join(site.root, 'logs'), 'performance.log');
    expect(perf.some((l) => /model_loaded .*load_time:\d+\.\d+/.test(l))).toBe(true);
    const db = linesOf(path.join(site.root, 'logs'), 'database.log');
    expect(db.some((l) => /Slow query detected: .{1,100}\.\.\. Execution time: \d+ms$/.test(l))).toBe(true);
  });

  it('rotates like RotatingFileHandler without losing a line', () => {
    expect(stats.rotations).toBeGreaterThan(0);
    expect(existsSync(path.join(site.root, 'logs/candy_cadence.log.1'))).toBe(true);
    for (const f of LOG_FILES) {
      expect(linesOf(path.join(site.root, 'logs'), f).length, f).toBe(stats.lines[f]);
    }
  });

  it('commits to the database in WAL mode and removes its pid file when stopped', () => {
    const db = new Database(path.join(site.root, 'data/candy_cadence.db'), { readonly: true });
    const rows = (db.prepare('SELECT count(*) AS n FROM models').get() as { n: number }).n;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(stats.commits).toBeGreaterThan(20);
    expect(rows).toBeGreaterThan(rowsBefore);
    expect(existsSync(path.join(site.root, 'candy_cadence.pid'))).toBe(false);
  });

  it('the simulate verb writes a pid file and stops cleanly on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const { cliEntryPath } = await import('../services/self-exec.js');
    const child = spawn(process.execPath, [cliEntryPath(), 'simulate', '--root', site.root, '--rate', '50'], {
      env: site.env,
    });
    const pidFile = path.join(site.root, 'candy_cadence.pid');
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(child.pid));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });
});

describe('RotatingLog', () => {
  it('shifts .1 … .N and drops the oldest beyond the backup count', () => {
    const dir = tempDir();
    const file = path.join(dir, 'x.log');
    const log = new RotatingLog(file, 100, 3);
    for (let i = 0; i < 40; i++) log.write(`line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}\n`);
    log.close();
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['x.log', 'x.log.1', 'x.log.2', 'x.log.3']);
    const newest = readFileSync(file, 'utf8').trim().split('\n').at(-1);
    expect(newest).toContain('line 039');
    const first1 = readFileSync(`${file}.1`, 'utf8').split('\n')[0]!;
    const first3 = readFileSync(`${file}.3`, 'utf8').split('\n')[0]!;
    expect(first3 < first1).toBe(true);
  });
});

describe('simulate verb', () => {
  it('refuses to run without a site', async () => {
    const home = tempDir();
    const r = await runCli(['simulate'], {
      cwd: home,
      env: { ...process.env, CADENCE_OPS_STATE_DIR: home, CANDY_CADENCE_ROOT: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no Candy-Cadence site here');
  });
});
