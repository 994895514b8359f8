// check-openapi.mjs's comparison: what counts as a difference, and the
// report it prints (routes first, then a line diff).
import { describe, expect, it } from 'vitest';
import { canonicalText, compareDocuments, lineDiff, openapiUrl, routeChanges } from '../check-openapi.mjs';
import snapshot from '../openapi.json';

const doc = (paths: Record<string, Record<string, { summary: string }>>, version = '1.0') => ({
  openapi: '3.0.3',
  info: { title: 'Kiln API', version },
  paths,
});

describe('check-openapi', () => {
  it('the committed snapshot is in canonical form (what --write stores)', () => {
    expect(canonicalText(snapshot)).toBe(canonicalText(JSON.parse(canonicalText(snapshot))));
    expect(canonicalText({ b: 1, a: { d: [2, { z: 1, y: 0 }], c: null } })).toBe(
      '{\n  "a": {\n    "c": null,\n    "d": [\n      2,\n      {\n        "y": 0,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it('ignores key order and info.version, nothing else', () => {
    const a = doc({ '/api/v1/x': { get: { summary: 'X' } } }, '0.1.0');
    const reordered = { paths: a.paths, info: { version: '0.2.0', title: 'Kiln API' }, openapi: '3.0.3' };
    expect(compareDocuments(a, reordered)).toBeNull();
    expect(compareDocuments(a, { ...reordered, info: { version: '0.2.0', title: 'Other' } })).not.toBeNull();
  });

  it('names added, removed and re-described routes', () => {
    const before = doc({ '/api/v1/a': { get: { summary: 'A' }, post: { summary: 'make A' } }, '/api/v1/b': { get: { summary: 'B' } } });
    const after = doc({ '/api/v1/a': { get: { summary: 'A, now paged' } }, '/api/v1/c': { delete: { summary: 'C' } } });
    expect(routeChanges(before, after)).toEqual([
      '~ GET /api/v1/a  summary: "A" → "A, now paged"',
      '- POST /api/v1/a  (make A)',
      '- GET /api/v1/b  (B)',
      '+ DELETE /api/v1/c  (C)',
    ]);
    const report = compareDocuments(before, after) ?? [];
    expect(report[0]).toMatch(/^Routes/);
    expect(report).toContain('+ DELETE /api/v1/c  (C)');
    expect(report).toContain('Document (- snapshot, + served):');
  });

  it('diffs lines with context and elides the rest', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n');
    const b = ['1', '2', '3', '4', 'five', '6', '7', '8'].join('\n');
    expect(lineDiff(a, b, 1)).toEqual(['…', '  4', '- 5', '+ five', '  6', '…']);
    expect(lineDiff('x', 'x')).toEqual(['…']);
  });

  it('takes an origin or the document URL', () => {
    expect(openapiUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/api/v1/openapi.json');
    expect(openapiUrl('http://h:1/')).toBe('http://h:1/api/v1/openapi.json');
    expect(openapiUrl('http://h:1/api/v1/openapi.json')).toBe('http://h:1/api/v1/openapi.json');
    expect(() => openapiUrl('not a url')).toThrow();
  });
});
