// Raw inflate on a worker thread, for the large model parts of 3MF: the worker inflates into a ring
// of shared slots while this thread scans the slots already filled, so inflating (and its CRC)
// overlaps the scanning instead of preceding it. No buffer is allocated per chunk on either side
// (the ring is reused slot after slot), so memory stays flat however long the entry is.
//
// The handshake is synchronous (Atomics.wait on this thread): a parse never yields to the event loop
// half way, and a job cannot interleave with another. The worker is a few lines of CommonJS started
// with `eval` (no bundle to load: ~35 ms to start, once per process; ~4-8 MB resident), kept for
// later jobs and unref'd so it never holds the process open. It drives zlib's native handle the way
// model-zip.ts does on this thread (callers check that those internals are there first).
import { Worker } from 'node:worker_threads';

/** Slots in the ring, and the layout of each: room for the scanner's carried tail, data, zero padding. */
export const RING_SLOTS = 4;
export const SLOT_PREFIX = 64 * 1024;

// Control words (Int32Array over a SharedArrayBuffer, one per job).
const SEQ = 0; // bumped by the worker on every event (slot filled, end, error)
const PRODUCED = 1; // slots filled
const CONSUMED = 2; // slots released by this thread
const MSEQ = 3; // bumped by this thread on every release or abort
const STATE = 4; // 0 running, 1 done, 2 error
const ERROR_KIND = 5;
const ABORT = 6;
const MESSAGE_LENGTH = 7;
const LENGTHS = 8; // RING_SLOTS words: bytes in each slot
const CONTROL_WORDS = LENGTHS + RING_SLOTS;
/** How long this thread waits in one go, and how long without news before it gives up. */
const WAIT_MS = 1000;
const SILENCE_MS = 20_000;

export type InflateErrorKind = 'corrupt' | 'over-declared' | 'over-cap' | 'size' | 'crc' | 'thread';
const KINDS: InflateErrorKind[] = ['corrupt', 'over-declared', 'over-cap', 'size', 'crc'];

