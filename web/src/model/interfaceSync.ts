// interfaceSync: the ops that bring an Operation definition in line with the
// interface parsed from its code (python/kiln/interface.py, parse_interface).
//
// A definition holds "name", "code", one attribute per constructor parameter
// (value = its default) and one Port child per input and output (attrs
// "name", "direction", "dataType") — the shape examples/build.py writes.
// Pipeline instances inherit the ports as derived children (docs/patches.md),
// and Connections point at those instance ports. When the code is saved, the
// editor appends these ops to the "code" set_attr, so the whole change is one
// patch (one undo step):
//
//   1. delete every Connection that would dangle or no longer type-check:
//      those on instance ports of removed ports, and those on instance ports
//      of ports whose dataType changes when the other end no longer fits;
//   2. delete removed ports (their instance ports go with them);
//   3. rename (set_attr name): in one direction, exactly one port gone and
//      one new port of the same type is a rename, so connections survive;
//   4. set_attr dataType on ports whose type changed;
//   5. create new ports (appended, meta type Port);
//   6. attributes: del_attr of parameters no longer declared (on the
//      definition and on every node inheriting from it that overrides it),
//      set_attr of new parameters and changed defaults; references
//      (`net: kiln.Architecture`) are pointers, never attributes;
//   7. set_registry attributeOrder: the parameters' order in the code, which
//      the server's sorted attribute map loses (attributeOrder.ts);
//   8. set_attr name when the operation's class name changed.
//
// Connections go first so that every op applies in order (the server checks
// the meta rules after each patch; apply.ts mirrors it). An interface that
// already matches yields no ops. Pure: no React, no network.

import { applyOps } from './apply';
import { ATTRIBUTE_ORDER } from './attributeOrder';
import { PatchError } from './errors';
import { newGuid } from './guid';
import { jsonEqual } from './invert';
import { JOB_ATTRIBUTES } from './jobAttributes';
import { isA, isMetaNode, metaFolder } from './meta';
import { baseChain, childByName, effectiveAttr, effectivePointer, inheritsFrom } from './tree';
import type { Guid, JsonValue, Op, Tree } from './types';

/** One input or output as parse_interface reports it. */
export interface InterfacePortSpec {
  readonly name: string;
  /** The annotation's text, or "any". */
  readonly type: string;
}

/** One constructor parameter; `default` is null when there is none or it is not a literal. */
export interface InterfaceAttributeSpec {
  readonly name: string;
  readonly default: JsonValue;
}

/** The part of parse_interface's answer the model keeps (api's OperationInterface fits). */
export interface InterfaceSpec {
  readonly name: string;
  readonly inputs: readonly InterfacePortSpec[];
  readonly outputs: readonly InterfacePortSpec[];
  readonly attributes: readonly InterfaceAttributeSpec[];
  /**
   * Constructor parameters annotated with a resource type (`net:
   * kiln.Architecture`): pointers of the instances, never attributes
   * (docs/libraries.md). Absent when there are none.
   */
  readonly references?: readonly { readonly name: string; readonly type: string }[];
}

/**
 * Attributes of an operation that are not parameters: the server's
 * ReservedAttributes (src/pipeline/plan.cc), the job's resources among them
 * (a definition's `job_memory_mb` survives a code save). Every other own
 * attribute of a definition is a constructor parameter.
 */
export const NON_PARAMETER_ATTRIBUTES: ReadonlySet<string> = new Set([
  'name',
  'code',
  'kind',
  'description',
  'artifact',
  'serializer',
  ...JOB_ATTRIBUTES,
]);

export type PortDirection = 'input' | 'output';

/** A Connection the sync deletes, described for the user. */
export interface RemovedConnection {
  readonly guid: Guid;
  /** The pipeline (parent) holding it. */
  readonly pipeline: Guid;
  /** "Split.train_images → Train.train_images in Digits classifier". */
  readonly label: string;
  /** Why: its port is gone, or the port's new type no longer fits the other end. */
  readonly reason: 'port removed' | 'type changed';
}

export interface InterfaceSync {
  /** The ops, in an order that applies; empty when the model already matches. */
  readonly ops: Op[];
  /** Connections deleted (explicitly or with a base connection), for the message. */
  readonly removedConnections: RemovedConnection[];
  /** What changed, in words ("added output score", "renamed input a → b", …). */
  readonly changes: string[];
}

interface ModelPort {
  readonly guid: Guid;
  readonly name: string;
  readonly direction: PortDirection;
  readonly dataType: string;
}

