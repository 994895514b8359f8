import { describe, expect, it } from 'vitest';
import type { Artifact } from '@kiln/client';
import { compareCandidates } from './candidates';

const job = (name: string, digest: string, created: number, output = name): Artifact => ({
  guid: null,
  name,
  digest,
  origin: { kind: 'job', job: `j-${digest}`, job_name: 'Train', output, execution: `e-${digest}`, created_ms: created },
});
const upload = (name: string, digest: string): Artifact => ({ guid: 'g', name, digest, origin: { kind: 'upload', user: 'ada', created_ms: 5 } });

const list = [job('model', 'm1', 10), job('metrics', 'x1', 30), upload('digits.npz', 'd1'), job('model', 'm2', 20), job('model', 'm3', 5), job('model', 'm2', 20)];

describe('compareCandidates', () => {
  it('offers other runs of the same name first, newest first, then other outputs, then uploads; never itself or twice', () => {
    expect(compareCandidates(list, 'm1').map((c) => c.digest)).toEqual(['m2', 'm3', 'x1', 'd1']);
    expect(compareCandidates(list, 'm1')[0]).toMatchObject({ name: 'model', origin: 'output model of Train · run e-m2', sameName: true });
    expect(compareCandidates(list, 'd1').find((c) => c.digest === 'd1')).toBeUndefined();
  });

  it('filters by name, digest or origin', () => {
    expect(compareCandidates(list, 'm1', 'METRICS').map((c) => c.digest)).toEqual(['x1']);
    expect(compareCandidates(list, 'm1', 'ada').map((c) => c.digest)).toEqual(['d1']);
    expect(compareCandidates(list, 'm1', 'm3').map((c) => c.digest)).toEqual(['m3']);
    expect(compareCandidates(list, 'm1', 'nothing like it')).toEqual([]);
  });
});
