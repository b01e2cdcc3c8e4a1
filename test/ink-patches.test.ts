// The bundle-time patches of ink and its text helpers (source/tools/ink-patches.mjs) must draw
// exactly what the original modules draw, and their caches must stay bounded under a stream of
// lines that are never drawn twice (a log flood). Both versions are bundled side by side from
// node_modules and compared on text that exercises every path: ASCII, the glyphs of the screens
// (… · █ ▁ ─ ▶ ✖ ▲ ●), wide characters, emoji, combining marks, ZWJ sequences, flags, Hangul jamo,
// soft hyphens, tabs, and ANSI styles.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build helper without types
import { inkPatches } from '../source/tools/ink-patches.mjs';

const root = path.resolve(import.meta.dirname, '..');
let dir = '';

interface Probe {
  stringWidth: (s: string) => number;
  tokenize: (s: string) => Array<{ type: string; value?: string; code?: string }>;
  styledCharsFromTokens: (t: unknown[]) => Array<{ value: string; styles: unknown[] }>;
  styledCharsToString: (c: unknown[]) => string;
  Output: new (o: {
    width: number;
    height: number;
  }) => {
    write(x: number, y: number, text: string, o: { transformers: unknown[] }): void;
    clip(c: { x1?: number; x2?: number; y1?: number; y2?: number }): void;
    unclip(): void;
    get(): { output: string; height: number };
  };
  measureText: (s: string) => { width: number; height: number };
  wrapText: (s: string, w: number, t: string) => string;
  sanitizeAnsi: (s: string) => string;
  // biome-ignore lint/suspicious/noExplicitAny: ink and react of the bundle, driven untyped
  render: (tree: any, options: any) => { rerender(tree: any): void; unmount(): void };
  // biome-ignore lint/suspicious/noExplicitAny: as above
  Box: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  Text: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  createElement: (...args: any[]) => any;
  hasAnsiControlCharacters: (s: string) => boolean;
  helpers?: { FrameCache: new (limit: number, admit?: boolean) => FrameCacheLike; nextFrame: () => void };
}
interface FrameCacheLike {
  get(k: string): unknown;
  set(k: string, v: unknown): void;
  size: number;
}

let patched: Probe;
let original: Probe;

async function bundle(name: string, plugins: esbuild.Plugin[], withHelpers: boolean): Promise<Probe> {
  const entry = path.join(dir, `${name}-entry.mjs`);
  const nm = (p: string) => JSON.stringify(path.join(root, 'node_modules', p));
  writeFileSync(
    entry,
    [
      `export { default as stringWidth } from ${nm('string-width/index.js')};`,
      `export { tokenize, styledCharsFromTokens, styledCharsToString } from ${nm('@alcalzone/ansi-tokenize/build/index.js')};`,
      `export { default as Output } from ${nm('ink/build/output.js')};`,
      `export { default as measureText } from ${nm('ink/build/measure-text.js')};`,
      `export { default as wrapText } from ${nm('ink/build/wrap-text.js')};`,
      `export { default as sanitizeAnsi } from ${nm('ink/build/sanitize-ansi.js')};`,
      `export { hasAnsiControlCharacters } from ${nm('ink/build/ansi-tokenizer.js')};`,
      `export { render, Box, Text } from ${nm('ink/build/index.js')};`,
      `export { createElement } from ${nm('react/index.js')};`,
      withHelpers ? `export * as helpers from 'cadence-ink-helpers';` : '',
    ].join('\n'),
  );
  const outfile = path.join(dir, `${name}.mjs`);
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'error',
    plugins,
  });
  return import(pathToFileURL(outfile).href);
}

beforeAll(async () => {
  // Colour on in both bundles (chalk reads this when it loads): the transforms must show.
  process.env.FORCE_COLOR = '3';
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-ink-patches-'));
  patched = await bundle('patched', [inkPatches], true);
  // ink imports its devtools (used only under DEV=true) statically: stubbed as in the real bundle.
  const devtoolsStub: esbuild.Plugin = {
    name: 'devtools-stub',
    setup(build) {
      build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'devtools', namespace: 'stub' }));
      build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
        contents: 'export default {};',
        loader: 'js',
      }));
    },
  };
  original = await bundle('original', [devtoolsStub], false);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const red = (s: string) => `\u001b[31m${s}\u001b[39m`;
const bold = (s: string) => `\u001b[1m${s}\u001b[22m`;
const dim = (s: string) => `\u001b[2m${s}\u001b[22m`;
const inverse = (s: string) => `\u001b[7m${s}\u001b[27m`;

