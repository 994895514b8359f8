// Meta-type rules the editor checks while the user drags a connection, so it
// can refuse a bad drop at once instead of waiting for the server's 422. They
// are the server's rules (src/model/meta.h, CheckRules); the server stays the
// judge (it also requires the connection itself to sit in that graph).
//
//   * both ends are Ports; src's direction is "output", dst's is "input"
//   * dataTypes match, or either is "any"
//   * both ports belong to Operations that are children of the same Pipeline,
//     or to Layers that are children of the same Architecture (a library's
//     graph, docs/libraries.md)
//   * the new edge keeps the graph acyclic (no self-loop either)

import { isA, isMetaNode } from './meta';
import { effectiveAttr, effectivePointer } from './tree';
import type { Guid, Tree } from './types';

export type RuleCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: RuleCheck = { ok: true };
const fail = (reason: string): RuleCheck => ({ ok: false, reason });

/** The graphs Connections may live in: what the nodes are, what holds them. */
const GRAPH_KINDS = [
  { member: 'Operation', graph: 'Pipeline', article: 'a' },
  { member: 'Layer', graph: 'Architecture', article: 'an' },
] as const;

export function canConnect(tree: Tree, srcPort: Guid, dstPort: Guid): RuleCheck {
  for (const [g, end] of [
    [srcPort, 'source'],
    [dstPort, 'destination'],
  ] as const) {
    if (!tree.nodes[g]) return fail(`${end} ${g} does not exist`);
    if (!isA(tree, g, 'Port')) return fail(`${end} ${g} is not a Port`);
  }
  if (stringAttr(tree, srcPort, 'direction', '') !== 'output') return fail('the source must be an output port');
  if (stringAttr(tree, dstPort, 'direction', '') !== 'input') return fail('the destination must be an input port');

  // A port without a (string) dataType accepts anything, as on the server.
  const srcType = stringAttr(tree, srcPort, 'dataType', 'any');
  const dstType = stringAttr(tree, dstPort, 'dataType', 'any');
  if (srcType !== 'any' && dstType !== 'any' && srcType !== dstType)
    return fail(`type mismatch: "${srcType}" output into "${dstType}" input`);

  const srcOp = tree.nodes[srcPort]!.parent;
  const dstOp = tree.nodes[dstPort]!.parent;
  // Which kind of graph: the source's owner decides (an Operation in a
  // Pipeline, or a Layer in an Architecture); the destination must match.
  const kind = GRAPH_KINDS.find((k) => srcOp !== null && isA(tree, srcOp, k.member)) ?? GRAPH_KINDS[0]!;
  const member = kind.member.toLowerCase();
  if (srcOp === null || !isA(tree, srcOp, kind.member)) return fail(`the source port is not on an ${member}`);
  if (dstOp === null || !isA(tree, dstOp, kind.member))
    return fail(`the destination port is not on an ${member}`);
  const pipeline = tree.nodes[srcOp]!.parent;
  const graph = kind.graph.toLowerCase();
  if (pipeline === null || !isA(tree, pipeline, kind.graph))
    return fail(`the source ${member} is not in ${kind.article} ${graph}`);
  if (tree.nodes[dstOp]!.parent !== pipeline) return fail(`the ${member}s are in different ${graph}s`);

  if (srcOp === dstOp || reaches(tree, pipeline, dstOp, srcOp))
    return fail('the connection would make a cycle');
  return OK;
}

function stringAttr(tree: Tree, guid: Guid, name: string, fallback: string): string {
  const v = effectiveAttr(tree, guid, name);
  return typeof v === 'string' ? v : fallback;
}

/** The node graph of a pipeline or architecture (node → nodes it feeds), from its Connection children. */
export function operationEdges(tree: Tree, pipeline: Guid): Map<Guid, Guid[]> {
  const edges = new Map<Guid, Guid[]>();
  for (const c of tree.nodes[pipeline]?.children ?? []) {
    if (isMetaNode(tree, c) || !isA(tree, c, 'Connection')) continue;
    const s = effectivePointer(tree, c, 'src');
    const d = effectivePointer(tree, c, 'dst');
    const from = s == null ? undefined : tree.nodes[s]?.parent;
    const to = d == null ? undefined : tree.nodes[d]?.parent;
    if (from == null || to == null) continue;
    const list = edges.get(from);
    if (list) list.push(to);
    else edges.set(from, [to]);
  }
  return edges;
}

/** True if `to` can be reached from `from` along the pipeline's connections. */
function reaches(tree: Tree, pipeline: Guid, from: Guid, to: Guid): boolean {
  const edges = operationEdges(tree, pipeline);
  const seen = new Set<Guid>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (g === to) return true;
    for (const n of edges.get(g) ?? [])
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
  }
  return false;
}
