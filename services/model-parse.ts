// One model file in, one report out: detect the format by content, run its parser under a memory
// budget, time the read and the parse, and measure the process's peak memory. Runs inside the
// loader process (services/model-loader.ts), and directly in tests and benchmarks.
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse3mf } from './model-3mf.js';
import { detectFormat } from './model-detect.js';
import { parseObj } from './model-obj.js';
import { parsePly } from './model-ply.js';
import { parseStep } from './model-step.js';
import { parseAsciiStl, parseBinaryStl } from './model-stl.js';
import {
  type BBox,
  DEFAULT_LIMITS,
  MemoryBudget,
  MODEL_ERROR_MEANING,
  ModelError,
  type ModelErrorCode,
  type ModelFormat,
  mb,
  type ParsedModel,
  type ParseLimits,
} from './model-types.js';

export interface ModelReport {
  file: string;
  format: ModelFormat | null;
  bytes: number;
  vertices: number | null;
  triangles: number | null;
  bbox: BBox | null;
  /** Milliseconds to read the file into memory. */
  readMs: number;
  /** Milliseconds to parse it from memory. */
  parseMs: number;
  /** File megabytes (10^6 bytes) parsed per second. */
  mbPerSec: number | null;
  /** Peak resident memory of the process during the read and parse (Linux VmHWM), bytes. */
  peakRssBytes: number | null;
  /** That peak minus the resident memory before the file was read, bytes. */
  peakOverBaseBytes: number | null;
  warnings: string[];
  details: Record<string, unknown>;
  detection: string | null;
  error: { code: ModelErrorCode; meaning: string; message: string } | null;
}

export interface ParseOptions {
  /**
   * Keep the whole mesh in the result. Otherwise OBJ, PLY and 3MF check and count triangles without
   * keeping them (what the loader reports needs no triangle list, which can be several times the
   * file), and OBJ and 3MF keep their positions in blocks; STL always keeps its positions.
   */
  keepMesh?: boolean;
}

export async function parseModelBuffer(
  b: Uint8Array,
  fileName: string,
  limits: ParseLimits = DEFAULT_LIMITS,
  opts: ParseOptions = {},
): Promise<ParsedModel & { detection: string }> {
  const detection = detectFormat(b, fileName);
  const budget = new MemoryBudget(limits.memoryBudgetBytes);
  const parsed = await parseAs(detection.format, b, budget, limits, opts);
  parsed.warnings.unshift(...detection.warnings);
  return { ...parsed, detection: detection.reason };
}

function parseAs(
  format: ModelFormat,
  b: Uint8Array,
  budget: MemoryBudget,
  limits: ParseLimits,
  opts: ParseOptions,
): ParsedModel | Promise<ParsedModel> {
  switch (format) {
    case 'stl-binary':
      return parseBinaryStl(b, budget);
    case 'stl-ascii':
      return parseAsciiStl(b, budget);
    case 'obj':
      return parseObj(b, budget, opts.keepMesh);
    case 'ply-ascii':
    case 'ply-binary-le':
    case 'ply-binary-be':
      return parsePly(b, budget, opts.keepMesh);
    case '3mf':
      return parse3mf(b, budget, limits, { keepMesh: opts.keepMesh });
    case 'step':
      return parseStep(b);
  }
}

// Peak memory: Linux keeps the process's resident high-water mark in /proc/self/status (VmHWM),
// and writing 5 to /proc/self/clear_refs resets it, so each file gets its own peak.

export function currentRss(): number {
  return process.memoryUsage.rss();
}

