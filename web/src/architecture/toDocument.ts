// The project tree → the architecture document of docs/nn.md, what the
// analysis (POST /api/v1/nn/analyze) and the code generator read. The C++
// twin is src/nn/from_tree.cc; both follow the same rules:
//
//   node id = guid, name = the name attribute, type = the meta type's name,
//   params = own attributes other than name that are parameters of the type
//   (when the catalog is known) and not None — a None is the default; a
//   Block's `block` = the class name of the architecture its pointer names,
//   which joins `architectures` (and so do its own blocks); edges from the
//   Connection children in child order, each end "layer guid.port name".
//   Class names as ClassName in from_tree.cc: the name with other characters
//   as "_", "Net" before a leading digit, "_" after a Python keyword, "_2"…
//   for a second architecture with the same name.
import { effectivePointer, type Guid, type JsonValue, type Tree } from '../model';
import { nameOf } from '../pipeline/model';
import type { Library } from './catalog';
import { architectureGraph } from './model';

const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

/** The class name of an architecture (from_tree.cc's ClassName). */
export function className(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `Net${s}`;
  if (PYTHON_KEYWORDS.has(s)) s += '_';
  return s;
}

export interface DocNode {
  readonly id: string;
  readonly name?: string;
  readonly type: string;
  readonly params?: Readonly<Record<string, JsonValue>>;
}

export type DocEdge = readonly [string, string];

export interface DocArchitecture {
  readonly nodes: readonly DocNode[];
  readonly edges: readonly DocEdge[];
}

export interface ArchitectureDocument {
  readonly main: string;
  readonly architectures: Readonly<Record<string, DocArchitecture>>;
}

/**
 * The document whose `main` is `arch`. Architectures are keyed by their name
 * as an identifier; two different architectures with the same name get
 * distinct keys (Net, Net_2) so a block never silently stands for another.
 */
export function toDocument(tree: Tree, arch: Guid, lib: Library | null = null): ArchitectureDocument {
  const known = new Map((lib?.types ?? []).map((t) => [t.name, new Set(t.params.map((p) => p.name))]));
  const keys = new Map<Guid, string>();
  const used = new Set<string>();
  const keyOf = (g: Guid): string => {
    let k = keys.get(g);
    if (k) return k;
    const stem = className(nameOf(tree, g) || 'Architecture');
    k = stem;
    for (let i = 2; used.has(k); i++) k = `${stem}_${i}`;
    used.add(k);
    keys.set(g, k);
    return k;
  };
  const out: Record<string, DocArchitecture> = {};
  const todo: Guid[] = [arch];
  keyOf(arch);
  while (todo.length > 0) {
    const a = todo.shift()!;
    const key = keyOf(a);
    if (out[key]) continue;
    out[key] = { nodes: [], edges: [] }; // placeholder: a block cycle stops here
    const graph = architectureGraph(tree, a);
    const nodes: DocNode[] = graph.nodes.map((n) => {
      const params: Record<string, JsonValue> = {};
      const spec = known.get(n.type);
      for (const [k, v] of Object.entries(n.params))
        if (k !== 'category' && v !== null && (!spec || spec.has(k))) params[k] = v;
      if (n.type === 'Block') {
        const target = effectivePointer(tree, n.id, 'block');
        if (target && tree.nodes[target]) {
          params['block'] = keyOf(target);
          if (!out[keyOf(target)]) todo.push(target);
        }
      }
      const node: DocNode = { id: n.id, name: n.name, type: n.type };
      return Object.keys(params).length > 0 ? { ...node, params } : node;
    });
    const layers = new Set(graph.nodes.map((n) => n.id));
    const edges: DocEdge[] = graph.edges
      .filter((e) => layers.has(e.source) && layers.has(e.target))
      .map((e) => [`${e.source}.${nameOf(tree, e.sourceHandle)}`, `${e.target}.${nameOf(tree, e.targetHandle)}`]);
    out[key] = { nodes, edges };
  }
  return { main: keyOf(arch), architectures: out };
}

/**
 * A block's architecture as it runs inside the block: its Input nodes take
 * the shapes the block's ports receive (`inputs`, by Input name), so the
 * analysis gives the inner layers' real shapes (an expanded Block).
 */
export function blockDocument(
  tree: Tree,
  block: Guid,
  inputs: Readonly<Record<string, JsonValue>>,
  lib: Library | null = null,
): ArchitectureDocument {
  const doc = toDocument(tree, block, lib);
  const main = doc.architectures[doc.main]!;
  const nodes = main.nodes.map((n) => {
    const shape = n.type === 'Input' ? inputs[n.name ?? n.id] : undefined;
    return shape === undefined ? n : { ...n, params: { ...(n.params ?? {}), shape } };
  });
  return { ...doc, architectures: { ...doc.architectures, [doc.main]: { ...main, nodes } } };
}
