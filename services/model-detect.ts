// Which parser a file needs, decided by its content (the extension only breaks ties and earns a
// warning when it disagrees). The classic trap: binary STL files whose 80-byte header begins with
// "solid", which naive loaders read as ASCII. A binary STL is recognised by its size matching the
// triangle count it declares, whatever the header says.
import { ModelError, type ModelFormat } from './model-types.js';
import { isZip } from './model-zip.js';

export interface Detection {
  format: ModelFormat;
  /** Why this format was chosen, for the --json output and error messages. */
  reason: string;
  warnings: string[];
}

const EXTENSIONS: Record<string, ModelFormat[]> = {
  stl: ['stl-binary', 'stl-ascii'],
  obj: ['obj'],
  ply: ['ply-ascii', 'ply-binary-le', 'ply-binary-be'],
  '3mf': ['3mf'],
  step: ['step'],
  stp: ['step'],
};

export const MODEL_EXTENSIONS = Object.keys(EXTENSIONS);

function extensionOf(name: string): string {
  const m = /\.([A-Za-z0-9]+)$/.exec(name);
  return m ? m[1]!.toLowerCase() : '';
}

function startsWithWord(b: Uint8Array, p: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((b[p + i]! | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** Share of bytes in the first 512 that are printable ASCII or whitespace. */
function textShare(b: Uint8Array, from = 0): number {
  const n = Math.min(b.length - from, 512);
  if (n <= 0) return 0;
  let ok = 0;
  for (let i = from; i < from + n; i++) {
    const c = b[i]!;
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9) ok++;
  }
  return ok / n;
}

function looksLikeObj(b: Uint8Array): boolean {
  // The first statement that is not a comment or blank must be an OBJ keyword.
  const n = Math.min(b.length, 64 * 1024);
  let p = 0;
  while (p < n) {
    while (p < n && (b[p] === 32 || b[p] === 9 || b[p] === 13 || b[p] === 10)) p++;
    if (p >= n) return false;
    if (b[p] === 35) {
      const nl = b.indexOf(10, p);
      if (nl < 0) return false;
      p = nl + 1;
      continue;
    }
    let e = p;
    while (e < n && b[e] !== 32 && b[e] !== 9 && b[e] !== 10 && b[e] !== 13) e++;
    const word = Buffer.from(b.buffer, b.byteOffset + p, e - p).toString('latin1');
    return /^(v|vt|vn|vp|f|l|p|o|g|s|mtllib|usemtl|usemap|maplib)$/.test(word);
  }
  return false;
}

export function detectFormat(b: Uint8Array, fileName: string): Detection {
  const ext = extensionOf(fileName);
  const warnings: string[] = [];
  const pick = (format: ModelFormat, reason: string): Detection => {
    const expected = EXTENSIONS[ext];
    if (expected && !expected.includes(format))
      warnings.push(`the extension .${ext} does not match the content (${format})`);
    return { format, reason, warnings };
  };
  if (b.length === 0) throw new ModelError('PAR001', 'empty file (0 bytes)');
  if (isZip(b)) return pick('3mf', 'zip container (PK signature)');
  let p = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) p = 3;
  while (p < b.length && p < 256 && (b[p] === 32 || b[p] === 9 || b[p] === 10 || b[p] === 13)) p++;
  if (startsWithWord(b, p, 'iso-10303-21')) return pick('step', 'ISO-10303-21 magic');
  if (startsWithWord(b, 0, 'ply') && (b[3] === 10 || b[3] === 13)) {
    const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 200)).toString('latin1');
    if (/format\s+ascii/.test(head)) return pick('ply-ascii', 'ply magic, format ascii');
    if (/format\s+binary_big_endian/.test(head)) return pick('ply-binary-be', 'ply magic, binary big-endian');
    return pick('ply-binary-le', 'ply magic');
  }
  if (b.length >= 84) {
    const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(80, true);
    if (84 + n * 50 === b.length) {
      const solid = startsWithWord(b, 0, 'solid');
      return pick(
        'stl-binary',
        solid
          ? `binary STL: size matches the ${n} triangles declared, although the header begins with "solid"`
          : `binary STL: size matches the ${n} triangles declared`,
      );
    }
  }
  if (startsWithWord(b, p, 'solid')) {
    // ASCII STL when the start is text with STL keywords; a "solid" header on binary data is a
    // binary STL whose size is wrong (truncated), reported as such by the binary parser.
    const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 1024)).toString('latin1');
    if (textShare(b) > 0.97 && (/\bfacet\b|\bendsolid\b/.test(head) || b.length < 1024))
      return pick('stl-ascii', '"solid" followed by text');
    if (b.length >= 84) return pick('stl-binary', '"solid" header but binary content');
    return pick('stl-ascii', '"solid" followed by text');
  }
  if (textShare(b, p) > 0.97 && looksLikeObj(b)) return pick('obj', 'OBJ statements');
  // Text that fits no signature: let the parser of the extension's format say what is wrong.
  if (textShare(b, p) > 0.97) {
    if (ext === 'step' || ext === 'stp') return pick('step', 'text with a .step extension');
    if (ext === 'ply') return pick('ply-ascii', 'text with a .ply extension');
    if (ext === 'obj') return pick('obj', 'text with an .obj extension');
  }
  if (ext === 'stl' && b.length >= 84 && textShare(b) < 0.9)
    return pick('stl-binary', 'binary content with an .stl extension');
  const preview = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 24))
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '.');
  throw new ModelError(
    'PAR001',
    `unrecognised content (${b.length} bytes, starts with "${preview}"): not STL, OBJ, PLY, 3MF or STEP`,
  );
}
