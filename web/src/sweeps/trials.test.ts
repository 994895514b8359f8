import { describe, expect, it } from 'vitest';
import type { SweepDetail } from '@kiln/client';
import { bestRow, columnsOf, defaultObjective, formatValue, sortRows, sweepRows, type TrialRow } from './trials';

const row = (execution: string, params: Record<string, unknown>, metrics: Record<string, number>, state = 'succeeded'): TrialRow => ({
  execution,
  label: execution,
  state,
  params,
  metrics,
});

describe('trials', () => {
  it('makes rows of a sweep in trial order, dropping metrics that are not finite numbers', () => {
    const sweep = {
      trials: [
        { index: 1, values: { 'Train.epochs': 2 }, execution: 'e2', state: 'running', metrics: {} },
        { index: 0, values: { 'Train.epochs': 1 }, execution: 'e1', state: 'succeeded', metrics: { 'Train.loss': 0.5, bad: 'x' } },
      ],
    } as unknown as SweepDetail;
    const rows = sweepRows(sweep);
    expect(rows.map((r) => [r.label, r.execution])).toEqual([
      ['#1', 'e1'],
      ['#2', 'e2'],
    ]);
    expect(rows[0]!.metrics).toEqual({ 'Train.loss': 0.5 });
  });

  it('lists parameter and metric columns', () => {
    const rows = [row('a', { lr: 1 }, { 'S.acc': 1 }), row('b', { lr: 2, ep: 3 }, { 'T.loss': 1 })];
    expect(columnsOf(rows)).toEqual({ params: ['lr', 'ep'], metrics: ['S.acc', 'T.loss'] });
  });

  it('judges by a loss (min), else an accuracy (max), else the first metric', () => {
    expect(defaultObjective(['Score.accuracy', 'Train.loss'])).toEqual({ metric: 'Train.loss', direction: 'min' });
    expect(defaultObjective(['Score.accuracy', 'Train.time'])).toEqual({ metric: 'Score.accuracy', direction: 'max' });
    expect(defaultObjective(['b', 'a'])).toEqual({ metric: 'a', direction: 'min' });
    expect(defaultObjective([])).toBeNull();
    expect(defaultObjective(['Score.accuracy', 'Train.batch_loss', 'Train.loss'])).toEqual({ metric: 'Train.loss', direction: 'min' });
    expect(defaultObjective(['B.val_loss', 'A.val_loss'])).toEqual({ metric: 'A.val_loss', direction: 'min' });
  });

  it('finds the best row by the objective; rows without the metric do not count', () => {
    const rows = [row('a', {}, { acc: 0.9 }), row('b', {}, {}), row('c', {}, { acc: 0.95 }), row('d', {}, { acc: 0.95 })];
    expect(bestRow(rows, { metric: 'acc', direction: 'max' })).toBe('c');
    expect(bestRow(rows, { metric: 'acc', direction: 'min' })).toBe('a');
    expect(bestRow(rows, { metric: 'loss', direction: 'min' })).toBeNull();
    expect(bestRow(rows, null)).toBeNull();
  });

  it('sorts by any column, numbers by value, missing values last either way', () => {
    const rows = [row('a', { lr: 0.1 }, { acc: 2 }), row('b', { lr: 0.01 }, {}), row('c', { lr: 1 }, { acc: 10 })];
    expect(sortRows(rows, 'metric:acc', true).map((r) => r.execution)).toEqual(['a', 'c', 'b']);
    expect(sortRows(rows, 'metric:acc', false).map((r) => r.execution)).toEqual(['c', 'a', 'b']);
    expect(sortRows(rows, 'param:lr', true).map((r) => r.execution)).toEqual(['b', 'a', 'c']);
    expect(sortRows([row('x', {}, {}, 'running'), row('y', {}, {}, 'failed')], 'state', true).map((r) => r.execution)).toEqual(['y', 'x']);
  });

  it('formats cells', () => {
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(10)).toBe('10');
    expect(formatValue(undefined)).toBe('–');
    expect(formatValue(true)).toBe('true');
  });
});