const corpus = [
  '',
  'plain ASCII line 12:00:01 INFO loaded data/models/m_1.stl',
  'a line cut for the screen… and a dot · between',
  '▁▂▃▄▅▆▇█ sparkline  ─│┌┐ box ▶ ✖ ▲ ● ○ ✓ ⚠ ⏸ ← → ↑ ↓',
  'é composed, e\u0301 combining, n\u0303, a\u0308\u0304',
  '漢字かなカナ wide, ｶﾞ halfwidth, ＡＢ fullwidth',
  'emoji 😀 👍🏽 ⚡ ✅ ❤️ family 👨‍👩‍👧 flag 🇫🇷 keycap 1️⃣',
  'hangul 한국어 and jamo \u1100\u1161\u11a8 \u1100\u1100\u1161',
  'soft\u00adhyphen, zero\u200bwidth, nbsp\u00a0here, tab\there',
  'latin ext ąčęėįšųūž ŁŃŚŹŻ ǅ ʰʲ ˈˌ',
  'CR\r\nLF and \u2028 separator',
  `${red('ERROR')} ${bold('bold')} ${dim('dim…')} ${inverse('hit')} end`,
  `${red(`nested ${bold('bold inside red')} back to red`)} plain`,
  `\u001b[38;5;208morange 256\u001b[39m \u001b[48;2;10;20;30mtruecolor bg\u001b[49m`,
  `${red('…')}${dim('·')}${bold('█▂')}`,
  '\u001b]8;;https://example.com\u0007link\u001b]8;;\u0007 after',
];

describe('ink patches draw exactly what the original draws', () => {
  it('string width', () => {
    for (const s of corpus) {
      expect(patched.stringWidth(s), JSON.stringify(s)).toBe(original.stringWidth(s));
      // twice: the second answer comes from the cache
      expect(patched.stringWidth(s), JSON.stringify(s)).toBe(original.stringWidth(s));
      for (const ch of s) expect(patched.stringWidth(ch), JSON.stringify(ch)).toBe(original.stringWidth(ch));
    }
  });

  it('tokens and styled text', () => {
    for (const s of corpus) {
      const a = patched.tokenize(s);
      const b = original.tokenize(s);
      expect(a, JSON.stringify(s)).toEqual(b);
      const ca = patched.styledCharsFromTokens(patched.tokenize(s));
      const cb = original.styledCharsFromTokens(original.tokenize(s));
      expect(
        ca.map((c) => [c.value, c.styles]),
        JSON.stringify(s),
      ).toEqual(cb.map((c) => [c.value, c.styles]));
      expect(patched.styledCharsToString(ca), JSON.stringify(s)).toBe(original.styledCharsToString(cb));
    }
  });

  it('control characters and sanitised text', () => {
    const controls = [
      'C1 CSI \u009b31m here',
      'C1 OSC \u009d8;;x\u009c end',
      'NEL \u0085 and \u009f last C1, \u00a0 not one',
      'cursor \u001b[2J\u001b[H moves and \u001b[31mred\u001b[39m',
      'surrogates 😀 \ud83d\ude00 only',
    ];
    for (const s of [...corpus, ...controls])
      for (let pass = 0; pass < 3; pass++) {
        patched.helpers?.nextFrame();
        expect(patched.hasAnsiControlCharacters(s), JSON.stringify(s)).toBe(
          original.hasAnsiControlCharacters(s),
        );
        expect(patched.sanitizeAnsi(s), JSON.stringify(s)).toBe(original.sanitizeAnsi(s));
      }
  });

  it('measure and wrap', () => {
    for (const s of corpus)
      for (let pass = 0; pass < 2; pass++) {
        expect(patched.measureText(s)).toEqual(original.measureText(s));
        for (const w of [5, 20, 80])
          for (const t of ['wrap', 'truncate', 'truncate-middle', 'truncate-start'])
            expect(patched.wrapText(s, w, t), `${JSON.stringify(s)} ${w} ${t}`).toBe(
              original.wrapText(s, w, t),
            );
      }
  });

  it('output frames, with and without clipping, over several frames', () => {
    const frame = (P: Probe, shift: number) => {
      const o = new P.Output({ width: 40, height: corpus.length + 2 });
      o.write(0, 0, corpus.slice(0, 4).join('\n'), { transformers: [] });
      o.clip({ x1: 2, x2: 30 });
      corpus.forEach((line, i) => {
        o.write((i + shift) % 5, i + 1, line, { transformers: [] });
      });
      o.unclip();
      o.clip({ x1: 0, x2: 40, y1: 1, y2: 6 });
      o.write(-3, 0, corpus.slice(8).join('\n'), { transformers: [] });
      o.unclip();
      return o.get();
    };
    for (let shift = 0; shift < 6; shift++) {
      expect(frame(patched, shift)).toEqual(frame(original, shift));
    }
  });
});

