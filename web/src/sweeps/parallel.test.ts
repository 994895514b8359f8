import { describe, expect, it } from 'vitest';
import { axisTicks, axisX, buildAxes, fraction, fractionY, insideBrushes, polyline, rowColour, yFraction, type Layout } from './parallel';
import type { TrialRow } from './trials';

const row = (execution: string, params: Record<string, unknown>, metrics: Record<string, number>): TrialRow => ({
  execution,
  label: execution,
  state: 'succeeded',
  params,
  metrics,
});
const layout: Layout = { width: 300, height: 120, padTop: 10, padBottom: 10, padX: 50 };
const rows = [
  row('a', { lr: 0.001, opt: 'adam' }, { loss: 1 }),
  row('b', { lr: 0.1, opt: 'sgd' }, { loss: 3 }),
  row('c', { lr: 0.01, opt: 'adam' }, {}),
];
const specs = [
  { key: 'param:lr', label: 'lr' },
  { key: 'param:opt', label: 'opt' },
  { key: 'metric:loss', label: 'loss' },
];

describe('parallel coordinates geometry', () => {
  it('builds numeric axes (log over two decades) and category axes', () => {
    const [lr, opt, loss] = buildAxes(rows, specs);
    expect(lr).toMatchObject({ kind: 'number', min: 0.001, max: 0.1, log: true });
    expect(opt).toMatchObject({ kind: 'category', categories: ['adam', 'sgd'] });
    expect(loss).toMatchObject({ kind: 'number', min: 1, max: 3, log: false });
  });

  it('places values on their axes, 0 at the bottom and 1 at the top', () => {
    const [lr, opt, loss] = buildAxes(rows, specs);
    expect(fraction(lr!, 0.01)).toBeCloseTo(0.5);
    expect(fraction(opt!, 'sgd')).toBe(1);
    expect(fraction(loss!, 2)).toBe(0.5);
    expect(fraction(loss!, undefined)).toBeNull();
    expect(fraction(opt!, 'rmsprop')).toBeNull();
    expect(fraction({ key: 'k', label: 'k', kind: 'number', min: 4, max: 4, log: false, integer: true }, 4)).toBe(0.5);
  });

  it('spreads axes across the width and maps fractions to y and back', () => {
    expect([0, 1, 2].map((i) => axisX(layout, 3, i))).toEqual([50, 150, 250]);
    expect(axisX(layout, 1, 0)).toBe(150);
    expect(fractionY(layout, 1)).toBe(10);
    expect(fractionY(layout, 0)).toBe(110);
    expect(yFraction(layout, 60)).toBe(0.5);
    expect(yFraction(layout, 500)).toBe(0);
    expect(yFraction(layout, 108)).toBe(0); // 2 % above the bottom: snapped
    expect(yFraction(layout, 11)).toBe(1);
  });

  it('draws a row through its values; a missing value breaks the line', () => {
    const axes = buildAxes(rows, specs);
    expect(polyline(rows[1]!, axes, layout)).toEqual([
      [
        [50, 10],
        [150, 10],
        [250, 10],
      ],
    ]);
    const c = polyline(rows[2]!, axes, layout);
    expect(c).toHaveLength(1);
    expect(c[0]).toHaveLength(2);
  });

  it('keeps the rows inside every brush', () => {
    const axes = buildAxes(rows, specs);
    const brushes = new Map([['metric:loss', [0, 0.6] as const]]);
    expect(rows.map((r) => insideBrushes(r, axes, brushes))).toEqual([true, false, false]);
    expect(rows.map((r) => insideBrushes(r, axes, new Map([['param:opt', [0.9, 1] as const]])))).toEqual([false, true, false]);
    expect(rows.every((r) => insideBrushes(r, axes, new Map()))).toBe(true);
  });

  it('colours from worst (blue) to best (orange) in the objective\'s direction', () => {
    expect(rowColour(1, 1, 3, true)).toBe('rgb(234, 88, 12)');
    expect(rowColour(3, 1, 3, true)).toBe('rgb(37, 99, 235)');
    expect(rowColour(3, 1, 3, false)).toBe('rgb(234, 88, 12)');
    expect(rowColour(undefined, 1, 3, true)).toBe('#98a2b3');
  });

  it('labels numeric axes at min, middle, max; categories each', () => {
    const [lr, opt] = buildAxes(rows, specs);
    expect(axisTicks(lr!).map((t) => t.text)).toEqual(['0.001', '0.01', '0.1']);
    const epochs = buildAxes([row('a', { e: 1 }, {}), row('b', { e: 2 }, {}), row('c', { e: 5 }, {})], [{ key: 'param:e', label: 'e' }]);
    expect(epochs[0]).toMatchObject({ integer: true });
    expect(axisTicks(epochs[0]!).map((t) => t.text)).toEqual(['1', '3', '5']);
    const two = buildAxes([row('a', { e: 1 }, {}), row('b', { e: 2 }, {})], [{ key: 'param:e', label: 'e' }]);
    expect(axisTicks(two[0]!).map((t) => t.text)).toEqual(['1', '2']);
    expect(axisTicks(opt!)).toEqual([
      { f: 0, text: 'adam' },
      { f: 1, text: 'sgd' },
    ]);
  });
});
