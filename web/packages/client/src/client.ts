// KilnClient: a typed client for the Kiln REST API (/api/v1).
//
// Built on fetch so the same code runs in the browser (same-origin, baseUrl
// "") and in Node ≥ 18 scripts (baseUrl "http://127.0.0.1:8080"). Every
// failure is thrown as an ApiError. fetch is injectable for tests and for
// callers that add auth headers.

import type { Patch } from './wire';
import { ApiError, errorFromResponse } from './errors';
import type {
  Artifact,
  ArtifactPreview,
  Backend,
  Branch,
  Commit,
  CommitsQuery,
  CreateBranchRequest,
  CreateProjectRequest,
  CreateTagRequest,
  DiffResponse,
  EventsQuery,
  Execution,
  ExecutionDetail,
  Health,
  InterfaceProblem,
  InterfaceResult,
  JobEvent,
  Lineage,
  LineageQuery,
  MergeConflict,
  MergeRequest,
  MergeResult,
  MetricSeries,
  OperationInterface,
  PatchResult,
  PipelineExportOptions,
  Project,
  ProjectDetail,
  ProjectImportResult,
  ProvDocument,
  ReifyRequest,
  ReifyResult,
  StartExecutionRequest,
  StartSweepRequest,
  StorageBackend,
  StorageChange,
  ProjectStorage,
  Sweep,
  SweepDetail,
  Tag,
  TreeResponse,
} from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Origin of the server, without /api/v1; "" for the page's own origin. */
  readonly baseUrl?: string;
  readonly fetch?: FetchLike;
  /** Extra headers on every request (e.g. Authorization). */
  readonly headers?: Readonly<Record<string, string>>;
}

export const API_PREFIX = '/api/v1';

