// Pure helpers of the metric charts: exponential smoothing of a noisy series
// and what a logarithmic y axis can show. No DOM, no uPlot: tested alone.

/**
 * Exponential moving average, as TensorBoard's smoothing slider: weight 0
 * is the raw series, 0.99 nearly flat. Gaps (null, NaN, ±Infinity) stay
 * gaps and do not reset the average. The first points are debiased (divided
 * by 1 - weight^k) so the curve starts at the data, not at zero.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Number.isFinite(weight) ? Math.min(Math.max(weight, 0), 0.999) : 0;
  if (w === 0) return values.map((v) => (v !== null && Number.isFinite(v) ? v : null));
  let acc = 0;
  let k = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    acc = acc * w + (1 - w) * v;
    k++;
    return acc / (1 - w ** k);
  });
}

/**
 * The values as a log axis can draw them: a value ≤ 0 has no logarithm and
 * becomes a gap (uPlot's log scale would otherwise drop the whole series).
 */
export function forLogScale(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && Number.isFinite(v) && v > 0 ? v : null));
}

/** Whether a log y axis would show anything: at least one value above zero. */
export function canUseLogScale(values: readonly (number | null)[]): boolean {
  return values.some((v) => v !== null && Number.isFinite(v) && v > 0);
}

/** The y values a chart draws, after smoothing and (on a log axis) dropping values ≤ 0. */
export function chartValues(values: readonly (number | null)[], opts: { smoothing: number; log: boolean }): (number | null)[] {
  const s = smooth(values, opts.smoothing);
  return opts.log ? forLogScale(s) : s;
}
