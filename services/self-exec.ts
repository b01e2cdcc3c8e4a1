// How the console starts more of itself: child processes (the simulator, the model loader) and
// worker threads run the same bundle. Under vitest the sources are TypeScript, so they use the
// built bundle in dist/ (npm test builds first).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** Absolute path of dist/cadence-ops.js. */
export function cliEntryPath(): string {
  if (cached) return cached;
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('cadence-ops.js')) return (cached = here);
  let dir = path.dirname(here);
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'dist', 'cadence-ops.js');
    if (existsSync(candidate)) return (cached = candidate);
    dir = path.dirname(dir);
  }
  throw new Error('dist/cadence-ops.js not found: run `npm run build` first');
}

/** argv to start `cadence-ops VERB ...` as a child process with the current Node. */
export function cliCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [cliEntryPath(), ...args] };
}
