// The one place that reads and validates the console's configuration: `cadence-ops.json` in the
// site root (or --config FILE), then CADENCE_OPS__section__key=value environment overrides.
// Defaults come from the thresholds of the Candy-Cadence procedures (SITE.md).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Env } from './paths.js';

const levels = (warning: number, critical: number) =>
  z
    .strictObject({
      warning: z.number().min(0).default(warning),
      critical: z.number().min(0).default(critical),
    })
    .prefault({});

const percentLevels = (warning: number, critical: number) =>
  z
    .strictObject({
      warning: z.number().min(0).max(100).default(warning),
      critical: z.number().min(0).max(100).default(critical),
    })
    .prefault({});

export const configSchema = z.strictObject({
  /** How the running Candy-Cadence application is found and controlled. */
  app: z
    .strictObject({
      pidFile: z.string().min(1).default('candy_cadence.pid'),
      processPattern: z.string().min(1).default('candy_cadence'),
      startCommand: z.string().min(1).nullable().default(null),
      stopCommand: z.string().min(1).nullable().default(null),
      stopTimeoutSeconds: z.number().int().positive().default(30),
      heartbeatMaxAgeSeconds: z.number().int().positive().default(300),
    })
    .prefault({}),
  /** Site layout, relative to the site root unless absolute. */
  paths: z
    .strictObject({
      database: z.string().min(1).default('data/candy_cadence.db'),
      models: z.string().min(1).default('data/models'),
      thumbnails: z.string().min(1).default('data/thumbnails'),
      cache: z.string().min(1).default('data/cache'),
      themes: z.string().min(1).default('resources/themes'),
      logs: z.string().min(1).default('logs'),
      temp: z.string().min(1).default('temp'),
      backups: z.string().min(1).default('backups'),
      secondaryBackups: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  sampling: z
    .strictObject({
      intervalMs: z.number().int().min(250).max(60_000).default(1000),
      ringMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(60),
      /** Samples in the least-squares trend of each metric (thresholds.trendSlope per sample). */
      trendSamples: z.number().int().min(3).max(3600).default(60),
      /** Length of one "reading" of the application's RSS for leak detection (averaged). */
      leakReadingSeconds: z.number().int().min(1).max(3600).default(60),
    })
    .prefault({}),
  thresholds: z
    .strictObject({
      cpuPercent: percentLevels(80, 95),
      memoryPercent: percentLevels(85, 90),
      diskPercent: percentLevels(85, 90),
      swapPercent: percentLevels(50, 80),
      freeMemoryMinMb: z.number().min(0).default(1024),
      freeDiskMinMb: z.number().min(0).default(1024),
      appRssMb: levels(1200, 1500),
      leakRiseMbPerReading: z.number().positive().default(5),
      leakReadings: z.number().int().min(3).default(10),
      trendSlope: z.number().positive().default(0.1),
      errorsPerHour: z.number().min(0).default(50),
      errorRepeat: z.number().int().min(1).default(5),
      errorRatePercent: z.number().min(0).default(0.1),
      slowQueryMs: z.number().min(0).default(1000),
      frequentSlowQuery: z.number().int().min(1).default(5),
      fragmentationPercent: z.number().min(0).max(100).default(30),
      tableGrowthPercent: z.number().min(0).default(10),
      cacheHitRatio: z.number().min(0).max(1).default(0.7),
      benchRegressionPercent: z.number().min(100).default(110),
      responseSeconds: z.number().positive().default(2),
    })
    .prefault({}),
  logs: z
    .strictObject({
      format: z.enum(['auto', 'python', 'raw']).default('auto'),
      lineFormat: z.string().min(1).nullable().default(null),
      rotateMb: z.number().positive().default(100),
      keepRotated: z.number().int().min(1).default(10),
      compressedRetentionDays: z.number().int().min(1).default(30),
      newClusterWindowMinutes: z.number().int().min(1).default(15),
      maxClusters: z.number().int().min(10).default(2000),
      tailBufferLines: z.number().int().min(100).default(5000),
      usePolling: z.boolean().default(false),
    })
    .prefault({}),
  backups: z
    .strictObject({
      compressionLevel: z.number().int().min(1).max(9).default(6),
      maxEntryMb: z.number().positive().default(4096),
      verifyAfterCreate: z.boolean().default(true),
      /** How long a backup waits for a database locked by the application, in ms. */
      busyTimeoutMs: z.number().int().min(0).default(10_000),
      /** Where verification spools the database inside a backup (null: the system temp folder). */
      tempDir: z.string().min(1).nullable().default(null),
      /** Compression threads (null: one per core, at most 4). */
      threads: z.number().int().min(1).max(16).nullable().default(null),
      retention: z
        .strictObject({
          databaseDays: z.number().int().min(1).default(30),
          fullWeeks: z.number().int().min(1).default(4),
          configurationWeeks: z.number().int().min(1).default(12),
          userDataDays: z.number().int().min(1).default(30),
          logsDays: z.number().int().min(1).default(7),
          /** Safety snapshots taken before a restore (pre_restore_<stamp>). */
          preRestoreDays: z.number().int().min(1).default(30),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Database tools (screen 5, `db` verbs). */
  database: z
    .strictObject({
      busyTimeoutMs: z.number().int().min(0).max(600_000).default(5000),
      busyRetries: z.number().int().min(0).max(20).default(2),
      checkMaxErrors: z.number().int().min(1).max(100_000).default(100),
      sqlRowLimit: z.number().int().min(1).max(1_000_000).default(500),
      sqlTimeoutMs: z.number().int().min(100).max(3_600_000).default(10_000),
    })
    .prefault({}),
  cache: z.strictObject({ staleDays: z.number().int().min(1).default(7) }).prefault({}),
  alerts: z
    .strictObject({
      cooldownSeconds: z.number().int().min(0).default(300),
      webhook: z
        .strictObject({
          url: z.url().nullable().default(null),
          format: z.enum(['json', 'slack']).default('json'),
          headers: z.record(z.string(), z.string()).default({}),
          timeoutMs: z.number().int().positive().default(5000),
          retries: z.number().int().min(0).default(3),
          minSeverity: z.enum(['info', 'warning', 'critical']).default('warning'),
          /** At most one delivery per alert (source and key) in this many seconds; escalations pass. */
          cooldownSeconds: z.number().int().min(0).default(300),
          /** Also send when an alert that was sent clears. */
          sendCleared: z.boolean().default(true),
        })
        .prefault({}),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      listen: z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, 'expected HOST:PORT')
        .default('127.0.0.1:9464'),
      /** Error clusters exported as series (bounded cardinality). */
      topClusters: z.number().int().min(0).max(100).default(10),
    })
    .prefault({}),
  /** Health checks (screen 1, `health`, `serve`, `maintain`). */
  health: z
    .strictObject({
      /** How often the console and `serve` run the checks again. */
      intervalSeconds: z.number().int().min(10).max(86_400).default(300),
      /** Age of the newest verified backup of each kind: daily database, weekly full (SITE.md). */
      backupMaxAgeHours: z.strictObject({ database: levels(26, 50), full: levels(170, 338) }).prefault({}),
      /** Size of the logs folder. */
      logsFolderMb: levels(1024, 4096),
      /** quick_check runs only on databases up to this size; larger ones report the last check run. */
      quickCheckMaxMb: z.number().min(0).default(64),
      minSqliteVersion: z
        .string()
        .regex(/^\d+\.\d+(\.\d+)?$/, 'expected a version like 3.35.0')
        .default('3.35.0'),
    })
    .prefault({}),
  bench: z
    .strictObject({
      runs: z.number().int().min(1).default(5),
      warmup: z.number().int().min(0).default(1),
      timeoutSeconds: z.number().positive().default(60),
      memoryCapMb: z.number().int().min(64).default(2048),
      maxUncompressedMb: z.number().int().min(1).default(2048),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;

export const CONFIG_FILE_NAME = 'cadence-ops.json';
const ENV_PREFIX = 'CADENCE_OPS__';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    readonly expected: string,
  ) {
    super(`${source}: ${key ? `${key}: ` : ''}${expected}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when only defaults (and environment) apply. */
  file: string | null;
  /** Environment variables that overrode a value. */
  envOverrides: string[];
}

/** Reads, merges and validates the configuration; throws ConfigError naming the source, the key and what was expected. */
export function loadConfig(opts: { siteRoot: string; file?: string | null; env?: Env }): LoadedConfig {
  const env = opts.env ?? process.env;
  const explicit = opts.file ? path.resolve(opts.file) : null;
  const candidate = explicit ?? path.join(opts.siteRoot, CONFIG_FILE_NAME);
  let raw: Record<string, unknown> = {};
  let file: string | null = null;
  if (explicit && !existsSync(explicit)) throw new ConfigError(explicit, '', 'file not found');
  if (existsSync(candidate)) {
    file = candidate;
    let text: string;
    try {
      text = readFileSync(candidate, 'utf8');
    } catch (err) {
      throw new ConfigError(candidate, '', `cannot read: ${(err as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(candidate, '', `not valid JSON: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(candidate, '', 'expected a JSON object at the top level');
    }
  }
  validate(raw, file ?? candidate);

  const envOverrides: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const keyPath = name.slice(ENV_PREFIX.length).split('__').filter(Boolean);
    if (keyPath.length === 0) continue;
    setPath(raw, keyPath, parseEnvValue(value));
    envOverrides.push(name);
    validate(raw, `environment ${name}`);
  }
  if (env.CADENCE_OPS_WEBHOOK_URL) {
    setPath(raw, ['alerts', 'webhook', 'url'], env.CADENCE_OPS_WEBHOOK_URL);
    envOverrides.push('CADENCE_OPS_WEBHOOK_URL');
    validate(raw, 'environment CADENCE_OPS_WEBHOOK_URL');
  }
  return { config: configSchema.parse(raw), file, envOverrides };
}

/** The defaults alone, for tests and services used without a site file. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

function validate(raw: unknown, source: string): void {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return;
  const issue = result.error.issues[0]!;
  const key = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const bad = issue.keys[0]!;
    const known = knownKeysAt(issue.path.map(String));
    const guess = closest(bad, known);
    const fullKey = key ? `${key}.${bad}` : bad;
    throw new ConfigError(
      source,
      fullKey,
      `unknown key${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of: ${known.join(', ')}`,
    );
  }
  throw new ConfigError(source, key, describeIssue(issue));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    return `expected ${issue.expected}, got ${issue.input === null ? 'null' : Array.isArray(issue.input) ? 'array' : typeof issue.input}`;
  }
  if (issue.code === 'invalid_value')
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'too_small') return `expected at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `expected at most ${String(issue.maximum)}`;
  return issue.message;
}

function knownKeysAt(keyPath: string[]): string[] {
  let schema: z.ZodType = configSchema;
  for (const part of keyPath) {
    const shape = objectShape(schema);
    if (!shape?.[part]) return [];
    schema = shape[part] as z.ZodType;
  }
  return Object.keys(objectShape(schema) ?? {});
}

function objectShape(schema: z.ZodType): Record<string, unknown> | undefined {
  let current: unknown = schema;
  // Unwrap defaults, prefaults, nullables and optionals down to the object.
  for (let i = 0; i < 5 && current; i++) {
    const def = (current as { def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown> } })
      .def;
    if (!def) return undefined;
    if (def.type === 'object') return def.shape;
    current = def.innerType;
  }
  return undefined;
}

function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = levenshtein(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}

function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = target;
  for (const part of keyPath.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]!] = value;
}

const SECRET_KEY = /(url|headers|secret|token|password|apikey|api_key)$/i;

/** A copy of the configuration with secrets (webhook URL and headers, tokens, passwords) replaced. */
export function redactConfig(config: Config): unknown {
  const walk = (value: unknown, key: string): unknown => {
    if (value === null || value === undefined) return value;
    if (SECRET_KEY.test(key)) {
      if (typeof value === 'string') return '<redacted>';
      if (typeof value === 'object') {
        return Object.fromEntries(Object.keys(value as object).map((k) => [k, '<redacted>']));
      }
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, key));
    if (typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, walk(v, k)]));
    }
    return value;
  };
  return walk(config, '');
}
