import { describe, expect, it } from 'vitest';
import { Analyzer, edgeShape, errorsByNode, formatCount, formatShape, summaryRows, type Analysis } from './analysis';
import type { ArchitectureDocument } from './toDocument';

const doc = (n: number): ArchitectureDocument => ({ main: 'Net', architectures: { Net: { nodes: [{ id: `x${n}`, type: 'Input' }], edges: [] } } });

/** A fake analysis endpoint: requests wait until the test answers them. */
function fakeServer() {
  const calls: { doc: ArchitectureDocument; answer: (a: Analysis) => void; fail: (e: Error) => void }[] = [];
  const analyze = (d: ArchitectureDocument) =>
    new Promise<Analysis>((answer, fail) => calls.push({ doc: d, answer, fail }));
  return { calls, analyze };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const ok = (id: string): Analysis => ({ ok: true, nodes: { [id]: { outputs: { output: ['N', 1] } } }, errors: [] });

describe('Analyzer', () => {
  it('keeps one request in flight and sends only the latest waiting document', async () => {
    const server = fakeServer();
    const results: string[] = [];
    const a = new Analyzer(server.analyze, (r) => results.push('analysis' in r ? Object.keys(r.analysis.nodes)[0]! : r.error));
    a.request(doc(1));
    a.request(doc(2));
    a.request(doc(3));
    expect(server.calls).toHaveLength(1);
    server.calls[0]!.answer(ok('x1'));
    await flush();
    expect(results).toEqual(['x1']);
    expect(server.calls.map((c) => c.doc)).toEqual([doc(1), doc(3)]);
    server.calls[1]!.fail(new Error('server down'));
    await flush();
    expect(results).toEqual(['x1', 'server down']);
    // The same document again is not re-sent; a new one is.
    a.request(doc(3));
    expect(server.calls).toHaveLength(2);
    a.request(doc(4));
    expect(server.calls).toHaveLength(3);
  });

  it('drops a waiting document equal to the one in flight, and reports nothing after close', async () => {
    const server = fakeServer();
    const results: unknown[] = [];
    const a = new Analyzer(server.analyze, (r) => results.push(r));
    a.request(doc(1));
    a.request(doc(2));
    a.request(doc(1));
    server.calls[0]!.answer(ok('x1'));
    await flush();
    expect(server.calls).toHaveLength(1);
    a.request(doc(5));
    a.close();
    server.calls[1]!.answer(ok('x5'));
    await flush();
    expect(results).toHaveLength(1);
  });
});

describe('what the editor shows of an analysis', () => {
  const analysis: Analysis = {
    ok: false,
    nodes: {
      x: { outputs: { output: ['N', 1, 28, 28] } },
      conv: { outputs: { output: ['N', 6, 24, 24] }, parameters: 156, macs: '86400*N', inferred: { in_channels: 1 } },
      split: { outputs: { outputs: [['N', 3], ['N', 3]] } },
    },
    errors: [{ node: 'pool', architecture: 'Net', message: "MaxPool2d 'pool': kernel 30 is larger than the input's height 24" }, { message: 'x' }],
    totals: { parameters: 156, macs: '86400*N' },
  };

  it('formats shapes, tuples and counts', () => {
    expect(formatShape(['N', 6, 24, 24])).toBe('[N, 6, 24, 24]');
    expect(edgeShape(analysis, 'split', 'outputs')).toBe('([N, 3], [N, 3])');
    expect(edgeShape(analysis, 'pool', 'output')).toBe('');
    expect(edgeShape(null, 'x', 'output')).toBe('');
    expect(formatCount(61706)).toBe('61,706');
    expect(formatCount('86400*N')).toBe('86400*N');
  });

  it('maps errors to nodes', () => {
    expect([...errorsByNode(analysis)]).toEqual([['pool', "MaxPool2d 'pool': kernel 30 is larger than the input's height 24"]]);
  });

  it('lists the summary in data-flow order', () => {
    const rows = summaryRows(
      [
        { id: 'pool', name: 'pool', type: 'MaxPool2d' },
        { id: 'conv', name: 'conv', type: 'Conv2d' },
        { id: 'x', name: 'x', type: 'Input' },
      ],
      [
        { source: 'x', target: 'conv' },
        { source: 'conv', target: 'pool' },
      ],
      analysis,
    );
    expect(rows.map((r) => [r.name, r.output, r.parameters, r.macs])).toEqual([
      ['x', '[N, 1, 28, 28]', undefined, undefined],
      ['conv', '[N, 6, 24, 24]', 156, '86400*N'],
      ['pool', '', undefined, undefined],
    ]);
  });
});