export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export function readPeakRss(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const gc = (globalThis as { gc?: (opts?: { type: 'major' | 'minor' }) => void }).gc;

export interface LoadOptions {
  limits?: Partial<ParseLimits>;
  /** Whole-process memory cap in bytes: the parse budget is this minus what the process already uses. */
  processCapBytes?: number;
  /** Keeps the parsed mesh in the result (tests); dropped otherwise. */
  keepMesh?: boolean;
  /**
   * Garbage collection before the load (when the process runs with --expose-gc): 'full' gives the
   * truest peak memory but makes V8 drop its compiled code (the load then runs cold); 'minor' keeps
   * it (repeated benchmark runs). Default 'full'.
   */
  collect?: 'full' | 'minor' | 'none';
}

export function emptyReport(file: string, bytes = 0): ModelReport {
  return {
    file,
    format: null,
    bytes,
    vertices: null,
    triangles: null,
    bbox: null,
    readMs: 0,
    parseMs: 0,
    mbPerSec: null,
    peakRssBytes: null,
    peakOverBaseBytes: null,
    warnings: [],
    details: {},
    detection: null,
    error: null,
  };
}

export function errorOf(code: ModelErrorCode, message: string): ModelReport['error'] {
  return { code, meaning: MODEL_ERROR_MEANING[code], message };
}

/**
 * The file's bytes. A zip (3MF) is read into shared memory, so that the thread that inflates its
 * model part reads the compressed bytes where they are instead of a copy.
 */
function readModelFile(file: string, size: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    const zip = readSync(fd, magic, 0, 4, 0) === 4 && magic.readUInt32LE(0) === 0x04034b50;
    const b = zip ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, b, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    // A file that shrank since stat is parsed as what was read (the parsers report truncation).
    return at === size ? b : b.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses one file in this process; every failure becomes the report's error, with its code. */
export async function loadModelFile(
  file: string,
  opts: LoadOptions = {},
): Promise<ModelReport & { mesh?: ParsedModel['mesh'] }> {
  const report: ModelReport & { mesh?: ParsedModel['mesh'] } = emptyReport(file);
  const collect = opts.collect ?? 'full';
  if (collect === 'full') gc?.();
  else if (collect === 'minor') gc?.({ type: 'minor' });
  const measured = resetPeakRss();
  const base = currentRss();
  try {
    let size: number;
    try {
      const st = statSync(file);
      if (st.isDirectory()) throw new ModelError('PAR001', 'is a directory, not a model file');
      if (!st.isFile()) throw new ModelError('PAR001', 'is not a regular file');
      size = st.size;
    } catch (err) {
      if (err instanceof ModelError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ModelError('ERR005', 'no such file');
      throw new ModelError('PAR001', `cannot read: ${(err as Error).message}`);
    }
    report.bytes = size;
    const processCap = opts.processCapBytes ?? Number.POSITIVE_INFINITY;
    const available = processCap - base;
    if (size > available) {
      throw new ModelError(
        'PAR003',
        `the file (${mb(size)}) does not fit in the memory cap (${mb(processCap)}, ${mb(base)} in use before reading)`,
      );
    }
    const limits: ParseLimits = {
      ...DEFAULT_LIMITS,
      ...opts.limits,
      memoryBudgetBytes: Math.min(
        opts.limits?.memoryBudgetBytes ?? DEFAULT_LIMITS.memoryBudgetBytes,
        available - size,
      ),
    };
    const t0 = performance.now();
    let b: Buffer;
    try {
      b = readModelFile(file, size);
    } catch (err) {
      throw new ModelError('PAR001', `cannot read: ${(err as Error).message}`);
    }
    const t1 = performance.now();
    report.readMs = t1 - t0;
    const parsed = await parseModelBuffer(b, path.basename(file), limits, { keepMesh: opts.keepMesh });
    const t2 = performance.now();
    report.parseMs = t2 - t1;
    report.format = parsed.format;
    report.vertices = parsed.vertices;
    report.triangles = parsed.triangles;
    report.bbox = parsed.bbox;
    report.warnings = parsed.warnings;
    report.details = parsed.details;
    report.detection = parsed.detection;
    report.mbPerSec = report.parseMs > 0 ? size / 1e6 / (report.parseMs / 1000) : null;
    if (opts.keepMesh) report.mesh = parsed.mesh;
  } catch (err) {
    if (err instanceof ModelError) report.error = errorOf(err.code, err.message);
    else if (err instanceof RangeError && /allocation|Array buffer/i.test(err.message))
      report.error = errorOf('PAR003', `allocation failed: ${err.message}`);
    else report.error = errorOf('LOADER', `unexpected failure: ${(err as Error).stack ?? String(err)}`);
  }
  const peak = measured ? readPeakRss() : null;
  report.peakRssBytes = peak ?? currentRss();
  report.peakOverBaseBytes = Math.max(0, report.peakRssBytes - base);
  return report;
}
