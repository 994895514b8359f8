// Test helpers for the architecture editor (used by *.test.ts only): a small
// catalog fixture in the server's format (GET /api/v1/libraries/torch) and
// the library's meta types built from it the way docs/libraries.md describes
// the server's LibraryPatch, on top of the core sample tree.
import { applyOps, deriveGuid, type Guid, type Op, type Tree } from '../model';
import { create, emptyTree, ids, metaOps } from '../model/testing';
import { libraryFolderGuid, metaGuid, type LayerType, type Library } from './catalog';

const t = (
  name: string,
  category: string,
  params: LayerType['params'] = [],
  inputs: LayerType['inputs'] = [{ name: 'input' }],
  outputs: LayerType['outputs'] = [{ name: 'output' }],
): LayerType => ({ name, category, doc: `${name} does its thing.`, params, inputs, outputs });

const intOrTuple = { union: ['int', { tuple: 'int' }] } as const;

/** A few layers and the built-in types, enough for a small CNN and a block. */
export const catalogFixture: Library = {
  name: 'torch',
  title: 'PyTorch',
  namespace: 'kiln-library-torch',
  torch: '1.13.0',
  types: [
    t('Conv2d', 'convolution', [
      { name: 'in_channels', type: 'int', required: true, doc: 'Number of channels in the input image' },
      { name: 'out_channels', type: 'int', required: true },
      { name: 'kernel_size', type: intOrTuple, required: true },
      { name: 'stride', type: intOrTuple, required: false, default: 1 },
      { name: 'padding', type: { union: [{ enum: ['same', 'valid'] }, 'int', { tuple: 'int' }] }, required: false, default: 0 },
      { name: 'bias', type: 'bool', required: false, default: true },
    ]),
    t('MaxPool2d', 'pooling', [
      { name: 'kernel_size', type: intOrTuple, required: true },
      { name: 'stride', type: { optional: intOrTuple }, required: false, default: null },
    ]),
    t('ReLU', 'activation', [{ name: 'inplace', type: 'bool', required: false, default: false }]),
    t('Dropout', 'dropout', [{ name: 'p', type: 'float', required: false, default: 0.5 }]),
    t('Flatten', 'shape', [{ name: 'start_dim', type: 'int', required: false, default: 1 }]),
    t('Linear', 'linear', [
      { name: 'in_features', type: 'int', required: true },
      { name: 'out_features', type: 'int', required: true },
    ]),
    t('Input', 'structure', [], [], [{ name: 'output' }]),
    t('Output', 'structure', [], [{ name: 'input' }], []),
    t('Block', 'structure', [], [], []),
    t('Concatenate', 'merge', [{ name: 'dim', type: 'int', required: false, default: 1 }], [{ name: 'inputs', many: true }]),
  ],
};

export const libIds = {
  folder: libraryFolderGuid(),
  Architecture: metaGuid('Architecture'),
  Layer: metaGuid('Layer'),
  type: (name: string): Guid => metaGuid(name),
  /** The meta port of a type: DeriveGuid(meta, direction/name). */
  metaPort: (type: string, direction: 'input' | 'output', name: string): Guid =>
    deriveGuid(metaGuid(type), `${direction}/${name}`),
  /** A layer's materialized port. */
  port: (layer: Guid, type: string, direction: 'input' | 'output', name: string): Guid =>
    deriveGuid(layer, deriveGuid(metaGuid(type), `${direction}/${name}`)),
};

/**
 * The library's meta types (META/torch) as ops: what the server's
 * TorchLibraryPatch (src/nn/library.cc) creates — Architecture and Layer,
 * one meta type per node type (a Block with count 1 and a null `block`
 * pointer), and their ports.
 */
export function libraryOps(lib: Library = catalogFixture): Op[] {
  const meta = { registry: { isMeta: true } };
  const ops: Op[] = [
    create(libIds.folder, ids.meta, ids.Folder, { name: 'torch' }),
    create(libIds.Architecture, libIds.folder, ids.FCO, { name: 'Architecture' }, meta),
    create(libIds.Layer, libIds.folder, ids.FCO, { name: 'Layer' }, meta),
  ];
  for (const type of lib.types) {
    const block = type.name === 'Block';
    ops.push(
      create(
        metaGuid(type.name),
        libIds.folder,
        libIds.Layer,
        { name: type.name, category: type.category, ...(block ? { count: 1 } : {}) },
        { ...meta, ...(block ? { pointers: { block: null } } : {}) },
      ),
    );
    for (const [direction, ports] of [
      ['input', type.inputs],
      ['output', type.outputs],
    ] as const)
      for (const p of ports)
        ops.push(
          create(libIds.metaPort(type.name, direction, p.name), metaGuid(type.name), ids.Port, {
            name: p.name,
            direction,
            dataType: 'tensor',
            ...(p.many ? { many: true } : {}),
            ...(p.optional ? { optional: true } : {}),
          }),
        );
  }
  return ops;
}

/** The server's library description (GET /api/v1/libraries/torch; docs trimmed), for realistic tests. */
export { default as torchLibrary } from './testdata/torch-library.json';

/** An empty project (core META) that uses the library. */
export function libraryTree(): Tree {
  return applyOps(emptyTree(ids.root), [...metaOps(), ...libraryOps()]);
}
