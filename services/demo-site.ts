// Builds a realistic Candy-Cadence site (SITE.md) on disk: the demo behind `cadence-ops demo`, and
// the temporary sites that tests run against (smaller, through the same code).
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { createBackup } from './backup-create.js';
import { defaultConfig } from './config.js';
import {
  BURST_TEMPLATES,
  formatRecord,
  LOG_FILES,
  type LogFile,
  type LogRecord,
  randomRecord,
  recordOf,
  rng,
  MODEL_WORDS as WORDS,
} from './demo-log-lines.js';
import {
  asciiStl,
  binaryStl,
  malformedModels,
  objFile,
  stepFile,
  threeMf,
  torusMesh,
} from './demo-models.js';
import { cliCommand } from './self-exec.js';
import { DEMO_MARKER, sitePaths } from './site.js';

export interface BuildSiteOptions {
  /** Rows in `models` (the demo uses 10,000). */
  models?: number;
  /** Generated mesh files: 'demo' writes several sizes up to a few MB, 'small' keeps tests quick. */
  modelFiles?: 'demo' | 'small' | 'none';
  thumbnails?: number;
  /** Hours of log history written before `now`. */
  logHistoryHours?: number;
  /** Build backups of both kinds, one of them deliberately corrupt. */
  backups?: boolean;
  /** Leave out these recommended indexes, as real sites do. */
  omitIndexes?: string[];
  seed?: number;
  now?: number;
  /** Marks the site as the demo (the console shows a DEMO badge). */
  demo?: boolean;
  onProgress?: (step: string, done: number, total: number) => void;
}

export const SITE_SCHEMA = `
CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  file_path TEXT NOT NULL UNIQUE,
  format TEXT NOT NULL,
  file_size INTEGER NOT NULL,
  file_hash TEXT,
  triangle_count INTEGER,
  vertex_count INTEGER,
  description TEXT,
  created_date TEXT NOT NULL,
  modified_date TEXT NOT NULL,
  last_loaded TEXT,
  load_time_ms INTEGER
);
CREATE TABLE metadata (
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT,
  UNIQUE (model_id, key)
);
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE model_tags (
  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (model_id, tag_id)
);
CREATE VIRTUAL TABLE models_fts USING fts5(name, description, tags);
`;

export const RECOMMENDED_INDEXES: Record<string, string> = {
  idx_models_name: 'CREATE INDEX idx_models_name ON models(name)',
  idx_models_file_size: 'CREATE INDEX idx_models_file_size ON models(file_size)',
  idx_metadata_model_id: 'CREATE INDEX idx_metadata_model_id ON metadata(model_id)',
  idx_models_created_date: 'CREATE INDEX idx_models_created_date ON models(created_date)',
};

const TAGS = [
  'printable',
  'mechanical',
  'organic',
  'miniature',
  'architecture',
  'jewelry',
  'cosplay',
  'tool',
  'toy',
  'household',
  'art',
  'calibration',
  'multi-part',
  'support-free',
  'remix',
  'draft',
  'archived',
  'favourite',
  'client-a',
  'client-b',
];
const FORMATS = ['stl', 'obj', '3mf', 'step'];

const isoSeconds = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
export const stamp = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
};

