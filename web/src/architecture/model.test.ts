import { describe, expect, it } from 'vitest';
import { applyOps, canConnect, type Guid, type Op, type Tree } from '../model';
import { connect, g, ids } from '../model/testing';
import { connectOps, deleteOps, pasteOps } from '../pipeline/model';
import {
  addBlockOps,
  addLayerOps,
  architectureGraph,
  architectures,
  blockPortOps,
  identifier,
  interfaceOf,
  layerName,
  newArchitectureOps,
  pasteName,
  setParamOps,
  unsetParamOps,
  usesLibrary,
} from './model';
import { libIds, libraryTree } from './testing';

const net = g(0x100);
const x = g(0x101);
const conv = g(0x102);
const relu = g(0x103);

function cnn(): Tree {
  let t = libraryTree();
  t = applyOps(t, newArchitectureOps(t, 'Net', net));
  t = applyOps(t, addLayerOps(t, net, 'Input', { x: 0, y: 0 }, x));
  t = applyOps(t, addLayerOps(t, net, 'Conv2d', { x: 200, y: 0 }, conv));
  t = applyOps(t, addLayerOps(t, net, 'ReLU', { x: 400, y: 0 }, relu));
  t = applyOps(t, [
    connect(g(0x110), net, libIds.port(x, 'Input', 'output', 'output'), libIds.port(conv, 'Conv2d', 'input', 'input')),
    connect(g(0x111), net, libIds.port(conv, 'Conv2d', 'output', 'output'), libIds.port(relu, 'ReLU', 'input', 'input')),
  ]);
  return t;
}

describe('architectures in the tree', () => {
  it('needs the library; lists architectures', () => {
    expect(usesLibrary(libraryTree())).toBe(true);
    const t = cnn();
    expect(architectures(t)).toEqual([{ guid: net, name: 'Net' }]);
  });

  it('refuses a new architecture without the library', () => {
    const bare = applyOps(libraryTree(), [{ op: 'delete', node: libIds.Architecture }]);
    expect(usesLibrary(bare)).toBe(false);
    expect(() => newArchitectureOps(bare)).toThrow(/does not use the PyTorch library/);
  });

  it('reads layers with their inherited ports, types and own params', () => {
    const graph = architectureGraph(cnn(), net);
    expect(graph.nodes.map((n) => [n.name, n.type])).toEqual([
      ['x', 'Input'],
      ['conv2d', 'Conv2d'],
      ['relu', 'ReLU'],
    ]);
    const c = graph.nodes[1]!;
    expect(c.inputs.map((p) => p.name)).toEqual(['input']);
    expect(c.outputs.map((p) => [p.name, p.dataType])).toEqual([['output', 'tensor']]);
    expect(graph.nodes[0]!.params).toEqual({ shape: ['N', 3, 32, 32] });
    expect(graph.edges.map((e) => [e.source, e.target])).toEqual([
      [x, conv],
      [conv, relu],
    ]);
  });
});

describe('names', () => {
  it('are identifiers, unique in the architecture', () => {
    const t = cnn();
    expect(layerName(t, net, 'Conv2d')).toBe('conv2d_2');
    expect(layerName(t, net, 'BatchNorm2d')).toBe('batch_norm2d');
    expect(layerName(t, net, 'LeakyReLU')).toBe('leaky_relu');
    expect(layerName(t, net, 'MaxPool2d')).toBe('max_pool2d');
    expect(layerName(t, net, 'LSTM')).toBe('lstm');
    expect(layerName(t, net, 'Input')).toBe('x_2');
    expect(pasteName(t, net, 'conv2d')).toBe('conv2d_2');
    expect(identifier('my net 2')).toBe('my_net_2');
    expect(identifier('2x')).toBe('_2x');
  });
});

describe('connections in an architecture', () => {
  const t = cnn();
  const reluOut = libIds.port(relu, 'ReLU', 'output', 'output');
  const convIn = libIds.port(conv, 'Conv2d', 'input', 'input');

  it('are allowed between layers of the same architecture and refused when they close a cycle', () => {
    expect(canConnect(t, reluOut, convIn)).toEqual({ ok: false, reason: 'the connection would make a cycle' });
    let t2 = applyOps(t, addLayerOps(t, net, 'Linear', { x: 0, y: 0 }, g(0x104)));
    expect(canConnect(t2, reluOut, libIds.port(g(0x104), 'Linear', 'input', 'input'))).toEqual({ ok: true });
    t2 = applyOps(t2, connectOps(t2, net, reluOut, libIds.port(g(0x104), 'Linear', 'input', 'input'), g(0x112)));
    expect(architectureGraph(t2, net).edges).toHaveLength(3);
  });

  it('are refused across architectures, and between a layer and an operation', () => {
    let t2 = applyOps(t, newArchitectureOps(t, 'Other', g(0x200)));
    t2 = applyOps(t2, addLayerOps(t2, g(0x200), 'ReLU', { x: 0, y: 0 }, g(0x201)));
    expect(canConnect(t2, reluOut, libIds.port(g(0x201), 'ReLU', 'input', 'input'))).toEqual({
      ok: false,
      reason: 'the layers are in different architectures',
    });
  });

  it('go with a deleted layer', () => {
    const t2 = applyOps(t, deleteOps(t, [conv], []));
    expect(architectureGraph(t2, net).edges).toEqual([]);
    expect(architectureGraph(t2, net).nodes.map((n) => n.name)).toEqual(['x', 'relu']);
  });

  it('are copied with pasted layers, the copies named as identifiers', () => {
    const fresh = (() => {
      let n = 0x300;
      return () => g(n++);
    })();
    const { ops, created } = pasteOps(t, net, [conv, relu], { x: 40, y: 40 }, fresh, pasteName);
    const t2 = applyOps(t, ops);
    const graph = architectureGraph(t2, net);
    expect(graph.nodes.map((n) => n.name)).toEqual(['x', 'conv2d', 'relu', 'conv2d_2', 'relu_2']);
    expect(graph.edges.filter((e) => created.includes(e.source) && created.includes(e.target))).toHaveLength(1);
  });
});

