// The layout of a full backup (SITE.md) and how it maps onto a live site: which site path is stored
// under which archive path, and which restore scope each belongs to. One table, used by create,
// diff and restore alike, so the three can never disagree.
import path from 'node:path';
import type { SitePaths } from './site.js';

export type LayoutScope = 'database' | 'config' | 'user-data' | 'logs';
export type RestoreScope = 'all' | 'database' | 'config' | 'user-data';
export const RESTORE_SCOPES: RestoreScope[] = ['all', 'database', 'config', 'user-data'];

export interface LayoutItem {
  /** Path under the archive's top folder, '/'-separated. */
  archivePath: string;
  /** Absolute path in the live site. */
  sitePath: string;
  type: 'database' | 'file' | 'tree';
  scope: LayoutScope;
}

export const DATABASE_ARCHIVE_PATH = 'database/candy_cadence.db';
export const MANIFEST_NAME = 'backup_manifest.json';
export const CONFIGURATION_FILES = [
  'config.json',
  'settings.json',
  '.env',
  'pyinstaller.spec',
  'requirements.txt',
];

export function backupLayout(paths: SitePaths): LayoutItem[] {
  return [
    { archivePath: DATABASE_ARCHIVE_PATH, sitePath: paths.database, type: 'database', scope: 'database' },
    ...CONFIGURATION_FILES.map(
      (f): LayoutItem => ({
        archivePath: `configuration/${f}`,
        sitePath: path.join(paths.root, f),
        type: 'file',
        scope: 'config',
      }),
    ),
    { archivePath: 'user_data/models', sitePath: paths.models, type: 'tree', scope: 'user-data' },
    { archivePath: 'user_data/thumbnails', sitePath: paths.thumbnails, type: 'tree', scope: 'user-data' },
    { archivePath: 'user_data/cache', sitePath: paths.cache, type: 'tree', scope: 'user-data' },
    { archivePath: 'user_data/themes', sitePath: paths.themes, type: 'tree', scope: 'user-data' },
    { archivePath: 'logs/logs', sitePath: paths.logs, type: 'tree', scope: 'logs' },
  ];
}

export function scopeIncludes(scope: RestoreScope, item: LayoutScope): boolean {
  return scope === 'all' || scope === item;
}

/** The layout item an archive path (under the top folder) belongs to, and its live path; null when none. */
export function liveTarget(
  layout: LayoutItem[],
  archivePath: string,
): { item: LayoutItem; livePath: string } | null {
  for (const item of layout) {
    if (archivePath === item.archivePath) return { item, livePath: item.sitePath };
    if (item.type === 'tree' && archivePath.startsWith(`${item.archivePath}/`)) {
      const rest = archivePath.slice(item.archivePath.length + 1);
      return { item, livePath: path.join(item.sitePath, ...rest.split('/')) };
    }
  }
  return null;
}

/** A live path shown relative to the site root when it is inside it. */
export function displayPath(paths: SitePaths, livePath: string): string {
  const rel = path.relative(paths.root, livePath);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : livePath;
}
