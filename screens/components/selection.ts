// Moving the selected row of a list with the shell's navigation commands.

/**
 * Where a navigation command (up, down, page-up, page-down, top, bottom) moves the selection of a
 * list of `count` rows with `page` rows to a page, as a function of the selected row (so it also
 * serves a state updater); null for any other command. The row it gives is within the list (0 when
 * the list is empty).
 */
export function selectionStep(
  command: string,
  count: number,
  page: number,
): ((row: number) => number) | null {
  const last = Math.max(0, count - 1);
  const within = (row: number) => Math.max(0, Math.min(last, row));
  switch (command) {
    case 'up':
      return (row) => within(row - 1);
    case 'down':
      return (row) => within(row + 1);
    case 'page-up':
      return (row) => within(row - page);
    case 'page-down':
      return (row) => within(row + page);
    case 'top':
      return () => 0;
    case 'bottom':
      return () => last;
    default:
      return null;
  }
}
