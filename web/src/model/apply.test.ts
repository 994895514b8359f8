import { describe, expect, it } from 'vitest';
import { applyOps, tryApplyOps } from './apply';
import { PatchError } from './errors';
import { deriveGuid } from './guid';
import { connect, create, emptyTree, g, ids, port, sampleTree } from './testing';
import { effectiveAttr, effectiveAttrs, effectivePointer, effectiveRegistry } from './tree';
import type { Op, Tree } from './types';

function expectError(tree: Tree, ops: Op[], code: string, opIndex = 0): PatchError {
  const r = tryApplyOps(tree, ops);
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.error.code).toBe(code);
  expect(r.error.opIndex).toBe(opIndex);
  return r.error;
}

describe('create', () => {
  it('adds a node last by default, or at an index', () => {
    const t0 = emptyTree();
    const t1 = applyOps(t0, [create(g(1), g(0), null, { name: 'a' }), create(g(2), g(0), null), create(g(3), g(0), null, {}, { index: 0 })]);
    expect(t1.nodes[g(0)]!.children).toEqual([g(3), g(1), g(2)]);
    expect(t1.nodes[g(1)]).toEqual({
      guid: g(1),
      parent: g(0),
      base: null,
      attrs: { name: 'a' },
      pointers: {},
      registry: {},
      children: [],
    });
  });

  it('stores pointers and registry', () => {
    const t = applyOps(emptyTree(), [
      create(g(1), g(0), null),
      create(g(2), g(0), null, {}, { pointers: { ref: g(1), none: null }, registry: { position: { x: 1, y: 2 } } }),
    ]);
    expect(t.nodes[g(2)]!.pointers).toEqual({ ref: g(1), none: null });
    expect(t.nodes[g(2)]!.registry).toEqual({ position: { x: 1, y: 2 } });
  });

  it('refuses duplicates, missing parents/bases/targets, bad indexes and self-containing instances', () => {
    const t = applyOps(emptyTree(), [create(g(1), g(0), null)]);
    expectError(t, [create(g(1), g(0), null)], 'exists');
    expectError(t, [create(g(2), g(9), null)], 'not_found');
    expectError(t, [create(g(2), g(0), g(9))], 'not_found');
    expectError(t, [create(g(2), g(0), null, {}, { pointers: { p: g(9) } })], 'not_found');
    expectError(t, [create(g(2), g(0), null, {}, { index: 2 })], 'bad_index');
    expectError(t, [create(g(2), g(0), null, {}, { index: -1 })], 'bad_index');
    expectError(t, [create(g(2), g(1), g(1))], 'cycle');
    expectError(t, [create(g(2), g(1), g(0))], 'cycle');
  });

  it('materializes inherited children recursively with derived guids', () => {
    const t = sampleTree();
    const p = port(ids.train, ids.TrainIn);
    expect(t.nodes[ids.train]!.children).toEqual([
      deriveGuid(ids.train, ids.TrainIn),
      deriveGuid(ids.train, ids.TrainLabels),
      deriveGuid(ids.train, ids.TrainOut),
    ]);
    expect(t.nodes[p]).toMatchObject({ parent: ids.train, base: ids.TrainIn, attrs: {}, children: [] });
    // Two levels: an instance of a pipeline gets instances of its operations, and their ports.
    const t2 = applyOps(t, [create(g(0x40), ids.root, ids.pipe)]);
    const train2 = deriveGuid(g(0x40), ids.train);
    const train2In = deriveGuid(train2, p);
    expect(t2.nodes[train2]).toMatchObject({ parent: g(0x40), base: ids.train });
    expect(t2.nodes[train2In]).toMatchObject({ parent: train2, base: p });
    expect(effectiveAttr(t2, train2In, 'direction')).toBe('input');
    expect(effectiveAttr(t2, train2, 'epochs')).toBe(3);
  });

  it('re-aims inherited pointers into the base at the instance’s own nodes', () => {
    const conn = g(0x60);
    const t = applyOps(sampleTree(), [
      connect(conn, ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn)),
      create(g(0x40), ids.root, ids.pipe), // an instance of the whole pipeline
    ]);
    const load2 = deriveGuid(g(0x40), ids.load);
    const train2 = deriveGuid(g(0x40), ids.train);
    expect(t.nodes[deriveGuid(g(0x40), conn)]!.pointers).toEqual({
      src: deriveGuid(load2, port(ids.load, ids.LoadOut)),
      dst: deriveGuid(train2, port(ids.train, ids.TrainIn)),
    });
    // A create's own pointers may aim at the node's freshly inherited children.
    const own = applyOps(sampleTree(), [
      create(g(0x41), ids.pipe, ids.Load, {}, { pointers: { main: deriveGuid(g(0x41), ids.LoadOut) } }),
    ]);
    expect(effectivePointer(own, g(0x41), 'main')).toBe(deriveGuid(g(0x41), ids.LoadOut));
  });

  it('propagates a child created in a base to every instance (and theirs)', () => {
    const extra = g(0x50);
    const t = applyOps(sampleTree(), [
      create(g(0x40), ids.root, ids.pipe), // instance of the pipeline → instance of ids.train inside
      create(extra, ids.Train, ids.Port, { name: 'seed', direction: 'input', dataType: 'int' }),
    ]);
    const inTrain = deriveGuid(ids.train, extra);
    expect(t.nodes[ids.train]!.children.at(-1)).toBe(inTrain);
    expect(t.nodes[inTrain]!.base).toBe(extra);
    const train2 = deriveGuid(g(0x40), ids.train);
    expect(t.nodes[train2]!.children.at(-1)).toBe(deriveGuid(train2, inTrain));
    expect(effectiveAttr(t, deriveGuid(train2, inTrain), 'name')).toBe('seed');
  });
});

