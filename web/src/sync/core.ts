// The pure heart of the sync module: a reducer from (state, event) to
// (state, effects). The WebSocket owner (session.ts) feeds it the server's
// messages and the user's edits, and carries out the effects (send a frame,
// subscribe again). No sockets, no timers: tested with plain values.
//
// It glues the model's collaboration pieces together:
//   snapshot          → createBranchState / resync (pending patches survive)
//   commit broadcast  → reconcile (ack of ours, or someone else's + rebase)
//   reject            → reconcile (drop the patch, say why)
//   local edit        → recordEdit (undo stack) + propose + send
//   undo / redo       → the model's UndoStack, proposed like any edit
// Patches made while disconnected stay pending and go out after the next
// `subscribed` (the catch-up acknowledges those the server already had).

import {
  createBranchState,
  discardUndo,
  emptyUndoStack,
  propose,
  reconcile,
  recordEdit,
  redo as redoStep,
  resync,
  undo as undoStep,
  type BranchState,
  type Guid,
  type Op,
  type UndoStack,
} from '../model';
import { toBroadcast, toRejection, type PresenceUser, type WireClientMessage, type WireServerMessage } from './protocol';

export type ConnectionStatus = 'connecting' | 'live' | 'offline';

export interface Notice {
  readonly kind: 'error' | 'info';
  readonly text: string;
  /** Increases with each notice so a view can tell two equal texts apart. */
  readonly id: number;
}

export interface SyncState {
  readonly project: string;
  readonly branchName: string;
  readonly clientId: string;
  readonly status: ConnectionStatus;
  /** This connection's id and user, from `welcome`. */
  readonly connection?: string | undefined;
  readonly user?: string | undefined;
  /** null until the first snapshot arrives. */
  readonly branch: BranchState | null;
  readonly presence: readonly PresenceUser[];
  readonly undo: UndoStack;
  readonly selection: readonly Guid[];
  readonly notice: Notice | null;
  /** Pending patches must be (re)sent once the subscription is live. */
  readonly resendPending: boolean;
  /** The number of commits seen from others (for "remote edit" indicators and tests). */
  readonly remoteCommits: number;
  /** Why the branch could not be opened (a refused subscription before any snapshot). */
  readonly failure: string | null;
}

export type Effect =
  | { readonly kind: 'send'; readonly msg: WireClientMessage }
  /** Subscribe again (after a resync request or a broadcast we cannot follow). */
  | { readonly kind: 'resubscribe'; readonly fresh: boolean };

export interface Step {
  readonly state: SyncState;
  readonly effects: readonly Effect[];
}

export function initialSyncState(project: string, branchName: string, clientId: string): SyncState {
  return {
    project,
    branchName,
    clientId,
    status: 'connecting',
    branch: null,
    presence: [],
    undo: emptyUndoStack(),
    selection: [],
    notice: null,
    resendPending: false,
    remoteCommits: 0,
    failure: null,
  };
}

function notice(state: SyncState, kind: Notice['kind'], text: string): Notice {
  return { kind, text, id: (state.notice?.id ?? 0) + 1 };
}

/** The `subscribe` message for the current state (with `since` when we have a commit). */
export function subscribeMessage(state: SyncState, fresh = false): WireClientMessage {
  const base = { type: 'subscribe' as const, project: state.project, branch: state.branchName, client: state.clientId };
  return !fresh && state.branch ? { ...base, since: state.branch.commit } : base;
}

/** The socket opened: subscribe (catching up from our commit if we have one). */
export function connected(state: SyncState): Step {
  const next: SyncState = { ...state, status: 'connecting', resendPending: state.branch !== null };
  return { state: next, effects: [{ kind: 'send', msg: subscribeMessage(next) }] };
}

/** The socket closed. Pending patches stay; they are resent after reconnecting. */
export function disconnected(state: SyncState): Step {
  return { state: { ...state, status: 'offline', presence: [] }, effects: [] };
}

function isOurs(state: SyncState, m: { project?: string; branch?: string }): boolean {
  return (m.project === undefined || m.project === state.project) && (m.branch === undefined || m.branch === state.branchName);
}

function patchMessage(state: SyncState, seq: number): WireClientMessage | undefined {
  const p = state.branch?.pending.find((x) => x.seq === seq);
  if (!p) return undefined;
  return {
    type: 'patch',
    project: state.project,
    branch: state.branchName,
    client: state.clientId,
    seq,
    ops: p.patch.ops,
    ...(p.patch.base !== undefined ? { base: p.patch.base } : {}),
    ...(p.patch.message !== undefined ? { message: p.patch.message } : {}),
  };
}

