import { describe, expect, it } from 'vitest';
import { layeredLayout } from './layout';

const box = (id: string, height = 50) => ({ id, width: 100, height });

describe('layeredLayout', () => {
  it('puts each node one layer right of its furthest predecessor', () => {
    const pos = layeredLayout(
      [box('a'), box('b'), box('c'), box('d')],
      [
        { source: 'a', target: 'b' },
        { source: 'b', target: 'c' },
        { source: 'a', target: 'c' },
        { source: 'c', target: 'd' },
      ],
      { layerGap: 50 },
    );
    expect([...'abcd'].map((id) => pos.get(id)!.x)).toEqual([0, 150, 300, 450]);
  });

  it('stacks a layer vertically without overlap and centres shorter layers', () => {
    const pos = layeredLayout(
      [box('src'), box('x', 40), box('y', 80), box('z', 40)],
      [
        { source: 'src', target: 'x' },
        { source: 'src', target: 'y' },
        { source: 'src', target: 'z' },
      ],
      { nodeGap: 10 },
    );
    const ys = ['x', 'y', 'z'].map((id) => pos.get(id)!.y).sort((p, q) => p - q);
    expect(ys).toEqual([0, 50, 140]);
    // Layer 1 is 40+80+40+2*10 = 180 tall; the single source is centred on it.
    expect(pos.get('src')!.y).toBe(65);
  });

  it('orders nodes to avoid crossings (barycenter)', () => {
    // a1 → b2, a2 → b1: the second layer should swap to b2, b1.
    const pos = layeredLayout(
      [box('a1'), box('a2'), box('b1'), box('b2')],
      [
        { source: 'a1', target: 'b2' },
        { source: 'a2', target: 'b1' },
      ],
    );
    expect(pos.get('b2')!.y).toBeLessThan(pos.get('b1')!.y);
  });

  it('survives cycles, self-loops, unknown ends and empty graphs', () => {
    const pos = layeredLayout(
      [box('a'), box('b')],
      [
        { source: 'a', target: 'b' },
        { source: 'b', target: 'a' },
        { source: 'a', target: 'a' },
        { source: 'a', target: 'ghost' },
      ],
    );
    expect(pos.size).toBe(2);
    expect(pos.get('a')!.x).toBeLessThan(pos.get('b')!.x);
    expect(layeredLayout([], []).size).toBe(0);
  });

  it('lays out isolated nodes in the first layer', () => {
    const pos = layeredLayout([box('a'), box('b'), box('c')], []);
    expect(new Set([...pos.values()].map((p) => p.x))).toEqual(new Set([0]));
  });
});