describe('attributes, pointers, registry', () => {
  const t = sampleTree();
  const trainIn = port(ids.train, ids.TrainIn);

  it('set_attr overrides the inherited value; del_attr shows it again', () => {
    const t1 = applyOps(t, [{ op: 'set_attr', node: trainIn, name: 'dataType', value: 'image' }]);
    expect(t1.nodes[trainIn]!.attrs).toEqual({ dataType: 'image' });
    expect(effectiveAttr(t1, trainIn, 'dataType')).toBe('image');
    expect(effectiveAttr(t1, trainIn, 'name')).toBe('data');
    const t2 = applyOps(t1, [{ op: 'del_attr', node: trainIn, name: 'dataType' }]);
    expect(t2.nodes[trainIn]!.attrs).toEqual({});
    expect(effectiveAttr(t2, trainIn, 'dataType')).toBe('tensor');
    expect(effectiveAttrs(t2, ids.train)).toEqual({ name: 'Train', epochs: 3 });
  });

  it('del_attr of an absent name is a no-op that keeps the tree', () => {
    expect(applyOps(t, [{ op: 'del_attr', node: ids.train, name: 'nope' }])).toStrictEqual(t);
  });

  it('pointers: own value, explicit null override, inherited value', () => {
    const t1 = applyOps(t, [{ op: 'set_pointer', node: ids.Train, name: 'arch', target: ids.pipe2 }]);
    expect(effectivePointer(t1, ids.train, 'arch')).toBe(ids.pipe2);
    const t2 = applyOps(t1, [{ op: 'set_pointer', node: ids.train, name: 'arch', target: null }]);
    expect(effectivePointer(t2, ids.train, 'arch')).toBeNull();
    const t3 = applyOps(t2, [{ op: 'del_pointer', node: ids.train, name: 'arch' }]);
    expect(effectivePointer(t3, ids.train, 'arch')).toBe(ids.pipe2);
    expect(effectivePointer(t3, ids.load, 'arch')).toBeUndefined();
    expectError(t, [{ op: 'set_pointer', node: ids.train, name: 'x', target: g(0x999) }], 'not_found');
  });

  it('registry values set and delete', () => {
    const t1 = applyOps(t, [{ op: 'set_registry', node: ids.load, name: 'position', value: { x: 5, y: 6 } }]);
    expect(effectiveRegistry(t1, ids.load, 'position')).toEqual({ x: 5, y: 6 });
    const t2 = applyOps(t1, [{ op: 'del_registry', node: ids.load, name: 'position' }]);
    expect(t2.nodes[ids.load]!.registry).toEqual({});
  });

  it('refuses ops on missing nodes', () => {
    for (const op of ['set_attr', 'del_attr', 'set_registry', 'del_registry', 'del_pointer'] as const)
      expectError(t, [{ op, node: g(0x999), name: 'n', value: 1 } as Op], 'not_found');
  });
});

