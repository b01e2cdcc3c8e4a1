// The zip container of 3MF, read from a buffer: the central directory (zip64 included), each
// entry's data, and a streaming raw inflate with Node's zlib (native, several times faster than
// JavaScript unzippers) into one reused buffer, that enforces the size caps: an entry declaring more
// than the cap is refused before anything is inflated, and inflation stops as soon as the output
// passes what the entry declared (a zip bomb lies about its size) or the cap.
import { crc32, createInflateRaw, inflateRawSync, constants as zlibConstants } from 'node:zlib';
import {
  inflateOnThread,
  SLOT_PREFIX,
  ThreadInflateError,
  threadInflateAvailable,
} from './model-inflate-thread.js';
import { ModelError, mb } from './model-types.js';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function u64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
}

export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4;
}

export function readZipDirectory(b: Uint8Array): ZipEntry[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const corrupt = (what: string): never => {
    throw new ModelError('PAR004', `corrupt zip container: ${what}`);
  };
  let eocd = -1;
  for (let p = b.length - 22; p >= 0 && p >= b.length - 22 - 65535; p--) {
    if (b[p] === 0x50 && view.getUint32(p, true) === EOCD) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) {
    if (isZip(b))
      throw new ModelError('PAR004', 'zip container without its central directory (truncated or corrupt)');
    throw new ModelError('PAR001', 'not a zip container: no end-of-central-directory record');
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== EOCD64_LOCATOR) corrupt('zip64 locator missing');
    const rec = u64(view, loc + 8);
    if (rec + 56 > b.length || view.getUint32(rec, true) !== EOCD64) corrupt('zip64 end record missing');
    count = u64(view, rec + 32);
    cdSize = u64(view, rec + 40);
    cdOffset = u64(view, rec + 48);
  }
  if (cdOffset + cdSize > b.length)
    corrupt(`central directory (${cdSize} bytes at ${cdOffset}) beyond the end of the file`);
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > b.length || view.getUint32(p, true) !== CENTRAL)
      corrupt(`central directory entry ${i} malformed`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let uncompressedSize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > b.length) corrupt(`central directory entry ${i} runs past the end`);
    const name = Buffer.from(b.buffer, b.byteOffset + p + 46, nameLen).toString(
      flags & 0x800 ? 'utf8' : 'latin1',
    );
    // zip64 extended information: the 0xffffffff fields, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const size = view.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (uncompressedSize === 0xffffffff && q + 8 <= e + 4 + size) {
          uncompressedSize = u64(view, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= e + 4 + size) {
          compressedSize = u64(view, q);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff && q + 8 <= e + 4 + size) localHeaderOffset = u64(view, q);
      }
      e += 4 + size;
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The compressed bytes of an entry (located through its local header). */
export function entryBytes(b: Uint8Array, entry: ZipEntry): Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at = entry.localHeaderOffset;
  if (at + 30 > b.length || view.getUint32(at, true) !== LOCAL)
    throw new ModelError('PAR004', `corrupt zip container: local header of ${entry.name} missing`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + entry.compressedSize > b.length)
    throw new ModelError(
      'PAR004',
      `corrupt zip container: ${entry.name} runs past the end of the file (truncated)`,
    );
  return b.subarray(start, start + entry.compressedSize);
}

