// esbuild plugin: the fixes and caches applied to ink and its text helpers at bundle time (see
// build.mjs and INK-NOTES.md). Exported on its own so that test/ink-patches.test.ts can bundle the
// patched and the original modules side by side and compare what they draw.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Ink's text caches, bounded by use rather than by count: an entry used during the last two frames
// stays, anything else is dropped, and no generation holds more than `limit` entries. Ink keeps its
// measure and wrap caches forever (one entry per distinct text ever drawn: a log tail under a flood
// draws hundreds of new lines a second, so they grew without bound), and a cache bounded only by
// count kept ~5,000 lines of per-character objects alive long enough to reach V8's old generation,
// which then grew to ~600 MB before its first full collection. Lines of a flood now die young.
const frameCacheModule = `
let frame = 0;
export function nextFrame() { frame++; }
export class FrameCache {
  // admitOnSecondUse: a value is kept only for a key asked for in two frames (a log line drawn once
  // in a flood is not worth keeping alive; a line that stays on screen is).
  constructor(limit, admitOnSecondUse = false) {
    this.limit = limit; this.cur = new Map(); this.old = new Map(); this.at = frame;
    this.seen = admitOnSecondUse ? new FrameCache(limit) : null;
  }
  get(key) {
    if (frame - this.at >= 2 || this.cur.size >= this.limit) this.roll();
    let value = this.cur.get(key);
    if (value === undefined) {
      value = this.old.get(key);
      if (value !== undefined) this.cur.set(key, value);
    }
    return value;
  }
  set(key, value) {
    if (this.seen !== null && this.seen.get(key) === undefined) {
      this.seen.set(key, true);
      return;
    }
    if (frame - this.at >= 2 || this.cur.size >= this.limit) this.roll();
    this.cur.set(key, value);
  }
  roll() { this.old = this.cur; this.cur = new Map(); this.at = frame; }
  get size() { return this.cur.size + this.old.size; }
}
// True when every UTF-16 unit of the text is a grapheme of its own: printable ASCII, ESC, and
// ranges with no combining, joining, prepended, Hangul or surrogate units (Latin-1 and Latin
// extensions, general punctuation such as … and ·, arrows, technical symbols, box drawing, blocks,
// geometric shapes, dingbats). Such text needs no Intl.Segmenter, which allocates an object per
// character: the tail's truncated lines (…) and sparklines went through it on every new line.
export function simpleGraphemes(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x20 && c <= 0x7e) || c === 0x1b || (c >= 0xa0 && c <= 0x2ff) || (c >= 0x2010 && c <= 0x2027) ||
      (c >= 0x2030 && c <= 0x205e) || (c >= 0x2190 && c <= 0x23ff) || (c >= 0x2500 && c <= 0x27bf)) continue;
    return false;
  }
  return true;
}
// The segments of such text, as Intl.Segmenter gives them to a for-of, without an object per unit.
export function unitSegments(text) {
  let i = 0;
  const item = { segment: '', index: 0 };
  const step = { value: item, done: false };
  return {
    [Symbol.iterator]() { return this; },
    next() {
      if (i >= text.length) return { value: undefined, done: true };
      item.segment = text[i];
      item.index = i++;
      return step;
    },
  };
}
/** Width + 1 of single units, filled on first use by string-width itself (0: not known yet). */
export const unitWidths = new Uint8Array(0x2800);
`;

