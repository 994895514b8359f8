// What the architecture editor shows and sends, computed from a project tree
// (docs/libraries.md: "Meta types of the PyTorch library"). Pure functions
// over the model package, like pipeline/model.ts, whose generic parts
// (ports, connections, delete, paste, positions) it reuses:
//
//   architectures, usesLibrary                 (sidebar, "New architecture")
//   architectureGraph                          (layers with ports, edges)
//   addLayerOps, addBlockOps, blockPortOps     (palette)
//   setParamOps, unsetParamOps                 (inspector)
//   newArchitectureOps, layerName
import {
  deriveGuid,
  effectiveAttr,
  effectivePointer,
  effectiveRegistry,
  isA,
  isMetaNode,
  metaTypeOf,
  newGuid,
  type Guid,
  type JsonValue,
  type Op,
  type Tree,
} from '../model';
import { connectionEdges, isPoint, metaByName, nameOf, portsOf, type GraphEdge, type NamedNode, type PortInfo } from '../pipeline/model';
import { libraryFolderGuid, metaGuid } from './catalog';

export type { NamedNode };

export interface LayerNode {
  readonly id: Guid;
  readonly name: string;
  /** The node type (meta type name): "Conv2d", "Input", "Block", … */
  readonly type: string;
  readonly position: { readonly x: number; readonly y: number } | null;
  readonly inputs: readonly PortInfo[];
  readonly outputs: readonly PortInfo[];
  /** The parameters the node sets itself: own attributes other than name. */
  readonly params: Readonly<Record<string, JsonValue>>;
  /** A Block's architecture (its `block` pointer), when it is one. */
  readonly block?: Guid | null;
}

export interface ArchitectureGraph {
  readonly nodes: readonly LayerNode[];
  readonly edges: readonly GraphEdge[];
}

/** Attributes of a layer that are not parameters of its type. */
export const NON_PARAMS = new Set(['name']);

function isInstance(tree: Tree, guid: Guid, type: string): boolean {
  return !isMetaNode(tree, guid) && isA(tree, guid, type);
}

/** True when the project holds the library's meta types (the folder META/torch). */
export function usesLibrary(tree: Tree): boolean {
  return tree.nodes[libraryFolderGuid()] !== undefined && tree.nodes[metaGuid('Architecture')] !== undefined;
}

// Per tree (trees are immutable: an edit makes a new one): the sidebar, the
// editor's block list and usersOf all ask for the same tree, and the walk
// visits every node of the project.
const architecturesOf = new WeakMap<Tree, readonly NamedNode[]>();

/** Every Architecture of the project, in tree order. */
export function architectures(tree: Tree): NamedNode[] {
  let found = architecturesOf.get(tree);
  if (!found) architecturesOf.set(tree, (found = findArchitectures(tree)));
  return found.slice();
}

function findArchitectures(tree: Tree): NamedNode[] {
  const out: NamedNode[] = [];
  const stack = [tree.root];
  while (stack.length > 0) {
    const g = stack.pop()!;
    const n = tree.nodes[g];
    if (!n) continue;
    if (isInstance(tree, g, 'Architecture')) out.push({ guid: g, name: nameOf(tree, g) });
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}

export function isArchitecture(tree: Tree, guid: Guid): boolean {
  return tree.nodes[guid] !== undefined && isInstance(tree, guid, 'Architecture');
}

// Per tree and architecture: the editor's graph, toDocument and the
// block-port check all read the same one for each new tree.
const graphsOf = new WeakMap<Tree, Map<Guid, ArchitectureGraph>>();

/** The layers (instances of Layer types) and connections of an architecture. */
export function architectureGraph(tree: Tree, arch: Guid): ArchitectureGraph {
  let graphs = graphsOf.get(tree);
  if (!graphs) graphsOf.set(tree, (graphs = new Map()));
  let g = graphs.get(arch);
  if (!g) graphs.set(arch, (g = findArchitectureGraph(tree, arch)));
  return g;
}

function findArchitectureGraph(tree: Tree, arch: Guid): ArchitectureGraph {
  const a = tree.nodes[arch];
  if (!a) return { nodes: [], edges: [] };
  const nodes: LayerNode[] = [];
  for (const c of a.children) {
    if (!isInstance(tree, c, 'Layer')) continue;
    const ports = portsOf(tree, c);
    const pos = effectiveRegistry(tree, c, 'position');
    const type = metaTypeOf(tree, c) ?? '?';
    const node: LayerNode = {
      id: c,
      name: nameOf(tree, c),
      type,
      position: isPoint(pos) ? { x: pos.x, y: pos.y } : null,
      inputs: ports.filter((p) => p.direction === 'input'),
      outputs: ports.filter((p) => p.direction === 'output'),
      params: ownParams(tree, c),
    };
    nodes.push(type === 'Block' ? { ...node, block: effectivePointer(tree, c, 'block') ?? null } : node);
  }
  return { nodes, edges: connectionEdges(tree, arch) };
}

/** A layer's own attributes other than its name: the parameters it sets. */
export function ownParams(tree: Tree, guid: Guid): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(tree.nodes[guid]?.attrs ?? {})) if (!NON_PARAMS.has(k)) out[k] = v;
  return out;
}

