// Meta-type rules the editor checks while the user drags a connection, so it
// can refuse a bad drop at once instead of waiting for the server's 422. They
// are the server's rules (src/model/meta.h, CheckRules); the server stays the
// judge (it also requires the connection itself to sit in that pipeline).
//
//   * both ends are Ports; src's direction is "output", dst's is "input"
//   * dataTypes match, or either is "any"
//   * both ports belong to Operations that are children of the same Pipeline
//   * the new edge keeps the pipeline acyclic (no self-loop either)

import { isA, isMetaNode } from './meta';
import { effectiveAttr, effectivePointer } from './tree';
import type { Guid, Tree } from './types';

export type RuleCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: RuleCheck = { ok: true };
const fail = (reason: string): RuleCheck => ({ ok: false, reason });

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
  if (srcOp === null || !isA(tree, srcOp, 'Operation')) return fail('the source port is not on an operation');
  if (dstOp === null || !isA(tree, dstOp, 'Operation'))
    return fail('the destination port is not on an operation');
  const pipeline = tree.nodes[srcOp]!.parent;
  if (pipeline === null || !isA(tree, pipeline, 'Pipeline'))
    return fail('the source operation is not in a pipeline');
  if (tree.nodes[dstOp]!.parent !== pipeline) return fail('the operations are in different pipelines');

  if (srcOp === dstOp || reaches(tree, pipeline, dstOp, srcOp))
    return fail('the connection would make a cycle');
  return OK;
}

function stringAttr(tree: Tree, guid: Guid, name: string, fallback: string): string {
  const v = effectiveAttr(tree, guid, name);
  return typeof v === 'string' ? v : fallback;
}

/** The operation graph of a pipeline (op → ops it feeds), from its Connection children. */
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
