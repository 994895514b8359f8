import { describe, expect, it } from 'vitest';
import { formatNumber, fullText, inlineText, parseValue, showsInline } from './value';

describe('inline values', () => {
  it('shows small JSON outputs only', () => {
    expect(showsInline({ serializer: 'json', size: 18 })).toBe(true);
    expect(showsInline({ serializer: 'json', size: 4096 })).toBe(true);
    expect(showsInline({ serializer: 'json', size: 4097 })).toBe(false);
    expect(showsInline({ serializer: 'torch', size: 10 })).toBe(false);
    expect(showsInline({ serializer: 'json' })).toBe(false);
  });

  it('prints numbers as people read them', () => {
    expect(formatNumber(42)).toBe('42');
    expect(formatNumber(0.9583333333333334)).toBe('0.958333');
    expect(formatNumber(1.5e-7)).toBe('1.5e-7');
    expect(formatNumber(123456789012.5)).toBe('1.2346e+11');
    expect(formatNumber(0)).toBe('0');
  });

  it('prints any JSON value on one line, cut to a length', () => {
    expect(inlineText(0.25)).toBe('0.25');
    expect(inlineText('3')).toBe('"3"');
    expect(inlineText(true)).toBe('true');
    expect(inlineText(null)).toBe('null');
    expect(inlineText({ mean: 2.0000001, n: 3 })).toBe('{"mean":2,"n":3}');
    expect(inlineText([1, 2, 3])).toBe('[1,2,3]');
    const long = inlineText(Array.from({ length: 100 }, (_, i) => i), 20);
    expect(long).toHaveLength(20);
    expect(long.endsWith('…')).toBe(true);
  });

  it('parses fetched bytes and indents the whole value', () => {
    expect(parseValue('{"a": 1}')).toEqual({ a: 1 });
    expect(parseValue('not json')).toBeUndefined();
    expect(fullText({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
