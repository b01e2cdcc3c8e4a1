// Real SQLite files for the database tools' tests: the site schema with data, a copy with damaged
// pages, a rollback-journal database, a file that is not a database.
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createSiteDatabase } from '../../services/demo-site.js';

export const NOW = Date.parse('2026-11-23T08:00:00Z');

/** The site schema with `models` rows (5 metadata rows each), WAL mode, recommended indexes partly missing. */
export function makeSiteDb(dir: string, models = 2000, name = 'candy_cadence.db'): string {
  const file = path.join(dir, name);
  createSiteDatabase(file, {
    models,
    seed: 7,
    now: NOW,
    omitIndexes: ['idx_models_file_size', 'idx_metadata_model_id', 'idx_models_created_date'],
  });
  return file;
}

/**
 * A database with damaged pages: garbage written over the middle of two leaf pages of `models`
 * and one of an index, the way a torn write or a bad disk leaves it.
 */
export function makeCorruptDb(dir: string): string {
  const file = makeSiteDb(dir, 3000, 'corrupt.db');
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('journal_mode = DELETE');
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const leaves = db
    .prepare("SELECT pageno FROM dbstat WHERE name = 'models' AND pagetype = 'leaf' ORDER BY pageno")
    .all() as Array<{ pageno: number }>;
  const idx = db
    .prepare("SELECT pageno FROM dbstat WHERE name = 'idx_models_name' AND pagetype = 'leaf' ORDER BY pageno")
    .all() as Array<{ pageno: number }>;
  db.close();
  const fd = openSync(file, 'r+');
  try {
    const garbage = Buffer.alloc(pageSize / 2, 0xa5);
    for (const p of [leaves[3]!.pageno, leaves[10]!.pageno, idx[2]!.pageno])
      writeSync(fd, garbage, 0, garbage.length, (p - 1) * pageSize + 8);
  } finally {
    closeSync(fd);
  }
  return file;
}

/** The site schema in rollback-journal (DELETE) mode, as an older installation may have it. */
export function makeRollbackDb(dir: string): string {
  const file = makeSiteDb(dir, 500, 'rollback.db');
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.close();
  return file;
}

export function makeNotADatabase(dir: string): string {
  const file = path.join(dir, 'notes.db');
  writeFileSync(file, 'These are not the pages you are looking for.\n'.repeat(200));
  return file;
}
