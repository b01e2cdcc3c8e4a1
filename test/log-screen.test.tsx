import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveLogs } from '../services/log-live.js';
import type { TailRecord } from '../services/log-tail.js';
import { KEYS, type RenderedShell, renderShell, tick } from './helpers/shell.js';
import { tempDir } from './helpers/temp-site.js';

let shell: RenderedShell | null = null;
afterEach(async () => {
  await shell?.dispose();
  shell = null;
});

let seq = 0;
function rec(level: TailRecord['level'], message: string, extra: Partial<TailRecord> = {}): TailRecord {
  seq++;
  return {
    seq,
    file: 'candy_cadence.log',
    receivedAt: Date.now(),
    time: Date.now() - 1000 + seq,
    level,
    logger: 'candy_cadence.test',
    message,
    continuation: [],
    code: /\b(ERR|DB|PAR|PERF)\d{3}\b/.exec(message)?.[0] ?? null,
    exception: null,
    ...extra,
  };
}

/** The shell with the Logs screen fed by hand (no files followed, no history scan). */
async function fedShell(rows = 30, columns = 100): Promise<{ shell: RenderedShell; live: LiveLogs }> {
  const s = renderShell({ rows, columns });
  const live = s.context.services.get(
    'logs-live',
    () => {
      const l = new LiveLogs({
        logsDir: path.join(s.context.site.paths.root, 'logs'),
        config: s.context.config,
        follow: false,
        history: false,
        flushMs: 20,
      });
      void l.start();
      return l;
    },
    (l) => l.stop(),
  );
  await s.press('3');
  return { shell: s, live };
}

const settle = () => tick(80);

