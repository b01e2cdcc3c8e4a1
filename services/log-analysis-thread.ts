// The small worker of `logs analyze` (dist/log-analysis-thread.js, its own bundle: the scanner, the
// parser and the template miner, not the console): takes chunks of a large file from the shared
// counter (services/log-analysis.ts, scanChunks) and posts back each chunk's scan. Starting it costs
// ~25 ms where the full bundle costs ~110 ms, time the thread would not spend reading.
import { parentPort, workerData } from 'node:worker_threads';
import { scanRange } from './log-analysis.js';

scanRange(workerData as Parameters<typeof scanRange>[0]).then(
  (result) => parentPort?.postMessage({ type: 'done', result }),
  (err: Error) => parentPort?.postMessage({ type: 'error', message: String(err?.message ?? err) }),
);
