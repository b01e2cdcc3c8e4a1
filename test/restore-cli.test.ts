// The `restore` verb end to end: the plan of a dry run, refusals without a terminal, stopping and
// starting the application, the typed overrides, exit codes.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackup } from '../services/backup-create.js';
import { makeSite, repoRoot, runCli, type TestSite } from './helpers/backup-site.js';
import { fingerprint, fingerprintDiff, startFakeApp } from './helpers/restore-site.js';

let site: TestSite | null = null;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  site?.cleanup();
  site = null;
});

describe('cadence-ops restore', () => {
  it('--dry-run prints the plan and changes nothing; without --yes and a terminal it refuses', async () => {
    site = await makeSite({ models: 40 });
    const s = site;
    const full = await createBackup({ paths: s.paths, config: s.config, kind: 'full', inline: true });
    writeFileSync(path.join(s.paths.models, 'new_part.stl'), 'solid x\nendsolid x\n');
    const before = fingerprint(s.root);
    const env = { CADENCE_OPS_STATE_DIR: s.stateDir };
    const dry = await runCli(['--root', s.root, 'restore', full.name, '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`restore ${full.name} into ${s.root}, scope all`);
    expect(dry.stdout).toMatch(/verified in .*: \d+ files/);
    expect(dry.stdout).toMatch(
      /removed \(in the site, not in the backup\): 1 file, 19 B\n {2}data\/models\/new_part\.stl {2}19 B/,
    );
    expect(dry.stdout).toMatch(/database rows \(now -> after the restore\):\n {2}models\s+40 ->\s+40/);
    expect(dry.stdout).toMatch(
      /space: .* needed \(.* staging \+ ~.* safety snapshot \+ margin\), .* available\n/,
    );
    expect(dry.stdout).toContain('application: not running');
    expect(dry.stdout).toContain('dry run: nothing was changed');
    const json = JSON.parse(
      (await runCli(['--root', s.root, 'restore', full.name, '--dry-run', '--json'], { env })).stdout,
    );
    expect(json.plan.removed.map((f: { path: string }) => f.path)).toEqual(['data/models/new_part.stl']);
    expect(json.app.app).toBeNull();

    const noTty = await runCli(['--root', s.root, 'restore', full.name], { env });
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toMatch(/refused: without a terminal, pass --yes/);
    const wrongName = await runCli(
      ['--root', s.root, 'restore', full.name, '--yes', '--accept-unverified', 'x'],
      { env },
    );
    expect(wrongName.code).toBe(1);
    expect(wrongName.stderr).toMatch(/--accept-unverified must be followed by the backup's full name/);
    expect((await runCli(['--root', s.root, 'restore'], { env })).code).toBe(2);
    expect((await runCli(['--root', s.root, 'restore', full.name, '--resume'], { env })).code).toBe(2);
    expect(
      (await runCli(['--root', s.root, '--read-only', 'restore', full.name, '--yes'], { env })).code,
    ).toBe(2);
    expect((await runCli(['--root', s.root, 'restore', '--resume', '--yes'], { env })).stderr).toMatch(
      /no interrupted restore to resume/,
    );
    expect(fingerprintDiff(fingerprint(s.root), before)).toEqual([]);
  });

  it('stops the running application with --yes and starts it again with app.startCommand', async () => {
    site = await makeSite({ models: 40 });
    const s = site;
    const db = await createBackup({ paths: s.paths, config: s.config, kind: 'database', inline: true });
    const app = await startFakeApp(s.root);
    cleanups.push(() => app.stop());
    const env = { CADENCE_OPS_STATE_DIR: s.stateDir };
    const refused = await runCli(['--root', s.root, 'restore', db.name, '--yes', '--no-stop-app'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refused: Candy-Cadence is running \(pid \d+\) and --no-stop-app was given/,
    );
    // A start command that writes a marker, as a service manager would start the real one.
    const marker = path.join(s.dir, 'started');
    writeFileSync(
      path.join(s.root, 'cadence-ops.json'),
      JSON.stringify({ app: { startCommand: `echo started > '${marker}'`, stopTimeoutSeconds: 10 } }),
    );
    const r = await runCli(['--root', s.root, 'restore', db.name, '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/application: Candy-Cadence is running \(pid \d+\); it will be stopped first/);
    expect(r.stderr).toMatch(new RegExp(`\\[app\\] stopped: sent SIGTERM to pid ${app.pid}`));
    expect(r.stdout).toMatch(
      /done: restored candy_cadence_backup_\d{8}_\d{6}\.db\.gz \(database\); the previous state is kept in pre_restore_/,
    );
    expect(r.stdout).toContain('to undo it: cadence-ops restore --rollback');
    await app.exited;
    expect(existsSync(marker)).toBe(true);
    expect(readFileSync(marker, 'utf8').trim()).toBe('started');
  });

  it('refuses while another process holds the database, unless --ignore-holders names the backup', async () => {
    site = await makeSite({ models: 40 });
    const s = site;
    const db = await createBackup({ paths: s.paths, config: s.config, kind: 'database', inline: true });
    // Not the application (no pid file, nothing matching app.processPattern): a tool holding the file.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        "const D=require('better-sqlite3'); new D(process.argv[1]).prepare('SELECT 1').get(); console.log('ready'); setInterval(()=>{},1000)",
        s.paths.database,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => holder.kill('SIGKILL'));
    await new Promise<void>((r) => holder.stdout!.on('data', () => r()));
    const env = { CADENCE_OPS_STATE_DIR: s.stateDir };
    const before = fingerprint(s.root);
    const refused = await runCli(['--root', s.root, 'restore', db.name, '--yes'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /database held open by: node \(pid \d+\)|database held open by: candy_cadence/,
    );
    expect(refused.stderr).toMatch(/refused: the database is held open by/);
    expect(fingerprintDiff(fingerprint(s.root), before)).toEqual([]);
    const forced = await runCli(
      ['--root', s.root, 'restore', db.name, '--yes', '--ignore-holders', db.name],
      { env },
    );
    expect(forced.code, forced.stderr).toBe(0);
  });
});
