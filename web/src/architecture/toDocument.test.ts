import { describe, expect, it } from 'vitest';
import { applyOps, type Op, type Tree } from '../model';
import { connect, emptyTree, g, ids, metaOps } from '../model/testing';
import type { Library } from './catalog';
import { addBlockOps, addLayerOps, architectures, newArchitectureOps, setParamOps } from './model';
import { libIds, libraryTree } from './testing';
import { catalogFixture, libraryOps, torchLibrary } from './testing';
import { blockDocument, className, toDocument, type ArchitectureDocument } from './toDocument';

const net = g(0x100);
const [x, conv, act, fc, out] = [g(0x101), g(0x102), g(0x103), g(0x104), g(0x105)];

function lenet(): Tree {
  let t = libraryTree();
  t = applyOps(t, newArchitectureOps(t, 'LeNet', net));
  const add = (type: string, guid: string) => (t = applyOps(t, addLayerOps(t, net, type, { x: 0, y: 0 }, guid)));
  add('Input', x);
  add('Conv2d', conv);
  add('ReLU', act);
  add('Linear', fc);
  add('Output', out);
  t = applyOps(t, [
    ...setParamOps(x, 'shape', ['N', 1, 28, 28]),
    ...setParamOps(conv, 'out_channels', 6),
    ...setParamOps(conv, 'kernel_size', [5, 5]),
    ...setParamOps(fc, 'out_features', 10),
    { op: 'set_attr', node: conv, name: 'name', value: 'conv1' },
    // Edges in child order: the second one is listed first in the document.
    connect(g(0x110), net, libIds.port(conv, 'Conv2d', 'output', 'output'), libIds.port(act, 'ReLU', 'input', 'input')),
    connect(g(0x111), net, libIds.port(x, 'Input', 'output', 'output'), libIds.port(conv, 'Conv2d', 'input', 'input')),
    connect(g(0x112), net, libIds.port(act, 'ReLU', 'output', 'output'), libIds.port(fc, 'Linear', 'input', 'input')),
    connect(g(0x113), net, libIds.port(fc, 'Linear', 'output', 'output'), libIds.port(out, 'Output', 'input', 'input')),
  ]);
  return t;
}

