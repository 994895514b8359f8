import { describe, expect, it } from 'vitest';
import type { MergeConflict } from '@kiln/client';
import { applyOps } from '../model';
import { ids, sampleTree } from '../model/testing';
import { describeConflicts, nodePath, resolution, valueWords } from './conflicts';

describe('describeConflicts', () => {
  const ours = sampleTree();
  const theirs = applyOps(ours, [{ op: 'set_attr', node: ids.Train, name: 'epochs', value: 30 }]);

  it('names the node by its path and the field and values in words', () => {
    const c: MergeConflict = { node: ids.Train, field: 'attrs/epochs', base: 10, ours: 20, theirs: 30 };
    expect(describeConflicts([c], ours, theirs)).toEqual([
      {
        node: ids.Train,
        path: 'Operations / Train',
        type: 'operation',
        field: 'attribute “epochs”',
        base: '10',
        ours: '20',
        theirs: '30',
        resolvable: true,
      },
    ]);
  });

  it('says code by its size, absent values, existence, pointers and positions', () => {
    const views = describeConflicts(
      [
        { node: ids.Load, field: 'attrs/code', base: 'a', ours: 'a\nb', theirs: '<absent>' },
        { node: ids.other, field: 'exists', base: 'present', ours: 'deleted', theirs: 'modified' },
        { node: ids.train, field: 'registry/position', base: { x: 1, y: 2 }, ours: { x: 10.4, y: 2 }, theirs: { x: 3, y: 4 } },
        { node: ids.evalOp, field: 'parent', base: ids.pipe, ours: ids.pipe2, theirs: ids.pipe },
      ],
      ours,
      null,
    );
    expect(views.map((v) => [v.path, v.field, v.base, v.ours, v.theirs, v.resolvable])).toEqual([
      ['Operations / Load', 'code', '1 line of code', '2 lines of code', 'not set', true],
      ['other / Eval', 'whether it exists', 'kept', 'deleted', 'changed', false],
      ['train / Train', 'position on the canvas', '(1, 2)', '(10, 2)', '(3, 4)', true],
      ['train / Eval', 'where it sits', '“train”', '“other”', '“train”', true],
    ]);
  });

  it('falls back to a short guid for unknown nodes', () => {
    expect(nodePath([ours], 'abcdef12-0000-4000-8000-000000000000')).toBe('abcdef12');
    expect(valueWords([ours], 'pointers/src', null)).toBe('nothing');
    expect(valueWords([ours], 'attrs/label', 'a "b"')).toBe('"a \\"b\\""');
  });
});

describe('resolution', () => {
  const c: MergeConflict = { node: ids.Train, field: 'attrs/epochs', base: 10, ours: 20, theirs: 30 };
  it('keeping ours edits the source branch; taking theirs edits the current one', () => {
    expect(resolution(c, 'ours')).toEqual({ branch: 'from', ops: [{ op: 'set_attr', node: ids.Train, name: 'epochs', value: 20 }] });
    expect(resolution(c, 'theirs')).toEqual({ branch: 'into', ops: [{ op: 'set_attr', node: ids.Train, name: 'epochs', value: 30 }] });
  });
  it('deletes a field that is absent on the kept side; moves for parents; none for existence', () => {
    expect(resolution({ ...c, theirs: '<absent>' }, 'theirs')!.ops).toEqual([{ op: 'del_attr', node: ids.Train, name: 'epochs' }]);
    expect(resolution({ node: ids.train, field: 'pointers/model', base: null, ours: ids.Eval, theirs: null }, 'theirs')!.ops).toEqual([
      { op: 'set_pointer', node: ids.train, name: 'model', target: null },
    ]);
    expect(resolution({ node: ids.train, field: 'registry/position', base: null, ours: '<absent>', theirs: 1 }, 'ours')!.ops).toEqual([
      { op: 'del_registry', node: ids.train, name: 'position' },
    ]);
    expect(resolution({ node: ids.evalOp, field: 'parent', base: ids.pipe, ours: ids.pipe2, theirs: ids.pipe }, 'ours')!.ops).toEqual([
      { op: 'move', node: ids.evalOp, parent: ids.pipe2 },
    ]);
    expect(resolution({ node: ids.other, field: 'exists', base: 'present', ours: 'deleted', theirs: 'modified' }, 'ours')).toBeNull();
  });
});
