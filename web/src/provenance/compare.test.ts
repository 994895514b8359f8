import { describe, expect, it } from 'vitest';
import { parseLineage } from './api';
import { changeText, compareLineages, matchJobs, stableJson } from './compare';
import { digitsLineage, TRAIN_CODE, type DigitsRun } from './testing';
import type { Lineage } from './types';

const lineage = (r: DigitsRun): Lineage => parseLineage(digitsLineage(r));

/** Renames a job (and its operation) of a raw lineage. */
function renamed(r: DigitsRun, from: string, to: string, node?: string): Lineage {
  const raw = digitsLineage(r) as { jobs: { name: string; node: string }[]; operations: { name: string }[] };
  for (const j of raw.jobs) if (j.name === from) Object.assign(j, { name: to }, node ? { node } : {});
  return parseLineage(raw);
}

describe('matchJobs', () => {
  it('pairs jobs by their operation node, upstream first', () => {
    const pairs = matchJobs(lineage({ run: '1' }), lineage({ run: '2', epochs: 5 }));
    expect(pairs.map((p) => [p.a?.id, p.b?.id, p.match])).toEqual([
      ['j-prep-1', 'j-prep-2', 'node'],
      ['j-train-1', 'j-train-2', 'node'],
    ]);
  });

  it('pairs one job walked to from both sides as itself', () => {
    // The second run's Prepare made the same bytes: the walk follows the original job, j-prep-1.
    const raw = JSON.parse(JSON.stringify(digitsLineage({ run: '2', epochs: 5 })).replaceAll('j-prep-2', 'j-prep-1'));
    const pairs = matchJobs(lineage({ run: '1' }), parseLineage(raw));
    expect(pairs[0]).toMatchObject({ a: { id: 'j-prep-1' }, b: { id: 'j-prep-1' }, match: 'same-job' });
    expect(pairs[1]).toMatchObject({ a: { id: 'j-train-1' }, b: { id: 'j-train-2' }, match: 'node' });
  });

  it('falls back to the name when the node differs (another pipeline), and leaves the rest on one side', () => {
    const pairs = matchJobs(lineage({ run: '1' }), renamed({ run: '2' }, 'Prepare', 'Clean', 'n-other'));
    const b = renamed({ run: '2' }, 'Train', 'Train', 'n-train-copy');
    expect(matchJobs(lineage({ run: '1' }), b).find((p) => p.a?.name === 'Train')?.match).toBe('name');
    expect(pairs.map((p) => [p.a?.name ?? null, p.b?.name ?? null, p.match])).toEqual([
      [null, 'Clean', null],
      ['Prepare', null, null],
      ['Train', 'Train', 'node'],
    ]);
  });
});

