import { describe, expect, it } from 'vitest';
import { applyOps, deriveGuid, effectiveAttr, effectiveRegistry } from '../model';
import { connect, g, ids, port, sampleTree } from '../model/testing';
import {
  artifactChoices,
  attributeFields,
  connectOps,
  createInstanceOps,
  deleteOps,
  docstring,
  operationDefinitions,
  parseAttribute,
  pasteOps,
  pipelineGraph,
  pipelines,
  uniqueName,
} from './model';

function connected() {
  return applyOps(sampleTree(), [
    connect(g(0x40), ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn)),
    connect(g(0x41), ids.pipe, port(ids.train, ids.TrainOut), port(ids.evalOp, ids.EvalIn)),
  ]);
}

describe('pipeline model', () => {
  it('lists pipelines and operation definitions (not instances, not meta)', () => {
    const t = sampleTree();
    expect(pipelines(t).map((p) => p.name)).toEqual(['train', 'other']);
    const defs = operationDefinitions(t);
    expect(defs.map((d) => d.name)).toEqual(['Load', 'Train', 'Eval']);
    const train = defs[1]!;
    expect(train.folder).toBe('Operations');
    expect(train.inputs.map((p) => p.name)).toEqual(['data', 'labels']);
    expect(train.outputs.map((p) => [p.name, p.dataType])).toEqual([['model', 'model']]);
    expect(train.attributes.map((a) => [a.name, a.type, a.value])).toEqual([['epochs', 'int', 10]]);
  });

  it('builds the graph: instances with inherited ports, connections as edges', () => {
    const graph = pipelineGraph(connected(), ids.pipe);
    expect(graph.nodes.map((n) => [n.name, n.type])).toEqual([
      ['Load', 'Load'],
      ['Train', 'Train'],
      ['Eval', 'Eval'],
    ]);
    expect(graph.nodes[0]!.position).toEqual({ x: 0, y: 0 });
    expect(graph.nodes[2]!.position).toBeNull();
    expect(graph.nodes[1]!.inputs.map((p) => p.guid)).toEqual([port(ids.train, ids.TrainIn), port(ids.train, ids.TrainLabels)]);
    expect(graph.edges).toEqual([
      { id: g(0x40), source: ids.load, sourceHandle: port(ids.load, ids.LoadOut), target: ids.train, targetHandle: port(ids.train, ids.TrainIn) },
      { id: g(0x41), source: ids.train, sourceHandle: port(ids.train, ids.TrainOut), target: ids.evalOp, targetHandle: port(ids.evalOp, ids.EvalIn) },
    ]);
  });

  it('lists the project\'s artifacts by name as choices for an Input', () => {
    const t = applyOps(sampleTree(), [
      { op: 'create', guid: g(0x70), parent: ids.root, base: ids.Artifact, attrs: { name: 'spectra.npy', digest: 'ab'.repeat(32) } },
      { op: 'create', guid: g(0x71), parent: ids.root, base: ids.Artifact, attrs: { digest: 'cd'.repeat(32) } },
      { op: 'create', guid: g(0x72), parent: ids.root, base: ids.Artifact, attrs: { name: 'no digest' } },
    ]);
    expect(artifactChoices(t)).toEqual([
      { guid: g(0x71), name: 'cd'.repeat(6), digest: 'cd'.repeat(32) },
      { guid: g(0x70), name: 'spectra.npy', digest: 'ab'.repeat(32) },
    ]);
    expect(artifactChoices(sampleTree())).toEqual([]);
  });

  it('types attribute fields from the definition and marks overrides', () => {
    const t = sampleTree();
    expect(attributeFields(t, ids.train)).toEqual([{ name: 'epochs', value: 3, type: 'int', own: true, inherited: 10 }]);
    const f = applyOps(t, [{ op: 'set_attr', node: ids.Train, name: 'rate', value: 0.5 }]);
    const rate = attributeFields(f, ids.train).find((a) => a.name === 'rate')!;
    expect(rate).toMatchObject({ type: 'float', own: false, inherited: 0.5 });
  });

  it('parses typed input', () => {
    expect(parseAttribute('int', ' 12 ')).toEqual({ ok: true, value: 12 });
    expect(parseAttribute('int', '1.5').ok).toBe(false);
    expect(parseAttribute('float', '1e-3')).toEqual({ ok: true, value: 0.001 });
    expect(parseAttribute('float', 'abc').ok).toBe(false);
    expect(parseAttribute('bool', 'true')).toEqual({ ok: true, value: true });
    expect(parseAttribute('json', '[1, {"a": 2}]')).toEqual({ ok: true, value: [1, { a: 2 }] });
    expect(parseAttribute('json', '{').ok).toBe(false);
    expect(parseAttribute('string', ' x ')).toEqual({ ok: true, value: ' x ' });
  });

  it('creates instances with unique names and positions', () => {
    const t = sampleTree();
    expect(uniqueName(t, ids.pipe, 'Train')).toBe('Train 2');
    expect(uniqueName(t, ids.pipe, 'New')).toBe('New');
    const two = applyOps(t, [{ op: 'create', guid: g(0x51), parent: ids.pipe, base: ids.Train, attrs: { name: 'Train 2' } }]);
    expect(uniqueName(two, ids.pipe, 'Train 2')).toBe('Train 3');
    const ops = createInstanceOps(t, ids.pipe, ids.Train, { x: 10.4, y: 20.6 }, g(0x50));
    const after = applyOps(t, ops);
    expect(effectiveAttr(after, g(0x50), 'name')).toBe('Train 2');
    expect(effectiveRegistry(after, g(0x50), 'position')).toEqual({ x: 10, y: 21 });
    // The instance got its ports from the definition.
    expect(after.nodes[deriveGuid(g(0x50), ids.TrainIn)]).toBeDefined();
  });

  it('connects with a Connection node', () => {
    const t = sampleTree();
    const after = applyOps(t, connectOps(t, ids.pipe, port(ids.load, ids.LoadOut), port(ids.train, ids.TrainIn), g(0x60)));
    expect(pipelineGraph(after, ids.pipe).edges).toHaveLength(1);
  });

  it('deletes nodes and only the edges that do not go with them', () => {
    const t = connected();
    const ops = deleteOps(t, [ids.evalOp], [g(0x40), g(0x41)]);
    expect(ops).toEqual([
      { op: 'delete', node: ids.evalOp },
      { op: 'delete', node: g(0x40) },
    ]);
    const after = applyOps(t, ops);
    expect(pipelineGraph(after, ids.pipe)).toMatchObject({ edges: [] });
    expect(pipelineGraph(after, ids.pipe).nodes).toHaveLength(2);
  });

  it('pastes copies with their inner connections, shifted and renamed', () => {
    const t = connected();
    let n = 0x70;
    const { ops, created } = pasteOps(t, ids.pipe, [ids.load, ids.train], { x: 40, y: 40 }, () => g(n++));
    expect(created).toEqual([g(0x70), g(0x71)]);
    const after = applyOps(t, ops);
    const graph = pipelineGraph(after, ids.pipe);
    expect(graph.nodes).toHaveLength(5);
    expect(graph.edges).toHaveLength(3); // two old, one copied (load→train)
    const copy = graph.edges.find((e) => e.source === g(0x70))!;
    expect(copy.target).toBe(g(0x71));
    expect(effectiveRegistry(after, g(0x71), 'position')).toEqual({ x: 240, y: 40 });
    expect(effectiveAttr(after, g(0x70), 'name')).toBe('Load 2');
  });

  it('reads the first docstring line of an operation', () => {
    expect(docstring('class A(kiln.Operation):\n    """Trains it.\n\n    More."""\n')).toBe('Trains it.');
    expect(docstring('x = 1')).toBe('');
    expect(docstring(undefined)).toBe('');
  });
});
