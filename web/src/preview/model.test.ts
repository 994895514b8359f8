import { describe, expect, it } from 'vitest';
import type { ArtifactPreview } from '@kiln/client';
import { cellText, formatCount, formatShape, headerEntries, histogramBars, lineData, prettyJson, statsEntries, summary } from './model';

describe('numbers', () => {
  it('shapes and counts', () => {
    expect(formatShape([5, 64, 64])).toBe('5 × 64 × 64');
    expect(formatShape([])).toBe('scalar');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(12_345)).toBe('12.3 k');
    expect(formatCount(1_200_000)).toBe('1.2 M');
    expect(formatCount(3_456_000_000)).toBe('3.46 G');
  });
  it('statistics with NaN, infinity and sampling only when present', () => {
    expect(statsEntries({ min: 0, max: 1.5, mean: 0.123456789, std: null, nan: 0 })).toEqual([
      ['min', '0'],
      ['max', '1.5'],
      ['mean', '0.123457'],
      ['std', '–'],
    ]);
    const more = statsEntries({ min: 0, max: 1, mean: 0.5, std: 0.1, nan: 3, inf: 2, sampled: 4_000_000 });
    expect(more.slice(4)).toEqual([
      ['NaN', '3'],
      ['±Inf', '2'],
      ['sample', '4 M values'],
    ]);
  });
  it('cells', () => {
    expect([cellText(null), cellText(0.1 + 0.2), cellText('g1'), cellText(true), cellText([1, 2])]).toEqual([
      '–',
      '0.3',
      'g1',
      'T',
      '[1,2]',
    ]);
  });
});

describe('summaries', () => {
  const cases: [ArtifactPreview, string][] = [
    [{ kind: 'json', value: [1, 2, 3], truncated: true }, 'JSON list of 3 (cut)'],
    [{ kind: 'json', value: { a: 1 } }, 'JSON object of 1 keys'],
    [{ kind: 'array', dtype: 'float32', shape: [5, 64, 64], stats: null }, 'float32 array 5 × 64 × 64'],
    [
      { kind: 'state_dict', tensors: [], count: 12, total_params: 1_234_567, module: 'torch.nn.modules.container.Sequential' },
      'Sequential · 12 tensors · 1.23 M parameters',
    ],
    [{ kind: 'fits', hdus: [{ name: 'PRIMARY', type: 'PrimaryHDU', header: {}, shape: [64, 64] }] }, 'FITS · 1 HDU · 64 × 64'],
    [{ kind: 'table', columns: ['a', 'b'], rows: [], count: 100 }, 'table · 2 columns · 100 rows'],
    [{ kind: 'text', text: '', size: 2048, truncated: false }, 'text · 2 KiB'],
    [{ kind: 'binary', size: 10, magic: '89', format: 'png' }, 'png · 10 B'],
  ];
  it.each(cases)('%o', (p, text) => expect(summary(p)).toBe(text));
});

describe('plots', () => {
  it('histogram bars fill the box, the tallest to the top', () => {
    const bars = histogramBars({ edges: [0, 1, 2, 3], counts: [2, 4, 0] }, 300, 100);
    expect(bars.map((b) => [b.x, b.y, b.height])).toEqual([
      [0, 50, 50],
      [100, 0, 100],
      [200, 100, 0],
    ]);
    expect(bars[1]!.width).toBe(99);
    expect(bars[0]!.title).toBe('[0, 1): 2');
    expect(histogramBars({ edges: [0], counts: [] }, 300, 100)).toEqual([]);
  });
  it('line data has the envelope only when bucketed and aligned', () => {
    expect(lineData({ x: [0, 1], y: [1, null] })).toEqual([
      [0, 1],
      [1, null],
    ]);
    expect(lineData({ x: [0, 10], y: [4.5, 14.5], min: [0, 10], max: [9, 19], bucket: 10 })).toHaveLength(4);
    expect(lineData({ x: [0, 10], y: [4.5, 14.5], min: [0], max: [9] })).toHaveLength(2);
  });
  it('header cards as rows', () => {
    expect(headerEntries({ SIMPLE: true, NAXIS: 2, FILTER: 'r', '': 'note', X: null })).toEqual([
      ['SIMPLE', 'T'],
      ['NAXIS', '2'],
      ['FILTER', 'r'],
      ['(blank)', 'note'],
      ['X', '–'],
    ]);
  });
});

describe('prettyJson', () => {
  it('keeps lists of scalars on one line and indents the rest like JSON.stringify', () => {
    expect(prettyJson({ a: [1, 2, null, 'x'], b: { c: [] }, d: [{ e: true }], f: {} })).toBe(
      '{\n  "a": [1, 2, null, "x"],\n  "b": {\n    "c": []\n  },\n  "d": [\n    {\n      "e": true\n    }\n  ],\n  "f": {}\n}',
    );
    expect(prettyJson(3)).toBe('3');
    expect(prettyJson('s')).toBe('"s"');
    const v = { x: [{ y: [1, { z: 2 }] }] };
    expect(JSON.parse(prettyJson(v))).toEqual(v);
  });
});
