// The project tree → the architecture document of docs/nn.md, what the
// analysis (POST /api/v1/nn/analyze) and the code generator read. The C++
// twin is src/nn/from_tree.cc; both follow the same rules:
//
//   node id = guid, name = the name attribute, type = the meta type's name,
//   params = own attributes other than name; a Block's `block` = the name of
//   the architecture its pointer names, which joins `architectures` (and so
//   do its own blocks); edges from the Connection children in child order,
//   each end "layer guid.port name".
import { effectivePointer, type Guid, type JsonValue, type Tree } from '../model';
import { connectionEdges, nameOf } from '../pipeline/model';
import { architectureGraph, identifier } from './model';

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
export function toDocument(tree: Tree, arch: Guid): ArchitectureDocument {
  const keys = new Map<Guid, string>();
  const used = new Set<string>();
  const keyOf = (g: Guid): string => {
    let k = keys.get(g);
    if (k) return k;
    const stem = identifier(nameOf(tree, g));
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
      const params: Record<string, JsonValue> = { ...n.params };
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
    const edges: DocEdge[] = connectionEdges(tree, a)
      .filter((e) => graph.nodes.some((n) => n.id === e.source) && graph.nodes.some((n) => n.id === e.target))
      .map((e) => [`${e.source}.${nameOf(tree, e.sourceHandle)}`, `${e.target}.${nameOf(tree, e.targetHandle)}`]);
    out[key] = { nodes, edges };
  }
  return { main: keyOf(arch), architectures: out };
}
