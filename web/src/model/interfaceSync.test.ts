import { describe, expect, it } from 'vitest';
import projectJson from '../../../examples/digits/project.json?raw';
import { applyOps, tryApplyOps } from './apply';
import { invert } from './invert';
import { interfaceSyncOps, portChildren, type InterfaceSpec } from './interfaceSync';
import type { Library } from '../architecture/catalog';
import { libraryOps, torchLibrary } from '../architecture/testing';
import { isA, isMetaNode } from './meta';
import { sha256Hex } from './sha256';
import { codeReferences, instanceReferences, resourceChoices } from '../pipeline/references';
import digitsInterfaces from './testdata/digits-interfaces.json?raw';
import { connect, create, emptyTree, g, ids, metaOps, port, sampleTree } from './testing';
import { effectiveAttr, effectivePointer } from './tree';
import type { Guid, Op, Tree } from './types';

// sampleTree: Load(out data:tensor) → Train(in data:tensor, labels:any; out
// model:model; epochs 10) → Eval(in model:model; out report:report), with
// instances load, train (epochs 3), evalOp in pipeline "train" and an Eval
// instance in pipeline "other". Here they are wired up.
const c1 = g(0x60); // load.data → train.data
const c2 = g(0x61); // train.model → evalOp.model
const base = applyOps(sampleTree(), [
  connect(c1, ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn)),
  connect(c2, ids.pipe, port(ids.train, ids.TrainOut), port(ids.evalOp, ids.EvalIn)),
]);

const TRAIN: InterfaceSpec = {
  name: 'Train',
  inputs: [
    { name: 'data', type: 'tensor' },
    { name: 'labels', type: 'any' },
  ],
  outputs: [{ name: 'model', type: 'model' }],
  attributes: [{ name: 'epochs', default: 10 }],
};

/** A deterministic guid source for new ports. */
function counter(start = 0x900): () => Guid {
  let n = start;
  return () => g(n++);
}

/** Syncs, checks the ops apply after a code set_attr (one patch) and undo restores the tree. */
function sync(tree: Tree, definition: Guid, iface: InterfaceSpec) {
  const r = interfaceSyncOps(tree, definition, iface, counter());
  const patch: Op[] = [{ op: 'set_attr', node: definition, name: 'code', value: '# new code' }, ...r.ops];
  const applied = tryApplyOps(tree, patch);
  if (!applied.ok) throw applied.error;
  expect(applyOps(applied.tree, invert(tree, patch))).toEqual(tree);
  // Applying the sync again finds nothing left to do.
  expect(interfaceSyncOps(applied.tree, definition, iface, counter(0xa00)).ops).toEqual([]);
  return { ...r, after: applied.tree };
}

const portNames = (t: Tree, op: Guid, direction: string) =>
  portChildren(t, op)
    .filter((p) => p.direction === direction)
    .map((p) => `${p.name}:${p.dataType}`);

