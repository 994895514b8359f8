import { describe, expect, it } from 'vitest';
import type { Backend, Execution, Job } from '@kiln/client';
import { executionPlacement, jobPlacement, slurmLookup } from './placement';

const local: Backend = { name: 'local', kind: 'local', slots: 2, gpus: 0, default: true };
const cluster: Backend = { name: 'cluster', kind: 'slurm', slots: 1000, gpus: 0, default: false };
const backends = [local, cluster];

const job = (over: Partial<Job>): Job => ({ id: 'j1', node: 'n1', name: 'Train', state: 'failed', ...over });
const exec = (over: Partial<Execution>, jobs: Job[]): Execution & { jobs: Job[] } => ({
  id: 'e1',
  project: 'p',
  pipeline: 'g',
  commit: 'c',
  ref: 'main',
  state: 'failed',
  created_ms: 0,
  ...over,
  jobs,
});

describe('jobPlacement', () => {
  it('says where a failed Slurm array task ran, with its job id', () => {
    const p = jobPlacement(job({ backend: 'cluster', host: 'gpu07', backend_job: '1234_7' }), backends)!;
    expect(p.long).toBe('ran on cluster, node gpu07, Slurm job 1234_7');
    expect(p.short).toBe('cluster · gpu07');
    expect(p.idLabel).toBe('Slurm job 1234_7');
    expect(slurmLookup(p, backends)).toBe('sacct -j 1234_7 --format=JobID,State,ExitCode,Elapsed,MaxRSS,NodeList');
  });

  it('words a waiting or running job by its state', () => {
    expect(jobPlacement(job({ state: 'queued', backend: 'cluster', backend_job: '99' }), backends)!.long).toBe('queued on cluster, Slurm job 99');
    expect(jobPlacement(job({ state: 'running', backend: 'cluster', host: 'n1', backend_job: '99' }), backends)!.long).toBe(
      'running on cluster, node n1, Slurm job 99',
    );
  });

  it('has no job id for a local job, and no Slurm lookup', () => {
    const p = jobPlacement(job({ state: 'succeeded', backend: 'local', host: 'workstation', backend_job: '' }), backends)!;
    expect(p.long).toBe('ran on local, node workstation');
    expect(p.idLabel).toBe('');
    expect(slurmLookup(p, backends)).toBeNull();
  });

  it('knows nothing of a job not yet submitted, a cached one, or one from an older server', () => {
    expect(jobPlacement(job({ state: 'pending', backend: '', host: '', backend_job: '' }), backends)).toBeNull();
    expect(jobPlacement(job({ state: 'cached', backend: '' }), backends)).toBeNull();
    expect(jobPlacement(job({}), null)).toBeNull();
  });

  it('names the id plainly when the backend is not known, and still offers sacct', () => {
    const p = jobPlacement(job({ backend: 'old-cluster', backend_job: '55' }), backends)!;
    expect(p.long).toBe('ran on old-cluster, job 55');
    expect(slurmLookup(p, backends)).toContain('sacct -j 55');
    expect(jobPlacement(job({ backend_job: '55' }), null)!.short).toBe('job 55');
  });
});

describe('executionPlacement', () => {
  it('shows the backend asked for before any job ran', () => {
    const p = executionPlacement(exec({ backend: 'cluster' }, []));
    expect(p.label).toBe('on cluster');
    expect(p.title).toBe('Run on cluster as asked');
  });

  it('shows the backends the jobs went to, each once, with counts in the title', () => {
    const p = executionPlacement(
      exec({ backend: '' }, [
        job({ id: 'a', backend: 'local' }),
        job({ id: 'b', backend: 'cluster' }),
        job({ id: 'c', backend: 'cluster' }),
        job({ id: 'd', state: 'cached', backend: '' }),
      ]),
    );
    expect(p.ranOn).toEqual(['local', 'cluster']);
    expect(p.label).toBe('on local, cluster');
    expect(p.title).toBe('Run on the server’s default backend; jobs ran on local (1 job), cluster (2 jobs)');
  });

  it('says nothing for an older server', () => {
    expect(executionPlacement(exec({}, [job({})])).label).toBe('');
  });
});
