// Links into the lineage view from views that do not otherwise know the
// project's route (a job's outputs, the pipeline inspector): the project and
// branch come from the page's own route. Pure.
import { parseRoute, projectHref } from '../router';

/** The lineage view of `digest` (compared with `compare`) in the project the hash shows; null outside a project. */
export function lineageHrefFrom(hash: string, digest: string, compare: string | null = null): string | null {
  const r = parseRoute(hash);
  if (r.page !== 'project') return null;
  return projectHref(r.project, { kind: 'lineage', digest, compare }, { branch: r.branch });
}
