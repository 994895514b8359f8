// One live line chart per metric (uPlot). New points update the chart in
// place (setData) instead of rebuilding it; a metric with a single value is
// shown as a number. A log y axis and smoothing apply to every chart of the
// job at once; with smoothing on, the raw values stay as a faint line.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { chartValues } from './chartMath';
import { ChartControls, RAW, yScale, type ChartOptions } from './ChartControls';
import type { Series } from './events';

const COLOURS = ['#ea580c', '#2563eb', '#16a34a', '#9333ea', '#db2777', '#0891b2'];

export function MetricCharts({ series }: { series: Series }) {
  const [options, setOptions] = useState<ChartOptions>(RAW);
  if (series.size === 0) return <p className="muted small pad">No metrics yet. Operations log them with kiln.log_metric(name, value).</p>;
  const charts = [...series].some(([, s]) => s.steps.length > 1);
  return (
    <div className="metric-charts" data-testid="metrics">
      {charts && <ChartControls value={options} onChange={setOptions} />}
      {[...series].map(([name, s], i) =>
        s.steps.length === 1 ? (
          <div key={name} className="metric-single">
            <span className="metric-name">{name}</span>
            <span className="metric-value">{formatValue(s.values[0] ?? null)}</span>
          </div>
        ) : (
          <MetricChart
            key={name}
            name={name}
            steps={s.steps}
            values={s.values}
            colour={COLOURS[i % COLOURS.length]!}
            options={options}
          />
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

function MetricChart({
  name,
  steps,
  values,
  colour,
  options,
}: {
  name: string;
  steps: number[];
  values: (number | null)[];
  colour: string;
  options: ChartOptions;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const smoothed = options.smoothing > 0;
  // Raw first (faint when smoothed), then the smoothed line on top.
  const data = (): uPlot.AlignedData =>
    smoothed
      ? [steps, chartValues(values, { smoothing: 0, log: options.log }), chartValues(values, options)]
      : [steps, chartValues(values, options)];

  useEffect(() => {
    const el = host.current!;
    const width = Math.max(200, el.clientWidth);
    const u = new uPlot(
      {
        width,
        height: 150,
        legend: { show: false },
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: false }, y: yScale(options) },
        axes: [
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e7ee' }, size: 28, font: '11px system-ui' },
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e7ee' }, size: 48, font: '11px system-ui' },
        ],
        series: [
          { label: 'step' },
          smoothed
            ? { label: `${name} (raw)`, stroke: `${colour}40`, width: 1, points: { show: false }, spanGaps: false }
            : { label: name, stroke: colour, width: 1.8, fill: `${colour}14`, points: { show: false }, spanGaps: false },
          ...(smoothed ? [{ label: name, stroke: colour, width: 1.8, points: { show: false }, spanGaps: true }] : []),
        ],
      },
      data(),
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
    // Created again only when the axis or the number of lines changes; data updates below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name, colour, options.log, smoothed]);

  useEffect(() => {
    plot.current?.setData(data());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [steps, values, options.smoothing, options.log]);

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
