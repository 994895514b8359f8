// The Kiln model package: project trees, patches and collaboration state,
// as pure functions over immutable values. No React, no DOM, no network:
// views and transports live elsewhere and call into this.

export type * from './types';
export { PatchError, type PatchErrorCode } from './errors';
export { sha256, sha256Hex, toHex, utf8Encode } from './sha256';
export { deriveGuid, isGuid, newGuid } from './guid';
export {
  baseChain,
  childByName,
  effectiveAttr,
  effectiveAttrs,
  effectivePointer,
  effectivePointers,
  effectiveRegistry,
  getNode,
  inheritsFrom,
  instancesOf,
  isInSubtree,
  requireNode,
  subtree,
} from './tree';
export { applyOp, applyOps, MAX_TREE_DEPTH, planDelete, tryApplyOps, type ApplyResult, type DeletePlan } from './apply';
export { invert, jsonEqual, restoreOps } from './invert';
export {
  canRedo,
  canUndo,
  discardUndo,
  emptyUndoStack,
  recordEdit,
  redo,
  undo,
  type UndoEntry,
  type UndoStack,
  type UndoStep,
} from './undo';
export {
  createBranchState,
  isRejection,
  pendingSeqs,
  propose,
  reconcile,
  resync,
  type BranchState,
  type Broadcast,
  type OutgoingPatch,
  type PendingPatch,
  type ReconcileEvent,
  type ReconcileResult,
  type Rejection,
  type ServerMessage,
} from './branch';
export { CORE_META_TYPES, isA, isMetaNode, metaFolder, metaNodeOf, metaTypeOf, type CoreMetaType } from './meta';
export { canConnect, operationEdges, type RuleCheck } from './rules';
export {
  interfaceSyncOps,
  NON_PARAMETER_ATTRIBUTES,
  portChildren,
  type InterfaceAttributeSpec,
  type InterfacePortSpec,
  type InterfaceSpec,
  type InterfaceSync,
  type PortDirection,
  type RemovedConnection,
} from './interfaceSync';
export { CONFLICT_MARKERS, decideSave, hasConflictMarkers, merge3, type Merge3, type MergeHunk, type SaveDecision } from './collide';
export { isJobAttribute, JOB_ATTRIBUTES, type JobAttribute } from './jobAttributes';
export { ATTRIBUTE_ORDER, attributeOrder, codeParameterOrder, sortByOrder } from './attributeOrder';
