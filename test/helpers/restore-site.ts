// What a site holds, in a form two states can be compared by: the sha256 of every file (the backup
// folder, the restore's work folder, temp and the database's -wal/-shm excluded) and the database
// by its contents (every table's rows), read from a private copy so the live files stay untouched.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { repoRoot } from './backup-site.js';

export interface Fingerprint {
  files: Record<string, string>;
  db: string | null;
}

const SKIP_TOP = new Set(['backups', '.cadence-ops-restore', 'temp']);

export function databaseDigest(dbFile: string): string | null {
  if (!existsSync(dbFile)) return null;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-fp-'));
  try {
    const copy = path.join(dir, 'x.db');
    copyFileSync(dbFile, copy);
    for (const s of ['-wal', '-shm']) if (existsSync(dbFile + s)) copyFileSync(dbFile + s, copy + s);
    const db = new Database(copy);
    try {
      const hash = createHash('sha256');
      const tables = db
        .prepare(
          "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all() as Array<{ name: string }>;
      for (const { name } of tables) {
        hash.update(`table ${name}\n`);
        try {
          for (const row of db
            .prepare(`SELECT * FROM "${name.replace(/"/g, '""')}" ORDER BY rowid`)
            .iterate())
            hash.update(`${JSON.stringify(row, (_, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))}\n`);
        } catch {
          for (const row of db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).iterate())
            hash.update(`${JSON.stringify(row)}\n`);
        }
      }
      return hash.digest('hex');
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function fingerprint(root: string, database = path.join(root, 'data/candy_cadence.db')): Fingerprint {
  const files: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && SKIP_TOP.has(e.name)) continue;
      const full = path.join(dir, e.name);
      if (full === database || full.startsWith(`${database}-`)) continue;
      if (e.isDirectory()) {
        files[`${r}/`] = 'dir';
        walk(full, r);
      } else if (e.isFile()) files[r] = createHash('sha256').update(readFileSync(full)).digest('hex');
      else files[r] = 'other';
    }
  };
  walk(root, '');
  return { files, db: databaseDigest(database) };
}

/** Differences between two fingerprints, for readable assertion messages. */
export function fingerprintDiff(a: Fingerprint, b: Fingerprint): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a.files), ...Object.keys(b.files)])) {
    if (a.files[k] !== b.files[k]) out.push(`${k}: ${a.files[k] ?? 'absent'} vs ${b.files[k] ?? 'absent'}`);
  }
  if (a.db !== b.db) out.push(`database contents differ`);
  return out;
}

/**
 * Commits rows to the database and dies by SIGKILL with them still in the WAL (no checkpoint), as
 * an application killed mid-flight leaves it: a restore must move that -wal aside with its database.
 */
export function leaveWalBehind(dbFile: string, rows: number): void {
  const script = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('journal_mode = WAL');
db.pragma('wal_autocheckpoint = 0');
const ins = db.prepare("INSERT INTO metadata (model_id, key, value) VALUES (1, ?, 'in the wal')");
db.transaction(() => { for (let i = 0; i < Number(process.argv[2]); i++) ins.run('wal_' + i); })();
process.kill(process.pid, 'SIGKILL');
`;
  const r = spawnSync(process.execPath, ['-e', script, dbFile, String(rows)], { cwd: repoRoot });
  if (r.signal !== 'SIGKILL') throw new Error(`the WAL writer did not die as planned: ${r.stderr}`);
  if (!existsSync(`${dbFile}-wal`)) throw new Error('no -wal was left behind');
}

/** A stand-in application: writes its pid file, holds the database open, exits on SIGTERM. */
export async function startFakeApp(
  root: string,
  opts: { holdDatabase?: boolean; ignoreTerm?: boolean } = {},
): Promise<{ pid: number; stop(): void; exited: Promise<void> }> {
  const script = `
const fs = require('node:fs');
const root = process.argv[1];
process.title = 'candy_cadence (fake, test)';
let db = null;
if (process.argv[2] === '1') { const Database = require('better-sqlite3'); db = new Database(root + '/data/candy_cadence.db'); db.prepare('SELECT 1').get(); }
fs.writeFileSync(root + '/candy_cadence.pid', String(process.pid));
process.on('SIGTERM', () => { if (process.argv[3] === '1') return; try { fs.unlinkSync(root + '/candy_cadence.pid'); } catch {} process.exit(0); });
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;
  const child = spawn(
    process.execPath,
    ['-e', script, root, opts.holdDatabase ? '1' : '0', opts.ignoreTerm ? '1' : '0'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
    child.on('error', reject);
    child.on('exit', (c) => reject(new Error(`fake app exited with ${c}`)));
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    pid: child.pid!,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    exited,
  };
}

export function writeSiteConfig(root: string, config: Record<string, unknown>): void {
  writeFileSync(path.join(root, 'cadence-ops.json'), JSON.stringify(config));
}

/** Polls the frame until `predicate` holds (keys typed into a dialog before it is drawn are lost). */
export async function waitForFrame(
  shell: { lastFrame(): string | undefined },
  predicate: (frame: string) => boolean,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = shell.lastFrame() ?? '';
    if (predicate(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the frame; last frame:\n${frame}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}
