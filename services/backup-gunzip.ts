// Reading a .gz backup back, as a sequence of uncompressed chunks in order. Backups written by
// cadence-ops are made of independent gzip members whose headers carry their own size (subfield
// "CO", see backup-gzip.ts): when every member of a file announces itself that way and the chain of
// members covers the file exactly, they are inflated in parallel on libuv's pool, each one checked
// by zlib (CRC-32 and length) as usual. Anything else (another tool's gzip, a damaged header, data
// after the end) is read by the plain sequential stream, which gives the reference error messages.
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { MEMBER_HEADER_BYTES, memberSizeOf } from './backup-gzip.js';

export interface GunzipOptions {
  signal?: AbortSignal;
  /** Compressed bytes consumed so far, for progress. */
  onCompressed?: (bytes: number) => void;
  /** Members inflated at once in the parallel path (default 3). */
  parallel?: number;
}

export class GunzipCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'GunzipCancelled';
  }
}

/** The offsets and sizes of the members, when the whole file is a chain of our self-sized members. */
async function memberChain(fh: FileHandle, size: number): Promise<Array<[number, number]> | null> {
  const chain: Array<[number, number]> = [];
  const head = Buffer.alloc(MEMBER_HEADER_BYTES);
  let off = 0;
  while (off < size) {
    if (size - off < MEMBER_HEADER_BYTES + 8) return null;
    const { bytesRead } = await fh.read(head, 0, MEMBER_HEADER_BYTES, off);
    const total = bytesRead === MEMBER_HEADER_BYTES ? memberSizeOf(head) : null;
    if (total === null || total < MEMBER_HEADER_BYTES + 8 || off + total > size) return null;
    chain.push([off, total]);
    off += total;
  }
  return chain.length ? chain : null;
}

/** Inflates one gzip member on libuv's pool; zlib checks its CRC-32 and length. */
export function gunzipMember(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.gunzip(data, { chunkSize: 8 << 20 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

async function* sequential(file: string, opts: GunzipOptions, start = 0): AsyncGenerator<Buffer> {
  const input = createReadStream(file, { highWaterMark: 1 << 20, start });
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
  const out = pipeline(input, gunzip, () => {});
  let last = 0;
  try {
    for await (const chunk of out as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) throw new GunzipCancelled();
      if (input.bytesRead !== last) {
        opts.onCompressed?.(start + input.bytesRead);
        last = input.bytesRead;
      }
      yield chunk;
    }
  } finally {
    input.destroy();
  }
  opts.onCompressed?.(start + input.bytesRead);
}

async function* parallel(
  file: string,
  fh: FileHandle,
  chain: Array<[number, number]>,
  opts: GunzipOptions,
): AsyncGenerator<Buffer> {
  const width = Math.max(1, opts.parallel ?? 3);
  const pending: Array<Promise<Buffer>> = [];
  let next = 0;
  let done = 0;
  const start = async (i: number): Promise<Buffer> => {
    const [off, len] = chain[i]!;
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(buf, 0, len, off);
    if (bytesRead !== len) throw Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR' });
    try {
      return await gunzipMember(buf);
    } catch (err) {
      (err as Error).message = `${(err as Error).message} (in the gzip member at byte ${off})`;
      throw err;
    }
  };
  const fill = () => {
    while (pending.length < width && next < chain.length) {
      const p = start(next++);
      p.catch(() => {});
      pending.push(p);
    }
  };
  fill();
  while (pending.length) {
    if (opts.signal?.aborted) throw new GunzipCancelled();
    let out: Buffer;
    try {
      out = await pending.shift()!;
    } catch {
      // A member that does not inflate in its announced slice: either real damage or sizes that
      // lie. Everything before it came out whole, so read on from its start as one plain stream,
      // which is what any gzip reader would do and gives the reference error (or the right bytes).
      pending.length = 0;
      yield* sequential(file, opts, chain[done]![0]);
      return;
    }
    const [off, len] = chain[done++]!;
    fill();
    yield out;
    opts.onCompressed?.(off + len);
  }
}

/**
 * The uncompressed content of a gzip file, chunk by chunk, in order. Throws zlib's errors (with
 * their codes) on damaged data, GunzipCancelled when the signal fires.
 */
export async function* gunzipFile(file: string, opts: GunzipOptions = {}): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const chain = await memberChain(fh, size);
    if (chain) yield* parallel(file, fh, chain, opts);
    else yield* sequential(file, opts);
  } finally {
    await fh.close();
  }
}

/** How gunzipFile will read this file: 'parallel' (a chain of our self-sized members) or 'sequential'. */
export async function gunzipMode(file: string): Promise<'parallel' | 'sequential'> {
  const fh = await open(file, 'r');
  try {
    return (await memberChain(fh, (await fh.stat()).size)) ? 'parallel' : 'sequential';
  } finally {
    await fh.close();
  }
}
