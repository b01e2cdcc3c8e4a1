// Temporary sites for the backup tests: a small real site (database, model files, thumbnails,
// logs) built by the demo builder, the default configuration (overridable), a state folder.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Config, configSchema } from '../../services/config.js';
import { buildSite } from '../../services/demo-site.js';
import { type SitePaths, sitePaths } from '../../services/site.js';
import { openStateDb, type StateDb } from '../../services/state-db.js';

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const fixturesDir = path.join(repoRoot, 'fixtures/backups');
export const cliPath = path.join(repoRoot, 'dist/cadence-ops.js');

export interface TestSite {
  dir: string;
  root: string;
  paths: SitePaths;
  config: Config;
  stateDir: string;
  stateDb: StateDb;
  cleanup(): void;
}

export async function makeSite(
  opts: { models?: number; config?: Record<string, unknown>; thumbnails?: number } = {},
): Promise<TestSite> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-backup-test-'));
  const root = path.join(dir, 'site');
  await buildSite(root, {
    models: opts.models ?? 300,
    modelFiles: 'small',
    thumbnails: opts.thumbnails ?? 20,
    logHistoryHours: 2,
    backups: false,
  });
  if (opts.config) writeFileSync(path.join(root, 'cadence-ops.json'), JSON.stringify(opts.config));
  const config = configSchema.parse(opts.config ?? {});
  const stateDir = path.join(dir, 'state');
  const stateDb = openStateDb(path.join(stateDir, 'state.db'));
  return {
    dir,
    root,
    paths: sitePaths(root, config),
    config,
    stateDir,
    stateDb,
    cleanup() {
      stateDb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Starts test/helpers/seq-writer.mjs on a database; resolves once it commits. */
export async function startWriter(
  database: string,
  rate: number,
): Promise<{
  stop(): Promise<{ commits: number; seconds: number; rate: number; busy: number; last: number }>;
}> {
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'test/helpers/seq-writer.mjs'), database, String(rate)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
  });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        child.removeAllListeners('exit');
        child.on('exit', () => {
          const line = out
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .pop();
          if (!line) reject(new Error(`writer printed no summary: ${out}`));
          else resolve(JSON.parse(line));
        });
        child.kill('SIGTERM');
      }),
  };
}
