// Bundles the CLI into one ESM file (dist/cadence-ops.js) so start-up does not walk ~250 modules.
// Native modules stay external. Two fixes are applied to ink at bundle time, see INK-NOTES.md:
// react-devtools-core is stubbed, and log-update's off-by-one in incremental rendering is patched
// (the fix that landed in ink 7.0, PR #910), so a frame of rows-1 redraws only changed lines.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const inkPatches = {
  name: 'ink-patches',
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({
      path: 'devtools-stub',
      namespace: 'stub',
    }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'export default { initialize() {}, connectToDevTools() {} };',
      loader: 'js',
    }));
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]log-update\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const broken = 'ansiEscapes.cursorUp(previousVisible - 1)';
      if (!source.includes(broken))
        throw new Error('ink log-update patch no longer applies: check the ink version');
      return {
        contents: source.replace(broken, 'ansiEscapes.cursorUp(previousLines.length - 1)'),
        loader: 'js',
      };
    });
  },
};

const started = Date.now();
await esbuild.build({
  entryPoints: [path.join(root, 'source/cli.tsx')],
  outfile: path.join(root, 'dist/cadence-ops.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['better-sqlite3', 'systeminformation'],
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __cadenceCreateRequire } from 'node:module';",
      'const require = __cadenceCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  plugins: [inkPatches],
  logLevel: 'warning',
});
console.log(`built dist/cadence-ops.js in ${Date.now() - started} ms`);
