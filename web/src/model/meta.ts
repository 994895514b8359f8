// Meta types: which kind of thing a node is (Pipeline, Operation, Port, …).
//
// A meta node is a node whose own registry has isMeta === true; the core ones
// (FCO, Folder, Pipeline, Operation, Port, Connection, Artifact) sit in the
// root's "META" folder, libraries add more. Its "name" attribute names the
// type. A node's meta type is the first meta node on its base chain (itself
// included); isA follows the whole chain. Same rules as src/model (NodeRef::
// MetaType, NodeRef::IsA), which do not look at where a meta node sits.

import { childByName, effectiveAttr, findOnChain } from './tree';
import type { Guid, Tree } from './types';

/** The meta types the core rules know; libraries may add more names. */
export const CORE_META_TYPES = [
  'FCO',
  'Folder',
  'Pipeline',
  'Operation',
  'Port',
  'Connection',
  'Artifact',
] as const;
export type CoreMetaType = (typeof CORE_META_TYPES)[number];

/** The root's "META" folder, where the core meta types live. */
export function metaFolder(tree: Tree): Guid | undefined {
  return childByName(tree, tree.root, 'META')?.guid;
}

export function isMetaNode(tree: Tree, guid: Guid): boolean {
  return tree.nodes[guid]?.registry['isMeta'] === true;
}

/** The meta node a node is an instance of, or undefined for untyped nodes. */
export function metaNodeOf(tree: Tree, guid: Guid): Guid | undefined {
  return findOnChain(tree, guid, (n) => (n.registry['isMeta'] === true ? n.guid : undefined));
}

/** The meta type name ("Port", "Operation", …) of a node, if it has one. */
export function metaTypeOf(tree: Tree, guid: Guid): string | undefined {
  const m = metaNodeOf(tree, guid);
  if (m === undefined) return undefined;
  const name = effectiveAttr(tree, m, 'name');
  return typeof name === 'string' ? name : undefined;
}

/**
 * True if any meta node on the node's base chain is named `type`: a library's
 * "Input" meta node based on "Operation" is an Operation too.
 */
export function isA(tree: Tree, guid: Guid, type: string): boolean {
  return findOnChain(tree, guid, (n) => (n.registry['isMeta'] === true && effectiveAttr(tree, n.guid, 'name') === type ? true : undefined)) === true;
}
