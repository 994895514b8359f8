import { describe, expect, it } from 'vitest';
import { alignedLayout, columns, lineageLayout } from './layout';

const chain = ['data', 'prep', 'train-in', 'train', 'model'];
const links = chain.slice(1).map((t, i) => ({ source: chain[i]!, target: t }));
const items = (ids: readonly string[], height = 50) => ids.map((id) => ({ id, height }));

describe('columns', () => {
  it('puts each node one column right of what flows into it', () => {
    const c = columns(chain, links);
    expect(chain.map((id) => c.get(id))).toEqual([0, 1, 2, 3, 4]);
  });

  it('uses the longest path, so an input used late sits left of its job', () => {
    // data → prep → t → train; data → train (the raw data used again at the end)
    const c = columns(['data', 'prep', 't', 'train'], [
      { source: 'data', target: 'prep' },
      { source: 'prep', target: 't' },
      { source: 't', target: 'train' },
      { source: 'data', target: 'train' },
    ]);
    expect(c.get('train')).toBe(3);
    expect(c.get('data')).toBe(0);
  });

  it('survives a cycle and edges to unknown nodes', () => {
    const c = columns(['a', 'b'], [
      { source: 'a', target: 'b' },
      { source: 'b', target: 'a' },
      { source: 'ghost', target: 'a' },
    ]);
    expect(new Set(c.values()).size).toBe(2);
  });
});

describe('lineageLayout', () => {
  it('lays a chain left to right on one row', () => {
    const at = lineageLayout(items(chain), links, { columnWidth: 100, columnGap: 10 });
    expect(chain.map((id) => at.get(id)!.x)).toEqual([0, 110, 220, 330, 440]);
    expect(new Set(chain.map((id) => at.get(id)!.y)).size).toBe(1);
  });

  it('stacks a column without overlap and keeps nodes beside their neighbours', () => {
    // Two uploads feed one job; the second upload's own consumer is listed first.
    const ids = ['u1', 'u2', 'other', 'job'];
    const at = lineageLayout(items(ids, 40), [
      { source: 'u2', target: 'other' },
      { source: 'u1', target: 'job' },
      { source: 'u2', target: 'job' },
    ], { rowGap: 10 });
    expect(at.get('u1')!.x).toBe(at.get('u2')!.x);
    expect(Math.abs(at.get('u1')!.y - at.get('u2')!.y)).toBeGreaterThanOrEqual(50);
    // 'job' (fed by u1 and u2, mean row 0.5) goes above 'other' (fed by u2, row 1), although listed after it.
    expect(at.get('other')!.y - at.get('job')!.y).toBeGreaterThanOrEqual(50);
  });
});

describe('alignedLayout', () => {
  it('puts matched nodes in one column, the second lineage below the first', () => {
    const a = { items: items(['d', 'j', 'm']), links: [{ source: 'd', target: 'j' }, { source: 'j', target: 'm' }] };
    // b has an extra job before j.
    const b = {
      items: items(['D', 'x', 'xo', 'J', 'M']),
      links: [
        { source: 'D', target: 'x' },
        { source: 'x', target: 'xo' },
        { source: 'xo', target: 'J' },
        { source: 'J', target: 'M' },
      ],
    };
    const at = alignedLayout(a, b, [['d', 'D'], ['j', 'J'], ['m', 'M']], { columnWidth: 100, columnGap: 0, rowGap: 10, bandGap: 20 });
    expect(at.a.get('j')!.x).toBe(at.b.get('J')!.x);
    expect(at.a.get('m')!.x).toBe(at.b.get('M')!.x);
    // j is pushed right by b's extra job: the pair sits where the longer chain needs it.
    expect(at.a.get('j')!.x).toBe(300);
    expect(at.b.get('J')!.y).toBe(at.a.get('j')!.y + at.bandB);
    expect(Math.min(...[...at.b.values()].map((p) => p.y))).toBeGreaterThan(Math.max(...[...at.a.values()].map((p) => p.y)));
  });
});
