// Where the console keeps its own files. Nothing is written outside the site root, the backup
// folder(s) and these folders.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

export interface Env {
  [key: string]: string | undefined;
}

/** The console's state folder: $CADENCE_OPS_STATE_DIR, else $XDG_STATE_HOME/cadence-ops, else ~/.local/state/cadence-ops. */
export function stateDir(env: Env = process.env): string {
  if (env.CADENCE_OPS_STATE_DIR) return path.resolve(env.CADENCE_OPS_STATE_DIR);
  const base = env.XDG_STATE_HOME ? env.XDG_STATE_HOME : path.join(env.HOME ?? os.homedir(), '.local/state');
  return path.join(base, 'cadence-ops');
}

/** Per-user data folder that holds the demo site: $XDG_DATA_HOME/cadence-ops, else ~/.local/share/cadence-ops. */
export function dataDir(env: Env = process.env): string {
  if (env.CADENCE_OPS_DATA_DIR) return path.resolve(env.CADENCE_OPS_DATA_DIR);
  const base = env.XDG_DATA_HOME ? env.XDG_DATA_HOME : path.join(env.HOME ?? os.homedir(), '.local/share');
  return path.join(base, 'cadence-ops');
}

export function demoSiteDir(env: Env = process.env): string {
  return path.join(dataDir(env), 'demo-site');
}

/** One state database per site, so history and alerts of two sites never mix. */
export function siteStateDbPath(siteRoot: string, env: Env = process.env): string {
  const resolved = path.resolve(siteRoot);
  const id = createHash('sha1').update(resolved).digest('hex').slice(0, 10);
  const name = path.basename(resolved).replace(/[^A-Za-z0-9._-]/g, '_') || 'root';
  return path.join(stateDir(env), 'sites', `${name}-${id}.db`);
}

export function consoleLogPath(env: Env = process.env): string {
  return path.join(stateDir(env), 'cadence-ops.log');
}
