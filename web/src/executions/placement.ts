// Where an execution's jobs ran (docs/compute.md): per job the backend, the
// node and the backend's own job id ("ran on cluster, node gpu07, Slurm job
// 1234_7": what a scientist needs to look a failed job up with sacct), and
// per execution the backend it asked for and those its jobs went to. Fields
// an older server does not send read as unknown. Pure.
import type { Backend, Execution, Job } from '@kiln/client';

export interface JobPlacement {
  readonly backend: string;
  readonly host: string;
  /** The backend's id of the job ("1234", "1234_7"); "" for none. */
  readonly backendJob: string;
  /** "queued on", "running on" or "ran on", by the job's state. */
  readonly verb: string;
  /** "cluster, node gpu07": the backend and the node, those known. */
  readonly place: string;
  /** What the id is: "Slurm job" (or "job" when the backend's kind is not known); "" without an id. */
  readonly idKind: string;
  /** "Slurm job 1234_7"; "" without an id. */
  readonly idLabel: string;
  /** The job list's column: "cluster · gpu07". */
  readonly short: string;
  /** The job panel's line: "ran on cluster, node gpu07, Slurm job 1234_7". */
  readonly long: string;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

const KIND_LABEL: Readonly<Record<string, string>> = { slurm: 'Slurm', local: 'local' };

/** Where `job` ran or waits; null when nothing is known (not submitted yet, cached, an older server). */
export function jobPlacement(job: Job, backends: readonly Backend[] | null): JobPlacement | null {
  const backend = text(job.backend);
  const host = text(job.host);
  const backendJob = text(job.backend_job);
  if (!backend && !host && !backendJob) return null;
  const kind = backends?.find((b) => b.name === backend)?.kind;
  const idKind = backendJob ? (kind ? `${KIND_LABEL[kind] ?? kind} job` : 'job') : '';
  const idLabel = backendJob ? `${idKind} ${backendJob}` : '';
  const verb =
    job.state === 'queued' || job.state === 'pending' ? 'queued on' : job.state === 'running' ? 'running on' : 'ran on';
  const place = [backend, host && `node ${host}`].filter((s) => s !== '').join(', ');
  return {
    backend,
    host,
    backendJob,
    verb,
    place,
    idKind,
    idLabel,
    short: [backend, host].filter((s) => s !== '').join(' · ') || idLabel,
    long: `${verb} ${[place, idLabel].filter((s) => s !== '').join(', ')}`,
  };
}

/** A command that shows what Slurm knows of a job, for its tooltip; null for other backends. */
export function slurmLookup(p: JobPlacement, backends: readonly Backend[] | null): string | null {
  if (!p.backendJob) return null;
  const kind = backends?.find((b) => b.name === p.backend)?.kind;
  if (kind !== undefined && kind !== 'slurm') return null;
  return `sacct -j ${p.backendJob} --format=JobID,State,ExitCode,Elapsed,MaxRSS,NodeList`;
}

export interface ExecutionPlacement {
  /** The backend the run asked for; "" when the server's routing chose. */
  readonly asked: string;
  /** The backends its jobs went to, in the jobs' order, each once. */
  readonly ranOn: readonly string[];
  /** The header's words: "on cluster", "on local, cluster"; "" when nothing is known. */
  readonly label: string;
  /** The header's tooltip: the request and the jobs per backend. */
  readonly title: string;
}

export function executionPlacement(exec: Execution & { readonly jobs?: readonly Job[] }): ExecutionPlacement {
  const asked = text(exec.backend);
  const counts = new Map<string, number>();
  for (const j of exec.jobs ?? []) {
    const b = text(j.backend);
    if (b) counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const ranOn = [...counts.keys()];
  const shown = ranOn.length > 0 ? ranOn : asked ? [asked] : [];
  const label = shown.length > 0 ? `on ${shown.join(', ')}` : '';
  const jobs = [...counts].map(([b, n]) => `${b} (${n} job${n === 1 ? '' : 's'})`).join(', ');
  const title = [asked ? `Run on ${asked} as asked` : 'Run on the server\u2019s default backend', jobs && `jobs ran on ${jobs}`]
    .filter((s) => s !== '')
    .join('; ');
  return { asked, ranOn, label, title };
}
