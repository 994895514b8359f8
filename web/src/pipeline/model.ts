// What the pipeline editor shows and sends, computed from a project tree.
// Pure functions over the model package: the React views only render these
// and hand the ops they return to the sync module.
//
//   pipelines / operation definitions     (sidebar, palette)
//   pipelineGraph                          (nodes with ports, edges)
//   attributeFields                        (the typed side panel)
//   createInstanceOps, connectOps, deleteOps, pasteOps, positionOps

import {
  attributeOrder,
  deriveGuid,
  effectiveAttr,
  effectiveAttrs,
  effectivePointer,
  effectiveRegistry,
  isA,
  isMetaNode,
  JOB_ATTRIBUTES,
  newGuid,
  sortByOrder,
  type Guid,
  type JsonValue,
  type Op,
  type Tree,
} from '../model';
import { referenceLines } from './references';

export interface NamedNode {
  readonly guid: Guid;
  readonly name: string;
}

export interface PortInfo {
  readonly guid: Guid;
  readonly name: string;
  readonly direction: 'input' | 'output';
  readonly dataType: string;
}

export interface OperationDefinition extends NamedNode {
  readonly folder: string | null;
  readonly inputs: readonly PortInfo[];
  readonly outputs: readonly PortInfo[];
  readonly attributes: readonly AttributeField[];
  readonly description: string;
}

export interface GraphNode {
  readonly id: Guid;
  readonly name: string;
  /** The definition's name when it differs from the instance's. */
  readonly type: string;
  readonly definition: Guid | null;
  readonly position: { readonly x: number; readonly y: number } | null;
  readonly inputs: readonly PortInfo[];
  readonly outputs: readonly PortInfo[];
  /** Its references as text lines ("net → DigitsCNN"; references.ts). */
  readonly references: readonly string[];
}

export interface GraphEdge {
  readonly id: Guid;
  readonly source: Guid;
  readonly sourceHandle: Guid;
  readonly target: Guid;
  readonly targetHandle: Guid;
}

export interface PipelineGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export type AttributeType = 'int' | 'float' | 'bool' | 'string' | 'json';

export interface AttributeField {
  readonly name: string;
  readonly value: JsonValue;
  readonly type: AttributeType;
  /** True when the node sets it itself (not inherited from its definition). */
  readonly own: boolean;
  /** The inherited value (what "reset" restores), if any. */
  readonly inherited?: JsonValue | undefined;
}

/** Attributes that are not operation parameters. */
// Not shown as editable attributes: identity, code, what kind of operation it
// is, and the job's resources (the inspector's Resources section; the server
// refuses them as sweep overrides).
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set(['name', 'code', 'description', 'kind', ...JOB_ATTRIBUTES]);

export function nameOf(tree: Tree, guid: Guid): string {
  const n = effectiveAttr(tree, guid, 'name');
  return typeof n === 'string' && n !== '' ? n : guid.slice(0, 8);
}

/** A meta node by name ("Connection", "Operation", …) anywhere in the tree. */
export function metaByName(tree: Tree, name: string): Guid | undefined {
  for (const n of Object.values(tree.nodes))
    if (n.registry['isMeta'] === true && effectiveAttr(tree, n.guid, 'name') === name) return n.guid;
  return undefined;
}

function isInstanceOf(tree: Tree, guid: Guid, type: string): boolean {
  return !isMetaNode(tree, guid) && isA(tree, guid, type);
}

// Per tree (trees are immutable: an edit makes a new one): the sidebar and
// the project view ask for the same tree, and the walk visits every node.
const pipelinesOf = new WeakMap<Tree, readonly NamedNode[]>();

/** Every pipeline of the project, in tree order. */
export function pipelines(tree: Tree): NamedNode[] {
  let found = pipelinesOf.get(tree);
  if (!found) pipelinesOf.set(tree, (found = findPipelines(tree)));
  return found.slice();
}

function findPipelines(tree: Tree): NamedNode[] {
  return walk(tree)
    .filter((g) => isInstanceOf(tree, g, 'Pipeline'))
    .map((guid) => ({ guid, name: nameOf(tree, guid) }));
}

