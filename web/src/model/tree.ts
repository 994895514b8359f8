// Read-only queries on a Tree: node lookup, the base (inheritance) chain,
// effective values (own value, else the nearest base's), subtrees.
//
// Inheritance: a node's effective attribute/pointer/registry entry is its own
// if it has one, otherwise its base's effective entry, recursively. A pointer
// set to null is an own value ("points nowhere") and stops the lookup.

import { PatchError } from './errors';
import type { Guid, JsonValue, Tree, TreeNode } from './types';

export function getNode(tree: Tree, guid: Guid): TreeNode | undefined {
  return tree.nodes[guid];
}

/** The node, or a PatchError('not_found') naming what was looked for. */
export function requireNode(tree: Tree, guid: Guid, what = 'node'): TreeNode {
  const n = tree.nodes[guid];
  if (!n) throw new PatchError('not_found', `${what} ${guid} does not exist`, [guid]);
  return n;
}

/**
 * The node itself, then its base, its base's base… Stops at a missing base or
 * a repeated node, so a malformed tree cannot loop forever.
 */
export function baseChain(tree: Tree, guid: Guid): TreeNode[] {
  const chain: TreeNode[] = [];
  for (let n = tree.nodes[guid]; n; n = nextBase(tree, n, chain)) chain.push(n);
  return chain;
}

/**
 * The node after `n` on a base chain whose nodes so far are `seen` (n
 * included), or undefined at a missing base or a repeated node. The lookups
 * below walk the chain with it instead of building baseChain's array: they
 * run for every node of every render (isA, effectiveAttr), and chains are a
 * few nodes long, so a linear `includes` is cheaper than a Set.
 */
function nextBase(tree: Tree, n: TreeNode, seen: readonly TreeNode[]): TreeNode | undefined {
  if (n.base === null) return undefined;
  const b = tree.nodes[n.base];
  return b && !seen.includes(b) ? b : undefined;
}

/** The first node on the base chain of `guid` for which `pick` is not undefined, and that value. */
export function findOnChain<T>(tree: Tree, guid: Guid, pick: (n: TreeNode) => T | undefined): T | undefined {
  const first = tree.nodes[guid];
  if (!first) return undefined;
  const seen: TreeNode[] = [];
  for (let n: TreeNode | undefined = first; n; n = nextBase(tree, n, seen)) {
    seen.push(n);
    const v = pick(n);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** True if `ancestor` is `guid` or one of its bases. */
export function inheritsFrom(tree: Tree, guid: Guid, ancestor: Guid): boolean {
  return baseChain(tree, guid).some((n) => n.guid === ancestor);
}

export function effectiveAttr(tree: Tree, guid: Guid, name: string): JsonValue | undefined {
  return findOnChain(tree, guid, (n) => (Object.hasOwn(n.attrs, name) ? n.attrs[name] : undefined));
}

/** The target guid, null for "points nowhere", undefined when never set. */
export function effectivePointer(tree: Tree, guid: Guid, name: string): Guid | null | undefined {
  return findOnChain(tree, guid, (n) => (Object.hasOwn(n.pointers, name) ? n.pointers[name] : undefined));
}

export function effectiveRegistry(tree: Tree, guid: Guid, name: string): JsonValue | undefined {
  return findOnChain(tree, guid, (n) => (Object.hasOwn(n.registry, name) ? n.registry[name] : undefined));
}

/** All effective attributes: own values over inherited ones. */
export function effectiveAttrs(tree: Tree, guid: Guid): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const n of baseChain(tree, guid).reverse()) Object.assign(out, n.attrs);
  return out;
}

/** All effective pointers: own values over inherited ones. */
export function effectivePointers(tree: Tree, guid: Guid): Record<string, Guid | null> {
  const out: Record<string, Guid | null> = {};
  for (const n of baseChain(tree, guid).reverse()) Object.assign(out, n.pointers);
  return out;
}

/** `guid` and all its descendants, parents before children (document order). */
export function subtree(tree: Tree, guid: Guid): Guid[] {
  const out: Guid[] = [];
  const stack: Guid[] = [guid];
  while (stack.length > 0) {
    const g = stack.pop()!;
    const n = tree.nodes[g];
    if (!n) continue;
    out.push(g);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}

/** True if `ancestor` is `guid` or contains it. */
export function isInSubtree(tree: Tree, guid: Guid, ancestor: Guid): boolean {
  let g: Guid | null = guid;
  const seen = new Set<Guid>();
  while (g !== null && !seen.has(g)) {
    if (g === ancestor) return true;
    seen.add(g);
    g = tree.nodes[g]?.parent ?? null;
  }
  return false;
}

/** The nodes whose base is `guid` (its direct instances and subtypes). */
export function instancesOf(tree: Tree, guid: Guid): TreeNode[] {
  return Object.values(tree.nodes).filter((n) => n.base === guid);
}

/** A child of the root by its "name" attribute (e.g. the META folder). */
export function childByName(tree: Tree, parent: Guid, name: string): TreeNode | undefined {
  const p = tree.nodes[parent];
  if (!p) return undefined;
  for (const c of p.children) if (effectiveAttr(tree, c, 'name') === name) return tree.nodes[c];
  return undefined;
}
