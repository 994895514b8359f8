import { describe, expect, it } from 'vitest';
import { applyOps } from './apply';
import { isA, isMetaNode, metaTypeOf } from './meta';
import { canConnect } from './rules';
import { connect, create, g, ids, port, sampleTree } from './testing';

const t = sampleTree();
const loadOut = port(ids.load, ids.LoadOut);
const trainIn = port(ids.train, ids.TrainIn);
const trainLabels = port(ids.train, ids.TrainLabels);
const trainOut = port(ids.train, ids.TrainOut);
const evalIn = port(ids.evalOp, ids.EvalIn);
const evalOut = port(ids.evalOp, ids.EvalOut);

function reason(r: ReturnType<typeof canConnect>): string {
  return r.ok ? 'ok' : r.reason;
}

describe('meta types', () => {
  it('follow the base chain to the first META node', () => {
    expect(metaTypeOf(t, trainIn)).toBe('Port');
    expect(metaTypeOf(t, ids.train)).toBe('Operation');
    expect(metaTypeOf(t, ids.pipe)).toBe('Pipeline');
    expect(metaTypeOf(t, ids.Port)).toBe('Port');
    expect(metaTypeOf(t, ids.root)).toBeUndefined();
    expect(metaTypeOf(t, ids.meta)).toBeUndefined();
    expect(isA(t, trainIn, 'FCO')).toBe(true);
  });

  it('read isMeta from the node itself, so instances of meta nodes are not meta', () => {
    expect(isMetaNode(t, ids.Port)).toBe(true);
    expect(isMetaNode(t, trainIn)).toBe(false);
    // A library meta type outside META, derived from Operation, counts as one.
    const t2 = applyOps(t, [
      create(g(0x90), ids.root, ids.Operation, { name: 'Input' }, { registry: { isMeta: true } }),
      create(g(0x91), ids.pipe, g(0x90)),
    ]);
    expect(metaTypeOf(t2, g(0x91))).toBe('Input');
    expect(isA(t2, g(0x91), 'Operation')).toBe(true);
  });
});

describe('canConnect', () => {
  it('accepts output → input of the same type, or of type any (also when unset)', () => {
    const t2 = applyOps(t, [{ op: 'del_attr', node: ids.EvalIn, name: 'dataType' }, { op: 'del_attr', node: ids.Port, name: 'dataType' }]);
    expect(canConnect(t2, loadOut, evalIn)).toEqual({ ok: true });
    expect(canConnect(t, loadOut, trainIn)).toEqual({ ok: true });
    expect(canConnect(t, loadOut, trainLabels)).toEqual({ ok: true });
    expect(canConnect(t, trainOut, evalIn)).toEqual({ ok: true });
  });

  it('uses inherited and overridden port attributes', () => {
    const t2 = applyOps(t, [{ op: 'set_attr', node: trainIn, name: 'dataType', value: 'image' }]);
    expect(reason(canConnect(t2, loadOut, trainIn))).toMatch(/type mismatch/);
  });

  it('refuses wrong directions and mismatched types', () => {
    expect(reason(canConnect(t, trainIn, loadOut))).toMatch(/source must be an output/);
    expect(reason(canConnect(t, loadOut, trainOut))).toMatch(/destination must be an input/);
    expect(reason(canConnect(t, loadOut, evalIn))).toMatch(/type mismatch: "tensor" output into "model" input/);
  });

  it('refuses non-ports and missing nodes', () => {
    expect(reason(canConnect(t, ids.load, trainIn))).toMatch(/not a Port/);
    expect(reason(canConnect(t, loadOut, g(0x999)))).toMatch(/does not exist/);
  });

  it('refuses ports outside pipelines and across pipelines', () => {
    // The definitions' own ports sit in a Folder, not a Pipeline.
    expect(reason(canConnect(t, ids.LoadOut, ids.TrainIn))).toMatch(/not in a pipeline/);
    const otherIn = port(ids.other, ids.EvalIn);
    expect(reason(canConnect(t, trainOut, otherIn))).toMatch(/different pipelines/);
  });

  it('refuses cycles, including self-loops', () => {
    const t2 = applyOps(t, [
      create(g(0x80), ids.Train, ids.Port, { name: 'feedback', direction: 'input', dataType: 'report' }),
      connect(g(0x81), ids.pipe, trainOut, evalIn),
    ]);
    const feedback = port(ids.train, g(0x80));
    expect(reason(canConnect(t2, evalOut, feedback))).toMatch(/cycle/);
    const t3 = applyOps(t2, [create(g(0x82), ids.Train, ids.Port, { name: 'm', direction: 'input', dataType: 'model' })]);
    expect(reason(canConnect(t3, trainOut, port(ids.train, g(0x82))))).toMatch(/cycle/);
    // Without the closing edge the same drop is fine.
    const t4 = applyOps(t, [create(g(0x80), ids.Train, ids.Port, { name: 'feedback', direction: 'input', dataType: 'report' })]);
    expect(canConnect(t4, evalOut, port(ids.train, g(0x80)))).toEqual({ ok: true });
  });
});
