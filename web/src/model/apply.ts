// applyOps: the client-side semantics of every patch op (docs/patches.md).
//
// The editor applies its own patches optimistically and replays the server's
// broadcasts with this code, so it must produce exactly the server's tree: it
// mirrors src/model/edit.cc rule for rule. Beyond the doc's one-line summaries:
//
// * Inheritance: an instance holds one inherited child per child of its base,
//   guid DeriveGuid(instance, base child), recursively (each level derives from
//   the derived guid). `create` materializes them; creating or copying a child
//   into a node that has instances gives each instance an inheriting child,
//   appended last; deleting a child from a base deletes those again.
// * After a create (or a copy's propagation), inherited pointers that aim
//   inside the base's subtree become own pointers aimed at the instance's
//   corresponding node (an instance pipeline connects its own operations).
// * `delete` also takes connections (meta type Connection) whose own `src` or
//   `dst` lies in what goes, removes other nodes' own pointers into it, and is
//   refused if a node outside it still inherits from it.
// * No node may inherit, along its base chain, from one of its own ancestors
//   ('cycle'); no tree deeper than MAX_TREE_DEPTH ('too_deep').
// * `copy` remaps pointers and bases that aim inside the copied subtree.
// * `del_*` of a name the node does not have is a no-op.
// * `index` ranges over 0..children.length (for `move` within one parent:
//   counted after the node is taken out); absent means last.
//
// Everything is immutable: the input tree is never modified, and the result
// shares every node the patch did not touch.

import { Draft, type MutableNode } from './draft';
import { PatchError } from './errors';
import { deriveGuid } from './guid';
import { isA } from './meta';
import { effectivePointers, isInSubtree, subtree } from './tree';
import type { CopyOp, CreateOp, Guid, Op, Tree } from './types';

export type ApplyResult = { ok: true; tree: Tree } | { ok: false; error: PatchError };

/** Applies `ops` in order; throws PatchError (with opIndex) if any op fails. */
export function applyOps(tree: Tree, ops: readonly Op[]): Tree {
  if (ops.length === 0) return tree;
  const d = new Draft(tree);
  ops.forEach((op, i) => {
    try {
      applyToDraft(d, op);
    } catch (e) {
      if (e instanceof PatchError) throw new PatchError(e.code, e.message, e.nodes, i);
      throw e;
    }
  });
  return d.finish();
}

export function applyOp(tree: Tree, op: Op): Tree {
  return applyOps(tree, [op]);
}

/** applyOps without exceptions, for callers that expect failures (rebasing). */
export function tryApplyOps(tree: Tree, ops: readonly Op[]): ApplyResult {
  try {
    return { ok: true, tree: applyOps(tree, ops) };
  } catch (e) {
    if (e instanceof PatchError) return { ok: false, error: e };
    throw e;
  }
}

function applyToDraft(d: Draft, op: Op): void {
  switch (op.op) {
    case 'create':
      return createOp(d, op);
    case 'set_attr':
      d.edit(op.node).attrs[op.name] = op.value;
      return;
    case 'del_attr':
      if (Object.hasOwn(need(d, op.node).attrs, op.name)) delete d.edit(op.node).attrs[op.name];
      return;
    case 'set_pointer':
      need(d, op.node);
      if (op.target !== null) need(d, op.target, 'pointer target');
      d.edit(op.node).pointers[op.name] = op.target;
      return;
    case 'del_pointer':
      if (Object.hasOwn(need(d, op.node).pointers, op.name)) delete d.edit(op.node).pointers[op.name];
      return;
    case 'set_registry':
      d.edit(op.node).registry[op.name] = op.value;
      return;
    case 'del_registry':
      if (Object.hasOwn(need(d, op.node).registry, op.name)) delete d.edit(op.node).registry[op.name];
      return;
    case 'move':
      return moveNode(d, op.node, op.parent, op.index);
    case 'copy':
      return copyOp(d, op);
    case 'delete':
      return deleteNode(d, op.node);
    default: {
      const unknown: { op?: unknown } = op;
      throw new PatchError('bad_op', `unknown op ${JSON.stringify(unknown.op)}`);
    }
  }
}

