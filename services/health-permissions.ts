// Health check "file permissions" (the procedures' security audit): the database (and its WAL and
// shared-memory files) and the configuration files must not be writable by others; `.env` (secrets)
// and the backups (full backups carry `.env` and the whole database) must not be readable by others.
// A backup file readable by others matters only when its folder lets others in, so both are looked at.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseBackupName } from './backup-names.js';
import {
  type CheckContext,
  type CheckOutcome,
  type HealthState,
  outcome,
  worstState,
} from './health-types.js';

export interface PermissionFinding {
  file: string;
  mode: string;
  problem: string;
  severity: 'warning' | 'critical';
  fix: string;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

function modeOf(file: string): number | null {
  try {
    return statSync(file).mode;
  } catch {
    return null;
  }
}

/** Every permission problem of a site, most severe first. */
export function auditPermissions(ctx: Pick<CheckContext, 'paths'>): {
  findings: PermissionFinding[];
  checked: number;
} {
  const { paths } = ctx;
  const findings: PermissionFinding[] = [];
  let checked = 0;
  const notWritable = (file: string, what: string) => {
    const mode = modeOf(file);
    if (mode === null) return;
    checked++;
    if (mode & 0o002)
      findings.push({
        file,
        mode: octal(mode),
        problem: `${what} is writable by others`,
        severity: 'critical',
        fix: `chmod o-w ${file}`,
      });
  };
  for (const suffix of ['', '-wal', '-shm', '-journal']) notWritable(paths.database + suffix, 'the database');
  notWritable(path.dirname(paths.database), 'the database folder');
  for (const file of [paths.configJson, paths.settingsJson, path.join(paths.root, 'cadence-ops.json')])
    notWritable(file, path.basename(file));

  const envMode = modeOf(paths.envFile);
  if (envMode !== null) {
    checked++;
    if (envMode & 0o004)
      findings.push({
        file: paths.envFile,
        mode: octal(envMode),
        problem: '.env (secrets) is readable by others',
        severity: 'critical',
        fix: `chmod 600 ${paths.envFile}`,
      });
    if (envMode & 0o002)
      findings.push({
        file: paths.envFile,
        mode: octal(envMode),
        problem: '.env is writable by others',
        severity: 'critical',
        fix: `chmod 600 ${paths.envFile}`,
      });
  }

  for (const dir of [paths.backups, paths.secondaryBackups].filter((d): d is string => Boolean(d))) {
    const dirMode = modeOf(dir);
    if (dirMode === null) continue;
    checked++;
    // Others can list and enter the folder: the files' own modes decide.
    const open = (dirMode & 0o005) !== 0;
    if (dirMode & 0o004)
      findings.push({
        file: dir,
        mode: octal(dirMode),
        problem: 'the backups folder is listable by others',
        severity: 'warning',
        fix: `chmod 700 ${dir}`,
      });
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {}
    for (const name of names) {
      const parsed = parseBackupName(name);
      if (!parsed) continue;
      const file = path.join(dir, name);
      const mode = modeOf(file);
      if (mode === null) continue;
      checked++;
      if (mode & 0o004 && open && dirMode & 0o001)
        findings.push({
          file,
          mode: octal(mode),
          problem: `${name} is readable by others${parsed.kind === 'database' ? '' : ' (it holds .env)'}`,
          severity: 'critical',
          fix: `chmod 600 ${file}`,
        });
      else if (mode & 0o004)
        findings.push({
          file,
          mode: octal(mode),
          problem: `${name} is readable by others (the folder keeps them out for now)`,
          severity: 'warning',
          fix: `chmod 600 ${file}`,
        });
    }
  }
  findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
  return { findings, checked };
}

export function checkPermissions(ctx: CheckContext): CheckOutcome {
  const { findings, checked } = auditPermissions(ctx);
  if (checked === 0)
    return outcome('unknown', 'no site files found to check', 'check the site root (--root)', [], {
      checked,
    });
  const state: HealthState = worstState(findings.map((f) => f.severity));
  const lines = findings.map((f) => `${f.problem} (${f.mode}): ${f.fix}`);
  if (state === 'ok')
    return outcome('ok', `permissions ok (${checked} files and folders)`, null, [], { checked });
  const fixes = [...new Set(findings.map((f) => f.fix))];
  return outcome(
    state,
    `${findings.length} permission problem${findings.length === 1 ? '' : 's'}: ${findings[0]!.problem}`,
    fixes.length <= 3
      ? fixes.join('; ')
      : `${fixes.slice(0, 2).join('; ')} and ${fixes.length - 2} more (see --json)`,
    lines,
    { checked, problems: findings },
  );
}
