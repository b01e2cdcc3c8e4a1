// The headless loader: model files are parsed in a child process of the bundle
// (`cadence-ops load --worker`), never in the console's own process, so a parser that crashes,
// hangs or blows up its memory takes only that child down. The parent enforces:
// - a timeout per load (PAR002): the child is killed when a run takes longer;
// - a memory cap (PAR003), three ways: the child refuses allocations past its budget (clean error),
//   V8's heap is capped with --max-old-space-size (a heap blow-up aborts the child), and the parent
//   polls the child's resident memory and kills it past the cap (typed arrays live outside the heap).
// After a child dies, the remaining files go to a fresh one.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { emptyReport, errorOf, loadModelFile, type ModelReport } from './model-parse.js';
import { mb } from './model-types.js';
import { cliCommand } from './self-exec.js';

export interface LoaderLimits {
  /** Longest one load (read + parse) may take, in milliseconds. */
  timeoutMs: number;
  /** Resident memory cap of the loader process, in megabytes. */
  memoryCapMb: number;
  /** Largest uncompressed zip entry accepted (3MF), in megabytes. */
  maxUncompressedMb?: number;
}

export interface LoadJob {
  file: string;
  /** Timed repeats (default 1). */
  runs?: number;
  /** Untimed runs first, to warm the JIT and the page cache (default 0). */
  warmup?: number;
  /** Also compute the file's SHA-1 (outside the timings), to tell a changed file from a slower parse. */
  hash?: boolean;
}

export interface RunSample {
  /** 0-based; warm-up runs are numbered first and flagged. */
  index: number;
  warmup: boolean;
  readMs: number;
  parseMs: number;
  peakRssBytes: number | null;
  peakOverBaseBytes: number | null;
}

export interface LoadOutcome {
  file: string;
  /** The report of the last run (or of the failure). */
  report: ModelReport;
  /** Timed runs only. */
  samples: RunSample[];
  sha1: string | null;
  /** Peak memory of the first load of the file (after a full collection) over the resident size before it. */
  peakOverBaseBytes: number | null;
  /** Highest resident memory of the loader process the parent saw while this file loaded. */
  observedRssBytes: number;
}

export type LoaderEvent =
  | { type: 'file-start'; file: string; index: number; total: number }
  | { type: 'run'; file: string; index: number; total: number; sample: RunSample }
  | { type: 'file-done'; file: string; index: number; total: number; outcome: LoadOutcome };

export interface LoaderOptions extends LoaderLimits {
  onEvent?: (event: LoaderEvent) => void;
  signal?: AbortSignal;
  /** How often the parent reads the child's resident memory (default 25 ms). */
  rssPollMs?: number;
}

/** Time allowed for a loader process to start, on top of the parse timeout. */
const STARTUP_ALLOWANCE_MS = 15_000;

export class LoaderCancelled extends Error {
  constructor(readonly completed: LoadOutcome[]) {
    super('cancelled');
    this.name = 'LoaderCancelled';
  }
}

// Messages between the parent and the loader process (Node IPC).
type ToChild = { type: 'job'; id: number; job: LoadJob };
type FromChild =
  | { type: 'run-start'; id: number; index: number }
  | { type: 'run'; id: number; sample: RunSample }
  | {
      type: 'result';
      id: number;
      report: ModelReport;
      samples: RunSample[];
      sha1: string | null;
      peakOverBaseBytes: number | null;
    };