/** Creates the application's database with `models` rows, metadata, tags and the FTS5 index, in WAL mode. */
export function createSiteDatabase(
  file: string,
  opts: { models: number; seed: number; now: number; omitIndexes: string[] },
): void {
  const r = rng(opts.seed);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SITE_SCHEMA);
    for (const [name, sql] of Object.entries(RECOMMENDED_INDEXES))
      if (!opts.omitIndexes.includes(name)) db.exec(sql);
    const insertModel = db.prepare(
      'INSERT INTO models (id, name, file_path, format, file_size, file_hash, triangle_count, vertex_count, description, created_date, modified_date, last_loaded, load_time_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
    );
    const insertMeta = db.prepare('INSERT INTO metadata (model_id, key, value) VALUES (?,?,?)');
    const insertTag = db.prepare('INSERT INTO tags (id, name) VALUES (?, ?)');
    const insertModelTag = db.prepare('INSERT OR IGNORE INTO model_tags (model_id, tag_id) VALUES (?, ?)');
    const insertFts = db.prepare('INSERT INTO models_fts (rowid, name, description, tags) VALUES (?,?,?,?)');
    db.transaction(() => {
      for (const [i, t] of TAGS.entries()) insertTag.run(i + 1, t);
      const yearMs = 365 * 86400_000;
      for (let id = 1; id <= opts.models; id++) {
        const name = `${WORDS[Math.floor(r() * WORDS.length)]} ${WORDS[Math.floor(r() * WORDS.length)]} ${id}`;
        const format = FORMATS[Math.floor(r() * FORMATS.length)]!;
        const size = Math.floor(2 ** (10 + r() * 17));
        const triangles = Math.floor(size / 50);
        const created = opts.now - r() * yearMs;
        const description = `${name} for ${TAGS[Math.floor(r() * TAGS.length)]} projects`;
        const tagIds = [1 + Math.floor(r() * TAGS.length), 1 + Math.floor(r() * TAGS.length)];
        insertModel.run(
          id,
          name,
          `data/models/library/${name.replace(/ /g, '_')}.${format}`,
          format,
          size,
          createHash('sha1').update(String(id)).digest('hex'),
          triangles,
          Math.floor(triangles / 2) + 2,
          description,
          isoSeconds(created),
          isoSeconds(created + r() * (opts.now - created)),
          r() < 0.6 ? isoSeconds(opts.now - r() * 30 * 86400_000) : null,
          r() < 0.6 ? Math.floor(20 + r() * 3000) : null,
        );
        insertMeta.run(id, 'author', ['ana', 'raj', 'lee', 'kim'][Math.floor(r() * 4)]);
        insertMeta.run(id, 'license', ['CC-BY', 'CC0', 'proprietary'][Math.floor(r() * 3)]);
        insertMeta.run(id, 'units', r() < 0.8 ? 'mm' : 'in');
        insertMeta.run(id, 'printer', ['prusa', 'bambu', 'ender', 'form3'][Math.floor(r() * 4)]);
        insertMeta.run(id, 'source', `import-${Math.floor(r() * 50)}`);
        for (const t of tagIds) insertModelTag.run(id, t);
        insertFts.run(id, name, description, tagIds.map((t) => TAGS[t - 1]).join(' '));
      }
    })();
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

/** A valid PNG of one colour (real IHDR/IDAT/IEND with CRCs), as the application's thumbnails are. */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Writes `hours` of log history ending at `now` into the site's logs, with rotated and gzipped copies. */
async function writeLogHistory(
  logsDir: string,
  opts: { hours: number; now: number; seed: number },
): Promise<void> {
  const r = rng(opts.seed + 7);
  const perFile = new Map<LogFile, string[][]>(LOG_FILES.map((f) => [f, [[]]]));
  const start = opts.now - opts.hours * 3600_000;
  // Records every ~2 s on average, with error bursts every few hours.
  let t = start;
  let nextBurst = start + (1 + r() * 2) * 3600_000;
  while (t < opts.now - 1000) {
    const records: LogRecord[] = [];
    if (t >= nextBurst) {
      const template = BURST_TEMPLATES[Math.floor(r() * BURST_TEMPLATES.length)]!;
      for (let i = 0; i < 15 + r() * 30; i++) records.push(recordOf(template, r, t + i * 300));
      nextBurst = t + (1 + r() * 3) * 3600_000;
    }
    records.push(randomRecord(r, t));
    for (const record of records) {
      const text = formatRecord(record);
      for (const f of record.files) perFile.get(f)!.at(-1)!.push(text);
    }
    t += 200 + r() * 3600;
    // Split history into chunks: oldest gzipped, then .2, .1, then the live file.
    const fraction = (t - start) / (opts.now - start);
    for (const f of LOG_FILES) {
      const chunks = perFile.get(f)!;
      if (chunks.length < 4 && fraction > chunks.length * 0.25) chunks.push([]);
    }
  }
  const day = stamp(start).slice(0, 8);
  for (const f of LOG_FILES) {
    const [oldest = [], older = [], old = [], live = []] = perFile.get(f)!;
    const base = f.replace(/\.log$/, '');
    const body = (lines: string[]) => (lines.length ? `${lines.join('\n')}\n` : '');
    if (f === 'candy_cadence.log') {
      // The maintenance procedure's scheme: renamed with a timestamp, gzipped.
      await writeFile(path.join(logsDir, `${base}_${stamp(start)}.log.gz`), gzipSync(body(oldest)));
    } else {
      // The daily task's scheme: <name>.YYYYmmdd.log.gz, the live file truncated in place.
      await writeFile(path.join(logsDir, `${base}.${day}.log.gz`), gzipSync(body(oldest)));
    }
    // RotatingFileHandler's scheme: .2 older than .1.
    await writeFile(path.join(logsDir, `${f}.2`), body(older));
    await writeFile(path.join(logsDir, `${f}.1`), body(old));
    await writeFile(path.join(logsDir, f), body(live));
  }
}