describe('parameters', () => {
  it('are own attributes: set, then unset back to the default', () => {
    let t = applyOps(cnn(), setParamOps(conv, 'kernel_size', 3));
    t = applyOps(t, setParamOps(conv, 'padding', [1, 1]));
    expect(architectureGraph(t, net).nodes[1]!.params).toEqual({ kernel_size: 3, padding: [1, 1] });
    t = applyOps(t, unsetParamOps(conv, 'padding'));
    expect(architectureGraph(t, net).nodes[1]!.params).toEqual({ kernel_size: 3 });
  });
});

describe('blocks', () => {
  const blk = g(0x400);
  function withBlock(): { t: Tree; block: Guid } {
    let t = cnn();
    t = applyOps(t, newArchitectureOps(t, 'ResBlock', blk));
    t = applyOps(t, addLayerOps(t, blk, 'Input', { x: 0, y: 0 }, g(0x401)));
    t = applyOps(t, addLayerOps(t, blk, 'Output', { x: 0, y: 0 }, g(0x402)));
    const fresh = (() => {
      let n = 0x410;
      return () => g(n++);
    })();
    t = applyOps(t, addBlockOps(t, net, blk, { x: 600, y: 0 }, g(0x403), fresh));
    return { t, block: g(0x403) };
  }

  it('point at the architecture and have ports named after its Inputs and Outputs', () => {
    const { t, block } = withBlock();
    expect(interfaceOf(t, blk)).toEqual({ inputs: ['x'], outputs: ['out'] });
    const node = architectureGraph(t, net).nodes.find((n) => n.id === block)!;
    expect(node.type).toBe('Block');
    expect(node.block).toBe(blk);
    expect(node.params).toEqual({ count: 1 });
    expect(node.inputs.map((p) => p.name)).toEqual(['x']);
    expect(node.outputs.map((p) => p.name)).toEqual(['out']);
    // Its ports connect like a layer's.
    const reluOut = libIds.port(relu, 'ReLU', 'output', 'output');
    expect(canConnect(t, reluOut, node.inputs[0]!.guid)).toEqual({ ok: true });
  });

  it('keep their ports in step with the block architecture', () => {
    let { t, block } = withBlock();
    expect(blockPortOps(t, block)).toEqual([]);
    const keep = architectureGraph(t, net).nodes.find((n) => n.id === block)!.inputs[0]!.guid;
    t = applyOps(t, [{ op: 'set_attr', node: g(0x402), name: 'name', value: 'y' }]);
    t = applyOps(t, addLayerOps(t, blk, 'Input', { x: 0, y: 0 }, g(0x404)));
    let n = 0x420;
    const ops = blockPortOps(t, block, () => g(n++));
    expect(ops.map((o) => o.op)).toEqual(['delete', 'create', 'create']);
    t = applyOps(t, ops);
    const node = architectureGraph(t, net).nodes.find((n) => n.id === block)!;
    expect(node.inputs.map((p) => p.name)).toEqual(['x', 'x_2']);
    expect(node.inputs[0]!.guid).toBe(keep);
    expect(node.outputs.map((p) => p.name)).toEqual(['y']);
  });

  it('cannot contain the architecture they are in', () => {
    const { t } = withBlock();
    expect(() => addBlockOps(t, blk, net, { x: 0, y: 0 })).toThrow(/cannot contain itself/);
    expect(() => addBlockOps(t, net, net, { x: 0, y: 0 })).toThrow(/cannot contain itself/);
  });
});

describe('layers need their meta type', () => {
  it('names the missing type', () => {
    expect(() => addLayerOps(cnn(), net, 'Transformer', { x: 0, y: 0 })).toThrow(/no meta type for “Transformer”/);
    const ops: Op[] = addLayerOps(cnn(), net, 'Dropout', { x: 1.4, y: 2.6 }, g(0x500));
    expect(ops[0]).toMatchObject({ base: libIds.type('Dropout'), registry: { position: { x: 1, y: 3 } } });
    expect(ids.root).toBeDefined();
  });
});

describe('adding after the selected layer', () => {
  it('connects the selected layer’s first output to the new layer’s first input', async () => {
    const { addLayerAfterOps } = await import('./model');
    let t = cnn();
    t = applyOps(t, addLayerAfterOps(t, net, 'Linear', relu, { x: 600, y: 0 }, g(0x600), g(0x601)));
    const graph = architectureGraph(t, net);
    expect(graph.edges.at(-1)).toMatchObject({ source: relu, target: g(0x600), targetHandle: libIds.port(g(0x600), 'Linear', 'input', 'input') });
    // An Input has no input port: added, not connected.
    const before = architectureGraph(t, net).edges.length;
    t = applyOps(t, addLayerAfterOps(t, net, 'Input', relu, { x: 0, y: 0 }, g(0x602), g(0x603)));
    expect(architectureGraph(t, net).edges).toHaveLength(before);
  });
});
