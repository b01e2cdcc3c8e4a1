// Health check "dependencies": the files and folders a site needs (SITE.md layout) are there and of
// the right kind, and the SQLite library is new enough and has what the site's database uses (FTS5
// for models_fts, WAL). A missing database is critical; a missing folder the application recreates
// (temp, cache, thumbnails) is a warning.
import { statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  type CheckContext,
  type CheckOutcome,
  type HealthState,
  outcome,
  worstState,
} from './health-types.js';

interface Need {
  path: string;
  kind: 'file' | 'folder';
  severity: 'warning' | 'critical';
  what: string;
}

export function siteNeeds(ctx: Pick<CheckContext, 'paths'>): Need[] {
  const p = ctx.paths;
  const rel = (f: string) => path.relative(p.root, f) || f;
  return [
    { path: p.database, kind: 'file', severity: 'critical', what: `the database (${rel(p.database)})` },
    { path: p.models, kind: 'folder', severity: 'critical', what: `the model files (${rel(p.models)})` },
    { path: p.configJson, kind: 'file', severity: 'critical', what: 'config.json' },
    { path: p.settingsJson, kind: 'file', severity: 'warning', what: 'settings.json' },
    { path: p.logs, kind: 'folder', severity: 'warning', what: `the logs folder (${rel(p.logs)})` },
    { path: p.backups, kind: 'folder', severity: 'warning', what: `the backups folder (${rel(p.backups)})` },
    { path: p.thumbnails, kind: 'folder', severity: 'warning', what: `thumbnails (${rel(p.thumbnails)})` },
    { path: p.cache, kind: 'folder', severity: 'warning', what: `the cache (${rel(p.cache)})` },
    { path: p.themes, kind: 'folder', severity: 'warning', what: `themes (${rel(p.themes)})` },
    { path: p.temp, kind: 'folder', severity: 'warning', what: `temp (${rel(p.temp)})` },
    {
      path: path.join(p.root, 'requirements.txt'),
      kind: 'file',
      severity: 'warning',
      what: 'requirements.txt (backed up with the configuration)',
    },
    ...(p.secondaryBackups
      ? [
          {
            path: p.secondaryBackups,
            kind: 'folder' as const,
            severity: 'warning' as const,
            what: `the secondary backup location (${p.secondaryBackups})`,
          },
        ]
      : []),
  ];
}

/** -1, 0, 1 for dotted versions. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** The SQLite library the console (and its backups and checks) use: version and compile options. */
export function sqliteLibrary(): { version: string; options: string[] } {
  const db = new Database(':memory:');
  try {
    const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    const options = (db.pragma('compile_options') as Array<{ compile_options: string }>).map(
      (r) => r.compile_options,
    );
    return { version, options };
  } finally {
    db.close();
  }
}

export function checkDependencies(ctx: CheckContext): CheckOutcome {
  const findings: string[] = [];
  const states: HealthState[] = [];
  const missing: string[] = [];
  for (const need of siteNeeds(ctx)) {
    let kind: 'file' | 'folder' | 'other' | null = null;
    try {
      const st = statSync(need.path);
      kind = st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        states.push(need.severity);
        findings.push(`${need.what}: cannot be examined (${code ?? (err as Error).message})`);
        continue;
      }
    }
    if (kind === null) {
      states.push(need.severity);
      missing.push(need.what);
      findings.push(`${need.what} is missing (${need.path})`);
    } else if (kind !== need.kind) {
      states.push(need.severity);
      findings.push(`${need.what} is not a ${need.kind} (${need.path})`);
    }
  }
  const min = ctx.config.health.minSqliteVersion;
  let sqlite: { version: string; options: string[] } | null = null;
  try {
    sqlite = sqliteLibrary();
    if (compareVersions(sqlite.version, min) < 0) {
      states.push('critical');
      findings.push(`SQLite ${sqlite.version} is older than ${min} (health.minSqliteVersion)`);
    }
    if (!sqlite.options.some((o) => o === 'ENABLE_FTS5')) {
      states.push('warning');
      findings.push(
        `SQLite ${sqlite.version} has no FTS5: the models_fts search index cannot be read or checked`,
      );
    }
  } catch (err) {
    states.push('critical');
    findings.push(`the SQLite library cannot be loaded: ${(err as Error).message}`);
  }
  const state = worstState(states);
  const data = { sqliteVersion: sqlite?.version ?? null, minSqliteVersion: min, missing };
  if (state === 'ok') return outcome('ok', `site layout complete; SQLite ${sqlite?.version}`, null, [], data);
  const recommendation = missing.length
    ? missing.some((m) => m.startsWith('the database') || m.startsWith('config.json'))
      ? 'restore the missing files from the newest verified full backup (Backups screen, 4); check --root'
      : `recreate the missing folders (mkdir -p) or restore them from the newest full backup`
    : 'reinstall cadence-ops (npm ci builds better-sqlite3 with its bundled SQLite)';
  return outcome(state, findings[0]!, recommendation, findings, data);
}
