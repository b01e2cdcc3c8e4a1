import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { findAppProcess } from '../../services/app-process.js';
import { listBackups } from '../../services/backup-list.js';
import { recordVerification } from '../../services/backup-state.js';
import { verifyBackup } from '../../services/backup-verify.js';
import { buildSite } from '../../services/demo-site.js';
import { demoSiteDir, siteStateDbPath } from '../../services/paths.js';
import { cliCommand } from '../../services/self-exec.js';
import { DEMO_MARKER } from '../../services/site.js';
import { openStateDb } from '../../services/state-db.js';
import { siteContextFor } from '../site-context.js';
import type { CommandContext, VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops demo [--fresh] [--no-console] [--no-simulator] [--root DIR]

Builds a realistic Candy-Cadence site (10,000 models, model files in every format, some of them
malformed, thumbnails, a stale cache, logs with rotated and gzipped history, backups of both
kinds with one corrupt) in ~/.local/share/cadence-ops/demo-site ($XDG_DATA_HOME respected, or
--root DIR), on first use or again with --fresh. Then starts the simulated application on it and
opens the console; quitting the console stops the simulator.

Options
  --fresh          delete the demo site and build it again
  --no-console     build (if needed) and print the site's path; start nothing
  --no-simulator   open the console without starting the simulated application`,
  flags: {
    fresh: { type: 'boolean', default: false },
    console: { type: 'boolean', default: true },
    simulator: { type: 'boolean', default: true },
  },
  async run(ctx) {
    const dir = ctx.flags.root ? path.resolve(String(ctx.flags.root)) : demoSiteDir(ctx.env);
    const built =
      existsSync(path.join(dir, DEMO_MARKER)) && existsSync(path.join(dir, 'data/candy_cadence.db'));
    if (ctx.flags.fresh && existsSync(dir) && !existsSync(path.join(dir, DEMO_MARKER))) {
      ctx.stderr.write(`cadence-ops: ${dir} is not a demo site (no ${DEMO_MARKER}); refusing to delete it\n`);
      return 2;
    }
    if (!built || ctx.flags.fresh) await build(ctx, dir);
    const site = siteContextFor(dir, (ctx.flags.config as string | undefined) ?? null, ctx.env);
    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    if (!ctx.flags.console || !interactive) {
      ctx.stdout.write(`${dir}\n`);
      if (ctx.flags.console && !interactive) {
        ctx.stderr.write(
          'cadence-ops: no terminal, so the console is not opened. Open it with: cadence-ops --root ' +
            `${dir}\nStart the simulated application with: cadence-ops simulate --root ${dir}\n`,
        );
      }
      return 0;
    }
    let simulator: ChildProcess | null = null;
    const running = findAppProcess({ pidFile: site.paths.pidFile, pattern: null }).process;
    if (ctx.flags.simulator && !running) {
      const { command, args } = cliCommand(['simulate', '--root', dir, '--parent-pid', String(process.pid)]);
      simulator = spawn(command, args, { stdio: 'ignore', env: ctx.env });
      ctx.log.info({ pid: simulator.pid }, 'demo simulator started');
    }
    const { openConsole } = await import('../console.js');
    return openConsole(ctx, {
      site,
      demo: true,
      onExit: () => stopChild(simulator),
    });
  },
};
export default verb;

async function build(ctx: CommandContext, dir: string): Promise<void> {
  const started = Date.now();
  const tty = Boolean(ctx.stderr.isTTY);
  const staging = `${dir}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  ctx.stderr.write(`Building the demo site in ${dir}\n`);
  await buildSite(staging, {
    demo: true,
    onProgress: (step, done, total) => {
      const width = 24;
      const filled = Math.round((done / total) * width);
      const line = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} ${step} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
      ctx.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
  });
  if (tty) ctx.stderr.write('\n');
  if (existsSync(dir)) {
    // A simulator still running on the old demo site would write into the new one: stop it.
    const old = findAppProcess({ pidFile: path.join(dir, 'candy_cadence.pid'), pattern: null }).process;
    if (old) {
      try {
        process.kill(old.pid, 'SIGTERM');
      } catch {}
    }
    await rm(dir, { recursive: true, force: true });
  }
  await rename(staging, dir);
  // A fresh demo starts with fresh console state (history, alerts, verifications of old files).
  const stateDb = siteStateDbPath(dir, ctx.env);
  for (const suffix of ['', '-wal', '-shm']) await rm(`${stateDb}${suffix}`, { force: true });
  await verifyDemoBackups(ctx, dir, tty, started);
  ctx.stderr.write(`Demo site ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/**
 * Verifies the demo's backups as an operator would have, so the console opens with real
 * verification states: every backup verified, and the deliberately corrupt one failed.
 */
async function verifyDemoBackups(
  ctx: CommandContext,
  dir: string,
  tty: boolean,
  started: number,
): Promise<void> {
  const site = siteContextFor(dir, null, ctx.env);
  const db = openStateDb(site.stateDbPath);
  try {
    const { backups } = listBackups({ paths: site.paths, stateDb: db });
    for (const [i, b] of backups.entries()) {
      const line = `verifying backups ${i + 1}/${backups.length} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
      ctx.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      recordVerification(
        db,
        b.file,
        await verifyBackup(b.file, { config: site.loaded.config, inline: true }),
      );
    }
    if (tty) ctx.stderr.write('\n');
  } finally {
    db.close();
  }
}

/** SIGTERM, then SIGKILL if it has not gone within 3 s. */
export function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
