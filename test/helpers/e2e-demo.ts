// What the tmux end-to-end tests on the demo site share: a demo site built once per file (the real
// `demo --no-console`), and the console started on it in a tmux pane between two shell markers, so a
// test can see the terminal given back after quitting.
import { rmSync } from 'node:fs';
import { expect } from 'vitest';
import { cliEntryPath } from '../../services/self-exec.js';
import { runCli } from './cli.js';
import { tempDir, testEnv } from './temp-site.js';
import { TmuxSession } from './tmux.js';

export interface DemoSite {
  home: string;
  env: NodeJS.ProcessEnv;
  site: string;
  remove(): void;
}

/** Builds the demo site in a fresh home (state and data folders of its own). */
export async function buildDemoSite(prefix: string): Promise<DemoSite> {
  const home = tempDir(prefix);
  const env = testEnv(home, { TERM: 'xterm-256color' });
  const built = await runCli(['demo', '--no-console'], { env, timeoutMs: 90_000 });
  expect(built.code, built.stderr).toBe(0);
  return {
    home,
    env,
    site: built.stdout.trim(),
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

export interface DemoConsole {
  tmux: TmuxSession;
  /** Whitespace runs collapsed (newlines too, unless the console was started with keepLines). */
  flat(pane: string): string;
  /** Waits for text (or a pattern) in the flattened pane; returns the raw pane. */
  waitFor(text: string | RegExp, what: string, timeoutMs?: number): Promise<string>;
}

/** `cadence-ops demo` in a tmux pane, after SHELL-BEFORE and before EXITED <code>. */
export function startDemoConsole(
  name: string,
  demo: DemoSite,
  opts: { columns?: number; rows?: number; keepLines?: boolean } = {},
): DemoConsole {
  const tmux = new TmuxSession(name, tempDir('cadence-tmux-'));
  const flat = (p: string) => p.replace(opts.keepLines ? /[ \t]+/g : /\s+/g, ' ');
  tmux.start(
    `clear; echo SHELL-BEFORE; ${process.execPath} ${cliEntryPath()} demo; echo "EXITED $?"; sleep 600`,
    opts.columns ?? 100,
    opts.rows ?? 30,
    demo.env,
  );
  return {
    tmux,
    flat,
    waitFor: (text, what, timeoutMs = 30_000) =>
      tmux.waitFor(
        (p) => (typeof text === 'string' ? flat(p).includes(text) : text.test(flat(p))),
        timeoutMs,
        what,
      ),
  };
}
