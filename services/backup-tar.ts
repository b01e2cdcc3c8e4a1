// Tar, the parts backups need, on top of node-tar's header codec (Header, Pax):
// - headers for the entries we write (ustar, with a pax header when a path or size does not fit);
// - a strict streaming reader: every header checksum checked, pax and GNU long names applied,
//   the end-of-archive marker required, nothing after it but zeros, and each entry's data handed
//   over as slices of the input (no copies, no per-entry streams), so verification runs at the
//   speed of gunzip and sha256;
// - the hostile-entry rules shared by verification and restore.
import path from 'node:path';
import { Header, Pax } from 'tar';

export const BLOCK = 512;
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

export type TarType = 'File' | 'Directory';

export interface TarHeaderInput {
  path: string;
  type: TarType;
  size: number;
  mode: number;
  mtime: Date;
  uid?: number;
  gid?: number;
}

/** The header block(s) for one entry: a pax extended header first when ustar cannot hold it. */
export function encodeHeader(entry: TarHeaderInput): Buffer {
  const block = Buffer.alloc(BLOCK);
  const header = new Header({
    path: entry.path,
    type: entry.type,
    size: entry.type === 'File' ? entry.size : 0,
    mode: entry.mode & 0o7777,
    mtime: new Date(Math.floor(entry.mtime.getTime() / 1000) * 1000),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    uname: '',
    gname: '',
  });
  const needPax = header.encode(block, 0);
  if (!needPax) return block;
  const pax = new Pax({
    path: entry.path,
    size: entry.type === 'File' ? entry.size : 0,
    mtime: header.mtime,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
  }).encode();
  return Buffer.concat([pax, block]);
}

export function paddingFor(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

export interface TarEntry {
  /** As written in the archive (after pax / GNU long-name extensions). */
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, CharacterDevice, BlockDevice, FIFO, ... */
  type: string;
  size: number;
  mode: number;
  mtime: Date | null;
  linkpath: string;
  uid: number;
  gid: number;
  /** Offset of the entry's header in the uncompressed tar stream. */
  offset: number;
}

export interface TarVisitor {
  onEntry(entry: TarEntry): void;
  /** The entry's data, in order, as slices of the input chunks (valid only during the call unless kept). */
  onData(data: Buffer): void;
  onEntryEnd(entry: TarEntry): void;
}

export class TarFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TarFormatError';
  }
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const NO_DATA_TYPES = new Set([
  'Directory',
  'SymbolicLink',
  'Link',
  'CharacterDevice',
  'BlockDevice',
  'FIFO',
]);
const MAX_META_BYTES = 1024 * 1024;

function isZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** The size field as written (octal or base-256), before node-tar's adjustments. */
function rawSizeField(block: Buffer): number {
  if (block[124]! & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + block[i]!;
    return n;
  }
  const text = block.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim();
  return text ? Number.parseInt(text, 8) || 0 : 0;
}

type State = 'header' | 'data' | 'padding' | 'meta' | 'eof1' | 'end';

/** A push parser: feed it the uncompressed tar stream with write(), then call end(). Throws TarFormatError. */
export class TarReader {
  /** Bytes consumed so far. */
  position = 0;
  entries = 0;
  private state: State = 'header';
  private headerBuf = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private pad = 0;
  private current: TarEntry | null = null;
  private metaType = '';
  private metaChunks: Buffer[] = [];
  private ex: Record<string, unknown> | undefined;
  private gex: Record<string, unknown> | undefined;

  constructor(private readonly visitor: TarVisitor) {}

