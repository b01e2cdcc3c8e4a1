import { describe, expect, it } from 'vitest';
import { selectionStep } from '../screens/components/selection.js';

describe('selectionStep (list navigation shared by the screens)', () => {
  const at = (command: string, row: number, count = 10, page = 4) =>
    selectionStep(command, count, page)?.(row);

  it('moves by one and by a page, and stops at both ends', () => {
    expect(at('up', 5)).toBe(4);
    expect(at('down', 5)).toBe(6);
    expect(at('page-up', 5)).toBe(1);
    expect(at('page-down', 5)).toBe(9);
    expect(at('up', 0)).toBe(0);
    expect(at('down', 9)).toBe(9);
    expect(at('page-up', 2)).toBe(0);
    expect(at('page-down', 8)).toBe(9);
  });

  it('top and bottom go to the first and last row', () => {
    expect(at('top', 7)).toBe(0);
    expect(at('bottom', 2)).toBe(9);
  });

  it('an empty list keeps row 0; a row past the end comes back into the list', () => {
    for (const c of ['up', 'down', 'page-up', 'page-down', 'top', 'bottom']) expect(at(c, 0, 0)).toBe(0);
    expect(at('up', 20, 10)).toBe(9);
  });

  it('other commands are not list moves', () => {
    expect(selectionStep('open', 10, 4)).toBeNull();
    expect(selectionStep('left', 10, 4)).toBeNull();
  });
});
