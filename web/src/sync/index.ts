// The sync module: the one WebSocket (SyncSession), its pure reducer (core)
// and the wire protocol. Views read the state with useSyncState.
import { useSyncExternalStore } from 'react';
import type { SyncState } from './core';
import type { SyncSession } from './session';

export { SyncSession, defaultSocketUrl, type ExecutionListener, type SessionOptions } from './session';
export type { ConnectionStatus, Notice, SyncState } from './core';
export type { PresenceUser, WireClientMessage, WireServerMessage } from './protocol';

export function useSyncState(session: SyncSession): SyncState {
  return useSyncExternalStore(session.subscribe, session.getState);
}
