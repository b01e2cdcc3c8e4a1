// The simulated Candy-Cadence application behind the demo site. It does what the real one does to
// a site: writes a pid file, appends to its five log files (steady traffic, error bursts, tracebacks,
// model_loaded and slow-query lines), rotates them as Python's RotatingFileHandler does, commits
// inserts and updates to the database in WAL mode, and lets its memory creep so a leak shows.
import { closeSync, existsSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { rename as renameAsync, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { pidAlive } from './app-process.js';
import {
  BURST_TEMPLATES,
  formatRecord,
  LOG_FILES,
  type LogFile,
  type LogRecord,
  randomRecord,
  recordOf,
  rng,
} from './demo-log-lines.js';

export interface SimulatorOptions {
  logsDir: string;
  database: string;
  pidFile: string;
  /** Log records a second, on average, outside bursts. */
  recordsPerSecond?: number;
  /** RotatingFileHandler's maxBytes. */
  rotateBytes?: number;
  /** RotatingFileHandler's backupCount. */
  keepRotated?: number;
  /** Mean seconds between error bursts. */
  burstEverySeconds?: number;
  /** Database commits a second. */
  commitsPerSecond?: number;
  /** Memory retained per second, in KB, up to leakCapMb (then released, as if restarted). */
  leakKbPerSecond?: number;
  leakCapMb?: number;
  seed?: number;
  /** Exit when this process disappears (the console that started us was killed). */
  parentPid?: number;
  signal?: AbortSignal;
  now?: () => number;
  onRecord?: (record: LogRecord) => void;
}

export interface SimulatorStats {
  records: number;
  lines: Record<LogFile, number>;
  commits: number;
  rotations: number;
  busyRetries: number;
}

/** Appends to a log file like Python's RotatingFileHandler: shift .1..N-1 up, rename, reopen. */
export class RotatingLog {
  private fd: number;
  private size: number;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly backupCount: number,
    private readonly onRotate?: () => void,
  ) {
    this.fd = openSync(file, 'a');
    this.size = statSync(file).size;
  }

  write(text: string): void {
    const data = Buffer.from(text, 'utf8');
    if (this.maxBytes > 0 && this.size > 0 && this.size + data.length > this.maxBytes) this.rotate();
    writeSync(this.fd, data);
    this.size += data.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    for (let i = this.backupCount - 1; i >= 1; i--) {
      const from = `${this.file}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.file}.${i + 1}`);
    }
    renameSync(this.file, `${this.file}.1`);
    this.fd = openSync(this.file, 'a');
    this.size = 0;
    this.onRotate?.();
  }

  close(): void {
    closeSync(this.fd);
  }
}

