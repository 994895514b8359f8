// The provenance, reify, pipeline-export and project-archive calls: their
// paths and queries, the bodies they send (JSON or the archive's bytes) and
// how the server's refusals reach the caller.
import { describe, expect, it } from 'vitest';
import { KilnClient, type FetchLike } from './client';
import { ApiError } from './errors';
import type { Lineage } from './types';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: RequestInit['body'];
}

function fake(...answers: Response[]): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, method: init?.method ?? 'GET', headers: { ...(init?.headers as Record<string, string>) }, body: init?.body });
    const a = answers.shift();
    if (!a) throw new Error('unexpected call');
    return a;
  };
  return { fetch, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });

const lineage: Lineage = {
  project: 'digits',
  artifact: '3fa9',
  direction: 'up',
  depth: 100,
  truncated: false,
  artifacts: [
    { digest: '3fa9', size: 1234, serializer: 'torch', level: 0, origin: { kind: 'job', job: 'j-1', output: 'model' } },
    { digest: '77b0', size: 99, serializer: 'raw', level: 1, origin: { kind: 'upload', user: 'ada', source: 'digits.npz', created_ms: 1 } },
  ],
  jobs: [],
  operations: [],
  used: [{ job: 'j-1', input: 'data', artifact: '77b0' }],
  generated: [{ job: 'j-1', output: 'model', artifact: '3fa9' }],
};

describe('provenance', () => {
  it('asks for a lineage with only the query the caller gave', async () => {
    const { fetch, calls } = fake(json(200, lineage), json(200, lineage));
    const c = new KilnClient({ fetch, baseUrl: 'http://k:1/' });
    expect(await c.artifactProvenance('my project', '3fa9')).toEqual(lineage);
    await c.artifactProvenance('p', 'ab/cd', { depth: 0, direction: 'both' });
    expect(calls.map((x) => [x.method, x.url])).toEqual([
      ['GET', 'http://k:1/api/v1/projects/my%20project/artifacts/3fa9/provenance'],
      ['GET', 'http://k:1/api/v1/projects/p/artifacts/ab%2Fcd/provenance?depth=0&direction=both'],
    ]);
  });

  it('asks for PROV-JSON with format=prov', async () => {
    const prov = { entity: { 'artifact:3fa9': {} }, activity: { 'job:j-1': { 'prov:startTime': 'x' } } };
    const { fetch, calls } = fake(json(200, prov));
    const c = new KilnClient({ fetch });
    expect(await c.artifactProvenanceProv('p', '3fa9', { direction: 'down' })).toEqual(prov);
    expect(calls[0]?.url).toBe('/api/v1/projects/p/artifacts/3fa9/provenance?direction=down&format=prov');
  });

  it('an artifact the project does not have is a 404 ApiError', async () => {
    const { fetch } = fake(json(404, { error: { code: 'NotFound', message: "no artifact 3fa9 in project 'p'" } }));
    const err = await new KilnClient({ fetch }).artifactProvenance('p', '3fa9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).isNotFound).toBe(true);
  });
});

describe('reify', () => {
  it('posts the branch and answers what it made', async () => {
    const made = { branch: 'again', commit: 'c1', pipeline: 'g1', jobs: { g2: 'j-1' }, notes: [] };
    const { fetch, calls } = fake(json(201, made));
    const c = new KilnClient({ fetch });
    expect(await c.reify('p', '3fa9', { branch: 'again', from: 'main' })).toEqual(made);
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url).toBe('/api/v1/projects/p/artifacts/3fa9/reify');
    expect(JSON.parse(String(calls[0]?.body))).toEqual({ branch: 'again', from: 'main' });
  });

  it('an upload cannot be reified (422) and a taken branch is 409', async () => {
    const { fetch } = fake(
      json(422, { error: { code: 'FailedPrecondition', message: 'no job made 3fa9: it was uploaded' } }),
      json(409, { error: { code: 'AlreadyExists', message: "branch 'again' exists" } }),
    );
    const c = new KilnClient({ fetch });
    await expect(c.reify('p', '3fa9', { branch: 'again' })).rejects.toMatchObject({ status: 422, message: 'no job made 3fa9: it was uploaded' });
    await expect(c.reify('p', '3fa9', { branch: 'again' })).rejects.toMatchObject({ status: 409, code: 'AlreadyExists' });
  });
});

describe('download URLs', () => {
  it('builds the pipeline export URL with only the options given', () => {
    const c = new KilnClient({ baseUrl: 'http://k:1' });
    expect(c.pipelineExportUrl('p', 'g1')).toBe('http://k:1/api/v1/projects/p/pipelines/g1/export');
    expect(c.pipelineExportUrl('a b', 'g1', { ref: 'run/42', inputs: 'fetch' })).toBe(
      'http://k:1/api/v1/projects/a%20b/pipelines/g1/export?ref=run%2F42&inputs=fetch',
    );
  });

  it('builds the project export and import URLs', () => {
    const c = new KilnClient();
    expect(c.projectExportUrl('my.project')).toBe('/api/v1/projects/my.project/export');
    expect(c.projectImportUrl('copy 1')).toBe('/api/v1/projects/import?name=copy+1');
    expect(c.projectImportUrl()).toBe('/api/v1/projects/import');
    expect(c.projectImportUrl('')).toBe('/api/v1/projects/import');
  });
});

describe('project archives', () => {
  it('downloads an archive as bytes', async () => {
    const bytes = new Uint8Array([0x4b, 0x49, 0x4c, 0x4e, 0, 255]);
    const { fetch, calls } = fake(new Response(bytes, { status: 200, headers: { 'Content-Type': 'application/octet-stream' } }));
    const c = new KilnClient({ fetch, headers: { Authorization: 'Bearer t' } });
    const blob = await c.exportProject('digits');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes);
    expect(calls[0]).toMatchObject({
      method: 'GET',
      url: '/api/v1/projects/digits/export',
      headers: { Accept: 'application/octet-stream', Authorization: 'Bearer t' },
    });
  });

  it('uploads the archive bytes unchanged, with the new name', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const { fetch, calls } = fake(json(201, { name: 'copy', objects: 12, refs: 2 }), json(201, { name: 'digits', objects: 12, refs: 2 }));
    const c = new KilnClient({ fetch });
    expect(await c.importProject(bytes, 'copy')).toEqual({ name: 'copy', objects: 12, refs: 2 });
    expect(calls[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/projects/import?name=copy',
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    expect(calls[0]?.body).toBe(bytes);
    await c.importProject(new Blob([bytes]));
    expect(calls[1]?.url).toBe('/api/v1/projects/import');
  });

  it('refusals keep their status: 409 taken, 400 damaged', async () => {
    const { fetch } = fake(
      json(409, { error: { code: 'AlreadyExists', message: "project 'digits' exists; import it under another name" } }),
      json(400, { error: { code: 'InvalidArgument', message: 'not a Kiln export file: bad magic' } }),
    );
    const c = new KilnClient({ fetch });
    await expect(c.importProject(new Uint8Array(1), 'digits')).rejects.toMatchObject({ status: 409, code: 'AlreadyExists' });
    await expect(c.importProject(new Uint8Array(1), 'x')).rejects.toMatchObject({ status: 400, message: 'not a Kiln export file: bad magic' });
  });
});