describe('toDocument', () => {
  it('names classes as the server does', () => {
    expect(className('My net')).toBe('My_net');
    expect(className('2stage')).toBe('Net2stage');
    expect(className('class')).toBe('class_');
    expect(className('')).toBe('Net');
  });

  it('leaves out None and, with the catalog, attributes that are not parameters of the type', () => {
    const t = applyOps(lenet(), [
      ...setParamOps(conv, 'stride', null),
      ...setParamOps(conv, 'colour', 'red'),
      ...setParamOps(x, 'shape', ['N', 1, 8, 8]),
    ]);
    const withCatalog = toDocument(t, net, { ...catalogFixture, types: catalogFixture.types.map((ty) => (ty.name === 'Input' ? { ...ty, params: [{ name: 'shape', type: 'any', required: true }] } : ty)) });
    expect(withCatalog.architectures['LeNet']!.nodes[1]!.params).toEqual({ out_channels: 6, kernel_size: [5, 5] });
    expect(withCatalog.architectures['LeNet']!.nodes[0]!.params).toEqual({ shape: ['N', 1, 8, 8] });
    // Without it (not loaded yet) the unknown attribute goes, for the analysis to name.
    expect(toDocument(t, net).architectures['LeNet']!.nodes[1]!.params).toEqual({ out_channels: 6, kernel_size: [5, 5], colour: 'red' });
  });

  it('writes nodes (id = guid, name, type, own params) and edges by port name in child order', () => {
    expect(toDocument(lenet(), net)).toEqual({
      main: 'LeNet',
      architectures: {
        LeNet: {
          nodes: [
            { id: x, name: 'x', type: 'Input', params: { shape: ['N', 1, 28, 28] } },
            { id: conv, name: 'conv1', type: 'Conv2d', params: { out_channels: 6, kernel_size: [5, 5] } },
            { id: act, name: 'relu', type: 'ReLU' },
            { id: fc, name: 'linear', type: 'Linear', params: { out_features: 10 } },
            { id: out, name: 'out', type: 'Output' },
          ],
          edges: [
            [`${conv}.output`, `${act}.input`],
            [`${x}.output`, `${conv}.input`],
            [`${act}.output`, `${fc}.input`],
            [`${fc}.output`, `${out}.input`],
          ],
        },
      },
    });
  });

  it('adds the architectures of blocks, named, with the block parameter set', () => {
    let t = lenet();
    const inner = g(0x200);
    const outer = g(0x300);
    t = applyOps(t, newArchitectureOps(t, 'Stage', inner));
    t = applyOps(t, addLayerOps(t, inner, 'Input', { x: 0, y: 0 }, g(0x201)));
    t = applyOps(t, addLayerOps(t, inner, 'Output', { x: 0, y: 0 }, g(0x202)));
    t = applyOps(t, [
      connect(g(0x203), inner, libIds.port(g(0x201), 'Input', 'output', 'output'), libIds.port(g(0x202), 'Output', 'input', 'input')),
    ]);
    t = applyOps(t, newArchitectureOps(t, 'Top', outer));
    let n = 0x310;
    const fresh = () => g(n++);
    t = applyOps(t, addBlockOps(t, outer, inner, { x: 0, y: 0 }, g(0x301), fresh));
    t = applyOps(t, [...setParamOps(g(0x301), 'count', 3)]);
    // A second architecture also called "Stage": it must not be confused with the first.
    t = applyOps(t, newArchitectureOps(t, 'Stage', g(0x400)));
    t = applyOps(t, addBlockOps(t, outer, g(0x400), { x: 0, y: 0 }, g(0x302), fresh));
    const doc = toDocument(t, outer);
    expect(doc.main).toBe('Top');
    expect(Object.keys(doc.architectures)).toEqual(['Top', 'Stage', 'Stage_2']);
    expect(doc.architectures['Top']!.nodes).toEqual([
      { id: g(0x301), name: 'stage', type: 'Block', params: { count: 3, block: 'Stage' } },
      { id: g(0x302), name: 'stage_2', type: 'Block', params: { count: 1, block: 'Stage_2' } },
    ]);
    expect(doc.architectures['Stage']!.edges).toEqual([[`${g(0x201)}.output`, `${g(0x202)}.input`]]);
    expect(doc.architectures['Stage_2']).toEqual({ nodes: [], edges: [] });
  });
});

describe('the digits example', () => {
  // examples/digits: the project the server creates (its library first), and
  // the document its DigitsCNN was built from (examples/build.py).
  it('reads back the document its DigitsCNN was made from', async () => {
    const project = JSON.parse((await import('../../../examples/digits/project.json?raw')).default) as { ops: Op[] };
    const source = JSON.parse((await import('../../../examples/digits/architectures/DigitsCNN.json?raw')).default) as ArchitectureDocument;
    const lib = torchLibrary as Library;
    const t = applyOps(emptyTree(ids.root), [...metaOps(), ...libraryOps(lib), ...project.ops]);
    const arch = architectures(t).find((a) => a.name === 'DigitsCNN')!;
    const doc = toDocument(t, arch.guid, lib);
    const mine = doc.architectures['DigitsCNN']!;
    const want = source.architectures['DigitsCNN']!;
    const names = new Map(mine.nodes.map((n) => [n.id, n.name]));
    expect(doc.main).toBe('DigitsCNN');
    expect(mine.nodes.map((n) => ({ id: n.name, type: n.type, ...(n.params ? { params: n.params } : {}) }))).toEqual(want.nodes);
    const named = (end: string) => `${names.get(end.split('.')[0]!)}.${end.split('.')[1]}`;
    expect(mine.edges.map(([a, b]) => [named(a), named(b)])).toEqual(want.edges.map(([a, b]) => [`${a}.output`, `${b}.input`]));
  });
});

describe('blockDocument', () => {
  it('gives the block architecture’s Inputs the shapes its ports receive', () => {
    const t = lenet();
    const doc = blockDocument(t, net, { x: ['N', 1, 12, 12], other: ['N', 2] });
    expect(doc.architectures['LeNet']!.nodes[0]).toEqual({ id: x, name: 'x', type: 'Input', params: { shape: ['N', 1, 12, 12] } });
    expect(doc.architectures['LeNet']!.nodes.slice(1)).toEqual(toDocument(t, net).architectures['LeNet']!.nodes.slice(1));
  });
});
