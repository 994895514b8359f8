// invert: the patch that undoes a patch, computed against the tree the patch
// was applied to. Undo is then just another patch sent to the server, so it
// merges with collaborators' edits like any other change.
//
//   set_attr/set_pointer/set_registry → set back the old own value, or del_* it
//   del_*                             → set back the old own value (none: no-op)
//   create, copy                      → delete the new node (the delete takes
//                                       the propagated derived children along)
//   move                              → move back to the old parent and index
//   delete                            → recreate everything the delete removed
//                                       (subtree, derived children, cascaded
//                                       connections) with the same guids and
//                                       values, restore cleared pointers and
//                                       the original child order
//
// Guarantee (tested on thousands of random patches): applyOps(applyOps(t, ops),
// invert(t, ops)) deep-equals t. A few exotic trees have no inverse in this op
// language (a moved inherited child that has since been instantiated, and its
// former instance deleted): then invert throws rather than return a wrong patch.

import { applyOp, tryApplyOps } from './apply';
import type { Guid, JsonValue, Op, Tree, TreeNode } from './types';

export function invert(tree: Tree, ops: readonly Op[]): Op[] {
  const inverses: Op[][] = [];
  let t = tree;
  for (const op of ops) {
    inverses.push(invertOp(t, op));
    t = applyOp(t, op);
  }
  return inverses.reverse().flat();
}

function invertOp(t: Tree, op: Op): Op[] {
  switch (op.op) {
    case 'set_attr':
    case 'del_attr':
      return restoreField(t, op.node, 'attrs', op.name);
    case 'set_pointer':
    case 'del_pointer':
      return restoreField(t, op.node, 'pointers', op.name);
    case 'set_registry':
    case 'del_registry':
      return restoreField(t, op.node, 'registry', op.name);
    case 'create':
    case 'copy':
      return [{ op: 'delete', node: op.guid }];
    case 'move': {
      const n = t.nodes[op.node];
      if (!n || n.parent === null) return []; // the op itself will fail
      const index = t.nodes[n.parent]!.children.indexOf(op.node);
      return [{ op: 'move', node: op.node, parent: n.parent, index }];
    }
    case 'delete':
      return undoDelete(t, op.node);
  }
}

type Field = 'attrs' | 'pointers' | 'registry';

/** The op that gives node.field[name] back the own value it has in `t`. */
function restoreField(t: Tree, node: Guid, field: Field, name: string): Op[] {
  const n = t.nodes[node];
  if (!n) return [];
  if (!Object.hasOwn(n[field], name)) {
    const op = field === 'attrs' ? 'del_attr' : field === 'pointers' ? 'del_pointer' : 'del_registry';
    return [{ op, node, name }];
  }
  if (field === 'pointers') return [{ op: 'set_pointer', node, name, target: n.pointers[name]! }];
  const value: JsonValue = n[field][name]!;
  return [{ op: field === 'attrs' ? 'set_attr' : 'set_registry', node, name, value }];
}

/** Ops that rebuild what deleting `guid` from `before` removes. */
function undoDelete(before: Tree, guid: Guid): Op[] {
  return restoreOps(applyOp(before, { op: 'delete', node: guid }), before);
}

/**
 * Ops that turn `current` back into `before` when `current` lacks some of its
 * nodes or has nodes changed (what a delete does). Rather than predicting what
 * each create will materialize or propagate, it replays its own ops on a
 * scratch tree and emits only what is still missing or different. Structural
 * sharing makes the comparison cheap: unchanged nodes are the same objects.
 */
