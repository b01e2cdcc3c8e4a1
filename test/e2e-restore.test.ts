// The restore walkthrough end to end: the real binary in a real terminal (tmux) on the demo site,
// with its simulated application running: screen 4, R on a full backup, every step of the rail,
// stopping the application, the restore, starting it again, quitting. Then the site on disk.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBackup } from '../services/backup-verify.js';
import { defaultConfig } from '../services/config.js';
import { pendingRestore } from '../services/restore-journal.js';
import { buildDemoSite, type DemoSite, startDemoConsole } from './helpers/e2e-demo.js';
import { hasTmux } from './helpers/tmux.js';

describe.runIf(hasTmux())('restore walkthrough under tmux on the demo site', () => {
  let demo: DemoSite;
  let site: string;

  beforeAll(async () => {
    demo = await buildDemoSite('cadence-e2e-restore-');
    site = demo.site;
  }, 120_000);

  afterAll(() => demo?.remove());

  it('restores a full backup step by step, stopping and starting the application', async () => {
    const { tmux, flat, waitFor } = startDemoConsole('restore', demo);
    try {
      await waitFor('1 Overview', 'the console', 20_000);
      // The demo starts its simulated application, which writes its pid file.
      const pidFile = path.join(site, 'candy_cadence.pid');
      for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
      const pidBefore = Number(readFileSync(pidFile, 'utf8'));
      tmux.send('4');
      await waitFor('Backups: what can we restore?', 'screen 4');
      // The oldest backup, at the bottom of the list, is the demo's full backup of 9 days ago.
      tmux.send('G');
      // The demo verified its backups when it was built: a full backup's line counts its files.
      await waitFor(/verified .* ago in \d+ ms: \d+ files/, 'the full backup selected');
      tmux.send('R');
      await waitFor('▶ Scope · Verify · Plan', 'step 1, the scope');
      tmux.send('Enter');
      await waitFor('✓ Scope ✓ Verify ▶ Plan', 'step 3, the plan', 60_000);
      let pane = await waitFor(/scope all: replaces \d+/, 'the plan text');
      expect(flat(pane)).toMatch(/database rows now → after: models \d+ → 10000/);
      expect(flat(pane)).toMatch(/space: .* needed, .* free/);
      tmux.send('Enter');
      pane = await waitFor(
        /Candy-Cadence is running \(pid \d+, found by pid file\)/,
        'step 4, the application',
      );
      tmux.send('Enter');
      await waitFor(`Stop Candy-Cadence (pid ${pidBefore})?`, 'the stop dialog');
      tmux.send('y');
      await waitFor('Candy-Cadence is not running.', 'the application stopped', 40_000);
      await waitFor('stopped: sent SIGTERM', 'how it was stopped');
      tmux.send('Enter');
      await waitFor(/Restore full_backup_\d{8}_\d{6}\.tar\.gz\?/, 'the last confirmation');
      tmux.send('y');
      pane = await waitFor('✓ Finish', 'the end of the restore', 120_000);
      expect(flat(pane)).toMatch(
        /✓ restored full_backup_\d{8}_\d{6}\.tar\.gz \(all\); the previous state is kept in pre_restore_/,
      );
      expect(flat(pane)).toMatch(
        /checks: database sound, rows as in the backup; \d+ files match the manifest/,
      );
      tmux.send('Enter');
      pane = await waitFor(
        /started \(pid \d+\) with app\.startCommand/,
        'the application started again',
        20_000,
      );
      tmux.send('Escape');
      await waitFor('Backups: what can we restore?', 'back to the list');
      tmux.send('q');
      pane = await tmux.waitFor((p) => p.includes('EXITED 0'), 15_000, 'exit');
      expect(pane).toContain('SHELL-BEFORE');
    } finally {
      tmux.kill();
    }
    // On disk: no journal, a verified safety snapshot, the backup's database.
    expect(pendingRestore(site)).toBeNull();
    const snaps = readdirSync(path.join(site, 'backups')).filter((f) => f.startsWith('pre_restore_'));
    expect(snaps).toHaveLength(1);
    const v = await verifyBackup(path.join(site, 'backups', snaps[0]!), {
      config: defaultConfig(),
      inline: true,
    });
    expect(v.ok, v.reason ?? '').toBe(true);
    expect(existsSync(path.join(site, '.cadence-ops-restore/last.json'))).toBe(true);
  }, 240_000);
});
