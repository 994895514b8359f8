// Draft: a copy-on-write workspace over a Tree, used while applying one patch.
//
// Why: ops are applied one after another, and copying the whole node map per
// op would cost O(nodes) each. The draft copies the map once and each touched
// node once; `finish()` returns a new Tree in which every untouched node is the
// very same object as in the input (structural sharing), and the input tree is
// never modified. A draft whose op threw is half-done and must be dropped
// (applyOps does), which is what makes a patch atomic. Not exported from the
// package: callers see only Trees.

import { PatchError } from './errors';
import type { Guid, Tree, TreeNode } from './types';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface MutableNode {
  guid: Guid;
  parent: Guid | null;
  base: Guid | null;
  attrs: Mutable<TreeNode['attrs']>;
  pointers: Mutable<TreeNode['pointers']>;
  registry: Mutable<TreeNode['registry']>;
  children: Guid[];
}

export class Draft implements Tree {
  readonly root: Guid;
  private readonly map: Record<Guid, TreeNode>;
  /** Nodes copied (or created) during this draft, safe to mutate. */
  private readonly owned = new Set<Guid>();

  constructor(from: Tree) {
    this.root = from.root;
    this.map = { ...from.nodes };
  }

  get nodes(): Readonly<Record<Guid, TreeNode>> {
    return this.map;
  }

  has(guid: Guid): boolean {
    return Object.hasOwn(this.map, guid);
  }

  get(guid: Guid): TreeNode | undefined {
    return Object.hasOwn(this.map, guid) ? this.map[guid] : undefined;
  }

  /** A mutable version of the node, copied on first write. */
  edit(guid: Guid): MutableNode {
    const n = this.get(guid);
    if (!n) throw new PatchError('not_found', `node ${guid} does not exist`, [guid]);
    if (this.owned.has(guid)) return n as MutableNode;
    const copy: MutableNode = {
      guid: n.guid,
      parent: n.parent,
      base: n.base,
      attrs: { ...n.attrs },
      pointers: { ...n.pointers },
      registry: { ...n.registry },
      children: [...n.children],
    };
    this.map[guid] = copy;
    this.owned.add(guid);
    return copy;
  }

  insert(node: MutableNode): void {
    this.map[node.guid] = node;
    this.owned.add(node.guid);
  }

  remove(guid: Guid): void {
    delete this.map[guid];
    this.owned.delete(guid);
  }

  finish(): Tree {
    return { root: this.root, nodes: this.map };
  }
}
