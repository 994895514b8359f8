import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { KilnClient, type FetchLike } from './client';

interface Call {
  url: string;
  method: string;
  body: unknown;
  headers: Record<string, string>;
}

/** A fetch that records calls and answers from a queue of (status, body). */
function fakeFetch(...answers: Array<[number, unknown] | Error>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({
      url,
      method: init?.method ?? 'GET',
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      headers: (init?.headers ?? {}) as Record<string, string>,
    });
    const a = answers.shift();
    if (a === undefined) throw new Error('unexpected call');
    if (a instanceof Error) throw a;
    const [status, body] = a;
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status });
  };
  return { fetch, calls };
}

describe('KilnClient', () => {
  it('calls each endpoint with the right method, path and body', async () => {
    const { fetch, calls } = fakeFetch(
      [200, { status: 'ok' }],
      [200, [{ name: 'digits' }]],
      [201, { name: 'new one' }],
      [204, undefined],
      [200, { branches: [{ name: 'main', head: 'c1' }] }],
      [201, { name: 'exp', head: 'c1' }],
      [200, { commits: [] }],
      [200, { root: 'r', nodes: {}, commit: 'c1' }],
      [200, { commit: 'c2' }],
    );
    const c = new KilnClient({ baseUrl: 'http://127.0.0.1:8080/', fetch, headers: { Authorization: 'Bearer t' } });
    expect(await c.health()).toEqual({ status: 'ok' });
    expect(await c.listProjects()).toEqual([{ name: 'digits' }]);
    expect(await c.createProject({ name: 'new one' })).toEqual({ name: 'new one' });
    expect(await c.deleteProject('new one')).toBeUndefined();
    expect(await c.listBranches('digits')).toEqual([{ name: 'main', head: 'c1' }]);
    await c.createBranch('digits', { name: 'exp', from: 'main' });
    expect(await c.listCommits('digits', { ref: 'main', limit: 20 })).toEqual([]);
    expect((await c.getTree('digits', 'main')).commit).toBe('c1');
    const patch = { base: 'c1', message: 'm', ops: [{ op: 'delete' as const, node: 'n' }] };
    expect(await c.postPatch('digits', 'feature/x', patch)).toEqual({ commit: 'c2' });

    const base = 'http://127.0.0.1:8080/api/v1';
    expect(calls.map((x) => `${x.method} ${x.url}`)).toEqual([
      `GET ${base}/health`,
      `GET ${base}/projects`,
      `POST ${base}/projects`,
      `DELETE ${base}/projects/new%20one`,
      `GET ${base}/projects/digits/branches`,
      `POST ${base}/projects/digits/branches`,
      `GET ${base}/projects/digits/commits?ref=main&limit=20`,
      `GET ${base}/projects/digits/tree?ref=main`,
      `POST ${base}/projects/digits/branches/feature%2Fx/patches`,
    ]);
    expect(calls[2]!.body).toEqual({ name: 'new one' });
    expect(calls[2]!.headers['Content-Type']).toBe('application/json');
    expect(calls[5]!.body).toEqual({ name: 'exp', from: 'main' });
    expect(calls[8]!.body).toEqual(patch);
    expect(calls.every((x) => x.headers['Authorization'] === 'Bearer t')).toBe(true);
  });

  it('uses same-origin paths by default and omits empty queries', async () => {
    const { fetch, calls } = fakeFetch([200, []], [200, { root: 'r', nodes: {} }]);
    const c = new KilnClient({ fetch });
    await c.listCommits('p');
    await c.getTree('p');
    expect(calls.map((x) => x.url)).toEqual(['/api/v1/projects/p/commits', '/api/v1/projects/p/tree']);
  });

  it('turns {"error": {code, message}} into an ApiError', async () => {
    const { fetch } = fakeFetch([422, { error: { code: 'rule_violation', message: 'connection would make a cycle' } }]);
    const err = await new KilnClient({ fetch }).postPatch('p', 'main', { ops: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: 'rule_violation', message: 'connection would make a cycle' });
    expect((err as ApiError).isRuleViolation).toBe(true);
  });

  it('reports non-JSON errors, bad bodies and network failures as ApiErrors', async () => {
    const { fetch } = fakeFetch(
      [502, '<html>Bad Gateway</html>'],
      [404, ''],
      [200, 'not json'],
      [200, { unexpected: true }],
      new TypeError('fetch failed'),
    );
    const c = new KilnClient({ fetch });
    await expect(c.listProjects()).rejects.toMatchObject({ status: 502, code: 'http_error', message: '<html>Bad Gateway</html>' });
    await expect(c.listProjects()).rejects.toMatchObject({ status: 404, code: 'http_error', isNotFound: true });
    await expect(c.health()).rejects.toMatchObject({ code: 'bad_response' });
    await expect(c.listProjects()).rejects.toMatchObject({ code: 'bad_response' });
    await expect(c.listProjects()).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('lets an abort through untouched', async () => {
    const abort = new DOMException('aborted', 'AbortError');
    const { fetch } = fakeFetch(abort);
    await expect(new KilnClient({ fetch }).listProjects(AbortSignal.abort())).rejects.toBe(abort);
  });
});

describe('KilnClient: history and executions', () => {
  it('reads refs, diffs and both tree shapes', async () => {
    const { fetch, calls } = fakeFetch(
      [200, { commit: 'c1', tree: { root: 'r', nodes: {} } }],
      [200, { from: 'a', to: 'b', ops: [] }],
      [201, { name: 'v1', commit: 'c1' }],
      [200, { name: 'p', branches: [], tags: [] }],
    );
    const c = new KilnClient({ fetch });
    expect(await c.getTree('p', 'c1')).toEqual({ commit: 'c1', tree: { root: 'r', nodes: {} } });
    expect((await c.diff('p', 'a', 'b')).ops).toEqual([]);
    await c.createTag('p', { name: 'v1', ref: 'c1' });
    await c.getProject('p');
    expect(calls.map((x) => `${x.method} ${x.url}`)).toEqual([
      'GET /api/v1/projects/p/tree?ref=c1',
      'GET /api/v1/projects/p/diff?from=a&to=b',
      'POST /api/v1/projects/p/tags',
      'GET /api/v1/projects/p',
    ]);
  });

  it('calls the executions endpoints of the contract', async () => {
    const { fetch, calls } = fakeFetch(
      [201, { id: 'e1' }],
      [200, { executions: [] }],
      [200, { id: 'e1', jobs: [] }],
      [200, {}],
      [201, { id: 'e2' }],
      [200, { events: [{ seq: 1, time: 0, kind: 'log', payload: { line: 'x' } }], next: 1 }],
      [200, { metrics: { loss: [[0, 1]] } }],
    );
    const c = new KilnClient({ fetch });
    expect(await c.startExecution('p', { pipeline: 'g', ref: 'main', force: false })).toEqual({ id: 'e1' });
    expect(await c.listExecutions('p')).toEqual([]);
    expect((await c.getExecution('e1')).jobs).toEqual([]);
    await c.cancelExecution('e1');
    expect(await c.rerunExecution('e1', true)).toEqual({ id: 'e2' });
    expect(await c.jobEvents('j1', { after: 5, kind: 'log', limit: 10 })).toHaveLength(1);
    expect(await c.jobMetrics('j1')).toEqual({ loss: [[0, 1]] });
    expect(c.artifactUrl('abc')).toBe('/api/v1/artifacts/abc');
    expect(calls.map((x) => `${x.method} ${x.url}`)).toEqual([
      'POST /api/v1/projects/p/executions',
      'GET /api/v1/projects/p/executions',
      'GET /api/v1/executions/e1',
      'POST /api/v1/executions/e1/cancel',
      'POST /api/v1/executions/e1/rerun',
      'GET /api/v1/jobs/j1/events?after=5&kind=log&limit=10',
      'GET /api/v1/jobs/j1/metrics',
    ]);
    expect(calls[0]!.body).toEqual({ pipeline: 'g', ref: 'main', force: false });
    expect(calls[4]!.body).toEqual({ force: true });
  });

  it('lists the compute backends and names one when starting a run (docs/compute.md)', async () => {
    const backends = [
      { name: 'local', kind: 'local', slots: 2, gpus: 0, default: true },
      { name: 'cluster', kind: 'slurm', slots: 1000, gpus: 0, default: false },
    ];
    const { fetch, calls } = fakeFetch(
      [200, { backends }],
      [201, { id: 'e1' }],
      [201, { id: 's-1', trials: 1 }],
      [404, { error: { code: 'NotFound', message: 'no route GET /api/v1/backends' } }],
    );
    const c = new KilnClient({ fetch });
    expect(await c.listBackends()).toEqual(backends);
    await c.startExecution('p', { pipeline: 'g', ref: 'main', backend: 'cluster' });
    await c.startSweep('p', { pipeline: 'g', ref: 'main', parameters: [], mode: 'grid', backend: 'cluster' });
    // An older server without backends: a 404 the editor treats as "one backend".
    const old = await c.listBackends().catch((e: unknown) => e);
    expect(old).toBeInstanceOf(ApiError);
    expect((old as ApiError).status).toBe(404);
    expect(calls.map((x) => `${x.method} ${x.url}`)).toEqual([
      'GET /api/v1/backends',
      'POST /api/v1/projects/p/executions',
      'POST /api/v1/projects/p/sweeps',
      'GET /api/v1/backends',
    ]);
    expect(calls[1]!.body).toEqual({ pipeline: 'g', ref: 'main', backend: 'cluster' });
    expect((calls[2]!.body as { backend?: string }).backend).toBe('cluster');
  });

  it('calls the sweeps endpoints of docs/sweeps.md', async () => {
    const { fetch, calls } = fakeFetch(
      [201, { id: 's-1', trials: 3 }],
      [200, { sweeps: [{ id: 's-1', state: 'running' }] }],
      [200, { id: 's-1', trials: [{ index: 0, values: { 'Train.epochs': 1 }, execution: 'e1', state: 'running', metrics: {} }] }],
      [200, {}],
    );
    const c = new KilnClient({ fetch });
    const req = {
      pipeline: 'g',
      ref: 'main',
      parameters: [{ node: 'n', attribute: 'epochs', range: { min: 1, max: 3, steps: 3, integer: true } }],
      mode: 'grid' as const,
    };
    expect(await c.startSweep('my p', req)).toEqual({ id: 's-1', trials: 3 });
    expect((await c.listSweeps('my p'))[0]?.id).toBe('s-1');
    expect((await c.sweep('s-1')).trials[0]?.execution).toBe('e1');
    await c.cancelSweep('s-1');
    expect(calls.map((x) => `${x.method} ${x.url}`)).toEqual([
      'POST /api/v1/projects/my%20p/sweeps',
      'GET /api/v1/projects/my%20p/sweeps',
      'GET /api/v1/sweeps/s-1',
      'POST /api/v1/sweeps/s-1/cancel',
    ]);
    expect(calls[0]!.body).toEqual(req);
  });

  it('lists, deletes, uploads and downloads artifacts; forks projects', async () => {
    const { fetch, calls } = fakeFetch(
      [200, { artifacts: [{ guid: 'g', name: 'a b', digest: 'd1', size: 3 }], commit: 'c' }],
      [200, { deleted: 'g' }],
      [200, { deleted: 'g' }],
      [201, { name: 'copy', commit: 'c2' }],
    );
    const c = new KilnClient({ fetch, headers: { Authorization: 'Bearer t' } });
    expect(await c.listArtifacts('my p', 'exp')).toHaveLength(1);
    await c.deleteArtifact('p', 'g');
    await c.deleteArtifact('p', 'g', { branch: 'exp', force: true });
    await c.createProject({ name: 'copy', from: { project: 'p', ref: 'c0ffee' } });
    expect(calls.map((x) => `${x.method} ${x.url}`)).toEqual([
      'GET /api/v1/projects/my%20p/artifacts?ref=exp',
      'DELETE /api/v1/projects/p/artifacts/g?branch=main',
      'DELETE /api/v1/projects/p/artifacts/g?branch=exp&force=true',
      'POST /api/v1/projects',
    ]);
    expect(calls[3]!.body).toEqual({ name: 'copy', from: { project: 'p', ref: 'c0ffee' } });
    expect(c.artifactUrl('abc', 'p')).toBe('/api/v1/artifacts/abc?project=p');
    expect(c.artifactUrl('abc', 'p', 'exp')).toBe('/api/v1/artifacts/abc?project=p&ref=exp');
    expect(c.artifactUrl('abc', undefined, undefined, 'model')).toBe('/api/v1/artifacts/abc?name=model');
    expect(c.artifactUploadUrl('p', 'x y.csv', 'exp')).toBe('/api/v1/projects/p/artifacts?name=x+y.csv&branch=exp');
    expect(c.extraHeaders).toEqual({ Authorization: 'Bearer t' });
  });
});
