import { describe, expect, it } from 'vitest';
import { ApiError, KilnClient, type FetchLike } from '@kiln/client';
import { getLineage, MAX_DEPTH, parseDepth, parseLineage, parseReify, provJsonUrl, reify } from './api';
import { digitsLineage } from './testing';

function fakeFetch(status: number, body: unknown) {
  const calls: { url: string; method: string; body: unknown }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, method: init?.method ?? 'GET', body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
    return new Response(JSON.stringify(body), { status });
  };
  return { fetch, calls };
}

describe('getLineage', () => {
  it('asks for the lineage with depth and direction and checks the answer', async () => {
    const { fetch, calls } = fakeFetch(200, digitsLineage({ run: '1' }));
    const c = new KilnClient({ baseUrl: 'http://h:1', fetch });
    const l = await getLineage(c, 'my project', 'abc', { depth: 3, direction: 'both' });
    expect(calls[0]).toMatchObject({ method: 'GET', url: 'http://h:1/api/v1/projects/my%20project/artifacts/abc/provenance?depth=3&direction=both' });
    expect(l.jobs.map((j) => j.name)).toEqual(['Train', 'Prepare']);
    expect(l.jobs[0]!.runtime['torch']).toBe('2.1.0');
    expect(l.operations[0]!.attributes).toEqual({ epochs: 3, lr: 0.01 });
    expect(l.operations[0]!.portTypes['input/train']).toBe('Any');
    expect(l.artifacts[2]!.origin).toEqual({ kind: 'upload', user: 'ada', source: 'digits.npz', createdMs: 1_764_800_000_000 });
  });

  it('passes the server’s 404 on as an ApiError', async () => {
    const { fetch } = fakeFetch(404, { error: { code: 'not_found', message: 'no artifact abc in project p' } });
    const c = new KilnClient({ fetch });
    await expect(getLineage(c, 'p', 'abc')).rejects.toMatchObject({ status: 404, message: 'no artifact abc in project p' });
  });

  it('builds the PROV-JSON link on the client’s origin', () => {
    const c = new KilnClient({ baseUrl: 'http://h:1/' });
    expect(provJsonUrl(c, 'p', 'd', { depth: 5, direction: 'up' })).toBe(
      'http://h:1/api/v1/projects/p/artifacts/d/provenance?depth=5&direction=up&format=prov',
    );
    expect(provJsonUrl(new KilnClient(), 'p', 'd')).toBe('/api/v1/projects/p/artifacts/d/provenance?format=prov');
  });
});

describe('parseLineage', () => {
  const raw = () => digitsLineage({ run: '1' }) as Record<string, unknown>;

  it('reads cached_from of this project and of another one', () => {
    const r = raw();
    const jobs = r['jobs'] as Record<string, unknown>[];
    jobs[0]!['cached_from'] = { job: 'j-0', execution: 'e-0' };
    jobs[1]!['cached_from'] = { other_project: true };
    const l = parseLineage(r);
    expect(l.jobs[0]!.cachedFrom).toEqual({ job: 'j-0', execution: 'e-0' });
    expect(l.jobs[1]!.cachedFrom).toEqual({ otherProject: true });
  });

  it('names the field the server got wrong', () => {
    const noDigest = raw();
    delete (noDigest['artifacts'] as Record<string, unknown>[])[1]!['digest'];
    expect(() => parseLineage(noDigest)).toThrow('artifacts[1].digest is not a string');

    const badOp = raw();
    (badOp['jobs'] as Record<string, unknown>[])[0]!['operation'] = 7;
    expect(() => parseLineage(badOp)).toThrow('jobs[0].operation 7 is not an index of operations');

    const dangling = raw();
    (dangling['used'] as Record<string, unknown>[]).push({ job: 'j-nope', input: 'x', artifact: 'y' });
    expect(() => parseLineage(dangling)).toThrow('used[2].job j-nope is not in jobs');

    const kind = raw();
    (kind['artifacts'] as Record<string, unknown>[])[0]!['origin'] = { kind: 'magic' };
    expect(() => parseLineage(kind)).toThrow('artifacts[0].origin.kind "magic"');

    expect(() => parseLineage([])).toThrow(ApiError);
    expect(() => parseLineage({ ...raw(), direction: 'sideways' })).toThrow('direction "sideways"');
  });

  it('takes an artifact without an origin as of unknown origin', () => {
    const r = raw();
    delete (r['artifacts'] as Record<string, unknown>[])[2]!['origin'];
    expect(parseLineage(r).artifacts[2]!.origin).toEqual({ kind: 'unknown' });
  });
});

describe('reify', () => {
  it('posts the branch and reads the answer', async () => {
    const answer = { branch: 'reproduce-3fa9', commit: 'c1', pipeline: 'g1', jobs: { i1: 'j-1' }, notes: ['Train: a new definition in Reified'] };
    const { fetch, calls } = fakeFetch(201, answer);
    const r = await reify(new KilnClient({ fetch }), 'digits', 'abc', { branch: 'reproduce-3fa9' });
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/v1/projects/digits/artifacts/abc/reify', body: { branch: 'reproduce-3fa9' } });
    expect(r).toEqual(answer);
  });

  it('refuses an answer without a pipeline', () => {
    expect(() => parseReify({ branch: 'b', commit: 'c' })).toThrow('pipeline is not a string');
    expect(parseReify({ branch: 'b', commit: 'c', pipeline: 'p' })).toEqual({ branch: 'b', commit: 'c', pipeline: 'p', jobs: {}, notes: [] });
  });
});

describe('parseDepth', () => {
  it('takes whole numbers the server allows', () => {
    expect(parseDepth('0')).toBe(0);
    expect(parseDepth(' 12 ')).toBe(12);
    expect(parseDepth(String(MAX_DEPTH))).toBe(MAX_DEPTH);
    for (const bad of ['', '-1', '1.5', '1e3', 'ten', String(MAX_DEPTH + 1)]) expect(parseDepth(bad)).toBeNull();
  });
});