async function writeModels(modelsDir: string, kind: 'demo' | 'small'): Promise<void> {
  const sizes =
    kind === 'demo'
      ? [
          [24, 16],
          [96, 48],
          [256, 128],
          [512, 256],
        ]
      : [
          [24, 16],
          [48, 24],
        ];
  for (const [rings, sides] of sizes) {
    const mesh = torusMesh(rings!, sides!);
    const tri = rings! * sides! * 2;
    await writeFile(path.join(modelsDir, `torus_${tri}_binary.stl`), binaryStl(mesh));
    // A binary STL whose header starts with "solid": must still be detected as binary.
    if (rings === sizes[0]![0])
      await writeFile(
        path.join(modelsDir, `torus_${tri}_solid_header.stl`),
        binaryStl(mesh, 'solid but actually binary'),
      );
    if (tri <= 100_000)
      await writeFile(path.join(modelsDir, `torus_${tri}_ascii.stl`), asciiStl(mesh, `torus_${tri}`));
    await writeFile(path.join(modelsDir, `torus_${tri}.obj`), objFile(mesh, `torus_${tri}`));
    await writeFile(path.join(modelsDir, `torus_${tri}.3mf`), threeMf(mesh, 2));
    if (tri <= 100_000)
      await writeFile(path.join(modelsDir, `torus_${tri}.step`), stepFile(mesh, `torus_${tri}`));
  }
  const broken = path.join(modelsDir, 'broken');
  await mkdir(broken, { recursive: true });
  for (const [name, data] of Object.entries(malformedModels()))
    await writeFile(path.join(broken, name), data);
}

async function setTime(file: string, ms: number): Promise<void> {
  const d = new Date(ms);
  await utimes(file, d, d);
}

/**
 * Makes the demo's backups with the real backup service (one way to make a backup): database-only
 * and full, dated in the past, plus one deliberately corrupt (a real backup cut in half).
 */
async function writeDemoBackups(root: string, now: number): Promise<void> {
  const config = defaultConfig();
  const paths = sitePaths(root, config);
  const make = (kind: 'database' | 'full', daysAgo: number) => {
    const when = now - daysAgo * 86400_000;
    return createBackup({
      paths,
      config,
      kind,
      now: () => when,
      mtime: when,
      inline: true,
      verify: false,
      secondary: false,
    });
  };
  for (const daysAgo of [1, 2, 3, 5]) await make('database', daysAgo);
  // Corrupt on purpose: the gzip stream stops half-way.
  const corrupt = await make('database', 4);
  await truncate(corrupt.file, Math.floor(corrupt.bytes / 2));
  await setTime(corrupt.file, now - 4 * 86400_000);
  for (const daysAgo of [2, 9]) await make('full', daysAgo);
}

export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  await visit(dir);
  return out.sort();
}

export const SITE_CONFIG_JSON = {
  app_name: 'Candy-Cadence',
  version: '1.4.2',
  database: { path: 'data/candy_cadence.db', journal_mode: 'WAL', cache_size_mb: 64 },
  logging: { level: 'INFO', directory: 'logs', max_bytes: 104857600, backup_count: 10 },
  models: { directory: 'data/models', formats: ['stl', 'obj', '3mf', 'step', 'stp'] },
  cache: { directory: 'data/cache', max_size_mb: 2048, stale_days: 7 },
};

export const SITE_SETTINGS_JSON = {
  theme: 'dark',
  viewer: { antialiasing: 4, background: '#202428', show_grid: true, target_fps: 60 },
  thumbnails: { size: 256, directory: 'data/thumbnails' },
  recent_files: ['data/models/torus_768_binary.stl'],
};

function demoStartCommand(): { startCommand: string } | Record<string, never> {
  try {
    const { command, args } = cliCommand(['simulate', '--root', '.']);
    const quote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    return {
      startCommand: `${[command, ...args].map(quote).join(' ')} --parent-pid "$PPID" >/dev/null 2>&1 &`,
    };
  } catch {
    return {};
  }
}