export function restoreOps(current: Tree, before: Tree): Op[] {
  const ops: Op[] = [];
  let scratch = current;
  const emit = (op: Op) => {
    ops.push(op);
    scratch = applyOp(scratch, op);
  };

  // 1. Recreate missing nodes, parents and bases first. Document order keeps
  //    this to one pass in the common case; the loop covers a base that comes
  //    later in the document than the node inheriting from it.
  const order = documentOrder(before);
  // Inherited children deleted because they clashed: their materializing
  // parent brings them back, so they wait unless nothing else can progress.
  const clashed = new Set<Guid>();
  let stalled = false;
  for (let pass = 0; ; pass++) {
    const pending = order.filter((g) => !scratch.nodes[g]);
    if (pending.length === 0) break;
    const emitted = ops.length;
    for (const g of pending) {
      if (scratch.nodes[g]) continue; // materialized or propagated meanwhile
      if (clashed.has(g) && !stalled) continue;
      const n = before.nodes[g]!;
      if (!scratch.nodes[n.parent!] || (n.base !== null && !scratch.nodes[n.base])) continue;
      const create: Op = {
        op: 'create',
        guid: g,
        parent: n.parent!,
        base: n.base,
        attrs: n.attrs,
        pointers: pointersToExisting(scratch, n),
        registry: n.registry,
      };
      const r = tryApplyOps(scratch, [create]);
      const clash = !r.ok && r.error.code === 'exists' ? r.error.nodes[0] : undefined;
      if (clash !== undefined && clash !== g && before.nodes[clash] && scratch.nodes[clash]) {
        // An inherited child this node would materialize exists elsewhere
        // (it had been moved out): delete it; it comes back, then moves back.
        emit({ op: 'delete', node: clash });
        clashed.add(clash);
        continue;
      }
      if (!r.ok) throw r.error;
      emit(create);
    }
    const progressed = ops.length > emitted;
    if ((!progressed && stalled) || pass > 1000) throw new Error(`invert: cannot recreate ${pending.join(', ')}`);
    stalled = !progressed;
  }

  // 2. Materialization and propagation may have made nodes `before` did not
  //    have (inherited children someone had deleted): delete them again.
  for (const g of Object.keys(scratch.nodes)) {
    const n = scratch.nodes[g];
    if (n && !before.nodes[g] && n.parent !== null && before.nodes[n.parent]) emit({ op: 'delete', node: g });
  }

  // 3. Own values and places of every node that is not the very same object.
  const changed = Object.keys(before.nodes).filter((g) => scratch.nodes[g] !== before.nodes[g]);
  for (const g of changed) {
    const was = before.nodes[g]!;
    for (const op of syncFields(was, scratch.nodes[g]!)) emit(op);
    if (was.parent !== null && scratch.nodes[g]!.parent !== was.parent)
      emit({ op: 'move', node: g, parent: was.parent });
  }

  // 4. Child order, compared position by position (see the move index rule).
  for (const g of changed) {
    before.nodes[g]!.children.forEach((c, i) => {
      if (scratch.nodes[g]!.children[i] !== c) emit({ op: 'move', node: c, parent: g, index: i });
    });
  }
  return ops;
}

function pointersToExisting(t: Tree, n: TreeNode): Record<string, Guid | null> {
  const out: Record<string, Guid | null> = {};
  for (const [k, v] of Object.entries(n.pointers)) if (v === null || t.nodes[v]) out[k] = v;
  return out;
}

/** set_/del_ ops that make `now`'s own values equal `was`'s. */
function syncFields(was: TreeNode, now: TreeNode): Op[] {
  const ops: Op[] = [];
  const node = was.guid;
  for (const [name, value] of Object.entries(was.attrs))
    if (!Object.hasOwn(now.attrs, name) || !jsonEqual(now.attrs[name]!, value))
      ops.push({ op: 'set_attr', node, name, value });
  for (const name of Object.keys(now.attrs))
    if (!Object.hasOwn(was.attrs, name)) ops.push({ op: 'del_attr', node, name });
  for (const [name, target] of Object.entries(was.pointers))
    if (!Object.hasOwn(now.pointers, name) || now.pointers[name] !== target)
      ops.push({ op: 'set_pointer', node, name, target });
  for (const name of Object.keys(now.pointers))
    if (!Object.hasOwn(was.pointers, name)) ops.push({ op: 'del_pointer', node, name });
  for (const [name, value] of Object.entries(was.registry))
    if (!Object.hasOwn(now.registry, name) || !jsonEqual(now.registry[name]!, value))
      ops.push({ op: 'set_registry', node, name, value });
  for (const name of Object.keys(now.registry))
    if (!Object.hasOwn(was.registry, name)) ops.push({ op: 'del_registry', node, name });
  return ops;
}

function documentOrder(t: Tree): Guid[] {
  const out: Guid[] = [];
  const stack: Guid[] = [t.root];
  while (stack.length > 0) {
    const g = stack.pop()!;
    out.push(g);
    const n = t.nodes[g];
    if (n) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}

export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as readonly JsonValue[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]!));
  }
  const ao = a as { readonly [k: string]: JsonValue };
  const bo = b as { readonly [k: string]: JsonValue };
  const ak = Object.keys(ao);
  return (
    ak.length === Object.keys(bo).length &&
    ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k]!, bo[k]!))
  );
}
