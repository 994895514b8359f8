// PatchError: why an operation cannot apply to a tree. The codes name the
// rule, like the server's 422 answers, so the editor can explain a refusal.

import type { Guid } from './types';

export type PatchErrorCode =
  | 'not_found' // a node, parent, base or pointer target does not exist
  | 'exists' // create/copy with a guid already in the tree
  | 'bad_index' // index outside 0..children.length
  | 'root' // the root cannot be moved or deleted
  | 'cycle' // move under itself, or a node inheriting from its ancestor
  | 'inherited' // delete a node that nodes outside the subtree inherit from
  | 'too_deep' // the tree would be deeper than MAX_TREE_DEPTH
  | 'bad_op'; // unknown op or malformed fields

export class PatchError extends Error {
  constructor(
    readonly code: PatchErrorCode,
    message: string,
    readonly nodes: readonly Guid[] = [],
    /** Position of the failing op in its patch, when known. */
    readonly opIndex?: number,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}
