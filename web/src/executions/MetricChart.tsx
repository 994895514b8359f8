// One live line chart per metric (uPlot). New points update the chart in
// place (setData) instead of rebuilding it; a metric with a single value is
// shown as a number.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Series } from './events';

const COLOURS = ['#ea580c', '#2563eb', '#16a34a', '#9333ea', '#db2777', '#0891b2'];

export function MetricCharts({ series }: { series: Series }) {
  if (series.size === 0) return <p className="muted small pad">No metrics yet. Operations log them with kiln.log_metric(name, value).</p>;
  return (
    <div className="metric-charts" data-testid="metrics">
      {[...series].map(([name, s], i) =>
        s.steps.length === 1 ? (
          <div key={name} className="metric-single">
            <span className="metric-name">{name}</span>
            <span className="metric-value">{formatValue(s.values[0] ?? null)}</span>
          </div>
        ) : (
          <MetricChart key={name} name={name} steps={s.steps} values={s.values} colour={COLOURS[i % COLOURS.length]!} />
        ),
      )}
    </div>
  );
}

function formatValue(v: number | null): string {
  if (v === null) return 'NaN';
  if (Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function MetricChart({ name, steps, values, colour }: { name: string; steps: number[]; values: (number | null)[]; colour: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current!;
    const width = Math.max(200, el.clientWidth);
    const u = new uPlot(
      {
        width,
        height: 150,
        legend: { show: false },
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: false } },
        axes: [
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e7ee' }, size: 28, font: '11px system-ui' },
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e7ee' }, size: 48, font: '11px system-ui' },
        ],
        series: [{ label: 'step' }, { label: name, stroke: colour, width: 1.8, fill: `${colour}14`, points: { show: false }, spanGaps: false }],
      },
      [steps, values],
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height: 150 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Created once; data updates below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name, colour]);

  useEffect(() => {
    plot.current?.setData([steps, values]);
  }, [steps, values]);

  const last = values[values.length - 1] ?? null;
  return (
    <figure className="metric-chart">
      <figcaption>
        <span className="metric-name">{name}</span>
        <span className="muted small">
          {steps.length} points · last {formatValue(last)}
        </span>
      </figcaption>
      <div ref={host} className="uplot-host" />
    </figure>
  );
}