describe('move', () => {
  const t = applyOps(emptyTree(), [
    create(g(1), g(0), null),
    create(g(2), g(0), null),
    create(g(3), g(0), null),
    create(g(4), g(1), null),
  ]);

  it('moves under another parent, last or at an index', () => {
    const t1 = applyOps(t, [{ op: 'move', node: g(3), parent: g(1), index: 0 }]);
    expect(t1.nodes[g(0)]!.children).toEqual([g(1), g(2)]);
    expect(t1.nodes[g(1)]!.children).toEqual([g(3), g(4)]);
    expect(t1.nodes[g(3)]!.parent).toBe(g(1));
    const t2 = applyOps(t, [{ op: 'move', node: g(3), parent: g(1) }]);
    expect(t2.nodes[g(1)]!.children).toEqual([g(4), g(3)]);
  });

  it('reorders within a parent; the index counts after taking the node out', () => {
    expect(applyOps(t, [{ op: 'move', node: g(1), parent: g(0), index: 2 }]).nodes[g(0)]!.children).toEqual([g(2), g(3), g(1)]);
    expect(applyOps(t, [{ op: 'move', node: g(3), parent: g(0), index: 0 }]).nodes[g(0)]!.children).toEqual([g(3), g(1), g(2)]);
  });

  it('refuses the root, cycles and bad indexes', () => {
    expectError(t, [{ op: 'move', node: g(0), parent: g(1) }], 'root');
    expectError(t, [{ op: 'move', node: g(1), parent: g(4) }], 'cycle');
    expectError(t, [{ op: 'move', node: g(1), parent: g(1) }], 'cycle');
    expectError(t, [{ op: 'move', node: g(1), parent: g(0), index: 3 }], 'bad_index');
  });
});

describe('copy', () => {
  it('deep-copies with derived guids and remaps internal pointers', () => {
    const t = applyOps(sampleTree(), [
      connect(g(0x60), ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn)),
      { op: 'set_pointer', node: ids.train, name: 'outside', target: ids.pipe2 },
    ]);
    const copy = g(0x70);
    const t1 = applyOps(t, [{ op: 'copy', node: ids.pipe, parent: ids.root, guid: copy, index: 0 }]);
    expect(t1.nodes[ids.root]!.children[0]).toBe(copy);
    const c = t1.nodes[copy]!;
    expect(c).toMatchObject({ parent: ids.root, base: ids.Pipeline, attrs: { name: 'train' } });
    expect(c.children).toEqual(t.nodes[ids.pipe]!.children.map((k) => deriveGuid(copy, k)));
    const conn = t1.nodes[deriveGuid(copy, g(0x60))]!;
    expect(conn.pointers).toEqual({
      src: deriveGuid(copy, port(ids.load, ids.LoadOut)),
      dst: deriveGuid(copy, port(ids.train, ids.TrainIn)),
    });
    // A pointer leaving the copied subtree still points at the original target.
    expect(t1.nodes[deriveGuid(copy, ids.train)]!.pointers).toEqual({ outside: ids.pipe2 });
    // Bases outside the subtree are kept, so the copies still inherit.
    expect(effectiveAttr(t1, deriveGuid(copy, port(ids.train, ids.TrainIn)), 'direction')).toBe('input');
    // The original is untouched.
    expect(t1.nodes[ids.pipe]).toBe(t.nodes[ids.pipe]);
  });

  it('refuses an existing target guid', () => {
    expectError(sampleTree(), [{ op: 'copy', node: ids.pipe, parent: ids.root, guid: ids.pipe2 }], 'exists');
  });
});

