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
  const cols = values.slice(-width);
  const pad = width - cols.length;
  const levels = cols.map((v) => {
    if (v === null || !Number.isFinite(v)) return -1;
    const f = (Math.min(scale.max, Math.max(scale.min, v)) - scale.min) / (scale.max - scale.min);
    // At least one eighth for a value above the minimum, so small non-zero values show.
    const eighths = Math.round(f * height * 8);
    return v > scale.min && eighths === 0 ? 1 : eighths;
  });
  const rows: string[] = [];
  for (let r = height - 1; r >= 0; r--) {
    let line = ' '.repeat(pad);
    for (const level of levels) {
      if (level < 0) line += ' ';
      else line += EIGHTHS[Math.max(0, Math.min(8, level - r * 8))]!;
    }
    rows.push(line);
  }
  return rows;
}