function checkEntry(entry: ZipEntry, capBytes: number): void {
  if (entry.flags & 1) throw new ModelError('PAR004', `${entry.name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8)
    throw new ModelError(
      'PAR004',
      `${entry.name} uses compression method ${entry.method} (only stored and deflate)`,
    );
  if (entry.uncompressedSize > capBytes) {
    throw new ModelError(
      'PAR003',
      `${entry.name} declares ${mb(entry.uncompressedSize)} uncompressed (from ${mb(entry.compressedSize)}), over the cap of ${mb(capBytes)}: refused as a zip bomb`,
    );
  }
  if (entry.method === 0 && entry.compressedSize !== entry.uncompressedSize)
    throw new ModelError('PAR004', `${entry.name} is stored but its sizes differ`);
}

function overDeclared(entry: ZipEntry): ModelError {
  return new ModelError(
    'PAR004',
    `${entry.name} inflates beyond its declared ${entry.uncompressedSize.toLocaleString('en-US')} bytes: refused as a zip bomb`,
  );
}

/** Inflates a small entry (relationships, content types) in one go, within the cap. */
export function inflateSmall(b: Uint8Array, entry: ZipEntry, capBytes: number): Buffer {
  checkEntry(entry, capBytes);
  const data = entryBytes(b, entry);
  if (entry.method === 0) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let out: Buffer;
  try {
    out = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw overDeclared(entry);
    throw new ModelError('PAR004', `${entry.name}: corrupt deflate data (${(err as Error).message})`);
  }
  if (out.length !== entry.uncompressedSize)
    throw new ModelError(
      'PAR004',
      `${entry.name}: inflated to ${out.length} bytes, declared ${entry.uncompressedSize}`,
    );
  if (crc32(out) !== entry.crc32)
    throw new ModelError('PAR004', `${entry.name}: CRC mismatch (corrupt data)`);
  return out;
}

/**
 * Receives an entry's bytes as they are inflated: `buf[start..end)` holds what the previous call left
 * unconsumed followed by the new bytes, and at least `pad` zero bytes follow `end` (a scanner may look
 * a few bytes ahead without a bounds check). Returns the offset of the first byte it did not consume
 * (start..end); the rest is handed over again, in front of the next bytes. `final` marks the last call
 * (everything inflated, size and CRC checked).
 */
export type EntrySink = (buf: Buffer, start: number, end: number, final: boolean) => number;

export interface StreamEntryOptions {
  /** Bytes inflated per step (default 256 KiB). */
  chunkSize?: number;
  /** Zero bytes after the data handed to the sink (default 64). */
  pad?: number;
  /** Inflate with Node's zlib stream even where the synchronous path is available (tests). */
  forceStream?: boolean;
  /**
   * Inflate on a worker thread while the sink reads what is ready (default: for deflated entries of
   * THREAD_MIN_BYTES and more, where the overlap pays for the hand-over).
   */
  threaded?: boolean;
}

/** Entries from this size up are inflated on a worker thread by default. */
export const THREAD_MIN_BYTES = 8 << 20;

interface SyncInflater {
  /** Inflates input[inOff, inOff+inLen) into out[outOff, outOff+outLen); returns [availOut, availIn] after. */
  write(
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): Uint32Array;
  close(): void;
}

/**
 * Raw inflate into a buffer of ours, on this thread: the native handle inside Node's zlib stream,
 * driven the way zlib.inflateRawSync drives it (`_handle.writeSync` and `_writeState` have been
 * there since Node 10). Every chunk is inflated into the same buffer, so a long entry makes no
 * garbage at all: the stream API hands out a fresh buffer per chunk, which V8 frees only when
 * external memory pressure forces a collection (~64 MB later). Null when the internals are not
 * there (another runtime): the caller falls back to the stream.
 */
function syncInflater(): SyncInflater | null {
  const z = createInflateRaw();
  const internals = z as unknown as {
    _handle?: { writeSync?: (...args: unknown[]) => void };
    _writeState?: unknown;
  };
  const handle = internals._handle;
  const state = internals._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
    z.close();
    return null;
  }
  // Errors are reported synchronously through the stream (z.errored); the event itself comes later.
  z.on('error', () => {});
  return {
    write(input, inOff, inLen, out, outOff, outLen) {
      handle.writeSync!(zlibConstants.Z_FINISH, input, inOff, inLen, out, outOff, outLen);
      if (z.errored) throw z.errored;
      return state;
    },
    close: () => z.close(),
  };
}

let handleChecked: boolean | null = null;

/** Whether zlib's handle can be driven directly (checked once). */
function handleAvailable(): boolean {
  if (handleChecked === null) {
    const inflater = syncInflater();
    handleChecked = inflater !== null;
    inflater?.close();
  }
  return handleChecked;
}

/**
 * Streams an entry's uncompressed bytes through `sink` without ever holding them whole: one working
 * buffer (the sink's unconsumed tail plus one chunk) is reused from start to end. Enforces the cap
 * and the declared size while inflating (a zip bomb lies about its size), and checks the CRC and the
 * size before the final call. Returns the bytes the sink left unconsumed at the end.
 */
export async function streamEntry(
  b: Uint8Array,
  entry: ZipEntry,
  capBytes: number,
  sink: EntrySink,
  opts: StreamEntryOptions = {},
): Promise<Buffer> {
  checkEntry(entry, capBytes);
  const data = entryBytes(b, entry);
  // A small entry fits one step (the extra byte lets zlib report its end in the same call).
  const chunk = Math.max(64, Math.min(opts.chunkSize ?? 256 * 1024, entry.uncompressedSize + 1));
  const pad = opts.pad ?? 64;
  let buf = Buffer.allocUnsafe(chunk + pad);
  let have = 0;
  let total = 0;
  let crc = 0;
  /** Room for at least one chunk after the carried tail. */
  const room = (): number => {
    if (buf.length - pad - have < chunk) {
      const next = Buffer.allocUnsafe(have + chunk + pad);
      buf.copy(next, 0, 0, have);
      buf = next;
    }
    return buf.length - pad - have;
  };
  /** `n` new bytes are at buf[have, have + n). */
  const deliver = (n: number, final: boolean): void => {
    total += n;
    if (total > entry.uncompressedSize) throw overDeclared(entry);
    if (total > capBytes)
      throw new ModelError('PAR003', `${entry.name} inflates past the cap of ${mb(capBytes)}`);
    if (n > 0) crc = crc32(buf.subarray(have, have + n), crc);
    if (final) {
      if (total !== entry.uncompressedSize)
        throw new ModelError(
          'PAR004',
          `${entry.name}: inflated to ${total} bytes, declared ${entry.uncompressedSize} (truncated)`,
        );
      if (crc >>> 0 !== entry.crc32)
        throw new ModelError('PAR004', `${entry.name}: CRC mismatch (corrupt data)`);
    }
    const end = have + n;
    buf.fill(0, end, end + pad);
    const used = sink(buf, 0, end, final);
    if (used < end && used > 0) buf.copyWithin(0, used, end);
    have = end - used;
  };
  const corrupt = (err: unknown): ModelError =>
    err instanceof ModelError
      ? err
      : new ModelError('PAR004', `${entry.name}: corrupt deflate data (${(err as Error).message})`);

  if (entry.method === 0) {
    for (let p = 0; ; ) {
      const n = Math.min(room(), data.length - p);
      buf.set(data.subarray(p, p + n), have);
      p += n;
      deliver(n, p >= data.length);
      if (p >= data.length) break;
    }
    return buf.subarray(0, have);
  }

  if (
    !opts.forceStream &&
    (opts.threaded ?? entry.uncompressedSize >= THREAD_MIN_BYTES) &&
    threadInflateAvailable() &&
    handleAvailable()
  ) {
    // The carried tail goes into the slot's free prefix, just in front of the new bytes (or, when
    // longer than that, with them into `buf`).
    let carry = Buffer.allocUnsafe(4096);
    try {
      inflateOnThread({
        data,
        declared: entry.uncompressedSize,
        cap: capBytes,
        crc: entry.crc32,
        slot: chunk,
        pad,
        onSlot: (ring, start, end, final) => {
          let from = ring;
          let s = start - have;
          let e = end;
          if (have <= SLOT_PREFIX) carry.copy(ring, s, 0, have);
          else {
            const n = end - start;
            if (buf.length < have + n + pad) buf = Buffer.allocUnsafe(have + n + pad);
            carry.copy(buf, 0, 0, have);
            ring.copy(buf, have, start, end);
            from = buf;
            s = 0;
            e = have + n;
            buf.fill(0, e, e + pad);
          }
          const used = sink(from, s, e, final);
          have = e - used;
          if (have > carry.length) carry = Buffer.allocUnsafe(Math.max(have, carry.length * 2));
          from.copy(carry, 0, used, e);
        },
      });
    } catch (err) {
      if (!(err instanceof ThreadInflateError)) throw err;
      if (err.kind === 'over-declared') throw overDeclared(entry);
      if (err.kind === 'over-cap')
        throw new ModelError('PAR003', `${entry.name} inflates past the cap of ${mb(capBytes)}`);
      if (err.kind === 'size')
        throw new ModelError(
          'PAR004',
          `${entry.name}: inflated to ${err.total} bytes, declared ${entry.uncompressedSize} (truncated)`,
        );
      if (err.kind === 'crc') throw new ModelError('PAR004', `${entry.name}: CRC mismatch (corrupt data)`);
      if (err.kind === 'thread') throw new ModelError('LOADER', `${entry.name}: ${err.message}`);
      throw new ModelError('PAR004', `${entry.name}: corrupt deflate data (${err.message})`);
    }
    return carry.subarray(0, have);
  }

  const inflater = opts.forceStream ? null : syncInflater();
  if (inflater) {
    let inOff = 0;
    let inLen = data.length;
    try {
      for (;;) {
        const space = room();
        let availOut: number;
        try {
          const state = inflater.write(data, inOff, inLen, buf, have, space);
          availOut = state[0]!;
          const availIn = state[1]!;
          inOff += inLen - availIn;
          inLen = availIn;
        } catch (err) {
          throw corrupt(err);
        }
        // zlib stopped with room to spare: the deflate stream has ended (a truncated one is an error).
        const done = availOut !== 0;
        deliver(space - availOut, done);
        if (done) break;
      }
    } finally {
      inflater.close();
    }
    return buf.subarray(0, have);
  }

  // Fallback: Node's zlib stream (inflates on the thread pool; a fresh buffer per chunk).
  const stream = createInflateRaw({ chunkSize: chunk });
  stream.end(data);
  const pieces = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await pieces.next();
      } catch (err) {
        throw corrupt(err);
      }
      if (next.done) break;
      const piece = next.value;
      for (let p = 0; p < piece.length; ) {
        const n = Math.min(room(), piece.length - p);
        buf.set(piece.subarray(p, p + n), have);
        p += n;
        deliver(n, false);
      }
    }
  } finally {
    stream.destroy();
  }
  deliver(0, true);
  return buf.subarray(0, have);
}
