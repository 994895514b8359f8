// The reserved attributes of an operation instance that say how and where its
// job runs (docs/compute.md, "Resources per operation"): never constructor
// parameters, never in the cache key. The server keeps the same list
// (ReservedAttributes in src/pipeline/plan.cc); the inspector edits them in
// its Resources section (pipeline/resources.ts), not as attributes.

export const JOB_ATTRIBUTES = [
  'job_cpus',
  'job_memory_mb',
  'job_gpus',
  'job_gpu_type',
  'job_timeout_s',
  'job_partition',
  'job_backend',
] as const;

export type JobAttribute = (typeof JOB_ATTRIBUTES)[number];

const NAMES: ReadonlySet<string> = new Set(JOB_ATTRIBUTES);

export function isJobAttribute(name: string): name is JobAttribute {
  return NAMES.has(name);
}
