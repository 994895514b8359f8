// The execution header and the node states come from one merged view: a REST
// snapshot read before pushes already applied must not move a job back, and
// the header never says an execution ended while a node still shows a job
// running (issue 10, the flaky browser scenario d_execution).
import { describe, expect, it } from 'vitest';
import type { Execution, ExecutionDetail, Job } from '@kiln/client';
import { executionSummary, jobRank, mergeExecutionDetail, mergeExecutionRecord, upsertJob } from './events';

const job = (id: string, state: string, extra: Partial<Job> = {}): Job => ({ id, node: `n-${id}`, name: id, state, ...extra });
const record = (state: string): Execution => ({ id: 'e1', project: 'p', pipeline: 'pl', commit: 'c', ref: 'main', state, created_ms: 1 });
const detail = (state: string, jobs: Job[]): ExecutionDetail => ({ ...record(state), jobs });
/** What the view shows: the header's state and count, each node's state. */
const shown = (e: ExecutionDetail) => {
  const s = executionSummary(e);
  return { header: `${s.state} ${s.done}/${s.total}`, nodes: e.jobs.map((j) => j.state) };
};

describe('one ordered view of an execution', () => {
  it('a stale snapshot arriving after the last job ended does not move it back (the d_execution race)', () => {
    // The polling request was read while Score ran; its answer arrives after
    // the push that said Score succeeded, and before the execution's end.
    const stale = detail('running', [job('load', 'succeeded'), job('split', 'succeeded'), job('train', 'succeeded'), job('score', 'running')]);
    let view = detail('running', [job('load', 'succeeded'), job('split', 'succeeded'), job('train', 'succeeded'), job('score', 'running')]);
    view = upsertJob(view, job('score', 'succeeded', { finished_ms: 9 }));
    view = mergeExecutionDetail(view, stale);
    expect(view.jobs[3]!.state).toBe('succeeded');
    expect(view.jobs[3]!.finished_ms).toBe(9);
    view = mergeExecutionRecord(view, record('succeeded'));
    expect(shown(view)).toEqual({ header: 'succeeded 4/4', nodes: ['succeeded', 'succeeded', 'succeeded', 'succeeded'] });
    expect(executionSummary(view).settled).toBe(true);
  });

  it('every interleaving of pushes and stale snapshots ends with header and nodes agreeing', () => {
    const states = ['pending', 'queued', 'running', 'succeeded'];
    // Pushes in the order they happened; snapshots taken at each point in between.
    const pushes: Array<{ job?: Job; exec?: Execution }> = [];
    for (const s of states) for (const id of ['a', 'b']) pushes.push({ job: job(id, s) });
    pushes.push({ exec: record('succeeded') });
    const snapshotAt = (k: number) => {
      let e = detail('running', [job('a', 'pending'), job('b', 'pending')]);
      for (const p of pushes.slice(0, k)) e = p.job ? upsertJob(e, p.job) : mergeExecutionRecord(e, p.exec!);
      return e;
    };
    for (let taken = 0; taken <= pushes.length; taken++) {
      for (let arrives = 0; arrives <= pushes.length; arrives++) {
        let view = detail('running', [job('a', 'pending'), job('b', 'pending')]);
        pushes.forEach((p, k) => {
          if (k === arrives) view = mergeExecutionDetail(view, snapshotAt(taken));
          view = p.job ? upsertJob(view, p.job) : mergeExecutionRecord(view, p.exec!);
          // At every step: a header that says the execution ended counts every node finished.
          const s = executionSummary(view);
          if (s.state !== 'running') expect(view.jobs.every((j) => jobRank(j.state) === 3)).toBe(true);
        });
        if (arrives === pushes.length) view = mergeExecutionDetail(view, snapshotAt(taken));
        expect(shown(view)).toEqual({ header: 'succeeded 2/2', nodes: ['succeeded', 'succeeded'] });
      }
    }
  });

  it('an execution known to have ended before its last job shows running until the job ends', () => {
    let view = detail('running', [job('a', 'succeeded'), job('b', 'running')]);
    view = mergeExecutionRecord(view, record('succeeded'));
    expect(shown(view)).toEqual({ header: 'running 1/2', nodes: ['succeeded', 'running'] });
    expect(executionSummary(view).settled).toBe(false); // the view keeps reading (polling, a final load)
    view = mergeExecutionDetail(view, detail('succeeded', [job('a', 'succeeded'), job('b', 'succeeded')]));
    expect(shown(view)).toEqual({ header: 'succeeded 2/2', nodes: ['succeeded', 'succeeded'] });
  });

  it('a finished execution record is not replaced by an older running one; failures count as finished', () => {
    const view = mergeExecutionRecord(detail('failed', [job('a', 'failed'), job('b', 'skipped')]), record('running'));
    expect(view.state).toBe('failed');
    expect(shown(view)).toEqual({ header: 'failed 0/2', nodes: ['failed', 'skipped'] });
    expect(jobRank('cached')).toBe(3);
    expect(jobRank('queued')).toBeLessThan(jobRank('running'));
    // Another execution's snapshot replaces the view outright.
    const other = { ...detail('running', [job('x', 'queued')]), id: 'e2' };
    expect(mergeExecutionDetail(view, other)).toBe(other);
  });
});
