// Hash routes of the editor (the server serves one index.html, so the page's
// state lives after the '#'):
//
//   #/                                        projects
//   #/p/{project}                             project home (first pipeline)
//   #/p/{project}/pipeline/{guid}             pipeline editor
//   #/p/{project}/operation/{guid}            operation editor
//   #/p/{project}/architecture/{guid}         architecture editor (PyTorch library)
//   #/p/{project}/history                     commit list, branches, tags, diff
//   #/p/{project}/executions                  list of executions
//   #/p/{project}/executions/{id}             one execution, live
//   #/p/{project}/sweeps/{id}                 one sweep, live: trials, parallel coordinates
//   #/p/{project}/artifacts                   stored files: list, upload, download
//   #/p/{project}/packages                    the project's Python packages
//   #/p/{project}/lineage/{digest}            how an artifact was made (provenance/)
//   #/p/{project}/lineage/{digest}/vs/{other} …compared with another artifact's
//
// Query (after the route, '?'): branch=NAME (default main) and at=COMMIT
// (a read-only view of the project at that commit).

import { useEffect, useState } from 'react';

export type View =
  | { readonly kind: 'home' }
  | { readonly kind: 'pipeline'; readonly guid: string }
  | { readonly kind: 'operation'; readonly guid: string }
  | { readonly kind: 'architecture'; readonly guid: string }
  | { readonly kind: 'history' }
  | { readonly kind: 'executions' }
  | { readonly kind: 'artifacts' }
  | { readonly kind: 'packages' }
  | { readonly kind: 'lineage'; readonly digest: string; readonly compare: string | null }
  | { readonly kind: 'execution'; readonly id: string }
  | { readonly kind: 'sweep'; readonly id: string };

export type Route =
  | { readonly page: 'projects' }
  | {
      readonly page: 'project';
      readonly project: string;
      readonly view: View;
      readonly branch: string;
      readonly at: string | null;
    }
  | { readonly page: 'not-found'; readonly path: string };

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const [path = '', query = ''] = h.split('?', 2);
  const parts = path.split('/').filter((p) => p !== '').map(safeDecode);
  const q = new URLSearchParams(query);
  if (parts.length === 0) return { page: 'projects' };
  if (parts[0] !== 'p' || parts[1] === undefined) return { page: 'not-found', path };
  const project = parts[1];
  const branch = q.get('branch') || 'main';
  const at = q.get('at') || null;
  const [kind, id] = [parts[2], parts[3]];
  let view: View | null = null;
  if (kind === undefined) view = { kind: 'home' };
  else if (kind === 'pipeline' && id) view = { kind: 'pipeline', guid: id };
  else if (kind === 'operation' && id) view = { kind: 'operation', guid: id };
  else if (kind === 'architecture' && id) view = { kind: 'architecture', guid: id };
  else if (kind === 'history' && !id) view = { kind: 'history' };
  else if (kind === 'executions' && !id) view = { kind: 'executions' };
  else if (kind === 'executions' && id) view = { kind: 'execution', id };
  else if (kind === 'sweeps' && id) view = { kind: 'sweep', id };
  else if (kind === 'artifacts' && !id) view = { kind: 'artifacts' };
  else if (kind === 'packages' && !id) view = { kind: 'packages' };
  else if (kind === 'lineage' && id && parts.length === 4) view = { kind: 'lineage', digest: id, compare: null };
  else if (kind === 'lineage' && id && parts[4] === 'vs' && parts[5] && parts.length === 6)
    view = { kind: 'lineage', digest: id, compare: parts[5] };
  if (!view) return { page: 'not-found', path };
  return { page: 'project', project, view, branch, at };
}

export function formatRoute(r: Route): string {
  if (r.page === 'projects') return '#/';
  if (r.page === 'not-found') return `#${r.path}`;
  const v = r.view;
  let path = `#/p/${encodeURIComponent(r.project)}`;
  if (v.kind === 'pipeline') path += `/pipeline/${v.guid}`;
  else if (v.kind === 'operation') path += `/operation/${v.guid}`;
  else if (v.kind === 'architecture') path += `/architecture/${v.guid}`;
  else if (v.kind === 'history') path += '/history';
  else if (v.kind === 'executions') path += '/executions';
  else if (v.kind === 'execution') path += `/executions/${encodeURIComponent(v.id)}`;
  else if (v.kind === 'sweep') path += `/sweeps/${encodeURIComponent(v.id)}`;
  else if (v.kind === 'artifacts') path += '/artifacts';
  else if (v.kind === 'packages') path += '/packages';
  else if (v.kind === 'lineage')
    path += `/lineage/${encodeURIComponent(v.digest)}${v.compare ? `/vs/${encodeURIComponent(v.compare)}` : ''}`;
  const q = new URLSearchParams();
  if (r.branch !== 'main') q.set('branch', r.branch);
  if (r.at) q.set('at', r.at);
  return q.size > 0 ? `${path}?${q}` : path;
}

/** The route of a project view, keeping the branch and read-only commit unless told otherwise. */
export function projectHref(
  project: string,
  view: View,
  opts: { branch?: string; at?: string | null } = {},
): string {
  return formatRoute({ page: 'project', project, view, branch: opts.branch ?? 'main', at: opts.at ?? null });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(globalThis.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(globalThis.location.hash));
    globalThis.addEventListener('hashchange', on);
    return () => globalThis.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function navigate(href: string): void {
  if (globalThis.location.hash !== href) globalThis.location.hash = href;
}
