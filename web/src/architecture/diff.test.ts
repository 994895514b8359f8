import { describe, expect, it } from 'vitest';
import type { Analysis } from './analysis';
import { diffArchitecture, formatDelta } from './diff';
import type { DocArchitecture } from './toDocument';

const before: DocArchitecture = {
  nodes: [
    { id: 'x', name: 'x', type: 'Input', params: { shape: ['N', 1, 28, 28] } },
    { id: 'c', name: 'conv', type: 'Conv2d', params: { out_channels: 8, kernel_size: 3 } },
    { id: 'd', name: 'drop', type: 'Dropout' },
    { id: 'f', name: 'fc', type: 'Linear', params: { out_features: 10 } },
  ],
  edges: [
    ['x.output', 'c.input'],
    ['c.output', 'd.input'],
    ['d.output', 'f.input'],
  ],
};
const after: DocArchitecture = {
  nodes: [
    { id: 'x', name: 'x', type: 'Input', params: { shape: ['N', 1, 28, 28] } },
    { id: 'c', name: 'conv1', type: 'Conv2d', params: { out_channels: 16, kernel_size: 3 } },
    { id: 'f', name: 'fc', type: 'Linear', params: { out_features: 10 } },
    { id: 'r', name: 'act', type: 'ReLU' },
  ],
  edges: [
    ['x.output', 'c.input'],
    ['c.output', 'f.input'],
    ['f.output', 'r.input'],
  ],
};
const A = (nodes: Analysis['nodes'], parameters: number): Analysis => ({ ok: true, nodes, errors: [], totals: { parameters } });

describe('diffArchitecture', () => {
  it('lists added, removed and changed layers with shape and parameter deltas', () => {
    const a = A(
      { x: { outputs: { output: ['N', 1, 28, 28] } }, c: { outputs: { output: ['N', 8, 26, 26] }, parameters: 80 }, f: { outputs: { output: ['N', 10] }, parameters: 100 } },
      180,
    );
    const b = A(
      { x: { outputs: { output: ['N', 1, 28, 28] } }, c: { outputs: { output: ['N', 16, 26, 26] }, parameters: 160 }, f: { outputs: { output: ['N', 10] }, parameters: 100 }, r: { outputs: { output: ['N', 10] } } },
      260,
    );
    const d = diffArchitecture(before, a, after, b);
    expect(d.changes.map((c) => [c.name, c.kind, c.details, c.shapeBefore, c.shapeAfter, c.parametersDelta])).toEqual([
      ['conv1', 'changed', ['renamed from conv', 'out_channels 8 → 16'], '[N, 8, 26, 26]', '[N, 16, 26, 26]', 80],
      ['fc', 'changed', ['inputs rewired'], '[N, 10]', '[N, 10]', 0],
      ['act', 'added', [], '', '[N, 10]', undefined],
      ['drop', 'removed', [], '', '', undefined],
    ]);
    expect([d.parametersBefore, d.parametersAfter]).toEqual([180, 260]);
  });

  it('says a parameter went back to its default, and handles a new architecture', () => {
    const b2: DocArchitecture = { ...before, nodes: before.nodes.map((n) => (n.id === 'c' ? { ...n, params: { out_channels: 8 } } : n)) };
    expect(diffArchitecture(before, null, b2, null).changes[0]!.details).toEqual(['kernel_size 3 → default']);
    expect(diffArchitecture(undefined, null, before, null).changes.every((c) => c.kind === 'added')).toBe(true);
    expect(formatDelta(1234)).toBe('+1,234');
    expect(formatDelta(-56)).toBe('−56');
    expect(formatDelta(0)).toBe('±0');
  });
});
