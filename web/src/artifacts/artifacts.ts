// Pure helpers of the artifacts view: sizes, where an artifact came from,
// the file name a download gets, and the progress of an upload.
import type { Artifact } from '@kiln/client';
import { formatSize } from '../ui/format';

// Sizes have one format in the whole UI (ui/format.ts); re-exported for the views here.
export { formatSize };

/** The first characters of a digest (the whole one goes in a title). */
export function shortDigest(digest: string, n = 12): string {
  return digest.slice(0, n);
}

export type Provenance =
  | {
      readonly kind: 'job';
      readonly job: string;
      readonly execution: string | null;
      readonly pipeline?: string | undefined;
      readonly pipelineName?: string | undefined;
      readonly jobName?: string | undefined;
      readonly output?: string | undefined;
      readonly createdMs?: number | undefined;
    }
  | { readonly kind: 'upload'; readonly user: string | null; readonly createdMs?: number | undefined }
  | { readonly kind: 'unknown' };

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Where an artifact came from: a job of an execution (with its pipeline and
 * output when the server says), or an upload. Reads `origin`, else the
 * older fields `job`, `execution` and `uploaded_by`.
 */
export function provenance(a: Pick<Artifact, 'job' | 'execution' | 'uploaded_by' | 'origin'>): Provenance {
  const o = a.origin;
  if (o && o.kind === 'job' && str(o.job)) {
    return {
      kind: 'job',
      job: o.job!,
      execution: str(o.execution),
      pipeline: str(o.pipeline) ?? undefined,
      pipelineName: str(o.pipeline_name) ?? undefined,
      jobName: str(o.job_name) ?? undefined,
      output: str(o.output) ?? undefined,
      createdMs: num(o.created_ms),
    };
  }
  if (o && o.kind === 'upload') return { kind: 'upload', user: str(o.user), createdMs: num(o.created_ms) };
  const job = str(a.job);
  if (job) return { kind: 'job', job, execution: str(a.execution) };
  if (a.uploaded_by !== undefined) return { kind: 'upload', user: str(a.uploaded_by) };
  return { kind: 'unknown' };
}

/** The provenance as one sentence (ids shortened), for titles and tests. */
export function provenanceText(p: Provenance, short = (id: string) => id.slice(0, 8)): string {
  if (p.kind === 'job') {
    const job = p.jobName ? `job ${p.jobName}` : `job ${short(p.job)}`;
    const what = p.output ? `output “${p.output}” of ${job}` : `made by ${job}`;
    const where = [p.execution && `execution ${short(p.execution)}`, p.pipelineName && `pipeline ${p.pipelineName}`].filter(Boolean);
    if (!p.output && !p.pipelineName) return p.execution ? `${what} of execution ${short(p.execution)}` : what;
    return where.length ? `${what} (${where.join(', ')})` : what;
  }
  if (p.kind === 'upload') return p.user ? `uploaded by ${p.user}` : 'uploaded';
  return 'origin unknown';
}

/** Extensions of the serializers kiln knows; raw bytes keep the name as it is. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  json: '.json',
  pickle: '.pkl',
  numpy: '.npy',
  npy: '.npy',
  text: '.txt',
  csv: '.csv',
  parquet: '.parquet',
  torch: '.pt',
};

/**
 * A safe file name for a download: the artifact's name without path
 * separators or control characters, with the serializer's extension when
 * the name has none, and the short digest when there is no name at all.
 */
export function downloadName(a: Pick<Artifact, 'name' | 'digest' | 'serializer'>): string {
  let base = (a.name ?? '').replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_').trim();
  base = base.replace(/^\.+/, '');
  if (base === '' || /^_+$/.test(base)) base = shortDigest(a.digest || 'artifact');
  const ext = EXTENSIONS[a.serializer ?? ''];
  if (ext && !/\.[A-Za-z0-9]{1,8}$/.test(base)) base += ext;
  return base.slice(0, 200);
}

/** An artifact name from an uploaded file's name: the server refuses '/' and more than 200 characters. */
export function uploadName(fileName: string): string {
  const last = fileName.split(/[/\\]/).pop() ?? '';
  const name = last.replace(/\//g, '_').trim().slice(0, 200);
  return name === '' ? 'upload' : name;
}

/** "42% · 1.2 MiB of 2.9 MiB" (the total may be unknown). */
export function progressText(loaded: number, total: number | null): string {
  if (total === null || total <= 0) return `${formatSize(loaded)} sent`;
  const pct = Math.min(100, Math.floor((loaded / total) * 100));
  return `${pct}% · ${formatSize(loaded)} of ${formatSize(total)}`;
}

export function progressFraction(loaded: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.max(0, Math.min(1, loaded / total));
}
