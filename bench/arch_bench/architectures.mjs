// The architecture benchmark's generated architectures, as patches
// (docs/patches.md) on a project that uses the PyTorch library
// (docs/libraries.md): layers are instances of the library's meta types
// DeriveGuid("kiln-library-torch", "meta/<Type>") whose ports the server
// materializes as DeriveGuid(layer, DeriveGuid(meta, "<direction>/<port>")),
// connections are core Connections inside the architecture, a Block points at
// its architecture (`block`) and has one Port child per Input/Output node of
// it (what the editor's addBlockOps makes).
//
// Every layer keeps the spatial size, so changing the Input's H and W
// changes the shape on every edge: what the edit figure (a) waits for.
import { deriveGuid } from '../web_bench/project.mjs';

const CORE = 'kiln-core-meta'; // src/model/meta.cc
const TORCH = 'kiln-library-torch';
const ROOT = deriveGuid(CORE, 'root');
const CONNECTION = deriveGuid(CORE, 'meta/Connection');
const PORT = deriveGuid(CORE, 'meta/Port');
const meta = (type) => deriveGuid(TORCH, `meta/${type}`);
const layerPort = (layer, type, direction, name) => deriveGuid(layer, deriveGuid(meta(type), `${direction}/${name}`));

export const CHANNELS = 8;

/**
 * Builds one architecture's ops. `body(b)` adds layers with b.layer / b.block
 * and wires them with b.connect; positions follow the order of creation,
 * top to bottom in columns of `rows` (the editor's data flows downwards).
 */
function architecture(name, body, { rows = 25, dx = 280, dy = 110 } = {}) {
  const arch = deriveGuid('arch-bench', `architecture/${name}`);
  const ops = [{ op: 'create', guid: arch, parent: ROOT, base: meta('Architecture'), attrs: { name } }];
  let count = 0;
  let connections = 0;
  const position = () => {
    const i = count++;
    return { x: Math.floor(i / rows) * dx, y: (i % rows) * dy };
  };
  const b = {
    /** A layer of `type`; returns { guid, out, in } port guids of its single ports. */
    layer(type, layerName, attrs = {}) {
      const guid = deriveGuid(arch, `layer/${layerName}`);
      ops.push({
        op: 'create',
        guid,
        parent: arch,
        base: meta(type),
        attrs: { name: layerName, ...attrs },
        registry: { position: position() },
      });
      const input = type === 'Concatenate' ? 'inputs' : 'input';
      return { guid, in: layerPort(guid, type, 'input', input), out: layerPort(guid, type, 'output', 'output') };
    },
    /** A collapsed Block using `target` (one input x, one output out). */
    block(target, layerName) {
      const guid = deriveGuid(arch, `layer/${layerName}`);
      const inPort = deriveGuid(guid, 'port/x');
      const outPort = deriveGuid(guid, 'port/out');
      ops.push(
        {
          op: 'create',
          guid,
          parent: arch,
          base: meta('Block'),
          attrs: { name: layerName, count: 1 },
          pointers: { block: target.guid },
          registry: { position: position() },
        },
        { op: 'create', guid: inPort, parent: guid, base: PORT, attrs: { name: 'x', direction: 'input', dataType: 'tensor' } },
        { op: 'create', guid: outPort, parent: guid, base: PORT, attrs: { name: 'out', direction: 'output', dataType: 'tensor' } },
      );
      return { guid, in: inPort, out: outPort };
    },
    connect(src, dst) {
      connections++;
      ops.push({ op: 'create', guid: deriveGuid(arch, `connection/${src}/${dst}`), parent: arch, base: CONNECTION, pointers: { src, dst } });
    },
  };
  body(b);
  return { guid: arch, name, ops, layers: count, connections };
}

/**
 * A residual-ish unit after `prev` (5 layers): conv 3x3 → relu → concat with
 * prev (16 channels) → conv 1x1 back to 8 → relu. Returns its last layer.
 */
function unit(b, prev, i) {
  const conv = b.layer('Conv2d', `conv${i}a`, { in_channels: CHANNELS, out_channels: CHANNELS, kernel_size: 3, padding: 1 });
  b.connect(prev.out, conv.in);
  const relu = b.layer('ReLU', `relu${i}a`);
  b.connect(conv.out, relu.in);
  const cat = b.layer('Concatenate', `cat${i}`, { dim: 1 });
  b.connect(relu.out, cat.in);
  b.connect(prev.out, cat.in);
  const mix = b.layer('Conv2d', `conv${i}b`, { in_channels: 2 * CHANNELS, out_channels: CHANNELS, kernel_size: 1 });
  b.connect(cat.out, mix.in);
  const out = b.layer('ReLU', `relu${i}b`);
  b.connect(mix.out, out.in);
  return out;
}

/** Input [N, 8, size, size], then layers until `layers` in all, then Output. */
function chain(b, layers, size, { blockEvery = 0, block = null } = {}) {
  let prev = b.layer('Input', 'x', { shape: ['N', CHANNELS, size, size] });
  let n = 1;
  let i = 0;
  while (n + 1 < layers) {
    i++;
    if (block && blockEvery > 0 && i % blockEvery === 0) {
      const blk = b.block(block, `stage${i}`);
      b.connect(prev.out, blk.in);
      prev = blk;
      n += 1;
    } else if (layers - 1 - n >= 5) {
      prev = unit(b, prev, i);
      n += 5;
    } else {
      const relu = b.layer('ReLU', `tail${i}`);
      b.connect(prev.out, relu.in);
      prev = relu;
      n += 1;
    }
  }
  const out = b.layer('Output', 'out');
  b.connect(prev.out, out.in);
}

/**
 * The benchmark's architectures: Chain300 (300 layers, a Concatenate every 5),
 * Cell (a unit: Input → 5 layers → Output), Stage (Input → Block(Cell) → ReLU
 * → Block(Cell) → Output: blocks in a block) and Nested500 (500 top-level
 * nodes, every 10th a collapsed Block(Stage)).
 */
export function buildArchitectures({ chainLayers = 300, nestedLayers = 500, size = 32 } = {}) {
  const chainArch = architecture('Chain300', (b) => chain(b, chainLayers, size));
  const cell = architecture('Cell', (b) => chain(b, 7, size));
  const stage = architecture('Stage', (b) => {
    const x = b.layer('Input', 'x', { shape: ['N', CHANNELS, size, size] });
    const c1 = b.block(cell, 'cell1');
    b.connect(x.out, c1.in);
    const r = b.layer('ReLU', 'relu');
    b.connect(c1.out, r.in);
    const c2 = b.block(cell, 'cell2');
    b.connect(r.out, c2.in);
    const out = b.layer('Output', 'out');
    b.connect(c2.out, out.in);
  });
  const nested = architecture('Nested500', (b) => chain(b, nestedLayers, size, { blockEvery: 10, block: stage }));
  return { chain: chainArch, cell, stage, nested };
}
