import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute, projectHref } from './router';

describe('router', () => {
  it('parses and formats every view', () => {
    const hashes = [
      '#/',
      '#/p/digits',
      '#/p/digits/pipeline/abc',
      '#/p/digits/operation/def',
      '#/p/digits/architecture/a1',
      '#/p/digits/history',
      '#/p/digits/executions',
      '#/p/digits/executions/e1',
      '#/p/digits/sweeps/s-1',
      '#/p/digits/artifacts',
      '#/p/digits/artifacts?branch=exp',
      '#/p/digits/packages',
      '#/p/digits/pipeline/abc?branch=exp&at=c0ffee',
    ];
    for (const h of hashes) expect(formatRoute(parseRoute(h))).toBe(h);
  });

  it('defaults the branch and decodes names', () => {
    expect(parseRoute('#/p/my%20proj/history')).toEqual({
      page: 'project',
      project: 'my proj',
      view: { kind: 'history' },
      branch: 'main',
      at: null,
    });
    expect(parseRoute('')).toEqual({ page: 'projects' });
    expect(parseRoute('#/nope')).toMatchObject({ page: 'not-found' });
    expect(parseRoute('#/p/x/pipeline')).toMatchObject({ page: 'not-found' });
    expect(parseRoute('#/p/x/artifacts/y')).toMatchObject({ page: 'not-found' });
    expect(parseRoute('#/p/x/packages')).toMatchObject({ view: { kind: 'packages' } });
    expect(parseRoute('#/p/x/packages/y')).toMatchObject({ page: 'not-found' });
    expect(parseRoute('#/p/x/sweeps/s-1')).toMatchObject({ view: { kind: 'sweep', id: 's-1' } });
    expect(parseRoute('#/p/x/sweeps')).toMatchObject({ page: 'not-found' });
    expect(parseRoute('#/p/x/artifacts')).toMatchObject({ view: { kind: 'artifacts' } });
    expect(projectHref('a', { kind: 'history' }, { branch: 'dev' })).toBe('#/p/a/history?branch=dev');
  });
});
