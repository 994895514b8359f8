// Parallel coordinates without the DOM: one vertical axis per parameter and
// per chosen metric, one polyline per row through its value on each axis, a
// colour per row from the colouring metric, and brushing (an interval kept
// per axis; a row shows when it lies inside every brush). Positions are in
// pixels of a plot of the given size; ParallelCoordinates.tsx only draws.
import type { TrialRow } from './trials';

export interface AxisSpec {
  /** "param:Train.epochs" or "metric:Score.accuracy" (trials.ts SortKey). */
  readonly key: string;
  readonly label: string;
}

export type Axis =
  | (AxisSpec & {
      readonly kind: 'number';
      readonly min: number;
      readonly max: number;
      readonly log: boolean;
      /** Every value is whole (epochs, seeds): no tick between two integers. */
      readonly integer: boolean;
    })
  | (AxisSpec & { readonly kind: 'category'; readonly categories: readonly string[] });

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Space above and below the axes (labels), and left and right of the outer ones. */
  readonly padTop: number;
  readonly padBottom: number;
  readonly padX: number;
}

export function valueOf(row: TrialRow, key: string): unknown {
  if (key.startsWith('param:')) return row.params[key.slice(6)];
  if (key.startsWith('metric:')) return row.metrics[key.slice(7)];
  return undefined;
}

/**
 * An axis per spec: numeric when every present value is a number (log scale
 * when all are positive and they span two decades or more), else the
 * values' texts as categories in sorted order.
 */
export function buildAxes(rows: readonly TrialRow[], specs: readonly AxisSpec[]): Axis[] {
  return specs.map((s) => {
    const values = rows.map((r) => valueOf(r, s.key)).filter((v) => v !== undefined && v !== null);
    if (values.length > 0 && values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      const nums = values as number[];
      const min = Math.min(...nums);
      const max = Math.max(...nums);
      return { ...s, kind: 'number', min, max, log: min > 0 && max / min >= 100, integer: nums.every((n) => Number.isInteger(n)) };
    }
    const categories = [...new Set(values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))))].sort();
    return { ...s, kind: 'category', categories };
  });
}

/** Where a value lies on its axis, 0 (bottom) … 1 (top); null when it has none. */
export function fraction(axis: Axis, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (axis.kind === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return null;
    if (axis.max === axis.min) return 0.5;
    if (axis.log) return (Math.log(value) - Math.log(axis.min)) / (Math.log(axis.max) - Math.log(axis.min));
    return (value - axis.min) / (axis.max - axis.min);
  }
  const i = axis.categories.indexOf(typeof value === 'string' ? value : JSON.stringify(value));
  if (i < 0) return null;
  return axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1);
}

/** The x of each axis: spread evenly between the side paddings. */
export function axisX(layout: Layout, count: number, i: number): number {
  if (count <= 1) return layout.width / 2;
  return layout.padX + ((layout.width - 2 * layout.padX) * i) / (count - 1);
}

/** The y of a fraction: 1 at the top of the axis. */
export function fractionY(layout: Layout, f: number): number {
  return layout.padTop + (1 - f) * (layout.height - layout.padTop - layout.padBottom);
}

/**
 * The fraction at a y (inverse of fractionY), clamped to the axis; within 3 %
 * of an end it snaps to it, so a brush dragged from an end keeps the trials
 * lying exactly there.
 */
export function yFraction(layout: Layout, y: number): number {
  const f = 1 - (y - layout.padTop) / (layout.height - layout.padTop - layout.padBottom);
  if (f < 0.03) return 0;
  if (f > 0.97) return 1;
  return f;
}

/**
 * A row's polyline as runs of points: an axis without a value breaks the
 * line (a missing metric of a failed trial is a gap, not a zero).
 */
export function polyline(row: TrialRow, axes: readonly Axis[], layout: Layout): [number, number][][] {
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  axes.forEach((a, i) => {
    const f = fraction(a, valueOf(row, a.key));
    if (f === null) {
      if (run.length > 0) runs.push(run);
      run = [];
    } else run.push([axisX(layout, axes.length, i), fractionY(layout, f)]);
  });
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Brushes: axis key → [low, high] fractions. */
export type Brushes = ReadonlyMap<string, readonly [number, number]>;

/** Whether a row lies inside every brush (a row without a value on a brushed axis does not). */
export function insideBrushes(row: TrialRow, axes: readonly Axis[], brushes: Brushes): boolean {
  for (const a of axes) {
    const b = brushes.get(a.key);
    if (!b) continue;
    const f = fraction(a, valueOf(row, a.key));
    if (f === null || f < Math.min(b[0], b[1]) - 1e-9 || f > Math.max(b[0], b[1]) + 1e-9) return false;
  }
  return true;
}

/**
 * A row's colour from its value of the colouring metric: from blue (worst)
 * to orange (best) along the metric's range, in the objective's direction;
 * grey without a value.
 */
export function rowColour(value: number | undefined, min: number, max: number, lowerIsBetter: boolean): string {
  if (value === undefined || !Number.isFinite(value)) return '#98a2b3';
  let t = max === min ? 1 : (value - min) / (max - min);
  if (lowerIsBetter) t = 1 - t;
  // Blue (#2563eb) → orange (#ea580c), straight in RGB: enough for a handful of trials.
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(0x25, 0xea)}, ${mix(0x63, 0x58)}, ${mix(0xeb, 0x0c)})`;
}

/** Tick labels of an axis: min and max (and the middle) for numbers, each category otherwise. */
export function axisTicks(axis: Axis): { f: number; text: string }[] {
  if (axis.kind === 'category') return axis.categories.map((c) => ({ f: fraction(axis, c) ?? 0.5, text: c }));
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(3)).toString());
  if (axis.min === axis.max) return [{ f: 0.5, text: fmt(axis.min) }];
  const mid = axis.log ? Math.sqrt(axis.min * axis.max) : (axis.min + axis.max) / 2;
  if (axis.integer && !Number.isInteger(mid))
    return [
      { f: 0, text: fmt(axis.min) },
      { f: 1, text: fmt(axis.max) },
    ];
  return [
    { f: 0, text: fmt(axis.min) },
    { f: 0.5, text: fmt(mid) },
    { f: 1, text: fmt(axis.max) },
  ];
}
