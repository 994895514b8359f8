import { describe, expect, it } from 'vitest';
import type { Backend } from '@kiln/client';
import { applyOps } from '../model';
import { ids, sampleTree } from '../model/testing';
import { attributeFields } from './model';
import {
  commitResource,
  formatDuration,
  formatMemory,
  formatResource,
  parseResource,
  RESOURCES,
  resourceOps,
  resourceSummary,
  resourceTyped,
  resourceValues,
  resourceWarnings,
  type ResourceSpec,
} from './resources';

const spec = (attribute: string): ResourceSpec => RESOURCES.find((r) => r.attribute === attribute)!;
const cpus = spec('job_cpus');
const gpus = spec('job_gpus');
const memory = spec('job_memory_mb');
const time = spec('job_timeout_s');
const partition = spec('job_partition');
const gpuType = spec('job_gpu_type');
const backend = spec('job_backend');

const ok = (value: unknown) => ({ ok: true, value });
const error = (s: ResourceSpec, text: string) => {
  const r = parseResource(s, text);
  if (r.ok) throw new Error(`${text} parsed as ${JSON.stringify(r.value)}`);
  return r.error;
};

describe('parseResource', () => {
  it('reads an empty field as unset', () => {
    for (const s of RESOURCES) expect(parseResource(s, '  ')).toEqual(ok(null));
  });

  it('takes whole positive CPU counts only', () => {
    expect(parseResource(cpus, ' 8 ')).toEqual(ok(8));
    expect(error(cpus, '0')).toBe('CPUs: at least 1 (leave it empty for the default)');
    expect(error(cpus, '-2')).toContain('expected a whole number');
    expect(error(cpus, '2.5')).toContain('expected a whole number');
    expect(error(cpus, 'four')).toContain('expected a whole number');
    expect(error(cpus, '99999999999999999999')).toContain('expected a whole number');
  });

  it('lets GPUs be 0 (none, over a definition that asks for some)', () => {
    expect(parseResource(gpus, '0')).toEqual(ok(0));
    expect(parseResource(gpus, '2')).toEqual(ok(2));
    expect(error(gpus, '1.5')).toContain('GPUs: expected a whole number');
  });

  it('reads memory in MiB, converting G and M suffixes', () => {
    expect(parseResource(memory, '4096')).toEqual(ok(4096));
    expect(parseResource(memory, '16G')).toEqual(ok(16384));
    expect(parseResource(memory, '16 GiB')).toEqual(ok(16384));
    expect(parseResource(memory, '1.5g')).toEqual(ok(1536));
    expect(parseResource(memory, '512M')).toEqual(ok(512));
    expect(parseResource(memory, '1T')).toEqual(ok(1048576));
    expect(error(memory, '0.3G')).toBe('Memory: 0.3G is not a whole number of MiB');
    expect(error(memory, '0')).toContain('at least 1 MiB');
    expect(error(memory, '16 apples')).toBe('Memory: expected MiB such as 4096, or 16G');
    expect(error(memory, '-1')).toContain('expected MiB');
  });

  it('reads time limits as seconds, from seconds, units or Slurm clock forms', () => {
    expect(parseResource(time, '90')).toEqual(ok(90));
    expect(parseResource(time, '1.5')).toEqual(ok(1.5));
    expect(parseResource(time, '30m')).toEqual(ok(1800));
    expect(parseResource(time, '2h')).toEqual(ok(7200));
    expect(parseResource(time, '1h 30m')).toEqual(ok(5400));
    expect(parseResource(time, '1h30m15s')).toEqual(ok(5415));
    expect(parseResource(time, '1.5h')).toEqual(ok(5400));
    expect(parseResource(time, '2d')).toEqual(ok(172800));
    expect(parseResource(time, '45 min')).toEqual(ok(2700));
    expect(parseResource(time, '1:30:00')).toEqual(ok(5400));
    expect(parseResource(time, '30:00')).toEqual(ok(1800));
    expect(parseResource(time, '2-00:00:00')).toEqual(ok(172800));
    expect(parseResource(time, '1-12')).toEqual(ok(129600));
    expect(error(time, '0')).toBe('Time limit: more than 0 seconds (leave it empty for none)');
    expect(error(time, '1:75')).toContain('expected seconds');
    expect(error(time, '2 hours')).toContain('expected seconds');
    expect(error(time, '1h and 5m')).toContain('expected seconds');
    expect(error(time, 'h')).toContain('expected seconds');
  });

  it('takes one Slurm name for the partition and the GPU type', () => {
    expect(parseResource(partition, ' gpu-long ')).toEqual(ok('gpu-long'));
    expect(parseResource(gpuType, 'a100')).toEqual(ok('a100'));
    expect(error(partition, 'gpu long')).toBe('Partition: one name, without spaces, colons, commas or quotes');
    expect(error(gpuType, 'a100:2')).toContain('GPU type: one name');
  });

  it('takes a backend name as it is', () => {
    expect(parseResource(backend, 'cluster')).toEqual(ok('cluster'));
  });
});

