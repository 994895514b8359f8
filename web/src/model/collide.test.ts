import { describe, expect, it } from 'vitest';
import { CONFLICT_MARKERS, decideSave, hasConflictMarkers, merge3 } from './collide';

describe('decideSave', () => {
  it('saves when nobody else changed the value', () => {
    expect(decideSave('a', 'a', 'b')).toEqual({ kind: 'save' });
    expect(decideSave(3, 3, 4)).toEqual({ kind: 'save' });
  });

  it('asks when someone else changed it to something else', () => {
    expect(decideSave('a', 'c', 'b')).toEqual({ kind: 'ask' });
    expect(decideSave({ lr: 0.1 }, { lr: 0.2 }, { lr: 0.3 })).toEqual({ kind: 'ask' });
  });

  it('writes nothing when mine already is what is stored', () => {
    expect(decideSave('a', 'b', 'b')).toEqual({ kind: 'nothing' });
    expect(decideSave([1], [1], [1])).toEqual({ kind: 'nothing' });
  });

  it('compares values, not their spelling: key order does not matter', () => {
    expect(decideSave({ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 5 })).toEqual({ kind: 'save' });
  });
});

const lines = (...l: string[]) => l.join('\n');

describe('merge3', () => {
  const base = lines('class Train:', '    def __init__(self, epochs=10):', '        pass', '', 'def helper():', '    return 1');

  it('takes both sides when they changed different lines', () => {
    const theirs = base.replace('epochs=10', 'epochs=20');
    const mine = base.replace('return 1', 'return 2');
    const r = merge3(base, theirs, mine);
    expect(r.conflicts).toBe(0);
    expect(r.text).toBe(base.replace('epochs=10', 'epochs=20').replace('return 1', 'return 2'));
    expect(r.hunks.map((h) => (h.kind === 'changed' ? `${h.kind}:${h.by}` : h.kind))).toEqual([
      'same',
      'changed:theirs',
      'same',
      'changed:mine',
    ]);
  });

  it('marks lines both sides changed differently as one conflict', () => {
    const theirs = base.replace('epochs=10', 'epochs=20');
    const mine = base.replace('epochs=10', 'epochs=30');
    const r = merge3(base, theirs, mine);
    expect(r.conflicts).toBe(1);
    expect(r.text).toBe(
      lines(
        'class Train:',
        CONFLICT_MARKERS.mine,
        '    def __init__(self, epochs=30):',
        CONFLICT_MARKERS.split,
        '    def __init__(self, epochs=20):',
        CONFLICT_MARKERS.theirs,
        '        pass',
        '',
        'def helper():',
        '    return 1',
      ),
    );
    expect(hasConflictMarkers(r.text)).toBe(true);
    const c = r.hunks.find((h) => h.kind === 'conflict');
    expect(c).toEqual({
      kind: 'conflict',
      base: ['    def __init__(self, epochs=10):'],
      theirs: ['    def __init__(self, epochs=20):'],
      mine: ['    def __init__(self, epochs=30):'],
    });
  });

  it('keeps insertions of both sides at different places, and the same change once', () => {
    const theirs = lines('# theirs', base, '# end');
    const mine = lines(base, '# end');
    const r = merge3(base, theirs, mine);
    expect(r.conflicts).toBe(0);
    expect(r.text).toBe(lines('# theirs', base, '# end'));
  });

  it('sees two insertions at the same place as a conflict', () => {
    const r = merge3('a\nb', 'a\nT\nb', 'a\nM\nb');
    expect(r.conflicts).toBe(1);
    expect(r.text).toBe(lines('a', CONFLICT_MARKERS.mine, 'M', CONFLICT_MARKERS.split, 'T', CONFLICT_MARKERS.theirs, 'b'));
  });

  it('handles deletions and empty texts', () => {
    expect(merge3('a\nb\nc', 'a\nc', 'a\nb\nc\nd').text).toBe('a\nc\nd');
    expect(merge3('', 'x', '').text).toBe('x');
    expect(merge3('', 'x', 'y').conflicts).toBe(1);
    expect(merge3('same', 'same', 'same')).toEqual({ hunks: [{ kind: 'same', lines: ['same'] }], conflicts: 0, text: 'same' });
  });

  it('says whether a text still has conflict markers', () => {
    expect(hasConflictMarkers('a\n=======\nb')).toBe(false);
    expect(hasConflictMarkers(`x\n${CONFLICT_MARKERS.theirs}`)).toBe(true);
  });
});
