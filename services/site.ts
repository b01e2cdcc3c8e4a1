// The layout of a Candy-Cadence site (SITE.md) resolved against a root and the configuration.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

export interface SitePaths {
  root: string;
  database: string;
  models: string;
  thumbnails: string;
  cache: string;
  themes: string;
  logs: string;
  temp: string;
  backups: string;
  secondaryBackups: string | null;
  pidFile: string;
  configJson: string;
  settingsJson: string;
  envFile: string;
  /** Written by `cadence-ops demo` so the console can mark a demo site plainly. */
  demoMarker: string;
}

export const DEMO_MARKER = '.cadence-ops-demo';

export function sitePaths(root: string, config: Config): SitePaths {
  const abs = path.resolve(root);
  const at = (p: string) => (path.isAbsolute(p) ? p : path.join(abs, p));
  return {
    root: abs,
    database: at(config.paths.database),
    models: at(config.paths.models),
    thumbnails: at(config.paths.thumbnails),
    cache: at(config.paths.cache),
    themes: at(config.paths.themes),
    logs: at(config.paths.logs),
    temp: at(config.paths.temp),
    backups: at(config.paths.backups),
    secondaryBackups: config.paths.secondaryBackups ? at(config.paths.secondaryBackups) : null,
    pidFile: at(config.app.pidFile),
    configJson: path.join(abs, 'config.json'),
    settingsJson: path.join(abs, 'settings.json'),
    envFile: path.join(abs, '.env'),
    demoMarker: path.join(abs, DEMO_MARKER),
  };
}

/** A folder looks like a site when it has the database folder or the application's config and logs. */
export function looksLikeSite(dir: string): boolean {
  const has = (p: string) => existsSync(path.join(dir, p));
  return has('data/candy_cadence.db') || (has('config.json') && has('logs')) || has('cadence-ops.json');
}

export function isDemoSite(root: string): boolean {
  return existsSync(path.join(root, DEMO_MARKER));
}

export type RootSource = '--root' | 'CANDY_CADENCE_ROOT' | 'current folder';

export class SiteNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteNotFoundError';
  }
}

/** --root DIR, else $CANDY_CADENCE_ROOT, else the current folder if it looks like a site. */
export function resolveSiteRoot(opts: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string }): {
  root: string;
  source: RootSource;
} {
  const env = opts.env ?? process.env;
  const check = (dir: string, source: RootSource) => {
    const abs = path.resolve(dir);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {}
    if (!isDir) throw new SiteNotFoundError(`${source} ${abs}: no such folder`);
    return { root: abs, source };
  };
  if (opts.flag) return check(opts.flag, '--root');
  if (env.CANDY_CADENCE_ROOT) return check(env.CANDY_CADENCE_ROOT, 'CANDY_CADENCE_ROOT');
  const cwd = opts.cwd ?? process.cwd();
  if (looksLikeSite(cwd)) return { root: path.resolve(cwd), source: 'current folder' };
  throw new SiteNotFoundError(
    `no Candy-Cadence site here (${cwd}).\n` +
      'Pass --root DIR or set CANDY_CADENCE_ROOT, or try the built-in demo site: cadence-ops demo',
  );
}

/** Reads a small text file, or null when it is missing or unreadable. */
export function readTextOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