describe('Logs screen with a fed stream', () => {
  it('shows the merged tail with tracebacks, the clusters and the timeline', async () => {
    const fed = await fedShell();
    shell = fed.shell;
    const { live } = fed;
    live.feed(rec('INFO', 'Loading model data/models/gear_1.stl'));
    live.feed(rec('ERROR', 'PAR001 Invalid file header: data/models/a_1.stl'));
    live.feed(rec('ERROR', 'PAR001 Invalid file header: data/models/b_22.stl', { file: 'error.log' }));
    live.feed(
      rec('CRITICAL', 'ERR003 Out of memory during processing of data/models/x.3mf (900 MB requested)', {
        continuation: [
          'Traceback (most recent call last):',
          '  File "x.py", line 3, in load',
          'MemoryError: Unable to allocate',
        ],
        exception: 'MemoryError',
      }),
    );
    await settle();
    const frame = shell.lastFrame()!;
    expect(frame).toContain('Logs: what is failing · LIVE');
    expect(frame).toContain('Loading model data/models/gear_1.stl');
    expect(frame).toMatch(/ERROR +candy_cadence +test: PAR001 Invalid file header: data\/models\/a_1\.stl/);
    expect(frame).toMatch(/ERROR +error +test: PAR001 Invalid file header: data\/models\/b_22\.stl/);
    expect(frame).toMatch(/\n +MemoryError: Unable to allocate/);
    // clusters: two PAR001 records in one template, the OOM in another; INFO is not clustered
    expect(frame).toMatch(/ +2 ERROR .*PAR001 Invalid file header: <\*>/);
    expect(frame).toMatch(/ +1 CRIT .*ERR003 Out of memory/);
    expect(frame).not.toMatch(/\d+ INFO .*Loading model <\*>/);
    expect(frame).toContain('errors/h 24 h');
    expect(frame).toContain('3 errors/h');
  });

  it('shows a record that several files carry once, with all the files', async () => {
    const fed = await fedShell(30, 120);
    shell = fed.shell;
    const r = rec('ERROR', 'DB001 Database is locked: UPDATE models gave up after 5000 ms');
    fed.live.feed(r);
    fed.live.feed({ ...r, seq: r.seq + 1000, file: 'error.log' });
    fed.live.feed({ ...r, seq: r.seq + 1001, file: 'database.log' });
    await settle();
    const frame = shell.lastFrame()!;
    expect(frame.match(/DB001 Database is locked: UPDATE/g)!.length).toBe(1);
    expect(frame).toContain('candy_cadence,e');
    expect(frame).toMatch(/ +1 ERROR .*DB001/);
  });

  it('pauses with space, counts what arrives meanwhile, and resumes', async () => {
    const fed = await fedShell();
    shell = fed.shell;
    fed.live.feed(rec('INFO', 'before pause'));
    await settle();
    await shell.press(' ');
    for (let i = 0; i < 5; i++) fed.live.feed(rec('INFO', `during pause ${i}`));
    await settle();
    let frame = shell.lastFrame()!;
    expect(frame).toContain('PAUSED +5 new');
    expect(frame).toContain('before pause');
    expect(frame).not.toContain('during pause');
    frame = await shell.press(' ');
    await settle();
    frame = shell.lastFrame()!;
    expect(frame).toContain('LIVE');
    expect(frame).toContain('during pause 4');
  });

  it('filters by level and searches', async () => {
    const fed = await fedShell();
    shell = fed.shell;
    fed.live.feed(rec('DEBUG', 'debug noise'));
    fed.live.feed(rec('INFO', 'info chatter'));
    fed.live.feed(rec('WARNING', 'Slow query detected: SELECT 1... Execution time: 1200ms'));
    fed.live.feed(rec('ERROR', 'ERR005 File not found: /home/ana/x.stl'));
    await settle();
    await shell.press('f');
    await shell.press('f');
    let frame = await shell.press('f');
    expect(frame).toContain('ERROR+');
    expect(frame).toContain('ERR005 File not found');
    expect(frame).not.toContain('info chatter');
    expect(frame).not.toContain('Slow query detected: SELECT');
    await shell.press(KEYS.escape);
    await shell.press('/');
    frame = await shell.press('c', 'h', 'a', 't');
    expect(frame).toContain('info chatter');
    expect(frame).not.toContain('debug noise');
    frame = await shell.press(KEYS.enter);
    expect(frame).toContain('/chat');
    frame = await shell.press(KEYS.escape);
    expect(frame).toContain('debug noise');
  });

  it('opens a cluster with Enter: samples, codes, files; Esc closes', async () => {
    const fed = await fedShell();
    shell = fed.shell;
    for (let i = 0; i < 3; i++)
      fed.live.feed(rec('ERROR', `ERR006 Download failed: https://x.example/${i}.stl (HTTP 503)`));
    fed.live.feed(
      rec('WARNING', 'PERF004 Cache over its limit: 3000 MB used of 2048 MB, evicting 12 entries'),
    );
    await settle();
    await shell.press('c');
    let frame = await shell.press(KEYS.enter);
    expect(frame).toContain('ERR006 Download failed: https:<*> (HTTP <*>');
    expect(frame).toContain('codes: ERR006');
    expect(frame).toContain('samples:');
    expect(frame).toContain('(HTTP 503)');
    frame = await shell.press(KEYS.escape);
    expect(frame).toContain('error clusters (2)');
  });

  it('stays bounded under a flood and still draws at 80x24', async () => {
    const fed = await fedShell(24, 80);
    shell = fed.shell;
    const cap = shell.context.config.logs.tailBufferLines;
    for (let i = 0; i < cap * 3; i++)
      fed.live.feed(rec(i % 50 === 0 ? 'ERROR' : 'INFO', `flood line ${i} of data/models/m_${i}.stl`));
    await settle();
    expect(fed.live.ring.length).toBe(cap);
    expect(fed.live.ring.pushed).toBe(cap * 3);
    const frame = shell.lastFrame()!;
    expect(frame).toContain(`flood line ${cap * 3 - 1} `);
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});

describe('Logs screen following real files', () => {
  it('shows lines appended to the site’s log files', async () => {
    const home = tempDir();
    const root = path.join(home, 'site');
    mkdirSync(path.join(root, 'logs'), { recursive: true });
    writeFileSync(path.join(root, 'config.json'), '{}');
    const file = path.join(root, 'logs', 'candy_cadence.log');
    writeFileSync(file, '');
    shell = renderShell({ root, rows: 30, columns: 100 });
    await shell.press('3');
    await tick(600); // the follower starts
    appendFileSync(
      file,
      '2026-11-23 08:00:00,000 - candy_cadence.main - ERROR - ERR001 Database connection failed: db1\n',
    );
    let frame = '';
    for (let i = 0; i < 40 && !frame.includes('ERR001 Database connection failed: db1'); i++) {
      await tick(100);
      frame = shell.lastFrame()!;
    }
    expect(frame).toContain('ERR001 Database connection failed: db1');
    expect(frame).toMatch(/1 ERROR .*ERR001 Database connection failed: <\*>/);
  });
});
