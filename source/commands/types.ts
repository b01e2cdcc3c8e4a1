// What every headless verb declares and receives. A verb is one file in this folder that
// default-exports a VerbSpec; index.ts lists them for --help and dispatch.
import type { AnyFlags } from 'meow';
import type { LoadedConfig } from '../../services/config.js';
import type { Logger } from '../../services/logger.js';
import type { SitePaths } from '../../services/site.js';

export interface SiteContext {
  paths: SitePaths;
  loaded: LoadedConfig;
  /** The console's state database file for this site. */
  stateDbPath: string;
}

export interface CommandContext {
  /** Positional arguments after the verb (and sub-verb, for verbs that have them). */
  args: string[];
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  log: Logger;
  /** Resolves the site (--root, $CANDY_CADENCE_ROOT, current folder) and loads its configuration. */
  site(): SiteContext;
  /** True when --json was given. */
  json: boolean;
  color: boolean;
  readOnly: boolean;
}

export interface VerbSpec {
  /** Usage lines shown by `cadence-ops VERB --help`, after the summary. */
  usage: string;
  flags?: AnyFlags;
  /** Returns the exit code. Throwing a UsageError exits 2 with its message. */
  run(ctx: CommandContext): Promise<number>;
}

export interface VerbEntry {
  name: string;
  summary: string;
  load: () => Promise<{ default: VerbSpec }>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Prints one JSON document on stdout, for --json output. */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
