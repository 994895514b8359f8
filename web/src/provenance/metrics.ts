// The metrics two jobs logged, side by side: for each series either job has,
// its last value on each side (what a run ended with: the final loss, the
// accuracy), for the compare view. Pure.
import type { MetricSeries } from '@kiln/client';

export interface MetricChange {
  readonly name: string;
  /** The last numeric value of the series; null when that job did not log it. */
  readonly a: number | null;
  readonly b: number | null;
  /** Points in each series (a run of other length is a difference too). */
  readonly pointsA: number;
  readonly pointsB: number;
}

function last(points: MetricSeries[string] | undefined): number | null {
  if (!points) return null;
  for (let i = points.length - 1; i >= 0; i--) {
    const v = points[i]![1];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

/** Every series of either job, by name, with the last values; equal series included (the reader wants to see them). */
export function metricChanges(a: MetricSeries, b: MetricSeries): MetricChange[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().map((name) => ({
    name,
    a: last(a[name]),
    b: last(b[name]),
    pointsA: a[name]?.length ?? 0,
    pointsB: b[name]?.length ?? 0,
  }));
}

/** A value as the list shows it: 4 significant digits, "–" when absent. */
export function metricText(v: number | null): string {
  if (v === null) return '–';
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(4)).toString();
}
