import { afterEach, describe, expect, it, vi } from 'vitest';
import { effectiveAttr } from '../model';
import { ids, sampleTree } from '../model/testing';
import { SyncSession } from './session';

/** A WebSocket stand-in: records what is sent, lets the test play the server. */
class FakeSocket {
  static last: FakeSocket | null = null;
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(text: string) {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

function start() {
  const s = new SyncSession({
    project: 'p',
    branch: 'main',
    url: 'ws://test/api/v1/ws',
    clientId: 'me',
    socket: (url) => new FakeSocket(url) as unknown as WebSocket,
  });
  s.start();
  const ws = FakeSocket.last!;
  ws.open();
  ws.receive({ type: 'welcome', connection: 1, user: 'ada' });
  ws.receive({ type: 'snapshot', project: 'p', branch: 'main', commit: 'c0', tree: sampleTree() });
  ws.receive({ type: 'subscribed', project: 'p', branch: 'main', commit: 'c0' });
  return { s, ws };
}

afterEach(() => vi.useRealTimers());

describe('SyncSession', () => {
  it('subscribes, follows the branch and notifies its listeners', () => {
    const { s, ws } = start();
    expect(ws.sent[0]).toEqual({ type: 'subscribe', project: 'p', branch: 'main', client: 'me' });
    let calls = 0;
    s.subscribe(() => calls++);
    ws.receive({
      type: 'commit',
      project: 'p',
      branch: 'main',
      commit: 'c1',
      parent: 'c0',
      ops: [{ op: 'set_attr', node: ids.train, name: 'epochs', value: 8 }],
      author: 'bob',
      client: 'other',
      seq: 1,
    });
    expect(calls).toBe(1);
    expect(effectiveAttr(s.getState().branch!.visible, ids.train, 'epochs')).toBe(8);
    s.close();
  });

  it('sends edits as patches and shares the selection', () => {
    const { s, ws } = start();
    expect(s.edit([{ op: 'set_attr', node: ids.train, name: 'epochs', value: 4 }], 'Set epochs')).toBeNull();
    expect(ws.sent.at(-1)).toMatchObject({ type: 'patch', seq: 1, client: 'me', message: 'Set epochs' });
    s.select([ids.train]);
    expect(ws.sent.at(-1)).toEqual({ type: 'select', project: 'p', branch: 'main', nodes: [ids.train] });
    expect(s.edit([{ op: 'delete', node: 'missing' }], 'Delete')).not.toBeNull();
    expect(s.getState().notice?.text).toMatch(/^Cannot delete/);
    s.close();
  });

  it('routes execution updates to watchers and reconnects with catch-up', () => {
    vi.useFakeTimers();
    const { s, ws } = start();
    const seen: string[] = [];
    const stop = s.watchExecution('e1', {
      job: (j) => seen.push(`job ${j.state}`),
      events: (job, evs) => seen.push(`${evs.length} events of ${job}`),
    });
    expect(ws.sent.at(-1)).toEqual({ type: 'watch', execution: 'e1' });
    ws.receive({ type: 'job', job: { id: 'j', node: 'n', name: 'A', state: 'running', execution: 'e1' } });
    ws.receive({ type: 'events', execution: 'e1', job: 'j', events: [{ seq: 1, time: 0, kind: 'log', payload: {} }] });
    expect(seen).toEqual(['job running', '1 events of j']);

    // The connection drops: offline, then a new socket catches up from c0 and watches again.
    ws.drop();
    expect(s.getState().status).toBe('offline');
    vi.advanceTimersByTime(400);
    const again = FakeSocket.last!;
    expect(again).not.toBe(ws);
    again.open();
    expect(again.sent).toEqual([
      { type: 'subscribe', project: 'p', branch: 'main', client: 'me', since: 'c0' },
      { type: 'watch', execution: 'e1' },
    ]);
    stop();
    s.close();
  });
});
