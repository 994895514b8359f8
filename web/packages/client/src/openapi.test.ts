// The client against the server's route table (../openapi.json, a snapshot
// of GET /api/v1/openapi.json that check-openapi.mjs compares with a running
// server): every (method, path) the client calls must be a route of the
// server, and every route must be either called by the client or listed in
// NOT_IN_CLIENT with the reason — so a new server route forces a decision.
//
// Each method of KilnClient is called once with a fetch that records the
// request; the table CALLS must name every method (the type checker and the
// first test both insist), so a new client method cannot go unchecked.
import { describe, expect, it } from 'vitest';
import spec from '../openapi.json';
import { KilnClient, type FetchLike } from './client';

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Routes of the server the client deliberately has no method for, and why.
 * Keys are "METHOD /api/v1/path" as in the snapshot.
 */
const NOT_IN_CLIENT: ReadonlyMap<string, string> = new Map([
  // Operators and tools, not the editor.
  ['GET /api/v1/metrics', 'Prometheus text for monitoring'],
  ['GET /api/v1/openapi.json', 'this document; check-openapi.mjs reads it'],
  ['POST /api/v1/jobs/{job}/events', 'pushed by the job runtime with its job token (docs/compute.md), not the editor'],
  // Jobs on other machines and kiln worker, each with its own token (docs/compute.md).
  ['POST /api/v1/workers/lease', 'kiln worker, with a worker token'],
  ['GET /api/v1/jobs/{job}/manifest', 'a job on another machine, with its job token'],
  ['GET /api/v1/jobs/{job}/file', 'a job on another machine, with its job token'],
  ['PUT /api/v1/jobs/{job}/file', 'a job on another machine, with its job token'],
  ['GET /api/v1/jobs/{job}/input', 'a job on another machine, with its job token'],
  ['POST /api/v1/jobs/{job}/exit', 'kiln worker reports a job it ran, with the job token'],
  // Administration from the CLI for now (kiln gc, kiln credentials; docs/storage.md, docs/access.md).
  ['GET /api/v1/admin/gc', 'kiln gc, a server admin tool'],
  ['POST /api/v1/admin/gc', 'kiln gc --delete, a server admin tool'],
  ['GET /api/v1/admin/credentials', 'server credentials: kiln credentials, a server admin tool'],
  ['PUT /api/v1/admin/credentials/{name}', 'server credentials: kiln credentials, a server admin tool'],
  ['DELETE /api/v1/admin/credentials/{name}', 'server credentials: kiln credentials, a server admin tool'],
  ['GET /api/v1/projects/{p}/credentials', 'no credentials panel in the editor yet (kiln credentials)'],
  ['PUT /api/v1/projects/{p}/credentials/{name}', 'no credentials panel in the editor yet (kiln credentials)'],
  ['DELETE /api/v1/projects/{p}/credentials/{name}', 'no credentials panel in the editor yet (kiln credentials)'],
  ['PUT /api/v1/projects/{p}/access/{user}', 'roles are given with `kiln access`; the editor has no access UI'],
  // Sign-in: the editor runs same-origin with the session cookie; no sign-in page yet.
  ['POST /api/v1/login', 'no sign-in page in the editor yet (cookie sessions come from elsewhere)'],
  ['POST /api/v1/logout', 'no sign-in page in the editor yet'],
  ['GET /api/v1/me', 'no sign-in page in the editor yet'],
  // The architecture editor's calls: it goes through KilnClient.request with
  // its own types (web/src/architecture/api.ts), which belong with that editor.
  ['GET /api/v1/libraries', 'architecture editor (web/src/architecture/api.ts)'],
  ['GET /api/v1/libraries/{name}', 'architecture editor: loadLibrary'],
  ['POST /api/v1/projects/{p}/libraries', 'architecture editor: addLibrary'],
  ['POST /api/v1/nn/analyze', 'architecture editor: analyze'],
  ['POST /api/v1/nn/import', 'architecture editor: importCode'],
  // Served to other clients: the editor reads the same data another way.
  ['GET /api/v1/projects/{p}/nodes/{guid}', 'the editor holds the whole tree (getTree) and resolves inheritance itself'],
  ['GET /api/v1/jobs/{job}', 'the editor reads jobs from their execution (getExecution) and the WebSocket'],
  ['GET /api/v1/jobs/{job}/logs', 'the editor reads logs as events (jobEvents, kind=log)'],
  ['GET /api/v1/jobs/{job}/figures', 'the editor reads figures as events (jobEvents, kind=figure)'],
  ['POST /api/v1/jobs/{job}/cancel', 'the editor cancels whole executions (cancelExecution)'],
  ['POST /api/v1/jobs/{job}/rerun', 'the editor reruns whole executions (rerunExecution); `kiln` CLI reruns a job'],
  ['DELETE /api/v1/projects/{p}/tags/{t}', 'tags never move and the editor does not delete them (admin, `kiln` CLI)'],
]);