/** The Port children of an operation (definition or instance), in child order. */
export function portChildren(tree: Tree, op: Guid): ModelPort[] {
  const out: ModelPort[] = [];
  for (const c of tree.nodes[op]?.children ?? []) {
    if (isMetaNode(tree, c) || !isA(tree, c, 'Port')) continue;
    const name = effectiveAttr(tree, c, 'name');
    const dt = effectiveAttr(tree, c, 'dataType');
    out.push({
      guid: c,
      name: typeof name === 'string' ? name : '',
      direction: effectiveAttr(tree, c, 'direction') === 'output' ? 'output' : 'input',
      dataType: typeof dt === 'string' ? dt : 'any',
    });
  }
  return out;
}

/** The core "Port" meta node (in META), else any meta node named Port. */
function portMeta(tree: Tree): Guid | undefined {
  const folder = metaFolder(tree);
  const inMeta = folder === undefined ? undefined : childByName(tree, folder, 'Port');
  if (inMeta && isMetaNode(tree, inMeta.guid)) return inMeta.guid;
  for (const n of Object.values(tree.nodes))
    if (n.registry['isMeta'] === true && effectiveAttr(tree, n.guid, 'name') === 'Port') return n.guid;
  return undefined;
}

const typesFit = (a: string, b: string) => a === 'any' || b === 'any' || a === b;

function stringAttr(tree: Tree, guid: Guid, name: string, fallback: string): string {
  const v = effectiveAttr(tree, guid, name);
  return typeof v === 'string' ? v : fallback;
}

function displayName(tree: Tree, guid: Guid | null | undefined): string {
  if (guid == null || !tree.nodes[guid]) return '?';
  const n = effectiveAttr(tree, guid, 'name');
  return typeof n === 'string' && n !== '' ? n : guid.slice(0, 8);
}

function describeConnection(tree: Tree, c: Guid): string {
  const end = (p: Guid | null | undefined) =>
    p == null || !tree.nodes[p] ? '?' : `${displayName(tree, tree.nodes[p]!.parent)}.${displayName(tree, p)}`;
  const src = effectivePointer(tree, c, 'src');
  const dst = effectivePointer(tree, c, 'dst');
  return `${end(src)} → ${end(dst)} in ${displayName(tree, tree.nodes[c]!.parent)}`;
}

/**
 * The ops that make `definition` (an Operation definition) declare `iface`.
 * `fresh` makes the guids of new ports (random by default; tests fix them).
 * Throws PatchError when the definition does not exist, or when a port must be
 * created and the tree has no Port meta type.
 */