// ---- Names ----

/** A Python identifier made from a name ("My net" → "My_net", "2x" → "_2x"). */
export function identifier(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

/** The first name of a new layer: "x" for an Input, "out" for an Output, else the snake-cased type. */
function stemOf(type: string): string {
  if (type === 'Input') return 'x';
  if (type === 'Output') return 'out';
  // A word starts at a capital followed by a small letter: MaxPool2d →
  // max_pool2d, LeakyReLU → leaky_relu, ReLU → relu, LSTM → lstm.
  return type.replace(/([a-z0-9])(?=[A-Z][a-z])/g, '$1_').toLowerCase();
}

/** An identifier not yet used by a child of `parent`: conv2d, conv2d_2, … */
export function layerName(tree: Tree, parent: Guid, typeOrName: string, fromType = true): string {
  const taken = new Set((tree.nodes[parent]?.children ?? []).map((c) => effectiveAttr(tree, c, 'name')));
  const stem = fromType ? stemOf(typeOrName) : identifier(typeOrName).replace(/_\d+$/, '');
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

/** For pasteOps: a copy of "conv2d" is "conv2d_2". */
export const pasteName = (tree: Tree, parent: Guid, name: string): string => layerName(tree, parent, name, false);

/** A class name not used by another architecture: Net, Net2, … */
export function architectureName(tree: Tree, wanted = 'Net'): string {
  const taken = new Set(architectures(tree).map((a) => a.name));
  const stem = identifier(wanted);
  if (!taken.has(stem)) return stem;
  const base = stem.replace(/\d+$/, '') || stem;
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

// ---- Ops ----

/** Default parameters of a new node, so it is valid as soon as it is added. */
const NEW_NODE_ATTRS: Readonly<Record<string, Record<string, JsonValue>>> = {
  Input: { shape: ['N', 3, 32, 32] },
};

/** A new Architecture at the root (the library must be in the project). */
export function newArchitectureOps(tree: Tree, name = architectureName(tree), guid: Guid = newGuid()): Op[] {
  const meta = metaGuid('Architecture');
  if (!tree.nodes[meta]) throw new Error('this project does not use the PyTorch library yet (no Architecture meta type)');
  return [{ op: 'create', guid, parent: tree.root, base: meta, attrs: { name } }];
}

/**
 * A new layer: an instance of the type's meta node, whose Port children the
 * patch mechanism materializes (DeriveGuid(layer, meta port)).
 */
export function addLayerOps(
  tree: Tree,
  arch: Guid,
  type: string,
  position: { x: number; y: number },
  guid: Guid = newGuid(),
): Op[] {
  const meta = metaGuid(type);
  if (!tree.nodes[meta]) throw new Error(`this project has no meta type for “${type}” (is the PyTorch library up to date?)`);
  return [
    {
      op: 'create',
      guid,
      parent: arch,
      base: meta,
      attrs: { name: layerName(tree, arch, type), ...(NEW_NODE_ATTRS[type] ?? {}) },
      registry: { position: { x: Math.round(position.x), y: Math.round(position.y) } },
    },
  ];
}

/** The Input and Output node names of an architecture: a Block's ports. */
export function interfaceOf(tree: Tree, arch: Guid): { inputs: string[]; outputs: string[] } {
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const c of tree.nodes[arch]?.children ?? []) {
    if (!isInstance(tree, c, 'Layer')) continue;
    const t = metaTypeOf(tree, c);
    if (t === 'Input') inputs.push(nameOf(tree, c));
    else if (t === 'Output') outputs.push(nameOf(tree, c));
  }
  return { inputs, outputs };
}

/**
 * The ops that put a Block's Port children in step with its architecture's
 * Input and Output nodes: missing ports created (base core Port), stale ones
 * deleted (with their connections). Ports already right are kept, so their
 * connections survive.
 */
export function blockPortOps(tree: Tree, block: Guid, fresh: () => Guid = () => newGuid()): Op[] {
  const target = effectivePointer(tree, block, 'block');
  if (!target || !tree.nodes[target]) return [];
  const want = interfaceOf(tree, target);
  const have = portsOf(tree, block);
  const inStep = (names: readonly string[], direction: string) => {
    const mine = have.filter((p) => p.direction === direction).map((p) => p.name);
    return new Set(mine).size === mine.length && mine.every((n) => names.includes(n)) && names.every((n) => mine.includes(n));
  };
  // Ports already in step (every render of a project with blocks asks): no
  // need for the Port meta type, whose look-up scans the whole tree.
  if (inStep(want.inputs, 'input') && inStep(want.outputs, 'output')) return [];
  const portMeta = metaByName(tree, 'Port');
  if (!portMeta) return [];
  const ops: Op[] = [];
  for (const p of have) {
    const list = p.direction === 'input' ? want.inputs : want.outputs;
    if (!list.includes(p.name) || have.filter((q) => q.direction === p.direction && q.name === p.name)[0] !== p)
      ops.push({ op: 'delete', node: p.guid });
  }
  for (const [direction, names] of [
    ['input', want.inputs],
    ['output', want.outputs],
  ] as const)
    for (const name of names)
      if (!have.some((p) => p.direction === direction && p.name === name))
        ops.push({ op: 'create', guid: fresh(), parent: block, base: portMeta, attrs: { name, direction, dataType: 'tensor' } });
  return ops;
}

/** Architectures that use `arch` through Blocks, directly or not (it included). */
export function usersOf(tree: Tree, arch: Guid): Set<Guid> {
  const users = new Set<Guid>([arch]);
  let grew = true;
  // The blocks each architecture holds, found once (not its whole graph per round).
  const blocksOf = new Map<Guid, Guid[]>();
  for (const a of architectures(tree)) {
    const targets: Guid[] = [];
    for (const c of tree.nodes[a.guid]?.children ?? []) {
      if (!isInstance(tree, c, 'Layer') || metaTypeOf(tree, c) !== 'Block') continue;
      const target = effectivePointer(tree, c, 'block');
      if (target) targets.push(target);
    }
    blocksOf.set(a.guid, targets);
  }
  while (grew) {
    grew = false;
    for (const [a, targets] of blocksOf) {
      if (users.has(a)) continue;
      const uses = targets.some((t) => users.has(t));
      if (uses) {
        users.add(a);
        grew = true;
      }
    }
  }
  return users;
}

/** A Block node using `target` in `arch`, with its ports. Refused when it would nest `arch` in itself. */
export function addBlockOps(
  tree: Tree,
  arch: Guid,
  target: Guid,
  position: { x: number; y: number },
  guid: Guid = newGuid(),
  fresh: () => Guid = () => newGuid(),
): Op[] {
  if (usersOf(tree, arch).has(target))
    throw new Error(`“${nameOf(tree, target)}” uses “${nameOf(tree, arch)}”: a block cannot contain itself`);
  const create: Op = {
    op: 'create',
    guid,
    parent: arch,
    base: metaGuid('Block'),
    attrs: { name: layerName(tree, arch, nameOf(tree, target).toLowerCase(), false), count: 1 },
    pointers: { block: target },
    registry: { position: { x: Math.round(position.x), y: Math.round(position.y) } },
  };
  if (!tree.nodes[metaGuid('Block')]) throw new Error('this project has no Block meta type');
  // The ports depend on the tree with the block in it.
  const portMeta = metaByName(tree, 'Port');
  const want = interfaceOf(tree, target);
  const ports: Op[] = portMeta
    ? [
        ...want.inputs.map((name): Op => ({
          op: 'create',
          guid: fresh(),
          parent: guid,
          base: portMeta,
          attrs: { name, direction: 'input', dataType: 'tensor' },
        })),
        ...want.outputs.map((name): Op => ({
          op: 'create',
          guid: fresh(),
          parent: guid,
          base: portMeta,
          attrs: { name, direction: 'output', dataType: 'tensor' },
        })),
      ]
    : [];
  return [create, ...ports];
}

/** Sets a parameter (a JSON value, docs/nn.md). */
export function setParamOps(node: Guid, name: string, value: JsonValue): Op[] {
  return [{ op: 'set_attr', node, name, value }];
}

/** Leaves a parameter to its default (or to inference). */
export function unsetParamOps(node: Guid, name: string): Op[] {
  return [{ op: 'del_attr', node, name }];
}

/** Every Block in the project whose ports are out of step with its architecture, with the fixing ops. */
export function staleBlockOps(tree: Tree, arch: Guid): Op[] {
  const ops: Op[] = [];
  for (const n of architectureGraph(tree, arch).nodes) if (n.type === 'Block') ops.push(...blockPortOps(tree, n.id));
  return ops;
}

/**
 * A new layer placed after `after` (the selected node) and fed by its first
 * output, when both have the ports for it: building a chain by clicking +.
 */
export function addLayerAfterOps(
  tree: Tree,
  arch: Guid,
  type: string,
  after: Guid,
  position: { x: number; y: number },
  guid: Guid = newGuid(),
  connection: Guid = newGuid(),
): Op[] {
  const ops = addLayerOps(tree, arch, type, position, guid);
  const out = portsOf(tree, after).find((p) => p.direction === 'output');
  const metaIn = (tree.nodes[metaGuid(type)]?.children ?? []).find((c) => tree.nodes[c]?.attrs['direction'] === 'input');
  const conn = metaByName(tree, 'Connection');
  if (!out || !metaIn || !conn || tree.nodes[after]?.parent !== arch) return ops;
  return [...ops, { op: 'create', guid: connection, parent: arch, base: conn, pointers: { src: out.guid, dst: deriveGuid(guid, metaIn) } }];
}
