// Renders the real console shell with ink-testing-library, on a throwaway site folder.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import type { ScreenDefinition, ScreenId } from '../../screens/context.js';
import { SCREENS } from '../../screens/index.js';
import { silentLogger } from '../../services/logger.js';
import { openStateDb, type StateDb } from '../../services/state-db.js';
import { createStore, ServiceRegistry } from '../../services/store.js';
import { App, type ShellContext, type TerminalSize } from '../../source/shell/app.js';
import { siteContextFor } from '../../source/site-context.js';
import { tempDir, testEnv } from './temp-site.js';

export interface RenderedShell extends ReturnType<typeof render> {
  size: ReturnType<typeof createStore<TerminalSize>>;
  context: ShellContext;
  /** Writes keys (one read each) and returns the frame after a short settle. */
  press(...keys: string[]): Promise<string>;
  /** Polls the frame until `predicate` holds (the machine may be busy); returns it or throws with the last frame. */
  frame(predicate: (frame: string) => boolean, timeoutMs?: number): Promise<string>;
  dispose(): Promise<void>;
}

export const KEYS = {
  tab: '\t',
  shiftTab: '\x1b[Z',
  escape: '\x1b',
  enter: '\r',
  up: '\x1b[A',
  down: '\x1b[B',
  ctrlC: '\x03',
};

export const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** The active tab of a frame, e.g. "3 Logs" (drawn as [3 Logs]). */
export function activeTab(frame: string): string | null {
  return /\[(\d [A-Z][a-z]+)\]/.exec(frame)?.[1] ?? null;
}

/** Waits until `condition()` holds, polling; throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(15);
  }
}

export function renderShell(
  opts: {
    screens?: ScreenDefinition[];
    readOnly?: boolean;
    columns?: number;
    rows?: number;
    root?: string;
    initialScreen?: ScreenId;
  } = {},
): RenderedShell {
  const home = tempDir();
  const root = opts.root ?? path.join(home, 'site');
  mkdirSync(root, { recursive: true });
  const env = testEnv(home);
  const site = siteContextFor(root, null, env);
  const services = new ServiceRegistry();
  let db: StateDb | null = null;
  const context: ShellContext = {
    site,
    config: site.loaded.config,
    readOnly: opts.readOnly ?? false,
    color: false,
    demo: false,
    log: silentLogger(),
    stateDb: () => (db ??= openStateDb(site.stateDbPath)),
    services,
  };
  const size = createStore<TerminalSize>({ columns: opts.columns ?? 100, rows: opts.rows ?? 30 });
  const rendered = render(
    <App
      context={context}
      screens={opts.screens ?? SCREENS}
      size={size}
      initialScreen={opts.initialScreen}
    />,
  );
  return {
    ...rendered,
    size,
    context,
    async press(...keys: string[]) {
      for (const key of keys) {
        rendered.stdin.write(key);
        await tick();
      }
      await tick();
      return rendered.lastFrame() ?? '';
    },
    async frame(predicate, timeoutMs = 5000) {
      let last = '';
      try {
        await until(() => predicate((last = rendered.lastFrame() ?? '')), timeoutMs, 'frame');
      } catch {
        throw new Error(`frame never matched; last frame:\n${last}`);
      }
      return last;
    },
    async dispose() {
      rendered.unmount();
      await services.disposeAll();
      db?.close();
    },
  };
}
