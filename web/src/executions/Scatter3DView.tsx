// A 3-D axes of a matplotlib figure (kiln.mpl_backend's `projection: "3d"`
// chart data) drawn on a 2-D canvas: drag to rotate, wheel to zoom, hover a
// point for its values, double-click (or the button) to reset the view. The
// projection and picking math is in scatter3d.ts; this file only paints and
// handles the pointer.
import { useEffect, useMemo, useRef, useState } from 'react';
import { formatNumber } from '../artifacts/value';
import './charts.css';
import {
  basis,
  colourStops,
  cubeEdges,
  DEFAULT_VIEW,
  dragged,
  drawOrder,
  niceTicks,
  outward,
  pick,
  project,
  rangeOf,
  toCube,
  wheeled,
  type Projected,
  type Range,
  type View,
} from './scatter3d';

export interface Series3D {
  kind?: string;
  label?: string | null;
  x?: (number | null)[];
  y?: (number | null)[];
  z?: (number | null)[];
  c?: (number | null)[] | null;
  clabel?: string | null;
  clim?: (number | null)[] | null;
  color?: string | null;
  colors?: (string | null)[] | null;
  size?: number | null;
  sizes?: (number | null)[] | null;
}

export interface Axes3DSpec {
  projection: '3d';
  title?: string | null;
  xlabel?: string | null;
  ylabel?: string | null;
  zlabel?: string | null;
  xlim?: (number | null)[];
  ylim?: (number | null)[];
  zlim?: (number | null)[];
  view?: { elev?: number | null; azim?: number | null };
  series?: Series3D[];
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const W = 480;
const H = 360;
const PICK_RADIUS = 6;
const MANY_POINTS = 20_000;

interface Point {
  readonly cube: readonly [number, number, number];
  readonly colour: string;
  readonly r: number;
  readonly series: number;
  readonly index: number;
}

/** matplotlib's marker size is an area in points²: the radius in pixels, kept visible and small. */
function radius(s: number | null | undefined): number {
  const r = typeof s === 'number' && s > 0 ? Math.sqrt(s) / 2 : 2.2;
  return Math.min(8, Math.max(1.5, r));
}

export function Scatter3DView({ axes }: { axes: Axes3DSpec }) {
  const series = useMemo(() => axes.series ?? [], [axes]);
  const ranges = useMemo(() => {
    const all = (k: 'x' | 'y' | 'z') => series.flatMap((s) => s[k] ?? []);
    return [rangeOf(all('x'), axes.xlim), rangeOf(all('y'), axes.ylim), rangeOf(all('z'), axes.zlim)] as const;
  }, [series, axes]);
  const points = useMemo(() => {
    const out: Point[] = [];
    series.forEach((s, si) => {
      if (s.kind !== 'scatter3d') return;
      const fallback = s.color ?? PALETTE[si % PALETTE.length]!;
      (s.x ?? []).forEach((x, i) => {
        const y = s.y?.[i];
        const z = s.z?.[i];
        if (typeof x !== 'number' || typeof y !== 'number' || typeof z !== 'number') return;
        out.push({
          cube: [toCube(x, ranges[0]), toCube(y, ranges[1]), toCube(z, ranges[2])],
          colour: s.colors?.[i] ?? fallback,
          r: radius(s.sizes?.[i] ?? s.size),
          series: si,
          index: i,
        });
      });
    });
    return out;
  }, [series, ranges]);
  const initial: View = useMemo(
    () => ({
      azim: typeof axes.view?.azim === 'number' ? axes.view.azim : DEFAULT_VIEW.azim,
      elev: typeof axes.view?.elev === 'number' ? axes.view.elev : DEFAULT_VIEW.elev,
      zoom: 1,
    }),
    [axes],
  );
  const [view, setView] = useState<View>(initial);
  const [hover, setHover] = useState<number | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const projected = useRef<(Projected | null)[]>([]);
  const drag = useRef<{ x: number; y: number; moved: boolean } | null>(null);

  // Paint whenever the view, data or hovered point changes.
  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext('2d');
    if (!el || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    el.width = W * dpr;
    el.height = H * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const screen = { width: W, height: H };
    const b = basis(view);
    const at = (p: readonly [number, number, number]) => project(p, b, view, screen);

    ctx.strokeStyle = '#d0d5dd';
    ctx.lineWidth = 1;
    for (const [p, q] of cubeEdges()) {
      const a = at(p);
      const c = at(q);
      ctx.beginPath();
      ctx.moveTo(a.x, a.y);
      ctx.lineTo(c.x, c.y);
      ctx.stroke();
    }
    drawAxisTicks(ctx, at, ranges, [axes.xlabel, axes.ylabel, axes.zlabel]);

    series.forEach((s, si) => {
      if (s.kind !== 'line3d') return;
      ctx.strokeStyle = s.color ?? PALETTE[si % PALETTE.length]!;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      (s.x ?? []).forEach((x, i) => {
        const y = s.y?.[i];
        const z = s.z?.[i];
        if (typeof x !== 'number' || typeof y !== 'number' || typeof z !== 'number') {
          pen = false;
          return;
        }
        const p = at([toCube(x, ranges[0]), toCube(y, ranges[1]), toCube(z, ranges[2])]);
        if (pen) ctx.lineTo(p.x, p.y);
        else ctx.moveTo(p.x, p.y);
        pen = true;
      });
      ctx.stroke();
    });

    const proj = points.map((p) => at(p.cube));
    projected.current = proj;
    // Many points: squares (fillRect) keep a drag smooth where arcs would not.
    const squares = points.length > MANY_POINTS;
    ctx.globalAlpha = 0.85;
    for (const i of drawOrder(proj)) {
      const p = proj[i]!;
      const pt = points[i]!;
      ctx.fillStyle = pt.colour;
      if (squares) {
        ctx.fillRect(p.x - pt.r, p.y - pt.r, 2 * pt.r, 2 * pt.r);
        continue;
      }
      ctx.beginPath();
      ctx.arc(p.x, p.y, pt.r, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (hover !== null && proj[hover]) {
      const p = proj[hover]!;
      ctx.beginPath();
      ctx.arc(p.x, p.y, points[hover]!.r + 3, 0, 2 * Math.PI);
      ctx.strokeStyle = '#101828';
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }, [view, points, series, ranges, hover, axes]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      setView((v) => wheeled(v, e.deltaY));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, []);

  const local = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * W) / (r.width || W), y: ((e.clientY - r.top) * H) / (r.height || H) };
  };
  const hovered = hover !== null ? points[hover] : undefined;
  const hs = hovered ? series[hovered.series] : undefined;
  const hp = hover !== null ? projected.current[hover] : null;
  const colourSeries = series.find((s) => s.kind === 'scatter3d' && s.c);

