// Realistic Candy-Cadence log records for the demo site's history and the simulated application:
// the Python logging format of SITE.md, the error codes, tracebacks, `model_loaded ... load_time:`
// lines and slow-query lines. Each record names the template it came from (ground truth for tests
// of the log clustering) and the files it is written to.

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

export const LOG_FILES = [
  'candy_cadence.log',
  'error.log',
  'performance.log',
  'database.log',
  'parser.log',
] as const;
export type LogFile = (typeof LOG_FILES)[number];

export interface LogRecord {
  time: number;
  level: Level;
  logger: string;
  message: string;
  /** Traceback lines that follow the record's first line. */
  continuation: string[];
  /** Stable id of the template the message was made from. */
  template: string;
  files: LogFile[];
}

/** Small, fast, seedable PRNG (mulberry32), so demo sites and tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const fixed = (r: Rand, lo: number, hi: number, digits: number) => (lo + r() * (hi - lo)).toFixed(digits);

/** Words model names are made of, shared with the demo database. */
export const MODEL_WORDS = [
  'gear',
  'bracket',
  'housing',
  'knob',
  'hinge',
  'vase',
  'dragon',
  'bust',
  'rabbit',
  'spool',
  'clip',
  'mount',
  'lid',
  'case',
  'frame',
  'wheel',
  'cog',
  'tower',
  'boat',
  'lamp',
];
const WORDS = MODEL_WORDS;
const EXTS = ['stl', 'obj', '3mf', 'step'] as const;

export function modelPath(r: Rand): string {
  return `data/models/${pick(r, WORDS)}_${pick(r, WORDS)}_${int(r, 1, 9999)}.${pick(r, EXTS)}`;
}

function formatOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1);
  return ext === '3mf' ? '3MF' : ext.toUpperCase();
}

/** `2026-11-23 08:17:41,123`, local time as Python's logging writes it. */
export function pythonTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

export function formatRecord(record: LogRecord): string {
  const head = `${pythonTimestamp(record.time)} - ${record.logger} - ${record.level} - ${record.message}`;
  return record.continuation.length ? `${head}\n${record.continuation.join('\n')}` : head;
}

function traceback(r: Rand, frames: Array<[string, string]>, last: string): string[] {
  const lines = ['Traceback (most recent call last):'];
  for (const [file, fn] of frames) {
    lines.push(`  File "/opt/candy_cadence/src/${file}", line ${int(r, 20, 900)}, in ${fn}`);
    lines.push(
      `    ${pick(r, ['result = self._parse(stream)', 'return loader.load(path)', 'cursor.execute(sql, params)', 'mesh = self.builder.build(data)', 'buffer = np.empty(count * 3, dtype=np.float32)'])}`,
    );
  }
  lines.push(last);
  return lines;
}

const SLOW_SQL: Array<(r: Rand) => string> = [
  (r) =>
    `SELECT * FROM models WHERE name LIKE '%${pick(r, WORDS)}%' ORDER BY created_date DESC LIMIT ${int(r, 20, 200)}`,
  (r) =>
    `SELECT id, name, file_path, file_size FROM models WHERE file_size > ${int(r, 1, 50) * 1048576} ORDER BY file_size DESC LIMIT 50`,
  (r) => `SELECT key, value FROM metadata WHERE model_id = ${int(r, 1, 10000)}`,
  (r) =>
    `SELECT * FROM models WHERE created_date >= '2026-${String(int(r, 1, 11)).padStart(2, '0')}-${String(int(r, 1, 28)).padStart(2, '0')}' ORDER BY created_date`,
  (r) =>
    `SELECT m.id, m.name, COUNT(mt.tag_id) AS tag_count FROM models m LEFT JOIN model_tags mt ON mt.model_id = m.id GROUP BY m.id ORDER BY tag_count DESC LIMIT ${int(r, 10, 100)}`,
];

export function slowQueryMessage(r: Rand): string {
  const sql = pick(r, SLOW_SQL)(r);
  return `Slow query detected: ${sql.slice(0, 100)}... Execution time: ${int(r, 1001, 6500)}ms`;
}

interface Template {
  id: string;
  level: Level;
  logger: string;
  weight: number;
  files: LogFile[];
  make(r: Rand): { message: string; continuation?: string[] };
}

