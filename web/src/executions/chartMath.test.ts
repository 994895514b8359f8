import { describe, expect, it } from 'vitest';
import { canUseLogScale, chartValues, forLogScale, smooth } from './chartMath';

describe('smooth', () => {
  it('is the identity at weight 0', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });

  it('starts at the first value and follows the average (debiased EMA)', () => {
    const s = smooth([10, 10, 10, 10], 0.9);
    for (const v of s) expect(v).toBeCloseTo(10, 10);
    const t = smooth([0, 10], 0.5);
    expect(t[0]).toBe(0);
    // (0.5*0 + 0.5*10) debiased by 1 - 0.25: between the raw points, nearer the last.
    expect(t[1]).toBeCloseTo(5 / 0.75, 10);
  });

  it('damps noise more as the weight grows', () => {
    const noisy = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : -1));
    const spread = (xs: (number | null)[]) => {
      const tail = xs.slice(25) as number[];
      return Math.max(...tail) - Math.min(...tail);
    };
    expect(spread(smooth(noisy, 0.5))).toBeLessThan(spread(noisy));
    expect(spread(smooth(noisy, 0.9))).toBeLessThan(spread(smooth(noisy, 0.5)));
  });

  it('keeps gaps as gaps without resetting', () => {
    const s = smooth([4, null, Number.NaN, 4], 0.5);
    expect(s[1]).toBeNull();
    expect(s[2]).toBeNull();
    expect(s[3]).toBeCloseTo(4, 10);
  });

  it('clamps weights out of range', () => {
    expect(smooth([1, 2], -1)).toEqual([1, 2]);
    expect(smooth([1, 2], Number.NaN)).toEqual([1, 2]);
    const s = smooth([1, 2], 5);
    expect(s.every((v) => v !== null && Number.isFinite(v))).toBe(true);
  });
});

describe('log scale', () => {
  it('turns values without a logarithm into gaps', () => {
    expect(forLogScale([1, 0, -2, null, 0.5, Number.POSITIVE_INFINITY])).toEqual([1, null, null, null, 0.5, null]);
  });

  it('says when a log axis would be empty', () => {
    expect(canUseLogScale([0, -1, null])).toBe(false);
    expect(canUseLogScale([0, 1e-9])).toBe(true);
  });

  it('smooths before dropping values ≤ 0', () => {
    expect(chartValues([1, -1], { smoothing: 0, log: true })).toEqual([1, null]);
    const v = chartValues([1, 0], { smoothing: 0.5, log: true });
    expect(v[0]).toBe(1);
    expect(v[1]).toBeGreaterThan(0);
  });
});
