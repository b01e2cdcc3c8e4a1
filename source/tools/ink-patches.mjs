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

// Output.get() of ink 6.8 (build/output.js), rewritten to draw only the rows that changed; see
// the output.js patch below. Same clipping, transformers, wide characters and trimming.
const ROW_REUSING_GET = `    get() {
        const height = this.height;
        const width = this.width;
        // Per row: its key, and the lines placed on it (column, text) in drawing order.
        const rowKeys = new Array(height).fill(String(width));
        const placed = new Array(height);
        const clips = [];
        for (const operation of this.operations) {
            if (operation.type === 'clip') {
                clips.push(operation.clip);
            }
            if (operation.type === 'unclip') {
                clips.pop();
            }
            if (operation.type === 'write') {
                const { text, transformers } = operation;
                let { x, y } = operation;
                let lines = text.split('\\n');
                const clip = clips.at(-1);
                if (clip) {
                    const clipHorizontally = typeof clip?.x1 === 'number' && typeof clip?.x2 === 'number';
                    const clipVertically = typeof clip?.y1 === 'number' && typeof clip?.y2 === 'number';
                    if (clipHorizontally) {
                        const width = this.caches.getWidestLine(text);
                        if (x + width < clip.x1 || x > clip.x2) {
                            continue;
                        }
                    }
                    if (clipVertically) {
                        const height = lines.length;
                        if (y + height < clip.y1 || y > clip.y2) {
                            continue;
                        }
                    }
                    if (clipHorizontally) {
                        lines = lines.map(line => {
                            const from = x < clip.x1 ? clip.x1 - x : 0;
                            const width = this.caches.getStringWidth(line);
                            const to = x + width > clip.x2 ? clip.x2 - x : width;
                            return from === 0 && to >= width ? line : this.caches.slice(line, from, to);
                        });
                        if (x < clip.x1) {
                            x = clip.x1;
                        }
                    }
                    if (clipVertically) {
                        const from = y < clip.y1 ? clip.y1 - y : 0;
                        const height = lines.length;
                        const to = y + height > clip.y2 ? clip.y2 - y : height;
                        lines = lines.slice(from, to);
                        if (y < clip.y1) {
                            y = clip.y1;
                        }
                    }
                }
                let offsetY = 0;
                for (let index = 0; index < lines.length; index++) {
                    const row = y + offsetY;
                    // As ink: a line whose row is not in the grid is skipped (and so are the rest).
                    if (!Number.isInteger(row) || row < 0 || row >= height) {
                        continue;
                    }
                    let line = lines[index];
                    for (const transformer of transformers) {
                        line = transformer(line, index);
                    }
                    rowKeys[row] += '\\u0001' + x + '\\u0002' + line;
                    (placed[row] ??= []).push(x, line);
                    offsetY++;
                }
            }
        }
        const rows = new Array(height);
        for (let r = 0; r < height; r++) {
            const key = rowKeys[r];
            const reused = sharedRows.get(r);
            if (reused !== undefined && reused.key === key) {
                rows[r] = reused.text;
                continue;
            }
            const cells = new Array(width).fill(BLANK_CELL);
            const lines = placed[r];
            if (lines !== undefined) {
                for (let i = 0; i < lines.length; i += 2) {
                    let offsetX = lines[i];
                    for (const character of this.caches.getStyledChars(lines[i + 1])) {
                        cells[offsetX] = character;
                        // Determine printed width using string-width to align with measurement
                        const characterWidth = Math.max(1, this.caches.getStringWidth(character.value));
                        // For multi-column characters, clear following cells to avoid stray spaces/artifacts
                        if (characterWidth > 1) {
                            for (let index = 1; index < characterWidth; index++) {
                                cells[offsetX + index] = {
                                    type: 'char',
                                    value: '',
                                    fullWidth: false,
                                    styles: character.styles,
                                };
                            }
                        }
                        offsetX += characterWidth;
                    }
                }
            }
            const text = styledCharsToString(cells.filter(item => item !== undefined)).trimEnd();
            sharedRows.set(r, { key, text });
            rows[r] = text;
        }
        return {
            output: rows.join('\\n'),
            height,
        };
    }`;

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
    // The common case: a module of ink or its helpers with string replacements.
    const patchModule = (filter, name, patches) =>
      build.onLoad({ filter }, async (args) => ({
        contents: patch(await readFile(args.path, 'utf8'), name, patches),
        loader: 'js',
      }));
    patchModule(/[\\/]ink[\\/]build[\\/]measure-text\.js$/, 'measure-text', [
      [
        "import widestLine from 'widest-line';\nconst cache = new Map();",
        "import widestLine from 'widest-line';\nimport { FrameCache } from 'cadence-ink-helpers';\nconst cache = new FrameCache(4000);",
      ],
    ]);
    patchModule(/[\\/]ink[\\/]build[\\/]wrap-text\.js$/, 'wrap-text', [
      [
        'const cache = {};',
        "import { FrameCache } from 'cadence-ink-helpers';\nconst cache = new FrameCache(4000);",
      ],
      ['const cachedText = cache[cacheKey];', 'const cachedText = cache.get(cacheKey);'],
      ['cache[cacheKey] = wrappedText;', 'cache.set(cacheKey, wrappedText);'],
    ]);
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
    patchModule(/[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/, 'ansi-tokenize', [
      [
        'import isFullwidthCodePoint from "is-fullwidth-code-point";',
        'import isFullwidthCodePoint from "is-fullwidth-code-point";\nimport { simpleGraphemes, unitSegments } from "cadence-ink-helpers";',
      ],
      [
        '    for (const { segment, index } of segmenter.segment(str)) {',
        '    for (const { segment, index } of (simpleGraphemes(str) ? unitSegments(str) : segmenter.segment(str))) {',
      ],
    ]);
    // Ink turns the whole grid back into text on every frame, diffing the styles of each cell with
    // the previous one (three Sets and five arrays per cell). Cells of one run share one styles
    // array, and equal (or both empty) styles need no diff: the same text, far less garbage. A
    // line's char tokens (fresh from tokenize, held by nobody else) become its cells in place.
    patchModule(/[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/, 'ansi-tokenize', [
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
    ]);
    // Ink rebuilds every frame from scratch, and its width/tokenize caches live one frame: each
    // render re-measures every line (string-width's slow path for any non-ASCII glyph: bars,
    // sparklines, box lines) and re-slices it for clipping. Sharing the caches across frames (bounded)
    // makes unchanged lines free (screen 2 at 120x40, 1 Hz: ~5 % of a core down to ~3 % on the busy
    // development VM; issue 3).
    //
    // Its get() then filled a grid of cells (a new object per blank cell), placed every character
    // of every line in it (a width lookup each) and turned each row back into text, diffing the
    // styles of neighbouring cells. A row's text depends only on the lines that land on it (their
    // column and text, after clipping and transformers) and the width, so get() now first collects
    // those per row and keeps a key of them; a row whose key is last frame's reuses last frame's
    // text and builds nothing. Only changed rows are drawn, on one shared blank cell, with equal
    // styles of neighbours not diffed. At idle only the clock's row changes.
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]output\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const from = source.indexOf('    get() {');
      const to = source.lastIndexOf('\n}\n');
      if (from < 0 || to < from) throw new Error('ink output patch no longer applies: check the ink version');
      return {
        contents: patch(source.slice(0, from) + ROW_REUSING_GET + source.slice(to), 'output', [
          ['    caches = new OutputCaches();', '    caches = sharedOutputCaches();'],
          [
            'class OutputCaches {\n    widths = new Map();\n    blockWidths = new Map();\n    styledChars = new Map();',
            'class OutputCaches {\n    widths = new FrameCache(4000);\n    blockWidths = new FrameCache(4000);\n    styledChars = new FrameCache(2000, true);\n    slices = new FrameCache(4000);\n    slice(line, from, to) {\n        const key = from + ":" + to + ":" + line;\n        let cached = this.slices.get(key);\n        if (cached === undefined) {\n            cached = sliceAnsi(line, from, to);\n            this.slices.set(key, cached);\n        }\n        return cached;\n    }',
          ],
          [
            'export default class Output {',
            "import { FrameCache, nextFrame } from 'cadence-ink-helpers';\nconst BLANK_CELL = { type: 'char', value: ' ', fullWidth: false, styles: [] };\nconst shared = new OutputCaches();\nconst sharedRows = new Map();\nfunction sharedOutputCaches() {\n    nextFrame();\n    return shared;\n}\nexport default class Output {",
          ],
        ]),
        loader: 'js',
      };
    });
    // Every text node is squashed and sanitised on every frame. The check for control characters
    // walked plain text one code point at a time (an iterator step per character); one regular
    // expression says the same (C1 controls are single UTF-16 units, never half of a pair). Text
    // with styles in it (a coloured word inside a line) was tokenised again each frame: the
    // sanitised text is kept while it is drawn.
    patchModule(/[\\/]ink[\\/]build[\\/]ansi-tokenizer\.js$/, 'ansi-tokenizer', [
      [
        'export const hasAnsiControlCharacters = (text) => {\n    if (text.includes(escapeCharacter)) {\n        return true;\n    }\n    for (const character of text) {\n        if (isC1ControlCharacter(character)) {\n            return true;\n        }\n    }\n    return false;\n};',
        'const ansiControlCharacter = /[\\u001B\\u0080-\\u009F]/;\nexport const hasAnsiControlCharacters = (text) => ansiControlCharacter.test(text);',
      ],
    ]);
    patchModule(/[\\/]ink[\\/]build[\\/]sanitize-ansi\.js$/, 'sanitize-ansi', [
      [
        'export default sanitizeAnsi;',
        "import { FrameCache } from 'cadence-ink-helpers';\nconst sanitized = new FrameCache(4000, true);\nexport default (text) => {\n    if (!hasAnsiControlCharacters(text))\n        return text;\n    let value = sanitized.get(text);\n    if (value === undefined) {\n        value = sanitizeAnsi(text);\n        sanitized.set(text, value);\n    }\n    return value;\n};",
      ],
    ]);
    // Each frame squashed every text node again: every nested <Text> ran its colour transform
    // (chalk) and the pieces were joined and sanitised, although at idle only the clock changed.
    // A text node now keeps its squashed text until something under it changes: a text value, a
    // child added, moved or removed (all of which already mark the node dirty for Yoga), or a new
    // transform. <Text> hands out one transform and one style object per combination of its style
    // props, instead of new ones per render, so re-rendering an unchanged <Text> changes nothing and
    // commits nothing; prop diffs no longer allocate key arrays.
    patchModule(/[\\/]ink[\\/]build[\\/]dom\.js$/, 'dom', [
      [
        'const markNodeAsDirty = (node) => {\n',
        "export const invalidateSquash = (node) => {\n    while (node !== undefined && (node.nodeName === '#text' || node.nodeName === 'ink-virtual-text' || node.nodeName === 'ink-text')) {\n        node.squashed = undefined;\n        if (node.nodeName === 'ink-text')\n            return;\n        node = node.parentNode;\n    }\n};\nconst markNodeAsDirty = (node) => {\n    invalidateSquash(node);\n",
      ],
    ]);
    patchModule(/[\\/]ink[\\/]build[\\/]squash-text-nodes\.js$/, 'squash-text-nodes', [
      [
        "const squashTextNodes = (node) => {\n    let text = '';",
        "const squashTextNodes = (node) => {\n    if (node.squashed !== undefined)\n        return node.squashed;\n    let text = '';",
      ],
      ['    return sanitizeAnsi(text);\n};', '    return (node.squashed = sanitizeAnsi(text));\n};'],
    ]);
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]components[\\/]Text\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      // The per-render closure goes; the shared one below is the same code.
      const start = source.indexOf('    const transform = (children) => {');
      const end = source.indexOf('        return children;\n    };\n', start);
      if (start < 0 || end < 0) throw new Error('ink Text patch no longer applies: check the ink version');
      const perRender = source.slice(start, end + '        return children;\n    };\n'.length);
      return {
        contents: patch(source, 'Text', [
          [
            perRender,
            '    const transform = sharedTransform(dimColor, color, backgroundColor ?? inheritedBackgroundColor, bold, italic, underline, strikethrough, inverse);\n',
          ],
          [
            "{ style: { flexGrow: 0, flexShrink: 1, flexDirection: 'row', textWrap: wrap }, internal_transform: transform }",
            '{ style: sharedStyle(wrap), internal_transform: transform }',
          ],
          [
            'export default function Text(',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of the patched module
            "const styles = new Map();\nconst sharedStyle = (wrap) => {\n    let style = styles.get(wrap);\n    if (style === undefined) {\n        style = { flexGrow: 0, flexShrink: 1, flexDirection: 'row', textWrap: wrap };\n        styles.set(wrap, style);\n    }\n    return style;\n};\nconst transforms = new Map();\nconst sharedTransform = (dimColor, color, backgroundColor, bold, italic, underline, strikethrough, inverse) => {\n    const key = `${dimColor ? 1 : 0}${bold ? 1 : 0}${italic ? 1 : 0}${underline ? 1 : 0}${strikethrough ? 1 : 0}${inverse ? 1 : 0}\\u0000${color ?? ''}\\u0000${backgroundColor ?? ''}`;\n    let transform = transforms.get(key);\n    if (transform === undefined) {\n        transform = (children) => {\n            if (dimColor) {\n                children = chalk.dim(children);\n            }\n            if (color) {\n                children = colorize(children, color, 'foreground');\n            }\n            if (backgroundColor) {\n                children = colorize(children, backgroundColor, 'background');\n            }\n            if (bold) {\n                children = chalk.bold(children);\n            }\n            if (italic) {\n                children = chalk.italic(children);\n            }\n            if (underline) {\n                children = chalk.underline(children);\n            }\n            if (strikethrough) {\n                children = chalk.strikethrough(children);\n            }\n            if (inverse) {\n                children = chalk.inverse(children);\n            }\n            return children;\n        };\n        if (transforms.size >= 1000)\n            transforms.clear();\n        transforms.set(key, transform);\n    }\n    return transform;\n};\nexport default function Text(",
          ],
        ]),
        loader: 'js',
      };
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
          [
            'setTextNodeValue, createNode, setAttribute, }',
            'setTextNodeValue, createNode, setAttribute, invalidateSquash, }',
          ],
          [
            "                if (key === 'internal_transform') {\n                    node.internal_transform = value;\n                    continue;",
            "                if (key === 'internal_transform') {\n                    node.internal_transform = value;\n                    invalidateSquash(node);\n                    continue;",
          ],
          [
            '    for (const key of Object.keys(before)) {\n        const isDeleted = after ? !Object.hasOwn(after, key) : true;',
            '    for (const key in before) {\n        if (!Object.hasOwn(before, key))\n            continue;\n        const isDeleted = after ? !Object.hasOwn(after, key) : true;',
          ],
          [
            '        for (const key of Object.keys(after)) {\n            if (after[key] !== before[key]) {',
            '        for (const key in after) {\n            if (Object.hasOwn(after, key) && after[key] !== before[key]) {',
          ],
          [
            "            for (const [key, value] of Object.entries(props)) {\n                if (key === 'style') {",
            "            for (const key in props) {\n                const value = props[key];\n                if (key === 'style') {",
          ],
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
