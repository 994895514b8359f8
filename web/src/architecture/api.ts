// The library's REST calls (docs/libraries.md, "API"), over KilnClient's
// generic request: the library description (fetched once per page session and
// shared), adding the library to a project, the analysis and the import.
import type { KilnClient } from '@kiln/client';
import type { Analysis } from './analysis';
import type { Library } from './catalog';
import type { ArchitectureDocument } from './toDocument';

const libraries = new WeakMap<KilnClient, Map<string, Promise<Library>>>();

/** GET /api/v1/libraries/{name}, cached per client (a failed fetch is forgotten so it can be retried). */
export function loadLibrary(client: KilnClient, name = 'torch'): Promise<Library> {
  let byName = libraries.get(client);
  if (!byName) libraries.set(client, (byName = new Map()));
  let p = byName.get(name);
  if (!p) {
    p = client.request<Library>('GET', `/libraries/${encodeURIComponent(name)}`);
    byName.set(name, p);
    p.catch(() => byName.delete(name));
  }
  return p;
}

/** POST /api/v1/projects/{p}/libraries: adds the meta types on a branch (a commit) unless they are there. */
export function addLibrary(client: KilnClient, project: string, branch: string, name = 'torch'): Promise<{ added: boolean; commit?: string }> {
  return client.request('POST', `/projects/${encodeURIComponent(project)}/libraries`, { body: { name, branch } });
}

export function analyze(client: KilnClient, doc: ArchitectureDocument, signal?: AbortSignal): Promise<Analysis> {
  return client.request('POST', '/nn/analyze', { body: doc, signal });
}

export interface ImportRequest {
  readonly code: string;
  readonly class?: string;
  /** One shape per forward argument. */
  readonly inputs: readonly (readonly (number | string)[])[];
}

/** POST /api/v1/nn/import: a document made from Python code (422 names the line fx could not trace). */
export function importCode(client: KilnClient, req: ImportRequest): Promise<ArchitectureDocument> {
  return client.request('POST', '/nn/import', { body: req });
}
