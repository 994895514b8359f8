import { describe, expect, it } from 'vitest';
import { applyOps } from '../model';
import { g } from '../model/testing';
import { documentOps } from './fromDocument';
import { architectureGraph, architectures, newArchitectureOps } from './model';
import { libraryTree } from './testing';
import { toDocument, type ArchitectureDocument } from './toDocument';

const doc: ArchitectureDocument = {
  main: 'Net',
  architectures: {
    Net: {
      nodes: [
        { id: 'x', type: 'Input', params: { shape: ['N', 1, 28, 28] } },
        { id: 'conv', type: 'Conv2d', params: { out_channels: 4, kernel_size: 3 } },
        { id: 'stage', type: 'Block', params: { block: 'Stage', count: 2 } },
        { id: 'fc', type: 'Linear', params: { out_features: 10 } },
      ],
      edges: [
        ['x', 'conv'],
        ['conv.output', 'stage.inp'],
        ['stage', 'fc'],
      ],
    },
    Stage: {
      nodes: [
        { id: 'inp', type: 'Input', params: { shape: ['N', 4, 26, 26] } },
        { id: 'r', name: 'act', type: 'ReLU' },
        { id: 'o', name: 'result', type: 'Output' },
      ],
      edges: [
        ['inp', 'r'],
        ['r', 'o'],
      ],
    },
  },
};

describe('documentOps (import)', () => {
  it('creates the architectures, and converting them back gives the same graph', () => {
    let t = libraryTree();
    t = applyOps(t, newArchitectureOps(t, 'Net', g(0x900))); // the name is taken: the import is Net2
    let n = 0x1000;
    const { ops, main } = documentOps(t, doc, () => g(n++));
    t = applyOps(t, ops);
    expect(architectures(t).map((a) => a.name)).toEqual(['Net', 'Net2', 'Stage']);
    const graph = architectureGraph(t, main);
    expect(graph.nodes.map((x) => [x.name, x.type, x.params])).toEqual([
      ['x', 'Input', { shape: ['N', 1, 28, 28] }],
      ['conv', 'Conv2d', { out_channels: 4, kernel_size: 3 }],
      ['stage', 'Block', { count: 2 }],
      ['fc', 'Linear', { out_features: 10 }],
    ]);
    expect(graph.nodes.every((x) => x.position !== null)).toBe(true);
    expect(graph.nodes[2]!.inputs.map((p) => p.name)).toEqual(['inp']);
    expect(graph.nodes[2]!.outputs.map((p) => p.name)).toEqual(['result']);
    const back = toDocument(t, main);
    expect(Object.keys(back.architectures)).toEqual(['Net2', 'Stage']);
    const names = new Map(graph.nodes.map((x) => [x.id, x.name]));
    expect(back.architectures['Net2']!.edges.map(([a, b]) => [names.get(a.split('.')[0]!) + '.' + a.split('.')[1], names.get(b.split('.')[0]!) + '.' + b.split('.')[1]])).toEqual([
      ['x.output', 'conv.input'],
      ['conv.output', 'stage.inp'],
      ['stage.result', 'fc.input'],
    ]);
    expect(back.architectures['Net2']!.nodes[2]!.params).toEqual({ count: 2, block: 'Stage' });
  });

  it('names what it cannot create', () => {
    const t = libraryTree();
    const bad: ArchitectureDocument = { main: 'N', architectures: { N: { nodes: [{ id: 'a', type: 'Transformer' }], edges: [] } } };
    expect(() => documentOps(t, bad)).toThrow('node “a”: this project has no meta type “Transformer”');
    const edge: ArchitectureDocument = { main: 'N', architectures: { N: { nodes: [{ id: 'a', type: 'ReLU' }], edges: [['a', 'b']] } } };
    expect(() => documentOps(t, edge)).toThrow('edge end “b”: no node “b” in N');
  });
});

describe('documentOps layout', () => {
  it('places a chain top to bottom, as the editor draws it', () => {
    let t = libraryTree();
    let n = 0x2000;
    const chain: ArchitectureDocument = {
      main: 'C',
      architectures: { C: { nodes: [{ id: 'a', type: 'Input', params: { shape: ['N', 3] } }, { id: 'b', type: 'ReLU' }], edges: [['a', 'b']] } },
    };
    const { ops, main } = documentOps(t, chain, () => g(n++));
    t = applyOps(t, ops);
    const [a, b] = architectureGraph(t, main).nodes;
    expect(a!.position!.x).toBe(b!.position!.x);
    expect(b!.position!.y).toBeGreaterThan(a!.position!.y);
  });
});
