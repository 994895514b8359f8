// The artifacts view's filters: by the pipeline that made an artifact (or
// "uploaded") and by kind (its serializer). Pure; options carry counts so
// the view can say how many each choice keeps.
import type { Artifact } from '@kiln/client';
import { provenance } from './artifacts';

/** The pipeline filter's value for uploaded files. */
export const UPLOADS = 'uploads';

export interface ArtifactFilter {
  /** A pipeline guid, UPLOADS, or null for all. */
  readonly pipeline: string | null;
  /** A serializer name, or null for all. */
  readonly kind: string | null;
}

export const NO_FILTER: ArtifactFilter = { pipeline: null, kind: null };

export interface FilterOption {
  readonly value: string;
  readonly label: string;
  readonly count: number;
}

export function kindOf(a: Pick<Artifact, 'serializer'>): string {
  return a.serializer || 'raw';
}

function pipelineOf(a: Artifact): { value: string; label: string } | null {
  const p = provenance(a);
  if (p.kind === 'upload') return { value: UPLOADS, label: 'Uploaded' };
  if (p.kind === 'job' && p.pipeline) return { value: p.pipeline, label: p.pipelineName ?? p.pipeline.slice(0, 8) };
  return null;
}

function options(items: readonly ({ value: string; label: string } | null)[]): FilterOption[] {
  const m = new Map<string, { label: string; count: number }>();
  for (const it of items) {
    if (!it) continue;
    const cur = m.get(it.value);
    m.set(it.value, { label: cur?.label ?? it.label, count: (cur?.count ?? 0) + 1 });
  }
  return [...m]
    .map(([value, { label, count }]) => ({ value, label, count }))
    .sort((a, b) => Number(a.value === UPLOADS) - Number(b.value === UPLOADS) || a.label.localeCompare(b.label));
}

/** The pipelines that made the artifacts (by name), uploads last. */
export function pipelineOptions(artifacts: readonly Artifact[]): FilterOption[] {
  return options(artifacts.map(pipelineOf));
}

/** The kinds (serializers) among the artifacts, by name. */
export function kindOptions(artifacts: readonly Artifact[]): FilterOption[] {
  return options(artifacts.map((a) => ({ value: kindOf(a), label: kindOf(a) })));
}

export function filterArtifacts(artifacts: readonly Artifact[], f: ArtifactFilter): Artifact[] {
  return artifacts.filter(
    (a) => (f.kind === null || kindOf(a) === f.kind) && (f.pipeline === null || pipelineOf(a)?.value === f.pipeline),
  );
}

/**
 * A stable React key: the node's guid, else (a job output outside the model)
 * the digest with where it came from, since one digest can be made twice.
 */
export function artifactKey(a: Artifact): string {
  if (a.guid) return a.guid;
  const p = provenance(a);
  return p.kind === 'job' ? `${a.digest}/${p.job}/${p.output ?? a.name}` : `${a.digest}/${a.name}`;
}

/** Newest first when the server says when; then by name. */
export function sortArtifacts(artifacts: readonly Artifact[]): Artifact[] {
  const when = (a: Artifact) => {
    const p = provenance(a);
    return p.kind === 'unknown' ? 0 : (p.createdMs ?? 0);
  };
  return [...artifacts].sort((a, b) => when(b) - when(a) || a.name.localeCompare(b.name));
}
