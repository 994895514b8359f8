import { describe, expect, it } from 'vitest';
import { commitField, fieldState, typed } from './collision';

describe('fieldState', () => {
  it('is clean while the text means the base value', () => {
    expect(fieldState('int', '10', 10, 10)).toEqual({ kind: 'clean' });
    expect(fieldState('float', '1.50', 1.5, 1.5)).toEqual({ kind: 'clean' });
    // Clean text follows a remote change (the field then shows theirs).
    expect(fieldState('int', '10', 10, 20)).toEqual({ kind: 'clean' });
  });

  it('is editing when only the user changed it', () => {
    expect(fieldState('int', '11', 10, 10)).toEqual({ kind: 'editing' });
    expect(fieldState('int', 'abc', 10, 10)).toEqual({ kind: 'editing' });
  });

  it('is a collision when the stored value moved under the typing', () => {
    expect(fieldState('int', '11', 10, 20)).toEqual({ kind: 'collision', base: 10, theirs: 20 });
    expect(fieldState('json', '{"a": 2}', { a: 1 }, { a: 3 })).toEqual({ kind: 'collision', base: { a: 1 }, theirs: { a: 3 } });
  });

  it('counts unparsable text as typed', () => {
    expect(typed('float', 'x', 1)).toBe(true);
    expect(typed('string', 'a', 'a')).toBe(false);
  });
});

describe('commitField', () => {
  it('writes when nobody else changed the value', () => {
    expect(commitField('int', '11', 10, 10)).toEqual({ kind: 'write', value: 11 });
  });

  it('asks instead of overwriting someone else’s value', () => {
    expect(commitField('int', '11', 10, 20)).toEqual({ kind: 'ask', base: 10, theirs: 20, mine: 11 });
  });

  it('writes nothing when the stored value already is the typed one', () => {
    expect(commitField('string', 'b', 'a', 'b')).toEqual({ kind: 'nothing', value: 'b' });
  });

  it('reports text that is not a value of the type', () => {
    expect(commitField('int', '1.5', 1, 1)).toEqual({ kind: 'invalid', error: 'expected a whole number' });
  });
});
