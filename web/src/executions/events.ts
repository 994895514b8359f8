// Pure helpers over a job's event stream (GET jobs/{id}/events and the
// WebSocket "events" messages): merge without duplicates, and derive what the
// job panel shows — console lines, metric series, progress, figures.
import type { Execution, ExecutionDetail, Job, JobEvent, MetricSeries } from '@kiln/client';

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

// ---- one ordered view of an execution ----
//
// Updates reach the execution view by two paths: WebSocket pushes (job and
// execution records, in the order they happened) and REST snapshots (the
// first load, the polling fallback, a resync). A REST answer can be older than
// pushes already applied: it was read before them and arrived after. Applied
// as is, it moved a finished job back to "running" while the execution's own
// record (pushed later) said "succeeded": the header counted a job finished
// that its node showed running (issue 10, browser scenario d_execution).
// Every record is therefore merged by progress: a job or an execution never
// moves back to an earlier state, and the header is derived from the same
// merged jobs as the nodes (executionSummary).

const JOB_RANK: Readonly<Record<string, number>> = { pending: 0, queued: 1, running: 2 };
/** How far a job has got: pending 0, queued 1, running 2, any end state 3. */
export const jobRank = (state: string) => JOB_RANK[state] ?? (FINISHED_JOB.has(state) ? 3 : 0);
const execRank = (e: Pick<Execution, 'state'>) => (isExecutionFinished(e) ? 1 : 0);

/** The newer of two records of one job: never back to an earlier state. */
export function mergeJob(cur: Job, next: Job): Job {
  return jobRank(next.state) < jobRank(cur.state) ? cur : { ...cur, ...next };
}

/** Folds a live job update into the execution (by job id, else appended). */
export function upsertJob(e: ExecutionDetail, job: Job): ExecutionDetail {
  const i = e.jobs.findIndex((j) => j.id === job.id);
  if (i < 0) return { ...e, jobs: [...e.jobs, job] };
  const merged = mergeJob(e.jobs[i]!, job);
  if (merged === e.jobs[i]) return e;
  const jobs = [...e.jobs];
  jobs[i] = merged;
  return { ...e, jobs };
}

/** Folds an execution record (without jobs) in: a finished one stays finished. */
export function mergeExecutionRecord(cur: ExecutionDetail, next: Execution): ExecutionDetail {
  if (execRank(next) < execRank(cur)) return cur;
  return { ...cur, ...next, jobs: cur.jobs };
}

/** Folds a REST snapshot in: each job and the execution by progress, none goes back. */
export function mergeExecutionDetail(cur: ExecutionDetail | null, next: ExecutionDetail): ExecutionDetail {
  if (!cur || cur.id !== next.id) return next;
  const old = new Map(cur.jobs.map((j) => [j.id, j]));
  const jobs = next.jobs.map((j) => (old.has(j.id) ? mergeJob(old.get(j.id)!, j) : j));
  const seen = new Set(next.jobs.map((j) => j.id));
  for (const j of cur.jobs) if (!seen.has(j.id)) jobs.push(j);
  return { ...mergeExecutionRecord(cur, next), jobs };
}

export interface ExecutionSummary {
  /** The state the header shows: "running" until every job shown is finished too. */
  readonly state: string;
  /** Jobs that succeeded or came from the cache, and all jobs: the header's "n/m". */
  readonly done: number;
  readonly total: number;
  /** Finished and every job finished: nothing more will change. */
  readonly settled: boolean;
}

/** The header's figures, from the same jobs the nodes are coloured by. */
export function executionSummary(e: ExecutionDetail): ExecutionSummary {
  const done = e.jobs.filter((j) => j.state === 'succeeded' || j.state === 'cached').length;
  const allFinished = e.jobs.every(isJobFinished);
  const settled = isExecutionFinished(e) && allFinished;
  // The execution's end can be known before a job's last record arrives
  // (another path, a dropped push): say "running" until the jobs agree.
  return { state: isExecutionFinished(e) && !allFinished ? 'running' : e.state, done, total: e.jobs.length, settled };
}