const MAIN: LogFile[] = ['candy_cadence.log'];
const ERR: LogFile[] = ['candy_cadence.log', 'error.log'];

export const TEMPLATES: Template[] = [
  {
    id: 'heartbeat',
    level: 'INFO',
    logger: 'candy_cadence.main',
    weight: 4,
    files: MAIN,
    make: (r) => ({
      message: `Heartbeat: ${int(r, 9000, 10500)} models in library, ${int(r, 300, 900)} MB RSS, ${int(r, 0, 3)} background jobs`,
    }),
  },
  {
    id: 'loading',
    level: 'INFO',
    logger: 'candy_cadence.library',
    weight: 10,
    files: MAIN,
    make: (r) => ({ message: `Loading model ${modelPath(r)}` }),
  },
  {
    id: 'loaded',
    level: 'INFO',
    logger: 'candy_cadence.library',
    weight: 10,
    files: MAIN,
    make: (r) => ({
      message: `Model loaded: ${modelPath(r)} (${int(r, 12, 2_500_000)} triangles) in ${fixed(r, 0.05, 4.5, 3)}s`,
    }),
  },
  {
    id: 'thumb',
    level: 'INFO',
    logger: 'candy_cadence.ui.thumbnails',
    weight: 6,
    files: MAIN,
    make: (r) => ({
      message: `Thumbnail generated for ${modelPath(r)} (${pick(r, [128, 256, 512])}x${pick(r, [128, 256, 512])})`,
    }),
  },
  {
    id: 'search',
    level: 'INFO',
    logger: 'candy_cadence.search',
    weight: 5,
    files: MAIN,
    make: (r) => ({
      message: `Search query "${pick(r, WORDS)} ${pick(r, WORDS)}" returned ${int(r, 0, 400)} results in ${int(r, 2, 180)} ms`,
    }),
  },
  {
    id: 'scan',
    level: 'INFO',
    logger: 'candy_cadence.library',
    weight: 2,
    files: MAIN,
    make: (r) => ({
      message: `Library scan found ${int(r, 0, 40)} new files in /home/${pick(r, ['ana', 'raj', 'lee', 'kim'])}/Models/${pick(r, WORDS)}`,
    }),
  },
  {
    id: 'cache-ratio',
    level: 'INFO',
    logger: 'candy_cadence.cache',
    weight: 2,
    files: MAIN,
    make: (r) => ({
      message: `Cache hit ratio ${fixed(r, 0.55, 0.98, 2)} over last ${int(r, 100, 900)} lookups`,
    }),
  },
  {
    id: 'frame',
    level: 'DEBUG',
    logger: 'candy_cadence.ui.viewer',
    weight: 8,
    files: MAIN,
    make: (r) => ({ message: `Rendered frame ${int(r, 1, 999999)} at ${fixed(r, 30, 144, 1)} FPS` }),
  },
  {
    id: 'resize',
    level: 'DEBUG',
    logger: 'candy_cadence.ui.viewer',
    weight: 2,
    files: MAIN,
    make: (r) => ({ message: `Viewport resized to ${int(r, 640, 3840)}x${int(r, 480, 2160)}` }),
  },
  {
    id: 'slow-render',
    level: 'WARNING',
    logger: 'candy_cadence.ui.viewer',
    weight: 2,
    files: MAIN,
    make: (r) => ({
      message: `PERF003 Frame rate under 30 FPS: ${fixed(r, 8, 29.9, 1)} FPS while rendering ${modelPath(r)}`,
    }),
  },
  {
    id: 'cache-limit',
    level: 'WARNING',
    logger: 'candy_cadence.cache',
    weight: 1,
    files: MAIN,
    make: (r) => ({
      message: `PERF004 Cache over its limit: ${int(r, 2049, 4000)} MB used of 2048 MB, evicting ${int(r, 10, 300)} entries`,
    }),
  },
  {
    id: 'db-retry',
    level: 'WARNING',
    logger: 'candy_cadence.database',
    weight: 1,
    files: ['candy_cadence.log', 'database.log'],
    make: (r) => ({
      message: `Retrying write to ${pick(r, ['models', 'metadata', 'model_tags'])} after lock (attempt ${int(r, 1, 5)} of 5)`,
    }),
  },
  {
    id: 'par001',
    level: 'ERROR',
    logger: 'candy_cadence.parsers.stl',
    weight: 2,
    files: [...ERR, 'parser.log'],
    make: (r) => ({ message: `PAR001 Invalid file header: ${modelPath(r)}` }),
  },
  {
    id: 'par004',
    level: 'ERROR',
    logger: 'candy_cadence.parsers.stl',
    weight: 1,
    files: [...ERR, 'parser.log'],
    make: (r) => ({
      message: `PAR004 Format validation failed: ${modelPath(r)}: declared ${int(r, 100, 900000)} triangles but file holds ${int(r, 10, 99000)}`,
    }),
  },
  {
    id: 'err005',
    level: 'ERROR',
    logger: 'candy_cadence.library',
    weight: 1,
    files: ERR,
    make: (r) => ({
      message: `ERR005 File not found: /home/${pick(r, ['ana', 'raj', 'lee', 'kim'])}/Models/${pick(r, WORDS)}_${int(r, 1, 999)}.${pick(r, EXTS)}`,
    }),
  },
  {
    id: 'err002',
    level: 'ERROR',
    logger: 'candy_cadence.library',
    weight: 1,
    files: ERR,
    make: (r) => ({
      message: `ERR002 File format not supported: .${pick(r, ['fbx', 'blend', 'dae', 'gltf', 'igs'])} (${modelPath(r)})`,
    }),
  },
  {
    id: 'db001',
    level: 'ERROR',
    logger: 'candy_cadence.database',
    weight: 1,
    files: [...ERR, 'database.log'],
    make: (r) => ({
      message: `DB001 Database is locked: ${pick(r, ['INSERT INTO models', 'UPDATE models', 'INSERT INTO metadata'])} gave up after ${int(r, 5000, 30000)} ms`,
    }),
  },
  {
    id: 'err006',
    level: 'ERROR',
    logger: 'candy_cadence.plugins.downloader',
    weight: 1,
    files: ERR,
    make: (r) => ({
      message: `ERR006 Download failed: https://models.example.com/${pick(r, WORDS)}/${int(r, 1000, 99999)}.stl (HTTP ${pick(r, [404, 500, 502, 503])})`,
    }),
  },
  {
    id: 'parse-traceback',
    level: 'ERROR',
    logger: 'candy_cadence.parsers.obj',
    weight: 1,
    files: [...ERR, 'parser.log'],
    make: (r) => {
      const path = modelPath(r).replace(/\.\w+$/, '.obj');
      return {
        message: `Failed to parse ${path}`,
        continuation: traceback(
          r,
          [
            ['parsers/obj_parser.py', 'parse'],
            ['parsers/obj_parser.py', '_read_faces'],
          ],
          `ParseError: face index ${int(r, 1000, 90000)} out of range at line ${int(r, 10, 500000)}`,
        ),
      };
    },
  },
  {
    id: 'oom',
    level: 'CRITICAL',
    logger: 'candy_cadence.parsers.threemf',
    weight: 0.2,
    files: ERR,
    make: (r) => ({
      message: `ERR003 Out of memory during processing of ${modelPath(r).replace(/\.\w+$/, '.3mf')} (${int(r, 900, 4000)} MB requested)`,
      continuation: traceback(
        r,
        [
          ['parsers/threemf_parser.py', 'load'],
          ['core/mesh_builder.py', 'allocate'],
        ],
        'MemoryError: Unable to allocate array with shape (%d, 3) and data type float32'.replace(
          '%d',
          String(int(r, 10_000_000, 90_000_000)),
        ),
      ),
    }),
  },
  {
    id: 'db-error',
    level: 'ERROR',
    logger: 'candy_cadence.database',
    weight: 0.4,
    files: [...ERR, 'database.log'],
    make: (r) => ({
      message: `Database write failed for model ${int(r, 1, 10000)}`,
      continuation: traceback(
        r,
        [
          ['database/repository.py', 'save'],
          ['database/connection.py', 'execute'],
        ],
        'sqlite3.DatabaseError: database disk image is malformed',
      ),
    }),
  },
  {
    id: 'perf-loaded',
    level: 'INFO',
    logger: 'candy_cadence.performance',
    weight: 8,
    files: ['performance.log'],
    make: (r) => {
      const p = modelPath(r);
      return {
        message: `model_loaded file=${p} format=${formatOf(p)} size_mb=${fixed(r, 0.01, 120, 2)} triangles=${int(r, 12, 2_500_000)} load_time:${fixed(r, 0.04, 6, 3)}`,
      };
    },
  },
  {
    id: 'perf-frame',
    level: 'INFO',
    logger: 'candy_cadence.performance',
    weight: 3,
    files: ['performance.log'],
    make: (r) => ({
      message: `frame_stats avg_fps=${fixed(r, 25, 144, 1)} p1_fps=${fixed(r, 10, 60, 1)} frames=${int(r, 100, 5000)}`,
    }),
  },
  {
    id: 'perf001',
    level: 'WARNING',
    logger: 'candy_cadence.performance',
    weight: 0.3,
    files: ['performance.log', 'candy_cadence.log'],
    make: (r) => ({
      message: `PERF001 Load time over 30 s: ${modelPath(r)} load_time:${fixed(r, 30.5, 90, 3)}`,
    }),
  },
  {
    id: 'query',
    level: 'DEBUG',
    logger: 'candy_cadence.database',
    weight: 6,
    files: ['database.log'],
    make: (r) => ({
      message: `Query executed in ${int(r, 1, 90)}ms: ${pick(r, ['SELECT', 'INSERT', 'UPDATE'])} on ${pick(r, ['models', 'metadata', 'tags', 'model_tags', 'models_fts'])}`,
    }),
  },
  {
    id: 'slow-query',
    level: 'WARNING',
    logger: 'candy_cadence.database',
    weight: 2,
    files: ['database.log'],
    make: (r) => ({ message: slowQueryMessage(r) }),
  },
  {
    id: 'pool',
    level: 'INFO',
    logger: 'candy_cadence.database',
    weight: 1,
    files: ['database.log'],
    make: (r) => ({ message: `Connection pool: ${int(r, 1, 8)} active, ${int(r, 0, 4)} idle` }),
  },
  {
    id: 'parsing',
    level: 'DEBUG',
    logger: 'candy_cadence.parsers',
    weight: 6,
    files: ['parser.log'],
    make: (r) => {
      const p = modelPath(r);
      return { message: `Parsing ${p} as ${formatOf(p)}` };
    },
  },
  {
    id: 'parsed',
    level: 'INFO',
    logger: 'candy_cadence.parsers',
    weight: 6,
    files: ['parser.log'],
    make: (r) => ({
      message: `Parsed ${modelPath(r)}: ${int(r, 8, 1_300_000)} vertices, ${int(r, 12, 2_500_000)} triangles in ${int(r, 1, 4000)} ms`,
    }),
  },
];