export class ThreadInflateError extends Error {
  constructor(
    readonly kind: InflateErrorKind,
    message: string,
    readonly total: number,
  ) {
    super(message);
  }
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const [SEQ, PRODUCED, CONSUMED, MSEQ, STATE, ERROR_KIND, ABORT, MESSAGE_LENGTH, LENGTHS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
parentPort.on('message', (job) => {
  const ctrl = new Int32Array(job.ctrl);
  const total = new Float64Array(job.total);
  const signal = () => { Atomics.add(ctrl, SEQ, 1); Atomics.notify(ctrl, SEQ); };
  const fail = (kind, message) => {
    const text = Buffer.from(String(message)).subarray(0, 500);
    Buffer.from(job.message).set(text);
    ctrl[MESSAGE_LENGTH] = text.length;
    ctrl[ERROR_KIND] = kind;
    Atomics.store(ctrl, STATE, 2);
    signal();
  };
  let z;
  try {
    z = zlib.createInflateRaw();
    z.on('error', () => {});
    const handle = z._handle;
    const state = z._writeState;
    const data = Buffer.from(job.input, job.inOffset, job.inLength);
    const ring = Buffer.from(job.ring);
    const stride = job.prefix + job.slot + job.pad;
    let inOff = 0;
    let inLen = data.length;
    let crc = 0;
    let produced = 0;
    for (;;) {
      for (;;) {
        const m = Atomics.load(ctrl, MSEQ);
        if (Atomics.load(ctrl, ABORT)) return;
        if (produced - Atomics.load(ctrl, CONSUMED) < job.slots) break;
        Atomics.wait(ctrl, MSEQ, m, 1000);
      }
      const at = (produced % job.slots) * stride + job.prefix;
      handle.writeSync(zlib.constants.Z_FINISH, data, inOff, inLen, ring, at, job.slot);
      if (z.errored) return fail(0, z.errored.message);
      const availOut = state[0];
      const availIn = state[1];
      inOff += inLen - availIn;
      inLen = availIn;
      const n = job.slot - availOut;
      total[0] += n;
      if (total[0] > job.declared) return fail(1, '');
      if (total[0] > job.cap) return fail(2, '');
      if (n > 0) crc = zlib.crc32(ring.subarray(at, at + n), crc);
      ring.fill(0, at + n, at + n + job.pad);
      const done = availOut !== 0;
      if (done && total[0] !== job.declared) return fail(3, '');
      if (done && crc >>> 0 !== job.crc) return fail(4, '');
      ctrl[LENGTHS + (produced % job.slots)] = n;
      produced++;
      // PRODUCED before STATE: a reader that sees the end also sees the last slot.
      Atomics.store(ctrl, PRODUCED, produced);
      if (done) Atomics.store(ctrl, STATE, 1);
      signal();
      if (done) return;
    }
  } catch (err) {
    fail(0, err && err.message ? err.message : String(err));
  } finally {
    if (z) z.close();
  }
});
`;

let worker: Worker | null = null;

function inflateWorker(): Worker {
  if (worker && worker.threadId >= 0) return worker;
  worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  worker.on('error', () => {
    worker = null;
  });
  worker.on('exit', () => {
    worker = null;
  });
  return worker;
}

/** True where worker threads and shared memory are available. */
export function threadInflateAvailable(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof Atomics?.wait === 'function';
}

export interface ThreadInflateJob {
  /** The compressed bytes (copied into shared memory unless they already are). */
  data: Uint8Array;
  declared: number;
  cap: number;
  crc: number;
  /** Bytes per slot and zero padding after each. */
  slot: number;
  pad: number;
  /**
   * Called for each filled slot in order: `ring[start..end)` is the data (the slot prefix in front of
   * `start` is free for the caller's carried bytes), `pad` zero bytes follow. The slot is reused as
   * soon as this returns.
   */
  onSlot: (ring: Buffer, start: number, end: number, final: boolean) => void;
}

/**
 * Shared memory kept from one job to the next (fresh pages cost a fault each: ~8 ms for a 9 MB copy).
 * Only after a job that ended normally: an aborted job's worker may still be reading and writing.
 */
let spare: { input: SharedArrayBuffer | null; ring: SharedArrayBuffer | null } = { input: null, ring: null };
/** Largest compressed input kept for the next job. */
const MAX_SPARE_INPUT = 64 << 20;

/** Runs one inflate job on the worker thread; throws ThreadInflateError for bad data. */
export function inflateOnThread(job: ThreadInflateJob): void {
  const reuse = spare;
  spare = { input: null, ring: null };
  let input: { input: SharedArrayBuffer; inOffset: number };
  if (job.data.buffer instanceof SharedArrayBuffer)
    input = { input: job.data.buffer, inOffset: job.data.byteOffset };
  else {
    // A caller's ordinary buffer: copied into shared memory for the worker.
    const shared =
      reuse.input && reuse.input.byteLength >= job.data.byteLength
        ? reuse.input
        : new SharedArrayBuffer(job.data.byteLength);
    new Uint8Array(shared).set(job.data);
    input = { input: shared, inOffset: 0 };
  }
  const stride = SLOT_PREFIX + job.slot + job.pad;
  const ring =
    reuse.ring && reuse.ring.byteLength === RING_SLOTS * stride
      ? reuse.ring
      : new SharedArrayBuffer(RING_SLOTS * stride);
  const ctrlBuffer = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const ctrl = new Int32Array(ctrlBuffer);
  const totalBuffer = new SharedArrayBuffer(8);
  const messageBuffer = new SharedArrayBuffer(512);
  const w = inflateWorker();
  w.postMessage({
    ...input,
    inLength: job.data.byteLength,
    ring,
    ctrl: ctrlBuffer,
    total: totalBuffer,
    message: messageBuffer,
    slots: RING_SLOTS,
    prefix: SLOT_PREFIX,
    slot: job.slot,
    pad: job.pad,
    declared: job.declared,
    cap: job.cap,
    crc: job.crc >>> 0,
  });
  const view = Buffer.from(ring);
  /** The worker is done with this job: its memory can serve the next. */
  const keep = () => {
    spare = {
      input:
        input.input !== job.data.buffer && input.input.byteLength <= MAX_SPARE_INPUT ? input.input : null,
      ring,
    };
  };
  let consumed = 0;
  let finished = false;
  let silent = 0;
  try {
    for (;;) {
      // STATE before PRODUCED (the worker stores them in the other order): when the end is seen,
      // the count includes the last slot.
      const seq = Atomics.load(ctrl, SEQ);
      const state = Atomics.load(ctrl, STATE);
      const produced = Atomics.load(ctrl, PRODUCED);
      if (consumed < produced) {
        const slot = consumed % RING_SLOTS;
        const start = slot * stride + SLOT_PREFIX;
        const n = ctrl[LENGTHS + slot]!;
        const final = state === 1 && consumed === produced - 1;
        job.onSlot(view, start, start + n, final);
        consumed++;
        Atomics.store(ctrl, CONSUMED, consumed);
        Atomics.add(ctrl, MSEQ, 1);
        Atomics.notify(ctrl, MSEQ);
        if (final) {
          finished = true;
          keep();
          return;
        }
        continue;
      }
      if (state === 1) {
        // Every slot was handed over before the end was seen: the final call, with no new bytes.
        const start = (consumed % RING_SLOTS) * stride + SLOT_PREFIX;
        view.fill(0, start, start + job.pad);
        finished = true;
        keep();
        job.onSlot(view, start, start, true);
        return;
      }
      if (state === 2) {
        finished = true;
        keep();
        const kind = KINDS[ctrl[ERROR_KIND]!] ?? 'corrupt';
        const text = Buffer.from(messageBuffer, 0, ctrl[MESSAGE_LENGTH]!).toString();
        throw new ThreadInflateError(kind, text, new Float64Array(totalBuffer)[0]!);
      }
      if (Atomics.wait(ctrl, SEQ, seq, WAIT_MS) === 'timed-out') {
        // One slot takes milliseconds; this long without a word, the thread is gone or stuck (this
        // thread is blocked, so its exit event cannot arrive): give up on it.
        if (++silent * WAIT_MS >= SILENCE_MS) {
          finished = true;
          if (worker === w) worker = null;
          void w.terminate();
          throw new ThreadInflateError('thread', 'the inflate thread stopped responding', 0);
        }
      } else silent = 0;
    }
  } finally {
    if (!finished) {
      // The caller failed (or the thread died): let a waiting worker drop the job.
      Atomics.store(ctrl, ABORT, 1);
      Atomics.add(ctrl, MSEQ, 1);
      Atomics.notify(ctrl, MSEQ);
    }
  }
}