  return (
    // data-azim/-elev/-zoom: the current view angles, for tests (and devtools) to
    // see a drag rotate the view without reading the canvas's pixels.
    <div
      className="scatter3d"
      data-testid="scatter3d"
      data-azim={view.azim.toFixed(1)}
      data-elev={view.elev.toFixed(1)}
      data-zoom={view.zoom.toFixed(2)}
    >
      {axes.title && <div className="axes-title scatter3d-title">{axes.title}</div>}
      <div className="scatter3d-stage">
        <canvas
          ref={canvas}
          style={{ width: '100%', maxWidth: W, aspectRatio: `${W} / ${H}` }}
          role="img"
          aria-label={`${axes.title ?? '3-D scatter plot'}: drag to rotate, scroll to zoom`}
          onPointerDown={(e) => {
            e.currentTarget.setPointerCapture(e.pointerId);
            drag.current = { ...local(e), moved: false };
          }}
          onPointerMove={(e) => {
            const p = local(e);
            const d = drag.current;
            if (d) {
              if (Math.abs(p.x - d.x) + Math.abs(p.y - d.y) > 0) {
                setView((v) => dragged(v, p.x - d.x, p.y - d.y));
                drag.current = { ...p, moved: true };
                setHover(null);
              }
              return;
            }
            setHover(pick(projected.current, p.x, p.y, PICK_RADIUS));
          }}
          onPointerUp={() => {
            drag.current = null;
          }}
          onPointerLeave={() => {
            if (!drag.current) setHover(null);
          }}
          onDoubleClick={() => setView(initial)}
        />
        {hovered && hs && hp && (
          <div
            className="scatter3d-tip"
            style={{ left: `${(100 * hp.x) / W}%`, top: `${(100 * hp.y) / H}%` }}
            data-testid="scatter3d-tip"
          >
            {hs.label && <strong>{hs.label}</strong>}
            <span>
              {axes.xlabel || 'x'} = {formatNumber(hs.x![hovered.index]!)}
            </span>
            <span>
              {axes.ylabel || 'y'} = {formatNumber(hs.y![hovered.index]!)}
            </span>
            <span>
              {axes.zlabel || 'z'} = {formatNumber(hs.z![hovered.index]!)}
            </span>
            {typeof hs.c?.[hovered.index] === 'number' && (
              <span>
                {hs.clabel || 'colour'} = {formatNumber(hs.c[hovered.index]!)}
              </span>
            )}
            <span className="muted">point {hovered.index}</span>
          </div>
        )}
      </div>
      <div className="scatter3d-foot muted small">
        <span>Drag to rotate · scroll to zoom · hover a point</span>
        {colourSeries?.c && (
          <span className="scatter3d-colour">
            {colourSeries.colors && (
              <span
                className="scatter3d-colourbar"
                style={{ background: `linear-gradient(to right, ${colourStops(colourSeries.c, colourSeries.colors).join(', ')})` }}
              />
            )}
            colour: {colourSeries.clabel || 'value'}
            {colourSeries.clim && typeof colourSeries.clim[0] === 'number' && typeof colourSeries.clim[1] === 'number'
              ? ` (${formatNumber(colourSeries.clim[0])} – ${formatNumber(colourSeries.clim[1])})`
              : ''}
          </span>
        )}
        <button type="button" className="link small" onClick={() => setView(initial)}>
          Reset view
        </button>
      </div>
    </div>
  );
}

