import { describe, expect, it } from 'vitest';
import { forkName } from './ProjectsPage';

describe('forkName', () => {
  it('picks a free name', () => {
    expect(forkName('digits', [])).toBe('digits-fork');
    expect(forkName('digits', ['digits-fork'])).toBe('digits-fork-2');
    expect(forkName('digits', ['digits-fork', 'digits-fork-2'])).toBe('digits-fork-3');
    expect(forkName('x'.repeat(64), []).length).toBeLessThanOrEqual(64);
  });
});
