// Test helpers (used by *.test.ts only; not exported from the package):
// readable fixed guids and a small but realistic project tree built with the
// same ops the editor sends — META types, two operation definitions with
// ports, and a pipeline holding instances of them.

import { applyOps } from './apply';
import { deriveGuid } from './guid';
import type { Guid, JsonValue, Op, Tree } from './types';

/** A fixed, valid guid per small number: g(7) = "00000000-0000-4000-8000-000000000007". */
export function g(n: number): Guid {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function emptyTree(root: Guid = g(0)): Tree {
  return {
    root,
    nodes: { [root]: { guid: root, parent: null, base: null, attrs: { name: 'ROOT' }, pointers: {}, registry: {}, children: [] } },
  };
}

export function create(
  guid: Guid,
  parent: Guid,
  base: Guid | null,
  attrs: Record<string, JsonValue> = {},
  extra: Partial<Pick<Extract<Op, { op: 'create' }>, 'pointers' | 'registry' | 'index'>> = {},
): Op {
  return { op: 'create', guid, parent, base, attrs, ...extra };
}

// The core meta guids are the server's fixed ones (src/model/meta.cc).
const NS = 'kiln-core-meta';
const metaGuid = (name: string): Guid => deriveGuid(NS, `meta/${name}`);

/** Guids of the sample project, by role. */
export const ids = {
  root: deriveGuid(NS, 'root'),
  meta: deriveGuid(NS, 'META'),
  FCO: metaGuid('FCO'),
  Folder: metaGuid('Folder'),
  Pipeline: metaGuid('Pipeline'),
  Operation: metaGuid('Operation'),
  Port: metaGuid('Port'),
  Connection: metaGuid('Connection'),
  Artifact: metaGuid('Artifact'),
  ops: g(0x10), // folder of operation definitions
  Load: g(0x11),
  LoadOut: g(0x12),
  Train: g(0x13),
  TrainIn: g(0x14),
  TrainLabels: g(0x15),
  TrainOut: g(0x16),
  Eval: g(0x17),
  EvalIn: g(0x18),
  EvalOut: g(0x19),
  pipe: g(0x20),
  load: g(0x21), // instances in the pipeline
  train: g(0x22),
  evalOp: g(0x23),
  pipe2: g(0x30),
  other: g(0x31), // an instance of Eval in pipe2
};

/** Port guid of an operation instance: the derived child of the definition's port. */
export const port = (instance: Guid, defPort: Guid): Guid => deriveGuid(instance, defPort);

/** The server's CoreMetaPatch: the META folder and the core meta types. */
export function metaOps(): Op[] {
  const m = (name: string, attrs: Record<string, JsonValue> = {}, pointers: Record<string, Guid | null> = {}): Op =>
    create(metaGuid(name), ids.meta, name === 'FCO' ? null : ids.FCO, { name, ...attrs }, { pointers, registry: { isMeta: true } });
  return [
    create(ids.meta, ids.root, null, { name: 'META' }),
    m('FCO'),
    m('Folder'),
    m('Pipeline'),
    m('Operation'),
    m('Port', { direction: 'input', dataType: 'any' }),
    m('Connection', {}, { src: null, dst: null }),
    m('Artifact'),
  ];
}

/** META + definitions Load(out tensor) → Train(in tensor, labels any; out model) → Eval(in model; out report). */
export function sampleTree(): Tree {
  const P = (guid: Guid, parent: Guid, name: string, direction: string, dataType: string) =>
    create(guid, parent, ids.Port, { name, direction, dataType });
  return applyOps(emptyTree(ids.root), [
    ...metaOps(),
    create(ids.ops, ids.root, ids.Folder, { name: 'Operations' }),
    create(ids.Load, ids.ops, ids.Operation, { name: 'Load', code: 'def run(): ...' }),
    P(ids.LoadOut, ids.Load, 'data', 'output', 'tensor'),
    create(ids.Train, ids.ops, ids.Operation, { name: 'Train', epochs: 10 }),
    P(ids.TrainIn, ids.Train, 'data', 'input', 'tensor'),
    P(ids.TrainLabels, ids.Train, 'labels', 'input', 'any'),
    P(ids.TrainOut, ids.Train, 'model', 'output', 'model'),
    create(ids.Eval, ids.ops, ids.Operation, { name: 'Eval' }),
    P(ids.EvalIn, ids.Eval, 'model', 'input', 'model'),
    P(ids.EvalOut, ids.Eval, 'report', 'output', 'report'),
    create(ids.pipe, ids.root, ids.Pipeline, { name: 'train' }),
    create(ids.load, ids.pipe, ids.Load, {}, { registry: { position: { x: 0, y: 0 } } }),
    create(ids.train, ids.pipe, ids.Train, { epochs: 3 }, { registry: { position: { x: 200, y: 0 } } }),
    create(ids.evalOp, ids.pipe, ids.Eval),
    create(ids.pipe2, ids.root, ids.Pipeline, { name: 'other' }),
    create(ids.other, ids.pipe2, ids.Eval),
  ]);
}

/** A Connection create op from an output port to an input port. */
export function connect(guid: Guid, parent: Guid, src: Guid, dst: Guid): Op {
  return create(guid, parent, ids.Connection, {}, { pointers: { src, dst } });
}

/** Deterministic PRNG (mulberry32) for the property tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