function need(d: Draft, guid: Guid, what = 'node') {
  const n = d.get(guid);
  if (!n) throw new PatchError('not_found', `${what} ${guid} does not exist`, [guid]);
  return n;
}

function insertAt(children: Guid[], guid: Guid, index: number | undefined, parent: Guid): void {
  const i = index ?? children.length;
  if (!Number.isInteger(i) || i < 0 || i > children.length)
    throw new PatchError('bad_index', `index ${i} outside 0..${children.length} of ${parent}`, [parent]);
  children.splice(i, 0, guid);
}

// ---- shared checks (mirroring src/model/edit.cc) ----

/** The server refuses trees deeper than this (its recursion bound). */
export const MAX_TREE_DEPTH = 1000;

function depthOf(d: Draft, guid: Guid): number {
  let depth = 0;
  for (let p = need(d, guid).parent; p !== null; p = need(d, p).parent) depth++;
  return depth;
}

function heightOf(d: Draft, guid: Guid): number {
  let best = 0;
  const stack: Array<[Guid, number]> = [[guid, 0]];
  while (stack.length > 0) {
    const [g, h] = stack.pop()!;
    best = Math.max(best, h);
    for (const c of need(d, g).children) stack.push([c, h + 1]);
  }
  return best;
}

function checkDepth(d: Draft, parent: Guid, height: number): void {
  if (depthOf(d, parent) + 1 + height > MAX_TREE_DEPTH)
    throw new PatchError('too_deep', `tree would be deeper than ${MAX_TREE_DEPTH} levels`, [parent]);
}

function ancestorsOrSelf(d: Draft, guid: Guid): Set<Guid> {
  const out = new Set<Guid>();
  for (let g: Guid | null = guid; g !== null; g = need(d, g).parent) out.add(g);
  return out;
}

// A node must never inherit (anywhere along its base chain) from one of its
// own ancestors: it would have to contain a copy of itself, and propagation
// would never end. Every op that places nodes checks this first.
function checkBaseOutside(d: Draft, node: Guid, base: Guid | null, ancestors: ReadonlySet<Guid>): void {
  for (let b = base; b !== null; b = need(d, b).base)
    if (ancestors.has(b))
      throw new PatchError('cycle', `${node} would sit inside the subtree of its base ${b}`, [node, b]);
}

function checkIndex(d: Draft, parent: Guid, index: number | undefined, removed = 0): void {
  const size = need(d, parent).children.length - removed;
  if (index !== undefined && (!Number.isInteger(index) || index < 0 || index > size))
    throw new PatchError('bad_index', `index ${index} outside 0..${size} of ${parent}`, [parent]);
}

// ---- create ----

function createOp(d: Draft, op: CreateOp): void {
  need(d, op.parent, 'parent');
  if (op.base !== null) need(d, op.base, 'base');
  const created: Guid[] = [];
  createNode(d, op.guid, op.parent, op.base, op.index, created);
  // Own values go on after materialization, as on the server: pointers may
  // even aim at the new node or its inherited children.
  const top = d.edit(op.guid);
  Object.assign(top.attrs, op.attrs);
  Object.assign(top.registry, op.registry);
  for (const target of Object.values(op.pointers ?? {}))
    if (target !== null) need(d, target, 'pointer target');
  Object.assign(top.pointers, op.pointers);
  remapInherited(d, created);
}

/**
 * Creates a node with no own values, its inherited children (materialized
 * from `base`, recursively) and the inheriting copies in every instance of
 * `parent`, appending each new guid to `created` in creation order.
 */
