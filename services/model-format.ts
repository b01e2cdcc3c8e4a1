// Human formatting of model and benchmark figures, shared by the verbs and screen 6.
import type { BBox } from './model-types.js';

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  return `${(n / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

/** Six significant digits, as the MANIFEST and most loaders print coordinates. */
export function formatCoord(x: number): string {
  if (x === 0) return '0';
  return Number(x.toPrecision(6)).toString();
}

export function formatBox(b: BBox): string {
  const size = b.max.map((v, i) => v - b.min[i]!);
  return `[${b.min.map(formatCoord).join(', ')}] – [${b.max.map(formatCoord).join(', ')}] (size ${size.map(formatCoord).join(' x ')})`;
}

export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
