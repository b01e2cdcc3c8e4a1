// The `backup` verb end to end: the real bundle, a real site, real exit codes; a real full disk
// (a tiny tmpfs mounted over the backup folder in a private mount namespace).
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, fixturesDir, makeSite, runCli, type TestSite } from './helpers/backup-site.js';

let site: TestSite;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(['--root', site.root, ...args], { env });

beforeAll(async () => {
  site = await makeSite();
  env = { CADENCE_OPS_STATE_DIR: site.stateDir };
});
afterAll(() => site.cleanup());

describe('cadence-ops backup', () => {
  let dbName = '';
  let fullName = '';

  it('create --type database and --type full print what they made and exit 0', async () => {
    const db = await cli('backup', 'create', '--type', 'database');
    expect(db.stderr).toBe('');
    expect(db.code).toBe(0);
    expect(db.stdout).toMatch(/^created .*candy_cadence_backup_\d{8}_\d{6}\.db\.gz\n/);
    expect(db.stdout).toMatch(/verified in .*database ok: 300 models, 1500 metadata/);
    dbName = path.basename(/created (\S+)/.exec(db.stdout)![1]!);
    const full = await cli('backup', 'create', '--type', 'full', '--json');
    expect(full.code).toBe(0);
    const json = JSON.parse(full.stdout);
    expect(json).toMatchObject({ kind: 'full', verification: { ok: true, reason: null } });
    fullName = json.name;
  });

  it('list shows both, verified, as a table and as JSON', async () => {
    const text = await cli('backup', 'list');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^NAME\s+TYPE\s+WHERE\s+TAKEN\s+AGE\s+SIZE\s+VERIFICATION/);
    expect(text.stdout).toContain(dbName);
    expect(text.stdout).toMatch(new RegExp(`${fullName}\\s+full\\s+primary.*verified`));
    const json = JSON.parse((await cli('backup', 'list', '--json')).stdout);
    expect(json.backups.map((b: { name: string; state: string }) => [b.name, b.state]).sort()).toEqual(
      [
        [dbName, 'verified'],
        [fullName, 'verified'],
      ].sort(),
    );
  });

  it('verify passes a good backup and fails a damaged one with the reason and exit 1', async () => {
    expect((await cli('backup', 'verify', fullName)).code).toBe(0);
    const damaged = 'candy_cadence_backup_20200101_000000.db.gz';
    copyFileSync(
      path.join(fixturesDir, 'truncated-gzip/candy_cadence_backup_20260102_000000.db.gz'),
      path.join(site.paths.backups, damaged),
    );
    const one = await cli('backup', 'verify', damaged);
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/FAILED.*\n.*gzip: the file ends in the middle of the compressed data/);
    expect(one.stderr).toMatch(
      /1 of 1 failed verification: candy_cadence_backup_20200101_000000.db.gz: gzip:/,
    );
    const all = await cli('backup', 'verify', '--all', '--json');
    expect(all.code).toBe(1);
    const results = JSON.parse(all.stdout) as Array<{ name: string; ok: boolean }>;
    expect(results.map((r) => [r.name, r.ok]).sort()).toEqual(
      [
        [damaged, false],
        [dbName, true],
        [fullName, true],
      ].sort(),
    );
    const listed = (await cli('backup', 'list')).stdout;
    expect(listed).toMatch(/candy_cadence_backup_20200101_000000.db.gz.*failed .* ago: gzip: the file ends/);
    unlinkSync(path.join(site.paths.backups, damaged));
  });

  it('show prints the manifest and a file tree with sizes', async () => {
    const r = await cli('backup', 'show', fullName);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/manifest: full, taken \d{4}-\d\d-\d\dT.*version 1\.4\.2, \d+ files/);
    expect(r.stdout).toMatch(/database: models 300, metadata 1500/);
    expect(r.stdout).toMatch(/\n\s+[\d.]+ [KM]B\s+user_data\/\n/);
    expect(r.stdout).toMatch(/\n\s+[\d.]+ [KM]?B {6}torus_768_binary\.stl\n/);
  });

  it('diff names what was added, removed and changed since, and the row counts then and now', async () => {
    writeFileSync(path.join(site.paths.models, 'new_part.stl'), 'solid new\nendsolid new\n');
    unlinkSync(path.join(site.paths.models, 'torus_768.obj'));
    appendFileSync(site.paths.configJson, ' ');
    const db = new Database(site.paths.database);
    db.prepare("DELETE FROM metadata WHERE model_id <= 10 AND key = 'units'").run();
    db.close();
    const r = await cli('backup', 'diff', fullName);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/metadata\s+1500 ->\s+1490\s+\(-10\)/);
    expect(r.stdout).toMatch(/models\s+300 ->\s+300\n/);
    expect(r.stdout).toMatch(/files: 1 added since, 1 removed since, 1 changed, \d+ unchanged/);
    expect(r.stdout).toContain('+ data/models/new_part.stl');
    expect(r.stdout).toContain('- data/models/torus_768.obj');
    expect(r.stdout).toContain('~ config.json');
    const json = JSON.parse((await cli('backup', 'diff', dbName, '--json')).stdout);
    expect(json.files).toBeNull();
    expect(json.database.inBackup.metadata).toBe(1500);
    expect(json.database.live.metadata).toBe(1490);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await cli('backup')).code).toBe(2);
    expect((await cli('backup', 'frobnicate')).code).toBe(2);
    const noType = await cli('backup', 'create');
    expect(noType.code).toBe(2);
    expect(noType.stderr).toMatch(/--type database\|full is required/);
    expect((await cli('backup', 'verify')).code).toBe(2);
    const readOnly = await cli('--read-only', 'backup', 'create', '--type', 'database');
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr).toMatch(/read-only/);
    const unknown = await cli('backup', 'verify', 'full_backup_19990101_000000.tar.gz');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no backup named full_backup_19990101_000000.tar.gz/);
  });
});

