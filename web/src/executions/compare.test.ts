import { describe, expect, it } from 'vitest';
import type { Execution } from '@kiln/client';
import { borrowCachedMetrics, canSelect, compareMetrics, metricValue } from './compare';

const exec = (id: string, pipeline: string): Execution =>
  ({ id, project: 'p', pipeline, commit: 'c', ref: 'main', state: 'succeeded', created_ms: 0 }) as Execution;

describe('compareMetrics', () => {
  it('makes one chart per job and metric with one series per execution on shared steps', () => {
    const charts = compareMetrics([
      { execution: 'e1', label: 'run 1', jobs: [{ job: 'Train', metrics: { loss: [[0, 1], [1, 0.5], [2, 0.25]] } }] },
      { execution: 'e2', label: 'run 2', jobs: [{ job: 'Train', metrics: { loss: [[0, 2], [1, 1]], acc: [[0, 0.9]] } }] },
    ]);
    expect(charts.map((c) => c.key)).toEqual(['Train · acc', 'Train · loss']);
    const loss = charts[1]!;
    expect(loss.steps).toEqual([0, 1, 2]);
    expect(loss.series).toEqual([
      { execution: 'e1', label: 'run 1', values: [1, 0.5, 0.25] },
      { execution: 'e2', label: 'run 2', values: [2, 1, null] },
    ]);
    // Only the execution that logged acc has a series for it.
    expect(charts[0]!.series.map((s) => s.execution)).toEqual(['e2']);
  });

  it('merges unsorted, interleaved steps and keeps the last value of a repeated step', () => {
    const [c] = compareMetrics([
      { execution: 'a', label: 'a', jobs: [{ job: 'J', metrics: { m: [[2, 20], [0, 0], [2, 21]] } }] },
      { execution: 'b', label: 'b', jobs: [{ job: 'J', metrics: { m: [[1, 10], [3, 30]] } }] },
    ]);
    expect(c!.steps).toEqual([0, 1, 2, 3]);
    expect(c!.series[0]!.values).toEqual([0, null, 21, null]);
    expect(c!.series[1]!.values).toEqual([null, 10, null, 30]);
  });

  it('keeps the same metric of different jobs apart', () => {
    const charts = compareMetrics([
      { execution: 'a', label: 'a', jobs: [{ job: 'Train', metrics: { loss: [[0, 1]] } }, { job: 'Score', metrics: { loss: [[0, 3]] } }] },
    ]);
    expect(charts.map((c) => c.key)).toEqual(['Score · loss', 'Train · loss']);
  });

  it('turns NaN, strings and nulls into gaps or numbers', () => {
    expect(metricValue(1.5)).toBe(1.5);
    expect(metricValue(Number.NaN)).toBeNull();
    expect(metricValue('nan')).toBeNull();
    expect(metricValue('2.5')).toBe(2.5);
    expect(metricValue('')).toBeNull();
    expect(metricValue(null)).toBeNull();
    const [c] = compareMetrics([{ execution: 'a', label: 'a', jobs: [{ job: 'J', metrics: { m: [[0, 'nan'], [1, null], [2, 4]] } }] }]);
    expect(c!.series[0]!.values).toEqual([null, null, 4]);
  });

  it('is empty when nothing was logged', () => {
    expect(compareMetrics([])).toEqual([]);
    expect(compareMetrics([{ execution: 'a', label: 'a', jobs: [{ job: 'J', metrics: {} }] }])).toEqual([]);
  });
});

describe('canSelect', () => {
  it('only allows executions of the pipeline already chosen', () => {
    expect(canSelect([], exec('1', 'P'))).toBe(true);
    expect(canSelect([exec('1', 'P')], exec('2', 'P'))).toBe(true);
    expect(canSelect([exec('1', 'P')], exec('3', 'Q'))).toBe(false);
  });
});

describe('borrowCachedMetrics', () => {
  it("gives a cached job the metrics of the job with its cache key that ran", () => {
    const runs = borrowCachedMetrics([
      { execution: 'a', label: 'a', jobs: [{ job: 'Train', cacheKey: 'k1', metrics: { loss: [[0, 1]] } }] },
      { execution: 'b', label: 'b', jobs: [{ job: 'Train', cacheKey: 'k1', cached: true, metrics: {} }] },
      { execution: 'c', label: 'c', jobs: [{ job: 'Train', cacheKey: 'k2', cached: true, metrics: {} }] },
    ]);
    expect(runs[1]!.jobs[0]!.metrics).toEqual({ loss: [[0, 1]] });
    // No job with k2 ran in the selection: nothing to borrow.
    expect(runs[2]!.jobs[0]!.metrics).toEqual({});
    expect(compareMetrics(runs)[0]!.series.map((s) => s.execution)).toEqual(['a', 'b']);
  });
});