describe('formatting', () => {
  it('writes durations that parse back to the same seconds', () => {
    expect(formatDuration(5400)).toBe('1h 30m');
    expect(formatDuration(90)).toBe('1m 30s');
    expect(formatDuration(86400)).toBe('1d');
    expect(formatDuration(0.5)).toBe('0.5s');
    expect(formatDuration(3601)).toBe('1h 1s');
    for (const s of [1, 59, 61, 3599.25, 5400, 90061, 172800.5]) expect(parseResource(time, formatDuration(s))).toEqual(ok(s));
  });

  it('shows stored values in their fields', () => {
    expect(formatResource(time, 7200)).toBe('2h');
    expect(formatResource(memory, 16384)).toBe('16384');
    expect(formatResource(partition, 'gpu')).toBe('gpu');
    expect(formatResource(cpus, null)).toBe('');
    expect(formatResource(cpus, undefined)).toBe('');
  });

  it('writes memory for people', () => {
    expect(formatMemory(512)).toBe('512 MiB');
    expect(formatMemory(16384)).toBe('16 GiB');
    expect(formatMemory(1536)).toBe('1.5 GiB');
  });
});

describe('editing resources of an instance', () => {
  // sampleTree: `train` is an instance of the definition Train.
  const withDefaults = applyOps(sampleTree(), [
    { op: 'set_attr', node: ids.Train, name: 'job_gpus', value: 1 },
    { op: 'set_attr', node: ids.train, name: 'job_memory_mb', value: 16384 },
    { op: 'set_attr', node: ids.train, name: 'job_partition', value: 'gpu' },
  ]);

  it('reads the instance own values and the definition values', () => {
    const v = resourceValues(withDefaults, ids.train);
    expect(v.map((x) => x.spec.attribute)).toEqual([
      'job_cpus',
      'job_memory_mb',
      'job_gpus',
      'job_gpu_type',
      'job_timeout_s',
      'job_partition',
      'job_backend',
    ]);
    const byName = new Map(v.map((x) => [x.spec.attribute, x]));
    expect(byName.get('job_memory_mb')).toMatchObject({ own: 16384, hasOwn: true, inherited: null });
    expect(byName.get('job_gpus')).toMatchObject({ own: null, hasOwn: false, inherited: 1 });
    expect(byName.get('job_cpus')).toMatchObject({ own: null, hasOwn: false, inherited: null });
    expect(resourceSummary(v)).toBe('16 GiB · 1 GPU · partition gpu');
    expect(resourceSummary(resourceValues(sampleTree(), ids.train))).toBe('');
  });

  it('keeps them out of the attributes (and so out of sweeps and the palette)', () => {
    expect(attributeFields(withDefaults, ids.train).map((f) => f.name)).toEqual(['epochs']);
    expect(attributeFields(withDefaults, ids.Train).map((f) => f.name)).toEqual(['epochs']);
  });

  it('writes set_attr for a value and del_attr for an emptied own one', () => {
    expect(resourceOps(ids.train, cpus, 4, false)).toEqual([{ op: 'set_attr', node: ids.train, name: 'job_cpus', value: 4 }]);
    expect(resourceOps(ids.train, memory, null, true)).toEqual([{ op: 'del_attr', node: ids.train, name: 'job_memory_mb' }]);
    expect(resourceOps(ids.train, gpus, null, false)).toEqual([]);
    const after = applyOps(withDefaults, resourceOps(ids.train, memory, null, true));
    expect(resourceValues(after, ids.train).find((x) => x.spec === memory)).toMatchObject({ hasOwn: false, own: null });
  });

  it('commits typed text: nothing, a write, an error, or a question when someone else changed it', () => {
    expect(commitResource(memory, '16G', 16384, 16384)).toEqual({ kind: 'nothing', value: 16384 });
    expect(commitResource(memory, '8G', 16384, 16384)).toEqual({ kind: 'write', value: 8192 });
    expect(commitResource(memory, '', 16384, 16384)).toEqual({ kind: 'write', value: null });
    expect(commitResource(memory, 'lots', 16384, 16384)).toEqual({ kind: 'invalid', error: 'Memory: expected MiB such as 4096, or 16G' });
    expect(commitResource(memory, '8G', 16384, 32768)).toEqual({ kind: 'ask', base: 16384, theirs: 32768, mine: 8192 });
    // They changed it to what I typed: nothing to ask.
    expect(commitResource(memory, '32G', 16384, 32768)).toEqual({ kind: 'nothing', value: 32768 });
  });

  it('tells typing from text that means the stored value', () => {
    expect(resourceTyped(time, '2h', 7200)).toBe(false);
    expect(resourceTyped(time, '7200', 7200)).toBe(false);
    expect(resourceTyped(time, '3h', 7200)).toBe(true);
    expect(resourceTyped(time, 'soon', 7200)).toBe(true);
    expect(resourceTyped(cpus, '', null)).toBe(false);
  });
});

