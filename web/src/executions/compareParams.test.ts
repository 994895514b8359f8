import { describe, expect, it } from 'vitest';
import type { Execution } from '@kiln/client';
import type { RunMetrics } from './compare';
import { compareRows, differing, executionParameters, finalMetrics } from './compareParams';

const attrs = [
  { node: 'n1', nodeName: 'Train', attribute: 'epochs', value: 3 },
  { node: 'n1', nodeName: 'Train', attribute: 'lr', value: 0.01 },
];

describe('compared executions', () => {
  it('takes the tree\'s attributes with the overrides on top, named by operation', () => {
    const names = new Map([['n1', 'Train']]);
    expect(executionParameters({ n1: { lr: 0.1 } }, attrs, names)).toEqual({ 'Train.epochs': 3, 'Train.lr': 0.1 });
    expect(executionParameters({ gone0000guid: { k: 1 } }, null, names)).toEqual({ 'gone0000.k': 1 });
    expect(executionParameters(undefined, null, names)).toEqual({});
  });

  it('keeps only the parameters that differ; a missing one differs', () => {
    expect(
      differing([
        { a: 1, b: 2, c: [1] },
        { a: 1, b: 3, c: [1] },
        { a: 1, c: [1] },
      ]),
    ).toEqual([{ b: 2 }, { b: 3 }, {}]);
    expect(differing([{ a: 1 }, { a: 1 }])).toEqual([{}, {}]);
  });

  it('takes the last logged value of every metric by step, skipping non-numbers', () => {
    const run: RunMetrics = {
      execution: 'e',
      label: 'e',
      jobs: [
        { job: 'Train', metrics: { loss: [[0, 1], [2, 0.5], [1, 0.7]] as [number, number][] } },
        { job: 'Score', metrics: { accuracy: [[0, 0.9], [1, 'NaN']] as [number, number | string][] } },
      ],
    };
    expect(finalMetrics(run)).toEqual({ 'Train.loss': 0.5, 'Score.accuracy': 0.9 });
  });

  it('builds table rows in the executions\' order', () => {
    const ex = (id: string) => ({ id, state: 'succeeded' }) as unknown as Execution;
    const rows = compareRows(
      [ex('e1aaaaaaaa'), ex('e2bbbbbbbb')],
      [{ execution: 'e2bbbbbbbb', label: '', jobs: [{ job: 'T', metrics: { loss: [[0, 2]] } }] }],
      [{ 'T.lr': 1, 'T.x': 0 }, { 'T.lr': 2, 'T.x': 0 }],
    );
    expect(rows).toEqual([
      { execution: 'e1aaaaaaaa', label: 'e1aaaaaa', state: 'succeeded', params: { 'T.lr': 1 }, metrics: {} },
      { execution: 'e2bbbbbbbb', label: 'e2bbbbbb', state: 'succeeded', params: { 'T.lr': 2 }, metrics: { 'T.loss': 2 } },
    ]);
  });
});
