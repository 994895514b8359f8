// Metrics of several executions of one pipeline compared: one uPlot chart per
// (operation, metric), one series per execution (compare.ts shapes the data).
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Execution, KilnClient } from '@kiln/client';
import { describeError, shortId } from '../ui/format';
import { chartValues } from './chartMath';
import { ChartControls, RAW, yScale, type ChartOptions } from './ChartControls';
import { borrowCachedMetrics, compareMetrics, type CompareChart, type RunMetrics } from './compare';
import './compare.css';

const COLOURS = ['#ea580c', '#2563eb', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#ca8a04', '#475467'];

type Load = { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; charts: CompareChart[] };

/** What each execution's jobs logged (jobs that never started have no metrics). */
export async function fetchRuns(client: KilnClient, executions: readonly Execution[], signal: AbortSignal): Promise<RunMetrics[]> {
  return Promise.all(
    executions.map(async (e) => {
      const detail = await client.getExecution(e.id, signal);
      const started = detail.jobs.filter((j) => j.state !== 'pending' && j.state !== 'queued' && j.state !== 'skipped');
      const jobs = await Promise.all(
        started.map(async (j) => ({
          job: j.name,
          metrics: await client.jobMetrics(j.id, signal),
          cached: j.state === 'cached',
          ...(typeof j['cache_key'] === 'string' ? { cacheKey: j['cache_key'] } : {}),
        })),
      );
      return { execution: e.id, label: shortId(e.id), jobs };
    }),
  );
}

export function CompareMetrics({
  client,
  executions,
  runs,
}: {
  client: KilnClient;
  executions: readonly Execution[];
  /** What the executions logged when the caller has fetched it already (fetchRuns); fetched here otherwise. */
  runs?: readonly RunMetrics[];
}) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [options, setOptions] = useState<ChartOptions>(RAW);
  const ids = executions.map((e) => e.id).join(',');
  useEffect(() => {
    if (runs) {
      setLoad({ kind: 'ready', charts: compareMetrics(borrowCachedMetrics(runs)) });
      return;
    }
    const abort = new AbortController();
    setLoad({ kind: 'loading' });
    fetchRuns(client, executions, abort.signal).then(
      (runs) => !abort.signal.aborted && setLoad({ kind: 'ready', charts: compareMetrics(borrowCachedMetrics(runs)) }),
      (e: unknown) => !abort.signal.aborted && setLoad({ kind: 'error', message: describeError(e) }),
    );
    return () => abort.abort();
    // The ids say everything about the selection.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, ids, runs]);

  const colourOf = useMemo(
    () => new Map(executions.map((e, i) => [e.id, COLOURS[i % COLOURS.length]!])),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ids],
  );
  return (
    <section className="compare" data-testid="compare-metrics" aria-label="Compared metrics">
      <div className="compare-head">
        <h3>Metrics of {executions.length} executions</h3>
        <ul className="compare-legend">
          {executions.map((e) => (
            <li key={e.id}>
              <span className="compare-swatch" style={{ background: colourOf.get(e.id) }} aria-hidden="true" />
              <span className="mono">{shortId(e.id)}</span>
            </li>
          ))}
        </ul>
      </div>
      {load.kind === 'loading' && <p className="muted small">Loading metrics…</p>}
      {load.kind === 'error' && (
        <p className="state error" role="alert">
          Could not load the metrics: {load.message}
        </p>
      )}
      {load.kind === 'ready' && load.charts.length === 0 && (
        <p className="muted small">These executions logged no metrics. Operations log them with kiln.log_metric(name, value).</p>
      )}
      {load.kind === 'ready' && load.charts.length > 0 && (
        <>
          <ChartControls value={options} onChange={setOptions} />
          <div className="compare-charts">
            {load.charts.map((c) => (
              <CompareChartView key={c.key} chart={c} colourOf={colourOf} options={options} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}

function CompareChartView({
  chart,
  colourOf,
  options,
}: {
  chart: CompareChart;
  colourOf: ReadonlyMap<string, string>;
  options: ChartOptions;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current!;
    const single = chart.steps.length === 1;
    const u = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: 180,
        legend: { show: false },
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: false }, y: yScale(options) },
        axes: [
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e7ee' }, size: 28, font: '11px system-ui' },
          { stroke: '#667085', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e7ee' }, size: 52, font: '11px system-ui' },
        ],
        series: [
          { label: 'step' },
          ...chart.series.map((s) => ({
            label: s.label,
            stroke: colourOf.get(s.execution) ?? COLOURS[0]!,
            width: 1.8,
            // A single step is a point, not an (invisible) line.
            points: { show: single, size: 6 },
            spanGaps: true,
          })),
        ],
      },
      [chart.steps, ...chart.series.map((s) => chartValues(s.values, options))],
      el,
    );
    const ro = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height: 180 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [chart, colourOf, options]);
  return (
    <figure className="metric-chart compare-chart" data-testid="compare-chart" data-key={chart.key}>
      <figcaption>
        <span className="metric-name">{chart.metric}</span>
        <span className="muted small">
          {chart.job} · {chart.series.length} of {colourOf.size} executions
        </span>
      </figcaption>
      <div ref={host} className="uplot-host" />
    </figure>
  );
}
