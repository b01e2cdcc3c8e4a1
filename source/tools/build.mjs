// Bundles the CLI into one ESM file (dist/cadence-ops.js) so start-up does not walk ~250 modules.
// Native modules stay external. Two fixes are applied to ink at bundle time, see INK-NOTES.md:
// react-devtools-core is stubbed, and log-update's off-by-one in incremental rendering is patched
// (the fix that landed in ink 7.0, PR #910), so a frame of rows-1 redraws only changed lines.
import { chmod, readFile } from 'node:fs/promises';
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
    // Ink rebuilds every frame from scratch, and its width/tokenize caches live one frame: each
    // render re-measures every line (string-width's slow path for any non-ASCII glyph: bars,
    // sparklines, box lines) and re-slices it for clipping. Sharing the caches across frames (bounded)
    // makes unchanged lines free (screen 2 at 120x40, 1 Hz: ~5 % of a core down to ~3 % on the busy
    // development VM; issue 3).
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]output\.js$/ }, async (args) => {
      let source = await readFile(args.path, 'utf8');
      const patches = [
        ['    caches = new OutputCaches();', '    caches = sharedOutputCaches();'],
        [
          '    styledChars = new Map();',
          '    styledChars = new Map();\n    slices = new Map();\n    slice(line, from, to) {\n        const key = from + ":" + to + ":" + line;\n        let cached = this.slices.get(key);\n        if (cached === undefined) {\n            cached = sliceAnsi(line, from, to);\n            this.slices.set(key, cached);\n        }\n        return cached;\n    }',
        ],
        [
          '                            return sliceAnsi(line, from, to);',
          '                            return this.caches.slice(line, from, to);',
        ],
        // Every frame allocated a fresh blank cell object for each of W x H cells; cells are only
        // ever replaced, never mutated, so one shared blank does.
        [
          "            for (let x = 0; x < this.width; x++) {\n                row.push({\n                    type: 'char',\n                    value: ' ',\n                    fullWidth: false,\n                    styles: [],\n                });\n            }",
          '            for (let x = 0; x < this.width; x++) {\n                row.push(BLANK_CELL);\n            }',
        ],
        // A row's text depends only on the writes that land on it (position and text, after
        // clipping and transformers) and the width: remember the key of each row and reuse last
        // frame's string when it is the same, instead of re-serialising every cell of every row.
        [
          '        const clips = [];',
          '        const rowKeys = new Array(this.height).fill(String(this.width));\n        const clips = [];',
        ],
        [
          '                    const characters = this.caches.getStyledChars(line);',
          "                    const characters = this.caches.getStyledChars(line);\n                    rowKeys[y + offsetY] += '\\u0001' + x + '\\u0002' + line;",
        ],
        [
          '            .map(line => {',
          '            .map((line, rowIndex) => {\n            const rowKey = rowKeys[rowIndex];\n            const reused = shared.rows.get(rowIndex);\n            if (reused !== undefined && reused.key === rowKey) {\n                return reused.text;\n            }',
        ],
        [
          '            return styledCharsToString(lineWithoutEmptyItems).trimEnd();',
          '            const text = styledCharsToString(lineWithoutEmptyItems).trimEnd();\n            if (rowKey !== undefined) shared.rows.set(rowIndex, { key: rowKey, text });\n            return text;',
        ],
        [
          'export default class Output {',
          `const BLANK_CELL = { type: 'char', value: ' ', fullWidth: false, styles: [] };\nconst shared = new OutputCaches();\nshared.rows = new Map();\nfunction sharedOutputCaches() {\n    if (shared.widths.size + shared.styledChars.size + shared.slices.size > 20000) {\n        shared.widths.clear();\n        shared.blockWidths.clear();\n        shared.styledChars.clear();\n        shared.slices.clear();\n    }\n    return shared;\n}\nexport default class Output {`,
        ],
      ];
      for (const [from, to] of patches) {
        if (!source.includes(from))
          throw new Error(`ink output patch no longer applies (${from.trim()}): check the ink version`);
        source = source.replace(from, to);
      }
      return { contents: source, loader: 'js' };
    });
    // The same for the width of each text node, measured on every frame before wrapping.
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]render-node-to-output\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const from = "import widestLine from 'widest-line';";
      if (!source.includes(from))
        throw new Error('ink render-node-to-output patch no longer applies: check the ink version');
      return {
        contents: source.replace(
          from,
          "import uncachedWidestLine from 'widest-line';\nconst widths = new Map();\nconst widestLine = (text) => {\n    let w = widths.get(text);\n    if (w === undefined) {\n        if (widths.size > 20000) widths.clear();\n        w = uncachedWidestLine(text);\n        widths.set(text, w);\n    }\n    return w;\n};",
        ),
        loader: 'js',
      };
    });
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
  minifyWhitespace: true,
  sourcemap: 'linked',
  legalComments: 'none',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['better-sqlite3', 'systeminformation'],
  banner: {
    js: [
      // A smaller young generation (~35 MB less RSS idle, no measurable CPU), and gc() for the
      // console's idle collection (source/console.tsx).
      '#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc',
      "import { createRequire as __cadenceCreateRequire } from 'node:module';",
      'const require = __cadenceCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  plugins: [inkPatches],
  logLevel: 'warning',
});
await chmod(path.join(root, 'dist/cadence-ops.js'), 0o755);
console.log(`built dist/cadence-ops.js in ${Date.now() - started} ms`);
