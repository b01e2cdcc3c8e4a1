// Sparklines as plain strings: ▁▂▃▄▅▆▇█, the last `width` values, scaled to [min, max].
const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(
  values: ReadonlyArray<number | null>,
  width: number,
  range?: { min?: number; max?: number },
): string {
  const slice = values.slice(-width);
  const finite = slice.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return ' '.repeat(Math.max(0, width));
  const min = range?.min ?? Math.min(...finite);
  const max = range?.max ?? Math.max(...finite);
  const span = max - min || 1;
  const out = slice.map((v) => {
    if (v === null || !Number.isFinite(v)) return ' ';
    const i = Math.round(((Math.min(max, Math.max(min, v)) - min) / span) * (BARS.length - 1));
    return BARS[i]!;
  });
  return ' '.repeat(Math.max(0, width - out.length)) + out.join('');
}

/** A horizontal bar of `width` cells for a 0–100 percentage: ████▌     */
export function bar(percent: number, width: number): string {
  const p = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  const cells = (p / 100) * width;
  const full = Math.floor(cells);
  const partial = cells - full >= 0.5 && full < width ? '▌' : '';
  return ('█'.repeat(full) + partial).padEnd(width, '·');
}