export class KilnClient {
  private readonly baseUrl: string;
  private readonly fetchFn: FetchLike;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    // Bind: calling an unbound window.fetch throws "Illegal invocation".
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = options.headers ?? {};
  }

  health(signal?: AbortSignal): Promise<Health> {
    return this.request('GET', '/health', { signal });
  }

  async listProjects(signal?: AbortSignal): Promise<Project[]> {
    return listOf<Project>(await this.request('GET', '/projects', { signal }), 'projects');
  }

  createProject(req: CreateProjectRequest): Promise<Project> {
    return this.request('POST', '/projects', { body: req });
  }

  async deleteProject(project: string): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}`);
  }

  getProject(project: string, signal?: AbortSignal): Promise<ProjectDetail> {
    return this.request('GET', `/projects/${seg(project)}`, { signal });
  }

  async listBranches(project: string, signal?: AbortSignal): Promise<Branch[]> {
    return listOf<Branch>(await this.request('GET', `/projects/${seg(project)}/branches`, { signal }), 'branches');
  }

  createBranch(project: string, req: CreateBranchRequest): Promise<Branch> {
    return this.request('POST', `/projects/${seg(project)}/branches`, { body: req });
  }

  async deleteBranch(project: string, branch: string): Promise<void> {
    await this.request('DELETE', `/projects/${seg(project)}/branches/${seg(branch)}`);
  }

  async listTags(project: string, signal?: AbortSignal): Promise<Tag[]> {
    return listOf<Tag>(await this.request('GET', `/projects/${seg(project)}/tags`, { signal }), 'tags');
  }

  createTag(project: string, req: CreateTagRequest): Promise<Tag> {
    return this.request('POST', `/projects/${seg(project)}/tags`, { body: req });
  }

  async listCommits(project: string, query: CommitsQuery = {}, signal?: AbortSignal): Promise<Commit[]> {
    const q = new URLSearchParams();
    if (query.ref !== undefined) q.set('ref', query.ref);
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    if (query.firstParent) q.set('first_parent', 'true');
    const qs = q.size > 0 ? `?${q}` : '';
    return listOf<Commit>(await this.request('GET', `/projects/${seg(project)}/commits${qs}`, { signal }), 'commits');
  }

  getCommit(project: string, commit: string, signal?: AbortSignal): Promise<Commit> {
    return this.request('GET', `/projects/${seg(project)}/commits/${seg(commit)}`, { signal });
  }

  async getTree(project: string, ref?: string, signal?: AbortSignal): Promise<TreeResponse> {
    const qs = ref === undefined ? '' : `?${new URLSearchParams({ ref })}`;
    const body = await this.request<unknown>('GET', `/projects/${seg(project)}/tree${qs}`, { signal });
    return treeResponse(body);
  }

  diff(project: string, from: string, to: string, signal?: AbortSignal): Promise<DiffResponse> {
    const qs = new URLSearchParams({ from, to });
    return this.request('GET', `/projects/${seg(project)}/diff?${qs}`, { signal });
  }

  /** Commits a patch on a branch. A rule violation throws ApiError with status 422. */
  postPatch(project: string, branch: string, patch: Patch): Promise<PatchResult> {
    return this.request('POST', `/projects/${seg(project)}/branches/${seg(branch)}/patches`, { body: patch });
  }

  /**
   * Merges a ref into a branch. Conflicts are an answer, not a failure:
   * {kind: "conflicts"} lists them (the server's 409; nothing changed).
   */
  async merge(project: string, req: MergeRequest): Promise<MergeResult> {
    try {
      const r = await this.request<{ commit?: string | null; up_to_date?: boolean }>('POST', `/projects/${seg(project)}/merge`, { body: req });
      return { kind: 'merged', commit: r?.commit ?? null, upToDate: r?.up_to_date === true };
    } catch (e) {
      const conflicts = e instanceof ApiError && e.status === 409 ? e.body?.['conflicts'] : undefined;
      if (Array.isArray(conflicts)) return { kind: 'conflicts', message: (e as ApiError).message, conflicts: conflicts as MergeConflict[] };
      throw e;
    }
  }

  // ---- Operation interfaces ----

  /** The interface code declares; {ok: false} with the position when the code is wrong (422). */
  async parseInterface(project: string, code: string, signal?: AbortSignal): Promise<InterfaceResult<OperationInterface>> {
    return interfaceResult(
      this.request<{ interface: OperationInterface }>('POST', `/projects/${seg(project)}/interface/parse`, { body: { code }, signal }),
      (r) => r.interface,
    );
  }

  /** `code` rewritten so that it declares `iface`; {ok: false} when it cannot (422). */
  async updateInterface(
    project: string,
    code: string,
    iface: OperationInterface,
    signal?: AbortSignal,
  ): Promise<InterfaceResult<string>> {
    return interfaceResult(
      this.request<{ code: string }>('POST', `/projects/${seg(project)}/interface/update`, { body: { code, interface: iface }, signal }),
      (r) => r.code,
    );
  }

  // ---- Executions ----

  startExecution(project: string, req: StartExecutionRequest): Promise<{ id: string }> {
    return this.request('POST', `/projects/${seg(project)}/executions`, { body: req });
  }

  async listExecutions(project: string, signal?: AbortSignal): Promise<Execution[]> {
    return listOf<Execution>(
      await this.request('GET', `/projects/${seg(project)}/executions`, { signal }),
      'executions',
    );
  }

  getExecution(id: string, signal?: AbortSignal): Promise<ExecutionDetail> {
    return this.request('GET', `/executions/${seg(id)}`, { signal });
  }

  async cancelExecution(id: string): Promise<void> {
    await this.request('POST', `/executions/${seg(id)}/cancel`, { body: {} });
  }

  rerunExecution(id: string, force = false): Promise<{ id: string }> {
    return this.request('POST', `/executions/${seg(id)}/rerun`, { body: { force } });
  }

  // ---- Compute backends (docs/compute.md) ----

  /** Where jobs can run; the one with `default: true` is used when a run names none. */
  async listBackends(signal?: AbortSignal): Promise<Backend[]> {
    return listOf<Backend>(await this.request('GET', '/backends', { signal }), 'backends');
  }

  // ---- Sweeps (docs/sweeps.md) ----

  /** 201 {id, trials: the count, executions: the trials' execution ids}. */
  startSweep(project: string, req: StartSweepRequest): Promise<{ id: string; trials: number; executions?: string[] }> {
    return this.request('POST', `/projects/${seg(project)}/sweeps`, { body: req });
  }

  async listSweeps(project: string, signal?: AbortSignal): Promise<Sweep[]> {
    return listOf<Sweep>(await this.request('GET', `/projects/${seg(project)}/sweeps`, { signal }), 'sweeps');
  }

  sweep(id: string, signal?: AbortSignal): Promise<SweepDetail> {
    return this.request('GET', `/sweeps/${seg(id)}`, { signal });
  }

  async cancelSweep(id: string): Promise<void> {
    await this.request('POST', `/sweeps/${seg(id)}/cancel`, { body: {} });
  }

  async jobEvents(job: string, query: EventsQuery = {}, signal?: AbortSignal): Promise<JobEvent[]> {
    const q = new URLSearchParams();
    if (query.after !== undefined) q.set('after', String(query.after));
    if (query.kind !== undefined) q.set('kind', query.kind);
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    const qs = q.size > 0 ? `?${q}` : '';
    return listOf<JobEvent>(await this.request('GET', `/jobs/${seg(job)}/events${qs}`, { signal }), 'events');
  }

  async jobMetrics(job: string, signal?: AbortSignal): Promise<MetricSeries> {
    const body = await this.request<{ metrics?: MetricSeries }>('GET', `/jobs/${seg(job)}/metrics`, { signal });
    return body?.metrics ?? {};
  }

  // ---- Artifacts ----

  async listArtifacts(project: string, ref?: string, signal?: AbortSignal): Promise<Artifact[]> {
    const qs = ref === undefined ? '' : `?${new URLSearchParams({ ref })}`;
    return listOf<Artifact>(await this.request('GET', `/projects/${seg(project)}/artifacts${qs}`, { signal }), 'artifacts');
  }

  /** Removes an artifact node from a branch; 422 while the model uses it unless force. */
  async deleteArtifact(project: string, guid: string, opts: { branch?: string; force?: boolean } = {}): Promise<void> {
    const q = new URLSearchParams({ branch: opts.branch ?? 'main' });
    if (opts.force) q.set('force', 'true');
    await this.request('DELETE', `/projects/${seg(project)}/artifacts/${seg(guid)}?${q}`);
  }

  // ---- Storage backends (docs/storage.md, "Several backends") ----

  /** The server's storage backends, the default first. */
  async listStorage(signal?: AbortSignal): Promise<StorageBackend[]> {
    return listOf<StorageBackend>(await this.request('GET', '/storage', { signal }), 'backends');
  }

  /** Where the project's new artifacts (uploads, job outputs) go. */
  projectStorage(project: string, signal?: AbortSignal): Promise<ProjectStorage> {
    return this.request('GET', `/projects/${seg(project)}/storage`, { signal });
  }

  /** Chooses where the project's new artifacts go (null: the default); project admins only. */
  setProjectStorage(project: string, backend: string | null): Promise<ProjectStorage> {
    return this.request('PUT', `/projects/${seg(project)}/storage`, { body: { backend } });
  }

  /** Copies one of the project's artifacts into another backend (verified by its digest). */
  copyArtifact(project: string, digest: string, to: string): Promise<StorageChange> {
    return this.request('POST', `/projects/${seg(project)}/artifacts/${seg(digest)}/copy`, { body: { to } });
  }

  /** Moves one of the project's artifacts to another backend: afterwards it lives there only. */
  moveArtifact(project: string, digest: string, to: string): Promise<StorageChange> {
    return this.request('POST', `/projects/${seg(project)}/artifacts/${seg(digest)}/move`, { body: { to } });
  }

  /** Where uploads of a project go (POST the bytes; see artifacts/upload.ts). */
  artifactUploadUrl(project: string, name: string, branch = 'main', serializer?: string): string {
    const q = new URLSearchParams({ name, branch });
    if (serializer) q.set('serializer', serializer);
    return `${this.baseUrl}${API_PREFIX}/projects/${seg(project)}/artifacts?${q}`;
  }

  /** Extra headers of every request (an upload made outside fetch needs them too). */
  get extraHeaders(): Readonly<Record<string, string>> {
    return this.headers;
  }

  /**
   * The download URL of an artifact (for <a href download>); with project (and
   * ref), uploads are readable too; `filename` names the saved file (the
   * server's Content-Disposition, which browsers prefer over `download`).
   */
  artifactUrl(digest: string, project?: string, ref?: string, filename?: string): string {
    const base = `${this.baseUrl}${API_PREFIX}/artifacts/${seg(digest)}`;
    const q = new URLSearchParams();
    if (project !== undefined) q.set('project', project);
    if (project !== undefined && ref !== undefined && ref !== 'main') q.set('ref', ref);
    if (filename) q.set('name', filename);
    const query = q.toString();
    return query ? `${base}?${query}` : base;
  }

  /**
   * What an artifact holds, to show without a download (python/kiln/preview.py):
   * a JSON value, an array's statistics and images, a state dict's tensors, a
   * FITS header, a table's first rows… `serializer` is how it was saved
   * (sniffed from the bytes when absent). 422 when the file is not readable
   * as that serializer, thrown as ApiError with the server's message.
   */
  artifactPreview(project: string, digest: string, serializer?: string, signal?: AbortSignal): Promise<ArtifactPreview> {
    const qs = serializer ? `?${new URLSearchParams({ serializer })}` : '';
    return this.request('GET', `/projects/${seg(project)}/artifacts/${seg(digest)}/preview${qs}`, { signal });
  }

  // ---- Provenance (docs/provenance.md) ----

  /** How an artifact was made (`up`), what was made from it (`down`), or both: its lineage in the project. */
  artifactProvenance(project: string, digest: string, query: LineageQuery = {}, signal?: AbortSignal): Promise<Lineage> {
    return this.request('GET', `/projects/${seg(project)}/artifacts/${seg(digest)}/provenance${lineageQuery(query)}`, { signal });
  }

  /** The same lineage as W3C PROV-JSON (`?format=prov`). */
  artifactProvenanceProv(project: string, digest: string, query: LineageQuery = {}, signal?: AbortSignal): Promise<ProvDocument> {
    return this.request('GET', `/projects/${seg(project)}/artifacts/${seg(digest)}/provenance${lineageQuery(query, 'prov')}`, {
      signal,
    });
  }

  /**
   * Commits, on a new branch, a pipeline that makes the artifact again from
   * its lineage. 409 when the branch exists, 422 when no job made the
   * artifact (an upload): both thrown as ApiError.
   */
  reify(project: string, digest: string, req: ReifyRequest): Promise<ReifyResult> {
    return this.request('POST', `/projects/${seg(project)}/artifacts/${seg(digest)}/reify`, { body: req });
  }

  /** Where a pipeline's plain-Python zip is downloaded (for <a href download>). */
  pipelineExportUrl(project: string, pipeline: string, opts: PipelineExportOptions = {}): string {
    const q = new URLSearchParams();
    if (opts.ref !== undefined) q.set('ref', opts.ref);
    if (opts.inputs !== undefined) q.set('inputs', opts.inputs);
    const qs = q.size > 0 ? `?${q}` : '';
    return `${this.baseUrl}${API_PREFIX}/projects/${seg(project)}/pipelines/${seg(pipeline)}/export${qs}`;
  }

  // ---- Project archives (docs/api.md, docs/formats.md) ----

  /** Where a project's archive (`<project>.kiln`) is downloaded (for <a href download>). */
  projectExportUrl(project: string): string {
    return `${this.baseUrl}${API_PREFIX}/projects/${seg(project)}/export`;
  }

  /** A project's archive, as bytes (scripts; the browser downloads projectExportUrl). */
  async exportProject(project: string, signal?: AbortSignal): Promise<Blob> {
    const res = await this.send('GET', `/projects/${seg(project)}/export`, {}, signal, 'application/octet-stream');
    return res.blob();
  }

  /** Where an archive is POSTed to become a project (an upload with progress; see exportProject). */
  projectImportUrl(name?: string): string {
    const qs = name ? `?${new URLSearchParams({ name })}` : '';
    return `${this.baseUrl}${API_PREFIX}/projects/import${qs}`;
  }

  /**
   * Creates a project from an archive, named `name` (default: the name the
   * archive holds). 409 when that project exists, 400 for a damaged file.
   */
  async importProject(archive: BinaryBody, name?: string, signal?: AbortSignal): Promise<ProjectImportResult> {
    const qs = name ? `?${new URLSearchParams({ name })}` : '';
    const res = await this.send('POST', `/projects/import${qs}`, { bytes: archive }, signal);
    try {
      return (await res.json()) as ProjectImportResult;
    } catch {
      throw new ApiError(res.status, 'bad_response', 'the server sent invalid JSON for the project import');
    }
  }

  /** One request; JSON in and out. The caller states the response type it expects. */
  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    opts: { body?: unknown; signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const res = await this.send(method, path, opts.body === undefined ? {} : { json: opts.body }, opts.signal);
    const text = await res.text();
    if (text === '') return undefined as T; // 204 and friends
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'bad_response', `the server sent invalid JSON for ${method} ${path}`);
    }
  }

  /**
   * Sends one request and answers the 2xx response unread; anything else is
   * thrown as an ApiError. `json` is sent as JSON, `bytes` as
   * application/octet-stream (a file).
   */
  private async send(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body: { json?: unknown; bytes?: BinaryBody },
    signal: AbortSignal | undefined,
    accept = 'application/json',
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept, ...this.headers };
    const init: RequestInit = { method, headers };
    if (body.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body.json);
    } else if (body.bytes !== undefined) {
      headers['Content-Type'] = 'application/octet-stream';
      init.body = body.bytes;
    }
    if (signal) init.signal = signal;
    let res: Response;
    try {
      res = await this.fetchFn(`${this.baseUrl}${API_PREFIX}${path}`, init);
    } catch (e) {
      if (isAbort(e)) throw e; // the caller cancelled: not a server problem
      throw new ApiError(0, 'network', `cannot reach the Kiln server: ${errorText(e)}`);
    }
    if (!res.ok) throw errorFromResponse(res.status, res.statusText, await res.text());
    return res;
  }
}

/** A file's bytes as a request body. */
export type BinaryBody = Blob | ArrayBuffer | Uint8Array<ArrayBuffer>;

/** A path segment: names may hold spaces, slashes or unicode. */
function seg(s: string): string {
  return encodeURIComponent(s);
}

/** Accepts a bare array or {key: [...]} until docs/api.md settles the shape. */
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  if (typeof body === 'object' && body !== null) {
    const inner: unknown = (body as Record<string, unknown>)[key];
    if (Array.isArray(inner)) return inner as T[];
  }
  throw new ApiError(200, 'bad_response', `expected a list of ${key}`);
}

/** {commit, tree} as documented; also accepts a bare tree with a commit field. */
function treeResponse(body: unknown): TreeResponse {
  if (typeof body === 'object' && body !== null) {
    const o = body as Record<string, unknown>;
    const tree = o['tree'];
    if (typeof tree === 'object' && tree !== null && 'nodes' in tree)
      return { commit: String(o['commit'] ?? ''), tree: tree as TreeResponse['tree'] };
    if ('nodes' in o && 'root' in o)
      return { commit: String(o['commit'] ?? ''), tree: { root: o['root'] as string, nodes: o['nodes'] as TreeResponse['tree']['nodes'] } };
  }
  throw new ApiError(200, 'bad_response', 'expected a project tree');
}

/** A 422 from the interface endpoints becomes {ok: false, problem}; other failures stay thrown. */
async function interfaceResult<R, T>(call: Promise<R>, pick: (r: R) => T): Promise<InterfaceResult<T>> {
  try {
    return { ok: true, value: pick(await call) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) return { ok: false, problem: interfaceProblem(e) };
    throw e;
  }
}

/** The message and position of a 422 from the interface endpoints. */
export function interfaceProblem(e: ApiError): InterfaceProblem {
  const err = e.body?.['error'];
  const o = typeof err === 'object' && err !== null ? (err as Record<string, unknown>) : {};
  const pos = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);
  return { message: e.message, line: pos(o['line']), column: pos(o['column']) };
}

/** ?depth=&direction=&format= of a lineage request; defaults are left to the server. */
function lineageQuery(query: LineageQuery, format?: 'prov'): string {
  const q = new URLSearchParams();
  if (query.depth !== undefined) q.set('depth', String(query.depth));
  if (query.direction !== undefined) q.set('direction', query.direction);
  if (format !== undefined) q.set('format', format);
  return q.size > 0 ? `?${q}` : '';
}

function isAbort(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
