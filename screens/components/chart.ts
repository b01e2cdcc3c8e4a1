// A block chart as plain strings: `height` rows of `width` columns, each column filled from the
// bottom with ▁▂▃▄▅▆▇█ in eighths of a row. No Ink import: screens wrap the rows in <Text>.
const EIGHTHS = ' ▁▂▃▄▅▆▇█';

export interface ChartScale {
  min: number;
  max: number;
}

/** A scale that fits the values, starting at zero for non-negative series (so bars compare honestly). */
export function fitScale(values: ReadonlyArray<number | null>, fixed?: Partial<ChartScale>): ChartScale {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  let min = fixed?.min ?? (finite.length ? Math.min(0, ...finite) : 0);
  let max = fixed?.max ?? (finite.length ? Math.max(...finite) : 1);
  if (max <= min) max = min + 1;
  if (fixed?.min === undefined && min > 0) min = 0;
  return { min, max };
}

/**
 * Rows of the chart, top first. `values` are spread over `width` columns (the last `width` if longer,
 * right-aligned if shorter); a null column stays empty.
 */
export function blockChart(
  values: ReadonlyArray<number | null>,
  width: number,
  height: number,
  scale: ChartScale,
): string[] {
  // Plain loops: three charts of screen 2 are drawn every second.
  const start = Math.max(0, values.length - width);
  const pad = width - (values.length - start);
  const levels = new Int16Array(values.length - start);
  for (let i = start; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      levels[i - start] = -1;
      continue;
    }
    const f = (Math.min(scale.max, Math.max(scale.min, v)) - scale.min) / (scale.max - scale.min);
    // At least one eighth for a value above the minimum, so small non-zero values show.
    const eighths = Math.round(f * height * 8);
    levels[i - start] = v > scale.min && eighths === 0 ? 1 : eighths;
  }
  const rows: string[] = [];
  const blank = ' '.repeat(pad);
  for (let r = height - 1; r >= 0; r--) {
    let line = blank;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      line += level < 0 ? ' ' : EIGHTHS[Math.max(0, Math.min(8, level - r * 8))]!;
    }
    rows.push(line);
  }
  return rows;
}
