// Screen 4 in the real shell (ink-testing-library) on a real site: list, verify, create, the
// detail (files, changes since), prune behind its confirmation, read-only.
import { copyFileSync, existsSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backupJobs } from '../screens/backups.js';
import { createBackup } from '../services/backup-create.js';
import { backupName } from '../services/backup-names.js';
import { fixturesDir, makeSite, type TestSite } from './helpers/backup-site.js';
import { waitForFrame } from './helpers/restore-site.js';
import { KEYS, type RenderedShell, renderShell, tick } from './helpers/shell.js';

let site: TestSite;
let shell: RenderedShell | null = null;
let dbName = '';
const damaged = 'candy_cadence_backup_20200101_000000.db.gz';

beforeAll(async () => {
  site = await makeSite({ models: 120 });
  const r = await createBackup({
    paths: site.paths,
    config: site.config,
    kind: 'database',
    inline: true,
    verify: false,
    now: () => Date.now() - 3600_000,
  });
  dbName = r.name;
  copyFileSync(
    path.join(fixturesDir, 'truncated-gzip/candy_cadence_backup_20260102_000000.db.gz'),
    path.join(site.paths.backups, damaged),
  );
});
afterAll(() => site.cleanup());
afterEach(async () => {
  await shell?.dispose();
  shell = null;
});

async function settle(s: RenderedShell): Promise<string> {
  const jobs = backupJobs(s.context);
  for (let i = 0; i < 400; i++) {
    await jobs.idle();
    const st = jobs.store.get();
    if (!st.job && st.detail?.status !== 'loading') break;
    await tick(25);
  }
  await tick(60);
  return s.lastFrame() ?? '';
}

describe('the Backups screen', () => {
  it('lists, verifies, creates, opens a backup and prunes', async () => {
    shell = renderShell({ root: site.root, initialScreen: 'backups', columns: 100, rows: 30 });
    await tick(80);
    let frame = shell.lastFrame()!;
    expect(frame).toContain('Backups: what can we restore?');
    expect(frame).toContain('2 backups');
    expect(frame).toContain(dbName);
    expect(frame).toContain('? not yet');
    expect(frame).toMatch(/c db backup\s+f full backup\s+v verify\s+p prune/);

    // Verify the selected (newest) one: it passes.
    await shell.press('v');
    frame = await settle(shell);
    expect(frame).toContain(`✓ ${dbName} verified`);
    expect(frame).toMatch(/verified \d+ s ago in .*120 models, 600 metadata/);

    // The damaged one fails, with the reason on screen.
    await shell.press(KEYS.down, 'v');
    frame = await settle(shell);
    expect(frame).toContain('✖ FAILED');
    expect(frame).toMatch(/FAILED \d+ s ago: gzip: the file ends in the middle of the compressed data/);

    // A full backup with live progress, then at the top of the list, verified.
    const jobs = backupJobs(shell.context);
    const phases = new Set<string>();
    const unsubscribe = jobs.store.subscribe(() => {
      const p = jobs.store.get().job?.progress;
      if (p) phases.add(p.phase);
    });
    await shell.press('f');
    frame = await settle(shell);
    unsubscribe();
    expect(phases.has('archive')).toBe(true);
    expect(frame).toMatch(/✓ created full_backup_\d{8}_\d{6}\.tar\.gz: .* verified/);
    expect(frame).toContain('3 backups');

    // Open it: the files with sizes, then what changed since.
    await shell.press(KEYS.up, KEYS.up, 'g', KEYS.enter);
    frame = await settle(shell);
    expect(frame).toMatch(/full_backup_\d{8}_\d{6}\.tar\.gz {2}· {2}full/);
    expect(frame).toContain('[Files]');
    expect(frame).toMatch(/✓ verified in .* files/);
    expect(frame).toMatch(/manifest: full, taken .* app 1\.4\.2/);
    expect(frame).toMatch(/\d+(\.\d)? [KM]?B {2}configuration\//);
    frame = await shell.press('\x1b[C');
    expect(frame).toContain('[Changes since]');
    expect(frame).toMatch(/models\s+120 ->\s+120/);
    expect(frame).toMatch(/files: 0 added since, 0 removed since, \d+ changed, \d+ unchanged/);
    frame = await shell.press(KEYS.escape);
    expect(frame).toContain('Backups: what can we restore?');

    // Prune: an old copy and the (ancient, damaged) one go after the confirmation; the newest verified stays.
    const old = path.join(site.paths.backups, backupName('database', Date.now() - 60 * 86_400_000));
    copyFileSync(path.join(site.paths.backups, dbName), old);
    utimesSync(old, new Date(Date.now() - 60 * 86_400_000), new Date(Date.now() - 60 * 86_400_000));
    await shell.press('r');
    await shell.press('p');
    frame = await waitForFrame(shell, (f) => f.includes('Prune 2 files'));
    expect(frame).toMatch(/Prune 2 files, .*\?/);
    expect(frame).toContain(`delete ${damaged} (primary,`);
    expect(frame).toContain(`delete ${path.basename(old)} (primary, 60 days old, retention 30`);
    expect(frame).toContain(`keep ${dbName} (newest verified database backup:`);
    await shell.press('n');
    await waitForFrame(shell, (f) => !f.includes('Prune 2 files'));
    expect(existsSync(old)).toBe(true);
    await shell.press('p');
    await waitForFrame(shell, (f) => f.includes('Prune 2 files'));
    await shell.press('y');
    frame = await settle(shell);
    expect(frame).toContain('✓ pruned 2 files');
    expect(existsSync(old)).toBe(false);
    expect(existsSync(path.join(site.paths.backups, damaged))).toBe(false);
    expect(existsSync(path.join(site.paths.backups, dbName))).toBe(true);
  }, 60_000);

  it('fits 80x24 and hides and refuses changing actions when read-only', async () => {
    shell = renderShell({ root: site.root, initialScreen: 'backups', columns: 80, rows: 24, readOnly: true });
    await tick(80);
    const frame = shell.lastFrame()!;
    expect(frame).toContain('Backups: what can we restore?');
    expect(frame).not.toContain('db backup');
    expect(frame).not.toContain('prune');
    const before = backupJobs(shell.context).store.get().listing.backups.length;
    await shell.press('c');
    await shell.press('f');
    expect(backupJobs(shell.context).busy).toBe(false);
    expect(backupJobs(shell.context).store.get().listing.backups.length).toBe(before);
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});