/**
 * Routes of the design docs the client already calls but the snapshot's
 * server does not serve yet. When the server gains one (check-openapi.mjs
 * --write), the last test fails until it is removed from here.
 */
const CLIENT_AHEAD_OF_SNAPSHOT: ReadonlySet<string> = new Set([]);

type ClientMethod = {
  [K in keyof KilnClient]: KilnClient[K] extends (...args: never[]) => unknown ? K : never;
}[keyof KilnClient];

/**
 * One call per client method. A method that makes a request is recorded by
 * the fake fetch; one that builds a URL (for a download link or an XHR
 * upload) says which HTTP method the URL is for. `request` is the generic
 * call the others are built on.
 */
const CALLS: Record<Exclude<ClientMethod, 'request'>, (c: KilnClient) => Promise<unknown> | { url: string; method: HttpMethod }> = {
  health: (c) => c.health(),
  listProjects: (c) => c.listProjects(),
  createProject: (c) => c.createProject({ name: 'n' }),
  deleteProject: (c) => c.deleteProject('P'),
  getProject: (c) => c.getProject('P'),
  listBranches: (c) => c.listBranches('P'),
  createBranch: (c) => c.createBranch('P', { name: 'b' }),
  deleteBranch: (c) => c.deleteBranch('P', 'B'),
  listTags: (c) => c.listTags('P'),
  createTag: (c) => c.createTag('P', { name: 't' }),
  listCommits: (c) => c.listCommits('P', { ref: 'main', limit: 5 }),
  getCommit: (c) => c.getCommit('P', 'C'),
  getTree: (c) => c.getTree('P', 'main'),
  diff: (c) => c.diff('P', 'a', 'b'),
  postPatch: (c) => c.postPatch('P', 'B', { ops: [] }),
  merge: (c) => c.merge('P', { from: 'a', into: 'b' }),
  parseInterface: (c) => c.parseInterface('P', 'code'),
  updateInterface: (c) => c.updateInterface('P', 'code', { name: 'X', inputs: [], outputs: [], attributes: [] }),
  startExecution: (c) => c.startExecution('P', { pipeline: 'G', ref: 'main' }),
  listExecutions: (c) => c.listExecutions('P'),
  getExecution: (c) => c.getExecution('E'),
  cancelExecution: (c) => c.cancelExecution('E'),
  rerunExecution: (c) => c.rerunExecution('E'),
  listBackends: (c) => c.listBackends(),
  startSweep: (c) => c.startSweep('P', { pipeline: 'G', ref: 'main', parameters: [], mode: 'grid' }),
  listSweeps: (c) => c.listSweeps('P'),
  sweep: (c) => c.sweep('S'),
  cancelSweep: (c) => c.cancelSweep('S'),
  jobEvents: (c) => c.jobEvents('J', { after: 1 }),
  jobMetrics: (c) => c.jobMetrics('J'),
  listArtifacts: (c) => c.listArtifacts('P', 'main'),
  deleteArtifact: (c) => c.deleteArtifact('P', 'G'),
  listStorage: (c) => c.listStorage(),
  projectStorage: (c) => c.projectStorage('P'),
  setProjectStorage: (c) => c.setProjectStorage('P', 's3'),
  copyArtifact: (c) => c.copyArtifact('P', 'D', 's3'),
  moveArtifact: (c) => c.moveArtifact('P', 'D', 's3'),
  artifactUploadUrl: (c) => ({ url: c.artifactUploadUrl('P', 'n'), method: 'POST' }),
  artifactUrl: (c) => ({ url: c.artifactUrl('D', 'P'), method: 'GET' }),
  artifactPreview: (c) => c.artifactPreview('P', 'D', 'numpy'),
  artifactProvenance: (c) => c.artifactProvenance('P', 'D', { direction: 'both' }),
  artifactProvenanceProv: (c) => c.artifactProvenanceProv('P', 'D'),
  reify: (c) => c.reify('P', 'D', { branch: 'b' }),
  pipelineExportUrl: (c) => ({ url: c.pipelineExportUrl('P', 'G'), method: 'GET' }),
  projectExportUrl: (c) => ({ url: c.projectExportUrl('P'), method: 'GET' }),
  exportProject: (c) => c.exportProject('P'),
  projectImportUrl: (c) => ({ url: c.projectImportUrl('n'), method: 'POST' }),
  importProject: (c) => c.importProject(new Uint8Array(1), 'n'),
};

