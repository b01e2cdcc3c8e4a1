// The health checks in a worker thread (task "health"), so the console and `serve` never wait for a
// quick_check or a log scan on their own thread. Input and output are plain JSON.
import type { Config } from './config.js';
import { runHealthChecks } from './health-run.js';
import type { CheckId, HealthReport } from './health-types.js';
import type { SitePaths } from './site.js';
import { openStateDb, type StateDb } from './state-db.js';

export interface HealthWorkerInput {
  paths: SitePaths;
  config: Config;
  stateDbPath: string | null;
  only?: CheckId[];
}

export async function run(raw: unknown): Promise<HealthReport> {
  const input = raw as HealthWorkerInput;
  let db: StateDb | null = null;
  try {
    db = input.stateDbPath ? openStateDb(input.stateDbPath) : null;
  } catch {
    db = null;
  }
  try {
    return await runHealthChecks({ paths: input.paths, config: input.config, stateDb: db, only: input.only });
  } finally {
    db?.close();
  }
}
