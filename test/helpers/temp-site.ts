// Temporary Candy-Cadence sites for tests, built by the same code as the demo, but small.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BuildSiteOptions, buildSite } from '../../services/demo-site.js';

export interface TempSite {
  root: string;
  /** A scratch folder beside the site for the console's state and data folders. */
  home: string;
  /** Environment for child processes: state and data folders inside `home`, CI unset. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function tempDir(prefix = 'cadence-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function makeTempSite(opts: BuildSiteOptions = {}): Promise<TempSite> {
  const home = tempDir();
  const root = path.join(home, 'site');
  await buildSite(root, {
    models: 200,
    modelFiles: 'small',
    thumbnails: 10,
    logHistoryHours: 2,
    backups: false,
    ...opts,
  });
  return {
    root,
    home,
    env: testEnv(home),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Process environment for the binary: own state/data folders, no CI (Ink would only draw the last frame). */
export function testEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CADENCE_OPS_STATE_DIR: path.join(home, 'state'),
    CADENCE_OPS_DATA_DIR: path.join(home, 'data'),
    ...extra,
  };
  delete env.CI;
  delete env.CANDY_CADENCE_ROOT;
  for (const key of Object.keys(env)) if (key.startsWith('CADENCE_OPS__')) delete env[key];
  return env;
}