export function receive(state: SyncState, m: WireServerMessage): Step {
  switch (m.type) {
    case 'welcome':
      // The server sends connection ids as numbers; the docs say text. Accept both.
      return { state: { ...state, connection: String(m.connection), user: m.user }, effects: [] };
    case 'snapshot': {
      if (!isOurs(state, m)) return { state, effects: [] };
      const branch = state.branch
        ? resync(state.branch, m.commit, m.tree)
        : createBranchState(state.clientId, m.commit, m.tree);
      return { state: { ...state, branch, failure: null }, effects: [] };
    }
    case 'subscribed': {
      if (!isOurs(state, m)) return { state, effects: [] };
      const effects: Effect[] = [];
      if (state.resendPending && state.branch)
        for (const p of state.branch.pending) {
          const msg = patchMessage(state, p.seq);
          if (msg) effects.push({ kind: 'send', msg });
        }
      if (state.selection.length > 0)
        effects.push({
          kind: 'send',
          msg: { type: 'select', project: state.project, branch: state.branchName, nodes: state.selection },
        });
      return { state: { ...state, status: 'live', resendPending: false }, effects };
    }
    case 'commit': {
      if (!isOurs(state, m) || !state.branch) return { state, effects: [] };
      const r = reconcile(state.branch, toBroadcast(m));
      if (r.needsResync) return { state, effects: [{ kind: 'resubscribe', fresh: true }] };
      const remote = r.event.kind === 'remote' ? 1 : 0;
      return { state: { ...state, branch: r.state, remoteCommits: state.remoteCommits + remote }, effects: [] };
    }
    case 'reject': {
      const rej = toRejection(m);
      const text = `The server refused an edit: ${m.error?.message ?? 'unknown reason'}`;
      if (!rej || !state.branch || !isOurs(state, m))
        return { state: { ...state, notice: notice(state, 'error', text) }, effects: [] };
      const r = reconcile(state.branch, rej);
      if (r.event.kind !== 'rejected') return { state, effects: [] };
      return { state: { ...state, branch: r.state, notice: notice(state, 'error', text) }, effects: [] };
    }
    case 'presence':
      if (!isOurs(state, m)) return { state, effects: [] };
      return {
        state: {
          ...state,
          presence: (m.users ?? []).map((u) => ({
            ...u,
            connection: String(u.connection),
            user: String(u.user ?? ''),
            selection: Array.isArray(u.selection) ? u.selection : [],
          })),
        },
        effects: [],
      };
    case 'resync':
      if ('execution' in m || !isOurs(state, m)) return { state, effects: [] };
      return { state, effects: [{ kind: 'resubscribe', fresh: true }] };
    case 'error': {
      const text = m.error?.message ?? 'server error';
      // Before the first snapshot an error answers our subscription: the branch cannot be opened.
      const failure = state.branch === null ? text : state.failure;
      return { state: { ...state, failure, notice: notice(state, 'error', text) }, effects: [] };
    }
    default:
      return { state, effects: [] };
  }
}

/** The outcome of a local edit: the new state, or why it could not apply. */
export type EditResult = { readonly ok: true; readonly step: Step } | { readonly ok: false; readonly reason: string };

/** An edit by this user: recorded for undo, applied optimistically, sent when live. */
export function edit(state: SyncState, ops: readonly Op[], label?: string, record = true): EditResult {
  if (!state.branch) return { ok: false, reason: 'the project is still loading' };
  if (ops.length === 0) return { ok: true, step: { state, effects: [] } };
  let proposed;
  try {
    proposed = propose(state.branch, ops, label);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  const undo = record ? recordEdit(state.undo, state.branch.visible, ops, label) : state.undo;
  const next: SyncState = { ...state, branch: proposed.state, undo };
  const effects: Effect[] = [];
  if (state.status === 'live') {
    const msg = patchMessage(next, proposed.outgoing.seq);
    if (msg) effects.push({ kind: 'send', msg });
  }
  return { ok: true, step: { state: next, effects } };
}

export function undo(state: SyncState): EditResult {
  const step = undoStep(state.undo);
  if (!step) return { ok: false, reason: 'nothing to undo' };
  const r = edit({ ...state, undo: step.stack }, step.ops, step.label ? `Undo ${step.label}` : 'Undo', false);
  if (!r.ok) return { ok: false, reason: `cannot undo: ${r.reason}` };
  return r;
}

export function redo(state: SyncState): EditResult {
  if (!state.branch) return { ok: false, reason: 'the project is still loading' };
  const step = redoStep(state.undo, state.branch.visible);
  if (!step) return { ok: false, reason: 'nothing to redo' };
  const r = edit({ ...state, undo: step.stack }, step.ops, step.label, false);
  if (!r.ok) return { ok: false, reason: `cannot redo: ${r.reason}` };
  return r;
}

/** After a failed undo: forget the entry that no longer applies. */
export function dropStaleUndo(state: SyncState): SyncState {
  return { ...state, undo: discardUndo(state.undo) };
}

/** The user's selection, shared as presence. */
export function select(state: SyncState, nodes: readonly Guid[]): Step {
  if (sameList(nodes, state.selection)) return { state, effects: [] };
  const next = { ...state, selection: nodes };
  const effects: Effect[] =
    state.status === 'live'
      ? [{ kind: 'send', msg: { type: 'select', project: state.project, branch: state.branchName, nodes } }]
      : [];
  return { state: next, effects };
}

export function setNotice(state: SyncState, kind: Notice['kind'], text: string | null): SyncState {
  return { ...state, notice: text === null ? null : notice(state, kind, text) };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
