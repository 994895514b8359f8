import { describe, expect, it } from 'vitest';
import type { ParamType } from './catalog';
import { allowsNone, controlOf, describeType, enumValues, formatValue, parseValue } from './params';

const intOrTuple: ParamType = { union: ['int', { tuple: 'int' }] };
const padding: ParamType = { union: [{ enum: ['same', 'valid'] }, 'int', { tuple: 'int' }] };

describe('parameter types', () => {
  it('describe themselves and choose a control', () => {
    expect(describeType(intOrTuple)).toBe('int | tuple of int');
    expect(describeType({ optional: 'float' })).toBe('float or None');
    expect(controlOf('bool')).toBe('bool');
    expect(controlOf({ optional: 'int' })).toBe('int');
    expect(controlOf({ enum: ['a', 'b'] })).toBe('enum');
    expect(controlOf(padding)).toBe('text');
    expect(enumValues(padding)).toEqual(['same', 'valid']);
    expect(allowsNone({ optional: intOrTuple })).toBe(true);
    expect(allowsNone(intOrTuple)).toBe(false);
  });
});

describe('parseValue', () => {
  it('reads numbers, booleans and text by type', () => {
    expect(parseValue('int', ' 3 ')).toEqual({ ok: true, value: 3 });
    expect(parseValue('int', '3.5')).toEqual({ ok: false, error: 'expected a whole number' });
    expect(parseValue('float', '1e-3')).toEqual({ ok: true, value: 0.001 });
    expect(parseValue('bool', 'True')).toEqual({ ok: true, value: true });
    expect(parseValue('str', "'mean'")).toEqual({ ok: true, value: 'mean' });
    expect(parseValue({ enum: ['zeros', 'reflect'] }, 'reflect')).toEqual({ ok: true, value: 'reflect' });
    expect(parseValue({ enum: ['zeros', 'reflect'] }, 'mirror')).toEqual({ ok: false, error: 'expected one of zeros, reflect' });
  });

  it('reads tuples as comma lists, with or without brackets', () => {
    expect(parseValue({ tuple: 'int' }, '3, 3')).toEqual({ ok: true, value: [3, 3] });
    expect(parseValue({ tuple: 'int' }, '(1,2,3)')).toEqual({ ok: true, value: [1, 2, 3] });
    expect(parseValue({ tuple: 'int' }, '1, x')).toEqual({ ok: false, error: 'tuple element “x”: expected a whole number' });
  });

  it('reads a union smartly and None where optional', () => {
    expect(parseValue(intOrTuple, '5')).toEqual({ ok: true, value: 5 });
    expect(parseValue(intOrTuple, '5, 3')).toEqual({ ok: true, value: [5, 3] });
    expect(parseValue(padding, 'same')).toEqual({ ok: true, value: 'same' });
    expect(parseValue(padding, 'full')).toEqual({ ok: false, error: 'expected one of same, valid | int | tuple of int' });
    expect(parseValue({ optional: intOrTuple }, 'None')).toEqual({ ok: true, value: null });
    expect(parseValue(intOrTuple, 'None')).toEqual({ ok: false, error: 'expected int | tuple of int' });
    expect(parseValue({ union: ['float', 'str'] }, '0.5')).toEqual({ ok: true, value: 0.5 });
    expect(parseValue({ union: ['float', 'str'] }, 'auto')).toEqual({ ok: true, value: 'auto' });
  });

  it('formats values back the way they are typed', () => {
    expect(formatValue([3, 3])).toBe('3, 3');
    expect(formatValue(null)).toBe('None');
    expect(formatValue(undefined)).toBe('');
    expect(formatValue(true)).toBe('true');
    expect(parseValue(intOrTuple, formatValue([2, 2]))).toEqual({ ok: true, value: [2, 2] });
  });
});