export async function runSimulator(opts: SimulatorOptions): Promise<SimulatorStats> {
  const now = opts.now ?? Date.now;
  const r = rng(opts.seed ?? Date.now() % 100_000);
  const rate = opts.recordsPerSecond ?? 8;
  const stats: SimulatorStats = {
    records: 0,
    lines: Object.fromEntries(LOG_FILES.map((f) => [f, 0])) as Record<LogFile, number>,
    commits: 0,
    rotations: 0,
    busyRetries: 0,
  };
  const logs = new Map<LogFile, RotatingLog>(
    LOG_FILES.map((f) => [
      f,
      new RotatingLog(
        path.join(opts.logsDir, f),
        opts.rotateBytes ?? 5 * 1024 * 1024,
        opts.keepRotated ?? 10,
        () => stats.rotations++,
      ),
    ]),
  );
  const tmpPid = `${opts.pidFile}.tmp`;
  await writeFile(tmpPid, `${process.pid}\n`);
  await renameAsync(tmpPid, opts.pidFile);

  const db = new Database(opts.database);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 2000');
  let nextId = ((db.prepare('SELECT max(id) AS m FROM models').get() as { m: number | null }).m ?? 0) + 1;
  const insertModel = db.prepare(
    "INSERT INTO models (id, name, file_path, format, file_size, file_hash, triangle_count, vertex_count, description, created_date, modified_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, datetime('now'), datetime('now'))",
  );
  const insertMeta = db.prepare('INSERT OR REPLACE INTO metadata (model_id, key, value) VALUES (?, ?, ?)');
  const insertFts = db.prepare('INSERT INTO models_fts (rowid, name, description, tags) VALUES (?, ?, ?, ?)');
  const touchModel = db.prepare(
    "UPDATE models SET last_loaded = datetime('now'), load_time_ms = ? WHERE id = ?",
  );
  const insertTx = db.transaction((id: number) => {
    const name = `simulated import ${id}`;
    insertModel.run(
      id,
      name,
      `data/models/imports/sim_${id}.stl`,
      'stl',
      10_000 + Math.floor(r() * 5e6),
      null,
      Math.floor(r() * 1e5),
      Math.floor(r() * 5e4),
      name,
    );
    insertMeta.run(id, 'source', 'simulator');
    insertFts.run(id, name, name, 'simulated');
  });

  const leaked: Buffer[] = [];
  let leakedBytes = 0;
  const write = (record: LogRecord) => {
    const text = `${formatRecord(record)}\n`;
    const lineCount = 1 + record.continuation.length;
    for (const f of record.files) {
      logs.get(f)!.write(text);
      stats.lines[f] += lineCount;
    }
    stats.records++;
    opts.onRecord?.(record);
  };

  let burst: { template: string; until: number } | null = null;
  // The first burst comes soon (a demo should show a new error cluster within a minute or two).
  let nextBurst = now() + (0.05 + 0.1 * r()) * (opts.burstEverySeconds ?? 600) * 1000;
  let nextHeartbeat = now();
  let credit = 0;
  let commitCredit = 0;
  let ticks = 0;

  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      credit += (rate / 10) * (0.5 + r());
      while (credit >= 1) {
        write(randomRecord(r, t));
        credit -= 1;
      }
      if (t >= nextHeartbeat) {
        write(recordOf('heartbeat', r, t));
        nextHeartbeat = t + 30_000;
      }
      if (!burst && t >= nextBurst) {
        burst = {
          template: BURST_TEMPLATES[Math.floor(r() * BURST_TEMPLATES.length)]!,
          until: t + 8000 + r() * 12_000,
        };
      }
      if (burst) {
        if (r() < 0.15) write(recordOf(burst.template, r, t));
        if (t >= burst.until) {
          burst = null;
          nextBurst = t + (0.5 + r()) * (opts.burstEverySeconds ?? 600) * 1000;
        }
      }
      commitCredit += (opts.commitsPerSecond ?? 2) / 10;
      while (commitCredit >= 1) {
        commitCredit -= 1;
        try {
          if (r() < 0.5) insertTx(nextId++);
          else touchModel.run(Math.floor(20 + r() * 3000), 1 + Math.floor(r() * (nextId - 1)));
          stats.commits++;
        } catch (err) {
          // A maintenance action (VACUUM, restore) holds the lock: the real application retries.
          if ((err as { code?: string }).code === 'SQLITE_BUSY') stats.busyRetries++;
          else throw err;
        }
      }
      if (++ticks % 10 === 0) {
        const leakBytes = (opts.leakKbPerSecond ?? 150) * 1024;
        if (leakBytes > 0) {
          const chunk = Buffer.allocUnsafe(leakBytes);
          chunk.fill(ticks & 0xff); // touch every page so it counts in RSS
          leaked.push(chunk);
          leakedBytes += leakBytes;
          if (leakedBytes > (opts.leakCapMb ?? 400) * 1024 * 1024) {
            leaked.length = 0;
            leakedBytes = 0;
          }
        }
        if (opts.parentPid && !pidAlive(opts.parentPid)) stop();
      }
    };
    const timer = setInterval(() => {
      try {
        tick();
      } catch (err) {
        stop();
        throw err;
      }
    }, 100);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
  });

  for (const log of logs.values()) log.close();
  db.close();
  try {
    unlinkSync(opts.pidFile);
  } catch {}
  return stats;
}
