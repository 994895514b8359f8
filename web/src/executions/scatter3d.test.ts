import { describe, expect, it } from 'vitest';
import {
  basis,
  colourStops,
  cubeEdges,
  DEFAULT_VIEW,
  dragged,
  drawOrder,
  MAX_ZOOM,
  MIN_ZOOM,
  niceTicks,
  outward,
  pick,
  project,
  rangeOf,
  toCube,
  wheeled,
  type Projected,
} from './scatter3d';

const screen = { width: 400, height: 300 };

describe('fitting data in the cube', () => {
  it('uses finite limits when given, else the finite data range, never a zero width', () => {
    expect(rangeOf([1, 2, 3], [0, 10])).toEqual([0, 10]);
    expect(rangeOf([1, 2, 3], [10, 0])).toEqual([0, 10]);
    expect(rangeOf([3, null, -1, NaN, 2])).toEqual([-1, 3]);
    expect(rangeOf([5, 5])).toEqual([4.5, 5.5]);
    expect(rangeOf([])).toEqual([0, 1]);
    expect(rangeOf([1, 2], [null, 3])).toEqual([1, 2]);
  });
  it('maps a range onto [-1, 1]', () => {
    expect(toCube(0, [0, 10])).toBe(-1);
    expect(toCube(5, [0, 10])).toBe(0);
    expect(toCube(10, [0, 10])).toBe(1);
  });
});

describe('the camera', () => {
  it('is an orthonormal basis with z up on screen at elevation 0', () => {
    for (const v of [DEFAULT_VIEW, { azim: 123, elev: -40 }, { azim: 0, elev: 0 }]) {
      const { eye, right, up } = basis(v);
      const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
      for (const [a, b] of [[eye, right], [eye, up], [right, up]] as const) expect(dot(a, b)).toBeCloseTo(0, 12);
      for (const a of [eye, right, up]) expect(dot(a, a)).toBeCloseTo(1, 12);
    }
    const b = basis({ azim: 0, elev: 0 });
    expect(b.eye).toEqual([1, 0, 0]); // looking from +x
    expect(b.up[2]).toBeCloseTo(1, 12); // z up
    expect(b.right[1]).toBeCloseTo(1, 12); // +y to the right
  });

  it('projects the centre to the middle, up to up, and nearer points bigger', () => {
    const v = { azim: 0, elev: 0, zoom: 1 };
    const b = basis(v);
    const c = project([0, 0, 0], b, v, screen);
    expect([c.x, c.y]).toEqual([200, 150]);
    const top = project([0, 0, 1], b, v, screen);
    expect(top.x).toBeCloseTo(200, 9);
    expect(top.y).toBeLessThan(150); // canvas y grows downwards
    const right = project([0, 1, 0], b, v, screen);
    expect(right.x).toBeGreaterThan(200);
    // Perspective: the same offset looks larger nearer the camera (+x here).
    const near = project([1, 1, 0], b, v, screen);
    const far = project([-1, 1, 0], b, v, screen);
    expect(near.depth).toBeGreaterThan(far.depth);
    expect(near.x - 200).toBeGreaterThan(far.x - 200);
  });

  it('keeps the whole cube inside the canvas at zoom 1 from any angle', () => {
    for (let azim = -180; azim < 180; azim += 37)
      for (let elev = -90; elev <= 90; elev += 30) {
        const v = { azim, elev, zoom: 1 };
        const b = basis(v);
        for (const [p] of cubeEdges()) {
          const q = project(p, b, v, screen);
          expect(q.x).toBeGreaterThanOrEqual(0);
          expect(q.x).toBeLessThanOrEqual(screen.width);
          expect(q.y).toBeGreaterThanOrEqual(0);
          expect(q.y).toBeLessThanOrEqual(screen.height);
        }
      }
  });

  it('zoom scales distances from the centre', () => {
    const v1 = { azim: 30, elev: 20, zoom: 1 };
    const v2 = { ...v1, zoom: 2 };
    const b = basis(v1);
    const p1 = project([0.3, -0.2, 0.5], b, v1, screen);
    const p2 = project([0.3, -0.2, 0.5], b, v2, screen);
    expect(p2.x - 200).toBeCloseTo(2 * (p1.x - 200), 9);
    expect(p2.y - 150).toBeCloseTo(2 * (p1.y - 150), 9);
  });
});

