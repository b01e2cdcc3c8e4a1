// Connections to the site's SQLite database (SITE.md): read-only by default, a write connection only
// for an explicit maintenance action and only for its duration. Every failure to open becomes a
// DbError that names the file and says plainly what is wrong (missing, no permission, not a
// database, corrupt, busy), so screens and verbs never show a raw SQLite code alone.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export type DbErrorKind =
  | 'missing'
  | 'permission'
  | 'not-a-database'
  | 'corrupt'
  | 'busy'
  | 'readonly'
  | 'full'
  | 'other';

export class DbError extends Error {
  constructor(
    readonly kind: DbErrorKind,
    readonly file: string,
    message: string,
    readonly code?: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'DbError';
  }
}

const SQLITE_HEADER = 'SQLite format 3\0';

/** Turns whatever opening or querying threw into a DbError naming the file. */
export function classifyDbError(err: unknown, file: string): DbError {
  if (err instanceof DbError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new DbError('busy', file, `database is locked by another connection (${code})`, code);
  if (code.startsWith('SQLITE_NOTADB'))
    return new DbError('not-a-database', file, 'not a SQLite database', code);
  if (code.startsWith('SQLITE_CORRUPT'))
    return new DbError('corrupt', file, `database is corrupt: ${msg}`, code);
  if (code.startsWith('SQLITE_READONLY'))
    return new DbError('readonly', file, `cannot write to the database: ${msg}`, code);
  if (code.startsWith('SQLITE_FULL')) return new DbError('full', file, 'disk or database full', code);
  if (code.startsWith('SQLITE_PERM') || code === 'EACCES' || code === 'EPERM')
    return new DbError('permission', file, `permission denied: ${msg}`, code);
  if (code.startsWith('SQLITE_CANTOPEN')) return new DbError('permission', file, `cannot open: ${msg}`, code);
  return new DbError('other', file, msg, code || undefined);
}

/**
 * Checks the file before SQLite sees it: exists, is a readable regular file, starts with the
 * SQLite header. Returns the size. Throws DbError.
 */
export function preflightDatabaseFile(file: string): { size: number } {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new DbError('not-a-database', file, 'not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof DbError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DbError('missing', file, 'no such file', code);
    if (code === 'EACCES' || code === 'EPERM')
      throw new DbError('permission', file, 'permission denied (cannot reach the file)', code);
    throw new DbError('other', file, (err as Error).message, code);
  }
  if (size === 0) throw new DbError('not-a-database', file, 'empty file (0 bytes): not a SQLite database');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new DbError('permission', file, 'permission denied (cannot read the file)', code);
    throw new DbError('other', file, (err as Error).message, code);
  }
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    if (n < 16 || head.toString('latin1') !== SQLITE_HEADER)
      throw new DbError(
        'not-a-database',
        file,
        `not a SQLite database (header ${JSON.stringify(
          head
            .subarray(0, n)
            .toString('latin1')
            .replace(/[^\x20-\x7e]/g, '.'),
        )})`,
      );
  } finally {
    closeSync(fd);
  }
  return { size };
}

export interface OpenOptions {
  /** How long a statement waits for a lock before SQLITE_BUSY (ms). */
  busyTimeoutMs?: number;
}

/** A read-only, query-only connection: nothing it runs can change the database. */
export function openReadOnly(file: string, opts: OpenOptions = {}): Db {
  preflightDatabaseFile(file);
  let db: Db | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: opts.busyTimeoutMs ?? 2000 });
    db.pragma('query_only = ON');
    // Reads the header and schema now, so a damaged file fails here with a clear error.
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    return db;
  } catch (err) {
    db?.close();
    throw classifyDbError(err, file);
  }
}

/** Runs fn with a read-only connection and closes it after. */
export function withReadOnly<T>(file: string, fn: (db: Db) => T, opts: OpenOptions = {}): T {
  const db = openReadOnly(file, opts);
  try {
    return fn(db);
  } catch (err) {
    throw classifyDbError(err, file);
  } finally {
    db.close();
  }
}

/**
 * Runs fn with a write connection, held no longer than fn: for an explicit maintenance action only.
 * The busy timeout bounds how long a statement waits for the application's lock.
 */
export function withWriteConnection<T>(file: string, fn: (db: Db) => T, opts: OpenOptions = {}): T {
  preflightDatabaseFile(file);
  let db: Db | null = null;
  try {
    db = new Database(file, { fileMustExist: true, timeout: opts.busyTimeoutMs ?? 5000 });
    return fn(db);
  } catch (err) {
    throw classifyDbError(err, file);
  } finally {
    db?.close();
  }
}

/** Quotes an identifier for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