describe('resourceWarnings', () => {
  const local: Backend = { name: 'local', kind: 'local', slots: 2, gpus: 0, default: true };
  const cluster: Backend = { name: 'cluster', kind: 'slurm', slots: 1000, gpus: 0, default: false };
  const values = (attrs: Record<string, number | string>) =>
    resourceValues(
      applyOps(
        sampleTree(),
        Object.entries(attrs).map(([name, value]) => ({ op: 'set_attr' as const, node: ids.train, name, value })),
      ),
      ids.train,
    );

  it('says nothing of a consistent request', () => {
    expect(resourceWarnings(values({ job_gpus: 1, job_gpu_type: 'a100', job_backend: 'cluster', job_partition: 'gpu' }), [local, cluster])).toEqual(
      new Map(),
    );
  });

  it('warns when the default backend could not give the GPUs and none is named', () => {
    expect(resourceWarnings(values({ job_gpus: 1 }), [local, cluster]).get('job_gpus')).toBe(
      "The default backend 'local' has 0 GPUs: run it on another backend, or the job will be refused.",
    );
    expect(resourceWarnings(values({ job_gpus: 1, job_backend: 'cluster' }), [local, cluster]).has('job_gpus')).toBe(false);
    const gpuBox: Backend = { ...local, gpus: 2 };
    expect(resourceWarnings(values({ job_gpus: 1 }), [gpuBox, cluster]).has('job_gpus')).toBe(false);
  });

  it('notes a GPU type without GPUs', () => {
    expect(resourceWarnings(values({ job_gpu_type: 'a100' }), null).get('job_gpu_type')).toContain('set GPUs too');
    expect(resourceWarnings(values({ job_gpu_type: 'a100', job_gpus: 0 }), null).has('job_gpu_type')).toBe(true);
  });

  it('names an unknown backend, and only when the list is known', () => {
    expect(resourceWarnings(values({ job_backend: 'gpu-farm' }), [local, cluster]).get('job_backend')).toBe(
      "This server has no backend 'gpu-farm' (it has local, cluster): the run will fail.",
    );
    expect(resourceWarnings(values({ job_backend: 'gpu-farm' }), null).size).toBe(0);
  });

  it('notes more GPUs than a local backend has', () => {
    expect(resourceWarnings(values({ job_backend: 'local', job_gpus: 2 }), [local, cluster]).get('job_gpus')).toBe(
      "Backend 'local' has 0 GPUs: the job would be refused.",
    );
    expect(resourceWarnings(values({ job_backend: 'cluster', job_gpus: 2 }), [local, cluster]).has('job_gpus')).toBe(false);
  });

  it('notes a partition on a server without Slurm', () => {
    expect(resourceWarnings(values({ job_partition: 'gpu' }), [local]).get('job_partition')).toContain('no Slurm backend');
  });
});
