import { describe, expect, it } from 'vitest';
import { changedLines, hunks, lineDiff } from './lineDiff';

const show = (a: string, b: string) => lineDiff(a, b).map((l) => `${l.kind === 'same' ? ' ' : l.kind === 'del' ? '-' : '+'}${l.text}`);

describe('lineDiff', () => {
  it('marks changed, added and removed lines with their numbers', () => {
    expect(show('a\nb\nc\n', 'a\nB\nc\nd\n')).toEqual([' a', '-b', '+B', ' c', '+d']);
    const d = lineDiff('a\nb\nc', 'a\nc');
    expect(d[1]).toEqual({ kind: 'del', text: 'b', a: 2 });
    expect(d[2]).toEqual({ kind: 'same', text: 'c', a: 3, b: 2 });
  });

  it('finds the common lines between two edits', () => {
    expect(show('x\n1\n2\n3\ny', 'X\n1\n2\n3\nY')).toEqual(['-x', '+X', ' 1', ' 2', ' 3', '-y', '+Y']);
  });

  it('treats a final newline as the end of the last line, and empty texts as no lines', () => {
    expect(changedLines(lineDiff('a\n', 'a'))).toBe(0);
    expect(show('', 'a')).toEqual(['+a']);
    expect(show('a', '')).toEqual(['-a']);
    expect(lineDiff('', '')).toEqual([]);
  });

  it('does not build a huge table for two unrelated big files', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    const d = lineDiff(a, b);
    expect(d.length).toBe(6000);
    expect(d[0]!.kind).toBe('del');
    expect(d[5999]!.kind).toBe('add');
  });
});

describe('hunks', () => {
  it('keeps context around changes and merges nearby ones', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n');
    const b = a.replace('l3', 'L3').replace('l5', 'L5').replace('l18', 'L18');
    const hs = hunks(lineDiff(a, b), 2);
    expect(hs).toHaveLength(2);
    expect(hs[0]!.aStart).toBe(1);
    expect(hs[0]!.lines.map((l) => l.text)).toEqual(['l1', 'l2', 'l3', 'L3', 'l4', 'l5', 'L5', 'l6', 'l7']);
    expect(hs[1]!.aStart).toBe(16);
    expect(hs[1]!.bStart).toBe(16);
    expect(hunks(lineDiff(a, a))).toEqual([]);
  });

  it('numbers a hunk of added lines after the line it follows', () => {
    const hs = hunks(lineDiff('a', 'a\nb'), 0);
    expect(hs).toEqual([{ aStart: 2, bStart: 2, lines: [{ kind: 'add', text: 'b', b: 2 }] }]);
  });
});
