// Figures from kiln.mpl_backend: "png" (an image) or "chart" (axes with line
// and scatter series, drawn here as SVG so they stay sharp and small; 3-D
// axes as an interactive canvas, Scatter3DView).
import type { Figure } from './events';
import { Scatter3DView, type Axes3DSpec } from './Scatter3DView';

interface SeriesSpec {
  kind?: string;
  label?: string;
  x?: (number | null)[];
  y?: (number | null)[];
  color?: string;
  colors?: string[];
}

interface AxesSpec {
  projection?: string;
  title?: string;
  xlabel?: string;
  ylabel?: string;
  xlim?: [number, number];
  ylim?: [number, number];
  series?: SeriesSpec[];
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

export function FigureView({ figure }: { figure: Figure }) {
  const name = String(figure['name'] ?? `Figure ${figure.figure}`);
  if (figure['format'] === 'png' && typeof figure['png'] === 'string')
    return (
      <figure className="job-figure">
        <img src={`data:image/png;base64,${figure['png']}`} alt={name} />
        <figcaption>{name}</figcaption>
      </figure>
    );
  if (figure['format'] === 'chart' && Array.isArray(figure['axes'])) {
    const axes = figure['axes'] as AxesSpec[];
    return (
      <figure className="job-figure">
        {typeof figure['title'] === 'string' && figure['title'] && <div className="figure-title">{figure['title']}</div>}
        {axes.map((a, i) =>
          a.projection === '3d' ? <Scatter3DView key={i} axes={a as unknown as Axes3DSpec} /> : <AxesView key={i} axes={a} />,
        )}
        <figcaption>{name}</figcaption>
      </figure>
    );
  }
  return (
    <figure className="job-figure">
      <p className="muted small">This figure's format ({String(figure['format'] ?? 'unknown')}) cannot be shown here.</p>
      <figcaption>{name}</figcaption>
    </figure>
  );
}

function finite(v: (number | null)[] | undefined): number[] {
  return (v ?? []).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
}

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(10)));
  return out;
}

function AxesView({ axes }: { axes: AxesSpec }) {
  const W = 400;
  const H = 240;
  const m = { l: 50, r: 12, t: axes.title ? 24 : 10, b: axes.xlabel ? 40 : 26 };
  const series = axes.series ?? [];
  const xs = series.flatMap((s) => finite(s.x));
  const ys = series.flatMap((s) => finite(s.y));
  let [x0, x1] = axes.xlim ?? [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = axes.ylim ?? [Math.min(...ys), Math.max(...ys)];
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) [x0, x1] = [0, 1];
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4))));
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="axes" role="img" aria-label={axes.title ?? 'chart'}>
      {axes.title && (
        <text x={W / 2} y={15} textAnchor="middle" className="axes-title">
          {axes.title}
        </text>
      )}
      {ticks(y0, y1).map((t) => (
        <g key={`y${t}`}>
          <line x1={m.l} x2={W - m.r} y1={sy(t)} y2={sy(t)} stroke="#eef0f4" />
          <text x={m.l - 6} y={sy(t) + 3} textAnchor="end" className="tick">
            {fmt(t)}
          </text>
        </g>
      ))}
      {ticks(x0, x1).map((t) => (
        <text key={`x${t}`} x={sx(t)} y={H - m.b + 14} textAnchor="middle" className="tick">
          {fmt(t)}
        </text>
      ))}
      <rect x={m.l} y={m.t} width={W - m.l - m.r} height={H - m.t - m.b} fill="none" stroke="#d0d5dd" />
      {series.map((s, i) => {
        const colour = s.color ?? PALETTE[i % PALETTE.length]!;
        const pts = (s.x ?? []).map((x, j) => [x, s.y?.[j] ?? null] as const);
        if (s.kind === 'scatter')
          return (
            <g key={i}>
              {pts.map(([x, y], j) =>
                x === null || y === null ? null : <circle key={j} cx={sx(x)} cy={sy(y)} r={2.5} fill={s.colors?.[j] ?? colour} />,
              )}
            </g>
          );
        const d: string[] = [];
        let pen = false;
        for (const [x, y] of pts) {
          if (x === null || y === null) {
            pen = false;
            continue;
          }
          d.push(`${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
          pen = true;
        }
        return <path key={i} d={d.join('')} fill="none" stroke={colour} strokeWidth={1.8} />;
      })}
      {axes.xlabel && (
        <text x={(m.l + W - m.r) / 2} y={H - 6} textAnchor="middle" className="axes-label">
          {axes.xlabel}
        </text>
      )}
      {axes.ylabel && (
        <text x={12} y={(m.t + H - m.b) / 2} textAnchor="middle" className="axes-label" transform={`rotate(-90 12 ${(m.t + H - m.b) / 2})`}>
          {axes.ylabel}
        </text>
      )}
    </svg>
  );
}
