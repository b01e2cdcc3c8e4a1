// Verification results kept in the console's state database (schema "backups"): when, how long,
// ok or the exact reason, and a summary (counts, manifest). A result belongs to the file as it was
// (size and mtime): when the file changes, the result no longer counts.
import { statSync } from 'node:fs';
import type { TableCounts } from './backup-sqlite.js';
import type { VerifyResult } from './backup-verify.js';
import { ensureSchema, type StateDb } from './state-db.js';

const SCHEMA = [
  `CREATE TABLE backup_verifications (
     id INTEGER PRIMARY KEY,
     file TEXT NOT NULL,
     size INTEGER NOT NULL,
     mtime_ms INTEGER NOT NULL,
     verified_at INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     ok INTEGER NOT NULL,
     reason TEXT,
     summary TEXT NOT NULL
   );
   CREATE INDEX backup_verifications_file ON backup_verifications (file, verified_at);`,
];

const ready = new WeakSet<StateDb>();
function schema(db: StateDb): void {
  if (ready.has(db)) return;
  ensureSchema(db, 'backups', SCHEMA);
  ready.add(db);
}

export interface VerificationSummary {
  fileCount: number;
  totalSize: number;
  uncompressedBytes: number;
  counts: TableCounts | null;
  problems: string[];
  manifest: VerifyResult['manifest'];
}

export interface VerificationRecord {
  file: string;
  verifiedAt: number;
  durationMs: number;
  ok: boolean;
  reason: string | null;
  summary: VerificationSummary;
  /** False when the file changed (size or mtime) after it was verified. */
  current: boolean;
}

const KEEP_PER_FILE = 20;

export function recordVerification(db: StateDb, file: string, result: VerifyResult): void {
  schema(db);
  let size = -1;
  let mtime = -1;
  try {
    const st = statSync(file);
    size = st.size;
    mtime = Math.round(st.mtimeMs);
  } catch {}
  const summary: VerificationSummary = {
    fileCount: result.fileCount,
    totalSize: result.totalSize,
    uncompressedBytes: result.uncompressedBytes,
    counts: result.database?.counts ?? null,
    problems: result.problems.slice(0, 10),
    manifest: result.manifest,
  };
  db.transaction(() => {
    db.prepare(
      'INSERT INTO backup_verifications (file, size, mtime_ms, verified_at, duration_ms, ok, reason, summary) VALUES (?,?,?,?,?,?,?,?)',
    ).run(
      file,
      size,
      mtime,
      result.verifiedAt,
      result.durationMs,
      result.ok ? 1 : 0,
      result.reason,
      JSON.stringify(summary),
    );
    db.prepare(
      `DELETE FROM backup_verifications WHERE file = ? AND id NOT IN
         (SELECT id FROM backup_verifications WHERE file = ? ORDER BY verified_at DESC, id DESC LIMIT ${KEEP_PER_FILE})`,
    ).run(file, file);
  })();
}

interface Row {
  file: string;
  size: number;
  mtime_ms: number;
  verified_at: number;
  duration_ms: number;
  ok: number;
  reason: string | null;
  summary: string;
}

export function latestVerification(
  db: StateDb,
  file: string,
  now: { size: number; mtimeMs: number } | null = null,
): VerificationRecord | null {
  schema(db);
  const row = db
    .prepare('SELECT * FROM backup_verifications WHERE file = ? ORDER BY verified_at DESC, id DESC LIMIT 1')
    .get(file) as Row | undefined;
  if (!row) return null;
  let current = now;
  if (!current) {
    try {
      current = statSync(file);
    } catch {}
  }
  return {
    file: row.file,
    verifiedAt: row.verified_at,
    durationMs: row.duration_ms,
    ok: row.ok === 1,
    reason: row.reason,
    summary: JSON.parse(row.summary) as VerificationSummary,
    current: Boolean(current && current.size === row.size && Math.round(current.mtimeMs) === row.mtime_ms),
  };
}

export function forgetVerifications(db: StateDb, file: string): void {
  schema(db);
  db.prepare('DELETE FROM backup_verifications WHERE file = ?').run(file);
}