describe('interfaceSyncOps', () => {
  it('yields nothing when the model already matches', () => {
    const r = interfaceSyncOps(base, ids.Train, TRAIN);
    expect(r).toEqual({ ops: [], removedConnections: [], changes: [] });
  });

  it('creates a Port for a new output, which every instance inherits', () => {
    const iface = { ...TRAIN, outputs: [...TRAIN.outputs, { name: 'history', type: 'dict' }] };
    const r = sync(base, ids.Train, iface);
    expect(r.ops).toEqual([
      { op: 'create', guid: g(0x900), parent: ids.Train, base: ids.Port, attrs: { name: 'history', direction: 'output', dataType: 'dict' } },
    ]);
    expect(r.changes).toEqual(['added output history']);
    expect(portNames(r.after, ids.Train, 'output')).toEqual(['model:model', 'history:dict']);
    expect(portNames(r.after, ids.train, 'output')).toEqual(['model:model', 'history:dict']);
    expect(r.after.nodes[port(ids.train, g(0x900))]?.parent).toBe(ids.train);
  });

  it('creates a new input too, and uses random guids by default', () => {
    const iface = { ...TRAIN, inputs: [...TRAIN.inputs, { name: 'weights', type: 'any' }] };
    const r = interfaceSyncOps(base, ids.Train, iface);
    expect(r.ops).toHaveLength(1);
    const op = r.ops[0]!;
    expect(op.op === 'create' && op.attrs).toEqual({ name: 'weights', direction: 'input', dataType: 'any' });
    expect(op.op === 'create' && op.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
  });

  it('deletes a removed port after the connections on its instance ports, in any pipeline', () => {
    // Eval loses its input: evalOp's connection (pipe) goes; "other" (pipe2) gets one too.
    const otherConn = g(0x62);
    const t = applyOps(base, [
      create(g(0x70), ids.pipe2, ids.Train),
      connect(otherConn, ids.pipe2, port(g(0x70), ids.TrainOut), port(ids.other, ids.EvalIn)),
    ]);
    const r = sync(t, ids.Eval, { name: 'Eval', inputs: [], outputs: [{ name: 'report', type: 'report' }], attributes: [] });
    expect(r.ops).toEqual([
      { op: 'delete', node: c2 },
      { op: 'delete', node: otherConn },
      { op: 'delete', node: ids.EvalIn },
    ]);
    expect(r.removedConnections.map((c) => [c.guid, c.reason])).toEqual([
      [c2, 'port removed'],
      [otherConn, 'port removed'],
    ]);
    expect(r.removedConnections[0]!.label).toBe('Train.model → Eval.model in train');
    expect(r.removedConnections[0]!.pipeline).toBe(ids.pipe);
    expect(r.changes).toEqual(['removed input model']);
    for (const gone of [c2, otherConn, ids.EvalIn, port(ids.evalOp, ids.EvalIn), port(ids.other, ids.EvalIn)])
      expect(r.after.nodes[gone]).toBeUndefined();
    expect(r.after.nodes[c1]).toBeDefined(); // untouched
  });

  it('deletes a connection of a derived pipeline once, with its base connection', () => {
    // An instance of the whole pipeline: its connections are inherited children of c1, c2.
    const pipe3 = g(0x80);
    const t = applyOps(base, [create(pipe3, ids.root, ids.pipe, { name: 'copy of train' })]);
    const derived = port(pipe3, c1);
    expect(t.nodes[derived]).toBeDefined();
    expect(effectivePointer(t, derived, 'dst')).toBe(port(port(pipe3, ids.train), port(ids.train, ids.TrainIn)));
    const r = sync(t, ids.Train, { ...TRAIN, inputs: [{ name: 'labels', type: 'any' }] });
    expect(r.ops).toEqual([
      { op: 'delete', node: c1 },
      { op: 'delete', node: ids.TrainIn },
    ]);
    expect(r.removedConnections.map((c) => c.guid).sort()).toEqual([c1, derived].sort());
    expect(r.after.nodes[derived]).toBeUndefined();
  });

  it('treats one removed and one added port of the same type and direction as a rename', () => {
    const iface = { ...TRAIN, inputs: [{ name: 'images', type: 'tensor' }, TRAIN.inputs[1]!] };
    const r = sync(base, ids.Train, iface);
    expect(r.ops).toEqual([{ op: 'set_attr', node: ids.TrainIn, name: 'name', value: 'images' }]);
    expect(r.changes).toEqual(['renamed input data → images']);
    expect(r.removedConnections).toEqual([]);
    // The connection survives and now ends on the renamed instance port.
    expect(effectivePointer(r.after, c1, 'dst')).toBe(port(ids.train, ids.TrainIn));
    expect(effectiveAttr(r.after, port(ids.train, ids.TrainIn), 'name')).toBe('images');
  });

  it('renames an output the same way', () => {
    const r = sync(base, ids.Train, { ...TRAIN, outputs: [{ name: 'net', type: 'model' }] });
    expect(r.ops).toEqual([{ op: 'set_attr', node: ids.TrainOut, name: 'name', value: 'net' }]);
    expect(r.after.nodes[c2]).toBeDefined();
  });

  it('is no rename when the type differs, or when more than one port changed', () => {
    const retype = sync(base, ids.Train, { ...TRAIN, inputs: [{ name: 'images', type: 'image' }, TRAIN.inputs[1]!] });
    expect(retype.ops.map((o) => o.op)).toEqual(['delete', 'delete', 'create']);
    expect(retype.removedConnections.map((c) => c.guid)).toEqual([c1]);

    const two = sync(base, ids.Train, {
      ...TRAIN,
      inputs: [
        { name: 'x', type: 'tensor' },
        { name: 'y', type: 'any' },
      ],
    });
    expect(two.ops.filter((o) => o.op === 'delete').map((o) => o.op === 'delete' && o.node)).toEqual([c1, ids.TrainIn, ids.TrainLabels]);
    expect(portNames(two.after, ids.train, 'input')).toEqual(['x:tensor', 'y:any']);
  });

  it('does not pair ports across directions', () => {
    // "data" moves from the inputs to the outputs: a removal and an addition.
    const r = sync(base, ids.Train, {
      ...TRAIN,
      inputs: [{ name: 'labels', type: 'any' }],
      outputs: [...TRAIN.outputs, { name: 'data', type: 'tensor' }],
    });
    expect(r.changes).toEqual(['removed input data', 'added output data']);
    expect(portNames(r.after, ids.Train, 'output')).toEqual(['model:model', 'data:tensor']);
  });

  it('sets a changed type and deletes the connections it no longer fits', () => {
    const r = sync(base, ids.Train, { ...TRAIN, outputs: [{ name: 'model', type: 'tensor' }] });
    expect(r.ops).toEqual([
      { op: 'delete', node: c2 },
      { op: 'set_attr', node: ids.TrainOut, name: 'dataType', value: 'tensor' },
    ]);
    expect(r.removedConnections).toEqual([
      { guid: c2, pipeline: ids.pipe, label: 'Train.model → Eval.model in train', reason: 'type changed' },
    ]);
    expect(r.changes).toEqual(['output model: type model → tensor']);
    expect(effectiveAttr(r.after, port(ids.train, ids.TrainOut), 'dataType')).toBe('tensor');
  });

  it('keeps connections that still fit after a type change', () => {
    const any = sync(base, ids.Train, { ...TRAIN, outputs: [{ name: 'model', type: 'any' }] });
    expect(any.ops).toEqual([{ op: 'set_attr', node: ids.TrainOut, name: 'dataType', value: 'any' }]);
    expect(any.removedConnections).toEqual([]);
    // Load's output changes to "any": load.data → train.data still fits.
    const load = sync(base, ids.Load, { name: 'Load', inputs: [], outputs: [{ name: 'data', type: 'any' }], attributes: [] });
    expect(load.removedConnections).toEqual([]);
    expect(load.after.nodes[c1]).toBeDefined();
  });

  it('judges type fit on both ends as they will be', () => {
    // Scale(in x: tensor; out y: tensor), two instances chained s1.y → s2.x.
    const [Scale, X, Y, s1, s2, link] = [g(0x71), g(0x72), g(0x73), g(0x74), g(0x75), g(0x76)];
    const t = applyOps(base, [
      create(Scale, ids.ops, ids.Operation, { name: 'Scale' }),
      create(X, Scale, ids.Port, { name: 'x', direction: 'input', dataType: 'tensor' }),
      create(Y, Scale, ids.Port, { name: 'y', direction: 'output', dataType: 'tensor' }),
      create(s1, ids.pipe, Scale),
      create(s2, ids.pipe, Scale),
      connect(link, ids.pipe, port(s1, Y), port(s2, X)),
    ]);
    const both = sync(t, Scale, { name: 'Scale', inputs: [{ name: 'x', type: 'image' }], outputs: [{ name: 'y', type: 'image' }], attributes: [] });
    expect(both.ops.map((o) => o.op)).toEqual(['set_attr', 'set_attr']);
    expect(both.removedConnections).toEqual([]);
    const one = sync(t, Scale, { name: 'Scale', inputs: [{ name: 'x', type: 'tensor' }], outputs: [{ name: 'y', type: 'image' }], attributes: [] });
    expect(one.removedConnections.map((c) => [c.label, c.reason])).toEqual([['Scale.y → Scale.x in train', 'type changed']]);
    expect(one.after.nodes[link]).toBeUndefined();
  });

  it('honours a type an instance port overrides', () => {
    const t = applyOps(base, [{ op: 'set_attr', node: port(ids.evalOp, ids.EvalIn), name: 'dataType', value: 'any' }]);
    const r = sync(t, ids.Train, { ...TRAIN, outputs: [{ name: 'model', type: 'tensor' }] });
    expect(r.removedConnections).toEqual([]);
  });

  it('adds, re-defaults and removes attributes, on instances that override them too', () => {
    const r = sync(base, ids.Train, {
      ...TRAIN,
      attributes: [
        { name: 'lr', default: 0.01 },
        { name: 'layers', default: [16, 32] },
        { name: 'activation', default: null },
      ],
    });
    expect(r.ops).toEqual([
      { op: 'del_attr', node: ids.Train, name: 'epochs' },
      { op: 'del_attr', node: ids.train, name: 'epochs' },
      { op: 'set_attr', node: ids.Train, name: 'lr', value: 0.01 },
      { op: 'set_attr', node: ids.Train, name: 'layers', value: [16, 32] },
      { op: 'set_attr', node: ids.Train, name: 'activation', value: null },
      // The code's order, which the server's sorted attributes lose.
      { op: 'set_registry', node: ids.Train, name: 'attributeOrder', value: ['lr', 'layers', 'activation'] },
    ]);
    expect(r.changes).toEqual(['removed attribute epochs', 'added attribute lr', 'added attribute layers', 'added attribute activation']);
    expect(effectiveAttr(r.after, ids.train, 'epochs')).toBeUndefined();
    expect(effectiveAttr(r.after, ids.train, 'lr')).toBe(0.01);

    const dflt = sync(base, ids.Train, { ...TRAIN, attributes: [{ name: 'epochs', default: 20 }] });
    expect(dflt.ops).toEqual([{ op: 'set_attr', node: ids.Train, name: 'epochs', value: 20 }]);
    expect(dflt.changes).toEqual(['attribute epochs: default 10 → 20']);
    expect(effectiveAttr(dflt.after, ids.train, 'epochs')).toBe(3); // the instance's own value stays
  });

  it('leaves name, code and other non-parameter attributes alone', () => {
    const t = applyOps(base, [
      { op: 'set_attr', node: ids.Train, name: 'description', value: 'trains' },
      { op: 'set_attr', node: ids.Train, name: 'code', value: 'class Train: ...' },
    ]);
    expect(interfaceSyncOps(t, ids.Train, TRAIN).ops).toEqual([]);
    expect(interfaceSyncOps(t, ids.Train, { ...TRAIN, attributes: [...TRAIN.attributes, { name: 'code', default: 1 }] }).ops).toEqual([]);
  });

  it("keeps a definition's job resources (docs/compute.md) through a code save, and never makes them parameters", () => {
    const t = applyOps(base, [
      { op: 'set_attr', node: ids.Train, name: 'job_gpus', value: 1 },
      { op: 'set_attr', node: ids.Train, name: 'job_timeout_s', value: 3600 },
      { op: 'set_attr', node: ids.train, name: 'job_memory_mb', value: 4096 },
    ]);
    expect(interfaceSyncOps(t, ids.Train, TRAIN).ops).toEqual([]);
    const declared = { ...TRAIN, attributes: [...TRAIN.attributes, { name: 'job_cpus', default: 4 }] };
    expect(interfaceSyncOps(t, ids.Train, declared).ops).toEqual([]);
  });

  it('keeps references out of the attributes: none created, a former attribute of that name removed', () => {
    const withRef = { ...TRAIN, attributes: [{ name: 'net', default: null }, ...TRAIN.attributes], references: [{ name: 'net', type: 'Architecture' }] };
    expect(interfaceSyncOps(base, ids.Train, withRef).ops).toEqual([]);
    const t = applyOps(base, [{ op: 'set_attr', node: ids.Train, name: 'net', value: null }]);
    const r = sync(t, ids.Train, withRef);
    expect(r.ops).toEqual([{ op: 'del_attr', node: ids.Train, name: 'net' }]);
    expect(r.changes).toEqual(['removed attribute net']);
  });

  it('renames the operation when the class name changed', () => {
    const r = sync(base, ids.Train, { ...TRAIN, name: 'Fit' });
    expect(r.ops).toEqual([{ op: 'set_attr', node: ids.Train, name: 'name', value: 'Fit' }]);
    expect(effectiveAttr(r.after, ids.train, 'name')).toBe('Fit'); // instances without a label follow
  });

  it('puts everything in one patch in a valid order', () => {
    const r = sync(base, ids.Train, {
      name: 'Fit',
      inputs: [{ name: 'x', type: 'tensor' }, TRAIN.inputs[1]!],
      outputs: [
        { name: 'model', type: 'weights' },
        { name: 'log', type: 'any' },
      ],
      attributes: [{ name: 'epochs', default: 5 }],
    });
    expect(r.ops.map((o) => o.op)).toEqual(['delete', 'set_attr', 'set_attr', 'create', 'set_attr', 'set_attr']);
    expect(r.removedConnections.map((c) => [c.guid, c.reason])).toEqual([[c2, 'type changed']]);
    expect(r.after.nodes[c1]).toBeDefined(); // data → x is a rename
  });

  it('refuses an unknown definition', () => {
    expect(() => interfaceSyncOps(base, g(0xdead), TRAIN)).toThrow(/does not exist/);
  });
});

describe('the digits example', () => {
  // The project the server creates: its META patch, then examples/digits/project.json.
  const patch = JSON.parse(projectJson) as { ops: Op[]; libraries?: string[] };
  const fixture = JSON.parse(digitsInterfaces) as { interfaces: Record<string, InterfaceSpec> };
  const root = patch.ops[0]!.op === 'create' ? patch.ops[0]!.parent : ids.root;
  // A project that uses the PyTorch library gets its meta types first (as the server does).
  const library = patch.libraries?.includes('torch') ? libraryOps(torchLibrary as Library) : [];
  const tree = applyOps(emptyTree(root), [...metaOps(), ...library, ...patch.ops]);
  const definitions = Object.values(tree.nodes).filter(
    (n) => !isMetaNode(tree, n.guid) && isA(tree, n.guid, 'Operation') && typeof n.attrs['code'] === 'string',
  );

  it('has its four operations', () => {
    expect(root).toBe(ids.root);
    expect(definitions.map((d) => d.attrs['name']).sort()).toEqual(['LoadDigits', 'Score', 'Split', 'Train']);
  });

  it('is in sync with its code: zero ops for every operation', () => {
    for (const d of definitions) {
      const iface = fixture.interfaces[sha256Hex(d.attrs['code'] as string)];
      // Missing: the example's code changed; run web/src/model/testdata/make_digits_interfaces.py.
      expect(iface, `interface of ${String(d.attrs['name'])}`).toBeDefined();
      expect(interfaceSyncOps(tree, d.guid, iface!)).toEqual({ ops: [], removedConnections: [], changes: [] });
    }
  });

  it('reads the same references from the code as the Python parser, and the instances point at DigitsCNN', () => {
    for (const d of definitions) {
      const iface = fixture.interfaces[sha256Hex(d.attrs['code'] as string)]!;
      expect(codeReferences(d.attrs['code']), String(d.attrs['name'])).toEqual(iface.references ?? []);
    }
    const definition = definitions.find((d) => d.attrs['name'] === 'Train')!;
    const train = Object.values(tree.nodes).find((n) => n.base === definition.guid)!; // the pipeline's instance
    const refs = instanceReferences(tree, train.guid);
    expect(refs.map((r) => [r.name, r.targetName, r.problem])).toEqual([['net', 'DigitsCNN', null]]);
    expect(resourceChoices(tree, 'Architecture').map((a) => a.name)).toEqual(['DigitsCNN']);
  });

  it('adds an output to Split that the pipeline instance shows', () => {
    const split = definitions.find((d) => d.attrs['name'] === 'Split')!;
    const iface = fixture.interfaces[sha256Hex(split.attrs['code'] as string)]!;
    const r = sync(tree, split.guid, { ...iface, outputs: [...iface.outputs, { name: 'summary', type: 'any' }] });
    const instance = Object.values(r.after.nodes).find((n) => n.base === split.guid)!;
    expect(portNames(r.after, instance.guid, 'output')).toContain('summary:any');
  });
});
