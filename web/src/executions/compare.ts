// Metrics of several executions on one chart: pure data shaping for
// ExecutionsList's "Compare metrics". Each chart is one metric of one
// operation (job name + metric name); each series is one execution. uPlot
// wants one shared x array, so the steps of all executions are merged and a
// step an execution did not log is null (a gap).
import type { Execution, MetricSeries } from '@kiln/client';

/** What one execution logged: per job (by the job's name), its metric series. */
export interface RunMetrics {
  readonly execution: string;
  /** The series' label in the legend. */
  readonly label: string;
  readonly jobs: ReadonlyArray<RunJob>;
}

export interface RunJob {
  readonly job: string;
  readonly metrics: MetricSeries;
  /** A job taken from the cache logs nothing itself: its metrics are those of the run with its cache key. */
  readonly cached?: boolean;
  readonly cacheKey?: string;
}

export interface CompareChart {
  /** Unique: `${job} · ${metric}`. */
  readonly key: string;
  readonly job: string;
  readonly metric: string;
  /** The steps, ascending, shared by every series. */
  readonly steps: number[];
  /** One entry per execution that logged this metric, in the order given. */
  readonly series: ReadonlyArray<{ readonly execution: string; readonly label: string; readonly values: (number | null)[] }>;
}

/** A metric value as a number; NaN, infinities and non-numbers are null (a gap). */
export function metricValue(v: number | string | null | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * One chart per (job, metric) that any execution logged, sorted by job then
 * metric name. A step logged twice by one execution keeps its last value.
 */
export function compareMetrics(runs: readonly RunMetrics[]): CompareChart[] {
  type Acc = { job: string; metric: string; steps: Set<number>; byRun: Map<number, Map<number, number | null>> };
  const charts = new Map<string, Acc>();
  runs.forEach((run, r) => {
    for (const { job, metrics } of run.jobs) {
      for (const [metric, points] of Object.entries(metrics)) {
        const key = `${job} · ${metric}`;
        let acc = charts.get(key);
        if (!acc) charts.set(key, (acc = { job, metric, steps: new Set(), byRun: new Map() }));
        let values = acc.byRun.get(r);
        if (!values) acc.byRun.set(r, (values = new Map()));
        for (const [step, value] of points) {
          if (typeof step !== 'number' || !Number.isFinite(step)) continue;
          acc.steps.add(step);
          values.set(step, metricValue(value));
        }
      }
    }
  });
  const out: CompareChart[] = [];
  for (const [key, acc] of charts) {
    const steps = [...acc.steps].sort((a, b) => a - b);
    const series = [...acc.byRun.entries()]
      .sort(([a], [b]) => a - b)
      .map(([r, values]) => ({
        execution: runs[r]!.execution,
        label: runs[r]!.label,
        values: steps.map((s) => (values.has(s) ? values.get(s)! : null)),
      }));
    out.push({ key, job: acc.job, metric: acc.metric, steps, series });
  }
  return out.sort((a, b) => a.job.localeCompare(b.job) || a.metric.localeCompare(b.metric));
}

/**
 * Whether `candidate` may join the selection: only executions of one
 * pipeline are compared (the first one ticked decides).
 */
export function canSelect(selected: readonly Execution[], candidate: Execution): boolean {
  return selected.length === 0 || selected.every((e) => e.pipeline === candidate.pipeline);
}

/**
 * Cached jobs logged nothing themselves: give each the metrics of a job with
 * the same cache key among `runs` that did run (when the selection has one).
 */
export function borrowCachedMetrics(runs: readonly RunMetrics[]): RunMetrics[] {
  const ran = new Map<string, MetricSeries>();
  for (const run of runs)
    for (const j of run.jobs)
      if (!j.cached && j.cacheKey && Object.keys(j.metrics).length > 0 && !ran.has(j.cacheKey)) ran.set(j.cacheKey, j.metrics);
  return runs.map((run) => ({
    ...run,
    jobs: run.jobs.map((j) =>
      j.cached && j.cacheKey && Object.keys(j.metrics).length === 0 && ran.has(j.cacheKey) ? { ...j, metrics: ran.get(j.cacheKey)! } : j,
    ),
  }));
}
