// The math of the 3-D scatter view (Scatter3DView.tsx): fitting the data in a
// unit cube, a camera turned by azimuth and elevation (matplotlib's angles:
// z is up, azimuth about z, elevation above the x-y plane) with perspective,
// projecting points to the canvas, drawing order, picking the point under the
// mouse, and what dragging and the wheel do to the view. No DOM: tested alone.

export interface View {
  /** Degrees about the z axis (matplotlib's `azim`, default -60). */
  readonly azim: number;
  /** Degrees above the x-y plane (matplotlib's `elev`, default 30), within [-90, 90]. */
  readonly elev: number;
  /** 1 fits the cube in the canvas; more is closer. */
  readonly zoom: number;
}

export const DEFAULT_VIEW: View = { azim: -60, elev: 30, zoom: 1 };

/** The camera's distance from the cube's centre, in cube half-widths: the perspective's strength. */
export const CAMERA_DISTANCE = 5;
export const MIN_ZOOM = 0.25;
export const MAX_ZOOM = 20;

export type Range = readonly [number, number];

/** A finite range of the values (the given limits when finite and not empty); never of zero width. */
export function rangeOf(values: readonly (number | null | undefined)[], lim?: readonly (number | null)[] | null): Range {
  const a = lim?.[0];
  const b = lim?.[1];
  if (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b) && a !== b)
    return a < b ? [a, b] : [b, a];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values)
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** A value of the range as a cube coordinate in [-1, 1]. */
export function toCube(v: number, [lo, hi]: Range): number {
  return ((v - lo) / (hi - lo)) * 2 - 1;
}

export interface Basis {
  /** Towards the camera. */
  readonly eye: readonly [number, number, number];
  /** Screen right. */
  readonly right: readonly [number, number, number];
  /** Screen up. */
  readonly up: readonly [number, number, number];
}

const RAD = Math.PI / 180;

/** The camera's axes for a view: eye = (cos e cos a, cos e sin a, sin e), right = (-sin a, cos a, 0), up = eye × right. */
export function basis(view: Pick<View, 'azim' | 'elev'>): Basis {
  const a = view.azim * RAD;
  const e = view.elev * RAD;
  const eye = [Math.cos(e) * Math.cos(a), Math.cos(e) * Math.sin(a), Math.sin(e)] as const;
  const right = [-Math.sin(a), Math.cos(a), 0] as const;
  const up = [
    eye[1] * right[2] - eye[2] * right[1],
    eye[2] * right[0] - eye[0] * right[2],
    eye[0] * right[1] - eye[1] * right[0],
  ] as const;
  return { eye, right, up };
}

export interface Projected {
  /** Canvas pixels, y down. */
  readonly x: number;
  readonly y: number;
  /** Towards the camera: larger is nearer. */
  readonly depth: number;
}

export interface Screen {
  readonly width: number;
  readonly height: number;
}

/** A cube point [-1, 1]³ on the canvas, with perspective. */
export function project(p: readonly [number, number, number], b: Basis, view: View, screen: Screen): Projected {
  const sx = p[0] * b.right[0] + p[1] * b.right[1] + p[2] * b.right[2];
  const sy = p[0] * b.up[0] + p[1] * b.up[1] + p[2] * b.up[2];
  const depth = p[0] * b.eye[0] + p[1] * b.eye[1] + p[2] * b.eye[2];
  // The cube's corners reach √3 from the centre: scale so it fits at zoom 1.
  const perspective = (CAMERA_DISTANCE - Math.sqrt(3)) / (CAMERA_DISTANCE - depth);
  const s = (Math.min(screen.width, screen.height) / 2 / Math.sqrt(3)) * view.zoom * perspective;
  return { x: screen.width / 2 + sx * s, y: screen.height / 2 - sy * s, depth };
}

/** Indices of the projected points far to near, so nearer points are painted over farther ones. */
export function drawOrder(points: readonly (Projected | null)[]): number[] {
  const idx: number[] = [];
  points.forEach((p, i) => p && idx.push(i));
  return idx.sort((i, j) => points[i]!.depth - points[j]!.depth);
}

