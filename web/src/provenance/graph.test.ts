import { describe, expect, it } from 'vitest';
import { parseLineage } from './api';
import { compareLineages } from './compare';
import {
  artifactNodeId,
  comparedCanvas,
  comparisonMarks,
  comparisonPairs,
  jobNodeId,
  lineageCanvas,
  lineageGraph,
  PREFIX_A,
  PREFIX_B,
  ROOT_MARK,
} from './graph';
import { digitsLineage } from './testing';

const first = parseLineage(digitsLineage({ run: '1' }));

describe('lineageGraph', () => {
  it('draws jobs and artifacts with what a scientist looks for', () => {
    const g = lineageGraph(first, '', new Map([[artifactNodeId('', first.artifact), ROOT_MARK]]));
    const byTitle = new Map(g.nodes.map((n) => [n.data.title, n.data]));
    expect([...byTitle.keys()].sort()).toEqual(['Prepare', 'Train', 'digits.npz', 'model', 'train']);
    expect(byTitle.get('digits.npz')!.lines).toEqual(['117 KiB · raw', 'uploaded by ada: digits.npz']);
    expect(byTitle.get('model')!.lines![1]).toBe('output model of Train');
    expect(byTitle.get('model')!.remote).toEqual([ROOT_MARK]);
    expect(byTitle.get('Train')!.status).toBe('succeeded');
    expect(byTitle.get('Train')!.lines).toEqual(['epochs = 3', 'lr = 0.01']);
    expect(byTitle.get('Train')!.inputs.map((p) => p.label)).toEqual(['train']);
    // An upload has no "made" port; the compared model is used by nothing here.
    expect(byTitle.get('digits.npz')!.inputs).toEqual([]);
    expect(byTitle.get('model')!.outputs).toEqual([]);
  });

  it('connects each edge to ports that exist', () => {
    const g = lineageGraph(first, 'x/');
    const handles = new Set(g.nodes.flatMap((n) => [...n.data.inputs, ...n.data.outputs].map((p) => p.id)));
    expect(g.edges).toHaveLength(4);
    for (const e of g.edges) {
      expect(handles.has(e.sourceHandle)).toBe(true);
      expect(handles.has(e.targetHandle)).toBe(true);
    }
    expect(g.refs.get(jobNodeId('x/', 'j-train-1'))).toMatchObject({ kind: 'job', job: { name: 'Train' } });
  });

  it('shows a cache hit and where it came from', () => {
    const l = parseLineage(digitsLineage({ run: '2', prepareCachedFrom: 'j-prep-1abcdef' }));
    const prep = lineageGraph(l).nodes.find((n) => n.data.title === 'Prepare')!.data;
    expect(prep.status).toBe('cached');
    expect(prep.lines![0]).toBe('cached from j-prep-1ab');
  });

  it('lays the data on the left and the model on the right', () => {
    const at = new Map(lineageCanvas(lineageGraph(first)).map((n) => [n.data.title, n.position.x]));
    expect(at.get('digits.npz')!).toBeLessThan(at.get('Prepare')!);
    expect(at.get('Prepare')!).toBeLessThan(at.get('train')!);
    expect(at.get('Train')!).toBeLessThan(at.get('model')!);
  });
});

describe('two lineages on one canvas', () => {
  const second = parseLineage(digitsLineage({ run: '2', epochs: 5 }));
  const c = compareLineages(first, second);

  it('marks the compared artifacts and the changed job only', () => {
    const m = comparisonMarks(c, first, second);
    expect(m.a.get(jobNodeId(PREFIX_A, 'j-train-1'))?.name).toBe('changed');
    expect(m.b.get(jobNodeId(PREFIX_B, 'j-train-2'))?.name).toBe('changed');
    expect(m.a.has(jobNodeId(PREFIX_A, 'j-prep-1'))).toBe(false);
    expect(m.b.get(artifactNodeId(PREFIX_B, second.artifact))?.name).toBe('second');
  });

  it('aligns matched jobs and their artifacts', () => {
    const pairs = comparisonPairs(c);
    expect(pairs).toContainEqual([jobNodeId(PREFIX_A, 'j-train-1'), jobNodeId(PREFIX_B, 'j-train-2')]);
    expect(pairs).toContainEqual([artifactNodeId(PREFIX_A, first.artifact), artifactNodeId(PREFIX_B, second.artifact)]);
    const canvas = comparedCanvas(lineageGraph(first, PREFIX_A), lineageGraph(second, PREFIX_B), pairs);
    const pos = new Map(canvas.nodes.map((n) => [n.id, n.position]));
    const ta = pos.get(jobNodeId(PREFIX_A, 'j-train-1'))!;
    const tb = pos.get(jobNodeId(PREFIX_B, 'j-train-2'))!;
    expect(ta.x).toBe(tb.x);
    expect(tb.y - ta.y).toBe(canvas.bandB);
    expect(canvas.edges).toHaveLength(8);
  });
});
