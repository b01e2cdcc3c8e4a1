// Health check "configuration": the application's config.json and settings.json exist, parse as
// JSON objects and have the keys the application reads (ERR007 "invalid configuration file" is what
// the application logs otherwise); config.json's database path is the database the console watches.
// The console's own cadence-ops.json was validated when it was loaded (a typo stops every verb).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type CheckContext,
  type CheckOutcome,
  type HealthState,
  outcome,
  worstState,
} from './health-types.js';

/** The keys the application reads (SITE.md's example configuration). */
export const EXPECTED_KEYS: Record<'config.json' | 'settings.json', string[]> = {
  'config.json': ['version', 'database', 'logging', 'models'],
  'settings.json': ['theme', 'viewer', 'thumbnails'],
};

export interface ParsedJsonFile {
  file: string;
  value: Record<string, unknown> | null;
  error: string | null;
  missing: boolean;
}

export function readJsonObject(file: string): ParsedJsonFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      file,
      value: null,
      missing: code === 'ENOENT',
      error: code === 'ENOENT' ? 'missing' : `cannot be read: ${(err as Error).message}`,
    };
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { file, value: null, missing: false, error: 'is not a JSON object' };
    return { file, value: value as Record<string, unknown>, missing: false, error: null };
  } catch (err) {
    return { file, value: null, missing: false, error: `is not valid JSON: ${(err as Error).message}` };
  }
}

export function checkConfiguration(ctx: CheckContext): CheckOutcome {
  const findings: string[] = [];
  const states: HealthState[] = [];
  const files = { 'config.json': ctx.paths.configJson, 'settings.json': ctx.paths.settingsJson } as const;
  const data: Record<string, unknown> = {};
  for (const [name, file] of Object.entries(files) as Array<[keyof typeof files, string]>) {
    const parsed = readJsonObject(file);
    data[name] = { error: parsed.error, keys: parsed.value ? Object.keys(parsed.value).length : null };
    if (parsed.error) {
      states.push(name === 'config.json' || !parsed.missing ? 'critical' : 'warning');
      findings.push(`${name} ${parsed.error}`);
      continue;
    }
    const absent = EXPECTED_KEYS[name].filter((k) => !(k in parsed.value!));
    if (absent.length) {
      states.push('warning');
      findings.push(`${name} lacks ${absent.map((k) => `"${k}"`).join(', ')}`);
    }
    if (name === 'config.json') {
      const dbPath = (parsed.value!.database as { path?: unknown } | undefined)?.path;
      if (typeof dbPath === 'string') {
        const resolved = path.resolve(ctx.paths.root, dbPath);
        if (resolved !== path.resolve(ctx.paths.database)) {
          states.push('warning');
          findings.push(
            `config.json database.path is ${dbPath}, the console watches ${path.relative(ctx.paths.root, ctx.paths.database)} (paths.database)`,
          );
        }
      }
    }
  }
  const state = worstState(states);
  if (state === 'ok')
    return outcome('ok', 'config.json and settings.json parse, expected keys present', null, [], data);
  const broken = findings.some((f) => /JSON|cannot be read|missing$/.test(f));
  return outcome(
    state,
    findings[0]!,
    broken
      ? 'fix the file (the application fails with ERR007 on start) or restore it from the newest full backup (its configuration/ folder)'
      : 'add the missing keys (see the application documentation), or set paths.database in cadence-ops.json to the database the application uses',
    findings,
    data,
  );
}