export const inkPatches = {
  name: 'ink-patches',
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({
      path: 'devtools-stub',
      namespace: 'stub',
    }));
    build.onLoad({ filter: /^devtools-stub$/, namespace: 'stub' }, () => ({
      contents: 'export default { initialize() {}, connectToDevTools() {} };',
      loader: 'js',
    }));
    build.onResolve({ filter: /^cadence-ink-helpers$/ }, () => ({
      path: 'ink-helpers',
      namespace: 'stub',
    }));
    build.onLoad({ filter: /^ink-helpers$/, namespace: 'stub' }, () => ({
      contents: frameCacheModule,
      loader: 'js',
    }));
    const patch = (source, file, patches) => {
      for (const [from, to] of patches) {
        if (!source.includes(from))
          throw new Error(`ink ${file} patch no longer applies (${from.trim()}): check the ink version`);
        source = source.replace(from, to);
      }
      return source;
    };
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]measure-text\.js$/ }, async (args) => ({
      contents: patch(await readFile(args.path, 'utf8'), 'measure-text', [
        [
          "import widestLine from 'widest-line';\nconst cache = new Map();",
          "import widestLine from 'widest-line';\nimport { FrameCache } from 'cadence-ink-helpers';\nconst cache = new FrameCache(4000);",
        ],
      ]),
      loader: 'js',
    }));
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]wrap-text\.js$/ }, async (args) => ({
      contents: patch(await readFile(args.path, 'utf8'), 'wrap-text', [
        [
          'const cache = {};',
          "import { FrameCache } from 'cadence-ink-helpers';\nconst cache = new FrameCache(4000);",
        ],
        ['const cachedText = cache[cacheKey];', 'const cachedText = cache.get(cacheKey);'],
        ['cache[cacheKey] = wrappedText;', 'cache.set(cacheKey, wrappedText);'],
      ]),
      loader: 'js',
    }));
    // Every new line's width was measured three times (layout, wrap, output) and, for any line with
    // a non-ASCII glyph (… of a truncated line, bars), through Intl.Segmenter: one cached measure.
    // (wrap-ansi's own older copy is left alone: it measures only what Ink wraps.)
    const stringWidthPath = path.join(root, 'node_modules/string-width/index.js');
    build.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, async (args) =>
      args.path !== stringWidthPath
        ? undefined
        : {
            contents: patch(await readFile(args.path, 'utf8'), 'string-width', [
              [
                'export default function stringWidth(input, options = {}) {',
                "import { FrameCache, simpleGraphemes, unitWidths } from 'cadence-ink-helpers';\nconst widthCache = new FrameCache(4000);\nexport default function stringWidth(input, options) {\n\tif (options !== undefined || typeof input !== 'string') return uncachedStringWidth(input, options);\n\tlet width = widthCache.get(input);\n\tif (width === undefined) {\n\t\twidth = uncachedStringWidth(input);\n\t\twidthCache.set(input, width);\n\t}\n\treturn width;\n}\nfunction uncachedStringWidth(input, options = {}) {",
              ],
              [
                '\t\treturn string.length;\n\t}\n',
                '\t\treturn string.length;\n\t}\n\n\tif (ambiguousIsNarrow && string.length > 1 && simpleGraphemes(string)) {\n\t\tlet total = 0;\n\t\tfor (let i = 0; i < string.length; i++) {\n\t\t\tconst c = string.charCodeAt(i);\n\t\t\tlet u = unitWidths[c];\n\t\t\tif (u === 0) unitWidths[c] = u = uncachedStringWidth(string[i]) + 1;\n\t\t\ttotal += u - 1;\n\t\t}\n\t\treturn total;\n\t}\n',
              ],
            ]),
            loader: 'js',
          },
    );
    build.onLoad({ filter: /[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/ }, async (args) => ({
      contents: patch(await readFile(args.path, 'utf8'), 'ansi-tokenize', [
        [
          'import isFullwidthCodePoint from "is-fullwidth-code-point";',
          'import isFullwidthCodePoint from "is-fullwidth-code-point";\nimport { simpleGraphemes, unitSegments } from "cadence-ink-helpers";',
        ],
        [
          '    for (const { segment, index } of segmenter.segment(str)) {',
          '    for (const { segment, index } of (simpleGraphemes(str) ? unitSegments(str) : segmenter.segment(str))) {',
        ],
      ]),
      loader: 'js',
    }));
    // Ink turns the whole grid back into text on every frame, diffing the styles of each cell with
    // the previous one (three Sets and five arrays per cell). Cells of one run share one styles
    // array, and equal (or both empty) styles need no diff: the same text, far less garbage. A
    // line's char tokens (fresh from tokenize, held by nobody else) become its cells in place.
    build.onLoad({ filter: /[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/ }, async (args) => ({
      contents: patch(await readFile(args.path, 'utf8'), 'ansi-tokenize', [
        [
          '            ret.push({\n                ...token,\n                styles: [...codes],\n            });',
          '            token.styles = codes;\n            ret.push(token);',
        ],
        [
          '        if (i === 0) {\n            ret += ansiCodesToString(char.styles);\n        }\n        else {\n            ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));\n        }',
          '        if (i === 0) {\n            if (char.styles.length)\n                ret += ansiCodesToString(char.styles);\n        }\n        else if (chars[i - 1].styles !== char.styles && (chars[i - 1].styles.length || char.styles.length)) {\n            ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));\n        }',
        ],
        [
          '        if (i === chars.length - 1) {\n            ret += ansiCodesToString(diffAnsiCodes(char.styles, []));',
          '        if (i === chars.length - 1 && char.styles.length) {\n            ret += ansiCodesToString(diffAnsiCodes(char.styles, []));',
        ],
      ]),
      loader: 'js',
    }));
    // Ink rebuilds every frame from scratch, and its width/tokenize caches live one frame: each
    // render re-measures every line (string-width's slow path for any non-ASCII glyph: bars,
    // sparklines, box lines) and re-slices it for clipping. Sharing the caches across frames (bounded)
    // makes unchanged lines free (screen 2 at 120x40, 1 Hz: ~5 % of a core down to ~3 % on the busy
    // development VM; issue 3).
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]output\.js$/ }, async (args) => ({
      contents: patch(await readFile(args.path, 'utf8'), 'output', [
        ['    caches = new OutputCaches();', '    caches = sharedOutputCaches();'],
        [
          'class OutputCaches {\n    widths = new Map();\n    blockWidths = new Map();\n    styledChars = new Map();',
          'class OutputCaches {\n    widths = new FrameCache(4000);\n    blockWidths = new FrameCache(4000);\n    styledChars = new FrameCache(2000, true);\n    slices = new FrameCache(4000);\n    slice(line, from, to) {\n        const key = from + ":" + to + ":" + line;\n        let cached = this.slices.get(key);\n        if (cached === undefined) {\n            cached = sliceAnsi(line, from, to);\n            this.slices.set(key, cached);\n        }\n        return cached;\n    }',
        ],
        [
          '                            return sliceAnsi(line, from, to);',
          '                            return from === 0 && to >= width ? line : this.caches.slice(line, from, to);',
        ],
        // One blank cell object for the whole grid (cells are replaced, never changed): 4,800 fewer
        // objects per frame at 120x40.
        [
          "                row.push({\n                    type: 'char',\n                    value: ' ',\n                    fullWidth: false,\n                    styles: [],\n                });",
          '                row.push(BLANK_CELL);',
        ],
        // A row's text depends only on the writes that land on it (position and text, after
        // clipping and transformers) and the width: remember the key of each row and reuse last
        // frame's string when it is the same, instead of re-serialising every cell of every row
        // (idle frame ~10 ms -> ~7 ms).
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
          '            .map((line, rowIndex) => {\n            const rowKey = rowKeys[rowIndex];\n            const reused = sharedRows.get(rowIndex);\n            if (reused !== undefined && reused.key === rowKey) {\n                return reused.text;\n            }',
        ],
        [
          '            return styledCharsToString(lineWithoutEmptyItems).trimEnd();',
          '            const text = styledCharsToString(lineWithoutEmptyItems).trimEnd();\n            if (rowKey !== undefined) sharedRows.set(rowIndex, { key: rowKey, text });\n            return text;',
        ],
        [
          'export default class Output {',
          "import { FrameCache, nextFrame } from 'cadence-ink-helpers';\nconst BLANK_CELL = { type: 'char', value: ' ', fullWidth: false, styles: [] };\nconst shared = new OutputCaches();\nconst sharedRows = new Map();\nfunction sharedOutputCaches() {\n    nextFrame();\n    return shared;\n}\nexport default class Output {",
        ],
      ]),
      loader: 'js',
    }));
    // The same for the width of each text node, measured on every frame before wrapping.
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]render-node-to-output\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const from = "import widestLine from 'widest-line';";
      if (!source.includes(from))
        throw new Error('ink render-node-to-output patch no longer applies: check the ink version');
      return {
        contents: source.replace(
          from,
          "import uncachedWidestLine from 'widest-line';\nimport { FrameCache } from 'cadence-ink-helpers';\nconst widths = new FrameCache(4000);\nconst widestLine = (text) => {\n    let w = widths.get(text);\n    if (w === undefined) {\n        w = uncachedWidestLine(text);\n        widths.set(text, w);\n    }\n    return w;\n};",
        ),
        loader: 'js',
      };
    });
    // Ink's root is a legacy React root: every update outside React's own batch commits on its own,
    // and Ink draws a second commit of the same task as a trailing frame 50 ms later. The console
    // runs its aligned ticks inside the reconciler's batchedUpdates (source/console.tsx), so all the
    // sources of one tick make one commit and one frame.
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]reconciler\.js$/ }, async (args) => ({
      contents:
        patch(await readFile(args.path, 'utf8'), 'reconciler', [
          ['export default createReconciler({', 'const reconciler = createReconciler({'],
        ]) +
        '\nglobalThis.__cadenceInkBatchedUpdates = (fn) => reconciler.batchedUpdates(fn);\nexport default reconciler;\n',
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
