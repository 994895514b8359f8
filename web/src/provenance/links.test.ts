import { describe, expect, it } from 'vitest';
import { formatRoute, parseRoute } from '../router';
import { lineageHrefFrom } from './links';

describe('lineage routes', () => {
  it('round-trip with and without a compared artifact', () => {
    for (const h of ['#/p/digits/lineage/abc', '#/p/digits/lineage/abc/vs/def?branch=exp']) expect(formatRoute(parseRoute(h))).toBe(h);
    expect(parseRoute('#/p/x/lineage/abc/vs/def')).toMatchObject({ view: { kind: 'lineage', digest: 'abc', compare: 'def' } });
    expect(parseRoute('#/p/x/lineage')).toMatchObject({ page: 'not-found' });
    expect(parseRoute('#/p/x/lineage/abc/vs')).toMatchObject({ page: 'not-found' });
    expect(parseRoute('#/p/x/lineage/abc/other/def')).toMatchObject({ page: 'not-found' });
  });

  it('are made from the page’s route, keeping the branch', () => {
    expect(lineageHrefFrom('#/p/digits/executions/e1?branch=exp', 'abc')).toBe('#/p/digits/lineage/abc?branch=exp');
    expect(lineageHrefFrom('#/p/digits/pipeline/g', 'abc', 'def')).toBe('#/p/digits/lineage/abc/vs/def');
    expect(lineageHrefFrom('#/', 'abc')).toBeNull();
  });
});
