import { describe, expect, it } from 'vitest';
import { parseShapes } from './ImportDialog';

describe('parseShapes', () => {
  it('reads one shape per forward argument, ints and names', () => {
    expect(parseShapes('N, 1, 28, 28')).toEqual([['N', 1, 28, 28]]);
    expect(parseShapes('[N, 3]; (N, 10)')).toEqual([
      ['N', 3],
      ['N', 10],
    ]);
    expect(parseShapes('  ')).toBe('give the input shape, e.g. N, 1, 28, 28');
    expect(parseShapes('N, , 3')).toBe('“N, , 3”: an empty dimension');
  });
});
