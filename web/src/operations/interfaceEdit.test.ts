import { describe, expect, it } from 'vitest';
import type { OperationInterface } from '@kiln/client';
import {
  addField,
  defaultText,
  nameProblem,
  parseDefault,
  problemRange,
  removeField,
  renameField,
  retypeField,
  setDefault,
} from './interfaceEdit';

const iface: OperationInterface = {
  name: 'Scale',
  inputs: [{ name: 'x', type: 'any' }],
  outputs: [{ name: 'y', type: 'any' }],
  attributes: [{ name: 'factor', type: 'float', default: 2.5 }],
};

describe('problemRange', () => {
  const text = 'class Op(Operation):\n    def execute(self, x):\n        return x +\n';
  it('marks from the column to the end of the line', () => {
    const r = problemRange(text, { message: 'syntax error: invalid syntax', line: 3, column: 19 });
    const lineStart = text.indexOf('        return');
    expect(r.from).toBe(lineStart + 18);
    expect(r.to).toBe(lineStart + '        return x +'.length);
    expect(r.message).toBe('line 3, column 19: syntax error: invalid syntax');
  });

  it('marks the first line when there is no position, and clamps past the end', () => {
    expect(problemRange(text, { message: 'no operation class', line: null, column: null })).toEqual({
      from: 0,
      to: 'class Op(Operation):'.length,
      message: 'no operation class',
    });
    const r = problemRange('ab', { message: 'm', line: 9, column: 40 });
    expect(r.from).toBe(2);
    expect(r.to).toBe(2);
  });

  it('counts columns in characters, as Python does', () => {
    // 😀 is two UTF-16 code units but one character.
    const r = problemRange('s = "😀" +', { message: 'm', line: 1, column: 9 });
    expect(r.from).toBe(9);
  });
});

describe('interface edits', () => {
  it('adds fields with fresh names', () => {
    const a = addField(addField(iface, 'inputs'), 'inputs');
    expect(a.inputs.map((p) => p.name)).toEqual(['x', 'data', 'data2']);
    expect(addField(iface, 'attributes').attributes[1]).toEqual({ name: 'param', type: 'int', default: 0 });
    expect(addField(iface, 'outputs').outputs[1]).toEqual({ name: 'result', type: 'any' });
    expect(iface.inputs).toHaveLength(1); // not mutated
  });

  it('renames, removes and retypes', () => {
    expect(renameField(iface, 'inputs', 0, 'images').inputs[0]).toEqual({ name: 'images', type: 'any' });
    expect(renameField(iface, 'inputs', 0, 'x')).toBe(iface);
    expect(removeField(iface, 'outputs', 0).outputs).toEqual([]);
    expect(retypeField(iface, 'inputs', 0, 'torch.Tensor').inputs[0]!.type).toBe('torch.Tensor');
    expect(retypeField(iface, 'attributes', 0, 'int').attributes[0]).toEqual({ name: 'factor', type: 'int', default: 2 });
    expect(retypeField(iface, 'attributes', 0, 'bool').attributes[0]).toEqual({ name: 'factor', type: 'bool', default: null, required: true });
    expect(setDefault(iface, 0, 0.1).attributes[0]!.default).toBe(0.1);
  });

  it('checks names', () => {
    expect(nameProblem(iface, 'inputs', 0, 'images')).toBeNull();
    expect(nameProblem(iface, 'inputs', 0, '2x')).toMatch(/not a Python name/);
    expect(nameProblem(iface, 'inputs', 0, 'class')).toMatch(/keyword/);
    expect(nameProblem(iface, 'inputs', 0, 'self')).toMatch(/self/);
    expect(nameProblem(addField(iface, 'inputs'), 'inputs', 1, 'x')).toMatch(/already an input/);
    const withRef = { ...iface, references: [{ name: 'net', type: 'Architecture' }] };
    expect(nameProblem(withRef, 'attributes', 0, 'net')).toBe('“net” is a reference (Architecture)');
    expect(nameProblem(withRef, 'inputs', 0, 'net')).toBeNull(); // execute's parameters are another list
  });

  it('reads and shows defaults by type', () => {
    expect(parseDefault('int', '42')).toEqual({ ok: true, value: 42 });
    expect(parseDefault('int', '4.2').ok).toBe(false);
    expect(parseDefault('float', '1e-3')).toEqual({ ok: true, value: 0.001 });
    expect(parseDefault('bool', 'True')).toEqual({ ok: true, value: true });
    expect(parseDefault('str', ' a b ')).toEqual({ ok: true, value: ' a b ' });
    expect(parseDefault('any', '[1, 2]')).toEqual({ ok: true, value: [1, 2] });
    expect(parseDefault('any', 'None')).toEqual({ ok: true, value: null });
    expect(parseDefault('list', 'nope').ok).toBe(false);
    expect(defaultText({ name: 'a', type: 'bool', default: false })).toBe('False');
    expect(defaultText({ name: 'a', type: 'str', default: 'relu' })).toBe('relu');
    expect(defaultText({ name: 'a', type: 'any', default: null, expr: 'nn.ReLU()' })).toBe('nn.ReLU()');
    expect(defaultText({ name: 'a', type: 'any', default: null, required: true })).toBe('');
  });
});
