import { describe, expect, it } from 'vitest';
import { effectiveAttr, type Op } from '../model';
import { ids, sampleTree } from '../model/testing';
import * as core from './core';
import { parseServerMessage, type WireServerMessage } from './protocol';

const P = 'proj';
const B = 'main';
const set = (value: number): Op => ({ op: 'set_attr', node: ids.train, name: 'epochs', value });

/** A state that has received welcome, snapshot and subscribed. */
function live(): core.SyncState {
  let s = core.initialSyncState(P, B, 'me');
  s = core.connected(s).state;
  s = core.receive(s, { type: 'welcome', connection: 7 as unknown as string, user: 'ada' }).state;
  s = core.receive(s, { type: 'snapshot', project: P, branch: B, commit: 'c0', tree: sampleTree() }).state;
  s = core.receive(s, { type: 'subscribed', project: P, branch: B, commit: 'c0' }).state;
  return s;
}

function commit(parent: string, commitId: string, ops: readonly Op[], client = 'other', seq = 1): WireServerMessage {
  return { type: 'commit', project: P, branch: B, commit: commitId, parent, ops, author: 'bob', client, seq };
}

const epochs = (s: core.SyncState) => effectiveAttr(s.branch!.visible, ids.train, 'epochs');

describe('sync core', () => {
  it('subscribes on connect, with since once it has a commit', () => {
    const s0 = core.initialSyncState(P, B, 'me');
    expect(core.connected(s0).effects).toEqual([{ kind: 'send', msg: { type: 'subscribe', project: P, branch: B, client: 'me' } }]);
    const again = core.connected(core.disconnected(live()).state);
    expect(again.effects[0]).toEqual({
      kind: 'send',
      msg: { type: 'subscribe', project: P, branch: B, client: 'me', since: 'c0' },
    });
  });

  it('goes live after snapshot + subscribed, with the connection id as text', () => {
    const s = live();
    expect(s.status).toBe('live');
    expect(s.connection).toBe('7');
    expect(s.branch?.commit).toBe('c0');
  });

  it('applies an edit optimistically, sends it, and drops it on our own broadcast', () => {
    const r = core.edit(live(), [set(5)], 'Set epochs');
    if (!r.ok) throw new Error(r.reason);
    const s = r.step.state;
    expect(epochs(s)).toBe(5);
    expect(r.step.effects).toEqual([
      {
        kind: 'send',
        msg: { type: 'patch', project: P, branch: B, client: 'me', seq: 1, ops: [set(5)], base: 'c0', message: 'Set epochs' },
      },
    ]);
    const acked = core.receive(s, commit('c0', 'c1', [set(5)], 'me', 1)).state;
    expect(acked.branch?.pending).toEqual([]);
    expect(acked.branch?.commit).toBe('c1');
    expect(acked.remoteCommits).toBe(0);
  });

  it('rebases pending edits over a remote commit', () => {
    const r = core.edit(live(), [set(5)]);
    if (!r.ok) throw new Error(r.reason);
    const remote: Op = { op: 'set_attr', node: ids.train, name: 'name', value: 'Fit' };
    const s = core.receive(r.step.state, commit('c0', 'c1', [remote])).state;
    expect(s.remoteCommits).toBe(1);
    expect(epochs(s)).toBe(5);
    expect(effectiveAttr(s.branch!.visible, ids.train, 'name')).toBe('Fit');
  });

  it('drops a rejected patch and says why', () => {
    const r = core.edit(live(), [set(5)]);
    if (!r.ok) throw new Error(r.reason);
    const s = core.receive(r.step.state, {
      type: 'reject',
      project: P,
      branch: B,
      client: 'me',
      seq: 1,
      error: { code: 'FailedPrecondition', message: 'rule x' },
    }).state;
    expect(s.branch?.pending).toEqual([]);
    expect(epochs(s)).toBe(3);
    expect(s.notice).toMatchObject({ kind: 'error', text: 'The server refused an edit: rule x' });
  });

  it('asks for a fresh subscription when a broadcast does not follow, and on resync', () => {
    expect(core.receive(live(), commit('elsewhere', 'c9', [])).effects).toEqual([{ kind: 'resubscribe', fresh: true }]);
    expect(core.receive(live(), { type: 'resync', project: P, branch: B }).effects).toEqual([{ kind: 'resubscribe', fresh: true }]);
    expect(core.subscribeMessage(live(), true)).toEqual({ type: 'subscribe', project: P, branch: B, client: 'me' });
  });

  it('keeps edits made offline and sends them after the next subscribed', () => {
    const off = core.disconnected(live()).state;
    const r = core.edit(off, [set(9)]);
    if (!r.ok) throw new Error(r.reason);
    expect(r.step.effects).toEqual([]);
    let s = core.connected(r.step.state).state;
    s = core.receive(s, { type: 'welcome', connection: '8', user: 'ada' }).state;
    const sub = core.receive(s, { type: 'subscribed', project: P, branch: B, commit: 'c0', caught_up: true });
    expect(sub.effects).toEqual([
      { kind: 'send', msg: expect.objectContaining({ type: 'patch', seq: 1, ops: [set(9)] }) },
    ]);
    expect(sub.state.status).toBe('live');
  });

  it('undoes and redoes through the undo stack as ordinary patches', () => {
    const r = core.edit(live(), [set(5)], 'Set epochs');
    if (!r.ok) throw new Error(r.reason);
    const u = core.undo(r.step.state);
    if (!u.ok) throw new Error(u.reason);
    expect(epochs(u.step.state)).toBe(3);
    expect(u.step.effects[0]).toMatchObject({ kind: 'send', msg: { type: 'patch', seq: 2, ops: [set(3)] } });
    const again = core.redo(u.step.state);
    if (!again.ok) throw new Error(again.reason);
    expect(epochs(again.step.state)).toBe(5);
    expect(core.undo(core.initialSyncState(P, B, 'x'))).toEqual({ ok: false, reason: 'nothing to undo' });
  });

  it('reports an edit that does not apply without changing anything', () => {
    const s = live();
    const r = core.edit(s, [{ op: 'delete', node: 'nope' }]);
    expect(r.ok).toBe(false);
  });

  it('shares the selection as presence, once per change, and again after reconnecting', () => {
    const s = live();
    const a = core.select(s, [ids.train]);
    expect(a.effects).toEqual([{ kind: 'send', msg: { type: 'select', project: P, branch: B, nodes: [ids.train] } }]);
    expect(core.select(a.state, [ids.train]).effects).toEqual([]);
    const back = core.receive(core.connected(a.state).state, { type: 'subscribed', project: P, branch: B, commit: 'c0' });
    expect(back.effects).toContainEqual({ kind: 'send', msg: { type: 'select', project: P, branch: B, nodes: [ids.train] } });
  });

  it('normalizes presence and ignores other branches', () => {
    const s = core.receive(live(), {
      type: 'presence',
      project: P,
      branch: B,
      users: [{ connection: 3 as unknown as string, user: 'bob', selection: undefined as unknown as string[] }],
    }).state;
    expect(s.presence).toEqual([{ connection: '3', user: 'bob', selection: [] }]);
    const other = core.receive(s, { type: 'presence', project: P, branch: 'dev', users: [] }).state;
    expect(other.presence).toHaveLength(1);
  });

  it('remembers why a branch could not be opened', () => {
    const s = core.connected(core.initialSyncState(P, 'nope', 'me')).state;
    const f = core.receive(s, { type: 'error', error: { code: 'NotFound', message: 'no branch nope' } }).state;
    expect(f.failure).toBe('no branch nope');
    expect(core.receive(live(), { type: 'error', error: { code: 'X', message: 'later' } }).state.failure).toBeNull();
  });

  it('parses frames defensively', () => {
    expect(parseServerMessage('{"type":"pong"}')).toEqual({ type: 'pong' });
    expect(parseServerMessage('nope')).toBeUndefined();
    expect(parseServerMessage('[1]')).toBeUndefined();
  });
});
