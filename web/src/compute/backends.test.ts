import { describe, expect, it } from 'vitest';
import type { Backend } from '@kiln/client';
import {
  backendField,
  backendOptions,
  choiceKey,
  defaultBackend,
  describeBackend,
  rememberChoice,
  rememberedChoice,
  validChoice,
  type ChoiceStorage,
} from './backends';

const local: Backend = { name: 'local', kind: 'local', slots: 2, gpus: 0, default: true };
const cluster: Backend = { name: 'cluster', kind: 'slurm', slots: 1000, gpus: 0, default: false };

/** localStorage's behaviour, in memory; `broken` throws like a disabled one. */
function memoryStorage(broken = false): ChoiceStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  const check = () => {
    if (broken) throw new DOMException('storage is disabled', 'SecurityError');
  };
  return {
    items,
    getItem: (k) => (check(), items.get(k) ?? null),
    setItem: (k, v) => (check(), void items.set(k, v)),
    removeItem: (k) => (check(), void items.delete(k)),
  };
}

describe('backends', () => {
  it('finds the default: the one marked, else the first', () => {
    expect(defaultBackend([cluster, local])?.name).toBe('local');
    expect(defaultBackend([{ ...cluster }, { ...local, default: false }])?.name).toBe('cluster');
    expect(defaultBackend([])).toBeNull();
  });

  it('describes a backend for the menu', () => {
    expect(describeBackend(local)).toBe('local (this machine, 2 at once)');
    expect(describeBackend({ ...local, gpus: 1 })).toBe('local (this machine, 2 at once, 1 GPU)');
    expect(describeBackend({ ...local, gpus: 4 })).toBe('local (this machine, 2 at once, 4 GPUs)');
    expect(describeBackend(cluster)).toBe('cluster (Slurm)');
    expect(describeBackend({ ...cluster, kind: 'kubernetes' })).toBe('cluster (kubernetes)');
    const lab = { ...cluster, name: 'lab', kind: 'remote' };
    expect(describeBackend(lab)).toBe('lab (remote workers, none connected)');
    const worker = { name: 'w1', slots: 2, gpus: 0, gpu_type: '', jobs: 0, seen_s_ago: 0.1 };
    expect(describeBackend({ ...lab, workers: [worker] })).toBe('lab (remote: 1 worker, 2 at once)');
    expect(describeBackend({ ...lab, workers: [worker, { ...worker, name: 'w2', gpus: 1 }] })).toBe(
      'lab (remote: 2 workers, 4 at once, 1 GPU)',
    );
  });

  it('offers no choice with one backend, none, or while unknown', () => {
    expect(backendOptions(null)).toBeNull();
    expect(backendOptions([])).toBeNull();
    expect(backendOptions([local])).toBeNull();
  });

  it('offers the default first, then every backend by name', () => {
    const options = backendOptions([local, cluster])!;
    expect(options.map((o) => [o.value, o.label])).toEqual([
      ['', 'Default (local)'],
      ['local', 'local'],
      ['cluster', 'cluster'],
    ]);
    expect(options[0]!.title).toBe(
      "The server's routing: local (this machine, 2 at once), unless its kiln.toml sends this pipeline (or one of its operations) elsewhere",
    );
    expect(options[2]!.title).toBe('Every job on cluster (Slurm), unless its operation names another backend');
  });

  it('sends backend only for an explicit choice', () => {
    expect(backendField('')).toEqual({});
    expect(backendField('cluster')).toEqual({ backend: 'cluster' });
  });

  it('remembers the choice per project, and forgets it for the default', () => {
    const s = memoryStorage();
    rememberChoice(s, 'digits', 'cluster');
    expect(s.items.get(choiceKey('digits'))).toBe('cluster');
    expect(rememberedChoice(s, 'digits', [local, cluster])).toBe('cluster');
    expect(rememberedChoice(s, 'other', [local, cluster])).toBe('');
    rememberChoice(s, 'digits', '');
    expect(s.items.has(choiceKey('digits'))).toBe(false);
    expect(rememberedChoice(s, 'digits', [local, cluster])).toBe('');
  });

  it('drops a remembered backend the server no longer has, and any choice with one backend', () => {
    const s = memoryStorage();
    rememberChoice(s, 'digits', 'old-cluster');
    expect(rememberedChoice(s, 'digits', [local, cluster])).toBe('');
    rememberChoice(s, 'digits', 'local');
    expect(rememberedChoice(s, 'digits', [local])).toBe('');
    expect(rememberedChoice(s, 'digits', null)).toBe('');
    expect(validChoice('cluster', [local, cluster])).toBe('cluster');
    expect(validChoice('gone', [local, cluster])).toBe('');
  });

  it('treats storage that throws as empty, and still does not throw when remembering', () => {
    const s = memoryStorage(true);
    expect(() => rememberChoice(s, 'digits', 'cluster')).not.toThrow();
    expect(rememberedChoice(s, 'digits', [local, cluster])).toBe('');
    expect(rememberedChoice(null, 'digits', [local, cluster])).toBe('');
  });
});
