// Which artifacts "Compare lineage with…" offers, best first. Pure.
// A scientist comparing a model most often means another run's output of
// the same name ("model" of yesterday vs today), so those come first, the
// newest first; then the rest, newest first. Only artifacts a job made have
// a lineage worth comparing, but uploads stay listed (after the others):
// comparing two data sets' origins is legitimate, if short.
import type { Artifact } from '@kiln/client';
import { provenance } from '../artifacts/artifacts';

export interface Candidate {
  readonly digest: string;
  readonly name: string;
  readonly origin: string;
  readonly createdMs: number;
  readonly sameName: boolean;
  readonly madeByJob: boolean;
}

function originWords(a: Artifact): { text: string; createdMs: number; job: boolean } {
  const p = provenance(a);
  if (p.kind === 'job')
    return {
      text: `${p.output ? `output ${p.output} of ` : ''}${p.jobName ?? `job ${p.job.slice(0, 8)}`}${p.execution ? ` · run ${p.execution.slice(0, 8)}` : ''}`,
      createdMs: p.createdMs ?? 0,
      job: true,
    };
  if (p.kind === 'upload') return { text: `uploaded${p.user ? ` by ${p.user}` : ''}`, createdMs: p.createdMs ?? 0, job: false };
  return { text: 'origin unknown', createdMs: 0, job: false };
}

/** The artifacts to compare `digest` with, filtered by `query` (name, digest or origin), best first. */
export function compareCandidates(artifacts: readonly Artifact[], digest: string, query = ''): Candidate[] {
  const self = artifacts.find((a) => a.digest === digest);
  const q = query.trim().toLowerCase();
  const seen = new Set<string>([digest]);
  const out: Candidate[] = [];
  for (const a of artifacts) {
    if (seen.has(a.digest)) continue;
    seen.add(a.digest);
    const o = originWords(a);
    const c: Candidate = {
      digest: a.digest,
      name: a.name,
      origin: o.text,
      createdMs: o.createdMs,
      sameName: self !== undefined && a.name === self.name,
      madeByJob: o.job,
    };
    if (q && ![c.name, c.digest, c.origin].some((s) => s.toLowerCase().includes(q))) continue;
    out.push(c);
  }
  const rank = (c: Candidate) => (c.sameName ? 0 : c.madeByJob ? 1 : 2);
  return out.sort((x, y) => rank(x) - rank(y) || y.createdMs - x.createdMs || x.name.localeCompare(y.name));
}