const canUnshare = spawnSync('unshare', ['-m', 'true']).status === 0;

describe.skipIf(!canUnshare)('a full disk during create (tmpfs in a private mount namespace)', () => {
  // Inside the namespace: mount a tiny tmpfs over the backup folder, put an existing backup there,
  // run the real binary, then report what is in the folder and the existing backup's checksum.
  const script = `
set -u
cp "$EXISTING" "$OUT/existing"
mount -t tmpfs -o size="$SIZE" tmpfs "$BACKUPS" || exit 90
cp "$OUT/existing" "$BACKUPS/$(basename "$EXISTING")"
sha256sum "$BACKUPS/$(basename "$EXISTING")" | cut -d' ' -f1 > "$OUT/before"
"$NODE" "$CLI" --root "$ROOT" backup create --type "$TYPE" > "$OUT/stdout" 2> "$OUT/stderr"
echo $? > "$OUT/code"
ls -A "$BACKUPS" > "$OUT/ls"
sha256sum "$BACKUPS/$(basename "$EXISTING")" | cut -d' ' -f1 > "$OUT/after"
`;
  for (const [label, size, type, where] of [
    [
      'while writing the archive',
      '700k',
      'full',
      /writing \S+\/\.full_backup_\d{8}_\d{6}\.tar\.gz\.tmp-\S+ \(after \d+ bytes\)/,
    ],
    ['while taking the database snapshot', '120k', 'database', /snapshot of \S+candy_cadence\.db into /],
  ] as const) {
    it(`fails ${label} with a clear error, no file under a final name, the existing backup untouched`, async () => {
      let existing = readdirSync(site.paths.backups).find((f) => f.endsWith('.db.gz'));
      if (!existing) {
        expect((await cli('backup', 'create', '--type', 'database')).code).toBe(0);
        existing = readdirSync(site.paths.backups).find((f) => f.endsWith('.db.gz'))!;
      }
      const out = path.join(site.dir, `enospc-${type}`);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      const r = spawnSync('unshare', ['-m', 'sh', '-c', script], {
        env: {
          ...process.env,
          ...env,
          SIZE: size,
          TYPE: type,
          BACKUPS: site.paths.backups,
          EXISTING: path.join(site.paths.backups, existing),
          OUT: out,
          NODE: process.execPath,
          CLI: cliPath,
          ROOT: site.root,
        },
      });
      expect(r.status, r.stderr.toString()).toBe(0);
      const read = (f: string) => readFileSync(path.join(out, f), 'utf8').trim();
      expect(read('code')).toBe('1');
      expect(read('stderr')).toMatch(/^cadence-ops backup: .*no space left on the device/);
      expect(read('stderr')).toMatch(where);
      expect(read('ls').split('\n')).toEqual([existing]);
      expect(read('after')).toBe(read('before'));
    });
  }
});
