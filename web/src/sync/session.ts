// SyncSession: the one owner of the collaboration WebSocket (/api/v1/ws).
//
// It follows one branch of one project: keeps the pure SyncState (core.ts)
// up to date from the server's messages, turns the user's edits into
// optimistic patches, shares the selection as presence, reconnects with
// backoff, and routes execution updates ("watch") to whoever listens.
// React reads it through useSyncExternalStore (subscribe / getState).

import { newGuid, type Guid, type Op } from '../model';
import type { Execution, Job, JobEvent } from '@kiln/client';
import * as core from './core';
import { parseServerMessage, type WireClientMessage, type WireServerMessage } from './protocol';

export interface ExecutionListener {
  execution?(e: Execution): void;
  job?(j: Job): void;
  events?(job: string, events: readonly JobEvent[]): void;
  /** Live updates were dropped (too far behind): re-read what is needed over REST. */
  resync?(): void;
}

export type SocketFactory = (url: string) => WebSocket;

// WebSocket.readyState values (not read from the global, which Node < 22 lacks).
const CONNECTING = 0;
const OPEN = 1;

export interface SessionOptions {
  readonly project: string;
  readonly branch: string;
  /** ws(s)://host/api/v1/ws; defaults to the page's origin. */
  readonly url?: string;
  readonly socket?: SocketFactory;
  readonly clientId?: string;
}

export function defaultSocketUrl(): string {
  const loc = globalThis.location;
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/api/v1/ws`;
}

export class SyncSession {
  private state: core.SyncState;
  private readonly listeners = new Set<() => void>();
  private readonly watchers = new Map<string, Set<ExecutionListener>>();
  private ws: WebSocket | null = null;
  private closed = false;
  private retry = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private readonly url: string;
  private readonly socket: SocketFactory;

  constructor(options: SessionOptions) {
    const clientId = options.clientId ?? `web-${newGuid().slice(0, 8)}`;
    this.state = core.initialSyncState(options.project, options.branch, clientId);
    this.url = options.url ?? defaultSocketUrl();
    this.socket = options.socket ?? ((u) => new WebSocket(u));
  }

  // ---- store interface (useSyncExternalStore) ----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): core.SyncState => this.state;

  private set(state: core.SyncState): void {
    if (state === this.state) return;
    this.state = state;
    for (const l of this.listeners) l();
  }

  private run(step: core.Step): void {
    this.set(step.state);
    for (const e of step.effects) {
      if (e.kind === 'send') this.send(e.msg);
      else this.send(core.subscribeMessage(this.state, e.fresh));
    }
  }

  // ---- connection ----

  start(): void {
    this.closed = false;
    this.open();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      // Closing a socket that is still connecting makes browsers log an error
      // (React's StrictMode mounts twice in development): close it once open.
      if (ws.readyState === CONNECTING) ws.onopen = () => ws.close();
      else {
        ws.onopen = null;
        if (ws.readyState === OPEN) ws.close();
      }
    }
  }

  private open(): void {
    let ws: WebSocket;
    try {
      ws = this.socket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.run(core.connected(this.state));
      for (const id of this.watchers.keys()) this.send({ type: 'watch', execution: id });
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 25_000);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      const m = parseServerMessage(ev.data);
      if (m) this.handle(m);
    };
    // onerror is always followed by onclose; reconnecting happens there.
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      this.run(core.disconnected(this.state));
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = Math.min(10_000, 300 * 2 ** this.retry);
    this.retry++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.open();
    }, delay);
  }

  private send(msg: WireClientMessage): void {
    if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(msg));
  }

  private handle(m: WireServerMessage): void {
    switch (m.type) {
      case 'execution':
        for (const l of this.watchers.get(m.execution.id) ?? []) l.execution?.(m.execution);
        return;
      case 'job': {
        const id = m.execution ?? (m.job as { execution?: string }).execution;
        for (const [exec, ls] of this.watchers) if (id === undefined || id === exec) for (const l of ls) l.job?.(m.job);
        return;
      }
      case 'events':
        for (const l of this.watchers.get(m.execution) ?? []) l.events?.(m.job, m.events);
        return;
      case 'resync':
        // An execution watch fell behind: watch again; listeners re-read by offset (REST).
        if ('execution' in m && typeof m.execution === 'string') {
          if (this.watchers.has(m.execution)) this.send({ type: 'watch', execution: m.execution });
          for (const l of this.watchers.get(m.execution) ?? []) l.resync?.();
          return;
        }
        this.run(core.receive(this.state, m));
        return;
      default:
        this.run(core.receive(this.state, m));
    }
  }

  // ---- editing ----

  /** Applies an edit locally and sends it. Returns an error text when it cannot apply. */
  edit(ops: readonly Op[], label?: string): string | null {
    const r = core.edit(this.state, ops, label);
    if (!r.ok) {
      this.set(core.setNotice(this.state, 'error', `Cannot ${label ? label.toLowerCase() : 'edit'}: ${r.reason}`));
      return r.reason;
    }
    this.run(r.step);
    return null;
  }

  undo(): void {
    const r = core.undo(this.state);
    if (r.ok) this.run(r.step);
    else if (this.state.undo.undo.length > 0) this.set(core.setNotice(core.dropStaleUndo(this.state), 'error', r.reason));
  }

  redo(): void {
    const r = core.redo(this.state);
    if (r.ok) this.run(r.step);
    else if (this.state.undo.redo.length > 0) this.set(core.setNotice(this.state, 'error', r.reason));
  }

  select(nodes: readonly Guid[]): void {
    this.run(core.select(this.state, nodes));
  }

  notify(kind: core.Notice['kind'], text: string | null): void {
    this.set(core.setNotice(this.state, kind, text));
  }

  // ---- executions ----

  /** Follows an execution's live updates; returns the function that stops it. */
  watchExecution(id: string, listener: ExecutionListener): () => void {
    let set = this.watchers.get(id);
    if (!set) {
      set = new Set();
      this.watchers.set(id, set);
      this.send({ type: 'watch', execution: id });
    }
    set.add(listener);
    return () => {
      const s = this.watchers.get(id);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.watchers.delete(id);
    };
  }
}