describe('whole frames of ink, patched and original, through a sequence of updates', () => {
  // Each step changes what the squashed-text cache and the shared transforms must notice: a text
  // value, a nested colour, children added, removed and reordered, wrap modes, an inherited
  // background, styles toggled, and steps where nothing changes at all.
  const tree = (P: Probe, step: number) => {
    const h = P.createElement;
    const { Box, Text } = P;
    const colors = ['red', 'green', '#ff8800', 'cyan'];
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].slice(0, 2 + (step % 4));
    if (step % 3 === 1) words.reverse();
    return h(
      Box,
      { flexDirection: 'column', width: 50 },
      h(
        Text,
        null,
        'clock ',
        h(Text, { bold: true }, `12:00:${String(Math.floor(step / 2)).padStart(2, '0')}`),
      ),
      h(
        Text,
        { wrap: step % 2 ? 'truncate' : 'wrap' },
        'words: ',
        ...words.map((w, i) => h(Text, { key: w, color: colors[(i + step) % colors.length] }, `${w} `)),
        step % 5 === 2 ? h(Text, { inverse: true }, ' NEW ') : null,
        'and a tail long enough to be cut or wrapped at fifty columns',
      ),
      h(
        Box,
        { backgroundColor: step % 4 < 2 ? 'blue' : undefined },
        h(Text, { dimColor: step % 2 === 0 }, 'inherits ', h(Text, { underline: step > 4 }, 'background')),
      ),
      h(Text, { color: step % 6 < 3 ? 'yellow' : 'yellow' }, h(Text, { italic: true }, '…unchanged · line')),
      step % 7 === 3
        ? null
        : h(Text, { strikethrough: step % 2 === 1, color: 'magenta' }, `step ${step % 3}`),
    );
  };

  it('draws the same frame at every step', () => {
    const run = (P: Probe) => {
      const frames: string[] = [];
      const stdout = {
        columns: 60,
        rows: 20,
        isTTY: false,
        write(s: string) {
          frames.push(s);
          return true;
        },
        on() {},
        off() {},
        removeListener() {},
      };
      const app = P.render(tree(P, 0), { stdout, debug: true, patchConsole: false, exitOnCtrlC: false });
      const seen: string[] = [frames.at(-1) ?? ''];
      for (let step = 1; step < 40; step++) {
        app.rerender(tree(P, step));
        seen.push(frames.at(-1) ?? '');
      }
      app.unmount();
      return seen;
    };
    const a = run(patched);
    const b = run(original);
    expect(a.some((f) => f.includes('\u001b['))).toBe(true);
    expect(a).toEqual(b);
  });
});

describe('the shared caches stay bounded', () => {
  it('a flood of lines drawn once keeps at most two generations, and nothing admitted on first sight', () => {
    const { FrameCache, nextFrame } = patched.helpers!;
    const plain = new FrameCache(100);
    const admit = new FrameCache(100, true);
    for (let f = 0; f < 50; f++) {
      nextFrame();
      for (let i = 0; i < 300; i++) {
        const key = `frame ${f} line ${i}`;
        plain.set(key, i);
        admit.set(key, i);
      }
      expect(plain.size).toBeLessThanOrEqual(200);
      expect(admit.size).toBe(0);
    }
  });

  it('what stays on screen stays cached; what left it is dropped', () => {
    const { FrameCache, nextFrame } = patched.helpers!;
    const c = new FrameCache(1000, true);
    for (let f = 0; f < 10; f++) {
      nextFrame();
      for (const key of ['header', 'footer', `changing ${f}`])
        if (c.get(key) === undefined) c.set(key, key.length);
    }
    expect(c.get('header')).toBe(6);
    expect(c.get('footer')).toBe(6);
    expect(c.get('changing 3')).toBeUndefined();
    // two frames without the header drawn: rolled out twice, gone
    for (let f = 0; f < 2; f++) {
      nextFrame();
      nextFrame();
      c.get('anything');
    }
    expect(c.get('header')).toBeUndefined();
  });
});
