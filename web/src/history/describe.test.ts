import { describe, expect, it } from 'vitest';
import { applyOps, type Op } from '../model';
import { connect, g, ids, port, sampleTree } from '../model/testing';
import { describeOps } from './describe';

describe('describeOps', () => {
  it('writes one readable line per change, folding created children', () => {
    const from = sampleTree();
    const ops: Op[] = [
      { op: 'create', guid: g(0x80), parent: ids.pipe, base: ids.Train, attrs: { name: 'Train 2' } },
      { op: 'create', guid: g(0x81), parent: g(0x80), base: ids.Port, attrs: { name: 'extra' } },
      connect(g(0x82), ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn)),
      { op: 'set_attr', node: ids.train, name: 'epochs', value: 7 },
      { op: 'set_attr', node: ids.Load, name: 'code', value: 'a\nb\nc' },
      { op: 'set_attr', node: ids.evalOp, name: 'name', value: 'Score' },
      { op: 'set_registry', node: ids.load, name: 'position', value: { x: 1, y: 2 } },
      { op: 'del_attr', node: ids.train, name: 'epochs' },
      { op: 'delete', node: ids.other },
    ];
    const to = applyOps(from, ops);
    const changes = describeOps(ops, from, to);
    expect(changes.map((c) => [c.kind, c.text, c.detail])).toEqual([
      ['added', 'Added operation “Train 2” (from Train) in “train”', 'with 1 child node'],
      ['added', 'Connected Load.data → Train.data', undefined],
      ['changed', 'Set epochs of operation “Train” to 7', 'was 3'],
      ['changed', 'Edited the code of operation “Load”', '1 → 3 lines'],
      ['changed', 'Renamed operation “Eval” to “Score”', undefined],
      ['moved', 'Moved “Load” on the canvas', undefined],
      ['changed', 'Reset epochs of operation “Train” to the inherited value', undefined],
      ['removed', 'Removed operation “Eval”', undefined],
    ]);
  });
});
