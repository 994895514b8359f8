// UndoStack: the user's own edits as (patch, inverse patch) pairs.
//
// Undo and redo produce ordinary patches that the caller proposes like any
// edit (BranchState.propose), so they travel to the server and merge with
// collaborators' work. Only local edits are recorded: undo never reverts what
// someone else did. The stack is an immutable value like the rest of the model;
// if applying the returned ops fails (a collaborator deleted the node), the
// caller keeps the previous stack and may `discardUndo` the stale entry.

import { invert } from './invert';
import type { Op, Tree } from './types';

export interface UndoEntry {
  /** The edit as the user made it (what redo sends). */
  readonly ops: readonly Op[];
  /** Its inverse against the tree it was applied to (what undo sends). */
  readonly inverse: readonly Op[];
  readonly label?: string | undefined;
}

export interface UndoStack {
  readonly undo: readonly UndoEntry[];
  readonly redo: readonly UndoEntry[];
  /** Oldest entries are forgotten beyond this many. */
  readonly limit: number;
}

export function emptyUndoStack(limit = 200): UndoStack {
  return { undo: [], redo: [], limit };
}

/**
 * Records an edit about to be applied to `before`; clears the redo list. An
 * edit without an inverse (see invert) empties the history: older entries
 * would undo on top of a state they never saw.
 */
export function recordEdit(stack: UndoStack, before: Tree, ops: readonly Op[], label?: string): UndoStack {
  if (ops.length === 0) return stack;
  let inverse: Op[];
  try {
    inverse = invert(before, ops);
  } catch {
    return { ...stack, undo: [], redo: [] };
  }
  const entry: UndoEntry = { ops, inverse, label };
  return { ...stack, undo: [...stack.undo, entry].slice(-stack.limit), redo: [] };
}

export const canUndo = (s: UndoStack): boolean => s.undo.length > 0;
export const canRedo = (s: UndoStack): boolean => s.redo.length > 0;

export interface UndoStep {
  readonly stack: UndoStack;
  /** The patch ops to propose. */
  readonly ops: readonly Op[];
  readonly label?: string | undefined;
}

/** The inverse of the latest edit, and the stack with that edit moved to redo. */
export function undo(stack: UndoStack): UndoStep | undefined {
  const entry = stack.undo.at(-1);
  if (!entry) return undefined;
  return {
    stack: { ...stack, undo: stack.undo.slice(0, -1), redo: [...stack.redo, entry] },
    ops: entry.inverse,
    label: entry.label,
  };
}

/**
 * The latest undone edit again. Its inverse is recomputed against `current`
 * (the tree the redo applies to), because collaborators may have changed the
 * tree since the edit was first made.
 */
export function redo(stack: UndoStack, current: Tree): UndoStep | undefined {
  const entry = stack.redo.at(-1);
  if (!entry) return undefined;
  let inverse = entry.inverse;
  try {
    inverse = invert(current, entry.ops);
  } catch {
    // The edit no longer applies; the caller's propose will report why.
  }
  const again: UndoEntry = { ...entry, inverse };
  return {
    stack: { ...stack, undo: [...stack.undo, again], redo: stack.redo.slice(0, -1) },
    ops: entry.ops,
    label: entry.label,
  };
}

/** Forgets the latest undo entry (its inverse no longer applies). */
export function discardUndo(stack: UndoStack): UndoStack {
  return { ...stack, undo: stack.undo.slice(0, -1) };
}
