// Gzip on every core: the input is cut into chunks of a few MB, each compressed as an independent
// gzip member on libuv's thread pool (zlib's async API runs there), and the members are written in
// order. RFC 1952 allows any number of members in a file; gzip, tar, zcat, Python and Node read
// them as one stream. Memory stays bounded: at most `threads + 1` chunks are in flight.
import os from 'node:os';
import zlib from 'node:zlib';

export interface GzipSink {
  write(buf: Buffer): Promise<void>;
}

export interface ParallelGzipOptions {
  level?: number;
  /** Chunks compressed at once (default: cores + 1 so no core idles while the next chunk fills, at most 3 so libuv's pool of 4 keeps a thread for file I/O). */
  threads?: number | null;
  /** Uncompressed bytes per member (default 4 MiB). */
  chunkBytes?: number;
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism() + 1, 3));
}

/** Bytes of the member header we write: the 10 of RFC 1952, plus an extra field holding the member's size. */
export const MEMBER_HEADER_BYTES = 20;

/** The total size a member header of ours announces, or null when `head` is not one of our headers. */
export function memberSizeOf(head: Buffer): number | null {
  if (
    head.length < MEMBER_HEADER_BYTES ||
    head[0] !== 0x1f ||
    head[1] !== 0x8b ||
    head[2] !== 8 ||
    head[3] !== 0x04 ||
    head.readUInt16LE(10) !== 8 ||
    head[12] !== 0x43 ||
    head[13] !== 0x4f ||
    head.readUInt16LE(14) !== 4
  )
    return null;
  return head.readUInt32LE(16);
}

/**
 * One gzip member: a standard header with FEXTRA (subfield "CO", 4 bytes: the member's total size,
 * little-endian), raw deflate, CRC-32 and length. Every gzip reader skips the extra field; ours uses
 * it to find the members and inflate them in parallel (see backup-gunzip.ts). Compressed on libuv's
 * pool.
 */
export function gzipMember(data: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // One output buffer larger than the worst case keeps the whole member in one pool job.
    zlib.deflateRaw(data, { level, chunkSize: data.length + 65_536 }, (err, payload) => {
      if (err) return reject(err);
      const total = MEMBER_HEADER_BYTES + payload.length + 8;
      const head = Buffer.alloc(MEMBER_HEADER_BYTES);
      head[0] = 0x1f;
      head[1] = 0x8b;
      head[2] = 8; // deflate
      head[3] = 0x04; // FEXTRA; MTIME and XFL stay 0
      head[9] = 3; // Unix
      head.writeUInt16LE(8, 10); // XLEN
      head[12] = 0x43; // 'C'
      head[13] = 0x4f; // 'O'
      head.writeUInt16LE(4, 14);
      head.writeUInt32LE(total, 16);
      const tail = Buffer.alloc(8);
      tail.writeUInt32LE(zlib.crc32(data), 0);
      tail.writeUInt32LE(data.length >>> 0, 4);
      resolve(Buffer.concat([head, payload, tail], total));
    });
  });
}

export class ParallelGzipWriter {
  bytesIn = 0;
  bytesOut = 0;
  members = 0;
  private readonly level: number;
  private readonly threads: number;
  private readonly chunkBytes: number;
  private chunk: Buffer;
  private fill = 0;
  /** Compressions in order; each resolves once its member has been written. */
  private readonly inFlight: Array<Promise<void>> = [];
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly out: GzipSink,
    opts: ParallelGzipOptions = {},
  ) {
    this.level = opts.level ?? 6;
    this.threads = opts.threads ?? defaultThreads();
    this.chunkBytes = opts.chunkBytes ?? 4 * 1024 * 1024;
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Appends bytes; resolves when the writer can take more (back-pressure). */
  async write(data: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    let off = 0;
    while (off < data.length) {
      const n = Math.min(data.length - off, this.chunkBytes - this.fill);
      data.copy(this.chunk, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === this.chunkBytes) await this.submit();
    }
    this.bytesIn += data.length;
  }

  /** Compresses what is left and waits until every member is written. */
  async end(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.fill > 0 || this.members === 0) await this.submit();
    await this.tail;
    if (this.failure) throw this.failure;
  }

  private async submit(): Promise<void> {
    const data = this.chunk.subarray(0, this.fill);
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    this.fill = 0;
    this.members++;
    const compressed = gzipMember(data, this.level);
    // Swallow here so an early failure is not an unhandled rejection; it is rethrown through `tail`.
    compressed.catch(() => {});
    const written = this.tail.then(async () => {
      if (this.failure) return;
      try {
        const member = await compressed;
        await this.out.write(member);
        this.bytesOut += member.length;
      } catch (err) {
        this.failure ??= err;
      }
    });
    this.tail = written;
    this.inFlight.push(written);
    while (this.inFlight.length > this.threads) await this.inFlight.shift();
    if (this.failure) throw this.failure;
  }
}
