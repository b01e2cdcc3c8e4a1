// Bundles the CLI into one ESM file (dist/cadence-ops.js) so start-up does not walk ~250 modules.
// Native modules stay external. Fixes are applied to ink at bundle time (./ink-patches.mjs, see
// INK-NOTES.md): react-devtools-core is stubbed, log-update's off-by-one in incremental rendering is
// patched (the fix that landed in ink 7.0, PR #910), so a frame of rows-1 redraws only changed
// lines, and ink's text caches are shared across frames and bounded by use.
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { inkPatches } from './ink-patches.mjs';

/** The bundle's Node flags (its #! line); `npm start` passes the same (package.json). */
export const NODE_FLAGS = '--max-semi-space-size=4 --expose-gc --v8-pool-size=1';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// What both bundles share: one ESM file for Node 20.19, minified, with a linked source map.
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
};

const started = Date.now();
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'source/cli.tsx')],
  outfile: path.join(root, 'dist/cadence-ops.js'),
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['better-sqlite3', 'systeminformation'],
  banner: {
    js: [
      // A smaller young generation (~35 MB less RSS idle, no measurable CPU), and gc() for the
      // console's idle collection (source/console.tsx). One V8 helper thread instead of four (a
      // 2-core host gains nothing from four, and each kept its own malloc arena: ~20 MB of RSS).
      `#!/usr/bin/env -S node ${NODE_FLAGS}`,
      "import { createRequire as __cadenceCreateRequire } from 'node:module';",
      'const require = __cadenceCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  plugins: [inkPatches],
});
await chmod(path.join(root, 'dist/cadence-ops.js'), 0o755);
// The small worker of `logs analyze` (services/log-analysis-thread.ts): the log scanner alone, so a
// thread starts in ~25 ms instead of loading the whole console.
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'services/log-analysis-thread.ts')],
  outfile: path.join(root, 'dist/log-analysis-thread.js'),
  // Threads never split again: the console's worker entry is not needed there.
  external: ['./worker-entry.js'],
});
console.log(`built dist/cadence-ops.js and dist/log-analysis-thread.js in ${Date.now() - started} ms`);
