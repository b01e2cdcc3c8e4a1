// The read-only SQL prompt: one statement, query-only connection, a row limit and a time limit.
// better-sqlite3 cannot interrupt a running statement (no progress handler, no interrupt), and a
// worker thread cannot be terminated while SQLite runs (termination waits for the native call to
// return), so the statement runs in a child process that is killed when the time is up: a runaway
// query never keeps a core busy or a WAL snapshot open after its time.
import { spawn } from 'node:child_process';
import { DbError, preflightDatabaseFile } from './db-connection.js';
import { type DbTaskInput, reviveDbError, type SqlResult } from './db-tasks.js';
import { cliCommand } from './self-exec.js';

export interface SqlPromptOptions {
  database: string;
  sql: string;
  rowLimit: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Refuses what the prompt never runs, before a process is started. */
export function checkPromptSql(sql: string): string | null {
  const text = sql.trim().replace(/;\s*$/, '');
  if (!text) return 'empty statement';
  if (/^\s*(ATTACH|DETACH|VACUUM|PRAGMA\s+\w+\s*=)/i.test(text))
    return 'only read-only statements are allowed here';
  return null;
}

/** Runs `input` in `cadence-ops db __task` and kills it at the time limit or on abort. */
export function runInChildProcess<T>(
  input: DbTaskInput,
  opts: { timeoutMs: number; signal?: AbortSignal; onProgress?: (m: unknown) => void },
): Promise<T> {
  const { command, args } = cliCommand(['db', '__task']);
  const file = 'file' in input ? input.file : 'options' in input ? input.options.database : '?';
  return new Promise<T>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new DbError(
              'other',
              file,
              `stopped after ${opts.timeoutMs} ms (time limit: database.sqlTimeoutMs)`,
            ),
          ),
        ),
      opts.timeoutMs,
    );
    const onAbort = () => finish(() => reject(new DbError('other', file, 'cancelled')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('message', (m: { type: string; result?: unknown; message?: string }) => {
      if (m.type === 'progress') opts.onProgress?.(m.result);
      else if (m.type === 'done') finish(() => resolve(m.result as T));
      else if (m.type === 'error') finish(() => reject(reviveDbError(new Error(m.message), file)));
    });
    child.on('error', (err) => finish(() => reject(err)));
    child.on('exit', (code, signal) =>
      finish(() => reject(new Error(`database task process exited (${signal ?? code}): ${stderr.trim()}`))),
    );
    child.send(input);
  });
}

export async function runPromptSql(opts: SqlPromptOptions): Promise<SqlResult> {
  const refused = checkPromptSql(opts.sql);
  if (refused) throw new DbError('readonly', opts.database, refused);
  preflightDatabaseFile(opts.database);
  return runInChildProcess<SqlResult>(
    { op: 'sql', file: opts.database, sql: opts.sql, rowLimit: opts.rowLimit },
    { timeoutMs: opts.timeoutMs, signal: opts.signal },
  );
}