/**
 * Errors are rare in the steady mix (about 25 an hour at 8 records a second, under the 50-an-hour
 * threshold); the error bursts are what push a site over it, as on a real bad day.
 */
const ERROR_SHARE = 0.01;
const steadyWeight = (t: Template) =>
  t.level === 'ERROR' || t.level === 'CRITICAL' ? t.weight * ERROR_SHARE : t.weight;
const TOTAL_WEIGHT = TEMPLATES.reduce((s, t) => s + steadyWeight(t), 0);

function recordFrom(template: Template, r: Rand, time: number): LogRecord {
  const { message, continuation = [] } = template.make(r);
  return {
    time,
    level: template.level,
    logger: template.logger,
    message,
    continuation,
    template: template.id,
    files: template.files,
  };
}

/** A record drawn from the steady mix of templates (mostly INFO/DEBUG, a few warnings and errors). */
export function randomRecord(r: Rand, time: number): LogRecord {
  let x = r() * TOTAL_WEIGHT;
  for (const t of TEMPLATES) {
    x -= steadyWeight(t);
    if (x <= 0) return recordFrom(t, r, time);
  }
  return recordFrom(TEMPLATES[0]!, r, time);
}

/** A record of one named template, for error bursts. */
export function recordOf(templateId: string, r: Rand, time: number): LogRecord {
  const t = TEMPLATES.find((x) => x.id === templateId);
  if (!t) throw new Error(`unknown template ${templateId}`);
  return recordFrom(t, r, time);
}

/** Templates an error burst is drawn from. */
export const BURST_TEMPLATES = ['par001', 'db001', 'err006', 'parse-traceback', 'par004', 'err005'];
