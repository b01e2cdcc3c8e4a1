// Backup file names (SITE.md): what kind a file is and when it was taken, from its name alone.
//   candy_cadence_backup_YYYYmmdd_HHMMSS.db.gz   the database, gzip
//   full_backup_YYYYmmdd_HHMMSS.tar.gz           the full layout with backup_manifest.json
//   pre_restore_YYYYmmdd_HHMMSS.tar.gz           the safety snapshot a restore takes first (same layout)
// The stamp is local time, as the procedures' scripts write it.

export type BackupKind = 'database' | 'full' | 'pre_restore';

export const BACKUP_KINDS: BackupKind[] = ['database', 'full', 'pre_restore'];

const PATTERNS: Array<[BackupKind, RegExp, string, string]> = [
  ['database', /^candy_cadence_backup_(\d{8}_\d{6})\.db\.gz$/, 'candy_cadence_backup_', '.db.gz'],
  ['full', /^full_backup_(\d{8}_\d{6})\.tar\.gz$/, 'full_backup_', '.tar.gz'],
  ['pre_restore', /^pre_restore_(\d{8}_\d{6})\.tar\.gz$/, 'pre_restore_', '.tar.gz'],
];

export interface ParsedBackupName {
  name: string;
  kind: BackupKind;
  stamp: string;
  /** When it was taken (from the stamp, local time), ms since the epoch. */
  time: number;
  /** For archives: the one top folder every entry lives under. */
  topFolder: string | null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** YYYYmmdd_HHMMSS in local time. */
export function formatStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}_${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

export function parseStamp(stamp: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/.exec(stamp);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (date.getMonth() !== mo - 1 || date.getDate() !== d || date.getHours() !== h) return null;
  return date.getTime();
}

export function backupName(kind: BackupKind, time: number): string {
  const [, , prefix, suffix] = PATTERNS.find(([k]) => k === kind)!;
  return `${prefix}${formatStamp(time)}${suffix}`;
}

export function parseBackupName(name: string): ParsedBackupName | null {
  for (const [kind, re] of PATTERNS) {
    const m = re.exec(name);
    if (!m) continue;
    const time = parseStamp(m[1]!);
    if (time === null) return null;
    return {
      name,
      kind,
      stamp: m[1]!,
      time,
      topFolder: kind === 'database' ? null : name.slice(0, -'.tar.gz'.length),
    };
  }
  return null;
}

export function isArchiveKind(kind: BackupKind): boolean {
  return kind !== 'database';
}

export const KIND_LABEL: Record<BackupKind, string> = {
  database: 'database',
  full: 'full',
  pre_restore: 'pre-restore',
};

/** Temporary names start with a dot, so listings and other tools skip them; the pid tells a stale one. */
export function tempNameFor(finalName: string, purpose = 'tmp'): string {
  return `.${finalName}.${purpose}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export const TEMP_NAME_RE = /^\.(.+)\.([a-z]+)-(\d+)-[a-z0-9]+$/;
