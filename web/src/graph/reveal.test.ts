import { describe, expect, it } from 'vitest';
import { revealShift, visibleArea } from './reveal';

const canvas = { left: 0, top: 0, right: 1000, bottom: 600 };
const inspector = { left: 688, top: 12, right: 988, bottom: 588 };

describe('visibleArea', () => {
  it('is the canvas left of the inspector, with a margin', () => {
    expect(visibleArea(canvas, inspector)).toEqual({ left: 16, top: 16, right: 672, bottom: 584 });
    expect(visibleArea(canvas, null)).toEqual({ left: 16, top: 16, right: 984, bottom: 584 });
  });
});

describe('revealShift', () => {
  const area = visibleArea(canvas, inspector);

  it('leaves a node that is already in sight', () => {
    expect(revealShift({ left: 100, top: 100, right: 320, bottom: 200 }, area)).toBeNull();
  });

  it('pans a node under the inspector to its left', () => {
    expect(revealShift({ left: 700, top: 100, right: 920, bottom: 200 }, area)).toEqual({ dx: -248, dy: 0 });
  });

  it('pans a node above or left of the canvas back in', () => {
    expect(revealShift({ left: -50, top: -30, right: 170, bottom: 70 }, area)).toEqual({ dx: 66, dy: 46 });
  });

  it('centres a node too big to fit', () => {
    expect(revealShift({ left: 0, top: 100, right: 800, bottom: 200 }, area)).toEqual({ dx: -56, dy: 0 });
  });
});