/** Builds a site at `root` (which must not exist or be empty). */
export async function buildSite(root: string, opts: BuildSiteOptions = {}): Promise<void> {
  const now = opts.now ?? Date.now();
  const seed = opts.seed ?? 1;
  const models = opts.models ?? 10_000;
  const steps = 7;
  let step = 0;
  const progress = (name: string) => opts.onProgress?.(name, step++, steps);

  progress('folders and configuration');
  for (const d of [
    'data/models',
    'data/thumbnails',
    'data/cache',
    'resources/themes',
    'logs',
    'backups',
    'temp',
  ]) {
    await mkdir(path.join(root, d), { recursive: true });
  }
  await writeFile(path.join(root, 'config.json'), `${JSON.stringify(SITE_CONFIG_JSON, null, 2)}\n`, {
    mode: 0o644,
  });
  await writeFile(path.join(root, 'settings.json'), `${JSON.stringify(SITE_SETTINGS_JSON, null, 2)}\n`, {
    mode: 0o644,
  });
  await writeFile(
    path.join(root, '.env'),
    'CANDY_CADENCE_ENV=production\nCANDY_CADENCE_LICENSE_KEY=demo-0000-1111-2222\nMODEL_DOWNLOAD_TOKEN=demo-token-not-secret\n',
    { mode: 0o600 },
  );
  await writeFile(
    path.join(root, 'requirements.txt'),
    'PySide6==6.8.1\nvtk==9.4.1\nnumpy==2.1.3\nnumpy-stl==3.2.0\ntrimesh==4.5.3\n',
  );
  await writeFile(
    path.join(root, 'pyinstaller.spec'),
    "# -*- mode: python -*-\na = Analysis(['src/main.py'], pathex=[], datas=[('resources', 'resources')])\n",
  );
  for (const theme of ['dark', 'light', 'high_contrast']) {
    await writeFile(
      path.join(root, `resources/themes/${theme}.qss`),
      `/* ${theme} theme */\nQWidget { font-size: 10pt; }\n`,
    );
  }
  if (opts.demo) {
    await writeFile(
      path.join(root, DEMO_MARKER),
      'This folder was built by `cadence-ops demo`; delete it freely.\n',
    );
    // Rotate the simulator's logs at a small size so rotation shows up within minutes. A restore
    // stops the simulated application; app.startCommand starts it again (in the site folder, tied to
    // the console that runs the command, as the demo's own simulator is).
    await writeFile(
      path.join(root, 'cadence-ops.json'),
      `${JSON.stringify({ logs: { rotateMb: 5 }, app: demoStartCommand() }, null, 2)}\n`,
    );
  }

  progress('database');
  createSiteDatabase(path.join(root, 'data/candy_cadence.db'), {
    models,
    seed,
    now,
    omitIndexes: opts.omitIndexes ?? [
      'idx_models_file_size',
      'idx_metadata_model_id',
      'idx_models_created_date',
    ],
  });

  progress('model files');
  if ((opts.modelFiles ?? 'demo') !== 'none')
    await writeModels(path.join(root, 'data/models'), opts.modelFiles === 'small' ? 'small' : 'demo');

  progress('thumbnails and cache');
  const thumbs = opts.thumbnails ?? 300;
  const r = rng(seed + 3);
  for (let i = 1; i <= thumbs; i++) {
    await writeFile(
      path.join(root, `data/thumbnails/${i}.png`),
      solidPng(32, 32, [Math.floor(r() * 255), Math.floor(r() * 255), Math.floor(r() * 255)]),
    );
  }
  for (let i = 1; i <= 40; i++) {
    const file = path.join(root, `data/cache/mesh_${String(i).padStart(4, '0')}.cache`);
    await writeFile(file, Buffer.alloc(512 + Math.floor(r() * 4096), i));
    // A third of the cache is older than the 7-day staleness limit.
    await setTime(file, now - (i % 3 === 0 ? 8 + (i % 20) : i % 6) * 86400_000);
  }

  progress('log history');
  await writeLogHistory(path.join(root, 'logs'), { hours: opts.logHistoryHours ?? 24, now, seed });

  progress('backups');
  const backupsDir = path.join(root, 'backups');
  await chmod(backupsDir, 0o700);
  if (opts.backups ?? true) await writeDemoBackups(root, now);
  progress('done');
}

/** Total bytes of the files under a folder. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const f of await walk(dir)) total += (await stat(f)).size;
  return total;
}
