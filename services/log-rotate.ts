// The maintenance procedure's log rotation (SITE.md): every live log over logs.rotateMb is renamed
// to `<name>_YYYYmmdd_HHMMSS.log`, gzipped to `.log.gz` (temp file + rename, fsynced), and the
// plain copy deleted; compressed logs older than logs.compressedRetentionDays are deleted.
// Safe by default: --dry-run shows the plan; a renamed file that is still growing (the application
// kept writing to it) is kept rather than deleted; nothing outside logs/ is touched.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { discoverLogFiles } from './log-files.js';

export interface RotateOptions {
  logsDir: string;
  rotateBytes: number;
  retentionDays: number;
  dryRun?: boolean;
  now?: number;
}

export type RotateAction =
  | {
      action: 'rotate';
      file: string;
      bytes: number;
      to: string;
      done?: boolean;
      keptPlain?: boolean;
      error?: string;
    }
  | { action: 'delete'; file: string; ageDays: number; done?: boolean; error?: string };

export interface RotateResult {
  dryRun: boolean;
  actions: RotateAction[];
  errors: string[];
}

function stampOf(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** What rotation would do now (or does, without dryRun). */
export async function rotateLogs(opts: RotateOptions): Promise<RotateResult> {
  const now = opts.now ?? Date.now();
  const found = discoverLogFiles(opts.logsDir);
  const result: RotateResult = {
    dryRun: Boolean(opts.dryRun),
    actions: [],
    errors: found.errors.map((e) => `${e.path}: ${e.error}`),
  };
  for (const f of found.live) {
    if (f.size <= opts.rotateBytes) continue;
    const base = f.name.replace(/\.log$/, '');
    const to = `${base}_${stampOf(now)}.log.gz`;
    result.actions.push({ action: 'rotate', file: f.name, bytes: f.size, to });
  }
  for (const f of found.history) {
    if (!f.compressed) continue;
    const born = f.stamp ?? f.mtimeMs;
    const ageDays = (now - born) / 86_400_000;
    if (ageDays > opts.retentionDays) result.actions.push({ action: 'delete', file: f.name, ageDays });
  }
  if (opts.dryRun) return result;
  for (const a of result.actions) {
    try {
      if (a.action === 'rotate') await rotateOne(opts.logsDir, a);
      else {
        await unlink(path.join(opts.logsDir, a.file));
        a.done = true;
      }
    } catch (err) {
      a.error = (err as Error).message;
      result.errors.push(`${a.file}: ${a.error}`);
    }
  }
  return result;
}

async function rotateOne(dir: string, a: Extract<RotateAction, { action: 'rotate' }>): Promise<void> {
  const live = path.join(dir, a.file);
  const gz = path.join(dir, a.to);
  const plain = gz.replace(/\.gz$/, '');
  for (const p of [gz, plain]) {
    if (await exists(p)) throw new Error(`${path.basename(p)} already exists; not overwriting it`);
  }
  await rename(live, plain);
  const tmp = `${gz}.tmp-${process.pid}`;
  let compressedBytes = 0;
  try {
    const src = createReadStream(plain);
    src.on('data', (d) => {
      compressedBytes += (d as Buffer).length;
    });
    await pipeline(src, createGzip({ level: 6 }), createWriteStream(tmp));
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, gz);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  // The application may still be writing to the renamed file (it has not reopened its log): then
  // keep the plain copy, so no line is lost.
  const after = await stat(plain);
  if (after.size !== compressedBytes) {
    a.keptPlain = true;
  } else {
    await unlink(plain);
  }
  a.done = true;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
