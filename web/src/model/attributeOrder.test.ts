import { describe, expect, it } from 'vitest';
import { attributeFields } from '../pipeline/model';
import { applyOps } from './apply';
import { ATTRIBUTE_ORDER, attributeOrder, codeParameterOrder, sortByOrder } from './attributeOrder';
import { interfaceSyncOps } from './interfaceSync';
import { ids, sampleTree } from './testing';
import type { Tree } from './types';

const CODE = `class Helper:
    def __init__(self, x):
        self.x = x

class Train(kiln.Operation):
    def __init__(self, zeta=1, alpha=(1, 2), *args, mid: dict = {"a": [1, 2]}, beta="b, c", **kwargs):
        pass
`;

describe('codeParameterOrder', () => {
  it('lists __init__ parameters in the order written, past brackets and strings with commas', () => {
    expect(codeParameterOrder(CODE)).toEqual(['x', 'zeta', 'alpha', 'mid', 'beta']);
  });
  it('is empty without a constructor', () => {
    expect(codeParameterOrder('class A:\n    def execute(self, a): ...')).toEqual([]);
  });
});

describe('sortByOrder', () => {
  it('puts listed names first, in the list’s order; the rest keep theirs', () => {
    const items = ['a', 'b', 'c', 'd'].map((name) => ({ name }));
    expect(sortByOrder(items, ['c', 'x', 'a']).map((i) => i.name)).toEqual(['c', 'a', 'b', 'd']);
    expect(sortByOrder(items, []).map((i) => i.name)).toEqual(['a', 'b', 'c', 'd']);
  });
});

// A Train definition whose attributes arrive sorted, as the server sends them.
function reloaded(): Tree {
  const t = applyOps(sampleTree(), [
    { op: 'set_attr', node: ids.Train, name: 'zeta', value: 1 },
    { op: 'set_attr', node: ids.Train, name: 'alpha', value: 2 },
  ]);
  const def = t.nodes[ids.Train]!;
  const sorted = Object.fromEntries(Object.entries(def.attrs).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { ...t, nodes: { ...t.nodes, [ids.Train]: { ...def, attrs: sorted } } };
}

describe('attribute order after a reload', () => {
  it('follows the recorded order on the definition and its instances', () => {
    const t = applyOps(reloaded(), [
      { op: 'set_registry', node: ids.Train, name: ATTRIBUTE_ORDER, value: ['zeta', 'epochs', 'alpha'] },
    ]);
    expect(attributeFields(t, ids.Train).map((f) => f.name)).toEqual(['zeta', 'epochs', 'alpha']);
    expect(attributeFields(t, ids.train).map((f) => f.name)).toEqual(['zeta', 'epochs', 'alpha']);
  });

  it('falls back to the code’s order when none is recorded', () => {
    const t = applyOps(reloaded(), [
      { op: 'set_attr', node: ids.Train, name: 'code', value: 'class Train:\n    def __init__(self, zeta=1, alpha=2, epochs=10): ...' },
    ]);
    expect(attributeOrder(t, ids.train)).toEqual(['zeta', 'alpha', 'epochs']);
    expect(attributeFields(t, ids.train).map((f) => f.name)).toEqual(['zeta', 'alpha', 'epochs']);
  });

  it('is recorded by a code save, and a reordering is named', () => {
    const iface = (names: string[]) => ({
      name: 'Train',
      inputs: [
        { name: 'data', type: 'tensor' },
        { name: 'labels', type: 'any' },
      ],
      outputs: [{ name: 'model', type: 'model' }],
      attributes: names.map((name) => ({ name, default: name === 'epochs' ? 10 : name === 'zeta' ? 1 : 2 })),
    });
    const first = interfaceSyncOps(reloaded(), ids.Train, iface(['zeta', 'alpha', 'epochs']));
    expect(first.ops).toEqual([{ op: 'set_registry', node: ids.Train, name: ATTRIBUTE_ORDER, value: ['zeta', 'alpha', 'epochs'] }]);
    expect(first.changes).toEqual([]);
    const saved = applyOps(reloaded(), first.ops);
    expect(attributeFields(saved, ids.Train).map((f) => f.name)).toEqual(['zeta', 'alpha', 'epochs']);
    const again = interfaceSyncOps(saved, ids.Train, iface(['alpha', 'zeta', 'epochs']));
    expect(again.changes).toEqual(['reordered the attributes']);
    expect(interfaceSyncOps(saved, ids.Train, iface(['zeta', 'alpha', 'epochs'])).ops).toEqual([]);
  });
});
