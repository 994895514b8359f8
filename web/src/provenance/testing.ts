// Lineage answers for tests, in the server's JSON (docs/provenance.md), so
// they go through parseLineage like the real ones. digitsLineage() is the
// digits example's model: an uploaded digits.npz → Prepare → Train → model,
// with knobs for what a second run might change.
import type { JsonValue } from '../model';

export interface DigitsRun {
  /** A suffix that makes this run's job ids (and, with changes, digests) its own. */
  readonly run: string;
  readonly epochs?: number;
  readonly lr?: number;
  readonly trainCode?: string;
  readonly data?: { readonly digest: string; readonly source: string; readonly user: string };
  readonly torch?: string;
  /** Prepare answered from the cache of another run's job. */
  readonly prepareCachedFrom?: string;
  /** Override the model digest (e.g. same inputs, different bytes: nondeterminism). */
  readonly modelDigest?: string;
}

export const TRAIN_CODE = `import kiln


class Train(kiln.Operation):
    def __init__(self, epochs=3, lr=0.01):
        self.epochs = epochs
        self.lr = lr

    def execute(self, train):
        model = fit(train, self.epochs, self.lr)
        return model
`;

export const PREPARE_CODE = `import kiln


class Prepare(kiln.Operation):
    def execute(self, data):
        return split(data)
`;

const digest = (s: string) => (s + '0'.repeat(64)).slice(0, 64);

/** A raw (unchecked) lineage answer of the digits model. */
export function digitsLineage(r: DigitsRun): Record<string, JsonValue> {
  const epochs = r.epochs ?? 3;
  const lr = r.lr ?? 0.01;
  const code = r.trainCode ?? TRAIN_CODE;
  const data = r.data ?? { digest: digest('d1'), source: 'digits.npz', user: 'ada' };
  // Prepare's output depends only on the data; the model on everything.
  const train = digest(`7${data.digest.slice(0, 6)}`);
  const model = r.modelDigest ?? digest(`m${data.digest.slice(0, 4)}${epochs}${lr}${code.length}`);
  const runtime = { python: '3.11.2', torch: r.torch ?? '2.1.0', kiln: '0.1.0', backend: 'local', host: 'lab1' };
  return {
    project: 'digits',
    artifact: model,
    direction: 'up',
    depth: 100,
    truncated: false,
    artifacts: [
      { digest: model, size: 45_000, serializer: 'torch', level: 0, origin: { kind: 'job', job: `j-train-${r.run}`, output: 'model' } },
      { digest: train, size: 9_000, serializer: 'pickle', level: 1, origin: { kind: 'job', job: `j-prep-${r.run}`, output: 'train' } },
      {
        digest: data.digest,
        size: 120_000,
        serializer: 'raw',
        level: 2,
        origin: { kind: 'upload', user: data.user, source: data.source, created_ms: 1_764_800_000_000 },
      },
    ],
    jobs: [
      {
        id: `j-train-${r.run}`,
        execution: `e-${r.run}`,
        pipeline: 'p-digits',
        commit: `c-${r.run}`,
        node: 'n-train',
        name: 'Train',
        state: 'succeeded',
        operation: 0,
        inputs: { train },
        outputs: { model },
        runtime,
        started_ms: 1_764_800_100_000,
        created_ms: 1_764_800_160_000,
        cached_from: null,
        level: 1,
      },
      {
        id: `j-prep-${r.run}`,
        execution: `e-${r.run}`,
        pipeline: 'p-digits',
        commit: `c-${r.run}`,
        node: 'n-prep',
        name: 'Prepare',
        state: r.prepareCachedFrom ? 'cached' : 'succeeded',
        operation: 1,
        inputs: { data: data.digest },
        outputs: { train },
        runtime,
        started_ms: 1_764_800_050_000,
        created_ms: 1_764_800_060_000,
        cached_from: r.prepareCachedFrom ? { job: r.prepareCachedFrom, execution: 'e-first' } : null,
        level: 2,
      },
    ],
    operations: [
      {
        node: 'n-train',
        definition: 'd-train',
        name: 'Train',
        kind: 'operation',
        code,
        attributes: { epochs, lr },
        inputs: ['train'],
        outputs: ['model'],
        port_types: { 'input/train': 'Any', 'output/model': 'Any' },
        resources: {},
      },
      {
        node: 'n-prep',
        definition: 'd-prep',
        name: 'Prepare',
        kind: 'operation',
        code: PREPARE_CODE,
        attributes: {},
        inputs: ['data'],
        outputs: ['train'],
        port_types: {},
        resources: {},
      },
    ],
    used: [
      { job: `j-train-${r.run}`, input: 'train', artifact: train },
      { job: `j-prep-${r.run}`, input: 'data', artifact: data.digest },
    ],
    generated: [
      { job: `j-train-${r.run}`, output: 'model', artifact: model },
      { job: `j-prep-${r.run}`, output: 'train', artifact: train },
    ],
  };
}
