// A fixed-width, windowed table: a header line and the rows that fit, the selected one inverted.
// Cells are strings, so rows are cheap to build and the table cheap to lay out.
import { Box, Text } from 'ink';
import { padEnd, padStart } from './text.js';

export interface Column<Row> {
  title: string;
  /** Columns, or 'grow' to share what is left. */
  width: number | 'grow';
  align?: 'left' | 'right';
  get(row: Row): string;
  color?(row: Row): string | undefined;
}

/** First visible row index that keeps `selected` in a window of `height` rows. */
export function windowStart(selected: number, count: number, height: number): number {
  if (count <= height) return 0;
  const start = selected - Math.floor(height / 2);
  return Math.max(0, Math.min(count - height, start));
}

export function columnWidths<Row>(columns: Column<Row>[], width: number): number[] {
  const fixed = columns.reduce((s, c) => s + (c.width === 'grow' ? 0 : c.width), 0);
  const gaps = columns.length - 1;
  const growCount = columns.filter((c) => c.width === 'grow').length;
  const free = Math.max(0, width - fixed - gaps);
  return columns.map((c) => (c.width === 'grow' ? Math.max(4, Math.floor(free / growCount)) : c.width));
}

export function Table<Row>({
  columns,
  rows,
  width,
  height,
  selected,
  emptyText = 'nothing to show',
  rowKey,
}: {
  columns: Column<Row>[];
  rows: Row[];
  width: number;
  /** Rows available including the header line. */
  height: number;
  selected?: number | null;
  emptyText?: string;
  rowKey?: (row: Row, index: number) => string;
}) {
  const widths = columnWidths(columns, width);
  const cell = (text: string, i: number) =>
    columns[i]!.align === 'right' ? padStart(text, widths[i]!) : padEnd(text, widths[i]!);
  // One line for the header, and one for the "11-20 of 84" position when the rows do not fit.
  const overflow = rows.length > height - 1;
  const bodyHeight = Math.max(0, height - 1 - (overflow ? 1 : 0));
  const start = windowStart(selected ?? 0, rows.length, bodyHeight);
  const visible = rows.slice(start, start + bodyHeight);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold underline>
        {columns.map((c, i) => cell(c.title, i)).join(' ')}
      </Text>
      {rows.length === 0 ? <Text dimColor>{padEnd(emptyText, width)}</Text> : null}
      {visible.map((row, i) => {
        const index = start + i;
        const isSelected = selected === index;
        return (
          <Text key={rowKey ? rowKey(row, index) : index} inverse={isSelected} wrap="truncate">
            {columns.map((c, ci) => {
              const text = cell(c.get(row), ci) + (ci < columns.length - 1 ? ' ' : '');
              const color = c.color?.(row);
              return color && !isSelected ? (
                <Text key={c.title} color={color}>
                  {text}
                </Text>
              ) : (
                text
              );
            })}
          </Text>
        );
      })}
      {overflow && bodyHeight > 0 ? (
        <Text dimColor>{padStart(`${start + 1}-${start + visible.length} of ${rows.length}`, width)}</Text>
      ) : null}
    </Box>
  );
}
