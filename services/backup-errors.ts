// One error type for every backup and restore failure, with a code a caller can act on and a
// message that names the file and says what is wrong.

export type BackupErrorCode =
  | 'NO_SPACE'
  | 'LOCKED'
  | 'EXISTS'
  | 'NOT_FOUND'
  | 'CANCELLED'
  | 'VERIFY_FAILED'
  | 'IO'
  | 'DATABASE'
  | 'REFUSED'
  | 'USAGE';

export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

/** A Node file-system error in words: the operation, the file and what the system said. */
export function describeFsError(err: unknown, what: string): BackupError {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof BackupError) return e;
  switch (e?.code) {
    case 'ENOSPC':
      return new BackupError('NO_SPACE', `${what}: no space left on the device`);
    case 'EDQUOT':
      return new BackupError('NO_SPACE', `${what}: disk quota exceeded`);
    case 'EACCES':
    case 'EPERM':
      return new BackupError('IO', `${what}: permission denied`);
    case 'ENOENT':
      return new BackupError('NOT_FOUND', `${what}: no such file or folder`);
    case 'EROFS':
      return new BackupError('IO', `${what}: read-only file system`);
    default:
      return new BackupError('IO', `${what}: ${e?.message ?? String(err)}`);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BackupError('CANCELLED', 'cancelled');
}