/** Resident set size of a process in bytes (Linux /proc), or null when it has gone. */
export function processRss(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Polls a process's resident memory; calls `exceeded` once it passes the cap (typed arrays and
 * native allocations live outside V8's heap limit, so this is the cap that holds). Returns stop().
 */
export function watchRss(
  pid: number,
  capBytes: number,
  pollMs: number,
  on: { sample?: (rss: number) => void; exceeded: (rss: number) => void },
): () => void {
  let fired = false;
  const timer = setInterval(() => {
    const rss = processRss(pid);
    if (rss === null) return;
    on.sample?.(rss);
    if (rss > capBytes && !fired) {
      fired = true;
      on.exceeded(rss);
    }
  }, pollMs);
  return () => clearInterval(timer);
}

/** Why a child process ended, as a loader error. */
export function classifyExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  killedFor: 'timeout' | 'memory' | null,
  limits: LoaderLimits,
  observedRss: number,
): NonNullable<ModelReport['error']> {
  if (killedFor === 'timeout')
    return errorOf(
      'PAR002',
      `parse did not finish within ${limits.timeoutMs / 1000} s; the loader process was killed`,
    )!;
  if (killedFor === 'memory')
    return errorOf(
      'PAR003',
      `the loader process reached ${mb(observedRss)} resident, over the cap of ${limits.memoryCapMb} MB; it was killed`,
    )!;
  if (
    /heap out of memory|Allocation failed|Array buffer allocation failed|invalid array length/i.test(stderr)
  )
    return errorOf(
      'PAR003',
      `the loader process ran out of memory (heap capped at ${limits.memoryCapMb} MB): ${lastLine(stderr)}`,
    )!;
  return errorOf(
    'LOADER',
    `the loader process exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})${stderr.trim() ? `: ${lastLine(stderr)}` : ''}`,
  )!;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return (lines.find((l) => /out of memory|Error/i.test(l)) ?? lines[lines.length - 1] ?? '')
    .trim()
    .slice(0, 300);
}

/** Arguments that start a loader process with the given limits. */
export function loaderCommand(limits: LoaderLimits): { command: string; args: string[] } {
  const { command, args } = cliCommand([
    'load',
    '--worker',
    '--memory-cap',
    String(limits.memoryCapMb),
    ...(limits.maxUncompressedMb ? ['--max-uncompressed', String(limits.maxUncompressedMb)] : []),
  ]);
  return { command, args: [`--max-old-space-size=${limits.memoryCapMb}`, '--expose-gc', ...args] };
}

/**
 * Loads the jobs one after another in loader processes; resolves with one outcome per job, in order.
 * Failures of a file are in its report (error with its code); the promise rejects only when
 * cancelled (LoaderCancelled, with the outcomes so far).
 */
export async function runLoader(jobs: LoadJob[], opts: LoaderOptions): Promise<LoadOutcome[]> {
  const outcomes: LoadOutcome[] = [];
  let next = 0;
  while (next < jobs.length) {
    if (opts.signal?.aborted) throw new LoaderCancelled(outcomes);
    const done = await runChild(jobs, next, opts, (o) => {
      outcomes.push(o);
      opts.onEvent?.({
        type: 'file-done',
        file: o.file,
        index: outcomes.length - 1,
        total: jobs.length,
        outcome: o,
      });
    });
    next += done;
    if (opts.signal?.aborted) throw new LoaderCancelled(outcomes);
  }
  return outcomes;
}

/** Runs jobs from `from` in one child until they are done or the child dies; returns how many finished. */
function runChild(
  jobs: LoadJob[],
  from: number,
  opts: LoaderOptions,
  finished: (o: LoadOutcome) => void,
): Promise<number> {
  return new Promise((resolve) => {
    const { command, args } = loaderCommand(opts);
    const child: ChildProcess = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr = (stderr + d).slice(-8192);
    });
    let current = from;
    let count = 0;
    let timer: NodeJS.Timeout | null = null;
    let killedFor: 'timeout' | 'memory' | null = null;
    let observed = 0;
    let samples: RunSample[] = [];
    let settled = false;
    const pid = child.pid ?? -1;

    const kill = (why: 'timeout' | 'memory' | null) => {
      if (killedFor === null) killedFor = why;
      child.kill('SIGKILL');
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => kill('timeout'), opts.timeoutMs);
    };
    const disarm = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
    const stopWatch = watchRss(pid, opts.memoryCapMb * 1024 * 1024, opts.rssPollMs ?? 25, {
      sample: (rss) => {
        if (rss > observed) observed = rss;
      },
      exceeded: () => kill('memory'),
    });
    const onAbort = () => kill(null);
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const send = () => {
      const job = jobs[current]!;
      samples = [];
      observed = 0;
      opts.onEvent?.({ type: 'file-start', file: job.file, index: current, total: jobs.length });
      // Each run arms the timeout (run-start); until then, allow for starting the process too.
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => kill('timeout'), opts.timeoutMs + STARTUP_ALLOWANCE_MS);
      child.send({ type: 'job', id: current, job } satisfies ToChild);
    };

    child.on('message', (m: FromChild) => {
      if (m.id !== current) return;
      if (m.type === 'run-start') arm();
      else if (m.type === 'run') {
        disarm();
        if (!m.sample.warmup) samples.push(m.sample);
        opts.onEvent?.({
          type: 'run',
          file: jobs[current]!.file,
          index: current,
          total: jobs.length,
          sample: m.sample,
        });
      } else if (m.type === 'result') {
        disarm();
        finished({
          file: jobs[current]!.file,
          report: m.report,
          samples: m.samples,
          sha1: m.sha1,
          peakOverBaseBytes: m.peakOverBaseBytes,
          observedRssBytes: observed,
        });
        count++;
        current++;
        if (current < jobs.length && !opts.signal?.aborted) send();
        else child.disconnect();
      }
    });
    const end = () => {
      if (settled) return;
      settled = true;
      disarm();
      stopWatch();
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(count);
    };
    child.on('error', (err) => {
      if (current < jobs.length && !opts.signal?.aborted) {
        const report = emptyReport(jobs[current]!.file);
        report.error = errorOf('LOADER', `cannot start the loader process: ${err.message}`);
        finished({
          file: jobs[current]!.file,
          report,
          samples: [],
          sha1: null,
          peakOverBaseBytes: null,
          observedRssBytes: 0,
        });
        count++;
      }
      end();
    });
    child.on('exit', (code, signal) => {
      if (current < jobs.length && count < jobs.length - from && !opts.signal?.aborted) {
        // The child died on this job: record why, and let the caller start a fresh one.
        const report = emptyReport(jobs[current]!.file);
        report.error = classifyExit(code, signal, stderr, killedFor, opts, observed);
        report.peakRssBytes = observed || null;
        finished({
          file: jobs[current]!.file,
          report,
          samples,
          sha1: null,
          peakOverBaseBytes: null,
          observedRssBytes: observed,
        });
        count++;
      }
      // Let stderr drain before resolving (its tail names a V8 out-of-memory abort).
      setImmediate(end);
    });
    if (from < jobs.length) send();
  });
}

