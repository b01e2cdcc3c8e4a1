// Entry point of the bundle. Dispatches a headless verb, or opens the full-screen console.
// The same file serves as the entry of the console's worker threads (see services/self-exec.ts).
import { isMainThread } from 'node:worker_threads';
import chalk from 'chalk';
import meow, { type AnyFlags } from 'meow';
import pkg from '../package.json' with { type: 'json' };
import { ConfigError } from '../services/config.js';
import { createFileLogger, LOG_LEVELS, type Logger } from '../services/logger.js';
import { consoleLogPath } from '../services/paths.js';
import { pendingRestoreNotice } from '../services/restore-journal.js';
import { SiteNotFoundError } from '../services/site.js';
import { findVerb, verbs } from './commands/index.js';
import { type CommandContext, type SiteContext, UsageError, type VerbSpec } from './commands/types.js';
import { resolveSiteContext } from './site-context.js';

const GLOBAL_FLAGS = {
  root: { type: 'string' },
  config: { type: 'string' },
  logLevel: { type: 'string', choices: [...LOG_LEVELS] },
  readOnly: { type: 'boolean', default: false },
  color: { type: 'boolean', default: true },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', shortFlag: 'h', default: false },
  version: { type: 'boolean', default: false },
} satisfies AnyFlags;

const STRING_FLAGS = new Set(['--root', '--config', '--log-level']);

export function globalHelp(): string {
  const width = Math.max(...verbs.map((v) => v.name.length));
  return `cadence-ops ${pkg.version}: the operations console for Candy-Cadence sites

Usage
  cadence-ops [--root DIR]          open the full-screen console on a site
  cadence-ops VERB [options]        run one capability headless (cron, scripts)
  cadence-ops VERB --help           options of one verb

Verbs
${verbs.map((v) => `  ${v.name.padEnd(width)}  ${v.summary}`).join('\n')}

Options
  --root DIR          site root (else $CANDY_CADENCE_ROOT, else the current folder if it is a site)
  --config FILE       configuration file (default: DIR/cadence-ops.json)
  --read-only         hide and refuse every action that changes something
  --no-color          no colour (NO_COLOR is honoured too)
  --log-level LEVEL   the console's own log: ${LOG_LEVELS.join(', ')} (default info)
  --json              machine-readable output, for verbs that print results
  --version, --help

Exit codes
  0 ok, 1 the verb failed (health: warning), 2 usage or configuration error (health: critical),
  3 health unknown`;
}

function verbHelp(name: string, summary: string, spec: VerbSpec): string {
  return `cadence-ops ${name}: ${summary}\n\n${spec.usage.trim()}\n\nGlobal options: --root DIR, --config FILE, --read-only, --no-color, --log-level LEVEL, --json\n`;
}

/** The first positional argument, skipping the values of the global string flags. */
function firstPositional(argv: string[]): { name: string; index: number } | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1] ? { name: argv[i + 1]!, index: i + 1 } : null;
    if (STRING_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return { name: arg, index: i };
  }
  return null;
}

/** An interrupted restore is said at the start of every verb (restore itself handles it). */
function warnPendingRestore(site: () => SiteContext): void {
  try {
    const notice = pendingRestoreNotice(site().paths.root);
    if (notice) process.stderr.write(`cadence-ops: ${notice}\n`);
  } catch {
    // No site for this verb: nothing to say.
  }
}

export async function main(argv: string[]): Promise<number> {
  const positional = firstPositional(argv);
  const entry = positional ? findVerb(positional.name) : undefined;
  if (positional && !entry) {
    process.stderr.write(
      `cadence-ops: unknown command "${positional.name}"\nknown commands: ${verbs.map((v) => v.name).join(', ')}\n` +
        'see cadence-ops --help\n',
    );
    return 2;
  }
  const spec = entry ? (await entry.load()).default : undefined;
  const restArgv = positional
    ? [...argv.slice(0, positional.index), ...argv.slice(positional.index + 1)]
    : argv;
  const cli = meow({
    importMeta: import.meta,
    argv: restArgv,
    flags: { ...GLOBAL_FLAGS, ...(spec?.flags ?? {}) },
    allowUnknownFlags: false,
    autoHelp: false,
    autoVersion: false,
    pkg: { name: pkg.name, version: pkg.version },
  });
  const flags = cli.flags as Record<string, unknown> & typeof cli.flags;
  if (flags.version) {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (flags.help) {
    process.stdout.write(entry && spec ? verbHelp(entry.name, entry.summary, spec) : `${globalHelp()}\n`);
    return 0;
  }
  const color = flags.color !== false && !process.env.NO_COLOR;
  if (!color) chalk.level = 0;

  const env = process.env;
  const log: Logger = createFileLogger(
    consoleLogPath(env),
    (flags.logLevel as string | undefined) ?? env.CADENCE_OPS_LOG_LEVEL ?? 'info',
  );
  let siteCache: SiteContext | null = null;
  const site = (): SiteContext => {
    siteCache ??= resolveSiteContext(
      { root: flags.root as string | undefined, config: flags.config as string | undefined },
      env,
    );
    return siteCache;
  };
  const ctx: CommandContext = {
    args: cli.input,
    flags,
    env,
    stdout: process.stdout,
    stderr: process.stderr,
    log,
    site,
    json: Boolean(flags.json),
    color,
    readOnly: Boolean(flags.readOnly) || env.CADENCE_OPS_READ_ONLY === '1',
  };
  try {
    if (!spec) {
      const { openConsole } = await import('./console.js');
      return await openConsole(ctx);
    }
    if (entry!.name !== 'restore') warnPendingRestore(site);
    log.info({ verb: entry!.name, args: cli.input }, 'verb start');
    const code = await spec.run(ctx);
    log.info({ verb: entry!.name, code }, 'verb end');
    return code;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SiteNotFoundError || err instanceof UsageError) {
      process.stderr.write(`cadence-ops: ${err.message}\n`);
      return 2;
    }
    log.error({ err }, 'verb failed');
    throw err;
  }
}

if (isMainThread) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Linux writes to pipes and TTYs synchronously, so nothing printed is lost by exiting here;
      // exiting also ends verbs whose services left a timer or watcher behind.
      process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(
        `cadence-ops: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    },
  );
} else {
  const { runWorker } = await import('../services/worker-entry.js');
  await runWorker();
}
