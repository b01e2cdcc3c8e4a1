// A backup file written the crash-safe way: under a temporary dot-name (0600, created exclusively,
// never following a link), fsynced, and only then renamed to its final name, with the folder
// fsynced after. A crash or a full disk leaves at most a dot-file that listings ignore and prune
// removes; never a half backup under a real name.
import { constants as fsc } from 'node:fs';
import { chmod, type FileHandle, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { BackupError, describeFsError } from './backup-errors.js';
import { tempNameFor } from './backup-names.js';

/** Creates the folder 0700 (archives hold .env), or tightens an existing one we own. Returns a warning when it had to. */
export async function ensurePrivateDir(dir: string): Promise<string | null> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await stat(dir);
    if ((st.mode & 0o077) !== 0) {
      if (typeof process.getuid === 'function' && st.uid === process.getuid()) {
        await chmod(dir, 0o700);
        return `tightened ${dir} from ${(st.mode & 0o777).toString(8)} to 700 (backups hold .env)`;
      }
      return `${dir} is readable by others (mode ${(st.mode & 0o777).toString(8)}); backups hold .env`;
    }
    return null;
  } catch (err) {
    throw describeFsError(err, `cannot create the backup folder ${dir}`);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    await fh.sync();
  } catch {
    // Some file systems (network shares) refuse to fsync a folder; the rename stands regardless.
  } finally {
    await fh?.close().catch(() => {});
  }
}

export class AtomicOutput {
  bytes = 0;
  private closed = false;

  private constructor(
    readonly tempPath: string,
    readonly finalPath: string,
    private fh: FileHandle,
  ) {}

  static async create(dir: string, finalName: string, purpose = 'tmp'): Promise<AtomicOutput> {
    const finalPath = path.join(dir, finalName);
    const tempPath = path.join(dir, tempNameFor(finalName, purpose));
    try {
      const fh = await open(tempPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
      return new AtomicOutput(tempPath, finalPath, fh);
    } catch (err) {
      throw describeFsError(err, `cannot create ${tempPath}`);
    }
  }

  async write(buf: Buffer): Promise<void> {
    let off = 0;
    try {
      while (off < buf.length) {
        const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
    } catch (err) {
      throw describeFsError(err, `writing ${this.tempPath} (after ${this.bytes + off} bytes)`);
    }
    this.bytes += buf.length;
  }

  /** Flushes the data to the disk and closes the file; it stays under its temporary name. */
  async sync(): Promise<void> {
    try {
      await this.fh.sync();
      this.closed = true;
      await this.fh.close();
    } catch (err) {
      throw describeFsError(err, `flushing ${this.tempPath}`);
    }
  }

  /** Renames the synced file to its final name, refusing to replace an existing backup. */
  async publish(): Promise<void> {
    if (!this.closed) await this.sync();
    const dir = path.dirname(this.finalPath);
    try {
      // link() fails when the final name exists, where rename() would silently replace it.
      await link(this.tempPath, this.finalPath);
      await unlink(this.tempPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        throw new BackupError('EXISTS', `${this.finalPath} already exists; not replaced`);
      }
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
        // File systems without hard links (some shares): check, then rename.
        const exists = await stat(this.finalPath).then(
          () => true,
          () => false,
        );
        if (exists) throw new BackupError('EXISTS', `${this.finalPath} already exists; not replaced`);
        try {
          await rename(this.tempPath, this.finalPath);
        } catch (err2) {
          throw describeFsError(err2, `renaming ${this.tempPath} to ${this.finalPath}`);
        }
      } else {
        throw describeFsError(err, `renaming ${this.tempPath} to ${this.finalPath}`);
      }
    }
    await fsyncDir(dir);
  }

  /** Closes and removes the temporary file; safe to call more than once and after errors. */
  async discard(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => {});
    }
    await unlink(this.tempPath).catch(() => {});
  }
}
