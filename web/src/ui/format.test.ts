import { describe, expect, it } from 'vitest';
import { formatSize } from './format';

describe('formatSize', () => {
  it('uses binary units everywhere', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(18)).toBe('18 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(100 * 1024 * 1024)).toBe('100 MiB');
    expect(formatSize(2 * 1024 ** 3)).toBe('2 GiB');
    expect(formatSize(1024 * 1024 - 1)).toBe('1 MiB');
    expect(formatSize(null)).toBe('–');
  });
});