describe('compareLineages', () => {
  it('finds a changed attribute as the cause and says the rest is the same', () => {
    const c = compareLineages(lineage({ run: '1' }), lineage({ run: '2', epochs: 5 }));
    expect(c.sameArtifact).toBe(false);
    const [prep, train] = c.jobs;
    expect(prep!.cause).toBe('identical');
    expect(train!.cause).toBe('own');
    expect(train!.attributes).toEqual([{ name: 'epochs', a: 3, b: 5 }]);
    expect(train!.code).toBeNull();
    expect(train!.inputs).toEqual([]);
    expect(train!.outputs.map((o) => o.key)).toEqual(['model']);
    expect(c.causes).toEqual(['Train changed: epochs: 3 → 5']);
  });

  it('diffs the code line by line', () => {
    const code = TRAIN_CODE.replace('model = fit(train, self.epochs, self.lr)', 'model = fit(train, self.epochs, self.lr, seed=1)');
    const c = compareLineages(lineage({ run: '1' }), lineage({ run: '2', trainCode: code }));
    const train = c.jobs[1]!;
    expect(train.code!.filter((l) => l.kind !== 'same').map((l) => l.kind + l.text.trim())).toEqual([
      'delmodel = fit(train, self.epochs, self.lr)',
      'addmodel = fit(train, self.epochs, self.lr, seed=1)',
    ]);
    expect(c.causes).toEqual(['Train changed: its code (2 lines)']);
  });

  it('traces a different model to different uploaded data, through the producer', () => {
    const other = { digest: 'd2'.padEnd(64, '0'), source: 'digits_v2.npz', user: 'bob' };
    const c = compareLineages(lineage({ run: '1' }), lineage({ run: '2', data: other }));
    const [prep, train] = c.jobs;
    expect(prep!.cause).toBe('inputs');
    expect(prep!.inputs[0]).toMatchObject({ input: 'data', reason: 'data-differs', detail: 'uploaded by ada: digits.npz → uploaded by bob: digits_v2.npz' });
    expect(train!.cause).toBe('inputs');
    expect(train!.inputs[0]).toMatchObject({ input: 'train', reason: 'producer-differs', detail: 'its producer Prepare differs' });
    expect(c.causes).toEqual(["Prepare's input data is other data: uploaded by ada: digits.npz → uploaded by bob: digits_v2.npz"]);
    expect(c.downstream).toEqual(['Prepare', 'Train']);
  });

  it('calls a job that changed nothing but made other bytes not deterministic, and names runtime changes', () => {
    const same = compareLineages(lineage({ run: '1' }), lineage({ run: '2', modelDigest: 'f'.repeat(64) }));
    expect(same.jobs[1]!.cause).toBe('nondeterministic');
    expect(same.causes[0]).toMatch(/Train is the same .* yet made other bytes/);

    const torch = compareLineages(lineage({ run: '1' }), lineage({ run: '2', torch: '2.2.0', modelDigest: 'f'.repeat(64) }));
    expect(torch.jobs[1]!.cause).toBe('runtime');
    expect(torch.jobs[1]!.runtime).toEqual([{ key: 'torch', a: '2.1.0', b: '2.2.0' }]);
    expect(torch.causes).toContain('Train differs only in its runtime (torch 2.1.0 → 2.2.0)');
    // Prepare ran under the other torch too, but made the same bytes.
    expect(torch.jobs[0]!.cause).toBe('same-result');

    const both = compareLineages(lineage({ run: '1' }), lineage({ run: '2', epochs: 5, torch: '2.2.0' }));
    expect(both.causes).toEqual(['Train changed: epochs: 3 → 5', 'Train also ran with another runtime (torch 2.1.0 → 2.2.0)']);
  });

  it('says when an upstream job is the same yet its output differs', () => {
    const raw = digitsLineage({ run: '2' }) as { artifacts: { digest: string }[]; jobs: { inputs: Record<string, string>; outputs: Record<string, string> }[]; used: { artifact: string }[]; generated: { artifact: string }[] };
    const oldTrain = raw.jobs[1]!.outputs['train']!;
    const newTrain = 'e'.repeat(64);
    for (const x of [...raw.artifacts.map((a) => ({ get: () => a.digest, set: (v: string) => (a.digest = v) }))]) if (x.get() === oldTrain) x.set(newTrain);
    raw.jobs[1]!.outputs['train'] = newTrain;
    raw.jobs[0]!.inputs['train'] = newTrain;
    for (const e of [...raw.used, ...raw.generated]) if (e.artifact === oldTrain) e.artifact = newTrain;
    const c = compareLineages(lineage({ run: '1' }), parseLineage(raw));
    expect(c.jobs[0]!.cause).toBe('nondeterministic');
    expect(c.jobs[1]!.inputs[0]).toMatchObject({ reason: 'producer-nondeterministic' });
  });

  it('reports jobs on one side only and changed resources', () => {
    const withNet = digitsLineage({ run: '2', modelDigest: 'a'.repeat(64) }) as { operations: { resources: Record<string, unknown> }[] };
    withNet.operations[0]!.resources = { net: { node: 'a1', files: { 'kiln_architecture_1.py': 'class Net:\n    width = 64\n' } } };
    const base = digitsLineage({ run: '1' }) as { operations: { resources: Record<string, unknown> }[] };
    base.operations[0]!.resources = { net: { node: 'a1', files: { 'kiln_architecture_1.py': 'class Net:\n    width = 32\n' } } };
    const c = compareLineages(parseLineage(base), parseLineage(withNet));
    expect(c.jobs[1]!.resources).toHaveLength(1);
    expect(c.jobs[1]!.resources[0]!.diff.filter((l) => l.kind !== 'same')).toHaveLength(2);
    expect(c.causes).toEqual(['Train changed: the code of net (kiln_architecture_1.py)']);
    // The same change where the model came out the same bytes: said so.
    const sameModel = digitsLineage({ run: '2' }) as { operations: { resources: Record<string, unknown> }[] };
    sameModel.operations[0]!.resources = withNet.operations[0]!.resources;
    const same = compareLineages(parseLineage(base), parseLineage(sameModel));
    expect(same.jobs[1]!.cause).toBe('same-result');
    expect(same.causes).toEqual(['Train changed but made the same bytes: the code of net (kiln_architecture_1.py)']);

    const one = compareLineages(lineage({ run: '1' }), renamed({ run: '2' }, 'Prepare', 'Clean', 'n-other'));
    expect(one.causes).toContain('Prepare is only in the first lineage');
    expect(one.causes).toContain('Clean is only in the second lineage');
    expect(one.jobs.find((d) => d.name === 'Train')!.inputs).toEqual([]); // Clean made the same bytes as Prepare
    const data = { digest: 'd2'.padEnd(64, '0'), source: 'digits_v2.npz', user: 'bob' };
    const other = compareLineages(lineage({ run: '1' }), renamed({ run: '2', data }, 'Prepare', 'Clean', 'n-other'));
    expect(other.jobs.find((d) => d.name === 'Train')!.inputs[0]).toMatchObject({ reason: 'producer-differs', detail: 'made by Prepare and by Clean, not the same operation' });
  });

  it('knows when both are the same bytes', () => {
    const c = compareLineages(lineage({ run: '1' }), lineage({ run: '1' }));
    expect(c.sameArtifact).toBe(true);
    expect(c.jobs.every((d) => d.cause === 'identical')).toBe(true);
    expect(c.causes).toEqual([]);
  });
});

describe('values', () => {
  it('compares JSON regardless of key order and shows absent values', () => {
    expect(stableJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(changeText(3, undefined)).toBe('3 → (not set)');
    expect(changeText('adam', 'sgd')).toBe('adam → sgd');
  });
});
