import { describe, expect, it } from 'vitest';
import { branchNameProblem, defaultBranchName } from './reify';

describe('defaultBranchName', () => {
  it('is reproduce-<digest8>, numbered past existing branches', () => {
    expect(defaultBranchName('3fa9c0ffee12')).toBe('reproduce-3fa9c0ff');
    expect(defaultBranchName('3fa9c0ffee12', ['main', 'reproduce-3fa9c0ff', 'reproduce-3fa9c0ff-2'])).toBe('reproduce-3fa9c0ff-3');
  });
});

describe('branchNameProblem', () => {
  it('accepts what the server accepts', () => {
    for (const n of ['reproduce-3fa9', 'exp/lr.0_1', 'a', 'x'.repeat(255)]) expect(branchNameProblem(n)).toBeNull();
  });
  it('says what is wrong otherwise', () => {
    expect(branchNameProblem('')).toMatch(/name/);
    expect(branchNameProblem('x'.repeat(256))).toMatch(/255/);
    expect(branchNameProblem('my branch')).toMatch(/^A space cannot be/);
    expect(branchNameProblem('é')).toMatch(/“é” cannot be/);
    expect(branchNameProblem('/a')).toMatch(/start or end/);
    expect(branchNameProblem('a/')).toMatch(/start or end/);
    expect(branchNameProblem('a//b')).toMatch(/empty/);
    expect(branchNameProblem('a/../b')).toMatch(/“\.\.”/);
    expect(branchNameProblem('main', ['main'])).toMatch(/exists already/);
  });
});
