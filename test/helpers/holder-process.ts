// A child process that holds files open the way the Candy-Cadence application does, for tests of
// open-file scans, lock probes and busy databases. It prints "ready" once everything is held.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface Holder {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `node -e SCRIPT MARKER ...args` in the repository root (so it can require better-sqlite3)
 * and resolves when the script prints "ready".
 */
export function startHolder(script: string, args: string[] = []): Promise<Holder> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, 'cadence-test-holder', ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`holder did not start: ${err}`));
    }, 15_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve({
          child,
          pid: child.pid!,
          stop: () =>
            new Promise<void>((res) => {
              if (child.exitCode !== null || child.signalCode !== null) return res();
              child.once('exit', () => res());
              child.kill('SIGKILL');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited ${code}: ${err}`));
    });
  });
}

/** Holds a WAL database open with a connection, optionally inside an open write transaction. */
export const HOLD_DATABASE = `
const Database = require('better-sqlite3');
const [file, mode] = process.argv.slice(2);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.prepare('SELECT count(*) FROM sqlite_schema').get();
if (mode === 'write-transaction') {
  db.exec('BEGIN IMMEDIATE');
  db.exec('CREATE TABLE IF NOT EXISTS _holder_probe (x)');
  db.exec('INSERT INTO _holder_probe VALUES (1)');
}
if (mode === 'exclusive') {
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec('BEGIN EXCLUSIVE');
}
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;

/** Holds plain files open: argv = [mode, file...] with mode r or r+. */
export const HOLD_FILES = `
const fs = require('fs');
const [mode, ...files] = process.argv.slice(2);
const fds = files.map((f) => fs.openSync(f, mode));
process.stdout.write('ready ' + fds.join(',') + '\\n');
setInterval(() => {}, 1000);
`;