/** The loader process: reads jobs from the parent over IPC until disconnected. */
export async function runLoaderWorker(opts: {
  memoryCapMb: number;
  maxUncompressedMb?: number;
}): Promise<number> {
  const send = (m: FromChild) =>
    new Promise<void>((resolve) => {
      if (!process.send) return resolve();
      process.send(m, undefined, {}, () => resolve());
    });
  const queue: Array<{ id: number; job: LoadJob }> = [];
  let wake: (() => void) | null = null;
  let open = true;
  process.on('message', (m: ToChild) => {
    if (m?.type === 'job') {
      queue.push({ id: m.id, job: m.job });
      wake?.();
    }
  });
  process.on('disconnect', () => {
    open = false;
    wake?.();
  });
  const capBytes = opts.memoryCapMb * 1024 * 1024;
  const limits = opts.maxUncompressedMb ? { maxUncompressedBytes: opts.maxUncompressedMb * 1024 * 1024 } : {};
  for (;;) {
    if (queue.length === 0) {
      if (!open) return 0;
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = null;
      continue;
    }
    const { id, job } = queue.shift()!;
    const warmup = Math.max(0, job.warmup ?? 0);
    const runs = Math.max(1, job.runs ?? 1);
    const samples: RunSample[] = [];
    let report: ModelReport | null = null;
    let firstPeak: number | null = null;
    for (let i = 0; i < warmup + runs; i++) {
      await send({ type: 'run-start', id, index: i });
      // The first run after a full collection: its peak memory is the file's. Later runs keep V8's
      // compiled code (a forced full collection would throw it away and make every run cold).
      report = await loadModelFile(job.file, {
        processCapBytes: capBytes,
        limits,
        collect: i === 0 ? 'full' : 'minor',
      });
      if (i === 0) firstPeak = report.peakOverBaseBytes;
      const sample: RunSample = {
        index: i,
        warmup: i < warmup,
        readMs: report.readMs,
        parseMs: report.parseMs,
        peakRssBytes: report.peakRssBytes,
        peakOverBaseBytes: report.peakOverBaseBytes,
      };
      await send({ type: 'run', id, sample });
      if (!sample.warmup) samples.push(sample);
      if (report.error) break;
    }
    let sha1: string | null = null;
    if (job.hash && report && !report.error) sha1 = await fileSha1(job.file);
    await send({ type: 'result', id, report: report!, samples, sha1, peakOverBaseBytes: firstPeak });
  }
}

async function fileSha1(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A short name for messages: the file name with its folder when it is not in the current one. */
export function displayName(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}
