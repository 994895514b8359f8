import { describe, expect, it } from 'vitest';
import type { Artifact } from '@kiln/client';
import { artifactKey, filterArtifacts, kindOptions, NO_FILTER, pipelineOptions, sortArtifacts, UPLOADS } from './filter';
import { provenance, provenanceText } from './artifacts';

const D = (c: string) => c.repeat(64);
const job = (name: string, output: string, serializer: string, pipeline: string, created = 2): Artifact => ({
  guid: null,
  name,
  digest: D(output[0]!),
  serializer,
  size: 10,
  origin: {
    kind: 'job',
    pipeline,
    pipeline_name: pipeline === 'p1' ? 'Digits classifier' : 'Spectrum',
    execution: 'exec-123456789',
    job: 'job-abcdefghij',
    job_name: 'Train',
    output,
    created_ms: created,
  },
});
const upload: Artifact = {
  guid: 'g-upload',
  name: 'table.csv',
  digest: D('c'),
  serializer: 'raw',
  origin: { kind: 'upload', user: 'ada', created_ms: 1 },
};
const all = [job('Train/model', 'model', 'torch', 'p1'), job('Score/accuracy', 'accuracy', 'json', 'p1', 3), job('total', 'total', 'json', 'p2'), upload];

describe('artifact origins and filters', () => {
  it('reads the origin the server sends', () => {
    const p = provenance(all[0]!);
    expect(p).toMatchObject({ kind: 'job', pipelineName: 'Digits classifier', jobName: 'Train', output: 'model' });
    expect(provenanceText(p)).toBe('output “model” of job Train (execution exec-123, pipeline Digits classifier)');
    expect(provenance(upload)).toEqual({ kind: 'upload', user: 'ada', createdMs: 1 });
    // A job origin without a job id falls back to the old fields.
    expect(provenance({ origin: { kind: 'job' }, uploaded_by: 'bob' }).kind).toBe('upload');
  });

  it('offers the pipelines and kinds present, with counts, uploads last', () => {
    expect(pipelineOptions(all)).toEqual([
      { value: 'p1', label: 'Digits classifier', count: 2 },
      { value: 'p2', label: 'Spectrum', count: 1 },
      { value: UPLOADS, label: 'Uploaded', count: 1 },
    ]);
    expect(kindOptions(all).map((o) => [o.value, o.count])).toEqual([
      ['json', 2],
      ['raw', 1],
      ['torch', 1],
    ]);
  });

  it('filters by pipeline and kind together', () => {
    expect(filterArtifacts(all, NO_FILTER)).toHaveLength(4);
    expect(filterArtifacts(all, { pipeline: 'p1', kind: null }).map((a) => a.name)).toEqual(['Train/model', 'Score/accuracy']);
    expect(filterArtifacts(all, { pipeline: null, kind: 'json' }).map((a) => a.name)).toEqual(['Score/accuracy', 'total']);
    expect(filterArtifacts(all, { pipeline: 'p1', kind: 'json' }).map((a) => a.name)).toEqual(['Score/accuracy']);
    expect(filterArtifacts(all, { pipeline: UPLOADS, kind: null })).toEqual([upload]);
    // An old server's artifact without a kind counts as raw.
    expect(filterArtifacts([{ guid: 'x', name: 'x', digest: D('d') }], { pipeline: null, kind: 'raw' })).toHaveLength(1);
  });

  it('keys rows without a guid by digest and origin, and sorts newest first', () => {
    expect(new Set(all.map(artifactKey)).size).toBe(4);
    expect(artifactKey(upload)).toBe('g-upload');
    expect(sortArtifacts(all).map((a) => a.name)).toEqual(['Score/accuracy', 'total', 'Train/model', 'table.csv']);
  });
});
