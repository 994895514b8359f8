// Pure helpers over a job's event stream (GET jobs/{id}/events and the
// WebSocket "events" messages): merge without duplicates, and derive what the
// job panel shows — console lines, metric series, progress, figures.
import type { Execution, ExecutionDetail, Job, JobEvent, MetricSeries } from '../api';

/** Events by seq, without duplicates (REST pages and live pushes overlap). */
export function mergeEvents(a: readonly JobEvent[], b: readonly JobEvent[]): JobEvent[] {
  if (b.length === 0) return a as JobEvent[];
  const last = a.length > 0 ? a[a.length - 1]!.seq : -Infinity;
  // Fast path: strictly newer events appended in order.
  if (b.every((e, i) => e.seq > last && (i === 0 || e.seq > b[i - 1]!.seq))) return [...a, ...b];
  const bySeq = new Map<number, JobEvent>();
  for (const e of a) bySeq.set(e.seq, e);
  for (const e of b) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

export function lastSeq(events: readonly JobEvent[]): number {
  return events.length > 0 ? events[events.length - 1]!.seq : 0;
}

export interface LogLine {
  readonly seq: number;
  readonly stream: string;
  readonly line: string;
}

export function logLines(events: readonly JobEvent[]): LogLine[] {
  const out: LogLine[] = [];
  for (const e of events) {
    if (e.kind !== 'log') continue;
    const line = e.payload['line'];
    out.push({ seq: e.seq, stream: String(e.payload['stream'] ?? 'stdout'), line: typeof line === 'string' ? line : String(line ?? '') });
  }
  return out;
}

export type Series = Map<string, { steps: number[]; values: (number | null)[] }>;

/** A metric value as a plotted number: "nan"/"inf" and non-numbers become gaps. */
export function metricValue(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Metric series from the metrics endpoint plus later metric events, ordered by step. */
export function metricSeries(initial: MetricSeries, events: readonly JobEvent[]): Series {
  const points = new Map<string, Map<number, number | null>>();
  const put = (name: string, step: number, value: unknown) => {
    let m = points.get(name);
    if (!m) points.set(name, (m = new Map()));
    m.set(step, metricValue(value));
  };
  for (const [name, list] of Object.entries(initial)) for (const [step, value] of list) put(name, step, value);
  const nextStep = new Map<string, number>();
  for (const e of events) {
    if (e.kind !== 'metric') continue;
    const name = String(e.payload['name'] ?? e.name ?? 'metric');
    const m = points.get(name);
    const fallback = nextStep.get(name) ?? (m && m.size > 0 ? Math.max(...m.keys()) + 1 : 0);
    const s = e.payload['step'];
    const step = typeof s === 'number' ? s : fallback;
    nextStep.set(name, step + 1);
    put(name, step, e.payload['value']);
  }
  const out: Series = new Map();
  for (const [name, m] of [...points].sort(([a], [b]) => a.localeCompare(b))) {
    const steps = [...m.keys()].sort((a, b) => a - b);
    out.set(name, { steps, values: steps.map((s) => m.get(s)!) });
  }
  return out;
}

export interface Progress {
  readonly done: number;
  readonly total: number | null;
}

export function latestProgress(events: readonly JobEvent[]): Progress | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.kind !== 'progress') continue;
    const done = Number(e.payload['done'] ?? 0);
    const total = e.payload['total'];
    return { done, total: typeof total === 'number' && total > 0 ? total : null };
  }
  return null;
}

export type Figure = Readonly<Record<string, unknown>> & { readonly figure: string; readonly revision: number };

/** The latest revision of each figure, in order of first appearance. */
export function latestFigures(events: readonly JobEvent[]): Figure[] {
  const figs = new Map<string, Figure>();
  for (const e of events) {
    if (e.kind !== 'figure') continue;
    const id = String(e.payload['figure'] ?? e.name ?? e.seq);
    const rev = Number(e.payload['revision'] ?? 0);
    const old = figs.get(id);
    if (!old || rev >= old.revision) figs.set(id, { ...e.payload, figure: id, revision: rev });
  }
  return [...figs.values()];
}

export const FINISHED_JOB = new Set(['succeeded', 'cached', 'failed', 'skipped', 'cancelled']);
export const isJobFinished = (j: Pick<Job, 'state'>) => FINISHED_JOB.has(j.state);
export const isExecutionFinished = (e: Pick<Execution, 'state'>) => e.state !== 'running' && e.state !== 'pending' && e.state !== 'queued';

/** Folds a live job update into the execution (by job id, else appended). */
export function upsertJob(e: ExecutionDetail, job: Job): ExecutionDetail {
  const i = e.jobs.findIndex((j) => j.id === job.id);
  if (i < 0) return { ...e, jobs: [...e.jobs, job] };
  const jobs = [...e.jobs];
  jobs[i] = { ...jobs[i]!, ...job };
  return { ...e, jobs };
}