/**
 * The point under (x, y): the nearest on screen within `radius` pixels; of
 * points equally near, the one nearer the camera (the one drawn on top).
 */
export function pick(points: readonly (Projected | null)[], x: number, y: number, radius: number): number | null {
  let best: number | null = null;
  let bestD = radius * radius;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!p) continue;
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d < bestD || (d === bestD && best !== null && p.depth > points[best]!.depth)) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

/** The view after dragging by (dx, dy) pixels: right turns the cube with the mouse, up tilts it; elevation stays in [-90, 90]. */
export function dragged(view: View, dx: number, dy: number, degreesPerPixel = 0.5): View {
  const azim = ((((view.azim - dx * degreesPerPixel + 180) % 360) + 360) % 360) - 180;
  const elev = Math.min(90, Math.max(-90, view.elev + dy * degreesPerPixel));
  return { ...view, azim, elev };
}

/** The view after a wheel turn of `deltaY` (negative: towards the user, zoom in), within [MIN_ZOOM, MAX_ZOOM]. */
export function wheeled(view: View, deltaY: number): View {
  const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.zoom * Math.exp(-deltaY * 0.0015)));
  return { ...view, zoom };
}

/** The 12 edges of the cube [-1, 1]³ as pairs of corners. */
export function cubeEdges(): [readonly [number, number, number], readonly [number, number, number]][] {
  const out: [readonly [number, number, number], readonly [number, number, number]][] = [];
  for (const axis of [0, 1, 2] as const)
    for (const a of [-1, 1])
      for (const b of [-1, 1]) {
        const from = [0, 0, 0] as [number, number, number];
        const to = [0, 0, 0] as [number, number, number];
        const [o1, o2] = ([0, 1, 2] as const).filter((k) => k !== axis) as [0 | 1 | 2, 0 | 1 | 2];
        from[axis] = -1;
        to[axis] = 1;
        from[o1] = to[o1] = a;
        from[o2] = to[o2] = b;
        out.push([from, to]);
      }
  return out;
}

/** Round tick values inside the range, about n of them. */
export function niceTicks([lo, hi]: Range, n = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(10)));
  return out;
}

/** `p` moved `px` pixels further from `centre` (tick and axis labels sit outside the cube). */
export function outward(p: { x: number; y: number }, centre: { x: number; y: number }, px: number): { x: number; y: number } {
  const dx = p.x - centre.x;
  const dy = p.y - centre.y;
  const len = Math.hypot(dx, dy);
  if (len === 0) return { x: p.x, y: p.y + px };
  return { x: p.x + (dx / len) * px, y: p.y + (dy / len) * px };
}

/**
 * The stops of a colour bar for a colour-mapped series: for `n` values evenly
 * spaced from the smallest to the largest, the colour of the point whose value
 * is nearest (points without a value or a colour are left out).
 */
export function colourStops(values: readonly (number | null)[], colours: readonly (string | null)[], n = 12): string[] {
  const pairs = values
    .map((v, i) => [v, colours[i]] as const)
    .filter((p): p is readonly [number, string] => typeof p[0] === 'number' && Number.isFinite(p[0]) && typeof p[1] === 'string')
    .sort((a, b) => a[0] - b[0]);
  if (pairs.length <= 1) return pairs.map((p) => p[1]);
  const lo = pairs[0]![0];
  const hi = pairs[pairs.length - 1]![0];
  return Array.from({ length: n }, (_, k) => {
    const target = lo + ((hi - lo) * k) / (n - 1);
    // The first pair at or above the target, or the one before it when that is nearer.
    let a = 0;
    let b = pairs.length - 1;
    while (a < b) {
      const m = (a + b) >> 1;
      if (pairs[m]![0] < target) a = m + 1;
      else b = m;
    }
    const before = pairs[Math.max(0, a - 1)]!;
    return (target - before[0] <= pairs[a]![0] - target ? before : pairs[a]!)[1];
  });
}
