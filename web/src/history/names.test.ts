import { describe, expect, it } from 'vitest';
import { g } from '../model/testing';
import { messageNow, renameSegments, replayNames } from './names';

const A = g(0xa1);
const B = g(0xb2);

describe('replayNames', () => {
  it('replays creates, renames and deletes, commit by commit', () => {
    const r = replayNames(new Map([[A, 'Train']]), [
      { commit: 'c1', ops: [{ op: 'create', guid: B, parent: g(1), base: null, attrs: { name: 'Load' } }] },
      { commit: 'c2', ops: [{ op: 'set_attr', node: A, name: 'name', value: 'Fit' }] },
      { commit: 'c3', ops: [{ op: 'delete', node: B }] },
    ]);
    expect([...r.get('c1')!]).toEqual([
      [A, 'Train'],
      [B, 'Load'],
    ]);
    expect(r.get('c2')!.get(A)).toBe('Fit');
    expect(r.get('c2')!.get(B)).toBe('Load');
    expect(r.get('c3')!.has(B)).toBe(false);
  });
});

describe('renameSegments', () => {
  it('replaces whole names only, longest first', () => {
    expect(
      renameSegments('Set epochs of Train 2 and Train, not Trainer', [
        { then: 'Train', now: 'Fit' },
        { then: 'Train 2', now: 'Fit 2' },
      ]),
    ).toEqual(['Set epochs of ', { now: 'Fit 2', then: 'Train 2' }, ' and ', { now: 'Fit', then: 'Train' }, ', not Trainer']);
  });

  it('leaves a message without old names as it is', () => {
    expect(renameSegments('Add operation', [{ then: 'Train', now: 'Fit' }])).toEqual(['Add operation']);
    expect(renameSegments('x', [])).toEqual(['x']);
  });
});

describe('messageNow', () => {
  it('names the nodes a commit touched by their name now, the old one beside', () => {
    const ops = [{ op: 'set_attr', node: A, name: 'code', value: '…' }] as const;
    const then = new Map([[A, 'Train']]);
    expect(messageNow('Edit the code of Train', ops, [then], new Map([[A, 'Fit']]))).toEqual([
      'Edit the code of ',
      { now: 'Fit', then: 'Train' },
    ]);
    // A node the commit did not touch is left alone, even when the message spells its old name.
    expect(messageNow('Edit the code of Train', ops, [then], new Map([[B, 'Fit']]))).toEqual(['Edit the code of Train']);
  });

  it('uses the names before and after the commit', () => {
    // A save that renamed the class: the message spells the name before.
    const save = [
      { op: 'set_attr', node: A, name: 'code', value: 'class Fit: ...' },
      { op: 'create', guid: B, parent: A, base: null, attrs: { name: 'Train' } },
    ] as const;
    const then = [new Map([[A, 'Train']]), new Map([[A, 'Fit']])];
    expect(messageNow('Edit the code of Train', save, then, new Map([[A, 'Learn']]))).toEqual([
      'Edit the code of ',
      { now: 'Learn', then: 'Train' },
    ]);
  });

  it('keeps the names of a rename as written', () => {
    const ops = [{ op: 'set_attr', node: A, name: 'name', value: 'Fit' }] as const;
    const then = [new Map([[A, 'Train']]), new Map([[A, 'Fit']])];
    expect(messageNow('Rename Train to Fit', ops, then, new Map([[A, 'Learn']]))).toEqual(['Rename Train to Fit']);
  });
});
