// Merge conflicts (the server's 409 from POST merge) in words, and the patch
// that resolves one by editing one branch. The server merges three ways and
// has no "choose a side" option; but a field both sides set to the same
// value is no conflict. So "keep ours" sets the field on the source branch
// to the current branch's value, and "take theirs" sets it on the current
// branch to the source's value; merging again then goes through. Conflicts
// about a node's existence (deleted on one side, edited on the other) have
// no one-field fix: the user edits a branch by hand.
//
// Pure: trees in, descriptions and patch operations out.
import type { MergeConflict } from '@kiln/client';
import { effectiveAttr, metaTypeOf, type Guid, type JsonValue, type Op, type Tree } from '../model';
import { valueText } from './describe';

/** The server's word for a field that is not set on a side. */
export const ABSENT = '<absent>';

export type Side = 'ours' | 'theirs';

export interface ConflictView {
  readonly node: Guid;
  /** "Operations / Train", from the root down (the root itself left out). */
  readonly path: string;
  /** "operation", "port", … */
  readonly type: string;
  /** "attribute “epochs”", "where it sits", "whether it exists", … */
  readonly field: string;
  readonly base: string;
  readonly ours: string;
  readonly theirs: string;
  /** Whether one set/del/move on a branch resolves it. */
  readonly resolvable: boolean;
}

function nameIn(trees: readonly Tree[], guid: Guid): string | undefined {
  for (const t of trees) {
    const n = effectiveAttr(t, guid, 'name');
    if (typeof n === 'string' && n) return n;
  }
  return undefined;
}

/** The names from the root's child down to `guid`, in whichever tree holds it. */
export function nodePath(trees: readonly Tree[], guid: Guid): string {
  const tree = trees.find((t) => t.nodes[guid]);
  if (!tree) return guid.slice(0, 8);
  const names: string[] = [];
  for (let g: Guid | null = guid; g !== null && g !== tree.root && names.length < 64; g = tree.nodes[g]?.parent ?? null)
    names.unshift(nameIn(trees, g) ?? g.slice(0, 8));
  return names.join(' / ') || 'the project';
}

function fieldWords(field: string): string {
  if (field === 'exists') return 'whether it exists';
  if (field === 'parent') return 'where it sits';
  const [kind, ...rest] = field.split('/');
  const name = rest.join('/');
  if (kind === 'attrs') return name === 'code' ? 'code' : name === 'name' ? 'name' : `attribute “${name}”`;
  if (kind === 'pointers') return `pointer “${name}”`;
  if (kind === 'registry') return name === 'position' ? 'position on the canvas' : `editor data “${name}”`;
  return field;
}

/** A side's value in words: code by its size, pointers and parents by name. */
export function valueWords(trees: readonly Tree[], field: string, v: JsonValue): string {
  if (v === ABSENT) return field === 'exists' ? 'absent' : 'not set';
  if (field === 'exists') return v === 'deleted' ? 'deleted' : v === 'modified' ? 'changed' : 'kept';
  if ((field === 'parent' || field.startsWith('pointers/')) && typeof v === 'string') return `“${nameIn(trees, v) ?? v.slice(0, 8)}”`;
  if (field.startsWith('pointers/') && v === null) return 'nothing';
  if (field === 'attrs/code' && typeof v === 'string') {
    const n = v.split('\n').length;
    return `${n} line${n === 1 ? '' : 's'} of code`;
  }
  if (field === 'registry/position' && typeof v === 'object' && v !== null && 'x' in v && 'y' in v)
    return `(${Math.round(Number(v.x))}, ${Math.round(Number(v.y))})`;
  return valueText(v);
}

/** `ours` is the current branch's tree, `theirs` the source's (for names). */
export function describeConflicts(conflicts: readonly MergeConflict[], ours: Tree | null, theirs: Tree | null): ConflictView[] {
  const trees = [ours, theirs].filter((t): t is Tree => t !== null);
  return conflicts.map((c) => {
    const holder = trees.find((t) => t.nodes[c.node]);
    const meta = holder ? metaTypeOf(holder, c.node) : undefined;
    return {
      node: c.node,
      path: nodePath(trees, c.node),
      type: meta && meta !== 'FCO' ? meta.toLowerCase() : 'node',
      field: fieldWords(c.field),
      base: valueWords(trees, c.field, c.base),
      ours: valueWords(trees, c.field, c.ours),
      theirs: valueWords(trees, c.field, c.theirs),
      resolvable: resolution(c, 'ours') !== null,
    };
  });
}

/**
 * The patch that makes both sides agree on `keep`'s value, and which branch
 * it goes to: keeping ours edits the source ("from"), taking theirs edits the
 * current branch ("into"). Null when one field edit cannot do it.
 */
export function resolution(c: MergeConflict, keep: Side): { branch: 'from' | 'into'; ops: Op[] } | null {
  const value = keep === 'ours' ? c.ours : c.theirs;
  const branch = keep === 'ours' ? 'from' : 'into';
  const [kind, ...rest] = c.field.split('/');
  const name = rest.join('/');
  let op: Op | null = null;
  if (c.field === 'parent') {
    if (typeof value === 'string' && value !== ABSENT) op = { op: 'move', node: c.node, parent: value };
  } else if (kind === 'attrs' && name) {
    op = value === ABSENT ? { op: 'del_attr', node: c.node, name } : { op: 'set_attr', node: c.node, name, value };
  } else if (kind === 'registry' && name) {
    op = value === ABSENT ? { op: 'del_registry', node: c.node, name } : { op: 'set_registry', node: c.node, name, value };
  } else if (kind === 'pointers' && name) {
    if (value === ABSENT) op = { op: 'del_pointer', node: c.node, name };
    else if (value === null || typeof value === 'string') op = { op: 'set_pointer', node: c.node, name, target: value };
  }
  return op ? { branch, ops: [op] } : null;
}
