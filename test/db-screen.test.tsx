import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rng, slowQueryMessage } from '../services/demo-log-lines.js';
import { makeSiteDb } from './helpers/db-fixtures.js';
import { HOLD_DATABASE, startHolder } from './helpers/holder-process.js';
import { KEYS, type RenderedShell, renderShell, tick } from './helpers/shell.js';

const RIGHT = '\x1b[C';

let home: string;
let root: string;
let shell: RenderedShell | null = null;

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'cadence-db-screen-'));
  root = path.join(home, 'site');
  for (const d of ['data', 'logs', 'temp']) mkdirSync(path.join(root, d), { recursive: true });
  makeSiteDb(path.join(root, 'data'), 2000);
  const r = rng(5);
  const lines = Array.from(
    { length: 120 },
    (_, i) =>
      `2026-11-23 08:${String(i % 60).padStart(2, '0')}:00,000 - candy_cadence.database - WARNING - ${slowQueryMessage(r)}`,
  );
  writeFileSync(path.join(root, 'logs/database.log'), `${lines.join('\n')}\n`);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));
afterEach(async () => {
  await shell?.dispose();
  shell = null;
});

async function waitFor(text: string | RegExp, timeoutMs = 15_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const frame = shell!.lastFrame() ?? '';
    if (typeof text === 'string' ? frame.includes(text) : text.test(frame)) return frame;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out waiting for ${text}; last frame:\n${frame}`);
    await tick(50);
  }
}

describe('database screen', () => {
  it('shows the overview and the tables with exact rows and sizes', async () => {
    shell = renderShell({ root, initialScreen: 'database', columns: 100, rows: 30 });
    let frame = await waitFor('journal wal');
    expect(frame).toContain('Database: health and upkeep');
    expect(frame).toContain('write lock free');
    expect(frame).toMatch(/recommended index idx_models_file_size is missing/);
    frame = await waitFor(/models\s+table\s+2,000\s+\d/);
    expect(frame).toMatch(/metadata\s+table\s+10,000/);
    expect(frame).toContain('sort: bytes');
  });

  it('runs an integrity check with progress and shows the result; cancels another', async () => {
    shell = renderShell({ root, initialScreen: 'database', columns: 100, rows: 30 });
    await waitFor('journal wal');
    await shell.press('i');
    const frame = await waitFor(/integrity check: ok in \d/);
    expect(frame).toContain('integrity check: ok');
    await shell.dispose();
    // The application holds the database exclusively: the next check waits for the lock (busy
    // timeout, retries), so it is certainly running when x arrives.
    const locked = path.join(home, 'locked-site');
    for (const d of ['data', 'logs', 'temp']) mkdirSync(path.join(locked, d), { recursive: true });
    const lockedDb = makeSiteDb(path.join(locked, 'data'), 500);
    const holder = await startHolder(HOLD_DATABASE.replace("db.pragma('journal_mode = WAL');", ''), [
      lockedDb,
      'exclusive',
    ]);
    try {
      shell = renderShell({ root: locked, initialScreen: 'database', columns: 100, rows: 30 });
      // The overview itself says so, and stays up.
      await waitFor(/database is locked/);
      await tick(300);
      await shell.press('i');
      await waitFor('▶ integrity check');
      await shell.press('x');
      await waitFor(/integrity check: cancelled/);
    } finally {
      await holder.stop();
    }
    await shell.press(RIGHT, RIGHT);
    await waitFor('[History]');
    await waitFor(/integrity\s+cancelled/);
  });

  it('lists slow-query patterns and opens one with its plan and fix', async () => {
    shell = renderShell({ root, initialScreen: 'database', columns: 110, rows: 34 });
    await waitFor('journal wal');
    await shell.press(RIGHT);
    await waitFor('[Slow queries]');
    const list = await waitFor('SELECT * FROM models WHERE created_date >= ?');
    expect(list).toMatch(/full scan/);
    // Find the row of the created_date pattern and open it.
    const rows = list.split('\n').filter((l) => /^\s+\d+!?\s+\d/.test(l));
    const index = rows.findIndex((l) => l.includes('created_date >= ?'));
    expect(index).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < index; i++) await shell.press(KEYS.down);
    const detail = await shell.press(KEYS.enter);
    expect(detail).toContain('plan:');
    expect(detail).toContain('SCAN models');
    expect(detail).toContain('fix: CREATE INDEX idx_models_created_date ON models(created_date)');
    expect(detail).toContain('recommended by the procedures');
    expect(await shell.press(KEYS.escape)).toContain('count');
  });

  it('asks before VACUUM and does nothing when refused; read-only hides and refuses actions', async () => {
    shell = renderShell({ root, initialScreen: 'database', columns: 100, rows: 30 });
    await waitFor('journal wal');
    let frame = await shell.press('V');
    frame = await waitFor('Run VACUUM?');
    expect(frame).toContain('frees unused pages');
    expect(frame).toContain('quick_check runs first');
    await tick(300); // the dialog starts reading keys once it is mounted
    await shell.press('n');
    await waitFor('VACUUM: not run');
    await shell.dispose();
    shell = renderShell({ root, initialScreen: 'database', columns: 100, rows: 30, readOnly: true });
    frame = await waitFor('journal wal');
    expect(frame).not.toContain('V vacuum');
    frame = await shell.press('V');
    expect(frame).not.toContain('Run VACUUM?');
  });

  it('answers a read-only SQL question', async () => {
    shell = renderShell({ root, initialScreen: 'database', columns: 100, rows: 30 });
    await waitFor('journal wal');
    await shell.press('e');
    await waitFor('sql (read-only)>');
    await tick(300); // the prompt starts reading keys once it is mounted
    for (const ch of 'SELECT count(*) AS n FROM models') shell.stdin.write(ch);
    await waitFor('FROM models');
    await tick(100);
    await shell.press(KEYS.enter);
    const frame = await waitFor(/1 row\(s\)/);
    expect(frame).toContain('[SQL]');
    expect(frame).toMatch(/n\s*\n\s*2000/);
  });

  it('says plainly when the database is missing and stays usable', async () => {
    const empty = path.join(home, 'empty-site');
    mkdirSync(empty);
    shell = renderShell({ root: empty, initialScreen: 'database', columns: 100, rows: 30 });
    const frame = await waitFor('no such file');
    expect(frame).toContain('Database: health');
    expect(await shell.press(RIGHT)).toContain('[Slow queries]');
  });
});
