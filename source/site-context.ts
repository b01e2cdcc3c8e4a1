// Resolves the site and its configuration once per run, for verbs and the console alike.
import { loadConfig } from '../services/config.js';
import { siteStateDbPath } from '../services/paths.js';
import { resolveSiteRoot, sitePaths } from '../services/site.js';
import type { SiteContext } from './commands/types.js';

export function siteContextFor(root: string, configFile: string | null, env: NodeJS.ProcessEnv): SiteContext {
  const loaded = loadConfig({ siteRoot: root, file: configFile, env });
  return { paths: sitePaths(root, loaded.config), loaded, stateDbPath: siteStateDbPath(root, env) };
}

export function resolveSiteContext(
  flags: { root?: string; config?: string },
  env: NodeJS.ProcessEnv,
): SiteContext {
  const { root } = resolveSiteRoot({ flag: flags.root, env });
  return siteContextFor(root, flags.config ?? null, env);
}
