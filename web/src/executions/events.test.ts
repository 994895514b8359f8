import { describe, expect, it } from 'vitest';
import type { ExecutionDetail, JobEvent } from '@kiln/client';
import { latestFigures, latestProgress, logLines, mergeEvents, metricSeries, upsertJob } from './events';

const ev = (seq: number, kind: string, payload: Record<string, unknown>): JobEvent => ({ seq, time: seq, kind, payload });

describe('job events', () => {
  it('merges pages and pushes without duplicates, in seq order', () => {
    const a = [ev(1, 'log', {}), ev(2, 'log', {})];
    expect(mergeEvents(a, [ev(3, 'log', {})]).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(mergeEvents(a, [ev(2, 'log', {}), ev(4, 'log', {}), ev(3, 'log', {})]).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(mergeEvents(a, [])).toBe(a);
  });

  it('derives console lines, progress and figures', () => {
    const events = [
      ev(1, 'log', { stream: 'stdout', line: 'hello' }),
      ev(2, 'progress', { done: 1, total: 10 }),
      ev(3, 'figure', { figure: 1, revision: 1, format: 'png' }),
      ev(4, 'log', { stream: 'stderr', line: 'oops' }),
      ev(5, 'figure', { figure: 1, revision: 2, format: 'chart' }),
      ev(6, 'figure', { figure: 2, revision: 1, format: 'png' }),
      ev(7, 'progress', { done: 3 }),
    ];
    expect(logLines(events)).toEqual([
      { seq: 1, stream: 'stdout', line: 'hello' },
      { seq: 4, stream: 'stderr', line: 'oops' },
    ]);
    expect(latestProgress(events)).toEqual({ done: 3, total: null });
    expect(latestProgress(events.slice(0, 3))).toEqual({ done: 1, total: 10 });
    expect(latestFigures(events).map((f) => [f.figure, f.revision, f['format']])).toEqual([
      ['1', 2, 'chart'],
      ['2', 1, 'png'],
    ]);
  });

  it('builds metric series from the endpoint and later events, with gaps for nan', () => {
    const s = metricSeries({ loss: [[1, 0.9], [2, 0.5]] }, [
      ev(10, 'metric', { name: 'loss', value: 0.3, step: 3 }),
      ev(11, 'metric', { name: 'loss', value: 'nan', step: 4 }),
      ev(12, 'metric', { name: 'acc', value: 0.8 }),
      ev(13, 'metric', { name: 'acc', value: 0.9 }),
      ev(14, 'metric', { name: 'loss', value: 0.5, step: 2 }),
    ]);
    expect(s.get('loss')).toEqual({ steps: [1, 2, 3, 4], values: [0.9, 0.5, 0.3, null] });
    expect(s.get('acc')).toEqual({ steps: [0, 1], values: [0.8, 0.9] });
    expect([...s.keys()]).toEqual(['acc', 'loss']);
  });

  it('folds job updates into an execution', () => {
    const e = { id: 'e', jobs: [{ id: 'j1', node: 'n', name: 'A', state: 'queued' }] } as unknown as ExecutionDetail;
    const e2 = upsertJob(e, { id: 'j1', node: 'n', name: 'A', state: 'running' });
    expect(e2.jobs[0]!.state).toBe('running');
    expect(upsertJob(e2, { id: 'j2', node: 'm', name: 'B', state: 'pending' }).jobs).toHaveLength(2);
  });
});
