// The WebSocket collaboration protocol (docs/protocol.md) as types, plus the
// translation of the server's messages into the pure model's ServerMessage
// (Broadcast | Rejection) that `reconcile` folds in.

import type { Broadcast, CommitId, Guid, Op, Rejection, Tree } from '../model';
import type { Execution, Job, JobEvent } from '@kiln/client';

export interface PresenceUser {
  readonly connection: string;
  readonly user: string;
  readonly client?: string;
  readonly selection: readonly Guid[];
}

export interface WireError {
  readonly code: string;
  readonly message: string;
}

export type WireServerMessage =
  | { readonly type: 'welcome'; readonly connection: string; readonly user: string }
  | {
      readonly type: 'snapshot';
      readonly project: string;
      readonly branch: string;
      readonly commit: CommitId;
      readonly tree: Tree;
    }
  | {
      readonly type: 'commit';
      readonly project: string;
      readonly branch: string;
      readonly commit: CommitId;
      readonly parent: CommitId;
      readonly ops: readonly Op[];
      readonly author: string;
      readonly message?: string;
      readonly client?: string;
      readonly seq?: number;
    }
  | {
      readonly type: 'subscribed';
      readonly project: string;
      readonly branch: string;
      readonly commit: CommitId;
      readonly caught_up?: boolean;
    }
  | {
      readonly type: 'reject';
      readonly project?: string;
      readonly branch?: string;
      readonly client?: string;
      readonly seq?: number;
      readonly error: WireError;
    }
  | { readonly type: 'ack'; readonly commit: CommitId; readonly client?: string; readonly seq?: number }
  | {
      readonly type: 'presence';
      readonly project: string;
      readonly branch: string;
      readonly users: readonly PresenceUser[];
    }
  | { readonly type: 'resync'; readonly project: string; readonly branch: string; readonly reason?: string }
  | { readonly type: 'resync'; readonly execution: string; readonly reason?: string }
  | { readonly type: 'watching'; readonly execution: string }
  | { readonly type: 'error'; readonly error: WireError }
  | { readonly type: 'pong' }
  | { readonly type: 'execution'; readonly execution: Execution }
  | { readonly type: 'job'; readonly execution?: string; readonly job: Job }
  | {
      readonly type: 'events';
      readonly execution: string;
      readonly job: string;
      readonly events: readonly JobEvent[];
    };

export type WireClientMessage =
  | { type: 'subscribe'; project: string; branch: string; since?: CommitId; client: string }
  | { type: 'unsubscribe'; project: string; branch: string }
  | {
      type: 'patch';
      project: string;
      branch: string;
      seq: number;
      client: string;
      base?: CommitId;
      message?: string;
      ops: readonly Op[];
    }
  | { type: 'select'; project: string; branch: string; nodes: readonly Guid[] }
  | { type: 'watch'; execution: string }
  | { type: 'unwatch'; execution: string }
  | { type: 'ping' };

/** Parses one text frame; undefined for anything that is not a typed JSON object. */
export function parseServerMessage(text: string): WireServerMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || typeof (v as { type?: unknown }).type !== 'string') return undefined;
  return v as WireServerMessage;
}

/** A `commit` broadcast as the model's Broadcast. */
export function toBroadcast(m: Extract<WireServerMessage, { type: 'commit' }>): Broadcast {
  return {
    commit: m.commit,
    parent: m.parent,
    ops: m.ops,
    author: m.author,
    clientId: m.client ?? '',
    seq: m.seq ?? -1,
  };
}

/** A `reject` answer as the model's Rejection, if it names a patch. */
export function toRejection(m: Extract<WireServerMessage, { type: 'reject' }>): Rejection | undefined {
  if (m.client === undefined || m.seq === undefined) return undefined;
  return { clientId: m.client, seq: m.seq, reason: m.error?.message ?? 'refused by the server' };
}
