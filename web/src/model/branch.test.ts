import { describe, expect, it } from 'vitest';
import { applyOps } from './apply';
import { createBranchState, propose, reconcile, resync, type BranchState, type Broadcast } from './branch';
import { PatchError } from './errors';
import { create, g, ids, sampleTree } from './testing';
import { effectiveAttr } from './tree';
import type { Op } from './types';

const ME = 'client-a';
const setEpochs = (v: number): Op[] => [{ op: 'set_attr', node: ids.train, name: 'epochs', value: v }];
const rename = (v: string): Op[] => [{ op: 'set_attr', node: ids.load, name: 'name', value: v }];

function start(): BranchState {
  return createBranchState(ME, 'c0', sampleTree());
}

function remote(commit: string, parent: string, ops: Op[], clientId = 'client-b', seq = 1): Broadcast {
  return { commit, parent, ops, author: 'bob', clientId, seq };
}

describe('propose', () => {
  it('applies optimistically, numbers patches and names the base commit', () => {
    const s0 = start();
    const { state: s1, outgoing } = propose(s0, setEpochs(5), 'more epochs');
    expect(outgoing).toEqual({ clientId: ME, seq: 1, patch: { base: 'c0', message: 'more epochs', ops: setEpochs(5) } });
    expect(effectiveAttr(s1.visible, ids.train, 'epochs')).toBe(5);
    expect(s1.confirmed).toBe(s0.confirmed);
    const { state: s2, outgoing: o2 } = propose(s1, rename('L'));
    expect(o2.seq).toBe(2);
    expect(s2.pending.map((p) => p.seq)).toEqual([1, 2]);
  });

  it('throws for ops that do not apply, leaving nothing pending', () => {
    expect(() => propose(start(), [{ op: 'delete', node: g(0x999) }])).toThrow(PatchError);
  });
});

describe('reconcile', () => {
  it('acknowledges our own patch and keeps the visible tree object', () => {
    const { state: s1 } = propose(start(), setEpochs(5));
    const r = reconcile(s1, remote('c1', 'c0', setEpochs(5), ME, 1));
    expect(r.event).toEqual({ kind: 'ack', seq: 1, commit: 'c1' });
    expect(r.needsResync).toBe(false);
    expect(r.state.commit).toBe('c1');
    expect(r.state.pending).toEqual([]);
    expect(r.state.visible).toBe(s1.visible);
    expect(r.state.confirmed).toEqual(s1.visible);
  });

  it('applies a remote commit that arrives before our ack and rebases pending patches on it', () => {
    let s = propose(start(), setEpochs(5)).state;
    s = propose(s, rename('mine')).state;
    const r = reconcile(s, remote('c1', 'c0', [...rename('theirs'), create(g(0x80), ids.pipe, ids.Eval)]));
    expect(r.event).toEqual({ kind: 'remote', commit: 'c1', author: 'bob' });
    s = r.state;
    expect(s.commit).toBe('c1');
    expect(s.pending.map((p) => p.seq)).toEqual([1, 2]);
    expect(effectiveAttr(s.confirmed, ids.load, 'name')).toBe('theirs');
    // Visible = their commit + our pending edits on top.
    expect(effectiveAttr(s.visible, ids.load, 'name')).toBe('mine');
    expect(effectiveAttr(s.visible, ids.train, 'epochs')).toBe(5);
    expect(s.visible.nodes[g(0x80)]).toBeDefined();
    // Then the server commits ours on top of theirs, in order.
    s = reconcile(s, remote('c2', 'c1', setEpochs(5), ME, 1)).state;
    s = reconcile(s, remote('c3', 'c2', rename('mine'), ME, 2)).state;
    expect(s.pending).toEqual([]);
    expect(s.commit).toBe('c3');
    expect(s.visible).toEqual(s.confirmed);
    expect(s.confirmed).toEqual(
      applyOps(sampleTree(), [...rename('theirs'), create(g(0x80), ids.pipe, ids.Eval), ...setEpochs(5), ...rename('mine')]),
    );
  });

  it('drops a rejected patch and reports why', () => {
    let s = propose(start(), setEpochs(5)).state;
    s = propose(s, rename('x')).state;
    const r = reconcile(s, { clientId: ME, seq: 1, reason: 'rule: epochs must be positive' });
    expect(r.event).toEqual({ kind: 'rejected', seq: 1, reason: 'rule: epochs must be positive' });
    expect(r.state.pending.map((p) => p.seq)).toEqual([2]);
    expect(effectiveAttr(r.state.visible, ids.train, 'epochs')).toBe(3);
    expect(effectiveAttr(r.state.visible, ids.load, 'name')).toBe('x');
    expect(r.state.commit).toBe('c0');
    // Someone else's rejection is none of our business.
    expect(reconcile(s, { clientId: 'client-b', seq: 1, reason: 'no' }).event.kind).toBe('ignored');
  });

  it('asks for a resync when a broadcast does not follow our commit, changing nothing', () => {
    const s = propose(start(), setEpochs(5)).state;
    const r = reconcile(s, remote('c5', 'c4', rename('z')));
    expect(r.needsResync).toBe(true);
    expect(r.event.kind).toBe('resync');
    expect(r.state).toBe(s);
    // After fetching the head, pending patches are replayed on it.
    const head = applyOps(sampleTree(), rename('z'));
    const s2 = resync(s, 'c5', head);
    expect(s2.commit).toBe('c5');
    expect(effectiveAttr(s2.visible, ids.load, 'name')).toBe('z');
    expect(effectiveAttr(s2.visible, ids.train, 'epochs')).toBe(5);
  });

  it('asks for a resync when a broadcast does not apply, or ours arrive out of order', () => {
    let s = propose(start(), setEpochs(5)).state;
    s = propose(s, rename('x')).state;
    expect(reconcile(s, remote('c1', 'c0', [{ op: 'delete', node: g(0x999) }])).needsResync).toBe(true);
    expect(reconcile(s, remote('c1', 'c0', rename('x'), ME, 2)).needsResync).toBe(true);
  });

  it('ignores a broadcast of the commit we are at', () => {
    const s = start();
    const r = reconcile(s, remote('c0', 'cx', rename('z')));
    expect(r.event.kind).toBe('ignored');
    expect(r.state).toBe(s);
  });

  it('keeps a pending patch that no longer applies out of the visible tree until the server answers', () => {
    let s = propose(start(), [{ op: 'set_attr', node: ids.other, name: 'name', value: 'mine' }]).state;
    s = reconcile(s, remote('c1', 'c0', [{ op: 'delete', node: ids.other }])).state;
    expect(s.conflicted).toEqual([1]);
    expect(s.visible.nodes[ids.other]).toBeUndefined();
    expect(s.visible).toEqual(s.confirmed);
    s = reconcile(s, { clientId: ME, seq: 1, reason: 'node does not exist' }).state;
    expect(s.pending).toEqual([]);
    expect(s.conflicted).toEqual([]);
  });

  it('treats our own commit that is no longer pending as a remote one', () => {
    const s = start();
    const r = reconcile(s, remote('c1', 'c0', rename('old tab'), ME, 7));
    expect(r.event.kind).toBe('remote');
    expect(effectiveAttr(r.state.visible, ids.load, 'name')).toBe('old tab');
  });
});