function createNode(
  d: Draft,
  guid: Guid,
  parent: Guid,
  base: Guid | null,
  index: number | undefined,
  created: Guid[],
): void {
  if (d.has(guid))
    throw new PatchError('exists', `node ${guid} already exists${created.length ? ' (an inherited child)' : ''}`, [guid]);
  checkDepth(d, parent, 0);
  if (base !== null) checkBaseOutside(d, guid, base, ancestorsOrSelf(d, parent));
  checkIndex(d, parent, index);
  insertAt(d.edit(parent).children, guid, index, parent);
  d.insert({ guid, parent, base, attrs: {}, pointers: {}, registry: {}, children: [] });
  created.push(guid);
  if (base !== null)
    for (const bc of [...need(d, base).children]) createNode(d, deriveGuid(guid, bc), guid, bc, undefined, created);
  for (const inst of instancesIn(d, parent)) createNode(d, deriveGuid(inst, guid), inst, guid, undefined, created);
}

function instancesIn(d: Draft, base: Guid): Guid[] {
  const out: Guid[] = [];
  for (const n of Object.values(d.nodes)) if (n.base === base) out.push(n.guid);
  return out;
}

/**
 * Inherited pointers that aim inside the base's subtree are re-aimed, as own
 * pointers, at the corresponding node of the instance, so that an instance of
 * a pipeline connects its own operations, not its base's.
 */
function remapInherited(d: Draft, created: readonly Guid[]): void {
  for (const x of created) {
    const base = need(d, x).base;
    if (base === null) continue;
    for (const [name, target] of Object.entries(effectivePointers(d, base))) {
      if (target === null || Object.hasOwn(need(d, x).pointers, name) || !d.has(target)) continue;
      const mapped = mapIntoInstance(d, x, target);
      if (mapped !== undefined && mapped !== target) d.edit(x).pointers[name] = mapped;
    }
  }
}

/** The node of x's instance subtree that corresponds to `target` in the base's subtree. */
function mapIntoInstance(d: Draft, x: Guid, target: Guid): Guid | undefined {
  // Climb while `a` is an inherited child of an instance of `ba`'s parent.
  let a = x;
  let ba = need(d, x).base!;
  for (;;) {
    const pa = need(d, a).parent;
    const pba = need(d, ba).parent;
    if (pa === null || pba === null || need(d, pa).base !== pba) break;
    a = pa;
    ba = pba;
  }
  const path: Guid[] = [];
  let n: Guid | null = target;
  for (; n !== null && n !== ba; n = need(d, n).parent) path.push(n);
  if (n === null) return undefined;
  let cur = a;
  for (let i = path.length - 1; i >= 0; i--) {
    cur = deriveGuid(cur, path[i]!);
    if (!d.has(cur)) return undefined;
  }
  return cur;
}

// ---- move ----

function moveNode(d: Draft, guid: Guid, parent: Guid, index: number | undefined): void {
  const n = need(d, guid);
  need(d, parent, 'parent');
  if (n.parent === null) throw new PatchError('root', 'the root cannot be moved', [guid]);
  if (isInSubtree(d, parent, guid))
    throw new PatchError('cycle', `cannot move ${guid} under itself or its descendant ${parent}`, [guid, parent]);
  checkIndex(d, parent, index, n.parent === parent ? 1 : 0);
  checkDepth(d, parent, heightOf(d, guid));
  const ancestors = ancestorsOrSelf(d, parent);
  for (const x of subtree(d, guid)) checkBaseOutside(d, x, need(d, x).base, ancestors);
  const from = d.edit(n.parent).children;
  from.splice(from.indexOf(guid), 1);
  insertAt(d.edit(parent).children, guid, index, parent);
  d.edit(guid).parent = parent;
}

// ---- copy ----

