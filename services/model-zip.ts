// The zip container of 3MF, read from a buffer: the central directory (zip64 included), each
// entry's data, and a streaming raw inflate with Node's zlib (native, several times faster than
// JavaScript unzippers) that enforces the size caps: an entry declaring more than the cap is refused
// before anything is inflated, and inflation stops as soon as the output passes what the entry
// declared (a zip bomb lies about its size) or the cap.
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
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
 * Streams an entry's uncompressed bytes in chunks. zlib inflates on the thread pool while the caller
 * parses the previous chunk. Checks the declared size, the cap and the CRC.
 */
export async function* inflateChunks(
  b: Uint8Array,
  entry: ZipEntry,
  capBytes: number,
  chunkSize = 1 << 20,
): AsyncGenerator<Uint8Array> {
  checkEntry(entry, capBytes);
  const data = entryBytes(b, entry);
  if (entry.method === 0) {
    for (let p = 0; p < data.length; p += chunkSize)
      yield data.subarray(p, Math.min(data.length, p + chunkSize));
    if (crc32(data) !== entry.crc32)
      throw new ModelError('PAR004', `${entry.name}: CRC mismatch (corrupt data)`);
    return;
  }
  const inflater = createInflateRaw({ chunkSize });
  let total = 0;
  let crc = 0;
  inflater.end(data);
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > entry.uncompressedSize) throw overDeclared(entry);
      if (total > capBytes)
        throw new ModelError('PAR003', `${entry.name} inflates past the cap of ${mb(capBytes)}`);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new ModelError('PAR004', `${entry.name}: corrupt deflate data (${(err as Error).message})`);
  } finally {
    inflater.destroy();
  }
  if (total !== entry.uncompressedSize)
    throw new ModelError(
      'PAR004',
      `${entry.name}: inflated to ${total} bytes, declared ${entry.uncompressedSize} (truncated)`,
    );
  if (crc >>> 0 !== entry.crc32) throw new ModelError('PAR004', `${entry.name}: CRC mismatch (corrupt data)`);
}