/** Operation definitions: Operations that are not instances inside a pipeline. */
export function operationDefinitions(tree: Tree): OperationDefinition[] {
  const out: OperationDefinition[] = [];
  for (const guid of walk(tree)) {
    if (!isInstanceOf(tree, guid, 'Operation')) continue;
    const parent = tree.nodes[guid]!.parent;
    if (parent !== null && isA(tree, parent, 'Pipeline')) continue;
    // Input and Output run no code: the palette offers them apart (data.ts).
    const kind = effectiveAttr(tree, guid, 'kind');
    if (kind === 'input' || kind === 'output') continue;
    const ports = portsOf(tree, guid);
    const folder = parent !== null && parent !== tree.root ? nameOf(tree, parent) : null;
    out.push({
      guid,
      name: nameOf(tree, guid),
      folder,
      inputs: ports.filter((p) => p.direction === 'input'),
      outputs: ports.filter((p) => p.direction === 'output'),
      attributes: attributeFields(tree, guid),
      description: docstring(effectiveAttr(tree, guid, 'code')),
    });
  }
  return out;
}

/** The first line of the Python class's docstring, if any. */
export function docstring(code: JsonValue | undefined): string {
  if (typeof code !== 'string') return '';
  const m = /class\s+\w+[^:]*:\s*(?:"""|''')\s*([^\n]*?)(?:"""|'''|\n)/.exec(code);
  return m?.[1]?.trim() ?? '';
}

export function portsOf(tree: Tree, op: Guid): PortInfo[] {
  const out: PortInfo[] = [];
  for (const c of tree.nodes[op]?.children ?? []) {
    if (!isInstanceOf(tree, c, 'Port')) continue;
    const dir = effectiveAttr(tree, c, 'direction');
    const dt = effectiveAttr(tree, c, 'dataType');
    out.push({
      guid: c,
      name: nameOf(tree, c),
      direction: dir === 'output' ? 'output' : 'input',
      dataType: typeof dt === 'string' ? dt : 'any',
    });
  }
  return out;
}

export function pipelineGraph(tree: Tree, pipeline: Guid): PipelineGraph {
  const p = tree.nodes[pipeline];
  if (!p) return { nodes: [], edges: [] };
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  for (const c of p.children) {
    if (isInstanceOf(tree, c, 'Operation')) {
      const ports = portsOf(tree, c);
      const base = tree.nodes[c]!.base;
      const pos = effectiveRegistry(tree, c, 'position');
      nodes.push({
        id: c,
        name: nameOf(tree, c),
        type: base ? nameOf(tree, base) : '',
        definition: base,
        position: isPoint(pos) ? { x: pos.x, y: pos.y } : null,
        inputs: ports.filter((x) => x.direction === 'input'),
        outputs: ports.filter((x) => x.direction === 'output'),
        references: referenceLines(tree, c),
      });
    }
  }
  edges.push(...connectionEdges(tree, pipeline));
  return { nodes, edges };
}

/**
 * The edges of a graph container (a pipeline, an architecture): its
 * Connection children in child order, each from a port's owner to a port's
 * owner. A connection with a missing end is left out.
 */
export function connectionEdges(tree: Tree, container: Guid): GraphEdge[] {
  const edges: GraphEdge[] = [];
  for (const c of tree.nodes[container]?.children ?? []) {
    if (!isInstanceOf(tree, c, 'Connection')) continue;
    const src = effectivePointer(tree, c, 'src');
    const dst = effectivePointer(tree, c, 'dst');
    if (!src || !dst) continue;
    const s = tree.nodes[src]?.parent;
    const d = tree.nodes[dst]?.parent;
    if (!s || !d) continue;
    edges.push({ id: c, source: s, sourceHandle: src, target: d, targetHandle: dst });
  }
  return edges;
}

export function isPoint(v: JsonValue | undefined): v is { x: number; y: number } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as Record<string, JsonValue>)['x'] === 'number' &&
    typeof (v as Record<string, JsonValue>)['y'] === 'number'
  );
}

/** An artifact of the project, as an Input operation's `artifact` choice. */
export interface ArtifactChoice {
  readonly guid: Guid;
  readonly name: string;
  readonly digest: string;
  /** How a job loads it ("raw" for uploads). */
  readonly serializer?: string;
}

/**
 * The project's artifacts (Artifact nodes: uploads and saved outputs), by
 * name: what an Input operation's `artifact` attribute (a digest) can name.
 */
export function artifactChoices(tree: Tree): ArtifactChoice[] {
  const out: ArtifactChoice[] = [];
  for (const guid of Object.keys(tree.nodes)) {
    if (!isInstanceOf(tree, guid, 'Artifact')) continue;
    const digest = effectiveAttr(tree, guid, 'digest');
    if (typeof digest !== 'string' || digest === '') continue;
    // Its own name: an inherited one would be the meta type's ("Artifact").
    const name = tree.nodes[guid]!.attrs['name'];
    const serializer = effectiveAttr(tree, guid, 'serializer');
    out.push({
      guid,
      name: typeof name === 'string' && name ? name : digest.slice(0, 12),
      digest,
      ...(typeof serializer === 'string' && serializer ? { serializer } : {}),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.digest.localeCompare(b.digest));
}

export function attributeType(v: JsonValue | undefined): AttributeType {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  return 'json';
}

/** The typed parameters of an operation (definition or instance). */
export function attributeFields(tree: Tree, guid: Guid): AttributeField[] {
  const n = tree.nodes[guid];
  if (!n) return [];
  const all = effectiveAttrs(tree, guid);
  const inheritedAll = n.base ? effectiveAttrs(tree, n.base) : {};
  const out: AttributeField[] = [];
  for (const [name, value] of Object.entries(all)) {
    if (RESERVED_ATTRIBUTES.has(name)) continue;
    const own = Object.hasOwn(n.attrs, name);
    const inherited = Object.hasOwn(inheritedAll, name) ? inheritedAll[name] : undefined;
    // The definition's value fixes the type: 0.5 → float even if someone typed 1.
    const typeFrom = inherited !== undefined ? inherited : value;
    let type = attributeType(typeFrom);
    if (type === 'int' && attributeType(value) === 'float') type = 'float';
    out.push({ name, value, type, own, inherited });
  }
  // The code's order, not the server's alphabetical one (model/attributeOrder).
  return sortByOrder(out, attributeOrder(tree, guid));
}

/** Parses what the user typed into a typed field; an error text when it is not valid. */
export function parseAttribute(type: AttributeType, text: string): { ok: true; value: JsonValue } | { ok: false; error: string } {
  const t = text.trim();
  switch (type) {
    case 'int': {
      if (!/^[-+]?\d+$/.test(t)) return { ok: false, error: 'expected a whole number' };
      return { ok: true, value: Number.parseInt(t, 10) };
    }
    case 'float': {
      const v = Number(t);
      if (t === '' || !Number.isFinite(v)) return { ok: false, error: 'expected a number' };
      return { ok: true, value: v };
    }
    case 'bool':
      if (t === 'true' || t === 'false') return { ok: true, value: t === 'true' };
      return { ok: false, error: 'expected true or false' };
    case 'string':
      return { ok: true, value: text };
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) as JsonValue };
      } catch (e) {
        return { ok: false, error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
      }
  }
}

// ---- Ops ----

/** A new instance of a definition in the pipeline, at a position. */
export function createInstanceOps(
  tree: Tree,
  pipeline: Guid,
  definition: Guid,
  position: { x: number; y: number },
  guid: Guid = newGuid(),
): Op[] {
  return [
    {
      op: 'create',
      guid,
      parent: pipeline,
      base: definition,
      attrs: { name: uniqueName(tree, pipeline, nameOf(tree, definition)) },
      registry: { position: { x: Math.round(position.x), y: Math.round(position.y) } },
    },
  ];
}

/** "Train", or "Train 2" when the pipeline already has a "Train". */
export function uniqueName(tree: Tree, parent: Guid, name: string): string {
  const taken = new Set((tree.nodes[parent]?.children ?? []).map((c) => effectiveAttr(tree, c, 'name')));
  if (!taken.has(name)) return name;
  const stem = name.replace(/ \d+$/, '') || name; // "Train 2" pasted → "Train 3", not "Train 2 2"
  for (let i = 2; ; i++) if (!taken.has(`${stem} ${i}`)) return `${stem} ${i}`;
}

export function connectOps(tree: Tree, pipeline: Guid, src: Guid, dst: Guid, guid: Guid = newGuid()): Op[] {
  const connection = metaByName(tree, 'Connection');
  if (!connection) throw new Error('this project has no Connection meta type');
  return [{ op: 'create', guid, parent: pipeline, base: connection, pointers: { src, dst } }];
}

/**
 * Deletes nodes and edges. Edges that touch a deleted node go with it (the
 * server cascades), so they are not deleted twice.
 */
export function deleteOps(tree: Tree, nodes: readonly Guid[], edges: readonly Guid[]): Op[] {
  const gone = new Set(nodes.filter((g) => tree.nodes[g]));
  const ops: Op[] = [...gone].map((node) => ({ op: 'delete', node }));
  for (const e of edges) {
    if (gone.has(e) || !tree.nodes[e]) continue;
    const ends = ['src', 'dst'].map((k) => effectivePointer(tree, e, k)).map((p) => (p ? tree.nodes[p]?.parent : undefined));
    if (ends.some((op) => op !== undefined && op !== null && gone.has(op))) continue;
    ops.push({ op: 'delete', node: e });
  }
  return ops;
}

/**
 * Pastes copies of operation instances into a pipeline (or layers into an
 * architecture), shifted by `offset`,
 * with copies of the connections between them (the copies' ports have the
 * derived guids DeriveGuid(copy, original port), docs/patches.md).
 */
export function pasteOps(
  tree: Tree,
  pipeline: Guid,
  nodes: readonly Guid[],
  offset: { x: number; y: number },
  fresh: () => Guid = () => newGuid(),
  /** The name of a copy (architectures want identifiers: "conv2", not "conv 2"). */
  rename: (tree: Tree, parent: Guid, name: string) => string = uniqueName,
): { ops: Op[]; created: Guid[] } {
  const ops: Op[] = [];
  const copies = new Map<Guid, Guid>();
  for (const node of nodes) {
    if (!tree.nodes[node]) continue;
    const guid = fresh();
    copies.set(node, guid);
    ops.push({ op: 'copy', node, parent: pipeline, guid });
    const pos = effectiveRegistry(tree, node, 'position');
    const p = isPoint(pos) ? pos : { x: 0, y: 0 };
    ops.push({ op: 'set_registry', node: guid, name: 'position', value: { x: p.x + offset.x, y: p.y + offset.y } });
    ops.push({ op: 'set_attr', node: guid, name: 'name', value: rename(tree, pipeline, nameOf(tree, node)) });
  }
  const source = tree.nodes[nodes[0] ?? '']?.parent;
  const connection = metaByName(tree, 'Connection');
  if (source && connection) {
    for (const e of connectionEdges(tree, source)) {
      const s = copies.get(e.source);
      const d = copies.get(e.target);
      if (!s || !d) continue;
      ops.push({
        op: 'create',
        guid: fresh(),
        parent: pipeline,
        base: connection,
        pointers: { src: deriveGuid(s, e.sourceHandle), dst: deriveGuid(d, e.targetHandle) },
      });
    }
  }
  return { ops, created: [...copies.values()] };
}

export function positionOps(positions: ReadonlyMap<Guid, { x: number; y: number }>): Op[] {
  return [...positions].map(([node, p]) => ({
    op: 'set_registry' as const,
    node,
    name: 'position',
    value: { x: Math.round(p.x), y: Math.round(p.y) },
  }));
}

/** Guids in document order (parents before children). */
function walk(tree: Tree): Guid[] {
  const out: Guid[] = [];
  const stack = [tree.root];
  while (stack.length > 0) {
    const g = stack.pop()!;
    const n = tree.nodes[g];
    if (!n) continue;
    out.push(g);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}
