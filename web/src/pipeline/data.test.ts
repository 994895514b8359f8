import { describe, expect, it } from 'vitest';
import { applyOps, canConnect, deriveGuid, effectiveAttr, effectiveRegistry, type Op } from '../model';
import { g, ids, port, sampleTree } from '../model/testing';
import {
  addDataOperationOps,
  artifactStem,
  bindInputOps,
  dataDefinitionGuid,
  decodeDropItem,
  encodeDropItem,
  findDataDefinition,
  inputArtifact,
  inputChoices,
  operationKind,
} from './data';
import { operationDefinitions, pipelineGraph } from './model';

const DIGEST = 'ab'.repeat(32);
const csv = { digest: DIGEST, name: 'table.csv', serializer: 'raw' };

function created(ops: Op[]) {
  return ops.filter((o): o is Extract<Op, { op: 'create' }> => o.op === 'create');
}

describe('Input and Output operations', () => {
  it('creates the definition with its port the first time, then reuses it', () => {
    const tree = sampleTree();
    const first = addDataOperationOps(tree, ids.pipe, 'input', { x: 10.4, y: 20 }, { guid: g(0x70) })!;
    const def = dataDefinitionGuid(tree, 'input');
    expect(created(first.ops).map((o) => o.guid)).toEqual([def, deriveGuid(def, 'output/data'), g(0x70)]);
    const t1 = applyOps(tree, first.ops);
    expect(operationKind(t1, def)).toBe('input');
    expect(operationKind(t1, g(0x70))).toBe('input');
    expect(operationKind(t1, ids.train)).toBe('operation');
    expect(effectiveAttr(t1, g(0x70), 'name')).toBe('Input');
    expect(effectiveRegistry(t1, g(0x70), 'position')).toEqual({ x: 10, y: 20 });
    // The instance has the definition's port, ready to connect.
    const node = pipelineGraph(t1, ids.pipe).nodes.find((n) => n.id === g(0x70))!;
    expect(node.outputs.map((p) => p.name)).toEqual(['data']);
    expect(node.inputs).toEqual([]);
    expect(canConnect(t1, port(g(0x70), deriveGuid(def, 'output/data')), port(ids.train, ids.TrainLabels)).ok).toBe(true);

    const second = addDataOperationOps(t1, ids.pipe, 'input', { x: 0, y: 0 }, { guid: g(0x71) })!;
    expect(created(second.ops)).toHaveLength(1);
    const t2 = applyOps(t1, second.ops);
    expect(effectiveAttr(t2, g(0x71), 'name')).toBe('Input 2');
  });

  it('puts the definitions in the Operations folder, but not in the palette or the sidebar', () => {
    const tree = sampleTree();
    const r = addDataOperationOps(tree, ids.pipe, 'output', { x: 0, y: 0 })!;
    const t = applyOps(tree, r.ops);
    const def = dataDefinitionGuid(tree, 'output');
    expect(t.nodes[def]!.parent).toBe(ids.ops);
    expect(findDataDefinition(t, 'output')).toBe(def);
    expect(findDataDefinition(t, 'input')).toBeUndefined();
    expect(operationDefinitions(t).map((d) => d.name)).toEqual(['Load', 'Train', 'Eval']);
    const node = pipelineGraph(t, ids.pipe).nodes.find((n) => n.id === r.guid)!;
    expect(node.inputs.map((p) => p.name)).toEqual(['data']);
  });

  it('finds a definition a script made', () => {
    const tree = applyOps(sampleTree(), [
      { op: 'create', guid: g(0x80), parent: ids.ops, base: ids.Operation, attrs: { name: 'Dataset', kind: 'input' } },
    ]);
    expect(findDataDefinition(tree, 'input')).toBe(g(0x80));
    const r = addDataOperationOps(tree, ids.pipe, 'input', { x: 0, y: 0 })!;
    expect(created(r.ops)).toHaveLength(1);
    expect(created(r.ops)[0]!.base).toBe(g(0x80));
  });

  it('binds a new Input to an artifact dropped on the canvas, named after it', () => {
    const tree = sampleTree();
    const r = addDataOperationOps(tree, ids.pipe, 'input', { x: 0, y: 0 }, { artifact: csv })!;
    const t = applyOps(tree, r.ops);
    expect(effectiveAttr(t, r.guid, 'name')).toBe('table');
    expect(effectiveAttr(t, r.guid, 'serializer')).toBe('raw');
    expect(inputArtifact(t, r.guid)).toBe(DIGEST);
  });

  it('binds an existing Input, renaming it only while it has its default name', () => {
    const tree = sampleTree();
    const r = addDataOperationOps(tree, ids.pipe, 'input', { x: 0, y: 0 })!;
    let t = applyOps(tree, r.ops);
    expect(inputArtifact(t, r.guid)).toBeNull();
    t = applyOps(t, bindInputOps(t, r.guid, { ...csv, serializer: 'numpy' }));
    expect(effectiveAttr(t, r.guid, 'name')).toBe('table');
    expect(effectiveAttr(t, r.guid, 'serializer')).toBe('numpy');
    t = applyOps(t, [{ op: 'set_attr', node: r.guid, name: 'name', value: 'measurements' }]);
    const other = { digest: 'cd'.repeat(32), name: 'other.csv' };
    t = applyOps(t, bindInputOps(t, r.guid, other));
    expect(effectiveAttr(t, r.guid, 'name')).toBe('measurements');
    expect(inputArtifact(t, r.guid)).toBe('cd'.repeat(32));
    expect(effectiveAttr(t, r.guid, 'serializer')).toBe('raw');
  });

  it('names Inputs after the artifact without its extension', () => {
    expect(artifactStem('table.csv')).toBe('table');
    expect(artifactStem('model')).toBe('model');
    expect(artifactStem('.csv')).toBe('.csv');
    expect(artifactStem('a.b.tar')).toBe('a.b');
  });

  it('carries what is dragged onto the canvas in one string', () => {
    const items = [
      { kind: 'definition', guid: ids.Train },
      { kind: 'data', data: 'input' },
      { kind: 'data', data: 'output' },
      { kind: 'artifact', artifact: csv },
    ] as const;
    for (const item of items) expect(decodeDropItem(encodeDropItem(item))).toEqual(item);
    expect(encodeDropItem({ kind: 'definition', guid: ids.Train })).toBe(ids.Train);
    expect(decodeDropItem(encodeDropItem({ kind: 'artifact', artifact: { digest: DIGEST, name: 'x' } }))).toEqual({
      kind: 'artifact',
      artifact: { digest: DIGEST, name: 'x', serializer: 'raw' },
    });
    expect(decodeDropItem('kiln:artifact:not json')).toBeNull();
    expect(decodeDropItem('kiln:artifact:{"digest":"nope"}')).toBeNull();
    expect(decodeDropItem('kiln:other')).toBeNull();
    expect(decodeDropItem('')).toBeNull();
  });

  it('lists what an Input can read: the listed artifacts, then nodes the list lacks, once per digest', () => {
    const nodes = [
      { name: 'table.csv', digest: DIGEST, serializer: 'raw' },
      { name: 'old.npy', digest: 'ef'.repeat(32), serializer: 'numpy' },
    ];
    const listed = [
      { name: 'table.csv', digest: DIGEST, serializer: 'raw', origin: { kind: 'upload' } },
      { name: 'Train/model', digest: 'cd'.repeat(32), serializer: 'torch', origin: { kind: 'job', job_name: 'Train' } },
      { name: 'copy', digest: 'cd'.repeat(32), serializer: 'torch' },
    ];
    expect(inputChoices(nodes, listed)).toEqual([
      { digest: 'ef'.repeat(32), name: 'old.npy', serializer: 'numpy', note: 'numpy' },
      { digest: DIGEST, name: 'table.csv', serializer: 'raw', note: 'raw · uploaded' },
      { digest: 'cd'.repeat(32), name: 'Train/model', serializer: 'torch', note: 'torch · from Train' },
    ]);
    expect(inputChoices(nodes, [])).toHaveLength(2);
  });
});
