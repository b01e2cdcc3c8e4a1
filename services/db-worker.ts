// A warm worker thread for the database screen: started when the screen opens, it has the bundle
// loaded before the first check, so a check costs what SQLite costs (the bundle takes 100-200 ms to
// load in a fresh worker on a busy 2-core host). Jobs run one after another. Cancelling a job
// terminates the thread (it finishes the SQLite statement it is in, then ends) and the next job
// starts a fresh one.
import { Worker } from 'node:worker_threads';
import { type DbTaskInput, run as runTask } from './db-tasks.js';
import { cliEntryPath } from './self-exec.js';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (message: unknown) => void;
}

export interface DbJobRunner {
  run<T>(
    input: DbTaskInput,
    opts?: { onProgress?: (message: unknown) => void; signal?: AbortSignal },
  ): Promise<T>;
}

export class DbWorker implements DbJobRunner {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Starts the thread now, so the first job does not wait for it. */
  warm(): void {
    this.ensure();
  }

  private ensure(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(cliEntryPath(), { workerData: { task: 'db', input: { op: 'serve' } } });
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; id?: number; message?: unknown; result?: unknown }) => {
        if (m.type === 'job-ready') return resolve();
        const job = m.id !== undefined ? this.pending.get(m.id) : undefined;
        if (m.type === 'job-progress') job?.onProgress?.(m.message);
        else if (m.type === 'job-done' && job) {
          this.pending.delete(m.id!);
          job.resolve(m.result);
        } else if (m.type === 'job-error' && job) {
          this.pending.delete(m.id!);
          job.reject(new Error(String(m.message)));
        } else if (m.type === 'error') this.fail(worker, new Error(String(m.message)));
      });
      worker.on('error', (err) => {
        reject(err);
        this.fail(worker, err);
      });
      worker.on('exit', (code) => {
        const err = new Error(`database worker exited with code ${code}`);
        reject(err);
        this.fail(worker, err);
      });
    });
    this.ready.catch(() => {});
    return this.ready;
  }

  private fail(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.ready = null;
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }

  async run<T>(
    input: DbTaskInput,
    opts: { onProgress?: (message: unknown) => void; signal?: AbortSignal } = {},
  ): Promise<T> {
    if (opts.signal?.aborted) throw new Error('cancelled');
    await this.ensure();
    if (opts.signal?.aborted) throw new Error('cancelled');
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        reject(new Error('cancelled'));
        // The thread may be inside SQLite: end it; it stops when the statement returns.
        this.fail(worker, new Error('cancelled'));
        void worker.terminate();
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onProgress: opts.onProgress,
      });
      worker.postMessage({ id, input });
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.fail(worker as Worker, new Error('database worker stopped'));
    if (worker) await worker.terminate();
  }
}

/** Jobs in a fresh worker each time (runInWorker): for one-off runs without a warm worker. */
export const freshWorker: DbJobRunner = {
  async run<T>(
    input: DbTaskInput,
    opts: { onProgress?: (message: unknown) => void; signal?: AbortSignal } = {},
  ) {
    const { runInWorker } = await import('./worker-entry.js');
    return runInWorker<T>('db', input, opts);
  },
};

/**
 * A job on the runner the caller chose: 'inline' on this thread (headless, no screen to keep
 * answering), a warm DbWorker, or by default a fresh worker thread.
 */
export async function runDbJob<T>(
  runner: 'worker' | 'inline' | DbJobRunner | undefined,
  input: DbTaskInput,
  opts: { onProgress: (message: unknown) => void; signal?: AbortSignal },
): Promise<T> {
  if (runner === 'inline') return (await runTask(input, opts.onProgress)) as T;
  return (typeof runner === 'object' ? runner : freshWorker).run<T>(input, opts);
}
