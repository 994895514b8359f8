// The parallel-coordinates plot of trials (SVG): one axis per parameter and
// per chosen metric, one polyline per trial coloured by the objective metric
// (orange best … blue worst). Dragging along an axis brushes it: only the
// trials inside every brush stay bright; a click on an axis clears its brush.
// Geometry is parallel.ts; this draws and turns mouse drags into brushes.
import { useMemo, useRef, useState } from 'react';
import { axisTicks, axisX, buildAxes, fractionY, insideBrushes, polyline, rowColour, yFraction, type AxisSpec, type Brushes, type Layout } from './parallel';
import type { Objective, TrialRow } from './trials';

const LAYOUT: Omit<Layout, 'width'> = { height: 260, padTop: 34, padBottom: 22, padX: 70 };

export function ParallelCoordinates({
  rows,
  specs,
  objective,
  best,
  onOpen,
  onBrush,
}: {
  rows: readonly TrialRow[];
  specs: readonly AxisSpec[];
  objective: Objective | null;
  best: string | null;
  onOpen?: (execution: string) => void;
  /** The executions inside every brush (all when none), each time the brushes change. */
  onBrush?: (inside: ReadonlySet<string>) => void;
}) {
  const axes = useMemo(() => buildAxes(rows, specs), [rows, specs]);
  // Labels are centred on their axes: the side padding and the spacing
  // leave room for the longest ("TrainValidate.learning_rate"), about 7 px a character.
  const labelWidth = Math.max(0, ...axes.map((a) => a.label.length)) * 7;
  const padX = Math.max(LAYOUT.padX, Math.ceil(labelWidth / 2) + 8);
  const width = Math.max(480, specs.length * Math.max(170, labelWidth + 16) + 2 * (padX - LAYOUT.padX));
  const layout: Layout = { ...LAYOUT, padX, width };
  const [brushes, setBrushes] = useState<Brushes>(new Map());
  const drag = useRef<{ key: string; from: number } | null>(null);
  const svg = useRef<SVGSVGElement>(null);

  const values = objective ? rows.map((r) => r.metrics[objective.metric]).filter((v): v is number => v !== undefined) : [];
  const [lo, hi] = values.length ? [Math.min(...values), Math.max(...values)] : [0, 0];
  const colour = (r: TrialRow) => rowColour(objective ? r.metrics[objective.metric] : undefined, lo, hi, objective?.direction !== 'max');

  const setBrush = (next: Brushes) => {
    setBrushes(next);
    onBrush?.(new Set(rows.filter((r) => insideBrushes(r, axes, next)).map((r) => r.execution)));
  };
  const yOf = (e: React.PointerEvent) => {
    const box = svg.current!.getBoundingClientRect();
    return ((e.clientY - box.top) * layout.height) / box.height;
  };

  // The best trial is drawn last, on top.
  const order = [...rows].sort((a, b) => Number(a.execution === best) - Number(b.execution === best));
  return (
    <div className="parcoords" data-testid="parcoords">
      <svg
        ref={svg}
        viewBox={`0 0 ${width} ${layout.height}`}
        width={width}
        height={layout.height}
        role="img"
        aria-label={`Parallel coordinates of ${rows.length} trials`}
        onPointerMove={(e) => {
          const d = drag.current;
          if (!d) return;
          setBrush(new Map(brushes).set(d.key, [d.from, yFraction(layout, yOf(e))]));
        }}
        onPointerUp={() => (drag.current = null)}
        onPointerLeave={() => (drag.current = null)}
      >
        {order.map((r) => {
          const inside = insideBrushes(r, axes, brushes);
          return polyline(r, axes, layout).map((run, i) => (
            <polyline
              key={`${r.execution}-${i}`}
              points={run.map(([x, y]) => `${x},${y}`).join(' ')}
              fill="none"
              stroke={inside ? colour(r) : '#d0d5dd'}
              strokeWidth={r.execution === best ? 3.5 : 1.8}
              strokeOpacity={inside ? 0.9 : 0.35}
              className="parcoords-line"
              data-execution={r.execution}
              onClick={() => onOpen?.(r.execution)}
            >
              <title>
                {r.label}
                {objective && r.metrics[objective.metric] !== undefined ? ` · ${objective.metric} ${r.metrics[objective.metric]}` : ''}
              </title>
            </polyline>
          ));
        })}
        {axes.map((a, i) => {
          const x = axisX(layout, axes.length, i);
          const b = brushes.get(a.key);
          return (
            <g key={a.key} className="parcoords-axis" data-key={a.key}>
              <text x={x} y={14} textAnchor="middle" className="parcoords-label">
                {a.label}
              </text>
              <line x1={x} x2={x} y1={fractionY(layout, 1)} y2={fractionY(layout, 0)} stroke="#667085" />
              {axisTicks(a).map((t) => (
                <text key={t.text} x={x + 6} y={fractionY(layout, t.f) + 4} className="parcoords-tick">
                  {t.text}
                </text>
              ))}
              {b && (
                <rect
                  x={x - 7}
                  width={14}
                  y={fractionY(layout, Math.max(b[0], b[1]))}
                  height={Math.abs(fractionY(layout, b[0]) - fractionY(layout, b[1]))}
                  className="parcoords-brush"
                />
              )}
              {/* A wide invisible strip to grab: drag to brush, click to clear. */}
              <rect
                x={x - 12}
                width={24}
                y={fractionY(layout, 1)}
                height={fractionY(layout, 0) - fractionY(layout, 1)}
                fill="transparent"
                style={{ cursor: 'ns-resize' }}
                onPointerDown={(e) => {
                  const f = yFraction(layout, yOf(e));
                  drag.current = { key: a.key, from: f };
                  const next = new Map(brushes);
                  next.delete(a.key);
                  setBrush(next);
                }}
              >
                <title>Drag to keep only the trials in a range; click to clear</title>
              </rect>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
