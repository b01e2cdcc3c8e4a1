// The console's own SQLite database, one per site (see paths.ts). WAL and a busy timeout let a
// second console or a headless run write at the same time. Each service declares its own tables
// through ensureSchema, so concerns stay apart and nothing is migrated centrally.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type StateDb = Database.Database;

export function openStateDb(file: string): StateDb {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  return db;
}

/**
 * Applies the not-yet-applied steps of a named schema, each in a transaction. `steps[i]` brings
 * the schema to version i+1; append new steps, never edit old ones.
 */
export function ensureSchema(db: StateDb, name: string, steps: string[]): void {
  const row = db.prepare('SELECT version FROM schema_versions WHERE name = ?').get(name) as
    | { version: number }
    | undefined;
  const current = row?.version ?? 0;
  if (current >= steps.length) return;
  db.transaction(() => {
    // Re-read inside the write transaction: another process may have migrated meanwhile.
    const again = db.prepare('SELECT version FROM schema_versions WHERE name = ?').get(name) as
      | { version: number }
      | undefined;
    for (let v = again?.version ?? 0; v < steps.length; v++) db.exec(steps[v]!);
    db.prepare(
      'INSERT INTO schema_versions (name, version) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version',
    ).run(name, steps.length);
  }).immediate();
}