export function interfaceSyncOps(
  tree: Tree,
  definition: Guid,
  iface: InterfaceSpec,
  fresh: () => Guid = () => newGuid(),
): InterfaceSync {
  const def = tree.nodes[definition];
  if (!def) throw new PatchError('not_found', `operation ${definition} does not exist`, [definition]);
  const changes: string[] = [];

  // ---- ports: match by (direction, name), then pair a lone rename ----
  const ports = portChildren(tree, definition);
  const removed: ModelPort[] = [];
  const renamed: Array<{ port: ModelPort; to: string }> = [];
  const retyped: Array<{ port: ModelPort; to: string }> = [];
  const added: Array<{ direction: PortDirection; spec: InterfacePortSpec }> = [];
  for (const direction of ['input', 'output'] as const) {
    const wanted = direction === 'input' ? iface.inputs : iface.outputs;
    const have = ports.filter((p) => p.direction === direction);
    const used = new Set<Guid>();
    const missing: InterfacePortSpec[] = [];
    for (const spec of wanted) {
      const match = have.find((p) => p.name === spec.name && !used.has(p.guid));
      if (!match) {
        missing.push(spec);
        continue;
      }
      used.add(match.guid);
      if (match.dataType !== spec.type) retyped.push({ port: match, to: spec.type });
    }
    const gone = have.filter((p) => !used.has(p.guid));
    if (gone.length === 1 && missing.length === 1 && gone[0]!.dataType === missing[0]!.type) {
      renamed.push({ port: gone[0]!, to: missing[0]!.name });
      continue;
    }
    removed.push(...gone);
    for (const spec of missing) added.push({ direction, spec });
  }

  // ---- connections that must go ----
  const connections = Object.values(tree.nodes).filter((n) => !isMetaNode(tree, n.guid) && isA(tree, n.guid, 'Connection'));
  const doomed = new Map<Guid, RemovedConnection['reason']>();
  const endsOn = (c: Guid, port: Guid) =>
    ['src', 'dst'].some((p) => {
      const t = effectivePointer(tree, c, p);
      return t != null && tree.nodes[t] !== undefined && inheritsFrom(tree, t, port);
    });
  for (const p of removed) for (const c of connections) if (endsOn(c.guid, p.guid)) doomed.set(c.guid, 'port removed');
  if (retyped.length > 0) {
    // Judge type fit on the tree as it will be (both ends may change).
    const after = applyOps(
      tree,
      retyped.map(({ port, to }): Op => ({ op: 'set_attr', node: port.guid, name: 'dataType', value: to })),
    );
    for (const { port } of retyped)
      for (const c of connections) {
        if (doomed.has(c.guid) || !endsOn(c.guid, port.guid)) continue;
        const src = effectivePointer(after, c.guid, 'src');
        const dst = effectivePointer(after, c.guid, 'dst');
        if (src == null || dst == null || !after.nodes[src] || !after.nodes[dst]) continue;
        if (!typesFit(stringAttr(after, src, 'dataType', 'any'), stringAttr(after, dst, 'dataType', 'any')))
          doomed.set(c.guid, 'type changed');
      }
  }
  const removedConnections: RemovedConnection[] = [];
  const ops: Op[] = [];
  for (const [guid, reason] of doomed) {
    removedConnections.push({ guid, pipeline: tree.nodes[guid]!.parent!, label: describeConnection(tree, guid), reason });
    // A connection inherited from one that goes is deleted with it.
    if (!baseChain(tree, guid).slice(1).some((b) => doomed.has(b.guid))) ops.push({ op: 'delete', node: guid });
  }

  // ---- ports ----
  for (const p of removed) {
    ops.push({ op: 'delete', node: p.guid });
    changes.push(`removed ${p.direction} ${p.name}`);
  }
  for (const { port, to } of renamed) {
    ops.push({ op: 'set_attr', node: port.guid, name: 'name', value: to });
    changes.push(`renamed ${port.direction} ${port.name} → ${to}`);
  }
  for (const { port, to } of retyped) {
    ops.push({ op: 'set_attr', node: port.guid, name: 'dataType', value: to });
    changes.push(`${port.direction} ${port.name}: type ${port.dataType} → ${to}`);
  }
  if (added.length > 0) {
    const meta = portMeta(tree);
    if (meta === undefined) throw new PatchError('not_found', 'this project has no Port meta type', []);
    for (const { direction, spec } of added) {
      ops.push({
        op: 'create',
        guid: fresh(),
        parent: definition,
        base: meta,
        attrs: { name: spec.name, direction, dataType: spec.type },
      });
      changes.push(`added ${direction} ${spec.name}`);
    }
  }

  // ---- attributes (parameters) ----
  // A reference is a pointer of the instances: an attribute of that name (the
  // parameter before it was annotated) goes, and none is ever created.
  const references = new Set((iface.references ?? []).map((r) => r.name));
  const declared = new Map(iface.attributes.filter((a) => !references.has(a.name)).map((a) => [a.name, a.default] as const));
  const heirs = Object.values(tree.nodes).filter((n) => n.guid !== definition && inheritsFrom(tree, n.guid, definition));
  for (const name of Object.keys(def.attrs)) {
    if (NON_PARAMETER_ATTRIBUTES.has(name) || declared.has(name)) continue;
    ops.push({ op: 'del_attr', node: definition, name });
    for (const h of heirs) if (Object.hasOwn(h.attrs, name)) ops.push({ op: 'del_attr', node: h.guid, name });
    changes.push(`removed attribute ${name}`);
  }
  for (const [name, value] of declared) {
    if (NON_PARAMETER_ATTRIBUTES.has(name)) continue; // cannot be a parameter in the model
    const own = Object.hasOwn(def.attrs, name);
    if (own && jsonEqual(def.attrs[name]!, value)) continue;
    ops.push({ op: 'set_attr', node: definition, name, value });
    changes.push(own ? `attribute ${name}: default ${JSON.stringify(def.attrs[name])} → ${JSON.stringify(value)}` : `added attribute ${name}`);
  }

  // ---- the attributes' order (attributeOrder.ts: the server sorts them) ----
  const order = [...declared.keys()].filter((name) => !NON_PARAMETER_ATTRIBUTES.has(name));
  const recorded = def.registry[ATTRIBUTE_ORDER];
  if (order.length >= 2 && !(recorded !== undefined && jsonEqual(recorded, order))) {
    ops.push({ op: 'set_registry', node: definition, name: ATTRIBUTE_ORDER, value: order });
    // Only a real reordering is news; a first record, or names added or removed, is not.
    const kept = Array.isArray(recorded) ? recorded.filter((n) => typeof n === 'string' && declared.has(n)) : [];
    const still = order.filter((n) => kept.includes(n));
    if (Array.isArray(recorded) && !jsonEqual(kept, still)) changes.push('reordered the attributes');
  }

  // ---- the operation's name ----
  if (iface.name !== '' && effectiveAttr(tree, definition, 'name') !== iface.name) {
    ops.push({ op: 'set_attr', node: definition, name: 'name', value: iface.name });
    changes.push(`renamed the operation to ${iface.name}`);
  }

  return { ops, removedConnections, changes };
}
