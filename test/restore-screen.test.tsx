// The restore walkthrough on screen 4, in the real shell (ink-testing-library) on a real site:
// the rail, each step's text, the confirmations (typed name for a failed backup), the result on
// disk, the rollback key, and the recovery of an interrupted restore.
import { appendFileSync, copyFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { restoreSession } from '../screens/backups.js';
import { createBackup } from '../services/backup-create.js';
import { pendingRestore } from '../services/restore-journal.js';
import type { WalkStep } from '../services/restore-session.js';
import { fixturesDir, makeSite, runCli, type TestSite } from './helpers/backup-site.js';
import { fingerprint, fingerprintDiff, waitForFrame } from './helpers/restore-site.js';
import { KEYS, type RenderedShell, renderShell, tick } from './helpers/shell.js';

let site: TestSite | null = null;
let shell: RenderedShell | null = null;
afterEach(async () => {
  await shell?.dispose();
  shell = null;
  site?.cleanup();
  site = null;
});

/** The frame with line breaks and runs of spaces folded, for sentences the screen wraps. */
const flat = (frame: string) => frame.replace(/\s+/g, ' ');

async function until(s: RenderedShell, step: WalkStep | 'closed', timeoutMs = 60_000): Promise<string> {
  const session = restoreSession(s.context);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = session.store.get();
    const at = st.active ? st.step : 'closed';
    if (at === step && !st.busy) break;
    if (Date.now() > deadline)
      throw new Error(`walkthrough stuck at ${at} (${st.busy ?? ''}) ${st.error ?? ''}`);
    await tick(40);
  }
  await tick(80);
  return s.lastFrame() ?? '';
}

