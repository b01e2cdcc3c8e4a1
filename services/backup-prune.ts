// Retention (SITE.md, configurable under backups.retention): database backups 30 days, full
// backups 4 weeks, safety snapshots (pre_restore) 30 days. A plan first, always: what goes and
// why, what stays and why. Per location and kind, the newest verified backup is never deleted,
// however old; when none of a kind is verified, the newest of that kind is kept instead.
// Temporary files of interrupted creates whose process is gone go too.
import { unlink } from 'node:fs/promises';
import { type BackupInfo, type IncompleteFile, listBackups } from './backup-list.js';
import type { BackupKind } from './backup-names.js';
import { forgetVerifications } from './backup-state.js';
import type { Config } from './config.js';
import type { SitePaths } from './site.js';
import type { StateDb } from './state-db.js';

export interface PruneItem {
  backup: BackupInfo;
  why: string;
}

export interface PrunePlan {
  remove: PruneItem[];
  keep: PruneItem[];
  /** Leftovers of interrupted creates (their process is gone). */
  staleTemp: IncompleteFile[];
  errors: string[];
}

const DAY = 86_400_000;

export function retentionDays(config: Config, kind: BackupKind): number {
  const r = config.backups.retention;
  return kind === 'database' ? r.databaseDays : kind === 'full' ? r.fullWeeks * 7 : r.preRestoreDays;
}

export function planPrune(opts: {
  paths: SitePaths;
  config: Config;
  stateDb?: StateDb | null;
  now?: number;
}): PrunePlan {
  const now = opts.now ?? Date.now();
  const listing = listBackups(opts);
  const plan: PrunePlan = {
    remove: [],
    keep: [],
    staleTemp: listing.incomplete.filter((f) => !f.alive),
    errors: listing.errors,
  };
  const groups = new Map<string, BackupInfo[]>();
  for (const b of listing.backups) {
    const key = `${b.location}:${b.kind}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(b);
  }
  for (const group of groups.values()) {
    // Newest first (listBackups sorts so).
    const days = retentionDays(opts.config, group[0]!.kind);
    const newestVerified = group.find((b) => b.state === 'verified') ?? null;
    const guard = newestVerified ?? group[0]!;
    for (const b of group) {
      const ageDays = (now - b.time) / DAY;
      if (b === guard) {
        plan.keep.push({
          backup: b,
          why: newestVerified
            ? `newest verified ${b.kind} backup${b.location === 'secondary' ? ' in the secondary location' : ''}: never pruned`
            : `no ${b.kind} backup here is verified: the newest is kept`,
        });
      } else if (ageDays > days) {
        plan.remove.push({ backup: b, why: `${Math.floor(ageDays)} days old, retention ${days} days` });
      } else {
        plan.keep.push({ backup: b, why: `within the ${days}-day retention` });
      }
    }
  }
  return plan;
}

export async function executePrune(
  plan: PrunePlan,
  opts: { stateDb?: StateDb | null } = {},
): Promise<{ removed: string[]; errors: string[] }> {
  const removed: string[] = [];
  const errors: string[] = [];
  for (const item of plan.remove) {
    try {
      await unlink(item.backup.file);
      removed.push(item.backup.file);
      if (opts.stateDb) forgetVerifications(opts.stateDb, item.backup.file);
    } catch (err) {
      errors.push(`${item.backup.file}: ${(err as Error).message}`);
    }
  }
  for (const t of plan.staleTemp) {
    try {
      await unlink(t.file);
      removed.push(t.file);
    } catch (err) {
      errors.push(`${t.file}: ${(err as Error).message}`);
    }
  }
  return { removed, errors };
}