describe('drawing order and picking', () => {
  const pts: (Projected | null)[] = [
    { x: 10, y: 10, depth: 0.5 },
    null,
    { x: 12, y: 10, depth: -0.2 },
    { x: 100, y: 100, depth: 0.9 },
    { x: 12, y: 10, depth: 0.7 },
  ];
  it('paints far to near and skips missing points', () => {
    expect(drawOrder(pts)).toEqual([2, 0, 4, 3]);
  });
  it('picks the nearest on screen within the radius, the one on top on ties', () => {
    expect(pick(pts, 10, 11, 5)).toBe(0);
    expect(pick(pts, 12.5, 10, 5)).toBe(4); // 2 and 4 coincide: 4 is nearer the camera
    expect(pick(pts, 50, 50, 5)).toBeNull();
    expect(pick(pts, 99, 99, 5)).toBe(3);
  });
});

describe('interaction', () => {
  it('drags turn the azimuth (wrapping) and tilt the elevation (clamped)', () => {
    const v = dragged(DEFAULT_VIEW, 20, -10);
    expect(v.azim).toBe(-70);
    expect(v.elev).toBe(25);
    expect(dragged({ ...DEFAULT_VIEW, azim: -170 }, 40, 0).azim).toBe(170);
    expect(dragged(DEFAULT_VIEW, 0, 1000).elev).toBe(90);
    expect(dragged(DEFAULT_VIEW, 0, -1000).elev).toBe(-90);
    expect(v.zoom).toBe(1);
  });
  it('the wheel zooms in towards the user and stays in bounds', () => {
    expect(wheeled(DEFAULT_VIEW, -100).zoom).toBeGreaterThan(1);
    expect(wheeled(DEFAULT_VIEW, 100).zoom).toBeLessThan(1);
    expect(wheeled(DEFAULT_VIEW, -1e6).zoom).toBe(MAX_ZOOM);
    expect(wheeled(DEFAULT_VIEW, 1e6).zoom).toBe(MIN_ZOOM);
  });
});

describe('cube edges and ticks', () => {
  it('has 12 edges of length 2 along one axis each', () => {
    const edges = cubeEdges();
    expect(edges).toHaveLength(12);
    for (const [a, b] of edges) {
      const diff = a.map((x, i) => b[i]! - x);
      expect(diff.filter((d) => d !== 0)).toEqual([2]);
    }
    expect(new Set(edges.map(([a, b]) => JSON.stringify([a, b]))).size).toBe(12);
  });
  it('ticks are round and inside the range', () => {
    expect(niceTicks([0, 1])).toEqual([0, 0.5, 1]);
    expect(niceTicks([0.013, 0.091], 4)).toEqual([0.02, 0.04, 0.06, 0.08]);
    expect(niceTicks([-3, 7], 5)).toEqual([-2, 0, 2, 4, 6]);
  });
});

describe('labels and the colour bar', () => {
  it('moves a label away from the centre by the given pixels', () => {
    expect(outward({ x: 13, y: 14 }, { x: 10, y: 10 }, 10)).toEqual({ x: 19, y: 22 });
    expect(outward({ x: 10, y: 10 }, { x: 10, y: 10 }, 5)).toEqual({ x: 10, y: 15 });
  });
  it('colour stops are evenly spaced in value, each the nearest point’s colour', () => {
    const values = Array.from({ length: 101 }, (_, i) => 100 - i);
    const colours = values.map((v) => `#${v}`);
    expect(colourStops(values, colours, 3)).toEqual(['#0', '#50', '#100']);
    // Skewed values: the bar follows the value scale, not the ranks.
    expect(colourStops([0, 0, 0, 0, 1, null], ['#a', '#a', '#a', '#a', '#b', '#x'], 3)).toEqual(['#a', '#a', '#b']);
    expect(colourStops([0, 0.9, 1], ['#a', '#c', '#b'], 3)).toEqual(['#a', '#c', '#b']);
    expect(colourStops([1, 2], [null, '#b'])).toEqual(['#b']);
  });
});
