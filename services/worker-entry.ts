// Worker threads run the bundle with workerData = { task, input }. Each task module exports
// run(input, post) and lives in services/; add it to `tasks` below. Start one with runInWorker.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { cliEntryPath } from './self-exec.js';

type Post = (message: unknown) => void;
export type WorkerTaskModule = { run(input: unknown, post: Post): Promise<unknown> | unknown };

const tasks: Record<string, () => Promise<WorkerTaskModule>> = {
  db: () => import('./db-tasks.js'),
  'backup-sqlite': () => import('./backup-sqlite.js'),
  'log-analyze-range': () => import('./log-analysis-worker.js'),
  health: () => import('./health-worker.js'),
};

export async function runWorker(): Promise<void> {
  const { task, input } = workerData as { task: string; input: unknown };
  const post: Post = (message) => parentPort?.postMessage({ type: 'progress', message });
  try {
    const load = tasks[task];
    if (!load) throw new Error(`unknown worker task ${task}`);
    const result = await (await load()).run(input, post);
    parentPort?.postMessage({ type: 'done', result });
  } catch (err) {
    parentPort?.postMessage({ type: 'error', message: (err as Error).message, stack: (err as Error).stack });
  }
}

/** What a caller of a worker thread may pass: progress messages, and a signal that cancels it. */
export interface WorkerRunOptions {
  onProgress?: (message: unknown) => void;
  signal?: AbortSignal;
}

/**
 * Runs a registered task in a worker thread so that long synchronous work (integrity checks,
 * parsing) never blocks the screen. Aborting terminates the thread.
 */
export function runInWorker<T>(task: string, input: unknown, opts: WorkerRunOptions = {}): Promise<T> {
  return workerOutcome<T>(
    () => new Worker(cliEntryPath(), { workerData: { task, input } }),
    `worker ${task}`,
    opts,
  );
}

/**
 * The outcome of a thread that posts this file's messages ({ type: 'progress' | 'done' | 'error' }):
 * progress goes to onProgress, the first result, error or exit settles the promise and ends the
 * thread (`name` says which thread exited). Aborting rejects with "cancelled": at once, or with
 * `cancelWhenStopped` only once the thread has stopped (a statement already running finishes first).
 */
export function workerOutcome<T>(
  start: () => Worker,
  name: string,
  opts: WorkerRunOptions & { cancelWhenStopped?: boolean },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = start();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => {
      if (!opts.cancelWhenStopped) return finish(() => reject(new Error('cancelled')));
      if (settled) return;
      settled = true;
      worker.terminate().then(
        () => reject(new Error('cancelled')),
        () => reject(new Error('cancelled')),
      );
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: { type: string; message?: unknown; result?: unknown }) => {
      if (m.type === 'progress') opts.onProgress?.(m.message);
      else if (m.type === 'done') finish(() => resolve(m.result as T));
      else if (m.type === 'error') finish(() => reject(new Error(String(m.message))));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`${name} exited with code ${code}`))));
  });
}
