// Trials as table rows, without React: the rows of a sweep (or of any chosen
// executions of one pipeline), their columns, sorting by any column, and the
// best row by a metric and direction. Shared by the sweep view and the
// executions' compare view.
import type { SweepDetail } from '@kiln/client';

/** One trial (or one compared execution). */
export interface TrialRow {
  /** The execution it ran as. */
  readonly execution: string;
  readonly label: string;
  readonly state: string;
  /** "Train.epochs" → the value it ran with. */
  readonly params: Readonly<Record<string, unknown>>;
  /** "Train.loss" → the last value logged. */
  readonly metrics: Readonly<Record<string, number>>;
}

export type Direction = 'min' | 'max';

export interface Objective {
  readonly metric: string;
  readonly direction: Direction;
}

export function sweepRows(sweep: SweepDetail): TrialRow[] {
  return [...sweep.trials]
    .sort((a, b) => a.index - b.index)
    .map((t) => ({
      execution: t.execution,
      label: `#${t.index + 1}`,
      state: t.state,
      params: t.values,
      metrics: finiteMetrics(t.metrics),
    }));
}

function finiteMetrics(m: Readonly<Record<string, unknown>> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m ?? {})) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/** Column names: parameters in first-seen order, metrics sorted by name. */
export function columnsOf(rows: readonly TrialRow[]): { params: string[]; metrics: string[] } {
  const params: string[] = [];
  const metrics = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.params)) if (!params.includes(k)) params.push(k);
    for (const k of Object.keys(r.metrics)) metrics.add(k);
  }
  return { params, metrics: [...metrics].sort() };
}

/**
 * The metric judged by default: one whose name contains "loss" (lower is
 * better), else one containing "acc" (higher is better), else the first
 * metric, lower is better; null without metrics. Among several, the
 * shortest metric name after the job's wins ("Train.loss" over
 * "Train.batch_loss", a per-batch value), then the first by name.
 */
export function defaultObjective(metrics: readonly string[]): Objective | null {
  const metricPart = (m: string) => m.slice(m.lastIndexOf('.') + 1);
  const sorted = [...metrics].sort((a, b) => metricPart(a).length - metricPart(b).length || a.localeCompare(b));
  const loss = sorted.find((m) => /loss/i.test(m));
  if (loss) return { metric: loss, direction: 'min' };
  const acc = sorted.find((m) => /acc/i.test(m));
  if (acc) return { metric: acc, direction: 'max' };
  const first = [...metrics].sort()[0];
  return first !== undefined ? { metric: first, direction: 'min' } : null;
}

/** The execution of the best row with a value for the metric; the first of ties; null when none has one. */
export function bestRow(rows: readonly TrialRow[], objective: Objective | null): string | null {
  if (!objective) return null;
  let best: TrialRow | null = null;
  for (const r of rows) {
    const v = r.metrics[objective.metric];
    if (v === undefined) continue;
    const b = best?.metrics[objective.metric];
    if (b === undefined || (objective.direction === 'min' ? v < b : v > b)) best = r;
  }
  return best?.execution ?? null;
}

/** A column of the table: "param:Train.epochs", "metric:Score.accuracy", "state" or "label". */
export type SortKey = `param:${string}` | `metric:${string}` | 'state' | 'label';

export function cellValue(row: TrialRow, key: SortKey): unknown {
  if (key === 'state') return row.state;
  if (key === 'label') return row.label;
  if (key.startsWith('param:')) return row.params[key.slice(6)];
  return row.metrics[key.slice(7)];
}

/**
 * Sorted by one column: numbers by value, anything else by its text; rows
 * without a value go last in both directions; ties keep their order.
 */
export function sortRows(rows: readonly TrialRow[], key: SortKey, ascending: boolean): TrialRow[] {
  const sign = ascending ? 1 : -1;
  return rows
    .map((row, i) => ({ row, i, v: cellValue(row, key) }))
    .sort((a, b) => {
      const am = a.v === undefined || a.v === null;
      const bm = b.v === undefined || b.v === null;
      if (am || bm) return am === bm ? a.i - b.i : am ? 1 : -1;
      let c: number;
      if (typeof a.v === 'number' && typeof b.v === 'number') c = a.v - b.v;
      else c = String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
      return c !== 0 ? sign * c : a.i - b.i;
    })
    .map((x) => x.row);
}

/** A value as a table cell: numbers to 4 significant digits unless whole. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
