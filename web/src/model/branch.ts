// BranchState: one client's view of a branch while collaborating.
//
//   confirmed  the server's head (commit + tree) as far as this client knows
//   pending    local patches sent but not yet acknowledged, oldest first, each
//              tagged with this client's sequence number
//   visible    confirmed + pending replayed on top — what the editor shows
//
// The server orders all patches and broadcasts each commit to every
// subscriber, the author included. `reconcile` folds one server message into
// the state: our own broadcast acknowledges the oldest pending patch; anyone
// else's applies to the confirmed tree and our pending patches are replayed
// on top (a rebase); a rejection drops the pending patch and says why. A
// broadcast whose parent is not our confirmed commit means we missed something:
// the state is left as it was and `needsResync` asks the caller to fetch the
// tree again (then `resync`).
//
// Everything here is pure: no sockets, no timers; values in, values out.

import { tryApplyOps } from './apply';
import { jsonEqual } from './invert';
import type { CommitId, JsonValue, Op, Patch, Tree } from './types';

export interface PendingPatch {
  readonly seq: number;
  readonly patch: Patch;
}

export interface BranchState {
  readonly clientId: string;
  readonly commit: CommitId;
  readonly confirmed: Tree;
  readonly pending: readonly PendingPatch[];
  readonly visible: Tree;
  /** Pending patches that no longer apply on the confirmed tree; left out of `visible`. */
  readonly conflicted: readonly number[];
  readonly nextSeq: number;
}

/** A commit broadcast by the server. */
export interface Broadcast {
  readonly commit: CommitId;
  readonly parent: CommitId;
  readonly ops: readonly Op[];
  readonly author: string;
  /** The client that sent the patch, and its sequence number there. */
  readonly clientId: string;
  readonly seq: number;
}

/** The server refused a patch (it never becomes a commit). */
export interface Rejection {
  readonly clientId: string;
  readonly seq: number;
  readonly reason: string;
}

export type ServerMessage = Broadcast | Rejection;

export function isRejection(m: ServerMessage): m is Rejection {
  return !('commit' in m);
}

/** What a patch looks like on the wire when `propose` hands it out. */
export interface OutgoingPatch {
  readonly clientId: string;
  readonly seq: number;
  readonly patch: Patch;
}

export type ReconcileEvent =
  | { readonly kind: 'ack'; readonly seq: number; readonly commit: CommitId }
  | { readonly kind: 'remote'; readonly commit: CommitId; readonly author: string }
  | { readonly kind: 'rejected'; readonly seq: number; readonly reason: string }
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'resync'; readonly why: string };

export interface ReconcileResult {
  readonly state: BranchState;
  readonly event: ReconcileEvent;
  /** True when the state could not follow the server: fetch the tree and `resync`. */
  readonly needsResync: boolean;
}

export function createBranchState(clientId: string, commit: CommitId, tree: Tree, nextSeq = 1): BranchState {
  return { clientId, commit, confirmed: tree, pending: [], visible: tree, conflicted: [], nextSeq };
}

/**
 * Applies a local edit optimistically and returns the patch to send. Throws
 * PatchError if the ops do not apply to the visible tree (nothing to send).
 */
export function propose(
  state: BranchState,
  ops: readonly Op[],
  message?: string,
): { state: BranchState; outgoing: OutgoingPatch } {
  const applied = tryApplyOps(state.visible, ops);
  if (!applied.ok) throw applied.error;
  const seq = state.nextSeq;
  const patch: Patch = message === undefined ? { base: state.commit, ops } : { base: state.commit, message, ops };
  return {
    state: { ...state, pending: [...state.pending, { seq, patch }], visible: applied.tree, nextSeq: seq + 1 },
    outgoing: { clientId: state.clientId, seq, patch },
  };
}

export function reconcile(state: BranchState, msg: ServerMessage): ReconcileResult {
  if (isRejection(msg)) return reconcileRejection(state, msg);
  const resync = (why: string): ReconcileResult => ({ state, event: { kind: 'resync', why }, needsResync: true });

  if (msg.commit === state.commit)
    return { state, event: { kind: 'ignored', why: 'already at this commit' }, needsResync: false };
  if (msg.parent !== state.commit)
    return resync(`broadcast ${msg.commit} has parent ${msg.parent}, we are at ${state.commit}`);

  const confirmed = tryApplyOps(state.confirmed, msg.ops);
  if (!confirmed.ok) return resync(`broadcast ${msg.commit} does not apply here: ${confirmed.error.message}`);

  const own = msg.clientId === state.clientId;
  const oldest = state.pending[0];
  if (own && oldest !== undefined && oldest.seq === msg.seq) {
    const rest = state.pending.slice(1);
    // Usual case: the server took our ops as sent and nothing else happened
    // meanwhile, so the visible tree is already right: keep the same object
    // (no re-render, no flicker).
    const unchanged = state.conflicted.length === 0 && jsonEqual(opsJson(oldest.patch.ops), opsJson(msg.ops));
    const next = unchanged
      ? { ...state, commit: msg.commit, confirmed: confirmed.tree, pending: rest }
      : rebase({ ...state, commit: msg.commit, confirmed: confirmed.tree, pending: rest });
    return { state: next, event: { kind: 'ack', seq: msg.seq, commit: msg.commit }, needsResync: false };
  }
  if (own && state.pending.some((p) => p.seq === msg.seq))
    return resync(`patch ${msg.seq} was committed before older pending patches`);

  // Someone else's commit (or one of ours we had already given up on).
  const next = rebase({ ...state, commit: msg.commit, confirmed: confirmed.tree });
  return { state: next, event: { kind: 'remote', commit: msg.commit, author: msg.author }, needsResync: false };
}

function reconcileRejection(state: BranchState, msg: Rejection): ReconcileResult {
  if (msg.clientId !== state.clientId || !state.pending.some((p) => p.seq === msg.seq))
    return { state, event: { kind: 'ignored', why: 'not one of our pending patches' }, needsResync: false };
  const next = rebase({ ...state, pending: state.pending.filter((p) => p.seq !== msg.seq) });
  return { state: next, event: { kind: 'rejected', seq: msg.seq, reason: msg.reason }, needsResync: false };
}

/**
 * Adopts a freshly fetched head (after `needsResync`). Pending patches stay:
 * they may still be in flight, and the server answers each of them.
 */
export function resync(state: BranchState, commit: CommitId, tree: Tree): BranchState {
  return rebase({ ...state, commit, confirmed: tree });
}

/** Recomputes `visible` = confirmed + pending, skipping (and listing) patches that no longer apply. */
function rebase(state: BranchState): BranchState {
  let visible = state.confirmed;
  const conflicted: number[] = [];
  for (const p of state.pending) {
    const r = tryApplyOps(visible, p.patch.ops);
    if (r.ok) visible = r.tree;
    else conflicted.push(p.seq);
  }
  return { ...state, visible, conflicted };
}

/** The sequence numbers of pending patches, oldest first (for resending after a reconnect). */
export function pendingSeqs(state: BranchState): number[] {
  return state.pending.map((p) => p.seq);
}

// Ops are plain JSON; this view lets jsonEqual compare them structurally.
function opsJson(ops: readonly Op[]): JsonValue {
  return ops as unknown as JsonValue;
}
