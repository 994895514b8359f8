import { describe, expect, it } from 'vitest';
import type { OperationInterface } from '@kiln/client';
import { applyOps, type Tree } from '../model';
import { connect, g, ids, port, sampleTree } from '../model/testing';
import { codeSaveOps } from './saveCode';

const tree: Tree = applyOps(sampleTree(), [
  connect(g(0x60), ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn)),
  connect(g(0x61), ids.pipe, port(ids.train, ids.TrainOut), port(ids.evalOp, ids.EvalIn)),
]);

const TRAIN: OperationInterface = {
  name: 'Train',
  inputs: [
    { name: 'data', type: 'tensor' },
    { name: 'labels', type: 'any' },
  ],
  outputs: [{ name: 'model', type: 'model' }],
  attributes: [{ name: 'epochs', type: 'int', default: 10 }],
};

const CODE = { op: 'set_attr', node: ids.Train, name: 'code', value: 'class Train: ...' } as const;

describe('codeSaveOps', () => {
  it('saves only the code when the interface is unknown', () => {
    const r = codeSaveOps(tree, ids.Train, 'class Train: ...', null);
    expect(r.ops).toEqual([CODE]);
    expect(r.message).toMatch(/^Code saved/);
  });

  it('saves only the code when the model already matches', () => {
    expect(codeSaveOps(tree, ids.Train, 'class Train: ...', TRAIN)).toEqual({ ops: [CODE], message: 'Code saved', removedConnections: 0 });
  });

  it('puts the code first and the interface ops after it, with a summary', () => {
    const r = codeSaveOps(tree, ids.Train, 'class Train: ...', { ...TRAIN, outputs: [...TRAIN.outputs, { name: 'log', type: 'any' }] });
    expect(r.ops[0]).toEqual(CODE);
    expect(r.ops.slice(1).map((o) => o.op)).toEqual(['create']);
    expect(r.message).toBe('Code saved: added output log');
    expect(() => applyOps(tree, r.ops)).not.toThrow();
  });

  it('names the connections it removes', () => {
    const r = codeSaveOps(tree, ids.Train, 'class Train: ...', { ...TRAIN, inputs: [TRAIN.inputs[1]!], outputs: [{ name: 'model', type: 'weights' }] });
    expect(r.removedConnections).toBe(2);
    expect(r.message).toBe(
      'Code saved: removed input data; output model: type model → weights. Removed 2 connections: ' +
        'Load.data → Train.data in train (its port is gone); Train.model → Eval.model in train (types no longer match)',
    );
    expect(() => applyOps(tree, r.ops)).not.toThrow();
  });

  it('saves the code alone when the interface cannot be applied', () => {
    const r = codeSaveOps(tree, g(0xdead), 'x', TRAIN);
    expect(r.ops).toEqual([{ op: 'set_attr', node: g(0xdead), name: 'code', value: 'x' }]);
    expect(r.message).toMatch(/not applied/);
  });
});