  write(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      switch (this.state) {
        case 'header':
        case 'eof1': {
          let block: Buffer;
          let blockOff: number;
          if (this.headerFill === 0 && len - off >= BLOCK) {
            block = chunk;
            blockOff = off;
            off += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.headerFill, len - off);
            chunk.copy(this.headerBuf, this.headerFill, off, off + n);
            this.headerFill += n;
            off += n;
            if (this.headerFill < BLOCK) continue;
            this.headerFill = 0;
            block = this.headerBuf;
            blockOff = 0;
          }
          const at = this.position;
          this.position += BLOCK;
          this.onBlock(block.length === BLOCK ? block : block.subarray(blockOff, blockOff + BLOCK), at);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, len - off);
          if (n > 0) this.visitor.onData(chunk.subarray(off, off + n));
          off += n;
          this.position += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishData();
          break;
        }
        case 'meta': {
          const n = Math.min(this.remaining, len - off);
          this.metaChunks.push(Buffer.from(chunk.subarray(off, off + n)));
          off += n;
          this.position += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishMeta();
          break;
        }
        case 'padding': {
          const n = Math.min(this.pad, len - off);
          off += n;
          this.position += n;
          this.pad -= n;
          if (this.pad === 0) this.state = 'header';
          break;
        }
        case 'end': {
          if (!isZero(chunk, off, len)) {
            let i = off;
            while (chunk[i] === 0) i++;
            throw new TarFormatError(
              `data after the end-of-archive marker at byte ${this.position + (i - off)}`,
              this.position + (i - off),
            );
          }
          this.position += len - off;
          off = len;
          break;
        }
      }
    }
  }

  /** Checks that the stream ended where a tar archive may end. */
  end(): void {
    if (this.state === 'end') return;
    if (this.state === 'eof1') {
      throw new TarFormatError(
        `truncated: the archive ends after one of the two end-of-archive blocks (byte ${this.position})`,
        this.position,
      );
    }
    if (this.state === 'data' || this.state === 'padding') {
      const e = this.current;
      throw new TarFormatError(
        e && this.state === 'data'
          ? `truncated inside ${e.path}: ${e.size - this.remaining} of ${e.size} bytes present`
          : `truncated at byte ${this.position}`,
        this.position,
      );
    }
    if (this.state === 'meta' || this.headerFill > 0) {
      throw new TarFormatError(`truncated inside a header at byte ${this.position}`, this.position);
    }
    throw new TarFormatError(
      `truncated: no end-of-archive marker after ${this.entries} entries (byte ${this.position})`,
      this.position,
    );
  }

  private onBlock(block: Buffer, at: number): void {
    if (isZero(block, 0, BLOCK)) {
      if (this.state === 'eof1') this.state = 'end';
      else this.state = 'eof1';
      if (this.ex) throw new TarFormatError(`an extended header at byte ${at} is followed by the end`, at);
      return;
    }
    if (this.state === 'eof1') {
      throw new TarFormatError(`a lone zero block before byte ${at} is followed by more entries`, at);
    }
    const typeCode = String.fromCharCode(block[156]!);
    const meta = typeCode === 'x' || typeCode === 'g' || typeCode === 'L' || typeCode === 'K';
    let header: Header;
    try {
      header = new Header(
        block,
        0,
        meta ? undefined : (this.ex as never),
        meta ? undefined : (this.gex as never),
      );
    } catch (err) {
      throw new TarFormatError(`unreadable header at byte ${at}: ${(err as Error).message}`, at);
    }
    if (!header.cksumValid) throw new TarFormatError(`bad header checksum at byte ${at}`, at);
    const size = header.size ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError(`bad size field at byte ${at}`, at);
    if (meta) {
      if (size > MAX_META_BYTES)
        throw new TarFormatError(`extended header at byte ${at} is ${size} bytes (over 1 MiB)`, at);
      this.metaType = typeCode;
      this.metaChunks = [];
      this.remaining = size;
      this.pad = paddingFor(size);
      if (size === 0) this.finishMeta();
      else this.state = 'meta';
      return;
    }
    const ex = this.ex;
    this.ex = undefined;
    this.entries++;
    const type = header.type;
    if (NO_DATA_TYPES.has(type) && (size > 0 || rawSizeField(block) > 0)) {
      throw new TarFormatError(
        `${type} entry ${header.path ?? ''} at byte ${at} declares ${Math.max(size, rawSizeField(block))} data bytes; ` +
          'tools disagree on how to read that, so the archive is refused',
        at,
      );
    }
    const entry: TarEntry = {
      // node-tar's Header prepends a ustar prefix even to a pax path; the pax value is the whole path.
      path: typeof ex?.path === 'string' ? ex.path : (header.path ?? ''),
      type,
      size: FILE_TYPES.has(type) || !NO_DATA_TYPES.has(type) ? size : 0,
      mode: header.mode ?? 0,
      mtime: header.mtime ?? null,
      linkpath: typeof ex?.linkpath === 'string' ? ex.linkpath : (header.linkpath ?? ''),
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      offset: at,
    };
    this.current = entry;
    this.visitor.onEntry(entry);
    this.remaining = entry.size;
    this.pad = paddingFor(entry.size);
    if (entry.size === 0) this.finishData();
    else this.state = 'data';
  }

  private finishData(): void {
    const entry = this.current!;
    this.current = null;
    this.visitor.onEntryEnd(entry);
    this.state = this.pad > 0 ? 'padding' : 'header';
  }

  private finishMeta(): void {
    const body = Buffer.concat(this.metaChunks);
    this.metaChunks = [];
    const text = body.toString('utf8');
    if (this.metaType === 'x') {
      this.ex = { ...Pax.parse(text, this.ex as never, false) } as Record<string, unknown>;
    } else if (this.metaType === 'g') {
      this.gex = { ...Pax.parse(text, this.gex as never, true) } as Record<string, unknown>;
    } else {
      const value = text.replace(/\0.*$/s, '');
      this.ex = { ...(this.ex ?? {}), [this.metaType === 'L' ? 'path' : 'linkpath']: value };
    }
    this.state = this.pad > 0 ? 'padding' : 'header';
  }
}

/** Why an entry must not be extracted, or null when it is safe under `top/`. */
export function hostileReason(entry: TarEntry, top: string | null, maxEntryBytes: number): string | null {
  const p = entry.path;
  if (p.includes('\0')) return 'path contains a NUL byte';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.startsWith('\\')) return 'absolute path';
  const parts = p.split(/[/\\]/);
  if (parts.includes('..')) return 'path contains ".."';
  if (top !== null) {
    const first = parts[0] === '.' ? parts[1] : parts[0];
    if (first !== top) return `outside the top folder ${top}/`;
  }
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      if (entry.size > maxEntryBytes)
        return `${(entry.size / 1048576).toFixed(0)} MB, over the cap of ${(maxEntryBytes / 1048576).toFixed(0)} MB (backups.maxEntryMb)`;
      return null;
    case 'Directory':
      return null;
    case 'SymbolicLink': {
      const target = entry.linkpath;
      if (target.startsWith('/') || /^[A-Za-z]:/.test(target))
        return `symbolic link to an absolute path (${target})`;
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(p), target));
      const root = top ?? '';
      if (
        resolved === '..' ||
        resolved.startsWith('../') ||
        (root && resolved !== root && !resolved.startsWith(`${root}/`))
      )
        return `symbolic link pointing outside the archive (${target})`;
      return null;
    }
    case 'Link': {
      const target = entry.linkpath;
      if (target.startsWith('/') || target.split(/[/\\]/).includes('..'))
        return `hard link pointing outside the archive (${target})`;
      if (top !== null && target.split('/')[0] !== top)
        return `hard link pointing outside the top folder (${target})`;
      return null;
    }
    case 'CharacterDevice':
    case 'BlockDevice':
      return 'device file';
    case 'FIFO':
      return 'named pipe (FIFO)';
    default:
      return `unsupported entry type ${entry.type}`;
  }
}
