// The client's operation-interface and merge calls: paths, bodies, and how
// the server's 422 and 409 answers become results rather than exceptions.
import { describe, expect, it } from 'vitest';
import { KilnClient, type FetchLike } from './client';
import { ApiError } from './errors';

function fake(...answers: Array<[number, unknown]>): { fetch: FetchLike; calls: { url: string; body: unknown }[] } {
  const calls: { url: string; body: unknown }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
    const a = answers.shift();
    if (!a) throw new Error('unexpected call');
    return new Response(JSON.stringify(a[1]), { status: a[0] });
  };
  return { fetch, calls };
}

const iface = { name: 'Scale', inputs: [{ name: 'x', type: 'any' }], outputs: [], attributes: [] };

describe('interface calls', () => {
  it('parses code into an interface', async () => {
    const { fetch, calls } = fake([200, { interface: iface }]);
    const c = new KilnClient({ fetch });
    expect(await c.parseInterface('my project', 'code')).toEqual({ ok: true, value: iface });
    expect(calls).toEqual([{ url: '/api/v1/projects/my%20project/interface/parse', body: { code: 'code' } }]);
  });

  it('turns a 422 into a problem with its position', async () => {
    const { fetch } = fake(
      [422, { error: { code: 'FailedPrecondition', message: 'syntax error: invalid syntax', line: 3, column: 19 } }],
      [422, { error: { code: 'FailedPrecondition', message: 'no operation class', line: null, column: null } }],
    );
    const c = new KilnClient({ fetch });
    expect(await c.parseInterface('p', 'x +')).toEqual({
      ok: false,
      problem: { message: 'syntax error: invalid syntax', line: 3, column: 19 },
    });
    expect(await c.parseInterface('p', 'x = 1')).toEqual({ ok: false, problem: { message: 'no operation class', line: null, column: null } });
  });

  it('rewrites code for an edited interface; other failures still throw', async () => {
    const { fetch, calls } = fake([200, { code: 'new code' }], [503, { error: { code: 'Unavailable', message: 'no Python' } }]);
    const c = new KilnClient({ fetch });
    expect(await c.updateInterface('p', 'old', iface)).toEqual({ ok: true, value: 'new code' });
    expect(calls[0]).toEqual({ url: '/api/v1/projects/p/interface/update', body: { code: 'old', interface: iface } });
    const err = await c.updateInterface('p', 'old', iface).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(503);
  });
});

describe('merge', () => {
  it('merges, or lists the conflicts of a 409', async () => {
    const conflict = { node: 'g', field: 'attrs/name', base: 'a', ours: 'b', theirs: 'c' };
    const { fetch, calls } = fake(
      [200, { commit: 'c9', up_to_date: false }],
      [409, { error: { code: 'Conflict', message: 'merge has 1 conflict' }, conflicts: [conflict] }],
      [409, { error: { code: 'AlreadyExists', message: 'lost a race' } }],
    );
    const c = new KilnClient({ fetch });
    expect(await c.merge('p', { from: 'exp', into: 'main' })).toEqual({ kind: 'merged', commit: 'c9', upToDate: false });
    expect(calls[0]).toEqual({ url: '/api/v1/projects/p/merge', body: { from: 'exp', into: 'main' } });
    expect(await c.merge('p', { from: 'exp', into: 'main' })).toEqual({
      kind: 'conflicts',
      message: 'merge has 1 conflict',
      conflicts: [conflict],
    });
    await expect(c.merge('p', { from: 'exp', into: 'main' })).rejects.toBeInstanceOf(ApiError);
  });
});
