import { describe, expect, it } from 'vitest';
import { metricChanges, metricText } from './metrics';

describe('metricChanges', () => {
  it('pairs series by name with their last numeric values', () => {
    const a = { loss: [[0, 2.3], [1, 0.41234]] as [number, number][], acc: [[0, 0.9]] as [number, number][] };
    const b = { loss: [[0, 2.3], [1, 0.5], [2, 0.2], [3, null]] as [number, number | null][], lr: [[0, 0.01]] as [number, number][] };
    expect(metricChanges(a, b)).toEqual([
      { name: 'acc', a: 0.9, b: null, pointsA: 1, pointsB: 0 },
      { name: 'loss', a: 0.41234, b: 0.2, pointsA: 2, pointsB: 4 },
      { name: 'lr', a: null, b: 0.01, pointsA: 0, pointsB: 1 },
    ]);
    expect(metricChanges({}, {})).toEqual([]);
  });

  it('shows values short', () => {
    expect(metricText(0.412345)).toBe('0.4123');
    expect(metricText(1200)).toBe('1200');
    expect(metricText(null)).toBe('–');
  });
});