describe('delete', () => {
  const conn = g(0x60);
  const t = applyOps(sampleTree(), [
    connect(conn, ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn)),
    connect(g(0x61), ids.pipe, port(ids.train, ids.TrainOut), port(ids.evalOp, ids.EvalIn)),
    { op: 'set_pointer', node: ids.pipe2, name: 'favourite', target: ids.train },
    { op: 'set_pointer', node: ids.pipe2, name: 'keep', target: ids.load },
  ]);

  it('removes the subtree, cascades to connections and clears pointers into it', () => {
    const t1 = applyOps(t, [{ op: 'delete', node: ids.train }]);
    expect(t1.nodes[ids.train]).toBeUndefined();
    expect(t1.nodes[port(ids.train, ids.TrainIn)]).toBeUndefined();
    expect(t1.nodes[conn]).toBeUndefined();
    expect(t1.nodes[g(0x61)]).toBeUndefined();
    expect(t1.nodes[ids.pipe]!.children).toEqual([ids.load, ids.evalOp]);
    expect(t1.nodes[ids.pipe2]!.pointers).toEqual({ keep: ids.load });
    // Nothing left points at a missing node.
    for (const n of Object.values(t1.nodes)) {
      for (const c of n.children) expect(t1.nodes[c]).toBeDefined();
      for (const p of Object.values(n.pointers)) if (p !== null) expect(t1.nodes[p]).toBeDefined();
    }
  });

  it('deleting a child of a base deletes its derived children in instances', () => {
    const t1 = applyOps(t, [{ op: 'delete', node: ids.TrainLabels }]);
    expect(t1.nodes[port(ids.train, ids.TrainLabels)]).toBeUndefined();
    expect(t1.nodes[ids.train]!.children).toEqual([port(ids.train, ids.TrainIn), port(ids.train, ids.TrainOut)]);
    // Deleting the base port of a connected instance port cascades to the connection.
    const t2 = applyOps(t, [{ op: 'delete', node: ids.TrainIn }]);
    expect(t2.nodes[conn]).toBeUndefined();
  });

  it('refuses the root and nodes still inherited from outside the subtree', () => {
    expectError(t, [{ op: 'delete', node: ids.root }], 'root');
    const e = expectError(t, [{ op: 'delete', node: ids.Train }], 'inherited');
    expect(e.nodes).toContain(ids.train);
    expectError(t, [{ op: 'delete', node: g(0x999) }], 'not_found');
  });
});

describe('applyOps as a whole', () => {
  it('never mutates its input and shares untouched nodes', () => {
    const t = sampleTree();
    const snapshot = structuredClone(t);
    const t1 = applyOps(t, [
      { op: 'set_attr', node: ids.train, name: 'epochs', value: 5 },
      { op: 'delete', node: ids.other },
      create(g(0x80), ids.pipe, ids.Load),
    ]);
    expect(t).toEqual(snapshot);
    expect(t1.nodes[ids.load]).toBe(t.nodes[ids.load]);
    expect(t1.nodes[ids.Train]).toBe(t.nodes[ids.Train]);
    expect(t1.nodes[ids.train]).not.toBe(t.nodes[ids.train]);
    expect(applyOps(t, [])).toBe(t);
  });

  it('is atomic: a failing op reports its index and nothing applies', () => {
    const t = sampleTree();
    const r = tryApplyOps(t, [
      { op: 'set_attr', node: ids.train, name: 'epochs', value: 5 },
      { op: 'delete', node: g(0x999) },
    ]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.opIndex).toBe(1);
    expect(effectiveAttr(t, ids.train, 'epochs')).toBe(3);
    expect(() => applyOps(t, [{ op: 'delete', node: g(0x999) }])).toThrow(PatchError);
  });

  it('refuses unknown ops', () => {
    expectError(sampleTree(), [{ op: 'explode', node: ids.train } as unknown as Op], 'bad_op');
  });
});