function copyOp(d: Draft, op: CopyOp): void {
  const src = need(d, op.node);
  need(d, op.parent, 'parent');
  if (src.parent === null) throw new PatchError('root', 'the root cannot be copied', [op.node]);
  checkIndex(d, op.parent, op.index);
  checkDepth(d, op.parent, heightOf(d, op.node));
  const originals = subtree(d, op.node); // fixed before anything is added
  const map = new Map<Guid, Guid>(originals.map((g) => [g, g === op.node ? op.guid : deriveGuid(op.guid, g)]));
  for (const g of map.values()) if (d.has(g)) throw new PatchError('exists', `node ${g} already exists`, [g]);
  const ancestors = ancestorsOrSelf(d, op.parent);
  for (const g of originals) {
    const b = need(d, g).base;
    if (b !== null && !map.has(b)) checkBaseOutside(d, map.get(g)!, b, ancestors);
  }
  const remap = (g: Guid | null): Guid | null => (g === null ? null : (map.get(g) ?? g));
  const copies: MutableNode[] = originals.map((g) => {
    const n = need(d, g);
    const pointers: Record<string, Guid | null> = {};
    for (const [k, t] of Object.entries(n.pointers)) pointers[k] = remap(t);
    return {
      guid: map.get(g)!,
      parent: g === op.node ? op.parent : remap(n.parent),
      base: remap(n.base),
      attrs: { ...n.attrs },
      pointers,
      registry: { ...n.registry },
      children: n.children.map((c) => map.get(c)!),
    };
  });
  insertAt(d.edit(op.parent).children, op.guid, op.index, op.parent);
  for (const c of copies) d.insert(c);
  // The copy is a new child of op.parent: its instances inherit it.
  const propagated: Guid[] = [];
  for (const inst of instancesIn(d, op.parent))
    createNode(d, deriveGuid(inst, op.guid), inst, op.guid, undefined, propagated);
  remapInherited(d, propagated);
}

// ---- delete ----

/** What a delete removes and which outside pointers it clears. Shared with invert. */
export interface DeletePlan {
  /** Every node removed: the subtree, derived children, cascaded connections. */
  readonly removed: ReadonlySet<Guid>;
  /** Nodes outside `removed` whose own pointers into it are cleared. */
  readonly clearedPointers: ReadonlyArray<{ node: Guid; name: string }>;
}

export function planDelete(tree: Tree, guid: Guid): DeletePlan {
  const n = tree.nodes[guid];
  if (!n) throw new PatchError('not_found', `node ${guid} does not exist`, [guid]);
  if (n.parent === null) throw new PatchError('root', 'the root cannot be deleted', [guid]);
  const removed = new Set<Guid>();
  const addSubtree = (g: Guid) => {
    for (const s of subtree(tree, g)) removed.add(s);
  };
  addSubtree(guid);
  // Grow to a fixpoint: derived children of removed base children, then
  // connections that would dangle; either may expose more of the other.
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of Object.values(tree.nodes)) {
      if (removed.has(m.guid)) continue;
      const derivedFromRemoved =
        m.base !== null &&
        removed.has(m.base) &&
        m.parent !== null &&
        tree.nodes[m.parent]?.base === tree.nodes[m.base]?.parent;
      // Own src/dst only, like the server: an instance's connection has its
      // own pointers (remapped at creation), an inherited one stays valid.
      const dangling =
        !derivedFromRemoved &&
        ['src', 'dst'].some((p) => {
          const t = m.pointers[p];
          return t != null && removed.has(t);
        }) &&
        isA(tree, m.guid, 'Connection');
      if (derivedFromRemoved || dangling) {
        addSubtree(m.guid);
        grew = true;
      }
    }
  }
  const clearedPointers: { node: Guid; name: string }[] = [];
  for (const m of Object.values(tree.nodes)) {
    if (removed.has(m.guid)) continue;
    if (m.base !== null && removed.has(m.base))
      throw new PatchError('inherited', `${m.base} is inherited by ${m.guid}`, [m.base, m.guid]);
    for (const [name, t] of Object.entries(m.pointers))
      if (t !== null && removed.has(t)) clearedPointers.push({ node: m.guid, name });
  }
  return { removed, clearedPointers };
}

function deleteNode(d: Draft, guid: Guid): void {
  const plan = planDelete(d, guid);
  for (const { node, name } of plan.clearedPointers) delete d.edit(node).pointers[name];
  for (const g of plan.removed) {
    const p = need(d, g).parent;
    if (p !== null && !plan.removed.has(p)) {
      const siblings = d.edit(p).children;
      siblings.splice(siblings.indexOf(g), 1);
    }
  }
  for (const g of plan.removed) d.remove(g);
}
