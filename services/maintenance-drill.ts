// The quarterly disaster-recovery drill: restore the newest full backup into a scratch folder and
// prove it is usable, without touching the site. Uses the backup and restore services: the archive
// is verified (backup-verify.ts, every manifest checksum, the database's integrity) and its result
// recorded, then extracted strictly into the scratch folder by the restore's staging
// (restore-stage.ts: only files and folders under the top folder, every staged file checked against
// the manifest), then the restored database is opened and checked on its own (integrity_check,
// models and metadata counted and compared with the live database), and the scratch folder removed.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_ARCHIVE_PATH } from './backup-layout.js';
import { type BackupInfo, listBackups } from './backup-list.js';
import { countRows, type TableCounts } from './backup-sqlite.js';
import { recordVerification } from './backup-state.js';
import { verifyBackup } from './backup-verify.js';
import type { Config } from './config.js';
import { withReadOnly } from './db-connection.js';
import { stageArchive } from './restore-stage.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';

export interface DrillResult {
  ok: boolean;
  backup: string | null;
  /** What went wrong, in words (null when ok). */
  reason: string | null;
  steps: Array<{ step: string; ok: boolean; ms: number; detail: string }>;
  restoredFiles: number;
  restoredBytes: number;
  counts: TableCounts | null;
  liveCounts: TableCounts | null;
  durationMs: number;
}

export interface DrillOptions {
  paths: SitePaths;
  config: Config;
  stateDb: StateDb | null;
  /** Where the scratch folder is made (default backups.tempDir, else the system temp folder). */
  scratchParent?: string;
  /** Keep the scratch folder (for a look); default false. */
  keep?: boolean;
  dryRun?: boolean;
}

/** The backup the drill would restore: the newest full backup, verified ones first. */
export function drillCandidate(paths: SitePaths, stateDb: StateDb | null): BackupInfo | null {
  const full = listBackups({ paths, stateDb }).backups.filter((b) => b.kind === 'full');
  return full.find((b) => b.state === 'verified') ?? full[0] ?? null;
}

export async function runDrill(opts: DrillOptions): Promise<DrillResult> {
  const started = performance.now();
  const steps: DrillResult['steps'] = [];
  const result: DrillResult = {
    ok: false,
    backup: null,
    reason: null,
    steps,
    restoredFiles: 0,
    restoredBytes: 0,
    counts: null,
    liveCounts: null,
    durationMs: 0,
  };
  const step = async <T>(name: string, fn: () => Promise<T> | T, detail: (v: T) => string): Promise<T> => {
    const t = performance.now();
    try {
      const v = await fn();
      steps.push({ step: name, ok: true, ms: performance.now() - t, detail: detail(v) });
      return v;
    } catch (err) {
      steps.push({ step: name, ok: false, ms: performance.now() - t, detail: (err as Error).message });
      throw err;
    }
  };
  const candidate = drillCandidate(opts.paths, opts.stateDb);
  if (!candidate) {
    result.reason = `no full backup in ${opts.paths.backups} to restore`;
    result.durationMs = performance.now() - started;
    return result;
  }
  result.backup = candidate.name;
  if (opts.dryRun) {
    result.ok = true;
    steps.push({
      step: 'plan',
      ok: true,
      ms: 0,
      detail: `would verify ${candidate.name} (${candidate.state}), restore it into a scratch folder, check the restored database, remove the folder`,
    });
    result.durationMs = performance.now() - started;
    return result;
  }
  const parent = opts.scratchParent ?? opts.config.backups.tempDir ?? os.tmpdir();
  let scratch: string | null = null;
  try {
    const verification = await step(
      'verify the archive',
      () => verifyBackup(candidate.file, { config: opts.config, inline: true }),
      (v) => (v.ok ? `ok: ${v.fileCount} files, every checksum matches` : `FAILED: ${v.reason}`),
    );
    if (opts.stateDb) recordVerification(opts.stateDb, candidate.file, verification);
    if (!verification.ok) throw new Error(`${candidate.name} failed verification: ${verification.reason}`);

    scratch = mkdtempSync(path.join(parent, 'cadence-dr-drill-'));
    const staged = await step(
      'restore into a scratch folder',
      () =>
        stageArchive(
          { file: candidate.file, config: opts.config, stagingDir: scratch!, include: () => true },
          statSync(candidate.file).size,
        ),
      (s) => `${s.files.size} files, ${(s.bytes / 1048576).toFixed(1)} MB, each matching the manifest`,
    );
    result.restoredFiles = staged.files.size;
    result.restoredBytes = staged.bytes;

    const restoredDb = path.join(scratch, ...DATABASE_ARCHIVE_PATH.split('/'));
    const counts = await step(
      'check the restored database',
      () => {
        const db = new Database(restoredDb, { readonly: true, fileMustExist: true });
        try {
          const problems = (db.pragma('integrity_check(20)') as Array<{ integrity_check: string }>)
            .map((r) => r.integrity_check)
            .filter((r) => r !== 'ok');
          if (problems.length) throw new Error(`integrity_check: ${problems.slice(0, 3).join('; ')}`);
          const { counts, missingTables } = countRows(db);
          if (missingTables.length)
            throw new Error(`the restored database lacks ${missingTables.join(', ')}`);
          return counts;
        } finally {
          db.close();
        }
      },
      (c) => `integrity ok; ${c.models} models, ${c.metadata} metadata rows`,
    );
    result.counts = counts;
    try {
      result.liveCounts = withReadOnly(opts.paths.database, (db) => countRows(db).counts, {
        busyTimeoutMs: 2000,
      });
      const live = result.liveCounts.models ?? 0;
      steps.push({
        step: 'compare with the live database',
        ok: true,
        ms: 0,
        detail: `live ${live} models; the backup would bring back ${counts.models} (${(counts.models ?? 0) - live >= 0 ? '+' : ''}${(counts.models ?? 0) - live} since it was taken)`,
      });
    } catch (err) {
      steps.push({
        step: 'compare with the live database',
        ok: true,
        ms: 0,
        detail: `live database not readable: ${(err as Error).message}`,
      });
    }
    result.ok = true;
  } catch (err) {
    result.reason = (err as Error).message;
  } finally {
    if (scratch && !opts.keep) {
      rmSync(scratch, { recursive: true, force: true });
      steps.push({ step: 'remove the scratch folder', ok: true, ms: 0, detail: scratch });
    }
    result.durationMs = performance.now() - started;
  }
  return result;
}
