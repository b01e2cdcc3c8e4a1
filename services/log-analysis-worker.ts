// Worker-thread task `log-analyze-range`: scans one byte range of a large log file for
// services/log-analysis.ts, which splits a big file over the cores and merges the results.
import { scanRange } from './log-analysis.js';

export function run(input: unknown) {
  return scanRange(input as Parameters<typeof scanRange>[0]);
}