/** Tick labels along the cube's three front-bottom edges, and each axis's name at its middle. */
function drawAxisTicks(
  ctx: CanvasRenderingContext2D,
  at: (p: readonly [number, number, number]) => Projected,
  ranges: readonly [Range, Range, Range],
  labels: readonly (string | null | undefined)[],
) {
  ctx.fillStyle = '#667085';
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  // Put each axis on the edge nearest the viewer's bottom: pick the corner
  // offsets (±1) that project lowest on screen.
  ([0, 1, 2] as const).forEach((axis) => {
    let best: [number, number, number] = [0, 0, 0];
    let bestY = -Infinity;
    for (const a of [-1, 1])
      for (const b of [-1, 1]) {
        const p: [number, number, number] = [0, 0, 0];
        const [o1, o2] = ([0, 1, 2] as const).filter((k) => k !== axis) as [0 | 1 | 2, 0 | 1 | 2];
        p[o1] = a;
        p[o2] = b;
        if (axis === 2) {
          // The vertical axis: on a left-most edge.
          const y = -at(p).x;
          if (y > bestY) [best, bestY] = [p, y];
        } else {
          const y = at(p).y;
          if (y > bestY) [best, bestY] = [p, y];
        }
      }
    // Every label of an edge moves the same way: out from the cube's centre through the edge's middle.
    const centre = at([0, 0, 0]);
    const mid = at(best);
    const shift = (px: number) => {
      const o = outward(mid, centre, px);
      return { x: o.x - mid.x, y: o.y - mid.y };
    };
    const tickShift = shift(12);
    for (const t of niceTicks(ranges[axis])) {
      const p = [...best] as [number, number, number];
      p[axis] = toCube(t, ranges[axis]);
      const q = at(p);
      ctx.fillText(formatNumber(t), q.x + tickShift.x, q.y + tickShift.y + 3);
    }
    const label = labels[axis];
    if (label) {
      const s = shift(32);
      ctx.fillStyle = '#344054';
      ctx.fillText(label, mid.x + s.x, mid.y + s.y + 3);
      ctx.fillStyle = '#667085';
    }
  });
}