/** "METHOD /path" with every {parameter} written {} (names differ between docs and server). */
function routeKey(method: string, template: string): string {
  return `${method.toUpperCase()} ${template.replace(/\{[^}]*\}/g, '{}')}`;
}

interface Route {
  readonly key: string;
  readonly method: string;
  readonly pattern: RegExp;
  /** Literal segments: /projects/import beats /projects/{p}. */
  readonly literals: number;
}

function route(method: string, template: string): Route {
  const segments = template.split('/');
  const pattern = segments.map((s) => (/^\{[^}]*\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/');
  return {
    key: routeKey(method, template),
    method: method.toUpperCase(),
    pattern: new RegExp(`^${pattern}$`),
    literals: segments.filter((s) => !s.startsWith('{')).length,
  };
}

const served: Route[] = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.keys(item).map((method) => route(method, path)),
);
const ahead: Route[] = [...CLIENT_AHEAD_OF_SNAPSHOT].map((k) => {
  const [method = '', path = ''] = k.split(' ');
  return route(method, path);
});

/** The route a request is for: the most literal of those it matches. */
function match(routes: readonly Route[], method: string, url: string): Route | undefined {
  const path = new URL(url, 'http://client.test').pathname;
  return routes
    .filter((r) => r.method === method && r.pattern.test(path))
    .sort((a, b) => b.literals - a.literals)[0];
}

/** (method name, HTTP method, URL) of every request the client makes. */
async function clientRequests(): Promise<{ name: string; method: string; url: string }[]> {
  const out: { name: string; method: string; url: string }[] = [];
  let current = '';
  const fetch: FetchLike = async (url, init) => {
    out.push({ name: current, method: init?.method ?? 'GET', url });
    return new Response('{"error": {"code": "Test", "message": "recorded"}}', { status: 418 });
  };
  const client = new KilnClient({ fetch });
  for (const [name, call] of Object.entries(CALLS)) {
    current = name;
    const r = call(client);
    if (r instanceof Promise) await r.catch(() => undefined);
    else out.push({ name, method: r.method, url: r.url });
  }
  return out;
}

describe('the client against the server route table (openapi.json)', () => {
  it('CALLS names every method of KilnClient', () => {
    const methods = Object.getOwnPropertyNames(KilnClient.prototype).filter(
      (n) => n !== 'constructor' && n !== 'request' && n !== 'send' && typeof Object.getOwnPropertyDescriptor(KilnClient.prototype, n)?.value === 'function',
    );
    expect(Object.keys(CALLS).sort()).toEqual(methods.sort());
  });

  it('every request of the client is a route of the server (or one it is about to serve)', async () => {
    const requests = await clientRequests();
    expect(requests.length).toBeGreaterThanOrEqual(Object.keys(CALLS).length);
    const unknown = requests
      .filter((r) => !match(served, r.method, r.url) && !match(ahead, r.method, r.url))
      .map((r) => `${r.name}: ${r.method} ${r.url}`);
    expect(unknown, 'client calls the server does not have (see openapi.json)').toEqual([]);
  });

  it('every route of the server is called by the client or listed in NOT_IN_CLIENT', async () => {
    const used = new Set<string>();
    for (const r of await clientRequests()) {
      const m = match(served, r.method, r.url);
      if (m) used.add(m.key);
    }
    const notInClient = new Set([...NOT_IN_CLIENT.keys()].map((k) => routeKey(k.split(' ')[0] ?? '', k.split(' ')[1] ?? '')));
    const undecided = served.filter((r) => !used.has(r.key) && !notInClient.has(r.key)).map((r) => r.key);
    expect(undecided, 'new server routes: add a client method or a NOT_IN_CLIENT entry with the reason').toEqual([]);
    const both = served.filter((r) => used.has(r.key) && notInClient.has(r.key)).map((r) => r.key);
    expect(both, 'NOT_IN_CLIENT lists routes the client calls').toEqual([]);
    const stale = [...notInClient].filter((k) => !served.some((r) => r.key === k));
    expect(stale, 'NOT_IN_CLIENT lists routes the server no longer has').toEqual([]);
  });

  it('CLIENT_AHEAD_OF_SNAPSHOT holds only routes the snapshot lacks', () => {
    const nowServed = ahead.filter((a) => served.some((r) => r.key === a.key)).map((a) => a.key);
    expect(nowServed, 'the server serves these now: remove them from CLIENT_AHEAD_OF_SNAPSHOT').toEqual([]);
  });
});
