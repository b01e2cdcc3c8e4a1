// Health check "backup freshness": the age of the newest *verified* backup of each scheduled kind
// (database daily, full weekly: SITE.md) against health.backupMaxAgeHours, from the backup listing
// and the verification results the backup service keeps in the state database (backup-list.ts,
// backup-state.ts). A newer backup that failed verification, or that nobody verified, is said too:
// an unverified backup is not a backup yet.
import { type BackupInfo, listBackups } from './backup-list.js';
import type { BackupKind } from './backup-names.js';
import {
  type CheckContext,
  type CheckOutcome,
  formatHours,
  type HealthState,
  levelOf,
  outcome,
  worstState,
} from './health-types.js';

export const SCHEDULED_KINDS = ['database', 'full'] as const satisfies readonly BackupKind[];
export type ScheduledKind = (typeof SCHEDULED_KINDS)[number];

export interface KindFreshness {
  kind: ScheduledKind;
  /** The newest backup of the kind (any state), and the newest verified one. */
  newest: { name: string; time: number; state: string } | null;
  newestVerified: { name: string; time: number; verifiedAt: number | null } | null;
  /** Hours since the newest verified backup was taken. */
  ageHours: number | null;
  state: HealthState;
  finding: string;
}

export function backupFreshness(
  backups: BackupInfo[],
  ctx: Pick<CheckContext, 'config' | 'now'>,
): KindFreshness[] {
  return SCHEDULED_KINDS.map((kind) => {
    const ofKind = backups.filter((b) => b.kind === kind && b.location === 'primary');
    const pool = ofKind.length ? ofKind : backups.filter((b) => b.kind === kind);
    const newest = pool[0] ?? null;
    const verified = pool.find((b) => b.state === 'verified') ?? null;
    const ageHours = verified ? (ctx.now - verified.time) / 3_600_000 : null;
    const levels = ctx.config.health.backupMaxAgeHours[kind];
    let state: HealthState;
    let finding: string;
    const label = kind === 'database' ? 'database' : 'full';
    if (!verified) {
      state = 'critical';
      finding = newest
        ? `no verified ${label} backup (newest ${newest.name}: ${newest.state})`
        : `no ${label} backup at all`;
    } else {
      state = levelOf(ageHours, levels);
      finding = `newest verified ${label} backup ${formatHours(ageHours!)} old${state === 'ok' ? '' : ` (${state} after ${formatHours(state === 'critical' ? levels.critical : levels.warning)})`}`;
      if (newest && newest !== verified && newest.state === 'failed') {
        state = worstState([state, 'warning']);
        finding += `; the newer ${newest.name} FAILED verification${newest.verification?.reason ? `: ${newest.verification.reason}` : ''}`;
      } else if (newest && newest !== verified) finding += `; newer ${newest.name} is ${newest.state}`;
    }
    return {
      kind,
      newest: newest ? { name: newest.name, time: newest.time, state: newest.state } : null,
      newestVerified: verified
        ? { name: verified.name, time: verified.time, verifiedAt: verified.verification?.verifiedAt ?? null }
        : null,
      ageHours,
      state,
      finding,
    };
  });
}

export function checkBackups(ctx: CheckContext): CheckOutcome {
  if (!ctx.stateDb)
    return outcome(
      'unknown',
      'backup verification state unknown (no state database)',
      'run with access to the console state folder (CADENCE_OPS_STATE_DIR)',
    );
  const listing = listBackups({ paths: ctx.paths, stateDb: ctx.stateDb });
  const kinds = backupFreshness(listing.backups, ctx);
  const findings = [...kinds.map((k) => k.finding), ...listing.errors];
  const states = [...kinds.map((k) => k.state), ...listing.errors.map(() => 'warning' as const)];
  const state = worstState(states);
  const data = {
    kinds: kinds.map(({ kind, newest, newestVerified, ageHours, state }) => ({
      kind,
      newest,
      newestVerified,
      ageHours,
      state,
    })),
    count: listing.backups.length,
  };
  if (state === 'ok') return outcome('ok', findings.join('; '), null, findings, data);
  const bad = kinds.filter((k) => k.state !== 'ok');
  const unverifiedOnly = bad.some((k) => !k.newestVerified && k.newest);
  const recommendation = unverifiedOnly
    ? 'verify the backups (cadence-ops backup verify --all, or v on the Backups screen, 4); make a new one if none passes'
    : bad.length
      ? `make a new backup now (cadence-ops backup create --type ${bad[0]!.kind}) and schedule them (cadence-ops schedule --systemd)`
      : 'check the secondary backup location (paths.secondaryBackups)';
  return outcome(state, (bad[0]?.finding ?? findings[0])!, recommendation, findings, data);
}