describe('the restore walkthrough', () => {
  it('walks scope, verify, plan, application, restore and finish, then rolls back with b', async () => {
    site = await makeSite({ models: 60 });
    const full = await createBackup({
      paths: site.paths,
      config: site.config,
      kind: 'full',
      inline: true,
      now: () => Date.now() - 60_000,
    });
    const fresh = fingerprint(site.root);
    writeFileSync(path.join(site.paths.models, 'new_part.stl'), 'solid new\nendsolid new\n');
    appendFileSync(site.paths.configJson, '\n');
    const old = fingerprint(site.root);

    shell = renderShell({ root: site.root, initialScreen: 'backups', columns: 100, rows: 30 });
    await tick(80);
    let frame = await shell.press('R');
    expect(flat(frame)).toContain(`Restore ${full.name}`);
    expect(flat(frame)).toContain('▶ Scope · Verify · Plan · App · Safety · Restore · Check · Finish');
    expect(flat(frame)).toMatch(/▶ all\s+everything the backup holds/);
    // Down and up again: the scope list moves.
    frame = await shell.press(KEYS.down);
    expect(flat(frame)).toMatch(/▶ database\s+the database alone/);
    await shell.press(KEYS.up, KEYS.enter);
    frame = await until(shell, 'plan');
    expect(flat(frame)).toContain('✓ Scope ✓ Verify ▶ Plan');
    expect(flat(frame)).toMatch(/✓ verified in .* files/);
    expect(flat(frame)).toMatch(/scope all: replaces \d+ .*adds 0 .*removes 1 /);
    expect(flat(frame)).toContain('- data/models/new_part.stl');
    expect(flat(frame)).toContain('~ config.json');
    expect(flat(frame)).toMatch(/space: .* needed, .* free/);
    await shell.press(KEYS.enter);
    frame = await until(shell, 'app');
    expect(flat(frame)).toContain('▶ App');
    expect(flat(frame)).toContain('Candy-Cadence is not running.');
    expect(flat(frame)).toContain('Nothing holds the database open.');
    await shell.press(KEYS.enter);
    frame = await waitForFrame(shell, (f) => f.includes(`Restore ${full.name}?`));
    expect(flat(frame)).toMatch(/scope all: \d+ replaced, 0 added, 1 removed/);
    await shell.press('y');
    frame = await until(shell, 'finish');
    expect(flat(frame)).toContain('✓ Scope ✓ Verify ✓ Plan ✓ App ✓ Safety ✓ Restore ✓ Check ✓ Finish');
    expect(flat(frame)).toMatch(
      /✓ restored full_backup_\d+_\d+\.tar\.gz \(all\); the previous state is kept in pre_restore_/,
    );
    expect(flat(frame)).toMatch(
      /checks: database sound, rows as in the backup; \d+ files match the manifest/,
    );
    expect(fingerprintDiff(fingerprint(site.root), fresh)).toEqual([]);

    // b: back to the state before, through the same steps (no new safety snapshot).
    await shell.press('b');
    frame = await waitForFrame(shell, (f) => /Roll back to pre_restore_\d+_\d+\.tar\.gz\?/.test(f));
    await shell.press('y');
    frame = await until(shell, 'plan');
    expect(flat(frame)).toMatch(/Roll back the last restore: restore pre_restore_/);
    await shell.press(KEYS.enter);
    await until(shell, 'app');
    await shell.press(KEYS.enter);
    await waitForFrame(shell, (f) => f.includes('y Restore'));
    await shell.press('y');
    frame = await until(shell, 'finish');
    expect(flat(frame)).toMatch(/✓ restored pre_restore_\d+_\d+\.tar\.gz \(all\)/);
    expect(fingerprintDiff(fingerprint(site.root), old)).toEqual([]);
    await shell.press(KEYS.escape);
    frame = await until(shell, 'closed');
    expect(flat(frame)).toContain('Backups: what can we restore?');
  }, 120_000);

  it('refuses a failed backup until its name is typed in full, and a hostile one outright', async () => {
    site = await makeSite({ models: 30 });
    const bad = path.join(site.paths.backups, 'full_backup_20260105_000000.tar.gz');
    copyFileSync(path.join(fixturesDir, 'checksum-mismatch/full_backup_20260105_000000.tar.gz'), bad);
    const hostile = path.join(site.paths.backups, 'full_backup_20260106_000000.tar.gz');
    copyFileSync(path.join(fixturesDir, 'hostile/full_backup_20260106_000000.tar.gz'), hostile);
    const before = fingerprint(site.root);
    shell = renderShell({ root: site.root, initialScreen: 'backups', columns: 100, rows: 30 });
    await tick(80);
    // The list is newest first: the hostile one (20260106) is selected.
    await shell.press('R', KEYS.enter);
    let frame = await until(shell, 'plan');
    expect(flat(frame)).toMatch(/✖ refused: 8 hostile entries .* a hostile archive is never restored/);
    frame = await shell.press(KEYS.enter);
    expect(flat(frame)).toMatch(/refused: .*hostile/);
    expect(restoreSession(shell.context).store.get().step).toBe('plan');
    await shell.press(KEYS.escape, KEYS.escape);
    await until(shell, 'closed');

    await shell.press(KEYS.down, 'R', KEYS.enter);
    frame = await until(shell, 'plan');
    expect(flat(frame)).toContain('✖ FAILED verification: checksum mismatch for configuration/config.json');
    expect(flat(frame)).toContain('(Enter: type the name to go ahead anyway)');
    await shell.press(KEYS.enter);
    frame = await waitForFrame(shell, (f) => f.includes('Type full_backup_20260105_000000.tar.gz'));
    expect(flat(frame)).toContain('full_backup_20260105_000000.tar.gz FAILED verification');
    expect(flat(frame)).toContain('Type full_backup_20260105_000000.tar.gz to confirm');
    for (const ch of 'wrong-name') shell.stdin.write(ch);
    await tick(400);
    frame = await shell.press(KEYS.enter);
    expect(restoreSession(shell.context).store.get().acceptUnverified).toBe(false);
    await shell.press(KEYS.escape);
    await waitForFrame(shell, (f) => !f.includes('Type full_backup_20260105_000000.tar.gz'));
    expect(fingerprintDiff(fingerprint(site.root), before)).toEqual([]);
    await shell.press(KEYS.enter);
    await waitForFrame(shell, (f) => f.includes('Type full_backup_20260105_000000.tar.gz'));
    for (const ch of 'full_backup_20260105_000000.tar.gz') shell.stdin.write(ch);
    await tick(400);
    await shell.press(KEYS.enter);
    frame = await until(shell, 'app');
    expect(restoreSession(shell.context).store.get().acceptUnverified).toBe(true);
    // Leaving here changes nothing.
    await shell.press(KEYS.escape, KEYS.escape, KEYS.escape);
    await until(shell, 'closed');
    expect(fingerprintDiff(fingerprint(site.root), before)).toEqual([]);
  }, 120_000);

  it('opens on an interrupted restore and completes it', async () => {
    site = await makeSite({ models: 30 });
    const db = await createBackup({ paths: site.paths, config: site.config, kind: 'database', inline: true });
    const fresh = fingerprint(site.root);
    unlinkSync(path.join(site.paths.models, 'torus_768.obj'));
    const killed = await runCli(['--root', site.root, 'restore', db.name, '--yes'], {
      env: { CADENCE_OPS_STATE_DIR: site.stateDir, CADENCE_OPS_FAULT_KILL_AT: '14' },
    });
    expect(killed.code).toBeNull();
    const pending = pendingRestore(site.root);
    expect(pending).not.toBeNull();
    shell = renderShell({ root: site.root, initialScreen: 'backups', columns: 100, rows: 30 });
    let frame = await until(shell, 'recover');
    expect(flat(frame)).toContain(`Interrupted restore of ${db.name}`);
    expect(flat(frame)).toContain(`did not finish: it stopped in phase "${pending!.phase}"`);
    expect(flat(frame)).toContain('Enter complete the restore · b roll it back');
    await shell.press(KEYS.enter);
    frame = await waitForFrame(shell, (f) => f.includes('Complete the interrupted restore?'));
    await shell.press('y');
    frame = await until(shell, 'finish');
    expect(flat(frame)).toMatch(/✓ restored candy_cadence_backup_\d+_\d+\.db\.gz \(database\)/);
    expect(pendingRestore(site.root)).toBeNull();
    const now = fingerprint(site.root);
    expect(now.db).toBe(fresh.db);
    expect(now.files['data/models/torus_768.obj']).toBeUndefined();
  }, 120_000);
});
